"""Shape, joining and splitting: reshape and view, squeeze and unsqueeze,
permutations, expand and repeat, narrow/split/chunk/unbind, flip and roll,
concatenate and the stacks, pad. All linear: the table gives them the same op
as JVP and the transposed op as VJP, and none holds derivative code.

Views: the ops that are views in PyTorch (view, reshape where possible,
unsqueeze, squeeze, unflatten, flatten, transpose, permute, movedim, swapaxes,
mT, expand, narrow, select, and the pieces of split/chunk/unbind) are built on
the View primitives (reshape, transpose, getitem with basic indices,
broadcast_to), so an in-place change of the result reaches the tensor it
views, as in PyTorch. The ops that copy in PyTorch (repeat, tile,
repeat_interleave, flip, roll, cat, stack, pad) always return fresh memory,
even where NumPy could have returned a view.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import primitives as P
from ..core import TensorBase, _escape, share_version, tracing, wrap
from ._args import (also_spelled, AxisError, one_axis, resolve_shape, shape_args, spelling,
                    to_tensor)

__all__ = ["reshape", "view", "transpose", "t", "flatten", "unflatten", "unsqueeze", "squeeze",
           "expand_dims", "permute", "swapaxes", "swapdims", "movedim", "moveaxis",
           "matrix_transpose",
           "broadcast_to", "expand", "expand_as", "repeat", "tile", "repeat_interleave",
           "narrow", "select", "split", "chunk", "unbind", "flip", "fliplr", "flipud", "roll",
           "getitem", "concatenate", "cat", "concat", "stack", "atleast_1d", "atleast_2d", "atleast_3d",
           "hstack", "vstack", "row_stack", "dstack", "column_stack", "pad"]


# ---------------------------------------------------------------------------
# Helpers shared with ops.indexing
# ---------------------------------------------------------------------------

def _viewable(x):
    """``x`` with an ndarray value: a 0-d value held as a NumPy scalar (see
    docs/design.md) has no memory a view could share, so it is turned into a
    0-d array first (as reading ``.data`` does)."""
    if x._d.__class__ is not np.ndarray:
        x._d = np.asarray(x._d)
    return x


def _dim(x, dim, fn, arg="dim", ndim=None):
    """One axis of ``x`` (of a tensor with ``ndim`` axes if given), the error naming the shape."""
    nd = x.ndim if ndim is None else ndim
    try:
        return one_axis(dim, nd, fn, arg)
    except AxisError:
        top = max(nd, 1)
        raise AxisError(f"{fn}: {arg} {dim} is out of range for the tensor of shape {x.shape} "
                        f"(expected an int in [{-top}, {top - 1}])") from None


def _real_dim(x, dim, fn, arg="dim"):
    """One axis of ``x``, which must have at least one (torch's narrow, select, split, ...)."""
    if x.ndim == 0:
        raise AxisError(f"{fn}: {arg} {dim!r} is given but the tensor is 0-dimensional "
                        f"(it has no dimensions)")
    return _dim(x, dim, fn, arg)


def _ordered_dims(x, dims, fn, arg="dims"):
    """A sequence (or one int) of distinct axes of ``x``, normalised, in the given order."""
    items = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    out = tuple(_dim(x, d, fn, arg) for d in items)
    if len(set(out)) != len(out):
        raise ValueError(f"{fn}: {arg} {dims!r} repeats a dimension (tensor of shape {x.shape})")
    return out


def _int(value, fn, arg):
    """An int argument (a Python or NumPy int, or a one-element integer tensor)."""
    if isinstance(value, TensorBase) and value._d.size == 1 and value._d.dtype.kind in "iu":
        value = value.item()  # (a compiled program refuses this: the value would be frozen)
    if not isinstance(value, (numbers.Integral, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {arg} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _copy(x):
    """``x`` in memory of its own (torch's ops that copy never return a view)."""
    return P.astype(x, dtype=x._d.dtype)


def _fresh(out, x):
    """``out``, copied if NumPy made it a view of ``x``'s memory."""
    if out is x or np.may_share_memory(out._d, x._d):
        return _copy(out)
    return out


def _given(fn, args, name, value):
    """Sizes given as ``f(2, 3)``, ``f((2, 3))`` or by keyword, ``f(name=(2, 3))``
    (torch's spelling): in the positional form."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{fn}: got {name} both positionally and by keyword; give one")
    return (value,)


def _along(dim, item):
    """An index that applies ``item`` along axis ``dim`` and keeps the others whole."""
    return (slice(None),) * dim + (item,)


# ---------------------------------------------------------------------------
# Reshaping views
# ---------------------------------------------------------------------------

def reshape(x, *sizes, shape=None):
    """The same elements in a new shape; one entry may be -1 (inferred).
    ``x.reshape(2, 3)``, ``x.reshape((2, 3))``, ``ag.reshape(x, (2, 3))`` and
    ``ag.reshape(x, shape=(2, 3))`` alike. A view where the strides allow it (as NumPy
    and PyTorch), else a copy.

        >>> x = ag.arange(6.0)
        >>> ag.reshape(x, (2, 3))
        Tensor([[0., 1., 2.],
                [3., 4., 5.]], dtype=float32)
        >>> x.reshape(3, -1).shape
        (3, 2)
    """
    x = to_tensor(x, "reshape")
    if shape is not None:
        sizes = _given("reshape", sizes, "shape", shape)
    shape = shape_args(sizes, "reshape")
    new = resolve_shape(shape, x._d.size)
    if new is None:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x._d.size} elements) into shape {shape}")
    if new == x._d.shape:
        return x
    if x._d.__class__ is not np.ndarray:
        _viewable(x)
    return P.reshape(x, shape=new)


def _is_dtype(a):
    if isinstance(a, (np.dtype, str)):
        return True
    return isinstance(a, type) and issubclass(a, np.generic)


def view(x, *shape, size=None, dtype=None):
    """``x.view(2, -1)``: the same memory seen in a new shape (one entry may be
    -1), as ``torch.Tensor.view``; raises where the strides do not allow a view
    (use ``reshape``, which then copies).

    ``x.view(dtype)`` reinterprets the bytes as another dtype (the last axis
    scales by the ratio of item sizes). It is not differentiable: the result
    never requires grad. Example: ``ag.arange(6.).view(3, 2)``.

        >>> x = ag.arange(6.0)
        >>> x.view(3, 2)
        Tensor([[0., 1.],
                [2., 3.],
                [4., 5.]], dtype=float32)
        >>> ag.tensor([1.0], dtype=ag.float32).view(ag.int32)     # the bytes of 1.0f
        Tensor([1065353216], dtype=int32)
        >>> x.view(2, 3).t().view(6)
        Traceback (most recent call last):
            ...
        RuntimeError: view: the shape (6,) is not compatible with the strides of the tensor of shape (3, 2) (it is not contiguous, e.g. transposed): use .reshape(...), which copies
    """
    x = to_tensor(x, "view")
    if dtype is not None:
        shape = _given("view", shape, "dtype", dtype)
    if len(shape) == 1 and _is_dtype(shape[0]):
        return _view_dtype(x, np.dtype(shape[0]))
    shape = _given("view", shape, "size", size)
    new = resolve_shape(shape_args(shape, "view"), x._d.size)
    if new is None:
        raise ValueError(f"view: shape {shape_args(shape, 'view')} is invalid for a tensor of "
                         f"shape {x.shape} ({x._d.size} elements)")
    if new == x.shape:
        return x
    out = P.reshape(_viewable(x), shape=new)
    if out._d.size and not np.may_share_memory(out._d, x._d):
        raise RuntimeError(f"view: the shape {new} is not compatible with the strides of the "
                           f"tensor of shape {x.shape} (it is not contiguous, e.g. transposed): "
                           f"use .reshape(...), which copies")
    return out


def _view_dtype(x, dtype):
    data = _viewable(x)._d
    try:
        data.view(dtype)
        out = P.view_dtype(_viewable(x), dtype=np.dtype(dtype))
    except (TypeError, ValueError) as e:
        raise RuntimeError(f"view: cannot view a tensor of shape {x.shape} and dtype "
                           f"{data.dtype} as dtype {dtype}: {e}") from None
    out._vc = share_version(x)   # same memory: in-place changes bump one counter
    return out


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim`` … ``end_dim`` into one (all by default), as ``torch.flatten``.

        >>> ag.flatten(ag.ones(2, 3, 4)).shape
        (24,)
        >>> ag.flatten(ag.ones(2, 3, 4), start_dim=1).shape
        (2, 12)
    """
    x = to_tensor(x, "flatten")
    if x.ndim == 0:
        return reshape(x, 1)
    s = _dim(x, start_dim, "flatten", "start_dim")
    e = _dim(x, end_dim, "flatten", "end_dim")
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim "
                         f"({end_dim}) for a tensor of shape {x.shape}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1], dtype=np.int64)),) + x.shape[e + 1:]
    return reshape(x, shape)


@also_spelled("axis", "dim")
def unflatten(x, dim, sizes):
    """Split axis ``dim`` into axes of ``sizes`` (one may be -1), as ``torch.unflatten``;
    the inverse of ``flatten``. ``ag.ones(2, 6).unflatten(1, (3, 2))`` has shape (2, 3, 2).

        >>> ag.ones(2, 6).unflatten(1, (3, 2)).shape
        (2, 3, 2)
        >>> ag.unflatten(ag.ones(2, 6), 1, (-1, 3)).shape
        (2, 2, 3)
    """
    x = to_tensor(x, "unflatten")
    d = _real_dim(x, dim, "unflatten")
    sizes = shape_args((sizes,), "unflatten", "sizes")
    if not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    new = resolve_shape(sizes, x.shape[d])
    if new is None:
        raise ValueError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {d} "
                         f"({x.shape[d]}) of the tensor of shape {x.shape}")
    return reshape(x, x.shape[:d] + new + x.shape[d + 1:])


@also_spelled("axis", "dim")
def unsqueeze(x, dim):
    """A new axis of size 1 at ``dim`` (in [-ndim-1, ndim]), a view, as ``torch.unsqueeze``.
    ``ag.ones(3).unsqueeze(0)`` has shape (1, 3), ``unsqueeze(-1)`` (3, 1).

        >>> ag.ones(3).unsqueeze(0).shape, ag.ones(3).unsqueeze(-1).shape
        ((1, 3), (3, 1))
    """
    x = to_tensor(x, "unsqueeze")
    d = _dim(x, dim, "unsqueeze", ndim=x.ndim + 1)
    return P.reshape(_viewable(x), shape=x.shape[:d] + (1,) + x.shape[d:])


@also_spelled("dim", "axis")
def expand_dims(x, axis):
    """``np.expand_dims``: new axes of size 1 at ``axis`` (an int or a tuple, positions in
    the result); a view. PyTorch's spelling is ``unsqueeze``.

        >>> ag.expand_dims(ag.ones(3), 0).shape
        (1, 3)
        >>> ag.expand_dims(ag.ones(3), (0, 2)).shape
        (1, 3, 1)
    """
    x = to_tensor(x, "expand_dims")
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    nd = x.ndim + len(items)
    at = {one_axis(a, nd, "expand_dims", "axis") for a in items}
    if len(at) != len(items):
        raise ValueError(f"expand_dims: axis {axis!r} repeats an axis")
    rest = iter(x.shape)
    return reshape(x, tuple(1 if i in at else next(rest) for i in range(nd)))


def squeeze(x, dim=None, *, axis=None):
    """Drop axes of size 1: all of them, or those among ``dim`` (an int or a tuple);
    a ``dim`` whose size is not 1 is left alone, as in ``torch.squeeze``. A view.
    ``ag.ones(2, 1, 3).squeeze()`` has shape (2, 3).

        >>> ag.ones(2, 1, 3, 1).squeeze().shape
        (2, 3)
        >>> ag.ones(2, 1, 3, 1).squeeze(1).shape
        (2, 3, 1)
        >>> ag.ones(2, 1, 3).squeeze(0).shape      # size 2: left alone
        (2, 1, 3)
    """
    x = to_tensor(x, "squeeze")
    dim = spelling("squeeze", "dim", dim, "axis", axis)
    if isinstance(dim, (tuple, list)) and not dim:
        return x  # torch: squeeze(()) drops nothing
    which = None if dim is None else _ordered_dims(x, dim, "squeeze", "dim")
    new = tuple(n for i, n in enumerate(x.shape)
                if n != 1 or (which is not None and i not in which))
    return reshape(x, new) if new != x.shape else x


def _swap(nd, a, b):
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    return tuple(perm)


def _permuted(x, perm):
    return P.transpose(x, axes=perm) if perm != tuple(range(x.ndim)) else x


def transpose(x, *dims, axes=None, dim0=None, dim1=None):
    """``transpose()`` reverses the axes; ``transpose(a, b)`` with two axes given
    separately (or ``dim0=``, ``dim1=``) swaps those two (PyTorch's ``transpose``; on a
    2-D tensor ``transpose(0, 1)`` therefore swaps); ``transpose(perm)`` with one
    sequence (or ``axes=perm``), or ``transpose(*perm)`` with three or more axes,
    permutes (NumPy). A view. ``ag.ones(2, 3, 4).transpose(0, 2)`` has shape (4, 3, 2).

        >>> ag.ones(2, 3, 4).transpose(0, 2).shape     # swaps two axes (PyTorch)
        (4, 3, 2)
        >>> ag.ones(2, 3, 4).transpose((1, 2, 0)).shape   # a permutation (NumPy)
        (3, 4, 2)
        >>> ag.ones(2, 3, 4).transpose().shape            # all reversed
        (4, 3, 2)
    """
    x = to_tensor(x, "transpose")
    nd = x._d.ndim
    if dim0 is not None or dim1 is not None:
        if dims or axes is not None or dim0 is None or dim1 is None:
            raise TypeError("transpose: give both dim0= and dim1=, and no other axes")
        dims = (dim0, dim1)
    elif axes is not None:
        dims = _given("transpose", dims, "axes", axes)
    if not dims:  # reversed (x.T, the common case: no further checks)
        return P.transpose(x, axes=tuple(range(nd - 1, -1, -1))) if nd > 1 else x
    if len(dims) == 2 and not isinstance(dims[0], (tuple, list)):
        a, b = (_dim(x, d, "transpose", "dim") for d in dims)
        return _permuted(x, _swap(nd, a, b)) if nd else x
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if not dims:
        return _permuted(x, tuple(range(nd))[::-1])
    perm = tuple(_dim(x, d, "transpose", "axes") for d in dims)
    if sorted(perm) != list(range(nd)):
        raise ValueError(f"transpose: axes {dims} are not a permutation of the "
                         f"{nd} axes of a tensor of shape {x.shape}")
    return _permuted(x, perm)


def t(x):
    """The transpose of a matrix; a 0-d or 1-d tensor is returned as it is (``torch.t``).

        >>> ag.t(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([[1., 3.],
                [2., 4.]], dtype=float32)
        >>> ag.t(ag.ones(3)).shape
        (3,)
    """
    x = to_tensor(x, "t")
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {x.shape} "
                         f"(use transpose(dim0, dim1) or mT)")
    return _permuted(x, tuple(range(x.ndim))[::-1])


def permute(x, *axes, dims=None):
    """The axes in the order ``dims`` (a full permutation), a view, as ``torch.permute``:
    ``x.permute(2, 0, 1)``, ``x.permute((2, 0, 1))`` or ``ag.permute(x, (2, 0, 1))``.

        >>> ag.ones(2, 3, 4).permute(2, 0, 1).shape
        (4, 2, 3)
        >>> ag.permute(ag.ones(2, 3, 4), (1, 2, 0)).shape
        (3, 4, 2)
    """
    x = to_tensor(x, "permute")
    dims = _given("permute", axes, "dims", dims)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise ValueError(f"permute: dims {dims} must list each of the {x.ndim} dimensions of "
                         f"the tensor of shape {x.shape} once")
    return _permuted(x, _ordered_dims(x, dims, "permute"))


def swapaxes(x, axis0, axis1):
    """Swap two axes (a view); ``torch.swapaxes`` / ``np.swapaxes``.

        >>> ag.swapaxes(ag.ones(2, 3, 4), 0, 2).shape
        (4, 3, 2)
    """
    x = to_tensor(x, "swapaxes")
    return _permuted(x, _swap(x.ndim, _dim(x, axis0, "swapaxes", "axis0"),
                              _dim(x, axis1, "swapaxes", "axis1")))


def swapdims(x, dim0, dim1):
    """Swap two axes (a view); ``torch.swapdims``, the same as ``transpose(dim0, dim1)``.

        >>> ag.swapdims(ag.ones(2, 3, 4), 0, 1).shape
        (3, 2, 4)
    """
    x = to_tensor(x, "swapdims")
    return _permuted(x, _swap(x.ndim, _dim(x, dim0, "swapdims", "dim0"),
                              _dim(x, dim1, "swapdims", "dim1")))


def movedim(x, source, destination):
    """Move axes ``source`` to positions ``destination`` (ints or sequences of one
    length), the others keeping their order; a view, as ``torch.movedim`` / ``np.moveaxis``.
    ``ag.ones(2, 3, 4).movedim(0, -1)`` has shape (3, 4, 2).

        >>> ag.ones(2, 3, 4).movedim(0, -1).shape      # also ``moveaxis``
        (3, 4, 2)
        >>> ag.movedim(ag.ones(2, 3, 4), (0, 1), (2, 0)).shape
        (3, 4, 2)
    """
    x = to_tensor(x, "movedim")
    src = _ordered_dims(x, source, "movedim", "source")
    dst = _ordered_dims(x, destination, "movedim", "destination")
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source!r} and destination {destination!r} must "
                         f"name as many dimensions")
    perm = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    return _permuted(x, tuple(p if p is not None else next(rest) for p in perm))


