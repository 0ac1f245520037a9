"""PyTorch's mathematical vocabulary: every differentiable op through the shared
checker (VJP and JVP against central differences, the adjoint identity,
second order) on hypothesis shapes, values and gradients against PyTorch in
float64 (edge values included), the non-differentiable results (sort, topk,
unique, ...) against PyTorch, NumPy dispatch, nn.functional's activations,
the error function's accuracy, and the error messages."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd_core as ag
import nn.functional as F
from autograd_core import Tensor, functional
from autograd_core.testing import check_grads
from tests.strategies import broadcastable_pair, shapes
from tests.torch_reference import torch   # tests that use torch skip without it; the rest run

FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(f, *arrays, order=2):
    inputs = tuple(Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays)
    assert check_grads(f, *inputs, order=order)


def T(a, grad=True):
    """A float64 torch tensor (requiring grad) from an array."""
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def against_torch(ours, theirs, *arrays, atol=1e-12, rtol=1e-10, seed=0):
    """Same values, and the same gradients of Σ u·f for a random u, as torch."""
    xs = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    ts = [T(a) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=atol, rtol=rtol)
    u = np.random.default_rng(seed).standard_normal(y.shape)
    (y * u).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    for x, t in zip(xs, ts):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.data
        np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)


def sample(seed, shape, low, high):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away(x, points, gap=0.05, shift=0.13):
    """x moved off the kinks ``points`` (derivatives jump there)."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + shift, x)
    return x


# ---------------------------------------------------------------------------
# Elementwise: the shared checker on hypothesis shapes, and torch's values
# ---------------------------------------------------------------------------

TF = torch.nn.functional
#            ours, torch's, sample range, kinks to avoid
UNARY = {
    "log1p": (ag.log1p, torch.log1p, (-0.9, 2.0), ()),
    "expm1": (ag.expm1, torch.expm1, (-2, 2), ()),
    "exp2": (ag.exp2, torch.exp2, (-2, 2), ()),
    "log2": (ag.log2, torch.log2, (0.3, 3), ()),
    "log10": (ag.log10, torch.log10, (0.3, 3), ()),
    "square": (ag.square, torch.square, (-2, 2), ()),
    "rsqrt": (ag.rsqrt, torch.rsqrt, (0.3, 3), ()),
    "sinh": (ag.sinh, torch.sinh, (-2, 2), ()),
    "cosh": (ag.cosh, torch.cosh, (-2, 2), ()),
    "asinh": (ag.asinh, torch.asinh, (-2, 2), ()),
    "acosh": (ag.acosh, torch.acosh, (1.2, 3), ()),
    "atanh": (ag.atanh, torch.atanh, (-0.8, 0.8), ()),
    "asin": (ag.asin, torch.asin, (-0.8, 0.8), ()),
    "acos": (ag.acos, torch.acos, (-0.8, 0.8), ()),
    "atan": (ag.atan, torch.atan, (-2, 2), ()),
    "erf": (ag.erf, torch.erf, (-3, 3), ()),
    "erfc": (ag.erfc, torch.erfc, (-3, 3), ()),
    "frac": (ag.frac, torch.frac, (-2.5, 2.5), (-2, -1, 0, 1, 2)),
    "nan_to_num": (ag.nan_to_num, torch.nan_to_num, (-2, 2), ()),
    "clamp_min": (lambda x: ag.clamp_min(x, 0.2), lambda x: torch.clamp_min(x, 0.2),
                  (-1, 1), (0.2,)),
    "clamp_max": (lambda x: ag.clamp_max(x, 0.2), lambda x: torch.clamp_max(x, 0.2),
                  (-1, 1), (0.2,)),
    "gelu": (ag.gelu, TF.gelu, (-3, 3), ()),
    "gelu_tanh": (lambda x: ag.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh"), (-3, 3), ()),
    "silu": (ag.silu, TF.silu, (-3, 3), ()),
    "mish": (ag.mish, TF.mish, (-3, 3), ()),
    "softplus": (ag.softplus, TF.softplus, (-3, 3), ()),
    "softplus_beta": (lambda x: ag.softplus(x, beta=2.0, threshold=3.0),
                      lambda x: TF.softplus(x, beta=2.0, threshold=3.0), (-3, 3), (1.5,)),
    "logsigmoid": (ag.logsigmoid, TF.logsigmoid, (-3, 3), ()),
    "hardtanh": (ag.hardtanh, TF.hardtanh, (-2, 2), (-1, 1)),
    "relu6": (ag.relu6, TF.relu6, (-2, 8), (0, 6)),
    "elu": (lambda x: ag.elu(x, alpha=0.7), lambda x: TF.elu(x, alpha=0.7), (-2, 2), (0,)),
    "selu": (ag.selu, TF.selu, (-2, 2), (0,)),
    "celu": (lambda x: ag.celu(x, alpha=1.5), lambda x: TF.celu(x, alpha=1.5), (-2, 2), (0,)),
    "softsign": (ag.softsign, TF.softsign, (-2, 2), ()),
    "hardsigmoid": (ag.hardsigmoid, TF.hardsigmoid, (-4, 4), (-3, 3)),
    "hardswish": (ag.hardswish, TF.hardswish, (-4, 4), (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=shapes(max_dims=3, max_side=3), seed=st.integers(0, 2**16))
def test_unary_derivatives(name, shape, seed):
    ours, _, (lo, hi), kinks = UNARY[name]
    check(ours, away(sample(seed, shape, lo, hi), kinks))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name):
    ours, theirs, (lo, hi), kinks = UNARY[name]
    # PyTorch's float64 backward of hardsigmoid/hardswish uses 1/6 rounded to float32
    rtol = 1e-7 if name in ("hardsigmoid", "hardswish") else 1e-10
    against_torch(ours, theirs, away(sample(1, (4, 5), lo, hi), kinks), rtol=rtol)
    against_torch(ours, theirs, np.float64(away(np.array([0.37 * (lo + hi)]), kinks)[0]),
                  rtol=rtol)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid",
                                  "softplus_beta", "elu", "selu", "celu", "softsign"])
def test_activations_at_large_inputs(name):
    ours, theirs, _, _ = UNARY[name]
    x = np.array([-1000.0, -50.0, -21.0, -19.9, 19.9, 21.0, 50.0, 1000.0])
    against_torch(ours, theirs, x, atol=1e-10, rtol=1e-9)
    xs = Tensor(x, requires_grad=True)
    ours(xs).sum().backward()
    assert np.isfinite(xs.grad.data).all()


