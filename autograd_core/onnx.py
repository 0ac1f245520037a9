"""``autograd_core.onnx.export``: a model's forward pass as a standard ONNX file.

    ag.onnx.export(model, (x,), "model.onnx", input_names=["x"],
                   output_names=["logits"], dynamic_axes={"x": {0: "batch"}})

As ``torch.onnx.export``: the model (a Module, or any function of Tensors) is
run once on ``args`` (in eval mode, under ``no_grad``) while the compiler's
tracer records every primitive; the record — the graph is data — is written
as ONNX nodes, one or a few per primitive, with the parameters and buffers as
initializers named after them (``0.weight``, ``encoder.bias``). A primitive
with no ONNX form raises ``ExportError`` naming it. The ``onnx`` package is
needed (the ``onnx`` extra); the file can be checked with ``onnx.checker``
and run with ``onnxruntime``.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import graph
from . import primitives as P
from .compiler import Tracer, _Builder, _Ref, _output_structure
from .core import TensorBase, wrap
from .graph import no_grad, state

__all__ = ["export", "ExportError", "DEFAULT_OPSET"]

DEFAULT_OPSET = 17


class ExportError(RuntimeError):
    """The model cannot be written as ONNX (an op without an ONNX form, a value
    that leaves the engine while tracing, ...)."""


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        raise ImportError("autograd_core.onnx needs the `onnx` package: pip install "
                          "'autograd-core[onnx]' (or pip install onnx)") from None
    return onnx, helper, numpy_helper


class _Graph:
    """ONNX nodes and initializers being built, with unique names."""

    def __init__(self, opset):
        self.onnx, self.helper, self.numpy_helper = _onnx()
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.names = {}          # id(Value) -> ONNX name
        self.used = set()
        self.n = 0

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

    def ints(self, values, stem="shape"):
        return self.const(np.asarray(values, dtype=np.int64), stem)

    def node(self, op, inputs, outputs=None, **attrs):
        outputs = outputs or [self.fresh(op.lower())]
        self.nodes.append(self.helper.make_node(op, list(inputs), list(outputs), **attrs))
        return outputs[0]


def _dtype(dt):
    onnx, helper, _ = _onnx()
    return helper.np_dtype_to_tensor_dtype(np.dtype(dt))


# ---------------------------------------------------------------------------
# The table: one emitter per primitive
# ---------------------------------------------------------------------------

_SIMPLE = {P.add: "Add", P.mul: "Mul", P.neg: "Neg", P.exp: "Exp", P.log: "Log",
           P.reciprocal: "Reciprocal", P.sqrt: "Sqrt", P.abs: "Abs", P.sin: "Sin",
           P.cos: "Cos", P.tanh: "Tanh", P.relu: "Relu", P.sigmoid: "Sigmoid",
           P.matmul: "MatMul", P.pow: "Pow", P.maximum: "Max", P.minimum: "Min",
           P.equal: "Equal", P.less: "Less", P.greater: "Greater",
           P.less_equal: "LessOrEqual", P.greater_equal: "GreaterOrEqual",
           P.logical_and: "And", P.logical_or: "Or", P.logical_xor: "Xor",
           P.logical_not: "Not", P.isnan: "IsNaN", P.sign: "Sign", P.alias: "Identity"}


def _axes_input(g, axes, ndim):
    return g.ints(list(range(ndim)) if axes is None else list(axes), "axes")


def _reduce(g, op, x, axis, keepdims, ndim):
    # ReduceSum took axes as an input from opset 13, the other reductions from 18.
    as_input = g.opset >= (13 if op == "ReduceSum" else 18)
    if as_input:
        return g.node(op, [x, _axes_input(g, axis, ndim)], keepdims=int(keepdims))
    return g.node(op, [x], axes=list(range(ndim)) if axis is None else list(axis),
                  keepdims=int(keepdims))


def _emit(g, ins, names, ctx):
    prim, s = ins.prim, ins.settings
    args = [names(a) for a in ins.args if True]
    o = ins.out
    x_shape = ins.args[0].shape if ins.args else ()
    if prim in _SIMPLE:
        return g.node(_SIMPLE[prim], args[:2] if prim not in (P.alias,) else args[:1])
    if prim is P.pow_const:
        return g.node("Pow", [args[0], g.const(np.asarray(s["p"], dtype=o.dtype), "exponent")])
    if prim is P.linear:
        if len(x_shape) == 2:
            return g.node("Gemm", args[:3], transB=1)
        wt = g.node("Transpose", [args[1]], perm=[1, 0])
        return g.node("Add", [g.node("MatMul", [args[0], wt]), args[2]])
    if prim is P.sum:
        return _reduce(g, "ReduceSum", args[0], s["axis"], s["keepdims"], len(x_shape))
    if prim is P.max:
        return _reduce(g, "ReduceMax", args[0], s["axis"], s["keepdims"], len(x_shape))
    if prim is P.logsumexp:
        return _reduce(g, "ReduceLogSumExp", args[0], s["axis"], s["keepdims"], len(x_shape))
    if prim is P.softmax:
        return g.node("Softmax", args[:1], axis=int(s["axis"]))
    if prim is P.log_softmax:
        return g.node("LogSoftmax", args[:1], axis=int(s["axis"]))
    if prim is P.reshape:
        shape = list(s["shape"])
        if ctx.dynamic_batch and shape and x_shape and shape[0] == x_shape[0]:
            shape[0] = 0   # "copy the input's first dimension": the batch stays dynamic
        return g.node("Reshape", [args[0], g.ints(shape)])
    if prim is P.transpose:
        return g.node("Transpose", args[:1], perm=[int(a) for a in s["axes"]])
    if prim is P.broadcast_to:
        return g.node("Expand", [args[0], g.ints(s["shape"])])
    if prim is P.astype:
        return g.node("Cast", args[:1], to=_dtype(s["dtype"]))
    if prim is P.clip:
        lo = "" if s["lo"] is None else g.const(np.asarray(s["lo"], dtype=o.dtype), "min")
        hi = "" if s["hi"] is None else g.const(np.asarray(s["hi"], dtype=o.dtype), "max")
        return g.node("Clip", [args[0], lo, hi])
    if prim is P.where:
        cond = s["cond"]
        c = names(cond.value) if isinstance(cond, _Ref) else g.const(np.asarray(cond, bool), "cond")
        return g.node("Where", [c, args[0], args[1]])
    if prim is P.concatenate:
        return g.node("Concat", args, axis=int(s["axis"]))
    if prim is P.getitem:
        return _getitem(g, args[0], x_shape, s["index"], names)
    extra = ctx.extra.get(prim)
    if extra is not None:
        return extra(g, ins, args, s)
    raise ExportError(f"onnx.export: the primitive '{prim.name}' has no ONNX mapping "
                      f"(output shape {o.shape}); compute the model with other ops or "
                      f"export the part before it")


def _getitem(g, x, shape, index, names):
    """Basic indexing (ints, slices, Ellipsis, None) and integer arrays on one axis."""
    index = tuple(index)
    if any(isinstance(i, _Ref) for i in index):
        raise ExportError("onnx.export: indexing with a computed index array has no ONNX "
                          "mapping here (use ag.gather / take_along_dim)")
    arrays = [k for k, i in enumerate(index) if isinstance(i, np.ndarray)]
    n_specified = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (len(shape) - n_specified) + index[k + 1:]
    index = index + (slice(None),) * (len(shape) - sum(1 for i in index if i is not None))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = 0
    out_axis = 0
    gathers = []
    for item in index:
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            start, stop, step = item.indices(shape[axis])
            if (start, stop, step) != (0, shape[axis], 1):
                if step < 0 and stop < 0:
                    stop = -(2 ** 62)
                starts.append(start)
                ends.append(stop)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif isinstance(item, np.ndarray):
            gathers.append((axis, item))
            out_axis += 1
        else:  # an int
            i = int(item) % shape[axis]
            starts.append(i)
            ends.append(i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    if len(gathers) > 1:
        raise ExportError("onnx.export: indexing with integer arrays on several axes has no "
                          "ONNX mapping here")
    y = x
    if starts:
        y = g.node("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"),
                             g.ints(axes, "axes"), g.ints(steps, "steps")])
    for a, arr in gathers:
        y = g.node("Gather", [y, g.const(arr.astype(np.int64), "indices")], axis=a)
    if squeeze:
        y = g.node("Squeeze", [y, g.ints(squeeze, "axes")])
    if unsqueeze:
        y = g.node("Unsqueeze", [y, g.ints(unsqueeze, "axes")])
    if y is x:
        y = g.node("Identity", [x])
    return y


class _Context:
    def __init__(self, dynamic_batch):
        self.dynamic_batch = dynamic_batch
        self.extra = {}


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------

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


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=None, *, verbose=False, do_constant_folding=True, training=None):
    """Export ``model(*args)`` to the ONNX file ``f`` (a path or a binary file object),
    as ``torch.onnx.export``; returns the ``onnx.ModelProto``.

    ``args``: a Tensor (or array), or a tuple of them. ``input_names`` /
    ``output_names`` name the graph's inputs and outputs (defaults ``input_0``…,
    ``output_0``…); ``dynamic_axes`` maps a name to the axes that may vary, e.g.
    ``{"x": {0: "batch"}, "logits": {0: "batch"}}``; ``opset_version`` defaults
    to 17. A Module is exported in eval mode (and put back in its mode after).
    """
    onnx, helper, _ = _onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not 13 <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"onnx.export: opset_version must be between 13 and "
                         f"{onnx.defs.onnx_opset_version()}, got {opset_version!r}")
    if not isinstance(args, tuple):
        args = (args,)
    inputs = []
    for i, a in enumerate(args):
        if isinstance(a, TensorBase):
            inputs.append(wrap(a._d))
        elif isinstance(a, (np.ndarray, numbers.Number, list)):
            inputs.append(wrap(np.asarray(a)))
        else:
            raise TypeError(f"onnx.export: args[{i}] must be a Tensor or an array, got "
                            f"{type(a).__name__}")
    in_names = list(input_names or [f"input_{i}" for i in range(len(inputs))])
    if len(in_names) != len(inputs):
        raise ValueError(f"onnx.export: {len(in_names)} input_names for {len(inputs)} inputs")
    dynamic_axes = dict(dynamic_axes or {})
    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval") and not training:
        model.eval()
    tracer = Tracer()
    saved = state.tracer
    state.tracer = tracer
    graph._special(1)
    try:
        with no_grad():
            out = model(*inputs)
    except Exception as e:
        if e.__class__.__name__ == "CompileError":
            raise ExportError(str(e).replace("compile:", "onnx.export:")) from None
        raise
    finally:
        state.tracer = saved
        graph._special(-1)
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)
    builder = _Builder(inputs)
    for event in tracer.events:
        if event[0] == "op":
            builder.op(*event[1:])
        elif event[0] == "write":
            builder.write(*event[1:])
    out_tensors = []
    _output_structure(out, out_tensors)
    if not out_tensors:
        raise ExportError("onnx.export: the model returned no Tensor")
    outputs = [builder.value(t) for t in out_tensors]
    out_names = list(output_names or [f"output_{i}" for i in range(len(outputs))])
    if len(out_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(out_names)} output_names for {len(outputs)} outputs")

    g = _Graph(opset)
    names_of = _named_tensors(model)
    for v, name in zip(builder.inputs, in_names):
        g.names[id(v)] = name
        g.used.add(name)
    for name in out_names:
        g.used.add(name)

    def names(v):
        key = id(v)
        if key in g.names:
            return g.names[key]
        if v.kind in ("free", "const"):
            data = v.const if v.kind == "const" else v.tensor._d
            stem = names_of.get(id(v.tensor), "const") if v.tensor is not None else "const"
            g.names[key] = g.const(np.asarray(data), stem)
            return g.names[key]
        raise ExportError(f"onnx.export: internal error: value {v.name} used before it is made")

    ctx = _Context(dynamic_batch=any(0 in axes for axes in dynamic_axes.values()))
    for ins in builder.instrs:
        if ins.kind != "op":
            continue
        g.names[id(ins.out)] = _emit(g, ins, names, ctx)
    # outputs: rename through Identity nodes
    for v, name in zip(outputs, out_names):
        g.node("Identity", [names(v)], [name])

    def value_info(name, v):
        dims = [dynamic_axes.get(name, {}).get(k, n) for k, n in enumerate(v.shape)]
        return helper.make_tensor_value_info(name, _dtype(v.dtype), dims)

    onnx_graph = helper.make_graph(
        g.nodes, getattr(model, "__class__", type(model)).__name__,
        [value_info(n, v) for n, v in zip(in_names, builder.inputs)],
        [value_info(n, v) for n, v in zip(out_names, outputs)],
        initializer=g.initializers)
    proto = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="autograd_core")
    onnx.checker.check_model(proto)
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, f)
    if verbose:
        print(helper.printable_graph(proto.graph))
    return proto
