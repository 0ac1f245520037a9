"""Layers: ``Linear``, activations, ``Flatten``, ``Dropout``, ``BatchNorm1d``.

Each ``forward`` is a handful of engine ops (``Linear`` is ``x @ W.T + b``) so
that the engine, not Python, does the work. Parameters are float32 unless a
``dtype=`` is given (an extension, e.g. ``np.float64`` for gradient checks).
Inputs may be Tensors or arrays; a layer with parameters converts an array
to its parameters' dtype.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

import autograd_core as ag

from autograd_core import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _param_dtype, _to_tensor

__all__ = ["Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Softplus", "Identity", "Flatten", "Dropout", "BatchNorm1d"]


def _dtype_repr(dt):
    return "" if dt == np.float32 else f", dtype={dt}"


class Linear(Module):
    """``Linear(in_features, out_features, bias=True, dtype=None)``: y = x Wᵀ + b.

    ``weight`` (out_features, in_features) and ``bias`` (out_features,), both
    U(±1/√in_features): PyTorch's default, ``kaiming_uniform_(a=√5)``.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = _param_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt), dtype=dt)
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt), dtype=dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        w = self.weight
        if not isinstance(x, Tensor):
            x = _to_tensor(x, w.dtype, "Linear")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features="
                             f"{self.out_features}): input of shape {x.shape} must have "
                             f"{self.in_features} features in its last dimension")
        return ag.linear(x, w, self.bias)  # one fused node: x Wᵀ + b

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}{_dtype_repr(self.weight.dtype)}")


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # accepted for compatibility; ops never run in place

    def forward(self, x):
        return (x if isinstance(x, Tensor) else _to_tensor(x, fn="ReLU")).relu()


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x):
        return (x if isinstance(x, Tensor) else _to_tensor(x, fn="Tanh")).tanh()


class Sigmoid(Module):
    """1 / (1 + e^{−x}), computed without overflow at ±1000."""

    def forward(self, x):
        return (x if isinstance(x, Tensor) else _to_tensor(x, fn="Sigmoid")).sigmoid()


class Softplus(Module):
    """(1/β)·log(1 + e^{βx})."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (default -1, the class axis of (N, C))."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (default -1), stable at ±1000."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input (any constructor arguments are ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens dimensions ``start_dim`` … ``end_dim`` into one: (N, C, H, W) → (N, C·H·W)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = x if isinstance(x, Tensor) else _to_tensor(x, fn="Flatten")
        nd = max(x.ndim, 1)
        start, end = self.start_dim, self.end_dim
        if not (-nd <= start < nd and -nd <= end < nd):
            raise ValueError(f"Flatten(start_dim={start}, end_dim={end}): dimension out of range "
                             f"for an input of shape {x.shape}")
        start, end = start % nd, end % nd
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {x.shape}")
        if x.ndim == 0:
            return x.reshape(1)
        shape = x.shape
        return x.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """``Dropout(p=0.5, inplace=False, seed=None, generator=None)``: inverted
    dropout in training mode (zero with probability p, scale survivors by
    1/(1−p)); the identity in eval mode.

    Masks come from the global generator (``autograd_core.manual_seed`` seeds
    it), or from this layer's own stream: ``generator=`` (an
    ``autograd_core.Generator`` or ``numpy.random.Generator``), or ``seed=``
    (an extension: ``Generator().manual_seed(seed)``, the stream of
    ``np.random.default_rng(seed)``)."""

    def __init__(self, p=0.5, inplace=False, seed=None, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p!r}")
        if seed is not None and generator is not None:
            raise ValueError("Dropout: give seed or generator, not both")
        self.p = float(p)
        self.inplace = inplace
        if seed is not None:
            generator = ag.Generator().manual_seed(seed)
        elif generator is not None:
            generator = init.get_generator(generator, "Dropout")
        self.generator = generator

    def forward(self, x):
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class BatchNorm1d(Module):
    """``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, dtype=None)`` over inputs (N, C) or (N, C, L).

    Training: y = (x − μ_B)/√(σ²_B + eps)·γ + β with the batch mean and the
    biased batch variance; the buffers ``running_mean``/``running_var`` move by
    ``momentum`` towards μ_B and the *unbiased* variance (``momentum=None``:
    a cumulative average), and ``num_batches_tracked`` counts batches.
    Eval: the running statistics are used. Without ``track_running_stats``
    batch statistics are always used. γ = 1, β = 0 initially.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (numbers.Integral, np.integer)) \
                or num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be a positive int, got {num_features!r}")
        self.num_features = int(num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = _param_dtype(dtype, "BatchNorm1d")
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt), dtype=dt)
            self.bias = Parameter(np.zeros(self.num_features, dtype=dt), dtype=dt)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        dt = self.weight.dtype if self.affine else (
            self.running_mean.dtype if self.track_running_stats else None)
        x = x if isinstance(x, Tensor) else _to_tensor(x, dt, "BatchNorm1d")
        if x.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D (N, C) or 3D (N, C, L) input, "
                             f"got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): input of shape {x.shape} has "
                             f"{x.shape[1]} channels in dimension 1")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        # Training updates the running buffers; eval reads them; without
        # track_running_stats they are None and batch statistics are used.
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
