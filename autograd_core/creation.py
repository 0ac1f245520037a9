"""Creating tensors, with PyTorch's functions, arguments and dtype rules.

``tensor(data)`` copies ``data``; ``from_numpy(a)`` and ``as_tensor(a)`` share
an ndarray's memory. Dtypes follow PyTorch, not NumPy: a floating result has
the default dtype (``get_default_dtype()``, float32 unless changed), Python
ints give int64, bools give bool, and NumPy arrays, NumPy scalars and Tensors
keep their dtype. (The ``Tensor(...)`` constructor keeps NumPy's rules.)

Sizes are given as in PyTorch: ``zeros(2, 3)``, ``zeros((2, 3))`` or
``zeros(size=(2, 3))``. Every function takes ``dtype=`` and
``requires_grad=`` (only floating tensors can require gradients), and
``device=`` (``None`` or ``'cpu'``: there is only the CPU). The random ones
take ``generator=`` (an ``ag.Generator`` or a ``numpy.random.Generator``) and
otherwise draw from the global generator that ``ag.manual_seed`` seeds.

    >>> import autograd_core as ag
    >>> ag.tensor([1, 2]).dtype, ag.tensor([1.0, 2]).dtype
    (dtype('int64'), dtype('float32'))
    >>> w = ag.randn(3, 4, requires_grad=True)
    >>> ag.arange(0, 1, 0.25)
    Tensor([0.  , 0.25, 0.5 , 0.75], dtype=float32)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import dtypes
from . import random as _random
from .random import _check_device
from ._tensor import Tensor
from . import primitives as P
from .core import wrap

__all__ = ["tensor", "from_numpy", "as_tensor",
           "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "logspace",
           "zeros_like", "ones_like", "full_like", "empty_like",
           "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
           "rand_like", "randn_like", "randint_like"]

# Categories of PyTorch's type inference for Python data: the highest one
# present decides; within it, the widest dtype.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


# ---------------------------------------------------------------- helpers

def _finish(arr, requires_grad, fn):
    """A Tensor around ``arr``, not copied. (The one place that calls the
    engine's no-copy constructor; elsewhere ``from_numpy`` is used.)"""
    if requires_grad and arr.dtype.kind != "f":
        raise TypeError(f"{fn}: only floating-point tensors can require gradients, "
                        f"but the result has dtype {arr.dtype}")
    t = wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def _as_int(x):
    """``x`` as a Python int if it is an integer (Python, NumPy, or a 0-d
    integer Tensor), else None. bool is not an integer here."""
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (numbers.Integral, np.integer)):
        return int(x)
    if isinstance(x, Tensor) and x.ndim == 0 and x.dtype.kind in "iu":
        return int(x.item())
    return None


def _as_number(x, fn, arg):
    """``x`` (a number, a NumPy scalar or a one-element Tensor/array) as a Python number."""
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "biufc":
        x = x.reshape(()).item()
    if isinstance(x, np.generic) and x.dtype.kind in "biufc":
        x = x.item()
    if isinstance(x, numbers.Number):
        return x
    raise TypeError(f"{fn}: {arg} must be a number, got {type(x).__name__} {x!r}")


def _count(x, fn, arg):
    """A non-negative int argument (a count or a dimension)."""
    n = _as_int(x)
    if n is None:
        raise TypeError(f"{fn}: {arg} must be an int, got {type(x).__name__} {x!r}")
    if n < 0:
        raise ValueError(f"{fn}: {arg} must be non-negative, got {n}")
    return n


