"""Convolution, pooling, channel-dropout and upsampling layers against PyTorch,
from the same weights: outputs, parameter gradients and input gradients, in
float32 and float64, over hypothesis-drawn shapes, strides, paddings,
dilations and groups; state_dict round trips with torch's names; errors."""
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-5)}
DTYPES = st.sampled_from([np.float32, np.float64])
FEW = settings(max_examples=20, deadline=None)


def torch_twin(ours, theirs):
    """The torch layer in our layer's dtype, holding our layer's state_dict (same
    names, same layouts)."""
    theirs = theirs.to(torch.float64 if ours.weight.dtype == np.float64 else torch.float32)
    theirs.load_state_dict({k: torch.tensor(np.array(v.data)) for k, v in ours.state_dict().items()})
    return theirs


def compare(ours, theirs, x, dtype, params=()):
    """Same input, same cotangent: the outputs of the callables ``ours`` and
    ``theirs`` and their input gradients agree, and so do the gradients of the
    named parameter pairs ``params``."""
    x = x.astype(dtype)
    xo = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    assert yo.dtype == dtype
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), **TOL[dtype])
    g = np.random.default_rng(0).standard_normal(yo.shape).astype(dtype)
    yo.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), **TOL[dtype])
    for name, (po, pt) in params:
        np.testing.assert_allclose(po.grad.data, pt.grad.numpy(), **TOL[dtype], err_msg=name)


def compare_layers(ours, theirs, x, dtype):
    """``compare`` for two layers, with every parameter's gradient."""
    mine = dict(ours.named_parameters())
    pairs = [(name, (mine[name], p)) for name, p in theirs.named_parameters()]
    assert sorted(mine) == sorted(name for name, _ in pairs)
    compare(ours, theirs, x, dtype, pairs)


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------- convolutions

