"""``autograd_core.onnx.export``: a model's forward pass as a standard ONNX file.

    ag.onnx.export(model, (x,), "model.onnx", input_names=["x"],
                   output_names=["logits"], dynamic_axes={"x": {0: "batch"}})

As ``torch.onnx.export``: the model (a Module, or any function of Tensors) is
run once on ``args`` (in eval mode, under ``no_grad``) while the compiler's
tracer records every primitive; the record — the graph is data — is written
as ONNX nodes, one or a few per primitive (the table ``_EMITTERS``), with the
parameters and buffers as initializers named after them (``0.weight``,
``encoder.bias``). A primitive with no ONNX form raises ``ExportError``
naming it. The ``onnx`` package is needed (the ``onnx`` extra); the file can
be checked with ``onnx.checker`` and run with ``onnxruntime``.

**Dynamic axes.** The record holds concrete sizes (a reshape to (6, 8)). To
learn which of them follow an axis named in ``dynamic_axes``, the model is
traced once more per named axis, with that axis resized; a size that changes
is written as a multiple of the axis's runtime size (read with ``Shape``), a
size that does not stays a constant. A model whose ops change with that size
(Python control flow on it, a mask built with NumPy for it) raises
``ExportError``. Python loops over a *dynamic* axis cannot be written this
way: an unrolled RNN has a fixed sequence length.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import graph
from . import primitives as P
from .compiler import CompileError, Tracer, _Builder, _dead_code, _fold, _output_structure, _Ref
from .core import TensorBase, wrap
from .graph import no_grad, state
from .ops import arithmetic as _arith_ops, math as _math_ops, reduction as _reduction_ops
from .ops import sorting as _sorting_ops

__all__ = ["export", "ExportError", "DEFAULT_OPSET", "supported_primitives"]

DEFAULT_OPSET = 17
_END = 2 ** 63 - 1      # Slice bounds meaning "to the end" / "before the start"
_BEFORE = -(2 ** 63)


class ExportError(RuntimeError):
    """The model cannot be written as ONNX (an op without an ONNX form, a value
    that leaves the engine while tracing, a size that does not follow the
    dynamic axes, ...)."""


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        raise ImportError("autograd_core.onnx needs the `onnx` package: pip install "
                          "'autograd-core[onnx]' (or pip install onnx)") from None
    return onnx, helper, numpy_helper


def _dtype(dt):
    return _onnx()[1].np_dtype_to_tensor_dtype(np.dtype(dt))


# ---------------------------------------------------------------------------
# Sizes that follow the dynamic axes
# ---------------------------------------------------------------------------

class _Dim:
    """A size that follows the dynamic axes: ``coef`` × the product of the
    runtime sizes of the axes named ``syms``."""

    __slots__ = ("coef", "syms")

    def __init__(self, coef, syms):
        self.coef = int(coef)
        self.syms = tuple(sorted(syms))

    def __eq__(self, other):
        return isinstance(other, _Dim) and (self.coef, self.syms) == (other.coef, other.syms)

    def __hash__(self):
        return hash((self.coef, self.syms))

    @property
    def name(self):
        """The dim_param of a value info: the axis's name, when the size is that axis."""
        return self.syms[0] if self.coef == 1 and len(self.syms) == 1 else None

    def __repr__(self):
        return "·".join(([str(self.coef)] if self.coef != 1 else []) + list(self.syms))


def _is_dynamic(dims):
    return any(isinstance(d, _Dim) for d in dims)


def _same_setting(a, b):
    """Settings equal between two traces (arrays by value; references to program
    values are compared through the values themselves)."""
    if isinstance(a, _Ref) or isinstance(b, _Ref):
        return isinstance(a, _Ref) and isinstance(b, _Ref)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_setting(x, y) for x, y in zip(a, b))
    if isinstance(a, np.dtype) or isinstance(b, np.dtype):
        return a == b
    if type(a) is not type(b):
        return False
    if callable(a) and hasattr(a, "__code__"):
        # a function made anew on each call (a closure in a setting): the same
        # code reading the same captured values
        cells = lambda f: tuple(c.cell_contents for c in f.__closure__ or ())  # noqa: E731
        return (a.__code__ is b.__code__ and _same_setting(a.__defaults__, b.__defaults__)
                and _same_setting(cells(a), cells(b)))
    try:
        return bool(a == b)
    except Exception:  # objects without a value comparison (generators, functions)
        return a is b


def _differs(sym, n, n2, what):
    return ExportError(
        f"onnx.export: the model runs other operations when the dynamic axis '{sym}' has size "
        f"{n2} instead of {n} ({what}): Python code that depends on that size — a loop over it "
        f"(an unrolled RNN over the sequence), a branch on it — cannot follow it in an ONNX "
        f"graph; export with a fixed size of that axis")


class _Shapes:
    """Each value's dims, and each shape-like setting's, as ints or ``_Dim``s:
    the base trace compared with one trace per dynamic axis (that axis resized)."""

    def __init__(self, base, variants, sizes):
        self.sizes = sizes                   # symbol -> (traced size, resized size)
        self.seen = {}                       # id(base value) -> {symbol: shape}
        self.settings = {}                   # id(base instr) -> {symbol: settings}
        self.cache = {}
        b_ops = [i for i in base.builder.instrs if i.kind == "op"]
        for sym, var in variants.items():
            v_ops = [i for i in var.builder.instrs if i.kind == "op"]
            n, n2 = sizes[sym]
            for k, (ib, iv) in enumerate(zip(b_ops, v_ops)):
                if ib.prim is not iv.prim or len(ib.args) != len(iv.args) \
                        or set(ib.settings) != set(iv.settings):
                    raise _differs(sym, n, n2, f"operation {k} is '{ib.prim.name}' at size {n} "
                                                f"and '{iv.prim.name}' at size {n2}")
                for a, b in zip(ib.args + (ib.out,), iv.args + (iv.out,)):
                    self.seen.setdefault(id(a), {})[sym] = b.shape
                self.settings.setdefault(id(ib), {})[sym] = iv.settings
            if len(b_ops) != len(v_ops):
                raise _differs(sym, n, n2, f"{len(b_ops)} operations at size {n}, {len(v_ops)} at "
                                           f"size {n2}")
            for a, b in zip(base.inputs + base.outputs, var.inputs + var.outputs):
                self.seen.setdefault(id(a), {})[sym] = b.shape

    def fit(self, base_shape, shapes, what):
        """The dims of a shape seen as ``base_shape`` in the base trace and as
        ``shapes[sym]`` with each dynamic axis resized."""
        for sym, shape in shapes.items():
            if len(shape) != len(base_shape):
                raise ExportError(f"onnx.export: {what} has {len(base_shape)} axes, but "
                                  f"{len(shape)} when the dynamic axis '{sym}' is resized")
        dims = []
        for k, n in enumerate(base_shape):
            varying = sorted(sym for sym, shape in shapes.items() if shape[k] != n)
            if not varying:
                dims.append(int(n))
                continue
            traced = math.prod(self.sizes[s][0] for s in varying)
            coef, rest = divmod(int(n), traced)
            ok = rest == 0 and coef > 0 and all(
                shapes[s][k] == coef * traced // self.sizes[s][0] * self.sizes[s][1]
                for s in varying)
            if not ok:
                seen = ", ".join(f"{shapes[s][k]} when '{s}' is {self.sizes[s][1]}"
                                 for s in varying)
                raise ExportError(
                    f"onnx.export: axis {k} of {what} has size {n} (traced with "
                    + ", ".join(f"'{s}' = {self.sizes[s][0]}" for s in varying)
                    + f"), and {seen}: not a multiple of the dynamic axes' sizes, which ONNX "
                      f"export needs; export with fixed sizes")
            dims.append(_Dim(coef, varying))
        return tuple(dims)

    def dims(self, v):
        key = id(v)
        if key not in self.cache:
            self.cache[key] = self.fit(v.shape, self.seen.get(key, {}),
                                       f"a value of shape {v.shape}")
        return self.cache[key]

    def varies(self, ins, key):
        """True when setting ``key`` of ``ins`` differs between the traces."""
        base = ins.settings[key]
        return any(not _same_setting(base, s[key]) for s in self.settings.get(id(ins), {}).values())

    def setting_dims(self, ins, key):
        """A shape-like setting (a tuple of ints) as dims."""
        base = ins.settings[key]
        shapes = {sym: tuple(s[key]) for sym, s in self.settings.get(id(ins), {}).items()}
        return self.fit(tuple(base), shapes, f"the '{key}' of '{ins.prim.name}'")

    def setting_array_dims(self, ins, key):
        """The dims of an array setting whose shape follows the dynamic axes."""
        base = ins.settings[key]
        shapes = {sym: np.shape(s[key]) for sym, s in self.settings.get(id(ins), {}).items()}
        return self.fit(np.shape(base), shapes, f"the '{key}' array of '{ins.prim.name}'")


# ---------------------------------------------------------------------------
# The ONNX graph being built
# ---------------------------------------------------------------------------

