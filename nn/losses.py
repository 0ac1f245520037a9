"""Loss modules: thin wrappers around ``nn.functional`` with PyTorch's
constructor arguments. ``reduction`` is checked when the loss is built.

Class weights (``weight``, ``pos_weight``) are registered as buffers, as in
PyTorch, so they appear in ``state_dict()``.
"""
from __future__ import annotations

import numpy as np

from autograd_core import Tensor

from . import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "NLLLoss", "KLDivLoss", "MultiMarginLoss", "HingeLoss"]


class _Loss(Module):
    _reductions = ("mean", "sum", "none")

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__, self._reductions)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        if weight is not None:
            w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
            if w.dtype.kind not in "biuf":
                raise TypeError(f"{type(self).__name__}: weight must be numeric, got dtype {w.dtype}")
            weight = w if w.dtype.kind == "f" else w.astype(np.float32)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (x − y)²."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x − y|."""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (logs clamped at −100, as PyTorch).
    ``weight`` rescales each element (broadcast to the input)."""

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy, stable at logits ±1000; optional
    ``pos_weight`` (weight of the positive examples, per class)."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        if pos_weight is not None:
            pw = np.asarray(pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight)
            pos_weight = pw if pw.dtype.kind == "f" else pw.astype(np.float32)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """``CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean',
    label_smoothing=0.0)``: log_softmax + NLL on logits (N, C) or
    (N, C, d1, ...) with integer class targets (or class probabilities)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, "
                             f"got {label_smoothing!r}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of integer targets under log-probabilities."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class KLDivLoss(_Loss):
    """``KLDivLoss(reduction='mean', log_target=False)``: the input holds
    log-probabilities; ``reduction='batchmean'`` gives the true KL divergence
    per sample ('mean' averages over every element, as PyTorch)."""

    _reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):  # noqa: A002
        return F.kl_div(input, target, self.reduction, self.log_target)


class MultiMarginLoss(_WeightedLoss):
    """``torch.nn.MultiMarginLoss(p=1, margin=1.0, weight=None, reduction='mean')``:
    Σ_{i≠y} max(0, margin − x_y + x_i)^p / C per sample."""

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p!r}")
        self.p, self.margin = p, margin

    def forward(self, input, target):  # noqa: A002
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   self.reduction)


class HingeLoss(_Loss):
    """``HingeLoss(margin=1.0, reduction='mean')``, the hinge loss in its two
    classic forms, chosen by the target:

    * **multi-class** — input (N, C) logits/scores, target (N,) integer
      classes: ``torch.nn.MultiMarginLoss`` with p=1,
      Σ_{i≠y} max(0, margin − x_y + x_i) / C per sample;
    * **binary** — target of the *same shape* as the input with values ±1:
      max(0, margin − y·x) per element (the SVM hinge).
    """

    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):  # noqa: A002
        return F.hinge_loss(input, target, self.margin, self.reduction)

    def extra_repr(self):
        extra = super().extra_repr()
        return f"margin={self.margin}" + (", " + extra if extra else "")