moveaxis = movedim


def matrix_transpose(x):
    """The transpose of each matrix in a stack (the last two axes swapped); a view.
    The Tensor property ``x.mT`` (PyTorch, NumPy 2) and ``np.matrix_transpose``.

        >>> ag.matrix_transpose(ag.ones(5, 2, 3)).shape
        (5, 3, 2)
        >>> ag.ones(5, 2, 3).mT.shape
        (5, 3, 2)
    """
    x = to_tensor(x, "mT")
    if x.ndim < 2:
        raise ValueError(f"mT: only supported on matrices or batches of matrices, got a "
                         f"tensor of shape {x.shape}")
    return _permuted(x, _swap(x.ndim, x.ndim - 2, x.ndim - 1))


# ---------------------------------------------------------------------------
# Broadcasting and repetition
# ---------------------------------------------------------------------------

def broadcast_to(x, *sizes, shape=None, size=None):
    """``x`` repeated along new or size-1 axes to ``shape`` (NumPy's rules); a view.
    ``shape=`` is NumPy's keyword, ``size=`` PyTorch's.

        >>> ag.broadcast_to(ag.tensor([1.0, 2.0]), (2, 2))
        Tensor([[1., 2.],
                [1., 2.]], dtype=float32)
        >>> ag.broadcast_to(ag.ones(3, 1), shape=(2, 3, 4)).shape
        (2, 3, 4)
    """
    x = to_tensor(x, "broadcast_to")
    sizes = _given("broadcast_to", sizes, "shape", shape)
    shape = shape_args(_given("broadcast_to", sizes, "size", size), "broadcast_to")
    try:
        ok = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} "
                         f"to shape {shape}")
    return P.broadcast_to(x, shape=shape) if shape != x.shape else x


