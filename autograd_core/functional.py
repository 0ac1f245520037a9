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
``hessian`` (``H[i][j]`` of shape ``x[i].shape + x[j].shape``). Results are
Tensors, detached from any graph unless ``create_graph=True``.

How it works. Every call evaluates ``f`` on *fresh leaves* that share memory
with the inputs, so the caller's tensors never receive a ``.grad`` or a
``tangent``; gradients are taken with ``gradients`` (below), which also leaves
the ``.grad`` of every other tensor ``f`` may close over (model parameters)
untouched.

* Forward mode (``jvp``): each fresh leaf carries its direction as
  ``.tangent``; inside ``forward_ad()`` every primitive also evaluates its JVP
  rule, so each node v_j gets v̇_j = Σ_i ∂v_j/∂v_i v̇_i — the R{·} of the
  forward pass — and the output's tangent is J v.
* Pearlmutter's R-operator (``hvp``): H v = R{∇f} = d/dr ∇f(x + r v) at r=0.
  Run the forward pass with tangents *and* the backward pass inside
  ``forward_ad()``: the VJP rules then run on Tensors whose tangents flow, so
  each cotangent v̄_i (the δ's of backpropagation) carries R{v̄_i} and the
  leaves' gradients carry R{∇f} = H v. Exact, O(W) time and memory, H never
  formed. ``method='reverse-over-reverse'`` computes instead the gradient of
  ⟨∇f(x), v⟩ with a recorded (``create_graph``) backward pass.

Composition: with ``create_graph=True`` results stay differentiable, with
respect to the inputs too (f is then evaluated on identity nodes of them), so
``jacobian(lambda x: grad(f, x, create_graph=True), x)`` is the Hessian and
``grad(lambda x: grad(f, x, create_graph=True).sum(), x)`` a third-order
quantity. The engine has one tangent slot per tensor, so forward mode cannot
be nested inside forward mode (``jvp``/``hvp`` inside a forward-mode
``jacobian``): use ``mode='reverse'`` for the outer one.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from . import primitives as P
from .graph import _state, enable_grad, forward_ad, no_grad, retain_grads, set_grad_enabled, toposort
from .tensor import Tensor

__all__ = ["grad", "vjp", "jvp", "hvp", "hessian", "jacobian", "gradients", "r_op", "ROpResult"]


# ---------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------

def _to_tensor(value, fname, argname, allow_list=False):
    """A Tensor for one input or direction; TypeError naming the argument."""
    if isinstance(value, Tensor):
        return value
    if allow_list and isinstance(value, list):
        value = np.asarray(value)
    if isinstance(value, (np.ndarray, np.generic, numbers.Number)) and not isinstance(value, (bool, np.bool_)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return Tensor._wrap(arr)
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
        if t.data.dtype.kind != "f":
            raise TypeError(f"{fname}: {name} has dtype {t.data.dtype}; only floating-point inputs "
                            f"can be differentiated (convert it, e.g. x.astype(np.float64))")
        out.append(t)
    return tuple(out), is_tuple


def _directions(v, xs, is_tuple, fname, argname, keep_graph=False):
    """Directions matching the inputs one to one, cast to their dtypes (and
    detached from any graph unless ``keep_graph``)."""
    if is_tuple:
        if not isinstance(v, (tuple, list)):
            raise TypeError(f"{fname}: x is a tuple of {len(xs)} inputs, so {argname} must be a "
                            f"tuple of {len(xs)} directions, got {type(v).__name__}")
        if len(v) != len(xs):
            raise ValueError(f"{fname}: {argname} has {len(v)} entries but x has {len(xs)}")
        items = tuple(v)
    else:
        items = (v,)
    out = []
    for i, (d, x) in enumerate(zip(items, xs)):
        dn, xn = (f"{argname}[{i}]", f"x[{i}]") if is_tuple else (argname, "x")
        d = _matching(d, x, fname, dn, xn)
        out.append(d if keep_graph or not d.requires_grad else Tensor._wrap(d.data))
    return tuple(out)


def _matching(d, like, fname, dname, likename):
    """``d`` as a Tensor of ``like``'s shape and dtype (ValueError naming both shapes)."""
    d = _to_tensor(d, fname, dname, allow_list=True)
    if d.shape != like.shape:
        raise ValueError(f"{fname}: {dname} has shape {d.shape} but {likename} has shape "
                         f"{like.shape}; they must match")
    if d.data.dtype != like.data.dtype:
        d = d.astype(like.data.dtype) if d.requires_grad else Tensor._wrap(d.data.astype(like.data.dtype))
    return d


def _default_direction(xs, is_tuple, fname, argname):
    """``v=None`` is allowed only when there is a single one-element input (as in torch)."""
    if is_tuple or xs[0].data.size != 1:
        raise ValueError(f"{fname}: {argname} may only be omitted when x is a single tensor with "
                         f"one element; x has shape "
                         f"{tuple(t.shape for t in xs) if is_tuple else xs[0].shape}")
    return (Tensor._wrap(np.ones_like(xs[0].data)),)


def _check_f(f, fname):
    if not callable(f):
        raise TypeError(f"{fname}: f must be callable, got {type(f).__name__}")


def _call(f, args, fname):
    out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: f must return a Tensor, got {type(out).__name__}")
    return out


def _check_scalar(out, fname):
    if out.data.size != 1:
        raise ValueError(f"{fname}: f must return a scalar (a tensor with one element), but it "
                         f"returned a tensor of shape {out.shape}; reduce it (e.g. .sum()) or "
                         f"use vjp/jacobian")


def _fresh_leaves(xs, requires_grad, create_graph):
    """Stand-ins for the inputs that ``f`` is evaluated on.

    Normally new leaves sharing the inputs' data: nothing reaches the caller's
    tensors. Under ``create_graph`` an input that requires grad is stood in
    for by an identity node (a same-shape reshape) whose parent is the input,
    so results stay differentiable w.r.t. it, and an enclosing forward-mode
    computation sees through it (its tangent is pushed like any other).
    """
    leaves = []
    for x in xs:
        if create_graph and x.requires_grad:
            with enable_grad():
                leaf = P.reshape(x, shape=x.shape)
        else:
            leaf = Tensor._wrap(x.data)
            if requires_grad:
                leaf.requires_grad_()
            if create_graph and x.tangent is not None:
                leaf.tangent = x.tangent
        leaves.append(leaf)
    return leaves


def _finish(t, like, create_graph):
    """A result: zeros for a missing derivative; detached and cast unless create_graph."""
    if t is None:
        return Tensor._wrap(np.zeros(like.shape, dtype=like.data.dtype))
    if create_graph:
        return t
    data = t.data
    if data.dtype != like.data.dtype and like.data.dtype.kind == "f":
        data = data.astype(like.data.dtype)
    return Tensor._wrap(data)


def _output(out, create_graph):
    return out if create_graph else Tensor._wrap(out.data)


def _pack(items, is_tuple):
    return tuple(items) if is_tuple else items[0]


# ---------------------------------------------------------------------------
# Gradients of a recorded output, without side effects
# ---------------------------------------------------------------------------

class _Isolated:
    """Backward passes from ``root`` that deposit gradients in ``targets`` only.

    The engine's ``backward`` accumulates into every reachable leaf (and every
    node marked to retain its grad). This saves those ``.grad`` values first and
    puts them back afterwards, so a closure over model parameters is left as it
    was. Non-leaf targets are marked to retain their gradient meanwhile. The
    graph is always retained: it may belong to the caller.
    """

    def __init__(self, root, targets, restore_intermediate=True):
        self.root = root
        self.targets = list(targets)
        self.live = root.requires_grad
        ids = {id(t) for t in self.targets}
        self.saved = []
        if self.live:
            for node in toposort(root):
                if id(node) in ids:
                    continue
                if node.is_leaf or (restore_intermediate and node.retains_grad):
                    self.saved.append((node, node.grad))
        self.saved_targets = [(t, t.grad, t.retains_grad) for t in self.targets]

    def __enter__(self):
        for t in self.targets:
            if not t.is_leaf:
                t.retain_grad()
        return self

    def run(self, cotangent=None, create_graph=False):
        """One backward pass; the targets' gradients (None where unreachable)."""
        for t in self.targets:
            t.grad = None
        if not self.live:
            return [None] * len(self.targets)
        self.root.backward(cotangent, retain_graph=True, create_graph=create_graph)
        return [t.grad for t in self.targets]

    def __exit__(self, *exc):
        for node, g in self.saved:
            node.grad = g
        for t, g, r in self.saved_targets:
            t.grad = g
            if not t.is_leaf:
                t.retains_grad = r
        return False


def gradients(output, inputs, cotangent=None, create_graph=False):
    """d output / d inputs as a list of Tensors (None where ``output`` does not
    depend on an input) — like ``torch.autograd.grad``.

    Unlike ``output.backward()``, no ``.grad`` anywhere is changed, and the graph
    is retained. ``cotangent`` (the u of uᵀJ, shaped like ``output``) is needed
    unless ``output`` has one element. Inside ``forward_ad()`` the returned
    gradients carry R{·} of themselves as ``.tangent`` (forward-over-reverse).
    Note that the backward pass still runs through the whole graph behind
    ``output`` (the engine has no way to stop at ``inputs``).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"gradients: output must be a Tensor, got {type(output).__name__}")
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients: inputs[{i}] must be a Tensor, got {type(t).__name__}")
    if cotangent is None:
        if output.data.size != 1:
            raise ValueError(f"gradients: output has shape {output.shape}; pass cotangent= of "
                             f"that shape (or reduce the output to a scalar)")
        cotangent = np.ones_like(output.data)
    with _Isolated(output, inputs) as scope:
        return scope.run(cotangent, create_graph)


# ---------------------------------------------------------------------------
# grad, vjp
# ---------------------------------------------------------------------------

def grad(f, x, create_graph=False):
    """∇f(x) for scalar-valued f: a Tensor shaped like ``x`` (a tuple for a tuple ``x``).

    One forward and one backward pass. ``create_graph=True`` records the
    backward pass, so the result can be differentiated again (w.r.t. ``x`` too).
    """
    _check_f(f, "grad")
    xs, is_tuple = _inputs(x, "grad")
    leaves = _fresh_leaves(xs, True, create_graph)
    with enable_grad():
        out = _call(f, leaves, "grad")
        _check_scalar(out, "grad")
        gs = gradients(out, leaves, np.ones_like(out.data), create_graph)
    return _pack([_finish(g, x, create_graph) for g, x in zip(gs, xs)], is_tuple)


def vjp(f, x, u=None, create_graph=False):
    """``(f(x), uᵀJ)``: the vector-Jacobian product, by one reverse pass.

    ``u`` is shaped like f(x); it may be omitted when f(x) has one element.
    ``uᵀJ`` is shaped like ``x`` (a tuple for a tuple ``x``).
    """
    _check_f(f, "vjp")
    xs, is_tuple = _inputs(x, "vjp")
    leaves = _fresh_leaves(xs, True, create_graph)
    with enable_grad():
        out = _call(f, leaves, "vjp")
        if u is None:
            if out.data.size != 1:
                raise ValueError(f"vjp: u may only be omitted when f(x) has one element; "
                                 f"f(x) has shape {out.shape}")
            u = Tensor._wrap(np.ones_like(out.data))
        else:
            u = _matching(u, out, "vjp", "u", "f(x)")
        gs = gradients(out, leaves, u if create_graph else u.data, create_graph)
    return _output(out, create_graph), _pack([_finish(g, x, create_graph) for g, x in zip(gs, xs)],
                                             is_tuple)


# ---------------------------------------------------------------------------
# Forward mode: jvp
# ---------------------------------------------------------------------------

def _no_nested_forward(fname):
    if _state.forward_ad:
        raise RuntimeError(
            f"{fname}: called while forward-mode AD is already active. The engine keeps one "
            f"tangent per tensor, so forward mode cannot be nested; make the outer computation "
            f"reverse mode (e.g. jacobian(..., mode='reverse')).")


def jvp(f, x, v=None, create_graph=False):
    """``(f(x), J v)`` by forward mode: one evaluation of ``f`` in which every
    primitive also applies its JVP rule to its inputs' tangents.

    For a tuple ``x``, ``v`` is a matching tuple and J v = Σ_i J_i v_i is one
    tensor shaped like f(x). ``v`` may be omitted for a single one-element ``x``.
    No backward pass, no finite differences: cost about 2-3 forward passes.
    """
    _check_f(f, "jvp")
    _no_nested_forward("jvp")
    xs, is_tuple = _inputs(x, "jvp")
    vs = (_default_direction(xs, is_tuple, "jvp", "v") if v is None
          else _directions(v, xs, is_tuple, "jvp", "v", create_graph))
    leaves = _fresh_leaves(xs, create_graph, create_graph)
    for leaf, d in zip(leaves, vs):
        leaf.tangent = d
    with set_grad_enabled(create_graph), forward_ad():
        out = _call(f, leaves, "jvp")
    return _output(out, create_graph), _finish(out.tangent, out, create_graph)


# ---------------------------------------------------------------------------
# The R-operator: hvp
# ---------------------------------------------------------------------------

HVP_METHODS = ("forward-over-reverse", "reverse-over-reverse")


def _check_method(method, fname):
    if method not in HVP_METHODS:
        raise ValueError(f"{fname}: method must be one of {HVP_METHODS}, got {method!r}")


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
    """
    _check_f(f, "hvp")
    _check_method(method, "hvp")
    xs, is_tuple = _inputs(x, "hvp")
    vs = (_default_direction(xs, is_tuple, "hvp", "v") if v is None
          else _directions(v, xs, is_tuple, "hvp", "v", create_graph))
    leaves = _fresh_leaves(xs, True, create_graph)
    if method == "forward-over-reverse":
        _no_nested_forward("hvp")
        for leaf, d in zip(leaves, vs):
            leaf.tangent = d
        with enable_grad(), forward_ad():
            out = _call(f, leaves, "hvp")
            _check_scalar(out, "hvp")
            gs = gradients(out, leaves, np.ones_like(out.data), create_graph)
        hv = [None if g is None else g.tangent for g in gs]
    else:
        with enable_grad():
            out = _call(f, leaves, "hvp")
            _check_scalar(out, "hvp")
            gs = gradients(out, leaves, np.ones_like(out.data), create_graph=True)
            inner = None
            for g, d in zip(gs, vs):
                if g is not None:
                    term = (g * d).sum()
                    inner = term if inner is None else inner + term
            hv = ([None] * len(leaves) if inner is None
                  else gradients(inner, leaves, None, create_graph))
    return _output(out, create_graph), _pack([_finish(h, x, create_graph) for h, x in zip(hv, xs)],
                                             is_tuple)


# ---------------------------------------------------------------------------
# Full matrices: jacobian, hessian
# ---------------------------------------------------------------------------

JACOBIAN_MODES = ("auto", "forward", "reverse")


def _outputs(out, fname):
    """f's result as (tuple of Tensors, is_tuple)."""
    if isinstance(out, Tensor):
        return (out,), False
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return tuple(out), True
    raise TypeError(f"{fname}: f must return a Tensor or a tuple of Tensors, got "
                    f"{type(out).__name__}")


def _unit(shape, k, dtype):
    e = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=dtype)
    e[k] = 1
    return e.reshape(shape)


def _assemble(pieces, lead_shape, trail_shape, dtype, create_graph, along_last):
    """Stack per-element derivatives into one block of shape lead + trail.

    ``pieces`` are Tensors (or None = zero); reverse mode gives rows (one per
    element of lead, each shaped trail), forward mode gives columns (one per
    element of trail, each shaped lead).
    """
    shape = tuple(lead_shape) + tuple(trail_shape)
    piece_shape = trail_shape if not along_last else lead_shape
    if not pieces:
        return Tensor._wrap(np.zeros(shape, dtype=dtype))
    if create_graph:
        from .ops import stack
        ts = [p if p is not None else Tensor._wrap(np.zeros(piece_shape, dtype=dtype)) for p in pieces]
        flat = stack([t.reshape(-1) for t in ts], axis=1 if along_last else 0)
        return flat.reshape(shape)
    mat = np.zeros((len(pieces), int(np.prod(piece_shape, dtype=np.int64))), dtype=dtype)
    for k, p in enumerate(pieces):
        if p is not None:
            mat[k] = np.asarray(p.data, dtype=dtype).reshape(-1)
    if along_last:
        mat = mat.T
    return Tensor._wrap(np.ascontiguousarray(mat).reshape(shape))


def jacobian(f, x, mode="auto", create_graph=False):
    """The Jacobian J with shape ``f(x).shape + x.shape``, exact.

    ``mode='reverse'``: one forward pass, then one backward pass per output
    element (rows uᵀJ). ``mode='forward'``: one forward-mode evaluation per
    input element (columns J e_k). ``mode='auto'`` (default) uses forward mode
    when the inputs have fewer elements than the outputs, else reverse.

    Shapes follow ``torch.autograd.functional.jacobian``: a tuple ``x`` gives a
    tuple over inputs; if ``f`` returns a tuple, the result is a tuple over
    outputs (of tuples over inputs when ``x`` is a tuple too).
    """
    _check_f(f, "jacobian")
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"jacobian: mode must be one of {JACOBIAN_MODES}, got {mode!r}")
    xs, in_tuple = _inputs(x, "jacobian")
    n_in = sum(t.data.size for t in xs)

    leaves = _fresh_leaves(xs, True, create_graph)
    outs = None
    if mode != "forward":
        with enable_grad():
            outs, out_tuple = _outputs(f(*leaves), "jacobian")
        n_out = sum(o.data.size for o in outs)
        if mode == "auto":
            mode = "forward" if n_in < n_out else "reverse"

    if mode == "reverse":
        blocks = [[None] * len(xs) for _ in outs]
        for i, o in enumerate(outs):
            rows = [[] for _ in xs]
            with enable_grad(), _Isolated(o, leaves) as scope:
                for m in range(o.data.size):
                    gs = scope.run(_unit(o.shape, m, o.data.dtype), create_graph)
                    for j, g in enumerate(gs):
                        rows[j].append(g)
            for j, x_ in enumerate(xs):
                dtype = np.result_type(o.data.dtype, x_.data.dtype)
                blocks[i][j] = _assemble(rows[j], o.shape, x_.shape, dtype, create_graph, False)
    else:
        _no_nested_forward("jacobian(mode='forward')")
        cols = None
        out_tuple = None
        for j, x_ in enumerate(xs):
            for k in range(x_.data.size):
                for leaf in leaves:
                    leaf.tangent = None
                leaves[j].tangent = Tensor._wrap(_unit(x_.shape, k, x_.data.dtype))
                with set_grad_enabled(create_graph), forward_ad():
                    outs, out_tuple = _outputs(f(*leaves), "jacobian")
                if cols is None:
                    cols = [[[] for _ in xs] for _ in outs]
                for i, o in enumerate(outs):
                    cols[i][j].append(o.tangent)
        for leaf in leaves:
            leaf.tangent = None
        if cols is None:  # every input is empty: evaluate once for the output shapes
            with no_grad():
                outs, out_tuple = _outputs(f(*leaves), "jacobian")
            cols = [[[] for _ in xs] for _ in outs]
        blocks = [[_assemble(cols[i][j], o.shape, x_.shape, np.result_type(o.data.dtype, x_.data.dtype),
                             create_graph, True)
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
    """
    _check_f(f, "hessian")
    _check_method(method, "hessian")
    xs, is_tuple = _inputs(x, "hessian")
    if method == "reverse-over-reverse":
        def g(*args):
            return grad(f, args, create_graph=True)
        with enable_grad():
            J = jacobian(g, xs, mode="reverse", create_graph=create_graph)
        blocks = [list(row) for row in J]
    else:
        cols = [[[] for _ in xs] for _ in xs]
        for j, x_ in enumerate(xs):
            for k in range(x_.data.size):
                v = [Tensor._wrap(np.zeros(t.shape, dtype=t.data.dtype)) for t in xs]
                v[j] = Tensor._wrap(_unit(x_.shape, k, x_.data.dtype))
                _, hv = hvp(f, xs, v, create_graph=create_graph)
                for i in range(len(xs)):
                    cols[i][j].append(hv[i])
        blocks = [[_assemble(cols[i][j], xi.shape, xj.shape, np.result_type(xi.data.dtype, xj.data.dtype),
                             create_graph, True)
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
    inputs  the fresh leaves f was evaluated on: ``.tangent`` is v, ``.grad`` is
            ∇E and ``.grad.tangent`` is H v (a tuple for a tuple x).
    grad    ∇E (uᵀJ for a non-scalar f), or None without the backward pass.
    hvp     H v = R{∇E} (R{uᵀJ}), or None without the backward pass.
    """
    output: Tensor
    inputs: object
    grad: object
    hvp: object

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
                "R": arr(n.tangent),
                "grad": arr(g),
                "R_grad": None if g is None else arr(g.tangent),
            })
        return rows