def test_softplus_threshold_switches_to_the_identity():
    x = ag.tensor([19.0, 21.0], dtype=ag.float64)
    np.testing.assert_array_equal(ag.softplus(x).data[1], 21.0)  # exactly x above 20
    np.testing.assert_allclose(ag.softplus(x).data[0], np.log1p(np.exp(19.0)), rtol=1e-15)
    np.testing.assert_allclose(ag.logsigmoid(ag.tensor([-21.0], dtype=ag.float64)).data,
                               [-21.0 - math.log1p(math.exp(-21.0))], rtol=1e-15)


@pytest.mark.parametrize("name", ["log1p", "expm1", "erf", "erfc", "sinh", "atan", "gelu",
                                  "silu", "softplus", "logsigmoid", "asinh"])
def test_nan_propagates(name):
    ours, theirs, _, _ = UNARY[name]
    x = np.array([np.nan, 0.5])
    np.testing.assert_array_equal(np.isnan(ours(Tensor(x)).data),
                                  np.isnan(theirs(torch.tensor(x)).numpy()))


def test_domain_edges_match_torch():
    for ours, theirs, x in [(ag.acosh, torch.acosh, [0.5, 1.0]),
                            (ag.atanh, torch.atanh, [1.0, -1.0]),
                            (ag.rsqrt, torch.rsqrt, [0.0, -1.0]),
                            (ag.log1p, torch.log1p, [-1.0, -2.0]),
                            (ag.asin, torch.asin, [1.0, 2.0]), (ag.log2, torch.log2, [0.0, 8.0])]:
        x = np.array(x)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy())


def test_accuracy_where_the_naive_formulas_lose_it():
    tiny = np.array([1e-18, -3e-12])
    np.testing.assert_allclose(ag.log1p(Tensor(tiny)).data, tiny - tiny ** 2 / 2, rtol=1e-16)
    np.testing.assert_allclose(ag.expm1(Tensor(tiny)).data, tiny + tiny ** 2 / 2, rtol=1e-16)
    assert ag.log2(Tensor(8.0)).item() == 3.0
    assert ag.exp2(Tensor(10.0)).item() == 1024.0
    np.testing.assert_allclose(ag.gelu(Tensor(-12.0)).item(),
                               -12.0 * 0.5 * math.erfc(12.0 / math.sqrt(2)), rtol=1e-13)


# -- rounding: zero gradients (frac: one) ---------------------------------------

STEPS = {"floor": (ag.floor, torch.floor), "ceil": (ag.ceil, torch.ceil),
         "trunc": (ag.trunc, torch.trunc), "round": (ag.round, torch.round),
         "sign": (ag.sign, torch.sign), "sgn": (ag.sgn, torch.sgn), "fix": (ag.fix, torch.fix)}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_rounding_values_and_zero_gradients(name):
    ours, theirs = STEPS[name]
    x = np.array([-2.5, -1.5, -0.5, -0.2, 0.0, 0.5, 1.5, 2.5, 2.7, np.inf, -np.inf])
    np.testing.assert_array_equal(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy())
    t = Tensor(np.array([0.3, -1.7]), requires_grad=True)
    y = ours(t)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, [0.0, 0.0])
    _, tangent = functional.jvp(ours, Tensor([0.3, -1.7]), np.ones(2))
    np.testing.assert_array_equal(tangent.data, [0.0, 0.0])


def test_round_decimals_and_integer_inputs():
    x = np.round(np.random.default_rng(0).uniform(-10, 10, 2000), 3)
    for d in (-1, 1, 2):
        np.testing.assert_array_equal(ag.round(Tensor(x), decimals=d).data,
                                      torch.round(torch.tensor(x), decimals=d).numpy())
    ints = ag.tensor([1, -2, 3])
    for fn in (ag.floor, ag.ceil, ag.trunc, ag.round, ag.sign):
        out = fn(ints)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.data, torch.sign(torch.tensor([1, -2, 3])).numpy()
                                      if fn is ag.sign else [1, -2, 3])
    assert ag.sign(ag.tensor([True, False])).dtype == np.bool_
    assert ag.sign(Tensor([np.nan])).item() == torch.sign(torch.tensor([math.nan])).item()


def test_nan_to_num_values_and_gradient():
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    against_torch(ag.nan_to_num, torch.nan_to_num, x)
    against_torch(lambda t: ag.nan_to_num(t, nan=2.0, posinf=9.0, neginf=-9.0),
                  lambda t: torch.nan_to_num(t, nan=2.0, posinf=9.0, neginf=-9.0), x)
    f32 = ag.nan_to_num(Tensor(np.array([np.inf], dtype=np.float32)))
    assert f32.dtype == np.float32 and f32.item() == np.finfo(np.float32).max


# ---------------------------------------------------------------------------
# Two operands
# ---------------------------------------------------------------------------

BINARY = {
    "atan2": (ag.atan2, torch.atan2, (-2, 2)),
    "hypot": (ag.hypot, torch.hypot, (-2, 2)),
    "fmod": (ag.fmod, torch.fmod, (0.6, 2.5)),
    "remainder": (ag.remainder, torch.remainder, (0.6, 2.5)),
    "lerp": (lambda a, b: ag.lerp(a, b * 0.0 + 1.5, b * 0.3),
             lambda a, b: torch.lerp(a, b * 0.0 + 1.5, b * 0.3), (-2, 2)),
}


