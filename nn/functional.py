"""``nn.functional``: layers and losses as functions, named and defined as in
``torch.nn.functional``.

Everything is composed from public engine ops, so gradients (and forward-mode
tangents, and higher derivatives) come from the engine. Inputs may be Tensors
or arrays; an array is wrapped (see ``module._to_tensor``). Targets of losses
may be arrays or Tensors; a floating target Tensor that requires grad gets a
gradient too (MSE, BCE, KL, soft-label cross-entropy).

Losses take ``reduction='mean' | 'sum' | 'none'`` (``kl_div`` also
``'batchmean'``). Errors name the function, the argument and the shapes.
"""
from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.compiler import CompileError, is_tracing

from .module import _to_tensor

# ====================================================================== convolution, pooling,
# channel dropout, resampling (implemented in nn/conv.py and nn/pooling.py)
import warnings  # noqa: E402

from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: E402
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,  # noqa: E402
                      adaptive_max_pool2d, avg_pool1d, avg_pool2d, interpolate, max_pool1d,
                      max_pool2d)

_SPATIAL = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
            "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
            "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "dropout1d",
            "dropout2d", "interpolate"]


def _channel_dropout(fn, x, p, training, generator, lead=2):
    """Zero each channel x[n, c] (x[c] if ``lead`` is 1: unbatched) with
    probability p and scale the rest by 1/(1−p): ``dropout`` of a (N, C, 1, …)
    mask of ones, times x."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{fn}: probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return x
    mask = np.ones(x.shape[:lead] + (1,) * (x.ndim - lead), dtype=x.dtype)
    return x * dropout(mask, p, training, generator=generator)


# ====================================================================== in place

def _honours_inplace(fn):
    """torch's ``inplace=True`` for ``fn``: the input tensor itself is
    overwritten with the result and returned (an in-place op: its version
    changes, and on a leaf that requires grad it is refused, as in torch);
    ``inplace=False`` returns the new tensor. An ndarray input is never written."""
    names = list(inspect.signature(fn).parameters)
    at = names.index("inplace")

    @functools.wraps(fn)
    def apply(*args, **kwargs):
        inplace = kwargs.get("inplace", False) if len(args) <= at else args[at]
        x = args[0] if args else kwargs.get("input")
        if not inplace or not isinstance(x, Tensor):
            return fn(*args, **kwargs)
        # computed from a copy when the graph records it: the rule may save its
        # input (silu's x · σ(x)), which the write below would otherwise change
        src = x.clone() if x.requires_grad and ag.is_grad_enabled() else x
        if args:
            args = (src,) + args[1:]
        else:
            kwargs["input"] = src
        out = fn(*args, **kwargs)
        return x if out is src else x.copy_(out)
    return apply


@_honours_inplace
def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Channel dropout for (N, C, L) or unbatched (C, L) inputs, as
    ``torch.nn.functional.dropout1d``: each channel x[n, c, :] is zeroed with
    probability p and the survivors scaled by 1/(1−p); the identity when
    ``training`` is False.

        >>> F.dropout1d(np.ones((4, 8, 16)), 0.5).shape
        (4, 8, 16)
    """
    x = _to_tensor(input, fn="dropout1d")
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{x.shape}")
    return _channel_dropout("dropout1d", x, p, training, generator, lead=x.ndim - 1)


@_honours_inplace
def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Channel dropout for (N, C, H, W) inputs, as ``torch.nn.functional.dropout2d``:
    each feature map x[n, c] is zeroed with probability p and the survivors
    scaled by 1/(1−p); the identity when ``training`` is False. As in PyTorch, a
    3-D input is read as (N, C, L), with a warning (use ``dropout1d``).

        >>> F.dropout2d(np.ones((4, 8, 5, 5)), 0.25).shape
        (4, 8, 5, 5)
    """
    x = _to_tensor(input, fn="dropout2d")
    if x.ndim < 2:
        raise ValueError(f"dropout2d: expected an input with a channel axis, got shape "
                         f"{x.shape}")
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input and, as PyTorch, read it as (N, C, L), "
                      "dropping channels of 1-D maps; use dropout1d for that", stacklevel=2)
    elif x.ndim != 4:
        warnings.warn(f"dropout2d: received a {x.ndim}-D input (shape {x.shape}); dropout2d "
                      f"is meant for 3-D or 4-D inputs: channels are the second axis",
                      stacklevel=2)
    return _channel_dropout("dropout2d", x, p, training, generator)


__all__ = [
    # activations and layers
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "softplus",
    "linear", *_SPATIAL, "dropout", "batch_norm", "one_hot",
    # losses
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "kl_div", "multi_margin_loss", "hinge_loss",
]

_REDUCTIONS = ("mean", "sum", "none")

# Below this probability the clamped log of binary_cross_entropy stops passing
# gradients: 1/p would overflow float32 (PyTorch clamps its gradient's
# denominator at 1e-12 for the same reason).
_LOG_GRAD_FLOOR = 1e-12


# ====================================================================== activations

@_honours_inplace
def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """max(x, 0); with ``inplace=True`` written into ``input`` (as torch).

        >>> h = ag.tensor([-1.0, 2.0]) * 1.0
        >>> F.relu(h, inplace=True) is h, h
        (True, Tensor([0., 2.], dtype=float32))
    """
    return _to_tensor(input, fn="relu").relu()


@_honours_inplace
def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, negative_slope·x otherwise (the gradient at 0 is negative_slope, as PyTorch)."""
    x = _to_tensor(input, fn="leaky_relu")
    return ag.where(x > 0, x, x * negative_slope)


def sigmoid(input):  # noqa: A002
    """σ(x) = 1 / (1 + e^{−x}), elementwise; σ'(x) = σ(x)(1 − σ(x)).

        >>> F.sigmoid(ag.tensor([0.0, 2.0]))
        Tensor([0.5     , 0.880797], dtype=float32)
    """
    return _to_tensor(input, fn="sigmoid").sigmoid()


def tanh(input):  # noqa: A002
    """tanh(x), elementwise; tanh'(x) = 1 − tanh²(x).

        >>> F.tanh(ag.tensor([0.0, 1.0]))
        Tensor([0.       , 0.7615942], dtype=float32)
    """
    return _to_tensor(input, fn="tanh").tanh()


def _dim(fn, x, dim, axis, default=-1):
    """The axis given as ``dim=`` (PyTorch) or ``axis=`` (NumPy); with neither,
    ``dim=None`` picks PyTorch's legacy implicit dimension: 0 for 0-, 1- and
    3-D inputs, else 1."""
    if axis is not None:
        if dim is not None and dim is not default:
            raise TypeError(f"{fn}: got both dim= and axis=; give one")
        return axis
    if dim is None:
        return 0 if x.ndim in (0, 1, 3) else 1
    return dim


