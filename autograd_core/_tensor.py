"""Tensor: an ndarray with a place in the computation graph.

What a tensor *is* (its value, gradient, version, tangents and node record)
lives in ``core.TensorBase``; this class adds what you can *do* with it. Its
methods are the module functions themselves (``x.exp()`` is ``ag.exp(x)``,
the same function object), so an op's argument checks and documentation
live in one place, ``ops``; this module holds no derivative code.
"""
from __future__ import annotations

import numpy as np

from . import autograd, ops
from . import numpy_protocol
from . import primitives as P
from .core import TensorBase, lift, use_tensor_class, wrap
from .ops import inplace as _ip  # the module (ops re-exports none of its names)

__all__ = ["Tensor"]


class _Size(int):
    """``t.size``: the element count (NumPy), also callable as PyTorch's
    ``t.size()`` (the shape) and ``t.size(dim)``."""

    def __new__(cls, shape):
        n = 1
        for s in shape:
            n *= s
        self = super().__new__(cls, n)
        self._shape = shape
        return self

    def __call__(self, dim=None):
        if dim is None:
            return self._shape
        return self._shape[ops.shape.one_axis(dim, len(self._shape), "size")]


def _copy_value(src, t):
    """``src`` as the new value of ``t`` for ``copy_``: broadcast and cast to t."""
    src = lift(src, t, "copy_")
    if src.shape != t.shape:
        src = ops.broadcast_to(src, t.shape)
    if src._d.dtype != t._d.dtype and t._d.dtype.kind == "f":
        src = ops.astype(src, t._d.dtype)
    return src