def _size(fn, args, size):
    """The shape from ``fn(2, 3)``, ``fn((2, 3))``, ``fn([2, 3])`` or ``fn(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        shape = size
    elif len(args) == 1 and _as_int(args[0]) is None:
        shape = args[0]
    elif args:
        shape = args
    else:
        raise TypeError(f"{fn}() missing the size: write e.g. {fn}(2, 3) or {fn}((2, 3))")
    if _as_int(shape) is not None:
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or any(_as_int(d) is None for d in dims):
        raise TypeError(f"{fn}: size must be ints or a tuple of ints, got {shape!r}")
    dims = tuple(_as_int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ValueError(f"{fn}: sizes must be non-negative, got {dims}")
    return dims


def _dtype(dtype, fn, default):
    return np.dtype(default) if dtype is None else dtypes.as_dtype(dtype, fn)


def _float_dtype(dtype, fn):
    """``dtype`` (default: the default dtype), which must be floating."""
    dt = _dtype(dtype, fn, dtypes.get_default_dtype())
    if dt.kind != "f":
        raise TypeError(f"{fn}: dtype must be a floating-point type, got {dt}")
    return dt


def _array_arg(x, fn, arg):
    """A Tensor, ndarray, number or (nested) list argument as an ndarray (not copied)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "biufc":
        raise TypeError(f"{fn}: {arg} must be a Tensor, an array or a number, "
                        f"got {type(x).__name__}")
    return arr


def _like(input, fn):  # noqa: A002 - PyTorch's argument name
    if not isinstance(input, (Tensor, np.ndarray)):
        raise TypeError(f"{fn}: input must be a Tensor or an ndarray, got {type(input).__name__}")
    return input.shape, np.dtype(input.dtype)


# ---------------------------------------------------------------- from data

