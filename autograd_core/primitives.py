"""THE TABLE: every primitive op, its forward computation, and its derivative
rules side by side.

Each primitive declares, per input i,

* a VJP rule  ``vjp_i(g, out, *inputs, **settings)`` returning x̄_i's share
  of the output cotangent ``g`` (reverse mode, the backward pass), and
* a JVP rule  ``jvp_i(d, out, *inputs, **settings)`` returning the output
  tangent caused by input i's tangent ``d`` (forward mode, Pearlmutter's R{·}),

and ``saves``: for each input's VJP rule, the operands (by index; -1 is the
output) whose *values* it reads, so an in-place change of one of them
before the backward pass is caught (see ``graph.Version``) — only when that
rule runs, as in PyTorch: ``x * 2`` does not need x's value.

Rules are per input (as in HIPS autograd's ``defvjp``) rather than one
function returning a tuple, so the engine computes only what is needed: the
gradient of a matmul with respect to a data batch is never formed, and a zero
(``None``) tangent costs nothing. Variadic primitives (concatenate) give
their rules per input index (``IndexedRules``): one rule form everywhere.

Rules are written with the primitives of this module and with operators,
which work on both raw ndarrays and Tensors: a primitive called with no
Tensor argument runs its NumPy forward (the ``forward`` column below, the
same code a Tensor call runs). The backward sweep feeds the rules raw arrays
when nothing needs recording (fast), and Tensors under ``create_graph=True``
(the backward pass is then itself a graph: higher derivatives) or when
tangents are present (the R-operator). One rule, three uses.

Binary ops see operands of equal shape: broadcasting is an explicit
``broadcast_to`` node inserted when a primitive is called, and the VJP of
``broadcast_to`` (``sum_to``) is the only place a gradient is summed back to a
shape.

Names: the primitive objects carry the op's plain name (``add``, ``sum``,
``max``, ``pow``); in this module those shadow Python's builtins, which it
therefore never uses.

    >>> from autograd_core import primitives as P
    >>> P.exp(np.zeros(2))                           # arrays: the NumPy forward alone
    array([1., 1.])
    >>> x = ag.tensor([0.0, 1.0], requires_grad=True)
    >>> P.exp(x).grad_fn                             # a Tensor: a recorded node
    <primitive exp>
    >>> P.exp.vjps[0](np.ones(2), np.exp(x.data), x.data)   # the rule: x̄ = ȳ · eˣ
    array([1.        , 2.71828198])
    >>> P.mul.saves                                  # x̄ reads y, ȳ reads x
    ((1,), (0,))
"""
from __future__ import annotations

import builtins
import functools
import itertools
import operator

import numpy as np

from . import _special
from .core import TensorBase, apply, constant, lift, share_version, _NO_SETTINGS
from .graph import register_view, state

# ---------------------------------------------------------------------------
# Primitive kinds
# ---------------------------------------------------------------------------


class Primitive:
    """An op with a NumPy ``forward`` and per-input VJP and JVP rules.

    Calling it with Tensors records a node whose data is ``forward`` of the
    inputs' data; calling it with arrays runs ``forward`` alone. Settings
    (axis, shape, index...) are keyword arguments, constants of the node.
    ``broadcasts``: operands are first broadcast to one shape, by explicit
    ``broadcast_to`` nodes.

        >>> from autograd_core.primitives import Primitive
        >>> cube = Primitive("cube", lambda x: x ** 3,
        ...                  vjp=[lambda g, out, x: g * 3 * x * x],     # x̄ = ȳ · 3x²
        ...                  jvp=[lambda d, out, x: 3 * x * x * d],     # ẏ = 3x² · ẋ
        ...                  saves=[(0,)])                              # the VJP reads x
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = cube(x)
        >>> y
        Tensor([1., 8.], dtype=float32, grad_fn=<cube>)
        >>> y.sum().backward()
        >>> x.grad
        Tensor([ 3., 12.], dtype=float32)
        >>> cube(np.array([2.0]))                       # no Tensor: the NumPy forward alone
        array([8.])
    """

    broadcasts = False

    def __init__(self, name, forward, vjp, jvp, saves=()):
        self.name = name
        self.forward = forward
        self.vjps = vjp if isinstance(vjp, IndexedRules) else tuple(vjp)
        self.jvps = jvp if isinstance(jvp, IndexedRules) else tuple(jvp)
        self.saves = tuple(saves)

    def __call__(self, *args, **settings):
        like = None
        for a in args:           # plain loops: this is on the per-op path
            if isinstance(a, TensorBase):
                like = a
                break
        if like is None:
            return self.forward(*args, **settings)
        xs = []
        datas = []
        for a in args:
            if not isinstance(a, TensorBase):
                a = lift(a, like, self.name)
            xs.append(a)
            datas.append(a._d)
        xs = tuple(xs)
        if self.broadcasts:
            xs = broadcast_operands(self.name, xs, settings.get("cond"))
            datas = [x._d for x in xs]
        return apply(self, xs, settings or _NO_SETTINGS, self.forward(*datas, **settings))

    def push(self, tangents, out, inputs, settings):
        """ẏ = Σ_i jvp_i(ẋ_i), over the inputs whose tangent is not zero (None)."""
        total = None
        for rule, d in zip(self.jvps, tangents):
            if d is not None:
                term = rule(d, out, *inputs, **settings)
                if term is not None:
                    total = term if total is None else total + term
        return total

    def __repr__(self):
        return f"<primitive {self.name}>"


class IndexedRules:
    """Rules of a variadic primitive: ``make(i)`` is the rule for input i (cached).

        >>> from autograd_core.primitives import IndexedRules
        >>> rules = IndexedRules(lambda i: f"the rule of input {i}")
        >>> [rule for rule, _ in zip(rules, range(3))]   # as many as there are inputs
        ['the rule of input 0', 'the rule of input 1', 'the rule of input 2']
    """

    def __init__(self, make):
        self._make = make
        self._rules = []

    def __iter__(self):
        i = 0
        while True:
            if i == len(self._rules):
                self._rules.append(self._make(i))
            yield self._rules[i]
            i += 1


class Unary(Primitive):
    """One tensor operand (the fast path of ``Primitive.__call__``).

        >>> from autograd_core.primitives import Unary
        >>> double = Unary("double", lambda x: 2 * x, vjp=[lambda g, out, x: 2 * g],
        ...                jvp=[lambda d, out, x: 2 * d])
        >>> double(ag.tensor([1.0, 2.0], requires_grad=True))
        Tensor([2., 4.], dtype=float32, grad_fn=<double>)
    """

    def __call__(self, x, **settings):
        if isinstance(x, TensorBase):
            return apply(self, (x,), settings or _NO_SETTINGS, self.forward(x._d, **settings))
        return self.forward(x, **settings)


class Elementwise(Unary):
    """y = f(x) elementwise, with local derivative ``deriv(out, x) = f'(x)``.

    Both rules follow from it: x̄ = ȳ·f'(x) and ẏ = f'(x)·ẋ. ``saves`` says
    ``reads``: whether ``deriv`` reads the input (0), the output (-1) or both.

        >>> from autograd_core.primitives import Elementwise
        >>> cube = Elementwise("cube", lambda x: x ** 3, lambda out, x: 3 * x * x)   # f, f′
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> cube(x).sum().backward()
        >>> x.grad                                       # ȳ · f′(x)
        Tensor([ 3., 12.], dtype=float32)
        >>> ag.functional.jvp(cube, ag.tensor([2.0]), ag.tensor([1.0]))   # (f(2), f′(2) · 1)
        (Tensor([8.], dtype=float32), Tensor([12.], dtype=float32))
    """

    def __init__(self, name, fn, deriv, reads=(0,)):
        super().__init__(
            name, fn,
            vjp=(lambda g, out, x, **s: g * deriv(out, x, **s),),
            jvp=(lambda d, out, x, **s: d * deriv(out, x, **s),),
            saves=(reads,))
        self.deriv = deriv


