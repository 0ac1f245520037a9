"""Mathematical functions under PyTorch's names: special, hyperbolic and
inverse trigonometric functions, rounding, two-operand functions (atan2,
hypot, fmod, lerp), products (einsum, mm, bmm, dot, outer, addmm, ...),
activations, and closeness tests.

Each is differentiable in both modes: a primitive of the table
(``primitives``, section "Math primitives") or a composite of primitives.
Rounding functions (floor, ceil, round, trunc, sign) have zero gradient, as
PyTorch defines it; ``frac`` passes the gradient unchanged.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import primitives as P
from ..core import TensorBase, _escape, lift
from ._args import one_axis, pair, to_tensor
from .arithmetic import _unary, clip
from .linalg import matmul
from .shape import broadcast_to, reshape

__all__ = [
    # elementwise
    "log1p", "expm1", "exp2", "log2", "log10", "square", "rsqrt", "sinh", "cosh",
    "asinh", "acosh", "atanh", "asin", "acos", "atan", "arcsinh", "arccosh", "arctanh",
    "arcsin", "arccos", "arctan", "erf", "erfc",
    "sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "frac", "nan_to_num",
    "clamp_min", "clamp_max",
    # two operands
    "atan2", "arctan2", "hypot", "fmod", "remainder", "lerp",
    # products
    "einsum", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "tensordot",
    # activations
    "gelu", "silu", "mish", "softplus", "logsigmoid", "hardtanh", "relu6", "elu", "selu",
    "celu", "softsign", "hardsigmoid", "hardswish",
    # closeness
    "isclose", "allclose",
]

# ---------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------

log1p = _unary(P.log1p, """log(1 + x), accurate for small x.  d/dx = 1/(1 + x).

    >>> ag.log1p(ag.tensor([0.0, 1e-10, 1.0], dtype=ag.float64))
    Tensor([0.00000000e+00, 1.00000000e-10, 6.93147181e-01])
""", __name__)
expm1 = _unary(P.expm1, """eˣ - 1, accurate for small x.  d/dx = eˣ.

    >>> ag.expm1(ag.tensor([0.0, 1e-10, 1.0], dtype=ag.float64))
    Tensor([0.00000000e+00, 1.00000000e-10, 1.71828183e+00])
""", __name__)
exp2 = _unary(P.exp2, """2ˣ.  d/dx = 2ˣ log 2.

    >>> ag.exp2(ag.tensor([-1.0, 0.0, 3.0]))
    Tensor([0.5, 1. , 8. ], dtype=float32)
""", __name__)
log2 = _unary(P.log2, """log₂ x (exact at powers of 2).  d/dx = 1/(x log 2).

    >>> ag.log2(ag.tensor([0.5, 1.0, 8.0]))
    Tensor([-1.,  0.,  3.], dtype=float32)
""", __name__)
log10 = _unary(P.log10, """log₁₀ x.  d/dx = 1/(x log 10).

    >>> ag.log10(ag.tensor([0.01, 1.0, 1000.0]))
    Tensor([-2.0000002,  0.       ,  3.0000002], dtype=float32)
""", __name__)
sinh = _unary(P.sinh, """sinh x = (eˣ - e⁻ˣ)/2.  d/dx = cosh x.

    >>> ag.sinh(ag.tensor([0.0, 1.0]))
    Tensor([0.       , 1.1752012], dtype=float32)
""", __name__)
cosh = _unary(P.cosh, """cosh x = (eˣ + e⁻ˣ)/2.  d/dx = sinh x.

    >>> ag.cosh(ag.tensor([0.0, 1.0]))
    Tensor([1.       , 1.5430807], dtype=float32)
""", __name__)
asinh = _unary(P.asinh, """sinh⁻¹ x = log(x + √(x² + 1)); also ``arcsinh``.  d/dx = 1/√(x² + 1).

    >>> ag.asinh(ag.tensor([0.0, 1.0]))
    Tensor([0.       , 0.8813736], dtype=float32)
""", __name__)
acosh = _unary(P.acosh, """cosh⁻¹ x (NaN below 1); also ``arccosh``.  d/dx = 1/√(x² - 1).

    >>> ag.acosh(ag.tensor([1.0, 2.0, 0.5]))
    Tensor([0.      , 1.316958,      nan], dtype=float32)
""", __name__)
atanh = _unary(P.atanh, """tanh⁻¹ x (±inf at ±1); also ``arctanh``.  d/dx = 1/(1 - x²).

    >>> ag.atanh(ag.tensor([0.0, 0.5, 1.0]))
    Tensor([0.        , 0.54930615,        inf], dtype=float32)
