"""Tensor: an ndarray with a place in the computation graph.

A Tensor holds its value in ``.data`` (a NumPy array) and, when it was made by
a primitive from inputs that require grad, the node record ``_op``,
``_parents``, ``_settings`` that the graph interpreters walk (see ``graph``).
A 0-d Tensor is the scalar case: there is one engine.

Operators and methods forward to the primitives (``primitives``) and the
composites built from them (``ops``); this module holds no derivative code.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import graph

_FLOAT_KINDS = "f"


def _check_can_require_grad(dtype, where="requires_grad"):
    if np.dtype(dtype).kind not in _FLOAT_KINDS:
        raise TypeError(
            f"{where}: only floating-point tensors can require gradients, "
            f"but this tensor has dtype {np.dtype(dtype)}. Convert it first, e.g. "
            f"Tensor(data, dtype=np.float32, requires_grad=True).")


def _weak_scalar(value) -> bool:
    """Python and NumPy scalars adopt the tensor's dtype (never upcast it)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)


def lift(value, like, opname="op"):
    """Make ``value`` an operand of a Tensor op whose other operand is ``like``."""
    if isinstance(value, Tensor):
        return value
    kind = value.__class__
    if (kind is float or kind is int) and like._d.dtype.kind == "f":  # the common case, fast
        return Tensor._wrap(like._d.dtype.type(value))
    if _weak_scalar(value) and not isinstance(value, complex):
        dt = like._d.dtype
        if dt.kind != "f" or isinstance(value, (bool, np.bool_)):
            dt = np.result_type(dt, value.item() if isinstance(value, np.generic) else value)
        # A NumPy scalar, not a 0-d array: arithmetic on it is much cheaper.
        return Tensor._wrap(dt.type(value))
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{opname}: cannot use an array of dtype {arr.dtype} as an operand")
        return Tensor._wrap(arr)
    raise TypeError(
        f"{opname}: unsupported operand of type {type(value).__name__}; "
        f"expected a Tensor, a NumPy array or a number")


