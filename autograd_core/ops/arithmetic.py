"""Arithmetic and elementwise functions: ``ag.exp(x)`` is ``x.exp()``.

The primitives hold the derivatives; the composites here (``sub``, ``div``,
``clamp`` with tensor bounds, ...) hold none.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import primitives as P
from ..core import TensorBase, lift
from ._args import pair, to_tensor

__all__ = ["add", "sub", "mul", "div", "neg", "power", "pow", "maximum", "minimum",
           "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "reciprocal",
           "clip", "clamp", "astype", "detach", "floor_divide", "subtract", "multiply", "divide", "true_divide",
           "negative", "absolute"]


def _check_broadcast(fn, a, b):
    """Composites check shapes up front so the error names the op the user called."""
    if a.shape != b.shape:
        P.broadcast_shapes(fn, a.shape, b.shape)


def add(x, y, *, alpha=None):
    """x + y (NumPy broadcasting); ``alpha`` scales y, as in ``torch.add``.

        >>> ag.add(ag.tensor([1.0, 2.0]), ag.tensor([[10.0], [20.0]]))     # broadcast: (2, 2)
        Tensor([[11., 12.],
                [21., 22.]], dtype=float32)
        >>> ag.add(ag.tensor([1.0, 2.0]), 1.0, alpha=3)                      # x + 3·1
        Tensor([4., 5.], dtype=float32)
    """
    x, y = pair(x, y, "add")
    if alpha is not None:
        y = P.mul(y, alpha)
    return P.add(x, y)


def sub(x, y, *, alpha=None):
    """x - y = x + (-y).

        >>> ag.sub(ag.tensor([5.0, 7.0]), ag.tensor([1.0, 2.0]), alpha=2)    # also ``subtract``
        Tensor([3., 3.], dtype=float32)
    """
    x, y = pair(x, y, "sub")
    _check_broadcast("sub", x, y)
    if alpha is not None:
        y = P.mul(y, alpha)
    return P.add(x, P.neg(y))


def mul(x, y):
    """x · y elementwise.

        >>> ag.mul(ag.tensor([1.0, 2.0]), 3)                                  # also ``multiply``
        Tensor([3., 6.], dtype=float32)
    """
    x, y = pair(x, y, "mul")
    return P.mul(x, y)


def _rounded_quotient_forward(x, y, mode):
    dtype = np.result_type(x, y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):   # inf, nan as torch
        if mode == "floor":   # Python's //, exact also for integers
            return np.asarray(np.floor_divide(x, y), dtype=dtype)
        if dtype.kind in "iu":   # toward zero: floor, then one up where the signs differ
            q = np.floor_divide(x, y)
            return np.asarray(q + ((np.remainder(x, y) != 0) & ((x < 0) != (y < 0))), dtype=dtype)
        return np.asarray(np.trunc(np.true_divide(x, y)), dtype=dtype)


_rounded_quotient = P.Constant("div_rounded", _rounded_quotient_forward)


def div(x, y, *, rounding_mode=None):
    """x / y, rounded once (as NumPy and PyTorch divide). True division: integer
    operands give a float result.
    ``rounding_mode='floor'|'trunc'`` as in ``torch.div`` (not differentiable).

        >>> ag.div(ag.tensor([1, 7]), 2)                      # also ``divide``, ``true_divide``
        Tensor([0.5, 3.5])
        >>> ag.div(ag.tensor([7.0, -7.0]), 2, rounding_mode="floor")
        Tensor([ 3., -4.], dtype=float32)
        >>> ag.div(ag.tensor([7.0, -7.0]), 2, rounding_mode="trunc")
        Tensor([ 3., -3.], dtype=float32)
    """
    x, y = pair(x, y, "div")
    _check_broadcast("div", x, y)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                             f"{rounding_mode!r}")
        if x._d.dtype.kind in "biu" and y._d.dtype.kind in "biu" and np.any(y._d == 0):
            raise ZeroDivisionError(f"div: integer division by zero (rounding_mode="
                                    f"{rounding_mode!r}; the divisor has zeros)")
        return _rounded_quotient(x, y, mode=rounding_mode)
    if y._d.dtype.kind != "f":
        y = astype(y, x._d.dtype if x._d.dtype.kind == "f" else np.float64)
    return P.div(x, y)


def floor_divide(x, y):
    """⌊x / y⌋ elementwise: Python's ``x // y``, as ``torch.floor_divide`` (and
    ``np.floor_divide``); integers stay integers. No gradient.

        >>> ag.floor_divide(ag.tensor([7, -7]), 2)
        Tensor([ 3, -4])
    """
    return div(x, y, rounding_mode="floor")


def neg(x):
    """-x.

        >>> ag.neg(ag.tensor([1.0, -2.0]))                                    # also ``negative``
        Tensor([-1.,  2.], dtype=float32)
    """
    return P.neg(to_tensor(x, "neg"))


def power(x, y):
    """x ** y: a constant number exponent is an elementwise primitive; a
    tensor exponent uses the binary one.

        >>> ag.pow(ag.tensor([1.0, 2.0, 3.0]), 2)                            # also ``power``
        Tensor([1., 4., 9.], dtype=float32)
        >>> ag.pow(2.0, ag.tensor([0.0, 1.0, 3.0]))
        Tensor([1., 2., 8.], dtype=float32)
    """
    if isinstance(y, (numbers.Real, np.generic)) and not isinstance(y, (bool, np.bool_)) \
            and np.ndim(y) == 0:
        return P.pow_const(to_tensor(x, "pow"), p=y.item() if isinstance(y, np.generic) else y)
    x, y = pair(x, y, "pow")
    return P.pow(x, y)


pow = power  # noqa: A001 - torch's name


def rpow(y, x):
    """x ** y for a number x (``2 ** t``)."""
    return P.pow(lift(x, y, "pow"), y)


def maximum(x, y):
    """Elementwise max, NaN-propagating; at ties each operand gets half the gradient
    (PyTorch's rule).

        >>> ag.maximum(ag.tensor([1.0, 5.0, float("nan")]), ag.tensor([3.0, 2.0, 0.0]))
        Tensor([ 3.,  5., nan], dtype=float32)
    """
    x, y = pair(x, y, "maximum")
    _check_broadcast("maximum", x, y)
    return P.maximum(x, y)


def minimum(x, y):
    """Elementwise min, NaN-propagating; at ties each operand gets half the gradient.

        >>> ag.minimum(ag.tensor([1.0, 5.0]), ag.tensor([3.0, 2.0]))
        Tensor([1., 2.], dtype=float32)
    """
    x, y = pair(x, y, "minimum")
    _check_broadcast("minimum", x, y)
    return P.minimum(x, y)


def _unary(prim, doc, module=__name__):
    """The module function of an elementwise primitive (documented in ``module``)."""
    def fn(x):
        return prim(to_tensor(x, prim.name))
    fn.__name__ = fn.__qualname__ = prim.name
    fn.__doc__ = doc
    fn.__module__ = module
    return fn


exp = _unary(P.exp, """eˣ elementwise.  d/dx eˣ = eˣ.

    >>> ag.exp(ag.tensor([0.0, 1.0]))
    Tensor([1.      , 2.718282], dtype=float32)
""")
log = _unary(P.log, """Natural logarithm elementwise.  d/dx log x = 1/x.

    >>> ag.log(ag.tensor([1.0, 2.718281828]))
    Tensor([0., 1.], dtype=float32)
""")
sqrt = _unary(P.sqrt, """√x elementwise.  d/dx √x = 1/(2√x).

    >>> ag.sqrt(ag.tensor([4.0, 2.0, -1.0]))                  # NaN below 0
    Tensor([2.       , 1.4142135,       nan], dtype=float32)
""")
abs = _unary(P.abs, """|x| elementwise.  d/dx |x| = sign(x) (0 at 0).

    >>> ag.abs(ag.tensor([-1.5, 0.0, 2.0]))                      # also ``absolute``
    Tensor([1.5, 0. , 2. ], dtype=float32)
""")  # noqa: A001
sin = _unary(P.sin, """sin x elementwise.  d/dx sin x = cos x.

    >>> ag.sin(ag.tensor([0.0, 1.5707964]))
    Tensor([0., 1.], dtype=float32)
""")
cos = _unary(P.cos, """cos x elementwise.  d/dx cos x = -sin x.

    >>> ag.cos(ag.tensor([0.0, 3.1415927]))
    Tensor([ 1., -1.], dtype=float32)
""")
tanh = _unary(P.tanh, """tanh x elementwise.  d/dx tanh x = 1 - tanh² x.

    >>> ag.tanh(ag.tensor([0.0, 1.0, 100.0]))
    Tensor([0.       , 0.7615942, 1.       ], dtype=float32)
""")
sigmoid = _unary(P.sigmoid, """σ(x) = 1/(1+e⁻ˣ), computed without overflow.  σ' = σ(1-σ).

    >>> ag.sigmoid(ag.tensor([0.0, 2.0, -1000.0]))            # no overflow
    Tensor([0.5     , 0.880797, 0.      ], dtype=float32)
""")
relu = _unary(P.relu, """max(x, 0) elementwise.  d/dx = 1 for x > 0, else 0.

    >>> ag.relu(ag.tensor([-1.0, 0.0, 2.0]))
    Tensor([0., 0., 2.], dtype=float32)
""")
reciprocal = _unary(P.reciprocal, """1/x elementwise.  d/dx 1/x = -1/x².

    >>> ag.reciprocal(ag.tensor([2.0, -0.5, 0.0]))
    Tensor([ 0.5, -2. ,  inf], dtype=float32)
""")


def clip(x, min=None, max=None):  # noqa: A002 - PyTorch/NumPy argument names
    """x limited to [min, max]; the gradient passes where min ≤ x ≤ max.

    Bounds may be numbers or tensors (then they get the gradient where they
    bind, as in ``torch.clamp``).

        >>> ag.clamp(ag.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)          # also ``clip``
        Tensor([0. , 0.5, 1. ], dtype=float32)
        >>> ag.clamp(ag.tensor([-2.0, 0.5, 3.0]), min=ag.tensor([0.0, 1.0, 0.0]))
        Tensor([0., 1., 3.], dtype=float32)
    """
    x = to_tensor(x, "clip")
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if isinstance(min, (TensorBase, np.ndarray)) or isinstance(max, (TensorBase, np.ndarray)):
        lo, hi = (None if b is None else lift(b, x, "clip") for b in (min, max))
        P.broadcast_shapes("clip", x.shape, *(b.shape for b in (lo, hi) if b is not None))
        out = x
        if lo is not None:
            out = P.where(lo, out, cond=P.less(x, lo)._d)
        if hi is not None:
            out = P.where(hi, out, cond=P.greater(x, hi)._d)
        return out
    return P.clip(x, lo=min, hi=max)


clamp = clip


def astype(x, dtype):
    """A cast. To a floating dtype it is differentiable (gradients are cast
    back); to an integer or bool dtype it cuts the graph, as in PyTorch.

        >>> x = ag.tensor([1.5, -2.5], requires_grad=True)
        >>> ag.astype(x, ag.float64)
        Tensor([ 1.5, -2.5], grad_fn=<astype>)
        >>> ag.astype(x, ag.int64)                                            # cuts the graph
        Tensor([ 1, -2])
    """
    x = to_tensor(x, "astype")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return P.cast(x, dtype=dtype)
    if dtype == x._d.dtype:
        return x
    return P.astype(x, dtype=dtype)


def detach(x):
    """The same data, outside the graph (shares memory and version).

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = ag.detach(x * 2)
        >>> y, y.requires_grad
        (Tensor([2., 4.], dtype=float32), False)
    """
    return to_tensor(x, "detach").detach()


# NumPy's names, so ``np.subtract`` and friends dispatch (see tensor.__array_ufunc__).
subtract, multiply, divide, true_divide, negative, absolute = sub, mul, div, div, neg, abs
