"""Drawing computation graphs: the graph that produced a tensor, with values,
gradients, R{·} tangents, the order of the backward pass, the modules of a
model, and the backward pass itself, step by step.

    f.backward(retain_graph=True)                 # keep the graph to draw it
    dot = ag.viz.draw_graph(f, backward_order=True)
    dot                                           # shows inline in Jupyter
    ag.viz.save_graph(f, "f.svg")                 # or .png / .pdf / .dot
    ag.viz.print_graph(f)                         # the same as a table, no Graphviz needed

Tensors are boxes: parameters (leaves that require grad) blue, constants grey
and dashed, intermediate values white, the root orange with a bold border.
Primitives are small ellipses, edges follow the data flow (parents → op →
output); a tensor used twice is drawn once, with two edges out of it.

Unnamed tensors are labelled v1 … vN in a topological order: the order in
which the forward pass created them, each leaf or constant just before its
first use (``node_view.walk``). That is the evaluation trace of the course,
v_1 … v_N. ``params=dict(model.named_parameters())`` (or ``params=model``)
labels parameters with their names in the model (``0.weight``). With
``backward_order=True`` each tensor the backward pass visits shows, in red,
the step at which it does (#1 = the root): the reversed ``graph.toposort``.

Models. Record which module made which node, then draw one box per module:

    with ag.viz.record_modules(model) as calls:
        loss = loss_fn(model(x), y)
    ag.viz.draw_graph(loss, modules=calls, collapse=True)          # one box per layer
    ag.viz.draw_graph(loss, modules=calls, expand=["encoder"])     # open one of them

The backward pass, one drawing per step of the real sweep (the node visited
highlighted, v̄ accumulating on every node):

    frames = ag.viz.backward_frames(f)
    ag.viz.show_frames(frames)                    # a slider in Jupyter, or the images
    ag.viz.save_frames(frames, "frames/")         # step_001.png, ...

To see the adjoints v̄_i of intermediate nodes, run the forward pass inside
``ag.retain_grads()``; to draw after ``backward()``, pass
``retain_graph=True`` to it (otherwise the graph is freed).

Everything here reads the graph through ``node_view``, the engine's public
view of its nodes.
"""
from __future__ import annotations

import html
import io
import math
import os
import weakref
from contextlib import contextmanager

import numpy as np

from . import graph
from .core import TensorBase
from .node_view import GraphFreedError, NodeView, backward_order, walk

try:  # Python's graphviz package: only needed to draw, not for graph_table
    import graphviz as _graphviz
except ImportError:  # pragma: no cover - graphviz is a runtime dependency
    _graphviz = None

__all__ = ["draw_graph", "save_graph", "graph_table", "print_graph",
           "ComputationGraph", "DotNotFoundError",
           "record_modules", "ModuleRecording", "ModuleCall",
           "backward_frames", "BackwardFrame", "save_frames", "show_frames", "draw_program"]

# Fill of the title bar, and border, by kind of tensor.
_STYLE = {
    "param": ("#cfe2f3", "#3d6fb6"),   # leaf that requires grad: what training changes
    "const": ("#eeeeee", "#8c8c8c"),   # data and literals: no gradient
    "node": ("#ffffff", "#5f5f5f"),    # intermediate value v_i
    "root": ("#fde9b7", "#b8860b"),    # the output the graph was drawn from
}
_KIND_WORD = {"param": "parameter", "const": "constant", "node": "", "root": "output"}
_KIND_OF_VIEW = {"parameter": "param", "constant": "const", "node": "node"}
_OP_FILL = "#e8e8f8"
_STEP_COLOR = "#b03030"
_MUTED = "#666666"
_FONT = "Helvetica"
_MONO = "Courier"
# Modules: a collapsed call is one box, an expanded one a cluster around its ops.
_MODULE_FILL, _MODULE_BORDER, _CLUSTER_BORDER = "#e3f1de", "#4f8a3c", "#8fb883"
# Frames of the backward pass.
_CURRENT_FILL = "#f6c9c3"        # the node being visited
_PARTIAL_COLOR = "#b8660b"       # v̄ still being summed
_UNREACHED = "#b5b5b5"           # not reached by the sweep yet
# Ops whose operands are interchangeable: their edges need no argument number.
_SYMMETRIC_OPS = {"add", "mul"}

_FREED = ("{who}: the graph of this tensor was freed by backward(): its saved values are "
          "released after the backward pass. Call backward(retain_graph=True) to draw (or "
          "print) the graph after backward, or draw it before calling backward().")

_DOT_MISSING = ("Graphviz's `dot` program was not found, so the graph cannot be rendered. "
                "Install it with `apt-get install graphviz` (Debian/Ubuntu; `brew install "
                "graphviz` on macOS, `conda install graphviz` in conda). Without it, "
                "ag.viz.print_graph(root) prints the graph as a table, and "
                "save_graph(root, 'graph.dot') writes the Graphviz source.")


# ---------------------------------------------------------------------------
# The graph as data: the tensors reachable from the root, in forward order
# ---------------------------------------------------------------------------