def softmax(input, dim=-1, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """exp(x_i) / Σ_j exp(x_j) along ``dim`` (or ``axis``; default -1, ``None`` picks
    PyTorch's legacy implicit dimension), computed in ``dtype`` if given.
    (``_stacklevel`` is PyTorch's, accepted so that ``dtype`` has its position.)

        >>> logits = ag.tensor([[1.0, 2.0], [0.0, 0.0]])
        >>> F.softmax(logits, dim=1)                   # F.softmax(logits, axis=1): the same
        Tensor([[0.2689414, 0.7310586],
                [0.5      , 0.5      ]], dtype=float32)
    """
    x = _to_tensor(input, fn="softmax")
    return x.softmax(_dim("softmax", x, dim, axis), dtype=dtype)


def log_softmax(input, dim=-1, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """x_i − log Σ_j exp(x_j) along ``dim`` (or ``axis``; default -1), stable at ±1000,
    computed in ``dtype`` if given."""
    x = _to_tensor(input, fn="log_softmax")
    return x.log_softmax(_dim("log_softmax", x, dim, axis), dtype=dtype)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """(1/β)·log(1 + exp(β·x)), exact everywhere, and x itself where β·x > ``threshold``
    (PyTorch's switch to the identity): the engine's ``ag.softplus``, one node."""
    return ag.softplus(_to_tensor(input, fn="softplus"), beta, threshold)


# ====================================================================== layers

def linear(input, weight, bias=None):  # noqa: A002
    """x Wᵀ + b with W of shape (out_features, in_features), computed by the
    engine's fused ``ag.linear`` primitive (one node)."""
    w = weight if isinstance(weight, Tensor) else _to_tensor(weight, fn="linear")
    x = _to_tensor(input, w.dtype, "linear")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{w.shape}: the last dimension of the input must be {w.shape[1]}")
    return ag.linear(x, w, bias)


@_honours_inplace
def dropout(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Inverted dropout: each element is zeroed with probability p and the
    survivors scaled by 1/(1−p), so the expectation is unchanged; the identity
    when ``training`` is False. Masks come from ``generator`` or ``nn.init``'s
    global generator, drawn by the engine (``ag.rand``), so a compiled step draws
    a fresh mask on every call."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p!r}")
    x = _to_tensor(input, fn="dropout")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = ag.rand(x.shape, dtype=np.float32, generator=generator) >= p
    return x * (keep.astype(x.dtype) * (1.0 / (1.0 - p)))


def batch_norm(input, running_mean, running_var, weight=None, bias=None,  # noqa: A002
               training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over all axes but the channel axis 1, as PyTorch.

    Training: normalise with the batch mean and the *biased* batch variance,
    and (if given) update ``running_mean``/``running_var`` in place with
    ``(1 − momentum)·running + momentum·batch``, using the *unbiased* variance.
    Evaluation: normalise with the running statistics.
    y = (x − mean) / √(var + eps) · weight + bias.

    Everything is a tensor op (the running statistics are updated by in-place
    ops under ``no_grad``), so a compiled step reads and updates the buffers on
    every call; ``momentum`` may be a 0-d tensor (BatchNorm's cumulative average).
    """
    fn = "batch_norm"
    x = _to_tensor(input, fn=fn)
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected an input with at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    stats = []
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None:
            # an ndarray is wrapped without a copy, so in-place updates reach it
            t = t if isinstance(t, Tensor) else ag.from_numpy(np.asarray(t))
            if tuple(t.shape) != (c,):
                raise ValueError(f"{fn}: {name} must have shape ({c},) for an input with {c} "
                                 f"channels (shape {x.shape}), got {tuple(t.shape)}")
        stats.append(t)
    running_mean, running_var, weight, bias = stats
    if training:
        n = x.size // c if c else 0
        if n <= 1:
            raise ValueError(f"{fn}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        y, mean, var = _standardize(x, axes, eps)
        with ag.no_grad():  # (not detach(): the compiler traces ops, and detach is none)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.reshape(c) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var.reshape(c) * (momentum * (n / (n - 1))))
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{fn}: running_mean and running_var are required when training=False")
        rm, rv = (t if t.dtype == x.dtype else t.astype(x.dtype)
                  for t in (running_mean, running_var))
        y = (x - rm.reshape(bshape)) * (rv.reshape(bshape) + eps) ** -0.5
    if weight is not None:
        y = y * (weight if x.ndim == 2 else weight.reshape(bshape))
    if bias is not None:
        y = y + (bias if x.ndim == 2 else bias.reshape(bshape))
    return y


def one_hot(tensor, num_classes=-1):
    """Integer class indices of any shape → int64 Tensor with a trailing axis of
    ``num_classes`` (inferred as max + 1 when -1, which a compiled step cannot do:
    the shape of the result would depend on the values). An index outside
    [0, num_classes) raises IndexError, in a compiled step too.

        >>> F.one_hot(ag.tensor([0, 2]), 3)
        Tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    t = _index_tensor(tensor, "one_hot", "tensor")
    values = _eager_values(t)
    if num_classes == -1:
        if values is None:
            raise CompileError("one_hot: num_classes=-1 infers the number of classes from the "
                               "values, which a compiled function cannot do; pass num_classes")
        if values.size == 0:
            raise ValueError("one_hot: can not infer the number of classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(values.max()) + 1
    if values is not None and values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}] for "
                         f"num_classes={num_classes}, got values in [{values.min()}, "
                         f"{values.max()}]")
    rows = ag.eye(num_classes, dtype=np.int64)
    return _pick(rows, (_bounded(t, num_classes),), "one_hot",
                 f"class values must be in [0, {num_classes - 1}]")


# ====================================================================== loss helpers
#
# Compiled steps (``ag.compile``) replay what the tensors did, so nothing below
# computes with a tensor's values outside the engine: targets, masks and weights
# are tensor ops. Checks of values (labels in range, probabilities in [0, 1]) run
# on the values only eagerly (``_eager_values``), where they give the precise
# message; a traced step repeats them with tensor ops instead: an out-of-range
# label makes its index out of bounds (``_bounded``), so every replay raises
# IndexError, and invalid values give NaN, never a plausible loss.

def _check_reduction(reduction, fn, allowed=_REDUCTIONS):
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{fn}: reduction must be one of "
                         f"{', '.join(repr(r) for r in allowed)}, got {reduction!r}")


def _checked_reduction(reduction, fn, size_average=None, reduce=None, allowed=_REDUCTIONS):
    """``reduction``, checked; PyTorch's deprecated ``size_average``/``reduce`` flags,
    when one is given, decide it instead (with PyTorch's warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
        warnings.warn(f"{fn}: size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    _check_reduction(reduction, fn, allowed)
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _ratio(total, denominator):
    """total / denominator as tensors: a weighted mean whose weights are only known
    to the program; 0/0 is NaN (as PyTorch when every target is ignored)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / denominator


# A threshold for ag.softplus (PyTorch's switch to the identity) above which the
# switch changes no number: for x > 50, x + log(1 + e⁻ˣ) rounds to x even in
# float64, and σ(x) to 1. (Not inf: a compiled program cannot hold inf as a setting
# yet; nor a huge float, which float32 inputs would see as inf.)
_NO_SWITCH = 50.0


def _exact_softplus(x):
    """log(1 + eˣ), exact and finite for every x (``ag.softplus`` without its switch)."""
    return ag.softplus(x, 1.0, _NO_SWITCH)


def _eager_values(t):
    """``t``'s values as an ndarray outside a compiled trace; None while one is traced.

    Only for checks that name the offending value; what a function computes never
    depends on them (see the note at the top of this section)."""
    if is_tracing():
        return None
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _bounded(index, n):
    """An integer index tensor with its negative entries replaced by ``n``: indexing
    an axis of size n with it raises IndexError for every entry outside [0, n),
    where a negative one would silently count from the end."""
    return ag.where(index < 0, n, index)


def _pick(x, index, fn, rule, error=IndexError):
    """``x[index]`` with an integer-tensor index; out-of-bounds entries (seen while a
    compiled step is traced: eager calls check the values first) raise ``error``
    naming ``fn`` and the ``rule`` the indices break. A replay of the step raises
    NumPy's IndexError."""
    try:
        return x[index]
    except IndexError:
        raise error(f"{fn}: an index is out of bounds: {rule}") from None


def _float_target(target, x, fn, exact):
    """A floating target as a Tensor of x's dtype (a Tensor target is kept, so it
    can require grad). ``exact``: same shape as x; otherwise broadcastable to it."""
    if isinstance(target, Tensor):
        t = target if target.dtype.kind == "f" else target.to(x.dtype)
    else:
        arr = np.asarray(target)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: target must be numeric, got dtype {arr.dtype}")
        t = Tensor(arr.astype(x.dtype, copy=False))
    if exact:
        if t.shape != x.shape:
            raise ValueError(f"{fn}: target shape {t.shape} must be the same as input shape "
                             f"{x.shape}")
    else:
        try:
            ok = np.broadcast_shapes(t.shape, x.shape) == x.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{fn}: target shape {t.shape} does not match input shape "
                             f"{x.shape} (the target must have the input's shape or "
                             f"broadcast to it)")
    return t


def _elementwise_weight(weight, x, fn, name="weight"):
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        w = weight
    else:
        w = np.asarray(weight)
        if w.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: {name} must be numeric, got dtype {w.dtype}")
        w = w.astype(x.dtype, copy=False)
    try:
        ok = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fn}: {name} of shape {w.shape} cannot be broadcast to the "
                         f"input shape {x.shape}")
    return w