""", __name__)
asin = _unary(P.asin, """sin⁻¹ x, in [-π/2, π/2]; also ``arcsin``.  d/dx = 1/√(1 - x²).

    >>> ag.asin(ag.tensor([0.0, 0.5, 1.0]))
    Tensor([0.       , 0.5235988, 1.5707964], dtype=float32)
""", __name__)
acos = _unary(P.acos, """cos⁻¹ x, in [0, π]; also ``arccos``.  d/dx = -1/√(1 - x²).

    >>> ag.acos(ag.tensor([1.0, 0.0, -1.0]))
    Tensor([0.       , 1.5707964, 3.1415927], dtype=float32)
""", __name__)
atan = _unary(P.atan, """tan⁻¹ x, in (-π/2, π/2); also ``arctan``.  d/dx = 1/(1 + x²).

    >>> ag.atan(ag.tensor([0.0, 1.0, float("inf")]))
    Tensor([0.       , 0.7853982, 1.5707964], dtype=float32)
""", __name__)
erf = _unary(P.erf, """The error function erf x = 2/√π ∫₀ˣ e^(-t²) dt (NumPy kernel, ~1e-15
relative accuracy).  d/dx = 2/√π e^(-x²).

    >>> ag.erf(ag.tensor([0.0, 0.5, 3.0]))
    Tensor([0.       , 0.5204999, 0.9999779], dtype=float32)
""", __name__)
erfc = _unary(P.erfc, """erfc x = 1 - erf x, accurate where it is tiny.  d/dx = -2/√π e^(-x²).

    >>> ag.erfc(ag.tensor([0.0, 10.0], dtype=ag.float64))
    Tensor([1.00000000e+00, 2.08848758e-45])
""", __name__)
# NumPy's names (and torch's aliases)
arcsinh, arccosh, arctanh, arcsin, arccos, arctan = asinh, acosh, atanh, asin, acos, atan


def square(x):
    """x², elementwise (integers stay integers).  d/dx = 2x.

        >>> ag.square(ag.tensor([1.0, -3.0]))
        Tensor([1., 9.], dtype=float32)
        >>> ag.square(ag.tensor([2, -3]))
        Tensor([4, 9])
    """
    x = to_tensor(x, "square")
    return P.mul(x, x)


def rsqrt(x):
    """1/√x, elementwise (inf at 0).  d/dx = -1/(2 x^(3/2)).

        >>> ag.rsqrt(ag.tensor([0.25, 4.0, 0.0]))
        Tensor([2. , 0.5, inf], dtype=float32)
    """
    return P.reciprocal(P.sqrt(to_tensor(x, "rsqrt")))


def _step(prim, x, fn, **settings):
    """A rounding function: integers (and bools) are already rounded — a copy."""
    x = to_tensor(x, fn)
    if x._d.dtype.kind in "biu":
        return P.copy(x)
    return prim(x, **settings)


def floor(x):
    """⌊x⌋, elementwise; the gradient is zero (PyTorch's definition).

        >>> ag.floor(ag.tensor([-1.5, 0.5, 2.0]))
        Tensor([-2.,  0.,  2.], dtype=float32)
    """
    return _step(P.floor, x, "floor")


def ceil(x):
    """⌈x⌉, elementwise; the gradient is zero.

        >>> ag.ceil(ag.tensor([-1.5, 0.5, 2.0]))
        Tensor([-1.,  1.,  2.], dtype=float32)
    """
    return _step(P.ceil, x, "ceil")


def trunc(x):
    """x rounded toward zero, elementwise (also ``fix``); the gradient is zero.

        >>> ag.trunc(ag.tensor([-1.5, 0.5, 2.7]))
        Tensor([-1.,  0.,  2.], dtype=float32)
    """
    return _step(P.trunc, x, "trunc")


fix = trunc


def round(x, decimals=0):  # noqa: A001 - torch's name
    """x rounded to ``decimals`` decimal places, halves to even (as torch and
    NumPy); the gradient is zero.

        >>> ag.round(ag.tensor([0.5, 1.5, 2.5, -0.5]))
        Tensor([ 0.,  2.,  2., -0.], dtype=float32)
        >>> ag.round(ag.tensor([1.2345, 2.675], dtype=ag.float64), decimals=2)
        Tensor([1.23, 2.68])
    """
    if not isinstance(decimals, numbers.Integral) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    return _step(P.round, x, "round", decimals=int(decimals))


def sign(x):
    """-1, 0 or 1 by the sign of x (0 for NaN, as in PyTorch); also ``sgn``. The
    gradient is zero.

        >>> ag.sign(ag.tensor([-2.0, 0.0, 3.0, float("nan")]))
        Tensor([-1.,  0.,  1.,  0.], dtype=float32)
    """
    x = to_tensor(x, "sign")
    if x._d.dtype == bool:
        return P.copy(x)
    return P.sign(x)


sgn = sign  # the same for real tensors


def frac(x):
    """x - trunc(x), the fractional part with x's sign.  d/dx = 1 (PyTorch's).

        >>> ag.frac(ag.tensor([1.25, -1.25]))
        Tensor([ 0.25, -0.25], dtype=float32)
    """
    x = to_tensor(x, "frac")
    if x._d.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating-point tensor, got dtype {x._d.dtype}")
    return x - P.trunc(x)


def _replaced_forward(x, nan, posinf, neginf):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf).astype(x.dtype, copy=False)


# x with its non-finite elements replaced (the values nan_to_num puts there)
_replaced = P.Constant("nan_to_num_values", _replaced_forward)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf``
    (by default 0, the largest and the lowest finite value of the dtype). The
    gradient passes where x is finite and is zero at the replaced elements.

        >>> x = ag.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
        >>> ag.nan_to_num(x)
        Tensor([ 0.0000000e+00,  3.4028235e+38, -3.4028235e+38,  1.0000000e+00], dtype=float32)
        >>> ag.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0)
        Tensor([-1.,  9., -9.,  1.], dtype=float32)
    """
    x = to_tensor(x, "nan_to_num")
    if x._d.dtype.kind != "f":
        return P.copy(x)
    info = np.finfo(x._d.dtype)
    fill = _replaced(x, nan=nan, posinf=info.max if posinf is None else posinf,
                     neginf=info.min if neginf is None else neginf)
    return P.where(fill, x, cond=P.logical_not(P.isfinite(x))._d)


