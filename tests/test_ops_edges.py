"""Edge cases of the math ops against PyTorch: float16 accumulation, NaN in
amax/amin, and empty shapes."""
import math

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
