"""The computation graph: modes, forward-mode levels, the one topological sort,
and the backward sweep that *returns* cotangents.

This module knows nodes, not tensors: it reads the node record that every
tensor carries (``_op``, ``_parents``, ``_settings``, ``_seq``, ``_rg``, the
value ``_d``, and the version facts ``_vc``/``_prev``) and never creates one.
Everything that walks a graph — the sweep here, ``viz``, the compiler — walks
that one record.

Reverse mode, in the notation of the course:

    v̄_N = 1,   v̄_i = Σ_{j ∈ children(i)} v̄_j ∂v_j/∂v_i     (i = N-1, …, 1)

is ``sweep``: a loop over the reversed topological order in which every node
hands each parent its share ``vjp_i(v̄_j)``, shares summed out of place. The
sweep returns the cotangents of the tensors it is asked for (leaves or
intermediate nodes) and touches no ``.grad``: ``Tensor.backward`` and
``autograd.grad`` are two thin users of it.

Forward mode: tangents are tagged by a *level* (a dual number with a
perturbation tag). Every open level pushes its own tangents through each
primitive as it is evaluated (``push_tangents``); a level's rules run with
only the levels *outside* it open, so an inner derivative is itself
differentiable by the outer levels and two perturbations are never confused.
Running the backward sweep on Tensors while a level is open pushes tangents
through the backward pass: Pearlmutter's R{·}, forward-over-reverse.
"""
from __future__ import annotations

import functools
import itertools
import operator
import os
import threading
import traceback
import weakref

import numpy as np

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "retain_grads", "Level", "forward_ad",
    "toposort", "sweep", "AnomalyError",
]


# ---------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------

class _State(threading.local):
    """Per-thread switches, read on every primitive evaluation."""

    def __init__(self):
        self.grad_enabled = True      # record nodes for reverse mode
        self.levels = ()              # open forward-mode levels, outermost first
        self.anomaly = False          # check every value for NaN/inf
        self.retain_grads = False     # keep .grad on non-leaf nodes
        self.last_level = None        # the outermost level closed last (see Level)
        self.transforms = 0           # functional calls being evaluated (see functional)
        self.tracer = None            # the compiler's tracer while it records (see compile)


state = _State()

# How many special-mode blocks (forward levels, retain_grads, detect_anomaly)
# are open in any thread. While none is, apply() skips those per-thread flags
# altogether: one global test instead of three thread-local lookups.
_specials = 0
_specials_lock = threading.Lock()


def _special(delta):
    global _specials
    with _specials_lock:
        _specials += delta


def specials_open() -> int:
    """How many special-mode blocks are open (the hot path tests this first)."""
    return _specials


def is_grad_enabled() -> bool:
    """True while operations are recorded for reverse mode.

        >>> ag.is_grad_enabled()
        True
        >>> with ag.no_grad():
        ...     ag.is_grad_enabled()
        False
    """
    return state.grad_enabled


class _Switch:
    """A context manager and decorator that sets one flag of ``state``."""

    _flag = ""
    _value = True
    _special = False  # a mode that apply() must look at (see _specials)

    def __enter__(self):
        self._saved = getattr(state, self._flag)
        setattr(state, self._flag, self._value)
        if self._special:
            _special(1)
        return self

    def __exit__(self, *exc):
        setattr(state, self._flag, self._saved)
        if self._special:
            _special(-1)
        return False

    def _fresh(self):
        return self.__class__()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Switch):
    """Evaluate without recording the graph: results have ``requires_grad=False``.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()            # w.grad = 2w
        >>> with ag.no_grad():
        ...     w -= 0.1 * w.grad               # an update in place, not recorded
        >>> w
        Tensor([0.8, 1.6], dtype=float32, requires_grad=True)
        >>> with ag.no_grad():
        ...     (w * 2).requires_grad
        False

    Also a decorator: ``@ag.no_grad()`` over a function.
    """
    _flag, _value = "grad_enabled", False


class enable_grad(_Switch):
    """Re-enable recording inside a ``no_grad`` block (a context manager or decorator).

        >>> x = ag.tensor(1.0, requires_grad=True)
        >>> with ag.no_grad():
        ...     with ag.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """
    _flag, _value = "grad_enabled", True