def _scalar_dtype(x, fn):
    """PyTorch's dtype for one leaf of ``tensor(data)``'s nested data."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, (Tensor, np.ndarray, np.generic)):
        dt = np.dtype(x.dtype)
        if dt.kind not in "biufc":
            raise TypeError(f"{fn}: cannot make a tensor from an array of dtype {dt}")
        return dt
    if isinstance(x, numbers.Integral):
        return np.dtype(np.int64)
    if hasattr(x, "__array__") and not isinstance(x, numbers.Number):
        return _scalar_dtype(np.asarray(x), fn)      # other array libraries' arrays
    if isinstance(x, numbers.Real):
        return np.dtype(dtypes.get_default_dtype())
    if isinstance(x, numbers.Complex):
        return np.dtype(dtypes.default_complex_dtype())
    raise TypeError(f"{fn}: could not infer the dtype of {type(x).__name__} {x!r}: data must "
                    "be numbers, (nested) lists or tuples, arrays or Tensors")


_PYTHON_SCALARS = {bool: 0, int: 1, float: 2}


def _infer_dtype(data, fn):
    """The dtype PyTorch gives ``tensor(data)``."""
    if isinstance(data, (list, tuple)) and data:
        # Fast path for a flat list of Python numbers (what collation makes).
        kinds = {type(v) for v in data}
        if kinds <= _PYTHON_SCALARS.keys():
            top = max(_PYTHON_SCALARS[k] for k in kinds)
            if top == 2:
                return np.dtype(dtypes.get_default_dtype())
            return np.dtype(np.int64 if top == 1 else np.bool_)
    best = None                     # (category, dtype)
    pending = [data]
    while pending:                  # iterative: nesting depth is no limit
        x = pending.pop()
        if isinstance(x, (list, tuple)):
            pending.extend(x)
            continue
        dt = _scalar_dtype(x, fn)
        cat = _CATEGORY[dt.kind]
        if best is None or cat > best[0]:
            best = (cat, dt)
        elif cat == best[0] and dt != best[1]:
            wider = np.promote_types(best[1], dt)
            # uint64 with int64 leaves the integers in NumPy (float64): stay int64.
            best = (cat, wider if _CATEGORY[wider.kind] == cat else np.dtype(np.int64))
    return np.dtype(dtypes.get_default_dtype()) if best is None else best[1]


def _copy_of(data, dt, fn):
    if isinstance(data, Tensor):
        data = data.data
    try:
        return np.array(data, dtype=dt)
    except ValueError as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise ValueError(f"{fn}: data is ragged: nested sequences must have equal lengths "
                             f"at each depth ({e})") from None
        raise TypeError(f"{fn}: cannot convert the data to {dt}: {e}") from None
    except TypeError as e:
        raise TypeError(f"{fn}: cannot convert the data to {dt}: {e}") from None
    except OverflowError as e:
        raise ValueError(f"{fn}: a value does not fit in dtype {dt}: {e}") from None


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data``, as ``torch.tensor``.

    ``data``: a number, a (nested) list or tuple, an ndarray or a Tensor. Without
    ``dtype``: Python floats give the default dtype, ints int64, bools bool, and
    arrays, NumPy scalars and Tensors keep theirs; the highest kind present
    wins (``[1, 2.5]`` is floating).

        >>> ag.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
        >>> ag.tensor(0.5, requires_grad=True)
        Tensor(0.5, dtype=float32, requires_grad=True)
    """
    _check_device(device, "tensor")
    dt = _infer_dtype(data, "tensor") if dtype is None else dtypes.as_dtype(dtype, "tensor")
    return _finish(_copy_of(data, dt, "tensor"), requires_grad, "tensor")


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory and dtype, as ``torch.from_numpy``:
    writing into one shows in the other.

        >>> a = np.zeros(3); t = ag.from_numpy(a); a[0] = 1; t[0].item()
        1.0
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: cannot make a tensor from an array of dtype "
                        f"{ndarray.dtype}; only numeric and bool dtypes are supported")
    return _finish(ndarray, False, "from_numpy")


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, copying only when needed, as ``torch.as_tensor``.

    A Tensor of the requested dtype (or with ``dtype=None``) is returned
    itself; another dtype gives a differentiable cast. An ndarray of the
    requested dtype shares its memory (``from_numpy``). Anything else is
    converted as by ``tensor(data, dtype)``.

        >>> a = np.array([1.0, 2.0])
        >>> t = ag.as_tensor(a)                    # shares a's memory (same dtype)
        >>> a[0] = 7.0
        >>> t
        Tensor([7., 2.])
        >>> ag.as_tensor([1, 2], dtype=ag.float32)
        Tensor([1., 2.], dtype=float32)
    """
    _check_device(device, "as_tensor")
    dt = None if dtype is None else dtypes.as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data if dt is None or dt == data.dtype else data.astype(dt)
    if isinstance(data, np.ndarray) and (dt is None or dt == data.dtype):
        return from_numpy(data)
    if dt is None:
        dt = _infer_dtype(data, "as_tensor")
    return _finish(_copy_of(data, dt, "as_tensor"), False, "as_tensor")


# ---------------------------------------------------------------- filled

def _constant(make, fn, args, size, dtype, requires_grad, device):
    _check_device(device, fn)
    shape = _size(fn, args, size)
    return _finish(make(shape, _dtype(dtype, fn, dtypes.get_default_dtype())), requires_grad, fn)


def zeros(*args, size=None, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros(size=(2, 3))``.
    The default dtype unless ``dtype`` is given.

        >>> ag.zeros(2, 3).shape, ag.zeros((2, 3)).shape, ag.zeros(size=(2,)).dtype
        ((2, 3), (2, 3), dtype('float32'))
        >>> ag.zeros(2, dtype=ag.int64, requires_grad=False)
        Tensor([0, 0])
    """
    return _constant(np.zeros, "zeros", args, size, dtype, requires_grad, device)


def ones(*args, size=None, dtype=None, requires_grad=False, device=None):
    """A tensor of ones; sizes and dtype as ``zeros``.

        >>> ag.ones(2, 2, requires_grad=True)
        Tensor([[1., 1.],
                [1., 1.]], dtype=float32, requires_grad=True)
    """
    return _constant(np.ones, "ones", args, size, dtype, requires_grad, device)


def empty(*args, size=None, dtype=None, requires_grad=False, device=None):
    """A tensor whose values are whatever the memory held (fast; fill it before
    reading). Sizes and dtype as ``zeros``.

        >>> ag.empty(2, 3).shape                   # uninitialised values
        (2, 3)
    """
    return _constant(np.empty, "empty", args, size, dtype, requires_grad, device)


