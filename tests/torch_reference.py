"""PyTorch as an optional reference for tests.

``from tests.torch_reference import torch`` gives the real ``torch`` when it is
importable. Where it is not (CI), it gives a stand-in that lets a test module
build its tables of ``(ours, torch's)`` pairs at import time and skips exactly
the tests that then use torch — calling, iterating, comparing or entering any
attribute of it — so the tests that need no torch (derivative checks, error
messages) still run. ``pytest.importorskip`` at module level would skip them all.
"""
import pytest

try:
    import torch
except ImportError:
    torch = None


class MissingTorch:
    """``torch.<path>`` where torch is not installed: every use skips the test."""

    def __init__(self, path="torch"):
        self._path = path

    def __getattr__(self, name):
        if name.startswith("_"):   # keep pytest's and copy's probes (__test__, _pytestfixturefunction) honest
            raise AttributeError(name)
        return MissingTorch(f"{self._path}.{name}")

    def _skip(self, *args, **kwargs):
        pytest.skip(f"{self._path} needs torch, which is not installed")

    __call__ = __iter__ = __len__ = __bool__ = __enter__ = __getitem__ = _skip
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _skip
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _skip
    __truediv__ = __rtruediv__ = __neg__ = __array__ = __float__ = __int__ = _skip
    __hash__ = object.__hash__

    def __repr__(self):
        return f"<{self._path}: torch is not installed>"


if torch is None:
    torch = MissingTorch()
