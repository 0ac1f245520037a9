"""Utilities with PyTorch's paths: ``autograd_core.utils.data`` is ``torch.utils.data``."""
from . import data

__all__ = ["data"]
