"""2-D convolution and max-pooling, built from engine ops only.

Convolution as im2col + one matmul. For a kernel of KH×KW offsets, the input
(padded by concatenating zeros) is cut into K = KH·KW strided *views*
``x[:, :, i·d : … : s, j·d : … : s]`` — one per kernel offset, never one per
pixel — which one ``stack`` copies into the patch tensor
``cols (N, C·K, OH·OW)``. Then ``out = W.reshape(OC, C·K) @ cols``: one batched
matmul, whose rows are ordered (c, i, j) like PyTorch's ``(OC, C, KH, KW)``
weight.

The engine supplies every derivative: the VJP of a basic slice writes the
gradient into a zero array of the input's shape (a fast strided assignment),
the VJP of ``stack`` slices it back apart — together exactly col2im. This
beats gathering with an integer index array, whose VJP is ``np.add.at``: that is
fast only for 1-D indices, and 1-D indices over the whole batch cost memory
proportional to N·C·K·OH·OW.

Max-pooling is a selection: NumPy finds, on the data, where each window's
maximum sits (ties to the first position in window order, as PyTorch; a NaN
wins), and the engine gathers those elements with one integer-array index
``x.reshape(-1)[positions]``. Its VJP routes each gradient to its argmax, as
PyTorch's (one 1-D ``np.add.at``, which accumulates where windows overlap),
and its JVP picks the tangent at the argmax. Folding ``ag.where`` over the K
window views would also work but costs ~4× more in the backward pass, and
``max`` over a reshaped ``(…, 2, …, 2)`` view is slow in NumPy (reductions over
strided inner axes).
"""
from __future__ import annotations

import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

from . import init
from .module import Module, Parameter, _param_dtype, _to_tensor

__all__ = ["Conv2d", "MaxPool2d", "conv2d", "max_pool2d"]


def _pair(value, name, fn, minimum):
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in value):
        value = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if value[0] < minimum or value[1] < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return value


def _conv_padding(padding, kernel, dilation, stride, fn):
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]  # the odd one goes bottom/right
            return tuple(out)
        raise ValueError(f"{fn}: padding must be an int, a pair of ints, 'valid' or 'same', "
                         f"got {padding!r}")
    ph, pw = _pair(padding, "padding", fn, 0)
    return ph, ph, pw, pw


def _pad(x, top, bottom, left, right, value):
    """Pad the last two axes of a 4-D tensor with a constant, by concatenation."""
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    dt = x.dtype
    if top or bottom:
        parts = ([np.full((n, c, top, w), value, dt)] if top else []) + [x] + \
                ([np.full((n, c, bottom, w), value, dt)] if bottom else [])
        x = ag.concatenate(parts, axis=2)
        h += top + bottom
    if left or right:
        parts = ([np.full((n, c, h, left), value, dt)] if left else []) + [x] + \
                ([np.full((n, c, h, right), value, dt)] if right else [])
        x = ag.concatenate(parts, axis=3)
    return x


