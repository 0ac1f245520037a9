"""NumPy functions on Tensors, without silent cuts of the graph.

``np.exp(t)``, ``ndarray * t``, ``np.sum(t, axis=1)``, ``np.concatenate([t, a])``
dispatch to the engine's own differentiable op of the same name when there is
one (``__array_ufunc__`` / ``__array_function__``). Where there is none, a
computation on tensors that do not require grad falls back to NumPy (the
result is NumPy's); one that would turn a tensor requiring grad into plain
floats raises a TypeError naming the function, instead of returning numbers
whose gradient is silently lost. Results without a gradient to lose (shapes,
booleans, indices) are always NumPy's. ``np.asarray(t)`` converts through
``__array__``.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from . import ops
from .core import TensorBase, wrap
from .ops.inplace import inplace

__all__ = ["array_ufunc", "array_function"]

# NumPy ufuncs (by name) and functions that the engine implements with the
# same meaning. Only these dispatch: a same-named op whose meaning differs
# (np.repeat is torch's repeat_interleave, np.sort returns no indices) is not
# listed, and falls back as any other function.
UFUNCS = {
    "add": ops.add, "subtract": ops.sub, "multiply": ops.mul, "divide": ops.div,
    "true_divide": ops.div, "negative": ops.neg, "power": ops.power, "exp": ops.exp,
    "log": ops.log, "sqrt": ops.sqrt, "absolute": ops.abs, "sin": ops.sin, "cos": ops.cos,
    "tanh": ops.tanh, "maximum": ops.maximum, "minimum": ops.minimum, "matmul": ops.matmul,
    "reciprocal": ops.reciprocal, "equal": ops.eq, "not_equal": ops.ne, "less": ops.lt,
    "less_equal": ops.le, "greater": ops.gt, "greater_equal": ops.ge,
    "logical_and": ops.logical_and, "logical_or": ops.logical_or,
    "logical_xor": ops.logical_xor, "logical_not": ops.logical_not, "isnan": ops.isnan,
    "isinf": ops.isinf, "isfinite": ops.isfinite,
}
FUNCTIONS = {
    np.sum: ops.sum, np.mean: ops.mean, np.max: ops.max, np.min: ops.min, np.amax: ops.max,
    np.amin: ops.min, np.argmax: ops.argmax, np.argmin: ops.argmin, np.reshape: ops.reshape,
    np.transpose: ops.transpose, np.concatenate: ops.concatenate, np.stack: ops.stack,
    np.where: ops.where, np.clip: ops.clip, np.broadcast_to: ops.broadcast_to,
    np.take_along_axis: ops.take_along_dim,
}


@functools.lru_cache(maxsize=None)
def _signature(fn):
    return inspect.signature(fn)


def _bindable(fn, args, kwargs):
    """Can ``fn`` be called with NumPy's arguments as given?"""
    try:
        _signature(fn).bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _strip(obj):
    """``obj`` with every Tensor replaced by its array (in lists, tuples, dicts too)."""
    if isinstance(obj, TensorBase):
        return obj._d
    if isinstance(obj, (list, tuple)):
        return type(obj)(_strip(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items()}
    return obj


def _needs_grad(obj):
    if isinstance(obj, TensorBase):
        return obj._rg or obj._tan is not None
    if isinstance(obj, (list, tuple)):
        return any(_needs_grad(o) for o in obj)
    if isinstance(obj, dict):
        return any(_needs_grad(v) for v in obj.values())
    return False


def _floating(obj):
    if isinstance(obj, (np.ndarray, np.generic)):
        return np.result_type(obj).kind in "fc"
    if isinstance(obj, (float, complex)):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_floating(o) for o in obj)
    return False


def _refuse(what, name):
    hint = (f"ag.{name}" if hasattr(ops, name)
            else "the engine's ops (autograd_core / nn.functional)")
    raise TypeError(
        f"{what} on a Tensor that requires grad would return plain NumPy values and silently "
        f"cut the gradient. Use {hint} instead, or convert explicitly with "
        f"np.asarray(t.detach()) if you do not need the gradient.")


def _fallback(what, name, call, args, kwargs):
    result = call(*_strip(args), **_strip(kwargs))
    if _floating(result) and (_needs_grad(args) or _needs_grad(kwargs)):
        _refuse(what, name)
    return result


def array_ufunc(ufunc, method, inputs, kwargs):
    """``Tensor.__array_ufunc__``: a NumPy ufunc applied to Tensors."""
    name = ufunc.__name__
    out = kwargs.pop("out", None)
    fn = UFUNCS.get(name)
    to_tensor = out is not None and len(out) == 1 and isinstance(out[0], TensorBase)
    if method == "__call__" and fn is not None and not kwargs and len(inputs) == ufunc.nin \
            and (out is None or to_tensor):
        result = fn(*inputs)
        if out is None:
            return result
        return inplace(out[0], f"numpy.{name}(out=)", lambda t, r: r, result)
    if out is not None:
        kwargs["out"] = out
    return _fallback(f"numpy.{name}" + ("" if method == "__call__" else f".{method}"), name,
                     getattr(ufunc, method), inputs, kwargs)


def array_function(func, args, kwargs):
    """``Tensor.__array_function__``: a NumPy function applied to Tensors."""
    name = func.__name__
    fn = FUNCTIONS.get(func)
    if fn is not None and _bindable(fn, args, kwargs):
        return fn(*args, **kwargs)
    return _fallback(f"numpy.{name}", name, func, args, kwargs)


def as_constant(x):
    """A plain Tensor around NumPy's result (used where a Tensor is wanted)."""
    return wrap(np.asarray(x))
