"""The packages are layers: each imports only the layers below it.

    autograd_core (the engine) -> nn -> optim -> autograd_apps; benchmarks and tests on top.

Checked by import-linter's contracts (pyproject.toml: also the layers inside the
engine, and no import circle inside any package) and by importing each layer in a
fresh interpreter.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("autograd_core", "nn", "optim", "autograd_apps")
ON_TOP = ("benchmarks", "tests")


def test_import_contracts_hold():
    """import-linter's contracts in pyproject.toml: the packages are layers, the
    engine is layered inside, and no package has an import circle. (Every import
    counts, also one inside a function.)"""
    pytest.importorskip("importlinter")
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.mark.parametrize("layer", LAYERS)
def test_importing_a_layer_loads_nothing_above_it(layer):
    above = list(LAYERS[LAYERS.index(layer) + 1:]) + list(ON_TOP)
    code = ("import importlib, json, pkgutil, sys\n"
            f"pkg = importlib.import_module({layer!r})\n"
            "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {above!r})))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1]) == []


def test_the_engine_holds_no_application():
    assert not (ROOT / "autograd_core" / "train.py").exists()
