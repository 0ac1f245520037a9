"""nn.utils.convert_parameters: the parameters as one vector and back, as
``torch.nn.utils.convert_parameters``::

    vec = parameters_to_vector(model.parameters())
    vector_to_parameters(vec * 0.5, model.parameters())
"""
from __future__ import annotations

from autograd_core import Tensor, concatenate

from ._gradients import _tensor_list

__all__ = ["parameters_to_vector", "vector_to_parameters"]


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
