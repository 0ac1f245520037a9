"""Losses against NumPy references of PyTorch's definitions, every reduction,
gradients by ag.gradcheck, logits of ±1000, and the error messages."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
import nn.functional as F

RNG = np.random.default_rng(7)
REDUCTIONS = ["mean", "sum", "none"]


# ---------------------------------------------------------------- references

def log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def ref_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's cross_entropy for integer targets (LossNLL.cpp, incl. label smoothing)."""
    ca = 0 if x.ndim == 1 else 1
    c = x.shape[ca]
    lp = np.moveaxis(log_softmax(x, ca), ca, -1)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=float)
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    picked = np.take_along_axis(lp, np.asarray(ts)[..., None], -1)[..., 0]
    wt = w[ts] * valid
    nll = -picked * wt
    smooth = -(lp * w).sum(-1) * valid
    if reduction == "none":
        return (1 - ls) * nll + ls / c * smooth
    if reduction == "sum":
        return (1 - ls) * nll.sum() + ls / c * smooth.sum()
    return (1 - ls) * nll.sum() / wt.sum() + ls / c * smooth.sum() / wt.sum()


def ref_cross_entropy_probs(x, p, weight=None, reduction="mean", ls=0.0):
    ca = 0 if x.ndim == 1 else 1
    c = x.shape[ca]
    p = p * (1 - ls) + ls / c
    lp = log_softmax(x, ca)
    wshape = [1] * x.ndim
    wshape[ca] = c
    w = np.ones(wshape) if weight is None else np.asarray(weight).reshape(wshape)
    per = -(lp * p * w).sum(ca)
    if reduction == "mean":
        return per.sum() / (x.size / c)
    return reduce(per, reduction)


def ref_bce(x, t, weight=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return reduce(loss * (1 if weight is None else weight), reduction)


def ref_bce_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    loss = (1 - t) * x + lw * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))
    return reduce(loss * (1 if weight is None else weight), reduction)


def ref_kl(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t == 0, 0, t * np.log(t)) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return reduce(loss, reduction)


def ref_multi_margin(x, y, p=1, margin=1.0, weight=None, reduction="mean"):
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    y2 = np.atleast_1d(y)
    n, c = x2.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y2[i]:
                z = max(0.0, margin - x2[i, y2[i]] + x2[i, j]) ** p
                out[i] += z * (1 if weight is None else weight[y2[i]])
    out /= c
    return reduce(out.reshape(np.shape(y)), reduction)