def _parameter_names(params, who):
    """{NodeView: name} from ``params``: a dict name → tensor, or an object with
    ``named_parameters()`` (a Module; its ``named_buffers()`` too, if it has them)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        items = list(params.named_parameters())
        if callable(getattr(params, "named_buffers", None)):
            items += list(params.named_buffers())
    elif isinstance(params, dict):
        items = list(params.items())
    else:
        raise TypeError(f"{who}: params must be a dict of name -> Tensor (e.g. "
                        f"dict(model.named_parameters())) or a Module, got {type(params).__name__}")
    names = {}
    for name, t in items:
        if not isinstance(name, str):
            raise TypeError(f"{who}: params keys must be str, got {type(name).__name__} ({name!r})")
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: params[{name!r}] must be a Tensor, got {type(t).__name__}")
        names.setdefault(NodeView(t), name)   # a shared tensor keeps its first name
    return names


class _Graph:
    """The tensors and ops that produced ``root``, in a topological order, with labels."""

    def __init__(self, root, max_nodes, who, params=None):
        if not isinstance(root, TensorBase):
            raise TypeError(f"{who}: root must be a Tensor, got {type(root).__name__}")
        if max_nodes is not None and (not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1):
            raise ValueError(f"{who}: max_nodes must be a positive int or None, got {max_nodes!r}")
        names = _parameter_names(params, who)
        try:
            order = walk(root)
        except GraphFreedError:
            raise GraphFreedError(_FREED.format(who=who)) from None
        self.who = who
        self.root = NodeView(root)
        self.order = order
        self.index = {n: i for i, n in enumerate(order, start=1)}
        self.total = len(order)
        self.max_nodes = max_nodes
        # Labels: the name in the model or the user's name, else v_i; a name used
        # twice gets its v_i too.
        self.names = {n: names.get(n) or n.name for n in order}
        counts = {}
        for name in self.names.values():
            if name:
                counts[name] = counts.get(name, 0) + 1
        self._labels = {}
        for n in order:
            i, name = self.index[n], self.names[n]
            if not name:
                self._labels[n] = f"v{i}"
            elif counts[name] > 1:
                self._labels[n] = f"{name} (v{i})"
            else:
                self._labels[n] = name
        self._steps = None
        self.shown = self.cut(order)
        self.drawn = set(self.shown)

    def cut(self, tensors):
        """The last ``max_nodes`` of ``tensors`` (those nearest the root)."""
        m = self.max_nodes
        return list(tensors) if m is None or len(tensors) <= m else list(tensors)[-m:]

    @property
    def backward_step(self):
        """Step at which the backward pass reaches each tensor: 1 = the root."""
        if self._steps is None:
            self._steps = {n: step for step, n in enumerate(backward_order(self.root), start=1)}
        return self._steps

    def label(self, n):
        return self._labels[n]

    def kind(self, n):
        return "root" if n == self.root else _KIND_OF_VIEW[n.kind]


# ---------------------------------------------------------------------------
# Formatting numbers, arrays and op settings
# ---------------------------------------------------------------------------

def _fmt_number(x, precision):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return f"{x.real:.{precision}g}{x.imag:+.{precision}g}j"
    x = float(x)
    if x == 0:
        return "0"  # also -0.0
    return f"{x:.{precision}g}"


def _value_lines(value, max_elements, precision, one_line=False):
    """A value as lines of text: in full when it has at most ``max_elements``
    elements, otherwise summary statistics (two lines, or one with ``one_line``)."""
    a = np.asarray(value)
    if a.size == 0:
        return [f"empty {a.shape}"]
    if a.size <= max_elements:
        if a.ndim == 0:
            return [_fmt_number(a.item(), precision)]
        texts = [_fmt_number(v, precision) for v in a.flat]
        # Pad to one width so that the rows of a matrix line up.
        width = max(len(s) for s in texts) if a.ndim > 1 and not one_line else 0
        out = np.array2string(a, separator=", ", threshold=a.size + 1,
                              formatter={"all": lambda v: _fmt_number(v, precision).rjust(width)},
                              max_line_width=10**6)
        lines = [line for line in out.splitlines() if line.strip()]
        return [" ".join(line.strip() for line in lines)] if one_line else lines
    if a.dtype.kind == "b":
        return [f"{int(a.sum())} of {a.size} true"]
    f = np.abs(a) if a.dtype.kind == "c" else a.astype(np.float64, copy=False)
    finite = f[np.isfinite(f)]
    bad = a.size - finite.size
    if finite.size == 0:
        return [f"all {a.size} values NaN/inf"]
    n = lambda v: _fmt_number(v, precision)  # noqa: E731
    stats = [f"mean {n(finite.mean())}", f"std {n(finite.std())}",
             f"min {n(finite.min())}", f"max {n(finite.max())}"]
    if a.dtype.kind == "c":
        stats[0] = "|·| " + stats[0]
    if bad:
        stats.append(f"{bad} NaN/inf")
    if one_line:
        return [", ".join(stats)]
    return ["  ".join(stats[:2]), "  ".join(stats[2:4])] + stats[4:]


def _value_text(value, max_elements, precision):
    """One line (tables): small arrays inline, large ones as statistics."""
    return _value_lines(value, max_elements, precision, one_line=True)[0]


def _fmt_slice(s):
    start = "" if s.start is None else s.start
    stop = "" if s.stop is None else s.stop
    return f"{start}:{stop}" + ("" if s.step is None else f":{s.step}")


def _fmt_setting(value, precision):
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, separator=", ", max_line_width=10**6,
                                   formatter={"all": lambda v: _fmt_number(v, precision)})
        return f"<{value.dtype} array {value.shape}>"
    if isinstance(value, slice):
        return _fmt_slice(value)
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype) or isinstance(value, type):
        return str(np.dtype(value))
    if isinstance(value, (float, np.floating)):
        return _fmt_number(value, precision)
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt_setting(v, precision) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def _settings_items(settings, precision):
    """``key=value`` strings for an op's settings, leaving out the defaults."""
    items = []
    for key, value in settings.items():
        if value is None or (key == "keepdims" and not value):
            continue
        if key == "index":
            parts = value if isinstance(value, tuple) else (value,)
            items.append("[" + ", ".join(_fmt_setting(v, precision) for v in parts) + "]")
        elif key == "axis" and isinstance(value, tuple) and len(value) == 1:
            items.append(f"axis={int(value[0])}")  # axis=(0,) reads as axis=0
        elif key == "cond" and isinstance(value, np.ndarray) and value.size > 1:
            items.append(f"cond: {int(np.count_nonzero(value))} of {value.size} true")
        else:
            items.append(f"{key}={_fmt_setting(value, precision)}")
    return items


def _op_text(n, precision):
    items = _settings_items(n.settings, precision)
    return n.op_name + (" " + " ".join(items) if items else "")


def _shape_text(shape):
    return "scalar" if len(shape) == 0 else str(tuple(shape))


# ---------------------------------------------------------------------------
# Modules: which call of which module made each node
# ---------------------------------------------------------------------------

class ModuleCall:
    """One call of one module during a recorded forward pass.

    The nodes a call created have creation numbers strictly between its
    ``start`` and ``end`` (see ``contains``).

        >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
        >>> with ag.viz.record_modules(model) as recording:
        ...     _ = model(ag.ones(4, 2))
        >>> call = recording.calls[1]
        >>> call.title(), call.depth, call.input_shapes, call.output_shapes, call.parameters
        ('0 · Linear', 1, ((4, 2),), ((4, 3),), [('0.weight', (3, 2)), ('0.bias', (3,))])

    Attributes:
        name: the module's dotted name in the model (``''`` for the model
            itself, ``'0'``, ``'encoder.layer1'``).
        type_name: the module's class name (``'Linear'``).
        extra: the module's ``extra_repr()`` (``''`` if it has none).
        call: which call of this module in the recording this is (1 for the
            first, 2 for a second one, ...).
        parent: the ``ModuleCall`` this call ran inside, or None for an
            outermost call.
        start: the reading of the graph's creation clock
            (``graph.next_seq()``) when the call began.
        end: the reading of that clock when the call returned (or raised);
            None while the call runs.
        input_shapes: a tuple of the shapes of the call's Tensor and ndarray
            arguments (nested tuples, lists and dicts are searched), in order.
        output_shapes: the same for its results (``()`` until it returns).
        parameters: a list of (name in the model, shape) of the module's own
            and its submodules' parameters.
    """

    __slots__ = ("name", "type_name", "extra", "call", "parent", "start", "end",
                 "input_shapes", "output_shapes", "parameters", "_inputs")

    def __repr__(self):
        span = f"{self.start}..{self.end}"
        return f"<ModuleCall {self.name or '(model)'}: {self.type_name}, call {self.call}, seq {span}>"

    @property
    def depth(self):
        """Nesting depth by name: 0 for the model, 1 for its children ('0', 'encoder'), …"""
        return 0 if not self.name else self.name.count(".") + 1

    def title(self):
        """'0 · Linear' ('Sequential' for the model)."""
        return f"{self.name} · {self.type_name}" if self.name else self.type_name

    def contains(self, seq):
        """Whether the node numbered ``seq`` was created during this call."""
        return self.start < seq and (self.end is None or seq < self.end)


