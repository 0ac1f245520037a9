"""ONNX export: the written model passes onnx.checker and onnxruntime computes
what the engine computes — for the models people define (a CNN, recurrent
language models, transformer encoders), on several inputs and batch sizes, and
for every primitive that has an ONNX form."""
import io
import warnings

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core import primitives as P
from nn import functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run(path_or_bytes, feeds):
    sess = ort.InferenceSession(path_or_bytes)
    return sess.run(None, feeds)


def as_tuple(out):
    """The Tensors of a result, nested tuples ((values, indices) pairs) flattened."""
    if not isinstance(out, (tuple, list)):
        return (out,)
    return tuple(t for item in out for t in as_tuple(item))


def assert_same(got, want, rtol=1e-5, atol=1e-6):
    want = np.asarray(want.data if isinstance(want, ag.Tensor) else want)
    assert got.shape == want.shape
    if want.dtype.kind in "biu":
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def roundtrip(model, args, others=(), rtol=1e-5, atol=1e-6, **kwargs):
    """Export ``model`` on ``args``, then check onnxruntime against the eager model
    on ``args`` and on every tuple of ``others`` (other values, or other sizes of
    the dynamic axes). Returns the ModelProto."""
    buf = io.BytesIO()
    training = getattr(model, "training", None)
    proto = ag.onnx.export(model, args, buf, **kwargs)
    assert getattr(model, "training", None) == training  # exported in eval mode, then put back
    onnx.checker.check_model(proto)
    sess = ort.InferenceSession(buf.getvalue())
    names = [i.name for i in sess.get_inputs()]
    if training is not None:
        model.eval()
    for case in (args,) + tuple(others):
        case = as_tuple(case)
        feeds = [a for a in case if isinstance(a, np.ndarray)]
        outs = sess.run(None, dict(zip(names, feeds)))
        want = [w for w in as_tuple(model(*[ag.Tensor(a) if isinstance(a, np.ndarray) else a
                                            for a in case])) if w is not None]
        assert len(outs) == len(want)
        for got, w in zip(outs, want):
            assert_same(got, w, rtol, atol)
    if training is not None:
        model.train(training)
    return proto


def output_dims(proto, k=0):
    return [d.dim_param or d.dim_value for d in proto.graph.output[k].type.tensor_type.shape.dim]


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------
# The course MLP, and a function with broadcasting, slicing and reductions
# ---------------------------------------------------------------------------

def test_the_course_mlp_with_a_dynamic_batch(tmp_path):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    x = np.random.default_rng(0).standard_normal((5, 784)).astype(np.float32)
    path = tmp_path / "mlp.onnx"
    proto = ag.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["logits"],
                           dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(str(path)))
    assert [i.name for i in proto.graph.initializer][:4] == ["0.weight", "0.bias", "2.weight",
                                                             "2.bias"]
    assert output_dims(proto) == ["batch", 10]
    for n in (5, 17):
        xn = np.random.default_rng(n).standard_normal((n, 784)).astype(np.float32)
        (y,) = run(str(path), {"x": xn})
        np.testing.assert_allclose(y, model(xn).data, rtol=1e-5, atol=1e-6)
    assert model.training  # put back in its mode


def test_a_function_with_broadcasting_slicing_and_reductions():
    def f(a, b):
        s = (a[:, 1:3] * b).sum(axis=1, keepdims=True) - a.max(axis=0)
        return s.softmax(axis=1), ag.tanh(a.T @ a).mean(axis=0), a[::-1, 2], ag.maximum(a, b.sum())

    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((1, 2)).astype(np.float32)
    roundtrip(f, (a, b), others=[(normal(rng, 4, 5), normal(rng, 1, 2))])


# ---------------------------------------------------------------------------
# A CNN as in PyTorch's tutorials
# ---------------------------------------------------------------------------

def _cnn_layers(lib):
    """The CNN, built by ``lib`` (``nn`` or ``torch.nn``: the same names and arguments)."""
    return lib.Sequential(
        lib.Conv2d(3, 8, 3, padding=1), lib.BatchNorm2d(8), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2, bias=False), lib.ReLU(),
        lib.AvgPool2d(2), lib.Conv2d(8, 12, 3, stride=2, padding=1), lib.BatchNorm2d(12),
        lib.ReLU(), lib.MaxPool2d(3, stride=1, padding=1), lib.AdaptiveAvgPool2d(1), lib.Flatten(),
        lib.Dropout(0.5), lib.Linear(12, 10))


def _cnn():
    ag.manual_seed(1)
    model = _cnn_layers(nn)
    rng = np.random.default_rng(1)
    for bn in (model[1], model[8]):  # statistics as after training, so eval mode matters
        c = bn.num_features
        bn.running_mean.data[...] = rng.standard_normal(c)
        bn.running_var.data[...] = rng.uniform(0.5, 2.0, c)
        bn.weight.data[...] = rng.uniform(0.5, 1.5, c)
        bn.bias.data[...] = rng.standard_normal(c)
    return model


def test_a_cnn_with_batchnorm_pooling_and_dropout_in_eval_mode_and_a_dynamic_batch():
    model = _cnn()
    rng = np.random.default_rng(3)
    x = normal(rng, 4, 3, 16, 16)
    proto = roundtrip(model, (x,), others=[(normal(rng, 4, 3, 16, 16),), (normal(rng, 1, 3, 16, 16),),
                                            (normal(rng, 9, 3, 16, 16),)],
                      input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "MaxPool", "Gemm"} <= ops
    assert "RandomUniformLike" not in ops and "Dropout" not in ops  # eval: no dropout
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var", "4.weight",
            "14.weight"} <= names
    assert "4.bias" not in names  # bias=False
    conv = [n for n in proto.graph.node if n.op_type == "Conv"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in conv[1].attribute}
    assert attrs["group"] == 2 and list(attrs["dilations"]) == [2, 2] \
        and list(attrs["pads"]) == [2, 2, 2, 2]
    assert model.training


