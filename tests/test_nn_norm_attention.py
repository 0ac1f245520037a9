"""Normalisation, attention, transformer and activation layers: values, parameter
gradients and input gradients against PyTorch from the same weights (float32 and
float64), ``check_grads`` in float64, forward mode and Hessian-vector products
through an attention block, state dicts under torch's names, errors, and
compiled training steps that equal eager ones."""
import copy
import math
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor
from autograd_core import functional as AF
from autograd_core.testing import check_grads
import nn
import nn.functional as F

DTYPES = [np.float32, np.float64]
# float32 results differ from torch's by summation order only
VALUE_TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
GRAD_TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def rng_for(*key):
    """A generator seeded by the test's parameters (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def torch_state(module):
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def run_both(torch, ours, theirs, args, kwargs=None, dtype=np.float64, grad_args=None,
             rng=None, grad_tol=None):
    """Copy ``theirs``' weights into ``ours`` (the state_dict keys must agree), call
    both on the same ``args`` (arrays; the same array object twice is the same
    tensor twice, so self-attention stays self-attention) and constant ``kwargs``,
    back-propagate the same random cotangent, and compare the outputs, the input
    gradients (of the floating args, or of positions ``grad_args``) and every
    parameter gradient by name."""
    kwargs = kwargs or {}
    rng = rng or np.random.default_rng(0)
    grad_tol = grad_tol or GRAD_TOL[dtype]
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(torch_state(theirs))
    grad_args = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)
                 and a.dtype.kind == "f"] if grad_args is None else grad_args
    o_by_id, t_by_id, o_args, t_args = {}, {}, [], []
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray):
            o_args.append(a), t_args.append(a)
            continue
        if id(a) not in o_by_id:
            o_by_id[id(a)] = Tensor(a, requires_grad=i in grad_args)
            t_by_id[id(a)] = torch.tensor(a, requires_grad=i in grad_args)
        o_args.append(o_by_id[id(a)]), t_args.append(t_by_id[id(a)])
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    o_out, t_out = ours(*o_args, **kwargs), theirs(*t_args, **t_kwargs)
    o_out = o_out if isinstance(o_out, tuple) else (o_out,)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    o_loss, t_loss = 0, 0
    for o, t in zip(o_out, t_out):
        assert (o is None) == (t is None)
        if o is None:
            continue
        assert o.shape == tuple(t.shape) and o.dtype == dtype
        np.testing.assert_allclose(o.data, t.detach().numpy(), **VALUE_TOL[dtype])
        cot = rng.standard_normal(o.shape).astype(dtype)
        o_loss = o_loss + (o * cot).sum()
        t_loss = t_loss + (t * torch.tensor(cot)).sum()
    o_loss.backward()
    t_loss.backward()
    for i in grad_args:
        np.testing.assert_allclose(o_args[i].grad.data, t_args[i].grad.numpy(), **grad_tol)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tg = t_params[name].grad
        if tg is None:
            assert p.grad is None or not np.any(p.grad.data), name
        else:
            np.testing.assert_allclose(p.grad.data, tg.numpy(), **grad_tol, err_msg=name)
    return o_out, t_out


def randn(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ====================================================================== normalisation vs torch

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 7), [7])])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_matches_torch(torch, dtype, shape, normalized, affine, bias):
    rng = rng_for("ln", dtype, shape, affine, bias)
    ours = nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias, dtype=dtype)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias)
    with torch.no_grad():  # away from the initial ones and zeros
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape) * 0.5 + 1)
    run_both(torch, ours, theirs, [randn(rng, *shape, dtype=dtype) * 3 + 1], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6), 3), ((3, 6, 5), 2), ((2, 4, 3, 3), 4),
                                          ((2, 4, 2, 3), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(torch, dtype, shape, groups, affine):
    rng = rng_for("gn", dtype, shape, groups, affine)
    ours = nn.GroupNorm(groups, shape[1], eps=1e-3, affine=affine, dtype=dtype)
    theirs = torch.nn.GroupNorm(groups, shape[1], eps=1e-3, affine=affine)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    run_both(torch, ours, theirs, [randn(rng, *shape, dtype=dtype) * 2 - 1], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_matches_torch(torch, dtype, eps, affine):
    rng = rng_for("rms", dtype, eps, affine)
    ours = nn.RMSNorm((3, 4), eps=eps, elementwise_affine=affine, dtype=dtype)
    theirs = torch.nn.RMSNorm((3, 4), eps=eps, elementwise_affine=affine)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    run_both(torch, ours, theirs, [randn(rng, 2, 3, 4, dtype=dtype)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,shape", [("1d", (6, 3)), ("1d", (4, 3, 5)), ("2d", (4, 3, 2, 5)),
                                        ("3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_family_matches_torch_over_steps_then_in_eval(torch, dtype, kind, shape,
                                                                 momentum):
    rng = rng_for("bn", dtype, kind, shape, momentum)
    cls = {"1d": "BatchNorm1d", "2d": "BatchNorm2d", "3d": "BatchNorm3d"}[kind]
    ours = getattr(nn, cls)(3, momentum=momentum, dtype=dtype)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    with torch.no_grad():
        theirs.weight.copy_(torch.randn(3))
        theirs.bias.copy_(torch.randn(3))
    for step in range(3):
        ours.zero_grad(), theirs.zero_grad()
        run_both(torch, ours, theirs, [randn(rng, *shape, dtype=dtype) * 2 + step], dtype=dtype)
        # run_both loaded torch's buffers before the call; both updated them since
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, name).data,
                                       getattr(theirs, name).detach().numpy(),
                                       **VALUE_TOL[dtype])
        assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == step + 1
    ours.eval(), theirs.eval()
    run_both(torch, ours, theirs, [randn(rng, *shape, dtype=dtype)], dtype=dtype)


def test_batch_norm_without_bias_or_tracking_matches_torch(torch):
    rng = rng_for("bn-variants")
    for kwargs in (dict(bias=False), dict(track_running_stats=False), dict(affine=False)):
        ours = nn.BatchNorm2d(3, dtype=np.float64, **kwargs)
        theirs = torch.nn.BatchNorm2d(3, **kwargs)
        assert repr(ours) == repr(theirs)
        for mode in ("train", "eval"):
            getattr(ours, mode)(), getattr(theirs, mode)()
            if mode == "eval" and kwargs.get("track_running_stats", True):
                continue  # covered above
            run_both(torch, ours, theirs, [randn(rng, 4, 3, 2, 2)], dtype=np.float64)


def test_functional_norms_match_torch(torch):
    rng = rng_for("functional norms")
    x = randn(rng, 3, 4, 5)
    tx = torch.tensor(x)
    w, b = randn(rng, 5), randn(rng, 5)
    tF = torch.nn.functional
    pairs = [
        (F.layer_norm(x, (5,), w, b, 1e-3), tF.layer_norm(tx, (5,), torch.tensor(w),
                                                          torch.tensor(b), 1e-3)),
        (F.rms_norm(x, [5], w), tF.rms_norm(tx, [5], torch.tensor(w))),
        (F.group_norm(x, 2), tF.group_norm(tx, 2)),
        (F.normalize(x), tF.normalize(tx)),
        (F.normalize(x, p=1.0, dim=-1), tF.normalize(tx, p=1.0, dim=-1)),
        (F.normalize(np.zeros((2, 3))), tF.normalize(torch.zeros(2, 3))),
    ]
    rm, rv = np.zeros(4), np.ones(4)
    trm, trv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    pairs.append((F.batch_norm(x, rm, rv, training=True, momentum=0.3),
                  tF.batch_norm(tx, trm, trv, training=True, momentum=0.3)))
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)   # ndarrays updated in place
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)
    pairs.append((F.batch_norm(x, rm, rv), tF.batch_norm(tx, trm, trv)))
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-11, atol=1e-12)
    out = ag.zeros(3, 4, 5, dtype=ag.float64)
    assert F.normalize(x, dim=2, out=out) is out
    np.testing.assert_allclose(out.data, tF.normalize(tx, dim=2).numpy(), rtol=1e-12)


def test_normalize_gradient_at_zero_matches_torch(torch):
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    tx = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    (F.normalize(x) * np.arange(6.0).reshape(2, 3)).sum().backward()
    (torch.nn.functional.normalize(tx) * torch.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


@settings(max_examples=15, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       tail=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       groups=st.sampled_from([1, 2]), seed=st.integers(0, 2 ** 16))
def test_norms_match_torch_on_random_shapes(lead, tail, groups, seed):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + tuple(tail))
    tx = torch.tensor(x)
    shape = tuple(tail)
    np.testing.assert_allclose(F.layer_norm(x, shape).data, tF.layer_norm(tx, shape).numpy(),
                               rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(F.rms_norm(x, shape).data, tF.rms_norm(tx, shape).numpy(),
                               rtol=1e-10, atol=1e-12)
    xg = rng.standard_normal((2, 2 * groups) + tuple(tail))
    np.testing.assert_allclose(F.group_norm(xg, groups).data,
                               tF.group_norm(torch.tensor(xg), groups).numpy(),
                               rtol=1e-9, atol=1e-10)


# ====================================================================== activations vs torch

# (ours, theirs): the same constructor arguments in both libraries
ACTIVATIONS = [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 3.0}), ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}), ("Softmin", (0,), {}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Softsign", (), {}), ("ELU", (), {"alpha": 0.7}), ("SELU", (), {}), ("CELU", (1.3,), {}),
    ("Hardtanh", (-0.5, 1.5), {}), ("ReLU6", (), {}), ("Hardswish", (), {}),
    ("Hardsigmoid", (), {}), ("LogSigmoid", (), {}), ("Tanhshrink", (), {}),
    ("Softshrink", (0.3,), {}), ("Hardshrink", (), {"lambd": 0.4}), ("Threshold", (0.1, -2.0), {}),
    ("GLU", (), {"dim": 1}), ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}),
    ("Identity", (3,), {"unused": 1}), ("Softmax2d", (), {}),
]


def away_from_kinks(x):
    """Inputs at least 0.05 away from every kink of the activations above."""
    kinks = np.array([0.0, -0.5, 1.5, 6.0, 3.0, -3.0, 0.3, -0.3, 0.4, -0.4, 0.1, 1.0, -1.0,
                      1.5])
    near = np.abs(x[..., None] - kinks).min(-1) < 0.05
    return np.where(near, x + 0.1, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS,
                         ids=[f"{n}{a}{k}" for n, a, k in ACTIVATIONS])
def test_activations_match_torch(torch, name, args, kwargs, dtype):
    rng = rng_for("act", name, args, tuple(kwargs), dtype)
    extra = {"dtype": dtype} if name == "PReLU" else {}
    ours = getattr(nn, name)(*args, **kwargs, **extra)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = away_from_kinks(randn(rng, 3, 4, 2, 3, dtype=dtype) * 3).astype(dtype)
    if name == "PReLU":
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(-0.5, 0.5, theirs.weight.numel()))
    # torch's CELU and Hardsigmoid backward kernels round 1/alpha and 1/6 to float32
    # (errors ~1e-7): compare loosely in float64, and below against the exact derivatives
    loose = name in ("CELU", "Hardsigmoid") and dtype == np.float64
    run_both(torch, ours, theirs, [x], dtype=dtype,
             grad_tol=dict(rtol=1e-6, atol=1e-9) if loose else None)


def test_celu_and_hardsigmoid_gradients_are_exact():
    x = Tensor(np.array([-3.5, -2.3, -0.7, -0.1, 0.4, 2.0, 3.5]), requires_grad=True)
    nn.CELU(1.3)(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.where(x.data > 0, 1.0, np.exp(x.data / 1.3)),
                               rtol=1e-15)
    x.grad = None
    nn.Hardsigmoid()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.where(np.abs(x.data) < 3, 1 / 6, 0.0))


def test_activation_modules_and_functions_agree():
    x = away_from_kinks(np.random.default_rng(3).standard_normal((2, 6)) * 3)
    for module, fn in [(nn.GELU("tanh"), lambda t: F.gelu(t, approximate="tanh")),
                       (nn.Softshrink(0.3), lambda t: F.softshrink(t, 0.3)),
                       (nn.Hardshrink(), F.hardshrink), (nn.Tanhshrink(), F.tanhshrink),
                       (nn.GLU(), F.glu), (nn.Softmin(1), lambda t: F.softmin(t, 1)),
                       (nn.Threshold(0.1, 5.0), lambda t: F.threshold(t, 0.1, 5.0)),
                       (nn.ELU(0.5), lambda t: F.elu(t, 0.5)), (nn.Mish(), F.mish)]:
        np.testing.assert_array_equal(module(x).data, fn(x).data)


def test_new_functions_take_axis_as_well_as_dim():
    x = np.random.default_rng(6).standard_normal((2, 4))
    for fn in (F.normalize, F.glu, F.softmin):
        np.testing.assert_array_equal(fn(x, axis=0).data, fn(x, dim=0).data)
    with pytest.raises(TypeError, match="glu: got both dim= and axis="):
        F.glu(x, dim=0, axis=1)


def test_softmax_dim_none_is_torchs_implicit_dimension(torch):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns about the implicit choice
        for cls in ("Softmax", "LogSoftmax", "Softmin"):
            for shape in ((4,), (3, 4), (2, 3, 4)):
                xs = x.reshape(-1)[:math.prod(shape)].reshape(shape)
                np.testing.assert_allclose(getattr(nn, cls)()(xs).data,
                                           getattr(torch.nn, cls)()(torch.tensor(xs)).numpy(),
                                           rtol=1e-12)
    assert repr(nn.Softmax()) == "Softmax(dim=None)"


def test_prelu_has_torchs_parameter_and_refuses_mismatched_channels(torch):
    act = nn.PReLU(3)
    assert list(act.state_dict()) == ["weight"] and act.weight.shape == (3,)
    np.testing.assert_array_equal(act.weight.data, np.float32(0.25))
    assert act.weight.dtype == np.float32
    with pytest.raises(ValueError, match=r"prelu.*3 slopes.*\(2, 4\).*4 channels"):
        act(np.ones((2, 4)))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)


def test_unflatten_and_identity():
    x = np.arange(24.0).reshape(2, 12)
    out = nn.Unflatten(1, (3, -1))(x)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, x.reshape(2, 3, 4))
    assert repr(nn.Unflatten(-1, [2, 6])) == "Unflatten(dim=-1, unflattened_size=(2, 6))"
    t = Tensor(x, requires_grad=True)
    assert nn.Identity(5, bias=False)(t) is t
    assert check_grads(lambda t: nn.Unflatten(1, (2, 2, 3))(t) * 2.0, np.ones((2, 12)))
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 4)
    with pytest.raises(ValueError):
        nn.Unflatten(1, (5, 5))(x)


def test_activation_constructor_errors():
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(-2\) must be greater"):
        nn.Hardtanh(1, -2)
    with pytest.warns(FutureWarning, match="min_value is deprecated"):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0
    with pytest.raises(ValueError, match=r"glu: halving dimension -1 must be even.*\(2, 3\)"):
        nn.GLU()(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Softmax2d: expected a 3-D"):
        nn.Softmax2d()(np.ones((2, 3)))
    with pytest.raises(ValueError, match="softshrink: lambd"):
        F.softshrink(np.ones(2), -1.0)


# ====================================================================== attention vs torch

class SDPA:
    """scaled_dot_product_attention as a callable with no parameters, for run_both."""

    def __init__(self, lib, **kwargs):
        self.fn, self.kwargs = lib.scaled_dot_product_attention, kwargs

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs, **self.kwargs)


class _NoParams:
    """The parts of the Module protocol run_both uses, for a function."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *a, **k):
        return self.fn(*a, **k)

    def to(self, dtype):
        return self

    def state_dict(self):
        return {}

    def load_state_dict(self, d):
        pass

    def named_parameters(self):
        return iter(())