def _flatten(obj):
    """The items inside ``obj`` (tuples, lists and dicts of them, nested), in order."""
    found, stack = [], [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
        elif isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
        else:
            found.append(x)
    return found


class ModuleRecording:
    """What ``record_modules`` returns: the module calls of a forward pass.

    ``calls``: the ``ModuleCall``s in the order they began; ``model``: the
    module recorded; ``names()``: the dotted names of the modules that were
    called. Pass it to ``draw_graph(..., modules=recording)``.

        >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
        >>> with ag.viz.record_modules(model) as recording:
        ...     _ = model(ag.ones(4, 2))
        >>> len(recording), recording.names()
        (3, ['', '0', '1'])
    """

    def __init__(self, model):
        self.model = model
        self.calls = []
        self._handles = []
        self._stack = []
        self._counts = {}
        self._active = False

    def names(self):
        """The dotted names of the modules called, in the order of their first call."""
        return list(dict.fromkeys(c.name for c in self.calls))

    def __len__(self):
        return len(self.calls)

    def __iter__(self):
        return iter(self.calls)

    def __repr__(self):
        return f"<ModuleRecording of {type(self.model).__name__}: {len(self.calls)} calls>"

    # -- recording ------------------------------------------------------------

    def _pre(self, name):
        def hook(module, args):
            c = ModuleCall()
            c.name, c.type_name = name, type(module).__name__
            extra = getattr(module, "extra_repr", None)
            c.extra = extra() if callable(extra) else ""
            c.call = self._counts[name] = self._counts.get(name, 0) + 1
            c.parent = self._stack[-1] if self._stack else None
            items = _flatten(args)
            c.input_shapes = tuple(tuple(x.shape) for x in items if isinstance(x, (TensorBase, np.ndarray)))
            c.output_shapes = ()
            c._inputs = [weakref.ref(x) for x in items if isinstance(x, TensorBase)]
            prefix = name + "." if name else ""
            c.parameters = [(prefix + n, tuple(p.shape)) for n, p in module.named_parameters()] \
                if callable(getattr(module, "named_parameters", None)) else []
            c.end = None
            c.start = graph.next_seq()   # nodes of this call are numbered after this reading
            self.calls.append(c)
            self._stack.append(c)
        return hook

    def _post(self, name):
        def hook(module, args, output):
            end = graph.next_seq()
            while self._stack:            # (a hook of a call inside this one that failed)
                c = self._stack.pop()
                if c.name == name:
                    break
            else:
                return
            c.end = end
            c.output_shapes = tuple(tuple(x.shape) for x in _flatten(output)
                                    if isinstance(x, (TensorBase, np.ndarray)))
        return hook

    def __enter__(self):
        if self._active:
            raise RuntimeError("record_modules: this recording is already active")
        self._active = True
        try:
            for name, module in self.model.named_modules():
                self._handles.append(module.register_forward_pre_hook(self._pre(name)))
                # always_call: a call that raises is closed then, so ranges stay nested
                self._handles.append(module.register_forward_hook(self._post(name), always_call=True))
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc):
        self._remove()
        return False

    def _remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stack = []
        self._active = False


def record_modules(model):
    """Record which module call made each node of the graph, for drawings.

    Use as a context manager around the forward pass; it registers a forward
    pre-hook and a forward hook on ``model`` and every submodule
    (``named_modules()``) and removes them on exit. Each hook reads the
    graph's creation clock, so the nodes a call creates are those numbered
    between its two readings; nested calls nest. Nothing else is done during
    the forward pass (no tensor is wrapped or copied), and outside the block
    modules run without hooks.

        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> x, labels = ag.randn(5, 3), ag.tensor([0, 1, 1, 0, 1])
        >>> with ag.viz.record_modules(model) as calls:
        ...     loss = nn.functional.cross_entropy(model(x), labels)
        >>> calls.names()
        ['', '0', '1', '2']
        >>> [(c.title(), c.input_shapes) for c in calls][1]
        ('0 · Linear', ((5, 3),))
        >>> dot = ag.viz.draw_graph(loss, modules=calls, collapse=True)   # one box per layer
    """
    if not (callable(getattr(model, "named_modules", None))
            and callable(getattr(model, "register_forward_pre_hook", None))
            and callable(getattr(model, "register_forward_hook", None))):
        raise TypeError(f"record_modules: model must be an nn.Module (with named_modules() and "
                        f"forward hooks), got {type(model).__name__}")
    return ModuleRecording(model)


class _Scene:
    """Where each tensor, op and module box is drawn.

    Without a recording everything is drawn at the top level. With one, every
    node belongs to the innermost module call whose clock range holds its
    creation number; a call is *expanded* (a cluster around its contents) or
    *collapsed* (one box standing for every op and every tensor inside it,
    except the tensors used outside it). A leaf goes with the innermost call
    around all the ops that read it, unless it is an input of that call.
    """

    def __init__(self, g, recording=None, collapse=False, expand=(), depth=None):
        self.owner = {}            # NodeView -> collapsed ModuleCall hiding its op (and maybe itself)
        self.place = {}            # NodeView -> ModuleCall whose cluster holds its box (None: top)
        self.hidden = set()        # tensors inside a collapsed call, not drawn
        self.calls = []
        who = g.who
        if recording is None:
            if collapse or expand or depth is not None:
                raise ValueError(f"{who}: collapse, expand and depth need modules=, the recording "
                                 f"of a forward pass: `with ag.viz.record_modules(model) as calls: "
                                 f"y = model(x)`, then {who}(y, modules=calls, collapse=True)")
            self.visible = list(g.order)
            return
        if not isinstance(recording, ModuleRecording):
            raise TypeError(f"{who}: modules must be what record_modules(model) returns, got "
                            f"{type(recording).__name__}")
        expand = _expand_names(expand, recording, who)
        collapsing = bool(collapse) or bool(expand) or depth is not None
        if depth is None:
            depth = 1
        elif not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 0:
            raise ValueError(f"{who}: depth must be an int >= 0, got {depth!r}")
        opened = set(expand)
        for name in expand:                    # expanding a module opens its ancestors too
            parts = name.split(".")
            opened.update(".".join(parts[:k]) for k in range(len(parts)))
        calls = self.calls = list(recording.calls)
        # A call is opened when named (or an ancestor of one named), or when it is
        # shallower than ``depth`` and has calls inside it to show; a module with
        # none (a layer) stays a box unless named.
        has_inner = {id(c.parent) for c in calls if c.parent is not None}
        self.collapsed = {id(c) for c in calls if collapsing and c.name not in opened
                          and not (c.depth < depth and id(c) in has_inner)}
        self._owner_of_call = {}
        inner = _innermost_calls([n for n in g.order if n.kind == "node" and n.seq], calls)
        consumers = {}
        for n in g.order:
            if n.kind == "node":
                for p in n.parents:
                    consumers.setdefault(p, []).append(n)
        home = {}   # readers come after what they read: place from the root back
        for n in reversed(g.order):
            if n.kind == "node" and n.seq:
                home[n] = inner.get(n)
            else:   # leaves, and views of constants (no creation number)
                home[n] = self._leaf_home(n, consumers.get(n, ()), home)
        for n in g.order:
            call = home[n]
            own = self._call_owner(call)
            if own is not None:
                self.owner[n] = own
            self.place[n] = call if own is None else own.parent
        for n in g.order:
            own = self.owner.get(n)
            if own is None or n == g.root:
                continue
            if all(self.owner.get(c) is own for c in consumers.get(n, ())):
                self.hidden.add(n)
        self.visible = [n for n in g.order if n not in self.hidden]

    def _call_owner(self, call):
        """The outermost collapsed call around ``call`` (itself included), or None."""
        if call is None:
            return None
        key = id(call)
        if key not in self._owner_of_call:
            up = self._call_owner(call.parent) if call.parent is not None else None
            self._owner_of_call[key] = up if up is not None else (
                call if key in self.collapsed else None)
        return self._owner_of_call[key]

    @staticmethod
    def _leaf_home(leaf, readers, home):
        """The innermost call around every op reading ``leaf``, not one it is an input of."""
        common = None
        for k, r in enumerate(readers):
            chain = _chain(home[r])
            common = chain if k == 0 else [a for a, b in zip(common, chain) if a is b]
        call = common[-1] if common else None
        t = leaf.tensor
        while call is not None and any(ref() is t for ref in call._inputs):
            call = call.parent
        return call

    def box_of(self, n):
        """The collapsed call whose box stands for ``n``'s op, or None."""
        return self.owner.get(n)


def _chain(call):
    """[outermost, ..., call]: the calls around ``call``, itself last."""
    chain = []
    while call is not None:
        chain.append(call)
        call = call.parent
    chain.reverse()
    return chain


def _innermost_calls(nodes, calls):
    """{node: the innermost call whose clock range holds its creation number}.

    Calls nest (a call returns before its caller does), so one sweep over the
    nodes in creation order, with a stack of the calls open at that number,
    finds them all.
    """
    calls = sorted(calls, key=lambda c: c.start)
    end = {id(c): math.inf if c.end is None else c.end for c in calls}   # None: still running
    inner, stack, k = {}, [], 0
    for n in sorted(nodes, key=lambda n: n.seq):
        s = n.seq
        while k < len(calls) and calls[k].start < s:
            c = calls[k]
            k += 1
            while stack and end[id(stack[-1])] < c.start:
                stack.pop()
            stack.append(c)
        while stack and end[id(stack[-1])] < s:
            stack.pop()
        if stack:
            inner[n] = stack[-1]
    return inner


