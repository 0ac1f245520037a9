"""Layers: forward against NumPy references, gradients by ag.gradcheck (float64)."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
import nn.functional as F

RNG = np.random.default_rng(1234)


def randn(*shape, scale=1.0):
    return RNG.standard_normal(shape) * scale


def params64(layer):
    """Fresh float64 leaves holding the layer's parameters (for gradcheck)."""
    return [Tensor(p.data.astype(np.float64), requires_grad=True) for p in layer.parameters()]


# ---------------------------------------------------------------- Linear

def test_linear_forward_matches_numpy_and_uses_pytorch_layout():
    lin = nn.Linear(4, 3)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    x = randn(5, 4).astype(np.float32)
    out = lin(Tensor(x))
    np.testing.assert_allclose(out.data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-6)
    assert out.dtype == np.float32
    # batched leading dimensions
    x3 = randn(2, 5, 4).astype(np.float32)
    np.testing.assert_allclose(lin(x3).data, x3 @ lin.weight.data.T + lin.bias.data, rtol=1e-5)


def test_linear_ndarray_input_takes_the_parameter_dtype():
    lin = nn.Linear(2, 2)
    assert lin(np.ones((1, 2))).dtype == np.float32        # float64 batch, float32 model
    assert lin([[1, 2]]).dtype == np.float32
    lin64 = nn.Linear(2, 2, dtype=np.float64)
    assert lin64.weight.dtype == np.float64 and lin64(np.ones((1, 2), np.float32)).dtype == np.float64


def test_linear_gradcheck():
    lin = nn.Linear(3, 2, dtype=np.float64)
    x = randn(4, 3)
    w, b = params64(lin)
    assert ag.gradcheck(lambda x, w, b: F.linear(x, w, b),
                        (Tensor(x, requires_grad=True), w, b))

    def through_module(x):
        return lin(x)
    assert ag.gradcheck(through_module, (Tensor(x, requires_grad=True),))


def test_linear_parameter_gradients_match_numpy():
    lin = nn.Linear(3, 2, dtype=np.float64)
    x = randn(5, 3)
    g = randn(5, 2)
    lin(x).backward(g)
    np.testing.assert_allclose(lin.weight.grad.data, g.T @ x)
    np.testing.assert_allclose(lin.bias.grad.data, g.sum(0))


def test_linear_without_bias_and_errors():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    x = randn(2, 3).astype(np.float32)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T, rtol=1e-6)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*shape \(2, 4\).*3 features"):
        lin(np.ones((2, 4)))
    with pytest.raises(ValueError):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError):
        nn.Linear(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="linear"):
        F.linear(np.ones((2, 4)), np.ones((3, 3)))


def test_linear_default_init_is_pytorch_uniform():
    nn.init.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight.data, lin.bias.data):
        assert np.abs(p).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.98 * bound
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.02 * bound


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.Softmax(dim=-1), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (nn.Softmax(dim=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Identity(3, foo=1), lambda x: x),
]


@pytest.mark.parametrize("layer,ref", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_forward_and_gradcheck(layer, ref):
    x = randn(3, 4)
    x[0, 0] = 0.3  # keep away from the kinks at 0
    x[np.abs(x) < 1e-3] = 0.5
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(lambda t: layer(t), (Tensor(x, requires_grad=True),))


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(), nn.Tanh(), nn.Sigmoid(), nn.Softplus(),
                                   nn.Softmax(), nn.LogSoftmax()], ids=repr)
def test_activation_finite_and_dtype_preserving_at_extremes(layer):
    x = Tensor(np.array([[-1000.0, -1.0, 0.0, 1.0, 1000.0]], dtype=np.float32), requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float32 and np.all(np.isfinite(out.data))
    out.sum().backward()
    assert np.all(np.isfinite(x.grad.data))


def test_leaky_relu_gradient_at_zero_is_the_slope_and_accepts_arrays():
    x = Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.1, 0.1, 1.0])
    assert nn.ReLU()(np.array([-1.0, 2.0])).data.tolist() == [0.0, 2.0]
    assert nn.Tanh()(np.array([0, 1])).dtype == np.float32  # integers become float32


def test_functional_activations_match_modules():
    x = randn(2, 5)
    for fn, mod in [(F.relu, nn.ReLU()), (F.sigmoid, nn.Sigmoid()), (F.tanh, nn.Tanh()),
                    (F.softmax, nn.Softmax()), (F.log_softmax, nn.LogSoftmax())]:
        np.testing.assert_array_equal(fn(x).data, mod(x).data)


# ---------------------------------------------------------------- Flatten

@pytest.mark.parametrize("start,end,shape", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)),
                                             (2, 3, (2, 3, 20)), (-2, -1, (2, 3, 20)),
                                             (0, 0, (2, 3, 4, 5))])
def test_flatten(start, end, shape):
    x = randn(2, 3, 4, 5)
    out = nn.Flatten(start, end)(x)
    assert out.shape == shape
    np.testing.assert_array_equal(out.data.ravel(), x.ravel())
    assert ag.gradcheck(lambda t: nn.Flatten(start, end)(t) * 2.0,
                        (Tensor(randn(2, 1, 2, 2), requires_grad=True),))


