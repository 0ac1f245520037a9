"""Comparisons and logic: constant (never differentiable) boolean tensors."""
from __future__ import annotations

import numpy as np

from ..core import lift, wrap
from ._args import to_tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "equal", "isnan", "isinf", "isfinite", "greater", "greater_equal",
           "less", "less_equal", "not_equal"]


def _compare(fn, npfn):
    def compare(x, other):
        x = to_tensor(x, fn)
        o = lift(other, x, fn)
        try:
            return wrap(npfn(x._d, o._d))
        except ValueError:
            raise ValueError(f"{fn}: shapes {x.shape} and {o.shape} cannot be broadcast "
                             f"together") from None
    compare.__name__ = compare.__qualname__ = fn
    compare.__doc__ = f"``x {npfn.__name__} other`` elementwise, as a bool tensor (no gradient)."
    return compare


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)
# NumPy's names, so np.greater(t, 0) dispatches here.
greater, greater_equal, less, less_equal, not_equal, equal_ = gt, ge, lt, le, ne, eq


def logical_not(x):
    """not x elementwise, as a bool tensor."""
    return wrap(np.logical_not(to_tensor(x, "logical_not")._d))


def equal(x, other):
    """True if both have the same shape and elements (``torch.equal``): a Python bool."""
    x, o = to_tensor(x, "equal"), to_tensor(other, "equal", "other")
    return x.shape == o.shape and bool(np.array_equal(x._d, o._d))


def isnan(x):
    """x is NaN, elementwise."""
    return wrap(np.isnan(to_tensor(x, "isnan")._d))


def isinf(x):
    """x is ±inf, elementwise."""
    return wrap(np.isinf(to_tensor(x, "isinf")._d))


def isfinite(x):
    """x is neither NaN nor ±inf, elementwise."""
    return wrap(np.isfinite(to_tensor(x, "isfinite")._d))