def _expand_names(expand, recording, who):
    if isinstance(expand, str):
        expand = [expand]
    try:
        names = list(expand)
    except TypeError:
        raise TypeError(f"{who}: expand must be a list of module names, got "
                        f"{type(expand).__name__}") from None
    known = set(c.name for c in recording.calls)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{who}: expand must hold module names (str), got {name!r}")
        if name not in known:
            listed = ", ".join(repr(k) for k in sorted(known) if k) or "none"
            raise ValueError(f"{who}: expand names {name!r}, which was not called in the recorded "
                             f"forward pass; the modules called were: {listed}")
    return names


# ---------------------------------------------------------------------------
# Graphviz output
# ---------------------------------------------------------------------------

def _esc(text):
    return html.escape(str(text), quote=False)


def _font(text, color=None, size=None, face=None):
    attrs = "".join(f' {k}="{v}"' for k, v in (("COLOR", color), ("POINT-SIZE", size), ("FACE", face))
                    if v is not None)
    return f"<FONT{attrs}>{text}</FONT>" if attrs else text


class _Mark:
    """How a frame of the backward pass marks the drawing.

    ``state``: NodeView -> 'current' (visited at this step), 'done' (v̄ final),
    'partial' (reached, v̄ still being summed) or 'unreached'; ``rows``:
    NodeView -> the v̄ lines (padded to one width over all frames, so that
    every frame has the same layout); ``current``: the NodeView visited.
    """

    __slots__ = ("state", "rows", "current")

    def __init__(self, state, rows, current):
        self.state, self.rows, self.current = state, rows, current


def _tensor_label(g, n, o, mark=None):
    kind = g.kind(n)
    head_fill, border = _STYLE[kind]
    state = mark.state.get(n) if mark is not None else None
    faded = _UNREACHED if state == "unreached" else None
    if state == "current":
        head_fill, border = _CURRENT_FILL, _STEP_COLOR
    title = _font(f"<B>{_esc(g.label(n))}</B>", faded)
    if o["backward_order"] and n in g.backward_step:
        title += f'  <FONT COLOR="{_STEP_COLOR}"><B>#{g.backward_step[n]}</B></FONT>'
    info = " · ".join(s for s in (_KIND_WORD[kind], _shape_text(n.shape), str(n.dtype)) if s)
    rows = [f'<TR><TD COLSPAN="2" BGCOLOR="{head_fill}">{title}</TD></TR>',
            f'<TR><TD COLSPAN="2">{_font(_esc(info), faded or _MUTED, 9)}</TD></TR>']

    def row(name, lines, color=None):
        body = '<BR ALIGN="LEFT"/>'.join(_esc(line) for line in lines) + '<BR ALIGN="LEFT"/>'
        rows.append(f'<TR><TD ALIGN="RIGHT" VALIGN="TOP">{_font(_esc(name), faded or _MUTED, 10)}</TD>'
                    f'<TD ALIGN="LEFT" BALIGN="LEFT">{_font(body, faded or color, 10, _MONO)}</TD></TR>')

    def value_row(name, value):
        row(name, _value_lines(value, o["max_elements"], o["precision"]))

    if o["show_data"]:
        value_row("value", n.value)
    grad = n.grad
    if o["show_grad"] and grad is not None:
        value_row("grad", grad)
    if mark is not None and n in mark.rows:
        row("v̄", mark.rows[n], _PARTIAL_COLOR if state == "partial" else None)
    if o["show_tangent"]:
        tangent = n.tangent()
        if tangent is not None:
            value_row("R{·}", tangent)
        if o["show_grad"] and grad is not None:
            grad_tangent = n.grad_tangent()
            if grad_tangent is not None:
                # forward-over-reverse: R{v̄}, on a parameter R{∂E/∂w} = (H v)_w
                value_row("R{grad}", grad_tangent)
    style = ' STYLE="dashed"' if kind == "const" else ""
    width = 2 if kind == "root" else 1
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'COLOR="{border}" BGCOLOR="white"{style}>' + "".join(rows) + "</TABLE>>")


def _op_label(n, precision):
    items = _settings_items(n.settings, precision)
    text = f"<B>{_esc(n.op_name)}</B>"
    if items:
        text += "<BR/>" + "<BR/>".join(f'<FONT POINT-SIZE="8">{_esc(s)}</FONT>' for s in items)
    return f"<{text}>"


def _op_counts(ops):
    """'linear' or 'reshape ×2, matmul, add': the op names in first-use order, counted."""
    counts = {}
    for n in ops:
        counts[n.op_name] = counts.get(n.op_name, 0) + 1
    return ", ".join(name if k == 1 else f"{name} ×{k}" for name, k in counts.items())


def _clip(text, width=60):
    return text if len(text) <= width else text[:width - 1] + "…"


def _module_label(call, ops, repeats, fill):
    """One box for a collapsed module call: what it is, its shapes, parameters and ops."""
    title = f"<B>{_esc(call.title())}</B>"
    if repeats > 1:
        title += _font(f"  call {call.call} of {repeats}", _MUTED, 9)
    rows = [title]
    if call.extra:
        rows.append(_font(_esc(_clip(call.extra.replace("\n", " "))), _MUTED, 9))
    shapes = lambda ss: ", ".join(_shape_text(s) for s in ss) or "—"  # noqa: E731
    rows.append(_font(_esc(f"{shapes(call.input_shapes)} → {shapes(call.output_shapes)}"), None, 9))
    if call.parameters:
        prefix = call.name + "." if call.name else ""
        named = [f"{name[len(prefix):]} {_shape_text(shape)}" for name, shape in call.parameters]
        if len(named) > 4:
            named = named[:3] + [f"… {len(named) - 3} more"]
        total = sum(int(np.prod(shape)) for _, shape in call.parameters)
        rows.append(_font(_esc(", ".join(named)), None, 9))
        rows.append(_font(_esc(f"{total:,} parameter{'s' if total != 1 else ''}"), _MUTED, 9))
    rows.append(_font(_esc(_clip(f"ops: {_op_counts(ops)}")), _MUTED, 9))
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return (f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" STYLE="rounded" '
            f'COLOR="{_MODULE_BORDER}" BGCOLOR="{fill}">{cells}</TABLE>>')


if _graphviz is not None:
    class DotNotFoundError(_graphviz.ExecutableNotFound):
        """Graphviz's ``dot`` program is missing: says how to install it.

            >>> issubclass(ag.viz.DotNotFoundError, RuntimeError)
            True
        """

        def __init__(self, message=_DOT_MISSING):
            RuntimeError.__init__(self, message)

    class ComputationGraph(_graphviz.Digraph):
        """A ``graphviz.Digraph`` whose rendering explains a missing ``dot``.

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> dot = ag.viz.draw_graph((x * x).sum())
            >>> isinstance(dot, ag.viz.ComputationGraph), dot.source.startswith("digraph")
            (True, True)
        """

        def pipe(self, *args, **kwargs):
            """``graphviz.Digraph.pipe``, same arguments: the rendered drawing as
            bytes (str with ``encoding``); raises ``DotNotFoundError`` (how to
            install ``dot``) when Graphviz's ``dot`` program is missing."""
            with _explain_missing_dot():
                return super().pipe(*args, **kwargs)

        def render(self, *args, **kwargs):
            """``graphviz.Digraph.render``, same arguments: saves the source and
            the rendered file and returns the rendered file's path; raises
            ``DotNotFoundError`` when Graphviz's ``dot`` program is missing."""
            with _explain_missing_dot():
                return super().render(*args, **kwargs)

        def unflatten(self, *args, **kwargs):
            """``graphviz.Digraph.unflatten``, same arguments: a new
            ``graphviz.Source`` laid out by Graphviz's ``unflatten`` (which
            staggers wide graphs); raises ``DotNotFoundError`` when Graphviz is
            missing."""
            with _explain_missing_dot():
                return super().unflatten(*args, **kwargs)
