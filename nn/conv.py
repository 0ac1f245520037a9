"""Convolutions with PyTorch's names, arguments, layouts and initialisation:
``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d`` and the layers
``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

The arithmetic is three engine primitives (``autograd_core.primitives``:
``conv``, its adjoint in the input ``conv_transpose`` and its adjoint in the
weight ``conv_weight``), each differentiable by the other two, so gradients,
double backward, forward mode and Hessian-vector products run through
convolutions at BLAS speed; ``autograd_core.conv_kernels`` picks im2col, a
shifted-buffer product or a depthwise loop by shape. This module checks the
arguments (errors name the function, the argument and the shapes), turns
PyTorch's spellings into the primitives' settings, and holds the layers
(whose input errors also start with the layer's repr).

Settings as in PyTorch: ``stride``, ``dilation`` and ``padding`` are ints or one
int per spatial axis; ``padding`` may also be 'valid' or 'same' (stride 1;
the odd padding goes bottom/right, as PyTorch); ``groups`` splits the channels
into independent convolutions (weight (out, in/groups, *kernel)); layers take
``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.
"""
from __future__ import annotations

import numbers

import numpy as np

from autograd_core import Tensor
from autograd_core import primitives as P

from . import init
from .module import Module, Parameter, _dtype_repr, _param_dtype, _to_tensor

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
           "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


# ---------------------------------------------------------------------- arguments

def _is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def _ntuple(value, n, name, fn, minimum):
    """An int, or a tuple/list of ``n`` ints, as a tuple of ``n`` ints ≥ ``minimum``."""
    if _is_int(value):
        value = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(_is_int(v) for v in value):
        value = tuple(int(v) for v in value)
    else:
        what = "an int" if n == 1 else f"an int or a tuple of {n} ints"
        raise TypeError(f"{fn}: {name} must be {what}, got {value!r}")
    if any(v < minimum for v in value):
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return value