def check(value, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(value.data, dtype=float), expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- cross-entropy

def test_cross_entropy_known_value():
    loss = F.cross_entropy(np.array([[1.0, 2.0, 3.0]]), np.array([0]))
    assert abs(loss.item() - (np.log(np.e + np.e ** 2 + np.e ** 3) - 1)) < 1e-12


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [
    {},
    {"weight": [0.2, 1.0, 3.0, 0.5]},
    {"ignore_index": 1},
    {"weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 2},
    {"ls": 0.1},
    {"ls": 0.2, "weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 0},
], ids=lambda o: ",".join(o) or "plain")
def test_cross_entropy_matches_pytorch_semantics(reduction, options):
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 1, 2])
    kw = {"weight": options.get("weight"), "ignore_index": options.get("ignore_index", -100),
          "reduction": reduction, "label_smoothing": options.get("ls", 0.0)}
    expected = ref_cross_entropy(x, t, options.get("weight"), kw["ignore_index"], reduction,
                                 options.get("ls", 0.0))
    check(F.cross_entropy(x, t, **kw), expected)
    module = nn.CrossEntropyLoss(kw["weight"], kw["ignore_index"], reduction, kw["label_smoothing"])
    check(module(Tensor(x), Tensor(t)), expected, rtol=1e-6)   # float32 weight buffer
    assert ag.gradcheck(lambda z: F.cross_entropy(z, t, **kw), (Tensor(x, requires_grad=True),))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(reduction):
    x = RNG.standard_normal((2, 3, 4, 2))
    t = RNG.integers(0, 3, (2, 4, 2))
    t[0, 0, 0] = -100
    w = np.array([1.0, 2.0, 0.5])
    out = F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.05)
    check(out, ref_cross_entropy(x, t, w, -100, reduction, 0.05))
    if reduction == "none":
        assert out.shape == (2, 4, 2)
    assert ag.gradcheck(lambda z: F.cross_entropy(z, t, weight=w, reduction=reduction),
                        (Tensor(x, requires_grad=True),))
    xu = RNG.standard_normal(5)
    check(F.cross_entropy(xu, np.array(3), reduction=reduction),
          ref_cross_entropy(xu, np.array(3), reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_probabilities(reduction):
    x = RNG.standard_normal((4, 3))
    p = RNG.random((4, 3))
    p /= p.sum(1, keepdims=True)
    w = np.array([0.5, 1.0, 2.0])
    check(F.cross_entropy(x, p, reduction=reduction), ref_cross_entropy_probs(x, p, None, reduction))
    check(F.cross_entropy(x, p, weight=w, reduction=reduction, label_smoothing=0.1),
          ref_cross_entropy_probs(x, p, w, reduction, 0.1))
    xs = RNG.standard_normal((2, 3, 5))
    ps = RNG.random((2, 3, 5))
    check(F.cross_entropy(xs, ps, weight=w, reduction=reduction),
          ref_cross_entropy_probs(xs, ps, w, reduction))
    # the soft targets are differentiable too
    assert ag.gradcheck(lambda z, q: F.cross_entropy(z, q, reduction=reduction),
                        (Tensor(x, requires_grad=True), Tensor(p, requires_grad=True)))


def test_cross_entropy_mean_over_all_ignored_is_nan_like_pytorch():
    with np.errstate(all="ignore"):
        out = F.cross_entropy(np.zeros((2, 3)), np.array([-100, -100]))
    assert np.isnan(out.item())


def test_cross_entropy_at_extreme_logits():
    for dtype in (np.float32, np.float64):
        x = Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], dtype=dtype),
                   requires_grad=True)
        t = np.array([1, 2])
        loss = F.cross_entropy(x, t, reduction="sum")
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.item(), 2000 + np.log(2), rtol=1e-6)
        loss.backward()
        g = x.grad.data
        assert np.all(np.isfinite(g))
        # float32: the engine's log_softmax at |x| = 1000 is good to ~eps·1000
        np.testing.assert_allclose(g, [[1, -1, 0], [0, 0.5, -0.5]],
                                   atol=1e-4 if dtype == np.float32 else 1e-12)
        ls = F.cross_entropy(x, t, label_smoothing=0.1)
        assert np.isfinite(ls.item())


def test_nll_loss_matches_reference_and_gradcheck():
    x = log_softmax(RNG.standard_normal((5, 4)), 1)
    t = np.array([3, 0, 1, 1, 2])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    for reduction in REDUCTIONS:
        nll_ref = ref_cross_entropy(x, t, w, 2, reduction)  # CE of log-probs = NLL
        check(F.nll_loss(x, t, weight=w, ignore_index=2, reduction=reduction), nll_ref)
        check(nn.NLLLoss(w, 2, reduction)(x, t), nll_ref, rtol=1e-6)
    assert ag.gradcheck(lambda z: F.nll_loss(z, t, weight=w), (Tensor(x, requires_grad=True),))
    np.testing.assert_allclose(F.nll_loss(x, t, reduction="none").data, -x[np.arange(5), t])


# ---------------------------------------------------------------- binary losses

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_reference_and_gradcheck(reduction):
    x = RNG.uniform(0.05, 0.95, (4, 3))
    t = RNG.random((4, 3))
    w = RNG.uniform(0.5, 2, (3,))
    check(F.binary_cross_entropy(x, t, reduction=reduction), ref_bce(x, t, None, reduction))
    check(nn.BCELoss(w, reduction)(x, t), ref_bce(x, t, w, reduction), rtol=1e-6)
    assert ag.gradcheck(lambda z, q: F.binary_cross_entropy(z, q, w, reduction),
                        (Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)))


def test_bce_clamps_log_at_minus_100():
    x = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5]), requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(loss.data, [100, 100, 0, 0, 100, np.log(2)], rtol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(x.grad.data[-1], -2.0)
    for dtype in (np.float32, np.float64):   # sigmoid outputs of ±1000 are exactly 0 and 1
        z = Tensor(np.array([-1000.0, 1000.0, -100.0, 100.0], dtype=dtype), requires_grad=True)
        out = F.binary_cross_entropy(z.sigmoid(), np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype))
        assert np.isfinite(out.item()) and abs(out.item() - 100) < 1e-2  # float32 subnormals
        out.backward()
        assert np.all(np.isfinite(z.grad.data))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_reference_and_gradcheck(reduction):
    x = RNG.standard_normal((5, 3)) * 3
    x[0, 0] = 0.0   # the kink of max(x, 0) is smooth in the loss: gradient σ(0) − y
    t = RNG.random((5, 3))
    w = RNG.uniform(0.5, 2, (5, 1))
    pw = np.array([1.0, 2.0, 0.5])
    check(F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
          ref_bce_logits(x, t, None, reduction), rtol=1e-9)
    check(nn.BCEWithLogitsLoss(w, reduction, pw)(x, t), ref_bce_logits(x, t, w, reduction, pw),
          rtol=1e-6)
    assert ag.gradcheck(lambda z, q: F.binary_cross_entropy_with_logits(z, q, w, reduction, pw),
                        (Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)))


