"""Eigenvalues and traces of a symmetric matrix known only by its products A v:
power iteration, Lanczos, Hutchinson's estimators.

Each estimator takes any matrix-vector product (``linear_operator.as_operator``:
a matrix, a ``HessianOperator`` or ``GaussNewtonOperator``, an object with
``matvec``/``@`` and ``shape``, or a callable v ↦ A v with its dimension
``n``); the ``hessian_*``/``lanczos``/``hutchinson_*`` forms apply them to the
Hessian of a loss closure. Memory O(n) per vector; one product per step.
"""
from __future__ import annotations

import numpy as np

from .linear_operator import LinearOperator, as_operator
from .products import HessianOperator

__all__ = ["power_iteration", "eigs_power", "hessian_eigs_power", "lanczos_eigs", "lanczos",
           "estimate_trace", "estimate_diagonal", "hutchinson_trace", "hutchinson_diagonal"]


# ---------------------------------------------------------------------------
# Power iteration
# ---------------------------------------------------------------------------

def power_iteration(op, iters=200, tol=1e-10, seed=0, v0=None, n=None):
    """The eigenvalue of largest magnitude of a symmetric ``op`` and its unit
    eigenvector, ``(λ, v)``.

    v ← Av/‖Av‖ until the Rayleigh quotient vᵀAv settles (relative ``tol``).
    Converges like |λ₂/λ₁|ᵏ; one product per step.

        >>> from autograd_core.curvature import power_iteration
        >>> lam, v = power_iteration(np.diag([1.0, -3.0]))
        >>> round(lam, 6), np.abs(v).round(3)
        (-3.0, array([0., 1.]))
    """
    if n is None and v0 is not None:
        n = np.size(v0)
    A = as_operator(op, n, "power_iteration")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(A.shape[0]) if v0 is None else np.array(v0, dtype=np.float64)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(iters):
        w = A @ v
        new = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0:
            return 0.0, v
        v = w / norm
        if abs(new - lam) <= tol * max(abs(new), 1e-300):
            lam = new
            break
        lam = new
    return float(v @ (A @ v)), v


def eigs_power(op, k=1, iters=200, tol=1e-10, seed=0, n=None):
    """The k eigenvalues of a symmetric ``op`` largest in magnitude, by power
    iteration with deflation A ← A − λ u uᵀ after each one.

    Returns ``(eigenvalues (k,), eigenvectors (n, k))`` in the order found.
    Deflation loses accuracy as k grows; prefer ``lanczos_eigs`` beyond a few.

        >>> eigs_power(np.diag([1.0, -3.0, 2.0]), k=2)[0]
        array([-3.,  2.])
    """
    A = as_operator(op, n, "eigs_power")
    found, vecs = [], []

    def deflated(v):
        w = A @ v
        for lam, u in zip(found, vecs):
            w = w - lam * (u @ v) * u
        return w

    B = LinearOperator(deflated, A.shape[0], "eigs_power")
    for i in range(int(k)):
        lam, u = power_iteration(B, iters, tol, seed + i)
        found.append(lam)
        vecs.append(u)
    return np.array(found), np.stack(vecs, axis=1)


def hessian_eigs_power(loss_fn, params, k=1, iters=200, tol=1e-10, seed=0):
    """The k eigenvalues of the Hessian of ``loss_fn`` largest in magnitude:
    ``eigs_power`` on Hessian-vector products, never forming H. Memory O(kW),
    time (steps × 2 gradients).

        >>> from autograd_core.curvature import hessian_eigs_power
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum() + w[0] * w[1]     # H = [[6, 1], [1, 12]] here
        >>> vals, vecs = hessian_eigs_power(loss_fn, [w], k=2)
        >>> np.round(vals, 4)                              # 9 ± √10
        array([12.1623,  5.8377])
    """
    return eigs_power(HessianOperator(loss_fn, params), k, iters, tol, seed)


# ---------------------------------------------------------------------------
# Lanczos
# ---------------------------------------------------------------------------

