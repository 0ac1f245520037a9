"""Pooling and nearest-neighbour resampling with PyTorch's names, arguments and
results: ``max_pool1d``, ``max_pool2d``, ``avg_pool1d``, ``avg_pool2d``,
``adaptive_avg_pool1d``, ``adaptive_avg_pool2d``, ``adaptive_max_pool1d``,
``adaptive_max_pool2d``, ``interpolate`` (nearest) and their layers.

* Max-pooling is the engine's ``max_pool`` primitive: the forward is the
  elementwise maximum of the K window views (no index work when nothing needs
  a gradient); its derivative sends each gradient to the window's first
  maximum (the last NaN, if any), exactly as PyTorch does, by one scatter on
  the flat input.
* Average pooling is a depthwise convolution with a constant kernel of ones
  (the ``conv`` primitive), scaled by PyTorch's divisor: the window size, or
  with ``count_include_pad=False`` / ``ceil_mode`` the number of elements the
  window covers, or ``divisor_override``.
* Adaptive average pooling is separable: y = A_H x A_Wᵀ with constant averaging
  matrices (two matmuls); adaptive max-pooling gathers each window's maximum.
* Nearest upsampling by an integer factor is a broadcast (its gradient a sum),
  otherwise a gather.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor, conv_kernels
from autograd_core import primitives as P

from .conv import NamedErrors, _batched, _is_int, _ntuple, _unbatch
from .module import Module, _to_tensor

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Upsample",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate"]


# ---------------------------------------------------------------------- window geometry

def _pool_size(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size; in ceil mode the last window must start
    inside the input or its left padding."""
    span = length + 2 * p - d * (k - 1) - 1
    if span < 0:
        return 0
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def _pool_geometry(fn, n, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Kernel, stride, (lo, hi) padding pairs (hi grown for ceil_mode) and dilation
    as the primitives take them, after PyTorch's checks."""
    kernel = _ntuple(kernel_size, n, "kernel_size", fn, 1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, n, "stride", fn, 1)
    pad = _ntuple(padding, n, "padding", fn, 0)
    dilation = _ntuple(dilation, n, "dilation", fn, 1)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{fn}: padding should be at most half of kernel_size, got "
                         f"padding={pad} for kernel_size={kernel}")
    size = x.shape[2:]
    out = tuple(_pool_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(size, kernel, stride, pad, dilation))
    if any(q < 1 for q in out):
        raise ValueError(f"{fn}: input of spatial size {size} is too small for "
                         f"kernel_size={kernel}, stride={stride}, padding={pad}, "
                         f"dilation={dilation} (output size {out})")
    # hi padding that makes Q = (S + lo + hi − d(K − 1) − 1)//s + 1 give the ceil-mode size
    pairs = tuple((p, max(p, (q - 1) * st + d * (k - 1) + 1 - s - p))
                  for s, q, k, st, p, d in zip(size, out, kernel, stride, pad, dilation))
    return kernel, stride, pairs, dilation, out


# ---------------------------------------------------------------------- max pooling

def _indices(positions, x_shape):
    """Flat positions in the whole input → PyTorch's indices (within each plane)."""
    plane = math.prod(x_shape[2:])
    return Tensor((positions % plane).astype(np.int64))


