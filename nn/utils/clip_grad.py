"""nn.utils.clip_grad: gradient norms and clipping, as ``torch.nn.utils.clip_grad``
(names, arguments and numbers)::

    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    clip_grad_value_(model.parameters(), 0.5)

They work on ``p.grad`` through the public Tensor API only; ``optim`` re-exports
the clipping functions (``optim.clip_grad_norm_``).
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np

from autograd_core import Tensor, get_default_dtype

from ._gradients import _tensor_list, _update_grads_

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _check_norm_type(norm_type, fn):
    norm_type = float(norm_type)
    if not norm_type > 0:            # also rejects NaN
        raise ValueError(f"{fn}: norm_type must be > 0 (or inf), got {norm_type}")
    return norm_type


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""‖(t₁, …, tₖ)‖_p: the ``norm_type``-norm of all ``tensors`` viewed as one vector.

    Computed as the p-norm of the per-tensor p-norms (``float('inf')``: the
    largest absolute entry), as ``torch.nn.utils.get_total_norm``. Returns a
    0-d Tensor in the tensors' common dtype (float32 zero for no tensors).
    ``error_if_nonfinite=True`` raises RuntimeError if the norm is NaN or
    infinite. ``foreach`` is accepted for PyTorch compatibility (one
    implementation serves every value).

        >>> float(get_total_norm([Tensor(np.array([3.0])), Tensor(np.array([4.0]))]))
        5.0
    """
    tensors = _tensor_list(tensors, "get_total_norm", "tensors")
    norm_type = _check_norm_type(norm_type, "get_total_norm")
    if not tensors:
        return Tensor(np.zeros((), dtype=get_default_dtype()))   # torch.tensor(0.0)
    arrays = [t.data for t in tensors]
    dtype = np.result_type(*[a.dtype for a in arrays])
    if math.isinf(norm_type):
        total = max((float(np.abs(a).max()) if a.size else 0.0) for a in arrays)
    else:
        # Each tensor's norm, then the norm of those norms (accumulated in float64).
        norms = np.array([np.sum(np.abs(a.astype(np.float64)) ** norm_type) ** (1.0 / norm_type)
                          for a in arrays])
        total = float(np.sum(norms ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    r"""g ← g · min(1, max_norm / (total_norm + 1e-6)) for every gradient, in place.

    ``total_norm`` is a precomputed norm (a number or a 0-d Tensor), e.g. from
    ``get_total_norm``; the coefficient is computed in its dtype exactly as
    PyTorch does, so the clipped gradients are bit-for-bit PyTorch's. Returns
    None.

        >>> from nn.utils import clip_grads_with_norm_, get_total_norm
        >>> model = nn.Linear(2, 1, bias=False)
        >>> with ag.no_grad():
        ...     _ = model.weight.copy_(ag.tensor([[3.0, 4.0]]))
        >>> (0.5 * (model.weight ** 2).sum()).backward()     # grad = weight, norm 5
        >>> total = get_total_norm([p.grad for p in model.parameters()])
        >>> clip_grads_with_norm_(model.parameters(), 1.0, total)
        >>> model.weight.grad                                # scaled by 1/(5 + 1e-6)
        Tensor([[0.5999999 , 0.79999983]], dtype=float32)
    """
    params = _tensor_list(parameters, "clip_grads_with_norm_")
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"clip_grads_with_norm_: max_norm must be >= 0, got {max_norm}")
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    if total.dtype.kind != "f":
        total = total.astype(np.float64)
    one = total.dtype.type(1)
    # PyTorch evaluates max_norm / (total + 1e-6) as reciprocal(total + 1e-6) * max_norm.
    coef = np.minimum(one / (total + total.dtype.type(1e-6)) * total.dtype.type(max_norm), one)
    with np.errstate(invalid="ignore"):      # inf·0 = NaN when the norm is inf, as PyTorch
        _update_grads_(params, lambda g: g * coef.astype(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    r"""Rescale the gradients in place so that their total norm is at most ``max_norm``.

    g ← g · min(1, max_norm / (‖g‖_p + 1e-6)), the norm taken over all
    gradients concatenated (``get_total_norm``); parameters without a
    gradient are skipped. Returns the total norm before clipping as a 0-d
    Tensor; ``error_if_nonfinite=True`` raises RuntimeError if it is NaN or
    infinite. As ``torch.nn.utils.clip_grad_norm_``.

        >>> model = nn.Linear(2, 1, bias=False)
        >>> with ag.no_grad():
        ...     _ = model.weight.copy_(ag.tensor([[3.0, 4.0]]))
        >>> (0.5 * (model.weight ** 2).sum()).backward()     # grad = weight, norm 5
        >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # the norm before
        Tensor(5., dtype=float32)
        >>> model.weight.grad                                # now of norm 1
        Tensor([[0.5999999 , 0.79999983]], dtype=float32)
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    params = _tensor_list(parameters, "clip_grad_norm_")
    if is_generator and not params:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=2)
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    norm_type = _check_norm_type(norm_type, "clip_grad_norm_")
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type,
                           error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""g ← clamp(g, −clip_value, clip_value) for every gradient, in place. Returns None.

        >>> model = nn.Linear(2, 1, bias=False)
        >>> with ag.no_grad():
        ...     _ = model.weight.copy_(ag.tensor([[3.0, 4.0]]))
        >>> (0.5 * (model.weight ** 2).sum()).backward()     # grad = weight, norm 5
        >>> nn.utils.clip_grad_value_(model.parameters(), clip_value=3.5)
        >>> model.weight.grad
        Tensor([[3. , 3.5]], dtype=float32)
    """
    params = _tensor_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    _update_grads_(params, lambda g: np.clip(g, -clip_value, clip_value))


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated spelling of ``clip_grad_norm_`` (as in torch, with its FutureWarning).

        >>> import warnings
        >>> model = nn.Linear(2, 1)
        >>> model(ag.ones(1, 2)).sum().backward()
        >>> with warnings.catch_warnings(record=True):
        ...     float(clip_grad_norm(model.parameters(), 10.0))   # √3: grads 1, 1 and 1
        1.73205...
    """
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
