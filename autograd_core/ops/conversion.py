"""Copies, layouts and questions about a tensor: ``ag.clone(x)`` is ``x.clone()``.

``clone`` is a differentiable copy (the gradient passes through unchanged).
Memory formats are accepted with PyTorch's names: ``preserve_format`` (keep
the strides, the default of ``clone``), ``contiguous_format`` (C order),
``channels_last`` (NHWC strides for a 4-d NCHW tensor) and
``channels_last_3d``. The values never depend on the layout; only
``is_contiguous`` and the speed of NumPy's loops see it.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import TensorBase, _escape
from ._args import to_tensor

__all__ = ["clone", "numel", "is_tensor", "is_nonzero",
           "memory_format", "preserve_format", "contiguous_format", "channels_last",
           "channels_last_3d"]


class memory_format:
    """A memory layout, as ``torch.memory_format``: ``preserve_format``,
    ``contiguous_format``, ``channels_last``, ``channels_last_3d``.

        >>> ag.channels_last, ag.contiguous_format
        (autograd_core.channels_last, autograd_core.contiguous_format)
        >>> x = ag.ones(2, 3, 4, 5).contiguous(memory_format=ag.channels_last)
        >>> x.is_contiguous(memory_format=ag.channels_last), x.is_contiguous()
        (True, False)
    """

    __slots__ = ("name", "_rank")

    def __init__(self, name, rank=None):
        self.name = name
        self._rank = rank        # the rank a channels-last format needs

    def order(self, ndim, fn):
        """The axes from outermost to innermost in memory (None: keep the layout)."""
        if self is preserve_format:
            return None
        if self._rank is None:
            return tuple(range(ndim))
        if ndim != self._rank:
            raise RuntimeError(f"{fn}: memory_format={self.name} needs a tensor with "
                               f"{self._rank} dimensions, got {ndim}")
        return (0,) + tuple(range(2, ndim)) + (1,)

    def __repr__(self):
        return f"autograd_core.{self.name}"


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last", rank=4)
channels_last_3d = memory_format("channels_last_3d", rank=5)


def _format(fmt, fn):
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{fn}: memory_format must be one of ag.preserve_format, "
                        f"ag.contiguous_format, ag.channels_last, ag.channels_last_3d; "
                        f"got {fmt!r}")
    return fmt


def _in_order(d, order):
    """Are the elements of array ``d`` laid out in memory in axis order ``order``?"""
    if d.__class__ is not np.ndarray:     # a 0-d value held as a NumPy scalar
        return True
    return d.transpose(order).flags.c_contiguous


def _copy_in_order(x, order):
    """A differentiable copy of ``x`` whose memory holds axis ``order`` outermost first."""
    identity = tuple(range(x.ndim))
    y = x if order == identity else P.transpose(x, axes=order)
    if _in_order(y._d, identity):
        y = P.astype(y, dtype=y._d.dtype)                   # always a copy, same layout
    else:  # NumPy flattens a strided array by copying it in C order; reshape back views that
        y = P.reshape(P.reshape(y, shape=(y._d.size,)), shape=y.shape)
    return y if order == identity else P.transpose(y, axes=tuple(np.argsort(order).tolist()))


def clone(x, *, memory_format=preserve_format):  # noqa: A002 - torch's argument name
    """A copy of ``x`` that owns its memory; differentiable (x̄ = ȳ), as ``torch.clone``.

    ``memory_format``: ``preserve_format`` keeps the layout (strides),
    ``contiguous_format`` / ``channels_last`` / ``channels_last_3d`` give that layout.

        >>> x = ag.tensor([1.0, 2.0])
        >>> y = ag.clone(x)
        >>> y[0] = 5.0
        >>> x, y
        (Tensor([1., 2.], dtype=float32), Tensor([5., 2.], dtype=float32))
    """
    x = to_tensor(x, "clone")
    order = _format(memory_format, "clone").order(x.ndim, "clone")
    if order is None:
        return P.astype(x, dtype=x._d.dtype)      # astype always copies, keeping the layout
    return _copy_in_order(x, order)


def is_contiguous(x, memory_format=contiguous_format):  # noqa: A002
    """True if ``x``'s memory holds its elements in the order of ``memory_format``
    (C order by default), as ``Tensor.is_contiguous``.

        >>> ag.ones(2, 3).is_contiguous(), ag.ones(2, 3).t().is_contiguous()
        (True, False)
        >>> ag.ones(1, 3, 4, 4).is_contiguous(memory_format=ag.channels_last)
        False
    """
    x = to_tensor(x, "is_contiguous")
    fmt = _format(memory_format, "is_contiguous")
    if fmt is preserve_format:
        raise ValueError("is_contiguous: memory_format=preserve_format names no layout")
    return _in_order(x._d, fmt.order(x.ndim, "is_contiguous"))


def contiguous(x, memory_format=contiguous_format):  # noqa: A002
    """``x`` itself if its memory is in the order of ``memory_format`` (C order by
    default), else a differentiable copy that is, as ``Tensor.contiguous``.

        >>> x = ag.ones(2, 3).t()                        # a transposed view
        >>> x.is_contiguous(), x.contiguous().is_contiguous()
        (False, True)
        >>> y = ag.ones(2, 3)
        >>> y.contiguous() is y                             # already C order: itself
        True
    """
    x = to_tensor(x, "contiguous")
    fmt = _format(memory_format, "contiguous")
    if fmt is preserve_format:
        raise ValueError("contiguous: memory_format=preserve_format is not supported "
                         "(contiguous() makes a layout; use clone() to keep one)")
    order = fmt.order(x.ndim, "contiguous")
    return x if _in_order(x._d, order) else _copy_in_order(x, order)


def numel(x):
    """The number of elements, ∏ shape (an int), as ``torch.numel``.

        >>> ag.numel(ag.ones(2, 3)), ag.ones(2, 3).numel()
        (6, 6)
    """
    return int(np.size(to_tensor(x, "numel")._d))


def is_tensor(obj):
    """True if ``obj`` is an autograd_core Tensor (``nn.Parameter`` included), as
    ``torch.is_tensor``.

        >>> ag.is_tensor(ag.ones(1)), ag.is_tensor(np.ones(1))
        (True, False)
    """
    return isinstance(obj, TensorBase)


def is_nonzero(x):
    """The truth of a one-element tensor (``bool(x)``), as ``torch.is_nonzero``;
    a RuntimeError for any other number of elements.

        >>> ag.is_nonzero(ag.tensor([0.5])), ag.is_nonzero(ag.tensor(0))
        (True, False)
        >>> ag.is_nonzero(ag.tensor([1, 2]))
        Traceback (most recent call last):
            ...
        RuntimeError: is_nonzero: Boolean value of Tensor with more than one value is ambiguous (shape (2,))
    """
    x = to_tensor(x, "is_nonzero")
    if x._d.size != 1:
        what = "no values" if x._d.size == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {what} is ambiguous "
                           f"(shape {x.shape})")
    _escape(x, "is_nonzero()")
    return bool(np.asarray(x._d).reshape(()))