def expand(x, *sizes, size=None):
    """``x`` seen with size-1 axes repeated (and new leading axes), without copying,
    as ``torch.Tensor.expand``; -1 keeps a size. ``ag.ones(3, 1).expand(2, -1, 4)``
    has shape (2, 3, 4). Its elements share memory: it cannot be changed in place.

        >>> ag.ones(3, 1).expand(2, -1, 4).shape
        (2, 3, 4)
        >>> ag.tensor([[1.0], [2.0]]).expand(2, 3)
        Tensor([[1., 1., 1.],
                [2., 2., 2.]], dtype=float32)
    """
    x = to_tensor(x, "expand")
    sizes = shape_args(_given("expand", sizes, "size", size), "expand", "sizes")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: sizes {sizes} must have at least as many entries as the "
                         f"tensor of shape {x.shape} has dimensions")
    target = []
    for i, n in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else None
        if n == -1 and have is not None:
            n = have
        if n < 0 or (have is not None and have != 1 and n != have):
            where = "a new leading dimension" if have is None else f"dimension {i - lead} " \
                    f"(of size {have})"
            raise ValueError(f"expand: cannot expand the tensor of shape {x.shape} to sizes "
                             f"{sizes}: size {sizes[i]} is not allowed for {where}")
        target.append(n)
    target = tuple(target)
    padded = (1,) * lead + x.shape
    if all(a == b for a, b in zip(padded, target)):
        return reshape(x, target)  # nothing repeats: a writable view
    return P.broadcast_to(x, shape=target)


