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

import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

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

def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """max(x, 0). (``inplace`` is accepted for compatibility and ignored.)"""
    return _to_tensor(input, fn="relu").relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, negative_slope·x otherwise (the gradient at 0 is negative_slope, as PyTorch)."""
    x = _to_tensor(input, fn="leaky_relu")
    return ag.where(x > 0, x, x * negative_slope)


def sigmoid(input):  # noqa: A002
    return _to_tensor(input, fn="sigmoid").sigmoid()


def tanh(input):  # noqa: A002
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

        >>> F.softmax(logits, dim=1), F.softmax(logits, axis=1)      # the same
    """
    x = _to_tensor(input, fn="softmax")
    return x.softmax(_dim("softmax", x, dim, axis), dtype=dtype)


def log_softmax(input, dim=-1, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """x_i − log Σ_j exp(x_j) along ``dim`` (or ``axis``; default -1), stable at ±1000,
    computed in ``dtype`` if given."""
    x = _to_tensor(input, fn="log_softmax")
    return x.log_softmax(_dim("log_softmax", x, dim, axis), dtype=dtype)


def _softplus(x):
    """log(1 + eˣ) as logsumexp(0, x): stable at ±1000 and smooth at 0 (its
    derivative is the softmax weight σ(x)). The absolute error is about
    eps·|x|, which the engine's lack of log1p costs."""
    zeros = np.zeros(x.shape, dtype=x.dtype)
    return ag.stack([x, zeros], axis=-1).logsumexp(axis=-1)


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
    ``num_classes`` (inferred as max + 1 when -1)."""
    arr = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class indices, got dtype {arr.dtype}")
    if num_classes == -1:
        if arr.size == 0:
            raise ValueError("one_hot: can not infer the number of classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(arr.max()) + 1
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}] for "
                         f"num_classes={num_classes}, got values in [{arr.min()}, {arr.max()}]")
    return Tensor((arr[..., None] == np.arange(num_classes)).astype(np.int64))


# ====================================================================== loss helpers

def _check_reduction(reduction, fn, allowed=_REDUCTIONS):
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{fn}: reduction must be one of "
                         f"{', '.join(repr(r) for r in allowed)}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _div(total, denominator):
    """total / denominator, NaN for 0/0 (as PyTorch when every target is ignored)."""
    denominator = float(denominator)
    return total * (1.0 / denominator) if denominator != 0 else total * float("nan")


def _float_target(target, x, fn, exact):
    """A floating target as a Tensor of x's dtype (a Tensor target is kept, so it
    can require grad). ``exact``: same shape as x; otherwise broadcastable to it."""
    if isinstance(target, Tensor):
        t = target if target.dtype.kind == "f" else Tensor(target.data.astype(x.dtype))
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
        ok = np.broadcast_shapes(np.shape(w), x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fn}: {name} of shape {np.shape(w)} cannot be broadcast to the "
                         f"input shape {x.shape}")
    return w


def _index_target(target, fn):
    arr = np.asarray(target.data if isinstance(target, Tensor) else target)
    if arr.dtype.kind not in "iu":
        hint = (" (class probabilities must have the input's shape)"
                if arr.dtype.kind == "f" else "")
        raise TypeError(f"{fn}: target must hold integer class indices, got dtype {arr.dtype} "
                        f"with shape {arr.shape}{hint}")
    return arr


def _class_weight(weight, n_classes, fn, dtype):
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: weight must be numeric, got dtype {w.dtype}")
    if w.shape != (n_classes,):
        raise ValueError(f"{fn}: weight must have shape ({n_classes},), one entry per class, "
                         f"got shape {w.shape}")
    return w.astype(dtype)


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


def _nll(logp, target, weight, ignore_index, reduction, fn, label_smoothing=0.0):
    """The negative log-likelihood of integer targets under log-probabilities
    ``logp`` with PyTorch's weighting, ignore_index and label smoothing."""
    t = _index_target(target, fn)
    lp2, c = _flat_classes(logp, t, fn)
    tf = t.reshape(-1)
    m = tf.size
    valid = tf != ignore_index
    all_valid = bool(valid.all())
    safe = tf if all_valid else np.where(valid, tf, 0)
    bad = (safe < 0) | (safe >= c)
    if bad.any():
        raise IndexError(f"{fn}: target {int(safe[bad][0])} is out of bounds: class indices "
                         f"must be in [0, {c - 1}] for an input with {c} classes (shape "
                         f"{logp.shape}), or equal ignore_index={ignore_index}")
    dt = lp2.dtype
    w = _class_weight(weight, c, fn, dt)
    # A 1-D index keeps the engine's scatter (np.add.at) on its fast path.
    picked = lp2.reshape(-1)[np.arange(m) * c + safe]
    if w is None and all_valid:
        wt = None
        loss = -picked
    else:
        wt = (w[safe] if w is not None else np.ones(m, dtype=dt)) * valid.astype(dt)
        loss = -(picked * wt)
    if reduction == "none":
        out = loss.reshape(t.shape)
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.mean() if wt is None else _div(loss.sum(), wt.sum())
    if label_smoothing > 0:
        smooth = -((lp2 * w) if w is not None else lp2).sum(axis=1)
        if not all_valid:
            smooth = smooth * valid.astype(dt)
        if reduction == "none":
            s = smooth.reshape(t.shape)
        elif reduction == "sum":
            s = smooth.sum()
        else:
            s = _div(smooth.sum(), wt.sum() if w is not None else valid.sum())
        out = out * (1.0 - label_smoothing) + s * (label_smoothing / c)
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
    t < 1e-12 the value is the clamped constant and passes no gradient."""
    d = t.data
    small = d < _LOG_GRAD_FLOOR
    if not small.any():
        return t.log()
    with np.errstate(divide="ignore"):
        const = np.maximum(np.log(d), -100).astype(d.dtype)
    return ag.where(small, const, ag.where(small, 1.0, t).log())


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """−w·[y·log x + (1 − y)·log(1 − x)] for probabilities x ∈ [0, 1], each log
    clamped at −100 as PyTorch (so x = 0 or 1 gives finite values). For logits
    use ``binary_cross_entropy_with_logits``."""
    fn = "binary_cross_entropy"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    d = x.data
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
    log(1 + e^{−x}) is a logsumexp, so logits of ±1000 give exact finite values
    and gradients σ(x) − y. ``pos_weight`` broadcasts over the last (class) axis."""
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=True)
    sp = _softplus(-x)
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
    tdata = target.data if isinstance(target, Tensor) else np.asarray(target)
    logp = x.log_softmax(class_axis)
    if tdata.dtype.kind != "f" or tdata.shape != x.shape:
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
    that are not ``ignore_index``."""
    fn = "nll_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    return _nll(x, target, weight, ignore_index, reduction, fn)


def kl_div(input, target, reduction="mean", log_target=False):  # noqa: A002
    """KL(target ‖ q) pointwise, with ``input`` = log q (log-probabilities):
    target·(log target − input), 0 where target = 0; with ``log_target`` the
    target is given as log-probabilities: exp(t)·(t − input).
    'mean' averages over *all* elements (PyTorch's default, rarely what one
    wants); 'batchmean' divides the sum by the batch size — the true KL divergence."""
    fn = "kl_div"
    _check_reduction(reduction, fn, _REDUCTIONS + ("batchmean",))
    x = _to_tensor(input, fn=fn)
    t = _float_target(target, x, fn, exact=False)
    if log_target:
        loss = t.exp() * (t - x)
    elif not (t.requires_grad or ag.autograd.forward_ad.is_dual(t)):
        td = t.data
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(td == 0, 0, td * np.log(td)).astype(x.dtype)  # xlogy(t, t)
        loss = xlogx - td * x
    else:
        pos = t.data > 0
        loss = ag.where(pos, t * ag.where(pos, t, 1.0).log(), 0.0) - t * x
    if reduction == "batchmean":
        if x.ndim == 0:
            raise ValueError(f"{fn}: reduction='batchmean' needs a batch dimension, got a 0-d input")
        return loss.sum() * (1.0 / x.shape[0])
    if loss.shape != x.shape:  # a target that broadcast over a 0-d or smaller input
        loss = loss.broadcast_to(x.shape)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None,  # noqa: A002
                      reduction="mean"):
    """The multi-class hinge loss of ``torch.nn.MultiMarginLoss``: per sample
    Σ_{i ≠ y} w_y·max(0, margin − x_y + x_i)^p / C, for ``input`` (N, C) or (C,)
    and integer targets (N,) or (); p is 1 or 2."""
    fn = "multi_margin_loss"
    _check_reduction(reduction, fn)
    if p not in (1, 2):
        raise ValueError(f"{fn}: only p == 1 and p == 2 are supported, got p={p!r}")
    x = _to_tensor(input, fn=fn)
    if x.ndim not in (1, 2):
        raise ValueError(f"{fn}: input must be (N, C) or (C,), got shape {x.shape}")
    t = _index_target(target, fn)
    x2, c = _flat_classes(x, t, fn)
    n = x2.shape[0]
    tf = t.reshape(-1)
    if ((tf < 0) | (tf >= c)).any():
        bad = int(tf[(tf < 0) | (tf >= c)][0])
        raise IndexError(f"{fn}: target {bad} is out of bounds: class indices must be in "
                         f"[0, {c - 1}] for an input with {c} classes (shape {x.shape}); for "
                         f"binary ±1 targets give the target the input's shape (hinge_loss)")
    rows = np.arange(n)
    xy = x2.reshape(-1)[rows * c + tf]
    z = (x2 - xy.reshape(n, 1) + margin).relu()
    if p == 2:
        z = z * z
    mask = np.ones((n, c), dtype=x.dtype)
    mask[rows, tf] = 0
    w = _class_weight(weight, c, fn, x.dtype)
    if w is not None:
        mask *= w[tf][:, None]
    per = (z * mask).sum(axis=1) * (1.0 / c)
    if reduction == "none":
        return per.reshape(t.shape)
    return _reduce(per, reduction)


def hinge_loss(input, target, margin=1.0, reduction="mean"):  # noqa: A002
    """Hinge loss in two forms, chosen by the target's shape:

    * target of the input's shape, values ±1 — the binary (SVM) hinge
      max(0, margin − y·x), elementwise;
    * integer class indices (N,) for input (N, C) — the multi-class hinge,
      ``multi_margin_loss(input, target, p=1, margin=margin)``.
    """
    fn = "hinge_loss"
    _check_reduction(reduction, fn)
    x = _to_tensor(input, fn=fn)
    tdata = np.asarray(target.data if isinstance(target, Tensor) else target)
    if tdata.shape != x.shape:
        return multi_margin_loss(x, target, p=1, margin=margin, reduction=reduction)
    if tdata.dtype.kind not in "iuf" or not np.isin(tdata, (-1, 1)).all():
        raise ValueError(f"{fn}: binary targets (target shape equal to the input shape "
                         f"{x.shape}) must be -1 or +1")
    return _reduce((margin - x * tdata.astype(x.dtype)).relu(), reduction)


# ====================================================================== more activations
# (the engine's ops, under torch.nn.functional's names and arguments)

__all__ += ["gelu", "silu", "mish", "logsigmoid", "hardtanh", "relu6", "elu", "selu", "celu",
            "softsign", "hardsigmoid", "hardswish"]


def gelu(input, approximate="none"):  # noqa: A002
    """x·Φ(x) (Φ the standard normal CDF); ``approximate='tanh'``: PyTorch's tanh form."""
    return ag.gelu(_to_tensor(input, fn="gelu"), approximate)


