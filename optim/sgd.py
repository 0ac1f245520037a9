"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from .optimizer import PerParameterOptimizer, check_nonnegative, clone_state

__all__ = ["SGD"]


class SGD(PerParameterOptimizer):
    r"""``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``

    PyTorch's update, for each parameter θ with gradient g (negated if
    ``maximize``)::

        g ← g + λ θ                                   (weight_decay λ ≠ 0)
        b ← g                                         (first step, momentum μ ≠ 0)
        b ← μ b + (1 − τ) g                           (later steps; dampening τ)
        g ← g + μ b   if nesterov   else   g ← b
        θ ← θ − lr · g

    The momentum buffer starts as the first gradient itself (not zero), so the
    first step is plain gradient descent.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)   # or model.parameters()
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w ** 2).sum().backward()                 # g = 2w
        ...     opt.step()
        >>> w                     # w − 0.1·[2, 4], then − 0.1·(0.9·[2, 4] + [1.6, 3.2])
        Tensor([0.46, 0.92], dtype=float32, requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "momentum", "weight_decay", "dampening")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    _traceable = True        # a compiled step records the update (optimizer._traced_step)

    def _scalars(self, state, group):
        k = {"lr": group["lr"]}
        if group["momentum"] != 0:
            k["momentum"] = group["momentum"]
            k["undamped"] = 1 - group["dampening"]
        return k

    def _structure(self, group):
        return super()._structure(group) + (group["momentum"] != 0, group["nesterov"])

    def _rule(self, x, g, state, group, k):
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = clone_state(g)
            else:
                buf *= k["momentum"]
                buf += k["undamped"] * g
            g = g + k["momentum"] * buf if group["nesterov"] else buf
        x -= k["lr"] * g
