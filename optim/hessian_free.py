"""Hessian-free optimisation (Martens, ICML 2010).

Each step minimises a damped quadratic model of the loss around θ,

    φ(p) = gᵀp + ½ pᵀ(G + λI)p,

by truncated conjugate gradient, where G is the Gauss–Newton matrix JᵀH_L J
(J the Jacobian of the model output z w.r.t. θ, H_L the Hessian of the loss
w.r.t. z) — positive semi-definite whenever the loss is convex in z, unlike
the Hessian. G is never formed: CG only needs products Gv, computed exactly
by the engine in one forward pass with tangents and one backward pass
(see ``gauss_newton_product``). The optimiser reads ``p.data``/``p.grad`` and
writes ``p.data``; its only gradient pass is step 1's, below.

The closure protocol
--------------------
The Gauss–Newton matrix needs the model output separately from the loss, so
HessianFree's closure differs from the other optimisers'::

    def closure():
        output = model(x)                     # z: the model's output (a Tensor)
        loss = loss_fn(output, y)             # a scalar computed from z only
        return loss, output                   # no zero_grad(), no backward()

``step(closure)`` calls it many times (gradient, one call per CG iteration,
line-search and damping evaluations under ``no_grad``) and does all the
differentiation itself. The loss must depend on θ only through ``output``
(e.g. no weight-decay term added after it: put that in the model output or
use ``curvature='hessian'``). With ``curvature='hessian'`` the closure may
return just the loss (exact Hessian-vector products; CG then stops at
negative curvature). This is the (loss, outputs) protocol of the common
PyTorch implementations of HF.

Algorithm (one ``step``)
------------------------
1. loss f(θ) and gradient g (one closure call, then the usual ``zero_grad()``
   and ``backward()``: afterwards ``p.grad`` holds g, as after any closure);
2. CG on (G + λI)p = −g from p₀ = ζ·p_prev (warm start, ζ = ``cg_decay``),
   stopped by Martens' relative-progress rule: at iteration i > k with
   k = max(10, 0.1 i), stop if φ(p_i) < 0 and
   (φ(p_i) − φ(p_{i−k})) / φ(p_i) < k·``cg_tol``; or at ``cg_max_iter``;
3. CG backtracking (``cg_backtracking=True``): among the iterates kept at
   i = ⌈1.3ʲ⌉ and the last one, walk back from the last while the true loss
   keeps decreasing, and take the best;
4. Levenberg–Marquardt adjustment of λ from the reduction ratio
   ρ = (f(θ + p) − f(θ)) / (q(p) − q(0)), q the undamped model:
   λ ← λ·3/2 if ρ < 1/4, λ ← λ·2/3 if ρ > 3/4;
5. Armijo backtracking along p from step ``lr`` (c₁ = 1e-2, factor 0.8, as
   Martens & Sutskever 2012); if no step decreases the loss, θ is unchanged;
6. θ ← θ + t·p. The next CG run starts from ζ·p_N (the last CG iterate, not
   the backtracked one).

Not included: Martens' diagonal preconditioner (it needs per-example
gradients) and structural damping.
"""
from __future__ import annotations

import math

import numpy as np

from autograd_core import Tensor, no_grad
from autograd_core.curvature import gauss_newton_vector_product, hessian_vector_product

from .line_search import backtracking
from .optimizer import (FlatStateOptimizer, add_flat_, call_closure, check_choice,
                        check_nonnegative, check_positive_int, flat_dtype, gather_flat_grad)

__all__ = ["HessianFree", "gauss_newton_product"]


def _unpack(result, need_output):
    if isinstance(result, tuple):
        if len(result) != 2:
            raise TypeError("HessianFree: the closure must return (loss, output), "
                            f"got a tuple of {len(result)} values")
        loss, output = result
    else:
        loss, output = result, None
    if not isinstance(loss, Tensor):
        raise TypeError(f"HessianFree: the closure's loss must be a Tensor, "
                        f"got {type(loss).__name__}")
    if need_output and not isinstance(output, Tensor):
        raise TypeError(
            "HessianFree with curvature='gauss_newton' needs the closure to return "
            "(loss, output): the loss and the model output it was computed from "
            "(both Tensors), without calling backward()")
    return loss, output