def _index_tensor(target, fn, arg="target"):
    """Integer class indices as a Tensor (a Tensor is kept: its values are not read)."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if t.dtype.kind not in "iu":
        hint = (" (class probabilities must have the input's shape)"
                if t.dtype.kind == "f" and arg == "target" else "")
        raise TypeError(f"{fn}: {arg} must hold integer class indices, got dtype {t.dtype} "
                        f"with shape {t.shape}{hint}")
    return t


def _class_weight(weight, n_classes, fn, dtype):
    """A weight per class as a Tensor of ``dtype`` (a Tensor is cast by a tensor op)."""
    if weight is None:
        return None
    w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: weight must be numeric, got dtype {w.dtype}")
    if w.shape != (n_classes,):
        raise ValueError(f"{fn}: weight must have shape ({n_classes},), one entry per class, "
                         f"got shape {w.shape}")
    return w.to(dtype)


def _flat_classes(x, t, fn):
    """x of shape (C,), (N, C) or (N, C, d1, ...) as (M, C) with classes last, and C.
    Checks that the index target t has the matching shape ((), (N,), (N, d1, ...))."""
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension, got a 0-d input")
    if x.ndim == 1:
        c, expected = x.shape[0], ()
    else:
        c, expected = x.shape[1], (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        detail = ""
        if x.ndim >= 2 and t.ndim >= 1 and t.shape[0] != x.shape[0]:
            detail = f" (batch sizes differ: input has N={x.shape[0]}, target has {t.shape[0]})"
        raise ValueError(f"{fn}: target of shape {t.shape} does not match input of shape "
                         f"{x.shape}; expected target shape {expected}{detail}")
    if x.ndim == 1:
        return x.reshape(1, c), c
    if x.ndim == 2:
        return x, c
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.transpose(perm).reshape(-1, c), c


def _check_classes(values, c, fn, shape, allowed=None, hint=""):
    """Eagerly: every class index in [0, c) (or equal to ``allowed``, an ignore_index)."""
    if values is None:
        return
    bad = (values < 0) | (values >= c)
    if allowed is not None:
        bad &= values != allowed
    if bad.any():
        also = "" if allowed is None else f", or equal ignore_index={allowed}"
        raise IndexError(f"{fn}: target {int(values[bad][0])} is out of bounds: class indices "
                         f"must be in [0, {c - 1}] for an input with {c} classes (shape "
                         f"{shape}){also}{hint}")


def _nll(logp, target, weight, ignore_index, reduction, fn, label_smoothing=0.0):
    """The negative log-likelihood of integer targets under log-probabilities
    ``logp`` with PyTorch's weighting, ignore_index and label smoothing.

    Inside a compiled step the targets stay tensors: which ones are ignored is a
    mask, and the picked log-probabilities and class weights are read by indexing
    with them, so the program computes the right numbers for every batch. Eagerly
    the same index and mask are made from the known values with NumPy (cheaper),
    and left out where they change nothing (no target ignored)."""
    t = _index_tensor(target, fn)
    lp2, c = _flat_classes(logp, t, fn)
    tf = t if t.ndim == 1 else t.reshape(-1)
    values = _eager_values(tf)
    _check_classes(values, c, fn, logp.shape, ignore_index)
    dt = lp2.dtype
    if values is not None:
        kept = values != ignore_index
        cls, valid = (tf, None) if kept.all() else (np.where(kept, values, 0), kept.astype(dt))
    else:
        kept = tf != ignore_index
        valid = kept.to(dt)
        cls = _bounded(ag.where(kept, tf, 0), c)   # an ignored target reads class 0, weight 0
    # A 2-D index of two 1-D arrays keeps the gradient's scatter (np.add.at) fast.
    picked = _pick(lp2, (np.arange(tf.shape[0]), cls), fn,
                   f"class indices must be in [0, {c - 1}] for an input with {c} classes "
                   f"(shape {logp.shape}), or equal ignore_index={ignore_index}")
    w = _class_weight(weight, c, fn, dt)
    wt = valid if w is None else w[cls] if valid is None else w[cls] * valid
    total = None                                         # 'mean' divides by Σ w_{y_n}
    if reduction == "mean":
        total = wt.sum() if wt is not None else Tensor(np.asarray(tf.shape[0], dtype=dt))

    def reduced(per_target):
        if reduction == "none":
            return per_target.reshape(t.shape)
        return per_target.sum() if total is None else _ratio(per_target.sum(), total)

    out = reduced(-picked if wt is None else -(picked * wt))
    if label_smoothing > 0:
        smooth = -((lp2 * w) if w is not None else lp2).sum(axis=1)
        if valid is not None:
            smooth = smooth * valid
        out = out * (1.0 - label_smoothing) + reduced(smooth) * (label_smoothing / c)
    return out


# ====================================================================== losses

def mse_loss(input, target, reduction="mean"):  # noqa: A002
    """(x − y)². The target must have the input's shape or broadcast to it."""
    fn = "mse_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    diff = x - _float_target(target, x, fn, exact=False)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """|x − y|."""
    fn = "l1_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    return _reduce((x - _float_target(target, x, fn, exact=False)).abs(), reduction)


def _clamped_log(t):
    """max(log t, −100), PyTorch's clamp in binary_cross_entropy. Where
    t < 1e-12 the value is that clamped constant and passes no gradient; a
    negative t (not a probability) gives NaN."""
    values = _eager_values(t)
    if values is not None:
        small = values < _LOG_GRAD_FLOOR
        if not small.any():
            return t.log()
        with np.errstate(divide="ignore", invalid="ignore"):
            const = np.maximum(np.log(values), -100).astype(values.dtype)
        return ag.where(small, const, ag.where(small, 1.0, t).log())
    # traced: the same numbers by tensor ops
    small = t < _LOG_GRAD_FLOOR
    with ag.no_grad(), np.errstate(invalid="ignore"):
        zero = t == 0
        const = ag.where(zero, -100.0, ag.where(zero, 1.0, t).log().clamp(min=-100.0))
    return ag.where(small, const, ag.where(small, 1.0, t).log())


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """−w·[y·log x + (1 − y)·log(1 − x)] for probabilities x ∈ [0, 1], each log
    clamped at −100 as PyTorch (so x = 0 or 1 gives finite values). For logits
    use ``binary_cross_entropy_with_logits``. An input outside [0, 1] raises
    ValueError (inside a compiled step: the loss is NaN)."""
    fn = "binary_cross_entropy"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    d = _eager_values(x)
    if d is not None:
        inside = (d >= 0) & (d <= 1)
        if not inside.all():
            bad = d[~inside].ravel()[0]
            raise ValueError(f"{fn}: all elements of input should be between 0 and 1 (they are "
                             f"probabilities; for logits use binary_cross_entropy_with_logits), "
                             f"got {bad} in an input of shape {x.shape}")
    t = _float_target(target, x, fn, exact=True)
    loss = -(t * _clamped_log(x) + (1 - t) * _clamped_log(1 - x))
    w = _elementwise_weight(weight, x, fn)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",  # noqa: A002
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression:
    (1 − y)·x + (1 + (p − 1)·y)·log(1 + e^{−x}), with p = ``pos_weight`` (1 if
    None) — without pos_weight this is max(x, 0) − x·y + log(1 + e^{−|x|}).
    log(1 + e^{−x}) is an exact softplus (no switch to the identity), so
    logits of ±1000 give exact finite values and gradients σ(x) − y.
    ``pos_weight`` broadcasts over the last (class) axis."""
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=True)
    sp = _exact_softplus(-x)
    pw = _elementwise_weight(pos_weight, x, fn, "pos_weight")
    loss = (1 - t) * x + (sp if pw is None else (1 + (pw - 1) * t) * sp)
    w = _elementwise_weight(weight, x, fn)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """log_softmax + negative log-likelihood, exactly as ``torch.nn.functional.cross_entropy``.

    ``input``: logits (N, C), (N, C, d1, ...) or unbatched (C,). ``target``:
    integer class indices of shape (N,) / (N, d1, ...) / (), or class
    probabilities of the input's shape. With class ``weight`` w, 'mean' is
    Σ w_{y_n}·l_n / Σ w_{y_n} over the targets that are not ``ignore_index``.
    ``label_smoothing`` ε mixes in the uniform distribution:
    (1 − ε)·nll + (ε / C)·Σ_c (−w_c·log p_c).

    A class index outside [0, C) (and not ``ignore_index``) raises IndexError
    naming it; in a compiled step (``ag.compile``) every call raises IndexError
    for it too, never a loss.

        >>> logits = ag.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
        >>> F.cross_entropy(logits, ag.tensor([0, 2]), label_smoothing=0.1)
        Tensor(0.34545636, dtype=float32)
    """
    fn = "cross_entropy"
    _check_reduction(reduction, fn)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    x = _to_tensor(input, fn=fn)
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension, got a 0-d input")
    class_axis = 0 if x.ndim == 1 else 1
    c = x.shape[class_axis]
    if not isinstance(target, Tensor):
        target = np.asarray(target)
    logp = x.log_softmax(class_axis)
    if target.dtype.kind != "f" or target.shape != x.shape:
        # class indices (a float target of another shape is rejected there, with a hint)
        return _nll(logp, target, weight, ignore_index, reduction, fn, label_smoothing)
    # class probabilities
    if ignore_index != -100:
        raise ValueError(f"{fn}: ignore_index is not supported for class-probability targets")
    t = _float_target(target, x, fn, exact=True)
    if label_smoothing > 0:
        t = t * (1.0 - label_smoothing) + label_smoothing / c
    prod = logp * t
    w = _class_weight(weight, c, fn, x.dtype)
    if w is not None:
        prod = prod * (w if x.ndim <= 2 else w.reshape((c,) + (1,) * (x.ndim - 2)))
    per = -prod.sum(axis=class_axis)
    if reduction == "mean":
        return per.sum() * (c / x.size)
    return _reduce(per, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """−w_{y}·input[y] for log-probabilities ``input`` (C,), (N, C) or (N, C, d1, ...)
    and integer targets; 'mean' divides by the summed weights of the targets
    that are not ``ignore_index``. Bad class indices raise as in ``cross_entropy``."""
    fn = "nll_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    return _nll(x, target, weight, ignore_index, reduction, fn)


def kl_div(input, target, reduction="mean", log_target=False):  # noqa: A002
    """KL(target ‖ q) pointwise, with ``input`` = log q (log-probabilities):
    target·(log target − input), 0 where target = 0 (PyTorch's xlogy; NaN for a
    negative target); with ``log_target`` the target is given as
    log-probabilities: exp(t)·(t − input).
    'mean' averages over *all* elements (PyTorch's default, rarely what one
    wants); 'batchmean' divides the sum by the batch size — the true KL divergence."""
    fn = "kl_div"
    _check_reduction(reduction, fn, _REDUCTIONS + ("batchmean",))
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=False)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        nonzero = t != 0
        with np.errstate(invalid="ignore"):
            loss = ag.where(nonzero, t * ag.where(nonzero, t, 1.0).log(), 0.0) - t * x
    if reduction == "batchmean":
        if x.ndim == 0:
            raise ValueError(f"{fn}: reduction='batchmean' needs a batch dimension, got a 0-d input")
        return loss.sum() / x.shape[0]
    if loss.shape != x.shape:  # a target that broadcast over a 0-d or smaller input
        loss = loss.broadcast_to(x.shape)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None,  # noqa: A002
                      reduction="mean"):
    """The multi-class hinge loss of ``torch.nn.MultiMarginLoss``: per sample
    Σ_{i ≠ y} w_y·max(0, margin − x_y + x_i)^p / C, for ``input`` (N, C) or (C,)
    and integer targets (N,) or (); p is 1 or 2. Bad class indices raise
    IndexError (in a compiled step too)."""
    fn = "multi_margin_loss"
    _check_reduction(reduction, fn)
    if p not in (1, 2):
        raise ValueError(f"{fn}: only p == 1 and p == 2 are supported, got p={p!r}")
    x = _to_tensor(input, fn=fn)
    if x.ndim not in (1, 2):
        raise ValueError(f"{fn}: input must be (N, C) or (C,), got shape {x.shape}")
    t = _index_tensor(target, fn)
    x2, c = _flat_classes(x, t, fn)
    n = x2.shape[0]
    tf = t.reshape(-1)
    values = _eager_values(tf)
    _check_classes(values, c, fn, x.shape,
                   hint="; for binary ±1 targets give the target the input's shape (hinge_loss)")
    rows = np.arange(n)
    cls = tf if values is not None else _bounded(tf, c)
    xy = _pick(x2, (rows, cls), fn,
               f"class indices must be in [0, {c - 1}] for an input with {c} classes "
               f"(shape {x.shape})")
    z = (x2 - xy.reshape(n, 1) + margin).relu()
    if p == 2:
        z = z * z
    if values is not None:      # 0 at the target's class (eagerly by NumPy: the same numbers)
        others = np.ones((n, c), dtype=x.dtype)
        others[rows, values] = 0
    else:
        others = (cls.reshape(n, 1) != np.arange(c)).to(x.dtype)
    w = _class_weight(weight, c, fn, x.dtype)
    if w is not None:
        others = others * w[cls].reshape(n, 1)
    per = (z * others).sum(axis=1) / c
    if reduction == "none":
        return per.reshape(t.shape)
    return _reduce(per, reduction)


