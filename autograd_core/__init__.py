"""autograd_core: reverse- and forward-mode automatic differentiation on NumPy.

    >>> import autograd_core as ag
    >>> x = ag.Tensor(2.0, requires_grad=True)
    >>> y = x * x + ag.sin(x)
    >>> y.backward()
    >>> x.grad          # 2x + cos x
"""
from .tensor import Tensor
from .graph import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                    detect_anomaly, forward_ad, retain_grads, AnomalyError)
from .ops import (as_tensor, exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu,
                  sum, mean, max, min, clip, softmax, log_softmax, logsumexp,
                  reshape, transpose, broadcast_to, reciprocal, detach,
                  matmul, linear, maximum, minimum, where, concatenate, stack)
from .testing import gradcheck, gradgradcheck, GradcheckError
from . import functional, viz
from .serialization import save, load, CheckpointError
from .interop import from_dlpack

__version__ = "0.1.0"

__all__ = [
    "Tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "forward_ad", "retain_grads", "AnomalyError",
    "as_tensor", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
    "sum", "mean", "max", "min", "clip", "softmax", "log_softmax", "logsumexp",
    "reshape", "transpose", "broadcast_to", "reciprocal", "detach",
    "matmul", "linear", "maximum", "minimum", "where", "concatenate", "stack",
    "gradcheck", "gradgradcheck", "GradcheckError", "functional", "viz",
    "save", "load", "CheckpointError",
]
