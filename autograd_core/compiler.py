"""``autograd_core.compile(fn)``: trace a step once, replay it as a flat NumPy program.

    >>> def loss_of(x, y):
    ...     return ((x - y) ** 2).mean()
    >>> step = ag.compile(loss_of)         # or @ag.compile
    >>> step(ag.ones(3), ag.zeros(3))      # 1st call for this signature: eager, and traced
    Tensor(1., dtype=float32)
    >>> step(ag.ones(3), ag.ones(3))       # later calls: the recorded program, replayed
    Tensor(0., dtype=float32)

The first call for an input signature runs ``fn`` eagerly while a *tracer*
records every primitive the engine evaluates — the forward pass, the backward
pass (which then runs on Tensors so that its rules are seen too), in-place
writes, ``.grad`` bindings, and the optimiser's ``step()``/``zero_grad()``
(SGD's and Adam's/AdamW's updates as tensor ops, with their scalar bookkeeping
-- step counts, learning rate, bias corrections -- as one small host call; the
other optimisers' steps as opaque host calls). The record is turned into a
*program*: a straight line of NumPy calls, generated as Python source, over
buffers planned once — each value gets a preallocated buffer that NumPy writes
into (``out=``), a buffer is reused when the value it held is dead (liveness),
an elementwise op writes into its dying input's buffer (chains collapse into
one buffer), operations on constants are folded, and views cost nothing. Later
calls run the program on the new inputs: no Tensor objects, no graph, no
dictionaries between the BLAS calls.

**What a signature is** (a new one retraces): the shapes, dtypes and
``requires_grad`` of Tensor and array arguments, the values of Python-scalar
arguments, the identity and train/eval mode of Module arguments and of every
module the step called, the shapes and dtypes of the parameters and buffers
it read, whether their gradients existed, grad mode, the default dtype, and
what the ``guard`` checks registered while tracing return (an optimiser's
state: which moment buffers exist and which arrays hold them).
Programs are cached per signature (``cache_size``, least recently used
first); ``compiled.stats`` counts traces, replays and evictions.

**Limits, as jax.jit's**: the program records what the tensors did, not the
Python around them. A tensor's *value* may not leave the engine while a step
is traced: ``.item()``, ``float(t)``, ``bool(t)`` (Python control flow on a
value), ``print(t)``, ``np.asarray(t)``, ``.data`` and ``.numpy()`` raise
``CompileError`` naming the line (return the tensor instead, and convert it
outside). Control flow on shapes and Python values is fine: it is part of the
signature. Python side effects (appending to a list, counters) happen once,
at trace time. Random numbers must come from the engine (``ag.rand``,
``nn.Dropout``, ...): those are recorded and drawn afresh on every call from
the same generator; ``np.random`` inside a step would be frozen. Array
arguments are handed to ``fn`` as Tensors (so that what ``fn`` does with them
is recorded).
"""
from __future__ import annotations

import bisect
import builtins
import collections
import functools
import math
import numbers

import numpy as np

from . import graph
from . import primitives as P
from .core import TensorBase, wrap
from .graph import state, user_site
from .viz import draw_program  # viz draws a program, reading it as data

__all__ = ["compile", "CompiledFunction", "CompileError", "host_call", "is_tracing", "guard",
           "untraced", "Program", "check_plan", "draw_program"]


class CompileError(RuntimeError):
    """What a compiled step does cannot be recorded as a program (see ``compile``).

        >>> f = ag.compile(lambda x: float(x.sum()))     # a value leaves the engine
        >>> try:
        ...     f(ag.ones(2))
        ... except ag.compiler.CompileError as error:
        ...     print(type(error).__name__)
        CompileError
    """


def is_tracing() -> bool:
    """True while a compiled function is being traced.

        >>> ag.compiler.is_tracing()
        False
        >>> seen = []
        >>> f = ag.compile(lambda x: seen.append(ag.compiler.is_tracing()) or x + 1)
        >>> _ = f(ag.ones(1))
        >>> seen
        [True]
    """
    return graph.tracer() is not None


