"""The computation graph: recording nodes, the iterative topological sort and the
backward sweep.

A non-leaf Tensor is a node: it records the primitive that made it (``_op``),
its parents as an ordered tuple (``_parents``) and the primitive's keyword
settings (``_settings``). Everything that walks a graph — the backward sweep
here, the drawer in ``viz``, the printers — reads that one record.

Reverse mode, in the notation of the course:

    v̄_N = 1,   v̄_i = Σ_{j ∈ children(i)} v̄_j ∂v_j/∂v_i     (i = N-1, …, 1)

is a loop over the reversed topological order in which every node hands each
parent its share ``vjp_i(v̄_j)`` and shares are summed out of place.

Forward mode (the R{·} operator) needs no separate sweep: while forward-mode
AD is active, every primitive evaluation also evaluates its JVP rule on the
inputs' ``tangent``s (see ``apply``). Running the backward sweep with Tensors
instead of raw arrays while tangents are present therefore pushes R{·}
through the backward pass: Pearlmutter's forward-over-reverse Hv.
"""
from __future__ import annotations

import itertools
import operator
import threading
import traceback
import weakref

import numpy as np

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "forward_ad", "retain_grads", "toposort", "backward",
    "AnomalyError",
]


class _State(threading.local):
    """Per-thread switches, read on every primitive evaluation."""

    def __init__(self):
        self.grad_enabled = True      # record nodes for reverse mode
        self.forward_ad = False       # evaluate JVP rules on tangents
        self.anomaly = False          # check every value for NaN/inf
        self.retain_grads = False     # keep .grad on non-leaf nodes


_state = _State()

# How many special-mode blocks (forward_ad, retain_grads, detect_anomaly) are
# open in any thread. While none is, apply() skips reading those per-thread
# flags altogether: one global test instead of three thread-local lookups.
_specials = 0
_specials_lock = threading.Lock()


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class _Switch:
    """A context manager (and decorator) that sets one ``_state`` flag."""

    _flag = ""
    _value = True
    _special = False  # a mode that apply() must look at (see _specials)

    def __enter__(self):
        global _specials
        self._saved = getattr(_state, self._flag)
        setattr(_state, self._flag, self._value)
        if self._special:
            with _specials_lock:
                _specials += 1
        return self

    def __exit__(self, *exc):
        global _specials
        setattr(_state, self._flag, self._saved)
        if self._special:
            with _specials_lock:
                _specials -= 1
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._init_args):
                return fn(*args, **kwargs)
        return wrapper

    _init_args = ()


class no_grad(_Switch):
    """Evaluate without recording the graph: results have ``requires_grad=False``."""
    _flag, _value = "grad_enabled", False


class enable_grad(_Switch):
    """Re-enable recording inside a ``no_grad`` block."""
    _flag, _value = "grad_enabled", True


class set_grad_enabled(_Switch):
    """``with set_grad_enabled(flag):`` — recording on or off by a boolean."""
    _flag = "grad_enabled"

    def __init__(self, mode: bool):
        self._value = bool(mode)
        self._init_args = (mode,)


class forward_ad(_Switch):
    """Evaluate each primitive's JVP rule on the tangents its inputs carry.

    Used by ``functional.jvp``/``hvp``; a teacher may also use it directly::

        x.tangent = Tensor(v)
        with forward_ad():
            y = f(x)          # y.tangent == J v, and every node has R{node}
    """
    _flag, _value, _special = "forward_ad", True, True


class retain_grads(_Switch):
    """Keep ``.grad`` on every non-leaf node created inside the block.

    Teaching aid: after ``backward()`` each intermediate v_i shows v̄_i, which
    ``viz.draw_graph(..., show_grad=True)`` then draws.
    """
    _flag, _value, _special = "retain_grads", True, True


class AnomalyError(RuntimeError):
    """A NaN or infinity appeared while ``detect_anomaly()`` was active."""


class detect_anomaly(_Switch):
    """Raise at the first primitive whose forward or backward output has NaN/inf.

    Inside the block every node remembers where in the user's code it was
    created, so the error can point there. It slows every op: debug only.
    """
    _flag, _value, _special = "anomaly", True, True


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------

Tensor = None  # set by tensor.py once the class exists (graph.py is imported first)
_new_tensor = object.__new__
# Creation order of nodes (see toposort); leaves and constants have 0.
_next_seq = itertools.count(1).__next__

_NO_SETTINGS: dict = {}


