"""Activation layers, as ``torch.nn``: each holds its arguments (under torch's
names and defaults, with torch's ``repr``) and calls the ``nn.functional``
function of the same name, so module and function always agree.

``inplace=True`` (wherever torch has it) writes the result into the input
tensor, as torch does: the same values, the input overwritten (refused on a
leaf that requires grad). It saves no memory here: the engine computes the
new value and copies it in. ``PReLU`` is the one activation with a parameter.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from autograd_core import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _param_dtype, _to_tensor

__all__ = ["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softplus", "Softmax", "LogSoftmax",
           "Softmin", "Softmax2d", "GELU", "SiLU", "Mish", "Softsign", "ELU", "SELU", "CELU",
           "Hardtanh", "ReLU6", "Hardswish", "Hardsigmoid", "LogSigmoid", "Tanhshrink",
           "Softshrink", "Hardshrink", "Threshold", "GLU", "PReLU"]


def _inplace(module, lead=""):
    """torch's ``extra_repr`` tail: "inplace=True" only when set."""
    return f"{lead}inplace=True" if module.inplace else ""


class _InplaceFlag(Module):
    """An activation whose only argument is torch's ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return _inplace(self)


class ReLU(_InplaceFlag):
    """``ReLU(inplace=False)``: max(x, 0).

        >>> nn.ReLU()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([0., 0., 0., 1., 3.], dtype=float32)
        >>> nn.ReLU(inplace=True)
        ReLU(inplace=True)
    """

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)


class LeakyReLU(Module):
    """``LeakyReLU(negative_slope=0.01, inplace=False)``: x for x > 0, else negative_slope·x.

        >>> nn.LeakyReLU(0.1)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.2 , -0.05,  0.  ,  1.  ,  3.  ], dtype=float32)
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace(self, ', ')}"


class Tanh(Module):
    """tanh x.

        >>> nn.Tanh()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.9640276, -0.4621172,  0.       ,  0.7615942,  0.9950548], dtype=float32)
    """

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e^{−x}), computed without overflow at ±1000.

        >>> nn.Sigmoid()(ag.tensor([-1000.0, 0.0, 1000.0]))
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """

    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    """``Softplus(beta=1.0, threshold=20.0)``: (1/β)·log(1 + e^{βx}), and x where βx > threshold.

        >>> nn.Softplus()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([0.126928 , 0.474077 , 0.6931472, 1.3132616, 3.0485873], dtype=float32)
        >>> nn.Softplus(beta=2.0, threshold=1.0)(ag.tensor([0.0, 5.0]))    # linear past threshold/β
        Tensor([0.3465736, 5.       ], dtype=float32)
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _AlongDim(Module):
    """A normalisation along ``dim`` (None: PyTorch's legacy implicit dimension)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """``Softmax(dim=None)``: exp(x_i) / Σ_j exp(x_j) along ``dim``. As torch,
    ``dim=None`` picks the legacy implicit dimension (0 for 0-, 1- and 3-D inputs,
    else 1); give ``dim`` explicitly.

        >>> nn.Softmax(dim=-1)(ag.tensor([[1.0, 2.0]]))
        Tensor([[0.2689414, 0.7310586]], dtype=float32)
    """

    def forward(self, x):
        return F.softmax(x, self.dim)


class LogSoftmax(_AlongDim):
    """``LogSoftmax(dim=None)``: x_i − log Σ_j exp(x_j) along ``dim``, stable at ±1000.

        >>> nn.LogSoftmax(dim=1)(ag.tensor([[0.0, 0.0]]))      # log ½
        Tensor([[-0.6931472, -0.6931472]], dtype=float32)
    """

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Softmin(_AlongDim):
    """``Softmin(dim=None)``: softmax(−x) along ``dim``.

        >>> nn.Softmin(dim=1)(ag.tensor([[1.0, 2.0]]))          # softmax(−x)
        Tensor([[0.7310586, 0.2689414]], dtype=float32)
    """

    def forward(self, x):
        return F.softmin(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channels at every position: dim −3 of (N, C, H, W) or (C, H, W).

        >>> out = nn.Softmax2d()(ag.randn(2, 3, 4, 4))            # over the channels, per pixel
        >>> out.shape, bool(np.allclose(out.sum(dim=1).data, 1.0))
        ((2, 3, 4, 4), True)
    """

    def forward(self, x):
        x = _to_tensor(x, fn="Softmax2d")
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got shape {x.shape}")
        return F.softmax(x, -3)


