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
from .ops._args import pair, to_tensor
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
    "log1p": ops.log1p, "expm1": ops.expm1, "exp2": ops.exp2, "log2": ops.log2,
    "log10": ops.log10, "square": ops.square, "sinh": ops.sinh, "cosh": ops.cosh,
    "arcsinh": ops.asinh, "arccosh": ops.acosh, "arctanh": ops.atanh, "arcsin": ops.asin,
    "arccos": ops.acos, "arctan": ops.atan, "arctan2": ops.atan2, "hypot": ops.hypot,
    "floor": ops.floor, "ceil": ops.ceil, "trunc": ops.trunc, "rint": ops.round,
    "fmod": ops.fmod, "remainder": ops.remainder, "floor_divide": ops.floor_divide,
    # not np.sign: it gives NaN for NaN, torch.sign (ours) gives 0
}
FUNCTIONS = {
    np.sum: ops.sum, np.mean: ops.mean, np.max: ops.max, np.min: ops.min, np.amax: ops.max,
    np.amin: ops.min, np.argmax: ops.argmax, np.argmin: ops.argmin, np.reshape: ops.reshape,
    np.transpose: ops.transpose, np.concatenate: ops.concatenate, np.stack: ops.stack,
    np.where: ops.where, np.clip: ops.clip, np.broadcast_to: ops.broadcast_to,
    np.take_along_axis: ops.take_along_dim,
    np.squeeze: ops.squeeze, np.expand_dims: ops.expand_dims, np.swapaxes: ops.swapaxes,
    np.moveaxis: ops.moveaxis, np.matrix_transpose: ops.matrix_transpose, np.tile: ops.tile,
    np.flip: ops.flip, np.fliplr: ops.fliplr, np.flipud: ops.flipud, np.roll: ops.roll,
    np.tril: ops.tril, np.triu: ops.triu, np.diagonal: ops.diagonal, np.diag: ops.diag,
    np.trace: ops.trace, np.hstack: ops.hstack, np.vstack: ops.vstack, np.dstack: ops.dstack,
    np.column_stack: ops.column_stack,
}


# NumPy functions whose arguments differ from the engine's but whose meaning
# maps exactly: adapters (an argument they do not take, such as out=, makes the
# call fall back to NumPy, see array_function).

def _float_like_numpy(a, dtype):
    a = a if isinstance(a, TensorBase) else to_tensor(a, "numpy")
    if dtype is not None:
        return ops.astype(a, dtype)
    return a if a.dtype.kind == "f" else ops.astype(a, np.float64)


