"""Sorting, selection and counting, as PyTorch has them: ``sort``, ``argsort``,
``topk``, ``kthvalue``, ``median``, ``mode`` (values differentiable, indices
not), and ``unique``, ``nonzero``, ``argwhere``, ``bincount`` (no gradient).

Results that are (values, indices) are named tuples, as ``torch.return_types``.
Orders are stable, and NaN sorts above every number (last ascending, first
descending), as in PyTorch. The gradient of a selected value goes to the
position it came from.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..core import _escape, wrap
from ._args import one_axis, spelling, to_tensor
from .reduction import take_along_dim

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "mode", "unique", "nonzero",
           "argwhere", "bincount"]

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])
ModeResult = namedtuple("mode", ["values", "indices"])


def _dim(fn, x, dim, axis):
    """The axis, given as torch's ``dim`` (which has a default) or NumPy's ``axis``."""
    return one_axis(dim if axis is None else axis, x.ndim, fn, "dim" if axis is None else "axis")


def _keep(keepdim, keepdims):
    return bool(keepdim if keepdims is None else keepdims)


def _order(data, axis, descending):
    """Indices that sort ``data`` along ``axis`` stably; descending keeps equal
    elements in their original order too (a stable sort of the reversed data,
    reversed), and puts NaN first."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    idx = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - idx, axis)


def _order_forward(data, axis, descending, take=None):
    idx = _order(data, axis, descending)
    return idx if take is None else np.take(idx, np.arange(take), axis=axis)


def _at_position(order, data, axis, position):
    """kthvalue: the stable order's entry ``position`` along ``axis``."""
    return np.take(order, [position], axis=axis)


def _median_position(order, data, axis, position):
    """median(dim): the middle entry ``position`` of the stable order, or the
    first NaN of a slice that has one."""
    idx = np.take(order, [position], axis=axis)
    if data.dtype.kind == "f":
        nan = np.isnan(data)
        has = nan.any(axis=axis, keepdims=True)
        idx = np.where(has, np.argmax(nan, axis=axis, keepdims=True), idx)
    return idx


def _mode_position(order, data, axis, position=None):
    """mode: the last occurrence (stable order) of the smallest of the most
    frequent values along ``axis``."""
    # Work on rows: the sorted values, their runs, and the run that is longest.
    s = np.moveaxis(np.take_along_axis(data, order, axis=axis), axis, -1)
    o = np.moveaxis(order, axis, -1)
    rows, n = int(np.prod(s.shape[:-1], dtype=np.int64)), s.shape[-1]
    s, o = s.reshape(rows, n), o.reshape(rows, n)
    same = s[:, 1:] == s[:, :-1]
    if s.dtype.kind == "f":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    start = np.concatenate([np.ones((rows, 1), bool), ~same], axis=1)
    run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=1)
    length = np.arange(n) - run_start + 1          # the length so far of each run
    best_end = np.argmax(length == length.max(axis=1, keepdims=True), axis=1)
    # the first run reaching the longest length is the smallest value; its
    # end is where it reaches it, and (stable order) the last occurrence
    picked = o[np.arange(rows), best_end]
    return np.expand_dims(picked.reshape(data.shape[:axis] + data.shape[axis + 1:]), axis)


# which selection a select_along makes: a named setting (not a function), so a
# compiled program and onnx.export read what it is and where it looks
_SELECTIONS = {"kthvalue": _at_position, "median": _median_position, "mode": _mode_position}


def _selection_forward(data, axis, which, position=None):
    return _SELECTIONS[which](_order(data, axis, False), data, axis, position)


# The orders and selected positions are computed by traced primitives, so a
# compiled program sorts the data of each call (indices carry no derivative).
_sort_order = P.Constant("sort_order", _order_forward)
_selection = P.Constant("select_along", _selection_forward)


def _as_2d(x):
    """A 0-d tensor as a 1-element 1-d one (torch treats it so along dim 0/-1)."""
    return P.reshape(x, shape=(1,)) if x.ndim == 0 else x


def _finish(values, idx, like):
    """Back to 0-d when the input was 0-d."""
    if like.ndim == 0:
        values = P.reshape(values, shape=())
        idx = P.reshape(idx, shape=())
    return values, idx


def sort(x, dim=-1, descending=False, stable=False, *, axis=None):
    """(values, indices) of x sorted along ``dim``, as ``torch.sort``. The order
    is always stable (``stable`` is accepted); NaN counts as the largest value.

        >>> ag.sort(ag.tensor([3.0, 1.0, 2.0]), descending=True)
        sort(values=Tensor([3., 2., 1.], dtype=float32), indices=Tensor([0, 2, 1]))
    """
    x = to_tensor(x, "sort")
    d = _dim("sort", x, dim, axis)
    x2 = _as_2d(x)
    idx = _sort_order(x2, axis=d, descending=bool(descending))
    return SortResult(*_finish(take_along_dim(x2, idx, d), idx, x))