def gauss_newton_product(closure, params, vec):
    """Flat G·v = Jᵀ H_L J v for a closure returning (loss, output):
    ``curvature.gauss_newton_vector_product`` with ``loss=None``.

    Exact, ≈ 2 gradients: the closure evaluated in forward mode with the
    directions v on the parameters gives J v on the output, the gradient of
    the loss with respect to the output taken in that pass carries
    R{∂L/∂z} = H_L J v (L depends on θ only through z), and one backward pass
    of the output with that cotangent gives Jᵀ(·). No ``.grad`` changes.

        >>> from optim.hessian_free import gauss_newton_product
        >>> X = ag.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ag.float64)
        >>> w = ag.tensor([0.5, -1.0], dtype=ag.float64, requires_grad=True)
        >>> def closure():                            # (loss, output): ½‖X w − t‖², z = X w
        ...     z = X @ w
        ...     return 0.5 * ((z - 1.0) ** 2).sum(), z
        >>> gauss_newton_product(closure, [w], np.array([1.0, 0.0]))   # XᵀX v
        array([10., 14.])
    """
    params = list(params)
    Gv = gauss_newton_vector_product(
        lambda: _unpack(closure(), need_output=True), params, vec, loss=None)
    return Gv.astype(flat_dtype(params), copy=False)


def _hessian_product(closure, params, vec):
    """Flat H·v of the closure's loss: ``autograd_core.curvature.hessian_vector_product``."""
    params = list(params)
    Hv = hessian_vector_product(lambda: _unpack(closure(), need_output=False)[0], params, vec)
    return Hv.astype(flat_dtype(params), copy=False)


