"""Comparisons and logic: constant (never differentiable) boolean tensors."""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import lift
from ._args import to_tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "equal", "isnan", "isinf", "isfinite", "greater", "greater_equal",
           "less", "less_equal", "not_equal"]


def _compare(fn, prim, what, example):
    def compare(x, other):
        x = to_tensor(x, fn)
        o = lift(other, x, fn)
        if x.shape != o.shape:
            P.broadcast_shapes(fn, x.shape, o.shape)
        return prim(x, o)
    compare.__name__ = compare.__qualname__ = fn
    compare.__doc__ = (f"x {what} other, elementwise, as a bool tensor (no gradient); ``other``\n"
                       f"    is a tensor or a number, broadcast with x.\n{example}")
    return compare


eq = _compare("eq", P.equal, "==", """
    >>> ag.eq(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([False,  True, False])
""")
ne = _compare("ne", P.not_equal, "!=", """
    Also ``not_equal``.

    >>> ag.ne(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([ True, False,  True])
""")
lt = _compare("lt", P.less, "<", """
    Also ``less``.

    >>> ag.lt(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([ True, False, False])
""")
le = _compare("le", P.less_equal, "<=", """
    Also ``less_equal``.

    >>> ag.le(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([ True,  True, False])
""")
gt = _compare("gt", P.greater, ">", """
    Also ``greater``.

    >>> ag.gt(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([False, False,  True])
""")
ge = _compare("ge", P.greater_equal, ">=", """
    Also ``greater_equal``.

    >>> ag.ge(ag.tensor([1.0, 2.0, 3.0]), 2.0)
    Tensor([False,  True,  True])
""")
logical_and = _compare("logical_and", P.logical_and, "and", """
    >>> ag.logical_and(ag.tensor([True, True, False]), ag.tensor([True, False, False]))
    Tensor([ True, False, False])
""")
logical_or = _compare("logical_or", P.logical_or, "or", """
    >>> ag.logical_or(ag.tensor([True, True, False]), ag.tensor([True, False, False]))
    Tensor([ True,  True, False])
""")
logical_xor = _compare("logical_xor", P.logical_xor, "xor", """
    >>> ag.logical_xor(ag.tensor([True, True, False]), ag.tensor([True, False, False]))
    Tensor([False,  True, False])
""")
# NumPy's names, so np.greater(t, 0) dispatches here.
greater, greater_equal, less, less_equal, not_equal, equal_ = gt, ge, lt, le, ne, eq


def logical_not(x):
    """not x elementwise, as a bool tensor (a number's truth for other dtypes).

        >>> ag.logical_not(ag.tensor([True, False]))
        Tensor([False,  True])
        >>> ag.logical_not(ag.tensor([0.0, 2.0]))
        Tensor([ True, False])
    """
    return P.logical_not(to_tensor(x, "logical_not"))


def equal(x, other):
    """True if both have the same shape and elements (``torch.equal``): a Python bool.

        >>> ag.equal(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0]))
        True
        >>> ag.equal(ag.tensor([1.0, 2.0]), ag.tensor([[1.0, 2.0]]))    # shapes differ
        False
    """
    x, o = to_tensor(x, "equal"), to_tensor(other, "equal", "other")
    return x.shape == o.shape and bool(np.array_equal(x._d, o._d))


def isnan(x):
    """x is NaN, elementwise.

        >>> ag.isnan(ag.tensor([1.0, float("nan"), float("inf"), -float("inf")]))
        Tensor([False,  True, False, False])
    """
    return P.isnan(to_tensor(x, "isnan"))


def isinf(x):
    """x is ±inf, elementwise.

        >>> ag.isinf(ag.tensor([1.0, float("nan"), float("inf"), -float("inf")]))
        Tensor([False, False,  True,  True])
    """
    return P.isinf(to_tensor(x, "isinf"))


def isfinite(x):
    """x is neither NaN nor ±inf, elementwise.

        >>> ag.isfinite(ag.tensor([1.0, float("nan"), float("inf"), -float("inf")]))
        Tensor([ True, False, False, False])
    """
    return P.isfinite(to_tensor(x, "isfinite"))
