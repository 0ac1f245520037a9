"""The losses added after torch.nn's (SmoothL1, Huber, SoftMargin, MultiLabelSoftMargin,
CosineEmbedding, MarginRanking, TripletMargin, GaussianNLL, PoissonNLL) and the
distances (cosine_similarity, pairwise_distance): values and gradients equal
PyTorch's on hypothesis-drawn shapes, every reduction; gradients and second
derivatives by finite differences; dtypes kept; errors named."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor
import nn
import nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


def sign(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


# name -> (our call, torch's call, arrays for (rng, n, d), which arrays get gradients)
def _cases():
    return {
        "smooth_l1": (lambda r, a, b: F.smooth_l1_loss(a, b, reduction=r, beta=0.6),
                      lambda tF, r, a, b: tF.smooth_l1_loss(a, b, reduction=r, beta=0.6),
                      lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d))],
                      (True, True)),
        "smooth_l1_beta0": (lambda r, a, b: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
                            lambda tF, r, a, b: tF.smooth_l1_loss(a, b, reduction=r, beta=0.0),
                            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal(d)],
                            (True, False)),
        "huber": (lambda r, a, b, w: F.huber_loss(a, b, reduction=r, delta=0.8, weight=w),
                  lambda tF, r, a, b, w: tF.huber_loss(a, b, reduction=r, delta=0.8, weight=w),
                  lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                                   g.random((n, d))], (True, True, True)),
        "soft_margin": (lambda r, a, y: F.soft_margin_loss(a, y, reduction=r),
                        lambda tF, r, a, y: tF.soft_margin_loss(a, y, reduction=r),
                        lambda g, n, d: [g.standard_normal((n, d)) * 4, sign(g, (n, d))],
                        (True, False)),
        "multilabel_soft_margin": (
            lambda r, a, y, w: F.multilabel_soft_margin_loss(a, y, w, reduction=r),
            lambda tF, r, a, y, w: tF.multilabel_soft_margin_loss(a, y, w, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)) * 3, (g.random((n, d)) < .5) * 1.0,
                             g.random(d) + 0.5], (True, True, True)),
        "cosine_embedding": (
            lambda r, a, b, y: F.cosine_embedding_loss(a, b, y, 0.25, reduction=r),
            lambda tF, r, a, b, y: tF.cosine_embedding_loss(a, b, y, 0.25, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                             sign(g, n).astype(np.int64)], (True, True, False)),
        "margin_ranking": (
            lambda r, a, b, y: F.margin_ranking_loss(a, b, y, 0.3, reduction=r),
            lambda tF, r, a, b, y: tF.margin_ranking_loss(a, b, y, 0.3, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                             sign(g, (n, d))], (True, True, False)),
        "triplet": (
            lambda r, a, p, q: F.triplet_margin_loss(a, p, q, 0.7, 2, 1e-6, False, reduction=r),
            lambda tF, r, a, p, q: tF.triplet_margin_loss(a, p, q, 0.7, 2, 1e-6, False,
                                                          reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)) for _ in range(3)], (True,) * 3),
        "triplet_swap_p1": (
            lambda r, a, p, q: F.triplet_margin_loss(a, p, q, 2.0, 1, 1e-6, True, reduction=r),
            lambda tF, r, a, p, q: tF.triplet_margin_loss(a, p, q, 2.0, 1, 1e-6, True,
                                                          reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)) for _ in range(3)], (True,) * 3),
        "triplet_pinf": (
            lambda r, a, p, q: F.triplet_margin_loss(a, p, q, 1.5, float("inf"), reduction=r),
            lambda tF, r, a, p, q: tF.triplet_margin_loss(a, p, q, 1.5, float("inf"),
                                                          reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)) for _ in range(3)], (True,) * 3),
        "gaussian_nll": (
            lambda r, a, b, v: F.gaussian_nll_loss(a, b, v, full=True, reduction=r),
            lambda tF, r, a, b, v: tF.gaussian_nll_loss(a, b, v, full=True, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                             g.random((n, d)) + 0.1], (True, True, True)),
        "gaussian_nll_shared_var": (
            lambda r, a, b, v: F.gaussian_nll_loss(a, b, v, reduction=r),
            lambda tF, r, a, b, v: tF.gaussian_nll_loss(a, b, v, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                             g.random(n) + 0.1], (True, True, True)),
        "gaussian_nll_clamped_var": (
            lambda r, a, b, v: F.gaussian_nll_loss(a, b, v, eps=1e-3, reduction=r),
            lambda tF, r, a, b, v: tF.gaussian_nll_loss(a, b, v, eps=1e-3, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d)),
                             g.random((n, 1)) * 2e-3], (True, True, True)),
        "poisson_nll": (
            lambda r, a, y: F.poisson_nll_loss(a, y, reduction=r),
            lambda tF, r, a, y: tF.poisson_nll_loss(a, y, reduction=r),
            lambda g, n, d: [g.standard_normal((n, d)), g.poisson(2.0, (n, d)) * 1.0],
            (True, True)),
        "poisson_nll_rates_full": (
            lambda r, a, y: F.poisson_nll_loss(a, y, log_input=False, full=True, reduction=r),
            lambda tF, r, a, y: tF.poisson_nll_loss(a, y, log_input=False, full=True,
                                                    reduction=r),
            lambda g, n, d: [g.random((n, d)) + 0.1, g.poisson(2.0, (n, d)) * 1.0],
            (True, False)),
        "cosine_similarity": (
            lambda r, a, b: F.cosine_similarity(a, b, dim=1),
            lambda tF, r, a, b: tF.cosine_similarity(a, b, dim=1),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((1, d))],
            (True, True)),
        "cosine_similarity_dim0_tiny": (
            lambda r, a, b: F.cosine_similarity(a, b, dim=0, eps=1e-3),
            lambda tF, r, a, b: tF.cosine_similarity(a, b, dim=0, eps=1e-3),
            lambda g, n, d: [g.standard_normal((n, d)) * 1e-5, g.standard_normal((n, d))],
            (True, True)),
        "pairwise_distance": (
            lambda r, a, b: F.pairwise_distance(a, b, p=3.0, keepdim=True),
            lambda tF, r, a, b: tF.pairwise_distance(a, b, p=3.0, keepdim=True),
            lambda g, n, d: [g.standard_normal((n, d)), g.standard_normal((n, d))],
            (True, True)),
    }


CASES = _cases()


@pytest.mark.filterwarnings("ignore:Using a target size")   # torch's, for a broadcast target
@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 4), seed=st.integers(0, 10_000),
       reduction=st.sampled_from(REDUCTIONS))
def test_values_and_gradients_equal_pytorch(name, n, d, seed, reduction):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as tF
    ours, theirs, data, grads = CASES[name]
    arrays = data(np.random.default_rng(seed), n, d)
    xs = [Tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    ts = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    out, expected = ours(reduction, *xs), theirs(tF, reduction, *ts)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed_grad = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(Tensor(seed_grad))
    expected.backward(torch.tensor(seed_grad))
    for x, t in zip(xs, ts):
        if t.grad is not None:
            np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


# (with the norms clamped at eps, cosine_similarity's gradient is PyTorch's, not the
# derivative of the clamped value: checked against PyTorch above)
@pytest.mark.parametrize("name", sorted(set(CASES) - {"cosine_similarity_dim0_tiny"}))
def test_gradients_and_second_derivatives_by_finite_differences(name):
    ours, _, data, grads = CASES[name]
    arrays = data(np.random.default_rng(5), 3, 4)
    if name.startswith("gaussian_nll_clamped"):
        arrays[2] = arrays[2] + 2e-3              # away from the clamp's kink
    free = [i for i, g in enumerate(grads) if g]

    def f(*ts):
        full = list(arrays)
        for i, t in zip(free, ts):
            full[i] = t
        return ours("sum", *[v if isinstance(v, Tensor) else Tensor(v) for v in full])
    inputs = tuple(Tensor(arrays[i], requires_grad=True) for i in free)
    assert ag.gradcheck(f, inputs)
    if not name.startswith(("triplet", "smooth_l1", "huber", "margin", "cosine_embedding")):
        assert ag.gradgradcheck(f, inputs)      # (the others are piecewise quadratic or linear)


def test_modules_wrap_the_functions_with_pytorchs_constructors():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    s = sign(rng, (4, 3))
    pairs = [
        (nn.SmoothL1Loss(beta=0.5)(x, y), F.smooth_l1_loss(x, y, beta=0.5)),
        (nn.HuberLoss(reduction="sum", delta=2.0)(x, y), F.huber_loss(x, y, "sum", 2.0)),
        (nn.SoftMarginLoss()(x, s), F.soft_margin_loss(x, s)),
        (nn.MultiLabelSoftMarginLoss(weight=[1.0, 2.0, 3.0])(x, s > 0),
         F.multilabel_soft_margin_loss(x, (s > 0) * 1.0, np.array([1.0, 2.0, 3.0]))),
        (nn.CosineEmbeddingLoss(0.1)(x, y, s[:, 0]), F.cosine_embedding_loss(x, y, s[:, 0], 0.1)),
        (nn.MarginRankingLoss(0.2)(x, y, s), F.margin_ranking_loss(x, y, s, 0.2)),
        (nn.TripletMarginLoss(swap=True)(x, y, -x), F.triplet_margin_loss(x, y, -x, swap=True)),
        (nn.GaussianNLLLoss(full=True)(x, y, np.ones(4)),
         F.gaussian_nll_loss(x, y, np.ones(4), full=True)),
        (nn.PoissonNLLLoss(log_input=False)(np.abs(x), np.abs(y)),
         F.poisson_nll_loss(np.abs(x), np.abs(y), log_input=False)),
        (nn.CosineSimilarity(dim=0)(x, y), F.cosine_similarity(x, y, dim=0)),
        (nn.PairwiseDistance(p=1, keepdim=True)(x, y), F.pairwise_distance(x, y, 1, keepdim=True)),
        (F.cosine_similarity(x, y, axis=0), F.cosine_similarity(x, y, dim=0)),   # NumPy's names
        (F.pairwise_distance(x, y, keepdims=True), F.pairwise_distance(x, y, keepdim=True)),
    ]
    for got, want in pairs:
        np.testing.assert_array_equal(got.data, want.data)
    assert nn.MultiLabelSoftMarginLoss(weight=[1.0, 2.0]).state_dict()["weight"].dtype == np.float64
    assert repr(nn.SmoothL1Loss(reduction="sum")) == "SmoothL1Loss(reduction='sum')"
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)                     # keyword-only, as PyTorch
    with pytest.warns(UserWarning, match="reduction='sum'"):
        legacy = nn.SmoothL1Loss(size_average=False)
    assert legacy.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.soft_margin_loss(x, s, reduce=False).shape == (4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TripletMarginLoss(reduction="sum")        # no legacy flags: no warning


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_input_dtype_is_kept(dtype):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True)
    y = rng.standard_normal((3, 4)).astype(dtype)
    s = sign(rng, (3, 4)).astype(dtype)
    outs = [F.smooth_l1_loss(x, y), F.huber_loss(x, y), F.soft_margin_loss(x, s),
            F.multilabel_soft_margin_loss(x, s > 0), F.cosine_embedding_loss(x, y, s[:, 0]),
            F.margin_ranking_loss(x, y, s), F.triplet_margin_loss(x, y, y * 2),
            F.gaussian_nll_loss(x, y, np.ones((3, 4), dtype)), F.poisson_nll_loss(x, y * y),
            F.cosine_similarity(x, y), F.pairwise_distance(x, y)]
    for out in outs:
        assert out.dtype == dtype
        out.sum().backward()
        assert x.grad.dtype == dtype
        x.grad = None


def test_soft_margin_and_multilabel_are_exact_at_extreme_scores():
    x = Tensor(np.array([[1000.0, -1000.0, 30.0]]), requires_grad=True)
    y = np.array([[-1.0, 1.0, 1.0]])
    out = F.soft_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(out.data, [[1000.0, 1000.0, np.log1p(np.exp(-30.0))]], rtol=1e-14)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1.0, -1.0, -1 / (1 + np.exp(30.0))]], rtol=1e-12)
    ml = F.multilabel_soft_margin_loss(x, (y > 0) * 1.0, reduction="none")
    np.testing.assert_allclose(ml.data, [(2000.0 + np.log1p(np.exp(-30.0))) / 3], rtol=1e-14)


def test_errors_name_the_function_and_the_argument():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"huber_loss: weight of shape \(2,\) must have the "
                                         r"input's shape \(3, 2\)"):
        F.huber_loss(x, x, weight=np.ones(2))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0.0)
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: .* got shapes \(3, 2\), \(2,\)"):
        F.triplet_margin_loss(x, x[0], x)
    with pytest.raises(ValueError, match="cosine_embedding_loss: a 1-D target of shape"):
        F.cosine_embedding_loss(x[0], x[0], np.ones(3))
    with pytest.raises(ValueError, match="0D or 1D target"):
        F.cosine_embedding_loss(x, x, np.ones((3, 1)))
    with pytest.raises(ValueError, match="margin_ranking_loss: all input tensors should have "
                                         "the same number of dimensions"):
        F.margin_ranking_loss(x, x, np.ones(3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, -np.ones((3, 2)))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(2,\) is of "
                                         r"incorrect size"):
        F.gaussian_nll_loss(x, x, np.ones(2))
    with pytest.raises(ValueError, match="poisson_nll_loss: reduction must be one of"):
        F.poisson_nll_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: target shape \(3,\)"):
        F.multilabel_soft_margin_loss(x, np.ones(3))
    with pytest.raises(ValueError, match="pairwise_distance: input1 of shape"):
        F.pairwise_distance(x, np.ones((4, 2)))
    with pytest.raises(IndexError, match="cosine_similarity: dim 2 is out of range"):
        F.cosine_similarity(x, x, dim=2)
