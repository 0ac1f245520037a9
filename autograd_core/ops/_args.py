"""Argument checks shared by every op: one conversion to Tensor, one axis
check, one shape check, one way to accept both NumPy's and PyTorch's
spellings (``axis``/``dim``, ``keepdims``/``keepdim``).

Errors name the op, the argument and the shapes.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core import TensorBase, lift, wrap

__all__ = ["to_tensor", "pair", "axes", "one_axis", "spelling", "resolve_shape", "shape_args",
           "AxisError", "also_spelled"]


class AxisError(ValueError, IndexError):
    """An axis (dim) argument out of range: both a ValueError (NumPy) and an
    IndexError (PyTorch), so code written for either catches it.

        >>> try:
        ...     ag.ones(2, 3).sum(dim=2)
        ... except IndexError as error:                 # or ValueError, as NumPy code expects
        ...     print(type(error).__name__, isinstance(error, ValueError))
        AxisError True
    """


def to_tensor(x, fn, arg="x"):
    """``x`` as a Tensor: a Tensor unchanged, a number, list or ndarray wrapped
    (no copy: a constant is never saved by a recorded node without being
    lifted, see ``core.lift``). Anything else: TypeError naming ``fn`` and ``arg``.

        >>> from autograd_core.ops._args import to_tensor
        >>> to_tensor([1.0, 2.0], "myop")
        Tensor([1., 2.])
        >>> to_tensor("abc", "myop")
        Traceback (most recent call last):
            ...
        TypeError: myop: x must be a Tensor, an ndarray or a number, got str
    """
    if isinstance(x, TensorBase):
        return x
    if isinstance(x, (numbers.Number, np.generic, np.ndarray, list, tuple)):
        try:
            arr = np.asarray(x)
        except ValueError as e:
            raise TypeError(f"{fn}: {arg} cannot be made into a tensor: {e}") from None
        if arr.dtype.kind in "biufc":
            return wrap(arr if arr.ndim else arr[()])
        raise TypeError(f"{fn}: {arg} must be numeric, got an array of dtype {arr.dtype}")
    raise TypeError(f"{fn}: {arg} must be a Tensor, an ndarray or a number, "
                    f"got {type(x).__name__}")


def pair(a, b, fn):
    """Two operands as Tensors; a number or array takes the other's dtype rules.

        >>> from autograd_core.ops._args import pair
        >>> a, b = pair(ag.tensor([1.0, 2.0]), 3, "myop")     # the number follows the tensor's dtype
        >>> b, b.dtype
        (Tensor(3., dtype=float32), dtype('float32'))
    """
    if isinstance(a, TensorBase):
        return a, lift(b, a, fn)
    if isinstance(b, TensorBase):
        return lift(a, b, fn), b
    return to_tensor(a, fn, "input"), to_tensor(b, fn, "other")


def _is_int(a):
    return isinstance(a, (numbers.Integral, np.integer)) and not isinstance(a, (bool, np.bool_))


def one_axis(axis, ndim, fn, arg="dim"):
    """A single axis, normalised to a non-negative int (0-d tensors accept 0 and -1).

        >>> from autograd_core.ops._args import one_axis
        >>> one_axis(-1, 3, "myop")
        2
        >>> one_axis(3, 3, "myop")
        Traceback (most recent call last):
            ...
        autograd_core.ops._args.AxisError: myop: dim 3 is out of range for a tensor with 3 dimensions (expected an int in [-3, 2])
    """
    if isinstance(axis, TensorBase) and axis._d.size == 1 and axis._d.dtype.kind in "iu":
        axis = int(axis._d)
    if not _is_int(axis):
        raise TypeError(f"{fn}: {arg} must be an int, got {type(axis).__name__} {axis!r}")
    top = max(ndim, 1)
    if not -top <= axis < top:
        raise AxisError(f"{fn}: {arg} {axis} is out of range for a tensor with {ndim} "
                        f"dimensions (expected an int in [{-top}, {top - 1}])")
    return int(axis) % top if ndim else 0


def axes(axis, ndim, fn, arg="dim"):
    """None (all axes) or a sorted tuple of distinct non-negative axes.

        >>> from autograd_core.ops._args import axes
        >>> axes((-1, 0), 3, "myop"), axes(None, 3, "myop")
        ((0, 2), None)
    """
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        items = tuple(axis)
        if not items:  # torch: dim=() reduces over every dimension
            return None
    else:
        items = (axis,)
    out = [one_axis(a, ndim, fn, arg) for a in items]
    if len(set(out)) != len(out):
        raise ValueError(f"{fn}: {arg} {axis!r} repeats an axis")
    return tuple(sorted(out)) if ndim else None


def spelling(fn, numpy_name, numpy_value, torch_name, torch_value, default=None):
    """The value given under either spelling (``axis=``/``dim=``,
    ``keepdims=``/``keepdim=``); TypeError when both are given.

        >>> from autograd_core.ops._args import spelling
        >>> spelling("myop", "axis", None, "dim", 1)                 # dim=1 given
        1
        >>> spelling("myop", "axis", 0, "dim", 1)
        Traceback (most recent call last):
            ...
        TypeError: myop: got both axis= and dim=; give one
    """
    if torch_value is not None:
        if numpy_value is not None and numpy_value is not default:
            raise TypeError(f"{fn}: got both {numpy_name}= and {torch_name}=; give one")
        return torch_value
    return default if numpy_value is None else numpy_value


def also_spelled(alias, name):
    """Let ``fn`` take its argument ``name`` also as the keyword ``alias``
    (``gather(x, axis=1, index=i)`` for ``gather(x, dim=1, index=i)``): one
    decorator instead of the same three lines in every op.

        >>> from autograd_core.ops._args import also_spelled
        >>> @also_spelled("axis", "dim")
        ... def first(x, dim):
        ...     return x.select(dim, 0)
        >>> first(ag.tensor([[1, 2], [3, 4]]), axis=1)
        Tensor([1, 3])
    """
    import functools
    import inspect

    def decorate(fn):
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        extra = inspect.Parameter(alias, inspect.Parameter.KEYWORD_ONLY, default=None)
        at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
        params.insert(at, extra)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            value = kwargs.pop(alias, None)
            if value is not None:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}: got both {name}= and {alias}=; give one")
                kwargs[name] = value
            return fn(*args, **kwargs)

        wrapper.__signature__ = sig.replace(parameters=params)
        return wrapper
    return decorate


def shape_args(shape, fn, arg="shape"):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(size)`` alike: a tuple of ints.

        >>> from autograd_core.ops._args import shape_args
        >>> shape_args((2, 3), "myop"), shape_args(([2, 3],), "myop")
        ((2, 3), (2, 3))
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    out = []
    for n in shape:
        if isinstance(n, TensorBase) and n._d.size == 1 and n._d.dtype.kind in "iu":
            n = int(n._d)
        if not _is_int(n):
            raise TypeError(f"{fn}: {arg} must be ints, got {type(n).__name__} {n!r} in {shape!r}")
        out.append(int(n))
    return tuple(out)


def resolve_shape(shape, size):
    """``shape`` with a -1 filled in, or None if it cannot hold ``size`` elements.

        >>> from autograd_core.ops._args import resolve_shape
        >>> resolve_shape((2, -1), 6), resolve_shape((4, -1), 6)
        ((2, 3), None)
    """
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        return None
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if -1 in shape:
        if known == 0 or size % known:
            return None
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size:
        return None
    return shape
