"""THE TABLE: every primitive op, its forward computation, and its derivative
rules side by side.

Each primitive declares, per input i,

* a VJP rule  ``vjp_i(g, out, *inputs, **settings)`` returning x̄_i's share
  of the output cotangent ``g`` (reverse mode, the backward pass), and
* a JVP rule  ``jvp_i(d, out, *inputs, **settings)`` returning the output
  tangent caused by input i's tangent ``d`` (forward mode, Pearlmutter's R{·}).

Rules are per input (as in HIPS autograd's ``defvjp``) rather than one
function returning a tuple, so the engine computes only what is needed: the
gradient of a matmul with respect to a data batch is never formed, and a zero
(``None``) tangent costs nothing.

Rules are written with the callables of this module and with operators, which
work on both raw ndarrays and Tensors: every primitive called with no Tensor
argument simply runs its NumPy forward. The backward sweep feeds the rules raw
arrays when nothing needs recording (fast), and Tensors under
``create_graph=True`` (the backward pass is then itself a graph: higher
derivatives) or when tangents are present (the R-operator). One rule, three
uses.

Binary ops see operands of equal shape: broadcasting is an explicit
``broadcast_to`` node inserted by ``Binary.__call__``, and the VJP of
``broadcast_to`` (``sum_to``) is the only place a gradient is summed back to a
shape.
"""
from __future__ import annotations

import operator

import numpy as np

from .graph import apply, _NO_SETTINGS
from .tensor import Tensor, lift

# ---------------------------------------------------------------------------
# Primitive kinds
# ---------------------------------------------------------------------------


class Primitive:
    """An op with a NumPy forward and per-input VJP and JVP rules.

    ``vjp``/``jvp`` are tuples with one rule per input, or, for variadic ops,
    one callable ``rule(g_or_tangents, out, inputs, settings)`` for all inputs.
    """

    def __init__(self, name, forward, vjp, jvp):
        self.name = name
        self.forward = forward
        if callable(vjp):
            self.vjps, self.vjp_all = None, vjp
        else:
            self.vjps, self.vjp_all = tuple(vjp), None
        if callable(jvp):
            self.jvps, self.jvp_all = None, jvp
        else:
            self.jvps, self.jvp_all = tuple(jvp), None

    def push_tangents(self, tangents, out, inputs, settings):
        if self.jvp_all is not None:
            return self.jvp_all(tangents, out, inputs, settings)
        total = None
        for rule, d in zip(self.jvps, tangents):
            if d is not None:
                term = rule(d, out, *inputs, **settings)
                total = term if total is None else total + term
        return total

    def __repr__(self):
        return f"<primitive {self.name}>"


class Unary(Primitive):
    def __call__(self, x, **settings):
        if isinstance(x, Tensor):
            return apply(self, (x,), settings or _NO_SETTINGS, self.forward(x._d, **settings))
        return self.forward(x, **settings)


class Elementwise(Unary):
    """y = f(x) elementwise, with local derivative ``deriv(out, x) = f'(x)``.

    Both rules follow from it: x̄ = ȳ·f'(x) and ẏ = f'(x)·ẋ.
    """

    def __init__(self, name, fn, deriv):
        super().__init__(
            name, fn,
            vjp=(lambda g, out, x, **s: g * deriv(out, x, **s),),
            jvp=(lambda d, out, x, **s: d * deriv(out, x, **s),))


class Linear(Unary):
    """A linear op L: its JVP is L itself applied to the tangent, ẏ = L ẋ;
    ``transpose_rule`` gives the VJP, x̄ = Lᵀ ȳ."""

    def __init__(self, name, fn, transpose_rule):
        super().__init__(
            name, fn,
            vjp=(transpose_rule,),
            jvp=(lambda d, out, x, **s: self(d, **s),))


class Binary(Primitive):
    """Two operands, broadcast to one shape by explicit ``broadcast_to`` nodes."""

    def __call__(self, x, y):
        xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
        if not (xt or yt):
            return self.forward(x, y)
        if not xt:
            x = lift(x, y, self.name)
        elif not yt:
            y = lift(y, x, self.name)
        if x._d.shape != y._d.shape:
            x, y = broadcast_operands(self.name, (x, y))
        return apply(self, (x, y), _NO_SETTINGS, self.forward(x._d, y._d))