class set_grad_enabled(_Switch):
    """Recording on or off by a boolean, as ``torch.set_grad_enabled``.

    As a plain call it sets the mode at once (``set_grad_enabled(False)``);
    as a context manager it also restores the previous mode on exit.

        >>> x = ag.tensor(1.0, requires_grad=True)
        >>> with ag.set_grad_enabled(False):
        ...     (x * 2).requires_grad
        False
        >>> (x * 2).requires_grad                 # the previous mode is back
        True
    """
    _flag = "grad_enabled"

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self._value = bool(mode)
        self._saved = state.grad_enabled
        state.grad_enabled = self._value

    def __enter__(self):
        return self

    def _fresh(self):
        return set_grad_enabled(self._value)


class retain_grads(_Switch):
    """Keep ``.grad`` on every non-leaf node created inside the block.

    Teaching aid: after ``backward()`` each intermediate v_i shows v̄_i, which
    ``viz.draw_graph(..., show_grad=True)`` then draws.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> with ag.retain_grads():
        ...     h = x * x
        ...     y = h.sum()
        >>> y.backward()
        >>> h.grad                                # ∂y/∂h = 1
        Tensor([1., 1.], dtype=float32)
    """
    _flag, _value, _special = "retain_grads", True, True


class AnomalyError(RuntimeError):
    """A NaN or infinity appeared while ``detect_anomaly()`` was active (a
    ``RuntimeError``, as PyTorch raises); see ``detect_anomaly``.

        >>> x = ag.tensor([-1.0], requires_grad=True)
        >>> try:
        ...     with ag.detect_anomaly():
        ...         ag.log(x)                             # log of a negative number: NaN
        ... except ag.AnomalyError as error:
        ...     print(isinstance(error, RuntimeError))
        True
    """


class detect_anomaly(_Switch):
    """Raise at the first primitive whose forward or backward output has NaN/inf.

    Inside the block every node remembers where in the user's code it was
    created, so the error can point there. It slows every op: debug only.

        >>> x = ag.tensor([0.0], requires_grad=True)
        >>> with ag.detect_anomaly():
        ...     y = ag.sqrt(x)                    # d√x/dx = ∞ at 0
        ...     y.backward()
        Traceback (most recent call last):
            ...
        autograd_core.graph.AnomalyError: detect_anomaly: the backward pass of 'sqrt' produced NaN or inf in the gradient of its input 0 (shape (1,)).
        ...
    """
    _flag, _value, _special = "anomaly", True, True


def is_anomaly_enabled() -> bool:
    """True inside a ``detect_anomaly()`` block, as ``torch.is_anomaly_enabled``.

        >>> ag.is_anomaly_enabled()
        False
        >>> with ag.detect_anomaly():
        ...     ag.is_anomaly_enabled()
        True
    """
    return state.anomaly


def tracer():
    """The compiler's active tracer, or None (one global test first: cheap)."""
    return state.tracer if _specials else None


# ---------------------------------------------------------------------------
# Forward-mode levels
# ---------------------------------------------------------------------------

_level_ids = itertools.count(1).__next__