class HessianFree(FlatStateOptimizer):
    r"""``HessianFree(params, lr=1.0, damping=1.0, curvature='gauss_newton', cg_max_iter=250, cg_min_iter=1, cg_tol=5e-4, cg_decay=0.95, cg_backtracking=True, adapt_damping=True, min_damping=1e-8, line_search=True, tolerance_grad=1e-10)``

    Martens (2010) Hessian-free optimisation; see the module docstring for the
    closure protocol — ``closure()`` returns ``(loss, output)`` and does not
    call ``backward()`` — and the algorithm. ``curvature``:
    ``'gauss_newton'`` (alias ``'gn'``, default) or ``'hessian'``.
    ``state`` (under the first parameter) keeps ``damping`` (the current λ),
    ``cg_init`` (the last CG solution), ``n_iter``, ``func_evals``, and the
    last step's ``rho``, ``cg_iters`` and ``step_size``.

        >>> model = nn.Linear(2, 1)
        >>> x = ag.randn(32, 2)
        >>> y = x @ ag.tensor([[1.0], [-3.0]]) + 2.0
        >>> opt = optim.HessianFree(model.parameters())
        >>> def closure():                                # (loss, output); no zero_grad, no backward
        ...     output = model(x)
        ...     return F.mse_loss(output, y), output
        >>> for _ in range(5):
        ...     _ = opt.step(closure)
        >>> float(closure()[0]) < 1e-3
        True
    """

    def __init__(self, params, lr=1.0, damping=1.0, curvature="gauss_newton", cg_max_iter=250,
                 cg_min_iter=1, cg_tol=5e-4, cg_decay=0.95, cg_backtracking=True,
                 adapt_damping=True, min_damping=1e-8, line_search=True, tolerance_grad=1e-10):
        defaults = dict(lr=lr, damping=damping, curvature=curvature, cg_max_iter=cg_max_iter,
                        cg_min_iter=cg_min_iter, cg_tol=cg_tol, cg_decay=cg_decay,
                        cg_backtracking=cg_backtracking, adapt_damping=adapt_damping,
                        min_damping=min_damping, line_search=line_search,
                        tolerance_grad=tolerance_grad)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "damping")
        check_choice(group["curvature"], "curvature", ("gauss_newton", "gn", "hessian"))
        check_positive_int(group["cg_max_iter"], "cg_max_iter")
        check_positive_int(group["cg_min_iter"], "cg_min_iter")
        check_nonnegative(group, "cg_tol")
        if not 0 <= group["cg_decay"] <= 1:
            raise ValueError(f"Invalid cg_decay: {group['cg_decay']} (expected 0 <= cg_decay <= 1)")
        check_nonnegative(group, "min_damping", "tolerance_grad")

    # -- pieces -------------------------------------------------------------------

    def _loss_at(self, closure):
        """The loss at the current parameters, without recording a graph."""
        with no_grad():
            loss, _ = _unpack(closure(), need_output=False)
        return float(loss)

    def _curvature_product(self, closure, v, group):
        if group["curvature"] == "hessian":
            return _hessian_product(closure, self._params, v)
        return gauss_newton_product(closure, self._params, v)

    def _cg(self, Av, g, x0, max_iter, min_iter, tol):
        """Martens' truncated CG on A p = −g. Returns (iterates, x_last, iters),
        ``iterates`` a list of (i, p_i, φ(p_i)) at i = ⌈1.3ʲ⌉ and the last."""
        x = x0.copy()
        r = Av(x) + g if np.any(x) else g.copy()        # r = ∇φ(x) = A x + g
        d = -r
        rr = r.dot(r)
        phis = [0.5 * x.dot(r + g)]                     # φ(x) = ½ xᵀ(r + g)
        keep = set()
        j = 0
        while math.ceil(1.3 ** j) <= max_iter:
            keep.add(math.ceil(1.3 ** j))
            j += 1
        saved = []
        tiny = (np.finfo(g.dtype).eps * max(np.sqrt(g.dot(g)), 1e-300)) ** 2
        i = 0
        for i in range(1, max_iter + 1):
            if rr <= tiny:
                i -= 1
                break
            Ad = Av(d)
            dAd = d.dot(Ad)
            if dAd <= 0:
                # Negative (or zero) curvature: only possible with curvature='hessian'
                # or λ = 0 and a singular G. Stop with the iterate so far.
                i -= 1
                break
            alpha = rr / dAd
            x = x + alpha * d
            r = r + alpha * Ad
            rr_new = r.dot(r)
            d = -r + (rr_new / rr) * d
            rr = rr_new
            phi = 0.5 * x.dot(r + g)
            phis.append(phi)
            if i in keep:
                saved.append((i, x.copy(), phi))
            k = max(10, int(0.1 * i))
            if i >= max(min_iter, k + 1) and phi < 0 and (phi - phis[i - k]) / phi < k * tol:
                break
        if not saved or saved[-1][0] != i:
            saved.append((i, x.copy(), phis[-1]))
        return saved, x, i

    # -- the step -------------------------------------------------------------------

    def step(self, closure=None):
        """One HF iteration; returns the loss (Tensor) before it."""
        if closure is None or not callable(closure):
            raise TypeError("HessianFree.step() needs a closure returning (loss, output); "
                            "see the optim.hessian_free module docstring")
        group = self.param_groups[0]
        params = self._params
        state = self.state[params[0]]
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)
        lam = float(state.setdefault("damping", float(group["damping"])))
        gauss_newton = group["curvature"] != "hessian"

        # 1. loss and gradient
        # The closure's usual zero_grad() and backward(), done here (see the
        # closure protocol): afterwards p.grad is the gradient at the start.
        loss_t, _ = _unpack(call_closure(closure), need_output=gauss_newton)
        self.zero_grad()
        loss_t.backward()
        f0 = float(loss_t)
        g = gather_flat_grad(params)
        evals = 1
        if np.abs(g).max() <= group["tolerance_grad"]:
            state["func_evals"] += evals
            return loss_t

        # 2. truncated CG on the damped model, warm-started
        n_cg = [0]

        def Av(v):
            n_cg[0] += 1
            return self._curvature_product(closure, v, group) + lam * v

        prev = state.get("cg_init")
        x0 = (group["cg_decay"] * prev).astype(g.dtype) if prev is not None \
            else np.zeros_like(g)
        saved, p_last, iters = self._cg(Av, g, x0, group["cg_max_iter"], group["cg_min_iter"],
                                        group["cg_tol"])
        evals += n_cg[0]
        state["cg_init"] = p_last.copy()

        x_start = self._snapshot()

        def loss_along(p_vec, t=1.0):
            return self._along(x_start, t, p_vec, lambda: self._loss_at(closure))

        # 3. CG backtracking over the kept iterates
        idx = len(saved) - 1
        f_best = loss_along(saved[idx][1])
        evals += 1
        if group["cg_backtracking"]:
            while idx > 0:
                f_prev = loss_along(saved[idx - 1][1])
                evals += 1
                if not f_prev < f_best:
                    break
                idx -= 1
                f_best = f_prev
        _, p, phi = saved[idx]

        # 4. reduction ratio with the undamped model q(p) = φ(p) − ½λ‖p‖²
        q = phi - 0.5 * lam * p.dot(p)
        rho = (f_best - f0) / q if q < 0 else -np.inf
        if not np.isfinite(f_best):
            rho = -np.inf
        if group["adapt_damping"]:
            if rho < 0.25:
                lam *= 1.5
            elif rho > 0.75:
                lam *= 2.0 / 3.0
            lam = max(lam, group["min_damping"])

        # 5. line search along p
        t = group["lr"]
        gtd = g.dot(p)
        if group["line_search"]:
            if t == 1.0 and f_best <= f0 + 1e-2 * gtd:
                ls_evals = 0                     # the full step is already known to pass
            else:
                def obj(_x, t_, d_):
                    return loss_along(d_, t_), None
                _, _, t, ls_evals = backtracking(obj, None, t, p, f0, None, gtd,
                                                 c1=1e-2, rho=0.8, max_ls=60)
            evals += ls_evals
            if gtd >= 0:
                t = 0.0
        # 6. update
        with no_grad():
            add_flat_(params, t, p)
        self._count_step(state, evals, damping=lam, rho=float(rho), cg_iters=int(iters),
                         step_size=float(t))
        return loss_t
