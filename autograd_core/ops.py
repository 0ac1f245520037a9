"""Composite ops: built from primitives, so they hold no derivative code.

Also the module-level functions of the public API (``ag.exp(x)``,
``ag.matmul(a, b)``, ...), which accept Tensors, arrays and numbers.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import primitives as P
from .tensor import Tensor, lift


def as_tensor(x, name="x"):
    """``x`` as a Tensor (no copy for a Tensor), or a TypeError naming ``name``."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.generic, np.ndarray, list, tuple)):
        return Tensor(x)
    raise TypeError(f"{name}: expected a Tensor, an ndarray or a number, got {type(x).__name__}")


# -- arithmetic composites ----------------------------------------------------

def _check_broadcast(name, a, b):
    """Composites check shapes up front so the error names the op the user called."""
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             f"together") from None


def sub(x, y):
    """x - y = x + (-y)."""
    x, y = _pair(x, y, "sub")
    _check_broadcast("sub", x, y)
    return P.add(x, P.neg(y))


def div(x, y):
    """x / y = x · (1/y). True division: integer operands give a float result."""
    x, y = _pair(x, y, "div")
    _check_broadcast("div", x, y)
    if y._d.dtype.kind != "f":
        y = y.astype(x._d.dtype if x._d.dtype.kind == "f" else np.float64)
    return P.mul(x, P.reciprocal(y))


def power(x, y):
    """x ** y: a constant number exponent is an elementwise primitive; a
    tensor exponent uses the binary one."""
    if isinstance(y, (numbers.Real, np.generic)) and not isinstance(y, (bool, np.bool_)):
        return P.pow_scalar(x, p=y.item() if isinstance(y, np.generic) else y)
    return P.pow_(x, y)


def mean(x, axis=None, keepdims=False):
    """sum / count."""
    x = as_tensor(x)
    total = x.sum(axis, keepdims)
    # (no builtin max/sum here: this module defines ag.max and ag.sum)
    count = x._d.size // total._d.size if total._d.size else 0
    if count == 0:
        raise ValueError(f"mean: cannot average over an empty selection of a tensor of shape {x.shape}")
    return total * (1.0 / count)


def maximum(a, b):
    """Elementwise max; at ties the gradient goes to ``a``."""
    a, b = _pair(a, b, "maximum")
    _check_broadcast("maximum", a, b)
    return P.where2(a, b, cond=a._d >= b._d)


def minimum(a, b):
    """Elementwise min; at ties the gradient goes to ``a``."""
    a, b = _pair(a, b, "minimum")
    _check_broadcast("minimum", a, b)
    return P.where2(a, b, cond=a._d <= b._d)


def _pair(a, b, name):
    if isinstance(a, Tensor):
        return a, lift(b, a, name)
    if isinstance(b, Tensor):
        return lift(a, b, name), b
    return as_tensor(a, f"{name}: a"), as_tensor(b, f"{name}: b")


def where(cond, a, b):
    """``a`` where ``cond`` is true, else ``b`` (NumPy broadcasting). ``cond`` is a constant."""
    cond = cond._d if isinstance(cond, Tensor) else np.asarray(cond)
    if cond.dtype != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {cond.dtype}")
    a, b = _pair(a, b, "where")
    return P.where2(a, b, cond=cond)


def matmul(a, b):
    """NumPy's matmul: 1-D operands are promoted and the added axis removed,
    batch axes broadcast."""
    a, b = _pair(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, "
                         f"got shapes {a.shape} and {b.shape}")
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
            f"a has {a2.shape[-1]} columns but b has {b2.shape[-2]} rows")
    if a2.ndim > 2 or b2.ndim > 2:
        try:
            batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch shapes of {a.shape} and {b.shape} "
                             f"cannot be broadcast together") from None
        a2 = a2.broadcast_to(batch + a2.shape[-2:])
        b2 = b2.broadcast_to(batch + b2.shape[-2:])
    out = P.matmul2(a2, b2)
    if a.ndim == 1 and b.ndim == 1:
        return out.reshape(())
    if a.ndim == 1:
        return out.reshape(out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        return out.reshape(out.shape[:-1])
    return out


def linear(x, weight, bias=None):
    """x Wᵀ + b, W of shape (out_features, in_features), x of shape (..., in_features),
    as ``torch.nn.functional.linear``."""
    w = as_tensor(weight, "linear: weight")
    x = x if isinstance(x, Tensor) else lift(x, w, "linear")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape {w.shape} "
                         f"(the last input dimension must be in_features = {w.shape[1]})")
    if bias is None:
        return matmul(x, w.T)
    b = bias if isinstance(bias, Tensor) else lift(bias, w, "linear")
    if b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {b.shape}")
    if x.ndim == 2:
        return P.affine(x, w, b)
    lead = x.shape[:-1]
    return P.affine(x.reshape(-1, w.shape[1]), w, b).reshape(lead + (w.shape[0],))


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t, "concatenate: tensors") for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    axis = _single_axis(axis, nd, "concatenate")
    for i, t in enumerate(tensors):
        if t.ndim != nd or t.shape[:axis] + t.shape[axis + 1:] != \
                tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(
                f"concatenate: tensor {i} has shape {t.shape}, which does not match tensor 0's "
                f"shape {tensors[0].shape} outside axis {axis}")
    return P.concatenate(tensors, axis=axis)


def stack(tensors, axis=0):
    """Concatenate along a new axis."""
    tensors = [as_tensor(t, "stack: tensors") for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape {shape}; "
                             f"all must be equal")
    axis = _single_axis(axis, len(shape) + 1, "stack")
    expanded = [t.reshape(shape[:axis] + (1,) + shape[axis:]) for t in tensors]
    return P.concatenate(expanded, axis=axis)


def _single_axis(axis, ndim, opname):
    from .tensor import _axis
    return _axis(axis, ndim, opname)


# -- module-level forms of the Tensor methods -------------------------------

def _method(name):
    def fn(x, *args, **kwargs):
        return getattr(as_tensor(x), name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"``ag.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")  # noqa: A001 - the public name follows NumPy/PyTorch
sin = _method("sin")
cos = _method("cos")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
sum = _method("sum")  # noqa: A001
max = _method("max")  # noqa: A001
min = _method("min")  # noqa: A001
clip = _method("clip")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
logsumexp = _method("logsumexp")
reshape = _method("reshape")
transpose = _method("transpose")
broadcast_to = _method("broadcast_to")
reciprocal = _method("reciprocal")


def detach(x):
    return as_tensor(x).detach()
