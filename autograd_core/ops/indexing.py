"""Indexing by tensors of indices and masks, and the structured selections of
matrices: gather and scatter, index_select and index_add, masked_fill and
masked_select, tril and triu, diagonal, diag, diag_embed and trace — with
PyTorch's names, arguments and rules.

All are linear in the tensor operands, built on the table's ``getitem`` (whose
transpose is ``scatter_add``: repeated indices accumulate), ``scatter_add``,
``index_put``, ``where`` and ``diagonal``/``diagonal_scatter``; none holds
derivative code. ``diagonal`` is a view (an in-place change of it reaches the
tensor it views, as in PyTorch); the others return new tensors.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import primitives as P
from ..core import TensorBase, _escape, lift, wrap
from ._args import also_spelled, spelling, to_tensor
from .reduction import sum as _sum
from .shape import _along, _copy, _dim, _int

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy",
           "index_fill", "masked_fill", "masked_select", "tril", "triu", "diagonal", "diag",
           "diag_embed", "diagonal_scatter", "trace"]


# ---------------------------------------------------------------------------
# Checks shared by the index ops
# ---------------------------------------------------------------------------

def _indices(index, fn, arg="index"):
    """An integer index tensor/array/list as an ndarray (TypeError otherwise). A
    tensor's own array is passed on as it is: a compiled program then reads the
    index of each call (see ``compiler``) instead of freezing the first."""
    idx = np.asarray(index._d if isinstance(index, TensorBase) else index)
    if idx.dtype.kind in "iu":
        return idx
    if idx.dtype.kind == "f" and idx.size == 0:  # an empty list: no positions
        return idx.astype(np.int64)
    raise TypeError(f"{fn}: {arg} must be a tensor of integers, got dtype {idx.dtype}")


def _in_range(idx, n, fn, d, shape, arg="index"):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"{fn}: {arg} {int(bad)} is out of bounds for dim {d} of size {n} "
                         f"(tensor of shape {shape}); indices must lie in [0, {n - 1}]")


def _same_dtype(fn, x, src, arg):
    """A Tensor ``src`` must have ``x``'s dtype (as in PyTorch); numbers and arrays
    take it."""
    if isinstance(src, TensorBase):
        if src._d.dtype != x._d.dtype:
            raise TypeError(f"{fn}: expected {arg} to have the dtype of the tensor "
                            f"({x._d.dtype}), got {src._d.dtype}")
        return src
    src = lift(src, x, fn)
    return src if src._d.dtype == x._d.dtype else wrap(np.asarray(src._d, dtype=x._d.dtype))


def _grid(idx, d):
    """The NumPy index that picks ``x[..., idx[i, j, k], ...]`` (idx at axis ``d``) for
    every position (i, j, k) of ``idx``: ``idx`` along d, the positions elsewhere."""
    nd = idx.ndim
    return tuple(idx if i == d else
                 np.arange(idx.shape[i]).reshape((-1,) + (1,) * (nd - 1 - i))
                 for i in range(nd))


def _scatter_args(fn, x, dim, index, src=None):
    """(axis, index array, NumPy index, the part of src that is used) for gather/scatter."""
    idx = _indices(index, fn)
    if x.ndim == 0:  # a 0-d tensor is seen as one element along dim 0
        _dim(x, dim, fn)
        if idx.size != 1:
            raise ValueError(f"{fn}: index of shape {idx.shape} for a 0-d tensor must have "
                             f"one element")
        _in_range(idx, 1, fn, 0, x.shape)
        if isinstance(src, TensorBase) and src.ndim:
            raise ValueError(f"{fn}: src of shape {src.shape} must be 0-d for a 0-d tensor")
        return 0, idx, None, src
    d = _dim(x, dim, fn)
    if idx.ndim != x.ndim:
        raise ValueError(f"{fn}: index of shape {idx.shape} must have as many dimensions as "
                         f"the tensor of shape {x.shape}")
    for i, (m, n) in enumerate(zip(idx.shape, x.shape)):
        if i != d and m > n:
            raise ValueError(f"{fn}: index of shape {idx.shape} is larger than the tensor of "
                             f"shape {x.shape} at dimension {i} (only dim {d} may differ)")
    _in_range(idx, x.shape[d], fn, d, x.shape)
    if isinstance(src, TensorBase):
        if src.ndim != x.ndim or any(m > n for m, n in zip(idx.shape, src.shape)):
            raise ValueError(f"{fn}: src of shape {src.shape} must have the dimensions of the "
                             f"tensor of shape {x.shape} and be at least as large as index "
                             f"of shape {idx.shape}")
        if src.shape != idx.shape:  # only src[:i0, :i1, ...] is used (a view)
            src = P.getitem(src, index=tuple(slice(0, m) for m in idx.shape))
    return d, idx, _grid(idx, d), src


def _vector_index(fn, x, d, index, arg="index"):
    """A 1-D (or one-element 0-d) index along axis ``d``, bounds checked."""
    idx = _indices(index, fn, arg)
    if idx.ndim > 1:
        raise IndexError(f"{fn}: {arg} must be a vector (0-d or 1-d), got shape {idx.shape}")
    if idx.ndim == 0:
        idx = idx.reshape(1)  # (1-D indices stay the caller's array: a compiled program reads it)
    _in_range(idx, x.shape[d] if x.ndim else 1, fn, d, x.shape, arg)
    return idx


# ---------------------------------------------------------------------------
# gather / scatter
# ---------------------------------------------------------------------------

@also_spelled("axis", "dim")
def gather(x, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for dim 0 (likewise for the others), as
    ``torch.gather``: ``index`` has x's number of dimensions and is no larger than x
    except along ``dim``; the result has index's shape. The gradient is scattered back
    (repeats accumulate). ``sparse_grad`` is accepted and ignored (gradients are dense).

        >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ag.gather(x, 1, ag.tensor([[0, 0], [1, 0]]))      # out[i][j] = x[i][index[i][j]]
        Tensor([[1., 1.],
                [4., 3.]], dtype=float32)
    """
    x = to_tensor(x, "gather")
    d, idx, grid, _ = _scatter_args("gather", x, dim, index)
    if grid is None:
        return _copy(P.reshape(x, shape=idx.shape))
    return P.getitem(x, index=grid)