def host_call(fn):
    """Mark ``fn`` (e.g. ``RMSprop.step``) as an opaque step of a compiled
    program: while tracing it runs as usual and is recorded as one call, which
    the program repeats with the same arguments; what it does inside is not
    traced (it may read ``.data`` and change parameters in place).

        >>> calls = []
        >>> @ag.compiler.host_call
        ... def count():
        ...     calls.append(1)
        >>> @ag.compile
        ... def f(x):
        ...     count()                          # repeated by every replay
        ...     return x * 2
        >>> _ = f(ag.ones(2)); _ = f(ag.ones(2)); _ = f(ag.ones(2))
        >>> len(calls)
        3
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tracer = graph.tracer()
        if tracer is None or tracer.host:
            return fn(*args, **kwargs)
        tracer.host += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            tracer.host -= 1
        tracer.host_call(fn, args, kwargs, result)
        return result
    wrapper.__wrapped_host_call__ = True
    return wrapper


def guard(check):
    """While a step is traced: its program is replayed only while ``check()``
    returns what it returns now (compared with ``==``); otherwise the step is
    traced again. For state the program's structure depends on that the
    tracer cannot see, e.g. whether an optimiser's moment buffers exist yet
    and which arrays hold them. ``check`` runs before every replay: keep it
    cheap. Outside a trace, does nothing.

        >>> mode = {"double": False}
        >>> @ag.compile
        ... def f(x):
        ...     ag.compiler.guard(lambda: mode["double"])
        ...     return x * 2 if mode["double"] else x
        >>> _ = f(ag.ones(2)); mode["double"] = True; f(ag.ones(2))
        Tensor([2., 2.], dtype=float32)
        >>> f.stats["traces"]
        2
    """
    tracer = graph.tracer()
    if tracer is not None and not tracer.host:
        tracer.events.append(("guard", check, check()))


class untraced:
    """``with untraced():`` runs its body eagerly without recording it in the
    step being traced (and without ``CompileError`` for values read). Only for
    work whose result a ``guard`` makes part of the signature -- e.g. creating
    an optimiser's state on its first step: a program traced before the state
    existed is never replayed once it does.

        >>> @ag.compile
        ... def f(x):
        ...     with ag.compiler.untraced():
        ...         seen.append(float(x.sum()))          # not an escape here
        ...     return x + 1
        >>> seen = []
        >>> f(ag.ones(2))
        Tensor([2., 2.], dtype=float32)
        >>> seen, len(f.last_program.instrs) < 3
        ([2.0], True)
    """

    def __enter__(self):
        self.tracer = graph.tracer()
        if self.tracer is not None:
            self.tracer.host += 1
        return self

    def __exit__(self, *exc):
        if self.tracer is not None:
            self.tracer.host -= 1
        return False


# ---------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------

class Tracer:
    """Records what the engine does while a compiled function runs eagerly.

    Events: ("op", prim, inputs, settings, out), ("write", tensor, value),
    ("grad", leaf, value or None), ("gradread", leaf, grad_tensor),
    ("host", fn, args, kwargs), ("module", module), ("guard", check, value).
    Every tensor seen is kept alive, so ids stay unique while the trace is built.
    """

    def __init__(self):
        self.events = []
        self.keep = []
        self.host = 0
        self.touched = set()     # leaves whose .grad a host call assigned (zero_grad)

    def op(self, prim, inputs, settings, out):
        """A primitive evaluated: ``out = prim(*inputs, **settings)``."""
        if self.host:
            return
        self.events.append(("op", prim, inputs, settings, out))
        self.keep.append(out)

    def copy(self, src, dst):
        """``dst`` is a copy of ``src`` (in ``dst``'s dtype)."""
        self.op(P.astype, (src,), {"dtype": dst._d.dtype}, dst)

    def alias(self, src, dst):
        """``dst`` is ``src``'s data under another tensor (``detach()``)."""
        self.op(P.alias, (src,), {}, dst)

    def write(self, target, value):
        """An in-place change: ``target`` now holds ``value``."""
        if not self.host:
            self.events.append(("write", target, value))

    def set_grad(self, leaf, value):
        """``leaf.grad = value`` (None: cleared)."""
        if self.host:
            self.touched.add(id(leaf))
        else:
            self.events.append(("grad", leaf, value))

    def grad_read(self, leaf, grad):
        """The step reads ``leaf.grad`` (to accumulate into it, or as a value)."""
        if not self.host:
            self.events.append(("gradread", leaf, grad, id(leaf) in self.touched))

    def host_call(self, fn, args, kwargs, result):
        """``fn(*args, **kwargs)`` ran as Python, to be called again on every replay."""
        self.events.append(("host", fn, args, kwargs))

    def module(self, m):
        """Module ``m`` was called: its train/eval mode becomes a guard."""
        if not self.host:
            self.events.append(("module", m))

    def escape(self, t, what):
        """A value is about to leave the engine (``what``: ``.item()``, ``.data``, ...):
        CompileError naming the user's line, except inside a host call."""
        if self.host:
            return
        raise CompileError(
            f"compile: {what} of a tensor inside a compiled function: its value would be "
            f"frozen into the program. Return the tensor and use its value outside the "
            f"compiled function (or compute it with tensor ops).\n  at {user_site()}")


# ---------------------------------------------------------------------------
# Values of a program
# ---------------------------------------------------------------------------

class Value:
    """One value of a program: an input, a free tensor (a parameter or buffer,
    read when used), the gradient of a leaf, a constant, or an op's output."""

    __slots__ = ("kind", "index", "tensor", "const", "shape", "dtype", "name", "view_of",
                 "pinned", "fresh", "last_use", "buffer")

    def __init__(self, kind, shape, dtype, index=None, tensor=None, const=None):
        self.kind = kind          # "input" | "free" | "grad" | "const" | "slot"
        self.index = index
        self.tensor = tensor
        self.const = const
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = None
        self.view_of = None       # the Value whose buffer this one views
        self.pinned = False       # outlives the call, in a buffer of its own (a gradient)
        self.fresh = False        # handed to the caller: a new array on every call
        self.last_use = -1
        self.buffer = None        # index of the planned buffer, or None

    def __repr__(self):
        return f"<{self.kind} {self.name} {self.shape} {self.dtype}>"


class Instr:
    """One instruction: ``out = prim(args, **settings)`` or a side effect."""

    __slots__ = ("kind", "prim", "args", "settings", "out", "target", "payload", "inplace_of")

    def __init__(self, kind, prim=None, args=(), settings=None, out=None, target=None,
                 payload=None):
        self.kind = kind          # "op" | "write" | "grad" | "host"
        self.prim = prim
        self.args = args
        self.settings = settings or {}
        self.out = out
        self.target = target
        self.payload = payload
        self.inplace_of = None


_VIEWS = {P.reshape, P.transpose, P.broadcast_to, P.alias, P.diagonal, P.view_dtype}


def _is_basic_index(index):
    return not P.is_advanced(index)


def _scalar_like(t):
    return t._d.__class__ is not np.ndarray


class _Builder:
    """Turns a trace into a list of instructions over Values (SSA)."""

    def __init__(self, inputs):
        self.values = []
        self.instrs = []
        self.current = {}            # id(tensor) -> Value holding its current value
        self.by_array = {}           # id(ndarray) -> Value (for arrays inside settings)
        self.external = set()        # ids of tensors that existed before the step
        self.input_index = {}        # id(input tensor) -> position
        self.inputs = []
        for i, t in enumerate(inputs):
            v = self._new("input", t, index=i)
            self.current[id(t)] = v
            self.by_array[id(t._d)] = v
            self.input_index[id(t)] = i
            self.inputs.append(v)
        self.guards = {}             # id(tensor) -> (tensor, shape, dtype, requires_grad)
        self.modules = {}            # id(module) -> (module, training)
        self.grad_state = {}         # id(leaf) -> (leaf, had a grad at entry or None, input index)
        self.checks = []             # (check, its value at trace time): see ``guard``
        self.grad_of = {}            # id(gradient tensor set in the step) -> its leaf

    def _new(self, kind, t=None, index=None, const=None, shape=None, dtype=None):
        if t is not None:
            shape, dtype = np.shape(t._d), np.result_type(t._d)
        v = Value(kind, shape, dtype, index=index, tensor=t, const=const)
        v.name = f"v{len(self.values)}"
        self.values.append(v)
        return v

    def value(self, t):
        v = self.current.get(id(t))
        if v is not None:
            return v
        if _scalar_like(t) and not t._rg and id(t) not in self.external:
            v = self._new("const", t, const=t._d)     # a lifted number: immutable, folded
        else:
            v = self._new("free", t)
            self.guards[id(t)] = (t, np.shape(t._d), np.result_type(t._d), t._rg)
            self.external.add(id(t))
        self.current[id(t)] = v
        return v

    def _settings(self, settings):
        """Settings with arrays that are program values replaced by references."""
        if not settings:
            return settings, ()
        refs = []

        def sub(x):
            if isinstance(x, np.ndarray):
                v = self.by_array.get(id(x))
                if v is not None:
                    refs.append(v)
                    return _Ref(v)
                return x
            if isinstance(x, tuple):
                return tuple(sub(y) for y in x)
            return x

        out = {k: sub(x) for k, x in settings.items()}
        return out, tuple(refs)

    def op(self, prim, inputs, settings, out):
        args = [self.value(t) for t in inputs]
        settings, refs = self._settings(settings)
        o = self._new("slot", out)
        self.instrs.append(Instr("op", prim, tuple(args) + refs, settings, o))
        self.current[id(out)] = o
        if isinstance(out._d, np.ndarray):
            self.by_array[id(out._d)] = o
        if prim in _VIEWS or (prim is P.getitem and _is_basic_index(settings["index"])):
            o.view_of = args[0]

    def write(self, target, value):
        """``target`` now holds ``value``: memory it shares with the caller (an
        input, a parameter, a buffer) is written; a value of the step is renamed."""
        v = self.value(value)
        cur = self.current.get(id(target))
        if cur is None:
            cur = self.value(target)
        if cur.kind == "const" and cur.tensor is target:
            # A 0-d tensor taken for an immutable number is written (a counter
            # buffer): it is state, read from the tensor on every call.
            cur.kind, cur.const = "free", None
            self.guards[id(target)] = (target, np.shape(target._d), np.result_type(target._d),
                                       target._rg)
            self.external.add(id(target))
        if cur.kind == "grad":
            # the gradient a leaf held at entry (``zero_grad(set_to_none=False)``): on
            # each call it is the array the leaf holds then, written through the leaf
            self.instrs.append(Instr("write", args=(v,), target=cur.tensor, payload=cur.index,
                                     settings={"grad": True}))
        elif cur.kind in ("free", "const", "input") or id(target) in self.external:
            self.instrs.append(Instr("write", args=(v,), target=target,
                                     payload=self.input_index.get(id(target))))
        elif id(target) in self.grad_of:
            # a gradient the step made and then changed in place (``p.grad.mul_(c)``):
            # a renamed value, so the leaf is bound to the new one, as eager's sees it
            leaf = self.grad_of[id(target)]
            v.pinned = True
            self.instrs.append(Instr("grad", args=(v,), target=leaf,
                                     payload=self.input_index.get(id(leaf))))
        self.current[id(target)] = v

    def grad(self, leaf, value):
        self.grad_state.setdefault(id(leaf), (leaf, None, None))   # set before read: no guard
        v = None if value is None else self.value(value)
        if v is not None:
            v.pinned = True
        self.instrs.append(Instr("grad", args=(v,) if v is not None else (), target=leaf,
                                 payload=self.input_index.get(id(leaf))))
        if value is not None:
            self.current[id(value)] = v
            self.grad_of[id(value)] = leaf

    def grad_read(self, leaf, grad, touched):
        """The step reads ``leaf``'s gradient: the one it found at entry (guarded:
        a program that adds onto a gradient differs from one that starts it),
        unless the step itself set it before."""
        if not touched:
            self.grad_state.setdefault(id(leaf), (leaf, grad is not None,
                                                  self.input_index.get(id(leaf))))
        if grad is None or id(grad) in self.current:
            return
        v = self._new("grad", grad)
        v.tensor = leaf
        v.index = self.input_index.get(id(leaf))
        self.current[id(grad)] = v
        self.external.add(id(grad))

    def host(self, fn, args, kwargs):
        self.instrs.append(Instr("host", payload=(fn, args, kwargs)))
        # A host call may change any parameter, buffer or gradient: read them again.
        for key in list(self.current):
            if key in self.external:
                del self.current[key]

    def module(self, m):
        self.modules.setdefault(id(m), (m, bool(getattr(m, "training", False))))


class _Ref:
    """An array inside an op's settings that is a program value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


# ---------------------------------------------------------------------------
# Planning: liveness, buffers, in-place reuse, constant folding
# ---------------------------------------------------------------------------

# Primitives computed by one NumPy call that can write into a given buffer.
# a − b as one NumPy call (the engine has add and neg; a program fuses them)
SUBTRACT = P.Primitive("sub", np.subtract, vjp=(), jvp=())

_UFUNC = {P.add: np.add, SUBTRACT: np.subtract, P.mul: np.multiply, P.div: np.true_divide,
          P.neg: np.negative,
          P.exp: np.exp,
          P.log: np.log, P.reciprocal: np.reciprocal, P.sqrt: np.sqrt, P.abs: np.abs,
          P.sin: np.sin, P.cos: np.cos, P.tanh: np.tanh, P.maximum: np.maximum,
          P.minimum: np.minimum}
_ELEMENTWISE = set(_UFUNC) | {P.relu, P.pow_const, P.sigmoid, P.clip}


def _root(v):
    while v.view_of is not None:
        v = v.view_of
    return v


def _fold(b):
    """Evaluate ops whose arguments are all constants, once."""
    consts = {}
    kept = []
    for ins in b.instrs:
        if ins.kind == "op" and ins.args and all(a.kind == "const" for a in ins.args) \
                and not ins.prim.__class__.__name__ == "Source":
            vals = [a.const for a in ins.args]
            out = ins.prim.forward(*vals, **_plain_settings(ins.settings))
            ins.out.kind, ins.out.const = "const", out
            continue
        kept.append(ins)
    b.instrs = kept


def _plain_settings(settings):
    def sub(x):
        if isinstance(x, _Ref):
            raise CompileError("compile: internal error: a settings reference in a folded op")
        if isinstance(x, tuple):
            return tuple(sub(y) for y in x)
        return x
    return {k: sub(x) for k, x in settings.items()}


def _fuse(b, outputs=()):
    """Peepholes: add(a, neg(c)) is subtract(a, c); an elementwise op whose
    result is written into a parameter or buffer (``p -= lr * g``, an
    optimiser's ``m.mul_(beta)``) writes there directly, without a temporary
    and a copy -- also when the result is read again later (Adam's ``m / denom``
    after ``m`` is updated), as long as nothing overwrites that memory before
    its last reading (a later write into the same tensor, a host call)."""
    uses = collections.Counter(id(a) for ins in b.instrs for a in ins.args)
    producer = {id(ins.out): ins for ins in b.instrs if ins.kind == "op"}
    dead = set()
    for ins in b.instrs:
        if ins.kind == "op" and ins.prim is P.add and len(ins.args) == 2:
            for k in (1, 0):
                a = ins.args[k]
                p = producer.get(id(a))
                if p is not None and p.prim is P.neg and uses[id(a)] == 1 \
                        and id(p) not in dead and a.shape == ins.out.shape:
                    ins.prim = SUBTRACT
                    ins.args = (ins.args[1 - k], p.args[0])
                    dead.add(id(p))
                    break
    b.instrs = [ins for ins in b.instrs if id(ins) not in dead]
    last_read = {}                    # id(value) -> the last instruction reading it (or a view)
    barriers = collections.defaultdict(list)   # id(target) -> where it is written; None: host
    for i, ins in enumerate(b.instrs):
        for a in ins.args:
            last_read[id(_root(a))] = i
        if ins.kind == "write":
            barriers[id(ins.target)].append(i)
        elif ins.kind == "host":
            barriers[None].append(i)
    kept = {id(_root(v)) for v in outputs}

    def next_barrier(t, j):
        found = len(b.instrs)
        for where in (barriers[id(t)], barriers[None]):
            k = bisect.bisect_right(where, j)
            if k < len(where):
                found = min(found, where[k])
        return found

    for j, w in enumerate(b.instrs):
        if w.kind != "write" or j == 0 or w.payload is not None or w.settings:
            continue
        v, p = w.args[0], b.instrs[j - 1]
        t = w.target
        if (p.kind == "op" and p.out is v and p.prim in _UFUNC
                and not _is_py(v)       # 0-d float64 runs as a Python float, stored by [()]
                and not v.pinned and id(v) not in kept
                and (uses[id(v)] == 1 or last_read.get(id(v), j) < next_barrier(t, j))
                and isinstance(t._d, np.ndarray) and t._d.flags.writeable
                and np.shape(t._d) == v.shape and t._d.dtype == v.dtype):
            p.payload = t           # write the result into the tensor's memory itself
            w.kind = "done"


def _dead_code(b, outputs):
    """Drop ops whose results nothing uses (no side effects among ops)."""
    live = set(id(v) for v in outputs)
    kept = []
    for ins in reversed(b.instrs):
        if ins.kind == "op":
            if id(ins.out) not in live:
                continue
            live.update(id(a) for a in ins.args)
        else:
            live.update(id(a) for a in ins.args)
        kept.append(ins)
    b.instrs = kept[::-1]


def plan(instrs, values, outputs):
    """Give every op output that NumPy can write in place a buffer.

    A value's buffer is free again after its last use (views extend the life
    of the value they view); an elementwise op writes into the buffer of an
    argument that dies at it, when shapes and dtypes match. Returned values
    are new arrays on every call (the caller keeps them); gradients get
    buffers of their own. Returns the buffer (shape, dtype) specs, and their
    byte offsets in one arena with its size (``_place``): buffers never
    occupied at the same instruction share memory whatever their shapes.
    """
    for v in outputs:
        _root(v).fresh = True
    for v in values:
        if v.pinned:
            _root(v).pinned = True
        if v.fresh:
            _root(v).fresh = True
    for i, ins in enumerate(instrs):
        for a in ins.args:
            a.last_use = max(a.last_use, i)
            r = _root(a)
            r.last_use = max(r.last_use, i)
    buffers = []
    spans = []                    # per buffer: the instruction intervals it is occupied
    pool = collections.defaultdict(list)
    holding = {}                  # Value -> the buffer it holds now
    end = len(instrs)
    for i, ins in enumerate(instrs):
        if ins.kind == "op":
            o = ins.out
            if ins.payload is None and o.view_of is None and o.shape and not o.fresh \
                    and _writes_out(ins.prim):
                choice = None
                if ins.prim in _ELEMENTWISE and not o.pinned:
                    for a in ins.args:
                        if (a in holding and a.last_use == i and not a.pinned and not a.fresh
                                and a.shape == o.shape and a.dtype == o.dtype):
                            choice = holding.pop(a)     # handed over: not freed below
                            ins.inplace_of = a
                            break
                if choice is None and not o.pinned:
                    free = pool[(o.shape, o.dtype.str)]
                    if free:
                        choice = free.pop()
                        spans[choice].append([i, end])
                if choice is None:
                    choice = len(buffers)
                    buffers.append((o.shape, o.dtype))
                    # a gradient outlives the call (the caller reads it, the
                    # next call may accumulate into it): occupied throughout
                    spans.append([[0 if o.pinned else i, end]])
                o.buffer = choice
                if not o.pinned:
                    holding[o] = choice
        # free the buffers of values that die here
        for a in ins.args:
            r = _root(a)
            if r.last_use == i and r in holding:
                b = holding.pop(r)
                spans[b][-1][1] = i
                spec = buffers[b]
                pool[(spec[0], np.dtype(spec[1]).str)].append(b)
    return buffers, _place(buffers, spans)


_ALIGN = 64    # bytes: a cache line, and more than any dtype's alignment


def _place(buffers, spans):
    """Byte offsets of the buffers in one arena: two buffers may overlap in
    memory only if they are never occupied at the same instruction (their
    shapes and dtypes may differ). Greedy by size, largest first, each at the
    lowest offset that clears every conflicting buffer already placed (the
    "greedy by size" offset planner of TFLite's arena). Returns (offsets,
    arena size in bytes)."""
    nbytes = [max(int(np.prod(shape)) * np.dtype(dtype).itemsize, 1) for shape, dtype in buffers]

    def meet(a, b):
        return any(s1 <= e2 and s2 <= e1 for s1, e1 in spans[a] for s2, e2 in spans[b])

    offsets = [None] * len(buffers)
    placed = []
    for b in sorted(range(len(buffers)), key=lambda k: (-nbytes[k], k)):
        taken = sorted((offsets[c], offsets[c] + nbytes[c]) for c in placed if meet(b, c))
        at = 0
        for lo, hi in taken:
            if at + nbytes[b] <= lo:
                break
            at = max(at, -(-hi // _ALIGN) * _ALIGN)
        offsets[b] = at
        placed.append(b)
    size = max((o + n for o, n in zip(offsets, nbytes)), default=0)
    return offsets, size


def _writes_out(prim):
    return prim in _UFUNC or prim in (P.relu, P.pow_const, P.matmul, P.linear, P.sum,
                                      P.astype, P.sigmoid, P.clip, P.where)


# ---------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------

class _Codegen:
    """Python source for the program: one line (or two) per instruction."""

    def __init__(self):
        self.lines = []
        self.env = {"np": np, "wrap": wrap, "_copyto": np.copyto, "_f64": np.float64,
                    "_tanh": _py_tanh, "_exp": _py_exp, "_par_matmul": _par_matmul}
        self.n = 0
        self.loaded = set()
        self.threads = 1

    def name(self, obj, prefix):
        key = f"{prefix}{self.n}"
        self.n += 1
        self.env[key] = obj
        return key

    def emit(self, line):
        self.lines.append(line)


def _is_py(v):
    """0-d float64 values run as Python floats: IEEE doubles, as NumPy's, with
    arithmetic several times cheaper than on NumPy scalars (scalar graphs)."""
    return not v.shape and v.dtype == np.float64


def _arg(v, cg=None):
    """The expression for a value's current data (a Python float for 0-d float64
    values, loaded once at first use)."""
    if v.kind == "const":
        return v.name
    if v.kind in ("free", "grad"):
        src = (f"{v.name}_t._d" if v.kind == "free" else
               f"T[{v.index}]._grad._d" if v.index is not None else f"{v.name}_t._grad._d")
        if cg is not None and _is_py(v):
            if v.name not in cg.loaded:
                cg.loaded.add(v.name)
                cg.emit(f"    {v.name} = float({src})")
            return v.name
        return src
    return v.name


def _settings_code(cg, settings):
    parts = []
    for k, x in settings.items():
        parts.append(f"{k}={_setting_expr(cg, x)}")
    return ", ".join(parts)


def _setting_expr(cg, x):
    if isinstance(x, _Ref):
        return _arg(x.value)
    if isinstance(x, tuple):
        inner = ", ".join(_setting_expr(cg, y) for y in x)
        return f"({inner}{',' if len(x) == 1 else ''})"
    if isinstance(x, float) and not math.isfinite(x):
        return f"float({str(x)!r})"            # inf and nan have no literal
    if isinstance(x, (bool, int, float, str, type(None))) and not isinstance(x, np.generic):
        return repr(x)
    return cg.name(x, "k")


# A product of at least this many multiply-adds is split in two halves of rows,
# computed at once on two threads (NumPy releases the GIL inside BLAS): the
# rows of a product are independent, so the result is the same.
_SPLIT_MACS = 2_000_000
_pool = None


def _big_gemm(a_shape, out_shape):
    if len(out_shape) != 2 or out_shape[0] < 32:
        return False
    return out_shape[0] * out_shape[1] * a_shape[-1] >= _SPLIT_MACS


def _par_matmul(a, b, out):
    global _pool
    if _pool is None:
        import concurrent.futures
        _pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="autograd-compile")
    m = a.shape[0] // 2
    half = _pool.submit(np.matmul, a[:m], b, out=out[:m])
    np.matmul(a[m:], b, out=out[m:])
    half.result()
    return out


def _py_exp(a):
    # NumPy's exp, not math.exp: the libraries round differently in the last
    # place (math.exp differs on about 5 % of inputs, math.tanh on 30 %), and
    # a replay must give eager's bits
    return float(_np_exp(a))


def _py_tanh(a):
    return float(_np_tanh(a))


_np_exp, _np_tanh = np.exp, np.tanh


def _out(v, cg):
    """A value as handed out of the program (a NumPy scalar for a Python float)."""
    e = _arg(v, cg)
    return f"_f64({e})" if _is_py(v) and v.kind != "const" else e


def generate(program, threads=1):
    """The program's Python source and its namespace."""
    cg = _Codegen()
    cg.threads = threads
    p = program
    for v in p.values:
        if v.kind == "const":
            cg.env[v.name] = float(v.const) if _is_py(v) else v.const
        elif v.kind == "free" or (v.kind == "grad" and v.index is None):
            cg.env[v.name + "_t"] = v.tensor
    for i, buf in enumerate(p.buffers):
        cg.env[f"b{i}"] = None   # filled by Program.allocate
    args = "".join(", " + v.name for v in p.inputs)
    cg.emit(f"def program(T{args}):")
    cg.emit("    B = _buffers")
    cg.env["_buffers"] = None
    for v in p.inputs:
        if _is_py(v):
            cg.emit(f"    {v.name} = float({v.name})")
    for ins in p.instrs:
        if ins.kind == "op":
            _emit_op(cg, ins)
        elif ins.kind == "done":
            continue
        elif ins.kind == "write":
            t = f"T[{ins.payload}]" if ins.payload is not None else cg.name(ins.target, "t")
            if ins.settings.get("grad"):
                t += "._grad"
            val = _arg(ins.args[0], cg)
            if not ins.args[0].shape and np.shape(ins.target._d) == ():
                # a 0-d parameter: item assignment (the same cast, a twentieth of the cost)
                cg.emit(f"    if {t}._d.__class__ is np.ndarray: {t}._d[()] = {val}")
            else:
                cg.emit(f"    if {t}._d.__class__ is np.ndarray: _copyto({t}._d, {val}, casting='unsafe')")
            cg.emit(f"    else: {t}._d = {t}._d.dtype.type({val})")
        elif ins.kind == "grad":
            leaf = f"T[{ins.payload}]" if ins.payload is not None else cg.name(ins.target, "leaf")
            if ins.args:
                cg.emit(f"    {leaf}._grad = wrap({_out(ins.args[0], cg)})")
            else:
                cg.emit(f"    {leaf}._grad = None")
        elif ins.kind == "host":
            fn, a, kw = ins.payload
            f = cg.name(fn, "host")
            aa = cg.name(a, "hargs")
            kk = cg.name(kw, "hkw")
            cg.emit(f"    {f}(*{aa}, **{kk})")
    cg.emit(f"    return ({', '.join(_out(v, cg) for v in p.outputs)}{',' if len(p.outputs) == 1 else ''})")
    return "\n".join(cg.lines), cg.env


