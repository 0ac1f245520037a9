"""Finite-difference Hessians (Bishop §5.4.4): the check on the exact ones, and
the trade-off between truncation and rounding error in the step ε.

The parameters' entries are shifted in place (through ``.data``) and put back
to their exact values after each evaluation; use float64 parameters.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from ..graph import no_grad
from .products import check_params, exact_hessian, loss_and_grad, scalar_loss

__all__ = ["fd_hessian_four_point", "fd_hessian_central_gradients", "fd_epsilon_tradeoff"]


class _Entries:
    """The parameters' entries w_1 … w_W as views into their data, to shift in place."""

    def __init__(self, params):
        self.slots = []
        for p in params:
            flat = p.data.reshape(-1)
            if not np.shares_memory(flat, p.data):
                raise ValueError("finite differences need parameters with contiguous data")
            self.slots.extend((flat, k) for k in range(flat.size))

    def __len__(self):
        return len(self.slots)

    @contextlib.contextmanager
    def shifted(self, shifts):
        """Entry i moved to w_i + Σ δ over the ``(i, δ)`` pairs, then restored exactly."""
        total = {}
        for i, d in shifts:
            total[i] = total.get(i, 0.0) + d
        saved = {i: self.slots[i][0][self.slots[i][1]] for i in total}
        try:
            for i, d in total.items():
                flat, k = self.slots[i]
                flat[k] = saved[i] + d
            yield
        finally:
            for i, value in saved.items():
                flat, k = self.slots[i]
                flat[k] = value


def _fd_params(params, fname, require_grad):
    params = check_params(params, fname, require_grad)
    for i, p in enumerate(params):
        if p.dtype != np.float64:
            warnings.warn(f"{fname}: params[{i}] is {p.dtype}; finite differences need float64 "
                          f"parameters to be accurate", RuntimeWarning, stacklevel=3)
    return params


def fd_hessian_four_point(loss_fn, params, eps=1e-4):
    """Second differences of E (Bishop eq. 5.90):

        ∂²E/∂w_i∂w_j ≈ [E(w_i+ε, w_j+ε) − E(w_i+ε, w_j−ε) − E(w_i−ε, w_j+ε)
                        + E(w_i−ε, w_j−ε)] / 4ε²,

    error O(ε²) plus rounding O(u/ε²). W(W+1)/2 entries × 4 evaluations of E,
    each O(W): O(W³). No gradients are taken.

        >>> from autograd_core.curvature import fd_hessian_four_point
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum() + w[0] * w[1]     # H = [[6w₀, 1], [1, 6w₁]]
        >>> H = fd_hessian_four_point(loss_fn, [w], eps=1e-4)
        >>> bool(np.allclose(H, [[6.0, 1.0], [1.0, 12.0]], atol=1e-5))
        True
    """
    fname = "fd_hessian_four_point"
    params = _fd_params(params, fname, require_grad=False)
    entries = _Entries(params)
    loss = scalar_loss(loss_fn, fname)

    def E():
        with no_grad():
            return float(loss().item())

    W = len(entries)
    H = np.empty((W, W))
    for i in range(W):
        for j in range(i, W):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                with entries.shifted([(i, si * eps), (j, sj * eps)]):
                    total += sign * E()
            H[i, j] = H[j, i] = total / (4 * eps * eps)
    return H


def fd_hessian_central_gradients(loss_fn, params, eps=1e-5, symmetrize=False):
    """Central differences of the back-propagated gradient (Bishop eq. 5.91):

        H e_j ≈ [∇E(w + ε e_j) − ∇E(w − ε e_j)] / 2ε,

    error O(ε²) plus rounding O(u/ε). 2W gradients of O(W) each: O(W²).
    ``symmetrize`` returns (H + Hᵀ)/2.

        >>> from autograd_core.curvature import fd_hessian_central_gradients
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum() + w[0] * w[1]     # H = [[6w₀, 1], [1, 6w₁]]
        >>> H = fd_hessian_central_gradients(loss_fn, [w], eps=1e-5)
        >>> bool(np.allclose(H, [[6.0, 1.0], [1.0, 12.0]]))
        True
    """
    params = _fd_params(params, "fd_hessian_central_gradients", require_grad=True)
    entries = _Entries(params)
    W = len(entries)
    H = np.empty((W, W))
    for j in range(W):
        with entries.shifted([(j, eps)]):
            gp = loss_and_grad(loss_fn, params)[1]
        with entries.shifted([(j, -eps)]):
            gm = loss_and_grad(loss_fn, params)[1]
        H[:, j] = (gp - gm) / (2 * eps)
    return (H + H.T) / 2 if symmetrize else H


def fd_epsilon_tradeoff(loss_fn, params, eps_values=None, method="central_gradients",
                        reference=None):
    """The step-size trade-off of finite differences: for each ε, the largest
    absolute error against the exact Hessian (``reference``, computed by
    ``exact_hessian`` if not given). Truncation error falls like ε², rounding
    error grows like u/ε (gradients) or u/ε² (four-point): the best ε is in
    between. Returns a list of ``(eps, max_abs_error)``.

        >>> from autograd_core.curvature import fd_epsilon_tradeoff
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> errors = fd_epsilon_tradeoff(lambda: ag.exp(w).sum(), [w], [1e-2, 1e-5, 1e-8])
        >>> [eps for eps, _ in errors]
        [0.01, 1e-05, 1e-08]
        >>> e_large, e_mid, e_small = (err for _, err in errors)
        >>> e_mid < e_large and e_mid < e_small     # truncation vs rounding: best in between
        True
    """
    if method not in ("central_gradients", "four_point"):
        raise ValueError(f"fd_epsilon_tradeoff: method must be 'central_gradients' or "
                         f"'four_point', got {method!r}")
    if eps_values is None:
        eps_values = 10.0 ** -np.arange(1, 11)
    if reference is None:
        reference = exact_hessian(loss_fn, params)
    fd = fd_hessian_central_gradients if method == "central_gradients" else fd_hessian_four_point
    return [(float(eps), float(np.max(np.abs(fd(loss_fn, params, eps) - reference))))
            for eps in eps_values]