def _fill_dtype(value, fn):
    """PyTorch's dtype for ``full(size, value)``: bool, int64, the default
    floating dtype, or its complex counterpart, by the kind of ``value``."""
    value = _as_number(value, fn, "fill_value")
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return np.dtype(dtypes.get_default_dtype())
    return np.dtype(dtypes.default_complex_dtype())


def _filled(shape, value, dt, fn):
    try:
        return np.full(shape, value, dt)   # a float value is truncated for an int dtype
    except OverflowError:
        raise ValueError(f"{fn}: fill_value {value!r} does not fit in dtype {dt}") from None


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None):
    """A tensor of shape ``size`` filled with ``fill_value``; its dtype follows
    the value (``full((2,), 1)`` is int64, ``full((2,), 1.5)`` the default dtype).

        >>> ag.full((2, 2), 7.0)
        Tensor([[7., 7.],
                [7., 7.]], dtype=float32)
        >>> ag.full((2,), 3).dtype                  # an int fill gives int64, as torch
        dtype('int64')
    """
    _check_device(device, "full")
    shape = _size("full", (size,), None)
    dt = _fill_dtype(fill_value, "full") if dtype is None else dtypes.as_dtype(dtype, "full")
    value = _as_number(fill_value, "full", "fill_value")
    return _finish(_filled(shape, value, dt, "full"), requires_grad, "full")


def eye(n, m=None, *, dtype=None, requires_grad=False, device=None):
    """The n×m identity (m = n by default), in the default dtype.

        >>> ag.eye(2), ag.eye(2, 3).shape
        (Tensor([[1., 0.],
                [0., 1.]], dtype=float32), (2, 3))
    """
    _check_device(device, "eye")
    n = _count(n, "eye", "n")
    m = n if m is None else _count(m, "eye", "m")
    return _finish(np.eye(n, m, dtype=_dtype(dtype, "eye", dtypes.get_default_dtype())),
                   requires_grad, "eye")


def _constant_like(make, fn, input, dtype, requires_grad, device):  # noqa: A002
    _check_device(device, fn)
    shape, dt = _like(input, fn)
    return _finish(make(shape, _dtype(dtype, fn, dt)), requires_grad, fn)


def zeros_like(input, *, dtype=None, requires_grad=False, device=None):  # noqa: A002
    """Zeros with the shape and (unless ``dtype`` is given) the dtype of ``input``.

        >>> ag.zeros_like(ag.ones(2, dtype=ag.float64))
        Tensor([0., 0.])
    """
    return _constant_like(np.zeros, "zeros_like", input, dtype, requires_grad, device)


def ones_like(input, *, dtype=None, requires_grad=False, device=None):  # noqa: A002
    """Ones with the shape and (unless ``dtype`` is given) the dtype of ``input``.

        >>> ag.ones_like(ag.zeros(2, 2), dtype=ag.int64)
        Tensor([[1, 1],
                [1, 1]])
    """
    return _constant_like(np.ones, "ones_like", input, dtype, requires_grad, device)


def empty_like(input, *, dtype=None, requires_grad=False, device=None):  # noqa: A002
    """Uninitialised values with the shape and dtype of ``input``.

        >>> ag.empty_like(ag.zeros(2, 3)).shape
        (2, 3)
    """
    return _constant_like(np.empty, "empty_like", input, dtype, requires_grad, device)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None):  # noqa: A002
    """``fill_value`` everywhere, with the shape and dtype of ``input`` (the value
    is cast to it: ``full_like(int_tensor, 2.7)`` holds 2).

        >>> ag.full_like(ag.zeros(3), 0.5)
        Tensor([0.5, 0.5, 0.5], dtype=float32)
    """
    _check_device(device, "full_like")
    shape, dt = _like(input, "full_like")
    value = _as_number(fill_value, "full_like", "fill_value")
    arr = _filled(shape, value, _dtype(dtype, "full_like", dt), "full_like")
    return _finish(arr, requires_grad, "full_like")


# ---------------------------------------------------------------- ranges

