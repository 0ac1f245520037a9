"""Reductions and the softmax family, with NumPy's (``axis``, ``keepdims``)
and PyTorch's (``dim``, ``keepdim``) spellings alike.

Where the spellings mean different things the spelling decides:
``x.max(axis=1)`` / ``x.max(1)`` give the values (NumPy), ``x.max(dim=1)``
gives PyTorch's ``(values, indices)``; ``max(a, b)`` with a Tensor ``b`` is
elementwise, as in torch.
"""
from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..core import TensorBase, tracing, wrap
from ._args import axes, one_axis, spelling, to_tensor
from .arithmetic import maximum, minimum

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
           "softmax", "log_softmax", "take_along_dim",
           "cumsum", "cumprod", "prod", "var", "std", "var_mean", "std_mean", "norm", "any", "all",
           "count_nonzero"]

#: PyTorch's ``torch.return_types``: results that are (values, indices).
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _reduce_args(fn, x, axis, keepdims, dim, keepdim):
    arg = "dim" if dim is not None else "axis"
    axis = spelling(fn, "axis", axis, "dim", dim)
    keepdims = spelling(fn, "keepdims", keepdims, "keepdim", keepdim, default=False)
    return axes(axis, x.ndim, fn, arg), bool(keepdims)


# Integer results (sums and products of integers, indices of extrema, logical
# reductions, counts): no derivative, but values of the step, computed by
# traced primitives so that a compiled program recomputes them on every call.
_HALF, _SINGLE = np.dtype(np.float16), np.dtype(np.float32)


def _half_in_float32(compute, x, *args):
    """``compute(x, *args)``, for a float16 ``x`` in float32 and rounded back once
    at the end, as PyTorch accumulates half precision (Σ of 60000 ones is not inf)."""
    if x._d.dtype != _HALF:
        return compute(x, *args)
    out = compute(P.astype(x, dtype=_SINGLE), *args)
    with np.errstate(over="ignore"):  # beyond float16's range is inf, silently as in PyTorch
        return P.astype(out, dtype=_HALF)


_int_sum = P.Constant("sum_int", lambda x, axis, keepdims: np.asarray(
    np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)))
_int_prod = P.Constant("prod_int", lambda x, axis, keepdims: np.asarray(
    np.prod(x, axis=axis, keepdims=keepdims, dtype=np.int64)))


def _arg_forward(npfn):
    def forward(x, axis, keepdims):
        if axis is None:
            out = npfn(x.reshape(-1))
            return np.reshape(out, (1,) * x.ndim if keepdims else ()).astype(np.int64)
        return np.asarray(npfn(x, axis=axis, keepdims=keepdims), dtype=np.int64)
    return forward


_argmax = P.Constant("argmax", _arg_forward(np.argmax))
_argmin = P.Constant("argmin", _arg_forward(np.argmin))


def _logical_forward(npfn):
    def forward(x, axis, keepdims):
        out = np.asarray(npfn(x, axis=axis, keepdims=keepdims))
        return out.astype(np.uint8) if x.dtype == np.uint8 else out  # torch keeps uint8
    return forward


_any = P.Constant("any", _logical_forward(np.any))
_all = P.Constant("all", _logical_forward(np.all))
_count_nonzero = P.Constant("count_nonzero", lambda x, axis: np.asarray(
    np.count_nonzero(x, axis=axis), dtype=np.int64))