def hinge_loss(input, target, margin=1.0, reduction="mean"):  # noqa: A002
    """Hinge loss in two forms, chosen by the target's shape:

    * target of the input's shape, values ±1 — the binary (SVM) hinge
      max(0, margin − y·x), elementwise (another value raises ValueError;
      inside a compiled step it gives NaN);
    * integer class indices (N,) for input (N, C) — the multi-class hinge,
      ``multi_margin_loss(input, target, p=1, margin=margin)``.
    """
    fn = "hinge_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    if not isinstance(target, Tensor):
        target = np.asarray(target)
    if tuple(target.shape) != x.shape:
        return multi_margin_loss(x, target, p=1, margin=margin, reduction=reduction)
    message = (f"{fn}: binary targets (target shape equal to the input shape {x.shape}) "
               f"must be -1 or +1")
    if target.dtype.kind not in "iuf":
        raise ValueError(message)
    values = _eager_values(target)
    if values is not None and not np.isin(values, (-1, 1)).all():
        raise ValueError(message)
    y = target.to(x.dtype) if isinstance(target, Tensor) else Tensor(target.astype(x.dtype))
    loss = (margin - x * y).relu()
    if values is None:          # traced: the check becomes NaN for a target that is not ±1
        loss = ag.where((y == 1) | (y == -1), loss, np.nan)
    return _reduce(loss, reduction)


# ====================================================================== more losses and distances
# (torch.nn.functional's names, arguments and formulas; ``size_average``/``reduce`` are
# PyTorch's deprecated spellings of ``reduction``, accepted where PyTorch has them)

__all__ += ["smooth_l1_loss", "huber_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
            "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
            "gaussian_nll_loss", "poisson_nll_loss", "cosine_similarity", "pairwise_distance"]


def _number(value, fn, arg):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {arg} must be a number, got {type(value).__name__}")
    return float(value)