def broadcast_operands(opname, operands, extra_shape=()):
    """Broadcast Tensors to their common shape; only operands that carry
    derivatives get an explicit node (a constant is broadcast by NumPy)."""
    shapes = [t._d.shape for t in operands]
    try:
        target = np.broadcast_shapes(*shapes, *([extra_shape] if extra_shape != () else []))
    except ValueError:
        described = " and ".join(str(s) for s in shapes + ([extra_shape] if extra_shape != () else []))
        raise ValueError(f"{opname}: shapes {described} cannot be broadcast together") from None
    return tuple(
        broadcast_to(t, shape=target)
        if t._d.shape != target and (t._rg or t.tangent is not None) else t
        for t in operands)


def data_of(a):
    """The raw array behind a Tensor (rules use it for constants such as masks)."""
    return a._d if isinstance(a, Tensor) else a


# ---------------------------------------------------------------------------
# Shape helpers used by the rules
# ---------------------------------------------------------------------------


def keep_shape(shape, axis):
    """The shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def reduced_shape(shape, axis):
    """The shape of a reduction over ``axis`` with keepdims=False."""
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def sum_to(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting to g's shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = sum_(g, axis=axes, keepdims=True)
    return reshape(g, shape=shape)


def swap_last(a):
    """Swap the last two axes (matrix transpose of a stack of matrices)."""
    nd = a.ndim
    if nd == 2:
        return transpose(a, axes=(1, 0))
    return transpose(a, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def normalized_index(index):
    """Turn an index into a tuple NumPy and ``np.add.at`` treat alike: Tensor
    indices become arrays, boolean masks become integer arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            item = item._d
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype == bool:
            out.extend(np.nonzero(item))
        else:
            out.append(item)
    return tuple(out)


def _is_advanced(index):
    return any(isinstance(i, np.ndarray) for i in index)


# ---------------------------------------------------------------------------
# Elementwise primitives
# ---------------------------------------------------------------------------

neg = Linear("neg", operator.neg, lambda g, out, x: neg(g))
exp = Elementwise("exp", np.exp, lambda out, x: out)
log = Elementwise("log", np.log, lambda out, x: reciprocal(x))
reciprocal = Elementwise("reciprocal", np.reciprocal, lambda out, x: -(out * out))
sqrt = Elementwise("sqrt", np.sqrt, lambda out, x: 0.5 * reciprocal(out))
abs_ = Elementwise("abs", np.abs, lambda out, x: np.sign(data_of(x)))
sin = Elementwise("sin", np.sin, lambda out, x: cos(x))
cos = Elementwise("cos", np.cos, lambda out, x: -sin(x))
# tanh: np.tanh saturates cleanly at ±1000, and 1 - y² reuses the output.
tanh = Elementwise("tanh", np.tanh, lambda out, x: 1 - out * out)
relu = Elementwise("relu", lambda x: np.maximum(x, 0), lambda out, x: data_of(x) > 0)
pow_scalar = Elementwise(
    "pow", lambda x, p: np.power(x, p), lambda out, x, p: p * x ** (p - 1))


def _stable_sigmoid(x):
    # exp of a non-positive number only: no overflow at x = ±1000.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# sigmoid is fused for stability: 1/(1+exp(-x)) overflows for x ≪ 0.
sigmoid = Elementwise("sigmoid", _stable_sigmoid, lambda out, x: out * (1 - out))


def _clip_mask(x, lo, hi):
    x = data_of(x)
    mask = np.ones(x.shape, dtype=bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return mask


clip = Elementwise("clip", lambda x, lo, hi: np.clip(x, lo, hi),
                   lambda out, x, lo, hi: _clip_mask(x, lo, hi))

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
                  lambda d, out, x, y: x * d))

pow_ = Binary("pow", np.power,
              vjp=(lambda g, out, x, y: g * y * x ** (y - 1),
                   lambda g, out, x, y: g * out * log(x)),
              jvp=(lambda d, out, x, y: d * y * x ** (y - 1),
                   lambda d, out, x, y: d * out * log(x)))