class Level:
    """A forward-mode level: a tag for one perturbation ε, with ε² = 0.

    A tensor carries one tangent per level it is perturbed in (``_tan``, a dict
    from level id to tangent). While a level is open every primitive pushes
    that level's tangents; the push runs with only the outer levels open, so
    a tangent is itself a value the outer levels differentiate. Levels nest
    like the calls that open them (``jvp`` inside ``jvp``); an id is never
    reused, so a tangent left from a closed level is never mistaken for one of
    a new level.

    ``ag.forward_ad`` is this class: ``with ag.forward_ad():`` opens a level.

        >>> with ag.forward_ad() as level:
        ...     level.is_open, level.depth
        (True, 0)
        >>> level.is_open
        False

    Attributes:
        id: the level's number, unique in the process (never reused).
        depth: how many levels were open when this one was entered (0 for
            the outermost); None before it is entered.
        record: whether the tangent computations are recorded for reverse
            mode (so that a gradient of a jvp can be taken). If not given, it
            is set on entering to grad mode's state, as in PyTorch;
            ``functional.hvp`` turns it off (its backward pass needs the
            tangents' values, not their history).
        touched: the tensors whose tangent was set in this level, whose
            tangent for it is dropped when the level closes.
    """

    __slots__ = ("id", "depth", "record", "touched", "_open")

    def __init__(self, record=None):
        self.id = _level_ids()
        self.depth = None
        self.record = record
        self.touched = []     # tensors whose tangent was set on them in this level
        self._open = False

    @property
    def is_open(self):
        """Whether the level is entered and not yet exited."""
        return self._open

    def __enter__(self):
        if self._open or self.depth is not None:
            raise RuntimeError("forward_ad: a level can be entered only once")
        if self.record is None:
            self.record = state.grad_enabled
        self.depth = len(state.levels)
        state.levels = state.levels + (self,)
        self._open = True
        _special(1)
        return self

    def __exit__(self, *exc):
        levels = state.levels
        if not levels or levels[-1] is not self:
            raise RuntimeError("forward_ad: levels must be closed in the reverse order of opening")
        state.levels = levels[:-1]
        self._open = False
        _special(-1)
        # Tangents set on pre-existing tensors (model parameters, say) belong to
        # this level only: drop them, so nothing outlives the computation.
        for t in self.touched:
            tan = t._tan
            if tan is not None:
                tan.pop(self.id, None)
        self.touched = []
        if self.depth == 0:
            state.last_level = self.id
        return False

    def __repr__(self):
        return f"<forward level {self.id}, depth {self.depth}{', open' if self._open else ''}>"


forward_ad = Level  # ``with ag.forward_ad():`` opens a level


def innermost_level():
    """The innermost open level, or None."""
    levels = state.levels
    return levels[-1] if levels else None


def tangent_level_id():
    """The level ``Tensor.tangent`` reads: the innermost open one or, with none
    open, the outermost level closed last (so a drawing after ``r_op`` shows
    its R{·} values)."""
    levels = state.levels
    return levels[-1].id if levels else state.last_level


# ---------------------------------------------------------------------------
# Version counters
# ---------------------------------------------------------------------------

class Version:
    """A version counter shared by a tensor and its views (as in PyTorch).

    ``count`` is the number of in-place changes; ``stamp`` the creation
    sequence number at the last one. A node whose rule reads a saved value
    compares that value's ``stamp`` with its own ``_seq``: a later stamp means
    the value changed after it was saved.
    """

    __slots__ = ("count", "stamp")

    def __init__(self):
        self.count = 0
        self.stamp = 0


# Creation order of nodes and in-place changes (one clock for both); leaves
# and constants have 0.
next_seq = itertools.count(1).__next__


class _Clock:
    """Process-wide facts that let the sweep skip version work entirely."""
    last_inplace = 0      # stamp of the latest in-place change anywhere
    rebased = False       # has any tensor ever been rebased by an in-place op


clock = _Clock()


def bump_version(t):
    """Record an in-place change of ``t``'s memory (shared with its views)."""
    vc = t._vc
    if vc is None:
        vc = t._vc = Version()
    vc.count += 1
    vc.stamp = clock.last_inplace = next_seq()


def resolve(p, seq):
    """The version of ``p`` that a node created at ``seq`` saw.

    An in-place op on a graph tensor *rebases* it: the tensor object gets a new
    record and the previous record moves to a hidden object (``_prev``). A
    node created before the rebase must keep sending gradients to the old
    record; a parent always has a smaller creation number than its child, so
    walk back until that holds.
    """
    while p._seq >= seq and p._prev is not None:
        p = p._prev
    return p


def _check_saved(node, parents):
    """Refuse to differentiate through a value changed in place after it was saved."""
    op = node._op
    seq = node._seq
    for p, reads in zip(parents, op.saves):
        if not p._rg:
            continue  # that input's rule does not run
        for i in reads:
            t = node if i < 0 else parents[i]
            vc = t._vc
            if vc is None or vc.stamp <= seq:
                continue
            what = "its output" if i < 0 else f"its input {i}"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {what} (a tensor of shape {np.shape(t._d)}) is saved by "
                f"'{op.name}' and is now at version {vc.count}, changed after '{op.name}' used it. "
                f"Do the in-place change after backward(), use an out-of-place op (e.g. "
                f"x = x + 1 instead of x += 1), or .clone() the value before changing it.")


# ---------------------------------------------------------------------------
# Per-node facts kept off the node: retained grads, creation sites
# ---------------------------------------------------------------------------