def arange(start=0, end=None, step=1, *, dtype=None, requires_grad=False, device=None):
    """``[start, start + step, ...)`` up to but excluding ``end``: ``arange(5)``,
    ``arange(1, 4)``, ``arange(0, 1, 0.25)``. Integer arguments give int64, any
    float the default dtype. Length ⌈(end − start)/step⌉.

        >>> ag.arange(5), ag.arange(1.0, 2.0, 0.25)
        (Tensor([0, 1, 2, 3, 4]), Tensor([1.  , 1.25, 1.5 , 1.75], dtype=float32))
    """
    fn = "arange"
    _check_device(device, fn)
    if end is None:
        start, end = 0, start
    start, end, step = (_as_number(v, fn, a) for v, a in ((start, "start"), (end, "end"),
                                                           (step, "step")))
    if any(isinstance(v, complex) for v in (start, end, step)):
        raise TypeError(f"{fn}: start, end and step must be real numbers")
    if dtype is not None and dtypes.as_dtype(dtype, fn).kind in "iu":
        start, end, step = int(start), int(end), int(step)   # truncated first, as PyTorch
    if step == 0:
        raise ValueError(f"{fn}: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"{fn}: upper bound and lower bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    default = np.int64 if integral else dtypes.get_default_dtype()
    dt = _dtype(dtype, fn, default)
    if integral:
        values = np.arange(start, end, step, dtype=np.int64)
    else:   # in float64 as PyTorch does (start + i·step), then rounded
        n = max(0, math.ceil((end - start) / step))
        values = start + step * np.arange(n, dtype=np.float64)
    return _finish(values.astype(dt, copy=False), requires_grad, fn)


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, in the
    default dtype (an integer ``dtype`` truncates).

        >>> ag.linspace(0, 1, 5)
        Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    fn = "linspace"
    _check_device(device, fn)
    start, end = _as_number(start, fn, "start"), _as_number(end, fn, "end")
    steps = _count(steps, fn, "steps")
    dt = _dtype(dtype, fn, dtypes.get_default_dtype())
    values = np.linspace(start, end, steps)
    return _finish(values.astype(dt, copy=False), requires_grad, fn)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, device=None):
    """``steps`` values base**t for t evenly spaced from ``start`` to ``end``.

        >>> ag.logspace(0, 2, 3), ag.logspace(0, 3, 4, base=2)
        (Tensor([  1.,  10., 100.], dtype=float32), Tensor([1., 2., 4., 8.], dtype=float32))
    """
    fn = "logspace"
    _check_device(device, fn)
    start, end = _as_number(start, fn, "start"), _as_number(end, fn, "end")
    steps = _count(steps, fn, "steps")
    base = _as_number(base, fn, "base")
    dt = _dtype(dtype, fn, dtypes.get_default_dtype())
    values = np.power(float(base), np.linspace(start, end, steps))
    return _finish(values.astype(dt, copy=False), requires_grad, fn)


# ---------------------------------------------------------------- random

def _uniform01(rng, shape, dt):
    """U[0, 1) in dtype ``dt``, never 1 (rounding a finer draw could give 1)."""
    if dt == np.float16:
        return (rng.integers(0, 1 << 11, size=shape) * 2.0 ** -11).astype(np.float16)
    return rng.random(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt, copy=False)


def _standard_normal(rng, shape, dt):
    draw = np.float32 if dt in (np.float16, np.float32) else np.float64
    return rng.standard_normal(shape, dtype=draw).astype(dt, copy=False)


def _drawn(sample, rng, args, requires_grad, fn):
    """``sample(rng, *args)`` as a Tensor, drawn by the engine (a compiled step
    draws it afresh on every call)."""
    t = P.draw(sample, rng, *args)
    if requires_grad:
        if t.dtype.kind != "f":
            raise TypeError(f"{fn}: only floating-point tensors can require gradients, "
                            f"but the result has dtype {t.dtype}")
        t.requires_grad_(True)
    return t


