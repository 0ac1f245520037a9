"""Early stopping; gradient clipping re-exported from ``nn.utils``.

Clipping changes gradients, which ``optim`` itself never does: its one
implementation is ``nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` (the
layers import downwards: engine → nn → optim), and ``optim.clip_grad_norm_``
is the same function.
"""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from autograd_core import Tensor
from nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "EarlyStopping"]


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
    methods (an ``nn.Module``, or an optimiser):

        >>> model = nn.Linear(1, 1, bias=False)
        >>> stopper = optim.EarlyStopping(patience=2)
        >>> for epoch, validation_loss in enumerate([0.9, 0.5, 0.6, 0.7, 0.4]):
        ...     with ag.no_grad():
        ...         _ = model.weight.fill_(float(epoch))    # what training would change
        ...     if stopper.step(validation_loss, model):
        ...         break
        >>> epoch, stopper.best, stopper.should_stop       # two checks without improvement
        (3, 0.5, True)
        >>> model.weight.data                              # the best epoch's weights are back
        array([[1.]], dtype=float32)

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
        """Forget the history, keeping the settings: ``best`` back to ±inf (by
        ``mode``), no best epoch or snapshot, no bad epochs, not stopped."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.best_state = None
        self.num_bad_epochs = 0
        self.epoch = -1
        self.should_stop = False
        self.stopped_epoch = None

    def is_better(self, metric):
        """Whether ``metric`` improves on ``best``: metric < best − min_delta
        (``mode='min'``) or metric > best + min_delta (``'max'``)."""
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
        """A dict of every attribute (settings, counters, ``best_state``), copied
        so that its arrays share no memory with the stopper or the model."""
        return {k: _snapshot(v) for k, v in self.__dict__.items()}

    def load_state_dict(self, state):
        """Restore the attributes saved by ``state_dict()`` (a copy of them)."""
        self.__dict__.update({k: _snapshot(v) for k, v in state.items()})


def _state_dict_of(model):
    if not hasattr(model, "state_dict"):
        raise TypeError(f"EarlyStopping: {type(model).__name__} has no state_dict(); pass "
                        f"a model with state_dict()/load_state_dict()")
    return model.state_dict()