def test_conv_transpose_and_1d_layers():
    ag.manual_seed(2)
    model = nn.Sequential(
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2, dilation=2, bias=False))
    rng = np.random.default_rng(4)
    proto = roundtrip(model, (normal(rng, 2, 4, 5, 5),), others=[(normal(rng, 3, 4, 5, 5),)],
                      input_names=["x"], dynamic_axes={"x": [0]})
    assert [n.op_type for n in proto.graph.node].count("ConvTranspose") == 2
    model1d = nn.Sequential(nn.Conv1d(3, 5, 3, padding="same", padding_mode="reflect"), nn.Tanh(),
                            nn.MaxPool1d(2, ceil_mode=True), nn.AvgPool1d(3, stride=1, padding=1,
                                                                          count_include_pad=False),
                            nn.ConvTranspose1d(5, 2, 3, stride=3), nn.AdaptiveAvgPool1d(4))
    roundtrip(model1d, (normal(rng, 2, 3, 11),), others=[(normal(rng, 6, 3, 11),)],
              input_names=["x"], dynamic_axes={"x": {0: "batch"}})


def test_the_cnn_matches_torch_onnx_export_of_the_same_network():
    torch = pytest.importorskip("torch")
    model = _cnn()
    model.eval()
    tmodel = _cnn_layers(torch.nn)
    tmodel.load_state_dict({k: torch.from_numpy(np.array(v.data))
                            for k, v in model.state_dict().items()})
    tmodel.eval()
    rng = np.random.default_rng(5)
    x = normal(rng, 2, 3, 16, 16)
    ours, theirs = io.BytesIO(), io.BytesIO()
    ag.onnx.export(model, (x,), ours, input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated
        torch.onnx.export(tmodel, (torch.from_numpy(x),), theirs, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}}, opset_version=17, dynamo=False)
    for n in (2, 7):
        xn = normal(rng, n, 3, 16, 16)
        (a,), (b,) = run(ours.getvalue(), {"x": xn}), run(theirs.getvalue(), {"x": xn})
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# Recurrent language models
# ---------------------------------------------------------------------------

class LanguageModel(nn.Module):
    def __init__(self, cell, vocab=11, embed=6, hidden=7, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = cell(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h, _ = self.rnn(self.embed(tokens))
        return F.log_softmax(self.head(h), dim=-1)


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_a_recurrent_language_model_unrolled_for_a_fixed_length_with_a_dynamic_batch(cell):
    ag.manual_seed(3)
    model = LanguageModel(cell)
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, 11, (3, 8))
    proto = roundtrip(model, (tokens,), others=[(rng.integers(0, 11, (3, 8)),),
                                                 (rng.integers(0, 11, (5, 8)),)],
                      input_names=["tokens"], output_names=["log_probs"],
                      dynamic_axes={"tokens": {0: "batch"}, "log_probs": {0: "batch"}})
    (inp,) = proto.graph.input
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 8]
    assert output_dims(proto) == ["batch", 8, 11]
    gathers = [n for n in proto.graph.node if n.op_type == "Gather" and "tokens" in n.input]
    assert len(gathers) == 1 and gathers[0].input[0] == "embed.weight"
    assert "LogSoftmax" in {n.op_type for n in proto.graph.node}


def test_a_recurrent_model_returning_its_final_state_and_taking_an_initial_one():
    ag.manual_seed(4)
    lstm = nn.LSTM(4, 5, num_layers=1)            # sequence first
    rng = np.random.default_rng(7)

    def step(x, h0, c0):
        out, (h, c) = lstm(x, (h0, c0))
        return out[-1], h, c

    args = (normal(rng, 6, 3, 4), normal(rng, 1, 3, 5), normal(rng, 1, 3, 5))
    roundtrip(step, args, others=[(normal(rng, 6, 2, 4), normal(rng, 1, 2, 5), normal(rng, 1, 2, 5))],
              input_names=["x", "h0", "c0"],
              dynamic_axes={"x": {1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}})


def test_a_dynamic_sequence_length_of_an_unrolled_rnn_is_refused_with_the_reason():
    model = LanguageModel(nn.GRU, layers=1)
    tokens = np.random.default_rng(8).integers(0, 11, (2, 5))
    with pytest.raises(ag.onnx.ExportError, match="'seq'.*fixed size"):
        ag.onnx.export(model, (tokens,), io.BytesIO(), input_names=["tokens"],
                       dynamic_axes={"tokens": {0: "batch", 1: "seq"}})


# ---------------------------------------------------------------------------
# Transformer encoders
# ---------------------------------------------------------------------------

class CausalEncoder(nn.Module):
    """A decoder-style encoder: the causal mask made with NumPy for the input's length."""

    def __init__(self, layer, layers=2):
        super().__init__()
        self.encoder = nn.TransformerEncoder(layer, layers)

    def forward(self, x):
        n = x.shape[1]
        mask = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        return self.encoder(x, mask=mask, is_causal=True)


def _layer(activation, norm_first):
    ag.manual_seed(5)
    return nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation,
                                      batch_first=True, norm_first=norm_first)


