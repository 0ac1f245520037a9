"""The classical demonstrations, as tests.

* XOR by a 2-2-1 ReLU network with the hand-set weights W = [[1, 1], [1, 1]],
  c = [0, −1], w = [1, −2] (Goodfellow, Bengio & Courville, §6.1): exact.
* XOR learned by a 2-2-1 tanh network with plain gradient descent.
* A 1-3-1 tanh network fitting x², sin x, |x| and the Heaviside step from 50
  points in [−1, 1] (Bishop, PRML Fig. 5.3), full batch.
* A variational autoencoder written as in PyTorch (``nn.Module``, reparameterised
  z = μ + σ ⊙ ε with ``ag.randn_like``, the ELBO), trained with Adam, and its
  loss and gradients against the same model in torch for a fixed ε.

The classical loops update ``.data`` by hand (``optim`` is tested elsewhere);
the VAE uses ``optim.Adam`` as a PyTorch user would.
"""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F
import optim

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


# ---------------------------------------------------------------- a VAE, written as in PyTorch

class VAE(nn.Module):
    """Kingma & Welling's variational autoencoder, as a PyTorch user writes it:
    q(z|x) = N(μ(x), diag σ²(x)), z = μ + σ ⊙ ε with ε ~ N(0, I) (the
    reparameterisation), p(x|z) Bernoulli with means decode(z)."""

    def __init__(self, d_in=16, d_hidden=32, d_latent=2):
        super().__init__()
        self.enc = nn.Linear(d_in, d_hidden)
        self.mu = nn.Linear(d_hidden, d_latent)
        self.logvar = nn.Linear(d_hidden, d_latent)
        self.dec1 = nn.Linear(d_latent, d_hidden)
        self.dec2 = nn.Linear(d_hidden, d_in)

    def encode(self, x):
        h = F.relu(self.enc(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec2(F.relu(self.dec1(z))).sigmoid()

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        eps = ag.randn_like(std) if eps is None else eps
        return self.decode(mu + eps * std), mu, logvar


def negative_elbo(x_hat, x, mu, logvar):
    """−ELBO per sample: Bernoulli reconstruction BCE(x̂, x) summed over pixels,
    plus KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²)."""
    reconstruction = F.binary_cross_entropy(x_hat, x, reduction="sum")
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum()
    return (reconstruction + kl) / x.shape[0]


def vae_data(n=256, side=4, seed=0):
    """Binary 4×4 images, each one of four bars (two rows, two columns) with a
    few flipped pixels: two latent dimensions are enough to tell them apart."""
    g = np.random.default_rng(seed)
    bars = np.zeros((4, side, side))
    bars[0, 0], bars[1, 2], bars[2, :, 1], bars[3, :, 3] = 1, 1, 1, 1
    x = bars[g.integers(0, 4, n)].reshape(n, -1)
    flips = g.random(x.shape) < 0.05
    return np.where(flips, 1 - x, x).astype(np.float32)


def test_vae_trains_with_adam():
    ag.manual_seed(0)
    x = ag.tensor(vae_data())
    model = VAE()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(300):
        opt.zero_grad()
        x_hat, mu, logvar = model(x)                 # a fresh ε every step
        loss = negative_elbo(x_hat, x, mu, logvar)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = losses[0], float(np.mean(losses[-20:]))
    # 16 pixels: an untrained decoder costs ≈ 16 ln 2 ≈ 11 nats; the marginal
    # pixel means alone (what a decoder that ignores z learns, and where
    # training the decoder only ends) ≈ 8.3 nats. The four bars with 5 % noise
    # cost 16·H(0.05) ≈ 3.2 nats plus the KL term (≈ 5.1 in all here), which
    # only a working gradient through the reparameterised z into the encoder
    # reaches.
    assert first > 10.0
    assert last < 6.0, losses[::30]
    # the encoder is used: its mean μ(x) varies with x in both latent dimensions (no posterior collapse)
    mu = model.encode(ag.tensor(vae_data(n=4 * 64, seed=1)))[0].data
    assert np.isfinite(mu).all() and mu.std(axis=0).min() > 0.1


def test_vae_matches_torch_for_a_fixed_epsilon():
    torch = pytest.importorskip("torch")
    ag.manual_seed(1)
    model = VAE()
    x_np = vae_data(n=8)
    eps_np = np.random.default_rng(2).standard_normal((8, 2)).astype(np.float32)

    class TorchVAE(torch.nn.Module):          # the same model, line for line, in torch
        def __init__(self):
            super().__init__()
            self.enc, self.mu, self.logvar = (torch.nn.Linear(16, 32), torch.nn.Linear(32, 2),
                                              torch.nn.Linear(32, 2))
            self.dec1, self.dec2 = torch.nn.Linear(2, 32), torch.nn.Linear(32, 16)

        def forward(self, x, eps):
            h = torch.relu(self.enc(x))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + eps * torch.exp(0.5 * logvar)
            return torch.sigmoid(self.dec2(torch.relu(self.dec1(z)))), mu, logvar

    reference = TorchVAE()
    reference.load_state_dict({k: torch.from_numpy(np.array(v.data)) for k, v in model.state_dict().items()})

    x_hat, mu, logvar = model(ag.tensor(x_np), eps=ag.tensor(eps_np))
    loss = negative_elbo(x_hat, ag.tensor(x_np), mu, logvar)
    loss.backward()

    xt = torch.from_numpy(x_np)
    t_hat, t_mu, t_logvar = reference(xt, torch.from_numpy(eps_np))
    t_loss = (torch.nn.functional.binary_cross_entropy(t_hat, xt, reduction="sum")
              - 0.5 * (1 + t_logvar - t_mu ** 2 - t_logvar.exp()).sum()) / 8
    t_loss.backward()

    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-5)
    np.testing.assert_allclose(x_hat.data, t_hat.detach().numpy(), rtol=1e-5, atol=1e-6)
    grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[name].grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
