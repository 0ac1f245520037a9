"""optim.lr_scheduler: learning-rate schedules with PyTorch 2.13's semantics.

``optim.lr_scheduler`` is ``torch.optim.lr_scheduler``: ``LambdaLR``, ``StepLR``,
``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``ReduceLROnPlateau``
and ``OneCycleLR``, with PyTorch's arguments, defaults and formulas, so that the
same calls give the same rates (also importable as ``optim.StepLR`` etc.)::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)        # calls opt.step()
        sched.step()                # after the optimiser's step

A scheduler is built after its optimiser, records each group's ``initial_lr``
and applies the rate for epoch 0 at once. ``get_last_lr()`` gives the rates
last set. The chainable schedules update ``group['lr']`` from its current value
(so several schedulers can drive one optimiser); ``step(epoch)`` with an
explicit epoch (deprecated in PyTorch, and warned about likewise) uses the
closed form where there is one. ``state_dict()`` holds every attribute except
the optimiser (plain numbers, strings, lists and dicts: ``autograd_core.save``
writes it); ``load_state_dict`` restores them.

Not copied from PyTorch: its warning when ``scheduler.step()`` is called before
``optimizer.step()`` (it needs to wrap the optimiser's ``step`` method).
"""
from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer, check_positive_int

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "ReduceLROnPlateau", "OneCycleLR"]

_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
    "where possible. Please use `scheduler.step()` to step the scheduler. During the "
    "deprecation, if epoch is different from None, the closed form is used instead of the "
    "new chainable form, where available.")


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_gamma(gamma):
    if not isinstance(gamma, numbers.Real) or not gamma > 0:
        raise ValueError(f"Invalid gamma: {gamma} (expected > 0)")


