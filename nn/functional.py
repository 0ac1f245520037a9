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
    return ag.where(x.data > 0, x, x * negative_slope)


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
    global generator."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p!r}")
    x = _to_tensor(input, fn="dropout")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    # The mask is drawn by the engine (ag.rand: the generator's float32 stream),
    # so a compiled step draws a new one on every call.
    keep = ag.rand(x.shape, dtype=np.float32, generator=generator) >= p
    return ag.where(keep, x * (1.0 / (1.0 - p)), 0.0)


def batch_norm(input, running_mean, running_var, weight=None, bias=None,  # noqa: A002
               training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over all axes but the channel axis 1, as PyTorch.

    Training: normalise with the batch mean and the *biased* batch variance,
    and (if given) update ``running_mean``/``running_var`` in place with
    ``(1 − momentum)·running + momentum·batch``, using the *unbiased* variance.
    Evaluation: normalise with the running statistics.
    y = (x − mean) / √(var + eps) · weight + bias.
    """
    fn = "batch_norm"
    x = _to_tensor(input, fn=fn)
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected an input with at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        shape = None if t is None else np.shape(t.data if isinstance(t, Tensor) else t)
        if shape is not None and tuple(shape) != (c,):
            raise ValueError(f"{fn}: {name} must have shape ({c},) for an input with {c} "
                             f"channels (shape {x.shape}), got {tuple(shape)}")
    if training:
        n = x.size // c if c else 0
        if n <= 1:
            raise ValueError(f"{fn}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            rm = running_mean.data if isinstance(running_mean, Tensor) else running_mean
            rm *= 1 - momentum
            rm += momentum * mean.data.reshape(c)
        if running_var is not None:
            rv = running_var.data if isinstance(running_var, Tensor) else running_var
            rv *= 1 - momentum
            rv += (momentum * n / (n - 1)) * var.data.reshape(c)
        y = xc * (var + eps) ** -0.5
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{fn}: running_mean and running_var are required when training=False")
        rm = np.asarray(running_mean.data if isinstance(running_mean, Tensor) else running_mean)
        rv = np.asarray(running_var.data if isinstance(running_var, Tensor) else running_var)
        inv = ((rv.astype(np.float64) + eps) ** -0.5).astype(x.dtype)
        y = (x - rm.astype(x.dtype).reshape(bshape)) * inv.reshape(bshape)
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
