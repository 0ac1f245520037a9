"""Parameter initialisation, in place, with PyTorch's names, signatures and formulas.

Every function fills ``tensor`` (a Tensor or Parameter — its ``.data`` is
overwritten in place — or a floating ndarray) and returns it. Values are drawn
in float64 and rounded to the tensor's dtype.

Random numbers come from the library's one global generator,
``autograd_core.default_generator`` (as in PyTorch), seeded by
``autograd_core.manual_seed(seed)`` — ``nn.init.manual_seed`` is the same
function. Every function also takes ``generator=`` (an ``autograd_core.Generator``
or a ``numpy.random.Generator``) to use instead. As in PyTorch, the global
generator starts from a fixed seed, so a script that builds the same model
twice in a fresh process gets the same weights. Layers (``nn.Linear``,
``nn.Conv2d``), ``nn.Dropout``, data shuffling and ``ag.rand``/``ag.randn``/...
draw from it too.

Fans (``_calculate_fan_in_and_fan_out``): for a weight of shape
``(out, in, *kernel)`` the receptive field is ``prod(kernel)``,
``fan_in = in · receptive`` and ``fan_out = out · receptive``.

=====================  ============================================
``xavier_uniform_``    U(−a, a),  a = gain · √(6 / (fan_in + fan_out))
``xavier_normal_``     N(0, σ²),  σ = gain · √(2 / (fan_in + fan_out))
``kaiming_uniform_``   U(−b, b),  b = gain · √(3 / fan)
``kaiming_normal_``    N(0, σ²),  σ = gain / √fan
=====================  ============================================

with ``fan`` = fan_in or fan_out (``mode``) and ``gain = calculate_gain(nonlinearity, a)``.
PyTorch's default for ``Linear`` and ``Conv2d`` weights is
``kaiming_uniform_(w, a=√5)``, which gives U(±1/√fan_in).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core import random as _random
from autograd_core.random import default_seed, manual_seed

__all__ = [
    "manual_seed", "get_generator", "default_seed",
    "calculate_gain", "_calculate_fan_in_and_fan_out", "_calculate_correct_fan",
    "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "default_layer_init_",
]


def get_generator(generator=None, fn="nn.init"):
    """The ``numpy.random.Generator`` to draw from: ``generator`` if given (an
    ``autograd_core.Generator`` or a ``numpy.random.Generator``), else the global
    generator ``autograd_core.default_generator``; ``fn`` names the caller in errors.

        >>> nn.init.get_generator() is ag.default_generator
        True
        >>> g = ag.Generator().manual_seed(1)
        >>> nn.init.get_generator(g) is g
        True
    """
    return _random.get_generator(generator, fn)


# ---------------------------------------------------------------- helpers

def _array_of(tensor, fn):
    """The ndarray to fill in place."""
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{fn}: expected a Tensor, Parameter or ndarray, got {type(tensor).__name__}")
    if arr.dtype.kind != "f":
        raise TypeError(f"{fn}: can only fill a floating-point tensor, got dtype {arr.dtype}")
    return arr


def _fill(tensor, values, fn):
    arr = _array_of(tensor, fn)
    arr[...] = values
    return tensor


def _shape(tensor):
    return tuple(np.shape(tensor.data if isinstance(tensor, Tensor) else tensor))


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch.

        >>> nn.init._calculate_fan_in_and_fan_out(ag.empty(16, 3, 5, 5))    # in·k², out·k²
        (75, 400)
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"_calculate_fan_in_and_fan_out: fan in and fan out can not be computed "
                         f"for a tensor with fewer than 2 dimensions (shape {shape})")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    """fan_in or fan_out of a weight by ``mode`` ('fan_in' or 'fan_out'), as PyTorch.

        >>> nn.init._calculate_correct_fan(ag.empty(16, 3, 5, 5), "fan_out")
        400
    """
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


_LINEAR_GAIN_1 = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: √2;
    leaky_relu: √(2 / (1 + slope²)) with slope = ``param`` (default 0.01);  selu: 3/4.

        >>> nn.init.calculate_gain("tanh"), nn.init.calculate_gain("relu")
        (1.6666666666666667, 1.4142135623730951)
        >>> nn.init.calculate_gain("leaky_relu", 0.2)
        1.3867504905630728
    """
    if nonlinearity in _LINEAR_GAIN_1:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


# ---------------------------------------------------------------- fillers