class IdWeakMap:
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


retained = IdWeakMap()   # non-leaf nodes whose .grad is kept (retain_grad)
sites = IdWeakMap()      # where each node was created (detect_anomaly)
_views = IdWeakMap()     # a tensor -> weak references to the views of its memory


def register_view(base, view):
    """Remember that ``view`` looks at ``base``'s memory (see ops.inplace: an
    in-place change of the base regenerates its views' history)."""
    refs = _views.get(base)
    if refs is None:
        refs = []
        _views[base] = refs
    elif len(refs) > 16:
        refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(view))


def views_of(base):
    """The live views registered on ``base``."""
    refs = _views.get(base)
    if not refs:
        return []
    return [v for v in (r() for r in refs) if v is not None]

_PKG = os.path.dirname(os.path.abspath(__file__))


def user_site():
    """The innermost stack frame outside this package: where the user wrote the op."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PKG):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'
    return "(inside autograd_core)"


def _nonfinite(arr) -> bool:
    arr = np.asarray(arr)
    return arr.dtype.kind in "fc" and not np.isfinite(arr).all()


def check_forward(prim, out, inputs):
    """detect_anomaly's forward check, called by apply for every new node."""
    site = sites[out] = user_site()
    if _nonfinite(out._d):
        shapes = ", ".join(str(np.shape(t._d)) for t in inputs)
        raise AnomalyError(
            f"detect_anomaly: the forward pass of '{prim.name}' (inputs of shapes {shapes}) "
            f"produced NaN or inf.\nThe op was created at:\n  {site}")


def _check_backward(node, parent_index, grad):
    data = getattr(grad, "_d", grad)
    if _nonfinite(data):
        site = sites.get(node) or "(unknown: run the forward pass inside detect_anomaly() too)"
        raise AnomalyError(
            f"detect_anomaly: the backward pass of '{node._op.name}' produced NaN or inf in the "
            f"gradient of its input {parent_index} (shape {np.shape(data)}).\n"
            f"The op was created at:\n  {site}")


# ---------------------------------------------------------------------------
# Topological order
# ---------------------------------------------------------------------------

FREED_MSG = (
    "Trying to backward through the graph a second time (or to walk it after it was "
    "freed): the saved intermediate values were released by the first backward(). "
    "Pass retain_graph=True to the first backward() if you need to go through the graph again.")


def parents_of(node):
    """``node``'s parents as the node saw them (older versions of rebased tensors)."""
    parents = node._parents
    if parents is None:
        raise RuntimeError(FREED_MSG)
    if clock.rebased:
        seq = node._seq
        parents = tuple(resolve(p, seq) for p in parents)
    return parents


def toposort(roots):
    """Nodes that lead to ``roots`` and require grad, parents before children.

    ``roots`` is a tensor or a sequence of them. Every node carries ``_seq``,
    the order in which the forward pass created it (leaves have 0). A node is
    always created after its parents, so creation order is a topological
    order, and the one a student expects: v_1 … v_N as the forward pass
    evaluated them. The search that collects the nodes is iterative: a chain
    of a million ops must not hit Python's recursion limit. The backward
    sweep visits ``reversed(order)``.

        >>> from autograd_core.graph import toposort
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> [t.grad_fn for t in toposort((x * x).sum())]     # x, then x·x, then the sum
        [None, <primitive mul>, <primitive sum>]
    """
    if not isinstance(roots, (list, tuple)):
        roots = (roots,)
    nodes, seen, stack = [], set(), []
    push, pop, add, visit = stack.append, stack.pop, seen.add, nodes.append
    for r in roots:
        if r._rg and id(r) not in seen:
            add(id(r))
            visit(r)
            if r._op is not None:
                if r._parents is None:
                    raise RuntimeError(FREED_MSG)
                push(r)
    rebased = clock.rebased
    while stack:
        node = pop()
        parents = node._parents
        if parents is None:
            raise RuntimeError(FREED_MSG)
        seq = node._seq
        for p in parents:
            if rebased:
                p = resolve(p, seq)
            if p._rg and id(p) not in seen:
                add(id(p))
                visit(p)
                if p._op is not None:
                    push(p)
    nodes.sort(key=creation_order)
    return nodes


creation_order = operator.attrgetter("_seq")
_value_of = operator.attrgetter("_d")


