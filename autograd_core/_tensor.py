"""Tensor: an ndarray with a place in the computation graph.

What a tensor *is* (its value, gradient, version, tangents and node record)
lives in ``core.TensorBase``; this class adds what you can *do* with it. Its
methods are the module functions themselves (``x.exp()`` is ``ag.exp(x)``,
the same function object), so an op's argument checks and documentation
live in one place, ``ops``; this module holds no derivative code.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import autograd, devices, dtypes, ops
from . import numpy_protocol
from . import primitives as P
from . import random as _random
from .core import TensorBase, _escape, check_can_require_grad, lift, use_tensor_class, wrap
from .ops import _args
from .ops import conversion as _conv
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


# -- helpers of the dtype, device and Python-protocol methods ---------------

def _cast_method(dtype, name):
    """The method ``t.<name>()``: ``t.to(dtype)`` (e.g. ``t.float()``)."""
    def cast(self, memory_format=_conv.preserve_format):
        return self.to(dtype, memory_format=memory_format)
    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = (f"``self.to(ag.{np.dtype(dtype).name})``: differentiable to a floating "
                    f"dtype, a graph cut (a constant) otherwise; self if already "
                    f"{np.dtype(dtype)}.\n\n"
                    f"        >>> ag.tensor([1.5, 0.0]).{name}().dtype\n"
                    f"        dtype('{np.dtype(dtype).name}')\n")
    return cast


def _is_device(a):
    return isinstance(a, (str, devices.device)) or (
        isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_)))


def _to_args(args, dtype, device, copy):
    """``to``'s overloads: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
    ``to(other)``, each optionally followed by ``non_blocking`` and ``copy``."""
    specs = list(args)
    flags = []
    while specs and isinstance(specs[-1], (bool, np.bool_)):
        flags.insert(0, specs.pop())
    if len(specs) > 2 or len(flags) > 2:
        raise TypeError(f"to: expected to(dtype), to(device), to(device, dtype) or to(tensor), "
                        f"got {len(args)} positional arguments")
    pos_dtype = pos_device = None
    if len(specs) == 2:
        pos_device, pos_dtype = specs
    elif specs and isinstance(specs[0], TensorBase):
        pos_dtype, pos_device = specs[0]._d.dtype, devices.CPU
    elif specs and _is_device(specs[0]):
        pos_device = specs[0]
    elif specs:
        pos_dtype = specs[0]
    for pos, kw, name in ((pos_dtype, dtype, "dtype"), (pos_device, device, "device")):
        if pos is not None and kw is not None:
            raise TypeError(f"to: got {name} both as a positional and as a keyword argument")
    dtype = dtype if pos_dtype is None else pos_dtype
    device = device if pos_device is None else pos_device
    if len(flags) == 2:           # (non_blocking, copy): non_blocking has nothing to do here
        copy = flags[1]
    return dtype, device, bool(copy)


def _size_of(fn, args, size):
    """The shape from ``fn(2, 3)``, ``fn((2, 3))`` or ``fn(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        args = (size,)
    if not args:
        raise TypeError(f"{fn}() missing the size: write e.g. {fn}(2, 3) or {fn}((2, 3))")
    shape = _args.shape_args(args, fn, "size")
    if any(n < 0 for n in shape):
        raise ValueError(f"{fn}: sizes must be non-negative, got {shape}")
    return shape


def _new(t, fn, make, dtype, device, requires_grad):
    """A new tensor ``make(dtype)`` with t's dtype unless ``dtype`` is given (``new_*``)."""
    devices.check_device(device, fn)
    dt = t._d.dtype if dtype is None else dtypes.as_dtype(dtype, fn)
    if requires_grad:
        check_can_require_grad(dt, f"{fn}(requires_grad=True)")
    out = make(dt)
    out = out if isinstance(out, TensorBase) else wrap(out)
    return out.requires_grad_(True) if requires_grad else out


def _python_number(t, fn):
    """The one element of ``t`` as a Python number (for ``round``, ``math.floor``, ...)."""
    if t._d.size != 1:
        raise TypeError(f"{fn}(): only a tensor with one element converts to a Python number, "
                        f"this one has shape {t.shape}")
    _escape(t, f"{fn}()")
    return np.asarray(t._d).reshape(()).item()


# -- helpers of the in-place random methods ---------------------------------

def _fill_random(t, fn, generator, sample, continuous=True):
    """``t`` filled in place with ``sample(rng, shape)`` rounded to its dtype, drawn from
    ``generator`` (default: the global generator), with PyTorch's in-place rules."""
    if continuous and t._d.dtype.kind != "f":
        raise TypeError(f"{fn}: draws from a continuous distribution and needs a floating-point "
                        f"tensor, got dtype {t._d.dtype} (convert with .float() first)")
    rng = _random.get_generator(generator, fn)
    return _ip.overwrite(t, fn, lambda shape, dt: P.draw(_sampled, rng, sample, shape, dt))


def _sampled(rng, sample, shape, dt):
    """``sample(rng, shape)`` rounded to ``dt`` (what ``P.draw`` repeats in a compiled step)."""
    return np.asarray(sample(rng, shape)).astype(dt)


def _number(x, fn, arg):
    """A real number argument (a Python or NumPy number, or a one-element tensor)."""
    if isinstance(x, TensorBase) and x._d.size == 1:
        x = np.asarray(x._d).reshape(()).item()
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{fn}: {arg} must be a real number, got {type(x).__name__} {x!r}")
    return x


def _random_range(t, low, high, fn):
    """[low, high) of ``random_``: torch's defaults, checked against t's dtype."""
    dt = t._d.dtype
    if dt.kind == "c":
        raise TypeError(f"{fn}: draws integers, which a complex tensor (dtype {dt}) cannot hold")
    if high is None and low is not None:      # random_(to)
        low, high = 0, low
    if low is None:
        low = 0
    if high is None:                           # random_(): every integer the dtype holds
        if dt.kind == "f":
            high = 2 ** (np.finfo(dt).nmant + 1) + 1
        elif dt.kind == "b":
            high = 2
        else:
            high = int(np.iinfo(dt).max) + 1
    for v, name in ((low, "from"), (high, "to")):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"{fn}: {name} must be an int, got {type(v).__name__} {v!r}")
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError(f"{fn}: expects from < to, got from={low}, to={high}")
    if dt.kind in "iu" and (low < np.iinfo(dt).min or high - 1 > np.iinfo(dt).max):
        raise ValueError(f"{fn}: [from, to) = [{low}, {high}) does not fit in dtype {dt}")
    if dt.kind == "b" and (low < 0 or high > 2):
        raise ValueError(f"{fn}: [from, to) = [{low}, {high}) does not fit in dtype bool")
    return low, high


