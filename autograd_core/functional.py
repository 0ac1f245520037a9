"""Derivatives as functions: ``grad``, ``vjp``, ``jvp``, ``hvp``, ``hessian``,
``jacobian`` — and ``r_op``, Pearlmutter's R{·} operator made visible.

For f: ℝⁿ → ℝᵐ with Jacobian J (m × n) at x:

=====================  ==========================================  ===================
call                   returns                                     cost (passes)
=====================  ==========================================  ===================
``grad(f, x)``         ∇f(x)            (f scalar)                 1 fwd + 1 bwd
``vjp(f, x, u)``       (f(x), uᵀJ)                                 1 fwd + 1 bwd
``jvp(f, x, v)``       (f(x), J v)      forward mode               1 fwd with tangents
``hvp(f, x, v)``       (f(x), H v)      R{∇f}, forward-over-reverse 1 fwd + 1 bwd, both with tangents
``hessian(f, x)``      H, shape x.shape + x.shape                  n hvps
``jacobian(f, x)``     J, shape f(x).shape + x.shape               m bwd or n fwd passes
=====================  ==========================================  ===================

Conventions follow ``torch.autograd.functional``: a single input ``x`` (a
Tensor, an ndarray or a number) gives single results; a tuple (or list) of
inputs makes ``f`` be called as ``f(*x)`` and gives a tuple per input (``grad``,
``vjp``, ``hvp``, ``jacobian``), one tensor shaped like f(x) for ``jvp`` (the
sum of the inputs' effects, ``v`` a matching tuple) and a tuple of tuples for
``hessian`` (``H[i][j]`` of shape ``x[i].shape + x[j].shape``).

How it works. ``f`` is evaluated on *stand-ins* for the inputs, so the
caller's tensors never receive a ``.grad`` or a tangent. Gradients are the
values the engine's sweep returns (``autograd.grad``): no ``.grad`` anywhere
is read or written. Forward mode opens a new forward level per call, so
calls nest:

* ``jvp``: the stand-ins carry the direction at the new level; every
  primitive pushes it (v̇_j = Σ_i ∂v_j/∂v_i v̇_i, the R{·} of the forward
  pass), and the output's tangent is J v.
* ``hvp`` (Pearlmutter's R-operator): H v = R{∇f} = d/dr ∇f(x + r v) at r=0.
  The forward pass carries tangents and the backward pass runs while the
  level is open: the VJP rules then run on Tensors whose tangents flow, so
  each cotangent v̄_i (the δ's of backpropagation) carries R{v̄_i} and the
  gradients carry H v. Exact, O(W) time and memory, H never formed.
  ``method='reverse-over-reverse'`` takes instead the gradient of
  ⟨∇f(x), v⟩ through a recorded backward pass.

Composition. Results are detached from the caller's graph unless
``create_graph=True`` — except inside another functional call, where every
result stays differentiable by the enclosing one (reverse or forward), as
JAX's transformations compose: ``jvp(lambda x: jvp(f, x, v1)[1], x, v2)`` is
a second directional derivative, ``jacobian(lambda x: hvp(f, x, v)[1], x)`` a
third-order tensor contracted with v, and an ``hvp`` inside a ``jvp`` works.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from . import autograd
from . import primitives as P
from .core import TensorBase, open_tangents, set_tangent, tangent_at, wrap
from .graph import Level, enable_grad, no_grad, retain_grads, set_grad_enabled, state, toposort

__all__ = ["grad", "vjp", "jvp", "hvp", "hessian", "jacobian", "gradients", "r_op", "ROpResult",
           "closure_jvp", "closure_hvp", "closure_jacobian",
           "HVP_METHODS", "JACOBIAN_MODES"]


# ---------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------

def _to_tensor(value, fname, argname, allow_list=False):
    """A Tensor for one input or direction; TypeError naming the argument."""
    if isinstance(value, TensorBase):
        return value
    if allow_list and isinstance(value, list):
        value = np.asarray(value)
    if isinstance(value, (np.ndarray, np.generic, numbers.Number)) and not isinstance(value, (bool, np.bool_)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return wrap(arr)
    raise TypeError(f"{fname}: {argname} must be a Tensor, an ndarray or a number, "
                    f"got {type(value).__name__}"
                    + (f" of dtype {np.asarray(value).dtype}" if isinstance(value, np.ndarray) else ""))


def _inputs(x, fname):
    """(tuple of Tensors, is_tuple). Integer inputs cannot be differentiated."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    if is_tuple and not items:
        raise ValueError(f"{fname}: x is an empty tuple; give at least one input")
    out = []
    for i, item in enumerate(items):
        name = f"x[{i}]" if is_tuple else "x"
        t = _to_tensor(item, fname, name)
        if t.dtype.kind != "f":
            raise TypeError(f"{fname}: {name} has dtype {t.dtype}; only floating-point inputs "
                            f"can be differentiated (convert it, e.g. x.astype(np.float64))")
        out.append(t)
    return tuple(out), is_tuple


