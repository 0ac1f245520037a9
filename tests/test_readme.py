"""The README's examples run as written (they are the first code a newcomer tries)."""
import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(python_blocks()) >= 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_readme_examples_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert abs(namespace["t"].grad.item() - 2.6014491) < 1e-6


def test_leaving_for_pytorch_and_onnx_recipes_run(tmp_path, monkeypatch):
    """The README's two recipes (to PyTorch by safetensors, to ONNX), run in
    order as written, when torch and onnxruntime are installed."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import numpy as np
    monkeypatch.chdir(tmp_path)
    section = README.read_text().split("## Leaving for PyTorch or ONNX", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    x = namespace["x"]
    ours = namespace["model"](x).data
    with torch.no_grad():
        theirs = namespace["torch_model"](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(namespace["logits"], ours, rtol=1e-5, atol=1e-6)