def _clamp_min_keeping_grad(v, floor):
    """max(v, floor) in value, v's gradient unchanged: PyTorch's ``clamp_`` under
    ``no_grad`` (of a clone), which gaussian_nll_loss and cosine_similarity use."""
    with ag.no_grad():
        below = v < floor
        frozen = v * 1.0            # v's values outside the graph
    return ag.where(below, (v - frozen) + floor, v)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                   beta=1.0):
    """0.5·d²/β where |d| < β, |d| − 0.5·β elsewhere (d = x − y), as
    ``torch.nn.functional.smooth_l1_loss``; ``beta=0`` is the L1 loss.

        >>> F.smooth_l1_loss(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]))   # (0.125 + 2.5) / 2
        Tensor(1.3125, dtype=float32)
    """
    fn = "smooth_l1_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    beta = _number(beta, fn, "beta")
    if beta < 0:
        raise ValueError(f"{fn}: beta must be non-negative, got {beta}")
    x = _to_tensor(input, fn=fn)
    d = x - _float_target(target, x, fn, exact=False)
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(ag.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5·d² where |d| < δ, δ·(|d| − 0.5·δ) elsewhere (d = x − y), as
    ``torch.nn.functional.huber_loss``; ``weight`` (the input's shape) scales
    each element before the reduction. Equals δ·smooth_l1_loss with β = δ.

        >>> F.huber_loss(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]), delta=2.0)  # (0.125 + 4) / 2
        Tensor(2.0625, dtype=float32)
    """
    fn = "huber_loss"
    _check_reduction(reduction, fn)
    delta = _number(delta, fn, "delta")
    if not delta > 0:
        raise ValueError(f"{fn}: delta must be positive, got {delta}")
    x = _to_tensor(input, fn=fn)
    d = x - _float_target(target, x, fn, exact=False)
    a = d.abs()
    loss = ag.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        w = _elementwise_weight(weight, x, fn)
        if tuple(w.shape) != x.shape:
            raise ValueError(f"{fn}: weight of shape {tuple(w.shape)} must have the input's "
                             f"shape {x.shape}")
        loss = loss * w
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                     reduction="mean"):
    """log(1 + exp(−y·x)) for targets y = ±1, as ``torch.nn.functional.soft_margin_loss``
    (exact for every y·x: a softplus without a switch to the identity).

        >>> F.soft_margin_loss(ag.tensor([0.0]), ag.tensor([1.0]))       # log 2
        Tensor(0.6931472, dtype=float32)
    """
    fn = "soft_margin_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    x = _to_tensor(input, fn=fn)
    y = _float_target(target, x, fn, exact=False)
    return _reduce(_exact_softplus(-(y * x)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None,  # noqa: A002
                                reduce=None, reduction="mean"):
    """−(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)] per sample, for input
    (N, C) or (C,) and 0/1 targets of the same shape, as
    ``torch.nn.functional.multilabel_soft_margin_loss``; ``weight`` broadcasts
    over the classes. ``reduction='none'`` gives one loss per sample.

        >>> F.multilabel_soft_margin_loss(ag.zeros(2, 3), ag.ones(2, 3))   # log 2
        Tensor(0.6931472, dtype=float32)
    """
    fn = "multilabel_soft_margin_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    x = _to_tensor(input, fn=fn)
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension, got a 0-d input")
    y = _float_target(target, x, fn, exact=True)
    loss = y * _exact_softplus(-x) + (1 - y) * _exact_softplus(x)   # −log σ(±x)
    w = _elementwise_weight(weight, x, fn)
    if w is not None:
        loss = loss * w
    return _reduce(loss.sum(axis=-1) / x.shape[-1], reduction)


def _pair_of_inputs(input1, input2, fn):
    a = _to_tensor(input1, fn=fn)
    b = _to_tensor(input2, a.dtype, fn)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{fn}: input1 of shape {a.shape} and input2 of shape {b.shape} do not "
                         f"broadcast") from None
    return a, b


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None,  # noqa: A002
                          reduce=None, reduction="mean"):
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1 (0 for
    other targets), with cos over the feature axis of (N, D) or (D,) inputs and
    targets (N,) or (), as ``torch.nn.functional.cosine_embedding_loss``
    (cos = x1·x2 / √((|x1|² + 1e-12)(|x2|² + 1e-12))).

        >>> a, b = ag.tensor([[1.0, 0.0]]), ag.tensor([[0.0, 1.0]])
        >>> F.cosine_embedding_loss(a, b, ag.tensor([1]))          # orthogonal: 1 − 0
        Tensor(1., dtype=float32)
    """
    fn = "cosine_embedding_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    a, b = _pair_of_inputs(input1, input2, fn)
    y = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if y.ndim not in (0, 1):
        raise ValueError(f"{fn}: 0D or 1D target tensor expected, multi-target not supported "
                         f"(target of shape {y.shape})")
    want = y.ndim + 1
    if a.ndim != want or b.ndim != want:
        raise ValueError(f"{fn}: a {y.ndim}-D target of shape {y.shape} expects {want}-D input "
                         f"tensors, but found inputs of shapes {a.shape} and {b.shape}")
    axis = y.ndim
    dot = (a * b).sum(axis=axis)
    norms = ((a * a).sum(axis=axis) + 1e-12) * ((b * b).sum(axis=axis) + 1e-12)
    cos = dot / norms.sqrt()
    if y.shape != cos.shape:
        raise ValueError(f"{fn}: target of shape {y.shape} does not match inputs of shapes "
                         f"{a.shape} and {b.shape} (one target per pair: shape {cos.shape})")
    loss = ag.where(y == 1, 1 - cos, 0.0) + ag.where(y == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None,  # noqa: A002
                        reduce=None, reduction="mean"):
    """max(0, −y·(x1 − x2) + margin) for targets y = ±1 (x1 should rank higher where
    y = 1), as ``torch.nn.functional.margin_ranking_loss``; the three tensors have
    the same number of dimensions and broadcast.

        >>> F.margin_ranking_loss(ag.tensor([1.0]), ag.tensor([2.0]), ag.tensor([1.0]))
        Tensor(1., dtype=float32)
    """
    fn = "margin_ranking_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    a, b = _pair_of_inputs(input1, input2, fn)
    y = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if not a.ndim == b.ndim == y.ndim:
        raise ValueError(f"{fn}: all input tensors should have the same number of dimensions, "
                         f"got input1 {a.shape}, input2 {b.shape}, target {y.shape}")
    try:
        np.broadcast_shapes(a.shape, b.shape, y.shape)
    except ValueError:
        raise ValueError(f"{fn}: input1 {a.shape}, input2 {b.shape} and target {y.shape} do "
                         f"not broadcast") from None
    y = y if y.dtype == a.dtype else y.to(a.dtype)
    return _reduce((-y * (a - b) + margin).clamp(min=0.0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6,  # noqa: A002
                        swap=False, size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) − d(a, n)) with d the ``pairwise_distance`` of order p
    (``swap``: d(a, n) replaced by min(d(a, n), d(p, n))), for inputs (N, D) or
    (D,), as ``torch.nn.functional.triplet_margin_loss``.

        >>> a = ag.tensor([[0.0, 0.0]])
        >>> F.triplet_margin_loss(a, a + 1, a + 3)          # max(0, 1 + √2 − 3√2)
        Tensor(0., dtype=float32)
    """
    fn = "triplet_margin_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    margin = _number(margin, fn, "margin")
    if not margin > 0:
        raise ValueError(f"{fn}: margin must be greater than 0, got {margin}")
    a = _to_tensor(anchor, fn=fn)
    pos = _to_tensor(positive, a.dtype, fn)
    neg = _to_tensor(negative, a.dtype, fn)
    if not a.ndim == pos.ndim == neg.ndim or a.ndim not in (1, 2):
        raise ValueError(f"{fn}: the anchor, positive and negative tensors must all be 1-D (D,) "
                         f"or all 2-D (N, D), got shapes {a.shape}, {pos.shape} and {neg.shape}")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = ag.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0.0), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """0.5·(log max(var, eps) + (x − y)² / max(var, eps)) (+ 0.5·log 2π with ``full``),
    the negative log-likelihood of y under N(x, var), as
    ``torch.nn.functional.gaussian_nll_loss``. ``var`` is a number or a tensor of
    the input's shape, of that shape without its last axis, or with size 1 in one
    axis (one variance shared along it). The clamp at eps changes the value, not
    the gradient (PyTorch's). A negative variance raises ValueError (inside a
    compiled step: the loss is NaN).

        >>> F.gaussian_nll_loss(ag.tensor([0.0]), ag.tensor([1.0]), ag.tensor([1.0]))   # 0.5
        Tensor(0.5, dtype=float32)
    """
    fn = "gaussian_nll_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=False)
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{fn}: var has negative entry/entries (var={var})")
        v, checked = ag.full(x.shape, float(var), dtype=x.dtype), True
    else:
        v = _to_tensor(var, x.dtype, fn)
        values = _eager_values(v)
        if values is not None and (values < 0).any():
            raise ValueError(f"{fn}: var has negative entry/entries (the smallest is "
                             f"{values.min()})")
        checked = values is not None
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = v.reshape(v.shape + (1,))
        elif not (v.ndim == x.ndim and sum(m for n, m in zip(x.shape, v.shape) if n != m) == 1):
            raise ValueError(f"{fn}: var of shape {v.shape} is of incorrect size for an input "
                             f"of shape {x.shape}: it must be the input's shape, that shape "
                             f"without its last axis, or the input's shape with one axis of "
                             f"size 1")
    clamped = _clamp_min_keeping_grad(v, eps)
    if not checked:             # traced: the check becomes NaN for a negative variance
        with ag.no_grad():
            negative = v < 0
        clamped = ag.where(negative, np.nan, clamped)
    v = clamped
    d = x - t
    loss = 0.5 * (v.log() + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None,  # noqa: A002
                     eps=1e-8, reduce=None, reduction="mean"):
    """The negative log-likelihood of counts y under Poisson(λ), as
    ``torch.nn.functional.poisson_nll_loss``: exp(x) − y·x with ``log_input``
    (x = log λ), else x − y·log(x + eps) (x = λ). ``full`` adds Stirling's
    approximation of log(y!), y·log y − y + 0.5·log(2πy), where y > 1.

        >>> F.poisson_nll_loss(ag.tensor([0.0]), ag.tensor([1.0]))       # e⁰ − 0
        Tensor(1., dtype=float32)
    """
    fn = "poisson_nll_loss"
    reduction = _checked_reduction(reduction, fn, size_average, reduce)
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=False)
    if log_input:
        loss = x.exp() - t * x
    else:
        loss = x - t * (x + eps).log()
    if full:
        above = t > 1
        safe = ag.where(above, t, 2.0)          # no log of 0 where the term is not used
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + ag.where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8, *, axis=None):
    """Σ (x1 / max(‖x1‖, eps))·(x2 / max(‖x2‖, eps)) along ``dim`` (or ``axis``): the
    cosine of the angle between x1 and x2 (broadcast to a common shape), as
    ``torch.nn.functional.cosine_similarity``; each norm is clamped at eps in value
    only (PyTorch's ``clamp_`` under ``no_grad``).

        >>> F.cosine_similarity(ag.tensor([[1.0, 1.0]]), ag.tensor([[1.0, 0.0]]))   # 1/√2
        Tensor([0.70710677], dtype=float32)
    """
    fn = "cosine_similarity"
    a, b = _pair_of_inputs(x1, x2, fn)
    dim = _dim(fn, a, dim, axis, 1)
    shape = np.broadcast_shapes(a.shape, b.shape)
    if not -len(shape) <= dim < max(len(shape), 1) or len(shape) == 0:
        raise ag.AxisError(f"{fn}: dim {dim} is out of range for inputs of shapes "
                           f"{a.shape} and {b.shape}")
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    na = _clamp_min_keeping_grad(ag.norm(a, 2, dim, keepdim=True), eps)
    nb = _clamp_min_keeping_grad(ag.norm(b, 2, dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(axis=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False, *, keepdims=None):
    """‖x1 − x2 + eps‖_p over the last axis (x1 and x2 broadcast), as
    ``torch.nn.functional.pairwise_distance``; p as in ``ag.norm`` (inf: the
    largest |difference|); ``keepdims`` is NumPy's spelling of ``keepdim``.

        >>> F.pairwise_distance(ag.tensor([[0.0, 0.0]]), ag.tensor([[3.0, 4.0]]), eps=0.0)
        Tensor([5.], dtype=float32)
    """
    fn = "pairwise_distance"
    a, b = _pair_of_inputs(x1, x2, fn)
    if max(a.ndim, b.ndim) == 0:
        raise ValueError(f"{fn}: inputs must have at least one dimension, got 0-d tensors")
    return ag.norm(a - b + eps, p, -1, keepdim=keepdim if keepdims is None else keepdims)


# ====================================================================== more activations
# (the engine's ops, under torch.nn.functional's names and arguments)

__all__ += ["gelu", "silu", "mish", "logsigmoid", "hardtanh", "relu6", "elu", "selu", "celu",
            "softsign", "hardsigmoid", "hardswish"]


def gelu(input, approximate="none"):  # noqa: A002
    """x·Φ(x) (Φ the standard normal CDF); ``approximate='tanh'``: PyTorch's tanh form."""
    return ag.gelu(_to_tensor(input, fn="gelu"), approximate)


@_honours_inplace
def silu(input, inplace=False):  # noqa: A002
    """x·σ(x)."""
    return ag.silu(_to_tensor(input, fn="silu"))


@_honours_inplace
def mish(input, inplace=False):  # noqa: A002
    """x·tanh(softplus(x))."""
    return ag.mish(_to_tensor(input, fn="mish"))


def logsigmoid(input):  # noqa: A002
    """log σ(x), exact for every x."""
    return ag.logsigmoid(_to_tensor(input, fn="logsigmoid"))


@_honours_inplace
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clipped to [min_val, max_val] (gradient 1 strictly inside, 0 elsewhere)."""
    return ag.hardtanh(_to_tensor(input, fn="hardtanh"), min_val, max_val)


@_honours_inplace
def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6)."""
    return ag.relu6(_to_tensor(input, fn="relu6"))


@_honours_inplace
def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, else α(eˣ - 1)."""
    return ag.elu(_to_tensor(input, fn="elu"), alpha)


@_honours_inplace
def selu(input, inplace=False):  # noqa: A002
    """scale·elu(x, α) with the self-normalising constants."""
    return ag.selu(_to_tensor(input, fn="selu"))


@_honours_inplace
def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, else α(e^{x/α} - 1)."""
    return ag.celu(_to_tensor(input, fn="celu"), alpha)


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    return ag.softsign(_to_tensor(input, fn="softsign"))


@_honours_inplace
def hardsigmoid(input, inplace=False):  # noqa: A002
    """0 for x ≤ -3, 1 for x ≥ 3, x/6 + ½ between."""
    return ag.hardsigmoid(_to_tensor(input, fn="hardsigmoid"))


@_honours_inplace
def hardswish(input, inplace=False):  # noqa: A002
    """x·hardsigmoid(x)."""
    return ag.hardswish(_to_tensor(input, fn="hardswish"))


# ====================================================================== lookup tables
# (implemented in nn/sparse.py)

from .sparse import embedding  # noqa: E402

__all__ += ["embedding"]


# ====================================================================== shape

__all__ += ["pad"]


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last ``len(pad) // 2`` dimensions, as ``torch.nn.functional.pad``: ``pad``
    lists (left, right) of the last dimension first, then of the one before, ...;
    negative sizes crop. ``mode``: 'constant' (``value``, 0 by default), 'reflect',
    'replicate' or 'circular' (these pad the last 1, 2 or 3 dimensions of a tensor with
    one or two more). Differentiable; always a copy.

        >>> F.pad(ag.ones(1, 2, 3), (1, 2)).shape      # last dim: 1 left, 2 right
        (1, 2, 6)
    """
    return ag.pad(input, pad, mode, value)


# ====================================================================== normalisation
# (the layers are in nn/normalization.py; every statistic is a tensor reduction, so
# these trace into compiled programs)

__all__ += ["layer_norm", "group_norm", "rms_norm", "normalize"]


def _normalized_shape(normalized_shape, fn):
    """``normalized_shape`` (an int or a sequence of ints) as a non-empty tuple of sizes."""
    if isinstance(normalized_shape, (numbers.Integral, np.integer)) \
            and not isinstance(normalized_shape, bool):
        shape = (int(normalized_shape),)
    else:
        try:
            shape = tuple(normalized_shape)
        except TypeError:
            raise TypeError(f"{fn}: normalized_shape must be an int or a sequence of ints, got "
                            f"{type(normalized_shape).__name__}") from None
        if not all(isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool)
                   for s in shape):
            raise TypeError(f"{fn}: normalized_shape must be an int or a sequence of ints, got "
                            f"{normalized_shape!r}")
        shape = tuple(int(s) for s in shape)
    if not shape:
        raise ValueError(f"{fn}: expected normalized_shape to have at least one dimension, "
                         f"got normalized_shape={list(shape)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"{fn}: normalized_shape must hold non-negative sizes, got {shape}")
    return shape


def _trailing(x, shape, fn):
    """The axes that ``shape`` (a normalized_shape) covers at the end of x; checks them."""
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"{fn}: given normalized_shape={list(shape)}, expected an input with "
                         f"shape [*, {', '.join(map(str, shape))}], but got an input of shape "
                         f"{x.shape}")
    return tuple(range(x.ndim - k, x.ndim))


def _affine_param(t, name, shape, x, fn):
    """A weight or bias of ``shape`` as a Tensor (arrays take x's dtype), or None."""
    if t is None:
        return None
    t = t if isinstance(t, Tensor) else _to_tensor(t, x.dtype, fn)
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{fn}: {name} must have shape {tuple(shape)} for an input of shape "
                         f"{x.shape}, got shape {t.shape}")
    return t


def _standardize(x, axes, eps):
    """((x − mean) / √(var + eps), mean, var) over ``axes``, with the biased variance
    (the statistics keep their axes); layer, group and batch norm share it."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    return xc * (var + eps) ** -0.5, mean, var


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Layer normalisation over the trailing ``normalized_shape`` dimensions, as
    ``torch.nn.functional.layer_norm``:

        y = (x − E[x]) / √(Var[x] + eps) · weight + bias     (biased variance)

    ``weight`` and ``bias`` (optional) have shape ``normalized_shape``.

        >>> F.layer_norm(ag.randn(2, 5, 8), (8,)).shape
        (2, 5, 8)
    """
    fn = "layer_norm"
    x = _to_tensor(input, fn=fn)
    shape = _normalized_shape(normalized_shape, fn)
    axes = _trailing(x, shape, fn)
    w = _affine_param(weight, "weight", shape, x, fn)
    b = _affine_param(bias, "bias", shape, x, fn)
    y = _standardize(x, axes, eps)[0]
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Group normalisation, as ``torch.nn.functional.group_norm``: the C channels of
    an (N, C, *) input are split into ``num_groups`` groups, each normalised over
    its channels and all positions (biased variance); then
    y = x̂ · weight[c] + bias[c] per channel.

        >>> F.group_norm(ag.randn(2, 6, 4), 3).shape
        (2, 6, 4)
    """
    fn = "group_norm"
    x = _to_tensor(input, fn=fn)
    if isinstance(num_groups, bool) or not isinstance(num_groups, (numbers.Integral, np.integer)) \
            or num_groups <= 0:
        raise ValueError(f"{fn}: num_groups must be a positive int, got {num_groups!r}")
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected an input with at least 2 dimensions (N, C, *), got "
                         f"shape {x.shape}")
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise ValueError(f"{fn}: expected the number of channels of the input to be divisible "
                         f"by num_groups, but got an input of shape {x.shape} and "
                         f"num_groups={num_groups}")
    w = _affine_param(weight, "weight", (c,), x, fn)
    b = _affine_param(bias, "bias", (c,), x, fn)
    y = _standardize(x.reshape(n, int(num_groups), -1), (2,), eps)[0].reshape(x.shape)
    per_channel = (c,) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(per_channel)
    if b is not None:
        y = y + b.reshape(per_channel)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """Root-mean-square normalisation over the trailing ``normalized_shape``
    dimensions, as ``torch.nn.functional.rms_norm``:

        y = x / √(mean(x²) + eps) · weight

    ``eps=None`` uses the machine epsilon of x's dtype (``np.finfo(dtype).eps``), as torch.

        >>> F.rms_norm(ag.randn(4, 8), (8,)).shape
        (4, 8)
    """
    fn = "rms_norm"
    x = _to_tensor(input, fn=fn)
    shape = _normalized_shape(normalized_shape, fn)
    axes = _trailing(x, shape, fn)
    w = _affine_param(weight, "weight", shape, x, fn)
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    y = x * ((x * x).mean(axis=axes, keepdims=True) + eps) ** -0.5
    if w is not None:
        y = y * w
    return y


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None, *, axis=None):  # noqa: A002
    """x / max(‖x‖_p, eps) along ``dim`` (or ``axis``), as
    ``torch.nn.functional.normalize`` (unit vectors; a zero vector stays zero).
    ``out``: a Tensor to write the result into (not differentiable, as torch's
    out= variants).

        >>> F.normalize(ag.tensor([[3.0, 4.0]]))
        Tensor([[0.6, 0.8]], dtype=float32)
    """
    fn = "normalize"
    x = _to_tensor(input, fn=fn)
    dim = _dim(fn, x, dim, axis, default=1)
    y = x / ag.norm(x, p, dim=dim, keepdim=True).clamp_min(eps)
    if out is None:
        return y
    if not isinstance(out, Tensor) or out.shape != y.shape:
        raise ValueError(f"{fn}: out must be a Tensor of shape {y.shape}, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    with ag.no_grad():
        out.copy_(y)
    return out


# ====================================================================== attention
# (nn.MultiheadAttention is in nn/attention.py). Masks are applied with tensor ops
# (masked_fill, where, +), so a compiled step reads each call's mask.

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def _safe_softmax(scores):
    """softmax over the last axis, with rows that are −inf everywhere (every key
    masked) giving zeros instead of NaN, as torch's SDPA: such rows are set to 0
    before the softmax (so no NaN reaches the backward pass) and after it."""
    dead = scores.amax(axis=-1, keepdims=True) == _NEG_INF
    return ag.where(dead, 0.0, ag.where(dead, 0.0, scores).softmax(-1))


def _attend(q, k, v, mask, dropout_p, is_causal, scale, safe):
    """softmax(q kᵀ·scale + mask) v on (..., L, E), (..., S, E), (..., S, Ev):
    (output, weights). ``mask``: None, a bool tensor (True = take part) or an
    additive float tensor, broadcastable to (..., L, S). ``safe``: fully masked
    rows give zeros (SDPA) rather than NaN (MultiheadAttention's weights)."""
    scores = ag.matmul(q * scale, k.transpose(-2, -1))
    if is_causal:
        length, source = q.shape[-2], k.shape[-2]
        scores = scores.masked_fill(np.triu(np.ones((length, source), dtype=bool), 1), _NEG_INF)
    if mask is not None:
        if mask.dtype == np.bool_:
            scores = scores.masked_fill(ag.logical_not(mask), _NEG_INF)
        else:
            scores = scores + mask
    weights = _safe_softmax(scores) if safe and mask is not None else scores.softmax(-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return ag.matmul(weights, v), weights


def _check_probability(p, fn, arg="dropout_p"):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{fn}: {arg} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _mask_tensor(mask, dtype, fn, name):
    """A bool mask as it is; a floating mask in ``dtype``; anything else: TypeError."""
    m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a bool or floating-point tensor, got dtype "
                        f"{m.dtype}")
    return m if m.dtype == np.bool_ or m.dtype == dtype else m.astype(dtype)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,  # noqa: C901
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q Kᵀ · scale + M) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) → (..., L, Ev);
    leading dimensions broadcast. ``scale`` defaults to 1/√E. ``attn_mask``,
    broadcastable to (..., L, S): a bool mask says which keys take part (True =
    attend, as torch), a float mask is added to the scores. ``is_causal``: query i
    attends to keys j ≤ i (the top-left causal mask; not together with
    ``attn_mask``). A query whose keys are all masked gets zeros. ``dropout_p`` > 0
    drops attention weights (always, as torch: pass 0.0 in evaluation).
    ``enable_gqa``: grouped-query attention, key and value with fewer heads (dim -3)
    than query, each shared by ``Hq / Hkv`` query heads.

        >>> q = ag.randn(2, 4, 10, 16); k = v = ag.randn(2, 4, 12, 16)
        >>> F.scaled_dot_product_attention(q, k, v).shape
        (2, 4, 10, 16)
    """
    fn = "scaled_dot_product_attention"
    q = _to_tensor(query, fn=fn)
    k = key if isinstance(key, Tensor) else _to_tensor(key, q.dtype, fn)
    v = value if isinstance(value, Tensor) else _to_tensor(value, q.dtype, fn)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise ValueError(f"{fn}: {name} must have at least 2 dimensions (..., sequence, "
                             f"features), got shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{fn}: {name} must be floating point, got dtype {t.dtype}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{fn}: query of shape {q.shape} and key of shape {k.shape} must have "
                         f"the same last (feature) dimension")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{fn}: key of shape {k.shape} and value of shape {v.shape} must have "
                         f"the same sequence length (dimension -2)")
    dropout_p = _check_probability(dropout_p, fn)
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        heads, kv_heads = q.shape[-3], k.shape[-3]
        if heads % kv_heads or v.shape[-3] != kv_heads:
            raise ValueError(f"{fn}: with enable_gqa the number of query heads (dim -3 of "
                             f"{q.shape}) must be a multiple of the key and value heads (key "
                             f"{k.shape}, value {v.shape})")
        k = k.repeat_interleave(heads // kv_heads, dim=-3)
        v = v.repeat_interleave(heads // kv_heads, dim=-3)
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{fn}: the leading (batch, head) dimensions of query {q.shape}, key "
                         f"{k.shape} and value {v.shape} do not broadcast"
                         + ("" if enable_gqa else " (for fewer key/value heads pass "
                            "enable_gqa=True)")) from None
    mask = None
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{fn}: an explicit attn_mask should not be given when "
                             f"is_causal=True")
        mask = _mask_tensor(attn_mask, q.dtype, fn, "attn_mask")
        weights_shape = batch + (q.shape[-2], k.shape[-2])
        try:
            fits = np.broadcast_shapes(mask.shape, weights_shape) == weights_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{fn}: attn_mask of shape {mask.shape} does not broadcast to the "
                             f"attention weights' shape {weights_shape} (..., L, S)")
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    return _attend(q, k, v, mask, dropout_p, bool(is_causal), float(scale), safe=True)[0]


def _additive_mask(mask, dtype, fn, name):
    """A bool mask (True = masked out, MultiheadAttention's meaning) as 0 / −inf in
    ``dtype``; a float mask as it is (in ``dtype``)."""
    m = _mask_tensor(mask, dtype, fn, name)
    if m.dtype == np.bool_:
        return ag.zeros(m.shape, dtype=dtype).masked_fill(m, _NEG_INF)
    return m


def _project(x, w, b, fn, name):
    if x.shape[-1] != w.shape[1]:
        raise ValueError(f"{fn}: {name} of shape {x.shape} has {x.shape[-1]} features, but "
                         f"its projection weight of shape {w.shape} expects {w.shape[1]}")
    return ag.linear(x, w, b)


def _heads(t, num_heads, batch_first):
    """(seq, N, E) — or (N, seq, E) when batch_first — as (N, H, seq, E/H)."""
    *lead, e = t.shape
    t = t.reshape(*lead, num_heads, e // num_heads)
    return t.permute(0, 2, 1, 3) if batch_first else t.permute(1, 2, 0, 3)


def _multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,  # noqa: C901
                          bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                          out_proj_bias, training, key_padding_mask, need_weights, attn_mask,
                          q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
                          average_attn_weights, is_causal, batch_first, fn,
                          embed_dim_to_check=None):
    """Multi-head attention on (L, N, E) inputs — (N, L, E) when ``batch_first`` —
    or unbatched (L, E): the work of ``nn.MultiheadAttention`` and
    ``multi_head_attention_forward`` (see there)."""
    dt = out_proj_weight.dtype
    q_in = query if isinstance(query, Tensor) else _to_tensor(query, dt, fn)
    k_in = q_in if key is query else (key if isinstance(key, Tensor) else _to_tensor(key, dt, fn))
    v_in = k_in if value is key else (value if isinstance(value, Tensor)
                                      else _to_tensor(value, dt, fn))
    if q_in.ndim not in (2, 3):
        raise ValueError(f"{fn}: query should be unbatched 2-D (L, E) or batched 3-D, got "
                         f"shape {q_in.shape}")
    batched = q_in.ndim == 3
    if k_in.ndim != q_in.ndim or v_in.ndim != q_in.ndim:
        raise ValueError(f"{fn}: for a {q_in.ndim}-D query of shape {q_in.shape}, key and value "
                         f"must be {q_in.ndim}-D too, got shapes {k_in.shape} and {v_in.shape}")
    if not batched:  # as one batch of one, in (seq, 1, E) layout
        batch_first = False
        same_kv, same_qk = v_in is k_in, k_in is q_in
        q_in = q_in.unsqueeze(1)
        k_in = q_in if same_qk else k_in.unsqueeze(1)
        v_in = k_in if same_kv else v_in.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = _mask_tensor(key_padding_mask, dt, fn, "key_padding_mask")
            if key_padding_mask.ndim != 1:
                raise ValueError(f"{fn}: for an unbatched query, key_padding_mask must be 1-D "
                                 f"(S,), got shape {key_padding_mask.shape}")
            key_padding_mask = key_padding_mask.unsqueeze(0)
    seq_axis, batch_axis = (1, 0) if batch_first else (0, 1)
    tgt_len, bsz, embed_dim = q_in.shape[seq_axis], q_in.shape[batch_axis], q_in.shape[2]
    src_len = k_in.shape[seq_axis] if static_k is None else static_k.shape[1]
    if embed_dim_to_check is not None and embed_dim != embed_dim_to_check:
        raise ValueError(f"{fn}: expected query with embedding dimension {embed_dim_to_check}, "
                         f"got shape {query.shape}")
    if embed_dim % num_heads:
        raise ValueError(f"{fn}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if k_in.shape[batch_axis] != bsz or v_in.shape[batch_axis] != bsz \
            or v_in.shape[seq_axis] != k_in.shape[seq_axis]:
        raise ValueError(f"{fn}: query {tuple(q_in.shape)}, key {tuple(k_in.shape)} and value "
                         f"{tuple(v_in.shape)} must share the batch size, and key and value the "
                         f"sequence length ({'batch_first' if batch_first else 'sequence-first'}"
                         f" layout)")

    # input projections: one matmul for self-attention, two when key is value
    e, w, b = embed_dim, in_proj_weight, in_proj_bias

    def bias(lo, hi):
        return None if b is None else b[lo:hi]

    if w is not None and k_in is v_in and q_in is k_in:
        proj = _project(q_in, w, b, fn, "query")
        q, k, v = proj[..., :e], proj[..., e:2 * e], proj[..., 2 * e:]
    elif w is not None and k_in is v_in:
        q = _project(q_in, w[:e], bias(0, e), fn, "query")
        kv = _project(k_in, w[e:], bias(e, 3 * e), fn, "key")
        k, v = kv[..., :e], kv[..., e:]
    else:
        wq, wk, wv = (w[:e], w[e:2 * e], w[2 * e:]) if w is not None else (
            q_proj_weight, k_proj_weight, v_proj_weight)
        q = _project(q_in, wq, bias(0, e), fn, "query")
        k = _project(k_in, wk, bias(e, 2 * e), fn, "key")
        v = _project(v_in, wv, bias(2 * e, 3 * e), fn, "value")

    # masks, as additive floats: attn_mask (L, S) or (N·H, L, S) -> (1|N, 1|H, L, S)
    mask = None
    if attn_mask is not None:
        am = _additive_mask(attn_mask, dt, fn, "attn_mask")
        if am.ndim == 2:
            if am.shape != (tgt_len, src_len):
                raise ValueError(f"{fn}: the shape of the 2-D attn_mask is {am.shape}, but "
                                 f"should be {(tgt_len, src_len)} (L, S)")
            mask = am.reshape(1, 1, tgt_len, src_len)
        elif am.ndim == 3:
            want = (bsz * num_heads, tgt_len, src_len)
            if am.shape != want:
                raise ValueError(f"{fn}: the shape of the 3-D attn_mask is {am.shape}, but "
                                 f"should be {want} (N·num_heads, L, S)")
            mask = am.reshape(bsz, num_heads, tgt_len, src_len)
        else:
            raise ValueError(f"{fn}: attn_mask must be 2-D (L, S) or 3-D (N·num_heads, L, S), "
                             f"got shape {am.shape}")
    kpm = None
    if key_padding_mask is not None:
        kpm = _additive_mask(key_padding_mask, dt, fn, "key_padding_mask")
        if kpm.shape != (bsz, src_len):
            raise ValueError(f"{fn}: key_padding_mask must have shape {(bsz, src_len)} (N, S), "
                             f"got {kpm.shape}")
        kpm = kpm.reshape(bsz, 1, 1, src_len)
    if is_causal and attn_mask is None:
        raise ValueError(f"{fn}: is_causal=True is a hint that attn_mask is the causal mask; "
                         f"give attn_mask too (e.g. nn.Transformer."
                         f"generate_square_subsequent_mask(L))")

    def extend(t, value_tensor):  # one more key position at the end of the sequence axis
        return ag.cat([t, value_tensor], axis=-2 if t.ndim == 4 else seq_axis)

    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ValueError(f"{fn}: give both bias_k and bias_v, or neither")
        if static_k is not None or static_v is not None:
            raise ValueError(f"{fn}: bias_k/bias_v cannot be added to static_k/static_v")
        row = (1, bsz, embed_dim) if not batch_first else (bsz, 1, embed_dim)
        k = extend(k, bias_k.reshape(1, 1, embed_dim).expand(*row))
        v = extend(v, bias_v.reshape(1, 1, embed_dim).expand(*row))
        mask = None if mask is None else pad(mask, (0, 1))
        kpm = None if kpm is None else pad(kpm, (0, 1))
    q = _heads(q, num_heads, batch_first)
    k = _heads(k, num_heads, batch_first) if static_k is None else \
        _static(static_k, bsz, num_heads, head_dim, fn, "static_k")
    v = _heads(v, num_heads, batch_first) if static_v is None else \
        _static(static_v, bsz, num_heads, head_dim, fn, "static_v")
    if add_zero_attn:
        zeros = np.zeros((bsz, num_heads, 1, head_dim), dtype=dt)
        k, v = extend(k, zeros), extend(v, zeros)
        mask = None if mask is None else pad(mask, (0, 1))
        kpm = None if kpm is None else pad(kpm, (0, 1))
    if kpm is not None:
        mask = kpm if mask is None else mask + kpm
        is_causal = False
    if not training:
        dropout_p = 0.0
    scale = 1.0 / np.sqrt(head_dim) if head_dim else 1.0
    if need_weights:
        out, weights = _attend(q, k, v, mask, dropout_p, False, scale, safe=False)
        weights = weights.mean(axis=1) if average_attn_weights else weights
    else:
        causal = bool(is_causal)  # the hint: the mask is the causal one, apply it as such
        out = _attend(q, k, v, None if causal else mask, dropout_p, causal, scale, safe=True)[0]
        weights = None
    # (N, H, L, E/H) -> (L, N, E) or (N, L, E), then the output projection
    out = out.permute(2, 0, 1, 3) if not batch_first else out.permute(0, 2, 1, 3)
    out = ag.linear(out.reshape(*out.shape[:2], embed_dim), out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _static(t, bsz, num_heads, head_dim, fn, name):
    t = t if isinstance(t, Tensor) else _to_tensor(t, fn=fn)
    if t.ndim != 3 or t.shape[0] != bsz * num_heads or t.shape[2] != head_dim:
        raise ValueError(f"{fn}: {name} must have shape (N·num_heads, S, head_dim) = "
                         f"({bsz * num_heads}, S, {head_dim}), got {t.shape}")
    return t.reshape(bsz, num_heads, t.shape[1], head_dim)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention as a function, as ``torch.nn.functional.multi_head_attention_forward``
    (what ``nn.MultiheadAttention`` computes; see its docstring for the masks):

        head_i = softmax((Q W_qᵢ)(K W_kᵢ)ᵀ/√d + M) (V W_vᵢ),   out = [head_1 … head_H] W_oᵀ + b_o

    ``query`` (L, N, E) or unbatched (L, E), ``key``/``value`` (S, N, ·). Returns
    ``(attn_output, attn_weights)``; the weights are None unless ``need_weights``.

        >>> x = ag.randn(5, 3, 8)                        # (L, N, E)
        >>> W_in, b_in = ag.randn(24, 8) * 0.3, ag.zeros(24)
        >>> W_out, b_out = ag.randn(8, 8) * 0.3, ag.zeros(8)
        >>> out, w = F.multi_head_attention_forward(x, x, x, 8, 2, W_in, b_in, None, None,
        ...                                         False, 0.0, W_out, b_out)
        >>> out.shape, w.shape                           # weights averaged over the 2 heads
        ((5, 3, 8), (3, 5, 5))
    """
    fn = "multi_head_attention_forward"
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{fn}: use_separate_proj_weight=True needs q_proj_weight, "
                             f"k_proj_weight and v_proj_weight")
        in_proj_weight = None
    elif in_proj_weight is None:
        raise ValueError(f"{fn}: in_proj_weight is None (give it, or use_separate_proj_weight"
                         f"=True with q/k/v_proj_weight)")
    return _multi_head_attention(
        query, key, value, int(num_heads), in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, _check_probability(dropout_p, fn), out_proj_weight, out_proj_bias,
        training, key_padding_mask, need_weights, attn_mask, q_proj_weight, k_proj_weight,
        v_proj_weight, static_k, static_v, average_attn_weights, is_causal, False, fn,
        embed_dim_to_check)


