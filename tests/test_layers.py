"""The packages are layers: each imports only the layers below it.

    autograd_core (the engine) -> nn -> optim -> autograd_apps; benchmarks and tests on top.

Checked on the source (every import statement, also those inside functions) and
by importing each layer in a fresh interpreter.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("autograd_core", "nn", "optim", "autograd_apps")
ON_TOP = ("benchmarks", "tests")


def imported_packages(path):
    """Top-level names of every absolute import in the file at `path`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_one_above_it(layer):
    above = set(LAYERS[LAYERS.index(layer) + 1:]) | set(ON_TOP)
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files
    bad = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & above) for f in files}
    assert not {f: names for f, names in bad.items() if names}


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
