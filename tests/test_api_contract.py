"""Every call that the API contract (/work/shared/API.md) writes as
``name(arg, key=default, ...)`` binds against our function, class or method:
its positional arguments fit and its keyword names are accepted — the
contract's spelling works, torch's stays (``requires_grad_(flag=True)`` and
``requires_grad_(requires_grad=True)``, ``compile(fn)`` and ``compile(model=)``)."""
import inspect
import os
import re
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn
import optim

API = Path(os.environ.get("AUTOGRAD_CORE_API_MD", "/work/shared/API.md"))

CALL = re.compile(r"([A-Za-z_][\w.]*)\(([^()]*)\)")
# names in the contract's text that are placeholders, not API (f(x), f(*x), ...)
PLACEHOLDERS = {"f"}
ALWAYS_PRESENT = object()


def _sections(text):
    """(section title, text) pairs of the contract, fenced code removed."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    parts = re.split(r"^#+ (.*)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def _split_args(args):
    out, depth, cur = [], 0, ""
    for ch in args:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def contract_calls():
    """(section, name, positional count, keyword names, more arguments left open)
    of every call span."""
    calls = []
    for title, body in _sections(API.read_text()):
        for span in re.findall(r"`([^`]+)`", body, flags=re.S):
            for name, args in CALL.findall(span):
                pos, kws, more = 0, [], False
                for a in _split_args(args):
                    if a in ("...", "…") or a.startswith("**"):
                        more = True   # the contract leaves further (required) arguments open
                        continue
                    m = re.match(r"^([A-Za-z_]\w*)\s*=", a)
                    if m:
                        kws.append(m.group(1))
                    else:
                        pos += 1
                calls.append((title, name, pos, tuple(kws), more))
    return calls


def _instances():
    layer = nn.Linear(2, 1)
    return {"tensor": ag.ones(2, requires_grad=True), "module": layer,
            "optimizer": optim.SGD(layer.parameters(), lr=0.1)}


def resolve(title, name):
    """The callable the contract means by ``name`` in section ``title`` (None: not API)."""
    inst = _instances()
    parts = name.split(".")
    roots = {"ag": ag, "autograd_core": ag, "nn": nn, "optim": optim}
    if parts[0] in roots:
        obj = roots[parts[0]]
        for p in parts[1:]:
            obj = getattr(obj, p)
        return obj
    if parts[0] in ("x", "y") and len(parts) == 2:   # x.max(...): a Tensor method
        return getattr(inst["tensor"], parts[1])
    if len(parts) > 1 or name in PLACEHOLDERS:
        return None
    if title.startswith("autograd_core.functional"):
        order = [ag.functional]
    elif title.startswith("autograd_core.viz"):
        order = [ag.viz]
    elif title == "nn":
        order = [inst["module"], nn]
    elif title == "optim":
        order = [inst["optimizer"], optim]
    else:
        order = [inst["tensor"], ag, nn.functional, ag.utils.data]
    for where in order:
        obj = getattr(where, name, None)
        if callable(obj):
            return obj
    raise AssertionError(f"API.md ({title}): {name}(...) names nothing callable")


CALLS = contract_calls() if API.exists() else []


def test_the_contract_was_read():
    if not API.exists():
        pytest.skip(f"{API} (the API contract) is not on this machine")
    names = {name for _, name, *_ in CALLS}
    assert {"requires_grad_", "nn.Linear", "optim.SGD", "autograd_core.compile",
            "autograd_core.autograd.grad", "DataLoader"} <= names


@pytest.mark.parametrize("title,name,npos,keywords,more", CALLS,
                         ids=[f"{n}({p},{','.join(k)})" for _, n, p, k, _ in CALLS])
def test_contract_call_binds(title, name, npos, keywords, more):
    obj = resolve(title, name)
    if obj is None:
        pytest.skip(f"{name} is a placeholder in the contract's text")
    sig = inspect.signature(obj)
    try:
        (sig.bind_partial if more else sig.bind)(*[ALWAYS_PRESENT] * npos,
                                                 **{k: ALWAYS_PRESENT for k in keywords})
    except TypeError as e:
        raise AssertionError(f"API.md ({title}) writes {name}({npos} positional, "
                             f"{', '.join(k + '=' for k in keywords)}) but the signature is "
                             f"{name}{sig}: {e}") from None


def test_both_spellings_of_requires_grad_and_compile():
    assert ag.ones(2).requires_grad_(flag=True).requires_grad
    assert ag.ones(2).requires_grad_(requires_grad=True).requires_grad
    assert not ag.ones(2).requires_grad_(flag=False).requires_grad
    assert ag.ones(2).requires_grad_().requires_grad
    with pytest.raises(TypeError, match="requires_grad_.*both"):
        ag.ones(2).requires_grad_(False, flag=True)

    def double(t):
        return t * 2

    x = ag.tensor([1.0, 2.0])
    for compiled in (ag.compile(fn=double), ag.compile(model=double), ag.compile(double),
                     ag.compile(cache_size=2)(double)):
        np.testing.assert_array_equal(compiled(x).data, [2.0, 4.0])
    with pytest.raises(TypeError, match="compile: got both model= and fn="):
        ag.compile(double, fn=double)