def _max_pool_batched(fn, n, x, kernel_size, stride, padding, dilation, ceil_mode,
                      return_indices):
    kernel, stride, pads, dilation, _ = _pool_geometry(fn, n, x, kernel_size, stride, padding,
                                                       dilation, ceil_mode)
    settings = dict(kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    y = P.max_pool(x, **settings)
    if not return_indices:
        return y, None
    where = conv_kernels.pool_positions(x.data, y.data, **settings)
    return y, _indices(where, x.shape).reshape(y.shape)


def _with_indices(y, idx, unbatched):
    y = _unbatch(y, unbatched)
    return y if idx is None else (y, _unbatch(idx, unbatched))


def _max_pool(fn, n, input, kernel_size, stride, padding, dilation, ceil_mode,  # noqa: A002
              return_indices):
    x, unbatched = _batched(_to_tensor(input, fn=fn), n, fn)
    y, idx = _max_pool_batched(fn, n, x, kernel_size, stride, padding, dilation, ceil_mode,
                               return_indices)
    return _with_indices(y, idx, unbatched)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """1-D max-pooling, as ``torch.nn.functional.max_pool1d``: y[n, c, t] =
    max_i x[n, c, t·s + i·d − p] over the window (padding is −∞, never chosen).
    ``stride`` defaults to ``kernel_size``; ``return_indices`` also returns the
    int64 position of each maximum in its row (PyTorch's indices).

        >>> F.max_pool1d(np.array([[[1., 3., 2., 0.]]]), 2).data
        array([[[3., 2.]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """2-D max-pooling, as ``torch.nn.functional.max_pool2d``: the maximum of each
    ``kernel_size`` window (implicit −∞ padding; ``stride`` defaults to
    ``kernel_size``). The gradient goes to the first maximum of each window (to
    the last NaN in a window with NaN), as in PyTorch. ``return_indices`` also
    returns the flat position h·W + w of each maximum in its plane.

        >>> F.max_pool2d(np.ones((1, 8, 28, 28)), 2).shape
        (1, 8, 14, 14)
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ---------------------------------------------------------------------- average pooling

def _axis_divisors(size, out, k, s, p, count_include_pad):
    """PyTorch's per-axis divisor: the window clipped to the padded input, or
    with count_include_pad=False to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if not count_include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return (end - start).astype(np.float64)


def _avg_pool(fn, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
              divisor_override=None):
    x, unbatched = _batched(_to_tensor(input, fn=fn), n, fn)
    kernel, stride, pads, _, out = _pool_geometry(fn, n, x, kernel_size, stride, padding, 1,
                                                  ceil_mode)
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override == 0):
        raise ValueError(f"{fn}: divisor_override must be a nonzero int, got {divisor_override!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point input, got dtype {x.dtype}")
    lead = x.shape[:2]
    if divisor_override is not None:
        divisor = None
        scale = 1.0 / divisor_override
    else:
        per_axis = [_axis_divisors(s, q, k, st, p, count_include_pad)
                    for s, q, k, st, (p, _) in zip(x.shape[2:], out, kernel, stride, pads)]
        divisor = per_axis[0]
        for d in per_axis[1:]:
            divisor = np.multiply.outer(divisor, d)
        scale = None
        if np.all(divisor == divisor.flat[0]):
            scale, divisor = 1.0 / divisor.flat[0], None
    # a depthwise convolution with a kernel of ones (or of 1/divisor)
    ones = np.full((1, 1) + kernel, 1.0 if scale is None else scale, dtype=x.dtype)
    planes = x.reshape((lead[0] * lead[1], 1) + x.shape[2:])
    y = P.conv(planes, ones, stride=stride, padding=pads, dilation=(1,) * n, groups=1)
    y = y.reshape(lead + out)
    if divisor is not None:
        y = y / np.asarray(divisor, dtype=x.dtype)    # divided, as torch's avg_pool
    return _unbatch(y, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``: the mean of each
    window, zero padding counted when ``count_include_pad`` (PyTorch's default).

        >>> F.avg_pool1d(np.array([[[1., 3., 2., 0.]]]), 2).data
        array([[[2., 1.]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``:
    y[n, c, u, v] = Σ_window x_pad / divisor, the divisor being the window size
    clipped to the padded input (to the input itself if ``count_include_pad``
    is False), or ``divisor_override``. ``stride`` defaults to ``kernel_size``.

        >>> F.avg_pool2d(np.ones((1, 3, 8, 8)), 2).shape
        (1, 3, 4, 4)
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ---------------------------------------------------------------------- adaptive pooling

def _adaptive_output(output_size, size, n, fn):
    if _is_int(output_size) or output_size is None:
        output_size = (output_size,) * n
    if not isinstance(output_size, (tuple, list)) or len(output_size) != n or not all(
            v is None or (_is_int(v) and v >= 0) for v in output_size):
        raise ValueError(f"{fn}: output_size must be an int or a tuple of {n} ints (or None), "
                         f"got {output_size!r}")
    return tuple(s if q is None else int(q) for q, s in zip(output_size, size))


def _adaptive_windows(size, out):
    """PyTorch's adaptive windows along one axis: [⌊i·S/Q⌋, ⌈(i+1)·S/Q⌉)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _averaging_matrix(size, out, dtype):
    start, end = _adaptive_windows(size, out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_input(fn, n, input, output_size):  # noqa: A002
    x, unbatched = _batched(_to_tensor(input, fn=fn), n, fn)
    out = _adaptive_output(output_size, x.shape[2:], n, fn)
    if any(s == 0 for s in x.shape[2:]) or any(q == 0 for q in out):
        raise ValueError(f"{fn}: input of shape {x.shape} and output_size {out} must have "
                         f"non-empty spatial axes")
    return x, unbatched, out


def _adaptive_avg_pool(fn, n, input, output_size):  # noqa: A002
    x, unbatched, out = _adaptive_input(fn, n, input, output_size)
    if all(q == 1 for q in out):  # global average pooling
        y = x.mean(axis=tuple(range(2, 2 + n)), keepdims=True)
        return _unbatch(y, unbatched)
    y = x
    for a, (s, q) in enumerate(zip(x.shape[2:], out)):
        if s == q:
            continue
        m = _averaging_matrix(s, q, x.dtype)  # (Q, S): y ← A applied along axis a
        y = ag.matmul(y, m.T) if a == n - 1 else ag.matmul(m, y)  # n ≤ 2: the last two axes
    return _unbatch(y, unbatched)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """1-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``:
    ``output_size`` windows [⌊i·L/Q⌋, ⌈(i+1)·L/Q⌉), each averaged.

        >>> F.adaptive_avg_pool1d(np.arange(6.).reshape(1, 1, 6), 3).data
        array([[[0.5, 2.5, 4.5]]])
    """
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """2-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``:
    the (H, W) plane averaged over ``output_size`` windows per axis
    ([⌊i·H/Q⌋, ⌈(i+1)·H/Q⌉)); ``output_size`` is an int, a pair, or has ``None``
    for an axis to keep. ``(1, 1)`` is global average pooling.

        >>> F.adaptive_avg_pool2d(np.ones((2, 512, 7, 7)), 1).shape
        (2, 512, 1, 1)
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max_positions(x, out):
    """Flat positions in ``x`` (N, C, *S) of each adaptive window's maximum
    (PyTorch's choice: the first maximum, the last NaN)."""
    size = x.shape[2:]
    n = len(size)
    index = []
    widths = []
    for s, q in zip(size, out):
        start, end = _adaptive_windows(s, q)
        width = int((end - start).max())
        # pad short windows by repeating their last element: it changes no maximum
        # and comes after the element it repeats, so the first-maximum rule holds
        index.append(np.minimum(start[:, None] + np.arange(width), end[:, None] - 1))
        widths.append(width)
    # windows gathered as (N, C, Q1, …, Qn, W1·…·Wn)
    grids = np.ix_(*[a.ravel() for a in index])
    vals = x[(slice(None), slice(None)) + grids]
    vals = vals.reshape(x.shape[:2] + tuple(v for q, w in zip(out, widths) for v in (q, w)))
    perm = (0, 1) + tuple(2 + 2 * a for a in range(n)) + tuple(3 + 2 * a for a in range(n))
    vals = vals.transpose(perm).reshape(x.shape[:2] + out + (math.prod(widths),))
    best = np.argmax(vals, axis=-1)
    if vals.dtype.kind == "f":
        isnan = np.isnan(vals)
        if isnan.any():
            last_nan = vals.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1)
            best = np.where(isnan.any(axis=-1), last_nan, best)
    taps = np.unravel_index(best, tuple(widths))
    flat = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1,) * n)
    for a in range(n):
        q_index = np.arange(out[a]).reshape((1, 1) + tuple(out[a] if b == a else 1
                                                           for b in range(n)))
        flat = flat * size[a] + index[a][q_index, taps[a]]
    return flat.ravel()