def _matching(d, like, fname, dname, likename):
    """``d`` as a Tensor of ``like``'s shape and dtype (ValueError naming both shapes)."""
    d = _to_tensor(d, fname, dname, allow_list=True)
    if d.shape != like.shape:
        raise ValueError(f"{fname}: {dname} has shape {d.shape} but {likename} has shape "
                         f"{like.shape}; they must match")
    if d.dtype != like.dtype:
        d = d.astype(like.dtype)
    return d


def _directions(v, xs, is_tuple, fname, argname):
    """Directions matching the inputs one to one, cast to their dtypes."""
    if v is None:
        if is_tuple or xs[0].size != 1:
            raise ValueError(f"{fname}: {argname} may only be omitted when x is a single tensor "
                             f"with one element; x has shape "
                             f"{tuple(t.shape for t in xs) if is_tuple else xs[0].shape}")
        return (wrap(np.ones_like(xs[0]._d)),)
    if is_tuple:
        if not isinstance(v, (tuple, list)):
            raise TypeError(f"{fname}: x is a tuple of {len(xs)} inputs, so {argname} must be a "
                            f"tuple of {len(xs)} directions, got {type(v).__name__}")
        if len(v) != len(xs):
            raise ValueError(f"{fname}: {argname} has {len(v)} entries but x has {len(xs)}")
        items = tuple(v)
    else:
        items = (v,)
    return tuple(_matching(d, x, fname, f"{argname}[{i}]" if is_tuple else argname,
                           f"x[{i}]" if is_tuple else "x")
                 for i, (d, x) in enumerate(zip(items, xs)))


def _check_f(f, fname):
    if not callable(f):
        raise TypeError(f"{fname}: f must be callable, got {type(f).__name__}")


def _call(f, args, fname):
    state.transforms += 1
    try:
        out = f(*args)
    finally:
        state.transforms -= 1
    if not isinstance(out, TensorBase):
        raise TypeError(f"{fname}: f must return a Tensor, got {type(out).__name__}")
    return out


def _check_scalar(out, fname):
    if out.size != 1:
        raise ValueError(f"{fname}: f must return a scalar (a tensor with one element), but it "
                         f"returned a tensor of shape {out.shape}; reduce it (e.g. .sum()) or "
                         f"use vjp/jacobian")


def _keep(create_graph, xs):
    """Should results stay differentiable with respect to the inputs? When asked,
    and inside an enclosing functional call whose inputs these depend on."""
    if create_graph:
        return True
    return state.transforms > 0 and state.grad_enabled and any(x._rg for x in xs)


def _stand_ins(xs, requires_grad, keep):
    """What ``f`` is evaluated on, one per input.

    With ``keep``, an input that requires grad is stood in for by an alias node
    (the identity): results stay connected to it. Otherwise a new leaf
    sharing the input's memory, carrying the input's tangents of the open
    (enclosing) forward levels, so those still see through the call.
    """
    out = []
    for x in xs:
        if keep and x._rg:
            with enable_grad():
                s = P.alias(x)
        else:
            s = wrap(x._d)
            s._tan = open_tangents(x)
            if requires_grad:
                s._rg = True
        out.append(s)
    return out


def _result(t, like, keep):
    """A result: zeros for a missing derivative; detached unless ``keep`` (but
    still carrying the tangents of enclosing forward levels)."""
    if t is None:
        return wrap(np.zeros(like.shape, dtype=like.dtype))
    if keep:
        return t
    out = wrap(t._d if t.dtype == like.dtype or like.dtype.kind != "f"
               else np.asarray(t._d, dtype=like.dtype))
    out._tan = open_tangents(t)
    return out


def _output(out, keep):
    if keep:
        return out
    plain = wrap(out._d)
    plain._tan = open_tangents(out)
    return plain


def _pack(items, is_tuple):
    return tuple(items) if is_tuple else items[0]