else:  # pragma: no cover
    class DotNotFoundError(RuntimeError):
        pass

    ComputationGraph = None


@contextmanager
def _explain_missing_dot():
    try:
        yield
    except DotNotFoundError:
        raise
    except _graphviz.ExecutableNotFound as e:
        raise DotNotFoundError() from e


def _require_graphviz(who):
    if _graphviz is None:
        raise ImportError(f"{who} needs the Python package `graphviz` (pip install graphviz) "
                          f"and Graphviz's `dot` program (apt-get install graphviz)")


def _drawing_options(who, rankdir, max_elements, precision, **flags):
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"{who}: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if not isinstance(max_elements, (int, np.integer)) or max_elements < 0:
        raise ValueError(f"{who}: max_elements must be an int >= 0, got {max_elements!r}")
    if not isinstance(precision, (int, np.integer)) or precision < 1:
        raise ValueError(f"{who}: precision must be an int >= 1, got {precision!r}")
    return dict(rankdir=rankdir, max_elements=max_elements, precision=precision, **flags)


def _emit(g, o, scene, mark=None, title=None, legend=False):
    """The Digraph: tensor boxes, op ellipses and module boxes in their clusters, and edges."""
    dot = ComputationGraph(
        name="computation_graph",
        graph_attr={"rankdir": o["rankdir"], "fontname": _FONT, "bgcolor": "white",
                    "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": _FONT, "fontsize": "11"},
        edge_attr={"arrowsize": "0.7", "color": "#444444", "fontname": _FONT,
                   "fontsize": "8", "fontcolor": _MUTED})
    if title:
        dot.attr(label=str(title), labelloc="t", fontsize="14")
    precision = o["precision"]
    shown = g.cut(scene.visible)
    drawn = set(shown)
    current = mark.current if mark is not None else None
    items = {}        # id(call) (None: top level) -> [(node id, attributes)]
    edges = []

    def put(call, node_id, **attrs):
        items.setdefault(None if call is None else id(call), []).append((node_id, attrs))

    hidden = len(scene.visible) - len(shown)
    if hidden:
        put(None, "cut", label=f"<… {hidden} earlier tensor{'s' if hidden != 1 else ''} not drawn<BR/>"
                               f"(max_nodes={g.max_nodes}; pass max_nodes=None to draw all)>",
            shape="note", fontcolor=_MUTED, color="#aaaaaa", fontsize="10")
    tid = {n: f"t{g.index[n]}" for n in shown}
    boxes = {}        # id(call) -> (box id, call)
    flow = dict(color=_STEP_COLOR, penwidth="2", dir="back")   # v̄ flowing back, in a frame

    def box_id(call):
        if id(call) not in boxes:
            boxes[id(call)] = (f"m{len(boxes) + 1}", call)
        return boxes[id(call)][0]

    for n in shown:
        put(scene.place.get(n), tid[n], label=_tensor_label(g, n, o, mark), shape="plaintext", margin="0")
        if n.kind != "node":
            continue
        owner = scene.box_of(n)
        if owner is not None:
            edges.append((box_id(owner), tid[n], {}))
            continue
        op_id = "op" + tid[n][1:]
        is_current = n == current
        put(scene.place.get(n), op_id, label=_op_label(n, precision), shape="ellipse", style="filled",
            fillcolor=_CURRENT_FILL if is_current else _OP_FILL,
            color=_STEP_COLOR if is_current else "#8888aa", fontsize="10", margin="0.04,0.02",
            height="0.3", width="0.4")
        parents = n.parents
        numbered = len(parents) > 1 and n.op_name not in _SYMMETRIC_OPS
        elided = False
        for i, p in enumerate(parents):
            if p in drawn:
                attrs = {"label": f" {i}"} if numbered else {}
                edges.append((tid[p], op_id, dict(attrs, **flow) if is_current else attrs))
            elif not elided:
                elided = True
                edges.append(("cut", op_id, dict(style="dashed", color="#aaaaaa")))
        edges.append((op_id, tid[n], flow if is_current else {}))
    # Module boxes: drawn when one of their outputs is; fed by the tensors their ops read.
    repeats = {}
    for c in scene.calls:
        repeats[c.name] = repeats.get(c.name, 0) + 1
    members = {}
    for n in g.order:
        owner = scene.box_of(n)
        if owner is not None and n.kind == "node" and id(owner) in boxes:
            members.setdefault(id(owner), []).append(n)
    for key, (bid, call) in boxes.items():
        ops = members.get(key, [])
        is_current = current is not None and scene.box_of(current) is call
        put(call.parent, bid, label=_module_label(call, ops, repeats[call.name],
                                                  _CURRENT_FILL if is_current else _MODULE_FILL),
            shape="plaintext", margin="0")
        linked = set()
        for n in ops:
            for p in n.parents:
                if scene.box_of(p) is call or p in linked:
                    continue
                linked.add(p)
                if p in drawn:
                    edges.append((tid[p], bid, {}))
                elif "cut" not in linked:
                    linked.add("cut")
                    edges.append(("cut", bid, dict(style="dashed", color="#aaaaaa")))
    _emit_clusters(dot, items, scene)
    for tail, head, attrs in edges:
        dot.edge(tail, head, **attrs)
    if legend:
        _add_legend(dot, o["backward_order"], frames=mark is not None, modules=bool(boxes))
    return dot


def _emit_clusters(dot, items, scene):
    """Nodes into nested clusters, one per expanded module call that holds something."""
    children, calls = {}, {id(c): c for c in scene.calls}
    number = {id(c): k for k, c in enumerate(scene.calls, start=1)}   # stable cluster names
    for key in list(items):
        while key is not None:
            parent = calls[key].parent
            up = None if parent is None else id(parent)
            kids = children.setdefault(up, [])
            if key in kids:
                break
            kids.append(key)
            key = up

    def emit(container, key):
        for node_id, attrs in items.get(key, ()):
            container.node(node_id, **attrs)
        for kid in sorted(children.get(key, ()), key=lambda k: calls[k].start):
            call = calls[kid]
            with container.subgraph(name=f"cluster_module{number[kid]}") as sub:
                sub.attr(label=call.title(), labeljust="l", style="rounded,dashed",
                         color=_CLUSTER_BORDER, fontcolor=_MODULE_BORDER, fontsize="10")
                emit(sub, kid)

    emit(dot, None)


