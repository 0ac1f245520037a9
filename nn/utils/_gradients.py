"""What the nn.utils functions share: a parameter list checked once, and the
one place where gradients are changed (clipping and ``zero_grad_``, which
``Optimizer.zero_grad`` and ``Module.zero_grad`` call)."""
from __future__ import annotations

import numpy as np

from autograd_core import Tensor

__all__ = ["zero_grad_"]


def _tensor_list(tensors, fn, what="parameters"):
    """A Tensor or an iterable of Tensors as a list (TypeError naming ``fn`` otherwise)."""
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        items = list(tensors)
    except TypeError:
        raise TypeError(f"{fn}: {what} must be a Tensor or an iterable of Tensors, "
                        f"got {type(tensors).__name__}") from None
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {what}[{i}] is a {type(t).__name__}, not a Tensor")
    return items


def _update_grads_(params, fn):
    """p.grad ← fn(p.grad.data) for every parameter that has a gradient.

    In place where the gradient is a plain writable array owned by one
    parameter (as PyTorch's in-place ``mul_``/``clamp_``). A gradient made by
    ``backward(create_graph=True)`` (part of a graph) or a read-only or shared
    array gets a fresh array instead, so that no gradient is changed twice.
    """
    with_grad = [p for p in params if p.grad is not None]
    owners = {}
    for p in with_grad:
        owners[id(p.grad)] = owners.get(id(p.grad), 0) + 1
    for p in with_grad:
        g = p.grad
        if (owners[id(g)] == 1 and g.is_leaf and not g.requires_grad
                and g.data.flags.writeable):
            g.data[...] = fn(g.data)
        else:
            p.grad = np.array(fn(g.data), dtype=p.data.dtype)


def zero_grad_(parameters, set_to_none=True):
    """Reset the gradients of ``parameters``: what ``Optimizer.zero_grad`` does.

    ``set_to_none=True`` (PyTorch's default) sets ``p.grad = None``; otherwise a
    gradient is zeroed in place, or replaced by fresh zeros where it cannot be
    (a gradient that is part of a graph, after ``backward(create_graph=True)``,
    one that carries a forward-mode tangent, or a read-only array).

        >>> from nn.utils import zero_grad_
        >>> model = nn.Linear(2, 1)
        >>> model(ag.ones(1, 2)).sum().backward()
        >>> zero_grad_(model.parameters())
        >>> model.weight.grad is None
        True
    """
    for p in _tensor_list(parameters, "zero_grad_"):
        g = p.grad
        if set_to_none:
            p.grad = None   # also when already None: a compiled step then knows the state
            continue
        if g is None:
            continue
        if (g.is_leaf and not g.requires_grad and g.data.flags.writeable
              and getattr(g, "tangent", None) is None):
            g.data[...] = 0
        else:
            p.grad = np.zeros_like(g.data)