@st.composite
def conv_case(draw, dims):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    if all(s == 1 for s in stride) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
        pads = [(d * (k - 1) + 1) // 2 if padding == "same" else 0 for k, d in zip(kernel, dilation)]
    else:
        pads = [draw(st.integers(0, 2)) for _ in range(dims)]
        padding = tuple(pads)
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(draw(st.integers(max(1, sp - 2 * p, p + 1), sp + 5)) for sp, p in zip(span, pads))
    return dict(cin=cin, cout=cout, kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(st.booleans()), padding_mode=mode,
                size=size, batch=draw(st.integers(1, 3)), dtype=draw(DTYPES))


CONV_ARGS = ("stride", "padding", "dilation", "groups", "bias", "padding_mode")
TRANSPOSE_ARGS = ("stride", "padding", "output_padding", "groups", "bias", "dilation")


def layer_pair(ours_cls, theirs_cls, c, names):
    """Our layer and torch's, built with the same arguments, holding the same weights."""
    kw = {k: c[k] for k in names}
    ours = ours_cls(c["cin"], c["cout"], c["kernel"], dtype=c["dtype"], **kw)
    return ours, torch_twin(ours, theirs_cls(c["cin"], c["cout"], c["kernel"], **kw))


@FEW
@given(c=conv_case(2), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(c, seed):
    ours, theirs = layer_pair(nn.Conv2d, torch.nn.Conv2d, c, CONV_ARGS)
    compare_layers(ours, theirs, data(seed, (c["batch"], c["cin"]) + c["size"]), c["dtype"])


@FEW
@given(c=conv_case(1), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch(c, seed):
    ours, theirs = layer_pair(nn.Conv1d, torch.nn.Conv1d, c, CONV_ARGS)
    compare_layers(ours, theirs, data(seed, (c["batch"], c["cin"]) + c["size"]), c["dtype"])


# Every algorithm of conv_kernels on the layer path (im2col, shift, depthwise),
# strided and not, unbatched, with groups.
CONV2D_GRID = [
    # cin, cout, kernel, stride, padding, dilation, groups, size
    (1, 8, 3, 1, 1, 1, 1, (28, 28)),        # im2col (one input channel)
    (8, 16, 3, 1, 1, 1, 1, (14, 14)),       # shift
    (16, 8, (3, 2), 1, (2, 0), (1, 2), 2, (6, 7)),  # shift with groups, dilation
    (16, 16, 3, 1, 1, 1, 16, (5, 6)),       # depthwise
    (6, 12, 3, 1, "same", 2, 6, (7, 5)),    # channel multiplier 2 (im2col)
    (8, 8, 3, 2, 1, 1, 1, (9, 8)),          # strided: im2col, col2im
    (9, 6, 1, 1, 0, 1, 3, (4, 4)),          # 1×1
    (8, 8, 4, 1, 5, 1, 1, (3, 3)),          # padding wider than the kernel
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cin,cout,k,s,p,d,g,size", CONV2D_GRID)
def test_conv2d_grid_matches_torch(cin, cout, k, s, p, d, g, size, dtype):
    ours = nn.Conv2d(cin, cout, k, s, p, d, g, dtype=dtype)
    theirs = torch_twin(ours, torch.nn.Conv2d(cin, cout, k, s, p, d, g))
    compare_layers(ours, theirs, data(1, (3, cin) + size), dtype)
    compare_layers(ours, theirs, data(2, (cin,) + size), dtype)  # unbatched


@st.composite
def transpose_case(draw, dims):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = []
    for k, s, d, p, op in zip(kernel, stride, dilation, padding, output_padding):
        smallest = max(1, -(-(2 * p - d * (k - 1) - op) // s) + 1)  # output size >= 1
        size.append(draw(st.integers(smallest, smallest + 4)))
    return dict(cin=cin, cout=cout, kernel=kernel, stride=stride, padding=padding,
                output_padding=output_padding, dilation=dilation, groups=groups,
                bias=draw(st.booleans()), size=tuple(size), batch=draw(st.integers(1, 3)),
                dtype=draw(DTYPES))


@FEW
@given(c=transpose_case(2), seed=st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(c, seed):
    ours, theirs = layer_pair(nn.ConvTranspose2d, torch.nn.ConvTranspose2d, c, TRANSPOSE_ARGS)
    compare_layers(ours, theirs, data(seed, (c["batch"], c["cin"]) + c["size"]), c["dtype"])


@settings(max_examples=10, deadline=None)
@given(c=transpose_case(1), seed=st.integers(0, 2**16))
def test_conv_transpose1d_matches_torch(c, seed):
    ours, theirs = layer_pair(nn.ConvTranspose1d, torch.nn.ConvTranspose1d, c, TRANSPOSE_ARGS)
    compare_layers(ours, theirs, data(seed, (c["batch"], c["cin"]) + c["size"]), c["dtype"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cin,cout,k,s,p,op,g,d,size", [
    (16, 8, 4, 2, 1, 0, 1, 1, (7, 7)),      # the DCGAN upsampler (col2im)
    (8, 16, 3, 1, 1, 0, 1, 1, (6, 5)),      # stride 1: the shift kernel
    (8, 8, 3, 1, 0, 1, 2, 2, (4, 5)),       # output_padding < dilation, stride 1
    (4, 4, 3, 2, 1, 1, 4, 1, (5, 4)),       # depthwise, output_padding
])
def test_conv_transpose2d_grid_matches_torch(cin, cout, k, s, p, op, g, d, size, dtype):
    ours = nn.ConvTranspose2d(cin, cout, k, s, p, op, g, dilation=d, dtype=dtype)
    theirs = torch_twin(ours, torch.nn.ConvTranspose2d(cin, cout, k, s, p, op, g, dilation=d))
    compare_layers(ours, theirs, data(3, (2, cin) + size), dtype)


def test_conv_transpose2d_output_size_as_torch():
    ours = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, dtype=np.float64)
    theirs = torch_twin(ours, torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1))
    x = data(4, (1, 4, 5, 5))
    for size in [(9, 9), (10, 9), (1, 2, 10, 10)]:
        compare(lambda t: ours(t, output_size=size), lambda t: theirs(t, output_size=size), x,
                np.float64, [("weight", (ours.weight, theirs.weight))])
        ours.zero_grad()
        theirs.zero_grad()
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of "
                                         r"\(11, 9\), but valid sizes range from \(9, 9\) to "
                                         r"\(10, 10\)"):
        ours(x, output_size=(11, 9))


def test_conv_transpose_is_the_adjoint_of_conv():
    """⟨conv2d(x, W), y⟩ = ⟨x, conv_transpose2d(y, W)⟩ for the same settings."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2))
    y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2)
    u = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(u, w, stride=2, padding=1, output_padding=(0, 1), dilation=(1, 2),
                              groups=2)
    assert back.shape == x.shape
    assert np.isclose((y.data * u).sum(), (x * back.data).sum(), rtol=1e-12)


# ---------------------------------------------------------------------- pooling

def distinct(seed, shape):
    """Values with no ties (the derivative of max is then unambiguous)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 7.0


@st.composite
def pool_case(draw, dims):
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
                 for k, p, d in zip(kernel, padding, dilation))
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, size=size,
                ceil_mode=draw(st.booleans()), dtype=draw(DTYPES))


def _max_pool_check(dims, c, seed):
    fo = F.max_pool1d if dims == 1 else F.max_pool2d
    ft = torch.nn.functional.max_pool1d if dims == 1 else torch.nn.functional.max_pool2d
    kw = dict(kernel_size=c["kernel"], stride=c["stride"], padding=c["padding"],
              dilation=c["dilation"], ceil_mode=c["ceil_mode"])
    x = distinct(seed, (2, 3) + c["size"]).astype(c["dtype"])
    # a window wholly in the padding is -inf; PyTorch's index and gradient for it are
    # arbitrary (test_max_pool_window_in_the_padding has ours)
    hypothesis.assume(np.isfinite(fo(x, **kw).data).all())
    compare(lambda t: fo(t, **kw), lambda t: ft(t, **kw), x, c["dtype"])
    _, idx = fo(x, return_indices=True, **kw)
    _, idx_t = ft(torch.tensor(x), return_indices=True, **kw)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.data, idx_t.numpy())


@FEW
@given(c=pool_case(2), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_torch(c, seed):
    _max_pool_check(2, c, seed)


@settings(max_examples=10, deadline=None)
@given(c=pool_case(1), seed=st.integers(0, 2**16))
def test_max_pool1d_matches_torch(c, seed):
    _max_pool_check(1, c, seed)


def test_max_pool_ties_and_nan_choose_as_torch():
    """Ties go to the first maximum of a window; among NaNs the last one wins."""
    x = np.array([[[[1.0, 1.0, 0.0, np.nan, 5.0, np.nan],
                    [1.0, 0.0, 2.0, 2.0, np.nan, 0.0]]]])
    for kw in [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=1), dict(kernel_size=2, stride=1, padding=1)]:
        xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, io = F.max_pool2d(xo, return_indices=True, **kw)
        yt, it = torch.nn.functional.max_pool2d(xt, return_indices=True, **kw)
        np.testing.assert_array_equal(yo.data, yt.detach().numpy())
        np.testing.assert_array_equal(io.data, it.numpy())
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(xo.grad.data, xt.grad.numpy())


def test_max_pool_window_in_the_padding():
    """A window with every tap in the padding (dilation lets that happen) gives
    −∞ and passes no gradient, as PyTorch's max_pool2d."""
    x = Tensor(np.arange(6.0).reshape(1, 2, 1, 3), requires_grad=True)
    xt = torch.tensor(x.data, requires_grad=True)
    kw = dict(kernel_size=(1, 2), stride=1, padding=(0, 1), dilation=(1, 2))
    y, yt = F.max_pool2d(x, **kw), torch.nn.functional.max_pool2d(xt, **kw)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    y = F.max_pool2d(Tensor(np.ones((1, 1, 1, 1)), requires_grad=True), **kw)
    assert y.data.item() == -np.inf
    lonely = Tensor(np.ones((1, 1, 1, 1)), requires_grad=True)
    F.max_pool2d(lonely, **kw).sum().backward()
    assert lonely.grad.data.item() == 0
    with ag.forward_ad():
        lonely.tangent = np.ones((1, 1, 1, 1))
        assert F.max_pool2d(lonely, **kw).tangent.data.item() == 0


def test_max_pool_layers_as_torch():
    x = distinct(1, (2, 3, 9, 8))
    for ours, theirs in [(nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
                         (nn.MaxPool2d((2, 3), dilation=(2, 1)), torch.nn.MaxPool2d((2, 3), dilation=(2, 1)))]:
        compare(ours, theirs, x, np.float64)
        assert repr(ours) == repr(theirs)
    y, idx = nn.MaxPool1d(2, return_indices=True)(x[0])
    yt, it = torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x[0]))
    np.testing.assert_array_equal(idx.data, it.numpy())
    assert repr(nn.MaxPool1d(3)) == repr(torch.nn.MaxPool1d(3))


