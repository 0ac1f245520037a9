"""How the documentation site is built from the sources: an MkDocs hook and a
Griffe extension (both named in mkdocs.yml).

**Links into the repository** (``on_page_markdown``, last). Pages include
sections of the README (include-markdown), whose links point at the
repository's files. A link to a Python source file outside ``docs/``
(``autograd_core/primitives.py``) would be a broken link on the site, so it
becomes a cross-reference to that module's API reference
(``[text][autograd_core.primitives]``), which mkdocs-autorefs resolves -- and
reports, failing a strict build, when no reference page documents the module.
Links to other files outside ``docs/`` are left alone, for MkDocs to report.

**Notebook pages skip the Markdown plugins** (``on_page_markdown``, first):
mkdocs-jupyter renders a notebook from its file, so the page's "Markdown"
-- the notebook's raw JSON, 10 MB with the figures -- is never used; it is
emptied before text plugins such as include-markdown scan it (which took
most of the build's time).

**MathJax for the notebooks** (``on_post_build``): the notebooks' equations
are typeset by MathJax 2, which the site serves itself from
``assets/mathjax/`` (copied from the ``jupyter-server-mathjax`` package, a
``docs`` extra), so pages render offline and nothing is fetched elsewhere.
That package has the STIX-Web fonts only (as the classic Jupyter notebook
uses them): ``config/local/site.js`` selects them.

**Which members a class page lists** (``HideBoilerplateDunders``). The API
reference is read from the imported packages (mkdocstrings' dynamic analysis:
Tensor's methods are the module functions, assigned at class level), with
the "public" filter (a module's ``__all__``). Imported classes then also carry
Python's own dunders (``__doc__``, ``__module__``, ``__weakref__``, ...) and
the operator methods, which PyTorch's reference does not list either: they
are left out of the tree, except the protocols a user calls by name. (Left
out rather than marked private: a class reached through an alias, such as
``autograd_core.Tensor``, shows its target's members as new aliases, which do
not carry the mark.)

**Doctest examples are code** (``FenceDoctests``): a docstring's ``>>>``
lines that start at the margin (as they do once Python strips a docstring
whose only indented lines are its example) would be Markdown text -- ``>``
quotes, ``[x][y]`` a reference link -- so each such block, up to the next
blank line, becomes a fenced ``pycon`` block. Examples indented under text,
in a fence, or in an ``Examples:`` section are left as they are.
"""
from __future__ import annotations

import os
import re
import shutil

import griffe
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# [text](target) with a relative target (no scheme, no leading '/' or '#').
_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\]"
                   r"\((?P<target>(?![a-z][a-z0-9+.-]*:|/|#)[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def module_of(path: str) -> str | None:
    """The dotted module name of a ``.py`` file of the repository, or None."""
    rel = os.path.relpath(path, ROOT)
    if rel.startswith("..") or not rel.endswith(".py") or not os.path.isfile(path):
        return None
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts else None


@event_priority(200)  # before every plugin (include-markdown runs at 100)
def _empty_notebook_markdown(markdown, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):
        return ""
    return markdown


@event_priority(-100)  # after include-markdown has put the README's text in
def _link_repository_modules(markdown, page, config, files):
    docs_dir = os.path.abspath(config["docs_dir"])
    page_dir = os.path.dirname(page.file.abs_src_path)

    def relink(match):
        target = os.path.normpath(os.path.join(page_dir, match["target"]))
        if os.path.commonpath([target, docs_dir]) == docs_dir:
            return match[0]
        module = module_of(target)
        if module is None:
            return match[0]
        return f"[{match['text']}][{module}]"

    return _LINK.sub(relink, markdown)


on_page_markdown = CombinedEvent(_empty_notebook_markdown, _link_repository_modules)


MATHJAX_DIR = "assets/mathjax"   # mkdocs.yml's custom_mathjax_url points here
MATHJAX_SITE_CONFIG = """\
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null,
                                 webFont: "STIX-Web", imageFont: null}});
MathJax.Ajax.loadComplete("[MathJax]/config/local/site.js");
"""


def on_post_build(config):
    try:
        import jupyter_server_mathjax
    except ImportError as error:
        raise PluginError("docs: the notebooks' equations need MathJax from the package "
                          "jupyter-server-mathjax: pip install -e '.[docs]'") from error
    static = os.path.join(os.path.dirname(jupyter_server_mathjax.__file__), "static")
    if not os.path.isfile(os.path.join(static, "MathJax.js")):
        raise PluginError(f"docs: no MathJax.js in {static}")
    target = os.path.join(config["site_dir"], MATHJAX_DIR)
    shutil.copytree(static, target, dirs_exist_ok=True)
    os.makedirs(os.path.join(target, "config", "local"), exist_ok=True)
    with open(os.path.join(target, "config", "local", "site.js"), "w", encoding="utf-8") as f:
        f.write(MATHJAX_SITE_CONFIG)


# Dunder methods that are API: NumPy's and DLPack's entry points on Tensor.
LISTED_DUNDERS = frozenset({"__array__", "__dlpack__", "__dlpack_device__"})


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


class HideBoilerplateDunders(griffe.Extension):
    """Removes a class's dunder members, except ``__init__`` (merged into the
    class's own entry) and ``LISTED_DUNDERS``."""

    def on_class(self, *, cls, loader, **kwargs):
        for name in [n for n in cls.members if _is_dunder(n)]:
            if name != "__init__" and name not in LISTED_DUNDERS:
                cls.del_member(name)


def fence_doctests(text: str) -> str:
    """``text`` with each block of ``>>>`` lines at the margin (with its
    ``...`` lines and output, up to a blank line) inside a ``pycon`` fence."""
    lines, out, fenced, i = text.split("\n"), [], False, 0
    while i < len(lines):
        if lines[i].startswith("```"):
            fenced = not fenced
        if not fenced and lines[i].startswith(">>>"):
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
            out += ["```", ""]
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Puts the doctest blocks of docstrings in ``pycon`` fences (``fence_doctests``)."""

    def on_object(self, *, obj, loader, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
