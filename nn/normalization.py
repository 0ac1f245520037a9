"""Normalisation layers, as ``torch.nn``: ``BatchNorm1d/2d/3d``, ``LayerNorm``,
``GroupNorm``, ``RMSNorm``.

Parameter and buffer names, shapes, defaults and initial values are PyTorch's
(γ = ``weight`` = 1, β = ``bias`` = 0; BatchNorm's buffers ``running_mean`` = 0,
``running_var`` = 1, ``num_batches_tracked`` = 0), so a ``state_dict`` moves
between the two unchanged. Each ``forward`` is the matching ``nn.functional``
function; the running statistics are updated by in-place tensor ops under
``no_grad``, so a compiled training step keeps updating them.
"""
from __future__ import annotations

import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _param_dtype, _to_tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm"]


def _positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) \
            or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


def _register_affine(module, shape, dt, weight, bias):
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None for each
    absent one (``bias=None``: the layer has no bias at all, as RMSNorm)."""
    if weight:
        module.weight = Parameter(np.ones(shape, dtype=dt), dtype=dt)
    else:
        module.register_parameter("weight", None)
    if bias:
        module.bias = Parameter(np.zeros(shape, dtype=dt), dtype=dt)
    elif bias is not None:
        module.register_parameter("bias", None)


def _reset_affine(module):
    """weight = 1, bias = 0 (those the layer has): every normalisation layer's start."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


def _trailing_input(module, x):
    """x as a Tensor (an array takes the weight's dtype), checked to end with the
    module's ``normalized_shape``; the error names the layer."""
    name = type(module).__name__
    if not isinstance(x, Tensor):
        x = _to_tensor(x, None if module.weight is None else module.weight.dtype, name)
    shape = module.normalized_shape
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"{name}({shape}): expected an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {x.shape}")
    return x


class _BatchNorm(Module):
    """What BatchNorm1d, 2d and 3d share; they differ only in the input ranks accepted."""

    _ranks = ()            # accepted input dimensions
    _shape_text = ""       # as torch's message: "2D or 3D"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", name)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = _param_dtype(dtype, name)
        _register_affine(self, self.num_features, dt, self.affine, self.affine and bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            # a 0-d array, not a NumPy scalar: the compiler keeps it as state it updates
            self.register_buffer("num_batches_tracked", ag.zeros((), dtype=ag.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with ag.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _dtype(self):
        for t in (self.weight, self.running_mean):
            if t is not None:
                return t.dtype
        return None

    def forward(self, x):
        name = type(self).__name__
        x = x if isinstance(x, Tensor) else _to_tensor(x, self._dtype(), name)
        if x.ndim not in self._ranks:
            raise ValueError(f"{name}: expected {self._shape_text} input, got a "
                             f"{x.ndim}D input of shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): input of shape {x.shape} has "
                             f"{x.shape[1]} channels in dimension 1")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with ag.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average: 1/count, as a tensor
                momentum = (1.0 / self.num_batches_tracked).astype(self.running_mean.dtype)
        # Training updates the running buffers; eval reads them; without
        # track_running_stats they are None and batch statistics are used.
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, dtype=None, *, bias=True)`` over inputs (N, C) or (N, C, L).

    Training: y = (x − μ_B)/√(σ²_B + eps)·γ + β with the batch mean and the
    biased batch variance; the buffers ``running_mean``/``running_var`` move by
    ``momentum`` towards μ_B and the *unbiased* variance (``momentum=None``:
    a cumulative average), and ``num_batches_tracked`` counts batches.
    Eval: the running statistics are used. Without ``track_running_stats``
    batch statistics are always used. γ = 1, β = 0 initially (``bias=False``:
    no β, as torch 2.13).

        >>> bn = nn.BatchNorm1d(16)
        >>> bn(ag.randn(32, 16)).shape
        (32, 16)
    """

    _ranks, _shape_text = (2, 3), "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """``BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, dtype=None, *, bias=True)``: BatchNorm1d's statistics
    per channel of (N, C, H, W) inputs, over N, H and W.

        >>> nn.BatchNorm2d(8)(ag.randn(4, 8, 5, 5)).shape
        (4, 8, 5, 5)
    """

    _ranks, _shape_text = (4,), "4D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """``BatchNorm3d(num_features, ...)``: per channel of (N, C, D, H, W) inputs.

        >>> nn.BatchNorm3d(2)(ag.randn(3, 2, 4, 4, 4)).shape
        (3, 2, 4, 4, 4)
    """

    _ranks, _shape_text = (5,), "5D (N, C, D, H, W)"


class LayerNorm(Module):
    """``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
    dtype=None)``: y = (x − E[x])/√(Var[x] + eps)·γ + β over the trailing
    ``normalized_shape`` dimensions (biased variance), γ (``weight``) = 1 and β
    (``bias``) = 0 of shape ``normalized_shape``; the same in training and eval.

        >>> ln = nn.LayerNorm(64)
        >>> ln(ag.randn(16, 32, 64)).shape
        (16, 32, 64)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        dt = _param_dtype(dtype, "LayerNorm")
        affine = self.elementwise_affine
        _register_affine(self, self.normalized_shape, dt, affine, affine and bias)

    reset_parameters = _reset_affine

    def forward(self, x):
        return F.layer_norm(_trailing_input(self, x), self.normalized_shape, self.weight, self.bias,
                            self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """``GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, dtype=None, *,
    bias=True)``: the channels of (N, C, *) inputs in ``num_groups`` groups, each
    normalised over its channels and positions; then γ·x̂ + β per channel
    (``weight`` = 1, ``bias`` = 0, shape (C,)).

        >>> nn.GroupNorm(4, 16)(ag.randn(2, 16, 8, 8)).shape
        (2, 16, 8, 8)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None, *,
                 bias=True):
        super().__init__()
        self.num_groups = _positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _positive_int(num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = eps, bool(affine)
        dt = _param_dtype(dtype, "GroupNorm")
        _register_affine(self, self.num_channels, dt, self.affine, self.affine and bias)

    reset_parameters = _reset_affine

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = _to_tensor(x, None if self.weight is None else self.weight.dtype, "GroupNorm")
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an "
                             f"input (N, {self.num_channels}, *), got shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """``RMSNorm(normalized_shape, eps=None, elementwise_affine=True, dtype=None)``:
    y = x/√(mean(x²) + eps)·γ over the trailing ``normalized_shape`` dimensions
    (Zhang & Sennrich 2019), γ (``weight``) = 1; ``eps=None``: the machine epsilon
    of the input's dtype, as torch.

        >>> nn.RMSNorm(64)(ag.randn(8, 64)).shape
        (8, 64)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape, "RMSNorm")
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        dt = _param_dtype(dtype, "RMSNorm")
        _register_affine(self, self.normalized_shape, dt, self.elementwise_affine, None)

    reset_parameters = _reset_affine

    def forward(self, x):
        return F.rms_norm(_trailing_input(self, x), self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
