"""autograd_core.curvature: Bishop's Hessian toolkit (PRML §5.4), each tool
checked against the exact Hessian of small networks and for its known property."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import autograd_core.curvature as C
import autograd_core.functional as F
from autograd_core import Tensor

from tests.strategies import array, shapes


def rng(seed=0):
    return np.random.default_rng(seed)


class MLP:
    """A small fully connected network on plain Tensors (float64), PyTorch layout."""

    def __init__(self, sizes, acts, seed=0, scale=0.7):
        r = rng(seed)
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = Tensor(r.standard_normal((n_out, n_in)) * scale, requires_grad=True)
            b = Tensor(r.standard_normal(n_out) * 0.3, requires_grad=True)
            self.layers.append(C.Layer(W, b, acts[i] if i < len(acts) else "identity"))

    def parameters(self):
        return [p for layer in self.layers for p in (layer.weight, layer.bias)]

    def __call__(self, x):
        z = Tensor(x)
        for layer in self.layers:
            z = z @ layer.weight.T + layer.bias
            z = {"identity": lambda a: a, "tanh": lambda a: a.tanh(), "relu": lambda a: a.relu(),
                 "sigmoid": lambda a: a.sigmoid()}[layer.activation](z)
        return z


def sse(y, t):
    return 0.5 * ((y - t) ** 2).sum()


def sigmoid_ce(a, t):
    # -[t log σ(a) + (1-t) log(1-σ(a))] = softplus(a) - t a, written stably
    return (a.relu() + ((-a.abs()).exp() + 1.0).log() - a * t).sum()


def softmax_ce(a, labels):
    return -(a.log_softmax(axis=1) * np.eye(a.shape[1])[labels]).sum()


LOSS_FNS = {"sse": sse, "sigmoid_ce": sigmoid_ce, "softmax_ce": softmax_ce}


def problem(sizes, acts, loss, n=12, seed=0):
    """(model, x, t, loss_fn, output_fn) for a random data set."""
    model = MLP(sizes, acts, seed=seed)
    r = rng(seed + 100)
    x = r.standard_normal((n, sizes[0]))
    K = sizes[-1]
    if loss == "sse":
        t = r.standard_normal((n, K))
    elif loss == "sigmoid_ce":
        t = r.integers(0, 2, size=(n, K)).astype(float)
    else:
        t = r.integers(0, K, size=n)

    def output_fn():
        return model(x)

    def loss_fn():
        return LOSS_FNS[loss](model(x), t)

    return model, x, t, loss_fn, output_fn


# ---------------------------------------------------------------------------
# flatten / hvp / exact Hessian
# ---------------------------------------------------------------------------

def test_flatten_unflatten_round_trip_and_errors():
    arrs = [np.arange(6.0).reshape(2, 3), np.array(7.0), np.ones(4, dtype=np.float32)]
    v = C.flatten(arrs)
    assert v.shape == (11,) and v.dtype == np.float64
    back = C.unflatten(v, arrs)
    assert [b.shape for b in back] == [(2, 3), (), (4,)]
    for a, b in zip(arrs, back):
        np.testing.assert_array_equal(a, b)
    assert C.unflatten(v, arrs, dtype=np.float32)[0].dtype == np.float32
    with pytest.raises(ValueError, match=r"shape \(10,\).*11 entries"):
        C.unflatten(v[:10], arrs)


@pytest.mark.parametrize("method", F.HVP_METHODS)
def test_hvp_on_parameters_matches_the_functional_hessian(method):
    model, x, t, loss_fn, _ = problem((3, 4, 2), ["tanh"], "softmax_ce")
    params = model.parameters()
    H = C.exact_hessian(loss_fn, params, method=method)
    W = sum(p.size for p in params)
    assert H.shape == (W, W)
    np.testing.assert_allclose(H, H.T, atol=1e-12)

    # the same Hessian from functional.hessian on the loss as a function of the parameter tuple
    def as_function(W1, b1, W2, b2):
        z = (Tensor(x) @ W1.T + b1).tanh() @ W2.T + b2
        return softmax_ce(z, t)

    blocks = F.hessian(as_function, tuple(p.data for p in params))
    sizes = [p.size for p in params]
    Hf = np.block([[blocks[i][j].data.reshape(sizes[i], sizes[j]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(H, Hf, rtol=1e-10, atol=1e-12)
    v = rng(1).standard_normal(W)
    np.testing.assert_allclose(C.hessian_vector_product(loss_fn, params, v, method), H @ v, atol=1e-11)


def test_toolkit_leaves_parameters_as_they_were():
    model, x, t, loss_fn, output_fn = problem((3, 4, 2), ["tanh"], "softmax_ce")
    params = model.parameters()
    params[0].grad = np.ones(params[0].shape)
    grad0 = params[0].grad
    before = [p.data.copy() for p in params]
    W = sum(p.size for p in params)
    v = rng(2).standard_normal(W)
    C.hessian_vector_product(loss_fn, params, v)
    C.hessian_vector_product(loss_fn, params, v, method="reverse-over-reverse")
    C.gauss_newton_vector_product(output_fn, params, v, "softmax_ce")
    C.gauss_newton_vector_product(lambda: (loss_fn(), output_fn()), params, v, loss=None)
    C.outer_product_hessian(output_fn, params, "softmax_ce")
    C.diagonal_hessian(model.layers, x, t, "softmax_ce")
    C.fd_hessian_central_gradients(loss_fn, params)
    assert all(p.requires_grad for p in params)
    assert all(p.tangent is None for p in params)
    with ag.forward_ad():                     # no tangent left on any level a later call opens
        assert all(p.tangent is None for p in params)
    assert params[0].grad is grad0
    np.testing.assert_array_equal(params[0].grad.data, np.ones(params[0].shape))
    assert all(p.grad is None for p in params[1:])
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)


def test_a_frozen_parameter_is_refused_and_stays_frozen():
    """Curvature is taken with respect to tensors that require grad; nothing
    flips requires_grad behind the caller's back."""
    model, x, t, loss_fn, output_fn = problem((3, 4, 2), ["tanh"], "softmax_ce")
    params = model.parameters()
    params[1].requires_grad_(False)
    W = sum(p.size for p in params)
    for call in (lambda: C.hessian_vector_product(loss_fn, params, np.ones(W)),
                 lambda: C.exact_hessian(loss_fn, params),
                 lambda: C.gauss_newton_vector_product(output_fn, params, np.ones(W)),
                 lambda: C.output_jacobian(output_fn, params),
                 lambda: C.loss_and_grad(loss_fn, params)):
        with pytest.raises(ValueError, match=r"params\[1\] \(shape \(4,\)\) does not require grad"):
            call()
    assert not params[1].requires_grad
    # the four-point differences take no gradient, so a frozen parameter is fine there
    H = C.fd_hessian_four_point(loss_fn, params, eps=1e-4)
    assert H.shape == (W, W)