def expand_as(x, other):
    """``x.expand(other.size())``.

        >>> ag.tensor([[1.0], [2.0]]).expand_as(ag.zeros(2, 3))
        Tensor([[1., 1., 1.],
                [2., 2., 2.]], dtype=float32)
    """
    x = to_tensor(x, "expand_as")
    return expand(x, np.shape(other._d if isinstance(other, TensorBase) else other))


def repeat(x, *sizes, repeats=None):
    """``x`` tiled ``sizes[i]`` times along each axis (a copy), as ``torch.Tensor.repeat``
    (NOT NumPy's repeat, which is ``repeat_interleave``). ``sizes`` may have more
    entries than ``x`` has axes: new leading axes. ``ag.tensor([1, 2]).repeat(2)``
    is [1, 2, 1, 2].

        >>> ag.tensor([1, 2]).repeat(2)
        Tensor([1, 2, 1, 2])
        >>> ag.tensor([1, 2]).repeat(2, 2)          # a new leading axis
        Tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    x = to_tensor(x, "repeat")
    sizes = shape_args(_given("repeat", sizes, "repeats", repeats), "repeat", "sizes")
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: sizes {sizes} must have at least as many entries as the "
                         f"tensor of shape {x.shape} has dimensions (use tile to pad with 1s)")
    if any(r < 0 for r in sizes):
        raise ValueError(f"repeat: sizes {sizes} must be non-negative")
    padded = (1,) * (len(sizes) - x.ndim) + x.shape
    # (1, n0, 1, n1, ...) broadcast to (r0, n0, r1, n1, ...) then merged pairwise:
    # the VJP is a reshape and a sum, the cheapest transpose of tiling.
    paired = tuple(v for n in padded for v in (1, n))
    tiled = tuple(v for r, n in zip(sizes, padded) for v in (r, n))
    y = P.broadcast_to(reshape(x, paired), shape=tiled) if tiled != paired else reshape(x, paired)
    return _fresh(reshape(y, tuple(r * n for r, n in zip(sizes, padded))), x)


def tile(x, *reps, dims=None):
    """``repeat`` with ``dims`` padded by leading 1s when shorter than ``x``'s axes,
    as ``torch.tile`` and ``np.tile``. ``ag.ones(2, 3).tile(2)`` has shape (2, 6).

        >>> ag.ones(2, 3).tile(2).shape
        (2, 6)
        >>> ag.tile(ag.tensor([1, 2]), (2, 1))
        Tensor([[1, 2],
                [1, 2]])
    """
    x = to_tensor(x, "tile")
    dims = shape_args(_given("tile", reps, "dims", dims), "tile", "dims")
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


@also_spelled("axis", "dim")
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times along ``dim`` (the flattened tensor if
    None), a copy, as ``torch.repeat_interleave`` (and ``np.repeat``).
    ``repeats``: an int, or one count per element along ``dim``.
    ``repeat_interleave(counts)`` alone gives the indices [0]*counts[0] + [1]*counts[1] + ...

    ``ag.tensor([1, 2]).repeat_interleave(2)`` is [1, 1, 2, 2].

        >>> ag.tensor([1, 2]).repeat_interleave(2)
        Tensor([1, 1, 2, 2])
        >>> ag.repeat_interleave(ag.tensor([[1, 2], [3, 4]]), ag.tensor([1, 2]), dim=0)
        Tensor([[1, 2],
                [3, 4],
                [3, 4]])
        >>> ag.repeat_interleave(ag.tensor([2, 1]))         # indices by counts
        Tensor([0, 0, 1])
    """
    counted = x if repeats is None else repeats
    if isinstance(counted, TensorBase) and counted.ndim:
        _escape(counted, "repeat_interleave's counts (the size of the result is their sum)")
    if repeats is None:
        counts = _counts(x, "repeat_interleave", "repeats")
        return wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    x = to_tensor(x, "repeat_interleave")
    if dim is None:
        x, d = reshape(x, -1), 0
    else:
        d = _dim(x, dim, "repeat_interleave")
        if x.ndim == 0:
            x = reshape(x, 1)
    n = x.shape[d]
    if np.ndim(repeats._d if isinstance(repeats, TensorBase) else repeats) == 0:
        r = _int(repeats, "repeat_interleave", "repeats")
        if r < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {r}")
        counts = np.full(n, r, dtype=np.int64)
    else:
        counts = _counts(repeats, "repeat_interleave", "repeats")
        if counts.size == 1:
            counts = np.full(n, counts[0], dtype=np.int64)
        if counts.size != n:
            raise ValueError(f"repeat_interleave: repeats must have one count per element along "
                             f"dim {d} ({n} of them, tensor of shape {x.shape}), got "
                             f"{counts.size}")
    total = int(counts.sum())
    if output_size is not None and output_size != total:
        raise ValueError(f"repeat_interleave: output_size {output_size} is not the total "
                         f"number of repeats {total}")
    if n and (counts == counts[0]).all():
        r = int(counts[0])
        # one count for all: a broadcast along a new axis, merged (a reshape VJP, no scatter)
        y = P.broadcast_to(unsqueeze(x, d + 1), shape=x.shape[:d + 1] + (r,) + x.shape[d + 1:])
        return _fresh(reshape(y, x.shape[:d] + (n * r,) + x.shape[d + 1:]), x)
    return P.getitem(x, index=_along(d, np.repeat(np.arange(n), counts)))