class _Graph:
    """ONNX nodes and initializers being built, with unique names, the names of
    the program's values and the runtime sizes of the dynamic axes."""

    def __init__(self, opset, shapes, symbol_sources):
        self.onnx, self.helper, self.numpy_helper = _onnx()
        self.opset = opset
        self.shapes = shapes
        self.symbol_sources = symbol_sources   # symbol -> (graph input name, axis)
        self.nodes = []
        self.initializers = []
        self.names = {}          # id(Value) -> ONNX name
        self.param_names = {}    # id(tensor) -> dotted parameter name
        self.used = set()
        self.cached = {}

    # -- names and constants
    def fresh(self, stem):
        stem = "".join(c if c.isalnum() or c in "._" else "_" for c in stem) or "v"
        name, k = stem, 0
        while name in self.used:
            k += 1
            name = f"{stem}_{k}"
        self.used.add(name)
        return name

    def const(self, array, stem="const"):
        name = self.fresh(stem)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def scalar(self, value, dtype):
        """A 0-d constant (one initializer per value and dtype)."""
        key = ("scalar", np.dtype(dtype).str, repr(value))
        if key not in self.cached:
            self.cached[key] = self.const(np.asarray(value, dtype=dtype), "c")
        return self.cached[key]

    def ints(self, values, stem="shape"):
        values = [int(v) for v in values]
        key = ("ints", tuple(values))
        if key not in self.cached:
            self.cached[key] = self.const(np.asarray(values, dtype=np.int64), stem)
        return self.cached[key]

    def node(self, op, inputs, outputs=None, **attrs):
        outputs = outputs or [self.fresh(op.lower())]
        self.nodes.append(self.helper.make_node(op, list(inputs), list(outputs), **attrs))
        return outputs[0]

    # -- sizes
    def dims(self, v):
        return self.shapes.dims(v)

    def symbol(self, sym):
        """The runtime size of a dynamic axis, as a 1-element int64 tensor."""
        key = ("symbol", sym)
        if key not in self.cached:
            source, axis = self.symbol_sources[sym]
            shape = self.node("Shape", [source])
            self.cached[key] = self.node("Gather", [shape, self.ints([axis], "axis")], axis=0)
        return self.cached[key]

    def dim_tensor(self, d):
        """A 1-element int64 tensor holding the size ``d`` (int or _Dim)."""
        if not isinstance(d, _Dim):
            return self.ints([d])
        t = self.symbol(d.syms[0])
        for s in d.syms[1:]:
            t = self.node("Mul", [t, self.symbol(s)])
        return t if d.coef == 1 else self.node("Mul", [t, self.ints([d.coef], "coef")])

    def shape_tensor(self, dims):
        """A 1-D int64 tensor holding ``dims``: a constant when they are all static,
        else the static runs and the dynamic sizes concatenated."""
        if not _is_dynamic(dims):
            return self.ints(dims)
        key = ("shape", tuple(dims))
        if key not in self.cached:
            parts, run = [], []
            for d in dims:
                if isinstance(d, _Dim):
                    if run:
                        parts.append(self.ints(run))
                        run = []
                    parts.append(self.dim_tensor(d))
                else:
                    run.append(d)
            if run:
                parts.append(self.ints(run))
            self.cached[key] = self.node("Concat", parts, axis=0)
        return self.cached[key]

    def full(self, value, dtype, dims):
        """A tensor of ``dims`` filled with ``value``."""
        return self.node("Expand", [self.scalar(value, dtype), self.shape_tensor(dims)])

    def cast(self, x, src_dtype, dtype):
        if np.dtype(src_dtype) == np.dtype(dtype):
            return x
        return self.node("Cast", [x], to=_dtype(dtype))

    # -- values of the program
    def value(self, v):
        """The ONNX name of program value ``v``; parameters, buffers and constants
        become initializers on first use."""
        key = id(v)
        if key in self.names:
            return self.names[key]
        if v.kind not in ("free", "const"):
            raise ExportError(f"onnx.export: internal error: value {v.name} used before it is made")
        data = np.asarray(v.const if v.kind == "const" else v.tensor._d)
        dims = self.dims(v)
        if _is_dynamic(dims):
            # created inside the forward for the batch (h0 = zeros(N, H)): a filled tensor
            flat = data.reshape(-1)
            if flat.size == 0 or not (flat == flat[0]).all():
                raise ExportError(
                    f"onnx.export: a constant of shape {data.shape} made inside the model has a "
                    f"shape that follows the dynamic axes ({dims}) and values that are not all "
                    f"equal, so it cannot be written for other sizes: compute it with tensor ops "
                    f"from the inputs, or export with fixed sizes")
            name = self.full(flat[0].item(), data.dtype, dims)
        else:
            stem = self.param_names.get(id(v.tensor), "const") if v.tensor is not None else "const"
            name = self.const(data, stem)
        self.names[key] = name
        return name


# ---------------------------------------------------------------------------
# The table: one emitter per primitive
# ---------------------------------------------------------------------------

# primitive -> (emitter, settings keys that may follow the dynamic axes, operand dtype):
# ONNX ops take operands of one type where NumPy promotes (float32 + int64, x * mask,
# exp of an int), so the operands are cast first — to the output's dtype ("out") or to
# their common dtype ("common", comparisons) — or left as they are (None).
_EMITTERS = {}
_HINTS = {
    "draw": "random numbers are drawn (dropout or a random op in training mode?): export the "
            "model in eval mode, or without the random op",
    "cumprod": "ONNX has no cumulative product: write it as exp(cumsum(log(x))) for positive x",
}


def _emits(*prims, dynamic=(), operands="out"):
    def register(fn):
        for p in prims:
            _EMITTERS[p] = (fn, frozenset(dynamic), operands)
        return fn
    return register


def supported_primitives():
    """The names of the primitives ``export`` writes as ONNX (sorted).

        >>> {"matmul", "conv", "sort_order"} <= set(ag.onnx.supported_primitives())
        True
    """
    return sorted({p.name for p in _EMITTERS})


def _one_to_one(op):
    def emit(g, ins, a):
        return g.node(op, a)
    return emit


_ONE_TO_ONE = {
    "out": {P.neg: "Neg", P.exp: "Exp", P.log: "Log", P.reciprocal: "Reciprocal", P.sqrt: "Sqrt",
            P.abs: "Abs", P.sin: "Sin", P.cos: "Cos", P.tanh: "Tanh", P.relu: "Relu",
            P.sigmoid: "Sigmoid", P.sinh: "Sinh", P.cosh: "Cosh", P.asinh: "Asinh",
            P.acosh: "Acosh", P.atanh: "Atanh", P.asin: "Asin", P.acos: "Acos", P.atan: "Atan",
            P.erf: "Erf", P.floor: "Floor", P.ceil: "Ceil", P.add: "Add", P.mul: "Mul", P.div: "Div",
            P.pow: "Pow", P.maximum: "Max", P.minimum: "Min", P.matmul: "MatMul"},
    "common": {P.equal: "Equal", P.less: "Less", P.greater: "Greater",
               P.less_equal: "LessOrEqual", P.greater_equal: "GreaterOrEqual"},
    None: {P.isnan: "IsNaN", P.isinf: "IsInf", P.alias: "Identity"},
}
for _operands, _table in _ONE_TO_ONE.items():
    for _prim, _op in _table.items():
        _emits(_prim, operands=_operands)(_one_to_one(_op))


def _bools(g, ins, a):
    """The operands as booleans (NumPy's logical ops read any nonzero as True)."""
    return [g.cast(x, v.dtype, np.bool_) for x, v in zip(a, ins.args)]


@_emits(P.logical_and, P.logical_or, P.logical_xor, P.logical_not, operands=None)
def _logical(g, ins, a):
    op = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
          "logical_not": "Not"}[ins.prim.name]
    return g.node(op, _bools(g, ins, a))


@_emits(P.not_equal, operands="common")
def _not_equal(g, ins, a):
    return g.node("Not", [g.node("Equal", a)])


@_emits(P.isfinite, operands=None)
def _isfinite(g, ins, a):
    if ins.args[0].dtype.kind != "f":
        return g.full(True, np.bool_, g.dims(ins.out))
    return g.node("Not", [g.node("Or", [g.node("IsNaN", a), g.node("IsInf", a)])])


@_emits(P.positive_mask, operands=None)
def _positive(g, ins, a):
    return g.node("Greater", [a[0], g.scalar(0, ins.args[0].dtype)])


@_emits(P.clip_mask, operands=None)
def _clip_mask(g, ins, a):
    lo, hi, dt = ins.settings["lo"], ins.settings["hi"], ins.args[0].dtype
    parts = []
    if lo is not None:
        parts.append(g.node("GreaterOrEqual", [a[0], g.scalar(lo, dt)]))
    if hi is not None:
        parts.append(g.node("LessOrEqual", [a[0], g.scalar(hi, dt)]))
    if not parts:
        return g.full(True, np.bool_, g.dims(ins.out))
    return parts[0] if len(parts) == 1 else g.node("And", parts)


@_emits(P.max_share, operands="common")
def _max_share(g, ins, a):
    # 1 where a wins, ½ at a tie, 0 where b wins
    dt = ins.out.dtype
    loses = g.node("Less" if ins.settings["sign"] > 0 else "Greater", a)
    share = g.node("Where", [g.node("Equal", a), g.scalar(0.5, dt), g.scalar(1.0, dt)])
    return g.node("Where", [loses, g.scalar(0.0, dt), share])


@_emits(P.max_weights, operands=None)
def _max_weights(g, ins, a):
    x, axis = ins.args[0], ins.settings["axis"]
    axes = range(len(x.shape)) if axis is None else axis
    keep = [1 if k in axes else d for k, d in enumerate(g.dims(x))]
    m = g.node("Reshape", [a[1], g.shape_tensor(keep)])
    hit = g.node("Equal", [a[0], m])
    if x.dtype.kind == "f":
        both_nan = g.node("And", [g.node("IsNaN", [a[0]]), g.node("IsNaN", [m])])
        hit = g.node("Or", [hit, both_nan])
    hit = g.cast(hit, np.bool_, ins.out.dtype)
    return g.node("Div", [hit, _reduce(g, "ReduceSum", hit, axis, True, len(x.shape))])


@_emits(P.sign, operands=None)
def _sign(g, ins, a):
    s = g.node("Sign", a)
    if ins.args[0].dtype.kind != "f":
        return s
    return g.node("Where", [g.node("IsNaN", a), g.scalar(0, ins.out.dtype), s])  # sign(NaN) = 0


def _trunc_of(g, x, dt):
    return g.node("Where", [g.node("Less", [x, g.scalar(0, dt)]), g.node("Ceil", [x]),
                            g.node("Floor", [x])])


