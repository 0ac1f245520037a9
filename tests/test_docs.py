"""The documentation: the site builds, documents the whole public API, and the
docstrings' examples run.

* The site (``mkdocs.yml``) is built with ``mkdocs build --strict``, once per
  test session, so a broken link, a missing page or anchor, a notebook left
  out of the navigation or a reference that cannot be resolved fails here
  (and a small site with a broken link checks that the command does fail).
  Skipped only when mkdocs is not installed (``scripts/setup.sh`` installs the
  ``docs`` extra, so under ``scripts/test.sh`` it always runs).
* Every name in the ``__all__`` of a public module (``API_MODULES``) has an
  entry in the API reference (the site's ``objects.inv``).
* The examples (``>>>``) in the docstrings of every module that has a reference
  page run as doctests, one test per module. They may assume
  ``import numpy as np, autograd_core as ag, nn, optim`` and
  ``import nn.functional as F``; they run in a scratch directory with
  ``ag.manual_seed(0)``, and every global setting they touch is put back.
  Modules whose examples do not run yet, or that have none, are listed in
  ``EXAMPLES_NOT_YET_RUNNABLE`` (strict xfail: fixing one fails the test until
  it leaves the list).
"""
from __future__ import annotations

import doctest
import fcntl
import importlib
import inspect
import io
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn
import optim

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "docs" / "reference"
NOTEBOOK_DIR = ROOT / "notebooks"
BUILD_TIMEOUT = 900   # seconds; the build takes about 20 s of CPU

# The modules a user imports names from: each name of their __all__ must be
# on a reference page.
API_MODULES = [
    "autograd_core", "autograd_core.autograd", "autograd_core.autograd.forward_ad",
    "autograd_core.functional", "autograd_core.curvature", "autograd_core.compiler",
    "autograd_core.viz", "autograd_core.testing", "autograd_core.serialization",
    "autograd_core.interop", "autograd_core.creation", "autograd_core.random",
    "autograd_core.dtypes", "autograd_core.utils", "autograd_core.utils.data",
    "nn", "nn.functional", "nn.init", "nn.utils", "nn.data", "nn.datasets",
    "optim", "optim.lr_scheduler", "optim.line_search",
]
PROJECT_PACKAGES = ("autograd_core", "nn", "optim")

# Modules whose docstring examples do not run yet, or that have none (the
# docstring pass fixes them; remove a module from here once its examples run).
# The examples' convention: Google-style sections (Args:, Returns:, Examples:
# with >>> lines), Markdown rather than reST, which is what the site renders.
NO_EXAMPLES = "no examples (>>>) yet"


def undefined(names):
    return f"examples use names they do not define ({names})"


PENDING = "examples to be completed by the docstring pass (new module or names)"
EXAMPLES_NOT_YET_RUNNABLE = {
}


# ---------------------------------------------------------------- the site

def _build_site(site_dir: Path, config: Path = ROOT / "mkdocs.yml") -> dict:
    """``mkdocs build --strict`` (never with --quiet: it hides the warnings that
    --strict counts) into ``site_dir``; the exit code and the output."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
               "--site-dir", str(site_dir)]
    try:
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        return {"returncode": None, "output": f"mkdocs build took more than {BUILD_TIMEOUT} s\n"
                                              f"{error.stderr or ''}"}
    return {"returncode": proc.returncode, "output": proc.stdout + proc.stderr}


def _need_mkdocs():
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install -e '.[docs]' "
                                         "(scripts/setup.sh installs the docs extra)")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The built site's directory, built once per session (once for all
    pytest-xdist workers: the first builds, under a lock, the others read)."""
    _need_mkdocs()
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    site_dir, result_file = shared / "docs-site", shared / "docs-site.json"
    with open(shared / "docs-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result_file.exists():
            result_file.write_text(json.dumps(_build_site(site_dir)))
        result = json.loads(result_file.read_text())
    if result["returncode"] != 0:
        problems = "\n".join(line for line in result["output"].splitlines()
                             if not line.startswith("INFO"))
        pytest.fail(f"mkdocs build --strict failed (exit {result['returncode']}):\n"
                    f"{problems[-6000:]}", pytrace=False)
    return site_dir


def _inventory(site_dir: Path) -> set[str]:
    """The identifiers of the API reference (mkdocstrings' objects.inv)."""
    header_lines = 4   # Sphinx inventory v2: four text lines, then zlib
    data = (site_dir / "objects.inv").read_bytes().split(b"\n", header_lines)[header_lines]
    return {line.split(" ", 1)[0] for line in zlib.decompress(data).decode().splitlines()}


def test_a_broken_link_fails_the_build(tmp_path):
    """The build command itself: a warning (here a link to a missing page) fails it."""
    _need_mkdocs()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the page](missing.md).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: broken\ndocs_dir: docs\ntheme: {name: material}\n")
    result = _build_site(tmp_path / "site", config)
    assert result["returncode"] == 1, result["output"]
    assert "missing.md" in result["output"]


def test_site_builds_strict(site):
    assert (site / "index.html").is_file()
    assert (site / "reference" / "autograd_core" / "tensor" / "index.html").is_file()


def test_every_notebook_is_a_page_with_its_outputs(site):
    notebooks = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"no page for {notebook.name}"
        html = page.read_text(encoding="utf-8")
        outputs = json.loads(notebook.read_text(encoding="utf-8"))
        has_images = any("image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {})
                         for cell in outputs["cells"] for out in cell.get("outputs", []))
        if has_images:
            assert "<img" in html, f"{notebook.name}: its figures are not on its page"