@also_spelled("axis", "dim")
def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``x`` with ``out[index[i][j][k]][j][k] = src[i][j][k]`` for dim 0 (likewise
    for the others), as ``torch.scatter``; ``src`` may be a tensor or a number (``value``).
    Only the part of ``src`` of index's shape is used. Where an index repeats, one of the
    values is written (which one is unspecified, as in PyTorch).
    ``reduce='add'`` is ``scatter_add``.

        >>> ag.scatter(ag.zeros(2, 3), 1, ag.tensor([[2], [0]]), ag.tensor([[5.0], [7.0]]))
        Tensor([[0., 0., 5.],
                [7., 0., 0.]], dtype=float32)
        >>> ag.scatter(ag.zeros(3), 0, ag.tensor([0, 2]), value=1.0)
        Tensor([1., 0., 1.], dtype=float32)
    """
    x = to_tensor(x, "scatter")
    if value is not None:
        if src is not None:
            raise TypeError("scatter: give src or value, not both")
        src = value
    if src is None:
        raise TypeError("scatter: src (a tensor) or value (a number) is required")
    if reduce is not None:
        if reduce == "add":
            return scatter_add(x, dim, index, src if isinstance(src, TensorBase) else
                               wrap(np.full(np.shape(_indices(index, "scatter")), src,
                                            dtype=x._d.dtype)))
        raise ValueError(f"scatter: reduce must be None or 'add' (use scatter_add), got "
                         f"{reduce!r}")
    number = isinstance(src, (numbers.Number, np.generic))
    src = _same_dtype("scatter", x, src, "src")
    if not number and src.ndim == 0 and x.ndim:
        raise ValueError("scatter: src must be a tensor with the tensor's dimensions, or a "
                         "number")
    d, idx, grid, part = _scatter_args("scatter", x, dim, index, None if number else src)
    if grid is None:
        return _copy(src)
    return P.index_put(x, src if number else part, index=grid)


@also_spelled("axis", "dim")
def scatter_add(x, dim, index, src):
    """A copy of ``x`` with ``src[i][j][k]`` added at ``out[index[i][j][k]][j][k]`` for dim 0
    (likewise for the others), repeats accumulating, as ``torch.scatter_add``.

        >>> ag.scatter_add(ag.zeros(3), 0, ag.tensor([0, 0, 2]), ag.tensor([1.0, 2.0, 3.0]))
        Tensor([3., 0., 3.], dtype=float32)
    """
    x = to_tensor(x, "scatter_add")
    src = _same_dtype("scatter_add", x, to_tensor(src, "scatter_add", "src"), "src")
    if x.ndim and src.ndim != x.ndim:
        raise ValueError(f"scatter_add: src of shape {src.shape} must have the dimensions of "
                         f"the tensor of shape {x.shape}")
    d, idx, grid, part = _scatter_args("scatter_add", x, dim, index, src)
    if grid is None:
        return x + src
    return x + P.scatter_add(part, index=grid, shape=x.shape)


# ---------------------------------------------------------------------------
# index_select / index_add / index_copy / index_fill (along one axis)
# ---------------------------------------------------------------------------

@also_spelled("axis", "dim")
def index_select(x, dim, index):
    """The slices of ``x`` at the positions ``index`` (a vector) along ``dim``, in that
    order and with repeats, as ``torch.index_select``.

        >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> ag.index_select(x, 0, ag.tensor([2, 0, 2]))
        Tensor([[5., 6.],
                [1., 2.],
                [5., 6.]], dtype=float32)
    """
    x = to_tensor(x, "index_select")
    d = _dim(x, dim, "index_select")
    idx = _vector_index("index_select", x, d, index)
    if x.ndim == 0:
        if idx.size != 1:
            raise ValueError(f"index_select: a 0-d tensor has one element, the index has "
                             f"{idx.size}")
        return _copy(x)
    return P.getitem(x, index=_along(d, idx))


def _source(fn, x, d, idx, source, arg="source"):
    source = _same_dtype(fn, x, to_tensor(source, fn, arg), arg)
    if x.ndim == 0 and idx.size != 1:
        raise ValueError(f"{fn}: a 0-d tensor has one element, the index has {idx.size}")
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1:] if x.ndim else ()
    if source.shape != want:
        raise ValueError(f"{fn}: {arg} of shape {source.shape} does not match: with index of "
                         f"length {idx.size} along dim {d} of the tensor of shape {x.shape} "
                         f"it must have shape {want}")
    return source


@also_spelled("axis", "dim")
def index_add(x, dim, index, source, *, alpha=1):
    """A copy of ``x`` with alpha·source[..., i, ...] added at x[..., index[i], ...] along
    ``dim`` (repeats accumulate), as ``torch.index_add``.

        >>> ag.index_add(ag.zeros(3, 2), 0, ag.tensor([0, 2, 0]), ag.ones(3, 2), alpha=2)
        Tensor([[4., 4.],
                [0., 0.],
                [2., 2.]], dtype=float32)
    """
    x = to_tensor(x, "index_add")
    d = _dim(x, dim, "index_add")
    idx = _vector_index("index_add", x, d, index)
    source = _source("index_add", x, d, idx, source)
    if alpha != 1:
        source = source * alpha
    if x.ndim == 0:
        return x + source
    return x + P.scatter_add(source, index=_along(d, idx), shape=x.shape)


@also_spelled("axis", "dim")
def index_copy(x, dim, index, source):
    """A copy of ``x`` with x[..., index[i], ...] = source[..., i, ...] along ``dim``,
    as ``torch.index_copy`` (a repeated index writes one of its values).

        >>> ag.index_copy(ag.zeros(3, 2), 0, ag.tensor([2, 0]), ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([[3., 4.],
                [0., 0.],
                [1., 2.]], dtype=float32)
    """
    x = to_tensor(x, "index_copy")
    d = _dim(x, dim, "index_copy")
    idx = _vector_index("index_copy", x, d, index)
    source = _source("index_copy", x, d, idx, source)
    if x.ndim == 0:
        return _copy(source)
    return P.index_put(x, source, index=_along(d, idx))


@also_spelled("axis", "dim")
def index_fill(x, dim, index, value):
    """A copy of ``x`` with the slices at ``index`` along ``dim`` set to ``value`` (a
    number, or a 0-d tensor, which then gets their gradient), as ``torch.index_fill``.

        >>> ag.index_fill(ag.ones(2, 3), 1, ag.tensor([0, 2]), -1.0)
        Tensor([[-1.,  1., -1.],
                [-1.,  1., -1.]], dtype=float32)
    """
    x = to_tensor(x, "index_fill")
    d = _dim(x, dim, "index_fill")
    if isinstance(index, TensorBase):
        _escape(index, "index_fill's index (its repeats are removed in NumPy)")
    idx = np.unique(_vector_index("index_fill", x, d, index))  # each slice filled once
    value = _fill_value("index_fill", x, value)
    if x.ndim == 0:
        return _copy(value if idx.size else x)
    return P.index_put(x, value, index=_along(d, idx))


# ---------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------

def _mask(mask, fn):
    m = np.asarray(mask._d if isinstance(mask, TensorBase) else mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{fn}: mask must be a bool tensor, got dtype {m.dtype}")
    return m


def _fill_value(fn, x, value):
    """A fill value: a number (cast to x's dtype), or a 0-d tensor (differentiable)."""
    if isinstance(value, TensorBase):
        if value.ndim:
            raise ValueError(f"{fn}: value must be a number or a 0-d tensor, got a tensor "
                             f"of shape {value.shape}")
        if value._d.dtype == x._d.dtype:
            return value
        if x._d.dtype.kind != "f":  # into an integer or bool tensor: a constant
            return P.cast(value, dtype=x._d.dtype)
        return P.astype(value, dtype=x._d.dtype)
    if not isinstance(value, (numbers.Number, np.generic)) or isinstance(value, complex):
        raise TypeError(f"{fn}: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return wrap(np.asarray(value).astype(x._d.dtype)[()])


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` (bool, broadcastable) is True, as
    ``torch.masked_fill``. ``value``: a number, or a 0-d tensor (it then gets the
    sum of the gradient over the filled positions).

        >>> x = ag.tensor([[1.0, -2.0], [-3.0, 4.0]])
        >>> ag.masked_fill(x, x < 0, 0.0)
        Tensor([[1., 0.],
                [0., 4.]], dtype=float32)
        >>> ag.masked_fill(ag.zeros(2, 2), ag.tensor([True, False]), 9.0)   # the mask broadcasts
        Tensor([[9., 0.],
                [9., 0.]], dtype=float32)
    """
    x = to_tensor(x, "masked_fill")
    m = _mask(mask, "masked_fill")
    P.broadcast_shapes("masked_fill", x.shape, m.shape)
    return P.where(_fill_value("masked_fill", x, value), x, cond=m)


def masked_select(x, mask):
    """The elements of ``x`` where ``mask`` (bool, broadcast with x) is True, as a 1-D
    tensor in row-major order (``torch.masked_select``).

        >>> x = ag.tensor([[1.0, -2.0], [-3.0, 4.0]])
        >>> ag.masked_select(x, x > 0)
        Tensor([1., 4.], dtype=float32)
    """
    x = to_tensor(x, "masked_select")
    if isinstance(mask, TensorBase):
        _escape(mask, "masked_select's mask (the size of the result is its count)")
    m = _mask(mask, "masked_select")
    shape = P.broadcast_shapes("masked_select", x.shape, m.shape)
    if x.shape != shape:
        x = P.broadcast_to(x, shape=shape)
    if not shape:  # 0-d: seen as one element
        x, shape = P.reshape(x, shape=(1,)), (1,)
    return P.getitem(x, index=np.nonzero(np.broadcast_to(m, shape)))


def _triangle(fn, x, diagonal, k, lower):
    x = to_tensor(x, fn)
    k = _int(spelling(fn, "diagonal", diagonal, "k", k, default=0), fn, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"{fn}: input must have at least 2 dimensions, got shape {x.shape}")
    n, m = x.shape[-2:]
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    return P.where(x, wrap(np.zeros((), dtype=x._d.dtype)), cond=keep)


def tril(x, diagonal=0, *, k=None):
    """The lower triangle of the last two axes: elements (i, j) with j <= i + diagonal
    kept, the rest zero (``torch.tril``; ``k=`` is NumPy's spelling).

        >>> ag.tril(ag.ones(3, 3))
        Tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]], dtype=float32)
        >>> ag.tril(ag.ones(2, 3), diagonal=-1)
        Tensor([[0., 0., 0.],
                [1., 0., 0.]], dtype=float32)
    """
    return _triangle("tril", x, diagonal, k, lower=True)


def triu(x, diagonal=0, *, k=None):
    """The upper triangle: elements (i, j) with j >= i + diagonal kept (``torch.triu``).

        >>> ag.triu(ag.ones(3, 3))
        Tensor([[1., 1., 1.],
                [0., 1., 1.],
                [0., 0., 1.]], dtype=float32)
        >>> ag.triu(ag.ones(3, 3), diagonal=1)
        Tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]], dtype=float32)
    """
    return _triangle("triu", x, diagonal, k, lower=False)


# ---------------------------------------------------------------------------
# Diagonals
# ---------------------------------------------------------------------------

def _plane(x, dim1, dim2, fn, arg1="dim1", arg2="dim2", ndim=None):
    a, b = _dim(x, dim1, fn, arg1, ndim), _dim(x, dim2, fn, arg2, ndim)
    if a == b:
        raise ValueError(f"{fn}: {arg1} and {arg2} must differ, both are {a} (tensor of "
                         f"shape {x.shape})")
    return a, b


def diagonal(x, offset=0, dim1=0, dim2=1, *, axis1=None, axis2=None):
    """The ``offset`` diagonal of the planes (dim1, dim2) as a new last axis: out[..., i] =
    x[..., i, i + offset, ...] (offset > 0 above the main diagonal). A view, as
    ``torch.diagonal`` (and ``np.diagonal``, whose spellings axis1/axis2 it accepts).

        >>> x = ag.arange(9.0).reshape(3, 3)
        >>> ag.diagonal(x), ag.diagonal(x, offset=1)
        (Tensor([0., 4., 8.], dtype=float32), Tensor([1., 5.], dtype=float32))
        >>> ag.diagonal(ag.ones(4, 2, 2), dim1=1, dim2=2).shape        # a batch of diagonals
        (4, 2)
    """
    x = to_tensor(x, "diagonal")
    dim1 = spelling("diagonal", "dim1", dim1, "axis1", axis1, default=0)
    dim2 = spelling("diagonal", "dim2", dim2, "axis2", axis2, default=1)
    if x.ndim < 2:
        raise ValueError(f"diagonal: input must have at least 2 dimensions, got shape {x.shape}")
    a, b = _plane(x, dim1, dim2, "diagonal")
    return P.diagonal(x, offset=_int(offset, "diagonal", "offset"), dim1=a, dim2=b)


def diagonal_scatter(x, src, offset=0, dim1=0, dim2=1):
    """A copy of ``x`` whose ``diagonal(offset, dim1, dim2)`` is ``src``, as
    ``torch.diagonal_scatter``; ``src`` has the diagonal's shape.

        >>> ag.diagonal_scatter(ag.zeros(3, 3), ag.tensor([1.0, 2.0, 3.0]))
        Tensor([[1., 0., 0.],
                [0., 2., 0.],
                [0., 0., 3.]], dtype=float32)
    """
    x = to_tensor(x, "diagonal_scatter")
    if x.ndim < 2:
        raise ValueError(f"diagonal_scatter: input must have at least 2 dimensions, got "
                         f"shape {x.shape}")
    a, b = _plane(x, dim1, dim2, "diagonal_scatter")
    offset = _int(offset, "diagonal_scatter", "offset")
    src = _same_dtype("diagonal_scatter", x, to_tensor(src, "diagonal_scatter", "src"), "src")
    want = np.diagonal(np.empty(x.shape, dtype=np.bool_), offset, a, b).shape
    if src.shape != want:
        raise ValueError(f"diagonal_scatter: src of shape {src.shape} must have the shape "
                         f"{want} of the diagonal (offset {offset}, dims {a} and {b}) of the "
                         f"tensor of shape {x.shape}")
    return P.diagonal_scatter(x, src, offset=offset, dim1=a, dim2=b)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """The last axis of ``x`` placed on the ``offset`` diagonal of new planes (dim1, dim2)
    of zeros (positions in the result, which has one more axis), as ``torch.diag_embed``.

        >>> ag.diag_embed(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))       # two diagonal matrices
        Tensor([[[1., 0.],
                 [0., 2.]],
        <BLANKLINE>
                [[3., 0.],
                 [0., 4.]]], dtype=float32)
    """
    x = to_tensor(x, "diag_embed")
    if x.ndim < 1:
        raise ValueError("diag_embed: input must have at least 1 dimension, got a 0-d tensor")
    offset = _int(offset, "diag_embed", "offset")
    d1, d2 = _plane(x, dim1, dim2, "diag_embed", ndim=x.ndim + 1)
    m = x.shape[-1] + abs(offset)
    shape = list(x.shape[:-1])
    for at in sorted((d1, d2)):
        shape.insert(at, m)
    base = wrap(np.zeros(tuple(shape), dtype=x._d.dtype))
    return P.diagonal_scatter(base, x, offset=offset, dim1=d1, dim2=d2)


def diag(x, diagonal=0, *, k=None):
    """A vector (n,) as the square matrix with it on its ``diagonal`` (size n + |diagonal|),
    or a matrix's ``diagonal`` as a vector (a copy), as ``torch.diag`` and ``np.diag``.

        >>> ag.diag(ag.tensor([1.0, 2.0]))
        Tensor([[1., 0.],
                [0., 2.]], dtype=float32)
        >>> ag.diag(ag.arange(9.0).reshape(3, 3))
        Tensor([0., 4., 8.], dtype=float32)
    """
    x = to_tensor(x, "diag")
    offset = _int(spelling("diag", "diagonal", diagonal, "k", k, default=0), "diag", "diagonal")
    if x.ndim == 1:
        return diag_embed(x, offset, 0, 1)
    if x.ndim == 2:
        return _copy(P.diagonal(x, offset=offset, dim1=0, dim2=1))
    raise ValueError(f"diag: supports 1-D or 2-D tensors, got shape {x.shape}")


def trace(x, offset=0, axis1=None, axis2=None):
    """Σ_i x[i, i]: the sum of the main diagonal of a matrix, as ``torch.trace``.
    (``offset``, ``axis1``, ``axis2``: NumPy's ``np.trace``, which also takes stacks.)

        >>> ag.trace(ag.arange(9.0).reshape(3, 3))                  # 0 + 4 + 8
        Tensor(12., dtype=float32)
    """
    x = to_tensor(x, "trace")
    if axis1 is None and axis2 is None and x.ndim != 2:
        raise ValueError(f"trace: expected a matrix (2-D), got shape {x.shape}")
    return _sum(diagonal(x, offset, 0 if axis1 is None else axis1, 1 if axis2 is None else axis2),
                axis=-1)