def draw_graph(root, *, show_data=True, show_grad=True, show_tangent=False,
               backward_order=False, rankdir="LR", max_elements=6, precision=4,
               max_nodes=500, title=None, legend=False, params=None, modules=None,
               collapse=False, expand=(), depth=None):
    """The computation graph that produced ``root``, as a ``graphviz.Digraph``.

    One box per tensor (its name, or v_i in forward order; kind, shape and
    dtype; value and gradient) and one ellipse per primitive op (its name and
    settings such as ``axis``), edges from parents through the op to its
    output. Operands of ops where their order matters (``matmul``, ``pow``,
    ``where``…) are numbered on their edges.

    show_data, show_grad: show ``.data`` and ``.grad`` (when set). Tensors with
        at most ``max_elements`` elements are shown in full with ``precision``
        significant digits, larger ones as mean, std, min and max.
    show_tangent: show the forward-mode tangent R{v} (``.tangent``, set by
        ``ag.forward_ad()``), and with show_grad also R{v̄} (``.grad.tangent``)
        after a forward-over-reverse pass.
    backward_order: number each tensor by the step at which the backward pass
        reaches it (#1 = the root), i.e. by the reversed ``toposort(root)``.
    rankdir: 'LR' (left to right, default), 'TB', 'RL' or 'BT'.
    max_nodes: draw at most this many tensors, the ones nearest the root in
        forward order (None = all); a note says how many were left out.
    title: a caption above the graph. legend: add a key to the colours.
    params: names for parameters, as torchviz's ``make_dot(y, params=...)``: a
        dict name → tensor (``dict(model.named_parameters())``) or the model
        itself (its parameters and buffers); those tensors are labelled with
        their names in the model (``0.weight``) instead of v_i (or of their own
        ``name``).
    modules: what ``record_modules(model)`` recorded during the forward pass.
        Each module call is drawn as a cluster around the ops it made, or, when
        collapsed, as one box (its type, shapes, parameters and ops) standing
        for all of them; the parameters' names come from the model.
    collapse: draw one box per module at ``depth`` (default 1: the model's
        children, ``0``, ``1`` … of a Sequential; a layer with no submodules
        is a box at any depth); ``expand`` (module names, e.g. ``['0',
        'encoder.layer1']``) opens those boxes (and their ancestors) into
        clusters; ``depth=d`` collapses at depth d (0: the whole model as one
        box). Giving ``expand`` or ``depth`` implies ``collapse=True``.

    The result shows inline in Jupyter and renders with ``.pipe(format='svg')``,
    ``.render(...)`` or ``save_graph``; rendering needs Graphviz's ``dot``.
    Raises RuntimeError if ``backward()`` already freed the graph (use
    ``backward(retain_graph=True)`` to draw after backward).

        >>> model, x, y = nn.Linear(3, 1), ag.randn(4, 3), ag.randn(4, 1)
        >>> with ag.viz.record_modules(model) as calls:
        ...     loss = nn.functional.mse_loss(model(x), y)
        >>> dot = ag.viz.draw_graph(loss, modules=calls, collapse=True)
        >>> import graphviz
        >>> isinstance(dot, graphviz.Digraph)    # dot.render("loss", format="svg") draws it
        True
    """
    _require_graphviz("draw_graph")
    o = _drawing_options("draw_graph", rankdir, max_elements, precision, show_data=show_data,
                         show_grad=show_grad, show_tangent=show_tangent,
                         backward_order=backward_order)
    if params is None and modules is not None and isinstance(modules, ModuleRecording):
        params = modules.model
    g = _Graph(root, max_nodes, "draw_graph", params)
    scene = _Scene(g, modules, collapse, expand, depth)
    return _emit(g, o, scene, title=title, legend=legend)


def _add_legend(dot, backward_order, frames=False, modules=False):
    cells = [(fill, border, _KIND_WORD[k] or "intermediate", ' STYLE="dashed"' if k == "const" else "")
             for k, (fill, border) in _STYLE.items()]
    if modules:
        cells.append((_MODULE_FILL, _MODULE_BORDER, "module", ' STYLE="rounded"'))
    if frames:
        cells.append((_CURRENT_FILL, _STEP_COLOR, "visited now", ""))
    row = "".join(f'<TD BORDER="1" COLOR="{b}" BGCOLOR="{f}"{s}><FONT POINT-SIZE="9">{w}</FONT></TD>'
                  for f, b, w, s in cells)
    row += f'<TD BGCOLOR="{_OP_FILL}" STYLE="rounded"><FONT POINT-SIZE="9">op</FONT></TD>'
    if backward_order:
        row += (f'<TD><FONT POINT-SIZE="9" COLOR="{_STEP_COLOR}"><B>#k</B></FONT>'
                f'<FONT POINT-SIZE="9"> = backward step</FONT></TD>')
    if frames:
        row += (f'<TD><FONT POINT-SIZE="9">v̄ final</FONT></TD>'
                f'<TD><FONT POINT-SIZE="9" COLOR="{_PARTIAL_COLOR}">v̄ summed so far</FONT></TD>'
                f'<TD><FONT POINT-SIZE="9" COLOR="{_UNREACHED}">not reached yet</FONT></TD>')
    with dot.subgraph(name="cluster_legend") as sub:
        sub.attr(label="", style="invis")
        sub.node("legend", f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{row}</TR></TABLE>>',
                 shape="plaintext", margin="0")


def _output_format(who, path, format):  # noqa: A002 - graphviz's name
    fmt = (format or os.path.splitext(path)[1].lstrip(".")).lower()
    if not fmt:
        raise ValueError(f"{who}: cannot tell the format of {path!r} from its extension; "
                         f"use a name ending in .svg, .png or .pdf, or pass format='svg'")
    if fmt not in ("dot", "gv") and fmt not in _graphviz.FORMATS:
        raise ValueError(f"{who}: unknown format {fmt!r} (from {path!r}); "
                         f"use svg, png, pdf or another format of `dot -T`")
    return fmt


def _rendered(dot, fmt, dpi=None):
    """The bytes of ``dot`` in format ``fmt`` (its source for 'dot'/'gv')."""
    if dpi is not None:
        dot = dot.copy()
        dot.attr(dpi=str(dpi))
    if fmt in ("dot", "gv"):
        return dot.source.encode("utf-8")
    return dot.pipe(format=fmt)


def save_graph(root, path, format=None, *, dpi=None, **options):  # noqa: A002 - graphviz's name
    """Draw ``root``'s graph to the file ``path`` and return the path (a str).

    The format comes from the extension (``.svg``, ``.png``, ``.pdf``, any
    format of ``dot -T``) unless ``format`` is given; ``.dot``/``.gv`` write
    the Graphviz source and need no ``dot`` program. ``dpi`` sets the
    resolution of raster formats (dot's default is 96). Other keyword options
    go to ``draw_graph``.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> ag.viz.save_graph(y, "graph.dot")           # the Graphviz source; .svg/.png need dot
        'graph.dot'
        >>> open("graph.dot").read().startswith("digraph")
        True
    """
    _require_graphviz("save_graph")
    path = os.fspath(path)
    fmt = _output_format("save_graph", path, format)
    data = _rendered(draw_graph(root, **options), fmt, dpi)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


# ---------------------------------------------------------------------------
# The graph as a table
# ---------------------------------------------------------------------------

def graph_table(root, *, show_data=True, show_grad=True, show_tangent=False,
                backward_order=False, max_elements=4, precision=4, max_nodes=None, params=None):
    """The graph as a plain-text table, one row per tensor in forward
    (topological) order: what one writes on the board for v_1 … v_N.

    Columns: the tensor (its name or v_i), its op with settings (``input``
    for parameters, ``constant`` for data and literals), its parents, shape,
    value and gradient; with ``show_tangent`` R{·} (and R{grad}); with
    ``backward_order`` the step at which the backward pass reaches it.
    Needs no Graphviz. ``max_nodes`` keeps only the last rows; ``params``
    names parameters as in ``draw_graph``.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> print(ag.viz.graph_table(y))
        tensor  op     parents  shape  value
        ------  -----  -------  -----  ------
        v1      input           (2,)   [1, 2]
        v2      mul    v1, v1   (2,)   [1, 4]
        v3      sum    v2       ()     5
    """
    g = _Graph(root, max_nodes, "graph_table", params)
    header = ["tensor", "op", "parents", "shape"]
    if show_data:
        header.append("value")
    if show_grad:
        header.append("grad")
    if show_tangent:
        header.append("R{·}")
        if show_grad:
            header.append("R{grad}")
    if backward_order:
        header.append("bwd")
    rows = [header]
    fmt = lambda v: "" if v is None else _value_text(v, max_elements, precision)  # noqa: E731
    for n in g.shown:
        if n.kind == "node":
            op = _op_text(n, precision)
        else:
            op = "input" if n.kind == "parameter" else "constant"
        row = [g.label(n), op, ", ".join(g.label(p) for p in n.parents), str(n.shape)]
        grad = n.grad
        if show_data:
            row.append(fmt(n.value))
        if show_grad:
            row.append(fmt(grad))
        if show_tangent:
            row.append(fmt(n.tangent()))
            if show_grad:
                row.append(fmt(n.grad_tangent()))
        if backward_order:
            step = g.backward_step.get(n)
            row.append("" if step is None else f"#{step}")
        rows.append(row)
    # Before any backward pass a gradient column would be empty: leave it out.
    keep = [i for i, name in enumerate(header)
            if name not in ("grad", "R{grad}") or any(r[i] for r in rows[1:])]
    rows = [[r[i] for i in keep] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(keep))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if g.total > len(g.shown):
        hidden = g.total - len(g.shown)
        lines.insert(0, f"… {hidden} earlier tensor{'s' if hidden != 1 else ''} not shown "
                        f"(max_nodes={g.max_nodes})")
    return "\n".join(lines)