def _floats(sample, fn, shape, dtype, generator, requires_grad):
    dt = _float_dtype(dtype, fn)
    rng = _random.get_generator(generator, fn)
    return _drawn(sample, rng, (shape, dt), requires_grad, fn)


def rand(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform on [0, 1): ``rand(2, 3)``, in the default dtype.

        >>> g = ag.Generator().manual_seed(0)
        >>> x = ag.rand(2, 3, generator=g)           # U[0, 1)
        >>> x.shape, x.dtype, bool((x >= 0).all() and (x < 1).all())
        ((2, 3), dtype('float32'), True)
    """
    _check_device(device, "rand")
    return _floats(_uniform01, "rand", _size("rand", args, size), dtype, generator,
                   requires_grad)


def randn(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal N(0, 1): ``randn(2, 3)``, in the default dtype.

        >>> g = ag.Generator().manual_seed(0)
        >>> x = ag.randn(1000, generator=g)           # N(0, 1)
        >>> x.shape, abs(float(x.mean())) < 0.1, abs(float(x.std()) - 1) < 0.1
        ((1000,), True, True)
    """
    _check_device(device, "randn")
    return _floats(_standard_normal, "randn", _size("randn", args, size), dtype, generator,
                   requires_grad)


def _permutation(rng, n, dt):
    return rng.permutation(n).astype(dt, copy=False)


def _randint_array(rng, low, high, shape, dt, fn):
    low, high = _as_int(low), _as_int(high)
    if low is None or high is None:
        raise TypeError(f"{fn}: low and high must be ints")
    if low >= high:
        raise ValueError(f"{fn}: low must be less than high, got low={low}, high={high}")
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if low < info.min or high - 1 > info.max:
            raise ValueError(f"{fn}: [low, high) = [{low}, {high}) does not fit in dtype {dt}")
    return rng.integers(low, high, size=shape, dtype=np.int64).astype(dt, copy=False)


def randint(*args, size=None, low=None, high=None, generator=None, dtype=None,
            requires_grad=False, device=None):
    """Integers uniform on [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)`` (``size`` a tuple), int64 unless ``dtype``.

        >>> g = ag.Generator().manual_seed(0)
        >>> x = ag.randint(0, 10, (2, 5), generator=g)   # integers in [low, high)
        >>> x.dtype, bool((x >= 0).all() and (x < 10).all())
        (dtype('int64'), True)
        >>> ag.randint(3, (4,), generator=g).shape        # randint(high, size)
        (4,)
    """
    fn = "randint"
    _check_device(device, fn)
    args = list(args)
    if size is None and args:
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"{fn}() takes randint(high, size) or randint(low, high, size), "
                        f"got {len(args) + 1} positional arguments")
    if high is None or size is None:
        raise TypeError(f"{fn}() needs high and size: randint(high, size) or "
                        f"randint(low, high, size)")
    if _as_int(size) is not None:
        raise TypeError(f"{fn}: size must be a tuple of ints, got int {size!r}; "
                        f"write e.g. randint({high}, ({size},))")
    shape = _size(fn, (), size)
    dt = _dtype(dtype, fn, np.int64)
    rng = _random.get_generator(generator, fn)
    return _drawn(_randint_array, rng, (0 if low is None else low, high, shape, dt, fn),
                  requires_grad, fn)


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0, …, n−1 (int64 unless ``dtype``).

        >>> g = ag.Generator().manual_seed(0)
        >>> sorted(ag.randperm(5, generator=g).tolist())
        [0, 1, 2, 3, 4]
    """
    _check_device(device, "randperm")
    n = _count(n, "randperm", "n")
    dt = _dtype(dtype, "randperm", np.int64)
    rng = _random.get_generator(generator, "randperm")
    return _drawn(_permutation, rng, (n, dt), requires_grad, "randperm")


def _float_array_arg(x, fn, arg):
    arr = _array_arg(x, fn, arg)
    if arr.dtype.kind != "f":
        raise TypeError(f"{fn}: {arg} must be floating-point, got dtype {arr.dtype}")
    return arr


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Samples of N(mean, std²), as ``torch.normal``.

    ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, 1.0)`` and
    ``normal(0.0, std_tensor)`` draw one sample per element of the broadcast
    shape (dtype of mean if it is a tensor, else of std); ``normal(0.0, 1.0, size)`` needs ``size``
    (default dtype). The result is not differentiable in mean and std; write
    ``mean + std * ag.randn(...)`` for the reparameterised form.

        >>> g = ag.Generator().manual_seed(0)
        >>> ag.normal(2.0, 0.0, size=(3,))                  # std 0: the mean
        Tensor([2., 2., 2.], dtype=float32)
        >>> ag.normal(ag.tensor([0.0, 100.0]), ag.tensor([1e-3, 1e-3]), generator=g).round()   # one mean per element
        Tensor([  0., 100.], dtype=float32)
    """
    fn = "normal"
    _check_device(device, fn)
    tensors = [isinstance(v, (Tensor, np.ndarray)) for v in (mean, std)]
    if any(tensors):
        if size is not None:
            raise TypeError(f"{fn}: size is only allowed when mean and std are numbers")
        m = _float_array_arg(mean, fn, "mean") if tensors[0] else None
        s = _float_array_arg(std, fn, "std") if tensors[1] else None
        m = np.asarray(_as_number(mean, fn, "mean")) if m is None else m
        s = np.asarray(_as_number(std, fn, "std")) if s is None else s
        try:
            shape = np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise ValueError(f"{fn}: mean of shape {m.shape} and std of shape {s.shape} "
                             "cannot be broadcast together") from None
        # The result takes mean's dtype if mean is a tensor, else std's (as PyTorch).
        dt = _dtype(dtype, fn, m.dtype if tensors[0] else s.dtype)
    else:
        if size is None:
            raise TypeError(f"{fn}: with a number mean and std, give the size: "
                            f"normal({mean!r}, {std!r}, size)")
        m = np.asarray(_as_number(mean, fn, "mean"))
        s = np.asarray(_as_number(std, fn, "std"))
        shape = _size(fn, (), size)
        dt = _float_dtype(dtype, fn)
    if np.any(s < 0) or np.any(np.isnan(s)):
        bad = s[(s < 0) | np.isnan(s)].ravel()[0]
        raise ValueError(f"{fn}: std must be >= 0, got {bad}")
    rng = _random.get_generator(generator, fn)
    z = rng.standard_normal(shape)
    return _finish((m + s * z).astype(dt, copy=False), requires_grad, fn)