_PY_BINARY = {P.add: "{0} + {1}", P.mul: "{0} * {1}", SUBTRACT: "{0} - {1}"}
_PY_UNARY = {P.neg: "-{0}", P.tanh: "_tanh({0})", P.exp: "_exp({0})",
             P.relu: "({0} if not {0} <= 0.0 else 0.0)"}


def _emit_py(cg, ins, a):
    """A 0-d float64 op as a Python expression, or False."""
    o, prim, settings = ins.out, ins.prim, ins.settings
    if prim is not P.getitem and not all(_is_py(x) or (not x.shape and x.dtype.kind == "b")
                                         for x in ins.args):
        return False
    if prim in _PY_BINARY and len(a) == 2:
        expr = _PY_BINARY[prim].format(*a)
    elif prim in _PY_UNARY and len(a) == 1:
        expr = _PY_UNARY[prim].format(*a)
    elif prim is P.pow_const and settings["p"] in (1, 2, 3):
        expr = " * ".join([a[0]] * int(settings["p"]))
    elif prim is P.astype and len(a) == 1 and _is_py(ins.args[0]):
        expr = a[0]             # float64 to float64: the value itself
    elif prim in (P.sum, P.reshape, P.broadcast_to, P.alias) and len(a) == 1:
        expr = a[0]
    elif prim is P.positive_mask:
        expr = f"({a[0]} > 0.0)"
    elif prim is P.getitem and len(a) == 1:
        expr = f"float({a[0]}[{_setting_expr(cg, settings['index'])}])"
    else:
        return False
    cg.emit(f"    {o.name} = {expr}")
    return True