def clamp_min(x, min):  # noqa: A002 - torch's argument name
    """max(x, min) elementwise (``clamp(x, min=min)``).

        >>> ag.clamp_min(ag.tensor([-1.0, 0.5, 2.0]), 0.0)
        Tensor([0. , 0.5, 2. ], dtype=float32)
    """
    return clip(x, min=min)


def clamp_max(x, max):  # noqa: A002
    """min(x, max) elementwise (``clamp(x, max=max)``).

        >>> ag.clamp_max(ag.tensor([-1.0, 0.5, 2.0]), 1.0)
        Tensor([-1. ,  0.5,  1. ], dtype=float32)
    """
    return clip(x, max=max)


# ---------------------------------------------------------------------------
# Two operands
# ---------------------------------------------------------------------------

def atan2(input, other):  # noqa: A002 - torch's argument names
    """The angle of the point (other, input): tan⁻¹(input/other) in the right
    quadrant, in (-π, π]; also ``arctan2``.  ∂/∂input = other/r², ∂/∂other =
    -input/r² (r² = input² + other²; both 0 at the origin, as in PyTorch).

        >>> ag.atan2(ag.tensor([1.0, 1.0, -1.0]), ag.tensor([1.0, -1.0, -1.0]))
        Tensor([ 0.7853981,  2.3561945, -2.3561945], dtype=float32)
    """
    y, x = pair(input, other, "atan2")
    return P.atan2(y, x)


arctan2 = atan2


def hypot(input, other):  # noqa: A002
    """√(input² + other²) without overflow.  ∂/∂input = input/hypot, ∂/∂other = other/hypot.

        >>> ag.hypot(ag.tensor([3.0, 1e30]), ag.tensor([4.0, 1e30]))
        Tensor([5.0000000e+00, 1.4142135e+30], dtype=float32)
    """
    x, y = pair(input, other, "hypot")
    return P.hypot(x, y)


def _check_divisor(fn, x, y):
    if x._d.dtype.kind in "biu" and y._d.dtype.kind in "biu" and np.any(y._d == 0):
        raise ZeroDivisionError(f"{fn}: integer division by zero (other has zeros)")


def fmod(input, other):  # noqa: A002
    """The remainder of input/other with the sign of input (C's fmod):
    input - trunc(input/other)·other.  ∂/∂input = 1, ∂/∂other = -trunc(input/other).

        >>> ag.fmod(ag.tensor([-3.0, 3.0]), 2.0)
        Tensor([-1.,  1.], dtype=float32)
        >>> ag.fmod(ag.tensor([-3, 3]), 2)
        Tensor([-1,  1])
    """
    x, y = pair(input, other, "fmod")
    _check_divisor("fmod", x, y)
    return P.fmod(x, y)


