"""The error function with NumPy alone: ``erf`` and ``erfc`` to about 1e-15
relative accuracy (no SciPy at run time).

Two expansions cover the real line (erf is odd, erfc(-x) = 2 - erfc(x)):

* |x| ≤ 1/2: the Maclaurin series erf(x) = 2/√π Σₙ (-1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)),
  whose coefficients are exact;
* x > 1/2: erfc(x) = e^(-x²) · h(t) / (x - A + K) with t = (x - A - K)/(x - A + K),
  Schonfelder's map of [A, ∞) onto [-1, 1). h is smooth on the closed
  interval (h(1) = 1/√π), so a polynomial of degree 23 represents it to
  ~1e-17. Its coefficients are computed once, the first time they are
  needed: the Chebyshev interpolant of h through values of the standard
  library's ``math.erfc`` at Chebyshev nodes, found by solving the (perfectly
  conditioned) interpolation system at the rounded nodes, then written in
  powers of t for Horner's rule (well conditioned here: every power
  coefficient is below 1.1 in size).

e^(-x²) is taken as e^(-x_h²) · e^(-(x-x_h)(x+x_h)) with x_h = x rounded to 12
fractional bits, so that x_h² is exact: the relative error of erfc stays at a
few ulps instead of growing like x²·eps.

Large arrays are evaluated in blocks that fit the cache, with in-place
operations (about 25 times the cost of ``np.exp``); arrays of a few elements
go through ``math.erf`` directly (cheaper than the vectorised set-up).
"""
from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["erf", "erfc"]

_A = 0.5          # where the Maclaurin series hands over to the erfc expansion
_K = 3.0          # the scale of Schonfelder's map
_DEGREE = 23      # of the polynomial h (coefficients beyond it are below 1e-17)
_NODES = 48       # interpolation nodes (more than the degree: the tail is dropped)
_BLOCK = 1 << 16  # elements per block of the vectorised evaluation
_SMALL = 256      # arrays up to this size use math.erf / math.erfc element by element


def _exp_of_square(x):
    """exp(x²) for a Python float, x² split exactly (Veltkamp): ~1 ulp for any x."""
    c = 134217729.0 * x  # 2**27 + 1
    hi = c - (c - x)
    lo = x - hi
    return math.exp(hi * hi) * math.exp(2.0 * hi * lo + lo * lo)


def _erfcx(x):
    """exp(x²)·erfc(x) for x ≥ A, a Python float (reference values for the fit)."""
    if x < 25.0:
        return math.erfc(x) * _exp_of_square(x)
    # The asymptotic series: at x ≥ 25 its terms fall below 1e-17 long before
    # they start to grow.
    total, term, z = 1.0, 1.0, 2.0 * x * x
    for n in range(1, 20):
        term *= -(2 * n - 1) / z
        total += term
    return total / (x * math.sqrt(math.pi))


def _h(t):
    if t >= 1.0:
        return 1.0 / math.sqrt(math.pi)
    x = _A + _K * (1.0 + t) / (1.0 - t)
    return (x - _A + _K) * _erfcx(x)


@functools.cache
def _coefficients():
    """(Maclaurin coefficients of erf(x)/x in x², power coefficients of h in t)."""
    taylor = []
    for n in range(40):
        c = 2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
        taylor.append(c)
        if abs(c) * _A ** (2 * n) < 1e-18:
            break
    nodes = np.cos(np.pi * (np.arange(_NODES) + 0.5) / _NODES)
    values = np.array([_h(float(t)) for t in nodes])
    cheb = np.linalg.solve(np.polynomial.chebyshev.chebvander(nodes, _NODES - 1), values)
    power = np.polynomial.chebyshev.cheb2poly(cheb[:_DEGREE + 1])
    return tuple(taylor), tuple(float(c) for c in power)


def _horner(coefs, t, out):
    """out = Σ coefs[k] tᵏ, in place."""
    np.multiply(t, coefs[-1], out=out)
    out += coefs[-2]
    for c in coefs[-3::-1]:
        out *= t
        out += c
    return out


def _block(x, out, complement, b1, b2, b3):
    """erf (or erfc) of the float64 block ``x`` into ``out``; b1..b3 are scratch."""
    taylor, power = _coefficients()
    # erfc(|x|) by the expansion, for every element (the small ones are overwritten).
    ax = np.abs(x, out=b1)
    np.minimum(ax, 28.0, out=ax)              # erfc(28) < 1e-300: the same zero, no inf
    u = np.add(ax, _K - _A, out=b2)           # x - A + K
    t = np.divide(-2.0 * _K, u, out=b3)
    t += 1.0                                  # (x - A - K)/(x - A + K), exact at x = inf
    r = _horner(power, t, out)
    r /= u
    xh = np.multiply(ax, 4096.0, out=b3)
    np.rint(xh, out=xh)
    xh *= 1.0 / 4096.0
    d = np.subtract(ax, xh, out=b2)
    ax += xh
    d *= ax                                   # (x - x_h)(x + x_h)
    np.negative(d, out=d)
    np.exp(d, out=d)
    r *= d
    xh *= xh
    np.negative(xh, out=xh)
    np.exp(xh, out=xh)
    r *= xh                                   # erfc(|x|)
    if complement:
        _select(x < 0, np.subtract(2.0, r, out=b1), r)
    else:
        np.subtract(1.0, r, out=r)
        np.copysign(r, x, out=r)
    # |x| ≤ A: the Maclaurin series.
    small = np.abs(x, out=b1) <= _A
    if small.any():
        s = np.multiply(x, x, out=b2)
        p = _horner(taylor, s, b3)
        p *= x
        if complement:
            np.subtract(1.0, p, out=p)
        _select(small, p, r)
    return r


def _select(mask, a, out):
    """out = a where mask, in place, branch-free on the bits (a masked copy
    with ``where=`` is ten times slower on random masks)."""
    m = np.negative(mask.view(np.int8), dtype=np.int64)   # all ones where mask
    ai, oi = a.view(np.int64), out.view(np.int64)
    ai &= m
    np.invert(m, out=m)
    oi &= m
    oi |= ai


def _evaluate(x, complement, scalar_fn):
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    if flat.size <= _SMALL:
        out = np.array([scalar_fn(v) for v in flat.tolist()], dtype=np.float64)
    else:
        out = np.empty_like(flat)
        n = min(flat.size, _BLOCK)
        b1, b2, b3 = np.empty(n), np.empty(n), np.empty(n)
        for start in range(0, flat.size, _BLOCK):
            stop = min(start + _BLOCK, flat.size)
            m = stop - start
            _block(flat[start:stop], out[start:stop], complement, b1[:m], b2[:m], b3[:m])
    out = out.reshape(x.shape).astype(dtype, copy=False)
    return out if out.ndim else out[()]


def erf(x):
    """The error function erf(x) = 2/√π ∫₀ˣ e^(-s²) ds, elementwise (float64
    inside; float32/float16 inputs give results of their dtype)."""
    return _evaluate(x, False, math.erf)


def erfc(x):
    """The complementary error function erfc(x) = 1 - erf(x), accurate also
    where it is tiny (erfc(10) ≈ 2.1e-45)."""
    return _evaluate(x, True, math.erfc)
