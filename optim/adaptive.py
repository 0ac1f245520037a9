"""Adaptive first-order methods: Adagrad, Adadelta, RMSprop, Adam, AdamW.

Each follows PyTorch's single-tensor implementation operation by operation
(same defaults, same order of floating-point operations where it matters), so
the same start gives the same trajectory. In every formula g is the gradient,
negated if ``maximize``, and t the step count starting at 1.
"""
from __future__ import annotations

import math

import numpy as np

from .optimizer import (PerParameterOptimizer, assign_, check_nonnegative, check_range,
                        maximum_, sqrt)

__all__ = ["Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"]


def _lerp_(a, b, w, rest=None, small=None):
    """a ← a + w (b − a) in place, with PyTorch's two-sided formula (exact at w = 1):
    a ← b − (b − a)(1 − w) when w ≥ 0.5. For a rule on Tensors (``_rule``), ``w``
    and ``rest`` = 1 − w are given as 0-d Tensors and ``small`` = (w < 0.5) as
    decided on the Python float."""
    if small is None:
        small, rest = w < 0.5, 1 - w
    if small:
        a += w * (b - a)
    else:
        assign_(a, b - (b - a) * rest)


def _check_betas(betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))") from None
    check_range(b1, "beta parameter at index 0", 0.0, 1.0)
    check_range(b2, "beta parameter at index 1", 0.0, 1.0)


class Adagrad(PerParameterOptimizer):
    r"""``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False)``

    Duchi, Hazan & Singer (2011), as in PyTorch::

        g ← g + λ θ
        clr = lr / (1 + (t − 1) · lr_decay)
        s ← s + g²                       (s starts at initial_accumulator_value)
        θ ← θ − clr · g / (√s + eps)

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.Adagrad([w], lr=0.1)
        >>> (w ** 2).sum().backward()                  # g = 2w
        >>> opt.step()
        >>> w                                          # s = g²: the first step is lr·g/|g|
        Tensor([0.9, 1.9], dtype=float32, requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        # As PyTorch, the accumulators exist from construction on (add_param_group
        # creates them for every group, including the constructor's).

    def add_param_group(self, param_group):
        """Add a group (as ``Optimizer.add_param_group``) and, as PyTorch, create its
        parameters' state at once: ``step`` = 0 and ``sum`` filled with the group's
        ``initial_accumulator_value``."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            if not self.state[p]:
                self.state[p].update(self._init_state(p, group))

    def _init_state(self, p, group):
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                          "eps")

    def _update(self, p, g, state, group):
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        std = np.sqrt(s) + group["eps"]
        p.data -= clr * (g / std)


class Adadelta(PerParameterOptimizer):
    r"""``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``

    Zeiler (2012), as in PyTorch::

        g ← g + λ θ
        v ← ρ v + (1 − ρ) g²
        Δ = √(u + eps) / √(v + eps) · g
        u ← ρ u + (1 − ρ) Δ²
        θ ← θ − lr · Δ

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.Adadelta([w])
        >>> (w ** 2).sum().backward()                  # g = 2w
        >>> opt.step()
        >>> w                                          # Δ = √eps/√(0.1 g² + eps)·g, tiny at first
        Tensor([0.99683774, 1.9968377 ], dtype=float32, requires_grad=True)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr")
        check_range(group["rho"], "rho value", 0.0, 1.0, hi_closed=True)
        check_nonnegative(group, "eps", "weight_decay")

    def _init_state(self, p, group):
        return {"step": 0, "square_avg": np.zeros_like(p.data),
                "acc_delta": np.zeros_like(p.data)}

    def _update(self, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        std = np.sqrt(v + eps)
        delta = np.sqrt(u + eps)
        delta /= std
        delta *= g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.data -= group["lr"] * delta


class RMSprop(PerParameterOptimizer):
    r"""``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False)``

    Hinton's lecture 6e; centred variant from Graves (2013); as in PyTorch::

        g ← g + λ θ
        v ← α v + (1 − α) g²
        m ← m + (1 − α)(g − m)                    (centered: running mean of g)
        a = √(v − m²) + eps   (centered)    or    √v + eps
        b ← μ b + g / a ;  θ ← θ − lr · b         (momentum μ > 0)
        θ ← θ − lr · g / a                         (otherwise)

    eps is added after the square root (TensorFlow adds it inside).

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.RMSprop([w], lr=0.01)
        >>> (w ** 2).sum().backward()                  # g = 2w
        >>> opt.step()
        >>> w                                          # v = 0.01 g²: the first step is 10·lr·g/|g|
        Tensor([0.90000004, 1.9       ], dtype=float32, requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _init_state(self, p, group):
        state = {"step": 0, "square_avg": np.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def _update(self, p, g, state, group):
        alpha = group["alpha"]
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if group["centered"]:
            m = state["grad_avg"]
            _lerp_(m, g, 1 - alpha)
            avg = np.sqrt(v - m * m)
        else:
            avg = np.sqrt(v)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (g / avg)


class Adam(PerParameterOptimizer):
    r"""``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False)``

    Kingma & Ba (2015); AMSGrad from Reddi, Kale & Kumar (2018); as PyTorch::

        g ← g + λ θ                 (L2 penalty; AdamW decays θ instead)
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v)              (amsgrad; then v̂ replaces v below)
        θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    which equals the paper's θ ← θ − lr · m̂ / (√v̂ + eps) with bias-corrected
    m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ).

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward()                  # g = 2w
        >>> opt.step()
        >>> w                                          # the first step is lr·g/|g|: m̂/√v̂ = ±1
        Tensor([0.90000004, 1.9       ], dtype=float32, requires_grad=True)
        >>> opt.state[w]["step"]
        1
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                        eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_nonnegative(group, "lr", "eps")
        _check_betas(group["betas"])
        check_nonnegative(group, "weight_decay")

    def _init_state(self, p, group):
        state = {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        return state

    _traceable = True        # a compiled step records the update (optimizer._traced_step)
    _stepwise_scalars = ("step_size", "bias_correction2_sqrt")

    def _scalars(self, state, group):
        beta1, beta2 = group["betas"]
        step = state["step"]
        w1 = 1 - beta1
        return {"w1": w1, "w1_rest": 1 - w1, "beta2": beta2, "w2": 1 - beta2,
                "eps": group["eps"], "step_size": group["lr"] / (1 - beta1 ** step),
                "bias_correction2_sqrt": math.sqrt(1 - beta2 ** step)}

    def _structure(self, group):
        return super()._structure(group) + (group["amsgrad"], 1 - group["betas"][0] < 0.5)

    def _rule(self, x, g, state, group, k):
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, g, k["w1"], k["w1_rest"], 1 - group["betas"][0] < 0.5)
        v *= k["beta2"]
        v += k["w2"] * (g * g)
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            maximum_(vmax, v)
            v = vmax
        denom = sqrt(v) / k["bias_correction2_sqrt"] + k["eps"]
        x -= k["step_size"] * (m / denom)


class AdamW(Adam):
    r"""``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False)``

    Loshchilov & Hutter (2019): Adam with decoupled weight decay, as PyTorch::

        θ ← θ (1 − lr · λ)            then the Adam update without the L2 term

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.01)
        >>> (w ** 2).sum().backward()                  # g = 2w
        >>> opt.step()
        >>> w                                          # θ·(1 − 0.1·0.01), then Adam's lr·g/|g|
        Tensor([0.89900005, 1.898     ], dtype=float32, requires_grad=True)
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