@pytest.mark.parametrize("activation,norm_first", [("gelu", False), ("relu", True)])
def test_a_transformer_encoder_layer_with_dynamic_batch_and_sequence(activation, norm_first):
    layer = _layer(activation, norm_first)
    rng = np.random.default_rng(9)
    proto = roundtrip(layer, (normal(rng, 2, 6, 16),),
                      others=[(normal(rng, 2, 6, 16),), (normal(rng, 5, 6, 16),),
                              (normal(rng, 3, 9, 16),), (normal(rng, 1, 1, 16),)],
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}})
    ops = {n.op_type for n in proto.graph.node}
    assert {"MatMul", "Softmax"} <= ops
    assert ("Erf" in ops) == (activation == "gelu")
    assert output_dims(proto) == ["batch", "seq", 16]


def test_a_causal_transformer_encoder_with_the_mask_made_inside():
    model = CausalEncoder(_layer("gelu", True))
    rng = np.random.default_rng(10)
    roundtrip(model, (normal(rng, 2, 7, 16),),
              others=[(normal(rng, 3, 7, 16),), (normal(rng, 2, 4, 16),), (normal(rng, 4, 12, 16),)],
              input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "seq"}})


def test_a_transformer_encoder_with_masks_as_graph_inputs():
    layer = _layer("relu", False)
    rng = np.random.default_rng(11)
    mask = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
    padding = np.array([[False] * 4 + [True], [False] * 5])
    other = (normal(rng, 3, 5, 16), mask, np.array([[False] * 5, [False] * 2 + [True] * 3,
                                                    [False] * 3 + [True] * 2]))
    roundtrip(layer, (normal(rng, 2, 5, 16), mask, padding), others=[other],
              input_names=["x", "mask", "padding"],
              dynamic_axes={"x": {0: "batch"}, "padding": {0: "batch"}})
    # a boolean attention mask (True = not allowed) and no padding mask
    bool_mask = np.triu(np.ones((5, 5), bool), 1)
    roundtrip(nn.TransformerEncoder(layer, 2), (normal(rng, 2, 5, 16), bool_mask),
              others=[(normal(rng, 2, 5, 16), np.tril(np.ones((5, 5), bool), -2))],
              input_names=["x", "mask"])


def test_multihead_attention_weights_and_a_causal_mask_of_fixed_size():
    ag.manual_seed(6)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    rng = np.random.default_rng(12)
    causal = np.triu(np.ones((4, 4), bool), 1)

    def attend(q, kv):
        out, weights = mha(q, kv, kv, attn_mask=causal, average_attn_weights=False)
        return out, weights

    roundtrip(attend, (normal(rng, 3, 4, 8), normal(rng, 3, 4, 8)),
              others=[(normal(rng, 3, 4, 8), normal(rng, 3, 4, 8))])


# ---------------------------------------------------------------------------
# Every primitive with an ONNX form
# ---------------------------------------------------------------------------

def _pos(rng, *shape):
    return rng.uniform(0.5, 2.0, shape).astype(np.float32)


def _wide(rng, *shape):
    return (rng.standard_normal(shape) * 4).astype(np.float32)


def _above_one(rng, *shape):
    return rng.uniform(1.0, 4.0, shape).astype(np.float32)


def _unit(rng, *shape):
    return rng.uniform(-0.9, 0.9, shape).astype(np.float32)


def _ints(rng, *shape):
    return rng.integers(-9, 10, shape)


def _nonzero_ints(rng, *shape):
    return rng.choice([-7, -3, -2, 2, 3, 5], shape)


def _special(rng, *shape):
    x = normal(rng, *shape)
    x.flat[::5] = np.nan
    x.flat[1::7] = np.inf
    x.flat[2::7] = -np.inf
    return x


def _halves(rng, *shape):  # ties for round (half to even) and the comparisons
    return (rng.integers(-8, 9, shape) / 2).astype(np.float32)


def _ties(rng, *shape):  # few distinct values: ties for the extrema, orders and counts
    return rng.integers(-2, 3, shape).astype(np.float32)


def _ties_nan(rng, *shape):  # ties, NaNs and infinities where the draw puts them
    x = _ties(rng, *shape)
    x[rng.random(shape) < 0.2] = np.nan
    x[rng.random(shape) < 0.1] = np.inf
    x[rng.random(shape) < 0.1] = -np.inf
    return x


def _divisors(rng, *shape):  # of both signs, and 0.1 (1 // 0.1 is 9, not ⌊1 / 0.1⌋ = 10)
    return rng.choice(np.float32([-2.5, -0.7, 0.1, 0.3, 1.5, 2.0]), shape)


POOL = dict(kernel=(2, 2), stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2))