def _adaptive_max_pool(fn, n, input, output_size, return_indices):  # noqa: A002
    x, unbatched, out = _adaptive_input(fn, n, input, output_size)
    if all(s % q == 0 for s, q in zip(x.shape[2:], out)):
        # equal windows: the max_pool primitive, kernel = stride = S/Q
        kernel = tuple(s // q for s, q in zip(x.shape[2:], out))
        y, idx = _max_pool_batched(fn, n, x, kernel, kernel, 0, 1, False, return_indices)
        return _with_indices(y, idx, unbatched)
    where = _adaptive_max_positions(x.data, out)
    y = x.reshape(-1)[where].reshape(x.shape[:2] + out)
    idx = _indices(where, x.shape).reshape(y.shape) if return_indices else None
    return _with_indices(y, idx, unbatched)


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """1-D adaptive max-pooling, as ``torch.nn.functional.adaptive_max_pool1d``:
    the maximum over each window [⌊i·L/Q⌋, ⌈(i+1)·L/Q⌉).

        >>> F.adaptive_max_pool1d(np.array([[[1., 3., 2., 0., 5.]]]), 2).data
        array([[[3., 5.]]])
    """
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """2-D adaptive max-pooling, as ``torch.nn.functional.adaptive_max_pool2d``: the
    maximum over ``output_size`` windows per axis ([⌊i·H/Q⌋, ⌈(i+1)·H/Q⌉)),
    the gradient going to the first maximum, as in PyTorch.

        >>> F.adaptive_max_pool2d(np.ones((1, 3, 10, 9)), (5, 4)).shape
        (1, 3, 5, 4)
    """
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---------------------------------------------------------------------- resampling

def _nearest_index(size, out, scale, exact):
    """PyTorch's source index of every output position (computed in float32,
    as PyTorch does): ⌊i·scale⌋, or ⌊(i + ½)·scale⌋ for 'nearest-exact'."""
    i = np.arange(out, dtype=np.float32)
    if exact:
        i = i + np.float32(0.5)
    return np.minimum(np.floor(i * np.float32(scale)).astype(np.int64), size - 1)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resampling, as ``torch.nn.functional.interpolate``, for ``mode='nearest'``
    (PyTorch's legacy rule: source index ⌊i·L_in/L_out⌋, or ⌊i/scale_factor⌋ when a
    scale factor is given) and ``'nearest-exact'`` (⌊(i + ½)·L_in/L_out⌋).

    ``input`` (N, C, L), (N, C, H, W) or (N, C, D, H, W); give ``size`` (int or
    tuple) or ``scale_factor`` (number or tuple; output ⌊L·scale⌋). Integer
    scale factors are a broadcast whose gradient is a sum.

        >>> F.interpolate(np.ones((1, 3, 4, 4)), scale_factor=2).shape
        (1, 3, 8, 8)
    """
    fn = "interpolate"
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"{fn}: mode={mode!r} is not supported; only 'nearest' and "
                                  f"'nearest-exact' are")
    if align_corners is not None:
        raise ValueError(f"{fn}: align_corners option can only be set with the interpolating "
                         f"modes: linear | bilinear | bicubic | trilinear, got mode={mode!r}")
    if antialias:
        raise ValueError(f"{fn}: antialias is only supported for the linear and cubic modes, "
                         f"got mode={mode!r}")
    x = _to_tensor(input, fn=fn)
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"{fn}: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape "
                         f"{x.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size or scale_factor (got size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    in_size = x.shape[2:]
    if size is not None:
        out = _ntuple(size, n, "size", fn, 1)
        scales = [s / q for s, q in zip(in_size, out)]
    else:
        if isinstance(scale_factor, (tuple, list)):
            factors = tuple(scale_factor)
        else:
            factors = (scale_factor,) * n
        if len(factors) != n or not all(isinstance(f, numbers.Real) and not isinstance(f, bool)
                                        and f > 0 for f in factors):
            raise ValueError(f"{fn}: scale_factor must be a positive number or a tuple of {n} "
                             f"positive numbers, got {scale_factor!r}")
        out = tuple(int(math.floor(s * float(f))) for s, f in zip(in_size, factors))
        if any(q < 1 for q in out):
            raise ValueError(f"{fn}: scale_factor {scale_factor!r} gives an empty output for "
                             f"an input of spatial size {in_size}")
        scales = [s / q if recompute_scale_factor else 1.0 / float(f)
                  for s, q, f in zip(in_size, out, factors)]
    y = x
    for a, (s, q, scale) in enumerate(zip(in_size, out, scales)):
        index = _nearest_index(s, q, scale, mode == "nearest-exact")
        axis = 2 + a
        if q == s and np.array_equal(index, np.arange(s)):
            continue
        r = q // s
        if q == r * s and np.array_equal(index, np.arange(q) // r):
            # each element repeated r times: broadcast a new axis after `axis`
            shape = y.shape
            expanded = y.reshape(shape[:axis + 1] + (1,) + shape[axis + 1:])
            y = expanded.broadcast_to(shape[:axis + 1] + (r,) + shape[axis + 1:]).reshape(
                shape[:axis] + (q,) + shape[axis + 1:])
        else:
            y = y[(slice(None),) * axis + (index,)]
    return y


# ---------------------------------------------------------------------- layers

class _MaxPoolNd(NamedErrors, Module):
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        fn, n = type(self).__name__, self._dims
        _ntuple(kernel_size, n, "kernel_size", fn, 1)
        if stride is not None:
            _ntuple(stride, n, "stride", fn, 1)
        _ntuple(padding, n, "padding", fn, 0)
        _ntuple(dilation, n, "dilation", fn, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x):
        return self._function(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """``MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)``, as ``torch.nn.MaxPool1d``; ``stride`` defaults to ``kernel_size``.

        >>> nn.MaxPool1d(2)(np.ones((4, 8, 10))).shape
        (4, 8, 5)
    """

    _dims = 1
    _function = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """``MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)``, as ``torch.nn.MaxPool2d``: the maximum of each window;
    ``stride`` defaults to ``kernel_size``.

        >>> nn.MaxPool2d(2)(np.ones((64, 8, 28, 28))).shape
        (64, 8, 14, 14)
    """

    _dims = 2
    _function = staticmethod(max_pool2d)


class AvgPool1d(NamedErrors, Module):
    """``AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True)``, as ``torch.nn.AvgPool1d``.

        >>> nn.AvgPool1d(3, stride=2)(np.ones((1, 2, 9))).shape
        (1, 2, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        fn = "AvgPool1d"
        self.kernel_size = _ntuple(kernel_size, 1, "kernel_size", fn, 1)
        self.stride = self.kernel_size if stride is None else _ntuple(stride, 1, "stride", fn, 1)
        self.padding = _ntuple(padding, 1, "padding", fn, 0)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(NamedErrors, Module):
    """``AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True, divisor_override=None)``, as ``torch.nn.AvgPool2d``;
    ``stride`` defaults to ``kernel_size``.

        >>> nn.AvgPool2d(2)(np.ones((1, 3, 8, 8))).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        fn = "AvgPool2d"
        _ntuple(kernel_size, 2, "kernel_size", fn, 1)
        if stride is not None:
            _ntuple(stride, 2, "stride", fn, 1)
        _ntuple(padding, 2, "padding", fn, 0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(NamedErrors, Module):
    _function = None

    def __init__(self, output_size):
        super().__init__()
        _adaptive_output(output_size, (1,) * self._dims, self._dims, type(self).__name__)
        self.output_size = output_size

    def forward(self, x):
        return self._function(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """``AdaptiveAvgPool1d(output_size)``, as ``torch.nn.AdaptiveAvgPool1d``.

        >>> nn.AdaptiveAvgPool1d(4)(np.ones((2, 3, 10))).shape
        (2, 3, 4)
    """

    _dims = 1
    _function = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """``AdaptiveAvgPool2d(output_size)``, as ``torch.nn.AdaptiveAvgPool2d``:
    ``output_size`` an int, a pair, or with ``None`` for an axis kept as is.

        >>> nn.AdaptiveAvgPool2d((1, 1))(np.ones((2, 512, 7, 7))).shape
        (2, 512, 1, 1)
    """

    _dims = 2
    _function = staticmethod(adaptive_avg_pool2d)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = bool(return_indices)

    def forward(self, x):
        return self._function(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """``AdaptiveMaxPool1d(output_size, return_indices=False)``, as
    ``torch.nn.AdaptiveMaxPool1d``.

        >>> nn.AdaptiveMaxPool1d(3)(np.ones((2, 3, 10))).shape
        (2, 3, 3)
    """

    _dims = 1
    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """``AdaptiveMaxPool2d(output_size, return_indices=False)``, as
    ``torch.nn.AdaptiveMaxPool2d``.

        >>> nn.AdaptiveMaxPool2d((2, 3))(np.ones((1, 4, 7, 7))).shape
        (1, 4, 2, 3)
    """

    _dims = 2
    _function = staticmethod(adaptive_max_pool2d)


class Upsample(NamedErrors, Module):
    """``Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None)``, as ``torch.nn.Upsample``: ``interpolate`` with
    these arguments (modes 'nearest' and 'nearest-exact').

        >>> nn.Upsample(scale_factor=2)(np.ones((1, 3, 4, 4))).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode not in ("nearest", "nearest-exact"):
            raise NotImplementedError(f"Upsample: mode={mode!r} is not supported; only "
                                      f"'nearest' and 'nearest-exact' are")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, numbers.Real) \
            else (tuple(float(f) for f in scale_factor) if scale_factor is not None else None)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return f"{info}, mode={self.mode!r}"