def print_graph(root, **options):
    """Print ``graph_table(root, **options)``.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> ag.viz.print_graph(y)
        tensor  op     parents  shape  value
        ------  -----  -------  -----  ------
        v1      input           (2,)   [1, 2]
        v2      mul    v1, v1   (2,)   [1, 4]
        v3      sum    v2       ()     5
    """
    print(graph_table(root, **options))


# ---------------------------------------------------------------------------
# The backward pass, step by step
# ---------------------------------------------------------------------------

class BackwardFrame:
    """One step of the backward sweep, drawn (shows inline in Jupyter).

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> frames = ag.viz.backward_frames(y)
        >>> [(f.step, f.steps, f.label) for f in frames]
        [(1, 3, 'v3'), (2, 3, 'v2'), (3, 3, 'v1')]
        >>> frames[-1].cotangent                          # x̄ = 2x, final
        array([2., 4.], dtype=float32)
        >>> sorted(frames[-1].complete)
        ['v1', 'v2', 'v3']

    Attributes:
        step: the number of this step, 1 for the root's.
        steps: the number of steps of the sweep (the number of frames).
        tensor: the tensor visited at this step.
        label: that tensor's label in the drawing (``'v3'``).
        cotangent: its v̄, an ndarray, final (every child has sent its share).
        cotangents: a dict, label → v̄, of every drawn tensor the sweep has
            reached so far: final for those visited, a partial sum for the
            others.
        complete: a frozenset of the labels whose v̄ is final (those visited
            up to and including this step).
        graph: the drawing, a ``graphviz.Digraph`` (a ``ComputationGraph``).
    """

    __slots__ = ("step", "steps", "tensor", "label", "cotangent", "cotangents", "complete", "graph")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.graph._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self):
        return f"<BackwardFrame {self.step} of {self.steps}: {self.label}>"


def _sweep_events(root, gradient, who):
    """Run the engine's backward sweep from ``root`` (graph kept, no ``.grad``
    touched) and note, at each visit, the node, its v̄ and its parents' v̄ so far."""
    from .autograd import seed_for
    seed = seed_for(root, gradient, False, who)
    events = []

    def on_visit(node, cotangent, so_far):
        view = NodeView(node)
        sums = []
        for p in dict.fromkeys(view.parents):      # a parent read twice (x * x) once
            s = so_far(p.tensor)
            if s is not None:
                sums.append((p, np.array(s, copy=True)))
        events.append((view, np.array(cotangent, copy=True), sums))

    graph.sweep((root,), (seed,), None, retain_graph=True, on_leaf=lambda node, g: None,
                on_visit=on_visit)
    return np.array(seed, copy=True), events


def _padded(lines_by_step):
    """Pad every version of a box's lines to one width and count, so the box
    keeps its size, and the layout its shape, from frame to frame."""
    width = max((len(line) for lines in lines_by_step for line in lines), default=1)
    count = max((len(lines) for lines in lines_by_step), default=1)
    blank = "\u00a0" * width
    return [[line.ljust(width, "\u00a0") for line in lines] + [blank] * (count - len(lines))
            for lines in lines_by_step]


def backward_frames(root, gradient=None, *, path=None, format="png",  # noqa: A002
                    show_data=True, show_grad=False, params=None, modules=None,
                    collapse=False, expand=(), depth=None, rankdir="LR", max_elements=6,
                    precision=4, max_nodes=500, legend=True):
    """The backward pass of ``root``, one drawing per step: a list of BackwardFrame.

    v̄_N = 1, then for each node in the reversed topological order the engine
    uses, v̄_i = Σ_j v̄_j ∂v_j/∂v_i is complete and the node hands each parent
    its share. Frame k highlights the node visited at step k (its op and the
    edges its shares flow back along in red) and shows v̄ on every node: final
    (black) on the nodes visited, the sum so far (orange) on those reached,
    greyed out on those not reached yet. The values come from running the
    engine's own sweep (``graph.sweep`` with a per-visit callback) over the
    retained graph: nothing is recomputed here, no ``.grad`` is touched and
    the graph stays, so the frames can be drawn before or after
    ``backward(retain_graph=True)``.

    gradient: v̄ of the root (needed when it has more than one element, as
        for ``backward``). path: also save the frames there (``save_frames``
        with ``format``). The drawing options are those of ``draw_graph``
        (``params``, ``modules``/``collapse``…); ``show_grad`` is off, since v̄
        is shown. For small graphs: each frame draws the whole graph.

    Example:

        >>> frames = ag.viz.backward_frames(f)   # doctest: +SKIP
        >>> [fr.label for fr in frames]          # doctest: +SKIP
        ['f', 'e', 'u', 'y', 'x', 't']

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> frames = ag.viz.backward_frames(y)            # one drawing per step of the sweep
        >>> len(frames), frames[0].cotangent              # v̄ of the root is 1
        (3, array(1., dtype=float32))
    """
    who = "backward_frames"
    _require_graphviz(who)
    o = _drawing_options(who, rankdir, max_elements, precision, show_data=show_data,
                         show_grad=show_grad, show_tangent=False, backward_order=False)
    if params is None and isinstance(modules, ModuleRecording):
        params = modules.model
    g = _Graph(root, max_nodes, who, params)
    if not g.root.requires_grad:
        raise RuntimeError(f"{who}: root does not require grad, so there is no backward pass to "
                           f"draw (make an input with requires_grad=True, and do not compute "
                           f"under no_grad())")
    scene = _Scene(g, modules, collapse, expand, depth)
    seed, events = _sweep_events(root, gradient, who)
    # The state after each step: every reached node's v̄, and which are final.
    values, done, states = {g.root: seed}, set(), []
    for view, cotangent, sums in events:
        values[view] = cotangent
        done.add(view)
        values.update(sums)
        states.append((dict(values), frozenset(done)))
    fmt = lambda v: _value_lines(v, max_elements, precision)  # noqa: E731
    swept = [n for n in g.order if n.requires_grad]
    rows = {n: _padded([fmt(vals[n]) if n in vals else [] for vals, _ in states]) for n in swept}
    captions = _padded([[f"backward step {k} of {len(events)}: visiting {g.label(view)}"]
                        for k, (view, _, _) in enumerate(events, start=1)])
    frames = []
    for k, ((view, cotangent, _), (vals, final)) in enumerate(zip(events, states), start=1):
        state = {n: ("current" if n == view else "done" if n in final else
                     "partial" if n in vals else "unreached") for n in swept}
        mark = _Mark(state, {n: rows[n][k - 1] for n in swept}, view)
        frame = BackwardFrame()
        frame.step, frame.steps = k, len(events)
        frame.tensor, frame.label, frame.cotangent = view.tensor, g.label(view), cotangent
        frame.cotangents = {g.label(n): v for n, v in vals.items() if n in g.index}
        frame.complete = frozenset(g.label(n) for n in final if n in g.index)
        frame.graph = _emit(g, o, scene, mark, title=captions[k - 1][0], legend=legend)
        frames.append(frame)
    if path is not None:
        save_frames(frames, path, format=format)
    return frames