def _windows(xp, kernel, stride, dilation, out_hw):
    """The K strided views of ``xp``, one per kernel offset (i, j), row-major."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    return [xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                     j * dw: j * dw + sw * (ow - 1) + 1: sw]
            for i in range(kh) for j in range(kw)]


def _batched(x, fn, what):
    """A 4-D view of a (C, H, W) or (N, C, H, W) input, and whether one was added."""
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    raise ValueError(f"{fn}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) {what}, "
                     f"got shape {x.shape}")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``input`` (N, C, H, W) or (C, H, W); ``weight`` (OC, C, KH, KW); ``bias`` (OC,).
    out[n, o, y, x] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, y·s + i·d, x·s + j·d].
    ``padding``: int, pair, 'valid' or 'same'. Only ``groups=1`` is supported.
    """
    fn = "conv2d"
    w = weight if isinstance(weight, Tensor) else _to_tensor(weight, fn=fn)
    x = _to_tensor(input, w.dtype, fn)
    if groups != 1:
        raise NotImplementedError(f"{fn}: only groups=1 is supported, got groups={groups}")
    if w.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D (out_channels, in_channels, kH, kW), "
                         f"got shape {w.shape}")
    x, unbatched = _batched(x, fn, "input")
    n, c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    if c != ic:
        raise ValueError(f"{fn}: input of shape {tuple(x.shape[1:]) if unbatched else x.shape} "
                         f"has {c} channels, but weight of shape {w.shape} expects {ic}")
    stride = _pair(stride, "stride", fn, 1)
    dilation = _pair(dilation, "dilation", fn, 1)
    top, bottom, left, right = _conv_padding(padding, (kh, kw), dilation, stride, fn)
    oh = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{fn}: input of spatial size {(h, wd)} with padding "
                         f"{(top, bottom, left, right)} is smaller than the (dilated) kernel "
                         f"{(dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)}")
    xp = _pad(x, top, bottom, left, right, 0)
    if kh == kw == 1 and stride == (1, 1):
        cols = xp.reshape(n, c, oh * ow)
    else:
        views = _windows(xp, (kh, kw), stride, dilation, (oh, ow))
        cols = ag.stack(views, axis=2).reshape(n, c * kh * kw, oh * ow)
    out = w.reshape(oc, c * kh * kw) @ cols  # (N, OC, OH·OW)
    if bias is not None:
        b = bias if isinstance(bias, Tensor) else _to_tensor(bias, w.dtype, fn)
        if b.shape != (oc,):
            raise ValueError(f"{fn}: bias must have shape ({oc},) to match weight of shape "
                             f"{w.shape}, got {b.shape}")
        out = out + b.reshape(oc, 1)
    return out.reshape((oc, oh, ow) if unbatched else (n, oc, oh, ow))