def _binary_inputs(name, pair, seed):
    lo, hi = BINARY[name][2]
    a, b = sample(seed, pair[0], lo, hi), sample(seed + 1, pair[1], lo, hi)
    if name in ("fmod", "remainder"):
        # a = b·(q + f) with f away from the integers, where the quotient jumps
        full = np.broadcast_shapes(*pair)
        rng = np.random.default_rng(seed + 2)
        q = rng.integers(-3, 3, full) + rng.uniform(0.2, 0.8, full)
        a = np.broadcast_to(b, full) * q
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(pair=broadcastable_pair(max_dims=2, max_side=3), seed=st.integers(0, 2**16))
def test_binary_derivatives(name, pair, seed):
    check(BINARY[name][0], *_binary_inputs(name, pair, seed))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_torch(name):
    ours, theirs, (lo, hi) = BINARY[name]
    a = np.array([[0.7, -1.3, 2.2], [-0.4, 1.1, -2.3]])
    b = np.array([1.9, -0.45, 0.8]) if name not in ("fmod", "remainder") else \
        np.array([0.65, -1.1, 0.9])
    against_torch(ours, theirs, a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 0/0 in hypot's gradient
def test_atan2_and_hypot_at_the_origin_as_torch():
    # PyTorch: atan2's gradient at (0, 0) is 0; hypot's is NaN.
    against_torch(ag.atan2, torch.atan2, np.zeros(2), np.zeros(2))
    x, y = Tensor(np.zeros(1), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)
    ag.hypot(x, y).sum().backward()
    tx, ty = T(np.zeros(1)), T(np.zeros(1))
    torch.hypot(tx, ty).sum().backward()
    np.testing.assert_array_equal(np.isnan(x.grad.data), np.isnan(tx.grad.numpy()))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's fmod(x, 0.0)
def test_fmod_remainder_signs_and_integer_division_by_zero():
    a, b = np.array([5.5, -5.5, 5.5, -5.5]), np.array([2.0, 2.0, -2.0, -2.0])
    for ours, theirs in ((ag.fmod, torch.fmod), (ag.remainder, torch.remainder)):
        np.testing.assert_array_equal(ours(Tensor(a), Tensor(b)).data,
                                      theirs(torch.tensor(a), torch.tensor(b)).numpy())
        np.testing.assert_array_equal(ours(ag.tensor([-7, 7]), 3).data,
                                      theirs(torch.tensor([-7, 7]), 3).numpy())
        with pytest.raises(ZeroDivisionError, match=ours.__name__):
            ours(ag.tensor([7]), ag.tensor([0]))
    assert np.isnan(ag.fmod(Tensor([5.5]), 0.0).item())


def test_lerp_scalar_weights_exact_at_the_ends():
    a, b = Tensor([1.0, -3.0]), Tensor([2.0, 5.0])
    np.testing.assert_array_equal(ag.lerp(a, b, 1.0).data, b.data)
    np.testing.assert_array_equal(ag.lerp(a, b, 0.0).data, a.data)
    for w in (0.25, 0.5, 0.9, 1.7):
        against_torch(lambda s, e: ag.lerp(s, e, w), lambda s, e: torch.lerp(s, e, w),
                      a.data, b.data)


# ---------------------------------------------------------------------------
# Products: einsum and the named ones
# ---------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk", [(2, 3), (3, 2)]),                 # implicit output
    ("ii", [(3, 3)]),                            # trace
    ("ii->i", [(3, 3)]),                         # diagonal
    ("iij->j", [(2, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,), (4,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),  # ellipsis broadcasting
    ("...i->...", [(2, 3, 2)]),
    ("...i->i", [(2, 3)]),                       # ellipsis summed away
    ("bij,bjk->bik", [(1, 2, 3), (3, 3, 2)]),    # a size-1 axis broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ab,bc,ca->", [(2, 3), (3, 2), (2, 2)]),
    ("ii,ij->j", [(2, 2), (2, 3)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("->", [()]),
    ("i,->i", [(3,), ()]),
]


@pytest.mark.parametrize("equation,shapes_", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(equation, shapes_):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes_]
    check(lambda *xs: ag.einsum(equation, *xs), *arrays)


@pytest.mark.parametrize("equation,shapes_", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_matches_torch(equation, shapes_):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes_]
    against_torch(lambda *xs: ag.einsum(equation, *xs),
                  lambda *xs: torch.einsum(equation, *xs), *arrays)


def test_einsum_forms_and_higher_order():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    ref = a @ b
    np.testing.assert_allclose(ag.einsum("ij,jk", [Tensor(a), Tensor(b)]).data, ref)
    np.testing.assert_allclose(ag.einsum(Tensor(a), [0, 1], Tensor(b), [1, 2], [0, 2]).data, ref)
    np.testing.assert_allclose(ag.einsum(a, [Ellipsis, 0], b, [0, Ellipsis]).data,
                               np.einsum(a, [Ellipsis, 0], b, [0, Ellipsis]))
    # third derivative of x ↦ Σ (x xᵀ x): einsum all the way down
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    y = ag.einsum("i,i,j->", x, x, x)
    (g,) = ag.autograd.grad(y, x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = ag.autograd.grad(h.sum(), x)
    tx = T(x.data)
    ty = torch.einsum("i,i,j->", tx, tx, tx)
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx, create_graph=True)
    (tt,) = torch.autograd.grad(th.sum(), tx)
    np.testing.assert_allclose(t.data, tt.numpy(), rtol=1e-12)


def named_products(m, n, k, b, seed):
    """(ours, torch's, inputs) for the named matrix products."""
    rng = np.random.default_rng(seed)
    A, B, v, w = (rng.standard_normal(s) for s in ((m, k), (k, n), (k,), (k,)))
    BA, BB = rng.standard_normal((b, m, k)), rng.standard_normal((b, k, n))
    C = rng.standard_normal((n,))
    cases = [
        (ag.mm, torch.mm, (A, B)), (ag.bmm, torch.bmm, (BA, BB)), (ag.mv, torch.mv, (A, v)),
        (ag.dot, torch.dot, (v, w)), (ag.inner, torch.inner, (A, A)),
        (ag.outer, torch.outer, (v, C)),
        (lambda c, x, y: ag.addmm(c, x, y, beta=0.5, alpha=2.0),
         lambda c, x, y: torch.addmm(c, x, y, beta=0.5, alpha=2.0), (C, A, B)),
        (lambda x, y: ag.tensordot(x, y, 1), lambda x, y: torch.tensordot(x, y, 1), (A, B)),
        (lambda x, y: ag.tensordot(x, y, ([2], [1])),
         lambda x, y: torch.tensordot(x, y, ([2], [1])), (BA, A)),
    ]
    return cases


PRODUCT_SIZES = dict(m=st.integers(1, 3), n=st.integers(1, 3), k=st.integers(1, 3),
                     b=st.integers(1, 2), seed=st.integers(0, 2**16))


@FAST
@given(**PRODUCT_SIZES)
def test_named_products(m, n, k, b, seed):
    for ours, _, arrays in named_products(m, n, k, b, seed):
        check(ours, *arrays, order=1)


@FAST
@given(**PRODUCT_SIZES)
def test_named_products_match_torch(m, n, k, b, seed):
    for ours, theirs, arrays in named_products(m, n, k, b, seed):
        against_torch(ours, theirs, *arrays)


def test_product_methods_and_empty_operands():
    a = Tensor(np.ones((2, 0)), requires_grad=True)
    b = Tensor(np.ones((0, 3)), requires_grad=True)
    out = a.mm(b)
    np.testing.assert_array_equal(out.data, np.zeros((2, 3)))
    out.sum().backward()
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)
    np.testing.assert_array_equal(ag.einsum("ij,jk->ik", a, b).data, np.zeros((2, 3)))
    np.testing.assert_allclose(Tensor([1.0, 2.0]).dot(Tensor([3.0, 4.0])).item(), 11.0)


# ---------------------------------------------------------------------------
# Reductions and scans
# ---------------------------------------------------------------------------

REDUCTIONS = {
    "prod": (lambda x, d, k: x.prod(dim=d, keepdim=k) if d is not None else x.prod(),
             lambda x, d, k: x.prod(dim=d, keepdim=k) if d is not None else x.prod()),
    "var": (lambda x, d, k: x.var(dim=d, keepdim=k), lambda x, d, k: x.var(dim=d, keepdim=k)),
    "var_c0": (lambda x, d, k: ag.var(x, dim=d, keepdim=k, correction=0),
               lambda x, d, k: torch.var(x, dim=d, keepdim=k, correction=0)),
    "std": (lambda x, d, k: x.std(dim=d, keepdim=k), lambda x, d, k: x.std(dim=d, keepdim=k)),
    "std_biased": (lambda x, d, k: ag.std(x, d, False, k),
                   lambda x, d, k: torch.std(x, d, False, k)),
    "norm": (lambda x, d, k: x.norm(dim=d, keepdim=k), lambda x, d, k: x.norm(dim=d, keepdim=k)),
    "norm1": (lambda x, d, k: x.norm(1, d, k), lambda x, d, k: x.norm(1, d, k)),
    "norm3": (lambda x, d, k: x.norm(3, d, k), lambda x, d, k: x.norm(3, d, k)),
    "norm_half": (lambda x, d, k: x.norm(0.5, d, k), lambda x, d, k: x.norm(0.5, d, k)),
    "norm_inf": (lambda x, d, k: x.norm(math.inf, d, k), lambda x, d, k: x.norm(math.inf, d, k)),
    "norm_-inf": (lambda x, d, k: x.norm(-math.inf, d, k),
                  lambda x, d, k: x.norm(-math.inf, d, k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(dim=d, keepdim=k) if d is not None else
                  x.logsumexp(dim=(0, 1, 2)),
                  lambda x, d, k: x.logsumexp(dim=d, keepdim=k) if d is not None else
                  x.logsumexp(dim=(0, 1, 2))),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), True)])
def test_reductions(name, dim, keepdim):
    ours, _, dim, x = reduction_case(name, dim)
    check(lambda t: ours(t, dim, keepdim), x)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), True)])
