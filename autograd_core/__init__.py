"""autograd_core: reverse- and forward-mode automatic differentiation on NumPy.

    >>> import autograd_core as ag
    >>> x = ag.Tensor(2.0, requires_grad=True)
    >>> y = x * x + ag.sin(x)
    >>> y.backward()
    >>> x.grad          # 2x + cos x
    Tensor(3.58385316)
"""
import sys as _sys

from .tensor import Tensor
from .graph import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, is_anomaly_enabled,
                    detect_anomaly, forward_ad, retain_grads, AnomalyError)
from .ops import *  # noqa: F401,F403  (the module functions; also the Tensor methods)
from .ops import __all__ as _ops_all
from . import autograd
from .testing import gradcheck, gradgradcheck, GradcheckError
from . import functional, viz
from .serialization import save, load, CheckpointError
from .interop import from_dlpack

# ``autograd_core.autograd.functional`` is ``autograd_core.functional`` (torch's path).
autograd.functional = functional
_sys.modules[__name__ + ".autograd.functional"] = functional

__version__ = "0.2.0"

__all__ = [
    "Tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "is_anomaly_enabled", "detect_anomaly", "forward_ad", "retain_grads", "AnomalyError",
    *_ops_all,
    "autograd", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "viz",
    "save", "load", "CheckpointError", "from_dlpack",
]