def remainder(input, other):  # noqa: A002
    """The remainder of input/other with the sign of other (Python's %):
    input - floor(input/other)·other.  ∂/∂input = 1, ∂/∂other = -floor(input/other).

        >>> ag.remainder(ag.tensor([-3.0, 3.0]), 2.0)
        Tensor([1., 1.], dtype=float32)
        >>> ag.remainder(ag.tensor([-3, 3]), -2)
        Tensor([-1, -1])
    """
    x, y = pair(input, other, "remainder")
    _check_divisor("remainder", x, y)
    return P.remainder(x, y)


_below_half = P.Constant("abs_below_half", lambda w: np.abs(w) < 0.5)


def lerp(input, end, weight):  # noqa: A002
    """input + weight·(end - input), computed as torch does (from ``end`` when
    |weight| ≥ ½, which is exact at weight = 1). ``weight`` is a number or a
    tensor (broadcast with the other two).

        >>> ag.lerp(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 6.0]), 0.25)
        Tensor([1.5, 3. ], dtype=float32)
        >>> ag.lerp(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 6.0]), ag.tensor([0.0, 1.0]))
        Tensor([1., 6.], dtype=float32)
    """
    start, end = pair(input, end, "lerp")
    if start._d.dtype.kind != "f" or end._d.dtype.kind != "f":
        raise TypeError(f"lerp: expected floating-point tensors, got dtypes {start._d.dtype} "
                        f"and {end._d.dtype}")
    scalar = isinstance(weight, numbers.Real) and not isinstance(weight, bool)
    w = None if scalar else lift(weight, start, "lerp")
    P.broadcast_shapes("lerp", start.shape, end.shape, *(() if scalar else (w.shape,)))
    diff = end - start
    if scalar:
        return start + diff * weight if abs(weight) < 0.5 else end - diff * (1.0 - weight)
    low = _below_half(w)
    return P.where(start + w * diff, end - diff * (1.0 - w), cond=low._d)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------

_LETTERS = P._LETTERS


def _sublist_equation(args):
    """torch.einsum(op1, [0, 1], op2, [1, 2], [0, 2]): the equation and operands."""
    operands, terms = [], []
    args = list(args)
    while len(args) >= 2:
        operands.append(args.pop(0))
        terms.append(args.pop(0))
    out = args.pop(0) if args else None

    def term(sub):
        parts = []
        for s in sub:
            if s is Ellipsis:
                parts.append("...")
            elif isinstance(s, numbers.Integral) and 0 <= s < len(_LETTERS):
                parts.append(_LETTERS[s])
            else:
                raise ValueError(f"einsum: subscripts in sublist format must be ints in "
                                 f"[0, {len(_LETTERS)}) or Ellipsis, got {s!r}")
        return "".join(parts)
    equation = ",".join(term(t) for t in terms)
    if out is not None:
        equation += "->" + term(out)
    return equation, operands


