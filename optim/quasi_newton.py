"""Quasi-Newton optimisers: L-BFGS (PyTorch-compatible), BFGS and SR1.

All three work on the parameters flattened into one vector x, keep their
global state under the first parameter (as PyTorch's LBFGS does, so state
dicts load into an optimiser over new parameters), allow one parameter group,
and need a closure::

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    opt.step(closure)      # up to max_iter iterations; returns the first loss

One ``step`` runs up to ``max_iter`` iterations (and ``max_eval`` closure
calls), stopping early when the gradient is below ``tolerance_grad`` (max
norm) or the change in x or in the loss is below ``tolerance_change``.
"""
from __future__ import annotations

import numpy as np

from autograd_core import no_grad

from .optimizer import (FlatStateOptimizer, add_flat_, call_closure, check_choice,
                        check_nonnegative, check_positive_int, gather_flat_grad)

__all__ = ["LBFGS", "BFGS", "SR1", "trust_region_subproblem"]


def _qn_defaults(lr, max_iter, max_eval, tolerance_grad, tolerance_change, **extra):
    if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
        max_eval = max_iter * 5 // 4
    return dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                tolerance_change=tolerance_change, **extra)


def _gradient_small(flat_grad, group):
    return np.abs(flat_grad).max() <= group["tolerance_grad"]


def _first_step(flat_grad, lr):
    """min(1, 1/‖g‖₁)·lr: the step along −g before there is any curvature memory."""
    return min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr


class _QuasiNewton(FlatStateOptimizer):
    """The step template of LBFGS, BFGS and SR1.

    ``step(closure)`` evaluates the closure once (loss f and flat gradient g;
    nothing else happens if max|g| ≤ ``tolerance_grad``), then runs up to
    ``max_iter`` iterations of ``_iterate`` — the method's own rule, under
    ``no_grad`` — each returning the new (f, g), the closure calls it made
    and whether it stalled (or None: no descent direction, stop). It stops
    after ``max_iter`` iterations, once ``max_eval`` closure calls are made,
    when max|g| ≤ ``tolerance_grad``, or when an iteration stalls. The counts
    ``n_iter`` and ``func_evals`` and every method's memory live in the state
    of the first parameter, so they persist across steps and state dicts.
    """

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "tolerance_grad", "tolerance_change")
        check_positive_int(group["max_iter"], "max_iter")
        check_positive_int(group["max_eval"], "max_eval")

    def _iterate(self, closure, group, state, loss, flat_grad, last):
        """One iteration from (loss, flat_grad); ``last`` is True on the step's
        last iteration. Returns (loss, flat_grad, closure calls, stalled), or
        None to stop."""
        raise NotImplementedError

    def step(self, closure=None):
        """Up to ``max_iter`` iterations; returns the loss at the start (the
        closure's first value, as PyTorch's LBFGS)."""
        self._require_closure(closure)
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = call_closure(closure)
        loss, flat_grad = float(orig_loss), gather_flat_grad(self._params)
        state["func_evals"] += 1
        evals = 1
        if _gradient_small(flat_grad, group):
            return orig_loss

        with no_grad():
            for n_iter in range(1, group["max_iter"] + 1):
                state["n_iter"] += 1
                last = n_iter == group["max_iter"]
                result = self._iterate(closure, group, state, loss, flat_grad, last)
                if result is None:
                    break
                loss, flat_grad, calls, stalled = result
                evals += calls
                state["func_evals"] += calls
                if last or evals >= group["max_eval"] or stalled \
                        or _gradient_small(flat_grad, group):
                    break
        return orig_loss


