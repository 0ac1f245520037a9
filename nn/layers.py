"""Layers: ``Linear``, ``Identity``, ``Flatten``, ``Unflatten``, ``Dropout``.

(The activations are in ``nn/activation.py``, the normalisation layers in
``nn/normalization.py``.)

Each ``forward`` is a handful of engine ops (``Linear`` is ``x @ W.T + b``) so
that the engine, not Python, does the work. Parameters have the default dtype
(``ag.get_default_dtype()``, float32 unless changed, as in torch) unless a
``dtype=`` is given (e.g. ``np.float64`` for gradient checks).
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
from .module import Module, Parameter, _dtype_repr, _param_dtype, _to_tensor

__all__ = ["Linear", "Identity", "Flatten", "Unflatten", "Dropout"]


class Linear(Module):
    """``Linear(in_features, out_features, bias=True, dtype=None)``: y = x Wᵀ + b.

    ``weight`` (out_features, in_features) and ``bias`` (out_features,), both
    U(±1/√in_features): PyTorch's default, ``kaiming_uniform_(a=√5)``.

        >>> layer = nn.Linear(3, 2)
        >>> layer
        Linear(in_features=3, out_features=2, bias=True)
        >>> layer(ag.ones(5, 3)).shape, tuple(layer.weight.shape), tuple(layer.bias.shape)
        ((5, 2), (2, 3), (2,))
        >>> with ag.no_grad():
        ...     _ = layer.weight.fill_(1.0)
        ...     _ = layer.bias.zero_()
        >>> layer(ag.tensor([[1.0, 2.0, 3.0]]))                 # x Wᵀ + b
        Tensor([[6., 6.]], dtype=float32, grad_fn=<linear>)
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


class Identity(Module):
    """Returns its input (any constructor arguments are ignored, as PyTorch).

        >>> x = ag.ones(2)
        >>> nn.Identity(54, unused="any")(x) is x               # arguments are ignored
        True
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens dimensions ``start_dim`` … ``end_dim`` into one: (N, C, H, W) → (N, C·H·W).

        >>> nn.Flatten()(ag.ones(2, 3, 4, 5)).shape             # from dim 1: the batch stays
        (2, 60)
        >>> nn.Flatten(0, -1)(ag.ones(2, 3)).shape
        (6,)
    """

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


class Unflatten(Module):
    """``Unflatten(dim, unflattened_size)``: dimension ``dim`` expanded into
    ``unflattened_size`` (whose product must be its size; one entry may be -1),
    the inverse of ``Flatten``: (N, 60) → (N, 3, 4, 5) with ``Unflatten(1, (3, 4, 5))``.

        >>> nn.Unflatten(1, (3, 4))(ag.ones(2, 12)).shape
        (2, 3, 4)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, (numbers.Integral, np.integer)):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        if isinstance(unflattened_size, (numbers.Integral, np.integer)) or not all(
                isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool)
                for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, "
                            f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else _to_tensor(x, fn="Unflatten")
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """``Dropout(p=0.5, inplace=False, seed=None, generator=None)``: inverted
    dropout in training mode (zero with probability p, scale survivors by
    1/(1−p)); the identity in eval mode.

    Masks come from the global generator (``autograd_core.manual_seed`` seeds
    it), or from this layer's own stream: ``generator=`` (an
    ``autograd_core.Generator`` or ``numpy.random.Generator``), or ``seed=``
    (an extension: ``Generator().manual_seed(seed)``, the stream of
    ``np.random.default_rng(seed)``). They are drawn by the engine
    (``F.dropout``), so a compiled training step draws a new mask from that
    stream on every call.

        >>> nn.Dropout(0.5)(ag.ones(2, 3)).shape
        (2, 3)
    """

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
        return F.dropout(x, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

