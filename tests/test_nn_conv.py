"""Conv2d and MaxPool2d against naive NumPy loops; gradients by ag.gradcheck.
(Comparisons with PyTorch across layers: tests/test_nn_conv_torch.py.)"""
import math
import time

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
import nn.functional as F

RNG = np.random.default_rng(99)


def pad_pair(p):
    return (p, p) if isinstance(p, int) else tuple(p)


def conv_reference(x, w, b, stride=1, padding=0, dilation=1):
    """Direct loops over output pixels: the definition of PyTorch's conv2d."""
    sh, sw = pad_pair(stride)
    dh, dw = pad_pair(dilation)
    if padding == "same":
        kh, kw = w.shape[2:]
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        ph, pw = pad_pair(padding)
        pads = (ph, ph, pw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    n, c, h, wd = xp.shape
    oc, _, kh, kw = w.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oc, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * sh: i * sh + dh * (kh - 1) + 1: dh,
                       j * sw: j * sw + dw * (kw - 1) + 1: dw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def pool_reference(x, k, stride=None, padding=0, dilation=1, ceil_mode=False):
    kh, kw = pad_pair(k)
    sh, sw = pad_pair(stride if stride is not None else k)
    ph, pw = pad_pair(padding)
    dh, dw = pad_pair(dilation)
    n, c, h, w = x.shape

    def size(L, k, s, p, d):
        num = L + 2 * p - d * (k - 1) - 1
        o = (math.ceil(num / s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= L + p:
            o -= 1
        return o
    oh, ow = size(h, kh, sh, ph, dh), size(w, kw, sw, pw, dw)
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh - ph + a * dh, j * sw - pw + b * dw
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, i, j] = np.maximum(out[:, :, i, j], x[:, :, r, q])
    return out


CONV_CASES = [
    # in, out, kernel, stride, padding, dilation, input HxW
    (1, 2, 3, 1, 0, 1, (5, 5)),
    (2, 3, 3, 1, 1, 1, (5, 6)),
    (2, 2, 3, 2, 1, 1, (7, 7)),
    (3, 2, (2, 3), (2, 1), (0, 2), 1, (6, 5)),
    (2, 2, 1, 1, 0, 1, (4, 4)),
    (2, 2, 1, 2, 1, 1, (5, 5)),
    (1, 2, 3, 1, 2, 2, (6, 6)),
    (2, 1, 5, 3, 2, 1, (9, 8)),
    (2, 2, 3, 1, "same", 1, (5, 4)),
    (2, 2, (2, 4), 1, "same", (1, 2), (5, 6)),
    (2, 2, 3, 1, "valid", 1, (5, 5)),
]


@pytest.mark.parametrize("cin,cout,k,s,p,d,hw", CONV_CASES)
def test_conv2d_forward_matches_loops(cin, cout, k, s, p, d, hw):
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, dtype=np.float64)
    x = RNG.standard_normal((2, cin) + hw)
    out = conv(Tensor(x))
    ref = conv_reference(x, conv.weight.data, conv.bias.data, s, p, d)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cin,cout,k,s,p,d,hw", [CONV_CASES[i] for i in (1, 2, 3, 4, 6, 9)])
def test_conv2d_gradcheck(cin, cout, k, s, p, d, hw):
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, dtype=np.float64)
    x = Tensor(RNG.standard_normal((2, cin) + hw), requires_grad=True)
    w = Tensor(conv.weight.data, requires_grad=True)
    b = Tensor(conv.bias.data, requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d), (x, w, b))


def test_conv2d_gradients_match_numpy_adjoint():
    """⟨g, conv(x)⟩ is linear in x and W: its gradients are the exact adjoints."""
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64)
    x = Tensor(RNG.standard_normal((2, 3, 7, 6)), requires_grad=True)
    out = conv(x)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    # d/dW_{ocij} = Σ g · patch; build by perturbing the reference (it is linear in W).
    eps_grad = np.zeros_like(conv.weight.data)
    for idx in np.ndindex(conv.weight.shape):
        e = np.zeros_like(conv.weight.data)
        e[idx] = 1.0
        eps_grad[idx] = (g * conv_reference(x.data, e, None, 2, 1)).sum()
    np.testing.assert_allclose(conv.weight.grad.data, eps_grad, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.bias.grad.data, g.sum(axis=(0, 2, 3)), rtol=1e-12)
    v = RNG.standard_normal(x.shape)
    lhs = (x.grad.data * v).sum()
    rhs = (g * conv_reference(v, conv.weight.data, None, 2, 1)).sum()
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(rhs))