def _by_method(tensor, fn, *args, generator=None):
    """``tensor.<fn>(*args, generator=generator)`` under no_grad (an ndarray through a
    Tensor sharing its memory): the Tensor method holds the sampling, in one place."""
    arr = _array_of(tensor, fn)
    target = tensor if isinstance(tensor, Tensor) else ag.from_numpy(arr)
    with ag.no_grad():
        getattr(target, fn)(*args, generator=generator)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b) (``Tensor.uniform_``: float64 draws rounded to the dtype).

        >>> w = ag.empty(3, 5)
        >>> _ = nn.init.uniform_(w, -1.0, 1.0)
        >>> bool((w >= -1).all() and (w < 1).all())
        True
    """
    return _by_method(tensor, "uniform_", a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std²) (``Tensor.normal_``: float64 draws rounded to the dtype).

        >>> w = ag.empty(3, 5)
        >>> nn.init.normal_(w, mean=2.0, std=0.0)      # std 0: the mean
        Tensor([[2., 2., 2., 2., 2.],
                [2., 2., 2., 2., 2.],
                [2., 2., 2., 2., 2.]], dtype=float32)
    """
    return _by_method(tensor, "normal_", mean, std, generator=generator)


def constant_(tensor, val):
    """Fill with ``val``.

        >>> w = ag.empty(3, 5)
        >>> nn.init.constant_(w, 0.5)[0]
        Tensor([0.5, 0.5, 0.5, 0.5, 0.5], dtype=float32)
    """
    return _fill(tensor, val, "constant_")


def zeros_(tensor):
    """Fill with zeros, as ``torch.nn.init.zeros_``; returns the tensor.

        >>> nn.init.zeros_(ag.empty(2, 2))
        Tensor([[0., 0.],
                [0., 0.]], dtype=float32)
    """
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor):
    """Fill with ones, as ``torch.nn.init.ones_``; returns the tensor.

        >>> nn.init.ones_(ag.empty(2, 2))
        Tensor([[1., 1.],
                [1., 1.]], dtype=float32)
    """
    return _fill(tensor, 1.0, "ones_")


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix.

        >>> nn.init.eye_(ag.empty(2, 3))
        Tensor([[1., 0., 0.],
                [0., 1., 0.]], dtype=float32)
    """
    shape = _shape(tensor)
    if len(shape) != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {shape}")
    return _fill(tensor, np.eye(*shape), "eye_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(±gain·√(6/(fan_in+fan_out))).

        >>> w = ag.empty(3, 5)
        >>> _ = nn.init.xavier_uniform_(w)
        >>> bound = (6 / (5 + 3)) ** 0.5                 # fan_in 5, fan_out 3
        >>> bool((w.abs() <= bound).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, σ²), σ = gain·√(2/(fan_in+fan_out)).

        >>> w = nn.init.xavier_normal_(ag.empty(200, 300))
        >>> round(float(w.std()), 2), round((2 / (200 + 300)) ** 0.5, 2)     # ≈ σ
        (0.06, 0.06)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(±gain·√(3/fan)); ``a`` is the leaky-ReLU slope.
    A tensor with no elements is left alone (as PyTorch, which only warns).

        >>> w = ag.empty(3, 5)
        >>> _ = nn.init.kaiming_uniform_(w, nonlinearity="relu")
        >>> bool((w.abs() <= 2 ** 0.5 * (3 / 5) ** 0.5).all())     # gain·√(3/fan_in)
        True
    """
    if 0 in _shape(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, σ²), σ = gain/√fan.

        >>> w = nn.init.kaiming_normal_(ag.empty(400, 100), nonlinearity="relu")
        >>> round(float(w.std()), 2), round((2 / 100) ** 0.5, 2)     # ≈ √2/√fan_in
        (0.14, 0.14)
    """
    if 0 in _shape(tensor):
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix (rows flattened past dim 0), times gain.

        >>> q = nn.init.orthogonal_(ag.empty(3, 5))
        >>> bool(np.allclose((q @ q.T).data, np.eye(3), atol=1e-6))    # orthonormal rows
        True
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = get_generator(generator, "orthogonal_").normal(size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the distribution uniform (Haar)
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape), "orthogonal_")


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=√5) on the
    weight, which is U(±1/√fan_in), and U(±1/√fan_in) on the bias.

        >>> layer = nn.Linear(4, 2)
        >>> _ = nn.init.default_layer_init_(layer.weight, layer.bias)
        >>> bool((layer.weight.abs() <= 0.5).all() and (layer.bias.abs() <= 0.5).all())   # 1/√4
        True
    """
    import math
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
    return weight