def _counts(r, fn, arg):
    c = np.asarray(r._d if isinstance(r, TensorBase) else r)
    if c.dtype.kind not in "iu" or c.ndim > 1:
        raise TypeError(f"{fn}: {arg} must be an int or a 1-D tensor of integers, got "
                        f"dtype {c.dtype} and shape {c.shape}")
    if (c < 0).any():
        raise ValueError(f"{fn}: {arg} must be non-negative, got {c.tolist()}")
    return c.reshape(-1).astype(np.int64)


# ---------------------------------------------------------------------------
# Pieces: narrow, select, split, chunk, unbind (views)
# ---------------------------------------------------------------------------

@also_spelled("axis", "dim")
def narrow(x, dim, start, length):
    """Elements ``start`` … ``start + length - 1`` along ``dim`` (a view), as
    ``torch.narrow``; a negative ``start`` counts from the end.

        >>> ag.narrow(ag.arange(6), 0, 1, 3)
        Tensor([1, 2, 3])
        >>> ag.narrow(ag.arange(6), 0, -2, 2)
        Tensor([4, 5])
    """
    x = to_tensor(x, "narrow")
    d = _real_dim(x, dim, "narrow")
    n = x.shape[d]
    start, length = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {d} of size {n} "
                         f"(tensor of shape {x.shape})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ValueError(f"narrow: start ({start}) + length ({length}) must lie within dim {d} "
                         f"of size {n} (tensor of shape {x.shape}), with length >= 0")
    return P.getitem(x, index=_along(d, slice(start, start + length)))


@also_spelled("axis", "dim")
def select(x, dim, index):
    """The slice at ``index`` along ``dim``, that axis removed (a view), as ``torch.select``:
    ``x.select(1, 0)`` is ``x[:, 0]``.

        >>> x = ag.tensor([[1, 2], [3, 4]])
        >>> x.select(1, 0)              # x[:, 0]
        Tensor([1, 3])
    """
    x = to_tensor(x, "select")
    d = _real_dim(x, dim, "select")
    n = x.shape[d]
    i = _int(index, "select", "index")
    if not -n <= i < n:
        raise IndexError(f"select: index {i} is out of range for dim {d} of size {n} "
                         f"(tensor of shape {x.shape})")
    return P.getitem(x, index=_along(d, i % n) + (Ellipsis,))  # Ellipsis: 0-d views stay views


def _pieces(x, d, sizes):
    starts = np.cumsum((0,) + tuple(sizes))
    return tuple(P.getitem(x, index=_along(d, slice(int(a), int(b))))
                 for a, b in zip(starts[:-1], starts[1:]))


@also_spelled("axis", "dim")
def split(x, split_size_or_sections, dim=0):
    """Views of consecutive pieces along ``dim``, as ``torch.split``: pieces of
    ``split_size`` elements (the last may be smaller), or of the sizes in a list
    (which must add up to the size of ``dim``). NOT ``np.split``.

        >>> ag.split(ag.arange(5), 2)
        (Tensor([0, 1]), Tensor([2, 3]), Tensor([4]))
        >>> ag.split(ag.arange(5), [1, 4])
        (Tensor([0]), Tensor([1, 2, 3, 4]))
    """
    x = to_tensor(x, "split")
    d = _real_dim(x, dim, "split")
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, (tuple, list)):
        sizes = shape_args((s,), "split", "split_size_or_sections")
        if any(k < 0 for k in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sections {list(sizes)} must be non-negative and add up to "
                             f"{n}, the size of dim {d} (tensor of shape {x.shape})")
    else:
        s = _int(s, "split", "split_size_or_sections")
        if s < 0 or (s == 0 and n):
            raise ValueError(f"split: split_size must be positive (0 only for an empty "
                             f"dimension), got {s} for dim {d} of size {n}")
        sizes = [min(s, n - a) for a in range(0, n, s)] if n else [0]
    return _pieces(x, d, sizes)