def _needed(order, targets):
    """Ids of the nodes on some path to a target (parents precede children in
    ``order``, so one forward pass decides)."""
    need = {id(t) for t in targets}
    rebased = clock.rebased
    for node in order:
        if node._op is None or id(node) in need:
            continue
        seq = node._seq
        for p in node._parents:
            if rebased:
                p = resolve(p, seq)
            if id(p) in need:
                need.add(id(node))
                break
    return need


# ---------------------------------------------------------------------------
# The backward sweep
# ---------------------------------------------------------------------------

def sweep(roots, seeds, targets=None, *, retain_graph=False, create_graph=False,
          tensor_mode=False, on_leaf=None, on_visit=None):
    """v̄ for every node behind ``roots``, starting from ``seeds`` (v̄ of the roots).

    With ``targets`` (a sequence of nodes: leaves or intermediate), returns
    the list of their cotangents (None where no path leads to one) and only
    walks the nodes on a path to a target. Without ``targets``, calls
    ``on_leaf(node, cotangent)`` for every leaf that requires grad and every
    node marked to retain its grad, and returns None.

    ``tensor_mode``: run the rules on Tensors (``seeds`` must be Tensors), as
    ``create_graph`` needs (the sweep is then itself recorded) and as
    forward-over-reverse needs (tangents flow through the rules). Otherwise
    the rules run on raw arrays, the fast path. Without ``retain_graph`` the
    saved values of every visited node are released.

    ``on_visit`` (for drawings of the sweep, ``viz.backward_frames``): called
    as ``on_visit(node, cotangent, so_far)`` once per visited node, in the
    sweep's order, after the node handed each parent its share; ``so_far(t)``
    is the cotangent summed so far on a node ``t`` not yet visited (None if
    nothing reached it yet). When None it costs one test per visited node.

        >>> from autograd_core.graph import sweep
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> sweep([y], [np.ones((), dtype=np.float32)], targets=[x])   # [ȳ · 2x]
        [array([2., 4.], dtype=float32)]
    """
    order = toposort(roots)
    grads = {}
    get = grads.get
    for r, s in zip(roots, seeds):
        if r._rg:
            prev = get(id(r))
            grads[id(r)] = s if prev is None else prev + s
    if targets is not None:
        want = {}
        for i, t in enumerate(targets):
            want.setdefault(id(t), []).append(i)
        needed = _needed(order, targets)
        results = [None] * len(targets)
    else:
        want = needed = results = None
        keep = retained if len(retained) else None
    pop = grads.pop
    if on_visit is not None:
        def so_far(t):
            return get(id(t))
    anomaly = state.anomaly
    rebased = clock.rebased
    last_inplace = clock.last_inplace
    saved_mode = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = pop(id(node), None)
            if g is None:
                continue
            op = node._op
            if want is not None:
                hit = want.get(id(node))
                if hit is not None:
                    for i in hit:
                        results[i] = g
                if op is None:
                    if on_visit is not None:
                        on_visit(node, g, so_far)
                    continue
            elif op is None:
                on_leaf(node, g)
                if on_visit is not None:
                    on_visit(node, g, so_far)
                continue
            elif keep is not None and node in keep:
                on_leaf(node, g)
            parents = node._parents
            if parents is None:
                raise RuntimeError(FREED_MSG)
            seq = node._seq
            if rebased:
                parents = tuple(resolve(p, seq) for p in parents)
            if seq < last_inplace:
                _check_saved(node, parents)
            settings = node._settings
            if tensor_mode:
                out, args = node, parents
            else:
                out, args = node._d, list(map(_value_of, parents))  # no comprehension frame
            i = 0
            for p, rule in zip(parents, op.vjps):
                if p._rg and (needed is None or id(p) in needed):
                    share = rule(g, out, *args, **settings) if settings else rule(g, out, *args)
                    if share is not None:
                        if anomaly:
                            _check_backward(node, i, share)
                        key = id(p)
                        prev = get(key)
                        grads[key] = share if prev is None else prev + share
                i += 1
            if not retain_graph:
                # Release the saved inputs; _op stays, so a second backward can say why it fails.
                node._parents = None
            if on_visit is not None:
                on_visit(node, g, so_far)
    finally:
        state.grad_enabled = saved_mode
    return results