def _grads(out, targets, cotangent, keep, retain=True):
    """d out / d targets (None where unused), by the sweep."""
    if not out._rg:
        return [None] * len(targets)
    return list(autograd.grad(out, targets, cotangent, retain_graph=retain, create_graph=keep,
                              allow_unused=True))


def gradients(output, inputs, cotangent=None, create_graph=False):
    """d output / d inputs as a list of Tensors (None where ``output`` does not
    depend on an input): ``autograd.grad`` with ``allow_unused=True`` and the
    graph retained. No ``.grad`` anywhere is changed.

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> w = ag.tensor(3.0, requires_grad=True)
        >>> unused = ag.tensor(1.0, requires_grad=True)
        >>> functional.gradients((w * w).sum(), [w, unused])     # None: no path
        [Tensor(6., dtype=float32), None]
        >>> w.grad is None                                      # no .grad changed
        True
    """
    if not isinstance(output, TensorBase):
        raise TypeError(f"gradients: output must be a Tensor, got {type(output).__name__}")
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase):
            raise TypeError(f"gradients: inputs[{i}] must be a Tensor, got {type(t).__name__}")
    return _grads(output, inputs, cotangent, create_graph)


# ---------------------------------------------------------------------------
# grad, vjp
# ---------------------------------------------------------------------------

def grad(f, x, create_graph=False):
    """∇f(x) for scalar-valued f: a Tensor shaped like ``x`` (a tuple for a tuple ``x``).

    One forward and one backward pass. ``create_graph=True`` records the
    backward pass, so the result can be differentiated again (w.r.t. ``x`` too).

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.grad(lambda x: (x ** 3).sum(), x)          # 3x²
        Tensor([ 3., 12.], dtype=float32)
        >>> functional.grad(lambda a, b: (a * b).sum(), (x, 2 * x))  # (∂/∂a, ∂/∂b) = (b, a)
        (Tensor([2., 4.], dtype=float32), Tensor([1., 2.], dtype=float32))
    """
    _check_f(f, "grad")
    xs, is_tuple = _inputs(x, "grad")
    keep = _keep(create_graph, xs)
    ins = _stand_ins(xs, True, keep)
    with enable_grad():
        out = _call(f, ins, "grad")
        _check_scalar(out, "grad")
        gs = _grads(out, ins, None, keep, retain=keep)
    return _pack([_result(g, x_, keep) for g, x_ in zip(gs, xs)], is_tuple)


def vjp(f, x, u=None, create_graph=False):
    """``(f(x), uᵀJ)``: the vector-Jacobian product, by one reverse pass.

    ``u`` is shaped like f(x); it may be omitted when f(x) has one element.
    ``uᵀJ`` is shaped like ``x`` (a tuple for a tuple ``x``).

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.vjp(lambda x: x ** 2, x, ag.tensor([1.0, 10.0]))   # uᵀ diag(2x)
        (Tensor([1., 4.], dtype=float32), Tensor([ 2., 40.], dtype=float32))
    """
    _check_f(f, "vjp")
    xs, is_tuple = _inputs(x, "vjp")
    keep = _keep(create_graph, xs)
    ins = _stand_ins(xs, True, keep)
    with enable_grad():
        out = _call(f, ins, "vjp")
        if u is None:
            if out.size != 1:
                raise ValueError(f"vjp: u may only be omitted when f(x) has one element; "
                                 f"f(x) has shape {out.shape}")
        else:
            u = _matching(u, out, "vjp", "u", "f(x)")
        gs = _grads(out, ins, u, keep, retain=keep)
    return _output(out, keep), _pack([_result(g, x_, keep) for g, x_ in zip(gs, xs)], is_tuple)


# ---------------------------------------------------------------------------
# Forward mode: jvp
# ---------------------------------------------------------------------------

def jvp(f, x, v=None, create_graph=False):
    """``(f(x), J v)`` by forward mode: one evaluation of ``f`` in which every
    primitive also applies its JVP rule to its inputs' tangents.

    For a tuple ``x``, ``v`` is a matching tuple and J v = Σ_i J_i v_i is one
    tensor shaped like f(x). ``v`` may be omitted for a single one-element ``x``.
    No backward pass, no finite differences: cost about 2-3 forward passes.

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.jvp(lambda x: x ** 2, x, ag.tensor([1.0, 0.0]))   # diag(2x) v
        (Tensor([1., 4.], dtype=float32), Tensor([2., 0.], dtype=float32))
    """
    _check_f(f, "jvp")
    xs, is_tuple = _inputs(x, "jvp")
    vs = _directions(v, xs, is_tuple, "jvp", "v")
    keep = _keep(create_graph, xs) or _keep(create_graph, vs)
    ins = _stand_ins(xs, False, keep)
    with set_grad_enabled(keep and state.grad_enabled or bool(create_graph)), \
            Level(record=keep) as level:
        for s, d in zip(ins, vs):
            set_tangent(s, d, level)
        out = _call(f, ins, "jvp")
        jv = tangent_at(out, level)
    return _output(out, keep), _result(jv, out, keep)