def test_bce_with_logits_at_extreme_logits():
    for dtype in (np.float32, np.float64):
        x = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype=dtype), requires_grad=True)
        t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none",
                                                  pos_weight=np.array(3.0, dtype=dtype))
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.data, [0, 0, 1000, 3000, 3 * np.log(2)], rtol=1e-6)
        loss.sum().backward()
        # d/dx = (1 + (p−1)y)·(σ(x) − 1) + (1 − y)
        np.testing.assert_allclose(x.grad.data, [0, 0, 1, -3, -1.5], atol=1e-6)


def test_sigmoid_then_bce_equals_bce_with_logits():
    x = RNG.standard_normal(6)
    t = (RNG.random(6) > 0.5).astype(float)
    a = F.binary_cross_entropy(Tensor(x).sigmoid(), t)
    b = F.binary_cross_entropy_with_logits(x, t)
    assert abs(a.item() - b.item()) < 1e-12


# ---------------------------------------------------------------- regression losses

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    x = RNG.standard_normal((3, 4))
    y = RNG.standard_normal((3, 4))
    check(F.mse_loss(x, y, reduction), reduce((x - y) ** 2, reduction))
    check(nn.MSELoss(reduction)(x, y), reduce((x - y) ** 2, reduction))
    check(F.l1_loss(x, y, reduction), reduce(np.abs(x - y), reduction))
    check(nn.L1Loss(reduction)(x, y), reduce(np.abs(x - y), reduction))
    check(F.mse_loss(x, y[0], reduction), reduce((x - y[0]) ** 2, reduction))  # broadcast target
    assert ag.gradcheck(lambda a, b: F.mse_loss(a, b, reduction),
                        (Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)))
    assert ag.gradcheck(lambda a: F.l1_loss(a, y, reduction), (Tensor(x, requires_grad=True),))


def test_mse_gradient_is_2_diff_over_n():
    x = Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    nn.MSELoss()(x, np.array([0.0, 2.0, 1.0])).backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.array([1.0, 0.0, 3.0]) / 3)


# ---------------------------------------------------------------- KL divergence

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = log_softmax(RNG.standard_normal((4, 5)), 1)
    p = RNG.random((4, 5))
    p[0, 1] = 0.0   # zero target probability contributes 0
    p /= p.sum(1, keepdims=True)
    t = np.log(p + 1e-3) if log_target else p
    check(F.kl_div(x, t, reduction, log_target), ref_kl(x, t, reduction, log_target))
    check(nn.KLDivLoss(reduction, log_target)(x, t), ref_kl(x, t, reduction, log_target))
    assert ag.gradcheck(lambda a: F.kl_div(a, t, reduction, log_target), (Tensor(x, requires_grad=True),))
    tt = RNG.random((4, 5)) + 0.1 if not log_target else t
    assert ag.gradcheck(lambda b: F.kl_div(x, b, reduction, log_target),
                        (Tensor(tt, requires_grad=True),))


def test_kl_div_batchmean_is_the_kl_divergence_and_finite_at_extremes():
    p = np.array([[0.5, 0.5, 0.0]])
    q = np.array([[0.25, 0.25, 0.5]])
    out = F.kl_div(np.log(q), p, reduction="batchmean")
    assert abs(out.item() - np.log(2)) < 1e-12
    logits = Tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32), requires_grad=True)
    loss = F.kl_div(logits.log_softmax(-1), np.array([[0.2, 0.3, 0.5]], dtype=np.float32),
                    reduction="batchmean")
    assert np.isfinite(loss.item())
    loss.backward()
    assert np.all(np.isfinite(logits.grad.data))