def _check_probabilities(p, fn, arg):
    if p.size and not (np.all(p >= 0) and np.all(p <= 1)):
        bad = p[~((p >= 0) & (p <= 1))].ravel()[0]
        raise ValueError(f"{fn}: {arg} must be probabilities in [0, 1], got {bad}")


def bernoulli(input, p=None, *, generator=None):  # noqa: A002
    """0/1 samples, 1 with probability ``input`` elementwise (or with the
    number ``p`` everywhere, ``input`` then giving only shape and dtype).
    The result has ``input``'s shape and floating dtype.

        >>> g = ag.Generator().manual_seed(0)
        >>> ag.bernoulli(ag.tensor([0.0, 1.0, 1.0]), generator=g)   # p = 0 or 1: certain
        Tensor([0., 1., 1.], dtype=float32)
    """
    fn = "bernoulli"
    probs = _float_array_arg(input, fn, "input")
    if p is not None:
        p = _as_number(p, fn, "p")
        if isinstance(p, complex) or not 0 <= p <= 1:
            raise ValueError(f"{fn}: p must be in [0, 1], got {p}")
    else:
        _check_probabilities(probs, fn, "input")
    rng = _random.get_generator(generator, fn)
    draws = rng.random(probs.shape) < (probs if p is None else p)
    return from_numpy(draws.astype(probs.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Indices drawn from the categorical distribution with weights ``input``
    (non-negative, any positive sum; one distribution per row of a 2-D input),
    as ``torch.multinomial``. Without replacement every index appears at most
    once, in the order drawn, and weight-0 categories never; so ``num_samples``
    can be at most the number of positive weights. Returns int64 of shape
    (num_samples,) or (rows, num_samples).

        >>> g = ag.Generator().manual_seed(0)
        >>> ag.multinomial(ag.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g)
        Tensor([1, 1])
        >>> sorted(ag.multinomial(ag.tensor([1.0, 1.0, 1.0]), 3, generator=g).tolist())   # without replacement
        [0, 1, 2]
    """
    fn = "multinomial"
    w = _float_array_arg(input, fn, "input").astype(np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"{fn}: input must be 1-D or 2-D (one distribution per row), "
                         f"got shape {w.shape}")
    n = _as_int(num_samples)
    if n is None:
        raise TypeError(f"{fn}: num_samples must be an int, got {num_samples!r}")
    if n <= 0:
        raise ValueError(f"{fn}: num_samples must be positive, got {n}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"{fn}: replacement must be a bool, got {replacement!r}")
    rows = w.reshape(-1, w.shape[-1])
    k = rows.shape[1]
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError(f"{fn}: input must hold finite, non-negative weights "
                         "(it contains inf, nan or a negative number)")
    totals = rows.sum(axis=1)
    if k == 0 or np.any(totals <= 0):
        raise ValueError(f"{fn}: invalid distribution: the weights of a row sum to 0")
    if not replacement:
        if n > k:
            raise ValueError(f"{fn}: cannot draw {n} samples without replacement from "
                             f"{k} categories")
        positive = int((rows > 0).sum(axis=1).min())
        if n > positive:
            raise ValueError(f"{fn}: cannot draw {n} samples without replacement from a "
                             f"distribution with only {positive} categories of positive weight")
    rng = _random.get_generator(generator, fn)
    if replacement:
        # Inverse CDF; `side='right'` never lands on a zero-weight category.
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], n)) * totals[:, None]
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        last = k - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)      # last positive category
        out = np.minimum(out, last[:, None])
    else:
        # Exponential races: with E ~ Exp(1), the order of E/w is the order in
        # which sequential draws without replacement pick the categories.
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        out = np.argsort(keys, axis=1, kind="stable")[:, :n]
    out = out.astype(np.int64)
    return from_numpy(out[0] if w.ndim == 1 else out)


def rand_like(input, *, dtype=None, requires_grad=False, generator=None, device=None):  # noqa: A002
    """``rand`` with the shape and (floating) dtype of ``input``.

        >>> ag.rand_like(ag.zeros(2, 2, dtype=ag.float64)).dtype
        dtype('float64')
    """
    _check_device(device, "rand_like")
    shape, dt = _like(input, "rand_like")
    return _floats(_uniform01, "rand_like", shape, dt if dtype is None else dtype, generator,
                   requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False, generator=None, device=None):  # noqa: A002
    """``randn`` with the shape and (floating) dtype of ``input``.

        >>> ag.randn_like(ag.zeros(2, 3)).shape
        (2, 3)
    """
    _check_device(device, "randn_like")
    shape, dt = _like(input, "randn_like")
    return _floats(_standard_normal, "randn_like", shape, dt if dtype is None else dtype,
                   generator, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, requires_grad=False,  # noqa: A002
                 generator=None, device=None):
    """``randint`` with the shape and dtype of ``input``: ``randint_like(x, high)``
    or ``randint_like(x, low, high)``.

        >>> x = ag.randint_like(ag.zeros(4), 5)        # high=5, the dtype of the input
        >>> x.dtype, bool((x >= 0).all() and (x < 5).all())
        (dtype('float32'), True)
    """
    fn = "randint_like"
    _check_device(device, fn)
    if high is None:
        low, high = 0, low
    shape, dt = _like(input, fn)
    dt = _dtype(dtype, fn, dt)
    rng = _random.get_generator(generator, fn)
    return _drawn(_randint_array, rng, (low, high, shape, dt, fn), requires_grad, fn)
