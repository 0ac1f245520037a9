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
    removed, batch axes broadcast."""
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
    as ``torch.nn.functional.linear``."""
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
    ``nonzero(cond, as_tuple=True)``, as in torch and NumPy."""
    if a is None and b is None:
        return nonzero(cond, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: give both a and b (where(cond, a, b)), or neither (where(cond))")
    c = cond._d if isinstance(cond, TensorBase) else np.asarray(cond)
    if np.result_type(c) != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {np.result_type(c)}")
    a, b = pair(a, b, "where")
    return P.where(a, b, cond=np.asarray(c))
