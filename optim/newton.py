"""Damped Newton's method with exact Hessian-vector products.

Hessian-vector products are the engine's one R-operator,
``autograd_core.functional.closure_hvp``: the closure runs once while the
parameters carry the direction v at a forward level, its own ``backward()``
then pushes R{·} through the backward pass, and H v is read from the R{·} of
the gradients it leaves in ``p.grad``. No finite differences, no H formed
unless asked for. The optimiser reads ``p.data``/``p.grad`` and writes
``p.data`` only.
"""
from __future__ import annotations

import numpy as np

from autograd_core import flat, functional, no_grad
from autograd_core.curvature import LinearOperator

from .optimizer import (FlatStateOptimizer, add_flat_, call_closure, check_choice,
                        check_nonnegative, check_positive_int, flat_dtype, gather_flat_grad)

__all__ = ["Newton", "closure_hvp", "conjugate_gradient"]


def closure_hvp(closure, params, vec):
    """``(loss, flat_grad, flat_Hv)`` at the current parameters.

    ``closure`` is the usual one (zero the gradients, compute the loss, call
    ``backward()``, return the loss); ``vec`` a flat vector over ``params``.
    One closure call in forward-over-reverse mode (``functional.closure_hvp``):
    the cost of about two gradients. Afterwards ``p.grad`` holds the gradient
    the closure computed.

        >>> from optim.newton import closure_hvp
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> def closure():
        ...     w.grad = None
        ...     loss = (w ** 3).sum()                 # g = 3w², H = diag(6w)
        ...     loss.backward()
        ...     return loss
        >>> closure_hvp(closure, [w], np.array([1.0, 0.0]))
        (9.0, array([ 3., 12.]), array([6., 0.]))
    """
    params = list(params)
    dt = flat_dtype(params)
    loss, hv = functional.closure_hvp(closure, params, flat.unflatten(np.asarray(vec), params))
    return float(loss), gather_flat_grad(params), flat.flatten(hv, dtype=dt)


def conjugate_gradient(matvec, b, x0=None, max_iter=None, tol=1e-8, stop_on_negative=True):
    """Solve A x = b for symmetric A given as ``matvec`` (Hestenes–Stiefel CG).

    Stops when ‖r‖ ≤ tol·‖b‖, after ``max_iter`` iterations (default: len(b)),
    or — if ``stop_on_negative`` — at a direction of non-positive curvature
    pᵀAp ≤ 0 (N&W Algorithm 7.1: then the iterate so far is returned, or b
    itself if that happens at the first iteration). Returns (x, iterations,
    hit_negative_curvature).

        >>> from optim.newton import conjugate_gradient
        >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, iterations, negative = conjugate_gradient(lambda v: A @ v, np.array([1.0, 2.0]))
        >>> bool(np.allclose(A @ x, [1.0, 2.0])), iterations, negative     # n = 2 steps at most
        (True, 2, False)
    """
    n = b.size
    max_iter = n if max_iter is None else max_iter
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=b.dtype, copy=True)
    r = b - matvec(x) if x0 is not None and np.any(x0) else b.copy()
    p = r.copy()
    rr = r.dot(r)
    bnorm = np.sqrt(b.dot(b))
    if np.sqrt(rr) <= tol * bnorm or bnorm == 0:
        return x, 0, False
    for it in range(1, max_iter + 1):
        Ap = matvec(p)
        pAp = p.dot(Ap)
        if stop_on_negative and pAp <= 0:
            if it == 1 and not np.any(x):
                return b.copy(), it, True
            return x, it, True
        alpha = rr / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r.dot(r)
        if np.sqrt(rr_new) <= tol * bnorm:
            return x, it, False
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, max_iter, False