def _check_frames(frames, who):
    frames = list(frames)
    if not frames:
        raise ValueError(f"{who}: frames is empty")
    for i, f in enumerate(frames):
        if not isinstance(f, BackwardFrame):
            raise TypeError(f"{who}: frames[{i}] is a {type(f).__name__}, not a BackwardFrame "
                            f"(make them with backward_frames)")
    return frames


def save_frames(frames, directory, *, format="png", prefix="step", dpi=None,  # noqa: A002
                gif=False, duration=1.0):
    """Write each frame to ``directory`` as ``{prefix}_001.{format}``, … and return
    the paths written, in order.

    format: 'png' (default), 'svg', 'pdf' or another format of ``dot -T``.
    gif: also write ``{prefix}.gif``, an animation showing each frame for
    ``duration`` seconds (needs Pillow, which is not a dependency of this
    package: ``pip install pillow``); its path comes last. dpi: resolution
    of raster formats.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> import os
        >>> paths = ag.viz.save_frames(ag.viz.backward_frames(y), "frames", format="svg")
        >>> [os.path.basename(p) for p in paths]
        ['step_001.svg', 'step_002.svg', 'step_003.svg']
    """
    who = "save_frames"
    _require_graphviz(who)
    frames = _check_frames(frames, who)
    fmt = _output_format(who, f"frame.{format}", format)
    if not isinstance(prefix, str) or not prefix or os.sep in prefix:
        raise ValueError(f"{who}: prefix must be a non-empty file name part, got {prefix!r}")
    if gif:
        try:
            from PIL import Image
        except ImportError:
            raise ImportError(f"{who}: gif=True needs Pillow (pip install pillow); the "
                              f"numbered {fmt} files need nothing more") from None
        if not (isinstance(duration, (int, float, np.number)) and duration > 0):
            raise ValueError(f"{who}: duration must be a positive number of seconds, got {duration!r}")
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    digits = max(3, len(str(len(frames))))
    paths = []
    for f in frames:
        path = os.path.join(directory, f"{prefix}_{f.step:0{digits}d}.{fmt}")
        with open(path, "wb") as fh:
            fh.write(_rendered(f.graph, fmt, dpi))
        paths.append(path)
    if gif:
        pngs = paths if fmt == "png" else None
        images = [Image.open(p if pngs else io.BytesIO(_rendered(f.graph, "png", dpi))).convert("RGB")
                  for p, f in zip(paths, frames)]
        size = (max(im.width for im in images), max(im.height for im in images))
        canvases = []
        for im in images:   # frames keep one layout, but pad in case sizes differ by a pixel
            canvas = Image.new("RGB", size, "white")
            canvas.paste(im, (0, 0))
            canvases.append(canvas)
        path = os.path.join(directory, f"{prefix}.gif")
        canvases[0].save(path, save_all=True, append_images=canvases[1:],
                         duration=int(round(duration * 1000)), loop=0)
        paths.append(path)
    return paths


def show_frames(frames, *, interactive=None):
    """Show the frames in a notebook: with a slider (and a play button) where
    ipywidgets is installed, otherwise one image after another.

    interactive: True for the slider, False for the images, None (default):
    the slider when ipywidgets can be imported and a Jupyter kernel is running.
    Widgets are not stored in a saved notebook's outputs, so for a notebook
    meant to be read on a code host pass ``interactive=False``: each frame is
    then embedded as a PNG image. Returns the widget (interactive) or None.
    """
    who = "show_frames"
    _require_graphviz(who)
    frames = _check_frames(frames, who)
    if interactive is None:
        interactive = _widgets_available()
    try:
        from IPython.display import Image, display
    except ImportError:
        raise ImportError(f"{who} needs IPython (a Jupyter notebook); outside one use "
                          f"save_frames(frames, 'frames/') to write the images") from None
    if not interactive:
        for f in frames:
            display(Image(data=f.graph.pipe(format="png")))
        return None
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError(f"{who}: interactive=True needs ipywidgets (pip install ipywidgets); "
                          f"interactive=False shows the frames as images") from None
    svgs = [f.graph.pipe(format="svg").decode("utf-8") for f in frames]
    picture = widgets.HTML(value=svgs[0])
    slider = widgets.IntSlider(value=1, min=1, max=len(frames), step=1, description="step",
                               continuous_update=True)
    play = widgets.Play(value=1, min=1, max=len(frames), step=1, interval=1200)
    widgets.jslink((play, "value"), (slider, "value"))
    slider.observe(lambda change: setattr(picture, "value", svgs[change["new"] - 1]), names="value")
    return widgets.VBox([widgets.HBox([play, slider]), picture])


def _widgets_available():
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# ---------------------------------------------------------------------------
# A compiled program
# ---------------------------------------------------------------------------

def draw_program(program, max_instructions=400, rankdir="TB"):
    """A program of ``ag.compile`` (or a compiled function: its last program) as
    a ``graphviz.Digraph``, graph mode beside ``draw_graph``'s eager graph: one
    box per instruction in program order, edges from the values it reads; each
    box names the buffer its
    result lives in (``B3``, the same colour for every value that reuses that
    buffer), ``in place`` where an op writes into its dying argument, and views
    (no buffer) in grey. Inputs, parameters and constants are ellipses.

        >>> f = ag.compile(lambda x: (x * x).sum())
        >>> _ = f(ag.ones(3))
        >>> import graphviz
        >>> isinstance(ag.viz.draw_program(f.last_program), graphviz.Digraph)
        True
    """
    if not (hasattr(program, "instrs") and hasattr(program, "buffers")):
        program = getattr(program, "last_program", None)   # a compiled function
        if program is None:
            raise TypeError("draw_program: expected a compiled program (or a compiled "
                            "function that has run)")
    if _graphviz is None:  # pragma: no cover
        raise ImportError("draw_program needs the graphviz package")
    palette = ["#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc", "#d9d2e9", "#fce5cd", "#d0e0e3",
               "#ead1dc", "#c9daf8", "#b6d7a8", "#ffe599", "#ea9999"]
    dot = _graphviz.Digraph(graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"})
    shown = {}

    def node_of(v):
        if id(v) in shown:
            return shown[id(v)]
        key = f"n{len(shown)}"
        shown[id(v)] = key
        if v.kind != "slot":
            label = {"input": f"input {v.index}", "free": "parameter", "grad": "grad",
                     "const": "constant"}[v.kind]
            dot.node(key, f"{label}\n{v.shape}", shape="ellipse", style="filled",
                     fillcolor="#eeeeee")
        return key

    for i, ins in enumerate(program.instrs[:max_instructions]):
        key = f"i{i}"
        if ins.kind == "done":          # a write its op made in place (the op's box says so)
            continue
        if ins.kind == "op":
            o = ins.out
            where = ("view" if o.view_of is not None else
                     f"into {ins.payload.name or 'the tensor'}" if ins.payload is not None else
                     "new array" if o.buffer is None
                     else f"B{o.buffer}" + (" in place" if ins.inplace_of is not None else ""))
            fill = ("#f3f3f3" if o.buffer is None else palette[o.buffer % len(palette)])
            dot.node(key, f"{ins.prim.name}\n{o.shape} {o.dtype}\n{where}", shape="box",
                     style="filled,rounded", fillcolor=fill)
            shown[id(o)] = key
        elif ins.kind == "write":
            dot.node(key, f"write into {ins.target.name or 'parameter'}", shape="box",
                     style="dashed")
        elif ins.kind == "grad":
            dot.node(key, "set .grad", shape="box", style="dashed")
        else:
            fn = ins.payload[0]
            dot.node(key, f"host: {getattr(fn, '__qualname__', fn)}", shape="box",
                     style="bold")
        for a in ins.args:
            dot.edge(node_of(a), key)
    return dot