# ---------------------------------------------------------------- hinge losses

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 1.0, False), (1, 0.5, True)])
def test_multi_margin_loss(reduction, p, margin, weighted):
    x = RNG.standard_normal((5, 4))
    y = np.array([0, 3, 2, 2, 1])
    w = np.array([1.0, 2.0, 0.5, 1.5]) if weighted else None
    expected = ref_multi_margin(x, y, p, margin, w, reduction)
    check(F.multi_margin_loss(x, y, p, margin, w, reduction), expected)
    check(nn.MultiMarginLoss(p, margin, w, reduction)(x, y), expected, rtol=1e-6)
    assert ag.gradcheck(lambda z: F.multi_margin_loss(z, y, p, margin, w, reduction),
                        (Tensor(x, requires_grad=True),))
    check(F.multi_margin_loss(x[0], np.array(y[0]), p, margin, w, reduction),
          ref_multi_margin(x[0], np.array(y[0]), p, margin, w, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss_multiclass_and_binary(reduction):
    x = RNG.standard_normal((6, 3))
    y = RNG.integers(0, 3, 6)
    check(nn.HingeLoss(reduction=reduction)(x, y), ref_multi_margin(x, y, 1, 1.0, None, reduction))
    s = RNG.standard_normal(8)
    yb = np.where(RNG.random(8) > 0.5, 1, -1)
    expected = reduce(np.maximum(0, 1 - yb * s), reduction)
    check(nn.HingeLoss(reduction=reduction)(s, yb), expected)
    check(F.hinge_loss(s, yb.astype(float), margin=2.0, reduction=reduction),
          reduce(np.maximum(0, 2 - yb * s), reduction))
    assert ag.gradcheck(lambda z: F.hinge_loss(z, yb, reduction=reduction),
                        (Tensor(s, requires_grad=True),))


def test_margin_losses_at_extreme_scores():
    x = Tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32), requires_grad=True)
    loss = nn.HingeLoss()(x, np.array([1]))
    np.testing.assert_allclose(loss.item(), (2001 + 1001) / 3, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [[1 / 3, -2 / 3, 1 / 3]], rtol=1e-6)


# ---------------------------------------------------------------- all losses at ±1000

EXTREME = np.array([[1000.0, -1000.0, 0.0, 3.0], [-1000.0, 1000.0, 1000.0, -1000.0]])


