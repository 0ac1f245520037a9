"""List the public objects of the API reference that have no docstring, by module.

Reads the packages as the site does (Griffe's dynamic analysis, mkdocs.yml's
extension, the "public" filter) and walks what the reference pages render:
each ``::: identifier`` of ``docs/reference/``, its public members and,
for a class, its public methods and properties (Tensor's inherited ones too).
An object counts as documented if it has its own docstring: the site does
not show a base class's docstring on an override that has none.

    .venv/bin/python scripts/docstring_gaps.py          # the list, by module
    .venv/bin/python scripts/docstring_gaps.py --count  # the counts only
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys

import griffe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE_DIR = os.path.join(ROOT, "docs", "reference")
PACKAGES = ("autograd_core", "nn", "optim")
INHERITED = {"autograd_core.Tensor"}   # pages rendered with inherited_members: true

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from docs_hooks import HideBoilerplateDunders  # noqa: E402


# "::: identifier", then its indented options; "members:" as the page gives it.
_DIRECTIVE = re.compile(r"^::: *(\S+)\n((?:[ \t]+\S.*\n)*)", re.M)
_MEMBERS = re.compile(r"^\s+members: *(.+)$", re.M)


def directives():
    """(identifier, members) for each ``:::`` of the reference pages: members
    is None (the public ones), False (none) or a list of names."""
    for folder, _, files in os.walk(REFERENCE_DIR):
        for name in sorted(files):
            if name.endswith(".md"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    for ident, options in _DIRECTIVE.findall(f.read()):
                        members = _MEMBERS.search(options)
                        value = members.group(1).strip() if members else None
                        if value == "false":
                            yield ident, False
                        elif value and value.startswith("["):
                            yield ident, [m.strip() for m in value.strip("[]").split(",")]
                        else:
                            yield ident, None


def walk(obj, inherited=False, only=None, seen=None):
    """``obj`` and the public members the reference renders under it (``only``:
    the page's list of members, or False for none)."""
    seen = set() if seen is None else seen
    target = obj.final_target if obj.is_alias else obj
    if target.path in seen:
        return
    seen.add(target.path)
    yield obj
    if target.kind not in (griffe.Kind.MODULE, griffe.Kind.CLASS) or only is False:
        return
    members = dict(target.members)
    if inherited:
        members.update({k: v for k, v in target.inherited_members.items() if k not in members})
    if only:
        members = {k: v for k, v in members.items() if k in only}
    for member in members.values():
        try:
            public = member.is_public
        except griffe.AliasResolutionError:
            continue
        if not public or member.name == "__init__":
            continue
        if target.kind is griffe.Kind.MODULE and member.is_alias:
            continue   # re-exports are rendered where they are defined
        if member.is_module:
            continue   # submodules have their own pages
        yield from walk(member, seen=seen)


def documented(obj):
    """Whether the site shows a docstring for ``obj``: its own (the site does
    not show a base class's docstring on an override without one)."""
    target = obj.final_target if obj.is_alias else obj
    return bool(target.docstring and target.docstring.value.strip())


def gaps():
    loader = griffe.GriffeLoader(extensions=griffe.load_extensions(HideBoilerplateDunders()),
                                 search_paths=[ROOT, *sys.path], force_inspection=True)
    for package in PACKAGES:
        loader.load(package)
    loader.resolve_aliases(external=False, implicit=False)
    missing = collections.defaultdict(list)
    for ident, only in directives():
        obj = loader.modules_collection.get_member(ident)
        for item in walk(obj, inherited=ident in INHERITED, only=only):
            target = item.final_target if item.is_alias else item
            if target.path.split(".")[0] in PACKAGES and not documented(item):
                module = target.module.path
                missing[module].append(target.path[len(module) + 1:] or "(module docstring)")
    return {m: sorted(set(names)) for m, names in sorted(missing.items())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", action="store_true", help="print the counts only")
    args = parser.parse_args(argv)
    found = gaps()
    total = sum(len(v) for v in found.values())
    for module, names in found.items():
        print(f"{module} ({len(names)})" + ("" if args.count else ": " + ", ".join(names)))
    print(f"{total} public objects without a docstring in {len(found)} modules")


if __name__ == "__main__":
    main()