def _emit_op(cg, ins):
    o, prim, args, settings = ins.out, ins.prim, ins.args, ins.settings
    a = [_arg(x, cg) for x in args]
    out = None if o.buffer is None else f"B[{o.buffer}]"
    if ins.payload is not None:                 # written straight into a parameter
        out = f"{cg.name(ins.payload, 't')}._d"
    scalar = not o.shape
    if (_is_py(o) or prim is P.positive_mask and not o.shape) and _emit_py(cg, ins, a):
        return
    if prim is P.reshape:
        cg.emit(f"    {o.name} = np.reshape({a[0]}, {settings['shape']!r})")
    elif prim is P.transpose:
        cg.emit(f"    {o.name} = np.transpose({a[0]}, {settings['axes']!r})")
    elif prim is P.broadcast_to:
        cg.emit(f"    {o.name} = np.broadcast_to({a[0]}, {settings['shape']!r})")
    elif prim is P.alias:
        cg.emit(f"    {o.name} = {a[0]}")
    elif prim in _UFUNC and (out is not None or scalar):
        f = _UFUNC[prim]
        if scalar and prim in (P.add, P.mul) and o.dtype == np.float64:
            op = "+" if prim is P.add else "*"
            cg.emit(f"    {o.name} = {a[0]} {op} {a[1]}")
        elif out is None:
            cg.emit(f"    {o.name} = np.{f.__name__}({', '.join(a)})")
        else:
            cg.emit(f"    {o.name} = np.{f.__name__}({', '.join(a)}, out={out})")
    elif prim is P.relu and out is not None:
        cg.emit(f"    {o.name} = np.maximum({a[0]}, 0, out={out})")
    elif prim is P.pow_const and out is not None:
        p = settings["p"]
        if p == 2:
            cg.emit(f"    {o.name} = np.multiply({a[0]}, {a[0]}, out={out})")
        elif p == 1:    # x ** 1 (the derivative of x²): x itself, copied
            cg.emit(f"    {o.name} = np.positive({a[0]}, out={out})")
        else:
            cg.emit(f"    {o.name} = np.power({a[0]}, {_setting_expr(cg, p)}, out={out})")
    elif prim is P.matmul and out is not None:
        mm = "_par_matmul" if cg.threads > 1 and _big_gemm(args[0].shape, o.shape) else "np.matmul"
        cg.emit(f"    {o.name} = {mm}({a[0]}, {a[1]}, out={out})")
    elif prim is P.linear and out is not None:
        mm = "_par_matmul" if cg.threads > 1 and _big_gemm(args[0].shape, o.shape) else "np.matmul"
        cg.emit(f"    {o.name} = {mm}({a[0]}, {a[1]}.T, out={out})")
        cg.emit(f"    np.add({o.name}, {a[2]}, out={o.name})")
    elif prim is P.sum and out is not None and o.dtype != np.float16:
        cg.emit(f"    {o.name} = np.sum({a[0]}, axis={settings['axis']!r}, "
                f"keepdims={settings['keepdims']!r}, out={out})")
    elif prim is P.astype and out is not None:
        cg.emit(f"    {o.name} = {out}; _copyto({o.name}, {a[0]}, casting='unsafe')")
    elif prim is P.where and out is not None:
        cond = _setting_expr(cg, settings["cond"])
        cg.emit(f"    {o.name} = {out}; _copyto({o.name}, {a[1]}); "
                f"_copyto({o.name}, {a[0]}, where={cond})")
    elif prim is P.clip and out is not None:
        cg.emit(f"    {o.name} = np.clip({a[0]}, {_setting_expr(cg, settings['lo'])}, "
                f"{_setting_expr(cg, settings['hi'])}, out={out})")
    elif prim is P.sigmoid and out is not None:
        cg.emit(f"    {o.name} = {out}; _copyto({o.name}, {cg.name(prim.forward, 'f')}({a[0]}))")
    else:
        f = cg.name(prim.forward, "f")
        n_args = len(args) - sum(isinstance(x, _Ref) for x in _flat(settings))
        call_args = ", ".join(a[:n_args])
        s = _settings_code(cg, settings)
        sep = ", " if call_args and s else ""
        cg.emit(f"    {o.name} = {f}({call_args}{sep}{s})")


