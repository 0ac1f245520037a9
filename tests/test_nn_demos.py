"""The classical demonstrations, as tests.

* XOR by a 2-2-1 ReLU network with the hand-set weights W = [[1, 1], [1, 1]],
  c = [0, −1], w = [1, −2] (Goodfellow, Bengio & Courville, §6.1): exact.
* XOR learned by a 2-2-1 tanh network with plain gradient descent.
* A 1-3-1 tanh network fitting x², sin x, |x| and the Heaviside step from 50
  points in [−1, 1] (Bishop, PRML Fig. 5.3), full batch.

Training loops update ``.data`` by hand: ``optim`` is tested elsewhere.
"""
import numpy as np
import pytest

import nn
import nn.functional as F

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xor_hand_set_relu_network_is_exact(dtype):
    net = nn.Sequential(nn.Linear(2, 2, dtype=dtype), nn.ReLU(), nn.Linear(2, 1, bias=False, dtype=dtype))
    net.load_state_dict({"0.weight": [[1, 1], [1, 1]],
                         "0.bias": [0, -1],
                         "2.weight": [[1, -2]]})
    out = net(XOR_X.astype(dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data.ravel(), XOR_Y)        # exactly, not approximately
    # hidden layer: h = relu(x1 + x2 + c) = (0,0), (1,0), (1,0), (2,1)
    np.testing.assert_array_equal(net[1](net[0](XOR_X.astype(dtype))).data,
                                  [[0, 0], [1, 0], [1, 0], [2, 1]])
    loss = F.mse_loss(out.reshape(-1), XOR_Y.astype(dtype))
    loss.backward()
    assert loss.item() == 0 and all(np.all(p.grad.data == 0) for p in net.parameters())


def test_xor_trained_2_2_1_network():
    nn.init.manual_seed(5)   # a seed that avoids the well-known XOR local minimum
    net = nn.Sequential(nn.Linear(2, 2, dtype=np.float64), nn.Tanh(),
                        nn.Linear(2, 1, dtype=np.float64))
    x, y = XOR_X.astype(np.float64), XOR_Y.reshape(4, 1).astype(np.float64)
    lr = 1.0
    for _ in range(500):
        net.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        for p in net.parameters():
            p.data -= lr * p.grad.data
    assert loss.item() < 0.02
    probs = net(x).sigmoid().data.ravel()
    np.testing.assert_array_equal(probs > 0.5, XOR_Y > 0.5)
    assert np.all(np.abs(probs - XOR_Y) < 0.05)


# ---------------------------------------------------------------- 1-3-1 tanh

X50 = np.linspace(-1, 1, 50).reshape(-1, 1)

FUNCTIONS = {
    "square": (lambda x: x ** 2, 1e-4),
    "sin": (np.sin, 1e-4),
    "abs": (np.abs, 2e-3),
    "heaviside": (lambda x: (x > 0).astype(float), 1e-3),
}


def fit_1_3_1(target, seed=0, max_iter=300):
    """Full-batch L-BFGS (scipy) on the mean squared error; the engine supplies
    loss and gradient at every step."""
    optimize = pytest.importorskip("scipy.optimize")
    nn.init.manual_seed(seed)
    net = nn.Sequential(nn.Linear(1, 3, dtype=np.float64), nn.Tanh(),
                        nn.Linear(3, 1, dtype=np.float64))
    params = list(net.parameters())

    def loss_and_grad(theta):
        i = 0
        for p in params:
            p.data[...] = theta[i:i + p.size].reshape(p.shape)
            i += p.size
        net.zero_grad()
        loss = F.mse_loss(net(X50), target)
        loss.backward()
        return loss.item(), np.concatenate([p.grad.data.ravel() for p in params])

    theta0 = np.concatenate([p.data.ravel() for p in params])
    result = optimize.minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B",
                               options={"maxiter": max_iter})
    final, _ = loss_and_grad(result.x)
    return net, final


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_1_3_1_tanh_network_fits(name):
    fn, threshold = FUNCTIONS[name]
    target = fn(X50)
    net, mse = fit_1_3_1(target)
    assert net.num_parameters() == 10
    assert mse < threshold, f"{name}: MSE {mse:.2e} >= {threshold:.0e}"
    # the fit is a function, not a lookup: it interpolates between the samples
    between = (X50[:-1] + X50[1:]) / 2
    if name != "heaviside":
        assert np.abs(net(between).data - fn(between)).max() < 0.1


def test_1_3_1_gradient_descent_reduces_the_error():
    """The same network with plain gradient descent: a few hundred steps already
    fit x² well (L-BFGS above only gets there faster)."""
    nn.init.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 3, dtype=np.float64), nn.Tanh(), nn.Linear(3, 1, dtype=np.float64))
    target = X50 ** 2
    velocity = [np.zeros_like(p.data) for p in net.parameters()]
    first = None
    for _ in range(300):
        net.zero_grad()
        loss = F.mse_loss(net(X50), target)
        loss.backward()
        first = first if first is not None else loss.item()
        for p, v in zip(net.parameters(), velocity):
            v *= 0.9
            v += p.grad.data
            p.data -= 0.3 * v
    assert loss.item() < 1e-3 and loss.item() < 0.05 * first
