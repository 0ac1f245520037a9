"""nn.utils: clipping, parameters as a vector, resetting gradients — against
PyTorch where it is installed, and against the formulas."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor
import nn
import optim
from tests.strategies import shapes


def _params_with_grads(grads, dtype=np.float64, missing=()):
    params = []
    for i, g in enumerate(grads):
        p = Tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        if i not in missing:
            p.grad = np.asarray(g, dtype=dtype).copy()
        params.append(p)
    return params


def _torch_params(torch, grads, dtype, missing=()):
    tdt = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    params = []
    for i, g in enumerate(grads):
        p = torch.zeros(np.shape(g), dtype=tdt, requires_grad=True)
        if i not in missing:
            p.grad = torch.tensor(np.asarray(g, dtype=dtype))
        params.append(p)
    return params


GRADS = [np.array([3.0, -4.0, 1.0]), np.array([[2.0, 0.5], [-6.0, 1.5]]), np.array(7.0)]


def test_optim_reexports_the_one_implementation():
    assert optim.clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert optim.clip_grad_value_ is nn.utils.clip_grad_value_
    import nn.utils as module
    assert module is nn.utils


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(s) * 5 for s in [(4, 3), (7,), (2, 2, 2)]]
    ours = _params_with_grads(grads, dtype, missing=(1,))
    theirs = _torch_params(torch, grads, dtype, missing=(1,))
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    assert isinstance(total, Tensor) and total.shape == ()
    assert total.dtype == dtype
    assert float(total) == pytest.approx(float(ttotal), rel=rtol)
    assert ours[1].grad is None and theirs[1].grad is None
    for p, tp in zip(ours, theirs):
        if p.grad is not None:
            assert p.grad.data.dtype == dtype
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_given_the_same_norm_is_bit_for_bit_torch(dtype):
    # With the total norm fixed, the coefficient is computed as PyTorch does.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for _ in range(20):
        grads = [rng.standard_normal(s) * 10 for s in [(3, 4), (5,)]]
        total = float(rng.uniform(1, 50))
        ours = _params_with_grads(grads, dtype)
        theirs = _torch_params(torch, grads, dtype)
        tdt = theirs[0].dtype
        nn.utils.clip_grads_with_norm_(ours, 1.3, Tensor(np.asarray(total, dtype=dtype)))
        torch.nn.utils.clip_grads_with_norm_(theirs, 1.3, torch.tensor(total, dtype=tdt))
        for p, tp in zip(ours, theirs):
            np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())


def test_get_total_norm_matches_torch():
    torch = pytest.importorskip("torch")
    tensors = [Tensor(g) for g in GRADS]
    for norm_type in (1, 2, 4, math.inf):
        got = nn.utils.get_total_norm(tensors, norm_type)
        want = torch.nn.utils.get_total_norm([torch.tensor(g) for g in GRADS], norm_type)
        assert float(got) == pytest.approx(float(want), rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.lists(shapes(min_dims=0, max_dims=3), min_size=1, max_size=4),
       st.sampled_from([1.0, 2.0, 3.0, math.inf]), st.floats(0.01, 10.0), st.integers(0, 2**31))
def test_clip_grad_norm_formula(shape_list, norm_type, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) * 3 for s in shape_list]
    params = _params_with_grads(grads)
    total = float(nn.utils.clip_grad_norm_(params, max_norm, norm_type))
    flat = np.concatenate([np.ravel(g) for g in grads])
    want = np.abs(flat).max() if math.isinf(norm_type) else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    assert total == pytest.approx(want, rel=1e-12)
    coef = min(1.0, max_norm / (want + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.data, np.asarray(g) * coef, rtol=1e-12)


def test_clip_grad_norm_inputs():
    (p,) = _params_with_grads([np.array([3.0, 4.0])])
    g = p.grad
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == pytest.approx(5.0)     # a lone Tensor
    assert p.grad is g                                                        # in place
    empty = nn.utils.clip_grad_norm_([], 1.0)
    assert float(empty) == 0.0 and empty.dtype == np.float32                  # torch.tensor(0.0)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((q for q in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_norm_((q for q in [p]), 1.0, foreach=True)        # accepted, no warning
    with pytest.raises(TypeError, match=r"clip_grad_norm_: parameters\[0\] is a ndarray"):
        nn.utils.clip_grad_norm_([np.zeros(2)], 1.0)
    with pytest.raises(TypeError, match="must be a Tensor or an iterable"):
        nn.utils.clip_grad_norm_(3.0, 1.0)
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1.0"):
        nn.utils.clip_grad_norm_([p], -1.0)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        nn.utils.clip_grad_norm_([p], 1.0, norm_type=0)
    bad = _params_with_grads([np.array([np.nan, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    for dtype in (np.float32, np.float64):
        ours = _params_with_grads(GRADS, dtype, missing=(2,))
        theirs = _torch_params(torch, GRADS, dtype, missing=(2,))
        assert nn.utils.clip_grad_value_(ours, 1.75) is None
        torch.nn.utils.clip_grad_value_(theirs, 1.75)
        for p, tp in zip(ours[:2], theirs[:2]):
            np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())
            assert p.grad.data.dtype == dtype
        assert ours[2].grad is None
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_(ours, -0.5)


def test_clipping_a_gradient_shared_by_two_parameters_scales_each_once():
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (2.0 * (x + y)).sum().backward(create_graph=True)
    nn.utils.clip_grad_value_([x, y], 0.5)
    np.testing.assert_array_equal(x.grad.data, 0.5)
    np.testing.assert_array_equal(y.grad.data, 0.5)


# ---------------------------------------------------------------------------
# parameters_to_vector / vector_to_parameters
# ---------------------------------------------------------------------------

def test_parameters_to_vector_matches_torch_and_is_differentiable():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    vec = nn.utils.parameters_to_vector(model.parameters())
    tparams = [torch.tensor(p.data) for p in model.parameters()]
    np.testing.assert_array_equal(vec.data, torch.nn.utils.parameters_to_vector(tparams).numpy())
    assert vec.shape == (sum(p.data.size for p in model.parameters()),)
    weights = np.arange(vec.shape[0], dtype=vec.dtype)
    (vec * Tensor(weights)).sum().backward()
    offset = 0
    for p in model.parameters():
        n = p.data.size
        np.testing.assert_array_equal(p.grad.data, weights[offset:offset + n].reshape(p.shape))
        offset += n


def test_vector_to_parameters_round_trip_and_copy_semantics():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    params = list(model.parameters())
    arrays = [p.data for p in params]
    vec = Tensor(np.linspace(-1, 1, sum(p.data.size for p in params)).astype(np.float32))
    assert nn.utils.vector_to_parameters(vec, model.parameters()) is None
    tparams = [torch.zeros(p.shape) for p in params]
    torch.nn.utils.vector_to_parameters(torch.tensor(vec.data), tparams)
    for p, a, tp in zip(params, arrays, tparams):
        assert p.data is a and p.data.dtype == np.float32      # copied into the same arrays
        np.testing.assert_array_equal(p.data, tp.numpy())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(params).data, vec.data)
    vec.data[...] = 0                                           # no memory shared
    assert np.any(params[0].data != 0)


def test_vector_to_parameters_casts_to_each_parameters_dtype():
    a = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.zeros((1, 2)), requires_grad=True)
    nn.utils.vector_to_parameters(Tensor(np.array([1.0, 2.0, 3.0, 4.0])), [a, b])
    assert a.data.dtype == np.float32 and b.data.dtype == np.float64
    np.testing.assert_array_equal(a.data, [1, 2])
    np.testing.assert_array_equal(b.data, [[3, 4]])


def test_vector_conversion_errors():
    p = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match="expected a Tensor, but got: numpy.ndarray"):
        nn.utils.vector_to_parameters(np.zeros(6), [p])
    with pytest.raises(ValueError, match=r"vec has 5 elements, but the parameters have 6 in all"):
        nn.utils.vector_to_parameters(Tensor(np.zeros(5)), [p])
    with pytest.raises(ValueError, match=r"must be 1-D, got shape \(2, 3\)"):
        nn.utils.vector_to_parameters(Tensor(np.zeros((2, 3))), [p])
    with pytest.raises(ValueError, match="no parameters"):
        nn.utils.parameters_to_vector([])
    with pytest.raises(TypeError, match=r"parameters_to_vector: parameters\[1\] is a list"):
        nn.utils.parameters_to_vector([p, [1.0]])


# ---------------------------------------------------------------------------
# zero_grad_
# ---------------------------------------------------------------------------

def test_zero_grad_in_place_or_none():
    p = Tensor(np.ones(3), requires_grad=True)
    (p * p).sum().backward()
    g = p.grad
    nn.utils.zero_grad_([p], set_to_none=False)
    assert p.grad is g
    np.testing.assert_array_equal(g.data, 0)
    nn.utils.zero_grad_([p])
    assert p.grad is None
    nn.utils.zero_grad_([p])                    # nothing to reset


def test_zero_grad_replaces_a_gradient_that_is_part_of_a_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    nn.utils.zero_grad_([x], set_to_none=False)
    assert x.grad is not g and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.data, 0)
    np.testing.assert_array_equal(g.data, 3)    # the graph's tensor is left alone


def test_optimizer_zero_grad_uses_it():
    x = Tensor(np.ones(2), requires_grad=True)
    y = Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([{"params": [x]}, {"params": [y], "lr": 0.1}])
    (x * y).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(x.grad.data, 0)
    np.testing.assert_array_equal(y.grad.data, 0)
    opt.zero_grad()
    assert x.grad is None and y.grad is None


def test_nn_utils_train_step_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 3)).astype(np.float32)
    Y = rng.standard_normal((16, 1)).astype(np.float32)
    model = nn.Linear(3, 1)                     # float32, as torch's
    tmodel = torch.nn.Linear(3, 1)
    with torch.no_grad():
        tmodel.weight.copy_(torch.tensor(model.weight.data))
        tmodel.bias.copy_(torch.tensor(model.bias.data))
    opt = optim.SGD(model.parameters(), lr=0.5)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.5)
    for _ in range(5):
        opt.zero_grad()
        loss = ((model(Tensor(X)) - Tensor(Y)) ** 2).mean()
        loss.backward()
        n1 = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        topt.zero_grad()
        tloss = ((tmodel(torch.tensor(X)) - torch.tensor(Y)) ** 2).mean()
        tloss.backward()
        n2 = torch.nn.utils.clip_grad_norm_(tmodel.parameters(), 0.1)
        topt.step()
        assert float(n1) == pytest.approx(float(n2), rel=1e-5)
    np.testing.assert_allclose(nn.utils.parameters_to_vector(model.parameters()).data,
                               torch.nn.utils.parameters_to_vector(tmodel.parameters())
                               .detach().numpy(), rtol=1e-5, atol=1e-6)


def test_torch_submodule_paths_import():
    import nn.utils.clip_grad
    from nn.utils import clip_grad, convert_parameters
    from nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
    from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
    from nn.utils import zero_grad_          # the old flat path stays
    assert nn.utils.clip_grad is clip_grad and clip_grad.clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert clip_grad_value_ is nn.utils.clip_grad_value_ and callable(zero_grad_)
    assert parameters_to_vector is convert_parameters.parameters_to_vector
    assert vector_to_parameters is nn.utils.vector_to_parameters
    assert clip_grad_norm_ is optim.clip_grad_norm_


@pytest.mark.parametrize("submodule", ["clip_grad", "convert_parameters"])
def test_submodules_have_torchs_public_functions(submodule):
    torch = pytest.importorskip("torch")
    import importlib
    theirs = importlib.import_module(f"torch.nn.utils.{submodule}")
    ours = importlib.import_module(f"nn.utils.{submodule}")
    wanted = {n for n in dir(theirs) if not n.startswith("_") and callable(getattr(theirs, n))
              and getattr(getattr(theirs, n), "__module__", "") == theirs.__name__}
    assert wanted <= set(dir(ours)), sorted(wanted - set(dir(ours)))


def test_deprecated_clip_grad_norm_warns_and_clips():
    model = nn.Linear(2, 1)
    model(ag.ones((1, 2))).sum().backward()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = nn.utils.clip_grad_norm(model.parameters(), 1.0)
    assert float(total) == pytest.approx(math.sqrt(3), rel=1e-6)
    assert float(nn.utils.get_total_norm([p.grad for p in model.parameters()])) == \
        pytest.approx(1.0, rel=1e-5)