# ---------------------------------------------------------------------------
# The R-operator: hvp
# ---------------------------------------------------------------------------

HVP_METHODS = ("forward-over-reverse", "reverse-over-reverse")


def _check_method(method, fname):
    if method not in HVP_METHODS:
        raise ValueError(f"{fname}: method must be one of {HVP_METHODS}, got {method!r}")


def _hvp(f, ins, vs, keep, method, fname):
    """(f(ins), [H v per input] or None entries), on stand-ins ``ins``."""
    if method == "forward-over-reverse":
        with enable_grad(), Level(record=keep) as level:
            for s, d in zip(ins, vs):
                set_tangent(s, d, level)
            out = _call(f, ins, fname)
            _check_scalar(out, fname)
            gs = _grads(out, ins, None, keep, retain=keep)
            return out, [None if g is None else tangent_at(g, level) for g in gs]
    with enable_grad():
        out = _call(f, ins, fname)
        _check_scalar(out, fname)
        gs = _grads(out, ins, None, True)
        inner = None
        for g, d in zip(gs, vs):
            if g is not None:
                term = (g * d).sum()
                inner = term if inner is None else inner + term
        hv = [None] * len(ins) if inner is None else _grads(inner, ins, None, keep, retain=keep)
    return out, hv


def hvp(f, x, v=None, method="forward-over-reverse", create_graph=False):
    """``(f(x), H v)`` for scalar f, H the Hessian at x, never forming H.

    ``method='forward-over-reverse'`` (default) is Pearlmutter's R-operator:
    H v = R{∇f}, computed by one forward and one backward pass in which every
    value also carries its R{·} (its directional derivative along v). Cost: a
    gradient plus the tangent of each step, ≈ 2 gradients; memory O(W).

    ``method='reverse-over-reverse'``: H v = ∇_x ⟨∇f(x), v⟩, the gradient of a
    recorded (``create_graph``) backward pass; about the same cost, but records
    the backward graph.

    For a tuple ``x``, ``v`` is a matching tuple and the result a tuple
    (H v)_i = Σ_j H_ij v_j. ``v`` may be omitted for a single one-element ``x``.

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.hvp(lambda x: (x ** 3).sum(), x, ag.tensor([1.0, 1.0]))   # diag(6x) v
        (Tensor(9., dtype=float32), Tensor([ 6., 12.], dtype=float32))
        >>> functional.hvp(lambda x: (x ** 3).sum(), x, ag.tensor([1.0, 1.0]),
        ...                method="reverse-over-reverse")[1]
        Tensor([ 6., 12.], dtype=float32)
    """
    _check_f(f, "hvp")
    _check_method(method, "hvp")
    xs, is_tuple = _inputs(x, "hvp")
    vs = _directions(v, xs, is_tuple, "hvp", "v")
    keep = _keep(create_graph, xs) or _keep(create_graph, vs)
    out, hv = _hvp(f, _stand_ins(xs, True, keep), vs, keep, method, "hvp")
    return _output(out, keep), _pack([_result(h, x_, keep) for h, x_ in zip(hv, xs)], is_tuple)


# ---------------------------------------------------------------------------
# Closures over tensors (a model's parameters)
# ---------------------------------------------------------------------------

def _closure_params(params, fname):
    if isinstance(params, TensorBase):
        raise TypeError(f"{fname}: params must be a sequence of Tensors (e.g. "
                        f"list(model.parameters())), got a single Tensor; wrap it in a list")
    params = list(params)
    if not params:
        raise ValueError(f"{fname}: params is empty")
    for i, p in enumerate(params):
        if not isinstance(p, TensorBase):
            raise TypeError(f"{fname}: params[{i}] must be a Tensor, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"{fname}: params[{i}] (shape {p.shape}) does not require grad; "
                             f"the tensors to differentiate with respect to must require grad")
    return params