# (primitive covered, function of Tensors, makes the inputs from a Generator)
CASES = {
    "neg": ("neg", lambda x: -x, lambda r: (normal(r, 3, 4),)),
    "reciprocal": ("reciprocal", ag.reciprocal, lambda r: (_pos(r, 3, 4),)),
    "log1p": ("log1p", ag.log1p, lambda r: (np.float32([[1e-7, -1e-6, 0.5], [3.0, -0.5, 0.0]]),)),
    "expm1": ("expm1", ag.expm1, lambda r: (np.float32([[1e-7, -1e-6, 0.5], [3.0, -0.5, 0.0]]),)),
    "softplus": ("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                 lambda r: (normal(r, 3, 4) * 3,)),
    "round-decimals": ("round", lambda x: ag.round(x, decimals=2), lambda r: (normal(r, 3, 4),)),
    "round-tens": ("round", lambda x: ag.round(x, decimals=-1), lambda r: (normal(r, 3, 4) * 40,)),
    "nonzero_indicator": ("nonzero_indicator", lambda x: ag.norm(x, 0, dim=1),
                          lambda r: (_halves(r, 3, 4),)),
    "pow-const": ("pow", lambda x: x ** 3 + x ** 0.5, lambda r: (_pos(r, 3, 4),)),
    "pow": ("pow", lambda x, y: x ** y, lambda r: (_pos(r, 3, 4), normal(r, 4))),
    "clip": ("clip", lambda x: ag.clip(x, -0.5, 1.0) + ag.clamp(x, min=0.2),
             lambda r: (normal(r, 3, 4),)),
    "add": ("add", lambda x, y: x + y, lambda r: (normal(r, 3, 4), normal(r, 1, 4))),
    "mul": ("mul", lambda x, y: x * y, lambda r: (normal(r, 3, 4), normal(r, 3, 1))),
    "div": ("div", lambda x, y: x / y, lambda r: (normal(r, 3, 4), _pos(r, 3, 1))),
    "maximum": ("maximum", ag.maximum, lambda r: (normal(r, 3, 4), normal(r, 4))),
    "minimum": ("minimum", ag.minimum, lambda r: (normal(r, 3, 4), normal(r, 4))),
    "hypot": ("hypot", ag.hypot, lambda r: (normal(r, 3, 4), normal(r, 3, 4))),
    "atan2": ("atan2", ag.atan2, lambda r: (np.float32([[0, 1, -1, 0], [-1, 2, 0, -0.5]]),
                                            np.float32([[0, 0, -2, -1], [-1, -3, 1, 0.5]]))),
    "fmod": ("fmod", ag.fmod, lambda r: (normal(r, 3, 4) * 5, _pos(r, 3, 4) * np.float32(-1))),
    "remainder": ("remainder", ag.remainder,
                  lambda r: (normal(r, 3, 4) * 5, np.float32([[1.5], [-2.0], [0.7]]))),
    "remainder-int": ("remainder", ag.remainder, lambda r: (_ints(r, 3, 4),
                                                                   _nonzero_ints(r, 3, 4))),
    "quotient-floor": ("quotient", lambda x, y: P._quotient_of(x, y, rounding=np.floor),
                       lambda r: (normal(r, 3, 4) * 5, _pos(r, 3, 4) - 1.25)),
    "quotient-trunc": ("quotient", lambda x, y: P._quotient_of(x, y, rounding=np.trunc),
                       lambda r: (normal(r, 3, 4) * 5, _pos(r, 3, 4) - 1.25)),
    "eq": ("eq", lambda x, y: x == y, lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "ne": ("ne", lambda x, y: x != y, lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "lt": ("lt", lambda x, y: x < y, lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "le": ("le", lambda x, y: x <= y, lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "gt": ("gt", lambda x, y: x > y, lambda r: (_halves(r, 3, 4), _halves(r, 4))),
    "ge": ("ge", lambda x, y: x >= y, lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "ge-int": ("ge", lambda x, y: x >= y, lambda r: (_ints(r, 3, 4), _ints(r, 3, 4))),
    "logical_and": ("logical_and", lambda x, y: ag.logical_and(x > 0, y),
                    lambda r: (normal(r, 3, 4), _halves(r, 3, 4))),
    "logical_or": ("logical_or", lambda x, y: ag.logical_or(x > 0, y > 0),
                   lambda r: (normal(r, 3, 4), normal(r, 3, 4))),
    "logical_xor": ("logical_xor", lambda x, y: ag.logical_xor(x > 0, y > 0),
                    lambda r: (normal(r, 3, 4), normal(r, 3, 4))),
    "logical_not": ("logical_not", lambda x: ag.logical_not(x), lambda r: (_halves(r, 3, 4),)),
    "positive": ("positive", lambda x: P.positive_mask(x), lambda r: (_halves(r, 3, 4),)),
    "clip_mask": ("clip_mask", lambda x: P.clip_mask(x, lo=-1.0, hi=0.5),
                  lambda r: (_halves(r, 3, 4),)),
    "max_share": ("max_share", lambda a, b: P.max_share(a, b, sign=1) - P.max_share(a, b, sign=-1),
                  lambda r: (_halves(r, 3, 4), _halves(r, 3, 4))),
    "max_weights": ("max_weights",
                    lambda x: P.max_weights(x, x.max(axis=1), axis=(1,)),
                    lambda r: (_halves(r, 3, 4),)),
    "where": ("where", lambda x, y: ag.where(x > y, x, y * 2), lambda r: (normal(r, 3, 4),
                                                                       normal(r, 4))),
    "where-constant": ("where", lambda x: ag.masked_fill(x, np.eye(3, 4, dtype=bool), -1.0),
                       lambda r: (normal(r, 3, 4),)),
    "matmul": ("matmul", lambda a, b: a @ b, lambda r: (normal(r, 2, 3, 4), normal(r, 4, 5))),
    "linear": ("linear", lambda x, w, b: F.linear(x, w, b),
               lambda r: (normal(r, 3, 4), normal(r, 5, 4), normal(r, 5))),
    "linear-3d": ("linear", lambda x, w, b: F.linear(x, w, b),
                  lambda r: (normal(r, 2, 3, 4), normal(r, 5, 4), normal(r, 5))),
    "einsum": ("einsum", lambda a, b: ag.einsum("bij,bjk->bik", a, b),
               lambda r: (normal(r, 2, 3, 4), normal(r, 2, 4, 5))),
    "einsum-3": ("einsum", lambda a, b, c: ag.einsum("ij,jk,k->i", a, b, c),
                 lambda r: (normal(r, 3, 4), normal(r, 4, 5), normal(r, 5))),
    "sum": ("sum", lambda x: x.sum(axis=(0, 2)) + x.sum(), lambda r: (normal(r, 2, 3, 4),)),
    "max": ("max", lambda x: x.max(axis=1, keepdims=True) + x.min(), lambda r: (normal(r, 3, 4),)),
    "amax": ("amax", lambda x: ag.amax(x, dim=1, keepdim=True) + ag.amin(x),
             lambda r: (normal(r, 3, 4),)),
    "logsumexp": ("logsumexp", lambda x: ag.logsumexp(x, axis=-1), lambda r: (normal(r, 3, 4) * 9,)),
    "softmax": ("softmax", lambda x: x.softmax(axis=0), lambda r: (normal(r, 3, 4) * 9,)),
    "log_softmax": ("log_softmax", lambda x: x.log_softmax(axis=1), lambda r: (normal(r, 3, 4),)),
    "cumsum": ("cumsum", lambda x: ag.cumsum(x, axis=1), lambda r: (normal(r, 3, 4),)),
    "reshape": ("reshape", lambda x: x.reshape(4, 3), lambda r: (normal(r, 3, 4),)),
    "transpose": ("transpose", lambda x: x.permute(2, 0, 1), lambda r: (normal(r, 2, 3, 4),)),
    "broadcast_to": ("broadcast_to", lambda x: ag.broadcast_to(x, (2, 3, 4)),
                     lambda r: (normal(r, 3, 1),)),
    "astype": ("astype", lambda x: ag.astype(x, np.float64) + ag.astype(x > 0, np.float64),
               lambda r: (normal(r, 3, 4),)),
    "concatenate": ("concatenate", lambda a, b: ag.cat([a, b, a], axis=1),
                    lambda r: (normal(r, 3, 4), normal(r, 3, 2))),
    "alias": ("alias", lambda x: P.alias(x) * 2, lambda r: (normal(r, 3, 4),)),
    "getitem-basic": ("getitem", lambda x: (x[1], x[-1, ::2], x[..., 1:-1], x[None, :, -2, None],
                                            x[::-1, ::-2], x[-3:, 3:0:-1]),
                      lambda r: (normal(r, 3, 4, 5),)),
    "getitem-array": ("getitem", lambda x: (x[[2, 0, 2]], x[:, np.array([[1, -1], [0, 2]])]),
                      lambda r: (normal(r, 3, 4),)),
    "getitem-arrays": ("getitem", lambda x: (x[[0, 2], [1, 3]], x[1, :, [0, 2]], x[:, [1, 0], [2, 1]],
                                             x[[[0], [2]], :, [1, -1]]),
                       lambda r: (normal(r, 3, 4, 5),)),
    "getitem-traced": ("getitem", lambda x, i: (x[i], x[:, i[0]], x[i, i]),
                       lambda r: (normal(r, 4, 4), r.integers(0, 4, (2, 3)))),
    "gather": ("getitem", lambda x, i: ag.gather(x, 1, i),
               lambda r: (normal(r, 3, 4), r.integers(0, 4, (3, 2)))),
    "scatter_add": ("scatter_add", lambda x, v: ag.index_add(x, 0, np.array([0, 2, 0]), v),
                    lambda r: (normal(r, 3, 4), normal(r, 3, 4))),
    "scatter_add-traced": ("scatter_add",
                           lambda v, i: P.scatter_add(v, index=P.normalized_index(i), shape=(6,)),
                           lambda r: (normal(r, 5), r.integers(-6, 6, 5))),
    "index_put": ("index_put", lambda x: ag.pad(x, (1, 2, 0, 1), value=0.5),
                  lambda r: (normal(r, 3, 4),)),
    "index_put-traced": ("index_put", lambda x, v, i: ag.scatter(x, 1, i, v),
                         lambda r: (normal(r, 3, 4), normal(r, 3, 1),
                                    np.array([[1], [3], [0]]))),
    "diagonal": ("diagonal", lambda x: (ag.diagonal(x), ag.diagonal(x, 1, 1, 2),
                                        ag.diagonal(x, -1, 2, 0)),
                 lambda r: (normal(r, 3, 4, 5),)),
    "diagonal_scatter": ("diagonal_scatter", lambda x, s: ag.diagonal_scatter(x, s, 1),
                         lambda r: (normal(r, 3, 4), normal(r, 3))),
    "conv": ("conv", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2),
             lambda r: (normal(r, 2, 3, 11), normal(r, 4, 3, 3), normal(r, 4))),
    "conv-3d": ("conv", lambda x, w: P.conv(x, w, stride=(1, 2, 1), padding=((1, 1), (0, 1), (2, 0)),
                                            dilation=(1, 1, 2), groups=2),
                lambda r: (normal(r, 1, 4, 3, 5, 5), normal(r, 2, 2, 3, 3, 3))),
    "conv_transpose": ("conv_transpose",
                       lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=1,
                                                          output_padding=(1, 0), dilation=(1, 2)),
                       lambda r: (normal(r, 2, 4, 5, 5), normal(r, 4, 3, 3, 3), normal(r, 3))),
    "conv_weight": ("conv_weight",
                    lambda x, g: P.conv_weight(x, g, stride=(2, 1), padding=((1, 1), (0, 2)),
                                               dilation=(1, 2), groups=1, size=(3, 3)),
                    lambda r: (normal(r, 2, 3, 7, 6), normal(r, 2, 4, 4, 4))),
    "max_pool": ("max_pool", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, dilation=1,
                                                    ceil_mode=True) + 0,
                 lambda r: (normal(r, 2, 3, 8, 7),)),
    "max_pool-dilated": ("max_pool", lambda x: P.max_pool(x, **POOL),
                         lambda r: (normal(r, 2, 3, 6, 7),)),
    "pool_positions": ("pool_positions",
                       lambda x: P.pool_positions(x, P.max_pool(x, **POOL), **POOL),
                       lambda r: (normal(r, 2, 3, 6, 7),)),
    # values computed from the values: indices, orders, counts (ties included)
    "argmax": ("argmax", lambda x: (x.max(dim=1), ag.argmax(x), ag.argmax(x, dim=0, keepdim=True)),
               lambda r: (_ties(r, 4, 5),)),
    "argmax-nan": ("argmax", lambda x: (ag.argmax(x, dim=1), ag.argmax(x, keepdims=True)),
                   lambda r: (_ties_nan(r, 4, 5),)),
    "argmax-int": ("argmax", lambda x: ag.argmax(x, dim=1), lambda r: (r.integers(-2, 3, (4, 5)),)),
    "argmin": ("argmin", lambda x: (x.min(dim=0, keepdim=True), ag.argmin(x)),
               lambda r: (_ties_nan(r, 4, 5),)),
    "argmin-bool": ("argmin", lambda x: ag.argmin(x > 0, dim=1), lambda r: (_ties(r, 4, 5),)),
    "sort_order": ("sort_order", lambda x: (ag.sort(x), ag.sort(x, dim=0, descending=True)),
                   lambda r: (_ties_nan(r, 5, 6),)),
    "sort_order-int": ("sort_order", lambda x: (ag.argsort(x, dim=0), ag.sort(x, descending=True)),
                       lambda r: (r.integers(-2, 3, (5, 6)),)),
    "sort_order-topk": ("sort_order", lambda x: (ag.topk(x, 3), ag.topk(x, 2, dim=0, largest=False)),
                        lambda r: (_ties_nan(r, 5, 6),)),
    "sort_order-long-rows": ("sort_order", lambda x: (ag.topk(x, 50), ag.argsort(x, descending=True)),
                             lambda r: (_ties_nan(r, 3, 400),)),
    "select_along-kthvalue": ("select_along", lambda x: (ag.kthvalue(x, 2, dim=1),
                                                         ag.kthvalue(x, 5, dim=0, keepdim=True)),
                              lambda r: (_ties_nan(r, 5, 6),)),
    "select_along-median": ("select_along", lambda x: (ag.median(x, dim=1),
                                                       ag.median(x, dim=0, keepdim=True)),
                            lambda r: (_ties_nan(r, 5, 6),)),
    "select_along-median-int": ("select_along", lambda x: ag.median(x, dim=0),
                                lambda r: (r.integers(-2, 3, (4, 6)),)),
    "select_along-mode": ("select_along", lambda x: (ag.mode(x, 1), ag.mode(x, 0, keepdim=True)),
                          lambda r: (_ties_nan(r, 5, 6),)),
    "select_along-mode-int": ("select_along", lambda x: ag.mode(x, 1),
                              lambda r: (r.integers(-2, 3, (4, 7)),)),
    "median": ("median", lambda x: (ag.median(x), ag.median(x[:, :3])),
               lambda r: (_ties(r, 4, 5),)),
    "median-nan": ("median", ag.median, lambda r: (_ties_nan(r, 2, 3),)),
    "any": ("any", lambda x: (ag.any(x, dim=1), ag.any(x), ag.any(x[:, :0], dim=1),
                              ag.any(ag.astype(x == 1, np.uint8), dim=0, keepdim=True)),
            lambda r: (np.where(r.random((4, 5)) < 0.3, _ties_nan(r, 4, 5), np.float32(0)),)),
    "all": ("all", lambda x: (ag.all(x, dim=0), ag.all(x), ag.all(x[:0], dim=0),
                              ag.all(x > 0, dim=1, keepdim=True)),
            lambda r: (_ties_nan(r, 4, 5),)),
    "count_nonzero": ("count_nonzero", lambda x: (ag.count_nonzero(x, dim=1), ag.count_nonzero(x)),
                      lambda r: (_ties_nan(r, 4, 5),)),
    "sum_int": ("sum_int", lambda x: (ag.sum(x, dim=1), ag.sum(x > 0), ag.sum(x, dim=0, keepdim=True)),
                lambda r: (r.integers(-9, 10, (4, 5)).astype(np.int32),)),
    "prod_int": ("prod_int", lambda x: (ag.prod(x, dim=1), ag.prod(x)),
                 lambda r: (r.integers(-3, 4, (3, 4)),)),
    "scan_int": ("scan_int", lambda x: (ag.cumsum(x, 1), ag.cumsum(x > 0, 0)),
                 lambda r: (r.integers(-9, 10, (4, 5)).astype(np.int32),)),
    "cast": ("cast", lambda x: (ag.astype(x * 3, np.int64), ag.astype(x, np.int32),
                                ag.astype(x, np.bool_), ag.astype(x > 0, np.float32)),
             lambda r: (normal(r, 4, 5) * 4,)),
    "copy": ("copy", lambda x: ag.nan_to_num(x) * 2, lambda r: (r.integers(-9, 10, (3, 4)),)),
    "view_dtype": ("view_dtype", lambda x: (x.view(np.int32), (x * 2).view(np.uint32)),
                   lambda r: (_ties_nan(r, 3, 4) * normal(r, 3, 4),), dict(opset_version=26)),
    "div_rounded": ("div_rounded", lambda x, y: (x // y, ag.div(x, y, rounding_mode="trunc"),
                                                 ag.floor_divide(x, 2.0)),
                    lambda r: (normal(r, 4, 5) * 5, _divisors(r, 4, 5))),
    "div_rounded-edges": ("div_rounded", lambda x, y: (x // y, ag.div(x, y, rounding_mode="trunc")),
                          lambda r: (np.float32([[1.0, -1.0, 0.0, -0.0, 3.0, np.inf, np.nan, 1.0]]),
                                     np.float32([[0.1, 0.1, -2.0, 2.0, 0.0, 2.0, 1.0, -np.inf]]))),
    "div_rounded-int": ("div_rounded", lambda x, y: (x // y, ag.div(x, y, rounding_mode="trunc"),
                                                     ag.floor_divide(x, -4)),
                        lambda r: (_ints(r, 4, 5), _nonzero_ints(r, 4, 5))),
    "isclose": ("isclose", lambda x, y: (ag.isclose(x, y), ag.isclose(x, y, rtol=0.3, atol=0.1,
                                                                      equal_nan=True)),
                lambda r: (_ties_nan(r, 4, 5), _ties_nan(r, 4, 5) * np.float32(1.2))),
    "isclose-int": ("isclose", lambda x, y: ag.isclose(x, y, atol=1.0),
                    lambda r: (_ints(r, 4, 5), _ints(r, 4, 5))),
    "nan_to_num_values": ("nan_to_num_values",
                          lambda x: (ag.nan_to_num(x), ag.nan_to_num(x, nan=1.5, posinf=9.0,
                                                                     neginf=-8.0)),
                          lambda r: (_special(r, 4, 5),)),
    "abs_below_half": ("abs_below_half", lambda x, y, w: ag.lerp(x, y, w),
                       lambda r: (normal(r, 4, 5), normal(r, 4, 5), _halves(r, 4, 5) / 2)),
    "strictly_inside": ("strictly_inside", lambda x: (F.hardtanh(x, -1.0, 0.5), F.hardswish(x)),
                        lambda r: (_halves(r, 4, 5),)),
    "clipped": ("clipped", lambda x: F.relu6(x * 2), lambda r: (_halves(r, 4, 5),)),
    "at_least": ("at_least", F.hardsigmoid, lambda r: (_halves(r, 4, 5) * 2,)),
    "broadcast_index": ("broadcast_index", lambda x, i: ag.take_along_dim(x, i, dim=1),
                        lambda r: (normal(r, 4, 5), r.integers(0, 5, (1, 3)))),
}


# functions ag.<name> that are the primitive <name>, by the inputs they take
UNARY = {normal: "exp abs sin cos tanh relu sinh cosh asinh erf erfc exp2",
         _pos: "log sqrt log2 log10", _unit: "atanh asin acos", _above_one: "acosh",
         _wide: "sigmoid atan floor ceil trunc", _special: "sign isnan isinf isfinite"}
CASES.update({name: (name, getattr(ag, name), lambda r, inputs=inputs: (inputs(r, 3, 4),))
              for inputs, names in UNARY.items() for name in names.split()})


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_primitive_exports_and_runs_as_the_engine_computes(case):
    prim, fn, make, *options = CASES[case]
    rng = np.random.default_rng(abs(hash(case)) % 2 ** 32)
    first, *others = make(rng), make(rng), make(rng)
    compiled = ag.compile(fn)
    compiled(*[ag.Tensor(a) for a in first])
    traced = {ins.prim.name for ins in compiled.last_program.instrs if ins.kind == "op"}
    assert prim in traced, f"{case} does not exercise '{prim}' (traced {sorted(traced)})"
    roundtrip(fn, first, others=others, **(options[0] if options else {}))


def test_the_cases_cover_every_mapped_primitive():
    assert {prim for prim, *_ in CASES.values()} == set(ag.onnx.supported_primitives())


def test_an_older_opset_works_and_scatter_add_asks_for_opset_16():
    rng = np.random.default_rng(13)
    x = normal(rng, 3, 4)
    roundtrip(lambda x: ag.logsumexp(x, axis=1) + x.max(axis=1), (x,), opset_version=13)
    roundtrip(lambda x: ag.logsumexp(x, axis=1) + x.max(axis=1), (x,), opset_version=18)
    with pytest.raises(ag.onnx.ExportError, match="opset 16"):
        ag.onnx.export(lambda x: ag.index_add(x, 0, np.array([0, 0]), x[:2]), (x,),
                       opset_version=13)


def test_dynamic_sizes_follow_reshapes_broadcasts_and_filled_constants():
    def f(x, y):
        z = ag.zeros((x.shape[0], 3)) + 1.5                   # a constant of the batch's size
        flat = x.reshape(x.shape[0] * x.shape[1], 2)            # batch × sequence
        back = flat.reshape(x.shape[0], x.shape[1], 2)
        return ag.broadcast_to(y[:, None, :], back.shape) * back, z, flat

    rng = np.random.default_rng(14)
    proto = roundtrip(f, (normal(rng, 3, 5, 2), normal(rng, 3, 2)),
                      others=[(normal(rng, 6, 4, 2), normal(rng, 6, 2))],
                      input_names=["x", "y"], dynamic_axes={"x": {0: "n", 1: "t"}, "y": {0: "n"}})
    assert output_dims(proto, 0) == ["n", "t", 2]
    assert output_dims(proto, 1) == ["n", 3]
    assert output_dims(proto, 2)[1] == 2 and not output_dims(proto, 2)[0]  # n·t: unnamed


def test_max_along_a_dim_sorts_and_medians_follow_a_dynamic_axis():
    # the values and indices of max(dim), a sort, median(dim) and mode along the
    # dynamic axis (TopK's k and the middle are its runtime size), the median of all
    # elements (their count is computed)
    def f(x):
        values, indices = x.max(dim=1)
        return values, indices, ag.sort(x, dim=0, descending=True), ag.median(x), \
            ag.topk(x, 2, dim=1), ag.any(x > 1, dim=0), ag.median(x, dim=0), ag.mode(x, 0), \
            ag.kthvalue(x, 3, dim=1)

    rng = np.random.default_rng(17)
    proto = roundtrip(f, (_ties_nan(rng, 4, 5),),
                      others=[(_ties_nan(rng, n, 5),) for n in (1, 2, 7, 30)],
                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    assert output_dims(proto, 0) == ["batch"] and output_dims(proto, 2) == ["batch", 5]


def test_ties_keep_numpys_first_occurrence_and_the_stable_order():
    x = np.float32([[3, 1, 3, 1, 2, 3], [0, 0, 0, 0, 0, 0], [np.nan, 5, np.nan, 5, -1, -1]])
    want_up = np.argsort(x, axis=1, kind="stable")
    want_down = np.flip(x.shape[1] - 1 - np.argsort(np.flip(x, 1), axis=1, kind="stable"), 1)
    proto = ag.onnx.export(lambda t: (ag.argmax(t, dim=1), ag.argmin(t, dim=1), ag.argsort(t),
                                      ag.argsort(t, descending=True), ag.topk(t, 3).indices),
                           (x,))
    got = run(proto.SerializeToString(), {"input_0": x})
    np.testing.assert_array_equal(got[0], [0, 0, 0])        # first maximum; the first NaN
    np.testing.assert_array_equal(got[1], [1, 0, 0])
    np.testing.assert_array_equal(got[2], want_up)
    np.testing.assert_array_equal(got[3], want_down)
    np.testing.assert_array_equal(got[4], want_down[:, :3])
    np.testing.assert_array_equal(want_down[2], [0, 2, 1, 3, 4, 5])  # NaN first, in order


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_an_op_without_an_onnx_form_is_named():
    def f(x):
        return ag.Tensor(x) * 0 + ag.rand(3)
    with pytest.raises(ag.onnx.ExportError, match="'draw' has no ONNX mapping.*eval mode"):
        ag.onnx.export(f, (np.ones(3, np.float32),), io.BytesIO())
    with pytest.raises(ag.onnx.ExportError, match="'cumprod' has no ONNX mapping.*cumsum"):
        ag.onnx.export(lambda x: ag.cumprod(x, 0), (np.ones(3, np.float32),))
    with pytest.raises(ag.onnx.ExportError, match="'scan_int' \\(cumprod of integers.*cumsum"):
        ag.onnx.export(lambda x: ag.cumprod(x, 0), (np.arange(1, 4),))
    x = np.ones((2, 4), np.float32)
    with pytest.raises(ag.onnx.ExportError, match="'view_dtype'.*opset 26: pass opset_version=26"):
        ag.onnx.export(lambda x: x.view(np.int32), (x,))
    with pytest.raises(ag.onnx.ExportError, match="'view_dtype' from float32 to int16 changes "
                                                  "the size of the last axis"):
        ag.onnx.export(lambda x: x.view(np.int16), (x,), opset_version=26)


def test_values_leaving_the_engine_are_refused():
    with pytest.raises(ag.onnx.ExportError, match="item"):
        ag.onnx.export(lambda x: x * x.sum().item(), (np.ones(3, np.float32),), io.BytesIO())


def test_a_value_computed_with_numpy_from_the_inputs_is_refused_not_frozen():
    x = np.random.default_rng(15).standard_normal((3, 4)).astype(np.float32)

    def picks(x):  # an index from the raw data, as an op written with NumPy would take it
        return x[np.arange(3), np.argmax(x._d, axis=1)]

    with pytest.raises(ag.onnx.ExportError, match="'index' of operation 0 \\('getitem'\\).*frozen"):
        ag.onnx.export(picks, (x,))


def test_dynamic_axes_are_checked():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="'z', which is not one of"):
        ag.onnx.export(lambda x: x * 2, (x,), input_names=["x"], dynamic_axes={"z": {0: "b"}})
    with pytest.raises(ValueError, match="has axis 2, but the input has 2 axes"):
        ag.onnx.export(lambda x: x * 2, (x,), input_names=["x"], dynamic_axes={"x": {2: "b"}})
    with pytest.raises(ValueError, match="different sizes"):
        ag.onnx.export(lambda x, y: x * 2, (x, np.ones(5, np.float32)), input_names=["x", "y"],
                       dynamic_axes={"x": {0: "b"}, "y": {0: "b"}})
    with pytest.raises(ag.onnx.ExportError, match="computed with NumPy.*neither filled nor "
                                                  "triangular"):
        ag.onnx.export(lambda x: ag.where(np.eye(x.shape[0], 3, dtype=bool), x, 0.0), (x,),
                       input_names=["x"], dynamic_axes={"x": {0: "b"}})


def test_bad_arguments():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="opset_version must be between 13"):
        ag.onnx.export(lambda x: x, (x,), opset_version=9)
    with pytest.raises(ValueError, match="2 input_names for 1 inputs"):
        ag.onnx.export(lambda x: x, (x,), input_names=["a", "b"])
    with pytest.raises(TypeError, match="args\\[0\\] must be a Tensor"):
        ag.onnx.export(lambda x: x, (object(),))
    with pytest.raises(ag.onnx.ExportError, match="returned no Tensor"):
        ag.onnx.export(lambda x: 3, (x,))


def test_operands_of_different_dtypes_are_promoted_as_numpy_promotes_them():
    def f(x, n, keep):
        return x + n, x * keep, x < n, ag.where(keep, x, n), ag.cat([x, n]), ag.exp(n) + ag.sqrt(n)

    rng = np.random.default_rng(16)
    make = lambda: (normal(rng, 5), rng.integers(0, 9, 5), rng.normal(size=5) > 0)  # noqa: E731
    roundtrip(f, make(), others=[make()])