def _parse_term(term, fn):
    if term.count("...") > 1 or ("." in term.replace("...", "")):
        raise ValueError(f"{fn}: subscript {term!r} has a malformed ellipsis ('...' at most once)")
    bad = [c for c in term.replace("...", "") if c not in _LETTERS]
    if bad:
        raise ValueError(f"{fn}: subscript {term!r} has invalid characters {bad}: use letters "
                         f"a-z, A-Z and '...'")
    return term


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)``,
    ``einsum("ij,jk", [a, b])`` (implicit output: the letters used once, in
    alphabetical order) or the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.
    Ellipses broadcast; a size-1 axis broadcasts against the other operands'.

    y[out] = Σ over the letters not in ``out`` of Π_k x_k[subscripts_k].
    The derivatives are einsums too (every order).

        >>> a = ag.arange(6.0).reshape(2, 3)
        >>> b = ag.arange(3.0)
        >>> ag.einsum("ij,j->i", a, b)                  # a @ b
        Tensor([ 5., 14.], dtype=float32)
        >>> ag.einsum("ij->ji", a).shape                # transpose
        (3, 2)
        >>> ag.einsum("ii", ag.eye(3))                  # trace
        Tensor(3., dtype=float32)
        >>> ag.einsum("bij,bjk->bik", ag.ones(5, 2, 3), ag.ones(5, 3, 4)).shape
        (5, 2, 4)
        >>> ag.einsum(a, [0, 1], b, [1], [0])           # the sublist form of the first
        Tensor([ 5., 14.], dtype=float32)
    """
    fn = "einsum"
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    xs = [to_tensor(x, fn, f"operands[{i}]") for i, x in enumerate(operands)]
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = [_parse_term(t, fn) for t in lhs.split(",")]
    if len(terms) != len(xs):
        raise ValueError(f"{fn}: the equation {equation!r} has {len(terms)} operand subscripts "
                         f"but {len(xs)} operands were given")
    used = set(eq) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    # Ellipses: as many fresh letters as the most dimensions an ellipsis covers,
    # aligned on the right (NumPy's broadcasting).
    covered = []
    for k, (t, x) in enumerate(zip(terms, xs)):
        named = len(t.replace("...", ""))
        if "..." in t:
            if x.ndim < named:
                raise ValueError(f"{fn}: operand {k} has {x.ndim} dimensions, fewer than the "
                                 f"{named} letters of its subscript {t!r}")
            covered.append(x.ndim - named)
        else:
            if x.ndim != named:
                raise ValueError(f"{fn}: operand {k} has shape {x.shape} ({x.ndim} dimensions) "
                                 f"but its subscript {t!r} names {named}")
            covered.append(0)
    n_ell = max(covered, default=0)
    if n_ell > len(spare):
        raise ValueError(f"{fn}: too many dimensions for the 52 subscript letters")
    ell = "".join(spare[:n_ell])
    inputs = tuple(t.replace("...", ell[n_ell - c:]) for t, c in zip(terms, covered))
    if arrow:
        rhs = _parse_term(rhs, fn)
        output = rhs.replace("...", ell)
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"{fn}: output subscript {rhs!r} repeats {c!r}")
            if not any(c in t for t in inputs):
                raise ValueError(f"{fn}: output subscript {c!r} does not appear in the inputs "
                                 f"of {equation!r}")
    else:
        counts = {}
        for t in inputs:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    # One size per letter: size-1 axes broadcast (explicitly, so gradients sum back).
    sizes = {}
    for k, (t, x) in enumerate(zip(inputs, xs)):
        for c, n in zip(t, x.shape):
            if t.count(c) > 1 and n != x.shape[t.index(c)]:
                raise ValueError(f"{fn}: operand {k} of shape {x.shape} repeats subscript {c!r} "
                                 f"over axes of different sizes")
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                first = next(j for j, s in enumerate(inputs) if c in s
                             and xs[j].shape[s.index(c)] == sizes[c])
                raise ValueError(f"{fn}: subscript {c!r} has size {n} in operand {k} (shape "
                                 f"{x.shape}) but size {sizes[c]} in operand {first} (shape "
                                 f"{xs[first].shape}); they must be equal or 1")
    for k, (t, x) in enumerate(zip(inputs, xs)):
        full = tuple(sizes[c] for c in t)
        if full != x.shape:
            xs[k] = broadcast_to(x, full)
    return P.einsum(*xs, inputs=inputs, output=output)


def _shape_text(t):
    return "x".join(str(n) for n in t.shape)


def mm(input, mat2):  # noqa: A002
    """The matrix product of two 2-D tensors (no broadcasting, as ``torch.mm``):
    (n, m) @ (m, p) → (n, p).

        >>> ag.mm(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), ag.tensor([[1.0], [1.0]]))
        Tensor([[3.],
                [7.]], dtype=float32)
        >>> ag.mm(ag.ones(2, 3), ag.ones(2, 3))
        Traceback (most recent call last):
            ...
        ValueError: mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)
    """
    a, b = pair(input, mat2, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both arguments must be 2-D matrices, got shapes {a.shape} "
                         f"and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                         f"({_shape_text(a)} and {_shape_text(b)})")
    return P.matmul(a, b)


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting):
    out[i] = input[i] @ mat2[i], shape (b, n, p).

        >>> ag.bmm(ag.ones(4, 2, 3), ag.ones(4, 3, 5)).shape
        (4, 2, 5)
    """
    a, b = pair(input, mat2, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: both arguments must be 3-D batches of matrices, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: shapes {a.shape} and {b.shape} do not match: expected batch2 "
                         f"of shape ({a.shape[0]}, {a.shape[2]}, p)")
    return P.matmul(a, b)


def mv(input, vec):  # noqa: A002
    """The product of a matrix (n, m) and a vector (m,): (A v)ᵢ = Σⱼ Aᵢⱼ vⱼ.

        >>> ag.mv(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), ag.tensor([1.0, -1.0]))
        Tensor([-1., -1.], dtype=float32)
    """
    a, v = pair(input, vec, "mv")
    if a.ndim != 2 or v.ndim != 1 or a.shape[1] != v.shape[0]:
        raise ValueError(f"mv: expected a matrix (n, m) and a vector (m,), got shapes "
                         f"{a.shape} and {v.shape}")
    return matmul(a, v)


