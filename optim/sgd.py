"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_nonneg

__all__ = ["SGD"]


class SGD(Optimizer):
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
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonneg(group["lr"], "learning rate")
        check_nonneg(group["momentum"], "momentum value")
        check_nonneg(group["weight_decay"], "weight_decay value")
        check_nonneg(group["dampening"], "dampening value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            tau, wd = group["dampening"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = np.asarray(p.grad.data, dtype=p.data.dtype)
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * p.data
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = np.array(g, copy=True)
                        state["momentum_buffer"] = buf
                    else:
                        buf *= mu
                        buf += (1 - tau) * g
                    g = g + mu * buf if group["nesterov"] else buf
                p.data -= lr * g
        return loss