@pytest.mark.parametrize("name,fn", [
    ("cross_entropy", lambda z: F.cross_entropy(z, np.array([1, 3]))),
    ("cross_entropy_ls_w", lambda z: F.cross_entropy(z, np.array([1, 3]), weight=[1, 2, 3, 4],
                                                     label_smoothing=0.3)),
    ("cross_entropy_probs", lambda z: F.cross_entropy(z, np.full((2, 4), 0.25))),
    ("nll_of_log_softmax", lambda z: F.nll_loss(z.log_softmax(1), np.array([0, 2]))),
    ("bce_with_logits", lambda z: F.binary_cross_entropy_with_logits(z, (EXTREME < 0) * 1.0)),
    ("bce_of_sigmoid", lambda z: F.binary_cross_entropy(z.sigmoid(), (EXTREME < 0) * 1.0)),
    ("kl_div", lambda z: F.kl_div(z.log_softmax(1), np.full((2, 4), 0.25), "batchmean")),
    ("multi_margin", lambda z: F.multi_margin_loss(z, np.array([0, 3]), p=2)),
    ("mse", lambda z: F.mse_loss(z, np.zeros((2, 4)))),
    ("softmax_mse", lambda z: F.mse_loss(z.softmax(1), np.full((2, 4), 0.25))),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_loss_is_finite_at_logits_of_1000(name, fn, dtype):
    z = Tensor(EXTREME.astype(dtype), requires_grad=True)
    loss = fn(z)
    assert loss.dtype == dtype and np.isfinite(loss.item()), name
    loss.backward()
    assert np.all(np.isfinite(z.grad.data)), name


# ---------------------------------------------------------------- errors

def test_errors_name_the_function_argument_and_shapes():
    x = np.zeros((4, 3))
    with pytest.raises(TypeError, match=r"cross_entropy: target must hold integer class indices, "
                                        r"got dtype float64 with shape \(4,\)"):
        F.cross_entropy(x, np.zeros(4))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds.*\[0, 2\].*3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(x, np.array([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"target of shape \(5,\) does not match input of shape "
                                         r"\(4, 3\).*batch sizes differ"):
        F.cross_entropy(x, np.zeros(5, dtype=int))
    with pytest.raises(TypeError, match="class probabilities must have the input's shape"):
        F.cross_entropy(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of 'mean', 'sum', "
                                         r"'none', got 'avg'"):
        F.cross_entropy(x, np.zeros(4, dtype=int), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, np.zeros(4, dtype=int), weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, np.zeros(4, dtype=int), label_smoothing=1.5)
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="elementwise")
    with pytest.raises(ValueError, match="KLDivLoss: reduction"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="nll_loss: target of shape"):
        F.nll_loss(x, np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should be "
                                         r"between 0 and 1"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target shape \(3,\) "
                                         r"must be the same as input shape \(3, 1\)"):
        F.binary_cross_entropy_with_logits(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3,\) does not match input "
                                         r"shape \(3, 1\)"):
        F.mse_loss(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(np.zeros((3, 2)), np.zeros((3, 2)), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, np.zeros(4, dtype=int), p=3)
    with pytest.raises(ValueError, match="hinge_loss: binary targets .* must be -1 or \\+1"):
        F.hinge_loss(np.zeros(3), np.array([0, 1, 1]))
    with pytest.raises(IndexError, match="for binary ±1 targets give the target the input's shape"):
        F.hinge_loss(np.zeros((3, 1)), np.array([1, -1, 1]))
    with pytest.raises(ValueError, match="batchmean"):
        F.kl_div(np.array(0.0), np.array(0.5), reduction="batchmean")
    with pytest.raises(TypeError, match="one_hot"):
        F.one_hot(np.array([0.5]))


def test_one_hot():
    out = F.one_hot(np.array([[0, 2], [1, 0]]))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data[0, 1], [0, 0, 1])
    assert F.one_hot(Tensor(np.array([1])), num_classes=4).shape == (1, 4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.one_hot(np.array([2]), num_classes=2)


def test_loss_modules_register_weights_as_buffers():
    ce = nn.CrossEntropyLoss(weight=[1.0, 2.0])
    assert list(ce.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=[2.0]).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.HingeLoss()) == "HingeLoss(margin=1.0)"


# ---------------------------------------------------------------- against PyTorch, if present

def test_against_pytorch_losses():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 1, -100])
    w = np.array([0.2, 1.0, 3.0, 0.5])
    for reduction in REDUCTIONS:
        ours = F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.1)
        theirs = tF.cross_entropy(torch.tensor(x), torch.tensor(t), weight=torch.tensor(w),
                                  reduction=reduction, label_smoothing=0.1)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10)
        p = RNG.uniform(0.01, 0.99, (6, 4))
        y = RNG.random((6, 4))
        np.testing.assert_allclose(F.binary_cross_entropy(p, y, reduction=reduction).data,
                                   tF.binary_cross_entropy(torch.tensor(p), torch.tensor(y),
                                                           reduction=reduction).numpy(), rtol=1e-10)
        np.testing.assert_allclose(
            F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=w).data,
            tF.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y), reduction=reduction,
                                                pos_weight=torch.tensor(w)).numpy(), rtol=1e-9)
        tt = np.array([0, 1, 2, 3, 1, 0])
        np.testing.assert_allclose(
            F.multi_margin_loss(x, tt, reduction=reduction).data,
            tF.multi_margin_loss(torch.tensor(x), torch.tensor(tt), reduction=reduction).numpy(),
            rtol=1e-10)
    lp = log_softmax(x, 1)
    q = np.abs(RNG.standard_normal((6, 4)))
    for reduction in REDUCTIONS + ["batchmean"]:
        np.testing.assert_allclose(F.kl_div(lp, q, reduction).data,
                                   tF.kl_div(torch.tensor(lp), torch.tensor(q),
                                             reduction=reduction).numpy(), rtol=1e-10)


# ---------------------------------------------------------------- second order

_T34 = np.random.default_rng(3).random((3, 4))


@pytest.mark.parametrize("name,fn", [
    ("cross_entropy", lambda z: F.cross_entropy(z, np.array([0, 1, 3]), weight=[1, 2, 3, 4],
                                                label_smoothing=0.1)),
    ("bce_with_logits", lambda z: F.binary_cross_entropy_with_logits(z, _T34, pos_weight=np.full(4, 2.0))),
    ("bce", lambda z: F.binary_cross_entropy(z.sigmoid(), _T34)),
    ("kl_div", lambda z: F.kl_div(z.log_softmax(1), _T34, "batchmean")),
    ("multi_margin_p2", lambda z: F.multi_margin_loss(z, np.array([0, 1, 3]), p=2)),
    ("mse", lambda z: F.mse_loss(z, _T34)),
])
def test_losses_have_correct_second_derivatives(name, fn):
    """Hessian-vector products (Newton, Hessian-free) differentiate the backward pass."""
    z = Tensor(np.random.default_rng(4).standard_normal((3, 4)), requires_grad=True)
    assert ag.gradgradcheck(fn, (z,)), name
