"""Edge cases of the math ops against PyTorch: float16 accumulation, NaN in
amax/amin, shapes that do not broadcast, and empty tensors."""
import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
from tests.torch_reference import torch


# ---------------------------------------------------------------------------
# float16 accumulates in float32 (as PyTorch's CPU kernels do) and rounds once
# ---------------------------------------------------------------------------

def test_float16_norm_and_scans_accumulate_in_float32():
    assert ag.ones((10, 60000), dtype=ag.float16).norm().item() == pytest.approx(774.5, abs=0.5)
    assert ag.ones(5000, dtype=ag.float16).cumsum(0)[-1].item() == 5000
    running = ag.full((3000,), 1.001, dtype=ag.float16).cumprod(0)[-1].item()
    assert running == pytest.approx(1.0009766 ** 3000, rel=2e-3)      # e^2.93 ≈ 18.7, not 14.9
    assert ag.ones(3, dtype=ag.float16).norm().dtype == np.float16
    assert ag.ones((2, 3), dtype=ag.float16).cumsum(1).dtype == np.float16


def test_float16_gradients_stay_float16():
    x = ag.tensor([3.0, 4.0], dtype=ag.float16, requires_grad=True)
    (x.norm() + x.cumsum(0).sum() + x.cumprod(0).sum()).backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.data.astype(np.float64), [0.6 + 2 + 1 + 4, 0.8 + 1 + 3],
                               rtol=1e-3)


@pytest.mark.parametrize("op", ["norm2", "norm1", "norm3", "norm_inf", "norm0", "cumsum",
                                "cumprod", "logsumexp", "var", "mean"])
def test_float16_values_as_torch(op):
    x = np.random.default_rng(0).standard_normal(70000).astype(np.float16) * 3
    if op == "cumprod":
        x = np.full(3000, 1.001, np.float16)
    calls = {"norm2": lambda t: t.norm(), "norm1": lambda t: t.norm(1),
             "norm3": lambda t: t.norm(3), "norm_inf": lambda t: t.norm(math.inf),
             "norm0": lambda t: t.norm(0), "cumsum": lambda t: t.cumsum(0),
             "cumprod": lambda t: t.cumprod(0), "logsumexp": lambda t: t.logsumexp(0),
             "var": lambda t: t.var(), "mean": lambda t: t.mean()}
    ours, theirs = calls[op](ag.tensor(x)), calls[op](torch.tensor(x))
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.data.astype(np.float64), theirs.double().numpy(),
                               rtol=2e-3)


# ---------------------------------------------------------------------------
# NaN in amax/amin: torch.amax's gradient is NaN over the slice; max's goes to the NaN
# ---------------------------------------------------------------------------

WITH_NAN = np.array([[1.0, np.nan, 3.0, 3.0], [2.0, 5.0, 5.0, 1.0]])
NAN_ROW = np.full(4, np.nan)


def grad_of(f, a=WITH_NAN):
    x = ag.tensor(a, requires_grad=True)
    f(x).sum().backward()
    return x.grad.data


