"""Utilities with PyTorch's paths: ``autograd_core.utils.data`` is ``torch.utils.data``.

    >>> from autograd_core.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(ag.arange(6.0), ag.arange(6)), batch_size=4)
    >>> [xb.shape for xb, yb in loader]
    [(4,), (2,)]
"""
from . import data

__all__ = ["data"]