def sdpa_masks(rng, kind, length, source):
    if kind == "none":
        return {}
    if kind == "causal":
        return {"is_causal": True}
    if kind == "bool":
        m = rng.random((length, source)) > 0.4
        m[:, 0] = True
        return {"attn_mask": m}
    if kind == "bool-dead-row":          # a query that may attend to nothing: zeros, as torch
        m = rng.random((length, source)) > 0.4
        m[1] = False
        return {"attn_mask": m}
    if kind == "float":
        return {"attn_mask": rng.standard_normal((1, length, source))}
    if kind == "float-inf":
        m = np.where(rng.random((length, source)) > 0.5, 0.0, -np.inf)
        m[:, -1] = 0.0
        return {"attn_mask": m}
    raise AssertionError(kind)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask", ["none", "causal", "bool", "bool-dead-row", "float", "float-inf"])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(torch, dtype, mask, scale):
    rng = rng_for("sdpa", dtype, mask, scale)
    q, k, v = (randn(rng, 2, 3, n, e, dtype=dtype) for n, e in ((4, 5), (6, 5), (6, 7)))
    kwargs = sdpa_masks(rng, mask, 4, 6)
    kwargs = {key: val.astype(dtype) if isinstance(val, np.ndarray) and val.dtype.kind == "f"
              else val for key, val in kwargs.items()}
    ours = _NoParams(lambda *a, **kw: F.scaled_dot_product_attention(*a, **kw, scale=scale))
    theirs = _NoParams(lambda *a, **kw: torch.nn.functional.scaled_dot_product_attention(
        *a, **kw, scale=scale))
    (out,), _ = run_both(torch, ours, theirs, [q, k, v], kwargs, dtype=dtype)
    if mask == "bool-dead-row":
        np.testing.assert_array_equal(out.data[:, :, 1], 0.0)


