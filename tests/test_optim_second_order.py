"""Quasi-Newton and second-order optimisers, line searches and the curvature
products they use: convergence on an ill-conditioned quadratic and on
Rosenbrock, the algorithms' defining properties, Hessian and Gauss–Newton
products against explicit matrices, validation errors. Optional comparison
with torch.optim.LBFGS."""
import numpy as np
import pytest

import autograd_core as ag
import autograd_core.autograd.forward_ad as fwAD
from autograd_core import Tensor
import optim
from optim.line_search import backtracking, cubic_interpolate, strong_wolfe


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------

def _quadratic(n=5, cond=100.0, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.logspace(0, np.log10(cond), n)) @ Q.T
    A = 0.5 * (A + A.T)
    b = rng.standard_normal(n)
    return A, b, np.linalg.solve(A, b)


A, B, X_STAR = _quadratic()
A_T, B_T = Tensor(A), Tensor(B)
ROSEN_START = np.array([-1.5, 2.0])
ONES = np.ones(2)
TIGHT = dict(tolerance_grad=1e-12, tolerance_change=1e-15)


def quad_loss(x):
    return 0.5 * (x @ (A_T @ x)) - (B_T * x).sum()


def rosenbrock(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosen_residual(x):
    """Rosenbrock as a sum of squares: f = ‖r‖², r = (10(y − x²), 1 − x)."""
    return ag.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def rosen_hessian(p):
    x, y = p
    return np.array([[1200 * x ** 2 - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


def make_closure(opt, x, f):
    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss
    return closure


def hf_closure(x, problem):
    """HessianFree's protocol: return (loss, output), no backward."""
    if problem == "quadratic":
        def closure():
            z = x * 1.0                       # output z = x; loss ½zᵀAz − bᵀz (G = A)
            return 0.5 * (z @ (A_T @ z)) - (B_T * z).sum(), z
    else:
        def closure():
            r = rosen_residual(x)
            return (r * r).sum(), r
    return closure


# ---------------------------------------------------------------------------
# Convergence. A "step" is one opt.step(closure) call; quasi-Newton steps run
# with max_iter=1 so a step is one iteration. (constructor, max steps, tol)
# ---------------------------------------------------------------------------

CASES = {
    "LBFGS": (lambda p: optim.LBFGS(p, max_iter=1, **TIGHT), 20, 95),
    "LBFGS-strong-wolfe": (
        lambda p: optim.LBFGS(p, max_iter=1, line_search_fn="strong_wolfe", **TIGHT), 15, 45),
    "BFGS": (lambda p: optim.BFGS(p, max_iter=1, **TIGHT), 20, 45),
    "BFGS-backtracking": (
        lambda p: optim.BFGS(p, max_iter=1, line_search_fn="backtracking", **TIGHT), 20, 45),
    "BFGS-fixed-step": (lambda p: optim.BFGS(p, max_iter=1, line_search_fn=None, **TIGHT), 20, 95),
    "SR1": (lambda p: optim.SR1(p, max_iter=1, **TIGHT), 8, 60),
    "Newton": (lambda p: optim.Newton(p), 3, 8),
    "Newton-cg": (lambda p: optim.Newton(p, solver="cg"), 3, 8),
    "Newton-backtracking": (lambda p: optim.Newton(p, line_search_fn="backtracking"), 3, 25),
    "Newton-strong-wolfe": (lambda p: optim.Newton(p, line_search_fn="strong_wolfe"), 3, 25),
}
HF_CASES = {
    "HessianFree": (lambda p: optim.HessianFree(p), 10, 20),
    "HessianFree-hessian": (lambda p: optim.HessianFree(p, curvature="hessian"), 10, 30),
    "HessianFree-no-cg-backtracking": (lambda p: optim.HessianFree(p, cg_backtracking=False),
                                       10, 22),
}
TOL = 1e-6


@pytest.mark.parametrize("name", sorted(CASES))
def test_quadratic_reaches_minimum(name):
    make, max_steps, _ = CASES[name]
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = make([x])
    closure = make_closure(opt, x, quad_loss)
    for _ in range(max_steps):
        opt.step(closure)
        if np.linalg.norm(x.data - X_STAR) < TOL:
            break
    assert np.linalg.norm(x.data - X_STAR) < TOL


@pytest.mark.parametrize("name", sorted(CASES))
def test_rosenbrock_reaches_minimum(name):
    make, _, max_steps = CASES[name]
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = make([x])
    closure = make_closure(opt, x, rosenbrock)
    for _ in range(max_steps):
        opt.step(closure)
        if np.linalg.norm(x.data - ONES) < TOL:
            break
    assert np.linalg.norm(x.data - ONES) < TOL


@pytest.mark.parametrize("name", sorted(HF_CASES))
@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
def test_hessian_free_reaches_minimum(name, problem):
    make, max_quad, max_rosen = HF_CASES[name]
    start, target, max_steps = ((np.zeros(5), X_STAR, max_quad) if problem == "quadratic"
                                else (ROSEN_START, ONES, max_rosen))
    x = Tensor(start.copy(), requires_grad=True)
    opt = make([x])
    closure = hf_closure(x, problem)
    for _ in range(max_steps):
        opt.step(closure)
        if np.linalg.norm(x.data - target) < TOL:
            break
    assert np.linalg.norm(x.data - target) < TOL


def test_lbfgs_default_step_runs_many_iterations():
    # One step() with the defaults (max_iter=20) solves the 5-d quadratic.
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    opt.step(make_closure(opt, x, quad_loss))
    assert np.linalg.norm(x.data - X_STAR) < 1e-6
    assert opt.state[x]["n_iter"] <= 20


# ---------------------------------------------------------------------------
# L-BFGS: PyTorch's semantics
# ---------------------------------------------------------------------------

def test_lbfgs_first_iteration_is_scaled_gradient_step():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.LBFGS([x], lr=0.7, max_iter=1)
    opt.step(make_closure(opt, x, quad_loss))
    g = -B                                               # ∇f(0) = −b
    expected = -min(1.0, 1.0 / np.abs(g).sum()) * 0.7 * g
    np.testing.assert_allclose(x.data, expected, rtol=1e-14)


def test_lbfgs_direction_is_the_lbfgs_matrix_times_gradient():
    # The two-loop recursion equals the explicit recursive L-BFGS matrix
    # H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, started from H_diag·I.
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=6, history_size=3, **TIGHT)
    opt.step(make_closure(opt, x, rosenbrock))
    st = opt.state[x]
    assert st["n_iter"] == 6 and len(st["old_dirs"]) == 3
    H = st["H_diag"] * np.eye(2)
    for s, y in zip(st["old_stps"], st["old_dirs"]):
        rho = 1.0 / y.dot(s)
        V = np.eye(2) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(st["d"], -H @ st["prev_flat_grad"], rtol=1e-10)


def test_lbfgs_history_and_evaluation_budget():
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=12, history_size=4, line_search_fn="strong_wolfe")
    assert opt.param_groups[0]["max_eval"] == 12 * 5 // 4
    calls = []
    inner = make_closure(opt, x, rosenbrock)

    def closure():
        calls.append(1)
        return inner()

    for _ in range(3):
        before = len(calls)
        opt.step(closure)
        # The budget is checked after each iteration's line search (≤ 25 calls).
        assert len(calls) - before <= 15 + 25
    assert len(opt.state[x]["old_dirs"]) <= 4
    assert opt.state[x]["func_evals"] == len(calls)


def test_lbfgs_stops_at_once_when_gradient_is_below_tolerance():
    x = Tensor(ONES.copy(), requires_grad=True)
    opt = optim.LBFGS([x])
    loss = opt.step(make_closure(opt, x, rosenbrock))
    assert float(loss) == 0.0
    assert opt.state[x]["func_evals"] == 1 and "d" not in opt.state[x]
    np.testing.assert_array_equal(x.data, ONES)


def test_lbfgs_returns_the_first_loss_and_keeps_memory_across_steps():
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=3, max_eval=10)
    closure = make_closure(opt, x, rosenbrock)
    first = opt.step(closure)
    assert float(first) == pytest.approx(float(rosenbrock(Tensor(ROSEN_START))))
    n_pairs = len(opt.state[x]["old_dirs"])
    opt.step(closure)
    assert opt.state[x]["n_iter"] == 6
    assert len(opt.state[x]["old_dirs"]) >= n_pairs


def test_lbfgs_over_several_parameter_tensors():
    w = Tensor(np.zeros((2, 2)), requires_grad=True)
    c = Tensor(np.zeros(1), requires_grad=True)
    opt = optim.LBFGS([w, c], line_search_fn="strong_wolfe", **TIGHT)

    def f(_):
        x = ag.concatenate([w.reshape(4), c])
        return quad_loss(x)

    for _ in range(3):
        opt.step(make_closure(opt, None, f))
    np.testing.assert_allclose(np.concatenate([w.data.ravel(), c.data]), X_STAR, atol=1e-6)


# ---------------------------------------------------------------------------
# Line searches
# ---------------------------------------------------------------------------

def _ray(phi, dphi):
    def obj(x, t, d):
        a = x + t * d[0]
        return float(phi(a)), np.array([dphi(a)])
    return obj


# Moré & Thuente (1994), functions 1 and 2.
MT1 = (lambda a: -a / (a * a + 2.0), lambda a: (a * a - 2.0) / (a * a + 2.0) ** 2)
MT2 = (lambda a: (a + 0.004) ** 5 - 2 * (a + 0.004) ** 4,
       lambda a: 5 * (a + 0.004) ** 4 - 8 * (a + 0.004) ** 3)


@pytest.mark.parametrize("fun", [MT1, MT2], ids=["MT1", "MT2"])
@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("t0", [1e-3, 1e-1, 10.0])
def test_strong_wolfe_conditions_hold(fun, c2, t0):
    phi, dphi = fun
    obj = _ray(phi, dphi)
    d = np.array([1.0])
    f0, g0 = obj(0.0, 0.0, d)
    f, g, t, evals = strong_wolfe(obj, 0.0, t0, d, f0, g0, g0.dot(d), c1=1e-4, c2=c2)
    assert phi(t) <= f0 + 1e-4 * t * g0[0]                # sufficient decrease
    assert abs(dphi(t)) <= c2 * abs(g0[0])                 # strong curvature condition
    assert f == phi(t) and g[0] == dphi(t) and 1 <= evals <= 25


def test_strong_wolfe_out_of_budget_returns_best_point():
    phi, dphi = MT1
    obj = _ray(phi, dphi)
    d = np.array([1.0])
    f0, g0 = obj(0.0, 0.0, d)
    f, _, t, evals = strong_wolfe(obj, 0.0, 1000.0, d, f0, g0, g0.dot(d), max_ls=25)
    assert evals <= 26 and f <= f0 and f == phi(t)


def test_backtracking_takes_first_armijo_step():
    phi, dphi = MT2
    obj = _ray(phi, dphi)
    d = np.array([1.0])
    f0, g0 = obj(0.0, 0.0, d)
    f, g, t, evals = backtracking(obj, 0.0, 8.0, d, f0, g0, g0[0], c1=1e-4, rho=0.5)
    assert phi(t) <= f0 + 1e-4 * t * g0[0]
    assert not phi(2 * t) <= f0 + 1e-4 * 2 * t * g0[0]     # the previous trial failed
    assert evals == round(np.log2(8.0 / t)) + 1


def test_backtracking_rejects_when_no_decrease():
    obj = _ray(lambda a: a, lambda a: 1.0)                # increasing: d is not descent
    f, g, t, evals = backtracking(obj, 0.0, 1.0, np.array([1.0]), 0.0, np.array([1.0]),
                                  -1.0, max_ls=5)
    assert t == 0.0 and f == 0.0 and evals == 5
    with pytest.raises(ValueError, match="rho"):
        backtracking(obj, 0.0, 1.0, np.array([1.0]), 0.0, None, -1.0, rho=1.5)


def test_cubic_interpolate():
    p = lambda x: x ** 3 - 3 * x                           # noqa: E731  min at x = 1
    dp = lambda x: 3 * x ** 2 - 3                          # noqa: E731
    assert cubic_interpolate(0.0, p(0.0), dp(0.0), 2.0, p(2.0), dp(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, p(2.0), dp(2.0), 0.0, p(0.0), dp(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, p(0.0), dp(0.0), 2.0, p(2.0), dp(2.0),
                             bounds=(1.5, 3.0)) == 1.5
    # No real minimiser (d₁² < g₁g₂): the middle of the bounds.
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 4.0) == 0.5


# ---------------------------------------------------------------------------
# Hessian-vector products, Newton
# ---------------------------------------------------------------------------

def test_closure_hvp_is_exact():
    x = Tensor(np.array([-1.2, 0.8]), requires_grad=True)
    opt = optim.Newton([x])
    closure = make_closure(opt, x, rosenbrock)
    v = np.array([0.3, -1.1])
    loss, g, hv = optim.closure_hvp(closure, [x], v)
    np.testing.assert_allclose(hv, rosen_hessian(x.data) @ v, rtol=1e-12)
    assert loss == pytest.approx(float(rosenbrock(Tensor(x.data))))
    # Nothing left behind: the direction left with its forward level, and no
    # tangent lives on at any level opened later.
    assert x.tangent is None and x.grad.tangent is None and not fwAD.is_dual(x.grad)
    with ag.forward_ad():
        assert x.tangent is None and x.grad.tangent is None
    np.testing.assert_allclose(g, x.grad.data)
    np.testing.assert_allclose(opt.hessian(closure), rosen_hessian(x.data), rtol=1e-12)


def test_newton_undamped_step_solves_a_quadratic():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Newton([x], damping=0.0)
    opt.step(make_closure(opt, x, quad_loss))
    np.testing.assert_allclose(x.data, X_STAR, rtol=1e-10, atol=1e-12)


def test_newton_damped_step_formula():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Newton([x], damping=0.5, lr=0.8, solver="cg")
    opt.step(make_closure(opt, x, quad_loss))
    expected = -0.8 * np.linalg.solve(A + 0.5 * np.eye(5), -B)
    np.testing.assert_allclose(x.data, expected, rtol=1e-7)


def test_newton_raises_damping_when_hessian_is_indefinite():
    # At (0, 1) the Rosenbrock Hessian is diag(−398, 200).
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    opt = optim.Newton([x], damping=1e-3)
    closure = make_closure(opt, x, rosenbrock)
    f0 = float(rosenbrock(Tensor(x.data)))
    opt.step(closure)
    assert opt.state[x]["last_damping"] > 398
    assert float(rosenbrock(Tensor(x.data))) < f0


def test_conjugate_gradient_solves_spd_system():
    x, iters, neg = optim.conjugate_gradient(lambda v: A @ v, B, tol=1e-12)
    np.testing.assert_allclose(x, X_STAR, rtol=1e-9)
    assert iters <= 5 + 1 and not neg
    Ind = np.diag([1.0, -1.0])
    _, _, neg = optim.conjugate_gradient(lambda v: Ind @ v, np.array([0.0, 1.0]))
    assert neg


# ---------------------------------------------------------------------------
# Gauss–Newton products, Hessian-free
# ---------------------------------------------------------------------------

def _small_net():
    rng = np.random.default_rng(5)
    W1 = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    W2 = Tensor(rng.standard_normal((2, 3)) * 0.7, requires_grad=True)
    X = rng.standard_normal((4, 2))
    Y = np.eye(2)[[0, 1, 1, 0]]
    return [W1, W2], X, Y


def _net_output(params, X):
    W1, W2 = params
    return ag.tanh(Tensor(X) @ W1.T) @ W2.T


def test_gauss_newton_product_matches_explicit_jt_h_j():
    params, X, Y = _small_net()

    def closure():
        z = _net_output(params, X)
        loss = -(Tensor(Y) * ag.log_softmax(z, axis=1)).sum() / 4
        return loss, z

    flat0 = np.concatenate([p.data.ravel() for p in params])

    def out_at(flat):
        W1 = Tensor(flat[:6].reshape(3, 2))
        W2 = Tensor(flat[6:].reshape(2, 3))
        return _net_output([W1, W2], X).data.ravel()

    h = 1e-6
    J = np.stack([(out_at(flat0 + h * e) - out_at(flat0 - h * e)) / (2 * h)
                  for e in np.eye(12)], axis=1)                       # (8, 12)
    z = out_at(flat0).reshape(4, 2)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    HL = np.zeros((8, 8))
    for n in range(4):
        HL[2 * n:2 * n + 2, 2 * n:2 * n + 2] = (np.diag(p[n]) - np.outer(p[n], p[n])) / 4
    G = J.T @ HL @ J
    v = np.random.default_rng(6).standard_normal(12)
    sentinel = Tensor(np.ones((3, 2)))
    params[0].grad = sentinel
    gv = optim.gauss_newton_product(closure, params, v)
    np.testing.assert_allclose(gv, G @ v, rtol=1e-6, atol=1e-8)
    assert all(p.tangent is None for p in params)
    assert params[0].grad is sentinel and params[1].grad is None      # .grad untouched


def test_gauss_newton_product_agrees_with_the_curvature_module():
    curvature = pytest.importorskip("autograd_core.curvature")
    if not hasattr(curvature, "gauss_newton_vector_product"):
        pytest.skip("autograd_core.curvature.gauss_newton_vector_product not available")
    params, X, Y = _small_net()

    def ce(z):
        return -(Tensor(Y) * ag.log_softmax(z, axis=1)).sum() / 4

    def closure():
        z = _net_output(params, X)
        return ce(z), z

    v = np.random.default_rng(7).standard_normal(12)
    ours = optim.gauss_newton_product(closure, params, v)
    theirs = curvature.gauss_newton_vector_product(lambda: _net_output(params, X), params, v,
                                                   loss=ce)
    np.testing.assert_allclose(ours, np.asarray(getattr(theirs, "data", theirs)).ravel(),
                               rtol=1e-10, atol=1e-12)


def test_hessian_free_adapts_damping_and_warm_starts():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.HessianFree([x], damping=1.0)
    opt.step(hf_closure(x, "quadratic"))
    st = opt.state[x]
    # On a quadratic the model is exact: ρ = 1, so λ ← λ·2/3.
    assert st["rho"] == pytest.approx(1.0, abs=1e-8)
    assert st["damping"] == pytest.approx(2.0 / 3.0)
    assert st["cg_init"].shape == (5,) and np.any(st["cg_init"])
    np.testing.assert_allclose(x.grad.data, -B)          # the gradient at the start


def test_hessian_free_with_exact_hessian_products_touches_only_data():
    """HessianFree's one gradient pass is the closure's usual zero_grad() and
    backward(); its curvature products and line search leave .grad alone."""
    x = Tensor(np.zeros(5), requires_grad=True)
    arr = x.data
    opt = optim.HessianFree([x], curvature="hessian")
    opt.step(hf_closure(x, "quadratic"))
    np.testing.assert_allclose(x.grad.data, -B)          # the gradient at the start
    assert x.data is arr and np.linalg.norm(x.data) > 0
    v = np.random.default_rng(8).standard_normal(5)
    grad = x.grad
    np.testing.assert_allclose(optim.hessian_free._hessian_product(hf_closure(x, "quadratic"),
                                                                   [x], v), A @ v, rtol=1e-12)
    assert x.grad is grad


def test_hessian_free_raises_damping_on_a_bad_model():
    # Far out on Rosenbrock with a tiny λ the quadratic model overshoots.
    x = Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = optim.HessianFree([x], damping=1e-8, curvature="hessian", line_search=False,
                            cg_backtracking=False)
    before = []
    for _ in range(5):
        before.append(opt.state[x].get("damping", 1e-8))
        opt.step(hf_closure(x, "rosenbrock"))
        if opt.state[x]["rho"] < 0.25:
            assert opt.state[x]["damping"] == pytest.approx(before[-1] * 1.5)
            break
    else:
        pytest.fail("expected a step with ρ < 1/4")


def test_hessian_free_closure_protocol_errors():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.HessianFree([x])
    with pytest.raises(TypeError, match=r"\(loss, output\)"):
        opt.step(lambda: quad_loss(x))
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(TypeError, match="tuple of 3"):
        opt.step(lambda: (quad_loss(x), x, x))
    # With exact Hessian products the loss alone is enough.
    opt2 = optim.HessianFree([x], curvature="hessian")
    opt2.step(lambda: quad_loss(x))
    assert opt2.state[x]["n_iter"] == 1


# ---------------------------------------------------------------------------
# SR1 and its trust-region subproblem
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("radius", [0.1, 1.0, 100.0])
def test_trust_region_subproblem_kkt(seed, radius):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((4, 4))
    Bm = 0.5 * (M + M.T)                                   # indefinite in general
    g = rng.standard_normal(4)
    s = optim.trust_region_subproblem(Bm, g, radius)
    assert np.linalg.norm(s) <= radius * (1 + 1e-9)
    # Global optimality (Moré–Sorensen): (B + λI)s = −g, λ ≥ 0, B + λI ⪰ 0,
    # λ(Δ − ‖s‖) = 0. Recover λ from the first equation.
    lam = -((Bm @ s + g) @ s) / (s @ s)
    assert lam >= -1e-8
    np.testing.assert_allclose((Bm + lam * np.eye(4)) @ s, -g, atol=1e-6)
    assert np.linalg.eigvalsh(Bm + lam * np.eye(4)).min() >= -1e-6
    assert lam * (radius - np.linalg.norm(s)) == pytest.approx(0.0, abs=1e-6)


def test_trust_region_subproblem_hard_case():
    Bm = np.diag([-2.0, 1.0])
    g = np.array([0.0, 1.0])                               # ⟂ the negative eigenvector
    s = optim.trust_region_subproblem(Bm, g, 2.0)
    assert np.linalg.norm(s) == pytest.approx(2.0)
    np.testing.assert_allclose(s[1], -1.0 / 3.0, rtol=1e-8)  # (B + 2I)s = −g


def test_sr1_skips_updates_with_tiny_denominator():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.SR1([x], max_iter=1, skip_threshold=1.0)   # |sᵀv| ≥ ‖s‖‖v‖ never holds
    closure = make_closure(opt, x, quad_loss)
    for _ in range(3):
        opt.step(closure)
    B_ = opt.state[x]["B"]
    np.testing.assert_allclose(B_, B_[0, 0] * np.eye(5))   # only the initial scaling


def test_sr1_recovers_the_hessian_of_a_quadratic():
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.SR1([x], **TIGHT)
    opt.step(make_closure(opt, x, quad_loss))
    # SR1 is exact on quadratics after n linearly independent steps.
    np.testing.assert_allclose(opt.state[x]["B"], A, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------
# dtypes, validation, a real module
# ---------------------------------------------------------------------------

SECOND_ORDER = {
    "LBFGS": lambda p: optim.LBFGS(p, max_iter=5),
    "LBFGS-sw": lambda p: optim.LBFGS(p, max_iter=5, line_search_fn="strong_wolfe"),
    "BFGS": lambda p: optim.BFGS(p, max_iter=5),
    "SR1": lambda p: optim.SR1(p, max_iter=5),
    "Newton": lambda p: optim.Newton(p),
    "Newton-cg": lambda p: optim.Newton(p, solver="cg"),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_float32_parameters_stay_float32(name):
    x = Tensor(np.zeros(5, dtype=np.float32), requires_grad=True)
    arr = x.data
    opt = SECOND_ORDER[name]([x])
    a32, b32 = Tensor(A.astype(np.float32)), Tensor(B.astype(np.float32))

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (a32 @ x)) - (b32 * x).sum()
        loss.backward()
        return loss

    for _ in range(4):
        opt.step(closure)
    assert x.data.dtype == np.float32 and x.data is arr
    np.testing.assert_allclose(x.data, X_STAR, atol=2e-3)


def test_hessian_free_float32():
    x = Tensor(np.zeros(5, dtype=np.float32), requires_grad=True)
    a32, b32 = Tensor(A.astype(np.float32)), Tensor(B.astype(np.float32))
    opt = optim.HessianFree([x])

    def closure():
        z = x * 1.0
        return 0.5 * (z @ (a32 @ z)) - (b32 * z).sum(), z

    for _ in range(8):
        opt.step(closure)
    assert x.data.dtype == np.float32
    np.testing.assert_allclose(x.data, X_STAR, atol=1e-3)


def _p():
    return [Tensor(np.zeros(2), requires_grad=True)]


@pytest.mark.parametrize("make, match", [
    (lambda: optim.LBFGS(_p(), lr=-1), "Invalid learning rate: -1"),
    (lambda: optim.LBFGS(_p(), max_iter=0), "Invalid max_iter"),
    (lambda: optim.LBFGS(_p(), history_size=0), "Invalid history_size"),
    (lambda: optim.LBFGS(_p(), line_search_fn="armijo"), "Invalid line_search_fn"),
    (lambda: optim.LBFGS(_p(), tolerance_grad=-1), "Invalid tolerance_grad"),
    (lambda: optim.LBFGS([{"params": _p()}, {"params": _p()}]), "parameter groups"),
    (lambda: optim.BFGS(_p(), line_search_fn="wolfe"), "Invalid line_search_fn"),
    (lambda: optim.BFGS(_p(), tolerance_change=-1), "Invalid tolerance_change"),
    (lambda: optim.SR1(_p(), trust_radius=0), "Invalid trust_radius"),
    (lambda: optim.SR1(_p(), trust_radius=2.0, max_trust_radius=1.0), "Invalid max_trust_radius"),
    (lambda: optim.SR1(_p(), eta=0.5), "Invalid eta"),
    (lambda: optim.SR1(_p(), skip_threshold=-1), "Invalid skip_threshold"),
    (lambda: optim.Newton(_p(), lr=-1), "Invalid learning rate"),
    (lambda: optim.Newton(_p(), damping=-1), "Invalid damping value: -1"),
    (lambda: optim.Newton(_p(), solver="lu"), "Invalid solver"),
    (lambda: optim.Newton(_p(), cg_max_iter=0), "Invalid cg_max_iter"),
    (lambda: optim.Newton(_p(), line_search_fn="x"), "Invalid line_search_fn"),
    (lambda: optim.HessianFree(_p(), damping=-1), "Invalid damping value"),
    (lambda: optim.HessianFree(_p(), curvature="fisher"), "Invalid curvature"),
    (lambda: optim.HessianFree(_p(), cg_decay=1.5), "Invalid cg_decay"),
    (lambda: optim.HessianFree(_p(), cg_max_iter=0), "Invalid cg_max_iter"),
])
def test_invalid_hyperparameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("cls", [optim.LBFGS, optim.BFGS, optim.SR1, optim.Newton])
def test_closure_is_required(cls):
    opt = cls(_p())
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": _p()})


def test_lbfgs_trains_an_nn_linear_model():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("nn.Linear not available")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)).astype(np.float32)
    w_true = np.array([[1.5, -2.0, 0.5]], dtype=np.float32)
    Y = X @ w_true.T + 0.3
    model = nn.Linear(3, 1)
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    Xt, Yt = Tensor(X), Tensor(Y)

    def closure():
        opt.zero_grad()
        loss = ((model(Xt) - Yt) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    assert model.weight.data.dtype == np.float32
    np.testing.assert_allclose(model.weight.data, w_true, atol=1e-3)
    np.testing.assert_allclose(model.bias.data, [0.3], atol=1e-3)


# ---------------------------------------------------------------------------
# Optional: the same trajectory as torch.optim.LBFGS
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"),
                                dict(lr=0.5, max_iter=4, history_size=2),
                                dict(max_iter=7, line_search_fn="strong_wolfe", history_size=3)],
                         ids=str)