class LinearMap(Unary):
    """A linear op L: its JVP is L itself applied to the tangent, ẏ = L ẋ;
    ``transpose_rule`` gives the VJP, x̄ = Lᵀ ȳ. Reads no values, only shapes.

        >>> from autograd_core.primitives import LinearMap
        >>> twice = LinearMap("twice", lambda x: 2 * x, lambda g, out, x: 2 * g)    # L = 2I, Lᵀ = 2I
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> twice(x).sum().backward()
        >>> x.grad
        Tensor([2., 2.], dtype=float32)
        >>> ag.functional.jvp(twice, ag.tensor([1.0]), ag.tensor([5.0]))[1]        # L ẋ
        Tensor([10.], dtype=float32)
    """

    def __init__(self, name, fn, transpose_rule):
        super().__init__(name, fn, vjp=(transpose_rule,),
                         jvp=(lambda d, out, x, **s: self(d, **s),))


class View(LinearMap):
    """A linear op whose output may share memory with its input (reshape,
    transpose, basic indexing, alias).

    The output shares the input's version counter, and its record is kept
    even when nothing requires grad, so an in-place change of the view can
    also rebase the tensor it views (``unview``: the new base, given the old
    base and the new value of the view; see ``ops.inplace``).

        >>> from autograd_core import primitives as P
        >>> x = ag.arange(6.0)
        >>> y = P.reshape(x, shape=(2, 3))
        >>> isinstance(P.reshape, P.View), np.shares_memory(x.data, y.data)
        (True, True)
        >>> y[0, 0] = 9.0                                # one memory, one version counter
        >>> x[0]
        Tensor(9., dtype=float32)
    """

    def __init__(self, name, fn, transpose_rule, unview):
        super().__init__(name, fn, transpose_rule)
        self.unview = unview

    def __call__(self, x, **settings):
        if not isinstance(x, TensorBase):
            return self.forward(x, **settings)
        settings = settings or _NO_SETTINGS
        out = apply(self, (x,), settings, self.forward(x._d, **settings))
        if np.may_share_memory(out._d, x._d):
            out._vc = share_version(x)
            if out._op is None:      # not recorded: keep the view's origin anyway
                out._op, out._parents, out._settings = self, (x,), settings
            register_view(x, out)
        return out


class Binary(Primitive):
    """Two operands, broadcast to one shape by explicit ``broadcast_to`` nodes.

        >>> from autograd_core import primitives as P
        >>> isinstance(P.mul, P.Binary)
        True
        >>> a = ag.tensor([[1.0], [2.0]], requires_grad=True)
        >>> P.mul(a, ag.tensor([1.0, 10.0]))             # a is broadcast by a broadcast_to node
        Tensor([[ 1., 10.],
                [ 2., 20.]], dtype=float32, grad_fn=<mul>)
        >>> P.mul(a, ag.tensor([1.0, 10.0])).sum().backward()
        >>> a.grad                                       # summed back to a's shape
        Tensor([[11.],
                [11.]], dtype=float32)
    """

    broadcasts = True

    def __call__(self, x, y):
        xt, yt = isinstance(x, TensorBase), isinstance(y, TensorBase)
        if not (xt or yt):
            return self.forward(x, y)
        if not xt:
            x = lift(x, y, self.name)
        elif not yt:
            y = lift(y, x, self.name)
        if x._d.shape != y._d.shape:
            x, y = broadcast_operands(self.name, (x, y))
        return apply(self, (x, y), _NO_SETTINGS, self.forward(x._d, y._d))


class Constant(Primitive):
    """A primitive whose result carries no derivative: comparisons, masks,
    signs, indices. Its output never requires grad; the compiler still sees it,
    so a mask a rule computes from the data is recomputed on every replay
    instead of being frozen. Rules use these instead of NumPy on raw values.

        >>> from autograd_core import primitives as P
        >>> x = ag.tensor([1.0, 3.0], requires_grad=True)
        >>> mask = P.greater(x, 2.0)                     # a comparison: no derivative
        >>> mask, mask.requires_grad
        (Tensor([False,  True]), False)
    """

    def __init__(self, name, forward):
        super().__init__(name, forward, vjp=(), jvp=())

    def __call__(self, *args, **settings):
        like = None
        for a in args:
            if isinstance(a, TensorBase):
                like = a
                break
        if like is None:
            return self.forward(*args, **settings)
        xs = tuple(lift(a, like, self.name) for a in args)
        return constant(self, xs, settings or _NO_SETTINGS,
                        self.forward(*[x._d for x in xs], **settings))


def broadcast_shapes(opname, *shapes):
    """NumPy's broadcast shape, or a ValueError naming the op and every shape.

        >>> from autograd_core import primitives as P
        >>> P.broadcast_shapes("add", (2, 1), (3,))
        (2, 3)
        >>> P.broadcast_shapes("add", (2,), (3,))
        Traceback (most recent call last):
            ...
        ValueError: add: shapes (2,) and (3,) cannot be broadcast together
    """
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        described = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{opname}: shapes {described} cannot be broadcast together") from None


def broadcast_operands(opname, operands, cond=None):
    """Broadcast Tensors to their common shape (with ``cond``'s, for where);
    only operands that carry derivatives get an explicit node (a constant is
    broadcast by NumPy).

        >>> from autograd_core import primitives as P
        >>> a, b = ag.ones(2, 1, requires_grad=True), ag.ones(3)
        >>> [t.shape for t in P.broadcast_operands("add", (a, b))]    # b, a constant, is left to NumPy
        [(2, 3), (3,)]
    """
    shapes = [t._d.shape for t in operands]
    if cond is not None:
        shapes.append(np.shape(cond))
    target = broadcast_shapes(opname, *shapes)
    return tuple(
        broadcast_to(t, shape=target)
        if t._d.shape != target and (t._rg or t._tan is not None) else t
        for t in operands)


def data_of(a):
    """The raw array behind a Tensor (rules use it for constants such as masks).

        >>> from autograd_core import primitives as P
        >>> P.data_of(ag.tensor([1.0, 2.0])), P.data_of(3.0)
        (array([1., 2.], dtype=float32), 3.0)
    """
    return a._d if isinstance(a, TensorBase) else a


def zeros_like_value(a):
    """Zeros with the shape and dtype of the value of ``a`` (a Tensor, an array or a number).

        >>> from autograd_core import primitives as P
        >>> P.zeros_like_value(ag.tensor([1.0, 2.0]))
        array([0., 0.], dtype=float32)
    """
    return np.zeros(np.shape(data_of(a)), dtype=np.result_type(data_of(a)))


# ---------------------------------------------------------------------------
# Shape helpers used by the rules
# ---------------------------------------------------------------------------