def _closure_directions(v, params, fname):
    if not isinstance(v, (list, tuple)) or len(v) != len(params):
        raise TypeError(f"{fname}: v must be a list of {len(params)} directions, one per "
                        f"parameter")
    return [_matching(d, p, fname, f"v[{i}]", f"params[{i}]") for i, (d, p) in
            enumerate(zip(v, params))]


def closure_jvp(fn, params, v):
    """``(fn(), J v)`` for a closure ``fn`` over the tensors ``params`` (a model's
    parameters), J = ∂fn()/∂params: ``jvp`` for a function that reads its
    inputs from its scope. ``v`` is a list of directions, one per parameter.
    The parameters carry the directions only while ``fn`` runs.

        >>> from autograd_core import functional
        >>> model = nn.Linear(2, 1)
        >>> x = ag.tensor([[1.0, 2.0]])
        >>> params = list(model.parameters())
        >>> directions = [ag.ones(1, 2), ag.zeros(1)]           # move the weight only
        >>> y, Jv = functional.closure_jvp(lambda: model(x), params, directions)
        >>> Jv                                                  # x · 1 = 1 + 2
        Tensor([[3.]], dtype=float32)
    """
    _check_f(fn, "closure_jvp")
    params = _closure_params(params, "closure_jvp")
    vs = _closure_directions(v, params, "closure_jvp")
    with enable_grad(), Level(record=False) as level:
        for p, d in zip(params, vs):
            set_tangent(p, d, level, touched=True)
        out = _call(lambda: fn(), (), "closure_jvp")
        jv = tangent_at(out, level)
    return out, _result(jv, out, False)


def closure_hvp(fn, params, v, method="forward-over-reverse"):
    """``(fn(), [H v per parameter])`` for a closure ``fn`` returning a scalar E of
    the tensors ``params`` it reads from its scope (a model's parameters).

    The same R-operator as ``hvp``. ``fn`` may also be an optimiser closure that
    calls ``E.backward()`` itself: the backward pass then runs while the
    directions are set, so ``p.grad`` is ∇E as usual and H v is read from the
    R{·} of those gradients (one closure call, ≈ 2 gradients). Otherwise the
    gradient is taken by the sweep and no ``.grad`` changes.

        >>> from autograd_core import functional
        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> E, Hv = functional.closure_hvp(lambda: (w ** 3).sum(), [w], [ag.tensor([1.0, 1.0])])
        >>> E, Hv                                               # E = 9, H v = 6w ⊙ v
        (Tensor(9., dtype=float32, grad_fn=<sum>), [Tensor([ 6., 12.], dtype=float32)])
    """
    _check_f(fn, "closure_hvp")
    _check_method(method, "closure_hvp")
    params = _closure_params(params, "closure_hvp")
    vs = _closure_directions(v, params, "closure_hvp")
    if method == "reverse-over-reverse":
        out, hv = _hvp(lambda *_: fn(), params, vs, False, method, "closure_hvp")
        return out, [_result(h, p, False) for h, p in zip(hv, params)]
    before = [p.grad for p in params]
    with enable_grad(), Level(record=False) as level:
        for p, d in zip(params, vs):
            set_tangent(p, d, level, touched=True)
        out = _call(lambda: fn(), (), "closure_hvp")
        _check_scalar(out, "closure_hvp")
        if any(p.grad is not b for p, b in zip(params, before)):
            # fn ran backward(): its gradients carry R{∇E} = H v. A gradient
            # accumulated onto an earlier one carries the same R{·}. The tangent
            # is this call's, so it ends with it: .grad is left a plain gradient.
            hv = [None if p.grad is None else tangent_at(p.grad, level) for p in params]
            for p in params:
                if p.grad is not None:
                    set_tangent(p.grad, None, level)
        else:
            hv = [None if g is None else tangent_at(g, level)
                  for g in _grads(out, params, None, False, retain=False)]
    return out, [_result(h, p, False) for h, p in zip(hv, params)]


def closure_jacobian(fn, params):
    """``(y, [J_p per parameter])`` for a closure ``fn`` over the tensors
    ``params``: J_p = ∂y/∂p of shape ``y.shape + p.shape``, by one backward pass
    per element of y. No ``.grad`` changes.

        >>> from autograd_core import functional
        >>> model = nn.Linear(2, 3)
        >>> y, (J_weight, J_bias) = functional.closure_jacobian(lambda: model(ag.ones(2)), list(model.parameters()))
        >>> J_weight.shape, J_bias.shape                        # y.shape + p.shape
        ((3, 3, 2), (3, 3))
        >>> J_bias                                              # ∂y/∂b = I
        Tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]], dtype=float32)
    """
    _check_f(fn, "closure_jacobian")
    params = _closure_params(params, "closure_jacobian")
    with enable_grad():
        y = _call(lambda: fn(), (), "closure_jacobian")
        rows = [[] for _ in params]
        for m in range(y.size):
            for j, g in enumerate(_grads(y, params, wrap(_unit(y.shape, m, y.dtype)), False)):
                rows[j].append(g)
    return y, [_assemble(r, y.shape, p.shape, np.result_type(y.dtype, p.dtype), False, False)
               for r, p in zip(rows, params)]