def test_sdpa_broadcasts_masks_and_batch_dimensions_and_grouped_query_attention(torch):
    rng = rng_for("sdpa-broadcast")
    tF = torch.nn.functional
    q, k, v = randn(rng, 2, 4, 3, 5), randn(rng, 2, 2, 6, 5), randn(rng, 2, 2, 6, 3)
    t = [torch.tensor(a) for a in (q, k, v)]
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, enable_gqa=True).data,
                               tF.scaled_dot_product_attention(*t, enable_gqa=True).numpy(),
                               rtol=1e-12)
    m = rng.random((2, 1, 3, 6)) > 0.3   # per batch, shared by heads
    np.testing.assert_allclose(
        F.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True).data,
        tF.scaled_dot_product_attention(*t, attn_mask=torch.tensor(m), enable_gqa=True).numpy(),
        rtol=1e-12)
    q3 = randn(rng, 3, 5)                # 2-D query against batched keys
    np.testing.assert_allclose(F.scaled_dot_product_attention(q3, k[0], v[0]).data,
                               tF.scaled_dot_product_attention(torch.tensor(q3), t[1][0],
                                                               t[2][0]).numpy(), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), length=st.integers(1, 5),
       source=st.integers(1, 5), e=st.integers(1, 4), ev=st.integers(1, 4),
       causal=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_sdpa_matches_torch_on_random_shapes(batch, length, source, e, ev, causal, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(tuple(batch) + s) for s in ((length, e), (source, e),
                                                                 (source, ev)))
    mask = None if causal else rng.random((length, source)) > 0.5
    ours = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), is_causal=causal,
        attn_mask=None if mask is None else torch.tensor(mask))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_sdpa_dropout_drops_whole_weights_and_is_unbiased():
    rng = rng_for("sdpa-dropout")
    q, k = randn(rng, 1, 8, 4), randn(rng, 1, 8, 4)
    v = np.eye(8)[None]                  # output = the (dropped, rescaled) weights themselves
    ag.manual_seed(0)
    plain = F.scaled_dot_product_attention(q, k, v).data
    outs = np.stack([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
                     for _ in range(400)])
    zero = outs == 0
    assert 0.45 < zero.mean() < 0.55
    np.testing.assert_allclose(outs[~zero], np.broadcast_to(plain * 2, outs.shape)[~zero],
                               rtol=1e-12)
    np.testing.assert_allclose(outs.mean(0), plain, atol=0.08)


MHA_CASES = [
    # batch_first, need_weights, average, masks, kdim, extra constructor arguments, inputs
    (False, True, True, "none", None, {}, "self"),
    (True, True, True, "none", None, {}, "self"),
    (False, True, False, "bool-attn", None, {}, "self"),
    (True, True, False, "float-attn", None, {}, "self"),
    (False, False, True, "causal", None, {}, "self"),
    (True, False, True, "causal", None, {}, "self"),
    (True, True, True, "causal", None, {}, "self"),
    (False, False, True, "kpm", None, {}, "self"),
    (True, True, True, "kpm", None, {}, "self"),
    (True, False, True, "kpm+causal", None, {}, "self"),
    (False, True, False, "kpm-float+3d", None, {}, "self"),
    (True, False, True, "kpm-float+3d", None, {}, "cross"),
    (False, True, True, "bool-attn", 5, {}, "cross"),
    (True, False, True, "kpm", 5, {}, "cross"),
    (True, True, True, "kpm", None, {}, "kv"),
    (False, False, True, "none", None, {"bias": False}, "self"),
    (True, True, False, "kpm", None, {"add_bias_kv": True}, "self"),
    (False, True, True, "bool-attn", None, {"add_zero_attn": True}, "kv"),
    (True, False, True, "kpm+causal", 3, {"add_bias_kv": True, "add_zero_attn": True}, "cross"),
    (False, True, True, "none", None, {}, "unbatched"),
    (True, False, True, "kpm", None, {}, "unbatched"),   # batch_first is moot here, as torch
]