def test_argument_errors():
    model, x, t, loss_fn, _ = problem((3, 2), [], "sse")
    params = model.parameters()
    with pytest.raises(TypeError, match="list of Tensors"):
        C.exact_hessian(loss_fn, params[0])
    with pytest.raises(TypeError, match=r"params\[1\] must be a Tensor"):
        C.exact_hessian(loss_fn, [params[0], np.ones(2)])
    with pytest.raises(ValueError, match=r"v has shape \(3,\).*8 entries"):
        C.hessian_vector_product(loss_fn, params, np.ones(3))
    with pytest.raises(ValueError, match=r"scalar.*\(12, 2\)"):
        C.exact_hessian(lambda: model(x), params)
    with pytest.raises(ValueError, match="loss must be one of"):
        C.outer_product_hessian(lambda: model(x), params, loss="hinge")
    with pytest.raises(ValueError, match="activation"):
        C.diagonal_hessian([(np.ones((2, 3)), None, "softsign")], x, t)


# ---------------------------------------------------------------------------
# Becker & Le Cun's diagonal approximation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss", C.LOSSES)
def test_diagonal_approximation_is_exact_for_one_linear_layer(loss):
    model, x, t, loss_fn, _ = problem((4, 3), [], loss)
    exact = np.diag(C.exact_hessian(loss_fn, model.parameters()))
    approx = C.flatten(C.diagonal_hessian(model.layers, x, t, loss))
    np.testing.assert_allclose(approx, exact, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss,act", [("sse", "tanh"), ("sse", "sigmoid"), ("sigmoid_ce", "tanh")])
def test_diagonal_approximation_is_exact_with_one_output_behind_one_hidden_layer(loss, act):
    """With a single output unit there are no off-diagonal output terms to drop,
    and the h'' term (non-zero residuals) is carried exactly."""
    model, x, t, loss_fn, _ = problem((3, 5, 1), [act], loss, seed=3)
    exact = np.diag(C.exact_hessian(loss_fn, model.parameters()))
    approx = C.flatten(C.diagonal_hessian(model.layers, x, t, loss))
    np.testing.assert_allclose(approx, exact, rtol=1e-10, atol=1e-12)
    half = C.flatten(C.diagonal_hessian(model.layers, x, t, loss, reduction="mean"))
    np.testing.assert_allclose(half, approx / x.shape[0])


def test_diagonal_approximation_drops_exactly_the_off_diagonal_output_terms():
    """Softmax outputs, 2 layers: for first-layer weights the exact diagonal is
    Σ_n z_i² [h'(a_j)² Σ_kk' w_kj w_k'j H_kk' + h''(a_j) Σ_k w_kj δ_k] with
    H = diag(p) - ppᵀ; Becker–Le Cun keeps only k = k'. The difference is
    Σ_n z_i² h'(a_j)² Σ_{k≠k'} w_kj w_k'j (-p_k p_k')."""
    model, x, t, loss_fn, _ = problem((3, 4, 3), ["tanh"], "softmax_ce", seed=5)
    exact = np.diag(C.exact_hessian(loss_fn, model.parameters()))
    approx = C.flatten(C.diagonal_hessian(model.layers, x, t, "softmax_ce"))
    (W1, b1, _), (W2, b2, _) = model.layers
    a = x @ W1.data.T + b1.data
    z = np.tanh(a)
    logits = z @ W2.data.T + b2.data
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    h1 = 1 - z ** 2
    w = W2.data
    # Σ_{k≠k'} w_kj w_k'j (-p_k p_k') = -[(Σ_k w_kj p_k)² - Σ_k w_kj² p_k²]
    off = -((p @ w) ** 2 - (p ** 2) @ (w ** 2))          # (N, hidden)
    d_W1 = (h1 ** 2 * off).T @ (x ** 2)
    d_b1 = (h1 ** 2 * off).sum(0)
    n1, n2 = W1.size, b1.size
    np.testing.assert_allclose(exact[:n1] - approx[:n1], d_W1.ravel(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(exact[n1:n1 + n2] - approx[n1:n1 + n2], d_b1, rtol=1e-9, atol=1e-12)
    # second-layer weights: exact (∂²E/∂w_kj² = Σ_n p_k(1-p_k) z_j²)
    np.testing.assert_allclose(approx[n1 + n2:], exact[n1 + n2:], rtol=1e-10, atol=1e-12)


def test_diagonal_approximation_on_a_deeper_relu_network_is_close_but_not_exact():
    model, x, t, loss_fn, _ = problem((3, 6, 5, 2), ["relu", "tanh"], "sse", seed=7)
    exact = np.diag(C.exact_hessian(loss_fn, model.parameters()))
    approx = C.flatten(C.diagonal_hessian(model.layers, x, t, "sse"))
    last = model.layers[-1].weight.size + model.layers[-1].bias.size
    np.testing.assert_allclose(approx[-last:], exact[-last:], rtol=1e-10)  # output layer: exact
    assert not np.allclose(approx, exact)
    assert np.corrcoef(approx, exact)[0, 1] > 0.8


def test_mlp_layers_reads_a_sequential_model():
    class Linear:
        def __init__(self, W, b):
            self.weight, self.bias = W, b

    class Tanh:
        pass

    class Sequential:
        def __init__(self, *mods):
            self.mods = mods

        def children(self):
            return iter(self.mods)

    model, x, t, loss_fn, _ = problem((3, 4, 1), ["tanh"], "sse", seed=8)
    (W1, b1, _), (W2, b2, _) = model.layers
    seq = Sequential(Linear(W1, b1), Tanh(), Linear(W2, b2))
    layers = C.mlp_layers(seq)
    assert [layer.activation for layer in layers] == ["tanh", "identity"]
    np.testing.assert_allclose(C.flatten(C.diagonal_hessian(layers, x, t)),
                               np.diag(C.exact_hessian(loss_fn, model.parameters())), rtol=1e-10)


# ---------------------------------------------------------------------------
# Outer product / Levenberg–Marquardt / Gauss–Newton
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss", C.LOSSES)
def test_outer_product_is_exact_for_a_linear_model(loss):
    """∇²y = 0: the dropped term Σ (∂E/∂y) ∇²y vanishes whatever the residuals."""
    model, x, t, loss_fn, output_fn = problem((4, 3), [], loss, seed=9)
    params = model.parameters()
    np.testing.assert_allclose(C.outer_product_hessian(output_fn, params, loss),
                               C.exact_hessian(loss_fn, params), rtol=1e-10, atol=1e-12)


def test_outer_product_is_exact_when_residuals_vanish_and_not_otherwise():
    model, x, t, loss_fn, output_fn = problem((3, 4, 2), ["tanh"], "sse", seed=10)
    params = model.parameters()
    G = C.outer_product_hessian(output_fn, params, "sse")
    assert not np.allclose(G, C.exact_hessian(loss_fn, params), atol=1e-3)
    fitted = output_fn().data.copy()  # targets the network already hits: y - t = 0
    exact = C.exact_hessian(lambda: sse(model(x), fitted), params)
    np.testing.assert_allclose(G, exact, rtol=1e-10, atol=1e-12)
    # Levenberg–Marquardt form Σ_n Σ_k ∇y_nk ∇y_nkᵀ from the rows of the output Jacobian
    _, J = C.output_jacobian(output_fn, params)
    np.testing.assert_allclose(G, sum(np.outer(b, b) for b in J), atol=1e-12)
    assert np.linalg.eigvalsh(G).min() > -1e-10  # positive semi-definite


def test_outer_product_for_sigmoid_cross_entropy_is_bishops_5_85():
    model, x, t, loss_fn, output_fn = problem((3, 4, 1), ["tanh"], "sigmoid_ce", seed=11)
    params = model.parameters()
    a, J = C.output_jacobian(output_fn, params)
    y = 1 / (1 + np.exp(-a.ravel()))
    expected = sum(yn * (1 - yn) * np.outer(b, b) for yn, b in zip(y, J))
    np.testing.assert_allclose(C.outer_product_hessian(output_fn, params, "sigmoid_ce"), expected, atol=1e-12)


@pytest.mark.parametrize("loss", C.LOSSES)
def test_general_gauss_newton_with_a_callable_loss_and_mean_reduction(loss):
    model, x, t, loss_fn, output_fn = problem((3, 4, 3), ["tanh"], loss, seed=12)
    params = model.parameters()
    G = C.outer_product_hessian(output_fn, params, loss)
    np.testing.assert_allclose(C.outer_product_hessian(output_fn, params, lambda y: LOSS_FNS[loss](y, t)),
                               G, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(C.outer_product_hessian(output_fn, params, loss, reduction="mean"),
                               G / x.shape[0], atol=1e-12)
    B = C.outer_product_factors(output_fn, params, loss)
    np.testing.assert_allclose(B.T @ B, G, atol=1e-12)


@pytest.mark.parametrize("loss", C.LOSSES + ("callable",))
def test_gauss_newton_vector_product_without_forming_J(loss):
    model, x, t, loss_fn, output_fn = problem((3, 4, 3), ["tanh"], "softmax_ce" if loss == "callable" else loss,
                                              seed=13)
    params = model.parameters()
    spec = (lambda y: softmax_ce(y, t)) if loss == "callable" else loss
    G = C.outer_product_hessian(output_fn, params, spec)
    r = rng(14)
    for _ in range(2):
        v = r.standard_normal(G.shape[0])
        np.testing.assert_allclose(C.gauss_newton_vector_product(output_fn, params, v, spec), G @ v,
                                   rtol=1e-10, atol=1e-12)


def test_sequential_inverse_equals_the_inverse_of_the_accumulated_outer_product():
    model, x, t, loss_fn, output_fn = problem((3, 4, 2), ["tanh"], "softmax_ce", seed=15)
    params = model.parameters()
    alpha = 0.1
    for loss in ("sse", "softmax_ce"):
        B = C.outer_product_factors(output_fn, params, loss)
        Hinv = C.sequential_inverse_outer_product(B, alpha)
        G = C.outer_product_hessian(output_fn, params, loss)
        target = np.linalg.inv(alpha * np.eye(G.shape[0]) + G)
        np.testing.assert_allclose(Hinv, target, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(Hinv @ (alpha * np.eye(G.shape[0]) + G), np.eye(G.shape[0]), atol=1e-7)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        C.sequential_inverse_outer_product(B, 0.0)


# ---------------------------------------------------------------------------
# Finite differences
# ---------------------------------------------------------------------------

def test_finite_difference_hessians_converge_like_eps_squared():
    model, x, t, loss_fn, _ = problem((2, 3, 1), ["tanh"], "sse", n=6, seed=16)
    params = model.parameters()
    before = [p.data.copy() for p in params]
    H = C.exact_hessian(loss_fn, params)
    for fd, eps in ((C.fd_hessian_four_point, 2e-2), (C.fd_hessian_central_gradients, 2e-2)):
        e1 = np.abs(fd(loss_fn, params, eps) - H).max()
        e2 = np.abs(fd(loss_fn, params, eps / 2) - H).max()
        assert 3.0 < e1 / e2 < 5.0, (fd.__name__, e1, e2)  # halving ε quarters the error: O(ε²)
        assert e2 < 1e-3
    np.testing.assert_allclose(C.fd_hessian_four_point(loss_fn, params, 1e-4), H, atol=1e-6)
    np.testing.assert_allclose(C.fd_hessian_central_gradients(loss_fn, params, 1e-6), H, atol=1e-8)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)  # perturbations undone exactly


def test_epsilon_trade_off_has_an_interior_optimum():
    model, x, t, loss_fn, _ = problem((2, 3, 1), ["tanh"], "sse", n=6, seed=17)
    curve = dict(C.fd_epsilon_tradeoff(loss_fn, model.parameters(), eps_values=[1e-1, 1e-5, 1e-11]))
    assert curve[1e-5] < curve[1e-1] / 100  # truncation error shrinks ...
    assert curve[1e-5] < curve[1e-11] / 100  # ... until rounding error takes over


def test_finite_differences_warn_on_float32():
    W = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.warns(RuntimeWarning, match="float64"):
        C.fd_hessian_central_gradients(lambda: (W * W).sum(), [W], eps=1e-2)


# ---------------------------------------------------------------------------
# Eigenvalues and traces from Hessian-vector products
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def net():
    model, x, t, loss_fn, _ = problem((3, 4, 2), ["tanh"], "softmax_ce", seed=18)
    params = model.parameters()
    return loss_fn, params, C.exact_hessian(loss_fn, params)


def test_lanczos_top_eigenvalues_match_eigvalsh(net):
    loss_fn, params, H = net
    ev = np.linalg.eigvalsh(H)
    vals, vecs = C.lanczos(loss_fn, params, k=3, m=20)
    np.testing.assert_allclose(vals, ev[::-1][:3], rtol=1e-8)
    for lam, u in zip(vals, vecs.T):
        np.testing.assert_allclose(H @ u, lam * u, atol=1e-6)
    low, _ = C.lanczos(loss_fn, params, k=1, m=H.shape[0], which="smallest")
    np.testing.assert_allclose(low, ev[:1], rtol=1e-8, atol=1e-10)


def test_power_iteration_finds_the_dominant_eigenvalues(net):
    loss_fn, params, H = net
    ev = np.linalg.eigvalsh(H)
    by_magnitude = ev[np.argsort(-np.abs(ev))]
    vals, vecs = C.hessian_eigs_power(loss_fn, params, k=2, iters=500)
    np.testing.assert_allclose(vals, by_magnitude[:2], rtol=1e-6)
    np.testing.assert_allclose(np.abs(vecs[:, 0] @ np.linalg.eigh(H)[1][:, np.argmax(np.abs(ev))]), 1, atol=1e-4)


def test_generic_eigen_solvers_on_matrices():
    r = rng(19)
    Q, _ = np.linalg.qr(r.standard_normal((30, 30)))
    spectrum = np.concatenate([[10.0, 7.0, -12.0], np.linspace(-1, 1, 27)])
    A = Q @ np.diag(spectrum) @ Q.T
    lam, _ = C.power_iteration(A, iters=500)
    np.testing.assert_allclose(lam, -12.0, rtol=1e-8)  # largest in magnitude
    vals, _ = C.lanczos_eigs(A, k=2)
    np.testing.assert_allclose(vals, [10.0, 7.0], rtol=1e-8)
    np.testing.assert_allclose(C.lanczos_eigs(A, k=1, which="smallest")[0], [-12.0], rtol=1e-8)


def test_hutchinson_trace_and_diagonal_converge(net):
    loss_fn, params, H = net
    est, se = C.hutchinson_trace(loss_fn, params, n_probes=400, seed=0, return_std=True)
    assert abs(est - np.trace(H)) < 4 * se
    assert abs(est - np.trace(H)) < 0.1 * abs(np.trace(H))
    d_few = C.hutchinson_diagonal(loss_fn, params, n_probes=25, seed=1)
    d_many = C.hutchinson_diagonal(loss_fn, params, n_probes=400, seed=1)
    err_few, err_many = (np.abs(d - np.diag(H)).mean() for d in (d_few, d_many))
    assert err_many < err_few / 2  # error ∝ 1/√S
    assert err_many < 0.25 * np.abs(H).max()


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    w = Tensor(rng(20).standard_normal(5), requires_grad=True)
    loss_fn = lambda: (w ** 4).sum()  # noqa: E731  H = diag(12 w²)
    np.testing.assert_allclose(C.hutchinson_diagonal(loss_fn, [w], n_probes=1), 12 * w.data ** 2)
    np.testing.assert_allclose(C.hutchinson_trace(loss_fn, [w], n_probes=1), 12 * (w.data ** 2).sum())


# ---------------------------------------------------------------------------
# With the nn package, when its pieces exist
# ---------------------------------------------------------------------------

def test_with_an_nn_model():
    nn = pytest.importorskip("nn")
    if not all(hasattr(nn, name) for name in ("Sequential", "Linear", "Tanh")):
        pytest.skip("nn.Sequential / Linear / Tanh not available yet")
    import nn.functional as nnF
    r = rng(21)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x, t = r.standard_normal((8, 3)), r.standard_normal((8, 1))
    params = list(model.parameters())

    def loss_fn():
        return nnF.mse_loss(model(Tensor(x)), Tensor(t), reduction="sum") * 0.5

    H = C.exact_hessian(loss_fn, params)
    np.testing.assert_allclose(np.diag(H), C.flatten(C.diagonal_hessian(C.mlp_layers(model), x, t, "sse")),
                               rtol=1e-8)
    np.testing.assert_allclose(C.lanczos(loss_fn, params, k=1)[0], np.linalg.eigvalsh(H)[-1:], rtol=1e-8)


# ---------------------------------------------------------------------------
# One product, one Jacobian, one Gauss–Newton product: agreement with
# functional and with explicit matrices
# ---------------------------------------------------------------------------

def _nn_problem(seed=22):
    nn = pytest.importorskip("nn")
    nnF = pytest.importorskip("nn.functional")
    r = rng(seed)
    nn.init.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(),
                          nn.Linear(4, 2, dtype=np.float64))
    X = Tensor(r.standard_normal((7, 3)))
    labels = r.integers(0, 2, size=7)
    params = list(model.parameters())

    def net(W1, b1, W2, b2):                  # the same network as a function of its parameters
        return ag.linear(ag.tanh(ag.linear(X, W1, b1)), W2, b2)

    return nnF, model, X, labels, params, net


def test_curvature_products_agree_with_functional_on_an_nn_model():
    nnF, model, X, labels, params, net = _nn_problem()

    def loss_fn():
        return nnF.cross_entropy(model(X), labels, reduction="sum")

    def f(*ws):
        return nnF.cross_entropy(net(*ws), labels, reduction="sum")

    values = tuple(p.data.copy() for p in params)
    sizes = [p.size for p in params]
    blocks = F.hessian(f, values)
    H = np.block([[blocks[i][j].data.reshape(sizes[i], sizes[j]) for j in range(4)]
                  for i in range(4)])
    for method in F.HVP_METHODS:
        np.testing.assert_allclose(C.exact_hessian(loss_fn, params, method), H, rtol=1e-10,
                                   atol=1e-12)
    v = rng(23).standard_normal(sum(sizes))
    _, hv = F.hvp(f, values, tuple(C.unflatten(v, params)))
    np.testing.assert_allclose(C.hessian_vector_product(loss_fn, params, v), C.flatten(hv),
                               rtol=1e-12, atol=1e-13)
    Hop = C.HessianOperator(loss_fn, params)
    np.testing.assert_allclose(Hop @ v, H @ v, rtol=1e-10, atol=1e-12)
    assert Hop.n_products == 1
    E, g = C.loss_and_grad(loss_fn, params)
    assert E == pytest.approx(float(f(*values)))
    np.testing.assert_allclose(g, C.flatten(F.grad(f, values)), rtol=1e-12)
    # the output Jacobian is functional.jacobian of the outputs
    y, J = C.output_jacobian(lambda: model(X), params)
    Jf = F.jacobian(net, values)
    np.testing.assert_allclose(y, net(*values).data)
    np.testing.assert_allclose(J, np.concatenate([b.data.reshape(y.size, n) for b, n in
                                                  zip(Jf, sizes)], axis=1), rtol=1e-12)


def _nn_loss(name):
    """The named loss as nn.functional computes it (with targets), summed."""
    nnF = pytest.importorskip("nn.functional")
    return {"sse": lambda y, t: 0.5 * nnF.mse_loss(y, t, reduction="sum"),
            "sigmoid_ce": lambda y, t: nnF.binary_cross_entropy_with_logits(y, t, reduction="sum"),
            "softmax_ce": lambda y, t: nnF.cross_entropy(y, t, reduction="sum")}[name]


def _coupled(y):
    """A callable loss that couples the examples (and is not convex)."""
    return (y.sum(axis=0) ** 2).sum() + ag.cos(y).sum()


@pytest.mark.parametrize("loss", C.LOSSES + ("callable",))
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_gauss_newton_product_is_jt_hl_j_from_explicit_matrices(loss, reduction):
    """G v = Jᵀ H_L J v with J = functional.jacobian of the outputs in the flat
    weights and H_L = functional.hessian of the loss (nn.functional's, with its
    targets) in the flat outputs: nothing shared with the code under test."""
    named = loss if loss != "callable" else "softmax_ce"
    model, x, t, loss_fn, output_fn = problem((3, 4, 3), ["tanh"], named, n=5, seed=24)
    params = model.parameters()
    y = output_fn().data
    N = y.shape[0]
    scale = 1.0 / N if reduction == "mean" and loss != "callable" else 1.0
    target = Tensor(t) if loss != "softmax_ce" else t
    E_of_y = _coupled if loss == "callable" else (lambda yy: _nn_loss(loss)(yy, target) * scale)
    HL = F.hessian(lambda flat: E_of_y(flat.reshape(y.shape)), y.ravel()).data
    w0 = C.flatten(params)
    shapes = [p.shape for p in params]

    def outputs_at(w):
        ws = []
        start = 0
        for s in shapes:
            n = int(np.prod(s))
            ws.append(w[start:start + n].reshape(s))
            start += n
        z = Tensor(x)
        for i in range(0, len(ws), 2):
            z = z @ ws[i].T + ws[i + 1]
            if i + 2 < len(ws):
                z = z.tanh()
        return z.reshape(-1)

    J = F.jacobian(outputs_at, w0).data
    G = J.T @ HL @ J
    spec = _coupled if loss == "callable" else loss
    v = rng(25).standard_normal(w0.size)
    np.testing.assert_allclose(C.gauss_newton_vector_product(output_fn, params, v, spec, reduction),
                               G @ v, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(C.outer_product_hessian(output_fn, params, spec, reduction), G,
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(C.GaussNewtonOperator(output_fn, params, spec, reduction).to_dense(),
                               G, rtol=1e-9, atol=1e-11)
    # the (E, y) form: the closure gives the loss and the outputs it was computed from
    def loss_and_output():
        out = output_fn()
        return E_of_y(out), out
    np.testing.assert_allclose(C.gauss_newton_vector_product(loss_and_output, params, v, loss=None),
                               G @ v, rtol=1e-9, atol=1e-11)
    if loss != "callable":
        B = C.outer_product_factors(output_fn, params, loss, reduction)
        np.testing.assert_allclose(B.T @ B, G, rtol=1e-9, atol=1e-11)


def test_loss_curvature_blocks_are_the_textbook_ones():
    logits = rng(26).standard_normal((6, 3))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    soft = C.output_hessian_blocks("softmax_ce", logits)
    np.testing.assert_allclose(soft, [np.diag(q) - np.outer(q, q) for q in p], atol=1e-14)
    s = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(C.output_hessian_blocks("sigmoid_ce", logits, reduction="mean"),
                               [np.diag(q * (1 - q)) / 6 for q in s], atol=1e-14)
    np.testing.assert_array_equal(C.output_hessian_blocks("sse", logits), np.tile(np.eye(3), (6, 1, 1)))
    # softplus through the fused logsumexp: exact and finite at 0 and at ±1000
    edge = np.array([[0.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(C.output_hessian_blocks("sigmoid_ce", edge)[0], np.diag([0.25, 0, 0]))
    # a callable is one block over all outputs
    assert C.output_hessian_blocks(_coupled, logits).shape == (1, 18, 18)
    with pytest.raises(ValueError, match=r"softmax_ce.*\(N, K\).*\(18,\)"):
        C.output_hessian_blocks("softmax_ce", logits.ravel())


def test_gauss_newton_product_errors():
    model, x, t, loss_fn, output_fn = problem((3, 2), [], "sse")
    params = model.parameters()
    with pytest.raises(TypeError, match=r"loss=None.*\(E, y\)"):
        C.gauss_newton_vector_product(output_fn, params, np.ones(8), loss=None)
    with pytest.raises(ValueError, match="loss must be one of"):
        C.gauss_newton_vector_product(output_fn, params, np.ones(8), loss="hinge")
    with pytest.raises(ValueError, match="reduction"):
        C.gauss_newton_vector_product(output_fn, params, np.ones(8), reduction="max")
    with pytest.raises(ValueError, match=r"v has shape \(7,\).*8 entries"):
        C.gauss_newton_vector_product(output_fn, params, np.ones(7))


# ---------------------------------------------------------------------------
# h' and h'' by nested forward mode
# ---------------------------------------------------------------------------

AWAY_FROM_0 = np.r_[np.linspace(-4, -0.25, 8), np.linspace(0.25, 4, 8)].reshape(4, 4)


def _closed_forms(name, a):
    if name == "tanh":
        z = np.tanh(a)
        return 1 - z ** 2, -2 * z * (1 - z ** 2)
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-a))
        return s * (1 - s), s * (1 - s) * (1 - 2 * s)
    if name == "relu":
        return (a > 0).astype(float), np.zeros_like(a)
    return np.ones_like(a), np.zeros_like(a)   # identity


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "identity"])
def test_activation_derivatives_by_nesting_equal_the_closed_forms(name):
    d1, d2 = C.activation_derivatives(name, AWAY_FROM_0)
    e1, e2 = _closed_forms(name, AWAY_FROM_0)
    np.testing.assert_allclose(d1, e1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(d2, e2, rtol=1e-12, atol=1e-15)


def test_activation_derivatives_of_a_callable_and_errors():
    a = AWAY_FROM_0
    d1, d2 = C.activation_derivatives(lambda z: z * z * z + z.sin(), a)
    np.testing.assert_allclose(d1, 3 * a ** 2 + np.cos(a), rtol=1e-13)
    np.testing.assert_allclose(d2, 6 * a - np.sin(a), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="elementwise"):
        C.activation_derivatives(lambda z: z.sum(), a)
    with pytest.raises(ValueError, match="give h alone"):
        C.activation_derivatives((np.tanh, np.tanh, np.tanh), a)
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        C.activation_derivatives("softsign", a)


def test_diagonal_approximation_with_a_callable_activation():
    """A scaled tanh given as a function: the engine supplies h' and h''."""
    model, x, t, _, _ = problem((3, 5, 1), ["tanh"], "sse", seed=27)
    (W1, b1, _), (W2, b2, _) = model.layers
    act = lambda a: 1.7 * (a * 0.6).tanh()           # noqa: E731

    def loss_fn():
        return sse(act(Tensor(x) @ W1.T + b1) @ W2.T + b2, t)

    layers = [C.Layer(W1, b1, act), C.Layer(W2, b2)]
    exact = np.diag(C.exact_hessian(loss_fn, model.parameters()))
    np.testing.assert_allclose(C.flatten(C.diagonal_hessian(layers, x, t)), exact, rtol=1e-10,
                               atol=1e-12)


# ---------------------------------------------------------------------------
# The estimators take any matrix-vector product
# ---------------------------------------------------------------------------

def test_estimators_take_any_matrix_vector_product():
    r = rng(28)
    Q, _ = np.linalg.qr(r.standard_normal((12, 12)))
    A = Q @ np.diag(np.r_[9.0, -6.0, np.linspace(-1, 1, 10)]) @ Q.T

    class MatVec:                                   # duck-typed, as SciPy's LinearOperator
        shape = A.shape

        @staticmethod
        def matvec(v):
            return A @ v

    forms = [A, A.tolist(), MatVec(), C.LinearOperator(lambda v: A @ v, 12)]
    for op in forms:
        np.testing.assert_allclose(C.power_iteration(op, iters=2000)[0], 9.0, rtol=1e-8)
        np.testing.assert_allclose(C.lanczos_eigs(op, k=2, which="smallest")[0], [-6.0, -1.0],
                                   rtol=1e-8)
        np.testing.assert_allclose(C.eigs_power(op, k=2, iters=2000)[0], [9.0, -6.0], rtol=1e-6)
    matvec = lambda v: A @ v                        # noqa: E731  a plain callable with n
    np.testing.assert_allclose(C.lanczos_eigs(matvec, k=1, n=12)[0], [9.0], rtol=1e-8)
    np.testing.assert_allclose(C.power_iteration(matvec, v0=np.ones(12), iters=2000)[0], 9.0,
                               rtol=1e-8)
    D = np.diag(np.arange(1.0, 13.0))
    assert C.estimate_trace(lambda v: D @ v, n_probes=1, n=12) == pytest.approx(78.0)
    np.testing.assert_allclose(C.estimate_diagonal(D, n_probes=1), np.arange(1.0, 13.0))
    with pytest.raises(TypeError, match="n="):
        C.lanczos_eigs(matvec, k=1)
    with pytest.raises(ValueError, match=r"square.*\(3, 4\)"):
        C.estimate_trace(np.ones((3, 4)))
    with pytest.raises(TypeError, match="square matrix"):
        C.power_iteration("A")
    with pytest.raises(ValueError, match=r"v has shape \(3,\).*12x12"):
        C.LinearOperator(matvec, 12).matvec(np.ones(3))


def test_lanczos_on_the_gauss_newton_operator():
    model, x, t, loss_fn, output_fn = problem((3, 4, 3), ["tanh"], "softmax_ce", seed=29)
    params = model.parameters()
    G = C.outer_product_hessian(output_fn, params, "softmax_ce")
    op = C.GaussNewtonOperator(output_fn, params, "softmax_ce")
    vals, _ = C.lanczos_eigs(op, k=3, m=G.shape[0])
    np.testing.assert_allclose(vals, np.linalg.eigvalsh(G)[::-1][:3], rtol=1e-8)
    # G has rank at most N(K − 1) = 24 < W: Lanczos stops once the Krylov space is invariant
    assert 3 <= op.n_products <= 25


# ---------------------------------------------------------------------------
# One flatten for curvature and optim
# ---------------------------------------------------------------------------

def test_flatten_stands_zeros_in_for_missing_entries():
    from autograd_core import flat
    import optim.optimizer as O
    like = [np.ones((2, 2)), np.ones(3)]
    np.testing.assert_array_equal(flat.flatten([None, np.arange(3.0)], like=like),
                                  [0, 0, 0, 0, 0, 1, 2])
    with pytest.raises(TypeError, match=r"tensors\[0\] is None.*like="):
        flat.flatten([None, np.arange(3.0)])
    with pytest.raises(ValueError, match="like has 1 entries but tensors has 2"):
        flat.flatten([None, np.arange(3.0)], like=like[:1])
    assert C.flatten is flat.flatten and C.unflatten is flat.unflatten
    w = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (w * 3.0).sum().backward()
    g = O.gather_flat_grad([w, b])
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3, 3, 3, 3, 0, 0, 0])
    g[0] = 7                                   # a new vector, never a view of a gradient
    assert w.grad.data[0, 0] == 3
    O.add_flat_([w, b], 2.0, np.arange(7.0))
    np.testing.assert_array_equal(w.data, [[1, 3], [5, 7]])
    np.testing.assert_array_equal(b.data, [9, 11, 13])
    assert w.data.dtype == b.data.dtype == np.float32
    with pytest.raises(ValueError, match=r"unflatten: the vector has shape \(6,\).*expected shape \(7,\)"):
        O.add_flat_([w, b], 1.0, np.ones(6))


@settings(max_examples=25, deadline=None)
@given(st.lists(shapes(max_dims=3, max_side=3), min_size=1, max_size=4), st.integers(0, 2 ** 16))
def test_flat_round_trip_and_the_hessian_over_parameters_of_any_shapes(shape_list, seed):
    """E = ½ wᵀAw + Σ sin w over parameters of the drawn shapes: H = A − diag(sin w)."""
    params = [Tensor(array(seed + i, s), requires_grad=True) for i, s in enumerate(shape_list)]
    w = C.flatten(params)
    for piece, p in zip(C.unflatten(w, params), params):
        np.testing.assert_array_equal(piece, p.data)
    M = rng(seed).standard_normal((w.size, w.size))
    A = M + M.T
    At = Tensor(A)

    def loss_fn():
        flat_w = ag.concatenate([p.reshape(-1) for p in params])
        return 0.5 * (flat_w @ (At @ flat_w)) + flat_w.sin().sum()

    np.testing.assert_allclose(C.exact_hessian(loss_fn, params), A - np.diag(np.sin(w)),
                               rtol=1e-12, atol=1e-12)