# ---------------------------------------------------------------------------
# Full matrices: jacobian, hessian
# ---------------------------------------------------------------------------

JACOBIAN_MODES = ("auto", "forward", "reverse")


def _outputs(out, fname):
    """f's result as (tuple of Tensors, is_tuple)."""
    if isinstance(out, TensorBase):
        return (out,), False
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, TensorBase) for o in out):
        return tuple(out), True
    raise TypeError(f"{fname}: f must return a Tensor or a tuple of Tensors, got "
                    f"{type(out).__name__}")


def _call_multi(f, args, fname):
    state.transforms += 1
    try:
        return _outputs(f(*args), fname)
    finally:
        state.transforms -= 1


def _unit(shape, k, dtype):
    e = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=dtype)
    e[k] = 1
    return e.reshape(shape)


def _assemble(pieces, lead_shape, trail_shape, dtype, keep, along_last):
    """Stack per-element derivatives into one block of shape lead + trail.

    ``pieces`` are Tensors (or None = zero); reverse mode gives rows (one per
    element of lead, each shaped trail), forward mode gives columns (one per
    element of trail, each shaped lead).
    """
    from .ops import reshape, stack
    shape = tuple(lead_shape) + tuple(trail_shape)
    piece_shape = trail_shape if not along_last else lead_shape
    if not pieces:
        return wrap(np.zeros(shape, dtype=dtype))
    if keep or any(p is not None and p._tan is not None for p in pieces):
        ts = [p if p is not None else wrap(np.zeros(piece_shape, dtype=dtype)) for p in pieces]
        flat = stack([reshape(t, -1) for t in ts], axis=1 if along_last else 0)
        return _result(reshape(flat, shape), wrap(np.zeros((), dtype)), keep)
    mat = np.zeros((len(pieces), int(np.prod(piece_shape, dtype=np.int64))), dtype=dtype)
    for k, p in enumerate(pieces):
        if p is not None:
            mat[k] = np.asarray(p._d, dtype=dtype).reshape(-1)
    if along_last:
        mat = mat.T
    return wrap(np.ascontiguousarray(mat).reshape(shape))


def jacobian(f, x, mode="auto", create_graph=False):
    """The Jacobian J with shape ``f(x).shape + x.shape``, exact.

    ``mode='reverse'``: one forward pass, then one backward pass per output
    element (rows uᵀJ). ``mode='forward'``: one forward-mode evaluation per
    input element (columns J e_k). ``mode='auto'`` (default) uses forward mode
    when the inputs have fewer elements than the outputs, else reverse.

    Shapes follow ``torch.autograd.functional.jacobian``: a tuple ``x`` gives a
    tuple over inputs; if ``f`` returns a tuple, the result is a tuple over
    outputs (of tuples over inputs when ``x`` is a tuple too).

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.jacobian(lambda x: ag.stack([x[0] * x[1], x[0] + x[1]]), x)
        Tensor([[2., 1.],
                [1., 1.]], dtype=float32)
        >>> functional.jacobian(lambda x: x.sin(), x, mode="forward").shape
        (2, 2)
    """
    _check_f(f, "jacobian")
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"jacobian: mode must be one of {JACOBIAN_MODES}, got {mode!r}")
    xs, in_tuple = _inputs(x, "jacobian")
    keep = _keep(create_graph, xs)
    n_in = sum(t.size for t in xs)
    outs = None
    if mode != "forward":
        ins = _stand_ins(xs, True, keep)
        with enable_grad():
            outs, out_tuple = _call_multi(f, ins, "jacobian")
        if mode == "auto":
            mode = "forward" if n_in < sum(o.size for o in outs) else "reverse"

    if mode == "reverse":
        blocks = [[None] * len(xs) for _ in outs]
        for i, o in enumerate(outs):
            rows = [[] for _ in xs]
            with enable_grad():
                for m in range(o.size):
                    gs = _grads(o, ins, wrap(_unit(o.shape, m, o.dtype)), keep)
                    for j, g in enumerate(gs):
                        rows[j].append(g)
            for j, x_ in enumerate(xs):
                dtype = np.result_type(o.dtype, x_.dtype)
                blocks[i][j] = _assemble(rows[j], o.shape, x_.shape, dtype, keep, False)
    else:
        cols, out_tuple = None, None
        for j, x_ in enumerate(xs):
            for k in range(x_.size):
                ins = _stand_ins(xs, False, keep)
                with set_grad_enabled(keep), Level(record=keep) as level:
                    set_tangent(ins[j], wrap(_unit(x_.shape, k, x_.dtype)), level)
                    outs, out_tuple = _call_multi(f, ins, "jacobian")
                    tans = [tangent_at(o, level) for o in outs]
                if cols is None:
                    cols = [[[] for _ in xs] for _ in outs]
                for i, t in enumerate(tans):
                    cols[i][j].append(t)
        if cols is None:  # every input is empty: evaluate once for the output shapes
            with no_grad():
                outs, out_tuple = _call_multi(f, _stand_ins(xs, False, False), "jacobian")
            cols = [[[] for _ in xs] for _ in outs]
        blocks = [[_assemble(cols[i][j], o.shape, x_.shape, np.result_type(o.dtype, x_.dtype),
                             keep, True)
                   for j, x_ in enumerate(xs)] for i, o in enumerate(outs)]
    per_out = [_pack(row, in_tuple) for row in blocks]
    return _pack(per_out, out_tuple)


