"""Line searches on flat vectors: backtracking (Armijo) and strong Wolfe.

Both take an objective along a ray in the form used by the quasi-Newton
optimisers::

    obj_func(x, t, d) -> (loss, flat_grad)     # at the point x + t·d

where ``x`` is the starting point (a flat vector, or whatever the caller uses
to restore it), ``d`` a descent direction, and return

    (f_new, g_new, t, func_evals)

the loss and gradient at the accepted step ``t`` and the number of calls made.
``f``, ``g`` and ``gtd = gᵀd`` describe the starting point (t = 0).

The strong-Wolfe search is Nocedal & Wright's Algorithm 3.5 (bracketing)
with Algorithm 3.6 (zoom), using safeguarded cubic interpolation for every
trial step; the choices of safeguards (extrapolation to at most 10× the last
step, at least 1 % beyond it; trial points kept 10 % of the bracket away from
its ends after insufficient progress) are those of minFunc and of PyTorch's
LBFGS, so that ``optim.LBFGS(line_search_fn='strong_wolfe')`` takes the same
steps as ``torch.optim.LBFGS``.
"""
from __future__ import annotations


import numpy as np

__all__ = ["cubic_interpolate", "backtracking", "strong_wolfe"]


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2).

    The result is clipped to ``bounds`` (default: the interval between x1 and
    x2); without a real minimiser the middle of the bounds is returned. With
    d₁ = g₁ + g₂ − 3 (f₁ − f₂)/(x₁ − x₂) and d₂ = sign(x₂ − x₁)·√(d₁² − g₁g₂)
    (N&W eq. 3.59)::

        x = x₂ − (x₂ − x₁) (g₂ + d₂ − d₁) / (g₂ − g₁ + 2 d₂)

        >>> from optim.line_search import cubic_interpolate
        >>> float(cubic_interpolate(0.0, 1.0, -2.0, 3.0, 4.0, 4.0))   # f = (x − 1)²: f, f′ at 0 and 3
        1.0
    """
    if bounds is None:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    else:
        lo, hi = bounds
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    # Written from the end point on the right so the sign of d₂ is positive.
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def backtracking(obj_func, x, t, d, f, g, gtd, c1=1e-4, rho=0.5, max_ls=25):
    """Armijo backtracking: try t, ρt, ρ²t, … until f(x + t d) ≤ f + c₁ t gᵀd.

    N&W Algorithm 3.1. If no trial satisfies the condition within ``max_ls``
    evaluations, the step is rejected: ``(f, g, 0.0, evals)`` is returned, so
    the caller stays at x. ``obj_func`` may return ``None`` as the gradient
    when only values are needed.

        >>> from optim.line_search import backtracking
        >>> def obj_func(x, t, d):                     # f(x) = ½‖x‖² along x + t·d
        ...     x_new = x + t * d
        ...     return 0.5 * float(x_new @ x_new), x_new
        >>> x = np.array([2.0, 0.0])
        >>> f, g = obj_func(x, 0.0, x)
        >>> d = -g                                     # steepest descent: gᵀd = −4
        >>> backtracking(obj_func, x, 2.0, d, f, g, float(g @ d))    # t = 2 overshoots, t = 1 is taken
        (0.0, array([0., 0.]), 1.0, 2)
    """
    if not 0 < rho < 1:
        raise ValueError(f"backtracking: rho must be in (0, 1), got {rho}")
    if not 0 < c1 < 1:
        raise ValueError(f"backtracking: c1 must be in (0, 1), got {c1}")
    evals = 0
    while evals < max_ls:
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        if f_new <= f + c1 * t * gtd:
            return f_new, g_new, t, evals
        t = t * rho
    return f, g, 0.0, evals


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """A step t satisfying the strong Wolfe conditions

        f(x + t d) ≤ f + c₁ t gᵀd        and        |∇f(x + t d)ᵀd| ≤ c₂ |gᵀd|

    (N&W Algorithms 3.5 and 3.6). Stops early if the bracket becomes shorter
    than ``tolerance_change`` (measured along d in the max norm) or after
    ``max_ls`` evaluations; then the best point found is returned.

        >>> from optim.line_search import strong_wolfe
        >>> def obj_func(x, t, d):                     # f(x) = ½‖x‖² along x + t·d
        ...     x_new = x + t * d
        ...     return 0.5 * float(x_new @ x_new), x_new
        >>> x = np.array([2.0, 0.0])
        >>> f, g = obj_func(x, 0.0, x)
        >>> d = -g                                     # steepest descent: gᵀd = −4
        >>> strong_wolfe(obj_func, x, 1.0, d, f, g, float(g @ d))    # (f_new, g_new, t, evaluations)
        (0.0, array([0., 0.]), 1.0, 1)
    """
    d_norm = np.abs(d).max()
    armijo = lambda t_, f_: f_ > f + c1 * t_ * gtd          # noqa: E731  (sufficient decrease fails)
    curvature_ok = lambda gtd_: abs(gtd_) <= -c2 * gtd      # noqa: E731

    # ---- Algorithm 3.5: find an interval that contains an acceptable step.
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)
    # (t, f, g, gᵀd) at the previous trial; starts at the origin.
    prev = (0, f, g, gtd)
    bracket = None          # [(t, f, g, gtd), (t, f, g, gtd)] once an interval is known
    found = None            # (t, f, g) once a strong-Wolfe point is found
    it = 0
    while it < max_ls:
        cur = (t, f_new, g_new, gtd_new)
        if armijo(t, f_new) or (it > 1 and f_new >= prev[1]):
            bracket = [prev, cur]
            break
        if curvature_ok(gtd_new):
            found = cur
            break
        if gtd_new >= 0:
            bracket = [prev, cur]
            break
        # Extrapolate: a cubic step within [t + 0.01 (t − t_prev), 10 t].
        t_next = cubic_interpolate(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = cur
        t = t_next
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1

    if found is not None:
        return found[1], found[2], found[0], evals
    if it == max_ls:
        # Out of evaluations while still extrapolating: best of the origin and
        # the last trial (no zoom: the budget is spent).
        if f <= f_new:
            return f, g, 0, evals
        return f_new, g_new, t, evals

    # ---- Algorithm 3.6: zoom in on the bracket. ``lo`` has the lower f.
    lo, hi = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
    stalled = False
    done = False
    while not done and it < max_ls:
        a, b = bracket[0][0], bracket[1][0]
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(a, bracket[0][1], bracket[0][3], b, bracket[1][1], bracket[1][3])
        # Keep the trial away from the ends once progress stalls.
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if stalled or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False

        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1
        cur = (t, f_new, g_new, gtd_new)
        if armijo(t, f_new) or f_new >= bracket[lo][1]:
            bracket[hi] = cur                     # the trial is the new high end
            lo, hi = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if curvature_ok(gtd_new):
                done = True
            elif gtd_new * (bracket[hi][0] - bracket[lo][0]) >= 0:
                bracket[hi] = bracket[lo]         # the old low end becomes the high end
            bracket[lo] = cur
    best = bracket[lo]
    return best[1], best[2], best[0], evals
