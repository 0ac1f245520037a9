"""Exchanging tensors with other array libraries through DLPack.

``from_dlpack(x)`` makes an ``autograd_core.Tensor`` of anything with
``__dlpack__`` -- a PyTorch tensor, a NumPy array, a JAX or CuPy array on the
CPU -- sharing its memory where NumPy can.  The other way, a Tensor has
``__dlpack__`` and ``__dlpack_device__`` itself, so ``torch.from_dlpack(t)``,
``torch.as_tensor(t)`` and ``np.from_dlpack(t)`` take it directly.

To move a whole trained model to PyTorch, save its state dict instead (see the
README, "Leaving for PyTorch or ONNX")::

    ag.save(model.state_dict(), "m.safetensors")
    torch_model.load_state_dict(safetensors.torch.load_file("m.safetensors"))
"""

import numpy as np

from ._tensor import Tensor

__all__ = ["from_dlpack"]


def from_dlpack(obj, *, copy=None):
    """An ``autograd_core.Tensor`` holding the data of `obj`, an object with
    ``__dlpack__`` (``torch.from_dlpack``'s counterpart).

    The tensor shares `obj`'s memory (``copy=None``, the default, copies only
    if NumPy cannot share; ``copy=False`` raises instead, ``copy=True`` always
    copies), so writing to one changes the other, as in PyTorch.  It keeps
    `obj`'s dtype and shape, is a leaf and does not require grad.  Only
    CPU data of dtypes NumPy has can come in: a CUDA tensor needs ``.cpu()``,
    a bfloat16 one ``.float()``, and a PyTorch tensor that requires grad
    ``.detach()`` (PyTorch refuses to export it).

    Example (``torch.randn(3, 2)`` comes in the same way as this ndarray):

        >>> w = np.zeros((3, 2), dtype=np.float32)
        >>> t = ag.from_dlpack(w)                  # no copy
        >>> t.shape, t.dtype
        ((3, 2), dtype('float32'))
        >>> w[0, 0] = 7.0                          # one memory
        >>> t[0, 0]
        Tensor(7., dtype=float32)
        >>> t.requires_grad_().is_leaf             # and on into autograd_core
        True
    """
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a torch tensor, "
                        f"an ndarray, ...), got {type(obj).__name__}")
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    try:
        array = np.from_dlpack(obj, copy=copy)
    except BufferError as exc:
        # The exporter refused (PyTorch: requires grad, conjugate bit, sparse,
        # or no copy possible with copy=False): its own words say why.
        raise BufferError(f"from_dlpack: this {kind} cannot be exported: {exc}") from None
    except RuntimeError as exc:
        # NumPy's words for a device or dtype it lacks; say what to do instead.
        if "device" in str(exc):
            raise RuntimeError(f"from_dlpack: this {kind} is not on the CPU ({exc}); move it "
                               "there first, e.g. x.cpu()") from None
        raise TypeError(f"from_dlpack: NumPy has no dtype for this {kind} ({exc}); convert "
                        "it first, e.g. x.float() for a bfloat16 torch tensor") from None
    if array.dtype.kind not in "biufc":
        raise TypeError(f"from_dlpack: a Tensor cannot hold dtype {array.dtype}")
    tensor = Tensor(np.zeros((), array.dtype))
    tensor.data = array          # the data setter keeps the array itself: no copy
    return tensor