def hessian(f, x, method="forward-over-reverse", create_graph=False):
    """The exact Hessian of scalar f: shape ``x.shape + x.shape``; for a tuple
    ``x`` a tuple of tuples, ``H[i][j]`` of shape ``x[i].shape + x[j].shape``.

    ``method='forward-over-reverse'`` (default): n Hessian-vector products
    H e_k by the R-operator, one column each (n = number of input elements);
    cost n·(≈2 gradients), memory O(n) beyond the result.
    ``method='reverse-over-reverse'``: the Jacobian of a recorded gradient
    (one forward + backward with ``create_graph``, then n backward passes
    through that gradient's graph).

        >>> from autograd_core import functional
        >>> x = ag.tensor([1.0, 2.0])
        >>> functional.hessian(lambda x: x[0] ** 2 * x[1], x)            # [[2x₁, 2x₀], [2x₀, 0]]
        Tensor([[4., 2.],
                [2., 0.]], dtype=float32)
    """
    _check_f(f, "hessian")
    _check_method(method, "hessian")
    xs, is_tuple = _inputs(x, "hessian")
    keep = _keep(create_graph, xs)
    if method == "reverse-over-reverse":
        def g(*args):
            return grad(f, args, create_graph=True)
        J = jacobian(g, xs, mode="reverse", create_graph=create_graph)
        blocks = [list(row) for row in J]
    else:
        cols = [[[] for _ in xs] for _ in xs]
        for j, x_ in enumerate(xs):
            for k in range(x_.size):
                v = [wrap(np.zeros(t.shape, dtype=t.dtype)) for t in xs]
                v[j] = wrap(_unit(x_.shape, k, x_.dtype))
                _, hv = _hvp(f, _stand_ins(xs, True, keep), v, keep, method, "hessian")
                for i in range(len(xs)):
                    cols[i][j].append(hv[i])
        blocks = [[_assemble(cols[i][j], xi.shape, xj.shape,
                             np.result_type(xi.dtype, xj.dtype), keep, True)
                   for j, xj in enumerate(xs)] for i, xi in enumerate(xs)]
    if not is_tuple:
        return blocks[0][0]
    return tuple(tuple(row) for row in blocks)


# ---------------------------------------------------------------------------
# The R-operator made visible (teaching)
# ---------------------------------------------------------------------------

