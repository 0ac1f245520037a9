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

from .line_search import backtracking, strong_wolfe
from .optimizer import (_FlatStateOptimizer, add_flat_, call_closure, check_choice,
                        check_nonneg, check_positive_int, gather_flat_grad, set_flat_)

__all__ = ["LBFGS", "BFGS", "SR1"]


def _qn_defaults(lr, max_iter, max_eval, tolerance_grad, tolerance_change, **extra):
    if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
        max_eval = max_iter * 5 // 4
    return dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                tolerance_change=tolerance_change, **extra)


class _QuasiNewton(_FlatStateOptimizer):
    """Shared plumbing: validation and evaluation along a ray."""

    def _validate_group(self, group):
        check_nonneg(group["lr"], "learning rate")
        check_positive_int(group["max_iter"], "max_iter")
        check_positive_int(group["max_eval"], "max_eval")
        check_nonneg(group["tolerance_grad"], "tolerance_grad")
        check_nonneg(group["tolerance_change"], "tolerance_change")

    def _evaluate(self, closure):
        """(float loss, flat gradient) at the current parameters."""
        loss = float(call_closure(closure))
        return loss, gather_flat_grad(self._params)

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, flat grad) at x + t·d; the parameters are left at x."""
        add_flat_(self._params, t, d)
        loss, flat_grad = self._evaluate(closure)
        set_flat_(self._params, x)
        return loss, flat_grad

    def _clone_params(self):
        return [p.data.copy() for p in self._params]

    def _line_search(self, closure, kind, t, d, loss, flat_grad, gtd):
        """Run the named line search from the current parameters; returns
        (loss, flat_grad, t, evals) and leaves the parameters unchanged."""
        x0 = self._clone_params()

        def obj_func(x, t_, d_):
            return self._directional_evaluate(closure, x, t_, d_)

        search = strong_wolfe if kind == "strong_wolfe" else backtracking
        return search(obj_func, x0, t, d, loss, flat_grad, gtd)


class LBFGS(_QuasiNewton):
    r"""``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100, line_search_fn=None)``

    Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989), the algorithm and
    semantics of ``torch.optim.LBFGS``: the two-loop recursion over the last
    ``history_size`` pairs (s, y) with initial scaling H₀ = sᵀy / yᵀy; pairs
    with sᵀy ≤ 1e-10 are skipped; the first iteration ever takes the step
    min(1, 1/‖g‖₁)·lr along −g, later ones lr along the quasi-Newton
    direction; ``line_search_fn='strong_wolfe'`` replaces the fixed step by a
    strong-Wolfe search (``optim.line_search.strong_wolfe``). ``max_eval``
    defaults to ``max_iter * 5 // 4``. The memory persists across ``step``
    calls (and state dicts).
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

    def step(self, closure=None):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss at the start."""
        self._require_closure(closure)
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = call_closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = gather_flat_grad(self._params)
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        with no_grad():
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1

                # -- direction: d = −H g by the two-loop recursion
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro = [], [], []
                    H_diag = 1
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = y.dot(s)
                    if ys > 1e-10:
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)
                    num_old = len(old_dirs)
                    if "al" not in state or len(state["al"]) < history_size:
                        state["al"] = [None] * history_size
                    al = state["al"]
                    q = -flat_grad
                    for i in range(num_old - 1, -1, -1):
                        al[i] = old_stps[i].dot(q) * ro[i]
                        q -= al[i] * old_dirs[i]
                    d = r = q * H_diag
                    for i in range(num_old):
                        be_i = old_dirs[i].dot(r) * ro[i]
                        r += (al[i] - be_i) * old_stps[i]

                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                # -- step length
                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
                else:
                    t = lr
                gtd = flat_grad.dot(d)
                if gtd > -tolerance_change:
                    break

                ls_func_evals = 0
                if line_search_fn is not None:
                    loss, flat_grad, t, ls_func_evals = self._line_search(
                        closure, "strong_wolfe", t, d, loss, flat_grad, gtd)
                    add_flat_(self._params, t, d)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                else:
                    add_flat_(self._params, t, d)
                    opt_cond = False
                    if n_iter != max_iter:
                        # Not after the last iteration: in a stochastic setting the
                        # value would be wasted (PyTorch does the same).
                        loss, flat_grad = self._evaluate(closure)
                        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                        ls_func_evals = 1
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals

                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tolerance_change:
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss


class BFGS(_QuasiNewton):
    r"""``BFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9, line_search_fn='strong_wolfe')``

    BFGS with a dense inverse-Hessian approximation H (N&W Algorithm 6.1)::

        d = −H g ;  x ← x + t d          (t from the line search)
        H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ,   ρ = 1 / yᵀs

    H starts as the identity; before the first update it is rescaled to
    (yᵀs / yᵀy)·I (N&W eq. 6.20). Pairs with yᵀs ≤ 1e-10 are skipped (a
    strong-Wolfe step guarantees yᵀs > 0; the others do not).
    ``line_search_fn``: ``'strong_wolfe'`` (default), ``'backtracking'``
    (Armijo) or None (fixed step: min(1, 1/‖g‖₁)·lr on the very first
    iteration, lr afterwards — as L-BFGS). Memory O(n²) in the number of
    parameters n: for small models.
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

    def step(self, closure=None):
        """Up to ``max_iter`` BFGS iterations; returns the loss at the start."""
        self._require_closure(closure)
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn = group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = call_closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = gather_flat_grad(self._params)
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        n = flat_grad.size
        H = state.get("H")
        d, t = state.get("d"), state.get("t")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        scaled = state.get("scaled", False)

        with no_grad():
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if H is None:
                    H = np.eye(n, dtype=flat_grad.dtype)
                if d is not None and prev_flat_grad is not None:
                    s = d * t
                    y = flat_grad - prev_flat_grad
                    ys = y.dot(s)
                    if ys > 1e-10:
                        if not scaled:
                            H = np.eye(n, dtype=flat_grad.dtype) * (ys / y.dot(y))
                            scaled = True
                        rho = 1.0 / ys
                        Hy = H @ y
                        yHy = y.dot(Hy)
                        H = (H + ((ys + yHy) * rho * rho) * np.outer(s, s)
                             - rho * (np.outer(Hy, s) + np.outer(s, Hy)))
                first = d is None
                d = -(H @ flat_grad)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if first else lr
                gtd = flat_grad.dot(d)
                if gtd > -tolerance_change:
                    # Not a descent direction (or converged): restart from −g.
                    if not first and np.abs(flat_grad).max() > tolerance_grad:
                        H = None
                        scaled = False
                        d = -flat_grad
                        gtd = flat_grad.dot(d)
                        t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
                    if gtd > -tolerance_change:
                        break

                if line_search_fn is not None:
                    loss, flat_grad, t, ls_evals = self._line_search(
                        closure, line_search_fn, t, d, loss, flat_grad, gtd)
                    add_flat_(self._params, t, d)
                else:
                    add_flat_(self._params, t, d)
                    loss, flat_grad = self._evaluate(closure)
                    ls_evals = 1
                current_evals += ls_evals
                state["func_evals"] += ls_evals
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad

                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tolerance_change:
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    break

        state.update(H=H, d=d, t=t, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss,
                     scaled=scaled)
        return orig_loss


