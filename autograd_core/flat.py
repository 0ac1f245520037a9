"""Lists of tensors as one flat vector, and back.

Second-order methods see the parameters w_1 … w_P (tensors of any shapes) as
one vector w ∈ ℝᵂ, W = Σ_p size(w_p): entries in list order, each tensor
raveled row-major. ``flatten`` and ``unflatten`` are that map and its
inverse; ``curvature`` and ``optim`` both use them.

    >>> v = flatten([np.ones((2, 3)), np.zeros(2)])      # shape (8,)
    >>> [a.shape for a in unflatten(v, [np.ones((2, 3)), np.zeros(2)])]
    [(2, 3), (2,)]
"""
from __future__ import annotations

import numpy as np

from .core import TensorBase

__all__ = ["flatten", "unflatten", "numel", "flat_dtype"]


def _array(t):
    return t.data if isinstance(t, TensorBase) else np.asarray(t)


def numel(tensors) -> int:
    """W = Σ size(t): the length of the flat vector of ``tensors``.

        >>> from autograd_core.flat import numel
        >>> numel([ag.zeros(2, 3), np.zeros(2)])
        8
    """
    return sum(int(_array(t).size) for t in tensors)


def flat_dtype(tensors):
    """The dtype that holds every entry of ``tensors`` (NumPy's promotion).

        >>> from autograd_core.flat import flat_dtype
        >>> flat_dtype([ag.zeros(2), ag.zeros(2, dtype=ag.float64)])
        dtype('float64')
    """
    return np.result_type(*[_array(t).dtype for t in tensors])


def flatten(tensors, dtype=np.float64, like=None):
    """One new vector of ``dtype`` with the entries of ``tensors`` (Tensors or
    arrays) in order, each raveled row-major.

    ``like``: a list of the same length; an entry of ``tensors`` that is None
    (a missing gradient) stands for zeros shaped like the matching entry of
    ``like``. The result never shares memory with the inputs.

        >>> from autograd_core.flat import flatten
        >>> a = ag.tensor([[1.0, 2.0]], requires_grad=True)
        >>> b = ag.tensor([3.0], requires_grad=True)
        >>> (a * a).sum().backward()                        # b is unused: b.grad is None
        >>> flatten([p.grad for p in (a, b)], like=(a, b))  # ∇E, zeros where unused
        array([2., 4., 0.])
    """
    tensors = list(tensors)
    if like is not None:
        like = list(like)
        if len(like) != len(tensors):
            raise ValueError(f"flatten: like has {len(like)} entries but tensors has "
                             f"{len(tensors)}; they must match one to one")
    pieces = []
    for i, t in enumerate(tensors):
        if t is None:
            if like is None:
                raise TypeError(f"flatten: tensors[{i}] is None; pass like= to stand zeros in "
                                f"for missing entries")
            pieces.append(np.zeros(_array(like[i]).size, dtype=dtype))
        else:
            pieces.append(np.asarray(_array(t), dtype=dtype).reshape(-1))
    if not pieces:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(pieces)


def unflatten(vec, like, dtype=None):
    """Split the flat vector ``vec`` into arrays shaped like the Tensors/arrays in
    ``like`` (the inverse of ``flatten``). ``dtype`` None keeps the vector's
    dtype. The pieces are views of ``vec`` when no conversion is needed.

        >>> from autograd_core.flat import unflatten
        >>> params = [ag.zeros(2, 2), ag.zeros(3)]
        >>> w = np.arange(7.0)                       # a flat vector, e.g. from an optimiser
        >>> for p, piece in zip(params, unflatten(w, params)):
        ...     p.data[...] = piece
        >>> params[0]
        Tensor([[0., 1.],
                [2., 3.]], dtype=float32)
    """
    vec = np.asarray(_array(vec))
    shapes = [np.shape(_array(t)) for t in like]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    total = sum(sizes)
    if vec.ndim != 1 or vec.size != total:
        raise ValueError(f"unflatten: the vector has shape {vec.shape} but the tensors have "
                         f"{total} entries in all; expected shape ({total},)")
    out, start = [], 0
    for s, n in zip(shapes, sizes):
        piece = vec[start:start + n].reshape(s)
        out.append(piece if dtype is None else piece.astype(dtype, copy=False))
        start += n
    return out