def _flat(settings):
    for x in settings.values():
        yield from _flat_item(x)


def _flat_item(x):
    if isinstance(x, tuple):
        for y in x:
            yield from _flat_item(y)
    else:
        yield x


# ---------------------------------------------------------------------------
# The program
# ---------------------------------------------------------------------------

class Program:
    """A traced step: instructions, values, planned buffers and generated code.

    ``source`` is the generated Python, ``instrs`` the instructions (for
    ``viz.draw_program``), ``buffers`` the planned buffers (shape, dtype).

        >>> f = ag.compile(lambda x: (x * x).sum())
        >>> _ = f(ag.ones(3))
        >>> program = f.last_program
        >>> type(program).__name__, program.source.lstrip().startswith("def")
        ('Program', True)
        >>> len(program.instrs) > 0, len(program.buffers) > 0
        (True, True)
    """

    def __init__(self, builder, outputs, structure, signature, threads=1):
        self.inputs = builder.inputs
        self.values = builder.values
        self.outputs = outputs
        self.structure = structure
        self.signature = signature
        self.guards = list(builder.guards.values())
        self.modules = list(builder.modules.values())
        self.checks = builder.checks
        # (a leaf that is an argument is the one passed in each call)
        self.grad_state = [(leaf, had, index) for leaf, had, index in builder.grad_state.values()
                           if had is not None]
        _fold(builder)
        _dead_code(builder, outputs)
        _fuse(builder, outputs)
        self.instrs = builder.instrs
        self.buffers, (self.offsets, self.arena_bytes) = plan(self.instrs, self.values, outputs)
        self.source, env = generate(self, threads)
        arena = np.empty(self.arena_bytes, np.uint8)
        self._buffers = [np.ndarray(shape, dtype, buffer=arena, offset=off)
                         for (shape, dtype), off in zip(self.buffers, self.offsets)]
        env["_buffers"] = self._buffers
        code = builtins.compile(self.source, "<autograd_core compiled program>", "exec")
        exec(code, env)  # noqa: S102 - our own generated code
        self._run = env["program"]
        self.runs = 0

    def guards_hold(self, leaves=()):
        """Whether this program is still valid for a call whose flattened tensor
        arguments are ``leaves``: the tensors it read from outside keep their
        shape, dtype and ``requires_grad``, the modules it called their
        train/eval mode, the gradients it read or wrote still exist (or not)
        as at trace time, and every ``guard`` check returns its traced value.
        Returns ``False`` at the first difference (the caller then retraces).
        """
        for t, shape, dtype, rg in self.guards:
            if np.shape(t._d) != shape or np.result_type(t._d) != dtype or t._rg != rg:
                return False
        for m, training in self.modules:
            if bool(getattr(m, "training", False)) != training:
                return False
        for leaf, had, index in self.grad_state:
            if index is not None:
                leaf = leaves[index]
            if (leaf._grad is not None) != had:
                return False
        for check, value in self.checks:
            if check() != value:
                return False
        return True

    def run(self, tensors, arrays):
        """Execute the generated code once and return its outputs as a tuple of
        arrays, one per tensor of the result in flattening order.

        ``tensors`` are the call's flattened arguments (the program writes
        through them, e.g. an argument's ``.grad``), ``arrays`` their data
        (a Tensor's array, or the argument itself). Counts the run in ``runs``.
        Guards are not checked here: see ``guards_hold``.
        """
        self.runs += 1
        return self._run(tensors, *arrays)

    @property
    def n_instructions(self):
        """The number of instructions left after folding, dead-code removal and
        fusion: ``len(self.instrs)``."""
        return len(self.instrs)

    def __repr__(self):
        return (f"<compiled program: {len(self.instrs)} instructions, {len(self.buffers)} "
                f"buffers in an arena of {self.arena_bytes:,} bytes>")