def _axes(axis, ndim, opname):
    """Normalise ``axis`` (None, int or sequence) to None or a sorted tuple."""
    if axis is None:
        return None
    items = (axis,) if isinstance(axis, (numbers.Integral, np.integer)) else tuple(axis)
    out = []
    for a in items:
        if not isinstance(a, (numbers.Integral, np.integer)):
            raise TypeError(f"{opname}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{opname}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else None


def _axis(axis, ndim, opname):
    """A single axis, normalised to a non-negative int."""
    if not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{opname}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{opname}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % ndim


def _resolve_shape(shape, size):
    """``shape`` with a -1 filled in, or None if it cannot hold ``size`` elements."""
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        return None
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


class Tensor:
    """``Tensor(data, requires_grad=False, dtype=None, name=None)``.

    ``data`` may be a Python number, a (nested) list, an ndarray or a Tensor;
    it is copied. Python floats and lists of floats become float64; a float32
    array stays float32.
    """

    __slots__ = ("_d", "_grad", "_rg", "_op", "_parents", "_settings",
                 "name", "tangent", "_seq", "__weakref__")

    # NumPy must hand `ndarray <op> Tensor` to our reflected operators
    # instead of broadcasting over the Tensor as an object.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data._d
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Tensor: cannot make a tensor from data of type "
                            f"{type(data).__name__}: {e}") from None
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"Tensor: data must be numeric, got dtype {arr.dtype} "
                            f"(from {type(data).__name__})")
        if requires_grad:
            _check_can_require_grad(arr.dtype, "Tensor(requires_grad=True)")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a str, got {type(name).__name__}")
        # 0-d values are held as NumPy scalars (see the ``data`` property).
        self._d = arr if arr.ndim else arr[()]
        self._grad = None
        self._rg = bool(requires_grad)
        self._op = None
        self._parents = ()
        self._settings = None
        self.name = name
        self.tangent = None
        self._seq = 0

    @classmethod
    def _wrap(cls, arr):
        """A constant Tensor around ``arr`` without copying or checks."""
        t = object.__new__(cls)
        t._d = arr
        t._grad = None
        t._rg = False
        t._op = None
        t._parents = ()
        t._settings = None
        t.name = None
        t.tangent = None
        t._seq = 0
        return t

    # -- attributes ---------------------------------------------------------

    @property
    def data(self):
        """The value, a NumPy array.

        Internally a 0-d result may be held as a NumPy scalar (arithmetic on
        those is several times faster than on 0-d arrays, which matters for
        scalar graphs); it becomes a 0-d array the first time it is read here.
        """
        d = self._d
        if d.__class__ is not np.ndarray:
            d = self._d = np.asarray(d)
        return d

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value.data
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        if value.dtype.kind not in "biufc":
            raise TypeError(f"data: must be a numeric array, got dtype {value.dtype}")
        if self._rg and value.dtype.kind != "f":
            _check_can_require_grad(value.dtype, "data")
        self._d = value

    @property
    def shape(self):
        return self._d.shape

    @property
    def ndim(self):
        return self._d.ndim

    @property
    def size(self):
        return self._d.size

    @property
    def dtype(self):
        return self._d.dtype

    @property
    def is_leaf(self):
        return self._op is None

    @property
    def grad_fn(self):
        """The primitive that made this tensor (None for leaves)."""
        return self._op

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        if flag:
            _check_can_require_grad(self._d.dtype, "requires_grad_()")
        elif not self.is_leaf:
            raise RuntimeError(
                "requires_grad_(False): only leaf tensors can stop requiring grad; "
                "use .detach() to get a tensor outside the graph")
        self._rg = bool(flag)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):
            if not isinstance(value, np.ndarray):
                raise TypeError(f"grad must be None, a Tensor or an ndarray, "
                                f"got {type(value).__name__}")
            value = Tensor._wrap(value)
        if value.shape != self.shape:
            raise ValueError(f"grad: assigned gradient has shape {value.shape}, "
                             f"but the tensor has shape {self.shape}")
        self._grad = value

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after ``backward()``."""
        if not self.is_leaf:
            graph._retained.add(self)
        return self

    @property
    def retains_grad(self):
        """True for a non-leaf tensor whose ``.grad`` is kept (see retain_grad)."""
        return self in graph._retained

    @retains_grad.setter
    def retains_grad(self, flag):
        if flag:
            self.retain_grad()
        else:
            graph._retained.discard(self)

    # -- conversion ---------------------------------------------------------

    def detach(self):
        """The same data, outside the graph (shares memory, as in PyTorch)."""
        return Tensor._wrap(self.data)

    def numpy(self):
        return self.data

    def item(self):
        if self._d.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python scalar, this one has shape {self.shape}")
        return self._d.item()

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._d, dtype=dtype, copy=True)
        return np.asarray(self._d, dtype=dtype)

    def astype(self, dtype):
        """A differentiable cast (gradients are cast back)."""
        return P.astype(self, dtype=np.dtype(dtype))

    float = lambda self: self.astype(np.float32)  # noqa: E731
    double = lambda self: self.astype(np.float64)  # noqa: E731

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._d.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             f"use .any() / .all() on .data")
        return bool(self._d)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._d.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._d.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self._d, separator=", ", prefix="Tensor(")
        extras = []
        if self._d.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self._d.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self._rg:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # -- the backward pass --------------------------------------------------

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d self / d leaf into ``.grad`` of every leaf that requires grad.

        ``gradient`` (the u in uᵀJ) is needed when self is not a scalar.
        ``create_graph=True`` records the backward pass itself (for higher
        derivatives) and implies ``retain_graph``. Without ``retain_graph`` the
        saved values are released and a second backward raises.
        """
        graph.backward(self, gradient, retain_graph, create_graph)

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
        return ops.power(lift(other, self, "pow"), self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return P.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return P.abs_(self)

    # -- comparisons and logic: constants, never differentiable -------------

    def _compare(self, other, fn, name):
        other = lift(other, self, name)._d
        try:
            return Tensor._wrap(fn(self._d, other))
        except ValueError:
            raise ValueError(f"{name}: shapes {self.shape} and {np.shape(other)} "
                             f"cannot be broadcast together") from None

    def __lt__(self, other): return self._compare(other, np.less, "lt")
    def __le__(self, other): return self._compare(other, np.less_equal, "le")
    def __gt__(self, other): return self._compare(other, np.greater, "gt")
    def __ge__(self, other): return self._compare(other, np.greater_equal, "ge")
    def __eq__(self, other): return self._compare(other, np.equal, "eq")
    def __ne__(self, other): return self._compare(other, np.not_equal, "ne")
    def __and__(self, other): return self._compare(other, np.logical_and, "and")
    def __or__(self, other): return self._compare(other, np.logical_or, "or")
    def __xor__(self, other): return self._compare(other, np.logical_xor, "xor")
    def __invert__(self): return Tensor._wrap(np.logical_not(self._d))

    # -- elementwise --------------------------------------------------------

    def exp(self): return P.exp(self)
    def log(self): return P.log(self)
    def sqrt(self): return P.sqrt(self)
    def abs(self): return P.abs_(self)
    def sin(self): return P.sin(self)
    def cos(self): return P.cos(self)
    def tanh(self): return P.tanh(self)
    def sigmoid(self): return P.sigmoid(self)
    def relu(self): return P.relu(self)
    def reciprocal(self): return P.reciprocal(self)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch/NumPy argument names
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return P.clip(self, lo=min, hi=max)

    clamp = clip

    # -- reductions ---------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        return P.sum_(self, axis=_axes(axis, self.ndim, "sum"), keepdims=bool(keepdims))

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        if self._d.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return P.max_(self, axis=_axes(axis, self.ndim, "max"), keepdims=bool(keepdims))

    def min(self, axis=None, keepdims=False):
        return -((-self).max(axis, keepdims))

    def logsumexp(self, axis=None, keepdims=False):
        return P.logsumexp(self, axis=_axes(axis, self.ndim, "logsumexp"), keepdims=bool(keepdims))

    def softmax(self, axis=-1):
        return P.softmax(self, axis=_axis(axis, self.ndim, "softmax"))

    def log_softmax(self, axis=-1):
        return P.log_softmax(self, axis=_axis(axis, self.ndim, "log_softmax"))

    # -- shape --------------------------------------------------------------

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        new = _resolve_shape(shape, self._d.size)
        if new is None:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self._d.size} elements) into shape {shape}")
        return P.reshape(self, shape=new) if new != self.shape else self

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        if sorted(int(a) % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        return P.transpose(self, axes=tuple(int(a) % self.ndim for a in axes))

    @property
    def T(self):
        return self.transpose() if self.ndim > 1 else self

    def flatten(self):
        return self.reshape(-1)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        try:
            np.broadcast_shapes(self.shape, shape)
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {self.shape} "
                             f"to shape {shape}") from None
        return P.broadcast_to(self, shape=shape) if shape != self.shape else self

    def __getitem__(self, index):
        index = P.normalized_index(index)
        try:
            return P.getitem(self, index=index)
        except (IndexError, ValueError, TypeError) as e:
            raise IndexError(f"getitem: invalid index for a tensor of shape {self.shape}: {e}") from None

    def __setitem__(self, index, value):
        if self._rg or self._op is not None:
            raise RuntimeError(
                "setitem: in-place assignment into a tensor that is part of a graph would "
                "corrupt its gradients; build the new value with ag.where / ag.concatenate, "
                "or assign into .data of a tensor that does not require grad")
        self.data[P.normalized_index(index)] = value.data if isinstance(value, Tensor) else value

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


graph.Tensor = Tensor
from . import ops  # noqa: E402  (the modules below import Tensor)
from . import primitives as P  # noqa: E402