@st.composite
def avg_case(draw, dims):
    c = draw(pool_case(dims))
    c["dilation"] = (1,) * dims
    c["count_include_pad"] = draw(st.booleans())
    c["divisor_override"] = draw(st.sampled_from([None, None, 3])) if dims == 2 else None
    c["size"] = tuple(max(s, k) for s, k in zip(c["size"], c["kernel"]))
    return c


@FEW
@given(c=avg_case(2), seed=st.integers(0, 2**16))
def test_avg_pool2d_matches_torch(c, seed):
    kw = dict(kernel_size=c["kernel"], stride=c["stride"], padding=c["padding"],
              ceil_mode=c["ceil_mode"], count_include_pad=c["count_include_pad"],
              divisor_override=c["divisor_override"])
    ours, theirs = nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw)
    compare(ours, theirs, data(seed, (2, 3) + c["size"]), c["dtype"])


@settings(max_examples=10, deadline=None)
@given(c=avg_case(1), seed=st.integers(0, 2**16))
def test_avg_pool1d_matches_torch(c, seed):
    kw = dict(kernel_size=c["kernel"], stride=c["stride"], padding=c["padding"],
              ceil_mode=c["ceil_mode"], count_include_pad=c["count_include_pad"])
    ours, theirs = nn.AvgPool1d(**kw), torch.nn.AvgPool1d(**kw)
    compare(ours, theirs, data(seed, (2, 3) + c["size"]), c["dtype"])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("size,out", [((7, 7), 1), ((7, 9), (3, 4)), ((10, 6), (5, None)),
                                      ((5, 5), (7, 2)), ((6, 8), (3, 4))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_pool2d_matches_torch(size, out, dtype):
    for ours, theirs in [(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out)),
                         (nn.AdaptiveMaxPool2d(out), torch.nn.AdaptiveMaxPool2d(out))]:
        compare(ours, theirs, distinct(len(size), (2, 3) + size), dtype)
        assert repr(ours) == repr(theirs)
    _, idx = F.adaptive_max_pool2d(distinct(0, (2, 3) + size), out, return_indices=True)
    _, it = torch.nn.functional.adaptive_max_pool2d(torch.tensor(distinct(0, (2, 3) + size)), out,
                                                    return_indices=True)
    np.testing.assert_array_equal(idx.data, it.numpy())


@pytest.mark.parametrize("size,out", [(10, 4), (7, 3), (6, 6), (5, 1), (4, 9)])
def test_adaptive_pool1d_matches_torch(size, out):
    for ours, theirs in [(nn.AdaptiveAvgPool1d(out), torch.nn.AdaptiveAvgPool1d(out)),
                         (nn.AdaptiveMaxPool1d(out), torch.nn.AdaptiveMaxPool1d(out))]:
        compare(ours, theirs, distinct(size, (2, 3, size)), np.float64)
    x = distinct(size, (3, size))  # unbatched
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, out).data,
                               torch.nn.functional.adaptive_avg_pool1d(torch.tensor(x), out).numpy())


