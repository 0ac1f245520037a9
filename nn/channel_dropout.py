"""``Dropout1d`` and ``Dropout2d``: dropout of whole channels, as PyTorch's layers
(a separate module because they extend ``layers.Dropout``, whose constructor,
generator handling and repr they share)."""
from __future__ import annotations

from . import functional as F
from .layers import Dropout

__all__ = ["Dropout1d", "Dropout2d"]


class Dropout1d(Dropout):
    """``Dropout1d(p=0.5, inplace=False, seed=None, generator=None)``, as
    ``torch.nn.Dropout1d``: in training mode each channel x[n, c, :] of an (N, C, L)
    or (C, L) input is zeroed with probability p, the others scaled by 1/(1−p);
    the identity in eval mode. ``seed``/``generator`` as in ``Dropout``.

        >>> nn.Dropout1d(0.2)(np.ones((4, 8, 16))).shape
        (4, 8, 16)
    """

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training, self.inplace, generator=self.generator)


class Dropout2d(Dropout):
    """``Dropout2d(p=0.5, inplace=False, seed=None, generator=None)``, as
    ``torch.nn.Dropout2d``: in training mode each feature map x[n, c] of an
    (N, C, H, W) input is zeroed with probability p, the others scaled by
    1/(1−p) (a 3-D input is read as (N, C, L), with PyTorch's warning); the
    identity in eval mode. ``seed``/``generator`` as in ``Dropout``.

        >>> nn.Dropout2d(0.25)(np.ones((4, 8, 5, 5))).shape
        (4, 8, 5, 5)
    """

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace, generator=self.generator)
