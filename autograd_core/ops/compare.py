"""Comparisons and logic: constant (never differentiable) boolean tensors."""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import lift
from ._args import to_tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "equal", "isnan", "isinf", "isfinite", "greater", "greater_equal",
           "less", "less_equal", "not_equal"]


def _compare(fn, prim, what):
    def compare(x, other):
        x = to_tensor(x, fn)
        o = lift(other, x, fn)
        if x.shape != o.shape:
            P.broadcast_shapes(fn, x.shape, o.shape)
        return prim(x, o)
    compare.__name__ = compare.__qualname__ = fn
    compare.__doc__ = f"x {what} other, elementwise, as a bool tensor (no gradient)."
    return compare


eq = _compare("eq", P.equal, "==")
ne = _compare("ne", P.not_equal, "!=")
lt = _compare("lt", P.less, "<")
le = _compare("le", P.less_equal, "<=")
gt = _compare("gt", P.greater, ">")
ge = _compare("ge", P.greater_equal, ">=")
logical_and = _compare("logical_and", P.logical_and, "and")
logical_or = _compare("logical_or", P.logical_or, "or")
logical_xor = _compare("logical_xor", P.logical_xor, "xor")
# NumPy's names, so np.greater(t, 0) dispatches here.
greater, greater_equal, less, less_equal, not_equal, equal_ = gt, ge, lt, le, ne, eq


def logical_not(x):
    """not x elementwise, as a bool tensor."""
    return P.logical_not(to_tensor(x, "logical_not"))


def equal(x, other):
    """True if both have the same shape and elements (``torch.equal``): a Python bool."""
    x, o = to_tensor(x, "equal"), to_tensor(other, "equal", "other")
    return x.shape == o.shape and bool(np.array_equal(x._d, o._d))


def isnan(x):
    """x is NaN, elementwise."""
    return P.isnan(to_tensor(x, "isnan"))


def isinf(x):
    """x is ±inf, elementwise."""
    return P.isinf(to_tensor(x, "isinf"))


def isfinite(x):
    """x is neither NaN nor ±inf, elementwise."""
    return P.isfinite(to_tensor(x, "isfinite"))
