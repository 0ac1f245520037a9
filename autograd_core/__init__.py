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

# ---- helper "data": PyTorch's dtypes, creation functions, random numbers, utils.data ----
# `tensor` (the function, as torch.tensor) replaces the attribute that names the
# submodule autograd_core.tensor; `from .tensor import Tensor` still works (it
# reads sys.modules). `as_tensor` is torch's and replaces ops.as_tensor here.
from . import dtypes, random
from .dtypes import (float16, float32, float64, half, double, int8, int16, int32, int64,
                     short, long, uint8, bool, complex64, complex128,  # noqa: A004
                     get_default_dtype, set_default_dtype, is_floating_point)
from .random import (Generator, default_generator, manual_seed, seed, initial_seed,
                     get_rng_state, set_rng_state)
from .creation import (tensor, from_numpy, as_tensor, zeros, ones, full, empty, eye, arange,
                       linspace, logspace, zeros_like, ones_like, full_like, empty_like,
                       rand, randn, randint, randperm, normal, bernoulli, multinomial,
                       rand_like, randn_like, randint_like)
from . import utils
# ---- end of helper "data" ----

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
    # ---- helper "data" ("bool" is left out: a star import would shadow the builtin) ----
    "dtypes", "random", "utils",
    "float16", "float32", "float64", "half", "double", "int8", "int16", "int32", "int64",
    "short", "long", "uint8", "complex64", "complex128",
    "get_default_dtype", "set_default_dtype", "is_floating_point",
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state",
    "tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange",
    "linspace", "logspace", "zeros_like", "ones_like", "full_like", "empty_like",
    "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
    "rand_like", "randn_like", "randint_like",
    # ---- end of helper "data" ----
]