# ====================================================================== shrinkage, PReLU, GLU,
# threshold, softmin (masks by traced comparisons, so they compile)

__all__ += ["softshrink", "hardshrink", "tanhshrink", "threshold", "prelu", "glu", "softmin"]


def _lambd(lambd, fn):
    if isinstance(lambd, bool) or not isinstance(lambd, numbers.Real) or lambd < 0:
        raise ValueError(f"{fn}: lambd must be a non-negative number, got {lambd!r}")
    return float(lambd)


def softshrink(input, lambd=0.5):  # noqa: A002
    """x − λ for x > λ, x + λ for x < −λ, 0 between (gradient 1 outside [−λ, λ])."""
    x = _to_tensor(input, fn="softshrink")
    lambd = _lambd(lambd, "softshrink")
    return ag.where(x > lambd, x - lambd, ag.where(x < -lambd, x + lambd, 0.0))


def hardshrink(input, lambd=0.5):  # noqa: A002
    """x where |x| > λ, else 0."""
    x = _to_tensor(input, fn="hardshrink")
    lambd = _lambd(lambd, "hardshrink")
    return ag.where((x > lambd) | (x < -lambd), x, 0.0)


def tanhshrink(input):  # noqa: A002
    """x − tanh(x)."""
    x = _to_tensor(input, fn="tanhshrink")
    return x - x.tanh()