class ROpResult(NamedTuple):
    """What ``r_op`` returns.

    output  f(x), graph kept. Every node n of the graph has ``n.tangent`` = R{n}
            (its derivative along v) and, after the backward pass, ``n.grad`` =
            ∂E/∂n (the δ of backpropagation) with ``n.grad.tangent`` = R{∂E/∂n}.
    inputs  the leaves f was evaluated on: ``.tangent`` is v, ``.grad`` is
            ∇E and ``.grad.tangent`` is H v (a tuple for a tuple x).
    grad    ∇E (uᵀJ for a non-scalar f), or None without the backward pass.
    hvp     H v = R{∇E} (R{uᵀJ}), or None without the backward pass.
    level   the forward level that carried the R{·} values.

        >>> from autograd_core import functional
        >>> res = functional.r_op(lambda x: (x * x).sum(), ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))
        >>> res.output, res.hvp
        (Tensor(5., dtype=float32, grad_fn=<sum>), Tensor([2., 2.], dtype=float32))
    """
    output: TensorBase
    inputs: object
    grad: object
    hvp: object
    level: Level

    def nodes(self):
        """Every node in topological order (inputs first) as a dict with keys
        ``op``, ``name``, ``shape``, ``value``, ``R`` (R{value}), ``grad``
        (∂E/∂node) and ``R_grad`` (R{∂E/∂node}); ndarrays or None (= zero)."""
        def arr(t):
            return None if t is None else t.data
        rows = []
        for n in toposort(self.output) if self.output.requires_grad else [self.output]:
            g = n.grad
            rows.append({
                "op": "input" if n.is_leaf else n.grad_fn.name,
                "name": n.name,
                "shape": n.shape,
                "value": n.data,
                "R": arr(tangent_at(n, self.level)),
                "grad": arr(g),
                "R_grad": None if g is None else arr(tangent_at(g, self.level)),
            })
        return rows


def r_op(f, x, v, u=None, backward=True):
    """Pearlmutter's R{·} operator, with every R-value left on the graph.

    Evaluates ``f`` at new leaves carrying the direction ``v`` as their tangent
    at a new forward level, with every node keeping its gradient
    (``retain_grads``); then (unless ``backward=False``) runs the backward pass
    while the level is still open. For a two-layer network E(w) with
    a_j = Σ_i w_ji x_i, z_j = h(a_j), y_k = Σ_j w_kj z_j, every node then shows,
    as ``node.tangent``:

        R{a_j} = Σ_i v_ji x_i,   R{z_j} = h'(a_j) R{a_j},
        R{y_k} = Σ_j w_kj R{z_j} + Σ_j v_kj z_j,

    and, on its gradient ``node.grad.tangent``, the R-values of the backward
    pass: R{δ_k} (at the output nodes), R{δ_j} = h''(a_j) R{a_j} Σ_k w_kj δ_k
    + h'(a_j) Σ_k v_kj δ_k + h'(a_j) Σ_k w_kj R{δ_k} (at the a_j nodes) and on
    the weights R{∂E/∂w_kj} = R{δ_k} z_j + δ_k R{z_j},  R{∂E/∂w_ji} = R{δ_j} x_i:
    together H v. ``viz.draw_graph`` can draw these tangents; ``.nodes()``
    lists them.

    ``u`` (shaped like f(x)) seeds the backward pass for a non-scalar f. The
    graph is retained, so it can be drawn or walked afterwards.

        >>> from autograd_core import functional
        >>> x, v = ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0])
        >>> res = functional.r_op(lambda x: (x ** 3).sum(), x, v)
        >>> res.grad, res.hvp                                   # ∇E = 3x², H v = 6x ⊙ v
        (Tensor([ 3., 12.], dtype=float32), Tensor([6., 0.], dtype=float32))
        >>> res.inputs.tangent                                  # the leaves carry v
        Tensor([1., 0.], dtype=float32)
    """
    _check_f(f, "r_op")
    xs, is_tuple = _inputs(x, "r_op")
    vs = _directions(v, xs, is_tuple, "r_op", "v")
    leaves = _stand_ins(xs, True, False)
    with enable_grad(), Level() as level:
        for leaf, d, x_ in zip(leaves, vs, xs):
            set_tangent(leaf, d, level)
            leaf.name = x_.name
        with retain_grads():
            out = _call(f, leaves, "r_op")
        if not backward:
            return ROpResult(out, _pack(leaves, is_tuple), None, None, level)
        if u is None:
            _check_scalar(out, "r_op")
        else:
            u = _matching(u, out, "r_op", "u", "f(x)")
        if out.requires_grad:
            autograd.backward((out,), None if u is None else (u,), retain_graph=True)
    gs = [leaf.grad for leaf in leaves]
    grads = [_result(g, x_, True) for g, x_ in zip(gs, xs)]
    hv = [_result(None if g is None else tangent_at(g, level), x_, True) for g, x_ in zip(gs, xs)]
    return ROpResult(out, _pack(leaves, is_tuple), _pack(grads, is_tuple), _pack(hv, is_tuple),
                     level)