def argsort(x, dim=-1, descending=False, stable=False, *, axis=None):
    """The indices that sort x along ``dim`` (int64), as ``torch.argsort``.

        >>> x = ag.tensor([3.0, 1.0, 2.0, 1.0])
        >>> ag.argsort(x), ag.argsort(x, descending=True)
        (Tensor([1, 3, 2, 0]), Tensor([0, 2, 1, 3]))
        >>> ag.argsort(x, stable=True)             # ties keep their order
        Tensor([1, 3, 2, 0])
    """
    x = to_tensor(x, "argsort")
    d = _dim("argsort", x, dim, axis)
    idx = _sort_order(_as_2d(x), axis=d, descending=bool(descending))
    return P.reshape(idx, shape=()) if x.ndim == 0 else idx


def _size_along(x, d):
    return x.shape[d] if x.ndim else 1


def topk(x, k, dim=-1, largest=True, sorted=True, *, axis=None):  # noqa: A002
    """(values, indices) of the k largest (``largest=False``: smallest) elements
    along ``dim``, in order, as ``torch.topk``. NaN counts as the largest value.

        >>> ag.topk(ag.tensor([1.0, 5.0, 3.0]), 2)
        topk(values=Tensor([5., 3.], dtype=float32), indices=Tensor([1, 2]))
    """
    x = to_tensor(x, "topk")
    d = _dim("topk", x, dim, axis)
    n = _size_along(x, d)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= n:
        raise ValueError(f"topk: selected index k={k!r} out of range for dimension {d} of "
                         f"size {n} (shape {x.shape})")
    x2 = _as_2d(x)
    idx = _sort_order(x2, axis=d, descending=bool(largest), take=int(k))
    return TopkResult(*_finish(take_along_dim(x2, idx, d), idx, x))


def kthvalue(x, k, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """(values, indices) of the k-th smallest element (k from 1) along ``dim``,
    as ``torch.kthvalue``. Among equal values the index is the stable order's.

        >>> x = ag.tensor([3.0, 1.0, 2.0, 1.0])
        >>> ag.kthvalue(x, 2)                      # the 2nd smallest and its index
        kthvalue(values=Tensor(1., dtype=float32), indices=Tensor(3))
    """
    x = to_tensor(x, "kthvalue")
    d = _dim("kthvalue", x, dim, axis)
    kd = _keep(keepdim, keepdims)
    n = _size_along(x, d)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k!r} is out of range for dimension {d} of size {n} "
                         f"(shape {x.shape}); expected 1 ≤ k ≤ {n}")
    return KthvalueResult(*_pick(x, d, kd, "kthvalue", int(k) - 1))


def _pick(x, d, keepdim, which, position=None):
    """values and indices of the selection ``which`` (keepdims shape) along d."""
    x2 = _as_2d(x)
    idx = _selection(x2, axis=d, which=which, position=position)
    values = take_along_dim(x2, idx, d)
    if not keepdim or x.ndim == 0:
        values = P.reshape(values, shape=values.shape[:d] + values.shape[d + 1:])
        idx = P.reshape(idx, shape=values.shape)
    return values, idx


