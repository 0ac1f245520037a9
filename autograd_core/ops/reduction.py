"""Reductions and the softmax family, with NumPy's (``axis``, ``keepdims``)
and PyTorch's (``dim``, ``keepdim``) spellings alike.

Where the spellings mean different things the spelling decides:
``x.max(axis=1)`` / ``x.max(1)`` give the values (NumPy), ``x.max(dim=1)``
gives PyTorch's ``(values, indices)``; ``max(a, b)`` with a Tensor ``b`` is
elementwise, as in torch.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..core import TensorBase, wrap
from ._args import axes, one_axis, spelling, to_tensor
from .arithmetic import maximum, minimum

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
           "softmax", "log_softmax", "take_along_dim"]

#: PyTorch's ``torch.return_types``: results that are (values, indices).
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _reduce_args(fn, x, axis, keepdims, dim, keepdim):
    arg = "dim" if dim is not None else "axis"
    axis = spelling(fn, "axis", axis, "dim", dim)
    keepdims = spelling(fn, "keepdims", keepdims, "keepdim", keepdim, default=False)
    return axes(axis, x.ndim, fn, arg), bool(keepdims)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):  # noqa: A001
    """Σ over ``axis`` (all axes by default). float16 accumulates in float32.
    Integer and bool tensors sum to int64, as in PyTorch."""
    x = to_tensor(x, "sum")
    ax, kd = _reduce_args("sum", x, axis, keepdims, dim, keepdim)
    if dtype is not None:
        x = x.astype(dtype)
    elif x._d.dtype.kind in "biu":
        return wrap(np.asarray(x._d).sum(axis=ax, keepdims=kd, dtype=np.int64)[()])
    return P.sum(x, axis=ax, keepdims=kd)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Σ / count over ``axis``. The mean over nothing is NaN, as in PyTorch."""
    x = to_tensor(x, "mean")
    if dtype is not None:
        x = x.astype(dtype)
    if x._d.dtype.kind not in "fc":
        raise TypeError(f"mean: input dtype should be floating point, got {x._d.dtype} "
                        f"(convert with .float() or pass dtype=)")
    if x._d.dtype == np.float16:  # accumulate and divide in float32, as PyTorch does
        return P.astype(mean(P.astype(x, dtype=np.dtype(np.float32)), axis, keepdims, dim=dim,
                             keepdim=keepdim), dtype=np.dtype(np.float16))
    ax, kd = _reduce_args("mean", x, axis, keepdims, dim, keepdim)
    total = P.sum(x, axis=ax, keepdims=kd)
    count = x._d.size // total._d.size if total._d.size else 0
    return total * (1.0 / count if count else np.nan)


def _values_indices(fn, x, dim, keepdim, arg):
    """(values, indices) of a max/min along ``dim``; the gradient goes to the
    index position only, as in PyTorch."""
    d = one_axis(dim, x.ndim, fn)
    if x._d.size == 0:
        raise IndexError(f"{fn}(): cannot reduce dimension {d} of an empty tensor of shape {x.shape}")
    idx = arg(np.asarray(x._d), axis=d, keepdims=True)
    values = take_along_dim(x, idx, d)
    if not keepdim:
        values = P.reshape(values, shape=values.shape[:d] + values.shape[d + 1:]) \
            if x.ndim else values
        idx = np.squeeze(idx, axis=d) if x.ndim else idx.reshape(())
    return values, wrap(idx.astype(np.int64))


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """The maximum: over ``axis`` (values; ties share the gradient, a NaN is the
    maximum), over ``dim=`` (PyTorch's ``(values, indices)``), or elementwise
    when the second argument is a Tensor (``max(a, b)``)."""
    x = to_tensor(x, "max")
    if isinstance(axis, TensorBase):
        return maximum(x, axis)
    if dim is not None:
        if axis is not None:
            raise TypeError("max: got both axis= and dim=; give one")
        kd = bool(spelling("max", "keepdims", keepdims, "keepdim", keepdim, default=False))
        return MaxResult(*_values_indices("max", x, dim, kd, np.argmax))
    ax, kd = _reduce_args("max", x, axis, keepdims, None, keepdim)
    if x._d.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape} "
                         f"(the maximum of nothing is undefined)")
    return P.max(x, axis=ax, keepdims=kd)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """The minimum, as ``max`` (``min(x) = -max(-x)``)."""
    x = to_tensor(x, "min")
    if isinstance(axis, TensorBase):
        return minimum(x, axis)
    if dim is not None:
        if axis is not None:
            raise TypeError("min: got both axis= and dim=; give one")
        kd = bool(spelling("min", "keepdims", keepdims, "keepdim", keepdim, default=False))
        return MinResult(*_values_indices("min", x, dim, kd, np.argmin))
    ax, kd = _reduce_args("min", x, axis, keepdims, None, keepdim)
    if x._d.size == 0:
        raise ValueError(f"min: cannot reduce an empty tensor of shape {x.shape}")
    return P.neg(P.max(P.neg(x), axis=ax, keepdims=kd))


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The maximum over ``dim`` (values only; ties share the gradient), as ``torch.amax``."""
    x = to_tensor(x, "amax")
    return max(x, spelling("amax", "dim", dim, "axis", axis),
               spelling("amax", "keepdim", keepdim, "keepdims", keepdims, default=False))


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The minimum over ``dim`` (values only), as ``torch.amin``."""
    x = to_tensor(x, "amin")
    return min(x, spelling("amin", "dim", dim, "axis", axis),
               spelling("amin", "keepdim", keepdim, "keepdims", keepdims, default=False))