@_honours_inplace
def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else ``value``, as ``torch.nn.functional.threshold``."""
    x = _to_tensor(input, fn="threshold")
    return ag.where(x > threshold, x, float(value))


def prelu(input, weight):  # noqa: A002
    """x for x > 0, a·x otherwise, with a learnt slope ``weight``: one number, or
    one per channel (dimension 1 of the input), as ``torch.nn.functional.prelu``."""
    fn = "prelu"
    x = _to_tensor(input, fn=fn)
    w = weight if isinstance(weight, Tensor) else _to_tensor(weight, x.dtype, fn)
    if w.ndim > 1:
        raise ValueError(f"{fn}: weight must be 1-D (one slope, or one per channel), got "
                         f"shape {w.shape}")
    if w.size != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if w.size != channels:
            raise ValueError(f"{fn}: mismatch of parameter numbers and input channel size: "
                             f"weight has {w.size} slopes, the input of shape {x.shape} has "
                             f"{channels} channels (dimension 1)")
        w = w.reshape((channels,) + (1,) * (x.ndim - 2))
    elif x.ndim == 0:
        w = w.reshape(())
    return ag.where(x > 0, x, x * w)


def glu(input, dim=-1, *, axis=None):  # noqa: A002
    """The gated linear unit a ⊗ σ(b), where a and b are the two halves of x along
    ``dim`` (or ``axis``)."""
    fn = "glu"
    x = _to_tensor(input, fn=fn)
    dim = _dim(fn, x, dim, axis)
    if x.ndim == 0:
        raise ValueError(f"{fn}: glu does not support 0-d tensors")
    d = dim % x.ndim if -x.ndim <= dim < x.ndim else None
    if d is None:
        raise ag.AxisError(f"{fn}: dim {dim} is out of range for an input of shape {x.shape}")
    n = x.shape[d]
    if n % 2:
        raise ValueError(f"{fn}: halving dimension {dim} must be even, but the input of shape "
                         f"{x.shape} has size {n} there")
    a, b = ag.split(x, n // 2, dim=d)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """softmax(−x) along ``dim`` or ``axis`` (neither: PyTorch's legacy implicit dimension)."""
    x = _to_tensor(input, fn="softmin")
    return softmax(-x, dim, dtype=dtype, axis=axis)