@also_spelled("axis", "dim")
def chunk(x, chunks, dim=0):
    """Split into ``chunks`` views along ``dim`` of ceil(n / chunks) elements each
    (fewer pieces when n is not enough for all), as ``torch.chunk``.

        >>> ag.chunk(ag.arange(5), 3)
        (Tensor([0, 1]), Tensor([2, 3]), Tensor([4]))
        >>> len(ag.chunk(ag.arange(6), 4))       # pieces of 2: three, not four
        3
    """
    x = to_tensor(x, "chunk")
    d = _real_dim(x, dim, "chunk")
    chunks = _int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[d]
    if n == 0:
        return _pieces(x, d, [0] * chunks)
    return split(x, -(-n // chunks), d)


@also_spelled("axis", "dim")
def unbind(x, dim=0):
    """The slices along ``dim``, as a tuple of views (``torch.unbind``; ``list(x)`` for dim 0).

        >>> ag.unbind(ag.tensor([[1, 2], [3, 4]]), dim=1)
        (Tensor([1, 3]), Tensor([2, 4]))
    """
    x = to_tensor(x, "unbind")
    d = _real_dim(x, dim, "unbind")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


# ---------------------------------------------------------------------------
# Reordering copies: flip, roll
# ---------------------------------------------------------------------------

def flip(x, *axes, dims=None, axis=None):
    """The order of the elements reversed along ``dims`` (a copy, as ``torch.flip``);
    ``x.flip(0)``, ``x.flip((0, 1))``, ``x.flip(0, 1)``. Without dims every axis
    is reversed (NumPy's ``np.flip``).

        >>> x = ag.tensor([[1, 2], [3, 4]])
        >>> x.flip(0)
        Tensor([[3, 4],
                [1, 2]])
        >>> ag.flip(x)                   # every axis
        Tensor([[4, 3],
                [2, 1]])
    """
    x = to_tensor(x, "flip")
    axes = _given("flip", axes, "dims", dims)
    dims = spelling("flip", "dims", axes[0] if len(axes) == 1 else axes or None, "axis", axis)
    which = tuple(range(x.ndim)) if dims is None else _ordered_dims(x, dims, "flip")
    if x.ndim == 0 or not which:
        return _copy(x)
    index = tuple(slice(None, None, -1) if i in which else slice(None) for i in range(x.ndim))
    return _copy(P.getitem(x, index=index))  # NumPy's reversed slice is a view; torch copies


def fliplr(x):
    """Columns in reverse order: ``flip(x, 1)``, for tensors of 2 or more dimensions.

        >>> ag.fliplr(ag.tensor([[1, 2], [3, 4]]))
        Tensor([[2, 1],
                [4, 3]])
    """
    x = to_tensor(x, "fliplr")
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be at least 2-D, got shape {x.shape}")
    return flip(x, 1)


def flipud(x):
    """Rows in reverse order: ``flip(x, 0)``, for tensors of 1 or more dimensions.

        >>> ag.flipud(ag.tensor([[1, 2], [3, 4]]))
        Tensor([[3, 4],
                [1, 2]])
    """
    x = to_tensor(x, "flipud")
    if x.ndim < 1:
        raise ValueError("flipud: input must be at least 1-D, got a 0-d tensor")
    return flip(x, 0)


def roll(x, shifts=None, dims=None, *, shift=None, axis=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (a copy), as ``torch.roll``
    and ``np.roll``: out[(i + s) % n] = x[i]. Without dims the flattened tensor is
    rolled and the shape restored. ``ag.tensor([1, 2, 3]).roll(1)`` is [3, 1, 2].

        >>> ag.tensor([1, 2, 3]).roll(1)
        Tensor([3, 1, 2])
        >>> ag.roll(ag.tensor([[1, 2], [3, 4]]), 1, dims=1)
        Tensor([[2, 1],
                [4, 3]])
    """
    x = to_tensor(x, "roll")
    shifts = spelling("roll", "shifts", shifts, "shift", shift)
    dims = spelling("roll", "dims", dims, "axis", axis)
    if shifts is None:
        raise TypeError("roll: shifts is required")
    shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
    shifts = tuple(_int(s, "roll", "shifts") for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: shifts {shifts} need dims (one per shift)")
        return reshape(_roll_along(reshape(x, -1), shifts, (0,)), x.shape)
    items = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(items) != len(shifts):
        raise ValueError(f"roll: shifts {shifts} and dims {dims!r} must have the same length")
    return _roll_along(x, shifts, tuple(_real_dim(x, d, "roll", "dims") for d in items))


def _roll_along(x, shifts, dims):
    out = x
    for s, d in zip(shifts, dims):
        n = out.shape[d]
        if n and s % n:
            k = n - s % n  # out = [x[k:], x[:k]] along d
            parts = (P.getitem(out, index=_along(d, slice(k, None))),
                     P.getitem(out, index=_along(d, slice(None, k))))
            out = P.concatenate(*parts, axis=d, bounds=(0, n - k, n))
    return _fresh(out, x)


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------

def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _refuse_traced_mask(index, what):
    """Indexing by a boolean tensor picks a number of elements that depends on
    its values: a compiled program cannot replay it."""
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, TensorBase) and item._d.dtype == np.bool_:
            _escape(item, f"{what} with a boolean mask (the size of the result is the mask's "
                          f"count; ag.where(mask, x, 0) keeps the shape)")


def getitem(x, index):
    """``x[index]``: basic slices (a view), integer arrays and boolean masks
    (copies), as NumPy. The gradient is scattered back, repeats accumulating.

        >>> x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        >>> ag.getitem(x, (slice(None), 0))               # x[:, 0]
        Tensor([1., 4.], dtype=float32, grad_fn=<getitem>)
        >>> x[0, [2, 2]].sum().backward()                 # repeats accumulate
        >>> x.grad
        Tensor([[0., 0., 2.],
                [0., 0., 0.]], dtype=float32)
    """
    x = to_tensor(x, "getitem")
    if tracing():
        _refuse_traced_mask(index, "x[mask]")
    index = P.normalized_index(index)
    if len(index) == x.ndim and all(_is_int(i) for i in index):
        # One element: keep a 0-d view (NumPy would copy it out as a scalar), so that
        # x[i, j].add_(1) changes x, as in PyTorch.
        index = index + (Ellipsis,)
    try:
        return P.getitem(x, index=index)
    except (IndexError, ValueError, TypeError) as e:
        raise IndexError(f"getitem: invalid index for a tensor of shape {x.shape}: {e}") from None


# ---------------------------------------------------------------------------
# Joining (copies)
# ---------------------------------------------------------------------------

def _tensors(tensors, fn):
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{fn}: expected a sequence of tensors, got one Tensor (use {fn}([t]) "
                        f"or list(t))")
    items = [to_tensor(t, fn, f"tensors[{i}]") for i, t in enumerate(tensors)]
    if not items:
        raise ValueError(f"{fn}: needs at least one tensor")
    return items


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (``torch.cat``); a copy.

        >>> a, b = ag.ones(2, 2), ag.zeros(1, 2)
        >>> ag.cat([a, b]).shape                  # also ``concatenate``, ``concat``
        (3, 2)
        >>> ag.cat([a, a], dim=1).shape
        (2, 4)
    """
    tensors = _tensors(tensors, "concatenate")
    axis = spelling("concatenate", "axis", axis, "dim", dim, default=0)
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    ax = one_axis(axis, nd, "concatenate")
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != nd or t.shape[:ax] + t.shape[ax + 1:] != first[:ax] + first[ax + 1:]:
            raise ValueError(
                f"concatenate: tensor {i} has shape {t.shape}, which does not match tensor 0's "
                f"shape {first} outside axis {ax}")
    if len(tensors) == 1:
        return _copy(tensors[0])  # torch.cat([t]) is a new tensor, not t
    bounds = tuple(int(b) for b in np.cumsum([0] + [t.shape[ax] for t in tensors]))
    return P.concatenate(*tensors, axis=ax, bounds=bounds)


cat = concat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """Join tensors of one shape along a new axis; a copy.

        >>> ag.stack([ag.ones(2), ag.zeros(2)])
        Tensor([[1., 1.],
                [0., 0.]], dtype=float32)
        >>> ag.stack([ag.ones(2), ag.zeros(2)], dim=1).shape
        (2, 2)
    """
    tensors = _tensors(tensors, "stack")
    axis = spelling("stack", "axis", axis, "dim", dim, default=0)
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{shape}; all must be equal")
    ax = one_axis(axis, len(shape) + 1, "stack")
    expanded = [P.reshape(t, shape=shape[:ax] + (1,) + shape[ax:]) for t in tensors]
    if len(expanded) == 1:
        return _copy(expanded[0])
    bounds = tuple(range(len(expanded) + 1))
    return P.concatenate(*expanded, axis=ax, bounds=bounds)


def _at_least(fn, nd, tensors, place):
    """torch.atleast_{nd}d: one tensor gives one tensor, several (or a sequence) a tuple."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (tuple, list))
    items = tensors[0] if len(tensors) == 1 and not single else tensors
    out = tuple(reshape(t, place(t.shape)) if t.ndim < nd else t
                for t in (to_tensor(t, fn, "tensors") for t in items))
    return out[0] if single else out


def atleast_1d(*tensors):
    """0-d tensors as shape (1,); others unchanged (``torch.atleast_1d``).

        >>> ag.atleast_1d(ag.tensor(1.0))
        Tensor([1.], dtype=float32)
        >>> [t.shape for t in ag.atleast_1d(ag.tensor(1.0), ag.ones(2, 2))]
        [(1,), (2, 2)]
    """
    return _at_least("atleast_1d", 1, tensors, lambda s: (1,))


def atleast_2d(*tensors):
    """0-d as (1, 1), 1-d (n,) as (1, n); others unchanged (``torch.atleast_2d``).

        >>> ag.atleast_2d(ag.ones(3)).shape
        (1, 3)
    """
    return _at_least("atleast_2d", 2, tensors, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """0-d as (1, 1, 1), (n,) as (1, n, 1), (m, n) as (m, n, 1) (``torch.atleast_3d``).

        >>> ag.atleast_3d(ag.ones(3)).shape, ag.atleast_3d(ag.ones(2, 3)).shape
        ((1, 3, 1), (2, 3, 1))
    """
    return _at_least("atleast_3d", 3, tensors,
                     lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,)}.get(len(s), s + (1,)))


def hstack(tensors):
    """Join horizontally: 1-d tensors end to end, others along axis 1 (``torch.hstack``).

        >>> ag.hstack([ag.tensor([1, 2]), ag.tensor([3])])
        Tensor([1, 2, 3])
        >>> ag.hstack([ag.ones(2, 1), ag.zeros(2, 2)]).shape
        (2, 3)
    """
    ts = atleast_1d(_tensors(tensors, "hstack"))
    return concatenate(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Join vertically: rows of at least 2-d tensors along axis 0 (``torch.vstack``).

        >>> ag.vstack([ag.tensor([1, 2]), ag.tensor([3, 4])])     # also ``row_stack``
        Tensor([[1, 2],
                [3, 4]])
    """
    return concatenate(atleast_2d(_tensors(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Join along the third axis, after ``atleast_3d`` (``torch.dstack``).

        >>> ag.dstack([ag.ones(2, 3), ag.zeros(2, 3)]).shape
        (2, 3, 2)
    """
    return concatenate(atleast_3d(_tensors(tensors, "dstack")), 2)


def column_stack(tensors):
    """Columns side by side: 0-d and 1-d tensors become columns (n, 1), others
    join along axis 1 (``torch.column_stack``).

        >>> ag.column_stack([ag.tensor([1, 2]), ag.tensor([3, 4])])
        Tensor([[1, 3],
                [2, 4]])
    """
    ts = [reshape(t, t._d.size, 1) if t.ndim <= 1 else t
          for t in _tensors(tensors, "column_stack")]
    return concatenate(ts, 1)


# ---------------------------------------------------------------------------
# Padding (torch.nn.functional.pad)
# ---------------------------------------------------------------------------

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x, pad, mode="constant", value=None):  # noqa: A002 - torch's names
    """Pad the last ``len(pad) // 2`` axes, as ``torch.nn.functional.pad``: ``pad`` is
    (left, right) of the last axis, then of the one before, ... Negative sizes crop.

    ``mode``: 'constant' (``value``, 0 by default), 'reflect' (mirror without the
    edge: pads must be smaller than the axis), 'replicate' (repeat the edge) or
    'circular' (wrap around: pads at most the axis). As in PyTorch the
    non-constant modes pad the last 1, 2 or 3 axes of a tensor with one or two
    more (a batch and channels, or channels only). Always a copy.

    ``ag.pad(ag.ones(2, 3), (1, 1))`` has shape (2, 5): a column of zeros either side.

        >>> ag.pad(ag.ones(2, 3), (1, 1)).shape             # a column of zeros either side
        (2, 5)
        >>> ag.pad(ag.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        Tensor([[3., 2., 1., 2., 3., 2.]], dtype=float32)
        >>> ag.pad(ag.tensor([[1.0, 2.0, 3.0]]), (1, 1), mode="replicate")
        Tensor([[1., 1., 2., 3., 3.]], dtype=float32)
        >>> ag.pad(ag.tensor([1.0, 2.0, 3.0]), (-1, 0))       # a negative size crops
        Tensor([2., 3.], dtype=float32)
    """
    x = to_tensor(x, "pad")
    widths = shape_args((pad,), "pad", "pad")
    if len(widths) % 2:
        raise ValueError(f"pad: the pad sizes {widths} must come in (left, right) pairs "
                         f"(an even number of them)")
    k = len(widths) // 2
    if k > x.ndim:
        raise ValueError(f"pad: {k} pairs of pad sizes {widths} are more than the "
                         f"{x.ndim} dimensions of the tensor of shape {x.shape}")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, "
                         f"got {mode!r}")
    # pairs[j] for axis nd - k + j (the pad tuple lists the last axis first)
    pairs = [(widths[2 * (k - 1 - j)], widths[2 * (k - 1 - j) + 1]) for j in range(k)]
    first = x.ndim - k
    for j, (lo, hi) in enumerate(pairs):
        if x.shape[first + j] - max(-lo, 0) - max(-hi, 0) < 0:
            raise ValueError(f"pad: pads ({lo}, {hi}) crop more than the size "
                             f"{x.shape[first + j]} of dim {first + j} (shape {x.shape})")
    if mode == "constant":
        return _pad_constant(x, first, pairs, 0 if value is None else value)
    if value is not None:
        raise ValueError(f"pad: mode {mode!r} takes no value argument")
    if x.ndim not in (k + 1, k + 2) or k not in (1, 2, 3):
        raise NotImplementedError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 dimensions of a tensor with one or "
            f"two more (PyTorch's rule), got {k} pairs of pad sizes for shape {x.shape}")
    if mode != "circular" and 0 in x.shape[-k - 1:]:
        raise ValueError(f"pad: mode {mode!r} needs non-empty dimensions (but a batch), got "
                         f"shape {x.shape}")
    grids = [_pad_positions(mode, x.shape[first + j], lo, hi, f"dim {first + j} (shape "
                            f"{x.shape})") for j, (lo, hi) in enumerate(pairs)]
    grids = [g.reshape((-1,) + (1,) * (k - 1 - j)) for j, g in enumerate(grids)]
    # adjacent trailing integer arrays: NumPy keeps the padded axes in place
    return P.getitem(x, index=(slice(None),) * first + tuple(grids))


def _pad_positions(mode, n, lo, hi, where):
    """The positions of the input that the padded axis shows, as PyTorch picks them:
    reflect and replicate pad the input then crop (negative pads); circular crops
    first and wraps around what is left."""
    if mode == "circular":
        start = max(-lo, 0)
        n -= start + max(-hi, 0)
        lo, hi = max(lo, 0), max(hi, 0)
        if lo > n or hi > n:
            raise ValueError(f"pad: mode 'circular' allows pads up to the size {n} (after "
                             f"cropping) of {where}, got ({lo}, {hi})")
        pos = np.arange(-lo, n + hi)
        return pos % n + start if n else pos
    if mode == "reflect" and (lo > n - 1 or hi > n - 1):
        raise ValueError(f"pad: mode 'reflect' allows pads up to {n - 1} for {where} of size "
                         f"{n}, got ({lo}, {hi})")
    pos = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    pos = np.abs(pos)
    return np.where(pos > n - 1, 2 * (n - 1) - pos, pos)


def _pad_constant(x, first, pairs, value):
    """``x`` (cropped where a pad is negative) written into a tensor of ``value``."""
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                 for (lo, hi), n in zip(pairs, x.shape[first:]))
    inner = tuple(slice(max(lo, 0), max(lo, 0) + (s.stop - s.start)) for (lo, hi), s in
                  zip(pairs, crop))
    shape = x.shape[:first] + tuple(n + lo + hi for (lo, hi), n in zip(pairs, x.shape[first:]))
    part = P.getitem(x, index=(slice(None),) * first + crop) \
        if any(lo < 0 or hi < 0 for lo, hi in pairs) else x
    if shape == part.shape:
        return _copy(part)
    if isinstance(value, TensorBase):
        value = value.item()
    base = wrap(np.full(shape, value, dtype=x._d.dtype))
    return P.index_put(base, part, index=(slice(None),) * first + inner)


# Re-exported for callers that catch axis errors from this module.
AxisError = AxisError
