"""Loss modules: thin wrappers around ``nn.functional`` with PyTorch's
constructor arguments. ``reduction`` is checked when the loss is built.

Class weights (``weight``, ``pos_weight``) are registered as buffers, as in
PyTorch, so they appear in ``state_dict()``.
"""
from __future__ import annotations

import numbers

import numpy as np

from autograd_core import Tensor

from . import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "NLLLoss", "KLDivLoss", "MultiMarginLoss", "HingeLoss", "SmoothL1Loss", "HuberLoss",
           "SoftMarginLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss",
           "MarginRankingLoss", "TripletMarginLoss", "GaussianNLLLoss", "PoissonNLLLoss"]


class _Loss(Module):
    _reductions = ("mean", "sum", "none")

    def __init__(self, reduction="mean", *, size_average=None, reduce=None):
        super().__init__()
        self.reduction = F._checked_reduction(reduction, type(self).__name__, size_average,
                                              reduce, self._reductions)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean", *, size_average=None, reduce=None):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
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


# ---------------------------------------------------------------- more losses
# (torch.nn's constructors: ``size_average``/``reduce`` are PyTorch's deprecated
# spellings of ``reduction``, accepted where PyTorch has them)

class SmoothL1Loss(_Loss):
    """``SmoothL1Loss(size_average=None, reduce=None, reduction='mean', beta=1.0)``:
    0.5·d²/β where |d| < β, |d| − 0.5·β elsewhere (``F.smooth_l1_loss``).

        >>> nn.SmoothL1Loss(beta=0.5)(np.array([0.25, 2.0]), np.array([0.0, 0.0]))  # (0.0625 + 1.75) / 2
        Tensor(0.90625)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        """The smooth L1 loss of ``input`` against ``target``."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """``HuberLoss(reduction='mean', delta=1.0)``: 0.5·d² where |d| < δ,
    δ·(|d| − 0.5·δ) elsewhere (``F.huber_loss``).

        >>> nn.HuberLoss(delta=2.0)(np.array([0.5, 3.0]), np.array([0.0, 0.0]))   # (0.125 + 4) / 2
        Tensor(2.0625)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        """The Huber loss of ``input`` against ``target``."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_Loss):
    """``SoftMarginLoss(size_average=None, reduce=None, reduction='mean')``:
    log(1 + exp(−y·x)) for targets ±1 (``F.soft_margin_loss``)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average=size_average, reduce=reduce)

    def forward(self, input, target):  # noqa: A002
        """The soft margin loss of scores ``input`` for ±1 targets."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """``MultiLabelSoftMarginLoss(weight=None, size_average=None, reduce=None,
    reduction='mean')``: per sample
    −(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)] for 0/1 targets
    (``F.multilabel_soft_margin_loss``); ``weight`` is a buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)

    def forward(self, input, target):  # noqa: A002
        """The loss of scores ``input`` (N, C) for 0/1 targets (N, C)."""
        return F.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``CosineEmbeddingLoss(margin=0.0, size_average=None, reduce=None,
    reduction='mean')``: 1 − cos(x1, x2) for y = 1, max(0, cos(x1, x2) − margin) for
    y = −1 (``F.cosine_embedding_loss``)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The loss of the pairs (input1[n], input2[n]) for ±1 targets."""
        return F.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``MarginRankingLoss(margin=0.0, size_average=None, reduce=None,
    reduction='mean')``: max(0, −y·(x1 − x2) + margin) (``F.margin_ranking_loss``)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The ranking loss of input1 against input2 for ±1 targets."""
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``TripletMarginLoss(margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
    reduce=None, reduction='mean')``: max(0, margin + d(a, p) − d(a, n)) with the
    p-norm distance (``F.triplet_margin_loss``)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin!r}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        """The loss of the triplets (anchor, positive, negative)."""
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                     self.eps, self.swap, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """``GaussianNLLLoss(*, full=False, eps=1e-6, reduction='mean')``: the negative
    log-likelihood of the target under N(input, var); ``forward(input, target,
    var)`` (``F.gaussian_nll_loss``).

        >>> nn.GaussianNLLLoss()(np.zeros(2), np.ones(2), np.ones(2))      # ½(log 1 + 1²/1)
        Tensor(0.5)
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):  # noqa: A002
        """−log N(target; input, var), up to the constant unless ``full``."""
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """``PoissonNLLLoss(log_input=True, full=False, size_average=None, eps=1e-8,
    reduce=None, reduction='mean')``: the negative log-likelihood of counts under
    Poisson(λ), with input log λ (``log_input``) or λ (``F.poisson_nll_loss``)."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        """−log Poisson(target; λ) of the rates given by ``log_input``."""
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full,
                                  eps=self.eps, reduction=self.reduction)
