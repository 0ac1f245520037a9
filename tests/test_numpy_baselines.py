"""Checks of the hand-written NumPy baselines used by the benchmarks."""
import numpy as np
import pytest

from benchmarks.numpy_baselines import (
    NumpyCNN,
    NumpyMLP,
    hvp,
    make_fashion_like_batch,
    softmax_cross_entropy,
)


def _fd_grads(model, x, y, eps=1e-6):
    """Central finite differences of model.loss w.r.t. every parameter entry."""
    out = {}
    for name in model.names:
        p = model.params[name]
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            lp = model.loss(x, y)
            p[i] = old - eps
            lm = model.loss(x, y)
            p[i] = old
            g[i] = (lp - lm) / (2 * eps)
        out[name] = g
    return out


def _shift(model, V, t):
    for k in model.names:
        model.params[k] += t * V[k]


def _rand_dir(model, rng):
    return {k: rng.standard_normal(model.params[k].shape) for k in model.names}


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _mlp_data(rng, n=7, d=6, dtype=np.float64):
    x, y = make_fashion_like_batch(n, rng, image_shape=(d,), n_classes=3, dtype=dtype)
    return x, y


def test_shapes_init_and_dtype():
    rng = np.random.default_rng(0)
    m = NumpyMLP(rng=rng)
    assert m.W1.shape == (200, 784) and m.b1.shape == (200,)
    assert m.W2.shape == (10, 200) and m.b2.shape == (10,)
    assert m.W1 is m.params["W1"]
    assert abs(m.W1).max() <= 1 / np.sqrt(784) and abs(m.b2).max() <= 1 / np.sqrt(200)
    assert abs(m.W1).max() > 0.9 / np.sqrt(784)
    x, y = make_fashion_like_batch(10, rng)
    assert x.dtype == np.float32 and x.shape == (10, 784) and y.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 1 and y.min() >= 0 and y.max() < 10
    loss, grads = m.loss_and_grads(x, y)
    assert all(g.dtype == np.float32 for g in grads.values())
    _, g2, hv = m.hvp(x, y, tuple(np.ones_like(m.params[k]) for k in m.names))
    assert isinstance(hv, tuple) and all(h.dtype == np.float32 for h in hv + g2)
    m.sgd_step(x, y, 0.1)
    assert all(p.dtype == np.float32 for p in m.params.values())

    c = NumpyCNN(rng=rng)
    assert c.W1.shape == (8, 1, 3, 3) and c.W2.shape == (16, 8, 3, 3)
    assert c.W3.shape == (10, 16 * 7 * 7) and c.b3.shape == (10,)
    assert abs(c.W1).max() <= 1 / 3 and abs(c.W2).max() <= 1 / np.sqrt(72)
    xi, yi = make_fashion_like_batch(4, rng, image_shape=(1, 28, 28))
    assert xi.shape == (4, 1, 28, 28) and xi.dtype == np.float32
    _, cg = c.loss_and_grads(xi, yi)
    assert all(cg[k].dtype == np.float32 and cg[k].shape == c.params[k].shape for k in c.names)
    c.sgd_step(xi, yi, 0.1)
    assert all(p.dtype == np.float32 for p in c.params.values())


def test_softmax_cross_entropy_stable():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss, p = softmax_cross_entropy(logits, np.array([1, 2]))
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, (1000.0 + np.log(3)) / 2)
    np.testing.assert_allclose(p.sum(1), 1)