def test_reductions_match_torch(name, dim, keepdim):
    ours, theirs, dim, x = reduction_case(name, dim)
    against_torch(lambda t: ours(t, dim, keepdim), lambda t: theirs(t, dim, keepdim), x)


def reduction_case(name, dim):
    """(ours, torch's, dim, x) for a reduction of REDUCTIONS."""
    if name == "prod" and isinstance(dim, tuple):
        dim = 2  # torch.prod takes one dim (ours also takes a tuple: test_prod_over_axes)
    ours, theirs = REDUCTIONS[name]
    # no ties, also of |x|
    x = (np.random.default_rng(3).permutation(24).reshape(2, 3, 4) - 11.3) / 7.0
    return ours, theirs, dim, x


SEED_AND_DATA = dict(seed=st.integers(0, 2**16), data=st.data())


def scan_case(shape, seed, data):
    """An input with zeros and the scans and prod along a drawn dim (the same call
    runs on our tensors and on torch's)."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = sample(seed, shape, -2, 2)
    x = np.where(np.random.default_rng(seed).random(shape) < 0.2, 0.0, x)  # with zeros
    return x, (lambda t: t.cumsum(dim), lambda t: t.cumprod(dim), lambda t: t.prod(dim))


@FAST
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), **SEED_AND_DATA)
def test_scans_and_prod_on_hypothesis_shapes(shape, seed, data):
    x, fs = scan_case(shape, seed, data)
    for f in fs:
        check(f, x)


@FAST
@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), **SEED_AND_DATA)
def test_scans_and_prod_match_torch(shape, seed, data):
    x, fs = scan_case(shape, seed, data)
    for f in fs:
        against_torch(f, f, x)


def test_zeros_in_prod_and_cumprod_as_torch():
    for x in ([2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [2.0, 0.0, 3.0, 0.0, 5.0], [0.0], [4.0, 0.0]):
        x = np.array(x)
        against_torch(lambda t: t.prod(), lambda t: t.prod(), x)
        against_torch(lambda t: t.cumprod(0), lambda t: t.cumprod(0), x)
    m = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    for dim in (0, 1):
        against_torch(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), m)
        against_torch(lambda t: t.prod(dim), lambda t: t.prod(dim), m)
    # second derivatives at zeros: the Hessian of Σ cumprod against torch's
    x = np.array([2.0, 0.0, 3.0, 0.5])
    H = functional.hessian(lambda t: t.cumprod(0).sum(), Tensor(x)).data
    tH = torch.autograd.functional.hessian(lambda t: t.cumprod(0).sum(), torch.tensor(x))
    np.testing.assert_allclose(H, tH.numpy(), atol=1e-12)
    H = functional.hessian(lambda t: t.prod(), Tensor(x)).data
    np.testing.assert_allclose(H, torch.autograd.functional.hessian(torch.prod, torch.tensor(x)),
                               atol=1e-12)


def test_prod_over_axes_empty_and_integers():
    x = np.random.default_rng(0).uniform(0.5, 1.5, (2, 3, 4))
    check(lambda t: t.prod(axis=(0, 2)), x)
    np.testing.assert_allclose(ag.prod(Tensor(x), axis=(0, 2), keepdims=True).data,
                               np.prod(x, axis=(0, 2), keepdims=True))
    e = Tensor(np.ones((2, 0)), requires_grad=True)
    p = e.prod(1)
    np.testing.assert_array_equal(p.data, [1.0, 1.0])
    p.sum().backward()
    assert e.grad.shape == (2, 0)
    assert ag.prod(ag.tensor([1, 2, 3])).dtype == np.int64
    assert ag.cumsum(ag.tensor([1, 2], dtype=ag.int32), 0).dtype == np.int64
    np.testing.assert_array_equal(ag.cumsum(Tensor(np.arange(6.0).reshape(2, 3))).data,
                                  np.cumsum(np.arange(6.0)))  # no dim: flattened (NumPy)
    assert ag.cumsum(Tensor(3.0), 0).item() == 3.0


def test_var_std_arguments_and_edges():
    x = np.array([1.0, 2.0, 4.0])
    assert ag.var(Tensor(x)).item() == pytest.approx(torch.var(torch.tensor(x)).item(), rel=1e-15)
    assert ag.var(Tensor(x), unbiased=False).item() == pytest.approx(np.var(x), rel=1e-15)
    # torch's var(x, unbiased)
    assert ag.var(Tensor(x), False).item() == pytest.approx(np.var(x), rel=1e-15)
    np.testing.assert_allclose(ag.std(Tensor(np.arange(6.0).reshape(2, 3)), 1, True, True).data,
                               torch.std(torch.arange(6.0).reshape(2, 3), 1, True, True).numpy())
    v, m = ag.var_mean(Tensor(x), correction=0)
    tv, tm = torch.var_mean(torch.tensor(x), correction=0)
    np.testing.assert_allclose([v.item(), m.item()], [tv.item(), tm.item()], rtol=1e-15)
    s, m = ag.std_mean(Tensor(x))
    np.testing.assert_allclose([s.item(), m.item()],
                               [t.item() for t in torch.std_mean(torch.tensor(x))])
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert np.isnan(ag.var(Tensor([1.0])).item())
    with pytest.warns(RuntimeWarning):
        assert ag.var(Tensor([1.0, 2.0]), correction=3).item() == math.inf
    # the gradient of std at a constant slice is 0, as PyTorch's
    against_torch(lambda t: t.std(), lambda t: t.std(), np.ones(3))
    against_torch(lambda t: t.std(dim=1), lambda t: t.std(dim=1),
                  np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]))
    f16 = ag.var(Tensor(np.array([1, 2, 4], dtype=np.float16)))
    assert f16.dtype == np.float16
    with pytest.raises(TypeError, match="var.*int64"):
        ag.var(ag.tensor([1, 2]))
    with pytest.raises(TypeError, match="correction= or unbiased="):
        ag.std(Tensor(x), unbiased=True, correction=1)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, math.inf, -math.inf, 0])
def test_norm_at_zero_as_torch(p):
    # The gradient at 0 is 0 (where the norm is not differentiable), as in PyTorch.
    for x in ([0.0, 0.0], [0.0, 2.0, -2.0], [[0.0, 1.0], [0.0, 0.0]]):
        against_torch(lambda t: ag.norm(t, p=p), lambda t: torch.norm(t, p=p), np.array(x))
    against_torch(lambda t: ag.norm(t, p=p, dim=1), lambda t: torch.norm(t, p=p, dim=1),
                  np.array([[0.0, 0.0], [3.0, -4.0]]))


def test_norm_forms():
    x = np.random.default_rng(1).standard_normal((2, 3))
    assert ag.norm(Tensor(x), dim=(0, 1)).item() == pytest.approx(np.linalg.norm(x))
    assert ag.norm(Tensor(np.ones(0))).item() == 0.0
    assert ag.norm(Tensor([3.0, -4.0]), dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="norm.*nuc"):
        ag.norm(Tensor(x), p="nuc")
    with pytest.raises(ValueError, match="norm: p must be"):
        ag.norm(Tensor(x), p="two")
    with pytest.raises(TypeError, match="norm.*int64"):
        ag.norm(ag.tensor([1, 2]))


def test_scan_axis_errors():
    with pytest.raises(ag.AxisError, match="cumsum: dim 2 is out of range"):
        ag.cumsum(Tensor(np.ones((2, 2))), dim=2)
    with pytest.raises(ag.AxisError, match="prod"):
        ag.prod(Tensor(np.ones(2)), dim=1)


def test_logical_reductions():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    for ours, theirs in ((ag.any, torch.any), (ag.all, torch.all)):
        assert ours(Tensor(x)).item() == theirs(torch.tensor(x)).item()
        np.testing.assert_array_equal(ours(Tensor(x), dim=1).data, theirs(torch.tensor(x), dim=1))
        np.testing.assert_array_equal(ours(Tensor(x), 0, True).data,
                                      theirs(torch.tensor(x), 0, True))
        u8 = ours(ag.tensor(np.array([1, 2], dtype=np.uint8)))
        assert u8.dtype == np.uint8  # as torch
    assert Tensor(x).any(axis=0).data.tolist() == [False, True, True]
    np.testing.assert_array_equal(ag.count_nonzero(Tensor(x), dim=0).data,
                                  torch.count_nonzero(torch.tensor(x), dim=0).numpy())
    assert ag.count_nonzero(Tensor(x)).item() == 3
    assert ag.count_nonzero(Tensor(x)).dtype == np.int64


# ---------------------------------------------------------------------------
# Sorting and selection: values differentiable, indices not
# ---------------------------------------------------------------------------

def _same_result(ours, theirs, values_too=True):
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    if values_too:
        np.testing.assert_array_equal(ours.values.data, theirs.values.detach().numpy())


@pytest.mark.parametrize("descending", [False, True])
def test_sort_as_torch(descending):
    x = np.array([[3.0, np.nan, 1.0, np.nan, 2.0], [1.0, 0.0, 1.0, 0.0, 1.0]])
    for dim in (0, 1, -1):
        ours = ag.sort(Tensor(x), dim=dim, descending=descending, stable=True)
        theirs = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
        assert type(ours).__name__ == "sort" and ours._fields == ("values", "indices")
        _same_result(ours, theirs)
        np.testing.assert_array_equal(
            ag.argsort(Tensor(x), dim=dim, descending=descending).data,
            torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=True).numpy())
    s = Tensor(3.0).sort()
    assert s.values.shape == () and s.indices.item() == 0


@FAST
@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), **SEED_AND_DATA)
def test_selection_values_are_differentiable(shape, seed, data):
    x, dim, k, largest, cases = selection_case(shape, seed, data)
    for ours, _ in cases:
        check(ours, x, order=1)


@FAST
@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), **SEED_AND_DATA)
def test_selection_matches_torch(shape, seed, data):
    x, dim, k, largest, cases = selection_case(shape, seed, data)
    for ours, theirs in cases:
        against_torch(ours, theirs, x)
    np.testing.assert_array_equal(ag.topk(Tensor(x), k, dim, largest=largest).indices.data,
                                  torch.topk(torch.tensor(x), k, dim, largest=largest).indices)


def selection_case(shape, seed, data):
    """An input without ties, a dim, k, the direction, and (ours, torch's) selections."""
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 3.0
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    k = data.draw(st.integers(1, n))
    largest = data.draw(st.booleans())
    cases = [
        (lambda t: ag.sort(t, dim, descending=largest).values,
         lambda t: torch.sort(t, dim, descending=largest).values),
        (lambda t: ag.topk(t, k, dim, largest=largest).values,
         lambda t: torch.topk(t, k, dim, largest=largest).values),
        (lambda t: ag.kthvalue(t, k, dim).values, lambda t: torch.kthvalue(t, k, dim).values),
        (lambda t: ag.median(t, dim).values, lambda t: torch.median(t, dim).values),
        (lambda t: ag.median(t), lambda t: torch.median(t)),
        (lambda t: ag.mode(t, dim).values, lambda t: torch.mode(t, dim).values),
    ]
    return x, dim, k, largest, cases


def test_numpy_and_torch_spellings_of_dim_and_keepdim():
    x = np.random.default_rng(5).permutation(12).reshape(3, 4) / 5.0
    t, tt = Tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(ag.sort(t, axis=0).values.data, np.sort(x, axis=0))
    np.testing.assert_array_equal(t.argsort(axis=0).data, np.argsort(x, axis=0))
    np.testing.assert_array_equal(ag.topk(t, 2, axis=0).indices.data, torch.topk(tt, 2, 0).indices)
    _same_result(ag.kthvalue(t, 2, axis=0, keepdims=True), torch.kthvalue(tt, 2, 0, True))
    _same_result(ag.median(t, axis=1, keepdims=True), torch.median(tt, 1, True))
    _same_result(ag.mode(t, axis=0, keepdims=True), torch.mode(tt, 0, True))
    np.testing.assert_allclose(ag.norm(t, axis=1, keepdims=True).data,
                               np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(t.norm(2, 1, True).data, np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(ag.var(t, axis=0, keepdims=True).data,
                               np.var(x, axis=0, ddof=1, keepdims=True))
    np.testing.assert_allclose(t.prod(axis=1, keepdims=True).data, np.prod(x, 1, keepdims=True))
    np.testing.assert_allclose(t.cumsum(axis=1).data, np.cumsum(x, 1))
    np.testing.assert_array_equal(ag.count_nonzero(t, axis=1).data, np.count_nonzero(x, 1))


def test_topk_kthvalue_median_mode_edges():
    x = torch.tensor([3.0, math.nan, 1.0, 2.0])
    _same_result(ag.topk(Tensor(x.numpy()), 2), torch.topk(x, 2))
    _same_result(ag.topk(Tensor(x.numpy()), 2, largest=False), torch.topk(x, 2, largest=False))
    assert np.isnan(ag.median(Tensor(x.numpy())).item())
    m = torch.tensor([[1.0, math.nan, 2.0], [3.0, 1.0, 2.0]])
    _same_result(ag.median(Tensor(m.numpy()), dim=1), torch.median(m, dim=1))
    assert ag.median(Tensor([1.0, 4.0, 2.0, 3.0])).item() == 2.0  # the lower middle value
    r = torch.tensor([[1.0, 2, 2, 3], [2.0, 2, 2, 1], [5.0, 2, 2, 3]])
    _same_result(ag.median(Tensor(r.numpy()), 1, keepdim=True), torch.median(r, 1, keepdim=True))
    # median over all elements shares the gradient between equal values, as torch
    against_torch(lambda t: t.median(), lambda t: t.median(), np.array([1.0, 2.0, 2.0, 3.0]))
    for row in ([1.0, 2, 2, 3, 3, 1, 5], [3.0, 1, 1, 3], [2.0, 2, 5, 5], [4.0]):
        _same_result(ag.mode(Tensor(row)), torch.mode(torch.tensor(row)))
    mm = torch.tensor([[3.0, 1, 1, 3], [2.0, 2, 5, 5]])
    _same_result(ag.mode(Tensor(mm.numpy()), dim=1), torch.mode(mm, dim=1))
    _same_result(ag.mode(Tensor(mm.numpy()), dim=0, keepdim=True), torch.mode(mm, 0, True))
    _same_result(ag.kthvalue(Tensor([3.0, 1.0, 2.0, 1.0]), 2), torch.kthvalue(torch.tensor(
        [3.0, 1.0, 2.0, 1.0]), 2))
    with pytest.raises(ValueError, match=r"topk: selected index k=4 out of range .* size 3"):
        ag.topk(Tensor(np.ones(3)), 4)
    with pytest.raises(ValueError, match=r"kthvalue: k=0 is out of range"):
        ag.kthvalue(Tensor(np.ones(3)), 0)
    with pytest.raises(IndexError, match="median.*size 0"):
        ag.median(Tensor(np.ones((2, 0))), dim=1)


def test_unique_nonzero_where_bincount():
    x = torch.tensor([3, 1, 3, 2])
    ours = ag.unique(ag.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    for a, b in zip(ours, torch.unique(x, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(a.data, b.numpy())
    np.testing.assert_array_equal(ag.unique(ag.tensor([[1, 2], [2, 3]])).data, [1, 2, 3])
    m = torch.tensor([[1, 2], [1, 2], [0, 5]])
    for a, b in zip(ag.unique(ag.tensor(m.numpy()), dim=0, return_inverse=True,
                              return_counts=True),
                    torch.unique(m, dim=0, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(a.data, b.numpy())
    c = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(ag.nonzero(c).data, torch.nonzero(torch.tensor(c)).numpy())
    for a, b in zip(ag.where(ag.tensor(c)), torch.where(torch.tensor(c))):
        np.testing.assert_array_equal(a.data, b.numpy())
    for v in (3.0, 0.0):
        assert ag.nonzero(Tensor(v)).shape == tuple(torch.nonzero(torch.tensor(v)).shape)
        for a, b in zip(ag.nonzero(Tensor(v), as_tuple=True),
                        torch.nonzero(torch.tensor(v), as_tuple=True)):
            np.testing.assert_array_equal(a.data, b.numpy())
    assert ag.nonzero(Tensor(np.zeros((2, 0)))).shape == (0, 2)
    np.testing.assert_array_equal(ag.argwhere(c).data, torch.argwhere(torch.tensor(c)).numpy())
    w = ag.where(ag.tensor([True, False]), 1.0, 0.0)
    np.testing.assert_array_equal(w.data, [1.0, 0.0])
    assert ag.where(ag.tensor([True, False]), 1, 0).dtype == np.int64
    t = Tensor([1.0, 2.0], requires_grad=True)
    t.where(ag.tensor([True, False]), 5.0).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [1.0, 0.0])
    np.testing.assert_array_equal(ag.bincount(ag.tensor([0, 2, 2])).data, [1, 0, 2])
    np.testing.assert_array_equal(ag.bincount(ag.tensor([1, 1]), minlength=4).data, [0, 2, 0, 0])
    b = ag.bincount(ag.tensor([0, 2]), weights=np.array([0.5, 1.0], dtype=np.float32))
    assert b.dtype == np.float32 and b.data.tolist() == [0.5, 0.0, 1.0]
    with pytest.raises(ValueError, match="bincount: input must be non-negative"):
        ag.bincount(ag.tensor([1, -1]))
    with pytest.raises(ValueError, match=r"bincount: input must be a 1-d .* shape \(2, 2\)"):
        ag.bincount(ag.tensor([[1, 1], [0, 0]]))
    with pytest.raises(TypeError, match="where: give both"):
        ag.where(c, 1.0)


def test_isclose_allclose():
    a = np.array([1.0, math.nan, math.inf, 1.0])
    b = np.array([1.0 + 1e-9, math.nan, math.inf, 1.1])
    for nan in (False, True):
        np.testing.assert_array_equal(ag.isclose(Tensor(a), Tensor(b), equal_nan=nan).data,
                                      torch.isclose(torch.tensor(a), torch.tensor(b),
                                                    equal_nan=nan).numpy())
    assert ag.allclose(Tensor([1.0]), Tensor([1.0 + 1e-9])) is True
    assert Tensor([1.0]).allclose(Tensor([1.1])) is False
    assert ag.allclose(Tensor([1.0]), Tensor([1.1]), rtol=0.2)
    with pytest.raises(ValueError, match=r"isclose: shapes \(2,\) and \(3,\)"):
        ag.isclose(Tensor(np.ones(2)), Tensor(np.ones(3)))


# ---------------------------------------------------------------------------
# erf: accuracy and cost of the NumPy kernel
# ---------------------------------------------------------------------------

def test_erf_accuracy_against_scipy():
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(7)
    # more than the small-array threshold: the vectorised kernel
    x = np.concatenate([rng.uniform(-1, 1, 3000), rng.standard_normal(3000) * 3,
                        rng.uniform(-6, 6, 2000), np.logspace(-300, 0.7, 500),
                        -np.logspace(-300, 0.7, 500), [0.5, -0.5, np.nextafter(0.5, 1)]])
    np.testing.assert_allclose(ag.erf(Tensor(x)).data, special.erf(x), rtol=2e-15, atol=0)
    ref = special.erfc(x)
    np.testing.assert_allclose(ag.erfc(Tensor(x)).data, ref, rtol=1e-13, atol=0)
    far = np.linspace(5, 26, 400)  # erfc down to 1e-296
    np.testing.assert_allclose(ag.erfc(Tensor(far)).data,
                               [math.erfc(v) for v in far], rtol=2e-15)
    np.testing.assert_allclose(ag.erfc(Tensor(-far)).data, 2 - special.erfc(far), rtol=1e-15)
    np.testing.assert_array_equal(ag.erf(Tensor([np.inf, -np.inf, 0.0])).data, [1, -1, 0])
    np.testing.assert_array_equal(ag.erfc(Tensor([np.inf, -np.inf, 30.0])).data, [0, 2, 0])
    small = x[:20]  # the element-by-element path agrees with the kernel
    np.testing.assert_allclose(ag.erf(Tensor(small)).data, ag.erf(Tensor(x)).data[:20],
                               rtol=2e-15)


def test_erf_dtypes_and_torch():
    x32 = np.linspace(-3, 3, 500, dtype=np.float32)
    y = ag.erf(Tensor(x32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, torch.erf(torch.tensor(x32)).numpy(), rtol=1e-6, atol=1e-7)
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_allclose(ag.erf(Tensor(x)).data, torch.erf(torch.tensor(x)).numpy(),
                               rtol=1e-15, atol=1e-16)
    assert ag.erf(Tensor(0.5)).shape == ()


# ---------------------------------------------------------------------------
# One function, three spellings: method, module function, NumPy dispatch
# ---------------------------------------------------------------------------

METHODS = ["log1p", "expm1", "exp2", "log2", "log10", "square", "rsqrt", "erf", "erfc", "sinh",
           "cosh", "asinh", "acosh", "atanh", "asin", "acos", "atan", "atan2", "hypot", "arcsinh",
           "arccosh", "arctanh", "arcsin", "arccos", "arctan", "arctan2", "sign", "sgn", "floor",
           "ceil", "round", "trunc", "fix", "frac", "nan_to_num", "clamp_min", "clamp_max",
           "fmod", "remainder", "lerp", "isclose", "allclose", "mm", "bmm", "mv", "dot",
           "inner", "outer", "ger", "addmm", "cumsum", "cumprod", "prod", "var", "std", "norm",
           "any", "all", "count_nonzero", "sort", "argsort", "topk", "kthvalue", "median",
           "mode", "unique", "nonzero", "argwhere", "bincount"]


def test_methods_are_the_module_functions():
    for name in METHODS:
        assert getattr(Tensor, name) is getattr(ag, name), name
    for name in METHODS + ["einsum", "tensordot", "var_mean", "std_mean", "gelu", "silu",
                           "softplus", "mish", "logsigmoid"]:
        assert getattr(ag, name).__doc__, name


def test_numpy_dispatch():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 2, (2, 3))
    t = Tensor(a, requires_grad=True)
    for npfn in (np.log1p, np.expm1, np.exp2, np.log2, np.log10, np.square, np.sinh, np.cosh,
                 np.arcsinh, np.arctan, np.floor, np.ceil, np.trunc, np.rint, np.fix):
        out = npfn(t)
        assert isinstance(out, Tensor), npfn.__name__
        np.testing.assert_allclose(out.data, npfn(a), rtol=1e-15)
    for npfn in (np.arctan2, np.hypot, np.fmod, np.remainder):
        out = npfn(t, 0.7)
        assert isinstance(out, Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, npfn(a, 0.7), rtol=1e-15)
    cases = [
        (lambda m: np.var(m, axis=1), {}), (lambda m: np.std(m, ddof=1), {}),
        (lambda m: np.cumsum(m), {}), (lambda m: np.cumprod(m, axis=1), {}),
        (lambda m: np.prod(m, axis=0, keepdims=True), {}),
        (lambda m: np.einsum("ij,kj->ik", m, m, optimize=True), {}),
        (lambda m: np.dot(m, m.T), {}), (lambda m: np.outer(m, m), {}),
        (lambda m: np.inner(m, m), {}), (lambda m: np.tensordot(m, m, axes=([1], [1])), {}),
        (lambda m: np.sort(m, axis=None), {}), (lambda m: np.sort(-m), {}),
        (lambda m: np.round(m * 3, 1), {}),
    ]
    for f, _ in cases:
        out = f(t)
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(out.data, f(a), rtol=1e-14)
    b3 = rng.standard_normal((2, 3, 4))
    c3 = rng.standard_normal((3, 4, 2))
    np.testing.assert_allclose(np.dot(Tensor(b3), Tensor(c3)).data, np.dot(b3, c3), rtol=1e-14)
    np.testing.assert_array_equal(np.argsort(Tensor(a)).data, np.argsort(a))
    assert np.allclose(t, a) is True
    np.testing.assert_array_equal(np.isclose(t, a).data, np.ones((2, 3), bool))
    np.testing.assert_array_equal(np.nan_to_num(Tensor([np.nan, 1.0])).data, [0.0, 1.0])
    np.var(t, ddof=1).backward()
    np.testing.assert_allclose(t.grad.data, 2 * (a - a.mean()) / (a.size - 1))


# ---------------------------------------------------------------------------
# nn.functional's activations delegate to the engine
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("logsigmoid", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}), ("relu6", {}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}), ("softsign", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}),
])
def test_nn_functional_activations(name, kwargs):
    x = away(np.linspace(-4.1, 7.3, 23), (-3, -0.5, 0, 0.8, 3, 6, 2.5))
    rtol = 1e-7 if name in ("hardsigmoid", "hardswish") else 1e-10  # see test_unary_matches_torch
    against_torch(lambda t: getattr(F, name)(t, **kwargs),
                  lambda t: getattr(torch.nn.functional, name)(t, **kwargs), x, rtol=rtol)
    out = getattr(F, name)(x.astype(np.float32), **kwargs)
    assert out.dtype == np.float32


# ---------------------------------------------------------------------------
# Errors name the op, the argument and the shapes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: ag.mm(np.ones((2, 3)), np.ones((2, 3))), ValueError,
     r"mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"),
    (lambda: ag.mm(np.ones(3), np.ones((3, 2))), ValueError, r"mm: .*2-D.*\(3,\)"),
    (lambda: ag.bmm(np.ones((2, 2, 3)), np.ones((3, 3, 3))), ValueError,
     r"bmm: shapes \(2, 2, 3\) and \(3, 3, 3\)"),
    (lambda: ag.dot(np.ones(2), np.ones(3)), ValueError, "dot: the tensors have 2 and 3"),
    (lambda: ag.outer(np.ones((2, 2)), np.ones(3)), ValueError, r"outer: .*\(2, 2\)"),
    (lambda: ag.addmm(np.ones(4), np.ones((2, 3)), np.ones((3, 3))), ValueError,
     r"addmm: input of shape \(4,\) does not broadcast to the product's shape \(2, 3\)"),
    (lambda: ag.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), ValueError,
     r"einsum: subscript 'j' has size 4 in operand 1 \(shape \(4, 2\)\) but size 3"),
    (lambda: ag.einsum("ij,jk->ik", np.ones((2, 3))), ValueError,
     "einsum: the equation 'ij,jk->ik' has 2 operand subscripts but 1 operands"),
    (lambda: ag.einsum("ij->iz", np.ones((2, 3))), ValueError,
     "einsum: output subscript 'z' does not appear"),
    (lambda: ag.einsum("i1->i", np.ones((2, 3))), ValueError, "einsum: subscript 'i1' has invalid"),
    (lambda: ag.einsum("ijk->i", np.ones((2, 3))), ValueError,
     r"einsum: operand 0 has shape \(2, 3\) \(2 dimensions\) but its subscript 'ijk' names 3"),
    (lambda: ag.tensordot(np.ones((2, 3)), np.ones((2, 3)), 1), ValueError,
     r"tensordot: axis 1 of a \(shape \(2, 3\)\) has size 3 but axis 0 of b"),
    (lambda: ag.atan2(np.ones(2), np.ones(3)), ValueError,
     r"atan2: shapes \(2,\) and \(3,\) cannot be broadcast"),
    (lambda: ag.round(Tensor([1.5]), decimals=1.5), TypeError, "round: decimals must be an int"),
    (lambda: ag.gelu(Tensor([1.0]), approximate="fast"), ValueError,
     "gelu: approximate must be 'none' or 'tanh'"),
    (lambda: ag.hardtanh(Tensor([1.0]), 2.0, 1.0), ValueError,
     r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"),
    (lambda: ag.softplus(Tensor([1.0]), beta=0), ValueError, "softplus: beta must be positive"),
    (lambda: ag.gelu(ag.tensor([1, 2])), TypeError, "gelu: expected a floating-point tensor"),
    (lambda: ag.lerp(Tensor(np.ones(2)), Tensor(np.ones(3)), Tensor(np.ones(2))), ValueError,
     r"lerp: shapes \(2,\) and \(3,\) and \(2,\) cannot be broadcast"),
    (lambda: ag.sort(Tensor(np.ones((2, 2))), dim=3), ag.AxisError, "sort: dim 3 is out of range"),
    (lambda: ag.erf("a"), TypeError, "erf: x must be a Tensor, an ndarray or a number"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="where: cond must be boolean"):
        ag.where(np.ones(2), 1.0, 0.0)


def test_no_warning_from_masked_branches():
    # the masked branches (softplus' exp, elu's expm1, cumprod's division) never see inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (ag.softplus, ag.elu, ag.mish, ag.logsigmoid, lambda t: t.cumprod(0),
                  lambda t: t.prod(), lambda t: t.norm(), lambda t: t.std()):
            x = Tensor([1000.0, 0.0, -1000.0], requires_grad=True)
            f(x).sum().backward()
            assert np.isfinite(x.grad.data).all()


def test_float32_stays_float32():
    x = Tensor(np.linspace(0.1, 0.9, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    outs = [ag.log1p(x), ag.erf(x), ag.erfc(x), ag.atanh(x), ag.gelu(x), ag.softplus(x),
            ag.logsigmoid(x), ag.mish(x), ag.elu(x), x.cumsum(1), x.cumprod(1), x.prod(1),
            x.var(0), x.std(1), x.norm(), x.norm(3), ag.atan2(x, 0.5), ag.hypot(x, x),
            ag.einsum("ij,kj->ik", x, x), x.sort(1).values, x.topk(2).values, x.median(),
            ag.lerp(x, x * 2.0, 0.3), ag.fmod(x, 0.3)]
    for out in outs:
        assert out.dtype == np.float32, out
        assert out.requires_grad
    sum(o.sum() for o in outs).backward()
    assert x.grad.dtype == np.float32


def test_einsum_saves_its_operands():
    a, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = ag.einsum("i,i->", a * 1.0, c)
    c.add_(1.0)  # the gradient for a reads c, changed after einsum used it
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*einsum"):
        y.backward()
