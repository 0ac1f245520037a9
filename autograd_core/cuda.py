"""``autograd_core.cuda``, as ``torch.cuda`` on a machine without a GPU.

autograd_core computes with NumPy on the CPU, so no CUDA device is ever
available. These functions let device-agnostic PyTorch code run unchanged:

    >>> device = "cuda" if ag.cuda.is_available() else "cpu"
    >>> device
    'cpu'
    >>> ag.cuda.manual_seed_all(0)                           # nothing to seed
"""
from __future__ import annotations

from .random import _check_seed

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available():
    """False: there is no CUDA device (autograd_core runs on the CPU only).

        >>> ag.cuda.is_available()
        False
        >>> "cuda" if ag.cuda.is_available() else "cpu"
        'cpu'
    """
    return False


def device_count():
    """0: the number of CUDA devices.

        >>> ag.cuda.device_count()
        0
    """
    return 0


def manual_seed(seed):
    """Nothing to seed without a CUDA device (PyTorch too ignores the call then);
    the seed is checked as ``ag.manual_seed`` checks it. Use ``ag.manual_seed``.

        >>> ag.cuda.manual_seed(0)                  # nothing to seed: returns None
        >>> ag.cuda.manual_seed(0.5)
        Traceback (most recent call last):
            ...
        TypeError: cuda.manual_seed: seed must be an int, got float 0.5
    """
    _check_seed(seed, "cuda.manual_seed")


def manual_seed_all(seed):
    """As ``manual_seed``: no CUDA device to seed.

        >>> ag.cuda.manual_seed_all(0)
    """
    _check_seed(seed, "cuda.manual_seed_all")