class _LineSearchQuasiNewton(_QuasiNewton):
    """The iteration of LBFGS and BFGS: x ← x + t·d along the method's own
    direction d = −H g (``_direction``, which also updates its memory from the
    last step s = t·d and y = g − g_prev).

    The step t starts at min(1, 1/‖g‖₁)·lr on the very first iteration and at
    lr afterwards; a line search (``line_search_fn``) then moves it, or the
    step is taken as it is — and then the closure is not called after the
    step's last iteration (the next step evaluates there anyway). If gᵀd >
    −``tolerance_change``, ``_restart`` gives another direction (or None:
    stop). An iteration stalls when max|t·d| ≤ ``tolerance_change`` or the
    loss changed by less than ``tolerance_change``.
    """

    def _direction(self, state, flat_grad, first):
        """d = −H g, after updating the memory with the last step (not on the
        ``first`` iteration ever)."""
        raise NotImplementedError

    def _restart(self, state, flat_grad):
        """The direction to take when d is not a descent direction (None: stop)."""
        return None

    def _iterate(self, closure, group, state, loss, flat_grad, last):
        first = state["n_iter"] == 1
        d = self._direction(state, flat_grad, first)
        state["prev_flat_grad"] = flat_grad.copy()
        state["prev_loss"] = prev_loss = loss
        lr, tolerance_change = group["lr"], group["tolerance_change"]
        t = state["t"] = _first_step(flat_grad, lr) if first else lr
        state["d"] = d
        gtd = flat_grad.dot(d)
        if gtd > -tolerance_change:
            # On the first iteration d is −g already: no other direction to try.
            d = None if first else self._restart(state, flat_grad)
            if d is None:
                return None
            state["d"] = d
            t = state["t"] = _first_step(flat_grad, lr)
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                return None

        kind = group["line_search_fn"]
        if kind is not None:
            loss, flat_grad, t, calls = self._line_search(closure, kind, t, d, loss,
                                                          flat_grad, gtd)
            add_flat_(self._params, t, d)
        else:
            add_flat_(self._params, t, d)
            calls = 0
            if not last:
                loss, flat_grad = self._evaluate(closure)
                calls = 1
        state["t"] = t
        stalled = (np.abs(d * t).max() <= tolerance_change
                   or abs(loss - prev_loss) < tolerance_change)
        return loss, flat_grad, calls, stalled