def _padding_pairs(padding, n, kernel, stride, dilation, fn):
    """(lo, hi) per spatial axis from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)  # the odd one goes bottom/right
        raise ValueError(f"{fn}: invalid padding string {padding!r}, should be one of "
                         f"'valid', 'same'")
    return tuple((p, p) for p in _ntuple(padding, n, "padding", fn, 0))


def _batched(x, n, fn, what="input"):
    """``x`` with a batch axis (N, C, *spatial), and whether one was added."""
    if x.ndim == n + 2:
        return x, False
    if x.ndim == n + 1:
        return x.reshape((1,) + x.shape), True
    lead = "(C, L)" if n == 1 else "(C, H, W)" if n == 2 else f"(C, {n} spatial axes)"
    raise ValueError(f"{fn}: expected a {n + 1}-D {lead} or {n + 2}-D (N, {lead[1:]} {what}, "
                     f"got shape {x.shape}")


def _weight_and_input(weight, input, fn):  # noqa: A002
    w = weight if isinstance(weight, Tensor) else _to_tensor(weight, fn=fn)
    return w, _to_tensor(input, w.dtype, fn)


def _bias(bias, channels, w, fn, weight_name="weight"):
    if bias is None:
        return None
    b = bias if isinstance(bias, Tensor) else _to_tensor(bias, w.dtype, fn)
    if b.shape != (channels,):
        raise ValueError(f"{fn}: bias must have shape ({channels},) to match {weight_name} of "
                         f"shape {w.shape}, got {b.shape}")
    return b


def _check_groups(groups, fn):
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _unbatch(y, unbatched):
    return y.reshape(y.shape[1:]) if unbatched else y


def pad_nd(x, pads, mode, fn):
    """Pad the spatial axes of (N, C, *spatial) ``x`` by (lo, hi) pairs with
    ``mode`` 'reflect', 'replicate' or 'circular' (PyTorch's F.pad modes): a
    gather by index arrays (np.pad of an arange gives them), so the engine's
    getitem supplies the derivative (a scatter-add)."""
    for a, (lo, hi) in enumerate(pads):
        if not (lo or hi):
            continue
        size = x.shape[2 + a]
        limit = size - 1 if mode == "reflect" else size
        if mode != "replicate" and max(lo, hi) > limit:
            raise ValueError(f"{fn}: padding ({lo}, {hi}) in {mode!r} mode must be "
                             f"{'less than' if mode == 'reflect' else 'at most'} the size "
                             f"{size} of spatial axis {a} of the input of shape {x.shape}")
        index = np.pad(np.arange(size), (lo, hi), mode=_NUMPY_PAD_MODE[mode])
        x = x[(slice(None),) * (2 + a) + (index,)]
    return x


# ---------------------------------------------------------------------- functions

def _operands(fn, n, input, weight, groups, transposed):  # noqa: A002
    """Input and weight as Tensors after the shape checks shared by convolutions
    and transposed convolutions; the input with a batch axis."""
    w, x = _weight_and_input(weight, input, fn)
    layout = "in_channels, out_channels/groups" if transposed else "out_channels, in_channels/groups"
    if w.ndim != n + 2:
        raise ValueError(f"{fn}: weight must be {n + 2}-D ({layout}, "
                         f"{'kL' if n == 1 else 'kH, kW' if n == 2 else '*kernel'}), got shape "
                         f"{w.shape}")
    groups = _check_groups(groups, fn)
    x, unbatched = _batched(x, n, fn)
    if w.shape[0] % groups:
        raise ValueError(f"{fn}: groups={groups} must divide the weight's "
                         f"{layout.split(',')[0]}, but weight has shape {w.shape}")
    expected = w.shape[0] if transposed else w.shape[1] * groups
    if x.shape[1] != expected:
        shown = x.shape[1:] if unbatched else x.shape
        grouped = "" if transposed else f" with groups={groups}"
        raise ValueError(f"{fn}: input of shape {shown} has {x.shape[1]} channels, but weight "
                         f"of shape {w.shape}{grouped} expects {expected}")
    return x, w, unbatched, groups


def _conv(fn, n, input, weight, bias, stride, padding, dilation, groups):  # noqa: A002
    x, w, unbatched, groups = _operands(fn, n, input, weight, groups, transposed=False)
    kernel = tuple(w.shape[2:])
    stride = _ntuple(stride, n, "stride", fn, 1)
    dilation = _ntuple(dilation, n, "dilation", fn, 1)
    pads = _padding_pairs(padding, n, kernel, stride, dilation, fn)
    size = x.shape[2:]
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s + lo + hi < k for s, (lo, hi), k in zip(size, pads, span)):
        raise ValueError(f"{fn}: input of spatial size {size} padded by {pads} is smaller than "
                         f"the (dilated) kernel {span}")
    b = _bias(bias, w.shape[0], w, fn)
    args = (x, w) if b is None else (x, w, b)
    y = P.conv(*args, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return _unbatch(y, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``:
    y[n, o, t] = b[o] + Σ_{c, i} W[o, c, i] · x_pad[n, g·C/G + c, t·s + i·d] (g the group of o).

    ``input`` (N, C, L) or (C, L); ``weight`` (O, C/groups, kL); ``bias`` (O,).
    ``padding``: int, 1-tuple, 'valid' or 'same'.

        >>> F.conv1d(np.ones((2, 3, 10)), np.ones((4, 3, 3)), padding=1).shape
        (2, 4, 10)
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``:
    y[n, o, u, v] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x_pad[n, g·C/G + c, u·s + i·d, v·s + j·d].

    ``input`` (N, C, H, W) or (C, H, W); ``weight`` (O, C/groups, kH, kW); ``bias``
    (O,). ``stride``, ``dilation``: int or pair; ``padding``: int, pair, 'valid' or
    'same'; ``groups``: independent convolutions over C/groups channels each.

        >>> F.conv2d(np.ones((8, 1, 28, 28)), np.ones((16, 1, 3, 3)), stride=2, padding=1).shape
        (8, 16, 14, 14)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def transposed_size(size, kernel, stride, padding, output_padding, dilation):
    """The output size of a transposed convolution, (L − 1)·s − 2p + d·(K − 1) + op + 1."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for n, k, s, p, op, d in zip(size, kernel, stride, padding, output_padding,
                                               dilation))