def _np_var(a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    return ops.var(_float_like_numpy(a, dtype), axis, keepdims=keepdims, correction=ddof)


def _np_std(a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    return ops.std(_float_like_numpy(a, dtype), axis, keepdims=keepdims, correction=ddof)


def _np_prod(a, axis=None, dtype=None, *, keepdims=False):
    return ops.prod(a, axis, keepdims, dtype=dtype)


def _np_dot(a, b):
    """np.dot: a product for a 0-d operand, else Σ over a's last axis and b's
    second-to-last (its only one if 1-d)."""
    a, b = pair(a, b, "numpy.dot")
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return ops.matmul(a, b)
    return ops.tensordot(a, b, ([a.ndim - 1], [max(b.ndim - 2, 0)]))


def _np_outer(a, b):
    return ops.outer(ops.reshape(a, -1), ops.reshape(b, -1))  # np.outer flattens


def _np_sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise TypeError("numpy.sort: order= (structured arrays) is not supported on Tensors")
    if axis is None:
        a, axis = ops.reshape(a, -1), 0
    return ops.sort(a, axis).values


def _np_argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise TypeError("numpy.argsort: order= (structured arrays) is not supported on Tensors")
    if axis is None:
        a, axis = ops.reshape(a, -1), 0
    return ops.argsort(a, axis)


def _np_nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return ops.nan_to_num(x, nan, posinf, neginf)


def _np_round(a, decimals=0):
    return ops.round(a, decimals)


def _np_einsum(*operands, optimize=False):
    return ops.einsum(*operands)  # the engine picks the contraction order itself


FUNCTIONS.update({
    np.cumsum: ops.cumsum, np.cumprod: ops.cumprod, np.prod: _np_prod, np.var: _np_var,
    np.std: _np_std, np.einsum: _np_einsum, np.dot: _np_dot, np.outer: _np_outer,
    np.inner: ops.inner, np.tensordot: ops.tensordot, np.sort: _np_sort,
    np.argsort: _np_argsort, np.nan_to_num: _np_nan_to_num, np.round: _np_round,
    np.around: _np_round, np.fix: ops.trunc, np.isclose: ops.isclose,
    np.allclose: ops.allclose,
})


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


# What to use instead of a NumPy function that falls back, where the engine's op
# of the same name computes something else (or NumPy's has another name).
# Each suggestion computes what NumPy's function does (tests/test_protocol.py).
_HINTS = {
    "repeat": "ag.repeat_interleave (ag.repeat tiles the tensor, as torch.repeat)",
    "split": "ag.chunk(x, sections, dim) for equal sections, or ag.split(x, [sizes], dim) with "
             "the sizes of the pieces (ag.split(x, n) takes a piece size n, as torch.split)",
    "array_split": "ag.split(x, [sizes], dim) with the sizes of NumPy's pieces (ag.chunk sizes "
                   "its pieces by ceiling division)",
    "ravel": "ag.flatten (or x.reshape(-1))",
    "select": "ag.where (ag.select(x, dim, index) picks one index, as torch.select)",
    "median": "the mean of the two middle values of ag.sort(x, dim).values (ag.median takes "
              "the lower middle value, as torch.median)",
    "pad": "ag.pad, with torch's layout of the padding (the last dimension's (before, after) "
           "first)",
    "sign": "ag.sign, which gives 0 at NaN as torch.sign does (np.sign gives NaN)",
    "dot": "ag.matmul (np.dot of matrices) or ag.tensordot (ag.dot takes two vectors, as "
           "torch.dot)",
    "outer": "ag.outer of the flattened tensors",
    "sort": "ag.sort(x, dim).values (ag.sort returns values and indices, as torch.sort)",
    "var": "ag.var(x, dim, correction=0) (NumPy's default ddof=0; ag.var's correction is 1 by "
           "default, as torch.var)",
    "std": "ag.std(x, dim, correction=0) (NumPy's default ddof=0; ag.std's correction is 1 by "
           "default, as torch.std)",
    "around": "ag.round",
}
# ufunc methods other than __call__ with an engine equivalent
_METHOD_HINTS = {("add", "reduce"): "ag.sum", ("add", "accumulate"): "ag.cumsum",
                 ("multiply", "reduce"): "ag.prod", ("multiply", "accumulate"): "ag.cumprod",
                 ("maximum", "reduce"): "ag.amax", ("minimum", "reduce"): "ag.amin"}
_NO_HINT = "the engine's ops (autograd_core / nn.functional)"


def _hint(name, method="__call__", func=None):
    """The engine's spelling of NumPy's ``name`` (a ufunc's ``method``, or ``func``)."""
    if method != "__call__":
        return _METHOD_HINTS.get((name, method), _NO_HINT)
    if name in _HINTS:
        return _HINTS[name]
    same = UFUNCS.get(name) if func is None else FUNCTIONS.get(func)
    if same is not None and getattr(ops, same.__name__, None) is same:
        return f"ag.{same.__name__}"      # np.absolute -> ag.abs, np.take_along_axis -> ...
    return f"ag.{name}" if hasattr(ops, name) else _NO_HINT


def _refuse(what, hint):
    raise TypeError(
        f"{what} on a Tensor that requires grad would return plain NumPy values and silently "
        f"cut the gradient. Use {hint} instead, or convert explicitly with "
        f"np.asarray(t.detach()) if you do not need the gradient.")


def _fallback(what, hint, call, args, kwargs):
    result = call(*_strip(args), **_strip(kwargs))
    if _floating(result) and (_needs_grad(args) or _needs_grad(kwargs)):
        _refuse(what, hint())
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
    return _fallback(f"numpy.{name}" + ("" if method == "__call__" else f".{method}"),
                     lambda: _hint(name, method), getattr(ufunc, method), inputs, kwargs)


def array_function(func, args, kwargs):
    """``Tensor.__array_function__``: a NumPy function applied to Tensors."""
    name = func.__name__
    fn = FUNCTIONS.get(func)
    if fn is not None and _bindable(fn, args, kwargs):
        return fn(*args, **kwargs)
    return _fallback(f"numpy.{name}", lambda: _hint(name, func=func), func, args, kwargs)


def as_constant(x):
    """A plain Tensor around NumPy's result (used where a Tensor is wanted)."""
    return wrap(np.asarray(x))