def dot(input, other):  # noqa: A002
    """Σᵢ aᵢ bᵢ for two 1-D tensors of one length (``torch.dot``).

        >>> ag.dot(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([4.0, 5.0, 6.0]))
        Tensor(32., dtype=float32)
    """
    a, b = pair(input, other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"dot: the tensors have {a.shape[0]} and {b.shape[0]} elements; "
                         f"they must have the same number")
    return matmul(a, b)


def inner(input, other):  # noqa: A002
    """Σ over the last axis of both (``torch.inner``): out[i..., j...] =
    Σₖ input[i..., k] other[j..., k]; a 0-d operand multiplies.

        >>> ag.inner(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
        Tensor(11., dtype=float32)
        >>> ag.inner(ag.ones(2, 3), ag.ones(4, 3)).shape
        (2, 4)
    """
    a, b = pair(input, other, "inner")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last dimensions of shapes {a.shape} and {b.shape} differ")
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def outer(input, vec2):  # noqa: A002
    """The outer product aᵢ bⱼ of two 1-D tensors, shape (n, m) (also ``ger``).

        >>> ag.outer(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 10.0, 100.0]))
        Tensor([[  1.,  10., 100.],
                [  2.,  20., 200.]], dtype=float32)
    """
    a, b = pair(input, vec2, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return P.mul(reshape(a, -1, 1), reshape(b, 1, -1))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """β·input + α·(mat1 @ mat2), ``input`` broadcastable to the product's shape
    (as ``torch.addmm``; with β = 0 ``input`` is ignored, NaNs included).

        >>> bias = ag.tensor([1.0, -1.0])
        >>> ag.addmm(bias, ag.ones(3, 2), ag.eye(2), alpha=2.0)
        Tensor([[3., 1.],
                [3., 1.],
                [3., 1.]], dtype=float32)
    """
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    c = lift(input, product, "addmm") if not isinstance(input, TensorBase) else input
    if not _broadcasts(c.shape, product.shape) or \
            np.broadcast_shapes(c.shape, product.shape) != product.shape:
        raise ValueError(f"addmm: input of shape {c.shape} does not broadcast to the product's "
                         f"shape {product.shape}")
    return (c * beta if beta != 1 else c) + product


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def tensordot(a, b, dims=2, *, axes=None):
    """Σ over pairs of axes of a and b (``torch.tensordot``, ``np.tensordot``):
    ``dims`` an int (the last ``dims`` axes of a with the first of b) or a pair of
    axis lists. ``axes=`` is NumPy's spelling.

        >>> a, b = ag.ones(2, 3, 4), ag.ones(3, 4, 5)
        >>> ag.tensordot(a, b, dims=2).shape            # Σ over a's (3, 4) with b's
        (2, 5)
        >>> ag.tensordot(a, b, dims=([1], [0])).shape
        (2, 4, 4, 5)
    """
    fn = "tensordot"
    a, b = pair(a, b, fn)
    if axes is not None:
        dims = axes
    if isinstance(dims, numbers.Integral):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"{fn}: dims {dims} is out of range for shapes {a.shape} and "
                             f"{b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        try:
            da, db = dims
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: dims must be an int or a pair of axis lists, "
                            f"got {dims!r}") from None
        da = [da] if isinstance(da, numbers.Integral) else list(da)
        db = [db] if isinstance(db, numbers.Integral) else list(db)
        if len(da) != len(db):
            raise ValueError(f"{fn}: dims {dims!r} pairs {len(da)} axes of a with {len(db)} of b")
        da = [one_axis(d, a.ndim, fn, "dims") for d in da]
        db = [one_axis(d, b.ndim, fn, "dims") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"{fn}: axis {i} of a (shape {a.shape}) has size {a.shape[i]} but "
                             f"axis {j} of b (shape {b.shape}) has size {b.shape[j]}")
    la = _LETTERS[:a.ndim]
    lb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        lb[j] = la[i]
    lb = "".join(lb)
    out = "".join(c for k, c in enumerate(la) if k not in da) + \
        "".join(c for k, c in enumerate(lb) if k not in db)
    return P.einsum(a, b, inputs=(la, lb), output=out)


# ---------------------------------------------------------------------------
# Activations (also in nn.functional under the same names)
# ---------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# SELU's constants (Klambauer et al. 2017), as PyTorch has them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _floating(x, fn):
    x = to_tensor(x, fn)
    if x._d.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point tensor, got dtype {x._d.dtype}")
    return x


