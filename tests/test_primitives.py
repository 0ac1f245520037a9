"""Every differentiable op, checked the same way: reverse mode (VJP) and forward
mode (JVP) against central differences, and second order (the VJP rules are
themselves differentiable), on random shapes including broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.testing import check_grads
from tests.strategies import array, broadcastable_pair, shapes

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(f, *arrays, order2=True):
    """The shared checker: VJP and JVP against central differences, the adjoint
    identity, and (``order2``) second derivatives."""
    inputs = tuple(Tensor(a, requires_grad=True) for a in arrays)
    assert check_grads(f, *inputs, order=2 if order2 else 1)


# -- elementwise: one line each --------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, False),
    "exp": (ag.exp, False),
    "log": (ag.log, True),
    "sqrt": (ag.sqrt, True),
    "reciprocal": (ag.reciprocal, True),
    "abs": (ag.abs, False),
    "sin": (ag.sin, False),
    "cos": (ag.cos, False),
    "tanh": (ag.tanh, False),
    "sigmoid": (ag.sigmoid, False),
    "relu": (ag.relu, False),
    "pow_scalar": (lambda x: x ** 3, False),
    "pow_frac": (lambda x: x ** 1.5, True),
    "pow_neg": (lambda x: x ** -2, True),
    "clip": (lambda x: x.clip(-0.5, 0.7), False),
    "clip_min_only": (lambda x: x.clip(min=0.1), False),
}


def _away_from_kinks(x):
    # relu/abs/clip are not differentiable at their kinks: keep samples off them.
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    for kink in (-0.5, 0.7, 0.1):
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.2, x)
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=shapes(max_dims=3), seed=st.integers(0, 2**16))
def test_unary(name, shape, seed):
    fn, positive = UNARY[name]
    x = array(seed, shape, positive=positive)
    check(fn, _away_from_kinks(x) if not positive else x)


# -- binary ops over every broadcasting pattern ---------------------------------

BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
    "pow": (lambda a, b: a ** b, True),
    "maximum": (ag.maximum, False),
    "minimum": (ag.minimum, False),
    "where": (lambda a, b: ag.where(a.data > b.data, a, b * 2.0), False),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(pair=broadcastable_pair(), seed=st.integers(0, 2**16))
def test_binary_broadcasting(name, pair, seed):
    fn, positive = BINARY[name]
    a = array(seed, pair[0], positive=positive)
    b = array(seed + 1, pair[1], positive=positive)
    if name in ("maximum", "minimum", "where"):
        b = b + 0.1  # no ties: the derivative jumps there
    check(fn, a, b)


@pytest.mark.parametrize("const_side", ["left", "right"])
def test_binary_with_constants_on_either_side(const_side):
    x = np.random.default_rng(0).uniform(0.5, 2, (3, 4))
    c = np.random.default_rng(1).uniform(0.5, 2, (4,))
    for op in (np.add, np.subtract, np.multiply, np.true_divide, np.power):
        if const_side == "left":
            check(lambda t: op(c, t) if False else _apply(op, c, t), x)
        else:
            check(lambda t: _apply(op, t, c), x)
            check(lambda t: _apply(op, t, 2.5), x)


def _apply(op, a, b):
    return {np.add: lambda: a + b, np.subtract: lambda: a - b, np.multiply: lambda: a * b,
            np.true_divide: lambda: a / b, np.power: lambda: a ** b}[op]()


# -- matmul: every NumPy case ---------------------------------------------------

@pytest.mark.parametrize("sa,sb", [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
])
def test_matmul(sa, sb):
    rng = np.random.default_rng(0)
    check(ag.matmul, rng.standard_normal(sa), rng.standard_normal(sb))
    a, b = Tensor(rng.standard_normal(sa)), Tensor(rng.standard_normal(sb))
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)


@pytest.mark.parametrize("xshape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xshape, bias):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(xshape), rng.standard_normal((2, 3)), rng.standard_normal(2)
    if bias:
        check(ag.linear, x, w, b)
        np.testing.assert_allclose(ag.linear(x, w, b).data, x @ w.T + b)
    else:
        check(ag.linear, x, w)
        np.testing.assert_allclose(ag.linear(x, w).data, x @ w.T)
    with pytest.raises(ValueError, match=r"linear.*\(4, 4\)"):
        ag.linear(x, np.ones((4, 4)))


# -- reductions, with and without keepdims, over every axis choice ---------------

REDUCTIONS = {
    "sum": lambda x, ax, kd: x.sum(axis=ax, keepdims=kd),
    "mean": lambda x, ax, kd: x.mean(axis=ax, keepdims=kd),
    "max": lambda x, ax, kd: x.max(axis=ax, keepdims=kd),
    "min": lambda x, ax, kd: x.min(axis=ax, keepdims=kd),
    "logsumexp": lambda x, ax, kd: x.logsumexp(axis=ax, keepdims=kd),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, axis, keepdims):
    x = np.random.default_rng(3).permutation(24).reshape(2, 3, 4) / 7.0  # no ties
    fn = REDUCTIONS[name]
    check(lambda t: fn(t, axis, keepdims), x)
    ref = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
           "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))}
    np.testing.assert_allclose(fn(Tensor(x), axis, keepdims).data,
                               ref[name](x, axis=axis, keepdims=keepdims))


def test_max_ties_share_the_gradient():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [0, 0.5, 0.5, 0])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family(name, axis):
    x = np.random.default_rng(4).standard_normal((3, 4, 2))
    check(lambda t: getattr(t, name)(axis=axis), x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    sm = e / e.sum(axis=axis, keepdims=True)
    ref = sm if name == "softmax" else np.log(sm)
    np.testing.assert_allclose(getattr(Tensor(x), name)(axis=axis).data, ref, atol=1e-12)


# -- shape ops --------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6),
    "reshape_minus1": lambda x: x.reshape(-1, 3),
    "transpose": lambda x: x.transpose(2, 0, 1),
    "T": lambda x: x.T,
    "broadcast_to": lambda x: x[:, :1].broadcast_to((5, 2, 3, 4)),
    "slice": lambda x: x[1:, ::2, -1],
    "int_array_repeats": lambda x: x[[0, 0, 1, 0]],
    "int_arrays_pair": lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 2])],
    "bool_mask": lambda x: x[x.data > 0.2],
    "ellipsis_newaxis": lambda x: x[..., None, 1],
    "concatenate": lambda x: ag.concatenate([x, x[:, :1] * 2.0], axis=1),
    "stack": lambda x: ag.stack([x[0], x[1], x[0]], axis=1),
    "astype": lambda x: x.astype(np.float64) * x,
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(name):
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    check(SHAPE_OPS[name], x)


def test_astype_casts_the_gradient_back():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2, 2, 2])


def test_repeated_indices_accumulate():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[1, 1, 1, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 3, 0, 1])


def test_module_functions_match_methods():
    x = Tensor(np.random.default_rng(0).uniform(0.5, 2, (3, 4)))
    for name in ["exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
                 "sum", "mean", "max", "min", "softmax", "log_softmax", "logsumexp"]:
        np.testing.assert_array_equal(getattr(ag, name)(x).data, getattr(x, name)().data)
    np.testing.assert_array_equal(ag.reshape(x, (4, 3)).data, x.reshape(4, 3).data)
    np.testing.assert_array_equal(ag.transpose(x, (1, 0)).data, x.data.T)
    np.testing.assert_array_equal(ag.clip(x, 0.7, 1.2).data, np.clip(x.data, 0.7, 1.2))
    np.testing.assert_array_equal(ag.exp(x.data).data, np.exp(x.data))  # ndarrays accepted
