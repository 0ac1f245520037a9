"""The convolution and pooling primitives (autograd_core.primitives: conv,
conv_transpose, conv_weight, max_pool) through the shared checker — VJP and
JVP against central differences, the adjoint identity, second order — with
every algorithm of ``conv_kernels`` forced in turn; the algorithms against
each other and against PyTorch; forward mode and Hessian-vector products
through a small CNN against finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor, conv_kernels
from autograd_core import primitives as P
from autograd_core.testing import check_grads
import nn
import nn.functional as F

RNG = np.random.default_rng(7)
ALGORITHMS = ("im2col", "shift", "depthwise")


@pytest.fixture(params=ALGORITHMS)
def algorithm(request, monkeypatch):
    """Force one algorithm wherever it applies (shift: stride 1; depthwise: one
    channel in and out per group); elsewhere the usual choice."""
    chosen = request.param
    usual = conv_kernels.plan

    def forced(kind, x_shape, w_shape, stride, padding, dilation, groups):
        if (chosen == "shift" and any(s != 1 for s in stride)) or \
                (chosen == "depthwise" and not (w_shape[1] == 1 and w_shape[0] == groups)):
            return usual(kind, x_shape, w_shape, stride, padding, dilation, groups)
        return chosen
    monkeypatch.setattr(conv_kernels, "plan", forced)
    return chosen


def settings_of(stride, padding, dilation, groups):
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


# (x shape, w shape, stride, (lo, hi) padding, dilation, groups): tiny, float64
CASES = [
    ((1, 2, 4, 4), (2, 2, 2, 2), (1, 1), ((1, 0), (0, 1)), (1, 1), 1),
    ((2, 2, 5, 4), (4, 1, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 2),
    ((1, 3, 4, 5), (3, 1, 2, 3), (1, 1), ((0, 1), (1, 1)), (2, 1), 3),   # depthwise
    ((2, 2, 7), (2, 2, 3), (2,), ((2, 1),), (1,), 1),                     # 1-D
    ((1, 2, 3, 3, 2), (2, 1, 2, 2, 1), (1, 1, 1), ((0, 1), (1, 0), (0, 0)), (1, 1, 1), 2),  # 3-D
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CASES)
def test_conv_check_grads(xs, ws, stride, padding, dilation, groups, algorithm):
    s = settings_of(stride, padding, dilation, groups)
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    assert check_grads(lambda x, w, b: P.conv(x, w, b, **s), x, w, b)


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CASES)
def test_conv_transpose_check_grads(xs, ws, stride, padding, dilation, groups, algorithm):
    s = settings_of(stride, padding, dilation, groups)
    size = xs[2:]
    g = RNG.standard_normal(P.conv(np.zeros(xs), np.zeros(ws), **s).shape)
    w, b = RNG.standard_normal(ws), RNG.standard_normal(xs[1])
    assert check_grads(lambda g, w, b: P.conv_transpose(g, w, b, size=size, **s), g, w, b)


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CASES)
def test_conv_weight_check_grads(xs, ws, stride, padding, dilation, groups, algorithm):
    s = settings_of(stride, padding, dilation, groups)
    x = RNG.standard_normal(xs)
    g = RNG.standard_normal(P.conv(x, np.zeros(ws), **s).shape)
    assert check_grads(lambda x, g: P.conv_weight(x, g, size=ws[2:], **s), x, g)


@settings(max_examples=8, deadline=None)
@given(dims=st.integers(1, 2), groups=st.integers(1, 2), cg=st.integers(1, 2), og=st.integers(1, 2),
       data=st.data())
def test_conv_primitives_check_grads_on_drawn_geometry(dims, groups, cg, og, data):
    """All three convolution primitives, first and second order, on hypothesis-drawn
    kernels, strides, paddings and dilations (tiny, float64)."""
    kernel = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    stride = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple((data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))) for _ in range(dims))
    size = tuple(data.draw(st.integers(max(1, d * (k - 1) + 1 - lo - hi), 4))
                 for k, d, (lo, hi) in zip(kernel, dilation, padding))
    s = settings_of(stride, padding, dilation, groups)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = rng.standard_normal((1, groups * cg) + size)
    w = rng.standard_normal((groups * og, cg) + kernel)
    g = rng.standard_normal(P.conv(x, w, **s).shape)
    assert check_grads(lambda x, w: P.conv(x, w, **s), x, w)
    assert check_grads(lambda g, w: P.conv_transpose(g, w, size=size, **s), g, w)
    assert check_grads(lambda x, g: P.conv_weight(x, g, size=kernel, **s), x, g)


def test_conv_transpose_with_extra_output_rows_check_grads():
    """output_padding ≥ stride (allowed when < dilation): outputs no forward window
    reaches; the adjoint crops them (the ``_fit`` in the table)."""
    s = settings_of((1, 1), ((0, 0), (0, 0)), (2, 2), 1)
    g, w = RNG.standard_normal((1, 2, 2, 3)), RNG.standard_normal((2, 2, 2, 2))
    assert check_grads(lambda g, w: P.conv_transpose(g, w, size=(5, 5), **s), g, w)


@pytest.mark.parametrize("kernel,stride,padding,dilation,size", [
    ((2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1), (4, 4)),
    ((3, 2), (1, 2), ((1, 1), (1, 1)), (1, 1), (4, 6)),   # overlapping, padded, ceil-mode hi
    ((2, 2), (1, 1), ((1, 1), (0, 0)), (2, 1), (5, 3)),   # dilated
    ((3,), (2,), ((1, 2),), (1,), (6,)),                  # 1-D
])
def test_max_pool_check_grads(kernel, stride, padding, dilation, size):
    x = RNG.permutation(np.arange(2 * 2 * int(np.prod(size)), dtype=np.float64))
    x = x.reshape((2, 2) + size) / 10.0  # spaced values: no ties within 1e-6
    s = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    assert check_grads(lambda x: P.max_pool(x, **s), x)


def test_pooling_composites_second_order():
    """avg pooling (a convolution), adaptive pooling (matmuls), nearest upsampling
    (broadcast or gather) and adaptive max pooling (a gather) are composites:
    their second derivatives come from the primitives'."""
    x = RNG.standard_normal((1, 2, 5, 4))
    assert check_grads(lambda t: F.avg_pool2d(t * t, 3, 2, 1, ceil_mode=True,
                                              count_include_pad=False), x)
    assert check_grads(lambda t: F.adaptive_avg_pool2d(t * t, (2, 3)), x)
    assert check_grads(lambda t: F.interpolate(t * t, scale_factor=(2, 1.5)), x)
    assert check_grads(lambda t: F.adaptive_max_pool2d(t * t, (3, 3)), x / 10 + np.arange(40).reshape(x.shape))


