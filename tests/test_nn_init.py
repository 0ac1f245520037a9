"""nn.init: gains, fans, the statistics of every initialiser, seeding."""
import math

import numpy as np
import pytest

from autograd_core import Tensor
import nn
from nn import init


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape,fans", [((5, 3), (3, 5)), ((8, 4, 3, 3), (36, 72)),
                                        ((2, 6, 5), (30, 10)), ((7, 1, 1, 1), (1, 7))])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(np.empty(shape)) == fans
    assert init._calculate_fan_in_and_fan_out(Tensor(np.empty(shape))) == fans


def test_fans_need_two_dimensions_and_a_valid_mode():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(np.empty(3))
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(np.empty((3, 3)), mode="fan_avg")


def big(shape=(400, 500)):
    return nn.Parameter(np.zeros(shape))


def test_uniform_and_normal_statistics():
    w = init.uniform_(big(), -2.0, 3.0)
    assert w.data.min() >= -2 and w.data.max() <= 3
    assert abs(w.data.mean() - 0.5) < 0.02 and abs(w.data.std() - 5 / math.sqrt(12)) < 0.02
    w = init.normal_(big(), mean=1.0, std=0.5)
    assert abs(w.data.mean() - 1.0) < 0.005 and abs(w.data.std() - 0.5) < 0.005
    with pytest.raises(ValueError):
        init.uniform_(big(), 1.0, 0.0)


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    shape = (300, 200)
    bound = gain * math.sqrt(6 / (200 + 300))
    w = init.xavier_uniform_(big(shape), gain=gain)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    std = gain * math.sqrt(2 / (200 + 300))
    assert abs(w.data.std() - std) < 0.02 * std
    w = init.xavier_normal_(big(shape), gain=gain)
    assert abs(w.data.std() - std) < 0.02 * std and abs(w.data.mean()) < 0.02 * std


@pytest.mark.parametrize("mode,nonlinearity,a", [("fan_in", "relu", 0), ("fan_out", "relu", 0),
                                                 ("fan_in", "leaky_relu", 0.1),
                                                 ("fan_in", "leaky_relu", math.sqrt(5)),
                                                 ("fan_out", "tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (64, 32, 3, 3)      # fan_in 288, fan_out 576
    fan = 288 if mode == "fan_in" else 576
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_uniform_(big(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3) * std
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert abs(w.data.std() - std) < 0.02 * std
    w = init.kaiming_normal_(big(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(w.data.std() - std) < 0.02 * std


def test_pytorch_default_linear_and_conv_init_is_uniform_one_over_sqrt_fan_in():
    w = init.kaiming_uniform_(big((50, 900)), a=math.sqrt(5))
    assert np.abs(w.data).max() <= 1 / 30 and np.abs(w.data).max() > 0.99 / 30


def test_fills_are_in_place_keep_dtype_and_accept_arrays():
    p = nn.Parameter(np.zeros((3, 4)))
    arr = p.data
    assert init.normal_(p) is p and p.data is arr and p.dtype == np.float32
    a = np.zeros((3, 3))
    assert init.ones_(a) is a and np.all(a == 1)
    assert np.all(init.zeros_(a) == 0)
    assert np.all(init.constant_(Tensor(np.zeros(2)), 0.25).data == 0.25)
    np.testing.assert_array_equal(init.eye_(np.zeros((2, 3))), np.eye(2, 3))
    with pytest.raises(TypeError, match="floating-point"):
        init.uniform_(np.zeros(3, dtype=int))
    with pytest.raises(TypeError):
        init.uniform_([0.0, 0.0])
    empty = nn.Parameter(np.zeros((0, 3)))
    init.kaiming_uniform_(empty)       # a no-op, as PyTorch


def test_orthogonal():
    w = init.orthogonal_(np.zeros((6, 4)))
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-10)
    w = init.orthogonal_(np.zeros((3, 2, 2)), gain=2.0)
    flat = w.reshape(3, 4)
    np.testing.assert_allclose(flat @ flat.T, 4 * np.eye(3), atol=1e-10)


def test_manual_seed_makes_models_reproducible():
    def build():
        return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Conv2d(1, 2, 3))

    init.manual_seed(42)
    a = build().state_dict()
    init.manual_seed(42)
    b = build().state_dict()
    init.manual_seed(43)
    c = build().state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["0.weight"], c["0.weight"])
    # nn.init.manual_seed is autograd_core.manual_seed (PyTorch's seed rules).
    import autograd_core as ag
    assert init.manual_seed is ag.manual_seed and init.get_generator() is ag.default_generator
    with pytest.raises(TypeError, match="seed must be an int"):
        init.manual_seed(1.5)
    with pytest.raises(ValueError, match="2\\*\\*64"):
        init.manual_seed(2 ** 64)


def test_generator_keyword_is_independent_of_the_global_generator():
    g1 = np.random.default_rng(5)
    g2 = np.random.default_rng(5)
    x = init.normal_(np.zeros(10), generator=g1)
    init.manual_seed(0)
    init.uniform_(np.zeros(100))      # consumes the global stream only
    y = init.normal_(np.zeros(10), generator=g2)
    np.testing.assert_array_equal(x, y)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.normal_(np.zeros(2), generator=5)


def test_reset_parameters_redraws():
    lin = nn.Linear(5, 5)
    before = lin.weight.data.copy()
    lin.reset_parameters()
    assert not np.array_equal(before, lin.weight.data)