@_emits(P.trunc)
def _trunc(g, ins, a):
    return _trunc_of(g, a[0], ins.out.dtype)


@_emits(P.round)
def _round(g, ins, a):
    d, dt = int(ins.settings["decimals"]), ins.out.dtype
    if d == 0:
        return g.node("Round", a)
    # as NumPy: scale by 10^d (or divide by 10^-d), round half to even, scale back
    scale, op, back = (10.0 ** d, "Mul", "Div") if d > 0 else (10.0 ** -d, "Div", "Mul")
    c = g.scalar(scale, dt)
    return g.node(back, [g.node("Round", [g.node(op, [a[0], c])]), c])


@_emits(P.nonzero_indicator, operands=None)
def _nonzero_indicator(g, ins, a):
    dt = ins.out.dtype
    return g.cast(g.node("Not", [g.node("Equal", [a[0], g.scalar(0, dt)])]), np.bool_, dt)


@_emits(P.erfc)
def _erfc(g, ins, a):
    return g.node("Sub", [g.scalar(1, ins.out.dtype), g.node("Erf", a)])


@_emits(P.log1p)
def _log1p(g, ins, a):
    # log(u)·x/(u − 1) with u = 1 + x: exact to rounding for small x (Goldberg), x where u = 1
    dt, x = ins.out.dtype, a[0]
    u = g.node("Add", [g.scalar(1, dt), x])
    d = g.node("Sub", [u, g.scalar(1, dt)])
    scaled = g.node("Mul", [g.node("Log", [u]), g.node("Div", [x, d])])
    scaled = g.node("Where", [g.node("IsInf", [u]), u, scaled])
    return g.node("Where", [g.node("Equal", [d, g.scalar(0, dt)]), x, scaled])


@_emits(P.expm1)
def _expm1(g, ins, a):
    # (u − 1)·x/log(u) with u = eˣ (Kahan): exact to rounding for small x
    dt, x = ins.out.dtype, a[0]
    u = g.node("Exp", [x])
    d = g.node("Sub", [u, g.scalar(1, dt)])
    scaled = g.node("Mul", [d, g.node("Div", [x, g.node("Log", [u])])])
    scaled = g.node("Where", [g.node("IsInf", [u]), u, scaled])
    scaled = g.node("Where", [g.node("Equal", [d, g.scalar(-1, dt)]), d, scaled])
    return g.node("Where", [g.node("Equal", [u, g.scalar(1, dt)]), x, scaled])


@_emits(P.exp2)
def _exp2(g, ins, a):
    return g.node("Pow", [g.scalar(2, ins.out.dtype), a[0]])


@_emits(P.log2, P.log10)
def _log_base(g, ins, a):
    base = 2.0 if ins.prim is P.log2 else 10.0
    return g.node("Div", [g.node("Log", a), g.scalar(math.log(base), ins.out.dtype)])


@_emits(P.softplus)
def _softplus(g, ins, a):
    beta, threshold, dt = ins.settings["beta"], ins.settings["threshold"], ins.out.dtype
    z = g.node("Mul", [a[0], g.scalar(beta, dt)])
    soft = g.node("Div", [g.node("Softplus", [z]), g.scalar(beta, dt)])
    return g.node("Where", [g.node("Greater", [z, g.scalar(threshold, dt)]), a[0], soft])


@_emits(P.pow_const)
def _pow_const(g, ins, a):
    return g.node("Pow", [a[0], g.scalar(ins.settings["p"], ins.out.dtype)])


@_emits(P.clip, _math_ops._clipped)
def _clip(g, ins, a):
    lo, hi, dt = ins.settings["lo"], ins.settings["hi"], ins.out.dtype
    return g.node("Clip", [a[0], "" if lo is None else g.scalar(lo, dt),
                           "" if hi is None else g.scalar(hi, dt)])


@_emits(P.hypot)
def _hypot(g, ins, a):
    x, y = a
    return g.node("Sqrt", [g.node("Add", [g.node("Mul", [x, x]), g.node("Mul", [y, y])])])


@_emits(P.atan2)
def _atan2(g, ins, a):
    # atan(y/x), moved to the quadrant of (x, y); atan2(±0, ±0) = 0
    y, x = a
    dt = ins.out.dtype
    zero = g.scalar(0, dt)
    base = g.node("Atan", [g.node("Div", [y, x])])
    turn = g.node("Where", [g.node("GreaterOrEqual", [y, zero]), g.scalar(math.pi, dt),
                            g.scalar(-math.pi, dt)])
    out = g.node("Where", [g.node("Less", [x, zero]), g.node("Add", [base, turn]), base])
    origin = g.node("And", [g.node("Equal", [x, zero]), g.node("Equal", [y, zero])])
    return g.node("Where", [origin, zero, out])


@_emits(P.fmod)
def _fmod(g, ins, a):
    return g.node("Mod", a, fmod=1)


@_emits(P.remainder)
def _remainder(g, ins, a):
    if ins.out.dtype.kind != "f":
        return g.node("Mod", a, fmod=0)
    # the C remainder moved to the sign of y, as NumPy computes it
    x, y = a
    zero = g.scalar(0, ins.out.dtype)
    m = g.node("Mod", [x, y], fmod=1)
    other_sign = g.node("Xor", [g.node("Less", [m, zero]), g.node("Less", [y, zero])])
    fix = g.node("And", [g.node("Not", [g.node("Equal", [m, zero])]), other_sign])
    return g.node("Where", [fix, g.node("Add", [m, y]), m])


@_emits(P._quotient_of)
def _quotient(g, ins, a):
    q = g.node("Div", a)
    if ins.settings["rounding"] is np.floor:
        return g.node("Floor", [q])
    return _trunc_of(g, q, ins.out.dtype)


@_emits(P.linear)
def _linear(g, ins, a):
    if len(ins.args[0].shape) == 2:
        return g.node("Gemm", a[:3], transB=1)
    wt = g.node("Transpose", [a[1]], perm=[1, 0])
    y = g.node("MatMul", [a[0], wt])
    return g.node("Add", [y, a[2]]) if len(a) > 2 else y


@_emits(P.einsum.of_arity(1), P.einsum.of_arity(2), P.einsum.of_arity(3),
        P.einsum.of_arity(4))
def _einsum(g, ins, a):
    return g.node("Einsum", a, equation=",".join(ins.settings["inputs"]) + "->"
                  + ins.settings["output"])


def _reduce(g, op, x, axis, keepdims, ndim):
    axes = list(range(ndim)) if axis is None else [int(k) for k in axis]
    # ReduceSum takes its axes as an input from opset 13, the other reductions from 18
    if g.opset >= (13 if op == "ReduceSum" else 18):
        return g.node(op, [x, g.ints(axes, "axes")], keepdims=int(keepdims))
    return g.node(op, [x], axes=axes, keepdims=int(keepdims))


@_emits(P.sum, P.max, P.amax, P.logsumexp)
def _reduction(g, ins, a):
    op = {"sum": "ReduceSum", "max": "ReduceMax", "amax": "ReduceMax",
          "logsumexp": "ReduceLogSumExp"}[ins.prim.name]
    return _reduce(g, op, a[0], ins.settings["axis"], ins.settings["keepdims"],
                   len(ins.args[0].shape))


@_emits(P.softmax, P.log_softmax)
def _softmax(g, ins, a):
    return g.node("Softmax" if ins.prim is P.softmax else "LogSoftmax", a[:1],
                  axis=int(ins.settings["axis"]))


@_emits(P.cumsum)
def _cumsum(g, ins, a):
    return g.node("CumSum", [a[0], g.const(np.asarray(ins.settings["axis"], np.int64), "axis")])


@_emits(P.reshape, dynamic=("shape",), operands=None)
def _reshape(g, ins, a):
    dims = g.shapes.setting_dims(ins, "shape")
    dynamic = [k for k, d in enumerate(dims) if isinstance(d, _Dim)]
    if len(dynamic) == 1:     # one size follows the dynamic axes: ONNX infers it (-1)
        shape = g.ints([-1 if k == dynamic[0] else d for k, d in enumerate(dims)])
    else:
        shape = g.shape_tensor(dims)
    if 0 in dims:  # a 0 size is a 0, not "copy the input's size"
        return g.node("Reshape", [a[0], shape], allowzero=1) if g.opset >= 14 else \
            g.node("Reshape", [a[0], shape])
    return g.node("Reshape", [a[0], shape])


@_emits(P.transpose, operands=None)
def _transpose(g, ins, a):
    return g.node("Transpose", a, perm=[int(k) for k in ins.settings["axes"]])


@_emits(P.broadcast_to, _reduction_ops._broadcast_index, dynamic=("shape",), operands=None)
def _broadcast_to(g, ins, a):
    dims = list(g.shapes.setting_dims(ins, "shape"))
    have = g.dims(ins.args[0])
    lead = len(dims) - len(have)
    for k, d in enumerate(have):  # Expand broadcasts both ways: 1 keeps a size x has
        if isinstance(d, _Dim) and dims[lead + k] == d:
            dims[lead + k] = 1
    return g.node("Expand", [a[0], g.shape_tensor(dims)])


@_emits(P.astype, operands=None)
def _astype(g, ins, a):
    return g.node("Cast", a, to=_dtype(ins.settings["dtype"]))


@_emits(P.concatenate)
def _concatenate(g, ins, a):
    return g.node("Concat", a, axis=int(ins.settings["axis"]))


def _triangle(cond):
    """(upper, k) when bool array ``cond`` is np.triu (upper) or np.tril of ones
    with diagonal offset k in its last two axes (its other axes of size 1): a
    causal mask. None otherwise."""
    cond = np.asarray(cond)
    if cond.dtype != np.bool_ or cond.ndim < 2 or any(n != 1 for n in cond.shape[:-2]) \
            or not cond.any():
        return None
    m = cond.reshape(cond.shape[-2:])
    offset = np.arange(m.shape[1])[None, :] - np.arange(m.shape[0])[:, None]   # j − i
    for upper in (True, False):
        k = int(offset[m].min() if upper else offset[m].max())
        if np.array_equal(m, offset >= k if upper else offset <= k):
            return upper, k
    return None