def apply(prim, inputs, settings, data):
    """Wrap ``data``, primitive ``prim``'s output on Tensors ``inputs``, in a
    Tensor and record the node when an input requires grad.

    The hot path of the engine: callers compute ``data`` themselves (no
    argument unpacking here), and rare work (tangents, anomaly checks) sits
    behind one flag test each.
    """
    out = _new_tensor(Tensor)
    out._d = data
    out._grad = None
    out.name = None
    out.tangent = None
    state = _state
    record = False
    if state.grad_enabled:
        for t in inputs:
            if t._rg:
                record = True
                break
    if record:
        out._seq = _next_seq()
        out._rg = True
        out._op = prim
        out._parents = inputs
        out._settings = settings
    else:
        out._seq = 0
        out._rg = False
        out._op = None
        out._parents = ()
        out._settings = None
    if _specials:
        if state.retain_grads and out._rg:
            _retained.add(out)
        if state.forward_ad:
            _push_tangent(prim, inputs, settings, out)
        if state.anomaly:
            _check_forward(prim, out, inputs, settings)
    return out


# Rarely used per-node facts live outside the Tensor so the hot path does not
# pay for them: nodes whose .grad is kept (retain_grad), and where each node
# was created (detect_anomaly).
class _IdWeakMap:
    """A weak-keyed map by identity. (``weakref.WeakKeyDictionary`` compares
    keys with ``==``, which on Tensors is elementwise and returns a Tensor.)"""

    def __init__(self):
        self._items = {}

    def _drop(self, key):
        return lambda _ref: self._items.pop(key, None)

    def __setitem__(self, obj, value):
        key = id(obj)
        self._items[key] = (weakref.ref(obj, self._drop(key)), value)

    def get(self, obj, default=None):
        entry = self._items.get(id(obj))
        return entry[1] if entry is not None and entry[0]() is obj else default

    def __contains__(self, obj):
        entry = self._items.get(id(obj))
        return entry is not None and entry[0]() is obj

    def add(self, obj):
        self[obj] = True

    def discard(self, obj):
        if obj in self:
            del self._items[id(obj)]

    def __len__(self):
        return len(self._items)


_retained = _IdWeakMap()
_sites = _IdWeakMap()


def _push_tangent(prim, inputs, settings, out):
    """ẏ = Σ_i ∂y/∂x_i ẋ_i, skipping inputs whose tangent is zero (None)."""
    tangents = list(map(_tangent_of, inputs))
    for d in tangents:
        if d is not None:
            break
    else:
        return
    # The rule's own ops must not push second-order tangents.
    _state.forward_ad = False
    try:
        out.tangent = prim.push_tangents(tangents, out, inputs, settings)
    finally:
        _state.forward_ad = True


def _user_site():
    """The innermost stack frame outside this package: where the user wrote the op."""
    import os
    pkg = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(pkg):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'
    return "(inside autograd_core)"


def _nonfinite(arr) -> bool:
    arr = np.asarray(arr)
    return arr.dtype.kind in "fc" and not np.isfinite(arr).all()


def _check_forward(prim, out, inputs, settings):
    site = _sites[out] = _user_site()
    if _nonfinite(out._d):
        shapes = ", ".join(str(t.shape) for t in inputs)
        raise AnomalyError(
            f"detect_anomaly: the forward pass of '{prim.name}' (inputs of shapes {shapes}) "
            f"produced NaN or inf.\nThe op was created at:\n  {site}")


def _check_backward(node, parent_index, grad):
    data = grad._d if hasattr(grad, "_rg") else grad
    if _nonfinite(data):
        site = _sites.get(node) or "(unknown: run the forward pass inside detect_anomaly() too)"
        raise AnomalyError(
            f"detect_anomaly: the backward pass of '{node._op.name}' produced NaN or inf in the "
            f"gradient of its input {parent_index} (shape {np.shape(data)}).\n"
            f"The op was created at:\n  {site}")


# ---------------------------------------------------------------------------
# Topological order
# ---------------------------------------------------------------------------

_FREED_MSG = (
    "Trying to backward through the graph a second time (or to walk it after it was "
    "freed): the saved intermediate values were released by the first backward(). "
    "Pass retain_graph=True to the first backward() if you need to go through the graph again.")


def toposort(root):
    """Nodes that lead to ``root`` and require grad, parents before children.

    Every node carries ``_seq``, the order in which the forward pass created
    it (leaves have 0). A node is always created after its parents, so
    creation order is a topological order, and the one a student expects:
    v_1 … v_N as the forward pass evaluated them. The search that collects
    the nodes is iterative: a chain of a million ops must not hit Python's
    recursion limit. The backward pass visits ``reversed(order)``.
    """
    if root._parents is None:
        raise RuntimeError(_FREED_MSG)
    nodes = [root]
    seen = {id(root)}
    stack = [root]
    push, pop, add, visit = stack.append, stack.pop, seen.add, nodes.append
    while stack:
        parents = pop()._parents
        if parents is None:
            raise RuntimeError(_FREED_MSG)
        for p in parents:
            if p._rg and id(p) not in seen:
                add(id(p))
                visit(p)
                if p._op is not None:
                    push(p)
    nodes.sort(key=_creation_order)
    return nodes


