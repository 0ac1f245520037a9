"""First-order optimisers: convergence on an ill-conditioned quadratic and on
Rosenbrock, step-by-step agreement with the published update formulas
(re-implemented here in NumPy, independently of optim), dtypes, parameter
groups, and every validation error. Optional comparison with torch.optim."""
import itertools

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import optim


# ---------------------------------------------------------------------------
# Test problems
# ---------------------------------------------------------------------------

def _quadratic(n=5, cond=100.0, seed=0):
    """f(x) = ½ xᵀAx − bᵀx with eigenvalues of A log-spaced in [1, cond]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.logspace(0, np.log10(cond), n)) @ Q.T
    A = 0.5 * (A + A.T)
    b = rng.standard_normal(n)
    return A, b, np.linalg.solve(A, b)


A, B, X_STAR = _quadratic()
A_T, B_T = Tensor(A), Tensor(B)


def quad_loss(x):
    return 0.5 * (x @ (A_T @ x)) - (B_T * x).sum()


def rosenbrock(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosenbrock_grad(x):
    return np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]),
                     200 * (x[1] - x[0] ** 2)])


ROSEN_START = np.array([-1.5, 2.0])
ONES = np.ones(2)


def test_quadratic_is_ill_conditioned():
    ev = np.linalg.eigvalsh(A)
    assert ev.max() / ev.min() == pytest.approx(100.0, rel=1e-9)


def test_engine_rosenbrock_gradient_matches_the_formula():
    # The Rosenbrock convergence runs below feed this formula into .grad (the
    # optimisers only read .grad); here it is checked against the engine.
    for pt in [ROSEN_START, np.array([0.3, -0.7]), ONES]:
        x = Tensor(pt.copy(), requires_grad=True)
        rosenbrock(x).backward()
        np.testing.assert_allclose(x.grad.data, rosenbrock_grad(pt), rtol=1e-13, atol=1e-12)


# ---------------------------------------------------------------------------
# Convergence: (constructor, max steps, tolerance on ‖x − x*‖)
# ---------------------------------------------------------------------------

# Quadratic: λ ∈ [1, 100]. Step sizes from the theory where there is one:
# gradient descent 2/(L+μ); heavy ball 4/(√L+√μ)² with β = ((√κ−1)/(√κ+1))²;
# Nesterov 1/L with β = (√κ−1)/(√κ+1). Adadelta needs lr < 2/L near the
# optimum (there its step tends to lr·g), hence its small lr.
QUADRATIC_CASES = {
    "SGD": (lambda p: optim.SGD(p, lr=2 / 101), 700, 1e-6),
    "SGD-heavy-ball": (lambda p: optim.SGD(p, lr=4 / 121, momentum=(9 / 11) ** 2), 90, 1e-6),
    "SGD-nesterov": (lambda p: optim.SGD(p, lr=0.01, momentum=9 / 11, nesterov=True), 160, 1e-6),
    "Adagrad": (lambda p: optim.Adagrad(p, lr=0.5), 280, 1e-6),
    "Adadelta": (lambda p: optim.Adadelta(p, lr=0.015, eps=1e-2), 950, 1e-6),
    "RMSprop": (lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.9), 250, 1e-6),
    "RMSprop-centered": (lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.9, centered=True), 250, 1e-6),
    "Adam": (lambda p: optim.Adam(p, lr=0.01), 250, 1e-6),
    "Adam-amsgrad": (lambda p: optim.Adam(p, lr=0.01, amsgrad=True), 260, 1e-6),
    "AdamW": (lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.0), 250, 1e-6),
}

# Rosenbrock from (−1.5, 2); minimum (1, 1) where the Hessian has eigenvalues
# ≈ 0.4 and 1002. Plain SGD, plain RMSprop and Adagrad crawl along the valley,
# so their tolerance is looser; Adadelta only converges with a long memory.
ROSENBROCK_CASES = {
    "SGD": (lambda p: optim.SGD(p, lr=1.5e-3), 12000, 1e-3),
    "SGD-momentum": (lambda p: optim.SGD(p, lr=1e-3, momentum=0.95), 800, 1e-4),
    "SGD-nesterov": (lambda p: optim.SGD(p, lr=2e-4, momentum=0.99, nesterov=True), 1250, 1e-4),
    "Adagrad": (lambda p: optim.Adagrad(p, lr=1.0), 13500, 1e-3),
    "Adadelta": (lambda p: optim.Adadelta(p, lr=1.0, rho=0.9999), 12500, 1e-4),
    "RMSprop": (lambda p: optim.RMSprop(p, lr=1e-3), 9500, 1e-3),
    "RMSprop-centered-momentum": (
        lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True), 1300, 1e-4),
    "Adam": (lambda p: optim.Adam(p, lr=0.1), 1300, 1e-4),
    "AdamW": (lambda p: optim.AdamW(p, lr=0.01, betas=(0.9, 0.99), weight_decay=0.0), 1300, 1e-4),
}


@pytest.mark.parametrize("name", sorted(QUADRATIC_CASES))
def test_quadratic_reaches_minimum(name):
    make, max_steps, tol = QUADRATIC_CASES[name]
    x = Tensor(np.zeros(5), requires_grad=True)
    opt = make([x])

    def closure():
        opt.zero_grad()
        loss = quad_loss(x)
        loss.backward()
        return loss

    for k in range(1, max_steps + 1):
        opt.step(closure)
        if np.linalg.norm(x.data - X_STAR) < tol:
            break
    assert np.linalg.norm(x.data - X_STAR) < tol, (name, k)


@pytest.mark.parametrize("name", sorted(ROSENBROCK_CASES))
def test_rosenbrock_reaches_minimum(name):
    make, max_steps, tol = ROSENBROCK_CASES[name]
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = make([x])
    for k in range(1, max_steps + 1):
        x.grad = rosenbrock_grad(x.data)
        opt.step()
        if np.linalg.norm(x.data - ONES) < tol:
            break
    assert np.linalg.norm(x.data - ONES) < tol, (name, k)


def test_engine_driven_rosenbrock_run():
    # The same optimiser driven by the engine's own gradient (closure protocol).
    x = Tensor(ROSEN_START.copy(), requires_grad=True)
    opt = optim.Adam([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(1300):
        opt.step(closure)
    assert np.linalg.norm(x.data - ONES) < 1e-4


# ---------------------------------------------------------------------------
# Reference formulas, written from the papers / PyTorch documentation
# ---------------------------------------------------------------------------

def ref_sgd(theta, grad_fn, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    b = None
    out = []
    for _ in range(steps):
        g = grad_fn(theta)
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta)
    return out


def ref_adagrad(theta, grad_fn, steps, lr, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    s = np.full_like(theta, initial_accumulator_value)
    out = []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        g = -g if maximize else g
        g = g + weight_decay * theta
        eta = lr / (1 + (t - 1) * lr_decay)
        s = s + g ** 2
        theta = theta - eta * g / (np.sqrt(s) + eps)
        out.append(theta)
    return out


def ref_adadelta(theta, grad_fn, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
                 maximize=False):
    Eg2 = np.zeros_like(theta)
    Edx2 = np.zeros_like(theta)
    out = []
    for _ in range(steps):
        g = grad_fn(theta)
        g = -g if maximize else g
        g = g + weight_decay * theta
        Eg2 = rho * Eg2 + (1 - rho) * g ** 2
        dx = np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g      # Zeiler (2012), Alg. 1
        Edx2 = rho * Edx2 + (1 - rho) * dx ** 2
        theta = theta - lr * dx
        out.append(theta)
    return out


def ref_rmsprop(theta, grad_fn, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                momentum=0.0, centered=False, maximize=False):
    v = np.zeros_like(theta)
    gbar = np.zeros_like(theta)
    buf = np.zeros_like(theta)
    out = []
    for _ in range(steps):
        g = grad_fn(theta)
        g = -g if maximize else g
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        if centered:                                  # Graves (2013), eq. 38-40
            gbar = alpha * gbar + (1 - alpha) * g
            denom = np.sqrt(v - gbar ** 2) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / denom
        out.append(theta)
    return out


def ref_adam(theta, grad_fn, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    """Kingma & Ba (2015) Algorithm 1; AMSGrad (Reddi et al. 2018) on the raw
    second moment; AdamW (Loshchilov & Hutter 2019) decays θ directly."""
    b1, b2 = betas
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    out = []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        g = -g if maximize else g
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            v_hat = vmax / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


# A smooth gradient field that changes with θ (so the state matters) and has
# entries of both signs and several scales.
_G_RNG = np.random.default_rng(3)
_GA = _G_RNG.standard_normal((7, 7))
_GA = _GA @ _GA.T / 7 + np.eye(7)
_GB = _G_RNG.standard_normal(7)


def grad_field(theta):
    return _GA @ theta - _GB + 0.5 * np.sin(3 * theta)


THETA0 = np.random.default_rng(4).standard_normal(7)


def _run_optim(make, steps, dtype=np.float64):
    """Run optim on two parameters (shapes (3,) and (2, 2)) that together are θ."""
    p1 = Tensor(THETA0[:3].astype(dtype), requires_grad=True)
    p2 = Tensor(THETA0[3:].reshape(2, 2).astype(dtype), requires_grad=True)
    opt = make([p1, p2])
    out = []
    for _ in range(steps):
        theta = np.concatenate([p1.data.ravel(), p2.data.ravel()]).astype(np.float64)
        g = grad_field(theta)
        p1.grad = g[:3].astype(dtype)
        p2.grad = g[3:].reshape(2, 2).astype(dtype)
        opt.step()
        out.append(np.concatenate([p1.data.ravel(), p2.data.ravel()]))
    return out, (p1, p2), opt


def _compare(make, ref, steps=10, rtol=1e-12, atol=1e-13):
    got, _, _ = _run_optim(make, steps)
    want = ref(THETA0.copy(), grad_field, steps)
    for k, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {k + 1}")


SGD_COMBOS = [
    dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
    for m, d, wd, n, mx in itertools.product([0.0, 0.9], [0.0, 0.3], [0.0, 0.1],
                                             [False, True], [False, True])
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize("kw", SGD_COMBOS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_matches_formula(kw):
    _compare(lambda p: optim.SGD(p, lr=0.05, **kw), lambda th, g, n: ref_sgd(th, g, n, 0.05, **kw))


ADAGRAD_COMBOS = [dict(lr_decay=ld, weight_decay=wd, initial_accumulator_value=iav, maximize=mx)
                  for ld, wd, iav, mx in itertools.product([0.0, 0.05], [0.0, 0.1], [0.0, 0.3],
                                                           [False, True])]


@pytest.mark.parametrize("kw", ADAGRAD_COMBOS, ids=str)
def test_adagrad_matches_formula(kw):
    _compare(lambda p: optim.Adagrad(p, lr=0.1, **kw),
             lambda th, g, n: ref_adagrad(th, g, n, 0.1, **kw))


ADADELTA_COMBOS = [dict(lr=lr, rho=rho, weight_decay=wd, maximize=mx)
                   for lr, rho, wd, mx in itertools.product([1.0, 0.5], [0.9, 0.5], [0.0, 0.1],
                                                            [False, True])]


@pytest.mark.parametrize("kw", ADADELTA_COMBOS, ids=str)
def test_adadelta_matches_formula(kw):
    _compare(lambda p: optim.Adadelta(p, **kw), lambda th, g, n: ref_adadelta(th, g, n, **kw))


RMSPROP_COMBOS = [dict(momentum=m, centered=c, weight_decay=wd, maximize=mx, alpha=a)
                  for m, c, wd, mx, a in itertools.product([0.0, 0.9], [False, True], [0.0, 0.1],
                                                           [False, True], [0.99, 0.3])]


@pytest.mark.parametrize("kw", RMSPROP_COMBOS, ids=str)
def test_rmsprop_matches_formula(kw):
    _compare(lambda p: optim.RMSprop(p, lr=0.01, **kw),
             lambda th, g, n: ref_rmsprop(th, g, n, lr=0.01, **kw), rtol=1e-10, atol=1e-12)


ADAM_COMBOS = [dict(weight_decay=wd, amsgrad=ams, maximize=mx, betas=betas)
               for wd, ams, mx, betas in itertools.product([0.0, 0.1], [False, True],
                                                           [False, True],
                                                           [(0.9, 0.999), (0.3, 0.8)])]


@pytest.mark.parametrize("kw", ADAM_COMBOS, ids=str)
def test_adam_matches_formula(kw):
    _compare(lambda p: optim.Adam(p, lr=0.05, **kw),
             lambda th, g, n: ref_adam(th, g, n, lr=0.05, **kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", ADAM_COMBOS, ids=str)
def test_adamw_matches_formula(kw):
    _compare(lambda p: optim.AdamW(p, lr=0.05, **kw),
             lambda th, g, n: ref_adam(th, g, n, lr=0.05, decoupled=True, **kw),
             rtol=1e-10, atol=1e-12)


def test_adamw_default_weight_decay_is_0_01_and_decouples():
    p = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1)
    assert opt.defaults["weight_decay"] == 0.01
    p.grad = np.array([0.0])
    opt.step()
    # Zero gradient: only the decay acts, θ ← θ (1 − lr·λ).
    assert p.data[0] == pytest.approx(2.0 * (1 - 0.1 * 0.01), rel=1e-15)


def test_sgd_momentum_buffer_starts_at_first_gradient():
    p = Tensor(np.array([0.0]), requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == -1.0                      # b = g, not (1 − τ) g
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0])
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == -1.0 - (0.9 + 0.5)        # b = μ b + (1 − τ) g


# ---------------------------------------------------------------------------
# Defaults (PyTorch's)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls, expected", [
    (optim.SGD, dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                     maximize=False)),
    (optim.Adagrad, dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                         eps=1e-10)),
    (optim.Adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)),
    (optim.RMSprop, dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                         centered=False)),
    (optim.Adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)),
    (optim.AdamW, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                       amsgrad=False)),
])
def test_defaults_are_pytorchs(cls, expected):
    opt = cls([Tensor(np.zeros(2), requires_grad=True)])
    for k, v in expected.items():
        assert opt.defaults[k] == v, k
        assert opt.param_groups[0][k] == v, k


# ---------------------------------------------------------------------------
# dtypes, groups, gradients, closures
# ---------------------------------------------------------------------------

FIRST_ORDER = {
    "SGD": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01),
    "Adadelta": lambda p: optim.Adadelta(p, weight_decay=0.01),
    "RMSprop": lambda p: optim.RMSprop(p, momentum=0.5, centered=True, weight_decay=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.05, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda p: optim.AdamW(p, lr=0.05, amsgrad=True),
}


@pytest.mark.parametrize("name", sorted(FIRST_ORDER))
def test_float32_parameters_stay_float32(name):
    got32, params, opt = _run_optim(FIRST_ORDER[name], 10, dtype=np.float32)
    for p in params:
        assert p.data.dtype == np.float32
        for v in opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32
    got64, _, _ = _run_optim(FIRST_ORDER[name], 10, dtype=np.float64)
    np.testing.assert_allclose(got32[-1], got64[-1], rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", sorted(FIRST_ORDER))
def test_updates_are_in_place(name):
    p = Tensor(np.ones((2, 3)), requires_grad=True)
    arr = p.data
    opt = FIRST_ORDER[name]([p])
    p.grad = np.full((2, 3), 0.5)
    opt.step()
    assert p.data is arr and not np.allclose(arr, 1.0)


@pytest.mark.parametrize("name", sorted(FIRST_ORDER))
def test_parameters_without_grad_are_skipped(name):
    p = Tensor(np.ones(3), requires_grad=True)
    q = Tensor(np.ones(3), requires_grad=True)
    opt = FIRST_ORDER[name]([p, q])
    p.grad = np.ones(3)
    opt.step()
    np.testing.assert_array_equal(q.data, np.ones(3))
    assert not np.allclose(p.data, 1.0)
    assert q not in opt.state or opt.state[q].get("step", 0) == 0


def test_param_groups_use_their_own_hyperparameters():
    p = Tensor(np.ones(2), requires_grad=True)
    q = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    p.grad = np.ones(2)
    q.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(p.data, 0.9)
    np.testing.assert_allclose(q.data, 0.5)
    r = Tensor(np.ones(2), requires_grad=True)
    opt.add_param_group({"params": r, "lr": 0.25})
    r.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(r.data, 0.75)
    assert opt.param_groups[2]["momentum"] == 0


def test_step_returns_closure_loss_and_runs_it_with_grad_enabled():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    seen = []

    def closure():
        seen.append(ag.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0 and seen == [True]
    assert opt.step() is None


def test_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    g = x.grad
    opt.zero_grad(set_to_none=False)
    assert x.grad is g
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert x.grad is None
    opt.zero_grad()          # no gradient: nothing to do


def test_maximize_climbs():
    x = Tensor(np.array([0.3]), requires_grad=True)
    opt = optim.Adam([x], lr=0.05, maximize=True)
    for _ in range(300):
        opt.zero_grad()
        loss = -(x - 2.0) ** 2            # maximum at 2
        loss.sum().backward()
        opt.step()
    assert x.data[0] == pytest.approx(2.0, abs=1e-2)


def test_repr_lists_hyperparameters():
    opt = optim.Adam([Tensor(np.zeros(1), requires_grad=True)], lr=0.01)
    text = repr(opt)
    assert text.startswith("Adam (") and "lr: 0.01" in text and "Parameter Group 0" in text


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def _p():
    return [Tensor(np.zeros(2), requires_grad=True)]


@pytest.mark.parametrize("make, match", [
    (lambda: optim.SGD(_p(), lr=-1), "Invalid learning rate: -1"),
    (lambda: optim.SGD(_p(), lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda: optim.SGD(_p(), lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda: optim.SGD(_p(), lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda: optim.SGD(_p(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "zero dampening"),
    (lambda: optim.Adagrad(_p(), lr=-0.1), "Invalid learning rate"),
    (lambda: optim.Adagrad(_p(), lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda: optim.Adagrad(_p(), weight_decay=-1), "Invalid weight_decay value"),
    (lambda: optim.Adagrad(_p(), initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    (lambda: optim.Adagrad(_p(), eps=-1), "Invalid epsilon value: -1"),
    (lambda: optim.Adadelta(_p(), lr=-1), "Invalid learning rate"),
    (lambda: optim.Adadelta(_p(), rho=1.5), "Invalid rho value: 1.5"),
    (lambda: optim.Adadelta(_p(), eps=-1), "Invalid epsilon value"),
    (lambda: optim.Adadelta(_p(), weight_decay=-1), "Invalid weight_decay value"),
    (lambda: optim.RMSprop(_p(), lr=-1), "Invalid learning rate"),
    (lambda: optim.RMSprop(_p(), eps=-1), "Invalid epsilon value"),
    (lambda: optim.RMSprop(_p(), momentum=-1), "Invalid momentum value"),
    (lambda: optim.RMSprop(_p(), weight_decay=-1), "Invalid weight_decay value"),
    (lambda: optim.RMSprop(_p(), alpha=-1), "Invalid alpha value: -1"),
    (lambda: optim.Adam(_p(), lr=-1), "Invalid learning rate: -1"),
    (lambda: optim.Adam(_p(), eps=-1), "Invalid epsilon value: -1"),
    (lambda: optim.Adam(_p(), betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda: optim.Adam(_p(), betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda: optim.Adam(_p(), betas=0.9), "Invalid betas"),
    (lambda: optim.Adam(_p(), weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda: optim.AdamW(_p(), lr=-1), "Invalid learning rate"),
    (lambda: optim.AdamW(_p(), betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    (lambda: optim.SGD(_p(), lr=float("nan")), "Invalid learning rate"),
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([{"params": _p(), "lr": -2}], lr=0.1), "Invalid learning rate: -2"),
])
def test_invalid_hyperparameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_invalid_params_raise():
    x = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(x, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({x}, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([Tensor(np.zeros(2, dtype=np.int64))], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(3, lr=0.1)
    opt = optim.SGD([x], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [x]})
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([x, x], lr=0.1)
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([x])
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})


def test_required_hyperparameter():
    class Custom(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Custom(_p())
    assert Custom(_p(), lr=0.5).param_groups[0]["lr"] == 0.5


# ---------------------------------------------------------------------------
# Optional: the same trajectories as torch.optim
# ---------------------------------------------------------------------------

TORCH_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Adadelta", dict(lr=0.9, rho=0.8, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.8))),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("name, kw", TORCH_CASES, ids=lambda v: str(v))
def test_matches_torch_optim(name, kw):
    torch = pytest.importorskip("torch")
    ours, _, _ = _run_optim(lambda p: getattr(optim, name)(p, **kw), 15)
    t1 = torch.tensor(THETA0[:3].copy(), requires_grad=True)
    t2 = torch.tensor(THETA0[3:].reshape(2, 2).copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([t1, t2], foreach=False, **kw)
    for k in range(15):
        theta = np.concatenate([t1.detach().numpy().ravel(), t2.detach().numpy().ravel()])
        g = grad_field(theta)
        t1.grad = torch.tensor(g[:3])
        t2.grad = torch.tensor(g[3:].reshape(2, 2))
        topt.step()
        got = np.concatenate([t1.detach().numpy().ravel(), t2.detach().numpy().ravel()])
        np.testing.assert_allclose(ours[k], got, rtol=1e-10, atol=1e-12, err_msg=f"step {k + 1}")