def silu(input, inplace=False):  # noqa: A002
    """x·σ(x). (``inplace`` is accepted for compatibility and ignored.)"""
    return ag.silu(_to_tensor(input, fn="silu"))


def mish(input, inplace=False):  # noqa: A002
    """x·tanh(softplus(x))."""
    return ag.mish(_to_tensor(input, fn="mish"))


def logsigmoid(input):  # noqa: A002
    """log σ(x), exact for every x."""
    return ag.logsigmoid(_to_tensor(input, fn="logsigmoid"))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clipped to [min_val, max_val] (gradient 1 strictly inside, 0 elsewhere)."""
    return ag.hardtanh(_to_tensor(input, fn="hardtanh"), min_val, max_val)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6)."""
    return ag.relu6(_to_tensor(input, fn="relu6"))


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, else α(eˣ - 1)."""
    return ag.elu(_to_tensor(input, fn="elu"), alpha)


def selu(input, inplace=False):  # noqa: A002
    """scale·elu(x, α) with the self-normalising constants."""
    return ag.selu(_to_tensor(input, fn="selu"))


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, else α(e^{x/α} - 1)."""
    return ag.celu(_to_tensor(input, fn="celu"), alpha)


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    return ag.softsign(_to_tensor(input, fn="softsign"))


def hardsigmoid(input, inplace=False):  # noqa: A002
    """0 for x ≤ -3, 1 for x ≥ 3, x/6 + ½ between."""
    return ag.hardsigmoid(_to_tensor(input, fn="hardsigmoid"))


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

        >>> F.normalize(ag.tensor([[3.0, 4.0]]))       # [[0.6, 0.8]]
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

        >>> out, w = F.multi_head_attention_forward(x, x, x, 8, 2, W_in, b_in, None, None,
        ...                                         False, 0.0, W_out, b_out)
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