def test_conv2d_unbatched_no_bias_and_float32():
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    assert conv.bias is None and conv.weight.dtype == np.float32
    x = RNG.standard_normal((2, 5, 5)).astype(np.float32)
    out = conv(x)
    assert out.shape == (3, 5, 5) and out.dtype == np.float32
    ref = conv_reference(x[None].astype(np.float64), conv.weight.data.astype(np.float64), None, 1, 1)[0]
    np.testing.assert_allclose(out.data, ref, rtol=1e-4, atol=1e-5)


def test_conv2d_init_and_repr():
    nn.init.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3)
    assert conv.weight.shape == (16, 8, 3, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.95 * bound
    assert repr(conv) == "Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(1, 2, (3, 5), stride=2, padding=1, bias=False)) == \
        "Conv2d(1, 2, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), bias=False)"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_conv2d_errors():
    conv = nn.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 2, 5, 5\) has 2 channels.*expects 3"):
        conv(np.ones((1, 2, 5, 5)))
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        conv(np.ones((5, 5)))
    with pytest.raises(ValueError, match="smaller than the"):
        conv(np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="in_channels=3 must be divisible by groups=2"):
        nn.Conv2d(3, 2, 3, groups=2)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(1, 1, 2.5)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        nn.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="bias must have shape"):
        F.conv2d(np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)), np.ones(3))


# ---------------------------------------------------------------- MaxPool2d

POOL_CASES = [
    # kernel, stride, padding, dilation, ceil_mode, HxW
    (2, None, 0, 1, False, (6, 6)),
    (2, None, 0, 1, False, (7, 5)),
    (3, 2, 1, 1, False, (7, 7)),
    (3, 1, 0, 1, False, (5, 6)),
    ((2, 3), (1, 2), (1, 1), 1, False, (5, 7)),
    (2, 2, 0, 2, False, (7, 7)),
    (3, 2, 0, 1, True, (8, 8)),
    (2, 2, 1, 1, True, (5, 5)),
    (1, 2, 0, 1, False, (5, 5)),
]


@pytest.mark.parametrize("k,s,p,d,ceil,hw", POOL_CASES)
def test_maxpool_forward_matches_loops(k, s, p, d, ceil, hw):
    x = RNG.standard_normal((2, 3) + hw)
    pool = nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)  # PyTorch's 5th argument is return_indices
    out = pool(x)
    ref = pool_reference(x, k, s, p, d, ceil)
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out.data, ref)
    # the differentiable path (a gather at the argmax) gives the same values
    tracked = pool(Tensor(x, requires_grad=True))
    assert tracked.requires_grad
    np.testing.assert_array_equal(tracked.data, ref)


@pytest.mark.parametrize("k,s,p,d,ceil,hw", POOL_CASES)
def test_maxpool_gradcheck(k, s, p, d, ceil, hw):
    x = RNG.permutation(np.arange(2 * 2 * hw[0] * hw[1], dtype=np.float64)).reshape((2, 2) + hw)
    x = x / x.size + 0.01 * RNG.standard_normal(x.shape) / x.size  # distinct values: no ties
    assert ag.gradcheck(lambda t: F.max_pool2d(t, k, s, p, d, ceil), (Tensor(x, requires_grad=True),),
                        eps=1e-7)


def test_maxpool_gradient_goes_to_the_first_maximum_as_pytorch():
    x = Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.data[0, 0], expected)
    # overlapping windows accumulate
    y = Tensor(np.array([[[[0.0, 5.0, 1.0, 0.0]]]]), requires_grad=True)
    out = F.max_pool2d(y, (1, 2), stride=1)
    np.testing.assert_array_equal(out.data, [[[[5, 5, 1]]]])
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[[[0, 2, 1, 0]]]])


def test_maxpool_propagates_nan_and_handles_inf_and_float32():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 3, 3] = -np.inf
    out = F.max_pool2d(x, 2).data
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 1] == 14 and out.dtype == np.float32
    xt = Tensor(x, requires_grad=True)
    tracked = F.max_pool2d(xt, 2)
    np.testing.assert_array_equal(tracked.data, out)
    tracked.sum().backward()
    assert xt.grad.data[0, 0, 1, 1] == 1 and xt.grad.data[0, 0, 0, 0] == 0  # the NaN gets it
    allneg = np.full((1, 1, 3, 3), -np.inf)
    np.testing.assert_array_equal(F.max_pool2d(allneg, 2, padding=1).data, -np.inf)