def _triangle_mask(g, upper, k, dims):
    """The mask j − i ≥ k (upper) or ≤ k of ``dims`` (..., L, S), L and S may be dynamic."""
    def arange(d):
        limit = g.node("Squeeze", [g.dim_tensor(d), g.ints([0], "axes")])
        return g.node("Range", [g.scalar(0, np.int64), limit, g.scalar(1, np.int64)])
    rows = g.node("Unsqueeze", [arange(dims[-2]), g.ints([1], "axes")])
    cols = g.node("Unsqueeze", [arange(dims[-1]), g.ints([0], "axes")])
    mask = g.node("GreaterOrEqual" if upper else "LessOrEqual",
                  [g.node("Sub", [cols, rows]), g.scalar(k, np.int64)])
    if len(dims) > 2:
        mask = g.node("Unsqueeze", [mask, g.ints(range(len(dims) - 2), "axes")])
    return mask


def _varying_cond(g, ins, cond):
    """A 'where' condition computed with NumPy whose shape follows the dynamic
    axes: a filled mask, or a triangular (causal) one."""
    dims = g.shapes.setting_array_dims(ins, "cond")
    flat = np.asarray(cond, bool).reshape(-1)
    if flat.size and (flat == flat[0]).all():
        return g.full(bool(flat[0]), np.bool_, dims)
    tri = _triangle(cond)
    if tri is not None and all(_triangle(s["cond"]) == tri
                               for s in g.shapes.settings.get(id(ins), {}).values()):
        return _triangle_mask(g, *tri, dims)
    raise ExportError(f"onnx.export: a 'where' condition of shape {np.shape(cond)} computed with "
                      f"NumPy has a shape that follows the dynamic axes ({dims}) and is neither "
                      f"filled nor triangular: compute it with tensor ops (comparisons) so that "
                      f"it is part of the graph, or export with fixed sizes")


@_emits(P.where, dynamic=("cond",))
def _where(g, ins, a):
    cond = ins.settings["cond"]
    if isinstance(cond, _Ref):
        c = g.value(cond.value)
    elif g.shapes.varies(ins, "cond"):
        c = _varying_cond(g, ins, cond)
    else:
        c = g.const(np.asarray(cond, bool), "cond")
    return g.node("Where", [c, a[0], a[1]])


# -- values computed from the values: indices, orders, counts, masks --------
#
# Integer results (argmax, a sort's order, counts, rounded quotients) and the
# masks of the piecewise functions are recorded primitives, so the graph
# computes them from its inputs on every run.

def _sortable(g, x, dtype, what):
    """``x`` cast to a dtype onnxruntime's ArgMax and TopK take (float32/64,
    int32/64), keeping the order of the values; returns (name, dtype)."""
    dt = np.dtype(dtype)
    if dt in (np.float32, np.float64, np.int32, np.int64):
        return x, dt
    if dt == np.float16:
        to = np.dtype(np.float32)
    elif dt.kind == "b" or (dt.kind in "iu" and dt.itemsize < 4):
        to = np.dtype(np.int32)
    elif dt == np.uint32:
        to = np.dtype(np.int64)
    else:
        raise ExportError(f"onnx.export: '{what}' of a {dt} tensor has no ONNX mapping here "
                          f"(ONNX's ArgMax and TopK take floats and 32/64-bit integers)")
    return g.cast(x, dt, to), to


def _mask_ints(g, mask):
    return g.cast(mask, np.bool_, np.int32)


def _any_along(g, mask, axis, keepdims, ndim):
    """Whether some element of bool ``mask`` along ``axis`` is true."""
    count = _reduce(g, "ReduceSum", g.cast(mask, np.bool_, np.int64), axis, keepdims, ndim)
    return g.node("Greater", [count, g.scalar(0, np.int64)])


@_emits(_reduction_ops._argmax, _reduction_ops._argmin, operands=None)
def _arg_extremum(g, ins, a):
    # NumPy's first occurrence (select_last_index=0); a NaN is the extremum, the first NaN
    op = "ArgMax" if ins.prim is _reduction_ops._argmax else "ArgMin"
    x_value, axis, keep = ins.args[0], ins.settings["axis"], bool(ins.settings["keepdims"])
    x, dt = _sortable(g, a[0], x_value.dtype, ins.prim.name)
    ndim = len(x_value.shape)
    if axis is None:
        x, along, keep_along, ndim = g.node("Reshape", [x, g.ints([-1])]), 0, False, 1
    else:
        along, keep_along = int(axis), keep
    idx = g.node(op, [x], axis=along, keepdims=int(keep_along), select_last_index=0)
    if dt.kind == "f":
        nan = g.node("IsNaN", [x])
        first_nan = g.node("ArgMax", [_mask_ints(g, nan)], axis=along,
                           keepdims=int(keep_along), select_last_index=0)
        idx = g.node("Where", [_any_along(g, nan, (along,), keep_along, ndim), first_nan, idx])
    if axis is None:
        idx = g.node("Reshape", [idx, g.ints([1] * len(x_value.shape) if keep else [])])
    return idx


def _topk(g, x, k, **attrs):
    outs = [g.fresh("topk_values"), g.fresh("order")]
    g.node("TopK", [x, k], outs, **attrs)
    return outs


def _stable_order(g, x, x_value, axis, descending=False, take=None, what="sort_order"):
    """The int64 indices that sort ``x`` stably along ``axis`` (the first ``take``
    of them). TopK breaks ties by the lower index (the ONNX spec), ascending and
    descending alike, as the engine's order does. NaN sorts above every number: a
    second TopK, of the NaN mask read in the first one's order, moves the NaNs
    last (first when descending), keeping the order of the rest."""
    x, dt = _sortable(g, x, x_value.dtype, what)
    flags = dict(axis=axis, largest=int(bool(descending)), sorted=1)
    k = g.ints([take], "k") if take is not None else None
    if dt.kind != "f":
        return _topk(g, x, k or g.dim_tensor(g.dims(x_value)[axis]), **flags)[1]
    count = g.dim_tensor(g.dims(x_value)[axis])
    k = k or count
    nan = g.node("IsNaN", [x])
    order = _topk(g, g.node("Where", [nan, g.scalar(np.inf, dt), x]), count, **flags)[1]
    nan_in_order = g.node("GatherElements", [_mask_ints(g, nan), order], axis=axis)
    return g.node("GatherElements", [order, _topk(g, nan_in_order, k, **flags)[1]], axis=axis)


@_emits(_sorting_ops._sort_order, operands=None)
def _sort_order(g, ins, a):
    s = ins.settings
    return _stable_order(g, a[0], ins.args[0], int(s["axis"]), s["descending"], s.get("take"))


def _slice_along(g, x, axis, start, end):
    return g.node("Slice", [x, g.ints([start], "starts"), g.ints([end], "ends"),
                            g.ints([axis], "axes")])


def _mode_position(g, x, x_value, axis):
    """torch.mode's index: the last occurrence of the smallest of the most frequent
    values along ``axis`` (NaNs equal to each other, above every number). Each
    element's count is a sum over all pairs (n² per slice)."""
    x, dt = _sortable(g, x, x_value.dtype, "mode")
    ndim = len(x_value.shape)
    pairs = g.node("Equal", [g.node("Unsqueeze", [x, g.ints([axis + 1], "axes")]),
                             g.node("Unsqueeze", [x, g.ints([axis], "axes")])])
    nan = None
    if dt.kind == "f":
        nan = g.node("IsNaN", [x])
        both = g.node("And", [g.node("Unsqueeze", [nan, g.ints([axis + 1], "axes")]),
                              g.node("Unsqueeze", [nan, g.ints([axis], "axes")])])
        pairs = g.node("Or", [pairs, both])
    counts = _reduce(g, "ReduceSum", g.cast(pairs, np.bool_, np.int64), (axis + 1,), False,
                     ndim + 1)
    most = g.node("Equal", [counts, _reduce(g, "ReduceMax", counts, (axis,), True, ndim)])
    top = np.inf if dt.kind == "f" else np.iinfo(dt).max
    numbers_ = most if nan is None else g.node("And", [most, g.node("Not", [nan])])
    low = _reduce(g, "ReduceMin", g.node("Where", [numbers_, x, g.scalar(top, dt)]), (axis,),
                  True, ndim)
    hit = g.node("And", [most, g.node("Equal", [x, low])])
    if nan is not None:   # only NaNs are the most frequent: the mode is NaN
        only_nan = g.node("Not", [_any_along(g, numbers_, (axis,), True, ndim)])
        hit = g.node("Or", [hit, g.node("And", [only_nan, nan])])
    return g.node("ArgMax", [_mask_ints(g, hit)], axis=axis, keepdims=1, select_last_index=1)


@_emits(_sorting_ops._selection, dynamic=("position",), operands=None)
def _select_along(g, ins, a):
    x_value, axis = ins.args[0], int(ins.settings["axis"])
    which, position = ins.settings["which"], ins.settings.get("position")
    if which != "median" and g.shapes.varies(ins, "position"):
        raise _fixed_setting(ins, "position")
    if which == "mode":
        return _mode_position(g, a[0], x_value, axis)
    if which == "kthvalue":
        k = int(position) + 1
        return _slice_along(g, _stable_order(g, a[0], x_value, axis, take=k, what=which), axis,
                            k - 1, k)
    if which == "median":
        size = g.dims(x_value)[axis]
        if isinstance(size, _Dim):   # the middle of a dynamic axis: ⌊(n − 1)/2⌋ at run time
            middle = g.node("Div", [g.node("Sub", [g.dim_tensor(size), g.ints([1])]),
                                    g.ints([2])])
            after = g.node("Add", [middle, g.ints([1])])
            order = _stable_order(g, a[0], x_value, axis, what=which)
            pos = g.node("Slice", [order, middle, after, g.ints([axis], "axes")])
        else:
            middle = int(position)
            pos = _slice_along(g, _stable_order(g, a[0], x_value, axis, take=middle + 1,
                                                what=which), axis, middle, middle + 1)
        if x_value.dtype.kind != "f":
            return pos
        nan = g.node("IsNaN", [a[0]])   # a slice with a NaN: its first NaN
        first_nan = g.node("ArgMax", [_mask_ints(g, nan)], axis=axis, keepdims=1,
                           select_last_index=0)
        return g.node("Where", [_any_along(g, nan, (axis,), True, len(x_value.shape)),
                                first_nan, pos])
    raise ExportError(f"onnx.export: 'select_along' choosing by {which!r} has no ONNX mapping")