def median(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The median: the lower of the two middle values for an even count (as
    ``torch.median``, not their mean); NaN if the slice has a NaN.

    Without ``dim``, of all elements: a value whose gradient is shared by the
    elements equal to it. With ``dim``: (values, indices), the gradient going
    to the index.

        >>> x = ag.tensor([3.0, 1.0, 2.0, 1.0])
        >>> ag.median(x)                           # the lower of the two middle values, as torch
        Tensor(1., dtype=float32)
        >>> ag.median(ag.tensor([[1.0, 3.0, 2.0]]), dim=1)
        median(values=Tensor([2.], dtype=float32), indices=Tensor([2]))
    """
    fn = "median"
    x = to_tensor(x, fn)
    d = spelling(fn, "axis", axis, "dim", dim)
    if d is None:
        if x._d.size == 0:
            return wrap(np.array(np.nan, dtype=x._d.dtype if x._d.dtype.kind == "f"
                                 else np.float64)[()])
        return P.median(x)
    d = one_axis(d, x.ndim, fn)
    kd = _keep(keepdim, keepdims)
    n = _size_along(x, d)
    if n == 0:
        raise IndexError(f"{fn}: cannot take the median over dimension {d} of size 0 "
                         f"(shape {x.shape})")

    return MedianResult(*_pick(x, d, kd, "median", (n - 1) // 2))


def mode(x, dim=-1, keepdim=False, *, axis=None, keepdims=None):
    """(values, indices): the most frequent value along ``dim`` (the smallest
    among equally frequent ones) and the index of its last occurrence, as
    ``torch.mode``. The gradient goes to that index.

        >>> ag.mode(ag.tensor([1, 2, 2, 3, 3]))                  # the smallest of the most frequent
        mode(values=Tensor(2), indices=Tensor(2))
    """
    fn = "mode"
    x = to_tensor(x, fn)
    d = _dim(fn, x, dim, axis)
    kd = _keep(keepdim, keepdims)
    if _size_along(x, d) == 0:
        raise IndexError(f"{fn}: cannot take the mode over dimension {d} of size 0 "
                         f"(shape {x.shape})")

    return ModeResult(*_pick(x, d, kd, "mode"))


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None,  # noqa: A002
           *, axis=None):
    """The distinct elements (sorted), as ``torch.unique``; with ``dim`` (or ``axis``),
    the distinct slices along it. Optionally also the inverse indices (shaped like
    the input, or like ``dim``) and the counts. No gradient.

        >>> ag.unique(ag.tensor([2, 1, 2, 3]))
        Tensor([1, 2, 3])
        >>> ag.unique(ag.tensor([2, 1, 2, 3]), return_inverse=True, return_counts=True)
        (Tensor([1, 2, 3]), Tensor([1, 0, 1, 2]), Tensor([1, 2, 1]))
    """
    fn = "unique"
    x = to_tensor(x, fn)
    dim = spelling(fn, "dim", dim, "axis", axis)
    _escape(x, "unique() (the size of the result is the number of distinct values)")
    data = np.asarray(x._d)
    if dim is None:
        values, inverse, counts = np.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        d = one_axis(dim, x.ndim, fn, "dim")
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True,
                                            axis=d)
        inverse = inverse.reshape(-1)
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(x, *, as_tuple=False):
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-d tensor per dimension (``x[nonzero(x, as_tuple=True)]``
    picks them), as ``torch.nonzero``.

        >>> x = ag.tensor([[0, 1], [2, 0]])
        >>> ag.nonzero(x)                          # one row per element
        Tensor([[0, 1],
                [1, 0]])
        >>> ag.nonzero(x, as_tuple=True)
        (Tensor([0, 1]), Tensor([1, 0]))
    """
    x = to_tensor(x, "nonzero")
    _escape(x, "nonzero() (the size of the result is the number of non-zero elements)")
    data = np.asarray(x._d)
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(data)))
    return wrap(np.argwhere(data).astype(np.int64))


def argwhere(x):
    """``nonzero(x)``: the (n, ndim) indices of the non-zero elements.

        >>> ag.argwhere(ag.tensor([[0, 1], [2, 0]]))
        Tensor([[0, 1],
                [1, 0]])
    """
    return nonzero(x)


def bincount(x, weights=None, minlength=0):
    """Counts of each value 0, 1, ..., max(x) of a 1-d non-negative integer
    tensor (at least ``minlength`` bins); with ``weights``, their sums instead.
    int64 counts, or the weights' floating dtype. No gradient (as PyTorch).

        >>> ag.bincount(ag.tensor([0, 1, 1, 3]))
        Tensor([1, 2, 0, 1])
        >>> ag.bincount(ag.tensor([0, 1, 1]), weights=ag.tensor([0.5, 1.0, 2.0]), minlength=4)
        Tensor([0.5, 3. , 0. , 0. ], dtype=float32)
    """
    fn = "bincount"
    x = to_tensor(x, fn, "input")
    _escape(x, "bincount() (the number of bins is the largest value + 1)")
    data = np.asarray(x._d)
    if data.ndim != 1 or data.dtype.kind not in "biu":
        raise ValueError(f"{fn}: input must be a 1-d tensor of non-negative integers, got "
                         f"shape {x.shape} and dtype {data.dtype}")
    if data.size and data.min() < 0:
        raise ValueError(f"{fn}: input must be non-negative, got the value {data.min()}")
    if not isinstance(minlength, (int, np.integer)) or minlength < 0:
        raise ValueError(f"{fn}: minlength must be a non-negative int, got {minlength!r}")
    if weights is None:
        return wrap(np.bincount(data, minlength=minlength).astype(np.int64))
    w = np.asarray(to_tensor(weights, fn, "weights")._d)
    if w.shape != data.shape:
        raise ValueError(f"{fn}: weights of shape {w.shape} must match the input's shape "
                         f"{data.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return wrap(np.bincount(data, weights=w, minlength=minlength).astype(dtype))