class Matmul(Binary):
    """C = A @ B on stacks of matrices with equal batch shapes (``ops.matmul``
    handles 1-D operands and batch broadcasting). Ā = C̄ Bᵀ, B̄ = Aᵀ C̄,
    Ċ = Ȧ B + A Ḃ. A primitive, not broadcast-multiply-sum: BLAS speed."""

    def __call__(self, a, b):
        if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
            return np.matmul(a, b)
        a, b = lift(a, b, "matmul"), lift(b, a, "matmul")
        return apply(self, (a, b), _NO_SETTINGS, np.matmul(a._d, b._d))


matmul2 = Matmul("matmul", np.matmul,
                 vjp=(lambda g, out, a, b: matmul2(g, swap_last(b)),
                      lambda g, out, a, b: matmul2(swap_last(a), g)),
                 jvp=(lambda d, out, a, b: matmul2(d, b),
                      lambda d, out, a, b: matmul2(a, d)))


def _t2(a):
    return transpose(a, axes=(1, 0))


class Affine(Primitive):
    """y = x Wᵀ + b for a batch x (N, in), W (out, in), b (out,): the layer
    of every MLP, fused for speed, as PyTorch's addmm: one BLAS call and no
    transpose or broadcast nodes. x̄ = ȳ W, W̄ = ȳᵀ x, b̄ = Σ_n ȳ_n;
    ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ. ``ops.linear`` checks shapes and reshapes other
    batch layouts to 2-D."""

    def __call__(self, x, w, b):
        if not (isinstance(x, Tensor) or isinstance(w, Tensor) or isinstance(b, Tensor)):
            return _affine_forward(x, w, b)
        like = next(t for t in (x, w, b) if isinstance(t, Tensor))
        x, w, b = (lift(t, like, "linear") for t in (x, w, b))
        return apply(self, (x, w, b), _NO_SETTINGS, _affine_forward(x._d, w._d, b._d))


def _affine_forward(x, w, b):
    out = np.matmul(x, w.T)
    out += b  # in place on our own fresh product
    return out


affine = Affine(
    "linear", _affine_forward,
    vjp=(lambda g, out, x, w, b: matmul2(g, w),
         lambda g, out, x, w, b: matmul2(_t2(g), x),
         lambda g, out, x, w, b: sum_(g, axis=(0,), keepdims=False)),
    jvp=(lambda d, out, x, w, b: matmul2(d, _t2(w)),
         lambda d, out, x, w, b: matmul2(x, _t2(d)),
         lambda d, out, x, w, b: broadcast_to(d, shape=out.shape)))


class Where(Primitive):
    """out = a where cond else b; ``cond`` is a constant setting."""

    def __call__(self, a, b, cond):
        cond = data_of(cond)
        if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
            return np.where(cond, a, b)
        if not isinstance(a, Tensor):
            a = lift(a, b, "where")
        elif not isinstance(b, Tensor):
            b = lift(b, a, "where")
        cond = np.asarray(cond, dtype=bool)
        a, b = broadcast_operands("where", (a, b), cond.shape)
        return apply(self, (a, b), {"cond": cond}, np.where(cond, a._d, b._d))


where2 = Where("where", lambda a, b, cond: np.where(cond, a, b),
               vjp=(lambda g, out, a, b, cond: where2(g, 0, cond),
                    lambda g, out, a, b, cond: where2(0, g, cond)),
               jvp=(lambda d, out, a, b, cond: where2(d, 0, cond),
                    lambda d, out, a, b, cond: where2(0, d, cond)))

# ---------------------------------------------------------------------------
# Linear shape and reduction primitives
# ---------------------------------------------------------------------------

sum_ = Linear(
    "sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    lambda g, out, x, axis, keepdims: broadcast_to(
        reshape(g, shape=keep_shape(x.shape, axis)), shape=x.shape))

reshape = Linear("reshape", lambda x, shape: x.reshape(shape),
                 lambda g, out, x, shape: reshape(g, shape=x.shape))

transpose = Linear("transpose", lambda x, axes: x.transpose(axes),
                   lambda g, out, x, axes: transpose(g, axes=tuple(np.argsort(axes))))