@_emits(P.median, operands=None)
def _median_all(g, ins, a):
    # the lower middle of the sorted elements; NaN if there is one
    x_value = ins.args[0]
    x, dt = _sortable(g, a[0], x_value.dtype, "median")
    flat = g.node("Reshape", [x, g.ints([-1])])
    size = math.prod(x_value.shape) if not _is_dynamic(g.dims(x_value)) else None
    if size is None:
        n = g.node("Size", [flat])
        middle = g.node("Div", [g.node("Sub", [n, g.scalar(1, np.int64)]), g.scalar(2, np.int64)])
        k = g.node("Reshape", [g.node("Add", [middle, g.scalar(1, np.int64)]), g.ints([1])])
    else:
        middle, k = g.scalar((size - 1) // 2, np.int64), g.ints([(size - 1) // 2 + 1], "k")
    key = flat
    if dt.kind == "f":
        nan = g.node("IsNaN", [flat])
        key = g.node("Where", [nan, g.scalar(np.inf, dt), flat])
    values = _topk(g, key, k, axis=0, largest=0, sorted=1)[0]
    out = g.node("Gather", [values, middle], axis=0)
    if dt.kind == "f":
        out = g.node("Where", [_any_along(g, nan, None, False, 1), g.scalar(np.nan, dt), out])
    return g.cast(out, dt, ins.out.dtype)


# -- logical reductions and integer accumulations

def _nonzero(g, x, dtype):
    """NumPy's truth of each element (NaN is true)."""
    if np.dtype(dtype) == np.bool_:
        return x
    return g.node("Not", [g.node("Equal", [x, g.scalar(0, dtype)])])


@_emits(_reduction_ops._any, _reduction_ops._all, _reduction_ops._count_nonzero, operands=None)
def _logical_reduction(g, ins, a):
    # sums of int64 indicators, so that over nothing any is False and all is True
    x_value, s = ins.args[0], ins.settings
    ndim = len(x_value.shape)
    axis = None if ndim == 0 else s["axis"]
    keep = bool(s.get("keepdims", False))
    truth = _nonzero(g, a[0], x_value.dtype)
    if ins.prim is _reduction_ops._count_nonzero:
        return _reduce(g, "ReduceSum", g.cast(truth, np.bool_, np.int64), axis, keep, ndim)
    if ins.prim is _reduction_ops._any:
        out = _any_along(g, truth, axis, keep, ndim)
    else:
        out = g.node("Not", [_any_along(g, g.node("Not", [truth]), axis, keep, ndim)])
    return g.cast(out, np.bool_, ins.out.dtype)


@_emits(_reduction_ops._int_sum, _reduction_ops._int_prod, operands="out")
def _int_reduction(g, ins, a):
    op = "ReduceSum" if ins.prim is _reduction_ops._int_sum else "ReduceProd"
    ndim = len(ins.args[0].shape)
    axis = None if ndim == 0 else ins.settings["axis"]
    return _reduce(g, op, a[0], axis, ins.settings["keepdims"], ndim)


@_emits(_reduction_ops._int_scan, operands="out")
def _int_scan(g, ins, a):
    if ins.settings["npfn"] is not np.cumsum:
        raise ExportError(f"onnx.export: the primitive 'scan_int' ({ins.settings['npfn'].__name__}"
                          f" of integers, output shape {ins.out.shape}) has no ONNX mapping: "
                          + _HINTS["cumprod"])
    if ins.settings["axis"] is None:   # of a 0-d tensor: the element itself
        return g.node("Identity", a)
    return g.node("CumSum", [a[0], g.const(np.asarray(ins.settings["axis"], np.int64), "axis")])


# -- conversions

@_emits(P.cast, operands=None)
def _cast(g, ins, a):
    # as C (and NumPy) casts: floats to integers toward zero, any nonzero (NaN too) to True
    return g.node("Cast", a, to=_dtype(ins.settings["dtype"]))


@_emits(P.copy, operands=None)
def _copy(g, ins, a):
    return g.node("Identity", a)


_BITCAST_OPSET = 26


@_emits(P.view_dtype, operands=None)
def _view_dtype(g, ins, a):
    src, dst = ins.args[0].dtype, np.dtype(ins.settings["dtype"])
    if src.itemsize != dst.itemsize:
        raise ExportError(f"onnx.export: 'view_dtype' from {src} to {dst} changes the size of the "
                          f"last axis ({ins.args[0].shape} -> {ins.out.shape}); ONNX's BitCast "
                          f"keeps the shape, so only views between dtypes of one width export")
    if g.opset < _BITCAST_OPSET:
        raise ExportError(f"onnx.export: 'view_dtype' ({src} -> {dst}) needs ONNX's BitCast, from "
                          f"opset {_BITCAST_OPSET}: pass opset_version={_BITCAST_OPSET} or more")
    return g.node("BitCast", a, to=_dtype(dst))


# -- rounded division, closeness, non-finite values, piecewise masks

@_emits(_arith_ops._rounded_quotient)
def _div_rounded(g, ins, a):
    x, y = a
    dt = ins.out.dtype
    zero = g.scalar(0, dt)
    if dt.kind in "iu":
        q = g.node("Div", [x, y])                       # C's quotient: toward zero
        if ins.settings["mode"] != "floor" or dt.kind == "u":
            return q
        r = g.node("Mod", [x, y], fmod=1)
        down = g.node("And", [g.node("Not", [g.node("Equal", [r, zero])]),
                              g.node("Xor", [g.node("Less", [r, zero]), g.node("Less", [y, zero])])])
        return g.node("Sub", [q, g.cast(down, np.bool_, dt)])
    if ins.settings["mode"] != "floor":
        return _trunc_of(g, g.node("Div", [x, y]), dt)
    # NumPy's floor_divide (Python's //): from the C remainder, exact where ⌊x/y⌋ of the
    # rounded quotient is not (1 // 0.1 is 9)
    mod = g.node("Mod", [x, y], fmod=1)
    div = g.node("Div", [g.node("Sub", [x, mod]), y])
    other_sign = g.node("Xor", [g.node("Less", [y, zero]), g.node("Less", [mod, zero])])
    fix = g.node("And", [g.node("Not", [g.node("Equal", [mod, zero])]), other_sign])
    div = g.node("Where", [fix, g.node("Sub", [div, g.scalar(1, dt)]), div])
    floor = g.node("Floor", [div])
    up = g.node("Greater", [g.node("Sub", [div, floor]), g.scalar(0.5, dt)])
    floor = g.node("Where", [up, g.node("Add", [floor, g.scalar(1, dt)]), floor])
    signed_zero = g.node("Mul", [g.node("Div", [x, y]), zero])   # ±0 (or NaN) as x/y's sign
    floor = g.node("Where", [g.node("Equal", [div, zero]), signed_zero, floor])
    return g.node("Where", [g.node("Equal", [y, zero]), g.node("Div", [x, y]), floor])


@_emits(_math_ops._close, operands=None)
def _isclose(g, ins, a):
    # NumPy's: |x − y| ≤ atol + rtol·|y| where y is finite, or x == y (equal infinities)
    s = ins.settings
    dt = np.result_type(ins.args[0].dtype, ins.args[1].dtype, 1.0)
    x, y = (g.cast(n, v.dtype, dt) for n, v in zip(a, ins.args))
    gap = g.node("Abs", [g.node("Sub", [x, y])])
    tol = g.node("Add", [g.scalar(s["atol"], dt), g.node("Mul", [g.scalar(s["rtol"], dt),
                                                                g.node("Abs", [y])])])
    finite_y = g.node("Not", [g.node("Or", [g.node("IsNaN", [y]), g.node("IsInf", [y])])])
    close = g.node("Or", [g.node("And", [g.node("LessOrEqual", [gap, tol]), finite_y]),
                          g.node("Equal", [x, y])])
    if s["equal_nan"]:
        close = g.node("Or", [close, g.node("And", [g.node("IsNaN", [x]), g.node("IsNaN", [y])])])
    return close


@_emits(_math_ops._replaced, operands=None)
def _nan_to_num(g, ins, a):
    s, dt, x = ins.settings, ins.out.dtype, a[0]
    out = g.node("Where", [g.node("IsInf", [x], detect_negative=0), g.scalar(s["posinf"], dt), x])
    out = g.node("Where", [g.node("IsInf", [x], detect_positive=0), g.scalar(s["neginf"], dt), out])
    return g.node("Where", [g.node("IsNaN", [x]), g.scalar(s["nan"], dt), out])


@_emits(_math_ops._below_half, operands=None)
def _abs_below_half(g, ins, a):
    return g.node("Less", [g.node("Abs", a), g.scalar(0.5, ins.args[0].dtype)])


@_emits(_math_ops._strictly_inside, operands=None)
def _strictly_inside(g, ins, a):
    dt = ins.args[0].dtype
    return g.node("And", [g.node("Greater", [a[0], g.scalar(ins.settings["lo"], dt)]),
                          g.node("Less", [a[0], g.scalar(ins.settings["hi"], dt)])])


@_emits(_math_ops._at_least, operands=None)
def _at_least(g, ins, a):
    dt = ins.args[0].dtype
    return g.cast(g.node("GreaterOrEqual", [a[0], g.scalar(ins.settings["t"], dt)]), np.bool_, dt)


# -- indexing ---------------------------------------------------------------

def _full_index(index, ndim):
    """``index`` with its Ellipsis expanded and trailing full slices added."""
    index = tuple(index)
    specified = sum(1 for i in index if i is not None and i is not Ellipsis)
    at = [k for k, i in enumerate(index) if i is Ellipsis]   # (`in` would compare arrays)
    if at:
        k = at[0]
        index = index[:k] + (slice(None),) * (ndim - specified) + index[k + 1:]
        specified = ndim
    return index + (slice(None),) * (ndim - specified)


def _is_array(item):
    return isinstance(item, (np.ndarray, _Ref))


def _index_tensor(g, item):
    """An integer index (constant array, traced array or int) as an int64 tensor."""
    if isinstance(item, _Ref):
        return g.cast(g.value(item.value), item.value.dtype, np.int64)
    arr = np.asarray(item)
    if arr.dtype.kind not in "iu":
        raise ExportError(f"onnx.export: indexing with an array of dtype {arr.dtype}")
    return g.const(arr.astype(np.int64), "indices")


def _slice_bounds(item, d):
    """ONNX Slice start, end, step of a Python slice on an axis of size ``d``
    (None when the slice takes the whole axis). Python's and ONNX's rules for
    negative and out-of-range bounds agree, so the bounds pass as they are."""
    step = 1 if item.step is None else int(item.step)
    if not isinstance(d, _Dim) and item.indices(d) == (0, d, 1):
        return None
    if item == slice(None) or item == slice(None, None, 1):
        return None
    start = (0 if step > 0 else _END) if item.start is None else int(item.start)
    end = (_END if step > 0 else _BEFORE) if item.stop is None else int(item.stop)
    return start, end, step


def _basic_slices(g, x, index, dims):
    """Slices of the index (ints taken as one-element slices) as one Slice node;
    returns (tensor, axes of ints to squeeze)."""
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, item in enumerate(i for i in index if i is not None):
        if isinstance(item, slice):
            bounds = _slice_bounds(item, dims[axis])
            if bounds is None:
                continue
            start, end, step = bounds
        elif _is_array(item):
            continue
        else:
            i = int(item)
            start, end, step = i, (i + 1 if i != -1 else _END), 1
            squeeze.append(axis)
        starts.append(start)
        ends.append(end)
        axes.append(axis)
        steps.append(step)
    if starts:
        x = g.node("Slice", [x, g.ints(starts, "starts"), g.ints(ends, "ends"),
                             g.ints(axes, "axes"), g.ints(steps, "steps")])
    return x, squeeze


def _take_along_axis(index, shape):
    """The axis d when ``index`` is take_along_dim's: on every other axis i the grid
    arange(shape[i]) shaped along i (np.ogrid's), on d one integer array of full
    rank. None otherwise."""
    if len(index) != len(shape) or len(shape) < 2:
        return None
    along = None
    for i, item in enumerate(index):
        grid = (1,) * i + (shape[i],) + (1,) * (len(shape) - i - 1)
        if isinstance(item, np.ndarray) and item.shape == grid and item.dtype.kind in "iu" \
                and np.array_equal(item.reshape(-1), np.arange(shape[i])):
            continue
        value = item.value if isinstance(item, _Ref) else item
        if along is not None or not isinstance(item, (np.ndarray, _Ref)) \
                or len(value.shape) != len(shape):
            return None
        along = i
    return along


@_emits(P.getitem, dynamic=("index",), operands=None)
def _getitem(g, ins, a):
    """Basic indexing (ints, slices, Ellipsis, None) by Slice/Squeeze/Unsqueeze;
    integer arrays (constant or traced, e.g. an Embedding's token ids) by Gather
    on one axis, by GatherND on several, placed as NumPy places them;
    take_along_dim's index (grids on the other axes, which may follow the
    dynamic axes) by GatherElements."""
    x_value = ins.args[0]
    dims = g.dims(x_value)
    index = _full_index(ins.settings["index"], len(dims))
    along = _take_along_axis(index, x_value.shape)
    # a constant index array of a size that follows the dynamic axes cannot be written
    if along is not None and (isinstance(index[along], _Ref) or not g.shapes.varies(ins, "index")):
        return g.node("GatherElements", [a[0], _index_tensor(g, index[along])], axis=along)
    if g.shapes.varies(ins, "index"):
        raise _fixed_setting(ins, "index")
    if not any(_is_array(i) for i in index):
        y, squeeze = _basic_slices(g, a[0], index, dims)
        if squeeze:
            y = g.node("Squeeze", [y, g.ints(squeeze, "axes")])
        unsqueeze, out_axis = [], 0
        for item in index:
            if item is None:
                unsqueeze.append(out_axis)
            if item is None or isinstance(item, slice):
                out_axis += 1
        if unsqueeze:
            y = g.node("Unsqueeze", [y, g.ints(unsqueeze, "axes")])
        return y if y != a[0] else g.node("Identity", [y])
    if any(i is None for i in index):
        raise ExportError("onnx.export: indexing with None (a new axis) together with index "
                          "arrays has no ONNX mapping here: add the axis in a separate step")
    # NumPy: with an index array present, ints are index arrays too
    index = tuple(np.asarray(i) if isinstance(i, numbers.Integral) else i for i in index)
    y, _ = _basic_slices(g, a[0], index, dims)
    adv = [k for k, i in enumerate(index) if _is_array(i)]
    if len(adv) == 1:
        return g.node("Gather", [y, _index_tensor(g, index[adv[0]])], axis=adv[0])
    ndim = len(dims)
    rest = [k for k in range(ndim) if k not in adv]
    yt = g.node("Transpose", [y], perm=adv + rest) if adv != list(range(len(adv))) else y
    ind = [_index_tensor(g, index[k]) for k in adv]
    total = ind[0]
    for t in ind[1:]:
        total = g.node("Add", [total, t])
    common = g.node("Shape", [total])          # the broadcast shape of the index arrays
    stacked = g.node("Concat", [g.node("Unsqueeze", [g.node("Expand", [t, common]),
                                                     g.ints([-1], "axes")]) for t in ind], axis=-1)
    out = g.node("GatherND", [yt, stacked])
    adjacent = adv == list(range(adv[0], adv[0] + len(adv)))
    if adjacent and adv[0] > 0:   # NumPy puts the indexed axes where they were
        nb = len(ins.out.shape) - len(rest)
        perm = ([nb + k for k in range(adv[0])] + list(range(nb))
                + [nb + k for k in range(adv[0], len(rest))])
        out = g.node("Transpose", [out], perm=perm)
    return out


def _flat_positions(g, ins, index, shape):
    """Flat positions (int64) into an array of static ``shape`` that ``index``
    selects, shaped as the selection: a constant for a constant index, computed
    in the graph for index arrays that are program values."""
    prim = ins.prim.name
    if _is_dynamic(shape):
        raise ExportError(f"onnx.export: '{prim}' on an array whose shape follows the dynamic "
                          f"axes ({shape}) has no ONNX mapping here; export with fixed sizes")
    index = _full_index(index, len(shape))
    if not any(isinstance(i, _Ref) for i in index):
        pos = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]
        return g.const(np.asarray(pos, np.int64), "positions")
    if len(index) != len(shape) or not all(_is_array(i) or isinstance(i, numbers.Integral)
                                           for i in index):
        raise ExportError(f"onnx.export: '{prim}' with traced index arrays mixed with slices "
                          f"has no ONNX mapping here")
    strides = np.cumprod((1,) + tuple(shape[:0:-1]))[::-1]
    pos = None
    for item, n, stride in zip(index, shape, strides):
        t = _index_tensor(g, item)
        # negative indices count from the end
        t = g.node("Where", [g.node("Less", [t, g.scalar(0, np.int64)]),
                             g.node("Add", [t, g.scalar(n, np.int64)]), t])
        t = g.node("Mul", [t, g.scalar(int(stride), np.int64)])
        pos = t if pos is None else g.node("Add", [pos, t])
    return pos