def mha_inputs(rng, case, batch_first, kdim, dtype, heads=2, length=4, source=5, batch=3, e=6):
    if case == "unbatched":
        q = randn(rng, length, e, dtype=dtype)
        return [q, q, q], length, length, None
    if case == "self":
        source = length
    shape = (lambda n, d: (batch, n, d)) if batch_first else (lambda n, d: (n, batch, d))
    q = randn(rng, *shape(length, e), dtype=dtype)
    if case == "self":
        return [q, q, q], length, source, batch
    k = randn(rng, *shape(source, kdim or e), dtype=dtype)
    v = k if case == "kv" else randn(rng, *shape(source, kdim or e), dtype=dtype)
    return [q, k, v], length, source, batch


def mha_masks(rng, kind, length, source, batch, heads, dtype):
    kwargs = {}
    if "causal" in kind:
        kwargs["attn_mask"] = np.triu(np.full((length, source), -np.inf, dtype), 1)
        kwargs["is_causal"] = True
    if kind == "bool-attn":
        m = rng.random((length, source)) > 0.6        # True: not allowed
        m[:, 0] = False
        kwargs["attn_mask"] = m
    if kind == "float-attn":
        kwargs["attn_mask"] = randn(rng, length, source, dtype=dtype)
    if kind.startswith("kpm"):
        shape = (source,) if batch is None else (batch, source)
        pad = np.zeros(shape, bool)
        pad[..., -2:] = True
        if batch is not None:
            pad[0] = False
        kwargs["key_padding_mask"] = pad if "float" not in kind else np.where(
            pad, -1e4, 0.0).astype(dtype)
    if kind == "kpm-float+3d":
        kwargs["attn_mask"] = randn(rng, batch * heads, length, source, dtype=dtype)
    return kwargs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first,need_weights,average,masks,kdim,extra,inputs", MHA_CASES)
def test_multihead_attention_matches_torch(torch, dtype, batch_first, need_weights, average,
                                           masks, kdim, extra, inputs):
    rng = rng_for("mha", dtype, batch_first, need_weights, average, masks, kdim,
                  tuple(extra), inputs)
    heads, e = 2, 6
    ours = nn.MultiheadAttention(e, heads, kdim=kdim, vdim=kdim, batch_first=batch_first,
                                 dtype=dtype, **extra)
    theirs = torch.nn.MultiheadAttention(e, heads, kdim=kdim, vdim=kdim,
                                         batch_first=batch_first, **extra)
    with torch.no_grad():  # non-zero biases, so that their gradients are compared too
        for name, p in theirs.named_parameters():
            if "bias" in name:
                p.copy_(torch.randn(p.shape) * 0.3)
    args, length, source, batch = mha_inputs(rng, inputs, batch_first, kdim, dtype, heads)
    kwargs = mha_masks(rng, masks, length, source, batch, heads, dtype)
    kwargs.update(need_weights=need_weights, average_attn_weights=average)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: mixing bool and float masks is deprecated
        (out, weights), _ = run_both(torch, ours, theirs, args, kwargs, dtype=dtype)
    assert out.shape == args[0].shape
    if need_weights:
        expected = (heads,) * (not average) + (length, weights.shape[-1])
        assert weights.shape == ((batch,) if batch else ()) + expected
    else:
        assert weights is None


@pytest.mark.parametrize("separate", [False, True])
def test_multi_head_attention_forward_matches_torch_with_static_keys(torch, separate):
    rng = rng_for("mha functional", separate)
    e, h, length, source, batch = 6, 3, 4, 5, 2
    arrays = dict(w_in=randn(rng, 3 * e, e), b_in=randn(rng, 3 * e), w_out=randn(rng, e, e),
                  b_out=randn(rng, e), wq=randn(rng, e, e), wk=randn(rng, e, 4),
                  wv=randn(rng, e, 3), static_k=randn(rng, batch * h, source, e // h),
                  static_v=randn(rng, batch * h, source, e // h))
    q, k, v = randn(rng, length, batch, e), randn(rng, source, batch, 4), randn(rng, source,
                                                                               batch, 3)
    pad = np.zeros((batch, source), bool)
    pad[1, -1] = True

    def call(lib, to):
        a = {n: to(x) for n, x in arrays.items()}
        weights = dict(use_separate_proj_weight=True, q_proj_weight=a["wq"],
                       k_proj_weight=a["wk"], v_proj_weight=a["wv"]) if separate else {}
        statics = {} if separate else dict(static_k=a["static_k"], static_v=a["static_v"])
        return lib.multi_head_attention_forward(
            to(q), to(k if separate else q), to(v if separate else q), e, h,
            None if separate else a["w_in"], a["b_in"], None, None, False, 0.0, a["w_out"],
            a["b_out"], key_padding_mask=to(pad), average_attn_weights=False,
            **weights, **statics)
    ours, theirs = call(F, lambda x: x), call(torch.nn.functional, torch.tensor)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-11, atol=1e-12)


def test_multihead_attention_dropout_in_training_only():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((6, 2, 4))
    _, w1 = mha(x, x, x, average_attn_weights=False)
    assert np.mean(w1.data == 0) > 0.3                   # dropped weights are returned, as torch
    mha.eval()
    out, w = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(w.data.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(mha(x, x, x)[0].data, out.data)


TEL_CASES = [(nf, act, bf) for nf in (False, True) for act in ("relu", "gelu") for bf in
             (False, True)] + [(False, "module", True), (True, "callable", False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first,activation,batch_first", TEL_CASES)
def test_transformer_encoder_layer_matches_torch(torch, dtype, norm_first, activation,
                                                 batch_first):
    rng = rng_for("tel", dtype, norm_first, activation, batch_first)
    ours_act, their_act = {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"),
                           "module": (nn.GELU("tanh"), torch.nn.GELU("tanh")),
                           "callable": (F.silu, torch.nn.functional.silu)}[activation]
    kw = dict(dim_feedforward=12, dropout=0.0, norm_first=norm_first, batch_first=batch_first,
              layer_norm_eps=1e-4)
    ours = nn.TransformerEncoderLayer(8, 2, activation=ours_act, dtype=dtype, **kw)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, activation=their_act, **kw)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "bias" in name or "norm" in name:
                p.add_(torch.randn(p.shape) * 0.2)
    length, batch = 5, 3
    x = randn(rng, *((batch, length, 8) if batch_first else (length, batch, 8)), dtype=dtype)
    causal = np.triu(np.full((length, length), -np.inf, dtype), 1)
    pad = np.zeros((batch, length), bool)
    pad[1, -2:] = True
    for kwargs in ({}, {"src_mask": causal, "is_causal": True}, {"src_key_padding_mask": pad},
                   {"src_mask": causal, "src_key_padding_mask": pad}):
        ours.zero_grad(), theirs.zero_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: mixing bool and float masks is deprecated
            run_both(torch, ours, theirs, [x], kwargs, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_encoder_matches_torch_and_copies_the_layer(torch, dtype):
    rng = rng_for("encoder", dtype)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=dtype)
    ours = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8, dtype=dtype))
    tlayer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch: about its nested-tensor fast path
        theirs = torch.nn.TransformerEncoder(tlayer, 3, norm=torch.nn.LayerNorm(8))
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape) * 0.1)   # the layers differ from here on
    ps = [dict(layer.named_parameters()) for layer in ours.layers]
    assert ps[0]["linear1.weight"] is not ps[1]["linear1.weight"]
    np.testing.assert_array_equal(ps[0]["linear1.weight"].data, layer.linear1.weight.data)
    x = randn(rng, 2, 5, 8, dtype=dtype)
    pad = np.zeros((2, 5), bool)
    pad[0, -1] = True
    run_both(torch, ours, theirs, [x], {"src_key_padding_mask": pad}, dtype=dtype)
    ours.zero_grad(), theirs.zero_grad()
    run_both(torch, ours, theirs, [x], {"mask": np.triu(np.ones((5, 5), bool), 1)},
             dtype=dtype)


