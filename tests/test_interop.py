"""DLPack both ways (ag.from_dlpack, Tensor.__dlpack__) and the README's recipe
for moving a trained model to PyTorch, run as written."""

import re
from pathlib import Path

import numpy as np
import pytest

import nn
import optim
import autograd_core as ag
from autograd_core import Tensor
from autograd_core.interop import from_dlpack

README = Path(__file__).resolve().parent.parent / "README.md"


# ------------------------------------------------------------------ from_dlpack

@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array(2.5), np.arange(4),
    np.array([True, False]), np.arange(12.0).reshape(3, 4)[:, ::2], np.zeros((0, 3)),
    np.array([1 + 1j], np.complex64), np.arange(3, dtype=np.uint8),
], ids=lambda a: f"{a.dtype}{a.shape}")
def test_from_dlpack_of_an_ndarray_shares_memory(array):
    t = from_dlpack(array)
    assert isinstance(t, Tensor) and t.dtype == array.dtype and t.shape == array.shape
    assert np.shares_memory(t.data, array) or array.size == 0
    assert t.is_leaf and not t.requires_grad
    np.testing.assert_array_equal(t.data, array)


def test_from_dlpack_copy_argument():
    a = np.arange(3.0)
    copied = from_dlpack(a, copy=True)
    a[0] = 7.0
    assert copied.data[0] == 0.0
    assert from_dlpack(a, copy=False).data[0] == 7.0


def test_from_dlpack_is_exported_once_at_the_top():
    assert ag.from_dlpack is from_dlpack


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match=r"from_dlpack: expected an object with __dlpack__.*list"):
        from_dlpack([1.0, 2.0])
    with pytest.raises(BufferError, match="from_dlpack: this numpy.ndarray cannot be exported"):
        from_dlpack(np.ones(2, ">f4"))          # DLPack has no byte order
    with pytest.raises(BufferError, match="cannot be exported"):
        from_dlpack(np.array(["a"]))


def test_from_dlpack_result_joins_a_graph():
    w = from_dlpack(np.array([1.0, 2.0])).requires_grad_()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


# ------------------------------------------------------------------ Tensor.__dlpack__

def test_numpy_reads_a_tensor_without_copy():
    t = Tensor(np.arange(4, dtype=np.float32))
    a = np.from_dlpack(t)
    assert np.shares_memory(a, t.data) and a.dtype == np.float32
    assert t.__dlpack_device__() == (1, 0)                   # kDLCPU, device 0


@pytest.mark.parametrize("make", [
    lambda: Tensor(np.ones(2), requires_grad=True),
    lambda: Tensor(np.ones(2), requires_grad=True) * 2,      # not a leaf
], ids=["leaf", "non-leaf"])
def test_a_tensor_that_requires_grad_is_not_exported(make):
    t = make()
    with pytest.raises(BufferError, match=r"^Can't export tensors that require gradient, "
                                          r"use tensor\.detach\(\)$"):
        t.__dlpack__()
    np.testing.assert_array_equal(np.from_dlpack(t.detach()), t.data)


def _tensors():
    scalar = Tensor(1.5) * 2            # a 0-d result, held as a NumPy scalar inside
    return [Tensor(np.arange(6.0).reshape(2, 3)), Tensor(np.arange(3, dtype=np.float32)),
            Tensor(np.float32(4.0)), scalar, Tensor(np.arange(4)), Tensor(np.array([True])),
            Tensor(np.ones(3)).broadcast_to((2, 3))]


@pytest.mark.parametrize("convert", ["from_dlpack", "as_tensor"])
def test_torch_takes_a_tensor(convert):
    torch = pytest.importorskip("torch")
    for t in _tensors():
        x = getattr(torch, convert)(t)
        assert tuple(x.shape) == t.shape and str(x.dtype) == f"torch.{t.dtype}"
        np.testing.assert_array_equal(x.numpy(), t.data)
    t = Tensor(np.zeros(3, np.float32))
    x = getattr(torch, convert)(t)
    t.data[0] = 5.0                     # zero-copy: the same memory
    assert x[0].item() == 5.0


@pytest.mark.parametrize("convert", ["from_dlpack", "as_tensor", "tensor"])
def test_torch_refuses_a_tensor_that_requires_grad(convert):
    torch = pytest.importorskip("torch")
    with pytest.raises(BufferError, match="use tensor.detach"):
        getattr(torch, convert)(Tensor(np.ones(2), requires_grad=True))


def test_torch_tensors_come_in_without_copy():
    torch = pytest.importorskip("torch")
    x = torch.arange(6.0).reshape(2, 3)
    for source in (x, x.T, torch.tensor(3.0), torch.ones(2, dtype=torch.int64)):
        t = from_dlpack(source)
        assert t.shape == tuple(source.shape)
        np.testing.assert_array_equal(t.data, source.numpy())
    t = from_dlpack(x)
    x[0, 0] = 9.0
    assert t.data[0, 0] == 9.0


def test_torch_tensors_that_numpy_cannot_hold():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"NumPy has no dtype for this torch.Tensor.*x\.float\(\)"):
        from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(BufferError, match="require gradient, use tensor.detach"):
        from_dlpack(torch.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="conjugate bit"):
        from_dlpack(torch.ones(2, dtype=torch.complex64).conj())


# ------------------------------------------------------------------ the README recipe

def readme_recipe():
    section = README.read_text().split("## Leaving for PyTorch or ONNX", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2          # to PyTorch, then to ONNX (tests/test_readme.py runs both)
    return blocks[0]


def test_readme_recipe_moves_a_trained_model_to_pytorch(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("safetensors.torch")
    recipe = readme_recipe()
    assert 'ag.save(model.state_dict(), "m.safetensors")' in recipe
    assert 'torch_model.load_state_dict(safetensors.torch.load_file("m.safetensors"))' in recipe
    # "trained here": a few SGD steps in between building the model and saving it
    build, rest = recipe.split("\nag.save", 1)
    namespace = {}
    monkeypatch.chdir(tmp_path)
    exec(compile(build, str(README), "exec"), namespace)  # noqa: S102 - our own README
    model = namespace["model"]
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 64)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    exec(compile("ag.save" + rest, str(README), "exec"), namespace)  # noqa: S102

    import torch
    torch_model = namespace["torch_model"]
    test = rng.random((32, 784), dtype=np.float32)
    with torch.no_grad():
        theirs = torch_model(torch.from_numpy(test)).numpy()
    ours = model(test).data
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert np.abs(ours).max() > 0.01        # a real network output, not zeros