def _diagonal_index(shape, wrap_rows, fn):
    """Integer index arrays of the main diagonal (``np.fill_diagonal``'s positions)."""
    if len(shape) < 2:
        raise ValueError(f"{fn}: the tensor must have at least 2 dimensions, got shape {shape}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise ValueError(f"{fn}: all dimensions of a tensor with more than 2 must be of equal "
                         f"length, got shape {shape}")
    size = math.prod(shape)
    step = 1 + sum(math.prod(shape[i + 1:]) for i in range(len(shape) - 1))
    end = size if wrap_rows or len(shape) > 2 else min(shape[0], shape[1]) * shape[1]
    return np.unravel_index(np.arange(0, end, step), shape)


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
        """The shape, as torch: ``x.size()`` (a tuple), ``x.size(dim)`` (one size).

            >>> x = ag.ones(2, 3)
            >>> x.size(), x.size(1), x.size(-2)
            ((2, 3), 3, 2)
        """
        return _Size(self._d.shape)

    @property
    def T(self):
        """The axes reversed (``x.transpose()``); a 0-d or 1-d tensor is itself.

            >>> ag.ones(2, 3, 4).T.shape
            (4, 3, 2)
        """
        return ops.transpose(self) if self.ndim > 1 else self

    # -- the backward pass --------------------------------------------------

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d self / d leaf into ``.grad`` of every leaf that requires grad.

        ``gradient`` (the u in uᵀJ) is needed unless self has one element.
        ``create_graph=True`` records the backward pass itself (for higher
        derivatives) and implies ``retain_graph``. Without ``retain_graph`` the
        saved values are released and a second backward raises. ``inputs``
        (a tensor or a sequence): accumulate into these only (leaves or not).

            >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> (w * w).sum().backward()
            >>> w.grad
            Tensor([2., 4.], dtype=float32)
            >>> (w * 3).backward(ag.tensor([1.0, 0.0]))        # a non-scalar needs its cotangent
            >>> w.grad                                       # accumulated
            Tensor([5., 4.], dtype=float32)
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

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

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
        """self += alpha·other, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.add_(ag.ones(3), alpha=10)
            Tensor([11., 12., 13.], dtype=float32)
        """
        if alpha is not None:
            other = ops.mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
        return _ip.ufunc_(self, "add_", np.add, other, ops.add)

    def sub_(self, other, *, alpha=None):
        """self -= alpha·other, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.sub_(1.0)
            Tensor([0., 1., 2.], dtype=float32)
        """
        if alpha is not None:
            other = ops.mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
        return _ip.ufunc_(self, "sub_", np.subtract, other, ops.sub)

    def mul_(self, other):
        """self *= other, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.mul_(2)
            Tensor([2., 4., 6.], dtype=float32)
        """
        return _ip.ufunc_(self, "mul_", np.multiply, other, ops.mul)

    def div_(self, other):
        """self /= other, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.div_(2)
            Tensor([0.5, 1. , 1.5], dtype=float32)
        """
        return _ip.ufunc_(self, "div_", np.true_divide, other, ops.div)

    def pow_(self, exponent):
        """self **= exponent, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.pow_(2)
            Tensor([1., 4., 9.], dtype=float32)
        """
        return _ip.ufunc_(self, "pow_", np.power, exponent, ops.power)

    def floor_divide_(self, other):
        """self //= other, in place.

            >>> ag.tensor([7, -7]).floor_divide_(2)
            Tensor([ 3, -4])
        """
        return _ip.inplace(self, "floor_divide_", ops.floor_divide, other)

    def remainder_(self, other):
        """self %= other, in place.

            >>> ag.tensor([7, -7]).remainder_(3)
            Tensor([1, 2])
        """
        return _ip.inplace(self, "remainder_", ops.remainder, other)

    __iadd__ = add_
    __ifloordiv__ = floor_divide_
    __imod__ = remainder_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def clamp_(self, min=None, max=None):  # noqa: A002
        """self = clamp(self, min, max), in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.clamp_(min=1.5, max=2.5)
            Tensor([1.5, 2. , 2.5], dtype=float32)
        """
        return _ip.inplace(self, "clamp_", lambda t: ops.clip(t, min, max))

    clip_ = clamp_

    def zero_(self):
        """Fill with zeros, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.zero_()
            Tensor([0., 0., 0.], dtype=float32)
        """
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` (a number or a one-element tensor), in place.

            >>> x = ag.zeros(2, 3)
            >>> x.fill_(7.0)
            Tensor([[7., 7., 7.],
                    [7., 7., 7.]], dtype=float32)
        """
        value = _ip.fill_value(self, value, "fill_")
        return _ip.inplace(self, "fill_", lambda t, v: ops.broadcast_to(
            ops.reshape(ops.astype(v, t.dtype), ()), t.shape), value)

    def copy_(self, src):
        """Copy ``src`` (broadcast to self's shape, cast to its dtype) into self, in place.

            >>> x = ag.zeros(2, 3)
            >>> x.copy_(ag.tensor([1, 2, 3]))                # broadcast and cast
            Tensor([[1., 2., 3.],
                    [1., 2., 3.]], dtype=float32)
        """
        return _ip.inplace(self, "copy_", lambda t, s: _copy_value(s, t), src)

    def __setitem__(self, index, value):
        _ip.setitem(self, index, value)

    def relu_(self):
        """max(self, 0), in place.

            >>> ag.tensor([-1.0, 2.0]).relu_()
            Tensor([0., 2.], dtype=float32)
        """
        return _ip.inplace(self, "relu_", ops.relu)

    def sigmoid_(self):
        """σ(self), in place.

            >>> ag.zeros(2).sigmoid_()
            Tensor([0.5, 0.5], dtype=float32)
        """
        return _ip.inplace(self, "sigmoid_", ops.sigmoid)

    def tanh_(self):
        """tanh(self), in place.

            >>> ag.zeros(2).tanh_()
            Tensor([0., 0.], dtype=float32)
        """
        return _ip.inplace(self, "tanh_", ops.tanh)

    def exp_(self):
        """exp(self), in place.

            >>> ag.zeros(2).exp_()
            Tensor([1., 1.], dtype=float32)
        """
        return _ip.inplace(self, "exp_", ops.exp)

    def neg_(self):
        """-self, in place.

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.neg_()
            Tensor([-1., -2., -3.], dtype=float32)
        """
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
    fmod, remainder, lerp, floor_divide = ops.fmod, ops.remainder, ops.lerp, ops.floor_divide
    isclose, allclose = ops.isclose, ops.allclose
    mm, bmm, mv, dot, inner, outer, ger, addmm = (ops.mm, ops.bmm, ops.mv, ops.dot, ops.inner,
                                                  ops.outer, ops.ger, ops.addmm)

    def where(self, condition, y):
        """self where ``condition`` is true, else ``y`` (``torch.Tensor.where``).

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.where(x > 1.5, 0.0)
            Tensor([0., 2., 3.], dtype=float32)
        """
        return ops.where(condition, self, y)

    def astype(self, dtype):
        """A cast: differentiable to a floating dtype, a graph cut to integer or bool.

            >>> ag.tensor([1.7, -1.7]).astype(ag.int64)           # NumPy's spelling of to(dtype)
            Tensor([ 1, -1])
        """
        return ops.astype(self, dtype)

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
    mT = property(ops.matrix_transpose, doc="""The last two axes swapped (a view).

            >>> ag.ones(5, 2, 3).mT.shape
            (5, 3, 2)
        """)
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

    @_args.also_spelled("axis", "dim")  # as the out-of-place op
    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """``scatter`` in place.

            >>> x = ag.zeros(2, 3)
            >>> x.scatter_(1, ag.tensor([[2], [0]]), 1.0)
            Tensor([[0., 0., 1.],
                    [1., 0., 0.]], dtype=float32)
        """
        return _ip.inplace(self, "scatter_", lambda t, s: ops.scatter(
            t, dim, index, s, reduce=reduce), value if src is None else src)

    @_args.also_spelled("axis", "dim")  # as the out-of-place op
    def scatter_add_(self, dim, index, src):
        """``scatter_add`` in place.

            >>> x = ag.zeros(2, 3)
            >>> x.scatter_add_(1, ag.tensor([[0, 0]]), ag.ones(1, 2))
            Tensor([[2., 0., 0.],
                    [0., 0., 0.]], dtype=float32)
        """
        return _ip.inplace(self, "scatter_add_",
                           lambda t, s: ops.scatter_add(t, dim, index, s), src)

    @_args.also_spelled("axis", "dim")  # as the out-of-place op
    def index_add_(self, dim, index, source, *, alpha=1):
        """``index_add`` in place.

            >>> x = ag.zeros(2, 3)
            >>> x.index_add_(1, ag.tensor([0, 0]), ag.ones(2, 2))
            Tensor([[2., 0., 0.],
                    [2., 0., 0.]], dtype=float32)
        """
        return _ip.inplace(self, "index_add_",
                           lambda t, s: ops.index_add(t, dim, index, s, alpha=alpha), source)

    @_args.also_spelled("axis", "dim")  # as the out-of-place op
    def index_copy_(self, dim, index, source):
        """``index_copy`` in place.

            >>> x = ag.zeros(2, 3)
            >>> x.index_copy_(1, ag.tensor([2]), ag.ones(2, 1))
            Tensor([[0., 0., 1.],
                    [0., 0., 1.]], dtype=float32)
        """
        return _ip.inplace(self, "index_copy_",
                           lambda t, s: ops.index_copy(t, dim, index, s), source)

    @_args.also_spelled("axis", "dim")  # as the out-of-place op
    def index_fill_(self, dim, index, value):
        """``index_fill`` in place.

            >>> x = ag.zeros(2, 3)
            >>> x.index_fill_(0, ag.tensor([1]), 5.0)
            Tensor([[0., 0., 0.],
                    [5., 5., 5.]], dtype=float32)
        """
        return _ip.inplace(self, "index_fill_",
                           lambda t, v: ops.index_fill(t, dim, index, v), value)

    def masked_fill_(self, mask, value):
        """``masked_fill`` in place (the mask must broadcast to self's shape).

            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.masked_fill_(x > 1.5, 0.0)
            Tensor([1., 0., 0.], dtype=float32)
        """
        return _ip.inplace(self, "masked_fill_",
                           lambda t, v: ops.masked_fill(t, mask, v), value)

    def tril_(self, diagonal=0):
        """``tril`` in place.

            >>> ag.ones(2, 2).tril_()
            Tensor([[1., 0.],
                    [1., 1.]], dtype=float32)
        """
        return _ip.inplace(self, "tril_", lambda t: ops.tril(t, diagonal))

    def triu_(self, diagonal=0):
        """``triu`` in place.

            >>> ag.ones(2, 2).triu_(diagonal=1)
            Tensor([[0., 1.],
                    [0., 0.]], dtype=float32)
        """
        return _ip.inplace(self, "triu_", lambda t: ops.triu(t, diagonal))

    # -- dtype, device and the Python protocol --------------------------------

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (other's dtype
        and device), as ``torch.Tensor.to``.

        Returns self when nothing changes (and ``copy`` is False), else a new tensor:
        a cast is differentiable to a floating dtype and a graph cut (a constant)
        otherwise. The only device is the CPU: ``'cuda'`` raises ``ag.DeviceError``.
        ``non_blocking`` is accepted and has nothing to do. ``memory_format``: see clone.

            >>> x = ag.tensor([1.0, 2.0])
            >>> x.to(ag.float64)
            Tensor([1., 2.])
            >>> x.to("cpu") is x
            True
            >>> x.to(ag.tensor([1, 2])).dtype           # another tensor's dtype
            dtype('int64')
        """
        dtype, device, copy = _to_args(args, dtype, device, copy)
        devices.check_device(device, "to")
        fmt = _conv.preserve_format if memory_format is None else memory_format
        out = self
        if dtype is not None and dtypes.as_dtype(dtype, "to") != self._d.dtype:
            out = ops.astype(self, dtypes.as_dtype(dtype, "to"))
        if fmt is not _conv.preserve_format:
            out = _conv.contiguous(out, fmt)
        if copy and out is self:
            out = ops.clone(self, memory_format=fmt)
        return out

    float = _cast_method(np.float32, "float")
    double = _cast_method(np.float64, "double")
    half = _cast_method(np.float16, "half")
    long = _cast_method(np.int64, "long")
    int = _cast_method(np.int32, "int")
    short = _cast_method(np.int16, "short")
    char = _cast_method(np.int8, "char")
    byte = _cast_method(np.uint8, "byte")
    bool = _cast_method(np.bool_, "bool")
    cfloat = _cast_method(np.complex64, "cfloat")
    cdouble = _cast_method(np.complex128, "cdouble")

    def type(self, dtype=None, non_blocking=False):
        """Without ``dtype``: PyTorch's type name (``'torch.FloatTensor'``). With one
        (a dtype or such a name): ``self.to(dtype)``.

            >>> ag.ones(1).type()
            'torch.FloatTensor'
            >>> ag.ones(1).type(ag.float64).dtype
            dtype('float64')
        """
        if dtype is None:
            return dtypes.type_name(self._d.dtype)
        if isinstance(dtype, str):
            if "cuda." in dtype:                          # 'torch.cuda.FloatTensor'
                devices.check_device("cuda", "type")
            dtype = dtypes.from_type_name(dtype, "type")
        return self.to(dtype)

    def type_as(self, other):
        """``self.to(other.dtype)``.

            >>> ag.tensor([1, 2]).type_as(ag.ones(1))
            Tensor([1., 2.], dtype=float32)
        """
        if not isinstance(other, TensorBase):
            raise TypeError(f"type_as: other must be a Tensor, got {type(other).__name__}")
        return self.to(other._d.dtype)

    @property
    def device(self):
        """``ag.device('cpu')``: it prints ``cpu`` and equals ``'cpu'``.

            >>> ag.ones(1).device, ag.ones(1).device == "cpu"
            (device(type='cpu'), True)
        """
        return devices.CPU

    is_cuda = False
    is_cpu = True

    def cpu(self, memory_format=_conv.preserve_format):
        """Self: the data are on the CPU already.

            >>> x = ag.ones(2)
            >>> x.cpu() is x
            True
        """
        return self.to(memory_format=memory_format)

    def cuda(self, device=None, non_blocking=False, memory_format=_conv.preserve_format):
        """Raises ``ag.DeviceError``: autograd_core computes with NumPy on the CPU only.

            >>> ag.ones(2).cuda()
            Traceback (most recent call last):
                ...
            autograd_core.devices.DeviceError: cuda: device 'cuda' is not available: autograd_core computes with NumPy on the CPU only; use device='cpu' (or leave it out)
        """
        devices.check_device("cuda" if device is None else device, "cuda")
        raise devices.DeviceError(f"cuda: device must be a CUDA device, got {device!r}")

    clone = ops.clone
    contiguous = _conv.contiguous
    is_contiguous = _conv.is_contiguous
    numel = nelement = ops.numel
    is_nonzero = ops.is_nonzero
    is_floating_point = dtypes.is_floating_point
    is_complex = dtypes.is_complex

    def dim(self):
        """The number of dimensions (``ndim``).

            >>> ag.ones(2, 3).dim()
            2
        """
        return self._d.ndim

    ndimension = dim

    def element_size(self):
        """Bytes per element (``itemsize``).

            >>> ag.ones(2).element_size(), ag.ones(2, dtype=ag.float64).element_size()
            (4, 8)
        """
        return self._d.dtype.itemsize

    @property
    def itemsize(self):
        """Bytes per element.

            >>> ag.ones(2).itemsize
            4
        """
        return self._d.dtype.itemsize

    @property
    def nbytes(self):
        """Bytes of all elements, numel · itemsize.

            >>> ag.ones(2, 3).nbytes                          # 6 · 4
            24
        """
        return self._d.size * self._d.dtype.itemsize

    def tolist(self):
        """The values as nested Python lists of Python numbers (a number for a 0-d tensor).

            >>> ag.tensor([[1, 2], [3, 4]]).tolist(), ag.tensor(2.5).tolist()
            ([[1, 2], [3, 4]], 2.5)
        """
        _escape(self, "tolist()")
        return self._d.tolist()

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with self's dtype (unless ``dtype``): ``x.new_zeros(2, 3)``.

            >>> ag.ones(1, dtype=ag.int32).new_zeros((2, 2))
            Tensor([[0, 0],
                    [0, 0]], dtype=int32)
        """
        shape = _size_of("new_zeros", size, None)
        return _new(self, "new_zeros", lambda dt: np.zeros(shape, dt), dtype, device,
                    requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size`` with self's dtype (unless ``dtype``).

            >>> ag.ones(1, dtype=ag.float64).new_ones(2)
            Tensor([1., 1.])
        """
        shape = _size_of("new_ones", size, None)
        return _new(self, "new_ones", lambda dt: np.ones(shape, dt), dtype, device,
                    requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """Uninitialised values of ``size`` with self's dtype (unless ``dtype``).

            >>> ag.ones(1, dtype=ag.float64).new_empty(2, 3).dtype
            dtype('float64')
        """
        shape = _size_of("new_empty", size, None)
        return _new(self, "new_empty", lambda dt: np.empty(shape, dt), dtype, device,
                    requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        """``fill_value`` everywhere, of ``size``, with self's dtype (unless ``dtype``).

            >>> ag.ones(1, dtype=ag.int64).new_full((2,), 7)
            Tensor([7, 7])
        """
        shape = _size_of("new_full", (), size)
        value = fill_value._d if isinstance(fill_value, TensorBase) else fill_value
        if np.ndim(value) != 0 or np.result_type(value).kind not in "biufc":
            raise TypeError(f"new_full: fill_value must be a number, got {fill_value!r}")
        return _new(self, "new_full", lambda dt: np.full(shape, value, dt), dtype, device,
                    requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` with self's dtype (unless ``dtype``), a new leaf.

            >>> ag.ones(1, dtype=ag.float64).new_tensor([1, 2])
            Tensor([1., 2.])
        """
        def make(dt):
            if isinstance(data, TensorBase):
                return Tensor(data, dtype=dt)          # the constructor copies (and is traced)
            try:
                return np.array(data, dtype=dt)
            except (TypeError, ValueError) as e:
                raise TypeError(f"new_tensor: cannot make a {dt} tensor from "
                                f"{type(data).__name__}: {e}") from None
        return _new(self, "new_tensor", make, dtype, device, requires_grad)

    def detach_(self):
        """Take self out of the graph, in place: a leaf that does not require grad.
        Refused for a view of a graph tensor (use ``detach()``).

            >>> y = ag.tensor([1.0], requires_grad=True) * 2
            >>> y.detach_().requires_grad, y.is_leaf
            (False, True)
        """
        if self._rg and isinstance(self._op, P.View) and self._parents \
                and np.may_share_memory(self._d, self._parents[0]._d):
            raise RuntimeError("detach_: cannot detach a view of a tensor in the graph in place; "
                               "use detach() instead")
        if self._rg:
            self._op, self._parents, self._settings, self._seq = None, (), None, 0
            self._prev = None
            self._rg = False
        self._tan = None
        return self

    def __contains__(self, element):
        """``element in t``: some element (or row, by broadcasting) equals it."""
        if not isinstance(element, (TensorBase, numbers.Number, np.generic)):
            raise TypeError(f"Tensor.__contains__ only supports a Tensor or a number, "
                            f"got {type(element).__name__}")
        found = ops.eq(self, element)
        _escape(found, "`in` (Python control flow on a tensor's value)")
        return bool(np.any(found._d))

    def __reversed__(self):
        """Self with the first axis reversed (a copy; a 0-d tensor is itself)."""
        return self if self.ndim == 0 else ops.clone(self[::-1])

    def __round__(self, ndigits=None):
        return round(_python_number(self, "round"), ndigits)

    def __floor__(self):
        return math.floor(_python_number(self, "math.floor"))

    def __ceil__(self):
        return math.ceil(_python_number(self, "math.ceil"))

    def __trunc__(self):
        return math.trunc(_python_number(self, "math.trunc"))

    def __complex__(self):
        return complex(_python_number(self, "complex"))

    # Module functions that are methods under torch's names too (tests/test_method_agreement.py).
    add = ops.add
    sub = subtract = ops.sub
    mul = multiply = ops.mul
    div = divide = true_divide = ops.div
    negative = ops.neg
    absolute = ops.abs
    logical_and, logical_or, logical_xor = ops.logical_and, ops.logical_or, ops.logical_xor
    logical_not = ops.logical_not
    equal = ops.equal
    greater, greater_equal, less, less_equal = ops.greater, ops.greater_equal, ops.less, \
        ops.less_equal
    not_equal = ops.not_equal

    # -- in place, random (PyTorch's rules: see ops.inplace.overwrite) ---------

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of N(mean, std²), in place: drawn in float64 from
        ``generator`` (default: the global generator) and rounded to the dtype,
        the numbers of ``nn.init.normal_``.

            >>> x = ag.zeros(1000).normal_(mean=3.0, std=0.1)
            >>> round(float(x.mean()))
            3
        """
        mean, std = _number(mean, "normal_", "mean"), _number(std, "normal_", "std")
        if not std >= 0:
            raise ValueError(f"normal_: std must be non-negative, got {std}")
        return _fill_random(self, "normal_", generator,
                            lambda rng, shape: rng.normal(mean, std, size=shape))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with samples of U(a, b), in place (float64 draws rounded to the dtype,
        the numbers of ``nn.init.uniform_``).

            >>> x = ag.zeros(1000).uniform_(-1.0, 1.0)
            >>> bool((x >= -1).all() and (x < 1).all())
            True
        """
        a, b = _number(a, "uniform_", "a"), _number(b, "uniform_", "b")
        if not a <= b:
            raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
        return _fill_random(self, "uniform_", generator,
                            lambda rng, shape: rng.uniform(a, b, size=shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to self's
        shape), else 0, in place; any dtype.

            >>> ag.zeros(4).bernoulli_(1.0)
            Tensor([1., 1., 1., 1.], dtype=float32)
        """
        probs = p._d if isinstance(p, TensorBase) else np.asarray(p)
        if probs.dtype.kind not in "biuf":
            raise TypeError(f"bernoulli_: p must be a number or a real tensor, got {p!r}")
        if probs.size and not (np.all(probs >= 0) and np.all(probs <= 1)):
            raise ValueError(f"bernoulli_: p must be in [0, 1], got {p!r}")
        try:
            np.broadcast_to(probs, self.shape)
        except ValueError:
            raise ValueError(f"bernoulli_: p of shape {probs.shape} cannot be broadcast to the "
                             f"tensor's shape {self.shape}") from None
        return _fill_random(self, "bernoulli_", generator,
                            lambda rng, shape: rng.random(shape) < probs, continuous=False)

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with samples of the exponential distribution of rate λ (density
        λe^{-λx}), in place.

            >>> x = ag.zeros(1000).exponential_(lambd=2.0)
            >>> bool((x >= 0).all()), round(float(x.mean()), 1)        # mean 1/λ
            (True, 0.5)
        """
        lambd = _number(lambd, "exponential_", "lambd")
        if not lambd > 0:
            raise ValueError(f"exponential_: expects lambd > 0, got lambd={lambd}")
        return _fill_random(self, "exponential_", generator,
                            lambda rng, shape: rng.exponential(1.0 / lambd, size=shape))

    def geometric_(self, p, *, generator=None):
        """Fill with samples of the geometric distribution P(k) = (1-p)^{k-1}·p,
        k = 1, 2, … (the trial of the first success), in place; any numeric dtype.

            >>> x = ag.zeros(1000).geometric_(0.5)
            >>> bool((x >= 1).all()), round(float(x.mean()))             # mean 1/p
            (True, 2)
        """
        p = _number(p, "geometric_", "p")
        if not 0 < p < 1:
            raise ValueError(f"geometric_: expects p in (0, 1), got p={p}")
        return _fill_random(self, "geometric_", generator,
                            lambda rng, shape: rng.geometric(p, size=shape), continuous=False)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with samples of the Cauchy distribution, density
        1/(πσ(1 + ((x-median)/σ)²)), in place.

            >>> ag.zeros(1000).cauchy_(median=5.0).median().round()
            Tensor(5., dtype=float32)
        """
        median, sigma = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
        if not sigma > 0:
            raise ValueError(f"cauchy_: expects sigma > 0, got sigma={sigma}")
        return _fill_random(self, "cauchy_", generator,
                            lambda rng, shape: median + sigma * rng.standard_cauchy(size=shape))

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp(N(mean, std²)) samples, in place (``mean``, ``std`` of the logarithm).

            >>> x = ag.zeros(1000).log_normal_(mean=0.0, std=0.5)
            >>> bool((x > 0).all())
            True
        """
        mean, std = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
        if not std > 0:
            raise ValueError(f"log_normal_: expects std > 0, got std={std}")
        return _fill_random(self, "log_normal_", generator,
                            lambda rng, shape: rng.lognormal(mean, std, size=shape))

    def random_(self, from_=None, to=None, *, generator=None):
        """Fill with integers uniform on [from_, to), in place, as ``torch.Tensor.random_``:
        ``random_(to)`` is [0, to); ``random_()`` is every integer the dtype holds
        exactly ([0, 2^mantissa] for floating dtypes, [0, max] for integer ones).

            >>> x = ag.zeros(100).random_(0, 3)              # integers in [0, 3)
            >>> sorted(set(x.tolist()))
            [0.0, 1.0, 2.0]
        """
        low, high = _random_range(self, from_, to, "random_")
        draw = np.uint64 if high > 1 << 63 else np.int64
        return _fill_random(self, "random_", generator, lambda rng, shape: rng.integers(
            low, high, size=shape, dtype=draw), continuous=False)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal (i, i, …), in place. A tensor of more
        than 2 dimensions must have them equal; a tall matrix with ``wrap=True``
        starts the diagonal again after N+1 rows (``np.fill_diagonal``).

            >>> x = ag.zeros(2, 3)
            >>> x.fill_diagonal_(1.0)
            Tensor([[1., 0., 0.],
                    [0., 1., 0.]], dtype=float32)
        """
        value = _number(fill_value, "fill_diagonal_", "fill_value")
        _ip.setitem(self, _diagonal_index(self.shape, wrap, "fill_diagonal_"), value)
        return self

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