def lanczos_eigs(op, k=1, m=None, seed=0, which="largest", n=None):
    """The k largest (``which='largest'``) or smallest eigenvalues of a
    symmetric ``op`` by m steps of Lanczos with full re-orthogonalisation.

    Builds an orthonormal basis Q of the Krylov space span{q, Aq, …, A^{m−1}q}
    in which A is tridiagonal T = QᵀAQ; the eigenvalues of T (Ritz values)
    approach the extreme eigenvalues of A fast. m products + O(m² n).
    ``m`` defaults to min(n, max(2k + 20, 30)); with m = n the result is exact
    (up to rounding). Returns ``(eigenvalues (k,), Ritz vectors (n, k))``,
    sorted from the extreme inwards.

        >>> lanczos_eigs(np.diag([1.0, 5.0, 3.0]), k=2)[0]
        array([5., 3.])
    """
    A = as_operator(op, n, "lanczos")
    n = A.shape[0]
    if m is None:
        m = min(n, max(2 * k + 20, 30))
    m = min(int(m), n)
    if not 1 <= k <= m:
        raise ValueError(f"lanczos: need 1 <= k <= m = {m}, got k={k}")
    if which not in ("largest", "smallest"):
        raise ValueError(f"lanczos: which must be 'largest' or 'smallest', got {which!r}")
    rng = np.random.default_rng(seed)
    Q = np.zeros((n, m))
    alpha, beta = np.zeros(m), np.zeros(m)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    steps = m
    for j in range(m):
        Q[:, j] = q
        w = A @ q
        alpha[j] = q @ w
        # Full re-orthogonalisation (twice is enough): keeps Q orthonormal
        # in floating point, so no spurious copies of converged eigenvalues.
        for _ in range(2):
            w -= Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)
        if j == m - 1:
            break
        b = np.linalg.norm(w)
        if b < 1e-12 * max(1.0, abs(alpha[:j + 1]).max()):
            steps = j + 1  # invariant subspace found: T is exact on it
            break
        beta[j] = b
        q = w / b
    T = np.diag(alpha[:steps]) + np.diag(beta[:steps - 1], 1) + np.diag(beta[:steps - 1], -1)
    vals, vecs = np.linalg.eigh(T)
    order = np.argsort(vals)[::-1] if which == "largest" else np.argsort(vals)
    order = order[:min(k, steps)]
    return vals[order], Q[:, :steps] @ vecs[:, order]


def lanczos(loss_fn, params, k=1, m=None, seed=0, which="largest"):
    """The k largest (or smallest) eigenvalues of the Hessian of ``loss_fn``:
    ``lanczos_eigs`` on Hessian-vector products, never forming H.

        >>> from autograd_core.curvature import lanczos
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum() + w[0] * w[1]     # H = [[6, 1], [1, 12]] here
        >>> top, vecs = lanczos(loss_fn, [w], k=1)
        >>> np.round(top, 4), vecs.shape                   # 9 + √10
        (array([12.1623]), (2, 1))
    """
    return lanczos_eigs(HessianOperator(loss_fn, params), k, m, seed, which)


# ---------------------------------------------------------------------------
# Hutchinson: trace and diagonal from random probes
# ---------------------------------------------------------------------------

def _rademacher(rng, n):
    return rng.integers(0, 2, size=n) * 2.0 - 1.0


def estimate_trace(op, n_probes=100, seed=0, return_std=False, n=None):
    """tr A ≈ (1/S) Σ_s z_sᵀ A z_s with Rademacher probes z (entries ±1), Hutchinson's
    estimator: unbiased since E[z zᵀ] = I; variance 2 Σ_{i≠j} A_ij² per probe.
    One product per probe. ``return_std`` also gives the standard error.

        >>> estimate_trace(np.diag([1.0, 2.0]), n_probes=1)
        3.0
    """
    A = as_operator(op, n, "hutchinson_trace")
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(int(n_probes)):
        z = _rademacher(rng, A.shape[0])
        samples.append(z @ (A @ z))
    samples = np.array(samples)
    est = float(samples.mean())
    if return_std:
        se = float(samples.std(ddof=1) / np.sqrt(len(samples))) if len(samples) > 1 else np.inf
        return est, se
    return est


def estimate_diagonal(op, n_probes=100, seed=0, n=None):
    """diag A ≈ (1/S) Σ_s z_s ⊙ A z_s with Rademacher probes (Bekas, Kokiopoulou
    & Saad 2007): unbiased since E[z_i z_j] = δ_ij; each entry's error falls
    like 1/√S, driven by the off-diagonal entries of its row. One product per
    probe; returns a vector of length n.

        >>> estimate_diagonal(np.diag([1.0, 2.0]), n_probes=1)
        array([1., 2.])
    """
    A = as_operator(op, n, "hutchinson_diagonal")
    rng = np.random.default_rng(seed)
    acc = np.zeros(A.shape[0])
    for _ in range(int(n_probes)):
        z = _rademacher(rng, A.shape[0])
        acc += z * (A @ z)
    return acc / int(n_probes)


def hutchinson_trace(loss_fn, params, n_probes=100, seed=0, return_std=False):
    """tr H of the Hessian of ``loss_fn`` by ``estimate_trace`` on Hessian-vector
    products: one product (≈ 2 gradients) per probe.

        >>> from autograd_core.curvature import hutchinson_trace
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum()               # H = diag(6, 12)
        >>> hutchinson_trace(loss_fn, [w], n_probes=10, return_std=True)   # exact for a diagonal H
        (18.0, 0.0)
    """
    return estimate_trace(HessianOperator(loss_fn, params), n_probes, seed, return_std)


def hutchinson_diagonal(loss_fn, params, n_probes=100, seed=0):
    """diag H of the Hessian of ``loss_fn`` as a flat (W,) vector, by
    ``estimate_diagonal`` on Hessian-vector products.

        >>> from autograd_core.curvature import hutchinson_diagonal
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> loss_fn = lambda: (w ** 3).sum()               # H = diag(6, 12)
        >>> hutchinson_diagonal(loss_fn, [w], n_probes=10)     # exact for a diagonal H
        array([ 6., 12.])
    """
    return estimate_diagonal(HessianOperator(loss_fn, params), n_probes, seed)