def test_lbfgs_matches_torch(kw):
    torch = pytest.importorskip("torch")
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = optim.LBFGS([x], **kw)
    closure = make_closure(opt, x, rosenbrock)
    tx = torch.tensor(ROSEN_START.copy(), dtype=torch.float64, requires_grad=True)
    topt = torch.optim.LBFGS([tx], **kw)

    def tclosure():
        topt.zero_grad()
        loss = 100 * (tx[1] - tx[0] ** 2) ** 2 + (1 - tx[0]) ** 2
        loss.backward()
        return loss

    # The same algorithm, not the same rounding: NumPy's and PyTorch's dot
    # products differ in the last bit (fused multiply-adds), and Rosenbrock's
    # valley amplifies a change of one ulp in the start to 1e-4 by step 4 (our
    # own trajectory does the same). So the first two steps are compared
    # tightly, the point reached after six loosely, and the decisions (closure
    # calls) exactly at every step.
    for k in range(6):
        l1 = opt.step(closure)
        l2 = topt.step(tclosure)
        if k < 2 or k == 5:
            rtol = 1e-9 if k < 2 else 1e-5
            assert float(l1) == pytest.approx(float(l2), rel=rtol, abs=1e-14 if k < 2 else 1e-9)
            np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=rtol, atol=1e-12,
                                       err_msg=f"step {k + 1}")
        assert opt.state[x]["func_evals"] == topt.state[topt._params[0]]["func_evals"]
