"""``autograd_core.autograd``: gradients as ``torch.autograd`` gives them.

* ``backward(tensors, grad_tensors)`` (what ``Tensor.backward`` calls): one
  sweep, whose cotangents are added into ``.grad`` of the leaves;
* ``grad(outputs, inputs, ...)``: the cotangents of chosen inputs (leaves or
  intermediate tensors) returned, no ``.grad`` touched, as ``torch.autograd.grad``;
* ``forward_ad``: dual numbers by level, as ``torch.autograd.forward_ad``;
* ``functional``: ``autograd_core.functional`` (jvp, vjp, hvp, jacobian, hessian).

Both reverse-mode entry points are thin users of ``graph.sweep``.

    >>> x = ag.tensor(3.0, requires_grad=True)
    >>> ag.autograd.grad(x ** 2, x)                 # (2x,)
    (Tensor(6., dtype=float32),)
"""
from __future__ import annotations

import functools

import numpy as np

from .. import graph
from .. import primitives as P
from ..core import TensorBase, wrap
from ..graph import state

__all__ = ["grad", "backward", "forward_ad"]


def _as_tuple(x, what):
    if isinstance(x, TensorBase):
        return (x,)
    if isinstance(x, (list, tuple)):
        return tuple(x)
    raise TypeError(f"autograd.grad: {what} must be a Tensor or a sequence of Tensors, "
                    f"got {type(x).__name__}")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Σ_k grad_outputs[k]ᵀ ∂outputs[k]/∂inputs[i] for each input i, returned as a
    tuple (one entry per input), without touching any ``.grad``. ``inputs``
    may be leaves or intermediate tensors; only the part of the graph between
    them and ``outputs`` is walked. ``grad_outputs`` may be omitted (or hold
    None) for one-element outputs. ``create_graph=True`` records the sweep, so
    the results can be differentiated again; ``retain_graph`` defaults to it.
    An input the outputs do not depend on raises unless ``allow_unused=True``
    (then its entry is None, or zeros with ``materialize_grads=True``).

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * x
        >>> y = (3 * h).sum()
        >>> ag.autograd.grad(y, [x, h], retain_graph=True)      # (6x, 3): leaves or intermediates
        (Tensor([ 6., 12.], dtype=float32), Tensor([3., 3.], dtype=float32))
        >>> x.grad is None                                      # no .grad touched
        True
        >>> (g,) = ag.autograd.grad(y, x, create_graph=True)
        >>> ag.autograd.grad(g.sum(), x)                        # a second derivative: d(6x)/dx
        (Tensor([6., 6.], dtype=float32),)
    """
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    if not outputs:
        raise RuntimeError("autograd.grad: outputs is empty")
    if not inputs:
        raise RuntimeError("autograd.grad: inputs is empty")
    for i, o in enumerate(outputs):
        if not isinstance(o, TensorBase):
            raise TypeError(f"autograd.grad: outputs[{i}] must be a Tensor, got {type(o).__name__}")
        if not o._rg:
            raise RuntimeError(f"autograd.grad: element {i} of tensors does not require grad and "
                               f"does not have a grad_fn")
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase):
            raise TypeError(f"autograd.grad: inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(f"autograd.grad: inputs[{i}] (shape {t.shape}) does not require "
                               f"grad: one of the differentiated Tensors does not require grad")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs, "grad_outputs") if not isinstance(
            grad_outputs, np.ndarray) else (grad_outputs,)
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"autograd.grad: grad_outputs has {len(grad_outputs)} entries but "
                             f"outputs has {len(outputs)}")
    if retain_graph is None:
        retain_graph = create_graph
    # Tensor mode: rules run on Tensors (create_graph records them; open forward
    # levels push tangents through them; the compiler's tracer sees them).
    tensor_mode = bool(create_graph or state.levels or graph._specials and state.tracer)
    seeds = [seed_for(o, g, tensor_mode, "autograd.grad", "grad_outputs")
             for o, g in zip(outputs, grad_outputs)]
    grads = graph.sweep(outputs, seeds, inputs, retain_graph=retain_graph,
                        create_graph=create_graph, tensor_mode=tensor_mode)
    handed_out = {id(s) for s in seeds}
    out = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(
                    f"autograd.grad: inputs[{i}] (shape {t.shape}) was not used in the graph "
                    f"of the outputs (one of the differentiated Tensors appears to not have been "
                    f"used in the graph). Set allow_unused=True if this is the desired behavior.")
            out.append(wrap(np.zeros(t.shape, dtype=t.dtype)) if materialize_grads else None)
            continue
        out.append(_result(g, t, tensor_mode, handed_out))
    return tuple(out)


def _result(g, like, tensor_mode, handed_out):
    """A returned gradient: a Tensor of the input's dtype, never an array shared
    with the graph or with another result (the caller may change it)."""
    if tensor_mode:
        if not isinstance(g, TensorBase):
            g = wrap(g)
        if g._d.dtype != like._d.dtype:
            g = P.astype(g, dtype=like._d.dtype)
        return g
    if g.__class__ is not np.ndarray:  # a NumPy scalar (0-d): immutable, nothing to share
        return wrap(like._d.dtype.type(g))
    if (id(g) in handed_out or g.dtype != like._d.dtype or g.base is not None
            or not g.flags.writeable):
        g = np.array(g, dtype=like._d.dtype)
    handed_out.add(id(g))
    return wrap(g)


# ---------------------------------------------------------------------------
# backward(): the sweep's cotangents added into .grad
# ---------------------------------------------------------------------------

def seed_for(root, gradient, tensor_mode, who="backward", arg="gradient"):
    """The cotangent to start a sweep from ``root`` with (ones for one element);
    ``arg`` is the caller's name for ``gradient`` (autograd.grad's ``grad_outputs``)."""
    if gradient is None:
        if root._d.size != 1:
            reduced = ("autograd.grad(y.sum(), inputs)" if arg == "grad_outputs"
                       else "y.sum().backward()")
            raise ValueError(
                f"{who}: grad can be implicitly created only for outputs with one element, but "
                f"this tensor has shape {root.shape}. Pass {arg}= an array or Tensor of shape "
                f"{root.shape} (the vector u in uᵀJ), or reduce the output first, e.g. "
                f"{reduced}.")
        g = np.ones_like(root._d)
        return wrap(g) if tensor_mode else g
    if isinstance(gradient, TensorBase):
        g = gradient
    else:
        try:
            g = wrap(np.asarray(gradient))
        except (TypeError, ValueError):
            raise TypeError(f"{who}: {arg} must be a Tensor or an array, got "
                            f"{type(gradient).__name__}") from None
    if g._d.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {arg} has dtype {g._d.dtype}; it must be real "
                        f"(the output has dtype {root.dtype})")
    if g.shape != root.shape:
        raise ValueError(f"{who}: `{arg}` has shape {g.shape} but the output has shape "
                         f"{root.shape}; they must match.")
    if g._d.dtype != root._d.dtype and not g._rg:
        g = wrap(np.asarray(g._d, dtype=root._d.dtype))
    return g if tensor_mode else np.asarray(g._d) if g._d.__class__ is np.ndarray else g._d


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Σ_k grad_tensors[k]ᵀ ∂tensors[k]/∂leaf added into ``.grad`` of every leaf
    that requires grad (of ``inputs`` only, if given), as ``torch.autograd.backward``.

        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * x
        >>> ag.autograd.backward([y], [ag.tensor([1.0, 0.5])])  # grad_tensors ᵀ ∂y/∂x
        >>> x.grad
        Tensor([2., 2.], dtype=float32)
        >>> ag.autograd.backward([(x * 3).sum()])               # adds into .grad
        >>> x.grad
        Tensor([5., 5.], dtype=float32)
    """
    roots = (tensors,) if isinstance(tensors, TensorBase) else tuple(tensors)
    gradients = ((grad_tensors,) if isinstance(grad_tensors, (TensorBase, np.ndarray))
                 else grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    for r in roots:
        if not r._rg:
            raise RuntimeError(
                "backward(): element 0 of tensors does not require grad and does not have a "
                "grad_fn (make an input with requires_grad=True, and do not compute under "
                "no_grad()).")
    # Tensor mode: rules run on Tensors (create_graph records them; open forward
    # levels push tangents through them; the compiler's tracer sees them).
    tensor_mode = bool(create_graph or state.levels or graph._specials and state.tracer)
    if gradients is None:
        gradients = [None] * len(roots)
    seeds = [seed_for(r, g, tensor_mode) for r, g in zip(roots, gradients)]
    handed_out = set(id(s) for s in seeds)

    on_leaf = functools.partial(accumulate_grad, tensor_mode, handed_out)

    if inputs is None:
        graph.sweep(roots, seeds, None, retain_graph=retain_graph, create_graph=create_graph,
                    tensor_mode=tensor_mode, on_leaf=on_leaf)
        return
    if isinstance(inputs, TensorBase):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if not inputs:
        raise RuntimeError("backward(): inputs= was given but is empty")
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase):
            raise TypeError(f"backward(): inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(f"backward(): inputs[{i}] does not require grad")
    grads = graph.sweep(roots, seeds, inputs, retain_graph=retain_graph,
                        create_graph=create_graph, tensor_mode=tensor_mode)
    for t, g in zip(inputs, grads):
        if g is not None:
            accumulate_grad(tensor_mode, handed_out, t, g)


def accumulate_grad(tensor_mode, handed_out, leaf, g):
    """leaf.grad += g, out of place.

    ``handed_out`` holds the ids of arrays already given to the user in this
    pass (the initial gradient, earlier leaves' grads): a rule may pass the
    same array to several inputs (add) or return a view, and a leaf's .grad
    is the user's to mutate, so such arrays are copied; fresh ones are not.
    """
    dtype = leaf._d.dtype
    if tensor_mode:
        if not isinstance(g, TensorBase):
            g = wrap(g)
        d = g._d
        if (id(g) in handed_out or d.__class__ is not np.ndarray or d.base is not None
                or d.dtype != dtype or not d.flags.writeable):
            g = P.astype(g, dtype=dtype)  # a differentiable copy keeps create_graph's graph
        handed_out.add(id(g))
        new = g
    else:
        if (g.__class__ is not np.ndarray or id(g) in handed_out or g.base is not None
                or g.dtype != dtype or not g.flags.writeable):
            g = np.array(g, dtype=dtype)
        handed_out.add(id(g))
        new = wrap(g)
    prev = leaf._grad
    tracer = state.tracer if graph._specials else None
    if tracer is not None:
        tracer.grad_read(leaf, prev)
    if prev is None:
        leaf._grad = new
    else:
        leaf._grad = prev + new if tensor_mode else wrap(prev._d + new._d)
    if tracer is not None:
        tracer.set_grad(leaf, leaf._grad)
from . import forward_ad  # noqa: E402  (torch.autograd.forward_ad)
