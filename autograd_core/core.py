"""What a tensor *is*: its value, its gradient, its version, its tangents and
its node record — and ``apply``, which makes the output of a primitive.

The layers of the engine, each importing only those below it::

    graph       modes, forward levels, toposort, the sweep      (no tensors)
    core        TensorBase, apply, lift, tangents, rebasing     (this module)
    primitives  THE TABLE: forward, VJP and JVP of every primitive
    ops         composites, argument checks, module functions, in-place ops
    autograd    backward() into .grad, grad(), forward_ad (dual numbers)
    tensor      Tensor: operators and methods (the module functions), NumPy protocols

``Tensor`` (in ``tensor``) adds what you can *do* with a tensor to what it
*is* (here). The modules in between create tensors, so they need the
concrete class without importing the module that defines it on top of them;
``tensor`` hands it down once with ``use_tensor_class`` — dependency
inversion instead of an import circle.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import graph
from .graph import Version, bump_version, clock, next_seq, state

__all__ = ["TensorBase", "apply", "constant", "wrap", "lift", "use_tensor_class", "tensor_class", "rebase", "snapshot",
           "check_can_require_grad"]

_new = object.__new__
_Tensor = None          # the concrete class (set by use_tensor_class)
_NO_SETTINGS: dict = {}


def use_tensor_class(cls):
    """Make ``cls`` (a subclass of TensorBase) the class of every tensor the engine creates.

        >>> from autograd_core.core import tensor_class, use_tensor_class
        >>> use_tensor_class(tensor_class())          # what autograd_core does on import
        >>> use_tensor_class(int)
        Traceback (most recent call last):
            ...
        TypeError: use_tensor_class: expected a subclass of TensorBase
    """
    global _Tensor
    if not (isinstance(cls, type) and issubclass(cls, TensorBase)):
        raise TypeError("use_tensor_class: expected a subclass of TensorBase")
    _Tensor = cls


def tensor_class():
    """The concrete Tensor class.

        >>> from autograd_core.core import tensor_class
        >>> tensor_class() is ag.Tensor
        True
    """
    return _Tensor


def tracing():
    """True while ``autograd_core.compile`` records a function: ops must then not
    take shortcuts that depend on the values of tensors."""
    return graph.tracer() is not None


def _escape(t, what):
    """A traced tensor's value leaves the engine (the compiler refuses that)."""
    tracer = graph.tracer()
    if tracer is not None:
        tracer.escape(t, what)


def check_can_require_grad(dtype, where="requires_grad"):
    """Raise TypeError, naming ``where``, unless ``dtype`` is a floating dtype:
    only those can require gradients, as in PyTorch.

        >>> from autograd_core.core import check_can_require_grad
        >>> check_can_require_grad(np.float32)                 # fine: returns None
        >>> ag.tensor([1, 2], requires_grad=True)
        Traceback (most recent call last):
            ...
        TypeError: tensor: only floating-point tensors can require gradients, but the result has dtype int64
    """
    if np.dtype(dtype).kind != "f":
        raise TypeError(
            f"{where}: only floating-point tensors can require gradients, "
            f"but this tensor has dtype {np.dtype(dtype)}. Convert it first, e.g. "
            f"Tensor(data, dtype=np.float32, requires_grad=True).")


