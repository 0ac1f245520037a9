"""Matrix products: ``matmul`` with NumPy's semantics and the fused ``linear``."""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import TensorBase, lift
from ._args import pair, to_tensor
from .shape import broadcast_to, reshape, transpose
from .sorting import nonzero

__all__ = ["matmul", "linear", "where"]


def matmul(a, b):
    """A @ B with NumPy's semantics: 1-D operands are promoted and the added axis
    removed, batch axes broadcast.

        >>> a = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ag.matmul(a, ag.tensor([1.0, 1.0]))               # matrix @ vector: (2,)
        Tensor([3., 7.], dtype=float32)
        >>> ag.matmul(ag.ones(5, 2, 3), ag.ones(3, 4)).shape  # the batch axis broadcasts
        (5, 2, 4)
        >>> ag.matmul(ag.ones(2, 3), ag.ones(2, 3))
        Traceback (most recent call last):
            ...
        ValueError: matmul: shapes (2, 3) and (2, 3) are not aligned: a has 3 columns but b has 2 rows
    """
    a, b = pair(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, "
                         f"got shapes {a.shape} and {b.shape}")
    a2 = reshape(a, 1, -1) if a.ndim == 1 else a
    b2 = reshape(b, -1, 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
            f"a has {a2.shape[-1]} columns but b has {b2.shape[-2]} rows")
    if a2.ndim > 2 or b2.ndim > 2:
        batch = P.broadcast_shapes("matmul (batch axes)", a2.shape[:-2], b2.shape[:-2])
        a2 = broadcast_to(a2, batch + a2.shape[-2:])
        b2 = broadcast_to(b2, batch + b2.shape[-2:])
    out = P.matmul(a2, b2)
    if a.ndim == 1 and b.ndim == 1:
        return reshape(out, ())
    if a.ndim == 1:
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        return reshape(out, out.shape[:-1])
    return out


def linear(x, weight, bias=None):
    """x Wᵀ + b, W of shape (out_features, in_features), x of shape (..., in_features),
    as ``torch.nn.functional.linear``.

        >>> x = ag.tensor([[1.0, 2.0]])
        >>> W, b = ag.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]]), ag.tensor([0.5, 0.5, 0.5])
        >>> ag.linear(x, W, b)                                # (1, 2) → (1, 3)
        Tensor([[ 1.5,  3.5, -1.5]], dtype=float32)
    """
    w = to_tensor(weight, "linear", "weight")
    x = x if isinstance(x, TensorBase) else lift(x, w, "linear")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape {w.shape} "
                         f"(the last input dimension must be in_features = {w.shape[1]})")
    if bias is None:
        return matmul(x, transpose(w))
    b = bias if isinstance(bias, TensorBase) else lift(bias, w, "linear")
    if b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {b.shape}")
    if x.ndim == 2:
        return P.linear(x, w, b)
    lead = x.shape[:-1]
    return reshape(P.linear(reshape(x, -1, w.shape[1]), w, b), lead + (w.shape[0],))


def where(cond, a=None, b=None):
    """``a`` where ``cond`` is true, else ``b`` (NumPy broadcasting; ``a`` and ``b``
    may be numbers). ``cond`` is a constant. ``where(cond)`` alone is
    ``nonzero(cond, as_tuple=True)``, as in torch and NumPy.

        >>> x = ag.tensor([-1.0, 2.0, -3.0])
        >>> ag.where(x > 0, x, 0.0)
        Tensor([0., 2., 0.], dtype=float32)
        >>> ag.where(x > 0)                                   # the indices: nonzero(as_tuple=True)
        (Tensor([1]),)
    """
    if a is None and b is None:
        return nonzero(cond, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: give both a and b (where(cond, a, b)), or neither (where(cond))")
    c = cond._d if isinstance(cond, TensorBase) else np.asarray(cond)
    if np.result_type(c) != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {np.result_type(c)}")
    a, b = pair(a, b, "where")
    return P.where(a, b, cond=np.asarray(c))