broadcast_to = Linear("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                      lambda g, out, x, shape: sum_to(g, x.shape))


def _scatter_forward(v, index, shape):
    if not _is_advanced(index):  # basic indexing: no position repeats
        z = np.zeros(shape, dtype=v.dtype)
        z[index] = v
        return z
    # Repeated positions must accumulate. np.add.at is fast when the index is
    # made of 1-D integer arrays only (e.g. picking one class per row), slow
    # otherwise; then summing by flat position with bincount is the same sum.
    if all(isinstance(i, np.ndarray) and i.ndim == 1 for i in index):
        z = np.zeros(shape, dtype=v.dtype)
        np.add.at(z, index, v)
        return z
    size = int(np.prod(shape))
    pos = np.arange(size).reshape(shape)[index]
    weights = np.broadcast_to(v, pos.shape).ravel()
    total = np.bincount(pos.ravel(), weights=weights, minlength=size)
    return total.astype(v.dtype, copy=False).reshape(shape)


# astype always copies: the engine also uses it to give a leaf its own .grad.
astype = Linear("astype", lambda x, dtype: np.array(x, dtype=dtype),
                lambda g, out, x, dtype: astype(g, dtype=x.dtype))

getitem = Linear("getitem", lambda x, index: x[index],
                 lambda g, out, x, index: scatter_add(g, index=index, shape=x.shape))

# The adjoint of indexing: zeros of ``shape`` with ``v`` added at ``index``.
scatter_add = Linear("scatter_add", _scatter_forward,
                     lambda g, out, v, index, shape: getitem(g, index=index))


def _concat_vjp(g, out, inputs, settings):
    axis = settings["axis"]
    shares, start = [], 0
    for x in inputs:
        stop = start + x.shape[axis]
        index = (slice(None),) * axis + (slice(start, stop),)
        shares.append(getitem(g, index=index))
        start = stop
    return shares


def _concat_jvp(tangents, out, inputs, settings):
    if all(d is None for d in tangents):
        return None
    parts = [d if d is not None else np.zeros(x.shape, dtype=x.dtype)
             for d, x in zip(tangents, inputs)]
    return concatenate(parts, axis=settings["axis"])


class Concatenate(Primitive):
    def __call__(self, xs, axis):
        xs = list(xs)
        like = next((x for x in xs if isinstance(x, Tensor)), None)
        if like is None:
            return np.concatenate(xs, axis=axis)
        xs = tuple(lift(x, like, "concatenate") for x in xs)
        return apply(self, xs, {"axis": axis}, np.concatenate([x._d for x in xs], axis=axis))


concatenate = Concatenate("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                          vjp=_concat_vjp, jvp=_concat_jvp)

# ---------------------------------------------------------------------------
# Non-linear reductions
# ---------------------------------------------------------------------------


def _max_weights(x, out, axis):
    """Where the maximum sits, each tie sharing equally: ∂max/∂x as a constant."""
    x = data_of(x)
    hit = x == np.reshape(data_of(out), keep_shape(x.shape, axis))
    return hit / np.sum(hit, axis=axis, keepdims=True).astype(x.dtype)


max_ = Unary(
    "max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
    vjp=(lambda g, out, x, axis, keepdims:
         reshape(g, shape=keep_shape(x.shape, axis)) * _max_weights(x, out, axis),),
    jvp=(lambda d, out, x, axis, keepdims:
         sum_(d * _max_weights(x, out, axis), axis=axis, keepdims=keepdims),))

# ---------------------------------------------------------------------------
# Fused primitives: softmax family. Composing exp/sum/log would overflow at
# inputs of ±1000; these subtract the maximum first.
# ---------------------------------------------------------------------------


def _logsumexp_forward(x, axis, keepdims):
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
         sum_(d * _softmax_of(x, out, axis), axis=axis, keepdims=keepdims),))


def _log_softmax_forward(x, axis):
    # (x - m) - log Σ exp(x - m): subtracting m first keeps float32 exact at ±1000
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


log_softmax = Unary(
    "log_softmax", _log_softmax_forward,
    vjp=(lambda g, out, x, axis: g - exp(out) * sum_(g, axis=(axis,), keepdims=True),),
    jvp=(lambda d, out, x, axis: d - sum_(exp(out) * d, axis=(axis,), keepdims=True),))


def _softmax_forward(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


softmax = Unary(
    "softmax", _softmax_forward,
    vjp=(lambda g, out, x, axis: out * (g - sum_(g * out, axis=(axis,), keepdims=True)),),
    jvp=(lambda d, out, x, axis: out * (d - sum_(out * d, axis=(axis,), keepdims=True)),))
