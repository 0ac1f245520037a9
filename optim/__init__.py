"""optim: optimisers, learning-rate schedules, gradient clipping, early stopping.

PyTorch's API and update formulas (``optim.SGD``, ``optim.Adam``, ``optim.LBFGS``,
...), so the same start gives the same trajectory, plus second-order methods
(``Newton``, ``HessianFree``) built on the engine's exact Hessian-vector
products. Optimisers only read ``p.data``/``p.grad`` and update ``p.data`` in
place; gradients are reset and clipped by ``nn.utils`` (re-exported here as
``optim.clip_grad_norm_``). ``optim.lr_scheduler`` is ``torch.optim.lr_scheduler``.

    >>> model = nn.Linear(2, 1)
    >>> opt = optim.Adam(model.parameters(), lr=0.01)
    >>> x, y = ag.randn(16, 2), ag.randn(16, 1)
    >>> losses = []
    >>> for _ in range(20):
    ...     opt.zero_grad()
    ...     loss = F.mse_loss(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     losses.append(float(loss))
    >>> losses[-1] < losses[0]
    True
"""
from .optimizer import Optimizer, required
from .sgd import SGD
from .adaptive import Adagrad, Adadelta, RMSprop, Adam, AdamW
from .quasi_newton import LBFGS, BFGS, SR1, trust_region_subproblem
from .newton import Newton, closure_hvp, conjugate_gradient
from .hessian_free import HessianFree, gauss_newton_product
from .lr_scheduler import (LRScheduler, LambdaLR, StepLR, MultiStepLR, ExponentialLR,
                           CosineAnnealingLR, ReduceLROnPlateau, OneCycleLR)
from .utils import clip_grad_norm_, clip_grad_value_, EarlyStopping
from . import line_search
from .line_search import backtracking, strong_wolfe, cubic_interpolate
from . import lr_scheduler

__all__ = [
    "Optimizer", "required",
    "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW",
    "LBFGS", "BFGS", "SR1", "Newton", "HessianFree",
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    "ReduceLROnPlateau", "OneCycleLR",
    "lr_scheduler",
    "clip_grad_norm_", "clip_grad_value_", "EarlyStopping",
    "line_search", "backtracking", "strong_wolfe", "cubic_interpolate",
    "closure_hvp", "conjugate_gradient", "gauss_newton_product", "trust_region_subproblem",
]