def gelu(x, approximate="none"):
    """x·Φ(x), Φ the standard normal CDF, computed as ½x·erfc(-x/√2) (accurate for
    x ≪ 0 too); ``approximate='tanh'``: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).

        >>> ag.gelu(ag.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
        >>> ag.gelu(ag.tensor([-1.0, 0.0, 1.0]), approximate="tanh")
        Tensor([-0.158808,  0.      ,  0.841192], dtype=float32)
    """
    x = _floating(x, "gelu")
    if approximate == "none":
        return x * P.erfc(x * -_SQRT_HALF) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * (P.tanh(inner) + 1.0) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x):
    """x·σ(x) (the swish).  d/dx = σ(x)(1 + x(1 - σ(x))).

        >>> ag.silu(ag.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.2689414,  0.       ,  0.7310586], dtype=float32)
    """
    x = _floating(x, "silu")
    return x * P.sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    """(1/β) log(1 + e^{βx}), exact and finite everywhere; x itself where
    βx > ``threshold`` (PyTorch's switch to the identity).  d/dx = σ(βx).

        >>> ag.softplus(ag.tensor([-1.0, 0.0, 1.0, 30.0]))
        Tensor([ 0.31326163,  0.6931472 ,  1.3132616 , 30.        ], dtype=float32)
        >>> ag.softplus(ag.tensor([-1.0, 0.0, 1.0]), beta=2.0)
        Tensor([0.063464 , 0.3465736, 1.063464 ], dtype=float32)
    """
    x = _floating(x, "softplus")
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta!r}")
    return P.softplus(x, beta=float(beta), threshold=float(threshold))


def mish(x):
    """x·tanh(softplus(x)).

        >>> ag.mish(ag.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.3034014,  0.       ,  0.8650984], dtype=float32)
    """
    x = _floating(x, "mish")
    return x * P.tanh(P.softplus(x, beta=1.0, threshold=20.0))


def logsigmoid(x):
    """log σ(x) = -softplus(-x), exact for every x (-x below -700, -e⁻ˣ above 700).

        >>> ag.logsigmoid(ag.tensor([-1000.0, 0.0, 1000.0], dtype=ag.float64))
        Tensor([-1.00000000e+03, -6.93147181e-01, -0.00000000e+00])
    """
    x = _floating(x, "logsigmoid")
    return -P.softplus(-x, beta=1.0, threshold=math.inf)


def _check_range(fn, lo, hi):
    if lo > hi:
        raise ValueError(f"{fn}: min_val ({lo}) cannot be greater than max_val ({hi})")