def _scatter_flat(g, flat, positions, values, reduction=None):
    """``flat`` (1-D) with ``values`` (broadcast to the positions' shape) written
    (or added) at ``positions``."""
    updates = g.node("Reshape", [g.node("Expand", [values, g.node("Shape", [positions])]),
                                 g.ints([-1])])
    attrs = {"reduction": reduction} if reduction else {}
    return g.node("ScatterElements", [flat, g.node("Reshape", [positions, g.ints([-1])]),
                                      updates], axis=0, **attrs)


@_emits(P.scatter_add, operands=None)
def _scatter_add(g, ins, a):
    if g.opset < 16:
        raise ExportError("onnx.export: 'scatter_add' needs ScatterElements with reduction='add', "
                          "from opset 16: pass opset_version=16 or more")
    shape = g.shapes.setting_dims(ins, "shape")
    pos = _flat_positions(g, ins, ins.settings["index"], shape)
    zeros = g.node("ConstantOfShape", [g.ints([math.prod(shape)])],
                   value=g.numpy_helper.from_array(np.zeros(1, ins.out.dtype)))
    flat = _scatter_flat(g, zeros, pos, a[0], reduction="add")
    return g.node("Reshape", [flat, g.ints(shape)])


@_emits(P.index_put, operands=None)
def _index_put(g, ins, a):
    shape = g.dims(ins.args[0])
    pos = _flat_positions(g, ins, ins.settings["index"], shape)
    flat = g.node("Reshape", [a[0], g.ints([-1])])
    value = g.cast(a[1], ins.args[1].dtype, ins.out.dtype)
    return g.node("Reshape", [_scatter_flat(g, flat, pos, value), g.ints(shape)])


