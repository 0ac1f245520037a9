"""Lookup tables: ``nn.Embedding`` and ``nn.functional.embedding``, as in PyTorch.

An embedding is the row lookup out[..., :] = W[index[...], :] of a weight W of
shape (num_embeddings, embedding_dim). The lookup is the engine's indexing by
an integer tensor (``W[index]``), so its gradient scatters into the rows that
were read (repeats accumulate), forward mode and higher derivatives come from
the engine, and a compiled step (``autograd_core.compile``) reads each call's
index instead of freezing the first.

PyTorch's options, with PyTorch's meaning:

* ``padding_idx``: the row that never receives a gradient (``Embedding`` also
  starts it at zero). Its value is still looked up as it is.
* ``max_norm``: before the lookup, every row that is looked up and whose
  ``norm_type``-norm exceeds ``max_norm`` is scaled, in place and outside the
  graph, to norm max_norm (W[i] ← W[i]·max_norm / (‖W[i]‖ + 1e-7)).
* ``scale_grad_by_freq``: the gradient of each row is divided by how often its
  index occurs in the batch.
* ``sparse``: accepted for compatibility; gradients are dense arrays (the
  engine has no sparse tensors), so every optimiser can use them.

Gradient-only options (``padding_idx``, ``scale_grad_by_freq``) use one trick:
out = F + (W[index] − F)·s with F = W[index] computed without recording, so
the value is exactly W[index] (W[index] − F is exactly 0) and the gradient of
each looked-up row is multiplied by s (0 at padding_idx, 1/count with
``scale_grad_by_freq``).
"""
from __future__ import annotations

import numbers

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.devices import check_device

from . import init
from .module import Module, Parameter, _param_dtype

__all__ = ["Embedding", "embedding"]

_RENORM_EPS = 1e-7  # PyTorch's embedding_renorm_ adds it to the norm
# The options Embedding's repr shows when they differ from these (PyTorch's repr).
_REPR_DEFAULTS = (("padding_idx", None), ("max_norm", None), ("norm_type", 2),
                  ("scale_grad_by_freq", False), ("sparse", False))


def _is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def _indices(input, fn):  # noqa: A002 - PyTorch's argument name
    """The index argument as an integer Tensor (a Tensor is kept as it is, so a
    compiled program reads each call's index)."""
    if isinstance(input, Tensor):
        idx = input
    else:
        try:
            arr = np.asarray(input)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{fn}: input must be a tensor of integer indices, got "
                            f"{type(input).__name__}: {e}") from None
        if arr.dtype.kind == "f" and arr.size == 0:   # an empty list
            arr = arr.astype(np.int64)
        idx = Tensor(arr) if arr.dtype.kind in "iu" else None
        if idx is None:
            raise TypeError(f"{fn}: input must hold integer indices (int64 or int32), got "
                            f"{type(input).__name__} of dtype {arr.dtype}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: input must hold integer indices (int64 or int32), got a "
                        f"tensor of dtype {idx.dtype}; convert it with .long()")
    return idx


def _check_range(idx, n, fn, weight_shape):
    """Indices must lie in [0, n). Checked when the step runs eagerly (or is
    traced): the check reads the index values, which a compiled replay does not."""
    d = np.asarray(idx._d)
    if d.size and (d.min() < 0 or d.max() >= n):
        bad = d[(d < 0) | (d >= n)].flat[0]
        raise IndexError(f"{fn}: index {int(bad)} is out of range for a weight of shape "
                         f"{weight_shape}: indices must lie in [0, {n - 1}]")


def _padding_index(padding_idx, n, fn):
    """``padding_idx`` as a non-negative row number (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not _is_int(padding_idx):
        raise TypeError(f"{fn}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -n <= padding_idx < n:
        raise ValueError(f"{fn}: padding_idx must be within num_embeddings: got "
                         f"padding_idx={padding_idx} for {n} embeddings (allowed: "
                         f"{-n} … {n - 1})")
    return int(padding_idx) % n


def _renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: the looked-up rows whose norm exceeds
    ``max_norm`` are scaled to that norm, in place, outside the graph. A row
    listed twice gets the same new value twice."""
    with ag.no_grad():
        flat = idx.reshape(-1)
        rows = weight[flat]
        norms = ag.norm(rows, p=norm_type, dim=1, keepdim=True)
        scale = ag.where(norms > max_norm, max_norm / (norms + _RENORM_EPS), 1.0)
        weight[flat] = rows * scale