# ---------------------------------------------------------------------------
# Signatures, caching, the compiled function
# ---------------------------------------------------------------------------

def _flatten(obj, leaves):
    """A hashable description of ``obj``'s structure, with its leaves collected."""
    if isinstance(obj, TensorBase):
        leaves.append(obj)
        return ("T", obj.shape, obj.dtype.str, obj._rg)
    if isinstance(obj, np.ndarray):
        leaves.append(obj)
        return ("A", obj.shape, obj.dtype.str)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(_flatten(o, leaves) for o in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((k, _flatten(v, leaves)) for k, v in obj.items()))
    if isinstance(obj, (bool, numbers.Number, str, type(None))) and not isinstance(obj, np.ndarray):
        return ("P", type(obj).__name__, obj)
    if hasattr(obj, "named_parameters") and hasattr(obj, "training"):
        return ("M", id(obj), bool(obj.training))
    return ("O", id(obj))


def _rebuild(obj, tensors, it):
    """``obj`` with its array/Tensor leaves replaced by ``tensors`` (in order)."""
    if isinstance(obj, (TensorBase, np.ndarray)):
        return tensors[next(it)]
    if isinstance(obj, tuple):
        items = tuple(_rebuild(o, tensors, it) for o in obj)
        return type(obj)(*items) if hasattr(obj, "_fields") else items   # a namedtuple
    if isinstance(obj, list):
        return [_rebuild(o, tensors, it) for o in obj]
    if isinstance(obj, dict):
        return {k: _rebuild(v, tensors, it) for k, v in obj.items()}
    return obj