class LBFGS(_LineSearchQuasiNewton):
    r"""``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100, line_search_fn=None)``

    Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989), the algorithm and
    semantics of ``torch.optim.LBFGS``: the two-loop recursion over the last
    ``history_size`` pairs (s, y) with initial scaling H₀ = sᵀy / yᵀy; pairs
    with sᵀy ≤ 1e-10 are skipped; the first iteration ever takes the step
    min(1, 1/‖g‖₁)·lr along −g, later ones lr along the quasi-Newton
    direction; ``line_search_fn='strong_wolfe'`` replaces the fixed step by a
    strong-Wolfe search (``optim.line_search.strong_wolfe``, up to 25 closure
    calls; ``max_eval`` is checked after it). ``max_eval`` defaults to
    ``max_iter * 5 // 4``. The memory persists across ``step`` calls (and
    state dicts).

    One difference from PyTorch 2.13: there the line search may only use what
    is left of ``max_eval``, so with ``max_iter=1`` (``max_eval=1``) it can
    make no trial beyond the first and a step that overshoots is rejected
    every time; here it keeps its 25 calls, as earlier PyTorch releases did.

        >>> model = nn.Linear(2, 1)
        >>> x = ag.randn(20, 2)
        >>> y = x @ ag.tensor([[2.0], [-1.0]]) + 0.5            # a line to fit
        >>> opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        >>> def closure():                                      # zero_grad, loss, backward, loss
        ...     opt.zero_grad()
        ...     loss = F.mse_loss(model(x), y)
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> model.weight.data.round(3), model.bias.data.round(3)
        (array([[ 2., -1.]], dtype=float32), array([0.5], dtype=float32))
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        defaults = _qn_defaults(lr, max_iter, max_eval, tolerance_grad, tolerance_change,
                                history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        super()._validate_group(group)
        check_positive_int(group["history_size"], "history_size")
        check_choice(group["line_search_fn"], "line_search_fn", (None, "strong_wolfe"))

    def _direction(self, state, flat_grad, first):
        """d = −H g by the two-loop recursion, after adding the newest pair (s, y)."""
        if first:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return -flat_grad
        history_size = self.param_groups[0]["history_size"]
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        if "al" not in state or len(state["al"]) < history_size:
            state["al"] = [None] * history_size
        al = state["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q -= al[i] * old_dirs[i]
        d = r = q * state["H_diag"]
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return d


class BFGS(_LineSearchQuasiNewton):
    r"""``BFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, line_search_fn='strong_wolfe')``

    BFGS with a dense inverse-Hessian approximation H (N&W Algorithm 6.1)::

        d = −H g ;  x ← x + t d          (t from the line search)
        H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ,   ρ = 1 / yᵀs

    H starts as the identity; before the first update it is rescaled to
    (yᵀs / yᵀy)·I (N&W eq. 6.20). Pairs with yᵀs ≤ 1e-10 are skipped (a
    strong-Wolfe step guarantees yᵀs > 0; the others do not). If −Hg is not a
    descent direction, H is forgotten and the iteration restarts from −g.
    ``line_search_fn``: ``'strong_wolfe'`` (default), ``'backtracking'``
    (Armijo), each with up to 25 closure calls, or None (fixed step:
    min(1, 1/‖g‖₁)·lr on the very first iteration, lr afterwards — as
    L-BFGS). Memory O(n²) in the number of parameters n: for small models.

        >>> x = ag.tensor([0.0, 0.0], dtype=ag.float64, requires_grad=True)
        >>> opt = optim.BFGS([x])
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2     # minimum at (1, −2)
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure)                    # the loss before the step, as PyTorch
        Tensor(41., grad_fn=<add>)
        >>> x.data.round(4)
        array([ 1., -2.])

    """

    _square_state_keys = ("H",)

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, line_search_fn="strong_wolfe"):
        defaults = _qn_defaults(lr, max_iter, max_eval, tolerance_grad, tolerance_change,
                                line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        super()._validate_group(group)
        check_choice(group["line_search_fn"], "line_search_fn",
                     (None, "strong_wolfe", "backtracking"))

    def _direction(self, state, flat_grad, first):
        """d = −H g, after the BFGS update of H with the newest pair (s, y)."""
        n = flat_grad.size
        H = state.get("H")
        if H is None:
            H = np.eye(n, dtype=flat_grad.dtype)
        state.setdefault("scaled", False)
        if not first:
            s = state["d"] * state["t"]
            y = flat_grad - state["prev_flat_grad"]
            ys = y.dot(s)
            if ys > 1e-10:
                if not state["scaled"]:
                    H = np.eye(n, dtype=flat_grad.dtype) * (ys / y.dot(y))
                    state["scaled"] = True
                rho = 1.0 / ys
                Hy = H @ y
                yHy = y.dot(Hy)
                H = (H + ((ys + yHy) * rho * rho) * np.outer(s, s)
                     - rho * (np.outer(Hy, s) + np.outer(s, Hy)))
        state["H"] = H
        return -(H @ flat_grad)

    def _restart(self, state, flat_grad):
        state["H"] = None
        state["scaled"] = False
        return -flat_grad


def trust_region_subproblem(B, g, radius):
    """Exact minimiser of gᵀs + ½ sᵀBs subject to ‖s‖ ≤ radius (B symmetric,
    possibly indefinite), by eigendecomposition (Moré & Sorensen; N&W §4.3).

    s(λ) = −(B + λI)⁻¹ g with the smallest λ ≥ max(0, −λ_min(B)) for which
    ‖s(λ)‖ ≤ radius, found by bisection on the secular equation
    ‖s(λ)‖ = radius; the "hard case" (g ⟂ the lowest eigenvectors) adds a
    multiple of the lowest eigenvector to reach the boundary.

        >>> from optim.quasi_newton import trust_region_subproblem
        >>> B, g = np.diag([2.0, 2.0]), np.array([-2.0, 0.0])
        >>> trust_region_subproblem(B, g, radius=10.0)             # inside: the Newton step −B⁻¹g
        array([ 1., -0.])
        >>> s = trust_region_subproblem(np.diag([-1.0, 1.0]), g, radius=0.5)
        >>> s, round(float(np.linalg.norm(s)), 6)                # indefinite B: on the boundary
        (array([ 0.5, -0. ]), 0.5)
    """
    lam, Q = np.linalg.eigh(B)
    gq = Q.T @ g
    gnorm = np.linalg.norm(g)

    def step_norm(shift):
        return np.sqrt(np.sum((gq / (lam + shift)) ** 2))

    if lam[0] > 0:
        s = -(Q @ (gq / lam))
        if np.linalg.norm(s) <= radius:
            return s
    lo = max(0.0, -lam[0])
    low_space = lam <= lam[0] + 1e-12 * max(1.0, abs(lam[0]))
    tiny = 1e-10 * max(gnorm, 1e-300)
    if lam[0] <= 0 and np.all(np.abs(gq[low_space]) <= tiny):
        # Hard case candidate: λ = −λ_min, step from the other eigen-directions.
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(low_space, 0.0, -gq / (lam + lo))
        s = Q @ coef
        ns = np.linalg.norm(s)
        if ns <= radius:
            tau = np.sqrt(max(radius ** 2 - ns ** 2, 0.0))
            return s + tau * Q[:, 0]
    # Bracket the root of ‖s(λ)‖ = radius in (lo, hi].
    hi = lo + gnorm / radius + abs(lam).max() + 1.0
    lo_b = lo
    for _ in range(200):
        mid = 0.5 * (lo_b + hi)
        if mid <= lo_b or mid >= hi:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            nm = step_norm(mid)
        if not np.isfinite(nm) or nm > radius:
            lo_b = mid
        else:
            hi = mid
    return -(Q @ (gq / (lam + hi)))


class SR1(_QuasiNewton):
    r"""``SR1(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, trust_radius=1.0, max_trust_radius=1000.0, eta=1e-4, skip_threshold=1e-8)``

    Symmetric-rank-one quasi-Newton in a trust region (N&W Algorithm 6.2).
    SR1 keeps a Hessian approximation B that may be indefinite — which is its
    point: it can model negative curvature — so a line search along −B⁻¹g is
    not safe; a trust region is. Each iteration:

    1. s = argmin gᵀs + ½ sᵀBs over ‖s‖ ≤ Δ, solved exactly by
       eigendecomposition (``trust_region_subproblem``; n is small since B is
       dense), scaled by ``lr`` (default 1);
    2. one closure call at x + s; ρ = (f(x) − f(x + s)) / (−gᵀs − ½ sᵀBs);
       the step is accepted if ρ > ``eta``;
    3. Δ ← 2Δ (at most ``max_trust_radius``) if ρ > 0.75 and ‖s‖ > 0.8Δ;
       Δ ← Δ/2 if ρ < 0.1;
    4. with y = ∇f(x + s) − g and v = y − Bs, B ← B + v vᵀ / vᵀs — skipped
       unless |sᵀv| ≥ ``skip_threshold``·‖s‖‖v‖ (the standard safeguard,
       N&W eq. 6.26); B is updated even after a rejected step.

    B starts as I, rescaled to (yᵀy / yᵀs)·I at the first pair with yᵀs > 0.

        >>> x = ag.tensor([0.0, 0.0], dtype=ag.float64, requires_grad=True)
        >>> opt = optim.SR1([x], max_iter=50)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2     # minimum at (1, −2)
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> x.data.round(4)
        array([ 1., -2.])
    """

    _square_state_keys = ("B",)

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, trust_radius=1.0, max_trust_radius=1000.0, eta=1e-4,
                 skip_threshold=1e-8):
        defaults = _qn_defaults(lr, max_iter, max_eval, tolerance_grad, tolerance_change,
                                trust_radius=trust_radius, max_trust_radius=max_trust_radius,
                                eta=eta, skip_threshold=skip_threshold)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        super()._validate_group(group)
        if not group["trust_radius"] > 0:
            raise ValueError(f"Invalid trust_radius: {group['trust_radius']}")
        if not group["max_trust_radius"] >= group["trust_radius"]:
            raise ValueError(f"Invalid max_trust_radius: {group['max_trust_radius']} "
                             f"(must be >= trust_radius {group['trust_radius']})")
        if not 0 <= group["eta"] < 0.25:
            raise ValueError(f"Invalid eta: {group['eta']} (expected 0 <= eta < 0.25)")
        check_nonnegative(group, "skip_threshold")

    def _iterate(self, closure, group, state, loss, flat_grad, last):
        n = flat_grad.size
        radius = state.setdefault("trust_radius", float(group["trust_radius"]))
        B = state.get("B")
        if B is None:
            B = np.eye(n, dtype=flat_grad.dtype)
        scaled = state.get("scaled", False)

        s = trust_region_subproblem(B.astype(np.float64), flat_grad.astype(np.float64),
                                    radius).astype(flat_grad.dtype) * group["lr"]
        pred = -(flat_grad.dot(s) + 0.5 * s.dot(B @ s))
        x0 = self._snapshot()
        add_flat_(self._params, 1, s)
        new_loss, new_grad = self._evaluate(closure)
        y = new_grad - flat_grad
        ratio = (loss - new_loss) / pred if pred > 0 else -np.inf
        snorm = np.linalg.norm(s)

        if not scaled:
            ys = y.dot(s)
            if ys > 0:
                B = np.eye(n, dtype=flat_grad.dtype) * (y.dot(y) / ys)
                scaled = True
        v = y - B @ s
        sv = s.dot(v)
        if abs(sv) >= group["skip_threshold"] * snorm * np.linalg.norm(v) and sv != 0:
            B = B + np.outer(v, v) / sv

        accepted = ratio > group["eta"] and np.isfinite(new_loss)
        if not accepted:
            self._restore(x0)
        if ratio > 0.75:
            if snorm > 0.8 * radius:
                radius = min(2.0 * radius, group["max_trust_radius"])
        elif ratio < 0.1:
            radius = 0.5 * radius
        state.update(B=B, scaled=scaled, trust_radius=radius)

        tolerance_change = group["tolerance_change"]
        stalled = (radius <= tolerance_change or snorm <= tolerance_change
                   or (accepted and abs(new_loss - loss) < tolerance_change))
        if accepted:
            loss, flat_grad = new_loss, new_grad
        return loss, flat_grad, 1, stalled