def test_maxpool_unbatched_and_errors():
    x = RNG.standard_normal((3, 4, 4))
    assert F.max_pool2d(x, 2).shape == (3, 2, 2)
    with pytest.raises(ValueError, match="at most half"):
        nn.MaxPool2d(2, padding=2)(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="too small"):
        nn.MaxPool2d(3)(np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="3-D"):
        nn.MaxPool2d(2)(np.ones((4, 4)))


def test_maxpool_forward_mode_and_second_order():
    x = Tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert ag.gradgradcheck(lambda t: F.max_pool2d(t * t, 2), (x,))


# ---------------------------------------------------------------- a small CNN

def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def test_cnn_forward_backward_speed_smoke():
    """The (100, 1, 28, 28) CNN of the benchmark; a loose bound that only a
    per-pixel Python loop would break (measured ≈ 0.06-0.1 s)."""
    nn.init.manual_seed(0)
    model = small_cnn()
    x = RNG.standard_normal((100, 1, 28, 28)).astype(np.float32)
    y = RNG.integers(0, 10, 100)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), y).backward()  # warm-up
    start = time.perf_counter()
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    elapsed = time.perf_counter() - start
    assert loss.dtype == np.float32
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in model.parameters())
    assert elapsed < 3.0, f"CNN forward+backward took {elapsed:.2f} s"


def test_cnn_learns_a_toy_task():
    """Bright top half vs bright bottom half: a few SGD steps separate them."""
    nn.init.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    rng = np.random.default_rng(0)
    x = rng.random((64, 1, 8, 8)).astype(np.float32) * 0.5
    y = rng.integers(0, 2, 64)
    x[y == 0, :, :4] += 1.0
    x[y == 1, :, 4:] += 1.0
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(60):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        first = first if first is not None else loss.item()
        for p in model.parameters():
            p.data -= 0.1 * p.grad.data
    acc = (model(x).data.argmax(1) == y).mean()
    assert loss.item() < 0.3 * first and acc == 1.0


def test_conv_and_pool_second_derivatives():
    x = Tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = Tensor(RNG.standard_normal((2, 2, 3, 3)), requires_grad=True)
    assert ag.gradgradcheck(lambda x, w: F.conv2d((x * x), w, None, 1, 1), (x, w))


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

if given is not None:
    @settings(max_examples=40, deadline=None)
    @given(cin=st.integers(1, 3), cout=st.integers(1, 3), kh=st.integers(1, 4), kw=st.integers(1, 4),
           sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
           dh=st.integers(1, 2), dw=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9))
    def test_conv2d_property_against_loops(cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, h, w):
        if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
            with pytest.raises(ValueError, match="smaller than the"):
                F.conv2d(np.ones((1, cin, h, w)), np.ones((cout, cin, kh, kw)), None,
                         (sh, sw), (ph, pw), (dh, dw))
            return
        rng = np.random.default_rng(h * 100 + w)
        x = rng.standard_normal((2, cin, h, w))
        wt = rng.standard_normal((cout, cin, kh, kw))
        b = rng.standard_normal(cout)
        out = F.conv2d(x, wt, b, (sh, sw), (ph, pw), (dh, dw))
        np.testing.assert_allclose(out.data, conv_reference(x, wt, b, (sh, sw), (ph, pw), (dh, dw)),
                                   rtol=1e-10, atol=1e-10)

    @settings(max_examples=40, deadline=None)
    @given(kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
           ph=st.integers(0, 2), pw=st.integers(0, 2), h=st.integers(1, 9), w=st.integers(1, 9),
           ceil=st.booleans())
    def test_max_pool2d_property_against_loops(kh, kw, sh, sw, ph, pw, h, w, ceil):
        if ph > kh / 2 or pw > kw / 2 or h + 2 * ph < kh or w + 2 * pw < kw:
            return
        x = np.random.default_rng(h * 10 + w).standard_normal((1, 2, h, w))
        out = F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), 1, ceil)
        np.testing.assert_array_equal(out.data, pool_reference(x, (kh, kw), (sh, sw), (ph, pw), 1, ceil))


def test_against_pytorch_conv_and_pool():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 8))
    for k, s, p, d in [(3, 1, 1, 1), (3, 2, 0, 1), ((2, 4), (1, 2), (1, 2), (2, 1))]:
        conv = nn.Conv2d(3, 4, k, s, p, d, dtype=np.float64)
        ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(conv.weight.data),
                                         torch.tensor(conv.bias.data), s, p, d)
        np.testing.assert_allclose(conv(x).data, ref.numpy(), rtol=1e-10, atol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 3, 2, 1).sum().backward()
    ours = Tensor(x, requires_grad=True)
    F.max_pool2d(ours, 3, 2, 1).sum().backward()
    np.testing.assert_array_equal(ours.grad.data, xt.grad.numpy())