def _pool_size(length, k, s, p, d, ceil_mode):
    span = length + 2 * p - d * (k - 1) - 1
    if span < 0:
        return 0
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _window_views(d, kernel, stride, pad, dilation, out_hw, extra):
    """The K strided views of ``d`` (−∞-padded if needed), their elementwise
    maximum, and whether padding was added."""
    n, c, h, w = d.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, pad, dilation, out_hw
    padded = bool(ph or pw or extra[0] or extra[1])
    if padded:
        lowest = -np.inf if d.dtype.kind == "f" else np.iinfo(d.dtype).min
        big = np.full((n, c, h + 2 * ph + extra[0], w + 2 * pw + extra[1]), lowest, d.dtype)
        big[:, :, ph:ph + h, pw:pw + w] = d
        d = big
    views = [d[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
             for i in range(kh) for j in range(kw)]
    m = views[0]
    for v in views[1:]:
        m = np.maximum(m, v)  # propagates NaN
    return views, m, padded


def _argmax_positions(d, kernel, stride, pad, dilation, out_hw, extra):
    """Flat indices into ``d`` (N, C, H, W) of the maximum of every pooling window:
    the first maximum in row-major window order (PyTorch's tie rule); in a
    window holding NaN, the first NaN.

    Branch-free NumPy: the window maxima m by ``np.maximum`` over the K views,
    then one pass over the views marks the first view equal to m.
    """
    n, c, h, w = d.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, pad, dilation, out_hw
    views, m, padded = _window_views(d, kernel, stride, pad, dilation, out_hw, extra)
    nan = np.isnan(m) if d.dtype.kind == "f" else None
    if nan is not None and not nan.any():
        nan = None

    def equal(v):
        return (v == m) | (np.isnan(v) & nan) if nan is not None else v == m

    found = equal(views[0])
    if padded:
        ro = np.zeros(m.shape, dtype=np.intp)
        co = np.zeros(m.shape, dtype=np.intp)
    else:
        off = np.zeros(m.shape, dtype=np.intp)
    for k in range(1, kh * kw):
        hit = equal(views[k])
        hit &= ~found
        found |= hit
        i, j = divmod(k, kw)
        if padded:
            ro += hit * (i * dh)
            co += hit * (j * dw)
        else:
            off += hit * (i * dh * w + j * dw)
    planes = np.arange(n * c, dtype=np.intp).reshape(n, c, 1, 1) * (h * w)
    if padded:
        # Back to unpadded coordinates. A window picks padding only if all its
        # real values are -inf; clipping then lands on one of those.
        rows = np.clip(np.arange(oh).reshape(oh, 1) * sh + ro - ph, 0, h - 1)
        cols = np.clip(np.arange(ow) * sw + co - pw, 0, w - 1)
        return (planes + rows * w + cols).ravel()
    corner = np.arange(oh).reshape(oh, 1) * (sh * w) + np.arange(ow) * sw
    return (planes + corner + off).ravel()


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    """2-D max-pooling, as ``torch.nn.functional.max_pool2d`` (implicit −∞ padding;
    ``stride`` defaults to ``kernel_size``). The gradient goes to the first
    maximum of each window, as in PyTorch."""
    fn = "max_pool2d"
    x = _to_tensor(input, fn=fn)
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = kernel if stride is None or stride == () else _pair(stride, "stride", fn, 1)
    pad = _pair(padding, "padding", fn, 0)
    dilation = _pair(dilation, "dilation", fn, 1)
    for p, k, d in zip(pad, kernel, dilation):
        if p > (d * (k - 1) + 1) / 2:
            raise ValueError(f"{fn}: padding should be at most half of the effective kernel "
                             f"size, got padding={pad} for kernel_size={kernel}, "
                             f"dilation={dilation}")
    x, unbatched = _batched(x, fn, "input")
    n, c, h, w = x.shape
    oh = _pool_size(h, kernel[0], stride[0], pad[0], dilation[0], ceil_mode)
    ow = _pool_size(w, kernel[1], stride[1], pad[1], dilation[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(f"{fn}: input of spatial size {(h, w)} is too small for "
                         f"kernel_size={kernel}, padding={pad}, dilation={dilation}")
    # ceil_mode may need more room on the bottom/right than the padding gives.
    extra_h = max(0, (oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - (h + 2 * pad[0]))
    extra_w = max(0, (ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - (w + 2 * pad[1]))
    extra = (extra_h, extra_w)
    if not ag.autograd.forward_ad.is_dual(x) and not (x.requires_grad and ag.is_grad_enabled()):
        # Nothing to differentiate (inference, no_grad): the maxima suffice.
        out = Tensor(_window_views(x.data, kernel, stride, pad, dilation, (oh, ow), extra)[1])
    else:
        flat = _argmax_positions(x.data, kernel, stride, pad, dilation, (oh, ow), extra)
        out = x.reshape(-1)[flat].reshape(n, c, oh, ow)
    return out.reshape(out.shape[1:]) if unbatched else out


class Conv2d(Module):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True, padding_mode='zeros', dtype=None)``.

    Weight (out, in, kH, kW) and bias (out,), both U(±1/√fan_in) with
    fan_in = in·kH·kW (PyTorch's ``kaiming_uniform_(a=√5)`` default). Only
    ``groups=1`` and ``padding_mode='zeros'``. ``dtype`` (an extension):
    parameter dtype, float32 by default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        fn = "Conv2d"
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v < 1:
                raise ValueError(f"{fn}: {name} must be a positive int, got {v!r}")
        if groups != 1:
            raise NotImplementedError(f"{fn}: only groups=1 is supported, got {groups}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{fn}: only padding_mode='zeros' is supported, "
                                      f"got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", fn, 1)
        self.stride = _pair(stride, "stride", fn, 1)
        self.dilation = _pair(dilation, "dilation", fn, 1)
        if isinstance(padding, str):
            _conv_padding(padding, self.kernel_size, self.dilation, self.stride, fn)
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", fn, 0)
        self.groups = 1
        self.padding_mode = padding_mode
        dt = _param_dtype(dtype, fn)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size,
                                         dtype=dt), dtype=dt)
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dt), dtype=dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        if self.weight.dtype != np.float32:
            s += f", dtype={self.weight.dtype}"
        return s


class MaxPool2d(Module):
    """``MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)``;
    ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        fn = "MaxPool2d"
        _pair(kernel_size, "kernel_size", fn, 1)
        if stride is not None:
            _pair(stride, "stride", fn, 1)
        _pair(padding, "padding", fn, 0)
        _pair(dilation, "dilation", fn, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")