def test_tensor_page_lists_the_methods(site):
    html = (site / "reference" / "autograd_core" / "tensor" / "index.html").read_text(encoding="utf-8")
    for member in ("backward", "reshape", "sum", "detach", "numpy", "item", "requires_grad_",
                   "grad", "data", "exp", "transpose", "__array__"):
        assert f'id="autograd_core.Tensor.{member}"' in html, member


def _documented_as(obj, name, inventory):
    """Whether ``obj`` (found as ``name`` in an API module) has a reference entry:
    under that path, its defining path, or any project module's path to it."""
    qualname = getattr(obj, "__qualname__", None)
    module = getattr(obj, "__module__", None)
    if isinstance(obj, type(sys)):
        return obj.__name__ in inventory
    if qualname and module and f"{module}.{qualname}" in inventory:
        return True
    short = name.rpartition(".")[2]
    return any(getattr(mod, short, None) is obj and f"{mod_name}.{short}" in inventory
               for mod_name, mod in list(sys.modules.items())
               if mod is not None and mod_name.split(".")[0] in PROJECT_PACKAGES)


def test_public_api_is_documented(site):
    inventory = _inventory(site)
    missing = []
    for mod_name in API_MODULES:
        module = importlib.import_module(mod_name)
        if mod_name not in inventory:
            missing.append(f"{mod_name} (the module)")
        for name in module.__all__:
            obj = getattr(module, name)
            # Other libraries' objects under PyTorch's names (the dtypes are
            # NumPy's scalar types) have no docstring of ours to render.
            if not isinstance(obj, type(sys)) and isinstance(obj, type) and \
                    obj.__module__.split(".")[0] not in PROJECT_PACKAGES:
                continue
            path = f"{mod_name}.{name}"
            if path not in inventory and not _documented_as(obj, path, inventory):
                missing.append(path)
    assert not missing, ("public names with no entry in the API reference (add them to a page "
                         "in docs/reference/): " + ", ".join(missing))


# ------------------------------------------------------- docstring examples

def _reference_modules() -> list[str]:
    """The modules whose objects the reference pages render (``::: name`` lines):
    a module itself and, for a package such as ``curvature``, the modules
    that define the names of its ``__all__``; for a class, also the modules of
    its project base classes (a page may render inherited members: ``Tensor``'s
    shows ``core.TensorBase``'s)."""
    modules = set()
    for page in REFERENCE_DIR.rglob("*.md"):
        for ident in re.findall(r"^::: *(\S+)", page.read_text(encoding="utf-8"), re.M):
            try:
                module = importlib.import_module(ident)
            except ImportError:
                parent, _, attr = ident.rpartition(".")
                obj = getattr(importlib.import_module(parent), attr)
                bases = obj.__mro__ if inspect.isclass(obj) else (obj,)
                modules.update(b.__module__ for b in bases
                               if b.__module__.split(".")[0] in PROJECT_PACKAGES)
                continue
            modules.add(module.__name__)
            for name in getattr(module, "__all__", ()):
                defined_in = getattr(getattr(module, name), "__module__", None)
                if isinstance(defined_in, str) and defined_in.split(".")[0] in PROJECT_PACKAGES:
                    modules.add(defined_in)
    return sorted(modules)


DOCTEST_MODULES = _reference_modules()


def _module_param(name):
    reason = EXAMPLES_NOT_YET_RUNNABLE.get(name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, marks=marks, id=name)


def test_not_yet_runnable_list_names_documented_modules():
    stale = sorted(set(EXAMPLES_NOT_YET_RUNNABLE) - set(DOCTEST_MODULES))
    assert not stale, f"EXAMPLES_NOT_YET_RUNNABLE names modules with no reference page: {stale}"


@pytest.fixture
def isolated_globals(tmp_path, monkeypatch):
    """A scratch working directory, a seeded generator, and the global settings
    examples may change (default dtype, NumPy's print options, grad mode) put back."""
    monkeypatch.chdir(tmp_path)
    dtype, rng, printoptions, grad = (ag.get_default_dtype(), ag.get_rng_state(),
                                      np.get_printoptions(), ag.is_grad_enabled())
    ag.manual_seed(0)
    yield
    ag.set_default_dtype(dtype)
    ag.set_rng_state(rng)
    np.set_printoptions(**printoptions)
    ag.set_grad_enabled(grad)


class _ModuleFinder(doctest.DocTestFinder):
    """doctest's finder, with a function belonging to the module its
    ``__module__`` names: the functions made by a factory (``ops.math``'s
    ``log1p`` is made in ``ops.arithmetic``) are tested where they are
    documented (doctest looks at a function's globals, which are the factory's)."""

    def _from_module(self, module, object):  # noqa: A002 - doctest's signature
        if inspect.isfunction(object):
            return getattr(object, "__module__", None) == module.__name__
        return super()._from_module(module, object)


@pytest.mark.parametrize("module_name", [_module_param(m) for m in DOCTEST_MODULES])
def test_docstring_examples_run(module_name, isolated_globals):
    module = importlib.import_module(module_name)
    finder = _ModuleFinder(exclude_empty=True)
    names = {"np": np, "ag": ag, "nn": nn, "optim": optim, "F": nn.functional}
    tests = [t for t in finder.find(module, extraglobs=names) if t.examples]
    assert tests, f"{module_name}: no docstring examples (>>>)"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, (f"{module_name}: {result.failed} of {result.attempted} examples "
                                f"failed\n{report.getvalue()[-6000:]}")