def _output_structure(out, tensors):
    """(structure, tensors in it) of fn's result."""
    if isinstance(out, TensorBase):
        tensors.append(out)
        return ("T",)
    if isinstance(out, tuple) and hasattr(out, "_fields"):   # (values, indices) and the like
        return ("namedtuple", tuple(_output_structure(o, tensors) for o in out), type(out))
    if isinstance(out, (tuple, list)):
        return (type(out).__name__, tuple(_output_structure(o, tensors) for o in out))
    if isinstance(out, dict):
        return ("dict", tuple((k, _output_structure(v, tensors)) for k, v in out.items()))
    if isinstance(out, np.ndarray):
        raise CompileError("compile: the compiled function returned an ndarray; return Tensors "
                           "(a NumPy result computed inside would be frozen into the program)")
    return ("P", out)


def _output_value(struct, arrays, it):
    kind = struct[0]
    if kind == "T":
        return wrap(arrays[next(it)])
    if kind in ("tuple", "list"):
        items = [_output_value(s, arrays, it) for s in struct[1]]
        return tuple(items) if kind == "tuple" else items
    if kind == "namedtuple":
        return struct[2](*[_output_value(s, arrays, it) for s in struct[1]])
    if kind == "dict":
        return {k: _output_value(s, arrays, it) for k, s in struct[1]}
    return struct[1]