# ---------------------------------------------------------------------- kernels

@settings(max_examples=25, deadline=None)
@given(dims=st.integers(1, 3), groups=st.integers(1, 3), cg=st.integers(1, 9),
       og=st.integers(1, 3), data=st.data())
def test_algorithms_agree_with_torch(dims, groups, cg, og, data):
    """Every applicable algorithm gives PyTorch's conv, its input gradient and
    its weight gradient."""
    torch = pytest.importorskip("torch")
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    pad = tuple(data.draw(st.integers(0, 2)) for _ in range(dims))
    size = tuple(data.draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 6))
                 for k, d, p in zip(kernel, dilation, pad))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = rng.standard_normal((2, groups * cg) + size)
    w = rng.standard_normal((groups * og, cg) + kernel)
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = conv(xt, wt, None, stride, pad, dilation, groups)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    s = dict(stride=stride, padding=tuple((p, p) for p in pad), dilation=dilation, groups=groups)
    usual = conv_kernels.plan
    try:
        for how in ALGORITHMS:
            if how == "shift" and any(v != 1 for v in stride):
                continue
            if how == "depthwise" and (cg, og) != (1, 1):
                continue
            conv_kernels.plan = lambda *args, how=how: how
            np.testing.assert_allclose(conv_kernels.conv(x, w, **s), yt.detach().numpy(),
                                       atol=1e-10, err_msg=how)
            np.testing.assert_allclose(conv_kernels.conv_transpose(g, w, size=size, **s),
                                       xt.grad.numpy(), atol=1e-10, err_msg=how)
            np.testing.assert_allclose(conv_kernels.conv_weight(x, g, size=kernel, **s),
                                       wt.grad.numpy(), atol=1e-10, err_msg=how)
    finally:
        conv_kernels.plan = usual


