"""In-place operations with PyTorch's rules.

``x.add_(y)``, ``x += y``, ``x[idx] = v``, ``x.zero_()``, ... change the
tensor itself: its memory is written (views of it see the change) and its
version counter is bumped. Three cases, as in PyTorch:

* No graph involved (``no_grad``, or nothing requires grad): the memory is
  updated and that is all. A leaf that requires grad stays the same leaf, so
  ``with no_grad(): w -= lr * w.grad`` trains ``w`` for any number of steps.
* A leaf that requires grad, outside ``no_grad``: refused (its gradient
  would be meaningless), and so is a view of one.
* A tensor in a graph (or a constant given a value that requires grad): the
  change is differentiable. The new value is recorded as a node and the
  tensor is *rebased* onto it: it keeps its identity but gets the new
  history, while nodes created before keep seeing the old one (``core.rebase``,
  ``graph.resolve``). If the tensor is a view, the tensor it views is rebased
  too (PyTorch's CopySlices), so ``h[:, 0] = 0`` and ``h.narrow(...).mul_(2)``
  give correct gradients.

A value saved for backward that is changed in place afterwards is caught by
the version counters when the backward pass reaches it.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core import TensorBase, _escape, lift, rebase, share_version, snapshot, wrap
from .. import graph
from ..graph import Version, bump_version, next_seq, state
from ._args import to_tensor

__all__ = ["inplace", "setitem", "overwrite"]

_LEAF_MSG = ("a leaf Variable that requires grad is being used in an in-place operation "
             "({op}): change it under `with ag.no_grad():` (as an optimiser step does), or "
             "through .data")
_VIEW_OF_LEAF_MSG = ("a view of a leaf Variable that requires grad is being used in an in-place "
                     "operation ({op}): change the leaf under `with ag.no_grad():`")


def _origin(t):
    """The record ``t`` was created with (before any in-place op rebased it)."""
    while t._prev is not None:
        t = t._prev
    return t


def _view_chain(t):
    """[(view op, its settings, base), ...] from ``t`` up to the tensor whose
    memory it views (taken before anything is rebased). A view changed in place
    before is still a view: its first record says of what."""
    chain = []
    while True:
        rec = _origin(t)
        if not (isinstance(rec._op, P.View) and rec._parents):
            break
        base = rec._parents[0]
        if not np.may_share_memory(t._d, base._d):
            break
        chain.append((rec._op, rec._settings, base))
        t = base
    return chain


def _regenerate_views(base, skip):
    """After ``base`` got a new history, give each other view of its memory a new
    history too (a view of the new base), as PyTorch regenerates a view's
    gradient function: its value changed with the base, so must its record."""
    for w in graph.views_of(base):
        if id(w) in skip or not np.may_share_memory(w._d, base._d):
            continue
        skip.add(id(w))
        rec = _origin(w)
        if not isinstance(rec._op, P.View) or not rec._parents or rec._parents[0] is not base:
            continue
        fresh = rec._op(base, **rec._settings)
        old = snapshot(w)
        rebase(w, fresh, old)
        w._vc = base._vc
        _regenerate_views(w, skip)


def _has_tangents(ts):
    return bool(state.levels) and any(isinstance(a, TensorBase) and a._tan for a in ts)


def inplace(t, op, compute, *operands):
    """Make ``t`` hold ``compute(t, *operands)`` in place (see the module docstring).

    ``compute`` builds the new value out of place with differentiable ops; its
    shape must be ``t``'s, and its dtype must cast to ``t``'s (same kind).
    """
    if not isinstance(t, TensorBase):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    grad_on = state.grad_enabled
    chain = _view_chain(t)
    if grad_on:
        if t._rg and t.is_leaf:
            raise RuntimeError(_LEAF_MSG.format(op=op))
        for _, _, base in chain:
            if base._rg and base.is_leaf:
                raise RuntimeError(_VIEW_OF_LEAF_MSG.format(op=op))
    records = grad_on and (t._rg or any(isinstance(a, TensorBase) and a._rg for a in operands))
    start = next_seq()
    new = compute(t, *operands)
    if not isinstance(new, TensorBase):
        new = wrap(np.asarray(new))
    elif records and new._rg and (new._op is None or new._seq <= start):
        new = P.alias(new)  # an existing tensor (copy_(src)): a node of its own, child of it
    if new.shape != t.shape:
        raise RuntimeError(f"{op}: output with shape {list(t.shape)} doesn't match the broadcast "
                           f"shape {list(new.shape)}")
    _check_cast(op, new._d.dtype, t._d.dtype)
    if records and t._rg and not new._rg:
        # A constant overwrites a tensor of the graph (fill_, normal_, copy_ of a constant):
        # as in PyTorch it stays in the graph, with a zero gradient to its old value.
        value = new if new._d.dtype == t._d.dtype else P.astype(new, dtype=t._d.dtype)
        new = P.where(value, t, cond=np.True_)
    records = records and new._rg
    if records:
        share_version(t)           # the old record shares the counter the write bumps
        old = snapshot(t)
        if _saved_during(new, t, start):
            # The new value's own rule reads the old one (x.mul_(y) needs x for ȳ):
            # keep it in memory of its own, with a counter of its own.
            old._d = np.array(t._d, copy=True)
            old._vc = Version()
    _write(t, new._d, op)
    bump_version(t)
    tracer = graph.tracer()
    if tracer is not None:
        tracer.write(t, new)
    if records:
        rebase(t, new, old)
        child = t
        for view_op, settings, base in chain:
            if view_op.unview is None:
                raise RuntimeError(f"{op}: cannot change a broadcast view in place (its "
                                   f"elements share memory); .clone() it first")
            base_old = snapshot(base)
            base_new = view_op.unview(base, child, **settings)
            rebase(base, base_new, base_old)
            if tracer is not None:
                tracer.write(base, base_new)
            child = base
        # every other view of the memory just written sees new values: new histories
        skip = {id(t)} | {id(b) for _, _, b in chain}
        for b in [t] + [b for _, _, b in chain]:
            _regenerate_views(b, skip)
    elif new._tan is not None or _has_tangents((t,) + operands):
        t._tan = new._tan
    return t


def _check_cast(op, src, dst):
    if not np.can_cast(src, dst, casting="same_kind"):
        raise RuntimeError(f"{op}: result type {src} can't be cast to the desired output type "
                           f"{dst} of the tensor changed in place")


def _saved_during(new, t, start):
    """Did a node recorded since ``start`` save ``t``'s value (so the old value
    must outlive the write)?"""
    stack, seen = [new], set()
    while stack:
        n = stack.pop()
        if n._op is None or not n._rg or n._seq <= start or id(n) in seen:
            continue
        seen.add(id(n))
        parents = n._parents or ()
        for p, reads in zip(parents, n._op.saves):
            if p._rg and any((n if i < 0 else parents[i]) is t for i in reads):
                return True
        stack.extend(parents)
    return False


def _write(t, value, op):
    d = t._d
    if d.__class__ is not np.ndarray:  # a 0-d value held as a NumPy scalar: no memory to share
        t._d = d.dtype.type(value)
        return
    if not d.flags.writeable:
        raise RuntimeError(f"{op}: this tensor's memory is read-only (e.g. a broadcast view whose "
                           f"elements share memory); .clone() it first")
    np.copyto(d, value, casting="unsafe")


def _fast(t, op, operands):
    """True when ``t`` can simply be written (no graph, no tangents, no tracer)."""
    if graph.tracer() is not None:
        return False  # the compiler must see the new value computed by ops
    if state.grad_enabled and (t._rg or any(isinstance(a, TensorBase) and a._rg for a in operands)):
        return False
    return not (state.levels and (t._tan or any(isinstance(a, TensorBase) and a._tan
                                                 for a in operands)))


def ufunc_(t, op, ufunc, other, compute):
    """``t = ufunc(t, other)`` in place: one NumPy call with ``out=`` when no
    graph is involved (an optimiser's update), else ``inplace``."""
    if not isinstance(t, TensorBase):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if _fast(t, op, (other,)) and t._d.__class__ is np.ndarray and t._d.flags.writeable:
        o = other._d if isinstance(other, TensorBase) else other
        try:
            shape = np.broadcast_shapes(t.shape, np.shape(o))
        except ValueError:
            shape = None
        if shape != t.shape:
            raise RuntimeError(f"{op}: output with shape {list(t.shape)} doesn't match the "
                               f"broadcast shape {list(shape) if shape else np.shape(o)}")
        o = lift(o, t, op)._d
        _check_cast(op, ufunc.resolve_dtypes((t._d.dtype, np.result_type(o), None))[-1],
                    t._d.dtype)
        ufunc(t._d, o, out=t._d, casting="unsafe")
        bump_version(t)
        return t
    return inplace(t, op, compute, other)


def overwrite(t, op, make):
    """Replace ``t``'s values by ``make(shape, dtype)``, a constant Tensor (e.g. a
    ``primitives.draw``, which a compiled step draws afresh) or an ndarray that does
    not depend on them (``normal_``, ``uniform_``, ...), in place.

    Without a graph the array goes straight into ``t``'s memory; otherwise as
    ``inplace`` (refused on a leaf that requires grad outside ``no_grad``; a
    tensor of a graph keeps a zero gradient to its old value). ``make`` runs
    after those checks, so a refused call draws no random numbers.
    """
    if not isinstance(t, TensorBase):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    d = t._d
    if _fast(t, op, ()) and d.__class__ is np.ndarray and d.flags.writeable:
        value = make(d.shape, d.dtype)
        np.copyto(d, value._d if isinstance(value, TensorBase) else value, casting="unsafe")
        bump_version(t)
        return t
    return inplace(t, op, lambda x: make(x.shape, x._d.dtype))


def _traced_mask_assignment(t, index, value):
    """``t[mask] = value`` inside a compiled function, with ``mask`` a boolean
    tensor (whose positions change from call to call): written as
    ``where(mask, value, t)``, which a program can replay, when ``value`` is one
    number; otherwise refused (the number of values needed is the mask's count)."""
    mask = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if not (isinstance(mask, TensorBase) and mask._d.dtype == np.bool_):
        if any(isinstance(i, TensorBase) and i._d.dtype == np.bool_
               for i in (index if isinstance(index, tuple) else ())):
            _escape(mask, "t[..., mask] = value with a boolean mask among other indices")
        return None
    one_value = not isinstance(value, TensorBase) or value._d.size == 1
    if not one_value or mask.shape != t.shape[:mask.ndim]:
        _escape(mask, "t[mask] = values with a boolean mask (the number of values is the "
                      "mask's count; assign one number, or use ag.where)")
    cond = mask if mask.ndim == t.ndim else \
        P.reshape(mask, shape=mask.shape + (1,) * (t.ndim - mask.ndim))
    if isinstance(value, TensorBase) and value.ndim:
        value = P.reshape(value, shape=())
    return inplace(t, "setitem", lambda x, v: P.where(_value(v, x), x, cond=cond._d), value)


def setitem(t, index, value):
    """``t[index] = value``: differentiable in both ``t`` and ``value`` when a graph is involved."""
    if not isinstance(t, TensorBase):
        raise TypeError(f"setitem: expected a Tensor, got {type(t).__name__}")
    if graph.tracer() is not None:
        masked = _traced_mask_assignment(t, index, value)
        if masked is not None:
            return masked
    idx = P.normalized_index(index)
    if _fast(t, "setitem", (value,)):
        v = value._d if isinstance(value, TensorBase) else value
        d = t.data
        if not d.flags.writeable:
            raise RuntimeError("setitem: this tensor's memory is read-only (e.g. a broadcast "
                               "view); .clone() it first")
        try:
            d[idx] = v
        except (IndexError, ValueError, TypeError) as e:
            raise IndexError(f"setitem: cannot assign a value of shape {np.shape(v)} at this "
                             f"index of a tensor of shape {t.shape}: {e}") from None
        bump_version(t)
        return t
    if isinstance(value, TensorBase):
        _check_cast("setitem", value._d.dtype, t._d.dtype)
    return inplace(t, "setitem", lambda x, v: P.index_put(x, _value(v, x), index=idx), value)


def _value(v, like):
    v = lift(v, like, "setitem")
    if v._d.dtype != like._d.dtype:
        from .arithmetic import astype
        v = astype(v, like._d.dtype) if like._d.dtype.kind == "f" else v
    return v


def fill_value(t, value, op):
    """A value for ``fill_``-style ops: a number, or a one-element tensor."""
    if isinstance(value, TensorBase):
        if value._d.size != 1:
            raise RuntimeError(f"{op}: only supports a 0-dimensional value tensor, but got one "
                               f"of shape {value.shape}")
        return value
    return to_tensor(value, op, "value")