class CompiledFunction:
    """What ``compile(fn)`` returns: call it as ``fn``.

    ``stats``: ``traces`` (programs built), ``replays``, ``evictions``,
    ``guard_failures``; ``programs`` the cached programs (most recent last);
    ``last_program`` the one used by the last call.

        >>> f = ag.compile(lambda x: (x * x).sum())
        >>> _ = f(ag.ones(3))
        >>> _ = f(ag.ones(3))                    # the same signature: replayed
        >>> _ = f(ag.ones(4))                    # a new shape: traced again
        >>> f.stats["traces"], f.stats["replays"]
        (2, 1)
    """

    def __init__(self, fn, cache_size=8, threads=1):
        if not callable(fn):
            raise TypeError(f"compile: expected a callable, got {type(fn).__name__}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"compile: cache_size must be a positive int, got {cache_size!r}")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"compile: options['threads'] must be a positive int, got {threads!r}")
        self.fn = fn
        self.cache_size = cache_size
        self.threads = threads
        self.cache = collections.OrderedDict()
        self.stats = collections.Counter(traces=0, replays=0, evictions=0, guard_failures=0)
        self.last_program = None
        functools.update_wrapper(self, fn, updated=())

    @property
    def programs(self):
        """The cached programs as a new list, least recently used first (so the
        last one is the most recently used); at most ``cache_size`` of them."""
        return list(self.cache.values())

    def __get__(self, obj, objtype=None):  # as a method
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if state.levels or state.tracer is not None or state.anomaly:
            return self.fn(*args, **kwargs)    # inside forward mode or another trace: eager
        leaves = []
        structure = _flatten((args, kwargs), leaves)
        from .dtypes import get_default_dtype
        key = (structure, state.grad_enabled, np.dtype(get_default_dtype()).str)
        program = self.cache.get(key)
        if program is not None:
            if program.guards_hold(leaves):
                self.cache.move_to_end(key)
                self.stats["replays"] += 1
                self.last_program = program
                arrays = [t._d if isinstance(t, TensorBase) else t for t in leaves]
                result = program.run(leaves, arrays)
                return _output_value(program.structure, result, iter(range(len(result))))
            self.stats["guard_failures"] += 1
            del self.cache[key]
        return self._trace(key, args, kwargs, leaves)

    def _trace(self, key, args, kwargs, leaves):
        inputs = [leaf if isinstance(leaf, TensorBase) else wrap(leaf) for leaf in leaves]
        call_args, call_kwargs = _rebuild((args, kwargs), inputs, iter(range(len(inputs))))
        tracer = Tracer()
        builder = _Builder(inputs)
        saved = state.tracer
        state.tracer = tracer
        graph._special(1)
        try:
            out = self.fn(*call_args, **call_kwargs)
        finally:
            state.tracer = saved
            graph._special(-1)
        for event in tracer.events:
            kind = event[0]
            if kind == "op":
                builder.op(*event[1:])
            elif kind == "write":
                builder.write(*event[1:])
            elif kind == "grad":
                builder.grad(*event[1:])
            elif kind == "gradread":
                builder.grad_read(*event[1:])
            elif kind == "host":
                builder.host(*event[1:])
            elif kind == "module":
                builder.module(event[1])
            elif kind == "guard":
                builder.checks.append(event[1:])
        out_tensors = []
        out_structure = _output_structure(out, out_tensors)
        outputs = [builder.value(t) for t in out_tensors]
        program = Program(builder, outputs, out_structure, key, self.threads)
        self.stats["traces"] += 1
        self.cache[key] = program
        self.last_program = program
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
            self.stats["evictions"] += 1
        return out

    def __repr__(self):
        return f"<compiled {getattr(self.fn, '__name__', self.fn)!s}: {dict(self.stats)}>"


def compile(model=None, *, fullgraph=True, dynamic=False, backend="numpy", mode=None,
            options=None, disable=False, cache_size=8, fn=None):
    """Trace ``model`` (a function, or a Module) once per input signature and
    replay it as a planned NumPy program, as ``torch.compile``; usable as a
    decorator (``@ag.compile`` or ``@ag.compile(cache_size=4)``).

    ``options={"threads": 2}`` splits each large matrix product into two halves
    computed at once on two threads (for a machine whose second core is free;
    the rows of a product are independent, so the numbers do not change).
    ``fullgraph``, ``dynamic``, ``backend`` and ``mode`` are accepted for
    PyTorch compatibility: the whole step is always one program
    (a value that would leave it raises ``CompileError``), shapes are static
    (a new shape is a new signature), and the backend is NumPy.
    ``disable=True`` returns ``model`` unchanged. See the module docstring for
    what a signature is and what cannot be compiled. ``fn=`` is the API
    contract's name for torch's ``model=``.

        >>> model = nn.Linear(3, 1)
        >>> opt = optim.SGD(model.parameters(), lr=0.1)
        >>> @ag.compile
        ... def step(x, y):
        ...     opt.zero_grad()
        ...     loss = F.mse_loss(model(x), y)
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
        >>> x, y = ag.randn(8, 3), ag.randn(8, 1)
        >>> first = step(x, y)                  # eager, and traced
        >>> second = step(x, y)                 # the program, replayed
        >>> bool(second < first)                # the optimiser's step ran in both
        True
        >>> step.stats["traces"], step.stats["replays"]
        (1, 1)
    """
    if fn is not None:
        if model is not None:
            raise TypeError("compile: got both model= and fn=; give one")
        model = fn
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable,
                                  cache_size=cache_size)
    if disable:
        return model
    if backend not in ("numpy", "inductor", "eager", None):
        raise ValueError(f"compile: backend must be 'numpy' (the only one here), got {backend!r}")
    options = dict(options or {})
    threads = options.pop("threads", 1)
    if options:
        raise ValueError(f"compile: unknown options {sorted(options)} (known: 'threads')")
    return CompiledFunction(model, cache_size=cache_size, threads=threads)


def check_plan(program):
    """Raise AssertionError if two values alive at the same instruction share a
    buffer, or sit in buffers whose bytes overlap in the arena (views count as
    the value they view). For tests of the planner.

        >>> f = ag.compile(lambda x: (x * x).sum())
        >>> _ = f(ag.ones(3))
        >>> ag.compiler.check_plan(f.last_program)      # no two live values share memory
        True
    """
    def extent(b):
        shape, dtype = program.buffers[b]
        return program.offsets[b], program.offsets[b] + max(int(np.prod(shape)) * np.dtype(dtype).itemsize, 1)

    def clash(a, b):
        (lo1, hi1), (lo2, hi2) = extent(a), extent(b)
        return a == b or (lo1 < hi2 and lo2 < hi1)

    live = {}
    for i, ins in enumerate(program.instrs):
        o = ins.out
        if ins.kind == "op" and o is not None and o.buffer is not None and o.view_of is None:
            for v, (b, end) in list(live.items()):
                if end < i or (end == i and ins.inplace_of is v):
                    del live[v]
            for v, (b, end) in live.items():
                if clash(b, o.buffer):
                    raise AssertionError(f"buffer {b} holds {v.name} (alive until instruction "
                                         f"{end}) and buffer {o.buffer}, overlapping it, "
                                         f"{o.name} (made at {i})")
            live[o] = (o.buffer, max(o.last_use, i) if not o.pinned else len(program.instrs))
    return True