def _per_group(name, optimizer, value):
    """One value per param group: a list/tuple of that length, or one value for all."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {n}.")
        return list(value)
    return [value] * n


def _group_values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


class LRScheduler:
    """``LRScheduler(optimizer, last_epoch=-1)``: base of the epoch-based schedules.

    Subclasses implement ``get_lr()`` (the chainable update from
    ``self.last_epoch`` and the groups' current ``lr``) and may implement
    ``_get_closed_form_lr()``. ``last_epoch=-1`` starts fresh; another value
    resumes, and then every group must already have ``'initial_lr'`` (KeyError
    otherwise). While the constructor takes its first step, ``_is_initial`` is
    True (the schedules that multiply the current rate then leave it as it is,
    so resuming does not apply one decay too many).

        >>> from optim.lr_scheduler import LRScheduler
        >>> class Halve(LRScheduler):
        ...     def get_lr(self):
        ...         return [g["lr"] * (0.5 if self.last_epoch else 1) for g in self.optimizer.param_groups]
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = Halve(opt)
        >>> opt.step(); sched.step(); opt.step(); sched.step()
        >>> sched.get_last_lr()
        [0.025]
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        if not _is_int(last_epoch) or last_epoch < -1:
            raise ValueError(f"Invalid last_epoch: {last_epoch} (expected an int >= -1)")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming scheduler with last_epoch >= 0 (load the "
                                   f"optimizer's state dict first)")
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._get_lr_called_within_step = False
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates for ``self.last_epoch`` (called by ``step``; use ``get_last_lr()``
        to read the current rates)."""
        raise NotImplementedError

    def _warn_if_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def get_last_lr(self):
        """The learning rates (one per group) set by the last ``step``."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance one epoch (or, deprecated, jump to ``epoch``) and set the groups' ``lr``."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")

    def state_dict(self):
        """Every attribute except the optimiser."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore the attributes saved by ``state_dict()`` (ValueError on a key this
        scheduler does not have)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict expects a dict from state_dict(), "
                            f"got {type(state_dict).__name__}")
        unknown = set(state_dict) - set(self.__dict__) - {"optimizer"}
        if unknown:
            raise ValueError(f"load_state_dict: unexpected keys {sorted(unknown)} for "
                             f"{type(self).__name__}")
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v)
                              for k, v in state_dict.items() if k != "optimizer"})

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class LambdaLR(LRScheduler):
    """``LambdaLR(optimizer, lr_lambda, last_epoch=-1)``: lr = base_lr · λ(epoch),
    with one function for all groups or a list with one per group.

    As in PyTorch, ``state_dict()`` does not save plain functions (that would
    need pickled code): rebuild the scheduler with the same functions and load
    the rest. The attributes of callable objects are saved (as PyTorch does,
    under ``'lr_lambdas'``, None standing for a function).

        >>> from optim.lr_scheduler import LambdaLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.5 ** epoch)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()                      # a pass over the data
        ...     sched.step()
        >>> lrs
        [0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas (one per param group), "
                                 f"but got {len(lr_lambda)}")
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"lr_lambda must be callable, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """lr = base_lr · λ(last_epoch) for each group, with that group's function
        (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        return [base_lr * f(self.last_epoch) for base_lr, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self):
        """The attributes, as ``LRScheduler.state_dict``, without the functions: if
        some ``lr_lambda`` is a callable object, ``'lr_lambdas'`` holds a copy of
        each one's attributes (None for a plain function), as PyTorch saves."""
        state = super().state_dict()
        del state["lr_lambdas"]
        saved = [None if isinstance(f, types.FunctionType) or not hasattr(f, "__dict__")
                 else dict(f.__dict__) for f in self.lr_lambdas]
        if any(s is not None for s in saved):
            state["lr_lambdas"] = saved
        return state

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved; the functions stay this
        scheduler's own, and callable objects get their saved attributes back."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None)
        lambdas = self.lr_lambdas
        super().load_state_dict(state)
        self.lr_lambdas = lambdas
        for f, attributes in zip(lambdas, saved or []):
            if attributes is not None:
                f.__dict__.update(attributes)


class StepLR(LRScheduler):
    """``StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)``:
    lr = base_lr · gamma^⌊epoch / step_size⌋.

        >>> from optim.lr_scheduler import StepLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = StepLR(opt, step_size=2, gamma=0.1)   # 0.1, then 0.01 from epoch 2, ...
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()                      # a pass over the data
        ...     sched.step()
        >>> lrs
        [0.1, 0.1, 0.01, 0.01, 0.001]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        check_positive_int(step_size, "step_size")
        _check_gamma(gamma)
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Each group's current lr times gamma when ``last_epoch`` is a positive
        multiple of ``step_size``, else unchanged (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)``:
    lr = base_lr · gamma^(number of milestones ≤ epoch).

    A milestone listed k times multiplies by gamma^k, as in PyTorch.

        >>> from optim.lr_scheduler import MultiStepLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = MultiStepLR(opt, milestones=[1, 3], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()                      # a pass over the data
        ...     sched.step()
        >>> lrs
        [0.1, 0.01, 0.01, 0.001, 0.001]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        try:
            marks = list(milestones)
        except TypeError:
            raise TypeError(f"MultiStepLR: milestones must be a list of epoch numbers, got "
                            f"{type(milestones).__name__}") from None
        for m in marks:
            if not _is_int(m):
                raise ValueError(f"Invalid milestone: {m!r} (expected an integer epoch)")
        _check_gamma(gamma)
        self.milestones = Counter(int(m) for m in marks)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Each group's current lr times gamma^k when ``last_epoch`` is a milestone
        listed k times, else unchanged (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch]
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        marks = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(marks, self.last_epoch)
                for base_lr in self.base_lrs]

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved, ``milestones`` back to a Counter of
        ints (a checkpoint may hold a plain dict with string keys)."""
        super().load_state_dict(state_dict)
        # A checkpoint stores the Counter as a plain dict (maybe with string keys).
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma, last_epoch=-1)``: lr = base_lr · gamma^epoch.

        >>> from optim.lr_scheduler import ExponentialLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = ExponentialLR(opt, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()                      # a pass over the data
        ...     sched.step()
        >>> lrs
        [0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        _check_gamma(gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """Each group's current lr times gamma (unchanged at the constructor's
        first step) (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""``CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)``

    SGDR without restarts (Loshchilov & Hutter 2017):
    lr = η_min + (base_lr − η_min)(1 + cos(π·epoch / T_max)) / 2, computed
    recursively as PyTorch does (so it composes with other schedules); past
    T_max the rate rises again along the same cosine.

        >>> from optim.lr_scheduler import CosineAnnealingLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = CosineAnnealingLR(opt, T_max=4)      # ½·lr·(1 + cos(π t/4))
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()                      # a pass over the data
        ...     sched.step()
        >>> lrs
        [0.1, 0.085355, 0.05, 0.014645, 0.0]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        check_positive_int(T_max, "T_max")
        if not isinstance(eta_min, numbers.Real) or eta_min < 0:
            raise ValueError(f"Invalid eta_min: {eta_min} (expected >= 0)")
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        r"""The next rates, recursively from the current ones as PyTorch computes them:
        lr_e = η_min + (lr_(e−1) − η_min)(1 + cos(πe/T_max)) / (1 + cos(π(e−1)/T_max)),
        except on the step after a minimum (e − 1 = T_max, 3·T_max, ..., where that
        ratio's denominator is 0): lr_e = lr_(e−1) + (base_lr − η_min)(1 − cos(π/T_max))/2;
        the first step of a resumed scheduler uses the closed form (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        groups = self.optimizer.param_groups
        e, T, eta = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and e > 0:
            return [eta + (base_lr - eta) * (1 + math.cos(e * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (base_lr - eta) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (group["lr"] - eta) + eta for group in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    r"""``ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4, threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)``

    Multiply every group's lr by ``factor`` when the metric passed to
    ``step(metric)`` has not improved for more than ``patience`` epochs.
    Improvement (``mode='min'``): metric < best·(1 − threshold) (``'rel'``) or
    metric < best − threshold (``'abs'``); mirrored for ``'max'``. After a
    reduction, ``cooldown`` epochs pass before bad epochs count again. A rate
    never goes below ``min_lr`` (a number or one per group), and changes
    smaller than ``eps`` are ignored.

        >>> from optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = ReduceLROnPlateau(opt, patience=1)
        >>> lrs = []
        >>> for validation_loss in [1.0, 0.5, 0.5, 0.5, 0.5]:
        ...     sched.step(validation_loss)
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        >>> lrs                                   # ×0.1 after 2 epochs without improvement
        [0.1, 0.1, 0.1, 0.01, 0.01]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(factor, numbers.Real) or factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if factor < 0:
            raise ValueError(f"Invalid factor: {factor} (expected 0 <= factor < 1)")
        _check_optimizer(optimizer)
        for value, name in ((patience, "patience"), (cooldown, "cooldown")):
            if not _is_int(value) or value < 0:
                raise ValueError(f"Invalid {name}: {value} (expected an int >= 0)")
        for value, name in ((threshold, "threshold"), (eps, "eps")):
            if not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"Invalid {name}: {value} (expected >= 0)")
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, "
                                 f"got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        for m in self.min_lrs:
            if not isinstance(m, numbers.Real) or m < 0:
                raise ValueError(f"Invalid min_lr: {m} (expected >= 0)")
        self.patience = int(patience)
        self.cooldown = int(cooldown)
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError("mode " + str(mode) + " is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError("threshold mode " + str(threshold_mode) + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or a 0-d Tensor); reduce the rates
        after a plateau."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    f"usually due to a new param group being added to the optimizer. Please "
                    f"modify the `min_lrs` field to match the length of the `optimizer` "
                    f"param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        """Whether a reduction's ``cooldown`` epochs are still running
        (``cooldown_counter > 0``): bad epochs are not counted meanwhile."""
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` (mode and threshold as configured)."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    _is_better = is_better           # PyTorch's name

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved, checking ``mode`` and
        ``threshold_mode`` again (ValueError on an unknown one)."""
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


class OneCycleLR(LRScheduler):
    r"""``OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3, anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1)``

    The 1cycle policy (Smith & Topin 2018), stepped after every batch: the rate
    rises from max_lr/``div_factor`` to ``max_lr`` over the first ``pct_start``
    of ``total_steps`` (or ``epochs · steps_per_epoch``), then falls to
    initial_lr/``final_div_factor``; each phase interpolates with
    ``anneal_strategy`` — 'cos': end + (start − end)(1 + cos(π·pct))/2, or
    'linear'. ``three_phase=True`` goes back to the initial rate symmetrically
    and then down to the minimum (the paper's version). With
    ``cycle_momentum`` the momentum (or Adam's β₁) moves inversely between
    ``max_momentum`` and ``base_momentum``. Not chainable; stepping more than
    ``total_steps`` times raises ValueError.

        >>> from optim.lr_scheduler import OneCycleLR
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = OneCycleLR(opt, max_lr=0.1, total_steps=10)   # stepped once per batch
        >>> lrs = []
        >>> for epoch in range(10):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 4))
        ...     opt.step()                      # one batch
        ...     sched.step()
        >>> lrs
        [0.004, 0.052, 0.1, 0.095, 0.0812, 0.0611, 0.0389, 0.0188, 0.005, 0.0]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if not _is_int(total_steps) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = int(total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            if not _is_int(epochs) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not _is_int(steps_per_epoch) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = int(epochs) * int(steps_per_epoch)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        rise_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                      (self.total_steps - 1, "initial_lr", "min_lr",
                       "max_momentum", "max_momentum")]
        else:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                       "max_momentum")]
        self._schedule_phases = [
            dict(end_step=end, start_lr=lr0, end_lr=lr1, start_momentum=m0, end_momentum=m1)
            for end, lr0, lr1, m0, m1 in phases]

        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, m_max, m_base in zip(optimizer.param_groups, max_momentums,
                                                base_momentums):
                    self._set_momentum(group, m_max)
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        """Each group's rate at step ``last_epoch``: its phase's start rate annealed
        towards the phase's end rate by pct = (step − phase start)/(phase length),
        with ``anneal_strategy``; with ``cycle_momentum`` it also sets the group's
        momentum (or β₁) the same way. ValueError past ``total_steps``
        (called by ``step``; called elsewhere it warns: read ``get_last_lr()``)."""
        self._warn_if_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total "
                             f"steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]],
                                                               pct))
                    break
                start_step = phase["end_step"]
        return lrs