def _diagonal_plan(x_dims, offset, dim1, dim2):
    """For np.diagonal: the permutation moving (dim1, dim2) last, and the flat
    positions of the diagonal in the (A, B) plane they form."""
    nd = len(x_dims)
    dim1, dim2 = dim1 % nd, dim2 % nd
    perm = [k for k in range(nd) if k not in (dim1, dim2)] + [dim1, dim2]
    rows, cols = x_dims[dim1], x_dims[dim2]
    if isinstance(rows, _Dim) or isinstance(cols, _Dim):
        raise ExportError("onnx.export: 'diagonal' of axes that follow the dynamic axes has no "
                          "ONNX mapping here; export with fixed sizes")
    i = np.arange(max(0, min(rows + min(offset, 0), cols - max(offset, 0))))
    pos = (i - min(offset, 0)) * cols + i + max(offset, 0)
    return perm, rows, cols, pos.astype(np.int64)


@_emits(P.diagonal, operands=None)
def _diagonal(g, ins, a):
    s = ins.settings
    dims = g.dims(ins.args[0])
    perm, rows, cols, pos = _diagonal_plan(dims, s["offset"], s["dim1"], s["dim2"])
    planes = g.node("Transpose", a, perm=perm)
    lead = [dims[k] for k in perm[:-2]]
    flat = g.node("Reshape", [planes, g.shape_tensor(lead + [rows * cols])])
    return g.node("Gather", [flat, g.const(pos, "diagonal")], axis=len(lead))


@_emits(P.diagonal_scatter, operands=None)
def _diagonal_scatter(g, ins, a):
    s = ins.settings
    dims = g.dims(ins.args[0])
    perm, rows, cols, pos = _diagonal_plan(dims, s["offset"], s["dim1"], s["dim2"])
    planes = g.node("Transpose", [a[0]], perm=perm)
    lead = [dims[k] for k in perm[:-2]]
    flat = g.node("Reshape", [planes, g.shape_tensor(lead + [rows * cols])])
    src = g.cast(a[1], ins.args[1].dtype, ins.out.dtype)
    src = g.node("Expand", [src, g.shape_tensor(lead + [len(pos)])])
    where = g.node("Expand", [g.const(pos, "diagonal"), g.node("Shape", [src])])
    flat = g.node("ScatterElements", [flat, where, src], axis=len(lead))
    planes = g.node("Reshape", [flat, g.shape_tensor(lead + [rows, cols])])
    return g.node("Transpose", [planes], perm=[int(k) for k in np.argsort(perm)])


# -- convolution and pooling ------------------------------------------------

def _geometry(s):
    pads = s["padding"]
    return dict(strides=list(s["stride"]), dilations=list(s["dilation"]),
                pads=[lo for lo, _ in pads] + [hi for _, hi in pads])


@_emits(P.conv)
def _conv(g, ins, a):
    kernel = list(ins.args[1].shape[2:])
    return g.node("Conv", a, kernel_shape=kernel, group=int(ins.settings["groups"]),
                  **_geometry(ins.settings))


@_emits(P.conv_transpose)
def _conv_transpose(g, ins, a):
    s = ins.settings
    kernel = ins.args[1].shape[2:]
    size_in = ins.args[0].shape[2:]
    # ONNX: out = s·(in − 1) + output_padding + d·(k − 1) + 1 − lo − hi; ``size`` is the out
    extra = [n - (st * (q - 1) + d * (k - 1) + 1 - lo - hi)
             for n, q, k, st, d, (lo, hi) in zip(s["size"], size_in, kernel, s["stride"],
                                                 s["dilation"], s["padding"])]
    if any(e < 0 for e in extra):
        raise ExportError(f"onnx.export: 'conv_transpose' to a size {s['size']} smaller than its "
                          f"input gives has no ONNX mapping")
    return g.node("ConvTranspose", a, kernel_shape=list(kernel), group=int(s["groups"]),
                  output_padding=extra, **_geometry(s))


@_emits(P.conv_weight)
def _conv_weight(g, ins, a):
    # W̄[o, c, i] = Σ_{n, q} g[n, o, q] x_pad[n, c, q·s + i·d]: a convolution of x with
    # the batch as channels and g as the kernel, stride and dilation swapped
    s = ins.settings
    if s["groups"] != 1:
        raise ExportError("onnx.export: 'conv_weight' (a weight gradient) with groups > 1 has no "
                          "ONNX mapping here")
    nd = len(ins.args[0].shape)
    swap = [1, 0] + list(range(2, nd))
    pads = s["padding"]
    w = g.node("Conv", [g.node("Transpose", [a[0]], perm=swap),
                        g.node("Transpose", [a[1]], perm=swap)],
               kernel_shape=list(ins.args[1].shape[2:]), strides=list(s["dilation"]),
               dilations=list(s["stride"]), pads=[lo for lo, _ in pads] + [hi for _, hi in pads])
    w = g.node("Slice", [w, g.ints([0] * (nd - 2), "starts"), g.ints(s["size"], "ends"),
                         g.ints(range(2, nd), "axes")])
    return g.node("Transpose", [w], perm=swap)


def _max_pool_node(g, ins, x, outputs):
    s = ins.settings
    return g.node("MaxPool", [x], outputs, kernel_shape=list(s["kernel"]), **_geometry(s))


@_emits(P.max_pool, operands=None)
def _max_pool(g, ins, a):
    return _max_pool_node(g, ins, a[0], None)


@_emits(P.pool_positions, operands=None)
def _pool_positions(g, ins, a):
    # MaxPool's Indices: flat positions in the whole input, as pool_positions
    outs = [g.fresh("maxpool"), g.fresh("positions")]
    _max_pool_node(g, ins, a[0], outs)
    return g.node("Reshape", [outs[1], g.ints([-1])])


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------

def _fixed_setting(ins, key):
    return ExportError(f"onnx.export: the setting '{key}' of '{ins.prim.name}' (output shape "
                       f"{ins.out.shape}) changes with the dynamic axes, which its ONNX form "
                       f"cannot follow; export with fixed sizes")


def _emit(g, ins):
    prim = ins.prim
    entry = _EMITTERS.get(prim)
    if entry is None:
        hint = _HINTS.get(prim.name, "compute the model with other ops, or export the part "
                                     "before it")
        raise ExportError(f"onnx.export: the primitive '{prim.name}' has no ONNX mapping "
                          f"(output shape {ins.out.shape}): {hint}")
    fn, dynamic, operands = entry
    for key in ins.settings:
        if key not in dynamic and g.shapes.varies(ins, key):
            raise _fixed_setting(ins, key)
    names = [g.value(v) for v in ins.args]
    if operands is not None:
        # the data operands, not the program values referenced by settings (a where's cond)
        n = len(ins.args) - _count_refs(tuple(ins.settings.values()))
        dt = ins.out.dtype if operands == "out" else np.result_type(*[v.dtype for v in ins.args[:n]])
        names[:n] = [g.cast(x, v.dtype, dt) for x, v in zip(names, ins.args[:n])]
    return fn(g, ins, names)


def _count_refs(x):
    if isinstance(x, _Ref):
        return 1
    return sum(_count_refs(y) for y in x) if isinstance(x, tuple) else 0


def _named_tensors(model):
    """id(tensor) -> dotted name for a Module's parameters and buffers."""
    names = {}
    for getter in ("named_parameters", "named_buffers"):
        fn = getattr(model, getter, None)
        if fn is None:
            continue
        for name, t in fn():
            if isinstance(t, TensorBase):
                names.setdefault(id(t), name)
    return names


def _split_args(args):
    """``args`` as torch takes them: a Tensor, or a tuple whose last item may be
    a dict of keyword arguments. Returns (positional, keywords, the input
    arrays, where each sits: ("pos", i) or ("kw", name))."""
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = {}
    if args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], dict(args[-1])
    arrays, slots = [], []
    for where, items in (("pos", enumerate(args)), ("kw", kwargs.items())):
        for key, a in items:
            label = f"args[{key}]" if where == "pos" else f"args[-1][{key!r}]"
            if isinstance(a, TensorBase):
                arrays.append(np.asarray(a._d))
            elif isinstance(a, (np.ndarray, np.generic, list)):
                arrays.append(np.asarray(a))
            elif a is None or isinstance(a, (bool, numbers.Number, str)):
                continue        # passed to the model as it is, not a graph input
            else:
                raise TypeError(f"onnx.export: {label} must be a Tensor, an array, a number or "
                                f"None, got {type(a).__name__}")
            slots.append((where, key))
    return list(args), kwargs, arrays, slots


class _Trace:
    """One traced run: the builder (instructions over values), its input and output values."""

    def __init__(self, model, args, kwargs, arrays, slots):
        tensors = [wrap(np.array(x, copy=True)) for x in arrays]
        for t, (where, key) in zip(tensors, slots):
            if where == "pos":
                args[key] = t
            else:
                kwargs[key] = t
        tracer = Tracer()
        saved = state.tracer
        state.tracer = tracer
        graph._special(1)
        try:
            with no_grad(), np.errstate(all="ignore"):
                out = model(*args, **kwargs)
        except CompileError as e:
            raise ExportError(str(e).replace("compile:", "onnx.export:")) from None
        finally:
            state.tracer = saved
            graph._special(-1)
        builder = _Builder(tensors)
        for event in tracer.events:
            if event[0] == "op":
                builder.op(*event[1:])
            elif event[0] == "write":
                builder.write(*event[1:])
        out_tensors = []
        try:
            _output_structure(out, out_tensors)
        except CompileError as e:
            raise ExportError(str(e).replace("compile:", "onnx.export:")) from None
        if not out_tensors:
            raise ExportError("onnx.export: the model returned no Tensor")
        self.builder = builder
        self.inputs = builder.inputs
        self.outputs = [builder.value(t) for t in out_tensors]
        self.eager = [np.asarray(t._d) for t in out_tensors]