def r_op(f, x, v, u=None, backward=True):
    """Pearlmutter's R{·} operator, with every R-value left on the graph.

    Evaluates ``f`` at fresh leaves carrying the direction ``v`` as their
    ``tangent`` inside ``forward_ad()`` and ``retain_grads()``, then (unless
    ``backward=False``) runs the backward pass still inside ``forward_ad()``.
    For a two-layer network E(w) with a_j = Σ_i w_ji x_i, z_j = h(a_j),
    y_k = Σ_j w_kj z_j, every node then shows, as ``node.tangent``:

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
    """
    _check_f(f, "r_op")
    _no_nested_forward("r_op")
    xs, is_tuple = _inputs(x, "r_op")
    vs = _directions(v, xs, is_tuple, "r_op", "v")
    leaves = _fresh_leaves(xs, True, False)
    for leaf, d, x_ in zip(leaves, vs, xs):
        leaf.tangent = d
        leaf.name = x_.name
    with enable_grad(), forward_ad(), retain_grads():
        out = _call(f, leaves, "r_op")
    if not backward:
        return ROpResult(out, _pack(leaves, is_tuple), None, None)
    if u is None:
        _check_scalar(out, "r_op")
        u = np.ones_like(out.data)
    else:
        u = _matching(u, out, "r_op", "u", "f(x)").data
    with forward_ad():
        # Intermediate nodes keep their gradients (they are the δ's to show);
        # only pre-existing leaves outside ``x`` are restored.
        with _Isolated(out, leaves, restore_intermediate=False) as scope:
            gs = scope.run(u)
    for leaf, g in zip(leaves, gs):  # the returned leaves show their gradients too
        leaf.grad = g
    grads = [_finish(g, x_, True) for g, x_ in zip(gs, xs)]
    hv = [_finish(None if g is None else g.tangent, x_, True) for g, x_ in zip(gs, xs)]
    return ROpResult(out, _pack(leaves, is_tuple), _pack(grads, is_tuple), _pack(hv, is_tuple))
