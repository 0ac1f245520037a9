"""Execute every teaching notebook in ``notebooks/`` in a fresh kernel.

One test per notebook. Each runs top to bottom with nbclient in a new
``python3`` kernel started with this interpreter (the project's venv), with
the working directory ``notebooks/`` and ``AUTOGRAD_NOTEBOOK_QUICK=1`` in the
environment, so notebooks may shrink their data and epochs. The outputs are
not written back: the committed notebooks keep the outputs of the full run.

A failing cell is reported with its index, its source and the traceback.
Run only these tests with ``bash scripts/test.sh -m notebooks``, or skip them
with ``-m 'not notebooks'``.

Environment:
    AUTOGRAD_NOTEBOOK_TIMEOUT   seconds allowed for one whole notebook (default 300)
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbclient.exceptions import (  # noqa: E402
    CellExecutionError, CellTimeoutError, DeadKernelError)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT = float(os.environ.get("AUTOGRAD_NOTEBOOK_TIMEOUT", "300"))
KERNEL_NAME = "python3"

# A first cell, added to the in-memory copy only: the kernel must be this
# interpreter's (a `python3` kernelspec elsewhere, e.g. in ~/.local, would
# otherwise run the notebooks against another Python and another install).
_CHECK_KERNEL = f"""\
import os, sys
_expected = {os.path.realpath(sys.prefix)!r}
assert os.path.realpath(sys.prefix) == _expected, (
    f"the notebook kernel runs {{sys.executable}} (prefix {{sys.prefix}}), "
    f"not the test interpreter's environment {{_expected}}")
assert os.environ.get("AUTOGRAD_NOTEBOOK_QUICK") == "1"
del _expected
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _kernel_env():
    """Variables to set for the kernel: quick mode, and this checkout's
    packages first on the path."""
    env = {"AUTOGRAD_NOTEBOOK_QUICK": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    # Look up the `python3` kernelspec in this environment before any user dir.
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(Path(sys.prefix) / "share" / "jupyter")]
        + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    return env


def _failure_report(name, nb, exc):
    """Which cell failed, its source and the traceback, without terminal colours."""
    where = ""
    for i, cell in enumerate(nb.cells):
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            # cell 0 is the injected kernel check, so i counts the notebook's own cells from 1
            where = f" in cell {i} of {len(nb.cells) - 1} (counting markdown cells)"
            break
    return f"notebook {name} failed{where}:\n{_ANSI.sub('', str(exc))}"


def run_notebook(path, monkeypatch):
    """Execute the notebook at ``path`` (not saved); fail the test with the
    failing cell's source and error. Returns the seconds it took."""
    name = Path(path).name
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_CHECK_KERNEL))
    for key, value in _kernel_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MPLBACKEND", raising=False)   # ipykernel's inline backend draws the figures

    start = time.perf_counter()
    deadline = start + TIMEOUT
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        # Each cell may use what is left of the notebook's budget, so the
        # budget bounds the whole run and nbclient stops the kernel cleanly.
        timeout_func=lambda cell: max(1.0, deadline - time.perf_counter()),
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    failure = None
    try:
        client.execute()
    except CellTimeoutError as exc:
        failure = (f"notebook {name} did not finish within {TIMEOUT:.0f} s "
                   f"(AUTOGRAD_NOTEBOOK_TIMEOUT); it was stopped in this cell:\n"
                   f"{_ANSI.sub('', str(exc))}")
    except CellExecutionError as exc:
        failure = _failure_report(name, nb, exc)
    except DeadKernelError as exc:
        failure = f"notebook {name}: the kernel died ({exc})\n" + _failure_report(name, nb, exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)   # outside `except`: no chained traceback
    return time.perf_counter() - start


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, monkeypatch):
    elapsed = run_notebook(NOTEBOOK_DIR / name, monkeypatch)
    print(f"{name}: {elapsed:.1f} s in quick mode")