def _conv_transpose(fn, n, input, weight, bias, stride, padding, output_padding,  # noqa: A002
                    groups, dilation):
    x, w, unbatched, groups = _operands(fn, n, input, weight, groups, transposed=True)
    kernel = tuple(w.shape[2:])
    stride = _ntuple(stride, n, "stride", fn, 1)
    dilation = _ntuple(dilation, n, "dilation", fn, 1)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of ints (no 'same' or "
                         f"'valid' for transposed convolutions), got {padding!r}")
    pad = _ntuple(padding, n, "padding", fn, 0)
    output_padding = _ntuple(output_padding, n, "output_padding", fn, 0)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{fn}: output_padding must be smaller than either stride or "
                         f"dilation, got output_padding={output_padding}, stride={stride}, "
                         f"dilation={dilation}")
    size = transposed_size(x.shape[2:], kernel, stride, pad, output_padding, dilation)
    if any(s < 1 for s in size):
        raise ValueError(f"{fn}: input of spatial size {x.shape[2:]} gives an output of size "
                         f"{size} (kernel {kernel}, stride {stride}, padding {pad}, dilation "
                         f"{dilation}): the output is too small")
    b = _bias(bias, w.shape[1] * groups, w, fn)
    args = (x, w) if b is None else (x, w, b)
    y = P.conv_transpose(*args, stride=stride, padding=tuple((p, p) for p in pad),
                         dilation=dilation, groups=groups, size=size)
    return _unbatch(y, unbatched)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``: the
    adjoint of ``conv1d`` in its input (the gradient conv1d passes back), so
    y = conv1dᵀ(x) + b.

    ``input`` (N, C_in, L) or (C_in, L); ``weight`` (C_in, C_out/groups, kL);
    output length (L − 1)·s − 2p + d·(kL − 1) + output_padding + 1.

        >>> F.conv_transpose1d(np.ones((1, 4, 5)), np.ones((4, 2, 3)), stride=2).shape
        (1, 2, 11)
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"), as
    ``torch.nn.functional.conv_transpose2d``: the adjoint of ``conv2d`` in its input,
    y = conv2dᵀ(x) + b, upsampling by ``stride``.

    ``input`` (N, C_in, H, W) or (C_in, H, W); ``weight`` (C_in, C_out/groups, kH, kW);
    output size per axis (L − 1)·s − 2p + d·(k − 1) + output_padding + 1
    (``output_padding`` < stride or < dilation picks among the sizes that a
    strided conv2d maps to the input size).

        >>> F.conv_transpose2d(np.ones((1, 8, 7, 7)), np.ones((8, 4, 4, 4)), stride=2, padding=1).shape
        (1, 4, 14, 14)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ---------------------------------------------------------------------- layers

