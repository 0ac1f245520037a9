"""optim: optimisers, learning-rate schedules, gradient clipping, early stopping.

PyTorch's API and update formulas (``optim.SGD``, ``optim.Adam``, ``optim.LBFGS``,
...), so the same start gives the same trajectory, plus second-order methods
(``Newton``, ``HessianFree``) built on the engine's exact Hessian-vector
products. Optimisers only read ``p.data``/``p.grad`` and update ``p.data`` in
place.
"""
from .optimizer import Optimizer, required
from .sgd import SGD
from .adaptive import Adagrad, Adadelta, RMSprop, Adam, AdamW
from .quasi_newton import LBFGS, BFGS, SR1, trust_region_subproblem
from .newton import Newton, closure_hvp, conjugate_gradient
from .hessian_free import HessianFree, gauss_newton_product
from .schedulers import (LRScheduler, LambdaLR, StepLR, ExponentialLR, CosineAnnealingLR,
                         ReduceLROnPlateau)
from .utils import clip_grad_norm_, clip_grad_value_, EarlyStopping
from . import line_search
from .line_search import backtracking, strong_wolfe, cubic_interpolate

from . import schedulers as lr_scheduler  # PyTorch spelling: optim.lr_scheduler.StepLR

__all__ = [
    "Optimizer", "required",
    "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW",
    "LBFGS", "BFGS", "SR1", "Newton", "HessianFree",
    "LRScheduler", "LambdaLR", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau",
    "lr_scheduler",
    "clip_grad_norm_", "clip_grad_value_", "EarlyStopping",
    "line_search", "backtracking", "strong_wolfe", "cubic_interpolate",
    "closure_hvp", "conjugate_gradient", "gauss_newton_product", "trust_region_subproblem",
]
