"""autograd_core: reverse- and forward-mode automatic differentiation on NumPy.

    >>> import autograd_core as ag
    >>> x = ag.Tensor(2.0, requires_grad=True)
    >>> y = x * x + ag.sin(x)
    >>> y.backward()
    >>> x.grad          # 2x + cos x
    Tensor(3.58385316)
"""
import sys as _sys

from ._tensor import Tensor
from .graph import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, is_anomaly_enabled,
                    detect_anomaly, forward_ad, retain_grads, AnomalyError)
from .ops import *  # noqa: F401,F403  (the module functions; also the Tensor methods)
from .ops import __all__ as _ops_all
from . import autograd
from .testing import gradcheck, gradgradcheck, GradcheckError
from . import functional, viz
from .serialization import save, load, CheckpointError
from .interop import from_dlpack

# PyTorch's dtypes, creation functions and random numbers. ``tensor`` is the
# function (torch.tensor); the Tensor class lives in ``_tensor``.
from . import dtypes, random, devices, cuda
from .dtypes import (float16, float32, float64, half, float, double, int8, int16, int32, int,  # noqa: A004
                     int64, short, long, uint8, bool, complex64, complex128, cfloat, cdouble,
                     get_default_dtype, set_default_dtype, is_floating_point, is_complex)
from .devices import device, DeviceError
from .random import (Generator, default_generator, manual_seed, seed, initial_seed,
                     get_rng_state, set_rng_state)
from .creation import (tensor, from_numpy, as_tensor, zeros, ones, full, empty, eye, arange,
                       linspace, logspace, zeros_like, ones_like, full_like, empty_like,
                       rand, randn, randint, randperm, normal, bernoulli, multinomial,
                       rand_like, randn_like, randint_like)
from . import utils
from .compiler import compile, CompileError  # noqa: A004 (torch.compile)
from . import onnx  # autograd_core.onnx.export (the onnx package is imported on use)

# ``autograd_core.autograd.functional`` is ``autograd_core.functional`` (torch's path).
autograd.functional = functional
_sys.modules[__name__ + ".autograd.functional"] = functional

__version__ = "0.2.0"

__all__ = [
    "Tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "is_anomaly_enabled", "detect_anomaly", "forward_ad", "retain_grads", "AnomalyError",
    *_ops_all,
    "autograd", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "viz",
    "save", "load", "CheckpointError", "from_dlpack", "compile", "CompileError",
    # ("bool", "float" and "int" are left out: a star import would shadow the builtins)
    "dtypes", "random", "devices", "cuda", "utils", "device", "DeviceError",
    "float16", "float32", "float64", "half", "double", "int8", "int16", "int32", "int64",
    "short", "long", "uint8", "complex64", "complex128", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "is_floating_point", "is_complex",
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state",
    "tensor", "from_numpy", "as_tensor", "zeros", "ones", "full", "empty", "eye", "arange",
    "linspace", "logspace", "zeros_like", "ones_like", "full_like", "empty_like",
    "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
    "rand_like", "randn_like", "randint_like",
]