def test_amax_amin_give_a_nan_gradient_to_a_slice_whose_extreme_is_nan():
    np.testing.assert_array_equal(grad_of(lambda x: x.amax(1)), [NAN_ROW, [0, 0.5, 0.5, 0]])
    np.testing.assert_array_equal(grad_of(lambda x: x.amin(dim=1)), [NAN_ROW, [0, 0, 0, 1]])
    np.testing.assert_array_equal(grad_of(lambda x: ag.amax(x)), [NAN_ROW, NAN_ROW])
    np.testing.assert_array_equal(grad_of(lambda x: x.amax(0, keepdim=True)),
                                  [[0, np.nan, 0, 1], [1, np.nan, 1, 0]])
    # max() and max(dim) give it to the NaN, as torch's max does
    np.testing.assert_array_equal(grad_of(lambda x: x.max()), [[0, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(grad_of(lambda x: x.max(dim=1).values),
                                  [[0, 1, 0, 0], [0, 1, 0, 0]])


def test_amax_forward_mode_and_empty_slices():
    _, tangent = ag.functional.jvp(lambda x: x.amax(1), ag.tensor(WITH_NAN), ag.ones((2, 4)))
    np.testing.assert_array_equal(tangent.data, [np.nan, 1.0])
    assert ag.amax(ag.ones((0, 3)), dim=1).shape == (0,)
    with pytest.raises(IndexError, match=r"amin: .*zero-size.*\(0, 3\)"):
        ag.amin(ag.ones((0, 3)), dim=0)


@pytest.mark.parametrize("call", [lambda t: t.amax(1), lambda t: t.amin(1), lambda t: t.amax(),
                                  lambda t: t.amin((0, 1)), lambda t: t.amax(0, keepdim=True),
                                  lambda t: t.max(), lambda t: t.max(dim=1).values,
                                  lambda t: t.min(dim=0).values, lambda t: t.min()])
def test_extrema_gradients_with_nan_as_torch(call):
    t = torch.tensor(WITH_NAN, requires_grad=True)
    call(t).sum().backward()
    np.testing.assert_array_equal(grad_of(call), t.grad.numpy())


# ---------------------------------------------------------------------------
# Shapes that do not broadcast: the error names the op and the shapes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda: ag.take_along_dim(ag.ones(3, 4), ag.zeros(2, 5, dtype=ag.int64), 1),
     r"take_along_dim: indices of shape \(2, 5\) do not broadcast with the input of shape "
     r"\(3, 4\) in the dimensions other than dim=1"),
    (lambda: ag.take_along_dim(ag.ones(3, 4), ag.zeros(2, 5, dtype=ag.int64), axis=-1),
     r"take_along_dim: .*\(2, 5\).*\(3, 4\).*dim=1"),
    (lambda: ag.clamp(ag.ones(3, 4), ag.ones(2, 5)),
     r"clip: shapes \(3, 4\) and \(2, 5\) cannot be broadcast together"),
    (lambda: ag.clamp(ag.ones(3, 4), None, ag.ones(2, 5)), r"clip: .*\(3, 4\) and \(2, 5\)"),
    (lambda: ag.clamp(ag.ones(3, 4), ag.zeros(4), ag.ones(2, 1, 3)),
     r"clip: shapes \(3, 4\) and \(4,\) and \(2, 1, 3\)"),
])
def test_non_broadcasting_shapes_name_the_op(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_take_along_dim_and_clamp_still_broadcast():
    out = ag.take_along_dim(ag.ones(3, 4), ag.zeros(1, 5, dtype=ag.int64), 1)
    assert out.shape == (3, 5)
    assert ag.clamp(ag.ones(3, 1), ag.zeros(4), ag.ones(2, 1, 1)).shape == (2, 3, 4)


# ---------------------------------------------------------------------------
# Empty tensors (tests/strategies.shapes draws sides >= 1, so the checkers never
# see one): values as NumPy / torch, and empty gradients of the input's shape
# ---------------------------------------------------------------------------

from tests.test_ops_math import BINARY, REDUCTIONS, STEPS, UNARY  # noqa: E402 - the op tables

EMPTY_SHAPES = [(0,), (2, 0), (0, 3, 1)]
CORE_UNARY = {"exp": (ag.exp, np.exp), "log": (ag.log, np.log), "sqrt": (ag.sqrt, np.sqrt),
              "abs": (ag.abs, np.abs), "sin": (ag.sin, np.sin), "cos": (ag.cos, np.cos),
              "tanh": (ag.tanh, np.tanh), "neg": (ag.neg, np.negative),
              "reciprocal": (ag.reciprocal, np.reciprocal),
              "sigmoid": (ag.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
              "relu": (ag.relu, lambda a: np.maximum(a, 0))}
ELEMENTWISE = sorted(set(UNARY) | set(CORE_UNARY) | set(STEPS))


def _elementwise(name):
    if name in CORE_UNARY:
        return CORE_UNARY[name][0]
    return UNARY[name][0] if name in UNARY else STEPS[name][0]


def _empty_leaf(shape):
    return ag.tensor(np.zeros(shape), requires_grad=True)


def _backward_gives_empty_grad(x, y):
    (y.sum() if y.ndim else y).backward()
    assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_on_empty_tensors(name, shape):
    x = _empty_leaf(shape)
    y = _elementwise(name)(x)
    assert y.shape == shape and y.dtype == np.float64
    if name in CORE_UNARY:
        np.testing.assert_array_equal(y.data, CORE_UNARY[name][1](np.zeros(shape)))
    _backward_gives_empty_grad(x, y)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 1)])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_on_empty_tensors(name, shape):
    a, b = _empty_leaf(shape), _empty_leaf(shape[-1:])
    y = BINARY[name][0](a, b)
    assert y.shape == shape
    y.sum().backward()
    assert a.grad.shape == shape and b.grad.shape == shape[-1:]