# ====================================================================== check_grads (float64)

def test_check_grads_layer_group_and_rms_norm_in_inputs_and_weights():
    rng = rng_for("check norms")
    x = randn(rng, 2, 3, 4)
    w, b = randn(rng, 4) + 1, randn(rng, 4)
    assert check_grads(lambda x, w, b: F.layer_norm(x, (4,), w, b, 1e-3), x, w, b)
    w2, b2 = randn(rng, 3, 4), randn(rng, 3, 4)
    assert check_grads(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), x, w2, b2)
    xg = randn(rng, 2, 4, 3)
    assert check_grads(lambda x, w, b: F.group_norm(x, 2, w, b, 1e-3), xg, w, b)
    assert check_grads(lambda x, w: F.rms_norm(x, (4,), w, 1e-3), x, w)
    assert check_grads(lambda x: F.normalize(x, dim=-1), x)
    assert check_grads(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       randn(rng, 3, 4, 2, 2), w, b)


def _mask_cases(rng):
    bool_mask = rng.random((3, 4)) > 0.4
    bool_mask[:, 0] = True
    return [{}, {"is_causal": True}, {"attn_mask": bool_mask},
            {"attn_mask": randn(rng, 3, 4)}]


def test_check_grads_scaled_dot_product_attention():
    rng = rng_for("check sdpa")
    q, k, v = randn(rng, 2, 3, 2), randn(rng, 2, 4, 2), randn(rng, 2, 4, 3)
    for kwargs in _mask_cases(rng):
        assert check_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
                           q, k, v)
    dead = np.ones((3, 4), bool)
    dead[1] = False      # a query that attends to nothing: zeros, and zero gradients
    assert check_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=dead),
                       q, k, v)


def test_check_grads_multi_head_attention_in_inputs_and_weights():
    rng = rng_for("check mha")
    e, h = 4, 2
    w_in, b_in = randn(rng, 3 * e, e) * 0.5, randn(rng, 3 * e) * 0.1
    w_out, b_out = randn(rng, e, e) * 0.5, randn(rng, e) * 0.1
    x = randn(rng, 3, 2, e)                                     # (L, N, E)
    pad = np.array([[False, False, True], [False, False, False]])
    causal = np.triu(np.ones((3, 3), bool), 1)

    def self_attention(x, w_in, b_in, w_out, b_out):
        return F.multi_head_attention_forward(x, x, x, e, h, w_in, b_in, None, None, False, 0.0,
                                              w_out, b_out, key_padding_mask=pad,
                                              attn_mask=causal, need_weights=False)[0]
    assert check_grads(self_attention, x, w_in, b_in, w_out, b_out)

    mha = nn.MultiheadAttention(e, h, kdim=3, vdim=5, dtype=np.float64)
    key, value = randn(rng, 4, 2, 3), randn(rng, 4, 2, 5)

    def cross_weights(query, key, value):   # the returned (per-head) weights, too
        out, weights = mha(query, key, value, average_attn_weights=False)
        return out.sum(-1, keepdim=True) * weights.sum(1).permute(1, 0, 2)
    assert check_grads(cross_weights, randn(rng, 3, 2, e), key, value)


# ====================================================================== forward mode and HVP

def _attention_block(e=4, heads=2, hidden=6):
    """MHA + LayerNorm + MLP with residuals: a pre-norm transformer block by hand."""
    ag.manual_seed(11)
    mha = nn.MultiheadAttention(e, heads, batch_first=True, dtype=np.float64)
    ln1, ln2 = nn.LayerNorm(e, dtype=np.float64), nn.LayerNorm(e, dtype=np.float64)
    mlp = nn.Sequential(nn.Linear(e, hidden, dtype=np.float64), nn.GELU(),
                        nn.Linear(hidden, e, dtype=np.float64))
    with ag.no_grad():
        for p in list(ln1.parameters()) + list(ln2.parameters()) + [mha.in_proj_bias]:
            p.add_(ag.randn(*p.shape, dtype=ag.float64) * 0.3)

    def block(x, w_in):
        y = ln1(x)
        attn = F.multi_head_attention_forward(
            y.transpose(0, 1), y.transpose(0, 1), y.transpose(0, 1), e, heads, w_in,
            mha.in_proj_bias, None, None, False, 0.0, mha.out_proj.weight, mha.out_proj.bias,
            need_weights=False)[0].transpose(0, 1)
        x = x + attn
        return x + mlp(ln2(x))
    return block, mha.in_proj_weight.data.copy()