def _check_values_recorded(base, probe):
    """Raise if the program built from ``base`` would be wrong on other inputs:
    ``probe`` is the same model traced on other input values (same shapes), so
    its operations, its settings and the constants they read must be the same.
    A constant that differs was computed from the inputs' values outside the
    recorded ops (frozen into the file)."""
    b_ops = [i for i in base.builder.instrs if i.kind == "op"]
    p_ops = [i for i in probe.builder.instrs if i.kind == "op"]
    frozen = ("was computed from the inputs' values outside the engine's recorded operations "
              "(by an op written with NumPy on the data, or a boolean-mask index), so it would "
              "be frozen into the ONNX file; compute it with recorded operations, or export the "
              "part before it")
    for k, (ib, ip) in enumerate(zip(b_ops, p_ops)):
        if ib.prim is not ip.prim or len(ib.args) != len(ip.args):
            break
        for a, b in zip(ib.args, ip.args):
            if a.kind in ("free", "const") and not _same_values(a, b):
                raise ExportError(f"onnx.export: an input of shape {a.shape} of operation {k} "
                                  f"('{ib.prim.name}') {frozen}")
        for key in ib.settings:
            if not _same_setting(ib.settings[key], ip.settings.get(key)):
                raise ExportError(f"onnx.export: the setting '{key}' of operation {k} "
                                  f"('{ib.prim.name}') {frozen}")
    else:
        if len(b_ops) == len(p_ops):
            for k, (a, b) in enumerate(zip(base.outputs, probe.outputs)):
                if a.kind in ("free", "const") and not _same_values(a, b):
                    raise ExportError(f"onnx.export: output {k} (shape {a.shape}) {frozen}")
            return
    raise ExportError(f"onnx.export: the model runs other operations for other input values "
                      f"(from operation {k}: shapes or indices that depend on the data, such as "
                      f"boolean-mask indexing), which an ONNX graph cannot follow")


def _other_values(a, rng):
    """An array of ``a``'s shape and dtype with other values drawn from ``a``'s own
    (so token ids stay in range and domains are kept), their multiset changed
    too (a permutation would keep counts and sums)."""
    flat = a.reshape(-1)
    for _ in range(4):
        out = rng.choice(flat, size=flat.size) if flat.size else flat
        if not np.array_equal(np.sort(out), np.sort(flat), equal_nan=flat.dtype.kind in "fc"):
            return out.reshape(a.shape)
    return np.roll(a, 1)


def _same_values(a, b):
    x = np.asarray(a.const if a.kind == "const" else a.tensor._d)
    y = np.asarray(b.const if b.kind == "const" else b.tensor._d)
    return x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")


def _parse_dynamic_axes(dynamic_axes, in_names, out_names, in_ndims):
    """{graph name: {axis: symbol}}, list forms named as torch names them."""
    parsed = {}
    for name, axes in dict(dynamic_axes or {}).items():
        if name not in in_names and name not in out_names:
            raise ValueError(f"onnx.export: dynamic_axes names {name!r}, which is not one of the "
                             f"input_names {in_names} or output_names {out_names}")
        if isinstance(axes, dict):
            axes = {int(k): str(v) for k, v in axes.items()}
        elif isinstance(axes, (list, tuple)):
            axes = {int(k): f"{name}_dynamic_axes_{j + 1}" for j, k in enumerate(axes)}
        else:
            raise TypeError(f"onnx.export: dynamic_axes[{name!r}] must be a dict {{axis: name}} "
                            f"or a list of axes, got {type(axes).__name__}")
        if name in in_names:
            ndim = in_ndims[in_names.index(name)]
            for k in list(axes):
                if not -ndim <= k < ndim:
                    raise ValueError(f"onnx.export: dynamic_axes[{name!r}] has axis {k}, but the "
                                     f"input has {ndim} axes")
                axes[k % ndim] = axes.pop(k) if k < 0 else axes[k]
        parsed[name] = axes
    return parsed


def export(model, args, f=None, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=None, *, verbose=False, do_constant_folding=True, training=None):
    """Export ``model(*args)`` to the ONNX file ``f`` (a path, a binary file object,
    or None to only return it), as ``torch.onnx.export``; returns the ``onnx.ModelProto``.

    ``args``: a Tensor (or array), or a tuple of them; Python numbers and None
    in it are passed to the model as they are, and a dict as its last item
    holds keyword arguments. ``input_names`` / ``output_names`` name the
    graph's inputs (the arrays of ``args``, in order) and outputs (defaults
    ``input_0``…, ``output_0``…). ``dynamic_axes`` names the axes that may vary,
    ``{"x": {0: "batch"}, "logits": {0: "batch"}}`` (or ``{"x": [0]}``): every
    size that follows them is computed at run time (see the module
    docstring). ``opset_version`` defaults to 17 (13 to the newest ``onnx``
    knows). A Module is exported in eval mode (and put back in its mode
    after) unless ``training`` is true.

        >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
        >>> proto = ag.onnx.export(model, np.ones((2, 4), np.float32), None,   # or a path
        ...                        input_names=["x"], dynamic_axes={"x": {0: "batch"}})
        >>> [node.op_type for node in proto.graph.node]
        ['Gemm', 'Relu', 'Identity']
        >>> [t.name for t in proto.graph.initializer]
        ['0.weight', '0.bias']
    """
    onnx, helper, _ = _onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not 13 <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"onnx.export: opset_version must be between 13 and "
                         f"{onnx.defs.onnx_opset_version()}, got {opset_version!r}")
    if not callable(model):
        raise TypeError(f"onnx.export: model must be a Module or a function, got "
                        f"{type(model).__name__}")
    pos, kwargs, arrays, slots = _split_args(args)
    in_names = list(input_names or [f"input_{i}" for i in range(len(arrays))])
    if len(in_names) != len(arrays):
        raise ValueError(f"onnx.export: {len(in_names)} input_names for {len(arrays)} inputs")
    out_names_given = list(output_names) if output_names else None
    axes_by_name = _parse_dynamic_axes(dynamic_axes, in_names, out_names_given or [],
                                       [a.ndim for a in arrays])

    # the dynamic axes of the inputs: symbol -> [(input index, axis)], one size each
    symbols = {}
    for i, name in enumerate(in_names):
        for axis, sym in axes_by_name.get(name, {}).items():
            symbols.setdefault(sym, []).append((i, axis))
    sizes = {}
    for sym, places in symbols.items():
        traced = {arrays[i].shape[axis] for i, axis in places}
        if len(traced) != 1:
            raise ValueError(f"onnx.export: the dynamic axis {sym!r} has different sizes in the "
                             f"inputs: {sorted(traced)}")
        n = traced.pop()
        sizes[sym] = (n, n - 1 if n >= 3 else n + 1)

    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval") and not training:
        model.eval()
    buffers = [t for _, t in getattr(model, "named_buffers", lambda: [])()
               if isinstance(t, TensorBase)]
    saved = [np.array(t._d, copy=True) for t in buffers]

    def trace(inputs, why=None):
        try:
            return _Trace(model, list(pos), dict(kwargs), inputs, slots)
        except ExportError:
            raise
        except Exception as e:
            if why is None:
                raise
            raise ExportError(f"onnx.export: {why}, and failed: {type(e).__name__}: {e}") from e
        finally:
            for t, data in zip(buffers, saved):  # training mode updates BatchNorm's statistics
                t._d[...] = data

    try:
        base = trace(arrays)
        # the same shapes, other values: what the program reads must not change
        rng = np.random.default_rng(0)
        probe = trace([_other_values(a, rng) for a in arrays],
                      "to check that no value is computed outside the recorded ops, the model "
                      "is run on other values drawn from its inputs")
        _check_values_recorded(base, probe)
        variants = {}
        for sym, places in symbols.items():
            n, n2 = sizes[sym]
            resized = list(arrays)
            for i, axis in places:
                resized[i] = np.take(resized[i], np.arange(n2) % n, axis=axis)
            variants[sym] = trace(resized, f"to find the sizes that follow the dynamic axis "
                                           f"{sym!r}, the model is run with that axis of size "
                                           f"{n2} (traced with {n})")
    finally:
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)

    shapes = _Shapes(base, variants, sizes)
    outputs = base.outputs
    out_names = out_names_given or [f"output_{i}" for i in range(len(outputs))]
    if len(out_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(out_names)} output_names for {len(outputs)} outputs")
    builder = base.builder
    if do_constant_folding:
        _fold(builder)
    _dead_code(builder, outputs)

    g = _Graph(opset, shapes, {sym: (in_names[places[0][0]], places[0][1])
                               for sym, places in symbols.items()})
    g.param_names = _named_tensors(model)
    for v, name in zip(base.inputs, in_names):
        g.names[id(v)] = name
        g.used.add(name)
    g.used.update(out_names)
    for ins in builder.instrs:
        if ins.kind == "op":
            g.names[id(ins.out)] = _emit(g, ins)
    for v, name in zip(outputs, out_names):
        g.node("Identity", [g.value(v)], [name])

    def value_info(name, v, dims):
        given = axes_by_name.get(name, {})
        shape = [given.get(k, d.name if isinstance(d, _Dim) else d) for k, d in enumerate(dims)]
        return helper.make_tensor_value_info(name, _dtype(v.dtype), shape)

    onnx_graph = helper.make_graph(
        g.nodes, getattr(model, "__class__", type(model)).__name__,
        [value_info(n, v, shapes.dims(v)) for n, v in zip(in_names, base.inputs)],
        [value_info(n, v, shapes.dims(v)) for n, v in zip(out_names, outputs)],
        initializer=g.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="autograd_core")
    onnx.checker.check_model(proto)
    if f is not None:
        if hasattr(f, "write"):
            f.write(proto.SerializeToString())
        else:
            onnx.save(proto, f)
    if verbose:
        print(helper.printable_graph(proto.graph))
    return proto