# reduction -> (ours on x, the NumPy reference on the array): all and each axis of (2, 0, 3)
NUMPY_REDUCTIONS = {
    "sum": (lambda x, d: x.sum(dim=d), lambda a, d: np.sum(a, axis=d)),
    "mean": (lambda x, d: x.mean(dim=d), lambda a, d: np.mean(a, axis=d)),
    "prod": (lambda x, d: x.prod(dim=d) if d is not None else x.prod(),
             lambda a, d: np.prod(a, axis=d)),
    "logsumexp": (lambda x, d: x.logsumexp(dim=d if d is not None else (0, 1, 2)),
                  lambda a, d: np.log(np.sum(np.exp(a), axis=d))),
    "norm": (lambda x, d: x.norm(dim=d), lambda a, d: np.sqrt(np.sum(a * a, axis=d))),
    "norm1": (lambda x, d: x.norm(1, d), lambda a, d: np.sum(np.abs(a), axis=d)),
    "cumsum": (lambda x, d: x.cumsum(d if d is not None else 0),
               lambda a, d: np.cumsum(a, axis=d if d is not None else 0)),
    "cumprod": (lambda x, d: x.cumprod(d if d is not None else 0),
                lambda a, d: np.cumprod(a, axis=d if d is not None else 0)),
    "softmax": (lambda x, d: x.softmax(d if d is not None else -1), None),
    "log_softmax": (lambda x, d: x.log_softmax(d if d is not None else -1), None),
    "amax_other_axis": (lambda x, d: x.amax(2), lambda a, d: np.amax(a, axis=2)),
    "amin_other_axis": (lambda x, d: x.amin(0), lambda a, d: np.amin(a, axis=0)),
}


@pytest.mark.parametrize("dim", [None, 0, 1, 2])
@pytest.mark.parametrize("name", sorted(NUMPY_REDUCTIONS))
def test_reductions_on_empty_tensors_as_numpy(name, dim):
    ours, reference = NUMPY_REDUCTIONS[name]
    x = _empty_leaf((2, 0, 3))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's mean of nothing
        y = ours(x, dim)
        expected = reference(np.zeros((2, 0, 3)), dim) if reference else np.zeros(y.shape)
    if reference is None:
        assert y.shape == (2, 0, 3)
    np.testing.assert_array_equal(y.data, expected)
    assert y.dtype == np.float64
    _backward_gives_empty_grad(x, y)


TORCH_REDUCTIONS = {**{f"{n}": REDUCTIONS[n][:2] for n in REDUCTIONS},
                    "sum": (lambda x, d, k: x.sum(dim=d, keepdim=k) if d is not None else x.sum(),
                            lambda x, d, k: x.sum(dim=d, keepdim=k) if d is not None else x.sum()),
                    "mean": (lambda x, d, k: x.mean(dim=d, keepdim=k),
                             lambda x, d, k: x.mean(dim=d, keepdim=k) if d is not None
                             else x.mean()),
                    "amax": (lambda x, d, k: x.amax(dim=d, keepdim=k),
                             lambda x, d, k: x.amax(dim=() if d is None else d, keepdim=k)),
                    "cumsum": (lambda x, d, k: x.cumsum(d), lambda x, d, k: x.cumsum(d)),
                    "softmax": (lambda x, d, k: x.softmax(d), lambda x, d, k: x.softmax(d))}


@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (2, True), ((0, 2), False),
                                         ((0, 1), True)])
@pytest.mark.parametrize("name", sorted(TORCH_REDUCTIONS))
def test_reductions_on_empty_tensors_as_torch(name, dim, keepdim):
    ours, theirs = TORCH_REDUCTIONS[name]
    if name in ("cumsum", "softmax", "prod") and not isinstance(dim, int):
        dim = 1   # one dim only, in torch
    t = torch.zeros((2, 0, 3), dtype=torch.float64, requires_grad=True)
    x = _empty_leaf((2, 0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # var/std of nothing: degrees of freedom <= 0
        try:
            expected = theirs(t, dim, keepdim)
        except (RuntimeError, IndexError, ValueError):
            with pytest.raises((RuntimeError, IndexError, ValueError)):
                ours(x, dim, keepdim)
            return
        y = ours(x, dim, keepdim)
    np.testing.assert_array_equal(y.data, expected.detach().numpy())
    _backward_gives_empty_grad(x, y)