# ---------------------------------------------------------------------- upsampling, dropout

@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(scale_factor=(3, 1)), dict(size=(7, 5)),
                                dict(scale_factor=1.5), dict(size=4),
                                dict(scale_factor=2.5, recompute_scale_factor=True),
                                dict(size=(9, 11), mode="nearest-exact"),
                                dict(scale_factor=0.5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_upsample_nearest_matches_torch(kw, dtype):
    ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
    compare(ours, theirs, data(0, (2, 3, 4, 5)), dtype)
    assert repr(ours) == repr(theirs)


def test_interpolate_1d_matches_torch():
    for kw in [dict(scale_factor=3), dict(size=11), dict(scale_factor=0.75)]:
        compare(lambda t: F.interpolate(t, **kw),
                lambda t: torch.nn.functional.interpolate(t, **kw), data(1, (2, 3, 8)), np.float64)


@pytest.mark.parametrize("layer,shape", [(nn.Dropout2d, (6, 5, 4, 3)), (nn.Dropout1d, (6, 5, 7)),
                                         (nn.Dropout1d, (5, 7))])
def test_channel_dropout_zeroes_whole_channels(layer, shape):
    ag.manual_seed(0)
    drop = layer(0.4)
    x = Tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    y = drop(x)
    ratio = y.data / x.data
    per_channel = ratio.reshape(ratio.shape[:2] + (-1,)) if len(shape) > 2 else ratio
    first = per_channel[..., :1]
    assert np.allclose(per_channel, first)                      # one factor per channel
    assert set(np.round(np.unique(first), 12)) <= {0.0, round(1 / 0.6, 12)}
    assert 0 < (first == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, ratio)              # the gradient is the mask
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(getattr(torch.nn, layer.__name__)(0.4))
    ag.manual_seed(0)
    np.testing.assert_array_equal(layer(0.4)(x).data, y.data)   # the global generator


def test_dropout2d_3d_input_warns_as_torch_and_checks_p():
    with pytest.warns(UserWarning, match="3-D input"):
        y = F.dropout2d(np.ones((2, 3, 4)), 0.5)
    assert y.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="dropout2d: probability has to be between 0 and 1"):
        F.dropout2d(np.ones((2, 3, 4, 4)), 1.5)
    with pytest.raises(ValueError, match="dropout1d: expected a 2-D .* or 3-D"):
        F.dropout1d(np.ones((2, 3, 4, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.dropout2d(np.ones((2, 3, 4, 4)), 0.3, training=False).shape == (2, 3, 4, 4)


# ---------------------------------------------------------------------- a CNN, state_dicts

def test_cnn_state_dict_round_trips_with_torch():
    """Our state_dict loads into the same torch model (and back): same names,
    same layouts, same outputs."""
    def build(m):
        return m.Sequential(m.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"), m.ReLU(),
                            m.MaxPool2d(2), m.Conv2d(8, 8, 3, groups=4, bias=False),
                            m.ConvTranspose2d(8, 4, 4, stride=2, padding=1), m.AvgPool2d(2),
                            m.AdaptiveAvgPool2d((2, 3)), m.Flatten(), m.Linear(24, 5))
    ag.manual_seed(3)
    ours = build(nn)
    theirs = build(torch.nn).double()
    sd = {k: torch.tensor(np.array(v.data, dtype=np.float64)) for k, v in ours.state_dict().items()}
    assert list(sd) == list(theirs.state_dict())
    theirs.load_state_dict(sd)
    x = data(9, (2, 3, 12, 12))
    np.testing.assert_allclose(ours(x.astype(np.float32)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    # and back: torch's initial weights into ours
    fresh = build(torch.nn)
    ours.load_state_dict({k: v.numpy() for k, v in fresh.state_dict().items()})
    np.testing.assert_allclose(ours(x.astype(np.float32)).data,
                               fresh(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", [lambda m: m.Conv1d(6, 4, 5, groups=2), lambda m: m.Conv2d(3, 8, (3, 2)),
                                  lambda m: m.ConvTranspose2d(6, 9, 3, groups=3),
                                  lambda m: m.ConvTranspose1d(4, 2, 3)])
def test_conv_init_and_repr_as_torch(make):
    ag.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    # U(±1/√fan_in) for weight and bias, fan_in = weight.shape[1]·prod(kernel_size)
    bound = 1 / np.sqrt(theirs.weight.shape[1] * np.prod(theirs.weight.shape[2:]))
    for name, p in theirs.named_parameters():
        mine = dict(ours.named_parameters())[name]
        assert mine.shape == tuple(p.shape) and mine.dtype == np.float32
        assert np.abs(mine.data).max() <= bound, name
    assert np.abs(ours.weight.data).max() > 0.8 * bound


def test_reprs_as_torch():
    for make in [lambda m: m.Conv2d(4, 4, 3, padding="same", padding_mode="circular", dilation=2),
                 lambda m: m.Conv1d(2, 4, 3, stride=2, bias=False),
                 lambda m: m.ConvTranspose2d(4, 2, 3, 2, 1, 1, groups=2),
                 lambda m: m.AvgPool2d(3, 2, 1), lambda m: m.AdaptiveMaxPool1d(3),
                 lambda m: m.Upsample(size=(3, 4)), lambda m: m.Dropout2d(0.1)]:
        assert repr(make(nn)) == repr(make(torch.nn))


# ---------------------------------------------------------------------- errors

@pytest.mark.parametrize("call,error,message", [
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, r"Conv2d: out_channels=3 must be divisible by groups=2"),
    (lambda: nn.Conv1d(4, 4, 3, groups=0), ValueError, r"Conv1d: groups must be a positive int, got 0"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), ValueError, r"Conv2d: invalid padding string 'full'"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError, r"Conv2d: padding_mode must be one of"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), ValueError,
     r"ConvTranspose2d: only padding_mode='zeros'"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding="same"), ValueError, r"ConvTranspose2d: padding must be"),
    (lambda: nn.Conv1d(4, 4, (3, 3)), TypeError, r"Conv1d: kernel_size must be an int, got \(3, 3\)"),
    (lambda: nn.Conv2d(4, 4, 3, groups=2)(np.ones((1, 2, 5, 5))), ValueError,
     r"^Conv2d\(4, 4, kernel_size=\(3, 3\), stride=\(1, 1\), groups=2\): conv2d: input of shape "
     r"\(1, 2, 5, 5\) has 2 channels, but weight of shape \(4, 2, 3, 3\) "
     r"with groups=2 expects 4"),
    (lambda: F.conv1d(np.ones((1, 2, 5)), np.ones((3, 2, 3, 3))), ValueError,
     r"conv1d: weight must be 3-D .* got shape \(3, 2, 3, 3\)"),
    (lambda: F.conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), groups=2), ValueError,
     r"conv2d: groups=2 must divide the weight's out_channels, but weight has shape \(3, 2, 3, 3\)"),
    (lambda: nn.Conv2d(4, 4, 3, padding=2, padding_mode="reflect")(np.ones((1, 4, 2, 6))), ValueError,
     r"Conv2d\(4, 4, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(2, 2\), padding_mode=reflect\): "
     r"pad: padding \(2, 2\) in 'reflect' mode must be less than the size 2 of spatial axis 0"),
    (lambda: F.conv_transpose2d(np.ones((1, 3, 2, 2)), np.ones((3, 3, 3, 3)), output_padding=1), ValueError,
     r"conv_transpose2d: output_padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(np.ones((1, 2, 2, 2)), np.ones((3, 3, 3, 3))), ValueError,
     r"conv_transpose2d: input of shape \(1, 2, 2, 2\) has 2 channels, but weight of shape "
     r"\(3, 3, 3, 3\) expects 3"),
    (lambda: F.conv_transpose1d(np.ones((1, 3, 2)), np.ones((3, 3, 3)), padding=3), ValueError,
     r"conv_transpose1d: .* the output is too small"),
    (lambda: F.max_pool2d(np.ones((1, 1, 8, 8)), 2, padding=2), ValueError,
     r"max_pool2d: padding should be at most half of kernel_size"),
    (lambda: F.max_pool1d(np.ones((1, 1, 2)), 3), ValueError, r"^max_pool1d: input of spatial size \(2,\) is too small"),
    (lambda: nn.MaxPool1d(3)(np.ones((1, 1, 2))), ValueError,
     r"^MaxPool1d\(kernel_size=3, .*\): max_pool1d: input of spatial size \(2,\) is too small"),
    (lambda: nn.AdaptiveAvgPool2d(2)(np.ones(4)), ValueError,
     r"^AdaptiveAvgPool2d\(output_size=2\): adaptive_avg_pool2d: expected a 3-D"),
    (lambda: F.avg_pool2d(np.ones((2, 2)), 2), ValueError, r"avg_pool2d: expected a 3-D \(C, H, W\) or 4-D"),
    (lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must be a nonzero int"),
    (lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 4, 4)), (2, 2, 2)), ValueError,
     r"adaptive_avg_pool2d: output_size must be an int or a tuple of 2 ints"),
    (lambda: F.interpolate(np.ones((1, 1, 4, 4))), ValueError, r"interpolate: give exactly one of size or scale_factor"),
    (lambda: F.interpolate(np.ones((1, 1, 4, 4)), scale_factor=2, mode="bilinear"), NotImplementedError,
     r"interpolate: mode='bilinear' is not supported"),
    (lambda: F.interpolate(np.ones((4, 4)), size=3), ValueError, r"interpolate: expected a 3-D, 4-D or 5-D"),
])
def test_errors_name_the_function_argument_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name,args", [
    ("conv2d", (np.ones((4, 3, 3, 3)),)), ("conv2d", (np.ones((16, 8, 3, 3)), None, 1, 1)),
    ("conv1d", (np.ones((2, 3, 2)), None, 2)), ("conv_transpose2d", (np.ones((3, 2, 3, 3)), None, 2)),
    ("max_pool2d", (2,)), ("avg_pool2d", (3, 1, 1)), ("adaptive_avg_pool2d", ((2, 3),)),
    ("adaptive_max_pool2d", ((3, 3),)), ("interpolate", (None, 2))])
def test_empty_batches_as_torch(name, args):
    """A batch of zero images gives an empty result of PyTorch's shape, and an
    empty gradient."""
    channels = 3
    if name.startswith("conv"):
        channels = args[0].shape[0 if name == "conv_transpose2d" else 1]
    x = np.ones((0, channels) + ((6,) if name == "conv1d" else (6, 6)))
    xo = Tensor(x, requires_grad=True)
    y = getattr(F, name)(xo, *args)
    targs = tuple(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args)
    assert y.shape == tuple(getattr(torch.nn.functional, name)(torch.tensor(x), *targs).shape)
    y.sum().backward()
    assert xo.grad.shape == x.shape
