"""Dtype names with PyTorch's spellings, and the default floating dtype.

The names are NumPy's scalar types themselves (``ag.float32 is np.float32``),
so ``dtype=ag.float32`` works wherever NumPy takes a dtype, and a tensor's
``.dtype`` (an ``np.dtype``) compares equal to them: ``t.dtype == ag.float32``.

The default dtype is the dtype of floating results of ``ag.tensor`` and the
creation functions (``zeros``, ``rand``, ``arange(0.5, 2)``, ...), float32
unless changed with ``set_default_dtype``, as in PyTorch. The ``Tensor(...)``
constructor does not use it: it keeps NumPy's rules (Python floats give
float64).

    >>> import autograd_core as ag
    >>> ag.get_default_dtype() is ag.float32
    True
    >>> ag.set_default_dtype(ag.float64); ag.tensor([1.5]).dtype
    dtype('float64')
    >>> ag.set_default_dtype(ag.float32)               # back to the default
"""
from __future__ import annotations

import numpy as np

__all__ = ["float16", "float32", "float64", "half", "float", "double", "int8", "int16", "int32",
           "int", "int64", "short", "long", "uint8", "bool", "complex64", "complex128", "cfloat",
           "cdouble", "get_default_dtype", "set_default_dtype", "as_dtype", "default_complex_dtype",
           "is_floating_point", "is_complex", "type_name", "from_type_name"]

float16 = half = np.float16
float32 = float = np.float32  # noqa: A001 - torch.float
float64 = double = np.float64
int8 = np.int8
int16 = short = np.int16
int32 = int = np.int32  # noqa: A001 - torch.int
int64 = long = np.int64
uint8 = np.uint8
bool = np.bool_  # noqa: A001 - torch.bool
complex64 = cfloat = np.complex64
complex128 = cdouble = np.complex128

# (``float``, ``int`` and ``bool`` shadow the builtins in this module, which never calls them.)

_DEFAULT_CHOICES = (np.float16, np.float32, np.float64)
_default_dtype = np.float32


def get_default_dtype():
    """The dtype of floating results of ``tensor`` and the creation functions
    (``ag.float32`` unless ``set_default_dtype`` changed it).

        >>> ag.get_default_dtype()
        <class 'numpy.float32'>
    """
    return _default_dtype


def set_default_dtype(d):
    """Make ``d`` (``float16``, ``float32`` or ``float64``) the default floating
    dtype. Example: ``ag.set_default_dtype(ag.float64)``.

        >>> ag.set_default_dtype(ag.float64)
        >>> ag.tensor([1.0]).dtype
        dtype('float64')
        >>> ag.set_default_dtype(ag.float32)           # back to the default
    """
    global _default_dtype
    dt = as_dtype(d, "set_default_dtype", "d")
    if dt.type not in _DEFAULT_CHOICES:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type (float16, float32, float64), got {dt}")
    _default_dtype = dt.type


def as_dtype(dtype, fn, arg="dtype"):
    """``dtype`` as an ``np.dtype`` of a numeric kind, or a TypeError naming
    the function and the argument.

        >>> from autograd_core.dtypes import as_dtype
        >>> as_dtype("float64", "myop"), as_dtype(ag.int32, "myop")
        (dtype('float64'), dtype('int32'))
    """
    try:
        # np.dtype(None) would be float64: None is never a dtype here.
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "biufc":
        hint = " (a torch dtype? use ag.float32, ag.int64, ...)" if "torch" in repr(dtype) else ""
        raise TypeError(f"{fn}: {arg} must be a numeric dtype such as ag.float32 or "
                        f"ag.int64, got {dtype!r}{hint}")
    return dt


def default_complex_dtype():
    """The complex dtype that pairs with the default dtype (complex64 for
    float32, as in PyTorch; complex128 for float64).

        >>> ag.dtypes.default_complex_dtype()           # for the float32 default
        <class 'numpy.complex64'>
    """
    return np.complex128 if _default_dtype is np.float64 else np.complex64


def is_floating_point(x):
    """True if the dtype of ``x`` (a Tensor, an array or a dtype) is floating.

        >>> ag.is_floating_point(ag.ones(1)), ag.is_floating_point(ag.tensor([1]))
        (True, False)
    """
    dt = getattr(x, "dtype", x)
    return np.dtype(dt).kind == "f"


def is_complex(x):
    """True if the dtype of ``x`` (a Tensor, an array or a dtype) is complex.

        >>> ag.is_complex(ag.tensor([1 + 2j])), ag.is_complex(ag.ones(1))
        (True, False)
    """
    dt = getattr(x, "dtype", x)
    return np.dtype(dt).kind == "c"


# PyTorch's legacy tensor type names (``t.type()``), by dtype.
_TYPE_NAMES = {
    np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor", np.dtype(np.int8): "CharTensor",
    np.dtype(np.uint8): "ByteTensor", np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int32): "IntTensor", np.dtype(np.int64): "LongTensor",
    np.dtype(np.bool_): "BoolTensor", np.dtype(np.complex64): "ComplexFloatTensor",
    np.dtype(np.complex128): "ComplexDoubleTensor", np.dtype(np.uint16): "UInt16Tensor",
    np.dtype(np.uint32): "UInt32Tensor", np.dtype(np.uint64): "UInt64Tensor",
}
_BY_TYPE_NAME = {name: dt for dt, name in _TYPE_NAMES.items()}


def type_name(dtype):
    """PyTorch's name for a CPU tensor of ``dtype``: ``type_name(ag.float32)`` is
    ``'torch.FloatTensor'`` (PyTorch's own strings, so code comparing them runs);
    a dtype PyTorch lacks gets ``'autograd_core.<dtype>Tensor'``.

        >>> from autograd_core.dtypes import type_name
        >>> type_name(ag.float32), type_name(ag.int64)     # torch's Tensor.type() names
        ('torch.FloatTensor', 'torch.LongTensor')
    """
    dt = np.dtype(dtype)
    name = _TYPE_NAMES.get(dt)
    return f"autograd_core.{dt.name}Tensor" if name is None else "torch." + name


def from_type_name(name, fn="type"):
    """The dtype of a legacy CPU type name: ``'torch.FloatTensor'``, ``'FloatTensor'`` or
    ``'autograd_core.FloatTensor'`` give float32.

        >>> from autograd_core.dtypes import from_type_name
        >>> from_type_name("torch.FloatTensor")
        dtype('float32')
    """
    parts = name.split(".")
    if parts[0] in ("torch", "autograd_core"):
        parts = parts[1:]
    dt = _BY_TYPE_NAME.get(parts[0]) if len(parts) == 1 else None
    if dt is None:
        raise ValueError(f"{fn}: invalid type {name!r}; expected a dtype such as ag.float64 "
                         f"or a name such as 'torch.DoubleTensor'")
    return dt