def test_plan_picks_by_shape():
    def plan(kind, x, w, stride=(1, 1), groups=1):
        return conv_kernels.plan(kind, x, w, stride, ((1, 1), (1, 1)), (1, 1), groups)
    assert plan("conv", (64, 1, 28, 28), (8, 1, 3, 3)) == "im2col"       # thin products
    assert plan("weight", (64, 1, 28, 28), (8, 1, 3, 3)) == "im2col"
    assert plan("conv", (64, 8, 14, 14), (16, 8, 3, 3)) == "shift"
    assert plan("transpose", (64, 8, 14, 14), (16, 8, 3, 3)) == "shift"
    assert plan("transpose", (64, 8, 14, 14), (1, 8, 3, 3)) == "im2col"
    assert plan("conv", (64, 8, 14, 14), (16, 8, 3, 3), (2, 2)) == "im2col"  # strided
    assert plan("conv", (64, 32, 7, 7), (64, 32, 3, 3)) == "im2col"      # narrow: 9/7 wasted
    assert plan("conv", (4, 32, 9, 9), (32, 1, 3, 3), groups=32) == "depthwise"


def test_float32_stays_float32_on_every_path(algorithm):
    x = RNG.standard_normal((2, 8, 5, 5)).astype(np.float32)
    w = RNG.standard_normal((8, 1 if algorithm == "depthwise" else 8, 3, 3)).astype(np.float32)
    groups = 8 if algorithm == "depthwise" else 1
    s = settings_of((1, 1), ((1, 1), (1, 1)), (1, 1), groups)
    y = conv_kernels.conv(x, w, **s)
    assert y.dtype == np.float32
    assert conv_kernels.conv_transpose(y, w, size=(5, 5), **s).dtype == np.float32
    assert conv_kernels.conv_weight(x, y, size=(3, 3), **s).dtype == np.float32


# ---------------------------------------------------------------------- a small CNN

def tiny_cnn():
    ag.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64), nn.Tanh(),
                         nn.MaxPool2d(2), nn.Conv2d(3, 4, 2, dtype=np.float64), nn.Tanh(),
                         nn.ConvTranspose2d(4, 2, 2, stride=2, dtype=np.float64),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(2, 3, dtype=np.float64))


def _loss(model, x, y):
    return F.cross_entropy(model(x), y)


def _flat_grad(model, x, y):
    model.zero_grad()
    _loss(model, x, y).backward()
    return np.concatenate([p.grad.data.ravel() for p in model.parameters()])


def _shift(model, v, t):
    with ag.no_grad():
        for p, d in zip(model.parameters(), v):
            p.data += t * d


def test_jvp_and_hvp_through_a_cnn_against_finite_differences():
    model = tiny_cnn()
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((3, 2, 4, 4)), np.array([0, 2, 1])
    params = list(model.parameters())
    v = [rng.standard_normal(p.shape) for p in params]
    eps = 1e-5
    # forward mode: J v of the logits with respect to the parameters
    out, jv = ag.functional.closure_jvp(lambda: model(x), params, v)
    _shift(model, v, eps)
    plus = model(x).data
    _shift(model, v, -2 * eps)
    minus = model(x).data
    _shift(model, v, eps)
    np.testing.assert_allclose(jv.data, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
    # Hessian-vector product (Pearlmutter's R-operator, forward-over-reverse)
    _, hv = ag.functional.closure_hvp(lambda: _loss(model, x, y), params, v)
    _shift(model, v, eps)
    g_plus = _flat_grad(model, x, y)
    _shift(model, v, -2 * eps)
    g_minus = _flat_grad(model, x, y)
    _shift(model, v, eps)
    fd = (g_plus - g_minus) / (2 * eps)
    np.testing.assert_allclose(np.concatenate([h.data.ravel() for h in hv]), fd,
                               rtol=1e-5, atol=1e-8)
    # reverse-over-reverse agrees
    _, hv2 = ag.functional.closure_hvp(lambda: _loss(model, x, y), params, v,
                                       method="reverse-over-reverse")
    for a, b in zip(hv, hv2):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-9, atol=1e-12)


def test_input_hvp_through_conv_layers():
    """hvp with respect to the input image (all three convolution primitives'
    JVP and VJP rules in one product)."""
    model = tiny_cnn()
    rng = np.random.default_rng(4)
    x, y, v = rng.standard_normal((2, 2, 4, 4)), np.array([1, 0]), rng.standard_normal((2, 2, 4, 4))

    def f(t):
        return _loss(model, t, y)

    _, hv = ag.functional.hvp(f, Tensor(x), Tensor(v))
    eps = 1e-5
    gp = ag.functional.grad(f, Tensor(x + eps * v))
    gm = ag.functional.grad(f, Tensor(x - eps * v))
    np.testing.assert_allclose(hv.data, (gp.data - gm.data) / (2 * eps), rtol=1e-5, atol=1e-8)