def _arg(fn, npfn, x, axis, keepdims, dim, keepdim):
    x = to_tensor(x, fn)
    axis = spelling(fn, "axis", axis, "dim", dim)
    kd = bool(spelling(fn, "keepdims", keepdims, "keepdim", keepdim, default=False))
    if x._d.size == 0:
        raise ValueError(f"{fn}: cannot take the {fn} of an empty tensor of shape {x.shape}")
    data = np.asarray(x._d)
    if axis is None:
        out = npfn(data.reshape(-1))
        if kd:
            out = np.reshape(out, (1,) * x.ndim)
    else:
        out = npfn(data, axis=one_axis(axis, x.ndim, fn), keepdims=kd)
    return wrap(np.asarray(out, dtype=np.int64)[()] if np.ndim(out) == 0 else out.astype(np.int64))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the maximum (of the flattened tensor without an axis); int64, no gradient."""
    return _arg("argmax", np.argmax, x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the minimum (of the flattened tensor without an axis); int64, no gradient."""
    return _arg("argmin", np.argmin, x, axis, keepdims, dim, keepdim)


def take_along_dim(x, indices, dim):
    """``x`` picked at ``indices`` along ``dim`` (``np.take_along_axis``);
    differentiable in ``x`` (the gradient is scattered back)."""
    x = to_tensor(x, "take_along_dim")
    idx = np.asarray(indices._d if isinstance(indices, TensorBase) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_dim: indices must be integers, got dtype {idx.dtype}")
    d = one_axis(dim, x.ndim, "take_along_dim")
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices of shape {idx.shape} must have as many "
                         f"dimensions as the input of shape {x.shape}")
    shape = np.broadcast_shapes(tuple(1 if i == d else n for i, n in enumerate(x.shape)),
                                tuple(1 if i == d else n for i, n in enumerate(idx.shape)))
    idx = np.broadcast_to(idx, shape[:d] + (idx.shape[d],) + shape[d + 1:])
    grid = np.ogrid[tuple(slice(n) for n in idx.shape)]
    index = tuple(idx if i == d else grid[i] for i in range(x.ndim))
    return P.getitem(x, index=index)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log Σ exp(x) over ``axis``, fused (exact at ±1000). Over nothing it is -inf."""
    x = to_tensor(x, "logsumexp")
    ax, kd = _reduce_args("logsumexp", x, axis, keepdims, dim, keepdim)
    return P.logsumexp(x, axis=ax, keepdims=kd)


def softmax(x, axis=-1, *, dim=None, dtype=None):
    """exp(x) / Σ exp(x) along ``axis`` (default the last), fused and stable."""
    x = to_tensor(x, "softmax")
    if dtype is not None:
        x = x.astype(dtype)
    return P.softmax(x, axis=one_axis(spelling("softmax", "axis", axis, "dim", dim, default=-1),
                                      x.ndim, "softmax"))


def log_softmax(x, axis=-1, *, dim=None, dtype=None):
    """x - logsumexp(x) along ``axis`` (default the last), fused and exact at ±1000."""
    x = to_tensor(x, "log_softmax")
    if dtype is not None:
        x = x.astype(dtype)
    return P.log_softmax(x, axis=one_axis(
        spelling("log_softmax", "axis", axis, "dim", dim, default=-1), x.ndim, "log_softmax"))