def trust_region_subproblem(B, g, radius):
    """Exact minimiser of gᵀs + ½ sᵀBs subject to ‖s‖ ≤ radius (B symmetric,
    possibly indefinite), by eigendecomposition (Moré & Sorensen; N&W §4.3).

    s(λ) = −(B + λI)⁻¹ g with the smallest λ ≥ max(0, −λ_min(B)) for which
    ‖s(λ)‖ ≤ radius, found by bisection on the secular equation
    ‖s(λ)‖ = radius; the "hard case" (g ⟂ the lowest eigenvectors) adds a
    multiple of the lowest eigenvector to reach the boundary.
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
        check_nonneg(group["skip_threshold"], "skip_threshold")

    def step(self, closure=None):
        """Up to ``max_iter`` trust-region SR1 iterations; returns the loss at the start."""
        self._require_closure(closure)
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        eta, r_skip = group["eta"], group["skip_threshold"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        radius = state.setdefault("trust_radius", float(group["trust_radius"]))

        orig_loss = call_closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = gather_flat_grad(self._params)
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss
        n = flat_grad.size
        B = state.get("B")
        scaled = state.get("scaled", False)
        if B is None:
            B = np.eye(n, dtype=flat_grad.dtype)

        with no_grad():
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                s = trust_region_subproblem(B.astype(np.float64), flat_grad.astype(np.float64),
                                            radius).astype(flat_grad.dtype) * lr
                pred = -(flat_grad.dot(s) + 0.5 * s.dot(B @ s))
                x0 = self._clone_params()
                add_flat_(self._params, 1, s)
                new_loss, new_grad = self._evaluate(closure)
                current_evals += 1
                state["func_evals"] += 1
                y = new_grad - flat_grad
                ared = loss - new_loss
                ratio = ared / pred if pred > 0 else -np.inf
                snorm = np.linalg.norm(s)

                if not scaled:
                    ys = y.dot(s)
                    if ys > 0:
                        B = np.eye(n, dtype=flat_grad.dtype) * (y.dot(y) / ys)
                        scaled = True
                v = y - B @ s
                sv = s.dot(v)
                if abs(sv) >= r_skip * snorm * np.linalg.norm(v) and sv != 0:
                    B = B + np.outer(v, v) / sv

                prev_loss = loss
                if ratio > eta and np.isfinite(new_loss):
                    loss, flat_grad = new_loss, new_grad
                    accepted = True
                else:
                    set_flat_(self._params, x0)
                    accepted = False
                if ratio > 0.75:
                    if snorm > 0.8 * radius:
                        radius = min(2.0 * radius, group["max_trust_radius"])
                elif ratio < 0.1:
                    radius = 0.5 * radius

                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if radius <= tolerance_change or snorm <= tolerance_change:
                    break
                if accepted and abs(loss - prev_loss) < tolerance_change:
                    break

        state.update(B=B, scaled=scaled, trust_radius=radius)
        return orig_loss