class GELU(Module):
    """``GELU(approximate='none')``: x·Φ(x); ``'tanh'``: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).

        >>> nn.GELU()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.04550027, -0.15426877,  0.        ,  0.8413447 ,  2.9959502 ], dtype=float32)
        >>> nn.GELU(approximate="tanh")(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.04540235, -0.15428598,  0.        ,  0.841192  ,  2.9963627 ], dtype=float32)
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceFlag):
    """``SiLU(inplace=False)``: x·σ(x).

        >>> nn.SiLU()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.23840584, -0.18877034,  0.        ,  0.7310586 ,  2.8577223 ], dtype=float32)
    """

    def forward(self, x):
        return F.silu(x, inplace=self.inplace)


class Mish(_InplaceFlag):
    """``Mish(inplace=False)``: x·tanh(softplus(x)).

        >>> nn.Mish()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.25250146, -0.22074378,  0.        ,  0.8650984 ,  2.986535  ], dtype=float32)
    """

    def forward(self, x):
        return F.mish(x, inplace=self.inplace)


class Hardswish(_InplaceFlag):
    """``Hardswish(inplace=False)``: x·relu6(x + 3)/6.

        >>> nn.Hardswish()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.33333334, -0.20833333,  0.        ,  0.6666667 ,  3.        ], dtype=float32)
    """

    def forward(self, x):
        return F.hardswish(x, inplace=self.inplace)


class Hardsigmoid(_InplaceFlag):
    """``Hardsigmoid(inplace=False)``: relu6(x + 3)/6.

        >>> nn.Hardsigmoid()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([0.16666667, 0.41666666, 0.5       , 0.6666667 , 1.        ], dtype=float32)
    """

    def forward(self, x):
        return F.hardsigmoid(x, inplace=self.inplace)


class SELU(_InplaceFlag):
    """``SELU(inplace=False)``: scale·(max(0, x) + min(0, α(eˣ − 1))), α ≈ 1.6733,
    scale ≈ 1.0507.

        >>> nn.SELU()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-1.5201665, -0.6917582,  0.       ,  1.050701 ,  3.152103 ], dtype=float32)
    """

    def forward(self, x):
        return F.selu(x, inplace=self.inplace)


class Softsign(Module):
    """x / (1 + |x|).

        >>> nn.Softsign()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.6666667 , -0.33333334,  0.        ,  0.5       ,  0.75      ], dtype=float32)
    """

    def forward(self, x):
        return F.softsign(x)


class LogSigmoid(Module):
    """log σ(x), exact for every x.

        >>> nn.LogSigmoid()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-2.126928  , -0.974077  , -0.6931472 , -0.31326163, -0.04858735], dtype=float32)
    """

    def forward(self, x):
        return F.logsigmoid(x)


class Tanhshrink(Module):
    """x − tanh x.

        >>> nn.Tanhshrink()(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-1.0359724 , -0.0378828 ,  0.        ,  0.23840582,  2.0049453 ], dtype=float32)
    """

    def forward(self, x):
        return F.tanhshrink(x)


class _Alpha(Module):
    """An exponential unit with torch's ``alpha`` and ``inplace``."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self, ', ')}"


class ELU(_Alpha):
    """``ELU(alpha=1.0, inplace=False)``: x for x > 0, else α(eˣ − 1).

        >>> nn.ELU(alpha=1.0)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-0.86466473, -0.39346933,  0.        ,  1.        ,  3.        ], dtype=float32)
    """

    def forward(self, x):
        return F.elu(x, self.alpha, inplace=self.inplace)


class CELU(_Alpha):
    """``CELU(alpha=1.0, inplace=False)``: x for x > 0, else α(e^{x/α} − 1).

        >>> nn.CELU(alpha=2.0)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-1.2642411 , -0.44239843,  0.        ,  1.        ,  3.        ], dtype=float32)
    """

    def forward(self, x):
        return F.celu(x, self.alpha, inplace=self.inplace)


class Hardtanh(Module):
    """``Hardtanh(min_val=-1.0, max_val=1.0, inplace=False)``: x clipped to
    [min_val, max_val]. (torch's deprecated ``min_value``/``max_value`` still work,
    with a warning.)

        >>> nn.Hardtanh(-1.0, 2.0)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-1. , -0.5,  0. ,  1. ,  2. ], dtype=float32)
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("Hardtanh: keyword argument min_value is deprecated and renamed "
                          "to min_val", FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("Hardtanh: keyword argument max_value is deprecated and renamed "
                          "to max_val", FutureWarning, stacklevel=2)
            max_val = max_value
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                             f"min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, inplace=self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self, ', ')}"


class ReLU6(Hardtanh):
    """``ReLU6(inplace=False)``: min(max(x, 0), 6) (a Hardtanh from 0 to 6, as torch).

        >>> nn.ReLU6()(ag.tensor([-1.0, 3.0, 8.0]))
        Tensor([0., 3., 6.], dtype=float32)
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self)


class _Lambd(Module):
    """A shrinkage with torch's threshold ``lambd``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Lambd):
    """``Softshrink(lambd=0.5)``: x − λ for x > λ, x + λ for x < −λ, else 0.

        >>> nn.Softshrink(0.5)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-1.5,  0. ,  0. ,  0.5,  2.5], dtype=float32)
    """

    def forward(self, x):
        return F.softshrink(x, self.lambd)


class Hardshrink(_Lambd):
    """``Hardshrink(lambd=0.5)``: x where |x| > λ, else 0.

        >>> nn.Hardshrink(0.5)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-2.,  0.,  0.,  1.,  3.], dtype=float32)
    """

    def forward(self, x):
        return F.hardshrink(x, self.lambd)


class Threshold(Module):
    """``Threshold(threshold, value, inplace=False)``: x where x > threshold, else value.

        >>> nn.Threshold(0.5, -9.0)(ag.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]))
        Tensor([-9., -9., -9.,  1.,  3.], dtype=float32)
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, inplace=self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace(self, ', ')}"


class GLU(Module):
    """``GLU(dim=-1)``: a ⊗ σ(b), a and b the halves of the input along ``dim``.

        >>> nn.GLU(dim=-1)(ag.tensor([[1.0, 2.0, 0.0, 100.0]]))    # a ⊙ σ(b), halves a | b
        Tensor([[0.5, 2. ]], dtype=float32)
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """``PReLU(num_parameters=1, init=0.25, dtype=None)``: x for x > 0, a·x
    otherwise, with the slope a learnt: ``weight`` of shape (num_parameters,),
    filled with ``init``; one slope, or one per channel (dimension 1 of the input).

        >>> act = nn.PReLU(16)                      # for inputs (N, 16, ...)
        >>> act.weight.shape
        (16,)
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (
                numbers.Integral, np.integer)) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters, self.init = int(num_parameters), init
        dt = _param_dtype(dtype, "PReLU")
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dt), dtype=dt)

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = _to_tensor(x, self.weight.dtype, "PReLU")
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