class Tensor(TensorBase):
    """``Tensor(data, requires_grad=False, dtype=None, name=None)``.

    ``data`` may be a Python number, a (nested) list, an ndarray or a Tensor;
    it is copied. Python floats and lists of floats become float64 (NumPy's
    rule; ``ag.tensor`` follows PyTorch's); a float32 array stays float32.

        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        Tensor([2., 4.])
    """

    __slots__ = ()

    # -- NumPy protocols: dispatch to the engine's ops, never cut silently ---

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_protocol.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_protocol.array_function(func, args, kwargs)

    # -- attributes ---------------------------------------------------------

    @property
    def size(self):
        return _Size(self._d.shape)

    @property
    def T(self):
        """The axes reversed (``x.transpose()``); a 0-d or 1-d tensor is itself."""
        return ops.transpose(self) if self.ndim > 1 else self

    # -- the backward pass --------------------------------------------------

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d self / d leaf into ``.grad`` of every leaf that requires grad.

        ``gradient`` (the u in uᵀJ) is needed unless self has one element.
        ``create_graph=True`` records the backward pass itself (for higher
        derivatives) and implies ``retain_graph``. Without ``retain_graph`` the
        saved values are released and a second backward raises. ``inputs``
        (a tensor or a sequence): accumulate into these only (leaves or not).
        """
        autograd.backward((self,), None if gradient is None else (gradient,), retain_graph,
                          create_graph, inputs)

    # -- arithmetic ---------------------------------------------------------

    def __add__(self, other):
        return P.add(self, other)

    def __radd__(self, other):
        return P.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return P.mul(self, other)

    def __rmul__(self, other):
        return P.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.arithmetic.rpow(self, other)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return P.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return P.abs(self)

    # -- comparisons and logic: constants, never differentiable -------------

    __lt__ = ops.lt
    __le__ = ops.le
    __gt__ = ops.gt
    __ge__ = ops.ge
    __eq__ = ops.eq
    __ne__ = ops.ne
    __and__ = ops.logical_and
    __or__ = ops.logical_or
    __xor__ = ops.logical_xor
    __invert__ = ops.logical_not
    __hash__ = TensorBase.__hash__

    # -- in place (PyTorch's rules: see ops.inplace) ------------------------

    def add_(self, other, *, alpha=None):
        """self += alpha·other, in place."""
        if alpha is not None:
            other = ops.mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
        return _ip.ufunc_(self, "add_", np.add, other, ops.add)

    def sub_(self, other, *, alpha=None):
        """self -= alpha·other, in place."""
        if alpha is not None:
            other = ops.mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
        return _ip.ufunc_(self, "sub_", np.subtract, other, ops.sub)

    def mul_(self, other):
        """self *= other, in place."""
        return _ip.ufunc_(self, "mul_", np.multiply, other, ops.mul)

    def div_(self, other):
        """self /= other, in place."""
        return _ip.ufunc_(self, "div_", np.true_divide, other, ops.div)

    def pow_(self, exponent):
        """self **= exponent, in place."""
        return _ip.ufunc_(self, "pow_", np.power, exponent, ops.power)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def clamp_(self, min=None, max=None):  # noqa: A002
        """self = clamp(self, min, max), in place."""
        return _ip.inplace(self, "clamp_", lambda t: ops.clip(t, min, max))

    clip_ = clamp_

    def zero_(self):
        """Fill with zeros, in place."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` (a number or a one-element tensor), in place."""
        value = _ip.fill_value(self, value, "fill_")
        return _ip.inplace(self, "fill_", lambda t, v: ops.broadcast_to(
            ops.reshape(ops.astype(v, t.dtype), ()), t.shape), value)

    def copy_(self, src):
        """Copy ``src`` (broadcast to self's shape, cast to its dtype) into self, in place."""
        return _ip.inplace(self, "copy_", lambda t, s: _copy_value(s, t), src)

    def __setitem__(self, index, value):
        _ip.setitem(self, index, value)

    def relu_(self):
        """max(self, 0), in place."""
        return _ip.inplace(self, "relu_", ops.relu)

    def sigmoid_(self):
        """σ(self), in place."""
        return _ip.inplace(self, "sigmoid_", ops.sigmoid)

    def tanh_(self):
        """tanh(self), in place."""
        return _ip.inplace(self, "tanh_", ops.tanh)

    def exp_(self):
        """exp(self), in place."""
        return _ip.inplace(self, "exp_", ops.exp)

    def neg_(self):
        """-self, in place."""
        return _ip.inplace(self, "neg_", ops.neg)

    # -- elementwise --------------------------------------------------------

    exp = ops.exp
    log = ops.log
    sqrt = ops.sqrt
    abs = ops.abs
    sin = ops.sin
    cos = ops.cos
    tanh = ops.tanh
    sigmoid = ops.sigmoid
    relu = ops.relu
    reciprocal = ops.reciprocal
    neg = ops.neg
    clip = ops.clip
    clamp = ops.clamp
    pow = ops.power
    maximum = ops.maximum
    minimum = ops.minimum
    eq, ne, lt, le, gt, ge = ops.eq, ops.ne, ops.lt, ops.le, ops.gt, ops.ge
    isnan, isinf, isfinite = ops.isnan, ops.isinf, ops.isfinite
    log1p, expm1, exp2, log2, log10 = ops.log1p, ops.expm1, ops.exp2, ops.log2, ops.log10
    square, rsqrt, erf, erfc = ops.square, ops.rsqrt, ops.erf, ops.erfc
    sinh, cosh, asinh, acosh, atanh = ops.sinh, ops.cosh, ops.asinh, ops.acosh, ops.atanh
    asin, acos, atan, atan2, hypot = ops.asin, ops.acos, ops.atan, ops.atan2, ops.hypot
    arcsinh, arccosh, arctanh, arcsin = ops.arcsinh, ops.arccosh, ops.arctanh, ops.arcsin
    arccos, arctan, arctan2 = ops.arccos, ops.arctan, ops.arctan2
    sign, sgn, floor, ceil = ops.sign, ops.sgn, ops.floor, ops.ceil
    round, trunc, fix, frac, nan_to_num = ops.round, ops.trunc, ops.fix, ops.frac, ops.nan_to_num
    clamp_min, clamp_max = ops.clamp_min, ops.clamp_max
    fmod, remainder, lerp = ops.fmod, ops.remainder, ops.lerp
    isclose, allclose = ops.isclose, ops.allclose
    mm, bmm, mv, dot, inner, outer, ger, addmm = (ops.mm, ops.bmm, ops.mv, ops.dot, ops.inner,
                                                  ops.outer, ops.ger, ops.addmm)

    def where(self, condition, y):
        """self where ``condition`` is true, else ``y`` (``torch.Tensor.where``)."""
        return ops.where(condition, self, y)

    def astype(self, dtype):
        """A cast: differentiable to a floating dtype, a graph cut to integer or bool."""
        return ops.astype(self, dtype)

    def float(self):
        """As float32 (differentiable)."""
        return ops.astype(self, np.float32)

    def double(self):
        """As float64 (differentiable)."""
        return ops.astype(self, np.float64)

    # -- reductions ---------------------------------------------------------

    sum = ops.sum
    mean = ops.mean
    max = ops.max
    min = ops.min
    amax = ops.amax
    amin = ops.amin
    argmax = ops.argmax
    argmin = ops.argmin
    logsumexp = ops.logsumexp
    softmax = ops.softmax
    log_softmax = ops.log_softmax
    cumsum, cumprod, prod = ops.cumsum, ops.cumprod, ops.prod
    var, std, norm = ops.var, ops.std, ops.norm
    any, all, count_nonzero = ops.any, ops.all, ops.count_nonzero
    sort, argsort, topk, kthvalue = ops.sort, ops.argsort, ops.topk, ops.kthvalue
    median, mode, unique = ops.median, ops.mode, ops.unique
    nonzero, argwhere, bincount = ops.nonzero, ops.argwhere, ops.bincount

    # -- shape --------------------------------------------------------------

    reshape = ops.reshape
    view = ops.view
    transpose = ops.transpose
    t = ops.t
    flatten = ops.flatten
    unflatten = ops.unflatten
    unsqueeze = ops.unsqueeze
    squeeze = ops.squeeze
    permute = ops.permute
    swapaxes = ops.swapaxes
    swapdims = ops.swapdims
    movedim = ops.movedim
    moveaxis = ops.moveaxis
    mT = property(ops.matrix_transpose, doc="The last two axes swapped (a view).")
    broadcast_to = ops.broadcast_to
    expand = ops.expand
    expand_as = ops.expand_as
    repeat = ops.repeat
    tile = ops.tile
    repeat_interleave = ops.repeat_interleave
    narrow = ops.narrow
    select = ops.select
    split = ops.split
    chunk = ops.chunk
    unbind = ops.unbind
    flip = ops.flip
    fliplr = ops.fliplr
    flipud = ops.flipud
    roll = ops.roll
    __getitem__ = ops.getitem
    gather = ops.gather
    take_along_dim = ops.take_along_dim
    scatter = ops.scatter
    scatter_add = ops.scatter_add
    index_select = ops.index_select
    index_add = ops.index_add
    index_copy = ops.index_copy
    index_fill = ops.index_fill
    masked_fill = ops.masked_fill
    masked_select = ops.masked_select
    tril = ops.tril
    triu = ops.triu
    diag = ops.diag
    diagonal = ops.diagonal
    diag_embed = ops.diag_embed
    diagonal_scatter = ops.diagonal_scatter
    trace = ops.trace
    matmul = ops.matmul

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """``scatter`` in place."""
        return _ip.inplace(self, "scatter_", lambda t, s: ops.scatter(
            t, dim, index, s, reduce=reduce), value if src is None else src)

    def scatter_add_(self, dim, index, src):
        """``scatter_add`` in place."""
        return _ip.inplace(self, "scatter_add_",
                           lambda t, s: ops.scatter_add(t, dim, index, s), src)

    def index_add_(self, dim, index, source, *, alpha=1):
        """``index_add`` in place."""
        return _ip.inplace(self, "index_add_",
                           lambda t, s: ops.index_add(t, dim, index, s, alpha=alpha), source)

    def index_copy_(self, dim, index, source):
        """``index_copy`` in place."""
        return _ip.inplace(self, "index_copy_",
                           lambda t, s: ops.index_copy(t, dim, index, s), source)

    def index_fill_(self, dim, index, value):
        """``index_fill`` in place."""
        return _ip.inplace(self, "index_fill_",
                           lambda t, v: ops.index_fill(t, dim, index, v), value)

    def masked_fill_(self, mask, value):
        """``masked_fill`` in place (the mask must broadcast to self's shape)."""
        return _ip.inplace(self, "masked_fill_",
                           lambda t, v: ops.masked_fill(t, mask, v), value)

    def tril_(self, diagonal=0):
        """``tril`` in place."""
        return _ip.inplace(self, "tril_", lambda t: ops.tril(t, diagonal))

    def triu_(self, diagonal=0):
        """``triu`` in place."""
        return _ip.inplace(self, "triu_", lambda t: ops.triu(t, diagonal))

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._d.shape[0]))

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of ``.data`` (NumPy's, zero-copy), for ``torch.from_dlpack(t)``,
        ``torch.as_tensor(t)`` and ``np.from_dlpack(t)``.

        As in PyTorch, a tensor that requires grad is not exported (the capsule
        cannot carry the graph): BufferError, use ``t.detach()``."""
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self.data.__dlpack__(stream=stream, max_version=max_version,
                                    dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        """``(device type, device id)`` of the data for DLPack: ``(1, 0)``, the CPU."""
        return self.data.__dlpack_device__()


use_tensor_class(Tensor)