def test_flatten_errors_and_repr():
    with pytest.raises(ValueError, match="out of range"):
        nn.Flatten()(np.ones(3))
    with pytest.raises(ValueError, match="after end_dim"):
        nn.Flatten(2, 1)(np.ones((2, 3, 4)))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert nn.Flatten()(np.ones((0, 3, 2))).shape == (0, 6)


# ---------------------------------------------------------------- Dropout

def test_dropout_train_mode_statistics():
    d = nn.Dropout(0.3, seed=0)
    x = np.ones((200, 500), dtype=np.float32)
    out = d(x).data
    dropped = (out == 0).mean()
    assert abs(dropped - 0.3) < 0.01
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)   # inverted scaling
    assert abs(out.mean() - 1.0) < 0.02                                 # unbiased
    assert out.dtype == np.float32


def test_dropout_eval_is_identity_and_gradient_is_the_mask():
    d = nn.Dropout(0.5, seed=1)
    x = Tensor(randn(10, 10), requires_grad=True)
    d.eval()
    out = d(x)
    np.testing.assert_array_equal(out.data, x.data)
    d.train()
    y = d(x)
    y.sum().backward()
    mask = (y.data != 0)
    np.testing.assert_allclose(x.grad.data, mask * 2.0)


def test_dropout_reproducibility_and_edge_probabilities():
    x = np.ones((4, 8))
    a = nn.Dropout(0.5, seed=7)(x).data
    b = nn.Dropout(0.5, seed=7)(x).data
    np.testing.assert_array_equal(a, b)
    nn.init.manual_seed(3)
    c = nn.Dropout(0.5)(x).data
    nn.init.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, c)   # the global generator
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0)
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
    np.testing.assert_array_equal(F.dropout(x, 0.9, training=False).data, x)


# ---------------------------------------------------------------- BatchNorm1d

def bn_reference(x, gamma, beta, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)               # biased
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_training_forward_and_running_stats(shape):
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    x = randn(*shape) * 2 + 1
    out = bn(x)
    np.testing.assert_allclose(out.data, bn_reference(x, bn.weight.data, bn.bias.data), rtol=1e-10)
    axes = (0,) if x.ndim == 2 else (0, 2)
    n = x.size // 3
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=axes), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(axis=axes) * n / (n - 1),
                               rtol=1e-10)   # unbiased in the running variance
    assert int(bn.num_batches_tracked.data) == 1


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(2, momentum=0.5, dtype=np.float64)
    for _ in range(3):
        bn(randn(6, 2))
    bn.eval()
    x = randn(4, 2)
    expected = (x - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10)
    before = bn.running_mean.data.copy()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean.data, before)   # eval does not update
    assert int(bn.num_batches_tracked.data) == 3


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [randn(5, 2) for _ in range(4)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], axis=0))


def test_batchnorm_without_affine_or_running_stats():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    x = randn(6, 3).astype(np.float32)
    bn.eval()   # still batch statistics
    np.testing.assert_allclose(bn(x).data, bn_reference(x, np.ones(3), np.zeros(3)), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 2)])
def test_batchnorm_gradcheck(shape):
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    x = randn(*shape)
    w, b = params64(bn)
    w.data[...] = [1.5, -0.5, 2.0]

    def f(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)
    assert ag.gradcheck(f, (Tensor(x, requires_grad=True), w, b))
    bn.eval()
    bn.running_var.data[...] = [0.5, 2.0, 1.0]
    assert ag.gradcheck(lambda t: bn(t), (Tensor(x, requires_grad=True),))


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(4, 2\).*2 channels"):
        bn(np.ones((4, 2)))
    with pytest.raises(ValueError, match="2D"):
        bn(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError):
        nn.BatchNorm1d(0)


def test_batchnorm_normalises_a_float32_batch():
    bn = nn.BatchNorm1d(4)
    x = (randn(64, 4) * 10 + 5).astype(np.float32)
    out = bn(x).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-3)


def test_layers_have_correct_second_derivatives():
    x = Tensor(randn(4, 3), requires_grad=True)
    assert ag.gradgradcheck(lambda t: F.batch_norm(t, None, None, training=True), (x,))
    assert ag.gradgradcheck(lambda t: F.leaky_relu(t * t, 0.1), (x,))
    assert ag.gradgradcheck(lambda t: F.softplus(t, beta=2.0), (x,))
    w = Tensor(randn(2, 3), requires_grad=True)
    assert ag.gradgradcheck(lambda t, w: F.linear(t, w).tanh(), (x, w))


def test_against_pytorch_layers():
    torch = pytest.importorskip("torch")
    x = randn(5, 4)
    lin = nn.Linear(4, 3, dtype=np.float64)
    tlin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(lin.weight.data))
        tlin.bias.copy_(torch.tensor(lin.bias.data))
    np.testing.assert_allclose(lin(x).data, tlin(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    bn, tbn = nn.BatchNorm1d(4, dtype=np.float64), torch.nn.BatchNorm1d(4).double()
    for _ in range(2):
        xb = randn(6, 4)
        np.testing.assert_allclose(bn(xb).data, tbn(torch.tensor(xb)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), rtol=1e-12)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(x).data, tbn(torch.tensor(x)).detach().numpy(), rtol=1e-10)
