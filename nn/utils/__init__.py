"""nn.utils: gradient clipping, parameters as one vector, resetting gradients.

The functions of ``torch.nn.utils`` with its names, arguments and numbers, and
its submodules ``nn.utils.clip_grad`` and ``nn.utils.convert_parameters``::

    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    vec = nn.utils.parameters_to_vector(model.parameters())
    nn.utils.vector_to_parameters(vec * 0.5, model.parameters())

    >>> model = nn.Linear(3, 2)
    >>> model(ag.ones(4, 3)).sum().backward()           # every gradient entry is 4
    >>> float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0))   # 4·√8, before
    11.3137...
    >>> round(float(nn.utils.get_total_norm([p.grad for p in model.parameters()])), 4)
    1.0
    >>> nn.utils.parameters_to_vector(model.parameters()).shape
    (8,)

They work on ``p.grad`` and ``p.data`` through the public Tensor API only.
``Optimizer.zero_grad`` resets gradients with ``zero_grad_``; gradients are
changed in one module (``nn.utils._gradients``).
"""
from . import clip_grad, convert_parameters
from ._gradients import zero_grad_
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "zero_grad_"]