_creation_order = operator.attrgetter("_seq")
_value_of = operator.attrgetter("_d")
_tangent_of = operator.attrgetter("tangent")


# ---------------------------------------------------------------------------
# The backward sweep
# ---------------------------------------------------------------------------

def backward(root, gradient=None, retain_graph=False, create_graph=False):
    """Accumulate d root / d leaf into every reachable leaf's ``.grad``."""
    if not root._rg:
        raise RuntimeError(
            "backward(): this tensor does not require grad and has no graph "
            "(make an input with requires_grad=True, and do not compute under no_grad()).")
    if gradient is None:
        if root._d.size != 1 or root._d.ndim != 0:
            raise ValueError(
                f"backward() without `gradient` needs a scalar (0-d) output, but this tensor "
                f"has shape {root.shape}. Pass gradient= an array or Tensor of shape {root.shape} "
                f"(the vector u in uᵀJ), or reduce the output first, e.g. y.sum().backward().")
        g0 = np.ones_like(root._d)
    else:
        g0 = gradient._d if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=root.dtype)
        if g0.shape != root.shape:
            raise ValueError(
                f"backward(): `gradient` has shape {g0.shape} but the output has shape "
                f"{root.shape}; they must match.")
        if isinstance(gradient, Tensor):
            g0 = gradient  # keep its graph/tangent if it has one
    retain_graph = retain_graph or create_graph
    # Tensor mode: the rules run on Tensors, so tangents flow (R-operator) and,
    # with create_graph, the backward pass itself is recorded.
    tensor_mode = create_graph or _state.forward_ad
    if tensor_mode and not isinstance(g0, Tensor):
        g0 = Tensor(g0)
    elif not tensor_mode and isinstance(g0, Tensor):
        g0 = g0._d

    order = toposort(root)
    grads = {id(root): g0}
    pop, get = grads.pop, grads.get
    handed_out = {id(g0)}
    retained = _retained if len(_retained) else None
    anomaly = _state.anomaly
    saved_grad_mode = _state.grad_enabled
    _state.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = pop(id(node), None)
            if g is None:
                continue
            op = node._op
            if op is None:
                _accumulate_leaf(node, g, tensor_mode, handed_out)
                continue
            if retained is not None and node in retained:
                _accumulate_leaf(node, g, tensor_mode, handed_out)
            parents = node._parents
            settings = node._settings
            if tensor_mode:
                out, args = node, parents
            else:
                out, args = node._d, list(map(_value_of, parents))  # no comprehension frame
            rules = op.vjps
            if rules is None:  # one rule for all inputs (variadic primitives)
                rules = [lambda *_, share=share, **__: share
                         for share in op.vjp_all(g, out, args, settings)]
            for p, rule in zip(parents, rules):
                if p._rg:
                    share = rule(g, out, *args, **settings) if settings else rule(g, out, *args)
                    if anomaly:
                        _check_backward(node, parents.index(p), share)
                    key = id(p)
                    prev = get(key)
                    grads[key] = share if prev is None else prev + share
            if not retain_graph:
                # Release the saved inputs; _op stays, so a second backward can say why it fails.
                node._parents = None
    finally:
        _state.grad_enabled = saved_grad_mode


def _accumulate_leaf(leaf, g, tensor_mode, handed_out):
    """leaf.grad += g, out of place.

    ``handed_out`` holds the ids of arrays already given to the user in this
    pass (the initial gradient, earlier leaves' grads): a rule may pass the
    same array to several inputs (add) or return a view, and a leaf's .grad
    is the user's to mutate, so such arrays are copied; fresh ones are not.
    """
    if tensor_mode:
        d = g._d
        if (id(g) in handed_out or d.__class__ is not np.ndarray or d.base is not None
                or d.dtype != leaf._d.dtype or not d.flags.writeable):
            from .primitives import astype  # a differentiable copy keeps create_graph's graph
            g = astype(g, dtype=leaf._d.dtype)
        handed_out.add(id(g))
        new = g
    else:
        if (g.__class__ is not np.ndarray or id(g) in handed_out or g.base is not None
                or g.dtype != leaf._d.dtype or not g.flags.writeable):
            g = np.array(g, dtype=leaf._d.dtype)
        handed_out.add(id(g))
        new = Tensor._wrap(g)
    prev = leaf._grad
    if prev is None:
        leaf._grad = new
    else:
        leaf._grad = prev + new if tensor_mode else Tensor._wrap(prev._d + new._d)