class NamedErrors:
    """A mixin for layers: a ValueError or TypeError raised while the layer runs
    (a bad input) starts with the layer's repr, so the message names the
    layer as well as the function, the argument and the shapes."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (ValueError, TypeError) as e:
            if type(e) not in (ValueError, TypeError):
                raise
            raise type(e)(f"{self!r}: {e}") from None


def _channels(v, name, fn):
    if not _is_int(v) or v < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {v!r}")
    return int(v)


class _ConvNd(NamedErrors, Module):
    """The constructor, parameters and repr shared by the convolution layers."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, dtype, output_padding=0):
        super().__init__()
        fn, n = type(self).__name__, self._dims
        self.in_channels = _channels(in_channels, "in_channels", fn)
        self.out_channels = _channels(out_channels, "out_channels", fn)
        self.groups = _check_groups(groups, fn)
        if self.in_channels % self.groups:
            raise ValueError(f"{fn}: in_channels={in_channels} must be divisible by "
                             f"groups={groups}")
        if self.out_channels % self.groups:
            raise ValueError(f"{fn}: out_channels={out_channels} must be divisible by "
                             f"groups={groups}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{fn}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{fn}: only padding_mode='zeros' is supported for transposed "
                             f"convolutions, got {padding_mode!r}")
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", fn, 1)
        self.stride = _ntuple(stride, n, "stride", fn, 1)
        self.dilation = _ntuple(dilation, n, "dilation", fn, 1)
        if self._transposed and isinstance(padding, str):
            raise ValueError(f"{fn}: padding must be an int or a tuple of ints for transposed "
                             f"convolutions, got {padding!r}")
        # validates; 'same'/'valid' stay strings, as in PyTorch
        self._pads = _padding_pairs(padding, n, self.kernel_size, self.stride, self.dilation, fn)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n, "padding",
                                                                        fn, 0)
        self.output_padding = _ntuple(output_padding, n, "output_padding", fn, 0)
        self.padding_mode = padding_mode
        dt = _param_dtype(dtype, fn)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups)
        else:
            shape = (self.out_channels, self.in_channels // self.groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype=dt), dtype=dt)
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dt), dtype=dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=√5) on the weight, i.e.
        U(±1/√fan_in) with fan_in = weight.shape[1]·prod(kernel_size), and the
        same bound for the bias."""
        init.default_layer_init_(self.weight, self.bias)

    def _input(self, x):
        return x if isinstance(x, Tensor) else _to_tensor(x, self.weight.dtype,
                                                          self._function.__name__)

    def extra_repr(self):
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        s += _dtype_repr(self.weight.dtype)
        return s


class _Conv(_ConvNd):
    _function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, x):
        x = self._input(x)
        fn = self._function.__name__
        if self.padding_mode == "zeros":
            return self._function(x, self.weight, self.bias, self.stride, self.padding,
                                  self.dilation, self.groups)
        batched, unbatched = _batched(x, self._dims, fn)
        padded = pad_nd(batched, self._pads, self.padding_mode, "pad")
        y = self._function(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                           self.groups)
        return _unbatch(y, unbatched)


class Conv1d(_Conv):
    """``Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``, as ``torch.nn.Conv1d``:
    y = conv1d(x, weight, bias) on (N, C_in, L) or (C_in, L) inputs.

    ``weight`` (out_channels, in_channels/groups, kL) and ``bias`` (out_channels,),
    both U(±1/√fan_in), fan_in = in_channels/groups·kL (PyTorch's default).
    ``dtype``: parameter dtype, the default dtype (float32 unless changed) by default.

        >>> nn.Conv1d(3, 8, 5, padding="same")(np.ones((2, 3, 50))).shape
        (2, 8, 50)
    """

    _dims = 1
    _function = staticmethod(conv1d)


class Conv2d(_Conv):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros', dtype=None)``, as ``torch.nn.Conv2d``:
    y = conv2d(x, weight, bias) on (N, C_in, H, W) or (C_in, H, W) inputs.

    ``weight`` (out_channels, in_channels/groups, kH, kW) and ``bias``
    (out_channels,), both U(±1/√fan_in) with fan_in = in_channels/groups·kH·kW
    (PyTorch's ``kaiming_uniform_(a=√5)`` default), so a state_dict moves
    between the two unchanged. ``padding``: int, pair, 'valid' or 'same';
    ``padding_mode``: 'zeros', 'reflect', 'replicate' or 'circular'. ``dtype``:
    parameter dtype, the default dtype (float32 unless changed) by default.

        >>> nn.Conv2d(1, 8, 3, padding=1)(np.ones((64, 1, 28, 28))).shape
        (64, 8, 28, 28)
    """

    _dims = 2
    _function = staticmethod(conv2d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, output_padding)

    def _output_padding(self, x, output_size):
        """output_padding for a requested ``output_size`` (PyTorch's rule: any size
        from the smallest up to stride − 1 more)."""
        if output_size is None:
            return self.output_padding
        fn, n = type(self).__name__, self._dims
        output_size = tuple(output_size)[-n:] if isinstance(output_size, (tuple, list)) \
            else output_size
        output_size = _ntuple(output_size, n, "output_size", fn, 1)
        size = x.shape[-n:]
        smallest = transposed_size(size, self.kernel_size, self.stride, self.padding, (0,) * n,
                                   self.dilation)
        largest = tuple(a + s - 1 for a, s in zip(smallest, self.stride))
        if any(not lo <= want <= hi for want, lo, hi in zip(output_size, smallest, largest)):
            raise ValueError(f"{fn}: requested an output size of {output_size}, but valid "
                             f"sizes range from {smallest} to {largest} (for an input of "
                             f"spatial size {size})")
        return tuple(want - lo for want, lo in zip(output_size, smallest))

    def forward(self, x, output_size=None):
        x = self._input(x)
        return self._function(x, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(x, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """``ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', dtype=None)``,
    as ``torch.nn.ConvTranspose1d``: y = conv_transpose1d(x, weight, bias).

    ``weight`` (in_channels, out_channels/groups, kL), ``bias`` (out_channels,),
    both U(±1/√fan_in), fan_in = out_channels/groups·kL (PyTorch's default).
    ``forward(x, output_size=None)``.

        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(np.ones((1, 4, 5))).shape
        (1, 2, 11)
    """

    _dims = 1
    _function = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """``ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', dtype=None)``,
    as ``torch.nn.ConvTranspose2d``: y = conv_transpose2d(x, weight, bias), the
    adjoint of a Conv2d with the same settings (upsampling by ``stride``).

    ``weight`` (in_channels, out_channels/groups, kH, kW), ``bias`` (out_channels,),
    both U(±1/√fan_in) with fan_in = out_channels/groups·kH·kW (PyTorch's
    default). ``forward(x, output_size=None)``: ``output_size`` picks the
    output_padding, as in PyTorch.

        >>> nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)(np.ones((2, 16, 7, 7))).shape
        (2, 8, 14, 14)
    """

    _dims = 2
    _function = staticmethod(conv_transpose2d)
