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
"""
from __future__ import annotations

import numpy as np

__all__ = ["float16", "float32", "float64", "half", "double", "int8", "int16", "int32",
           "int64", "short", "long", "uint8", "bool", "complex64", "complex128",
           "get_default_dtype", "set_default_dtype", "as_dtype", "default_complex_dtype",
           "is_floating_point"]

float16 = half = np.float16
float32 = np.float32
float64 = double = np.float64
int8 = np.int8
int16 = short = np.int16
int32 = np.int32
int64 = long = np.int64
uint8 = np.uint8
bool = np.bool_  # noqa: A001 - torch.bool
complex64 = np.complex64
complex128 = np.complex128

_DEFAULT_CHOICES = (np.float16, np.float32, np.float64)
_default_dtype = np.float32


def get_default_dtype():
    """The dtype of floating results of ``tensor`` and the creation functions
    (``ag.float32`` unless ``set_default_dtype`` changed it)."""
    return _default_dtype


def set_default_dtype(d):
    """Make ``d`` (``float16``, ``float32`` or ``float64``) the default floating
    dtype. Example: ``ag.set_default_dtype(ag.float64)``."""
    global _default_dtype
    dt = as_dtype(d, "set_default_dtype", "d")
    if dt.type not in _DEFAULT_CHOICES:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type (float16, float32, float64), got {dt}")
    _default_dtype = dt.type


def as_dtype(dtype, fn, arg="dtype"):
    """``dtype`` as an ``np.dtype`` of a numeric kind, or a TypeError naming
    the function and the argument."""
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
    float32, as in PyTorch; complex128 for float64)."""
    return np.complex128 if _default_dtype is np.float64 else np.complex64


def is_floating_point(x):
    """True if the dtype of ``x`` (a Tensor, an array or a dtype) is floating."""
    dt = getattr(x, "dtype", x)
    return np.dtype(dt).kind == "f"