def _gradient_scale(idx, n, dtype, padding_idx, scale_grad_by_freq):
    """The factor s of each looked-up row's gradient (shape idx.shape + (1,)):
    0 at padding_idx, 1/(occurrences of the index in the batch) with
    ``scale_grad_by_freq``, else 1 — all by traced tensor ops."""
    s = None
    if scale_grad_by_freq:
        flat = idx.reshape(-1)
        counts = ag.zeros(n, dtype=dtype).index_add(0, flat, ag.ones(flat.shape[0], dtype=dtype))
        s = 1.0 / counts[idx]
    if padding_idx is not None:
        keep = (idx != padding_idx).astype(dtype)
        s = keep if s is None else s * keep
    return s.reshape(idx.shape + (1,))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """Row lookup out[..., :] = weight[input[...], :], as ``torch.nn.functional.embedding``.

    Args:
        input: integer indices of any shape (a Tensor, array or list), each in
            [0, num_embeddings).
        weight: the table, shape (num_embeddings, embedding_dim).
        padding_idx: a row that receives no gradient (negative counts from the end).
        max_norm: if given, looked-up rows with a ``norm_type``-norm above it are
            renormalised to it first, in place (``weight`` changes).
        norm_type: the p of that norm (default 2).
        scale_grad_by_freq: divide each row's gradient by the number of times
            its index occurs in ``input``.
        sparse: accepted for compatibility; the gradient is dense.

    Returns a Tensor of shape ``input.shape + (embedding_dim,)``.

        >>> W = ag.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> nn.functional.embedding(ag.tensor([[2, 1], [0, 2]]), W).shape
        (2, 2, 2)
    """
    fn = "embedding"
    w = weight if isinstance(weight, Tensor) else ag.as_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"{fn}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{w.shape}")
    if w.dtype.kind != "f":
        raise TypeError(f"{fn}: weight must be floating point, got dtype {w.dtype}")
    idx = _indices(input, fn)
    n = w.shape[0]
    padding_idx = _padding_index(padding_idx, n, fn)
    _check_range(idx, n, fn, w.shape)
    if max_norm is not None:
        if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
            raise TypeError(f"{fn}: max_norm must be a number or None, got {max_norm!r}")
        _renorm_(w, idx, float(max_norm), norm_type)
    out = w[idx]
    if padding_idx is None and not scale_grad_by_freq or not (
            w.requires_grad or ag.autograd.forward_ad.is_dual(w)):
        return out   # (a frozen table has no gradient to shape)
    with ag.no_grad():
        frozen = w[idx]
    return frozen + (out - frozen) * _gradient_scale(idx, n, w.dtype, padding_idx,
                                                     scale_grad_by_freq)


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
    norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False,
    device=None, dtype=None)``: a lookup table of ``num_embeddings`` vectors of size
    ``embedding_dim``; out[..., :] = weight[input[...], :].

    ``weight`` (num_embeddings, embedding_dim) starts N(0, 1) (PyTorch's default),
    with the ``padding_idx`` row zero; that row never receives a gradient. The
    other options are those of ``nn.functional.embedding``. ``_weight`` gives the
    initial table (copied), ``_freeze=True`` makes it not require grad;
    ``Embedding.from_pretrained`` is the public way to do both. Parameters are
    float32 unless ``dtype`` (or ``_weight``'s floating dtype) says otherwise.

        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(ag.tensor([[1, 2, 0], [4, 0, 9]])).shape
        (2, 3, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        fn = "Embedding"
        check_device(device, fn)
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not _is_int(v) or v < 0:
                raise ValueError(f"{fn}: {name} must be a non-negative int, got {v!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, fn)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dt = _param_dtype(dtype, fn)
            self.weight = Parameter(np.empty(shape, dtype=dt), requires_grad=not _freeze, dtype=dt)
            self.reset_parameters()
        else:
            given = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if tuple(given.shape) != shape:
                raise ValueError(f"{fn}: shape of _weight {tuple(given.shape)} does not match "
                                 f"(num_embeddings, embedding_dim) = {shape}")
            if dtype is None and given.dtype.kind == "f":
                dtype = given.dtype
            dt = _param_dtype(dtype, fn)
            self.weight = Parameter(given, requires_grad=not _freeze, dtype=dt)

    def reset_parameters(self):
        """weight ~ N(0, 1), then the padding_idx row set to zero."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with ag.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):  # noqa: A002
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is a copy of ``embeddings`` (2-D, rows = vectors),
        frozen (``requires_grad=False``) unless ``freeze=False``. As in PyTorch the
        ``padding_idx`` row is kept as given (not zeroed).

            >>> emb = nn.Embedding.from_pretrained(ag.tensor([[1.0, 2.3], [4.0, 5.1]]))
            >>> emb(ag.tensor([1]))
            Tensor([[4. , 5.1]], dtype=float32)
        """
        shape = np.shape(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional "
                             f"(num_embeddings, embedding_dim), got shape {tuple(shape)}")
        return cls(shape[0], shape[1], _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + "".join(
            f", {name}={getattr(self, name)}" for name, default in _REPR_DEFAULTS
            if getattr(self, name) != default)
