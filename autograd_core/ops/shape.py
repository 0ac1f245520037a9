"""Shape, indexing and joining: reshape, transpose, broadcasting, indexing,
concatenate and stack. All linear: the table gives them the same op as JVP
and the transposed op as VJP.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import TensorBase
from ._args import AxisError, one_axis, resolve_shape, shape_args, spelling, to_tensor

__all__ = ["reshape", "view", "transpose", "flatten", "broadcast_to", "getitem",
           "concatenate", "cat", "stack"]


def reshape(x, *shape):
    """The same elements in a new shape; one entry may be -1 (inferred).
    ``x.reshape(2, 3)``, ``x.reshape((2, 3))`` and ``ag.reshape(x, (2, 3))`` alike."""
    x = to_tensor(x, "reshape")
    shape = shape_args(shape, "reshape")
    new = resolve_shape(shape, x._d.size)
    if new is None:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x._d.size} elements) into shape {shape}")
    return P.reshape(x, shape=new) if new != x.shape else x


view = reshape


def transpose(x, *axes):
    """``transpose()`` reverses the axes; ``transpose(a, b)`` with exactly two axes
    swaps those two (PyTorch); ``transpose(perm)`` or ``transpose(*perm)`` with a
    full permutation of three or more axes permutes them (NumPy)."""
    x = to_tensor(x, "transpose")
    nd = x.ndim
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        perm = tuple(range(nd))[::-1]
    elif len(axes) == 2 and nd != 2:
        a, b = (one_axis(a, nd, "transpose", "dim") for a in axes)
        perm = list(range(nd))
        perm[a], perm[b] = perm[b], perm[a]
        perm = tuple(perm)
    else:
        perm = tuple(one_axis(a, nd, "transpose", "axes") for a in axes)
        if sorted(perm) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{nd} axes of a tensor of shape {x.shape}")
    if perm == tuple(range(nd)):
        return x
    return P.transpose(x, axes=perm)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim`` … ``end_dim`` into one (all by default), as ``torch.flatten``."""
    x = to_tensor(x, "flatten")
    if x.ndim == 0:
        return reshape(x, 1)
    s = one_axis(start_dim, x.ndim, "flatten", "start_dim")
    e = one_axis(end_dim, x.ndim, "flatten", "end_dim")
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim "
                         f"({end_dim}) for a tensor of shape {x.shape}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1], dtype=np.int64)),) + x.shape[e + 1:]
    return reshape(x, shape)


def broadcast_to(x, *shape):
    """``x`` repeated along new or size-1 axes to ``shape`` (NumPy's rules); a view."""
    x = to_tensor(x, "broadcast_to")
    shape = shape_args(shape, "broadcast_to")
    try:
        ok = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} "
                         f"to shape {shape}")
    return P.broadcast_to(x, shape=shape) if shape != x.shape else x


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def getitem(x, index):
    """``x[index]``: basic slices (a view), integer arrays and boolean masks
    (copies), as NumPy. The gradient is scattered back, repeats accumulating."""
    x = to_tensor(x, "getitem")
    index = P.normalized_index(index)
    if len(index) == x.ndim and all(_is_int(i) for i in index):
        # One element: keep a 0-d view (NumPy would copy it out as a scalar), so that
        # x[i, j].add_(1) changes x, as in PyTorch.
        index = index + (Ellipsis,)
    try:
        return P.getitem(x, index=index)
    except (IndexError, ValueError, TypeError) as e:
        raise IndexError(f"getitem: invalid index for a tensor of shape {x.shape}: {e}") from None


def _tensors(tensors, fn):
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{fn}: expected a sequence of tensors, got one Tensor (use {fn}([t]) "
                        f"or list(t))")
    items = [to_tensor(t, fn, f"tensors[{i}]") for i, t in enumerate(tensors)]
    if not items:
        raise ValueError(f"{fn}: needs at least one tensor")
    return items


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (``torch.cat``)."""
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
        return tensors[0]
    bounds = tuple(int(b) for b in np.cumsum([0] + [t.shape[ax] for t in tensors]))
    return P.concatenate(*tensors, axis=ax, bounds=bounds)


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """Join tensors of one shape along a new axis."""
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
        return expanded[0]
    bounds = tuple(range(len(expanded) + 1))
    return P.concatenate(*expanded, axis=ax, bounds=bounds)


# Re-exported for callers that catch axis errors from this module.
AxisError = AxisError