_broadcast_index = P.Constant("broadcast_index", lambda idx, shape: np.broadcast_to(idx, shape))


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):  # noqa: A001
    """Σ over ``axis`` (all axes by default). float16 accumulates in float32.
    Integer and bool tensors sum to int64, as in PyTorch.

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.sum(x), x.sum(dim=0), x.sum(axis=1, keepdims=True).shape
        (Tensor(21., dtype=float32), Tensor([5., 8., 8.], dtype=float32), (2, 1))
        >>> ag.sum(ag.tensor([1, 2]), dtype=ag.float64)
        Tensor(3.)
    """
    x = to_tensor(x, "sum")
    ax, kd = _reduce_args("sum", x, axis, keepdims, dim, keepdim)
    if dtype is not None:
        x = x.astype(dtype)
    elif x._d.dtype.kind in "biu":
        return _int_sum(x, axis=ax, keepdims=kd)
    return P.sum(x, axis=ax, keepdims=kd)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Σ / count over ``axis``. The mean over nothing is NaN, as in PyTorch.

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.mean(x), x.mean(dim=1)
        (Tensor(3.5, dtype=float32), Tensor([2.6666667, 4.3333335], dtype=float32))
    """
    x = to_tensor(x, "mean")
    if dtype is not None:
        x = x.astype(dtype)
    if x._d.dtype.kind not in "fc":
        raise TypeError(f"mean: input dtype should be floating point, got {x._d.dtype} "
                        f"(convert with .float() or pass dtype=)")
    ax, kd = _reduce_args("mean", x, axis, keepdims, dim, keepdim)
    return _half_in_float32(_mean, x, ax, kd)


def _mean(x, ax, kd):
    total = P.sum(x, axis=ax, keepdims=kd)
    count = x._d.size // total._d.size if total._d.size else 0
    # Σ / count, divided (as NumPy and PyTorch do), not multiplied by 1/count:
    # that rounds twice and is 1 ulp off for counts that are not powers of two
    return total / count if count else total * np.nan


def _values_indices(fn, x, dim, keepdim, arg):
    """(values, indices) of a max/min along ``dim``; the gradient goes to the
    index position only, as in PyTorch."""
    d = one_axis(dim, x.ndim, fn)
    if x._d.size == 0:
        raise IndexError(f"{fn}(): cannot reduce dimension {d} of an empty tensor of shape {x.shape}")
    idx = arg(x, axis=d if x.ndim else None, keepdims=True)
    values = take_along_dim(x, idx, d) if x.ndim else P.getitem(x, index=(Ellipsis,))
    if not keepdim and x.ndim:
        values = P.reshape(values, shape=values.shape[:d] + values.shape[d + 1:])
        idx = P.reshape(idx, shape=values.shape)
    return values, idx


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """The maximum: over ``axis`` (values; ties share the gradient, a NaN is the
    maximum), over ``dim=`` (PyTorch's ``(values, indices)``), or elementwise
    when the second argument is a Tensor (``max(a, b)``).

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.max(x)                              # all axes: a value
        Tensor(6., dtype=float32)
        >>> ag.max(x, dim=1)                       # one axis: values and indices, as torch
        max(values=Tensor([5., 6.], dtype=float32), indices=Tensor([1, 2]))
    """
    x = to_tensor(x, "max")
    if isinstance(axis, TensorBase):
        return maximum(x, axis)
    if dim is not None:
        if axis is not None:
            raise TypeError("max: got both axis= and dim=; give one")
        kd = bool(spelling("max", "keepdims", keepdims, "keepdim", keepdim, default=False))
        return MaxResult(*_values_indices("max", x, dim, kd, _argmax))
    ax, kd = _reduce_args("max", x, axis, keepdims, None, keepdim)
    if x._d.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape} "
                         f"(the maximum of nothing is undefined)")
    return P.max(x, axis=ax, keepdims=kd)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """The minimum, as ``max`` (``min(x) = -max(-x)``).

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.min(x, dim=0)
        min(values=Tensor([1., 3., 2.], dtype=float32), indices=Tensor([0, 1, 0]))
    """
    x = to_tensor(x, "min")
    if isinstance(axis, TensorBase):
        return minimum(x, axis)
    if dim is not None:
        if axis is not None:
            raise TypeError("min: got both axis= and dim=; give one")
        kd = bool(spelling("min", "keepdims", keepdims, "keepdim", keepdim, default=False))
        return MinResult(*_values_indices("min", x, dim, kd, _argmin))
    ax, kd = _reduce_args("min", x, axis, keepdims, None, keepdim)
    if x._d.size == 0:
        raise ValueError(f"min: cannot reduce an empty tensor of shape {x.shape}")
    return P.neg(P.max(P.neg(x), axis=ax, keepdims=kd))


def _amax(fn, x, dim, keepdim, axis, keepdims):
    """torch.amax's reduction of ``x`` (the caller negates for amin)."""
    ax, kd = _reduce_args(fn, x, spelling(fn, "dim", dim, "axis", axis), False,
                          None, spelling(fn, "keepdim", keepdim, "keepdims", keepdims,
                                         default=False))
    if x._d.size == 0 and (ax is None or 0 in [x.shape[i] for i in ax]):
        raise IndexError(f"{fn}: cannot reduce over a zero-size dimension of a tensor of "
                         f"shape {x.shape}")
    return P.amax(x, axis=ax, keepdims=kd)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The maximum over ``dim`` (values only), as ``torch.amax``: ties share the
    gradient, and a slice whose maximum is NaN gets a NaN gradient (torch's rule;
    ``max`` gives it to the NaN).

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.amax(x, dim=1)
        Tensor([5., 6.], dtype=float32)
    """
    return _amax("amax", to_tensor(x, "amax"), dim, keepdim, axis, keepdims)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The minimum over ``dim`` (values only), as ``torch.amin`` (``amax`` of -x).

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.amin(x, dim=(0, 1))
        Tensor(1., dtype=float32)
    """
    return P.neg(_amax("amin", P.neg(to_tensor(x, "amin")), dim, keepdim, axis, keepdims))


def _arg(fn, arg, x, axis, keepdims, dim, keepdim):
    x = to_tensor(x, fn)
    axis = spelling(fn, "axis", axis, "dim", dim)
    kd = bool(spelling(fn, "keepdims", keepdims, "keepdim", keepdim, default=False))
    if x._d.size == 0:
        raise ValueError(f"{fn}: cannot take the {fn} of an empty tensor of shape {x.shape}")
    return arg(x, axis=None if axis is None else one_axis(axis, x.ndim, fn), keepdims=kd)


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the maximum (of the flattened tensor without an axis); int64, no gradient.

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.argmax(x), ag.argmax(x, dim=1)      # flat index without dim
        (Tensor(5), Tensor([1, 2]))
    """
    return _arg("argmax", _argmax, x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the minimum (of the flattened tensor without an axis); int64, no gradient.

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.argmin(x, dim=0)
        Tensor([0, 1, 0])
    """
    return _arg("argmin", _argmin, x, axis, keepdims, dim, keepdim)


def take_along_dim(x, indices, dim=None, *, axis=None):
    """``x`` picked at ``indices`` along ``dim`` (or ``axis``; ``np.take_along_axis``),
    of the flattened ``x`` and ``indices`` without one, as ``torch.take_along_dim``;
    differentiable in ``x`` (the gradient is scattered back).

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.take_along_dim(x, ag.argmax(x, dim=1, keepdim=True), dim=1)   # each row's max
        Tensor([[5.],
                [6.]], dtype=float32)
    """
    x = to_tensor(x, "take_along_dim")
    # The indices stay a tensor: when they are values of the step, the index the
    # program uses is computed from them on every call (``_broadcast_index``).
    idx = indices if isinstance(indices, TensorBase) else wrap(np.asarray(indices))
    if idx._d.dtype.kind not in "iu":
        raise TypeError(f"take_along_dim: indices must be integers, got dtype {idx._d.dtype}")
    dim = spelling("take_along_dim", "dim", dim, "axis", axis)
    if dim is None:
        x, dim = P.reshape(x, shape=(x._d.size,)), 0
        if idx.ndim != 1:
            idx = P.reshape(idx, shape=(idx._d.size,))
    d = one_axis(dim, x.ndim, "take_along_dim")
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices of shape {idx.shape} must have as many "
                         f"dimensions as the input of shape {x.shape}")
    try:  # the axes other than dim broadcast
        shape = np.broadcast_shapes(*(tuple(1 if i == d else n for i, n in enumerate(t.shape))
                                      for t in (x, idx)))
    except ValueError:
        raise ValueError(f"take_along_dim: indices of shape {idx.shape} do not broadcast with "
                         f"the input of shape {x.shape} in the dimensions other than dim={d}"
                         ) from None
    target = shape[:d] + (idx.shape[d],) + shape[d + 1:]
    if idx.shape != target:
        idx = _broadcast_index(idx, shape=target)
    grid = np.ogrid[tuple(slice(n) for n in target)]
    index = tuple(np.asarray(idx._d) if i == d else grid[i] for i in range(x.ndim))
    return P.getitem(x, index=index)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log Σ exp(x) over ``axis``, fused (exact at ±1000). Over nothing it is -inf.

        >>> ag.logsumexp(ag.tensor([0.0, 0.0]), dim=0)            # log 2
        Tensor(0.6931472, dtype=float32)
        >>> ag.logsumexp(ag.tensor([1000.0, 1000.0]), dim=0)      # no overflow
        Tensor(1000.6932, dtype=float32)
    """
    x = to_tensor(x, "logsumexp")
    ax, kd = _reduce_args("logsumexp", x, axis, keepdims, dim, keepdim)
    return P.logsumexp(x, axis=ax, keepdims=kd)


def softmax(x, axis=-1, *, dim=None, dtype=None):
    """exp(x) / Σ exp(x) along ``axis`` (default the last), fused and stable.

        >>> ag.softmax(ag.tensor([1.0, 2.0, 3.0]), dim=0)
        Tensor([0.09003057, 0.24472846, 0.66524094], dtype=float32)
        >>> ag.softmax(ag.tensor([[0.0, 0.0], [0.0, 1000.0]]), dim=1)    # no overflow
        Tensor([[0.5, 0.5],
                [0. , 1. ]], dtype=float32)
    """
    x = to_tensor(x, "softmax")
    if dtype is not None:
        x = x.astype(dtype)
    return P.softmax(x, axis=one_axis(spelling("softmax", "axis", axis, "dim", dim, default=-1),
                                      x.ndim, "softmax"))


def log_softmax(x, axis=-1, *, dim=None, dtype=None):
    """x - logsumexp(x) along ``axis`` (default the last), fused and exact at ±1000.

        >>> ag.log_softmax(ag.tensor([0.0, 0.0]), dim=0)             # log ½
        Tensor([-0.6931472, -0.6931472], dtype=float32)
    """
    x = to_tensor(x, "log_softmax")
    if dtype is not None:
        x = x.astype(dtype)
    return P.log_softmax(x, axis=one_axis(
        spelling("log_softmax", "axis", axis, "dim", dim, default=-1), x.ndim, "log_softmax"))


# ---------------------------------------------------------------------------
# Products, scans, moments and norms (PyTorch's vocabulary)
# ---------------------------------------------------------------------------

def _scan_input(fn, x, axis, dim, dtype):
    """(x ready to scan, the axis) — without an axis the flattened tensor, as
    NumPy; integer and bool tensors scan in int64 (no gradient), as PyTorch."""
    x = to_tensor(x, fn)
    axis = spelling(fn, "axis", axis, "dim", dim)
    if dtype is not None:
        x = x.astype(dtype)
    if axis is None:
        x = P.reshape(x, shape=(x._d.size,)) if x.ndim != 1 else x
        return x, 0
    return x, one_axis(axis, x.ndim, fn, "dim" if dim is not None else "axis")


def _int_scan_forward(x, npfn, axis):
    return npfn(x, axis=axis, dtype=np.int64).reshape(x.shape)


_int_scan = P.Constant("scan_int", _int_scan_forward)


def _scan(fn, prim, npfn, x, axis, dim, dtype):
    x, d = _scan_input(fn, x, axis, dim, dtype)
    if x._d.dtype.kind in "biu":
        return _int_scan(x, npfn=npfn, axis=d if x.ndim else None)
    return _half_in_float32(lambda t: prim(t, axis=d), x) if x.ndim else x


def cumsum(x, axis=None, dtype=None, *, dim=None):
    """Running sums yᵢ = Σ_{j≤i} xⱼ along ``dim`` (without one: of the flattened
    tensor, as NumPy). Integer and bool tensors give int64, as in PyTorch;
    float16 accumulates in float32.

        >>> ag.cumsum(ag.tensor([1.0, 2.0, 3.0]), dim=0)
        Tensor([1., 3., 6.], dtype=float32)
    """
    return _scan("cumsum", P.cumsum, np.cumsum, x, axis, dim, dtype)


def cumprod(x, axis=None, dtype=None, *, dim=None):
    """Running products yᵢ = Π_{j≤i} xⱼ along ``dim`` (without one: of the
    flattened tensor). The gradient is exact where x has zeros (PyTorch's rule);
    float16 accumulates in float32.

        >>> ag.cumprod(ag.tensor([2.0, 0.0, 3.0]), dim=0)
        Tensor([2., 0., 0.], dtype=float32)
    """
    return _scan("cumprod", P.cumprod, np.cumprod, x, axis, dim, dtype)


def prod(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Π over ``axis`` (all axes by default); the last running product, so the
    gradient is exact with zeros in x (one zero: the product of the others
    there, 0 elsewhere). Integer and bool tensors give int64. Over nothing it is 1.

        >>> x = ag.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> ag.prod(x), ag.prod(x, dim=1)
        (Tensor(720., dtype=float32), Tensor([10., 72.], dtype=float32))
    """
    x = to_tensor(x, "prod")
    ax, kd = _reduce_args("prod", x, axis, keepdims, dim, keepdim)
    if dtype is not None:
        x = x.astype(dtype)
    if x._d.dtype.kind in "biu":
        return _int_prod(x, axis=ax, keepdims=kd)
    if x.ndim == 0:
        return x
    reduced = tuple(range(x.ndim)) if ax is None else ax
    kept = tuple(i for i in range(x.ndim) if i not in reduced)
    out_shape = P.keep_shape(x.shape, reduced) if kd else P.reduced_shape(x.shape, reduced)
    n = int(np.prod([x.shape[i] for i in reduced], dtype=np.int64))
    if n == 0:  # the empty product: ones, still a function of x (an empty gradient)
        return P.sum(x, axis=reduced, keepdims=kd) * 0 + 1
    if kept + reduced != tuple(range(x.ndim)):
        x = P.transpose(x, axes=kept + reduced)
    rows = P.reshape(x, shape=tuple(x.shape[:len(kept)]) + (n,))
    last = P.getitem(P.cumprod(rows, axis=len(kept)), index=(Ellipsis, -1))
    return P.reshape(last, shape=out_shape) if last.shape != out_shape else last


def _pow_zero_grad(v, exponent):
    """v ** exponent for v ≥ 0, with gradient 0 where v = 0 (PyTorch's value for
    the norms and std at 0, where the derivative of the root is infinite)."""
    root = (lambda t: P.sqrt(t)) if exponent == 0.5 else (lambda t: P.pow_const(t, p=exponent))
    zero = P.equal(v, 0)
    if not tracing() and not np.any(zero._d):   # (a compiled step must handle zeros)
        return root(v)
    return P.where(0, root(P.where(1, v, cond=zero._d)), cond=zero._d)


def _moment_args(fn, x, axis, unbiased, keepdims, correction, dim, keepdim):
    if isinstance(axis, (bool, np.bool_)):  # torch's var(x, unbiased)
        if unbiased is not None:
            raise TypeError(f"{fn}: unbiased given twice")
        axis, unbiased = None, bool(axis)
    x = to_tensor(x, fn)
    if x._d.dtype.kind != "f":
        raise TypeError(f"{fn}: only floating-point tensors are supported, got dtype "
                        f"{x._d.dtype} (convert with .float() or .double())")
    if unbiased is not None and correction is not None:
        raise TypeError(f"{fn}: give correction= or unbiased=, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    ax, kd = _reduce_args(fn, x, axis, keepdims, dim, keepdim)
    return x, ax, kd, correction


# var and std accumulate as PyTorch's CPU kernels do: float16 in float32 and
# float32 in float64, rounded once at the end (torch.var(tensor([1., 2., 4.])) is
# 2.3333333, the float32 nearest 7/3; a float32 two-pass computation gives 2.3333335)
_MOMENT_ACCUMULATOR = {_HALF: _SINGLE, _SINGLE: np.dtype(np.float64)}


def _var(fn, x, ax, kd, correction, root=False):
    """var (or std, with ``root``) computed in the accumulation type of x's dtype."""
    def compute(t):
        v = _var_any_float(t, fn, ax, kd, correction)
        return _pow_zero_grad(v, 0.5) if root else v
    acc = _MOMENT_ACCUMULATOR.get(x._d.dtype)
    if acc is None:
        return compute(x)
    out = compute(P.astype(x, dtype=acc))
    with np.errstate(over="ignore"):  # beyond float16's range is inf, silently as in PyTorch
        return P.astype(out, dtype=x._d.dtype)


def _var_any_float(x, fn, ax, kd, correction):
    n = int(np.prod([x.shape[i] for i in (range(x.ndim) if ax is None else ax)], dtype=np.int64))
    total = P.sum(x, axis=ax, keepdims=True)
    centre = total / n if n else total * np.nan     # divided, as torch.var
    dev = x - centre
    squares = P.sum(dev * dev, axis=ax, keepdims=kd)
    dof = n - correction
    if dof > 0:
        return squares / dof
    warnings.warn(f"{fn}(): degrees of freedom is <= 0 (correction {correction} with {n} "
                  f"elements per reduction)", RuntimeWarning, stacklevel=3)
    with np.errstate(invalid="ignore"):
        return squares * np.inf  # inf, or NaN where the squares sum to 0 (as PyTorch)


def var(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
        keepdim=None):
    """Σ(x - x̄)² / (N - correction) over ``dim`` (all by default), as ``torch.var``:
    ``correction=1`` (Bessel's, the default; ``unbiased=False`` means 0).
    With N ≤ correction the result is inf (NaN for constant data), with a warning.

        >>> ag.var(ag.tensor([1.0, 2.0, 4.0]))
        Tensor(2.3333333, dtype=float32)
        >>> ag.var(ag.tensor([1.0, 2.0, 4.0]), correction=0)
        Tensor(1.5555556, dtype=float32)
    """
    x, ax, kd, c = _moment_args("var", x, axis, unbiased, keepdims, correction, dim, keepdim)
    return _var("var", x, ax, kd, c)


def std(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
        keepdim=None):
    """√var (same arguments); the gradient at a constant slice (std = 0) is 0, as in PyTorch.

        >>> ag.std(ag.tensor([1.0, 2.0, 4.0]))                     # √(7/3), correction 1
        Tensor(1.5275252, dtype=float32)
        >>> ag.std(ag.tensor([1.0, 2.0, 4.0]), correction=0)
        Tensor(1.2472191, dtype=float32)
    """
    x, ax, kd, c = _moment_args("std", x, axis, unbiased, keepdims, correction, dim, keepdim)
    return _var("std", x, ax, kd, c, root=True)


def var_mean(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
             keepdim=None):
    """(var, mean) over the same axes, as ``torch.var_mean``.

        >>> ag.var_mean(ag.tensor([1.0, 2.0, 4.0]))
        (Tensor(2.3333333, dtype=float32), Tensor(2.3333333, dtype=float32))
    """
    x, ax, kd, c = _moment_args("var_mean", x, axis, unbiased, keepdims, correction, dim,
                                keepdim)
    return _var("var_mean", x, ax, kd, c), mean(x, ax, kd)


def std_mean(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
             keepdim=None):
    """(std, mean) over the same axes, as ``torch.std_mean``.

        >>> ag.std_mean(ag.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
        (Tensor([1.4142135, 0.       ], dtype=float32), Tensor([2., 2.], dtype=float32))
    """
    x, ax, kd, c = _moment_args("std_mean", x, axis, unbiased, keepdims, correction, dim,
                                keepdim)
    return _var("std_mean", x, ax, kd, c, root=True), mean(x, ax, kd)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """The p-norm (Σ|x|ᵖ)^(1/p) over ``dim`` (all elements by default), as
    ``torch.norm``: p = 'fro' or 2 (Euclidean), 1, inf (max |x|), -inf (min |x|),
    0 (the number of non-zeros) or any other number. The gradient at 0 is 0
    (PyTorch's value, where the norm is not differentiable); at ties of the
    inf-norm it is shared. float16 accumulates in float32, as in PyTorch.

        >>> ag.norm(ag.tensor([3.0, -4.0]))
        Tensor(5., dtype=float32)
        >>> ag.norm(ag.tensor([3.0, -4.0]), p=1)
        Tensor(7., dtype=float32)
    """
    fn = "norm"
    x = to_tensor(x, fn)
    if dtype is not None:
        x = x.astype(dtype)
    if x._d.dtype.kind != "f":
        raise TypeError(f"{fn}: the input must be floating point, got dtype {x._d.dtype}")
    ax = axes(spelling(fn, "axis", axis, "dim", dim), x.ndim, fn, "dim" if axis is None else "axis")
    kd = bool(keepdim if keepdims is None else keepdims)
    if isinstance(p, str):
        if p == "fro":
            p = 2
        elif p == "nuc":
            raise ValueError(f"{fn}: p='nuc' (the nuclear norm, the sum of singular values) is "
                             f"not supported")
        else:
            raise ValueError(f"{fn}: p must be a number, 'fro' or 'nuc', got {p!r}")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: p must be a number, 'fro' or 'nuc', got {type(p).__name__}")
    return _half_in_float32(_p_norm, x, float(p), ax, kd, fn)


def _p_norm(x, p, ax, kd, fn):
    if p == 2:
        return _pow_zero_grad(P.sum(x * x, axis=ax, keepdims=kd), 0.5)
    if p == 0:
        return P.sum(P.nonzero_indicator(x), axis=ax, keepdims=kd)
    a = P.abs(x)
    if p == 1:
        return P.sum(a, axis=ax, keepdims=kd)
    if np.isinf(p):
        if x._d.size == 0 and (ax is None or 0 in [x.shape[i] for i in ax]):
            raise ValueError(f"{fn}: the {'max' if p > 0 else 'min'} of |x| over a zero-size "
                             f"dimension of a tensor of shape {x.shape} is undefined (p={p})")
        return P.max(a, axis=ax, keepdims=kd) if p > 0 else \
            P.neg(P.max(P.neg(a), axis=ax, keepdims=kd))
    powers = _pow_zero_grad(a, p) if 0 < p < 1 else P.pow_const(a, p=p)
    total = P.sum(powers, axis=ax, keepdims=kd)
    return _pow_zero_grad(total, 1.0 / p) if p > 0 else P.pow_const(total, p=1.0 / p)


def _logical_reduction(fn, reduce, x, axis, keepdims, dim, keepdim):
    x = to_tensor(x, fn)
    ax, kd = _reduce_args(fn, x, axis, keepdims, dim, keepdim)
    return reduce(x, axis=ax, keepdims=kd)


def any(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """True where some element along ``dim`` is non-zero (a bool tensor).

        >>> ag.any(ag.tensor([False, True])), ag.any(ag.tensor([[0, 1], [0, 0]]), dim=1)
        (Tensor(True), Tensor([ True, False]))
    """
    return _logical_reduction("any", _any, x, axis, keepdims, dim, keepdim)


def all(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """True where every element along ``dim`` is non-zero (a bool tensor).

        >>> ag.all(ag.tensor([True, True])), ag.all(ag.tensor([[1, 1], [0, 1]]), dim=1)
        (Tensor(True), Tensor([ True, False]))
    """
    return _logical_reduction("all", _all, x, axis, keepdims, dim, keepdim)


def count_nonzero(x, dim=None, *, axis=None):
    """The number of non-zero elements over ``dim`` (all by default), int64.

        >>> ag.count_nonzero(ag.tensor([[0, 1, 2], [0, 0, 3]])), ag.count_nonzero(ag.tensor([[0, 1, 2], [0, 0, 3]]), dim=1)
        (Tensor(3), Tensor([2, 1]))
    """
    x = to_tensor(x, "count_nonzero")
    ax = axes(spelling("count_nonzero", "dim", dim, "axis", axis), x.ndim, "count_nonzero")
    return _count_nonzero(x, axis=ax)