# The masks and clipped values of the piecewise activations: constants of the
# derivative, computed by traced primitives so a compiled step recomputes them.
_strictly_inside = P.Constant("strictly_inside", lambda x, lo, hi: (x > lo) & (x < hi))
_clipped = P.Constant("clipped", lambda x, lo, hi: np.clip(x, lo, hi).astype(x.dtype, copy=False))
_at_least = P.Constant("at_least", lambda x, t: (x >= t).astype(x.dtype))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]; as in PyTorch the gradient is 1 strictly
    inside and 0 at and beyond the bounds (``clamp`` passes it at the bounds).

        >>> ag.hardtanh(ag.tensor([-2.0, 0.5, 2.0]))
        Tensor([-1. ,  0.5,  1. ], dtype=float32)
        >>> ag.hardtanh(ag.tensor([-2.0, 0.5, 2.0]), min_val=0.0, max_val=1.5)
        Tensor([0. , 0.5, 1.5], dtype=float32)
    """
    x = _floating(x, "hardtanh")
    _check_range("hardtanh", min_val, max_val)
    inside = _strictly_inside(x, lo=min_val, hi=max_val)
    return P.where(x, _clipped(x, lo=min_val, hi=max_val), cond=inside._d)


def relu6(x):
    """min(max(x, 0), 6) (``hardtanh(x, 0, 6)``).

        >>> ag.relu6(ag.tensor([-1.0, 3.0, 8.0]))
        Tensor([0., 3., 6.], dtype=float32)
    """
    return hardtanh(x, 0.0, 6.0)


def _exponential_unit(x, alpha, inner_scale):
    """x for x > 0, else α(e^{x·inner_scale} - 1): the exponential is taken of
    the non-positive part only, so no infinity reaches the backward pass."""
    positive = P.positive_mask(x)
    negative_part = P.where(x, 0, cond=P.logical_not(positive)._d)
    curve = P.expm1(negative_part * inner_scale) * alpha if inner_scale != 1 else \
        P.expm1(negative_part) * alpha
    return P.where(x, curve, cond=positive._d)


def elu(x, alpha=1.0):
    """x for x > 0, else α(eˣ - 1) (the gradient at 0 is α, as in PyTorch).

        >>> ag.elu(ag.tensor([-1.0, 0.0, 2.0]))
        Tensor([-0.63212055,  0.        ,  2.        ], dtype=float32)
        >>> ag.elu(ag.tensor([-1.0, 0.0, 2.0]), alpha=0.5)
        Tensor([-0.31606027,  0.        ,  2.        ], dtype=float32)
    """
    return _exponential_unit(_floating(x, "elu"), alpha, 1.0)


def selu(x):
    """scale·elu(x, α) with PyTorch's constants α ≈ 1.6733, scale ≈ 1.0507.

        >>> ag.selu(ag.tensor([-1.0, 0.0, 1.0]))
        Tensor([-1.1113307,  0.       ,  1.050701 ], dtype=float32)
    """
    return _exponential_unit(_floating(x, "selu"), _SELU_ALPHA, 1.0) * _SELU_SCALE


def celu(x, alpha=1.0):
    """x for x > 0, else α(e^{x/α} - 1).

        >>> ag.celu(ag.tensor([-1.0, 0.0, 1.0]), alpha=2.0)
        Tensor([-0.78693867,  0.        ,  1.        ], dtype=float32)
    """
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return _exponential_unit(_floating(x, "celu"), alpha, 1.0 / alpha)


def softsign(x):
    """x / (1 + |x|).  d/dx = 1/(1 + |x|)².

        >>> ag.softsign(ag.tensor([-3.0, 0.0, 1.0]))
        Tensor([-0.75,  0.  ,  0.5 ], dtype=float32)
    """
    x = _floating(x, "softsign")
    return x * P.reciprocal(P.abs(x) + 1.0)


def hardsigmoid(x):
    """0 for x ≤ -3, 1 for x ≥ 3, x/6 + ½ between (gradient 1/6 strictly inside).

        >>> ag.hardsigmoid(ag.tensor([-4.0, 0.0, 1.5, 4.0]))
        Tensor([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    x = _floating(x, "hardsigmoid")
    inside = _strictly_inside(x, lo=-3.0, hi=3.0)
    return P.where((x + 3.0) / 6.0, _at_least(x, t=3.0), cond=inside._d)   # torch's order


def hardswish(x):
    """x·hardsigmoid(x): 0 for x ≤ -3, x for x ≥ 3, x(x + 3)/6 between.

        >>> ag.hardswish(ag.tensor([-4.0, -1.0, 1.0, 4.0]))
        Tensor([ 0.        , -0.33333334,  0.6666667 ,  4.        ], dtype=float32)
    """
    x = _floating(x, "hardswish")
    inside = _strictly_inside(x, lo=-3.0, hi=3.0)
    # torch's formula and order, x·min(max(x + 3, 0), 6)/6, to its last bit: above
    # 3 that is x·6/6, which is not always x in floating point
    outside = P.where(x * 6.0 / 6.0, 0, cond=P.greater_equal(x, 3.0)._d)
    return P.where(x * (x + 3.0) / 6.0, outside, cond=inside._d)


# ---------------------------------------------------------------------------
# Closeness
# ---------------------------------------------------------------------------

_close = P.Constant("isclose", lambda a, b, rtol, atol, equal_nan: np.asarray(
    np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| ≤ atol + rtol·|other| elementwise, as a bool tensor (equal
    infinities are close; NaNs only with ``equal_nan``). No gradient.

        >>> nan = float("nan")
        >>> ag.isclose(ag.tensor([1.0, 1.0, nan]), ag.tensor([1.0 + 1e-7, 1.1, nan]))
        Tensor([ True, False, False])
        >>> ag.isclose(ag.tensor([nan]), ag.tensor([nan]), equal_nan=True)
        Tensor([ True])
    """
    a, b = pair(input, other, "isclose")
    if not _broadcasts(a.shape, b.shape):
        raise ValueError(f"isclose: shapes {a.shape} and {b.shape} cannot be broadcast together")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, "
                         f"atol={atol}")
    return _close(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """True if ``isclose`` holds everywhere (a Python bool, as ``torch.allclose``).

        >>> ag.allclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0 + 1e-9]))
        True
        >>> ag.allclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.1]))
        False
    """
    close = isclose(input, other, rtol, atol, equal_nan)
    _escape(close, "allclose() (a Python bool)")
    return bool(np.all(close._d))
