"""ONNX export: the written model passes onnx.checker and onnxruntime computes
what the engine computes."""
import io

import numpy as np
import pytest

import autograd_core as ag
import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run(path_or_bytes, feeds):
    sess = ort.InferenceSession(path_or_bytes)
    return sess.run(None, feeds)


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
    buf = io.BytesIO()
    ag.onnx.export(f, (a, b), buf)
    outs = run(buf.getvalue(), {"input_0": a, "input_1": b})
    for got, want in zip(outs, f(ag.Tensor(a), ag.Tensor(b))):
        np.testing.assert_allclose(got, want.data, rtol=1e-5, atol=1e-6)


def test_an_op_without_an_onnx_form_is_named():
    def f(x):
        return ag.Tensor(x) * 0 + ag.rand(3)
    with pytest.raises(ag.onnx.ExportError, match="'draw' has no ONNX mapping"):
        ag.onnx.export(f, (np.ones(3, np.float32),), io.BytesIO())


def test_values_leaving_the_engine_are_refused():
    with pytest.raises(ag.onnx.ExportError, match="item"):
        ag.onnx.export(lambda x: x * x.sum().item(), (np.ones(3, np.float32),), io.BytesIO())