class TensorBase:
    """The state of a tensor. See ``Tensor`` for the user's view.

    Slots: ``_d`` the value (an ndarray, or a NumPy scalar for 0-d values:
    arithmetic on those is several times cheaper); ``_grad``; ``_rg``
    (requires grad); the node record ``_op``, ``_parents``, ``_settings``,
    ``_seq`` (creation order; 0 for leaves and constants); ``_tan`` (tangents
    by forward level, or None); ``_vc`` (the version counter shared with
    views, or None while nothing changed it); ``_prev`` (the record before an
    in-place op rebased this tensor, or None).

        >>> isinstance(ag.ones(1), ag.core.TensorBase)      # ag.Tensor adds the methods
        True

    Attributes:
        name: the user's name for the tensor (a str, or None): shown by
            ``repr`` and used as the tensor's label in the ``viz`` drawings.
    """

    __slots__ = ("_d", "_grad", "_rg", "_op", "_parents", "_settings", "_seq",
                 "_tan", "_vc", "_prev", "name", "__weakref__")

    # NumPy must not treat a Tensor as a sequence of objects.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        source = data if isinstance(data, TensorBase) else None
        if source is not None:
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
            check_can_require_grad(arr.dtype, "Tensor(requires_grad=True)")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a str, got {type(name).__name__}")
        self._d = arr if arr.ndim else arr[()]
        self._grad = None
        self._rg = bool(requires_grad)
        self._op = None
        self._parents = ()
        self._settings = None
        self._seq = 0
        self._tan = None
        self._vc = None
        self._prev = None
        self.name = name
        if source is not None and graph._specials and state.tracer is not None:
            state.tracer.copy(source, self)

    # -- attributes ---------------------------------------------------------

    @property
    def data(self):
        """The value, a NumPy array that shares memory with the tensor.

        The escape hatch, as in PyTorch: changes made through it are not
        seen by autograd (no version bump).

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> x.data                                          # an ndarray, the same memory
            array([1., 2.], dtype=float32)
            >>> x.data[0] = 5.0                                  # not seen by autograd
            >>> x
            Tensor([5., 2.], dtype=float32, requires_grad=True)
        """
        if graph._specials:
            _escape(self, ".data")
        d = self._d
        if d.__class__ is not np.ndarray:
            d = self._d = np.asarray(d)
        return d

    @data.setter
    def data(self, value):
        if isinstance(value, TensorBase):
            value = value.data
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        if value.dtype.kind not in "biufc":
            raise TypeError(f"data: must be a numeric array, got dtype {value.dtype}")
        if self._rg and value.dtype.kind != "f":
            check_can_require_grad(value.dtype, "data")
        if graph._specials:
            _escape(self, "assigning .data")
        self._d = value

    @property
    def shape(self):
        """The sizes of the axes, a tuple (NumPy's ``shape``; ``size()`` is torch's).

            >>> ag.ones(2, 3).shape
            (2, 3)
        """
        return self._d.shape

    @property
    def ndim(self):
        """The number of axes (``dim()``).

            >>> ag.ones(2, 3).ndim, ag.tensor(1.0).ndim
            (2, 0)
        """
        return self._d.ndim

    @property
    def dtype(self):
        """The NumPy dtype of the values (``ag.float32`` is ``np.float32``).

            >>> ag.ones(2).dtype, ag.tensor([1, 2]).dtype
            (dtype('float32'), dtype('int64'))
        """
        return self._d.dtype

    @property
    def is_leaf(self):
        """True for tensors made by the user rather than by an op that recorded
        a node; as in PyTorch, every tensor that does not require grad is a leaf.

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> x.is_leaf, (x * 2).is_leaf, (x * 2).detach().is_leaf
            (True, False, True)
        """
        return self._op is None or not self._rg

    @property
    def grad_fn(self):
        """The primitive that made this tensor (None for leaves).

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> x.grad_fn is None, (x * 2).grad_fn
            (True, <primitive mul>)
        """
        return self._op if self._rg else None

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for its gradient; set it
        on a leaf (``x.requires_grad = True``, or ``requires_grad_()``).

            >>> x = ag.ones(2)
            >>> x.requires_grad, (x * 2).requires_grad
            (False, False)
            >>> x.requires_grad = True
            >>> (x * 2).requires_grad
            True
        """
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True, *, flag=None):
        """Set ``requires_grad`` of a leaf in place; returns self. ``flag=`` is the
        API contract's name for torch's ``requires_grad=``; either may be given.

            >>> x = ag.ones(2).requires_grad_()
            >>> x.requires_grad
            True
            >>> (x * 2).requires_grad_(False)                    # not a leaf
            Traceback (most recent call last):
                ...
            RuntimeError: requires_grad_(False): you can only change requires_grad flags of leaf variables; use .detach() to get a tensor outside the graph
        """
        if flag is not None:
            if requires_grad is not True:
                raise TypeError("requires_grad_(): got both requires_grad= and flag=; give one")
            requires_grad = flag
        if requires_grad:
            check_can_require_grad(self._d.dtype, "requires_grad_()")
        elif not self.is_leaf:
            raise RuntimeError(
                "requires_grad_(False): you can only change requires_grad flags of leaf "
                "variables; use .detach() to get a tensor outside the graph")
        if self._rg != bool(requires_grad) and self._op is not None:
            # A view of a constant that starts requiring grad is a new leaf.
            self._op, self._parents, self._settings, self._seq = None, (), None, 0
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor) or None.

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> x.grad is None                                  # before any backward
            True
            >>> (x * x).sum().backward()
            >>> x.grad                                          # 2x
            Tensor([2., 4.], dtype=float32)
        """
        if graph._specials and state.tracer is not None:
            state.tracer.grad_read(self, self._grad)
        return self._grad

    @grad.setter
    def grad(self, value):
        tracer = state.tracer if graph._specials else None
        if value is None:
            self._grad = None
            if tracer is not None:
                tracer.set_grad(self, None)
            return
        if not isinstance(value, TensorBase):
            if not isinstance(value, np.ndarray):
                raise TypeError(f"grad must be None, a Tensor or an ndarray, "
                                f"got {type(value).__name__}")
            value = wrap(value)
        if value._d.dtype.kind != "f":
            raise TypeError(f"grad: assigned grad has dtype {value._d.dtype}, but a gradient "
                            f"must be floating point (the tensor has dtype {self._d.dtype})")
        if value.shape != self.shape:
            raise ValueError(f"grad: assigned gradient has shape {value.shape}, "
                             f"but the tensor has shape {self.shape}")
        self._grad = value
        if tracer is not None:
            tracer.set_grad(self, value)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after ``backward()``.

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> h = x * 3
            >>> h.retain_grad()
            Tensor([3., 6.], dtype=float32, grad_fn=<mul>)
            >>> h.sum().backward()
            >>> h.grad, h.retains_grad
            (Tensor([1., 1.], dtype=float32), True)
        """
        if not self.is_leaf:
            graph.retained.add(self)
        return self

    @property
    def retains_grad(self):
        """True for a non-leaf tensor whose ``.grad`` is kept (see retain_grad).

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> h = x * 3
            >>> h.retains_grad
            False
            >>> h.retain_grad()
            Tensor([3., 6.], dtype=float32, grad_fn=<mul>)
            >>> h.retains_grad
            True
        """
        return self in graph.retained

    @property
    def _version(self):
        """How many times this tensor's memory was changed in place (shared with its views)."""
        vc = self._vc
        return 0 if vc is None else vc.count

    # -- forward-mode tangents ----------------------------------------------

    @property
    def tangent(self):
        """R{self}: the tangent at the innermost open forward level (``forward_ad``),
        or, outside every level, at the outermost level closed last. None = zero.

            >>> x = ag.tensor([1.0, 2.0])
            >>> with ag.forward_ad():
            ...     x.tangent = ag.tensor([1.0, 0.0])
            ...     (x * x).tangent                            # 2x ⊙ ẋ
            Tensor([2., 0.], dtype=float32)
        """
        tan = self._tan
        if tan is None:
            return None
        return tan.get(graph.tangent_level_id())

    @tangent.setter
    def tangent(self, value):
        level = graph.innermost_level()
        if level is None:
            raise RuntimeError(
                "tangent: set a tangent inside a forward-mode level, e.g. "
                "`with ag.forward_ad(): x.tangent = v; y = f(x)` (tangents belong to a level, "
                "so that levels can nest)")
        set_tangent(self, value, level, touched=True)

    # -- conversion ---------------------------------------------------------

    def detach(self):
        """The same data outside the graph: shares memory and the version counter,
        as in PyTorch, so an in-place change of either is seen by both.

            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> d = x.detach()
            >>> d.requires_grad, np.shares_memory(d.data, x.data)
            (False, True)
        """
        out = wrap(self._d)
        out._vc = share_version(self)
        if graph._specials and state.tracer is not None:
            state.tracer.alias(self, out)
        return out

    def numpy(self):
        """The value as an ndarray sharing memory. Refused for a tensor that requires
        grad (its gradient would not see changes made through the array).

            >>> ag.tensor([1.0, 2.0]).numpy()
            array([1., 2.], dtype=float32)
            >>> ag.tensor([1.0], requires_grad=True).numpy()
            Traceback (most recent call last):
                ...
            RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.
        """
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if graph._specials:
            _escape(self, "numpy()")
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number.

            >>> ag.tensor([2.5]).item(), type(ag.tensor(3).item())
            (2.5, <class 'int'>)
        """
        if self._d.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python scalar, this one has shape {self.shape}")
        if graph._specials:
            _escape(self, "item()")
        return self._d.item()

    def __array__(self, dtype=None, copy=None):
        """The value as an ndarray, for ``np.asarray(t)`` / ``np.array(t)``:
        cast to ``dtype`` if given; a copy if ``copy``, else sharing the
        tensor's memory where NumPy can (no cast, not a 0-d value). Refused (CompileError) inside a step
        being compiled."""
        if graph._specials:
            _escape(self, "conversion to a NumPy array (np.asarray)")
        if copy:
            return np.array(self._d, dtype=dtype, copy=True)
        return np.asarray(self._d, dtype=dtype)

    def __float__(self):
        if graph._specials:
            _escape(self, "float()")
        return float(self.item())

    def __int__(self):
        if graph._specials:
            _escape(self, "int()")
        return int(self.item())

    def __index__(self):
        if self._d.dtype.kind not in "biu" or self._d.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (this one has dtype {self._d.dtype} and shape {self.shape})")
        if graph._specials:
            _escape(self, "use as an index")
        return int(self._d.item())

    def __bool__(self):
        if self._d.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {self.shape}); use .any() or .all()")
        if graph._specials:
            _escape(self, "bool() (Python control flow on a tensor's value)")
        return bool(self._d)

    def __format__(self, spec):
        if graph._specials:
            _escape(self, "formatting (printing)")
        if self._d.size == 1 and self._d.dtype.kind in "biuf":
            return format(self._d.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(f"unsupported format string {spec!r} passed to a Tensor of shape "
                        f"{self.shape}: only one-element tensors format as numbers")

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._d.shape[0]

    __hash__ = object.__hash__

    def __repr__(self):
        if graph._specials:
            _escape(self, "printing")
        body = np.array2string(np.asarray(self._d), separator=", ", prefix="Tensor(")
        extras = []
        if self._d.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self._d.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self._rg:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"


# ---------------------------------------------------------------------------
# Making tensors
# ---------------------------------------------------------------------------

def wrap(arr):
    """A constant Tensor around ``arr`` (no copy, no checks).

        >>> from autograd_core.core import wrap
        >>> wrap(np.array([1.0, 2.0]))                       # a constant Tensor around the array
        Tensor([1., 2.])
    """
    t = _new(_Tensor)
    t._d = arr
    t._grad = None
    t._rg = False
    t._op = None
    t._parents = ()
    t._settings = None
    t._seq = 0
    t._tan = None
    t._vc = None
    t._prev = None
    t.name = None
    return t


def apply(prim, inputs, settings, data):
    """Wrap ``data``, primitive ``prim``'s output on Tensors ``inputs``, in a
    Tensor and record the node when an input requires grad.

    The hot path of the engine: callers compute ``data`` themselves (no
    argument unpacking here), and rare work (tangents, anomaly checks) sits
    behind one global test.

        >>> from autograd_core import primitives as P
        >>> from autograd_core.core import apply
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = apply(P.exp, (x,), {}, np.exp(x.data))        # what P.exp(x) does
        >>> y.grad_fn, y.requires_grad
        (<primitive exp>, True)
    """
    out = _new(_Tensor)
    out._d = data
    out._grad = None
    out._tan = None
    out._vc = None
    out._prev = None
    out.name = None
    if state.grad_enabled:
        for t in inputs:
            if t._rg:
                out._seq = next_seq()
                out._rg = True
                out._op = prim
                out._parents = inputs
                out._settings = settings
                break
        else:
            out._seq = 0
            out._rg = False
            out._op = None
            out._parents = ()
            out._settings = None
    else:
        out._seq = 0
        out._rg = False
        out._op = None
        out._parents = ()
        out._settings = None
    if graph._specials:
        if state.levels:
            push_tangents(prim, inputs, settings, out)
        if state.retain_grads and out._rg:
            graph.retained.add(out)
        if state.anomaly and out._rg:
            graph.check_forward(prim, out, inputs)
        if state.tracer is not None:
            state.tracer.op(prim, inputs, settings, out)
    return out


def constant(prim, inputs, settings, data):
    """The output of a primitive that carries no derivative (a comparison, a
    mask, an index): a constant Tensor, seen by the compiler's tracer.

        >>> from autograd_core import primitives as P
        >>> from autograd_core.core import constant
        >>> x = ag.tensor([1.0, 3.0], requires_grad=True)
        >>> constant(P.greater, (x, ag.tensor(2.0)), {}, x.data > 2.0)   # what P.greater(x, 2.0) does
        Tensor([False,  True])
    """
    if graph._specials and state.tracer is not None:
        # An ndarray, even 0-d, so a compiled program can refer to it in the
        # settings of the ops that use it (where's cond, an index).
        out = wrap(data if data.__class__ is np.ndarray else np.asarray(data))
        state.tracer.op(prim, inputs, settings, out)
        return out
    return wrap(data)


def push_tangents(prim, inputs, settings, out):
    """ẏ^L = Σ_i ∂y/∂x_i ẋ_i^L for every open level L, skipping zero (None) tangents.

    Level L's rules run with only the levels outside L open, so the tangent
    is itself a dual number of the outer levels (perturbations are never
    confused), and with recording as the level asks. Outer levels go first:
    an inner rule that reads the output (tanh's 1 - y²) must see the output's
    outer tangents.
    """
    levels = state.levels
    saved_mode = state.grad_enabled
    try:
        for depth in range(len(levels)):
            level = levels[depth]
            lid = level.id
            tangents = [t._tan.get(lid) if t._tan is not None else None for t in inputs]
            for d in tangents:
                if d is not None:
                    break
            else:
                continue
            state.levels = levels[:depth]
            state.grad_enabled = saved_mode and level.record
            tan = prim.push(tangents, out, inputs, settings)
            if tan is not None:
                if out._tan is None:
                    out._tan = {}
                out._tan[lid] = _as_tangent(tan, out)
    finally:
        state.levels = levels
        state.grad_enabled = saved_mode


def _as_tangent(tan, like):
    if not isinstance(tan, TensorBase):
        tan = wrap(np.asarray(tan, dtype=like._d.dtype) if np.ndim(tan) or like._d.ndim
                   else like._d.dtype.type(tan))
    return tan


def set_tangent(t, value, level, touched=False):
    """Give ``t`` the tangent ``value`` at ``level`` (None removes it)."""
    if value is None:
        if t._tan is not None:
            t._tan.pop(level.id, None)
        return
    if not isinstance(value, TensorBase):
        value = wrap(np.asarray(value))
    if value.shape != t.shape:
        raise ValueError(f"tangent: has shape {value.shape} but the tensor has shape {t.shape}")
    if t._d.dtype.kind != "f":
        raise TypeError(f"tangent: only floating-point tensors can carry a tangent, this one has "
                        f"dtype {t._d.dtype}")
    if value._d.dtype != t._d.dtype:
        value = wrap(np.asarray(value._d, dtype=t._d.dtype)) if not value._rg else value
    if t._tan is None:
        t._tan = {}
    else:  # drop tangents of closed levels
        open_ids = {lv.id for lv in state.levels}
        for k in [k for k in t._tan if k not in open_ids]:
            del t._tan[k]
    t._tan[level.id] = value
    if touched:
        level.touched.append(t)


def tangent_at(t, level):
    """``t``'s tangent at ``level`` (None = zero)."""
    tan = t._tan
    return None if tan is None else tan.get(level.id)


def open_tangents(t):
    """``t``'s tangents at the currently open levels, as a dict (or None)."""
    tan = t._tan
    if not tan:
        return None
    ids = {lv.id for lv in state.levels}
    kept = {k: v for k, v in tan.items() if k in ids}
    return kept or None


def weak_scalar(value) -> bool:
    """Python and NumPy scalars adopt the tensor's dtype (never upcast it)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray)


def lift(value, like, opname="op"):
    """Make ``value`` an operand of a Tensor op whose other operand is ``like``.

    A Python or NumPy scalar takes ``like``'s floating dtype. An ndarray is
    copied when the op will record a node, as ``torch.tensor`` copies: a
    gradient must never silently change because the caller later changed
    the array.

        >>> from autograd_core.core import lift
        >>> lift(2, ag.tensor([1.0]), "myop")                 # a number takes the tensor's dtype
        Tensor(2., dtype=float32)
    """
    if isinstance(value, TensorBase):
        return value
    kind = value.__class__
    if (kind is float or kind is int) and like._d.dtype.kind == "f":  # the common case, fast
        return wrap(like._d.dtype.type(value))
    if weak_scalar(value) and not isinstance(value, (complex, np.complexfloating)):
        dt = like._d.dtype
        if dt.kind != "f" or isinstance(value, (bool, np.bool_)):
            dt = np.result_type(dt, value.item() if isinstance(value, np.generic) else value)
        return wrap(dt.type(value))
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{opname}: cannot use an array of dtype {arr.dtype} as an operand")
        if arr is value and like._rg and state.grad_enabled:
            arr = arr.copy()
        return wrap(arr)
    raise TypeError(
        f"{opname}: unsupported operand of type {type(value).__name__}; "
        f"expected a Tensor, a NumPy array or a number")


def share_version(t):
    """``t``'s version counter, created if needed, to share with a view or alias."""
    vc = t._vc
    if vc is None:
        vc = t._vc = Version()
    return vc


# ---------------------------------------------------------------------------
# In place: rebasing a tensor onto a new record
# ---------------------------------------------------------------------------

def snapshot(t):
    """A hidden object holding ``t``'s current record and value (its old version).

        >>> from autograd_core.core import snapshot
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True) * 2
        >>> old = snapshot(x)                                 # before an in-place change of x
        >>> old.grad_fn is x.grad_fn, bool((old.data == x.data).all())
        (True, True)
    """
    old = _new(_Tensor)
    old._d = t._d
    old._grad = None
    old._rg = t._rg
    old._op = t._op
    old._parents = t._parents
    old._settings = t._settings
    old._seq = t._seq
    old._tan = t._tan
    old._vc = t._vc
    old._prev = t._prev
    old.name = t.name
    return old


def rebase(t, new, old):
    """``t`` takes over ``new``'s record (an in-place op on a graph tensor); its
    previous record lives on in ``old`` for the nodes created before.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 2
        >>> _ = y.mul_(3)                                     # an in-place op rebases y on a new node
        >>> y.grad_fn
        <primitive mul>
        >>> y.sum().backward()
        >>> x.grad                                          # through both records: 2 · 3
        Tensor([6., 6.], dtype=float32)
    """
    # A new creation number, later than the version bump of the write: the
    # record's own saved output is the value just written, not a stale one.
    t._op, t._parents, t._settings, t._seq = new._op, new._parents, new._settings, next_seq()
    t._rg = new._rg
    t._tan = new._tan
    t._prev = old
    clock.rebased = True
