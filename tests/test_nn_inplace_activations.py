"""``inplace=True`` as PyTorch means it: the input tensor is overwritten with
the activation (or dropout) and returned; values and gradients are those of
the out-of-place call; a leaf that requires grad is refused."""
import numpy as np
import pytest

import autograd_core as ag
import nn

F = nn.functional
ACTIVATIONS = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "SiLU", "Mish",
               "Hardswish", "Hardsigmoid", "Hardtanh"]


def _network(act, inplace):
    nn.init.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), getattr(nn, act)(inplace=inplace), nn.Linear(3, 2))


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_in_place_activation_gives_the_out_of_place_values_and_gradients(act):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32) * 3
    results = []
    for inplace in (False, True):
        model = _network(act, inplace)
        loss = (model(x) ** 2).sum()
        loss.backward()
        results.append((loss.item(), [p.grad.data.copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_the_input_is_overwritten_and_returned(act):
    h = ag.tensor(np.linspace(-5, 5, 11), dtype=ag.float32) * 1.0
    expected = getattr(nn, act)()(h).data.copy()
    out = getattr(nn, act)(inplace=True)(h)
    assert out is h
    np.testing.assert_array_equal(h.data, expected)


def test_functional_forms_and_threshold():
    h = ag.tensor([-1.0, 0.5, 2.0]) * 1.0
    assert F.relu(h, inplace=True) is h and h.tolist() == [0.0, 0.5, 2.0]
    g = ag.tensor([-1.0, 0.5, 2.0]) * 1.0
    assert F.threshold(g, 1.0, -7.0, inplace=True) is g and g.tolist() == [-7.0, -7.0, 2.0]
    a = np.array([-1.0, 2.0])
    F.relu(a, inplace=True)                  # an ndarray is never written
    assert a.tolist() == [-1.0, 2.0]


def test_a_leaf_that_requires_grad_is_refused():
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*in-place"):
        F.relu(x, inplace=True)
    with ag.no_grad():                       # as torch: fine without a graph
        F.relu(x, inplace=True)
    assert x.tolist() == [0.0, 2.0]


def test_in_place_dropout_zeroes_the_input_itself_and_eval_leaves_it():
    d = ag.ones(1000) * 1.0
    layer = nn.Dropout(0.5, inplace=True)
    assert layer(d) is d
    zeros = float((d.data == 0).mean())
    assert 0.4 < zeros < 0.6 and set(np.unique(d.data)) <= {0.0, 2.0}
    layer.eval()
    e = ag.ones(10) * 1.0
    assert layer(e) is e and e.tolist() == [1.0] * 10


def test_in_place_activation_matches_torch_and_compiles():
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    model = _network("SiLU", True)
    step = ag.compile(lambda v: (model(v) ** 2).sum())
    eager = (model(x) ** 2).sum().item()
    assert step(x).item() == eager and step(x).item() == eager
    torch = pytest.importorskip("torch")
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.SiLU(inplace=True),
                              torch.nn.Linear(3, 2))
    ref.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    loss = (model(x) ** 2).sum()
    loss.backward()
    tloss = (ref(torch.tensor(x)) ** 2).sum()
    tloss.backward()
    assert abs(loss.item() - tloss.item()) <= 1e-6 * abs(tloss.item())
    np.testing.assert_allclose(model[0].weight.grad.data, ref[0].weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