@pytest.mark.parametrize("sizes", [(6, 5, 3), (6, 5, 4, 3)])
def test_mlp_grads_vs_finite_differences(rng, sizes):
    m = NumpyMLP(sizes, rng=rng, dtype=np.float64)
    x, y = _mlp_data(rng)
    loss, grads = m.loss_and_grads(x, y)
    assert loss == pytest.approx(m.loss(x, y))
    fd = _fd_grads(m, x, y)
    for k in m.names:
        np.testing.assert_allclose(grads[k], fd[k], rtol=1e-4, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("sizes", [(6, 5, 3), (6, 5, 4, 3)])
def test_hvp_vs_finite_difference_of_gradient(rng, sizes):
    m = NumpyMLP(sizes, rng=rng, dtype=np.float64)
    x, y = _mlp_data(rng)
    V = _rand_dir(m, rng)
    loss, grads, Hv = m.hvp(x, y, V)
    loss0, g0 = m.loss_and_grads(x, y)
    assert loss == pytest.approx(loss0)
    for k in m.names:
        np.testing.assert_allclose(grads[k], g0[k], rtol=1e-12, atol=1e-14)
    eps = 1e-5
    _shift(m, V, eps)
    gp = m.loss_and_grads(x, y)[1]
    _shift(m, V, -2 * eps)
    gm = m.loss_and_grads(x, y)[1]
    _shift(m, V, eps)
    for k in m.names:
        np.testing.assert_allclose(Hv[k], (gp[k] - gm[k]) / (2 * eps), rtol=1e-4, atol=1e-8,
                                   err_msg=k)
    # function form and tuple direction give the same numbers
    _, _, Hv_t = hvp(m, x, y, tuple(V[k] for k in m.names))
    for k, h in zip(m.names, Hv_t):
        np.testing.assert_allclose(h, Hv[k], rtol=1e-12)


def test_hvp_vs_explicit_hessian(rng):
    m = NumpyMLP((4, 3, 3), rng=rng, dtype=np.float64)
    x, y = _mlp_data(rng, n=5, d=4)
    names = m.names
    shapes = [m.params[k].shape for k in names]
    sizes = [int(np.prod(s)) for s in shapes]
    P = sum(sizes)

    def unflat(v):
        out, i = {}, 0
        for k, s, sz in zip(names, shapes, sizes):
            out[k] = v[i:i + sz].reshape(s)
            i += sz
        return out

    def flat_grad():
        g = m.loss_and_grads(x, y)[1]
        return np.concatenate([g[k].ravel() for k in names])

    eps = 1e-5
    H = np.zeros((P, P))
    for j in range(P):
        e = unflat(np.eye(P)[j])
        _shift(m, e, eps)
        gp = flat_grad()
        _shift(m, e, -2 * eps)
        gm = flat_grad()
        _shift(m, e, eps)
        H[:, j] = (gp - gm) / (2 * eps)
    np.testing.assert_allclose(H, H.T, atol=1e-7)
    for _ in range(3):
        v = rng.standard_normal(P)
        _, _, Hv = m.hvp(x, y, unflat(v))
        np.testing.assert_allclose(np.concatenate([Hv[k].ravel() for k in names]), H @ v,
                                   rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("channels", [(1, 2, 3), (2, 3)])
def test_cnn_grads_vs_finite_differences(rng, channels):
    c = NumpyCNN(channels, image_size=(8, 8), n_classes=3, rng=rng, dtype=np.float64)
    x, y = make_fashion_like_batch(3, rng, image_shape=(channels[0], 8, 8), n_classes=3,
                                   dtype=np.float64)
    x -= 0.5  # mixed signs: exercises both sides of the ReLUs
    loss, grads = c.loss_and_grads(x, y)
    assert loss == pytest.approx(c.loss(x, y))
    fd = _fd_grads(c, x, y)
    for k in c.names:
        assert grads[k].shape == c.params[k].shape
        np.testing.assert_allclose(grads[k], fd[k], rtol=1e-4, atol=1e-8, err_msg=k)


def test_cnn_matches_direct_convolution(rng):
    """The im2col forward equals a naive cross-correlation (PyTorch Conv2d semantics)."""
    c = NumpyCNN((2, 3), image_size=(4, 4), n_classes=2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 4, 4))
    W, b = c.W1, c.b1
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    z = np.zeros((2, 3, 4, 4))
    for n in range(2):
        for o in range(3):
            for i in range(4):
                for j in range(4):
                    z[n, o, i, j] = (xp[n, :, i:i + 3, j:j + 3] * W[o]).sum() + b[o]
    pooled = np.maximum(z, 0).reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5))
    expected = pooled.reshape(2, -1) @ c.W2.T + c.b2
    np.testing.assert_allclose(c.logits(x), expected, rtol=1e-12)


def test_sgd_decreases_loss(rng):
    m = NumpyMLP((20, 16, 10), rng=rng)
    x, y = make_fashion_like_batch(32, rng, image_shape=(20,))
    l0 = m.loss(x, y)
    losses = [m.sgd_step(x, y, 0.5) for _ in range(20)]
    assert losses[0] == pytest.approx(l0)
    assert m.loss(x, y) < 0.9 * l0 and losses[-1] < losses[0]

    c = NumpyCNN((1, 4, 4), image_size=(8, 8), rng=rng)
    xi, yi = make_fashion_like_batch(32, rng, image_shape=(1, 8, 8))
    l0 = c.loss(xi, yi)
    for _ in range(20):
        c.sgd_step(xi, yi, 0.5)
    assert c.loss(xi, yi) < l0


def test_maxpool_ties_route_gradient_once():
    """A constant image region gives tied maxima: the gradient must not be duplicated."""
    from benchmarks.numpy_baselines import _maxpool2_backward, _maxpool2_forward

    a = np.ones((2, 4, 4, 3))
    m = _maxpool2_forward(a)
    g = np.arange(m.size, dtype=float).reshape(m.shape)
    da = _maxpool2_backward(g, a, m)
    np.testing.assert_allclose(da.sum(), g.sum())
    np.testing.assert_array_equal(da[:, 0::2, 0::2, :], g)  # first window position wins
