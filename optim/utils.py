"""Gradient clipping and early stopping."""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from autograd_core import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "EarlyStopping"]


def _param_list(parameters, fn):
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{fn}: parameters must be a Tensor or an iterable of Tensors, "
                        f"got {type(parameters).__name__}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return params


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescale the gradients in place so their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients concatenated
    (``float('inf')``: the largest absolute entry). As PyTorch, every gradient
    is multiplied by min(1, max_norm / (total + 1e-6)); parameters without a
    gradient are skipped. Returns the total norm before clipping, as a 0-d
    Tensor. ``error_if_nonfinite=True`` raises if that norm is NaN or inf.
    """
    params = _param_list(parameters, "clip_grad_norm_")
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if max_norm < 0 or math.isnan(max_norm):
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not norm_type > 0 or math.isnan(norm_type):
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type}")
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return Tensor(0.0)
    grads = [p.grad.data for p in with_grad]
    dtype = np.result_type(*[g.dtype for g in grads])
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        norms = np.array([np.sum(np.abs(g.astype(np.float64)) ** norm_type) ** (1.0 / norm_type)
                          for g in grads])
        total = float(np.sum(norms ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = min(max_norm / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):      # inf·0 = NaN, as PyTorch, when the norm is inf
        _update_grads(with_grad, lambda g: g * np.asarray(coef, dtype=g.dtype))
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient entry in place to [−clip_value, clip_value]."""
    params = _param_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    if clip_value < 0 or math.isnan(clip_value):
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    _update_grads([p for p in params if p.grad is not None],
                  lambda g: np.clip(g, -clip_value, clip_value))


def _update_grads(params, fn):
    """p.grad ← fn(p.grad), in place where possible (as PyTorch).

    A gradient made by ``backward(create_graph=True)`` (or under forward_ad)
    may be a read-only view, or one object shared by several parameters;
    those get a fresh array instead, so no gradient is changed twice.
    """
    counts = {}
    for p in params:
        counts[id(p.grad)] = counts.get(id(p.grad), 0) + 1
    for p in params:
        g = p.grad
        arr = g.data
        if arr.flags.writeable and counts[id(g)] == 1 and g.is_leaf and not g.requires_grad:
            arr[...] = fn(arr)
        else:
            p.grad = np.array(fn(arr), dtype=p.data.dtype)


def _snapshot(value):
    """A deep copy of a state dict whose arrays do not share memory with the model."""
    if isinstance(value, Tensor):
        return value.data.copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        items = [(k, _snapshot(v)) for k, v in value.items()]
        try:
            return type(value)(items)       # keeps an OrderedDict an OrderedDict
        except TypeError:
            return dict(items)
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    return copy.deepcopy(value)


class EarlyStopping:
    """``EarlyStopping(patience, min_delta=0, mode='min', restore_best_weights=True)``

    Stop training once the monitored metric has not improved for ``patience``
    consecutive checks. An improvement is metric < best − min_delta
    (``mode='min'``) or metric > best + min_delta (``'max'``). On every
    improvement the model's ``state_dict()`` is copied; when training stops
    (and ``restore_best_weights``), the copy is loaded back with
    ``load_state_dict``. The model is duck-typed: anything with those two
    methods (an ``nn.Module``, or an optimiser)::

        stopper = EarlyStopping(patience=5)
        for epoch in range(100):
            train_one_epoch()
            if stopper.step(validation_loss(), model):
                break                       # model now holds the best weights

    Attributes: ``best``, ``best_epoch``, ``num_bad_epochs``, ``epoch``,
    ``should_stop``, ``stopped_epoch``, ``best_state``.
    """

    def __init__(self, patience, min_delta=0, mode="min", restore_best_weights=True):
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                or patience < 0:
            raise ValueError(f"Invalid patience: {patience} (expected an int >= 0)")
        if not isinstance(min_delta, numbers.Real) or min_delta < 0 or math.isnan(min_delta):
            raise ValueError(f"Invalid min_delta: {min_delta} (expected >= 0)")
        if mode not in ("min", "max"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'min' or 'max')")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.reset()

    def reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.best_state = None
        self.num_bad_epochs = 0
        self.epoch = -1
        self.should_stop = False
        self.stopped_epoch = None

    def is_better(self, metric):
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, model=None):
        """Record one check of ``metric``; returns True when training should stop.

        With ``model`` given, its state is snapshot on improvement and, when
        stopping with ``restore_best_weights``, restored.
        """
        metric = float(metric)
        self.epoch += 1
        if math.isnan(metric):
            improved = False
        else:
            improved = self.is_better(metric)
        if improved:
            self.best = metric
            self.best_epoch = self.epoch
            self.num_bad_epochs = 0
            if model is not None and self.restore_best_weights:
                self.best_state = _snapshot(_state_dict_of(model))
        else:
            self.num_bad_epochs += 1
        if not improved and self.num_bad_epochs >= self.patience:
            self.should_stop = True
            if self.stopped_epoch is None:
                self.stopped_epoch = self.epoch
            if model is not None and self.restore_best_weights:
                self.restore(model)
        return self.should_stop

    __call__ = step

    def restore(self, model):
        """Load the best snapshot into ``model`` (no-op if there is none)."""
        if self.best_state is None:
            return False
        if not hasattr(model, "load_state_dict"):
            raise TypeError(f"EarlyStopping.restore: {type(model).__name__} has no "
                            f"load_state_dict()")
        model.load_state_dict(_snapshot(self.best_state))
        return True

    def state_dict(self):
        return {k: _snapshot(v) for k, v in self.__dict__.items()}

    def load_state_dict(self, state):
        self.__dict__.update({k: _snapshot(v) for k, v in state.items()})


def _state_dict_of(model):
    if not hasattr(model, "state_dict"):
        raise TypeError(f"EarlyStopping: {type(model).__name__} has no state_dict(); pass "
                        f"a model with state_dict()/load_state_dict()")
    return model.state_dict()