class Newton(FlatStateOptimizer):
    r"""``Newton(params, lr=1.0, damping=1e-3, solver='exact', cg_max_iter=None, cg_tol=1e-8, line_search_fn=None)``

    One damped Newton iteration per ``step(closure)``::

        x ← x − t · (H + αI)⁻¹ g        (α = ``damping``, t = lr or line search)

    ``solver='exact'`` forms H column by column from n Hessian-vector
    products (n closure calls in forward-over-reverse mode: small models only)
    and solves by Cholesky; if H + αI is not positive definite, α is raised
    (×2 from max(α, 1e-3·max|Hᵢᵢ|)) until it is (N&W Algorithm 3.3), so the
    step is a descent direction. ``solver='cg'`` runs conjugate gradient on
    Hessian-vector products (one closure call each), at most ``cg_max_iter``
    (default n) iterations to relative residual ``cg_tol``, stopping at
    negative curvature (Newton-CG, N&W Algorithm 7.1).
    ``line_search_fn``: None (step lr), ``'backtracking'`` (Armijo from lr) or
    ``'strong_wolfe'``.

    The closure is the usual one (zero grads, loss, ``backward()``, return
    loss). ``state`` records ``n_iter``, ``func_evals``, ``last_damping`` (the
    α actually used) and ``cg_iters``.

        >>> x = ag.tensor([0.0, 0.0], dtype=ag.float64, requires_grad=True)
        >>> opt = optim.Newton([x], damping=0.0)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2     # minimum at (1, −2)
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)                      # exact on a quadratic: one step
        >>> x.data.round(6)
        array([ 1., -2.])
    """

    def __init__(self, params, lr=1.0, damping=1e-3, solver="exact", cg_max_iter=None,
                 cg_tol=1e-8, line_search_fn=None):
        defaults = dict(lr=lr, damping=damping, solver=solver, cg_max_iter=cg_max_iter,
                        cg_tol=cg_tol, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "damping")
        check_choice(group["solver"], "solver", ("exact", "cg"))
        if group["cg_max_iter"] is not None:
            check_positive_int(group["cg_max_iter"], "cg_max_iter")
        check_nonnegative(group, "cg_tol")
        check_choice(group["line_search_fn"], "line_search_fn",
                     (None, "backtracking", "strong_wolfe"))

    def hessian(self, closure):
        """The n×n Hessian of the closure's loss over the flattened parameters
        (n Hessian-vector products, one column each), symmetrised."""
        params = self._params
        H = LinearOperator(lambda v: closure_hvp(closure, params, v)[2], self._numel(),
                           "Newton.hessian").to_dense().astype(flat_dtype(params), copy=False)
        return 0.5 * (H + H.T)

    def step(self, closure=None):
        """One damped Newton iteration; returns the loss before it."""
        self._require_closure(closure)
        group = self.param_groups[0]
        params = self._params
        state = self.state[params[0]]
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)
        alpha = group["damping"]

        loss = call_closure(closure)
        f0 = float(loss)
        g = gather_flat_grad(params)
        evals = 1
        n = g.size
        if not np.any(g):
            self._count_step(state, evals)
            return loss

        if group["solver"] == "exact":
            H = self.hessian(closure)
            evals += n
            d, alpha = self._damped_solve(H, g, alpha)
            cg_iters = 0
        else:
            def matvec(v):
                return closure_hvp(closure, params, v)[2] + alpha * v
            d, cg_iters, _ = conjugate_gradient(matvec, -g, max_iter=group["cg_max_iter"],
                                                tol=group["cg_tol"])
            evals += cg_iters
            if g.dot(d) >= 0:        # not a descent direction: fall back to −g
                d = -g
        d = d.astype(g.dtype, copy=False)

        t = group["lr"]
        kind = group["line_search_fn"]
        with no_grad():
            if kind is not None:
                _, _, t, ls_evals = self._line_search(closure, kind, t, d, f0, g, g.dot(d))
                evals += ls_evals
            add_flat_(params, t, d)
        self._count_step(state, evals, last_damping=float(alpha), last_step_size=float(t),
                         cg_iters=int(cg_iters))
        return loss

    @staticmethod
    def _damped_solve(H, g, alpha):
        """d = −(H + αI)⁻¹ g, raising α until the Cholesky factorisation exists."""
        n = g.size
        Hd = H.astype(np.float64)
        beta = 1e-3 * max(1.0, np.abs(np.diag(Hd)).max())
        tau = alpha
        for _ in range(200):
            try:
                L = np.linalg.cholesky(Hd + tau * np.eye(n))
            except np.linalg.LinAlgError:
                tau = max(2 * tau, beta)
                continue
            z = np.linalg.solve(L, -g.astype(np.float64))
            return np.linalg.solve(L.T, z), tau
        raise FloatingPointError("Newton: could not make H + damping·I positive definite "
                                 "(does the Hessian contain NaN or inf?)")