def keep_shape(shape, axis):
    """The shape of a reduction over ``axis`` with keepdims=True.

        >>> from autograd_core import primitives as P
        >>> P.keep_shape((2, 3, 4), (1,)), P.keep_shape((2, 3, 4), None)
        ((2, 1, 4), (1, 1, 1))
    """
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def reduced_shape(shape, axis):
    """The shape of a reduction over ``axis`` with keepdims=False.

        >>> from autograd_core import primitives as P
        >>> P.reduced_shape((2, 3, 4), (1,)), P.reduced_shape((2, 3, 4), None)
        ((2, 4), ())
    """
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def sum_to(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting to g's shape.

        >>> from autograd_core import primitives as P
        >>> P.sum_to(np.ones((2, 3)), (1, 3))             # the gradient of a (1, 3) broadcast to (2, 3)
        array([[2., 2., 2.]])
        >>> P.sum_to(np.ones((2, 3)), (3,))
        array([2., 2., 2.])
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    return reshape(g, shape=shape)


def matrix_transpose(a):
    """Swap the last two axes (the transpose of each matrix in a stack).

        >>> from autograd_core import primitives as P
        >>> P.matrix_transpose(np.ones((5, 2, 3))).shape
        (5, 3, 2)
    """
    nd = a.ndim
    return transpose(a, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def normalized_index(index):
    """Turn an index into a tuple NumPy and ``np.add.at`` treat alike: Tensor
    indices become arrays, boolean masks become integer arrays.

        >>> from autograd_core import primitives as P
        >>> P.normalized_index(np.array([True, False, True]))     # a mask: its positions
        (array([0, 2]),)
        >>> P.normalized_index((slice(None), ag.tensor([1, 0])))
        (slice(None, None, None), array([1, 0]))
    """
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, TensorBase):
            item = np.asarray(item._d)
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype == bool:
            out.extend(np.nonzero(item))
        else:
            out.append(item)
    return tuple(out)


def is_advanced(index):
    """Whether a ``normalized_index`` holds an integer array (NumPy's advanced indexing).

        >>> from autograd_core import primitives as P
        >>> P.is_advanced(P.normalized_index(np.array([True, False]))), P.is_advanced((slice(1),))
        (True, False)
    """
    return builtins.any(isinstance(i, np.ndarray) for i in index)


# ---------------------------------------------------------------------------
# Non-differentiable primitives: comparisons, logic and the masks rules need
# ---------------------------------------------------------------------------

class Source(Constant):
    """Random numbers: ``draw(sample, rng, *args)`` is ``sample(rng, *args)`` as a
    constant of the graph. A compiled program repeats the draw on every call,
    from the same generator, so its random numbers are fresh each time.

        >>> from autograd_core import primitives as P
        >>> isinstance(P.draw, P.Source)
        True
        >>> sample = lambda rng, n: rng.integers(0, 10, n)
        >>> P.draw(sample, np.random.default_rng(0), (3,)).shape   # sample(rng, *args)
        (3,)
    """

    def __init__(self, name):
        super().__init__(name, lambda sample, rng, args: sample(rng, *args))

    def __call__(self, sample, rng, *args):
        return constant(self, (), {"sample": sample, "rng": rng, "args": args},
                        sample(rng, *args))


draw = Source("draw")

equal = Constant("eq", np.equal)
not_equal = Constant("ne", np.not_equal)
less = Constant("lt", np.less)
less_equal = Constant("le", np.less_equal)
greater = Constant("gt", np.greater)
greater_equal = Constant("ge", np.greater_equal)
logical_and = Constant("logical_and", np.logical_and)
logical_or = Constant("logical_or", np.logical_or)
logical_xor = Constant("logical_xor", np.logical_xor)
logical_not = Constant("logical_not", np.logical_not)
isnan = Constant("isnan", np.isnan)
isinf = Constant("isinf", np.isinf)
isfinite = Constant("isfinite", np.isfinite)
positive_mask = Constant("positive", lambda x: x > 0)
# A cast to an integer or bool dtype, and a copy of an integer tensor: no
# derivative, but values of the step, so a compiled program recomputes them.
cast = Constant("cast", lambda x, dtype: np.array(x, dtype=dtype))
copy = Constant("copy", lambda x: np.array(x))
# The same bytes read as another dtype: a view of the memory, no derivative.
view_dtype = Constant("view_dtype", lambda x, dtype: x.view(dtype))


def _clip_mask_forward(x, lo, hi):
    mask = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return mask


# where lo ≤ x ≤ hi: the gradient of clip passes there
clip_mask = Constant("clip_mask", _clip_mask_forward)


def _max_share_forward(a, b, sign):
    loses = (a < b) if sign > 0 else (a > b)
    share = np.where(a == b, 0.5, 1.0) * ~loses
    return share.astype(np.result_type(a, b, np.float16), copy=False)


# ∂max(a, b)/∂a as PyTorch defines it: 1 where a wins, ½ at ties, 0 where b
# wins; a NaN wins (both operands of a NaN comparison get the gradient).
max_share = Constant("max_share", _max_share_forward)


def _max_weights_forward(x, out, axis):
    m = np.reshape(out, keep_shape(np.shape(x), axis))
    hit = (x == m) | (np.isnan(x) & np.isnan(m)) if np.result_type(x).kind == "f" else x == m
    return hit / np.sum(hit, axis=axis, keepdims=True).astype(np.result_type(x))


# Where the maximum sits, ties sharing equally; a NaN in the data is the maximum.
max_weights = Constant("max_weights", _max_weights_forward)


def _amax_weights_forward(x, out, axis):
    m = np.reshape(out, keep_shape(np.shape(x), axis))
    hit = x == m
    with np.errstate(invalid="ignore"):  # no hit (a NaN maximum): 0/0, NaN, as torch.amax
        return hit / np.sum(hit, axis=axis, keepdims=True).astype(np.result_type(x))


# torch.amax's weights: ties share equally, and a slice whose maximum is NaN
# (nothing equals it) gets NaN everywhere.
amax_weights = Constant("amax_weights", _amax_weights_forward)

# ---------------------------------------------------------------------------
# Elementwise primitives
# ---------------------------------------------------------------------------

neg = LinearMap("neg", operator.neg, lambda g, out, x: neg(g))
exp = Elementwise("exp", np.exp, lambda out, x: out, reads=(-1,))
log = Elementwise("log", np.log, lambda out, x: reciprocal(x))
reciprocal = Elementwise("reciprocal", np.reciprocal, lambda out, x: -(out * out), reads=(-1,))
sqrt = Elementwise("sqrt", np.sqrt, lambda out, x: 0.5 * reciprocal(out), reads=(-1,))
abs = Elementwise("abs", np.abs, lambda out, x: sign(x))  # noqa: A001
sin = Elementwise("sin", np.sin, lambda out, x: cos(x))
cos = Elementwise("cos", np.cos, lambda out, x: -sin(x))
# tanh: np.tanh saturates cleanly at ±1000, and 1 - y² reuses the output.
tanh = Elementwise("tanh", np.tanh, lambda out, x: 1 - out * out, reads=(-1,))
# relu reads its output, so h.relu_() in place keeps the gradient (as in PyTorch).
relu = Elementwise("relu", lambda x: np.maximum(x, 0), lambda out, x: positive_mask(out),
                   reads=(-1,))


def _pow_const_deriv(out, x, p):
    # d/dx x**0 = 0 everywhere (also at x = 0, where p·x**(p-1) would be 0·inf)
    if p == 0:
        return zeros_like_value(x)
    return p * x ** (p - 1)


pow_const = Elementwise("pow", lambda x, p: np.power(x, p), _pow_const_deriv)


def _stable_sigmoid(x):
    # exp of a non-positive number only: no overflow at x = ±1000.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(x), copy=False)


# sigmoid is fused for stability: 1/(1+exp(-x)) overflows for x ≪ 0.
sigmoid = Elementwise("sigmoid", _stable_sigmoid, lambda out, x: out * (1 - out), reads=(-1,))


clip = Elementwise("clip", lambda x, lo, hi: np.clip(x, lo, hi),
                   lambda out, x, lo, hi: clip_mask(x, lo=lo, hi=hi))

# ---------------------------------------------------------------------------
# Binary primitives
# ---------------------------------------------------------------------------

add = Binary("add", operator.add,
             vjp=(lambda g, out, x, y: g,
                  lambda g, out, x, y: g),
             jvp=(lambda d, out, x, y: d,
                  lambda d, out, x, y: d))

mul = Binary("mul", operator.mul,
             vjp=(lambda g, out, x, y: g * y,
                  lambda g, out, x, y: g * x),
             jvp=(lambda d, out, x, y: d * y,
                  lambda d, out, x, y: x * d),
             saves=((1,), (0,)))


# x / y as one primitive, not x · (1/y): NumPy and PyTorch divide, and the
# product with a rounded reciprocal is 1 ulp off in about a third of float32
# quotients (x / 3), which a user comparing numbers with PyTorch would see.
div = Binary("div", operator.truediv,
             vjp=(lambda g, out, x, y: g / y,
                  lambda g, out, x, y: -(g * out) / y),
             jvp=(lambda d, out, x, y: d / y,
                  lambda d, out, x, y: -(out * d) / y),
             saves=((1,), (-1, 1)))


def _pow_dx(out, x, y):
    """∂(x**y)/∂x = y·x**(y-1), and 0 where y = 0 (PyTorch's value at x = 0)."""
    return where(y * x ** (y - 1), 0, cond=data_of(not_equal(y, 0)))


def _pow_dy(out, x, y):
    """∂(x**y)/∂y = x**y·log x, and 0 where x = 0 and y ≥ 0 (PyTorch's value)."""
    keep = data_of(logical_not(logical_and(equal(x, 0), greater_equal(y, 0))))
    return where(out * log(where(x, 1, cond=keep)), 0, cond=keep)


pow = Binary("pow", np.power,  # noqa: A001
             vjp=(lambda g, out, x, y: g * _pow_dx(out, x, y),
                  lambda g, out, x, y: g * _pow_dy(out, x, y)),
             jvp=(lambda d, out, x, y: d * _pow_dx(out, x, y),
                  lambda d, out, x, y: d * _pow_dy(out, x, y)),
             saves=((0, 1), (0, 1, -1)))


maximum = Binary("maximum", np.maximum,
                 vjp=(lambda g, out, a, b: g * max_share(a, b, sign=1),
                      lambda g, out, a, b: g * max_share(b, a, sign=1)),
                 jvp=(lambda d, out, a, b: d * max_share(a, b, sign=1),
                      lambda d, out, a, b: d * max_share(b, a, sign=1)),
                 saves=((0, 1), (0, 1)))

minimum = Binary("minimum", np.minimum,
                 vjp=(lambda g, out, a, b: g * max_share(a, b, sign=-1),
                      lambda g, out, a, b: g * max_share(b, a, sign=-1)),
                 jvp=(lambda d, out, a, b: d * max_share(a, b, sign=-1),
                      lambda d, out, a, b: d * max_share(b, a, sign=-1)),
                 saves=((0, 1), (0, 1)))

# C = A @ B on stacks of matrices with equal batch shapes (``ops.matmul``
# handles 1-D operands and batch broadcasting). Ā = C̄ Bᵀ, B̄ = Aᵀ C̄,
# Ċ = Ȧ B + A Ḃ. A primitive, not broadcast-multiply-sum: BLAS speed.
matmul = Primitive(
    "matmul", np.matmul,
    vjp=(lambda g, out, a, b: matmul(g, matrix_transpose(b)),
         lambda g, out, a, b: matmul(matrix_transpose(a), g)),
    jvp=(lambda d, out, a, b: matmul(d, b),
         lambda d, out, a, b: matmul(a, d)),
    saves=((1,), (0,)))


def _linear_forward(x, w, b):
    out = np.matmul(x, w.T)
    out += b  # in place on our own fresh product
    return out


# y = x Wᵀ + b for a batch x (N, in), W (out, in), b (out,): the layer of
# every MLP, fused for speed, as PyTorch's addmm: one BLAS call and no
# transpose or broadcast nodes. x̄ = ȳ W, W̄ = ȳᵀ x, b̄ = Σ_n ȳ_n;
# ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ. ``ops.linear`` checks shapes and reshapes other
# batch layouts to 2-D.
linear = Primitive(
    "linear", _linear_forward,
    vjp=(lambda g, out, x, w, b: matmul(g, w),
         lambda g, out, x, w, b: matmul(matrix_transpose(g), x),
         lambda g, out, x, w, b: sum(g, axis=(0,), keepdims=False)),
    jvp=(lambda d, out, x, w, b: matmul(d, matrix_transpose(w)),
         lambda d, out, x, w, b: matmul(x, matrix_transpose(d)),
         lambda d, out, x, w, b: broadcast_to(d, shape=out.shape)),
    saves=((1,), (0,), ()))

# out = a where cond else b; ``cond`` (a boolean array) is a setting.
where = Primitive("where", lambda a, b, cond: np.where(cond, a, b),
                  vjp=(lambda g, out, a, b, cond: sum_to(where(g, 0, cond=cond), a.shape),
                       lambda g, out, a, b, cond: sum_to(where(0, g, cond=cond), b.shape)),
                  jvp=(lambda d, out, a, b, cond: where(d, 0, cond=cond),
                       lambda d, out, a, b, cond: where(0, d, cond=cond)))
where.broadcasts = True

# ---------------------------------------------------------------------------
# Linear shape and reduction primitives
# ---------------------------------------------------------------------------


def _sum_forward(x, axis, keepdims):
    if x.dtype == np.float16:  # accumulate in float32, as PyTorch does
        return x.sum(axis=axis, keepdims=keepdims, dtype=np.float32).astype(np.float16)
    return x.sum(axis=axis, keepdims=keepdims)


sum = LinearMap(  # noqa: A001
    "sum", _sum_forward,
    lambda g, out, x, axis, keepdims: broadcast_to(
        reshape(g, shape=keep_shape(x.shape, axis)), shape=x.shape))

broadcast_to = View("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                    lambda g, out, x, shape: sum_to(g, x.shape),
                    unview=None)  # a broadcast view has repeated elements: not writable

reshape = View("reshape", lambda x, shape: x.reshape(shape),
               lambda g, out, x, shape: reshape(g, shape=x.shape),
               unview=lambda base, v, shape: reshape(v, shape=base.shape))


def _inverse(axes):
    return tuple(int(i) for i in np.argsort(axes))


transpose = View("transpose", lambda x, axes: x.transpose(axes),
                 lambda g, out, x, axes: transpose(g, axes=_inverse(axes)),
                 unview=lambda base, v, axes: transpose(v, axes=_inverse(axes)))

# The identity, as a view: a new tensor object with the same value and history
# (functional calls evaluate f on aliases of their inputs).
alias = View("alias", lambda x: x.view() if isinstance(x, np.ndarray) else x,
             lambda g, out, x: g, unview=lambda base, v: v)


def _scatter_forward(v, index, shape):
    if not is_advanced(index):  # basic indexing: no position repeats
        z = np.zeros(shape, dtype=v.dtype)
        z[index] = v
        return z
    # Repeated positions must accumulate. np.add.at is fast when the index is
    # made of 1-D integer arrays only (e.g. picking one class per row), slow
    # otherwise; then summing by flat position with bincount is the same sum.
    if builtins.all(isinstance(i, np.ndarray) and i.ndim == 1 for i in index):
        z = np.zeros(shape, dtype=v.dtype)
        np.add.at(z, index, v)
        return z
    size = int(np.prod(shape))
    pos = np.arange(size).reshape(shape)[index]
    weights = np.broadcast_to(v, pos.shape).ravel()
    total = np.bincount(pos.ravel(), weights=weights, minlength=size)
    return total.astype(v.dtype, copy=False).reshape(shape)


# astype always copies: the engine also uses it to give a leaf its own .grad.
astype = LinearMap("astype", lambda x, dtype: np.array(x, dtype=dtype),
                   lambda g, out, x, dtype: astype(g, dtype=x.dtype))

getitem = View("getitem", lambda x, index: x[index],
               lambda g, out, x, index: scatter_add(g, index=index, shape=x.shape),
               unview=lambda base, v, index: index_put(base, v, index=index))

# The adjoint of indexing: zeros of ``shape`` with ``v`` added at ``index``.
scatter_add = LinearMap("scatter_add", _scatter_forward,
                        lambda g, out, v, index, shape: getitem(g, index=index))


def _index_put_forward(base, value, index):
    out = np.array(base, copy=True)
    out[index] = value
    return out


# out = base with ``value`` written at ``index`` (x[index] = value, out of
# place): linear in (base, value). base̅ = ȳ with zeros at index, value̅ = ȳ[index].
index_put = Primitive(
    "index_put", _index_put_forward,
    vjp=(lambda g, out, base, value, index: index_put(g, 0, index=index),
         lambda g, out, base, value, index: sum_to(getitem(g, index=index), value.shape)),
    jvp=(lambda d, out, base, value, index: index_put(d, 0, index=index),
         lambda d, out, base, value, index: index_put(zeros_like_value(out), d, index=index)))


def _block(i, axis, bounds):
    return (slice(None),) * axis + (slice(bounds[i], bounds[i + 1]),)


def _concat_forward(*xs, axis, bounds):
    return np.concatenate(xs, axis=axis)


# ``bounds``: where each input starts and ends along ``axis`` (computed by ops).
concatenate = Primitive(
    "concatenate", _concat_forward,
    vjp=IndexedRules(lambda i: lambda g, out, *xs, axis, bounds:
                     getitem(g, index=_block(i, axis, bounds))),
    jvp=IndexedRules(lambda i: lambda d, out, *xs, axis, bounds:
                     index_put(zeros_like_value(out), d, index=_block(i, axis, bounds))))


def _concat_push(tangents, out, inputs, settings):
    # One concatenation of all tangents (zeros for the missing ones), instead
    # of one full-size array per input.
    parts = [d if d is not None else np.zeros(x.shape, dtype=data_of(out).dtype)
             for d, x in zip(tangents, inputs)]
    return concatenate(*parts, **settings)


concatenate.push = _concat_push

# ---------------------------------------------------------------------------
# Shape and indexing primitives (vocabulary)
# ---------------------------------------------------------------------------


def _diagonal_forward(x, offset, dim1, dim2):
    # NumPy's diagonal is a read-only view (a guard from its history, not a
    # memory limit): made writable where the input is, so that an in-place
    # change of the diagonal reaches the tensor it views, as in PyTorch.
    d = np.diagonal(x, offset, dim1, dim2)
    if isinstance(x, np.ndarray) and x.flags.writeable:
        d.flags.writeable = True
    return d


def _diagonal_scatter_forward(x, src, offset, dim1, dim2):
    out = np.array(x, copy=True)
    _diagonal_forward(out, offset, dim1, dim2)[...] = src
    return out


# The (offset) diagonal of the planes (dim1, dim2), as a new last axis (a
# view). Its transpose puts the cotangent back on the diagonal of zeros.
diagonal = View("diagonal", _diagonal_forward,
                lambda g, out, x, offset, dim1, dim2: diagonal_scatter(
                    zeros_like_value(x), g, offset=offset, dim1=dim1, dim2=dim2),
                unview=lambda base, v, offset, dim1, dim2: diagonal_scatter(
                    base, v, offset=offset, dim1=dim1, dim2=dim2))

# out = x with its diagonal replaced by src: linear in (x, src), as index_put.
# x̄ = ȳ with a zero diagonal, src̄ = diagonal(ȳ).
diagonal_scatter = Primitive(
    "diagonal_scatter", _diagonal_scatter_forward,
    vjp=(lambda g, out, x, src, **s: diagonal_scatter(g, 0, **s),
         lambda g, out, x, src, **s: diagonal(g, **s)),
    jvp=(lambda d, out, x, src, **s: diagonal_scatter(d, 0, **s),
         lambda d, out, x, src, **s: diagonal_scatter(zeros_like_value(out), d, **s)))

# ---------------------------------------------------------------------------
# Non-linear reductions
# ---------------------------------------------------------------------------


def _max_reduction(name, weights):
    """The maximum over ``axis``, its gradient spread by ``weights(x, out, axis)``."""
    return Unary(
        name, lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        vjp=(lambda g, out, x, axis, keepdims:
             reshape(g, shape=keep_shape(x.shape, axis)) * weights(x, out, axis=axis),),
        jvp=(lambda d, out, x, axis, keepdims:
             sum(d * weights(x, out, axis=axis), axis=axis, keepdims=keepdims),),
        saves=((0, -1),))


# max: a NaN is the maximum and takes the gradient (torch's max() and max(dim));
# amax: the same values, torch.amax's gradient (NaN over a slice whose maximum is NaN)
max = _max_reduction("max", max_weights)  # noqa: A001
amax = _max_reduction("amax", amax_weights)

def _median_forward(x):
    data = np.reshape(x, -1)
    if data.dtype.kind == "f" and np.isnan(data).any():
        return np.array(np.nan, dtype=data.dtype)
    return np.sort(data, kind="stable")[(data.size - 1) // 2]


# The median of all elements (the lower middle one): its gradient is shared by
# the elements equal to it, as max's is (PyTorch's rule); a NaN is the median.
median = Unary(
    "median", _median_forward,
    vjp=(lambda g, out, x: reshape(g, shape=keep_shape(x.shape, None))
         * max_weights(x, out, axis=None),),
    jvp=(lambda d, out, x: sum(d * max_weights(x, out, axis=None), axis=None, keepdims=False),),
    saves=((0, -1),))

# ---------------------------------------------------------------------------
# Convolution primitives. On (N, C, *spatial) arrays with D ≥ 1 spatial axes;
# the NumPy kernels (and how they choose an algorithm by shape) are in
# ``conv_kernels``. Settings: ``stride``, ``padding`` as one (lo, hi) pair per
# axis (zeros), ``dilation``, ``groups``, and for the adjoints ``size``, the
# spatial size they produce.
#
#   conv(x, W[, b])            y  = W ⋆ x + b            (PyTorch's conv: a correlation)
#   conv_transpose(g, W[, b])  x̄  = Wᵀ ⋆ g + b          ⟨conv(x, W), g⟩ = ⟨x, conv_transpose(g, W)⟩
#   conv_weight(x, g)          W̄                         ⟨conv(x, W), g⟩ = ⟨W, conv_weight(x, g)⟩
#
# Each is bilinear, and the rules of each are the other two (as matmul's are
# matmuls): the set is closed under differentiation, so double backward,
# forward mode and the R-operator run through convolutions. ConvTranspose
# layers use conv_transpose as their forward.
# ---------------------------------------------------------------------------

from . import conv_kernels  # noqa: E402  (imported here so parallel edits of the imports merge)


def _channel_sum(g):
    """b̄ = Σ of g over the batch and spatial axes (the bias's adjoint)."""
    return sum(g, axis=(0,) + tuple(range(2, g.ndim)), keepdims=False)


def _channel_broadcast(d, out):
    """A bias tangent ḃ (C,) spread over an output of ``out``'s shape."""
    return broadcast_to(reshape(d, shape=(d.shape[0],) + (1,) * (out.ndim - 2)), shape=out.shape)


def _fit(y, shape):
    """``y`` cropped to ``shape`` at the origin: a transposed convolution with
    output_padding ≥ stride has outputs that no input window of the
    forward convolution reaches, so its adjoint ignores them."""
    if tuple(y.shape) == tuple(shape):
        return y
    return getitem(y, index=tuple(slice(0, n) for n in shape))


conv = Primitive(
    "conv", conv_kernels.conv,
    vjp=(lambda g, out, x, w, b=None, **s: conv_transpose(g, w, size=x.shape[2:], **s),
         lambda g, out, x, w, b=None, **s: conv_weight(x, g, size=w.shape[2:], **s),
         lambda g, out, x, w, b, **s: _channel_sum(g)),
    jvp=(lambda d, out, x, w, b=None, **s: conv(d, w, **s),
         lambda d, out, x, w, b=None, **s: conv(x, d, **s),
         lambda d, out, x, w, b, **s: _channel_broadcast(d, out)),
    saves=((1,), (0,), ()))

conv_transpose = Primitive(
    "conv_transpose", conv_kernels.conv_transpose,
    vjp=(lambda h, out, g, w, b=None, *, size, **s: _fit(conv(h, w, **s), g.shape),
         lambda h, out, g, w, b=None, *, size, **s: conv_weight(h, g, size=w.shape[2:], **s),
         lambda h, out, g, w, b, *, size, **s: _channel_sum(h)),
    jvp=(lambda d, out, g, w, b=None, *, size, **s: conv_transpose(d, w, size=size, **s),
         lambda d, out, g, w, b=None, *, size, **s: conv_transpose(g, d, size=size, **s),
         lambda d, out, g, w, b, *, size, **s: _channel_broadcast(d, out)),
    saves=((1,), (0,), ()))

conv_weight = Primitive(
    "conv_weight", conv_kernels.conv_weight,
    vjp=(lambda h, out, x, g, *, size, **s: conv_transpose(g, h, size=x.shape[2:], **s),
         lambda h, out, x, g, *, size, **s: _fit(conv(x, h, **s), g.shape)),
    jvp=(lambda d, out, x, g, *, size, **s: conv_weight(d, g, size=size, **s),
         lambda d, out, x, g, *, size, **s: conv_weight(x, d, size=size, **s)),
    saves=((1,), (0,)))


def _pool_selection(x, out, settings):
    """Where each window's maximum came from — flat indices into x — and the
    windows that pass a derivative (None: all; a window wholly in the
    padding passes none). Constants of the derivative, as ``max``'s weights."""
    inside = conv_kernels.pool_windows_inside(np.shape(data_of(x))[2:],
                                              np.shape(data_of(out))[2:], **settings)
    # a constant primitive, so a compiled program finds the maxima anew each call
    return data_of(pool_positions(x, out, **settings)), inside


pool_positions = Constant("pool_positions", conv_kernels.pool_positions)


def _flat_size(shape):
    n = 1
    for k in shape:
        n *= k
    return n


def _max_pool_vjp(g, out, x, **s):
    positions, inside = _pool_selection(x, out, s)
    if inside is not None:
        g = g * inside
    flat = scatter_add(reshape(g, shape=(_flat_size(g.shape),)), index=(positions,),
                       shape=(_flat_size(x.shape),))
    return reshape(flat, shape=x.shape)


def _max_pool_jvp(d, out, x, **s):
    positions, inside = _pool_selection(x, out, s)
    picked = reshape(getitem(reshape(d, shape=(_flat_size(d.shape),)), index=(positions,)),
                     shape=out.shape)
    return picked if inside is None else picked * inside


# y = the maximum of every window (settings: kernel, stride, padding,
# dilation; padding counts as −∞). Piecewise linear: the derivative picks
# the winning element (PyTorch's: the first maximum, the last NaN), so the
# VJP scatters ȳ to it and the JVP gathers ẋ from it — the existing
# scatter_add/getitem pair on the flat input, whose rules close the set.
max_pool = Unary("max_pool", conv_kernels.max_pool, vjp=(_max_pool_vjp,), jvp=(_max_pool_jvp,),
                 saves=((0, -1),))

# ---------------------------------------------------------------------------
# Fused primitives: softmax family. Composing exp/sum/log would overflow at
# inputs of ±1000; these subtract the maximum first.
# ---------------------------------------------------------------------------


def _logsumexp_forward(x, axis, keepdims):
    if x.size == 0:  # log Σ over nothing = log 0
        return np.full(keep_shape(x.shape, axis) if keepdims else reduced_shape(x.shape, axis),
                       -np.inf, dtype=x.dtype)
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():  # all -inf (or inf) along an axis: shift by 0 there
        m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    out += m
    return out if keepdims else out.reshape(reduced_shape(x.shape, axis))


def _softmax_of(x, out, axis):
    """softmax(x) = exp(x - logsumexp(x)), from logsumexp's output."""
    return exp(x - reshape(out, shape=keep_shape(x.shape, axis)))


logsumexp = Unary(
    "logsumexp", _logsumexp_forward,
    vjp=(lambda g, out, x, axis, keepdims:
         reshape(g, shape=keep_shape(x.shape, axis)) * _softmax_of(x, out, axis),),
    jvp=(lambda d, out, x, axis, keepdims:
         sum(d * _softmax_of(x, out, axis), axis=axis, keepdims=keepdims),),
    saves=((0, -1),))


def _log_softmax_forward(x, axis):
    if x.size == 0:  # nothing to normalise (NumPy's max of nothing would raise)
        return np.empty_like(x)
    # (x - m) - log Σ exp(x - m): subtracting m first keeps float32 exact at ±1000
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


log_softmax = Unary(
    "log_softmax", _log_softmax_forward,
    vjp=(lambda g, out, x, axis: g - exp(out) * sum(g, axis=(axis,), keepdims=True),),
    jvp=(lambda d, out, x, axis: d - sum(exp(out) * d, axis=(axis,), keepdims=True),),
    saves=((-1,),))


def _softmax_forward(x, axis):
    if x.size == 0:  # nothing to normalise, as torch
        return np.empty_like(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


softmax = Unary(
    "softmax", _softmax_forward,
    vjp=(lambda g, out, x, axis: out * (g - sum(g * out, axis=(axis,), keepdims=True)),),
    jvp=(lambda d, out, x, axis: out * (d - sum(out * d, axis=(axis,), keepdims=True)),),
    saves=((-1,),))


def is_grad_recording():
    """True while primitives record nodes (used by ops to skip needless work).

        >>> from autograd_core import primitives as P
        >>> P.is_grad_recording()
        True
        >>> with ag.no_grad():
        ...     P.is_grad_recording()
        False
    """
    return state.grad_enabled

# ---------------------------------------------------------------------------
# Math primitives (vocabulary)
# ---------------------------------------------------------------------------

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_TWO_OVER_SQRT_PI = 2.0 / float(np.sqrt(np.pi))


def _inv_sqrt_one_minus_square(x):
    """1/√(1 - x²), written (1-x)(1+x) for accuracy near |x| = 1."""
    return reciprocal(sqrt((1 - x) * (1 + x)))


log1p = Elementwise("log1p", np.log1p, lambda out, x: reciprocal(1 + x))
expm1 = Elementwise("expm1", np.expm1, lambda out, x: out + 1, reads=(-1,))
exp2 = Elementwise("exp2", np.exp2, lambda out, x: out * _LN2, reads=(-1,))
log2 = Elementwise("log2", np.log2, lambda out, x: reciprocal(x) * (1 / _LN2))
log10 = Elementwise("log10", np.log10, lambda out, x: reciprocal(x) * (1 / _LN10))
sinh = Elementwise("sinh", np.sinh, lambda out, x: cosh(x))
cosh = Elementwise("cosh", np.cosh, lambda out, x: sinh(x))
asinh = Elementwise("asinh", np.arcsinh, lambda out, x: reciprocal(sqrt(x * x + 1)))
acosh = Elementwise("acosh", np.arccosh, lambda out, x: reciprocal(sqrt((x - 1) * (x + 1))))
atanh = Elementwise("atanh", np.arctanh, lambda out, x: reciprocal((1 - x) * (1 + x)))
asin = Elementwise("asin", np.arcsin, lambda out, x: _inv_sqrt_one_minus_square(x))
acos = Elementwise("acos", np.arccos, lambda out, x: -_inv_sqrt_one_minus_square(x))
atan = Elementwise("atan", np.arctan, lambda out, x: reciprocal(x * x + 1))
# erf and erfc by NumPy kernels (``_special``): SciPy is not a dependency.
erf = Elementwise("erf", _special.erf, lambda out, x: exp(-(x * x)) * _TWO_OVER_SQRT_PI)
erfc = Elementwise("erfc", _special.erfc, lambda out, x: exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


def _softplus_forward(x, beta, threshold):
    """(1/β) log(1 + e^{βx}) as max(βx, 0) + log1p(e^{-|βx|}): exact and finite for
    every x; x itself where βx > threshold (PyTorch's switch to the identity)."""
    z = x * beta
    soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
    return np.where(z > threshold, x, soft).astype(np.result_type(x), copy=False)


def _softplus_deriv(out, x, beta, threshold):
    # σ(βx), and 1 where the identity took over (as PyTorch's backward)
    return where(1, sigmoid(x * beta), cond=data_of(greater(x * beta, threshold)))


softplus = Elementwise("softplus", _softplus_forward, _softplus_deriv)


def _zero_vjp(g, out, x, **settings):
    return zeros_like_value(x)


class Step(Unary):
    """A piecewise-constant op (floor, sign, round, ...). Its derivative is zero
    wherever it exists, and PyTorch defines it as zero everywhere: the VJP is
    zeros, the JVP is a zero tangent (None).

        >>> from autograd_core import primitives as P
        >>> x = ag.tensor([0.5, 1.5], requires_grad=True)
        >>> isinstance(P.floor, P.Step)
        True
        >>> P.floor(x).sum().backward()
        >>> x.grad                                       # zero, as PyTorch defines it
        Tensor([0., 0.], dtype=float32)
    """

    def __init__(self, name, fn):
        super().__init__(name, fn, vjp=(_zero_vjp,), jvp=(lambda d, out, x, **s: None,))


def _sign_forward(x):
    s = np.sign(x)
    return np.where(np.isnan(s), 0, s).astype(s.dtype, copy=False) if s.dtype.kind == "f" else s


sign = Step("sign", _sign_forward)  # sign(NaN) = 0, as in PyTorch
floor = Step("floor", np.floor)
ceil = Step("ceil", np.ceil)
trunc = Step("trunc", np.trunc)
round = Step("round", lambda x, decimals: np.round(x, decimals))  # noqa: A001 - half to even
# 1 where x ≠ 0 (NaN counts), in x's dtype: the p = 0 "norm" counts these.
nonzero_indicator = Step("nonzero_indicator",
                         lambda x: np.not_equal(x, 0).astype(np.result_type(x), copy=False))


def _atan2_scale(y, x):
    """1/(x² + y²), with 1 in place of 1/0: PyTorch's gradient of atan2 at (0, 0) is 0."""
    den = x * x + y * y
    return reciprocal(where(1, den, cond=data_of(equal(den, 0))))


# atan2(y, x): ∂/∂y = x/(x²+y²), ∂/∂x = -y/(x²+y²).
atan2 = Binary("atan2", np.arctan2,
               vjp=(lambda g, out, y, x: g * x * _atan2_scale(y, x),
                    lambda g, out, y, x: -(g * y * _atan2_scale(y, x))),
               jvp=(lambda d, out, y, x: d * x * _atan2_scale(y, x),
                    lambda d, out, y, x: -(d * y * _atan2_scale(y, x))),
               saves=((0, 1), (0, 1)))

# hypot(x, y) = √(x² + y²) without overflow; ∂/∂x = x/hypot (NaN at (0, 0), as PyTorch).
hypot = Binary("hypot", np.hypot,
               vjp=(lambda g, out, x, y: g * x * reciprocal(out),
                    lambda g, out, x, y: g * y * reciprocal(out)),
               jvp=(lambda d, out, x, y: d * x * reciprocal(out),
                    lambda d, out, x, y: d * y * reciprocal(out)),
               saves=((0, -1), (1, -1)))


def _quotient_forward(x, y, rounding):
    with np.errstate(divide="ignore", invalid="ignore"):
        return rounding(np.true_divide(x, y))


# The integer quotient of fmod (trunc) or remainder (floor): a constant of the graph.
_quotient_of = Constant("quotient", _quotient_forward)


def _quotient(x, y, rounding):
    return _quotient_of(x, y, rounding=rounding)


def _remainder_kind(name, fn, rounding):
    """x - q·y with the integer quotient q = rounding(x/y): ∂/∂x = 1, ∂/∂y = -q,
    as PyTorch defines them."""
    return Binary(name, fn,
                  vjp=(lambda g, out, x, y: g,
                       lambda g, out, x, y: g * -_quotient(x, y, rounding)),
                  jvp=(lambda d, out, x, y: d,
                       lambda d, out, x, y: d * -_quotient(x, y, rounding)),
                  saves=((), (0, 1)))


fmod = _remainder_kind("fmod", np.fmod, np.trunc)                 # the sign of x (C's fmod)
remainder = _remainder_kind("remainder", np.remainder, np.floor)  # the sign of y (Python's %)

# -- scans ------------------------------------------------------------------


def _flip(a, axis):
    return getitem(a, index=(slice(None),) * axis + (slice(None, None, -1),))


def _reverse_cumsum(a, axis):
    """Σ_{j ≥ i} a_j along ``axis``: the transpose of cumsum."""
    return _flip(cumsum(_flip(a, axis), axis=axis), axis)


cumsum = LinearMap("cumsum", lambda x, axis: np.cumsum(x, axis=axis),
                   lambda g, out, x, axis: _reverse_cumsum(g, axis))


def _zeros_pattern(x, axis):
    """Masks along ``axis``: before the first zero of each slice, and at it."""
    zeros_so_far = np.cumsum(data_of(x) == 0, axis=axis)
    return zeros_so_far == 0, (zeros_so_far == 1) & (data_of(x) == 0)


def _rules_recorded():
    """True when a rule's own result will be differentiated (create_graph, or
    tangents of outer forward levels flowing through it), or is being traced by
    the compiler (whose program must not depend on where the zeros are)."""
    return state.grad_enabled or bool(state.levels) or state.tracer is not None


def _products_leaving_one_out(x, axis):
    """T[..., k, i] = Π_{l ≤ i, l ≠ k} x_l along ``axis`` (moved last): the
    running products with x_k set to 1. O(n²), a polynomial in x with no
    division, hence exact to every order where x has zeros."""
    nd = x.ndim
    perm = tuple(i for i in range(nd) if i != axis) + (axis,)
    xm = transpose(x, axes=perm) if axis != nd - 1 else x
    n = xm.shape[-1]
    rows = broadcast_to(reshape(xm, shape=xm.shape[:-1] + (1, n)), shape=xm.shape + (n,))
    return cumprod(where(1, rows, cond=np.eye(n, dtype=bool)), axis=nd), perm


def _from_last(a, axis, perm):
    return transpose(a, axes=_inverse(perm)) if axis != a.ndim - 1 else a


def _cumprod_vjp(g, out, x, axis):
    # y_i = Π_{j≤i} x_j: x̄_k = Σ_{i≥k} ȳ_i y_i / x_k where x has no zero.
    if state.tracer is None and not np.any(data_of(x) == 0):
        return _reverse_cumsum(g * out, axis) * reciprocal(x)
    if _rules_recorded():  # the exact form, correct in its own derivatives too
        table, perm = _products_leaving_one_out(x, axis)
        gm = transpose(g, axes=perm) if axis != x.ndim - 1 else g
        n = gm.shape[-1]
        later = np.triu(np.ones((n, n), dtype=bool))  # [k, i]: i ≥ k
        terms = where(reshape(gm, shape=gm.shape[:-1] + (1, n)) * table, 0, cond=later)
        return _from_last(sum(terms, axis=(x.ndim,), keepdims=False), axis, perm)
    # PyTorch's case analysis (first order, O(n)): before a slice's first zero
    # z the formula above holds; at z, x̄_z = Σ_{i≥z} ȳ_i Π_{j≤i, j≠z} x_j, the
    # cumprod with x_z set to 1; after z everything is 0.
    before, first = _zeros_pattern(x, axis)
    part_before = _reverse_cumsum(g * out, axis) * reciprocal(where(x, 1, cond=before))
    part_first = _reverse_cumsum(g * cumprod(where(1, x, cond=first), axis=axis), axis)
    return where(part_before, where(part_first, 0, cond=first), cond=before)


def _cumprod_jvp(d, out, x, axis):
    # ẏ_i = y_i Σ_{k≤i} ẋ_k / x_k where x has no zero.
    if state.tracer is None and not np.any(data_of(x) == 0):
        return out * cumsum(d * reciprocal(x), axis=axis)
    if _rules_recorded():  # ẏ_i = Σ_{k≤i} ẋ_k Π_{l≤i, l≠k} x_l, exactly
        table, perm = _products_leaving_one_out(x, axis)
        dm = transpose(d, axes=perm) if axis != x.ndim - 1 else d
        n = dm.shape[-1]
        later = np.triu(np.ones((n, n), dtype=bool))
        terms = where(reshape(dm, shape=dm.shape + (1,)) * table, 0, cond=later)
        return _from_last(sum(terms, axis=(x.ndim - 1,), keepdims=False), axis, perm)
    # Before the first zero z the formula holds; from z on only the term k = z
    # survives: ẋ_z · Π_{j≤i, j≠z} x_j.
    before, first = _zeros_pattern(x, axis)
    part_before = out * cumsum(d * reciprocal(where(x, 1, cond=before)), axis=axis)
    d_at_first = sum(where(d, 0, cond=first), axis=(axis,), keepdims=True)
    part_after = d_at_first * cumprod(where(1, x, cond=first), axis=axis)
    return where(part_before, part_after, cond=before)


cumprod = Unary("cumprod", lambda x, axis: np.cumprod(x, axis=axis),
                vjp=(_cumprod_vjp,), jvp=(_cumprod_jvp,), saves=((0, -1),))

# -- einsum -----------------------------------------------------------------
#
# Settings: ``inputs`` (one subscript string per operand, one letter per
# axis) and ``output``; ``ops.einsum`` parses the equation (ellipses, the
# implicit output, broadcasting) into this explicit form, and broadcasts
# operands so that every letter has one size. The rules are einsums
# themselves, so every order of derivative is an einsum:
#
#   JVP_i: the same einsum with operand i replaced by its tangent;
#   VJP_i: ȳ contracted with the other operands onto operand i's letters. A
#   letter repeated in operand i (a diagonal, "ii->i") gets a fresh letter in
#   the result tied to it by an identity matrix operand; a letter only
#   operand i has (summed away, "ij->i") is broadcast back.

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@functools.lru_cache(maxsize=1024)
def _einsum_plan(inputs, output):
    """The equation, and whether to let NumPy optimise the contraction order
    (BLAS): for three or more operands, or when two share a summed letter."""
    shared = set()
    for a, b in itertools.combinations(inputs, 2):
        shared |= set(a) & set(b)
    optimize = len(inputs) > 2 or bool(shared - set(output))
    return ",".join(inputs) + "->" + output, optimize


def _einsum_forward(*xs, inputs, output):
    equation, optimize = _einsum_plan(inputs, output)
    if optimize and builtins.max(np.size(x) for x in xs) < 4096:
        optimize = len(xs) > 2  # small operands: the path search costs more than it saves
    return np.einsum(equation, *xs, optimize=optimize)


@functools.lru_cache(maxsize=1024)
def _einsum_vjp_plan(i, inputs, output):
    """For operand i: the subscripts of the cotangent einsum (ȳ, the other
    operands, identity matrices), its output letters, and which of operand
    i's letters are broadcast back (absent from the result)."""
    target = inputs[i]
    others = inputs[:i] + inputs[i + 1:]
    fresh = iter(c for c in _LETTERS if c not in "".join(inputs) + output)
    result, ties, seen = [], [], set()
    for c in target:
        if c in seen:  # a repeated letter: a fresh one, tied to c by an identity
            f = next(fresh)
            ties.append((c, f))
            result.append(f)
        else:
            seen.add(c)
            result.append(c)
    available = set(output).union(*others, *("".join(t) for t in ties))
    kept = "".join(c for c in result if c in available)
    subscripts = (output,) + others + tuple("".join(t) for t in ties)
    present = tuple(c in available for c in result)
    return subscripts, kept, present, tuple(target.index(c) for c, _ in ties)


def _einsum_cotangent(i):
    def rule(g, out, *xs, inputs, output):
        subscripts, kept, present, tie_axes = _einsum_vjp_plan(i, inputs, output)
        x = xs[i]
        dtype = np.result_type(data_of(g))
        eyes = [np.eye(x.shape[a], dtype=dtype) for a in tie_axes]
        others = xs[:i] + xs[i + 1:]
        r = einsum(g, *others, *eyes, inputs=subscripts, output=kept)
        if builtins.all(present):
            return r
        shape = tuple(n if p else 1 for n, p in zip(x.shape, present))
        return broadcast_to(reshape(r, shape=shape), shape=x.shape)
    return rule


def _einsum_tangent(i):
    def rule(d, out, *xs, inputs, output):
        return einsum(*xs[:i], d, *xs[i + 1:], inputs=inputs, output=output)
    return rule


class _Einsum:
    """``einsum(*operands, inputs=..., output=...)``: one primitive per number
    of operands (so that ``saves`` can name the operands each VJP reads: all
    the others), sharing the rules."""

    name = "einsum"

    def __init__(self):
        self._by_arity = {}

    def of_arity(self, n):
        prim = self._by_arity.get(n)
        if prim is None:
            prim = self._by_arity[n] = Primitive(
                "einsum", _einsum_forward,
                vjp=IndexedRules(_einsum_cotangent), jvp=IndexedRules(_einsum_tangent),
                saves=tuple(tuple(j for j in range(n) if j != i) for i in range(n)))
        return prim

    def __call__(self, *xs, inputs, output):
        return self.of_arity(len(xs))(*xs, inputs=inputs, output=output)

    def __repr__(self):
        return "<primitive einsum>"


einsum = _Einsum()