def test_forward_mode_jvp_through_an_attention_block_matches_finite_differences():
    block, w_in = _attention_block()
    rng = rng_for("jvp block")
    x, dx, dw = randn(rng, 2, 3, 4), randn(rng, 2, 3, 4), randn(rng, *w_in.shape)
    out, tangent = AF.jvp(block, (Tensor(x), Tensor(w_in)), (Tensor(dx), Tensor(dw)))
    eps = 1e-6
    fd = (block(Tensor(x + eps * dx), Tensor(w_in + eps * dw)).data
          - block(Tensor(x - eps * dx), Tensor(w_in - eps * dw)).data) / (2 * eps)
    np.testing.assert_allclose(out.data, block(Tensor(x), Tensor(w_in)).data, rtol=1e-12)
    np.testing.assert_allclose(tangent.data, fd, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_through_an_attention_block_matches_finite_differences():
    block, w_in = _attention_block()
    rng = rng_for("hvp block")
    target = randn(rng, 2, 3, 4)
    x, v = randn(rng, 2, 3, 4), randn(rng, *w_in.shape)

    def loss(w):
        return ((block(Tensor(x), w) - target) ** 2).sum()
    _, hv = AF.hvp(loss, Tensor(w_in), Tensor(v))
    eps = 1e-5
    fd = (AF.grad(loss, Tensor(w_in + eps * v)).data
          - AF.grad(loss, Tensor(w_in - eps * v)).data) / (2 * eps)
    np.testing.assert_allclose(hv.data, fd, rtol=1e-5, atol=1e-7)
    # and in the input, through the same block
    _, hx = AF.hvp(lambda t: ((block(t, Tensor(w_in)) - target) ** 2).sum(), Tensor(x),
                   Tensor(target))
    gx = lambda t: AF.grad(lambda s: ((block(s, Tensor(w_in)) - target) ** 2).sum(), Tensor(t))
    fdx = (gx(x + eps * target).data - gx(x - eps * target).data) / (2 * eps)
    np.testing.assert_allclose(hx.data, fdx, rtol=1e-5, atol=1e-7)


# ====================================================================== state dicts, initialisation

def layer_pairs(torch):
    """(ours, theirs, input) for every layer with parameters or buffers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, torch.nn.LayerNorm(8))
    x3 = np.random.default_rng(0).standard_normal((5, 2, 8)).astype(np.float32)
    x4 = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    return [
        (nn.MultiheadAttention(8, 2), torch.nn.MultiheadAttention(8, 2), x3),
        (nn.MultiheadAttention(8, 4, bias=False, batch_first=True),
         torch.nn.MultiheadAttention(8, 4, bias=False, batch_first=True), x3),
        (nn.MultiheadAttention(8, 2, kdim=8, vdim=8, add_bias_kv=True),
         torch.nn.MultiheadAttention(8, 2, kdim=8, vdim=8, add_bias_kv=True), x3),
        (nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
         torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True), x3),
        (nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, bias=False),
         torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, bias=False), x3),
        (nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2,
                               nn.LayerNorm(8)), encoder, x3),
        (nn.LayerNorm(8), torch.nn.LayerNorm(8), x3),
        (nn.LayerNorm((2, 8), bias=False), torch.nn.LayerNorm((2, 8), bias=False), x3),
        (nn.RMSNorm(8), torch.nn.RMSNorm(8), x3),
        (nn.GroupNorm(1, 3), torch.nn.GroupNorm(1, 3), x4),
        (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), x4),
        (nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2), x3[:, :, 0].T[:, :2].copy()),
        (nn.PReLU(3), torch.nn.PReLU(3), x4),
    ]


def _call(m, x):
    out = m(x, x, x) if "MultiheadAttention" in type(m).__name__ else m(x)
    return out[0] if isinstance(out, tuple) else out


def test_state_dicts_move_between_the_libraries_unchanged(torch):
    for ours, theirs, x in layer_pairs(torch):
        name = type(ours).__name__
        ours_sd, their_sd = ours.state_dict(), theirs.state_dict()
        assert list(ours_sd) == list(their_sd), name
        for key in ours_sd:
            assert ours_sd[key].shape == tuple(their_sd[key].shape), (name, key)
            assert ours_sd[key].dtype == their_sd[key].numpy().dtype, (name, key)
        # ours -> torch: train ours a little first so that the values are not the defaults
        ours.train()
        _call(ours, x)
        with ag.no_grad():
            for p in ours.parameters():
                p.add_(0.01)
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
        ours.eval(), theirs.eval()
        with torch.no_grad():
            expected = _call(theirs, torch.tensor(x)).numpy()
        np.testing.assert_allclose(_call(ours, x).data, expected, rtol=2e-5, atol=2e-6,
                                   err_msg=name)
        # torch -> ours, into a fresh layer
        fresh = copy.deepcopy(ours)
        with ag.no_grad():
            for p in fresh.parameters():
                p.zero_()
        fresh.load_state_dict(torch_state(theirs))
        for key, value in fresh.state_dict().items():
            np.testing.assert_array_equal(value, ours.state_dict()[key])


def test_state_dict_through_a_safetensors_checkpoint(torch, tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    ours = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    ag.save(ours.state_dict(), tmp_path / "layer.safetensors")
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    theirs.load_state_dict(safetensors.load_file(str(tmp_path / "layer.safetensors")))
    back = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    back.load_state_dict(ag.load(tmp_path / "layer.safetensors"))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)
        np.testing.assert_array_equal(theirs.state_dict()[key].numpy(), value)


def test_initialisation_follows_torch():
    ag.manual_seed(0)
    e = 256
    mha = nn.MultiheadAttention(e, 8, add_bias_kv=True)
    bound = math.sqrt(6 / (e + 3 * e))                         # Xavier on (3E, E)
    w = mha.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert not np.any(mha.in_proj_bias.data) and not np.any(mha.out_proj.bias.data)
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / math.sqrt(e)   # Linear's default
    assert abs(mha.bias_k.data.std() - math.sqrt(2 / (2 * e))) < 0.15 * math.sqrt(1 / e)
    separate = nn.MultiheadAttention(e, 8, kdim=64, vdim=32)
    assert separate.in_proj_weight is None
    assert (separate.q_proj_weight.shape, separate.k_proj_weight.shape,
            separate.v_proj_weight.shape) == ((e, e), (e, 64), (e, 32))
    assert np.abs(separate.k_proj_weight.data).max() <= math.sqrt(6 / (e + 64))
    layer = nn.TransformerEncoderLayer(64, 4)
    assert layer.linear1.weight.shape == (2048, 64) and layer.self_attn.dropout == 0.1
    assert np.abs(layer.linear1.weight.data).max() <= 1 / 8
    for norm in (layer.norm1, nn.GroupNorm(2, 4), nn.BatchNorm3d(4)):
        np.testing.assert_array_equal(norm.weight.data, 1.0)
        np.testing.assert_array_equal(norm.bias.data, 0.0)
    assert nn.RMSNorm(4).weight.dtype == np.float32 and "bias" not in dict(
        nn.RMSNorm(4).named_parameters())
    ag.manual_seed(0)
    np.testing.assert_array_equal(nn.MultiheadAttention(e, 8, add_bias_kv=True).in_proj_weight.data,
                                  w)


def test_reprs_match_torch(torch):
    pairs = [(nn.LayerNorm(4), torch.nn.LayerNorm(4)),
             (nn.LayerNorm([2, 3], eps=1e-3, bias=False),
              torch.nn.LayerNorm([2, 3], eps=1e-3, bias=False)),
             (nn.GroupNorm(2, 4, affine=False), torch.nn.GroupNorm(2, 4, affine=False)),
             (nn.RMSNorm(3, eps=1e-6), torch.nn.RMSNorm(3, eps=1e-6)),
             (nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)),
             (nn.BatchNorm3d(3, bias=False), torch.nn.BatchNorm3d(3, bias=False)),
             (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
             (nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
             (nn.Hardtanh(inplace=True), torch.nn.Hardtanh(inplace=True))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_modules_convert_with_to_and_keep_counters_integral():
    bn = nn.BatchNorm2d(3).double()
    assert bn.weight.dtype == bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    bn(np.ones((2, 3, 2, 2)) + np.arange(3.0)[:, None, None])
    assert int(bn.num_batches_tracked.data) == 1
    bn.reset_parameters()
    assert int(bn.num_batches_tracked.data) == 0 and not np.any(bn.running_mean.data)
    mha = nn.MultiheadAttention(4, 2).to(np.float64)
    out, w = mha(np.ones((3, 2, 4)), np.ones((3, 2, 4)), np.ones((3, 2, 4)))
    assert out.dtype == w.dtype == np.float64


# ====================================================================== errors

ERRORS = [
    (lambda: nn.MultiheadAttention(5, 2), ValueError,
     r"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim=5 and "
     r"num_heads=2"),
    (lambda: nn.MultiheadAttention(4, 0), ValueError, r"MultiheadAttention: num_heads must be"),
    (lambda: nn.MultiheadAttention(4, 2, dropout=1.5), ValueError,
     r"MultiheadAttention: dropout must be a probability"),
    (lambda: MHA(np.ones((3, 2, 5))), ValueError,
     r"MultiheadAttention: expected query with embedding dimension 4, got shape \(3, 2, 5\)"),
    (lambda: MHA(np.ones((1, 3, 2, 4))), ValueError,
     r"MultiheadAttention: query should be unbatched 2-D \(L, E\) or batched 3-D, got shape "
     r"\(1, 3, 2, 4\)"),
    (lambda: MHA(np.ones((3, 2, 4)), attn_mask=np.zeros((3, 2), bool)), ValueError,
     r"MultiheadAttention: the shape of the 2-D attn_mask is \(3, 2\), but should be \(3, 3\)"),
    (lambda: MHA(np.ones((3, 2, 4)), attn_mask=np.zeros((2, 3, 3))), ValueError,
     r"MultiheadAttention: the shape of the 3-D attn_mask is \(2, 3, 3\), but should be "
     r"\(4, 3, 3\)"),
    (lambda: MHA(np.ones((3, 2, 4)), key_padding_mask=np.zeros((3, 2), bool)), ValueError,
     r"MultiheadAttention: key_padding_mask must have shape \(2, 3\) \(N, S\), got \(3, 2\)"),
    (lambda: MHA(np.ones((3, 2, 4)), attn_mask=np.zeros((3, 3), np.int64)), TypeError,
     r"MultiheadAttention: attn_mask must be a bool or floating-point tensor, got dtype int64"),
    (lambda: MHA(np.ones((3, 2, 4)), is_causal=True), ValueError,
     r"MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask"),
    (lambda: nn.MultiheadAttention(4, 2, kdim=5)(np.ones((3, 2, 4)), np.ones((3, 2, 3)),
                                                 np.ones((3, 2, 4))), ValueError,
     r"MultiheadAttention: key of shape \(3, 2, 3\) has 3 features, but its projection weight "
     r"of shape \(4, 5\) expects 5"),
    (lambda: nn.MultiheadAttention(4, 2)(np.ones((3, 2, 4)), np.ones((5, 3, 4)),
                                         np.ones((5, 3, 4))), ValueError,
     r"MultiheadAttention: query \(3, 2, 4\), key \(5, 3, 4\) and value \(5, 3, 4\) must share "
     r"the batch size"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3, 4)), np.ones((2, 5, 3)),
                                            np.ones((2, 5, 4))), ValueError,
     r"scaled_dot_product_attention: query of shape \(2, 3, 4\) and key of shape \(2, 5, 3\) "
     r"must have the same last"),
    (lambda: F.scaled_dot_product_attention(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                            np.ones((2, 6, 4))), ValueError,
     r"scaled_dot_product_attention: key of shape \(2, 5, 4\) and value of shape \(2, 6, 4\) "
     r"must have the same sequence length"),
    (lambda: F.scaled_dot_product_attention(np.ones((3, 4)), np.ones((3, 4)), np.ones((3, 4)),
                                            attn_mask=np.ones((3, 3), bool), is_causal=True),
     ValueError, r"scaled_dot_product_attention: an explicit attn_mask should not be given"),
    (lambda: F.scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 4)),
                                            attn_mask=np.ones((3, 4), bool)), ValueError,
     r"scaled_dot_product_attention: attn_mask of shape \(3, 4\) does not broadcast to the "
     r"attention weights' shape \(3, 5\)"),
    (lambda: F.scaled_dot_product_attention(np.ones((1, 4, 3, 2)), np.ones((1, 3, 3, 2)),
                                            np.ones((1, 3, 3, 2)), enable_gqa=True), ValueError,
     r"scaled_dot_product_attention: with enable_gqa the number of query heads"),
    (lambda: F.scaled_dot_product_attention(np.ones((1, 4, 3, 2)), np.ones((1, 2, 3, 2)),
                                            np.ones((1, 2, 3, 2))), ValueError,
     r"do not broadcast \(for fewer key/value heads pass enable_gqa=True\)"),
    (lambda: F.scaled_dot_product_attention(np.ones((3, 4)), np.ones((3, 4)), np.ones((3, 4)),
                                            dropout_p=-0.1), ValueError,
     r"scaled_dot_product_attention: dropout_p must be a probability"),
    (lambda: nn.LayerNorm(4)(np.ones((2, 3))), ValueError,
     r"LayerNorm\(\(4,\)\): expected an input of shape \(\*, 4\), got \(2, 3\)"),
    (lambda: F.layer_norm(np.ones((2, 3)), (4,)), ValueError,
     r"layer_norm: given normalized_shape=\[4\], expected an input with shape \[\*, 4\], but "
     r"got an input of shape \(2, 3\)"),
    (lambda: F.layer_norm(np.ones((2, 3)), 3, weight=np.ones(4)), ValueError,
     r"layer_norm: weight must have shape \(3,\) for an input of shape \(2, 3\), got shape "
     r"\(4,\)"),
    (lambda: nn.LayerNorm([]), ValueError, r"LayerNorm: expected normalized_shape to have at "
                                           r"least one dimension"),
    (lambda: nn.LayerNorm("4"), TypeError, r"LayerNorm: normalized_shape must be an int or a "
                                           r"sequence of ints"),
    (lambda: nn.GroupNorm(3, 4), ValueError,
     r"GroupNorm: num_channels \(4\) must be divisible by num_groups \(3\)"),
    (lambda: nn.GroupNorm(2, 4)(np.ones((2, 6, 3))), ValueError,
     r"GroupNorm\(2, 4\): expected an input \(N, 4, \*\), got shape \(2, 6, 3\)"),
    (lambda: F.group_norm(np.ones((2, 6, 3)), 4), ValueError,
     r"group_norm: expected the number of channels of the input to be divisible by num_groups, "
     r"but got an input of shape \(2, 6, 3\) and num_groups=4"),
    (lambda: nn.RMSNorm((2, 3))(np.ones((3, 2))), ValueError,
     r"RMSNorm\(\(2, 3\)\): expected an input of shape \(\*, 2, 3\), got \(3, 2\)"),
    (lambda: nn.BatchNorm2d(3)(np.ones((2, 3, 4))), ValueError,
     r"BatchNorm2d: expected 4D \(N, C, H, W\) input, got a 3D input of shape \(2, 3, 4\)"),
    (lambda: nn.BatchNorm3d(3)(np.ones((2, 4, 1, 1, 2))), ValueError,
     r"BatchNorm3d\(3\): input of shape \(2, 4, 1, 1, 2\) has 4 channels in dimension 1"),
    (lambda: nn.BatchNorm2d(3)(np.ones((1, 3, 1, 1))), ValueError,
     r"batch_norm: expected more than 1 value per channel when training, got input of shape "
     r"\(1, 3, 1, 1\)"),
    (lambda: nn.BatchNorm2d(0), ValueError, r"BatchNorm2d: num_features must be a positive int"),
    (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), ValueError,
     r"TransformerEncoderLayer: activation should be relu/gelu \(or a callable\), not 'tanh'"),
    (lambda: nn.TransformerEncoderLayer(8, 3), ValueError,
     r"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim=8 and "
     r"num_heads=3"),
    (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=0), ValueError,
     r"TransformerEncoderLayer: dim_feedforward must be a positive int, got 0"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 0), ValueError,
     r"TransformerEncoder: num_layers must be a positive int, got 0"),
    (lambda: nn.TransformerEncoderLayer(8, 2, 16)(np.ones((3, 2, 6))), ValueError,
     r"LayerNorm\(\(8,\)\): expected an input of shape \(\*, 8\), got \(3, 2, 6\)|"
     r"MultiheadAttention: expected query with embedding dimension 8, got shape \(3, 2, 6\)"),
]


def MHA(query, **kwargs):
    return nn.MultiheadAttention(4, 2)(query, query, query, **kwargs)


@pytest.mark.parametrize("make,error,message", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors_name_the_layer_the_argument_and_the_shapes(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ====================================================================== compiled steps

def _sgd_step(model, lr=0.05, momentum=0.9):
    import optim
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(x, y, pad):
        opt.zero_grad()
        out = model(x, src_key_padding_mask=pad)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def _batches(rng, n, dtype, batch=3, length=5, e=8):
    out = []
    for _ in range(n):
        pad = rng.random((batch, length)) > 0.7
        pad[:, 0] = False
        out.append((rng.standard_normal((batch, length, e)).astype(dtype),
                    rng.standard_normal((batch, length, e)).astype(dtype), pad))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
def test_compiled_transformer_training_step_equals_eager(dtype, norm_first):
    ag.manual_seed(3)
    eager_model = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                             norm_first=norm_first, activation="gelu",
                                             dtype=dtype)
    compiled_model = copy.deepcopy(eager_model)
    eager, compiled = _sgd_step(eager_model), ag.compile(_sgd_step(compiled_model))
    for x, y, pad in _batches(np.random.default_rng(7), 6, dtype):
        expected = eager(Tensor(x), Tensor(y), Tensor(pad)).item()
        assert compiled(x, y, pad).item() == expected
    assert compiled.stats["replays"] >= 4
    for (name, p), q in zip(eager_model.named_parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(q.data, p.data, err_msg=name)


def test_compiled_dropout_draws_fresh_masks_and_equals_eager_with_the_same_seed():
    ag.manual_seed(5)
    eager_model = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=True,
                                             dtype=np.float64)
    compiled_model = copy.deepcopy(eager_model)
    eager, compiled = _sgd_step(eager_model), ag.compile(_sgd_step(compiled_model))
    x, y, pad = _batches(np.random.default_rng(8), 1, np.float64)[0]
    losses = []
    for seed in (10, 11, 12, 13):                # the same batch every time
        ag.manual_seed(seed)
        expected = eager(Tensor(x), Tensor(y), Tensor(pad)).item()
        ag.manual_seed(seed)
        losses.append(compiled(x, y, pad).item())
        assert losses[-1] == expected
    assert compiled.stats["replays"] >= 2
    assert len(set(losses)) == len(losses)        # each call dropped different units
    forward = ag.compile(lambda x: compiled_model(x))
    first, second = forward(x).data, forward(x).data
    assert not np.array_equal(first, second)
    compiled_model.eval()
    np.testing.assert_array_equal(forward(x).data, forward(x).data)   # eval: no dropout


@pytest.mark.parametrize("momentum", [0.1, None])
def test_compiled_batch_norm_updates_its_running_statistics(momentum):
    eager = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64)
    module = copy.deepcopy(eager)
    compiled = ag.compile(lambda x: module(x))
    rng = np.random.default_rng(9)
    for step in range(4):
        x = rng.standard_normal((4, 3, 2, 2)) * (step + 1) + step
        np.testing.assert_array_equal(compiled(x).data, eager(x).data)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_array_equal(getattr(module, name).data, getattr(eager, name).data)
    assert int(module.num_batches_tracked.data) == 4
    module.eval(), eager.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_array_equal(compiled(x).data, eager(x).data)
    np.testing.assert_array_equal(compiled(x + 1).data, eager(x + 1).data)


def _compiled_equals_eager(layer, inputs, call=None):
    call = call or (lambda m, x: m(x))
    compiled = ag.compile(lambda *a: call(layer, *a))
    for args in inputs:
        expected = call(layer, *[Tensor(a) for a in args])
        got = compiled(*args)
        for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                        got if isinstance(got, tuple) else (got,)):
            np.testing.assert_array_equal(g.data, e.data)
    assert compiled.stats["replays"] == len(inputs) - 1


def test_compiled_norm_and_attention_layers_equal_eager_on_new_inputs():
    rng = np.random.default_rng(10)
    batches = [(rng.standard_normal((2, 6, 4)) * s + s,) for s in (1, 3, 0.5)]
    for layer in (nn.LayerNorm(4, dtype=np.float64), nn.RMSNorm((6, 4), dtype=np.float64),
                  nn.GroupNorm(3, 6, dtype=np.float64), nn.BatchNorm1d(6, dtype=np.float64)):
        _compiled_equals_eager(layer, batches)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    masked = [(b[0], rng.random((2, 6)) > 0.5, rng.random((6, 6)) > 0.7) for b in batches]
    for i in range(3):
        masked[i][1][:, 0] = False

    def attend(m, x, pad, mask):
        return m(x, x, x, key_padding_mask=pad, attn_mask=mask)
    _compiled_equals_eager(mha, masked, attend)
    sdpa = [(b[0], b[0][::-1].copy(), rng.random((6, 6)) > 0.5) for b in batches]
    _compiled_equals_eager(None, sdpa, lambda _, q, k, m: F.scaled_dot_product_attention(
        q, k, k, attn_mask=m))


@pytest.mark.parametrize("name,args,kwargs", [
    (n, a, k) for n, a, k in ACTIVATIONS if n not in ("Identity",)], ids=lambda v: str(v))
def test_compiled_activations_equal_eager_when_the_signs_change(name, args, kwargs):
    layer = getattr(nn, name)(*args, **kwargs)
    x = away_from_kinks(np.random.default_rng(12).standard_normal((2, 4, 2, 3)) * 3)
    _compiled_equals_eager(layer, [(x,), (-x,), (x * 0.5,)])
