"""``CosineSimilarity`` and ``PairwiseDistance``: the distance functions of
``nn.functional`` as modules, with PyTorch's names, arguments and defaults."""
from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """``CosineSimilarity(dim=1, eps=1e-8)``: x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps))
    along ``dim`` (``F.cosine_similarity``).

        >>> nn.CosineSimilarity()(ag.randn(4, 8), ag.randn(4, 8)).shape
        (4,)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        """The cosine similarity of x1 and x2 along ``dim``."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``PairwiseDistance(p=2.0, eps=1e-6, keepdim=False)``: ‖x1 − x2 + eps‖_p over the
    last axis (``F.pairwise_distance``).

        >>> nn.PairwiseDistance()(ag.zeros(4, 8), ag.ones(4, 8)).shape
        (4,)
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim     # PyTorch's attribute names

    def forward(self, x1, x2):
        """The p-norm distance of x1 and x2 over the last axis."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
