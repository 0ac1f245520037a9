"""nn.utils: gradient clipping, parameters as one vector, resetting gradients.

The functions of ``torch.nn.utils`` with its names, arguments and numbers::

    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    vec = nn.utils.parameters_to_vector(model.parameters())
    nn.utils.vector_to_parameters(vec * 0.5, model.parameters())

They work on ``p.grad`` and ``p.data`` through the public Tensor API only.
``optim`` re-exports the clipping functions (``optim.clip_grad_norm_``), and
``Optimizer.zero_grad`` resets gradients with ``zero_grad_`` below: gradients
are changed in this one module.
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np

from autograd_core import Tensor, concatenate, get_default_dtype

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "zero_grad_"]


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


def _check_norm_type(norm_type, fn):
    norm_type = float(norm_type)
    if not norm_type > 0:            # also rejects NaN
        raise ValueError(f"{fn}: norm_type must be > 0 (or inf), got {norm_type}")
    return norm_type


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


def parameters_to_vector(parameters):
    r"""vec = (θ₁ flattened, θ₂ flattened, …): the parameters as one 1-D Tensor.

    Differentiable (a concatenation of reshapes), as ``torch.nn.utils.
    parameters_to_vector``; the dtype is the parameters' common dtype.

        >>> from nn.utils import parameters_to_vector
        >>> model = nn.Linear(3, 2)
        >>> parameters_to_vector(model.parameters()).shape    # weight (2, 3), then bias (2,)
        (8,)
    """
    params = _tensor_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters (an empty iterable)")
    return concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    r"""θᵢ ← the i-th slice of ``vec``, reshaped to θᵢ: copies a 1-D Tensor into the parameters.

    The inverse of ``parameters_to_vector``. Values are copied into each
    parameter's own array (cast to its dtype), outside the graph. ``vec`` must
    be a Tensor (TypeError otherwise, as PyTorch) with exactly as many
    elements as the parameters have together (PyTorch ignores extra
    elements; here a size mismatch is a ValueError). Returns None.

        >>> from nn.utils import parameters_to_vector, vector_to_parameters
        >>> model = nn.Linear(2, 1)
        >>> vector_to_parameters(ag.tensor([1.0, 2.0, 3.0]), model.parameters())
        >>> model.weight.data, model.bias.data
        (array([[1., 2.]], dtype=float32), array([3.], dtype=float32))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: "
                        f"{type(vec).__module__}.{type(vec).__name__}")
    params = _tensor_list(parameters, "vector_to_parameters")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    total = sum(p.data.size for p in params)
    if vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements, but the "
                         f"parameters have {total} in all "
                         f"(shapes {[tuple(p.shape) for p in params]})")
    values, offset = vec.data, 0
    for p in params:
        n = p.data.size
        p.data[...] = values[offset:offset + n].reshape(p.data.shape)
        offset += n


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
