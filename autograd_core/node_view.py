"""A public, read-only view of the computation graph's nodes.

Every tensor carries a node record (which primitive made it, its parents,
the primitive's settings, its creation number); the backward sweep reads it
directly. Everything else that interprets a graph — the drawings of ``viz``,
a printer, a compiler — reads it through this module, so that the record can
change without breaking them:

    >>> from autograd_core import node_view
    >>> for n in node_view.walk(loss):              # parents before children
    ...     print(n.seq, n.kind, n.op_name, [p.name for p in n.parents], n.shape)

``NodeView(t)`` looks at one tensor: ``op_name`` (None for a leaf),
``parents`` (as the node saw them: if a parent was later changed in place,
the version it read), ``settings``, ``value``, ``grad``, ``tangent(level)``,
``kind`` ('parameter', 'constant' or 'node'), ``name`` and ``seq`` (the
creation number). Arrays come back read-only and sharing memory: looking
never copies, and cannot change the graph by accident.

``walk(root)`` lists every tensor that produced ``root`` — the nodes the
backward pass differentiates and the constants they read — in one
topological order, v_1 … v_N of the course; ``backward_order(root)`` lists
the nodes in the order the backward sweep visits them. Both are built on the
engine's one sort (``graph.toposort``) and are iterative: a chain of a
million ops walks as well as three.
"""
from __future__ import annotations

import types

import numpy as np

from . import graph
from .core import TensorBase

__all__ = ["NodeView", "walk", "backward_order", "GraphFreedError", "KINDS"]

# What a tensor is in its graph: a leaf the backward pass differentiates (a
# parameter), a leaf it does not (data, literals, results computed without
# recording), or the output of a recorded primitive.
KINDS = ("parameter", "constant", "node")

_EMPTY_SETTINGS = types.MappingProxyType({})


class GraphFreedError(RuntimeError):
    """The graph was released by ``backward()`` (pass ``retain_graph=True`` to keep it)."""


def _readonly(value):
    """``value`` as an ndarray that shares memory with it and refuses writes."""
    a = np.asarray(value)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _level_id(level, who):
    if level is None:
        return graph.tangent_level_id()
    if isinstance(level, graph.Level):
        return level.id
    if isinstance(level, (int, np.integer)) and not isinstance(level, bool):
        return int(level)
    raise TypeError(f"{who}: level must be a forward_ad level, its id (an int) or None, "
                    f"got {type(level).__name__}")


def _tangent(t, level, who):
    key = _level_id(level, who)
    tan = t._tan
    d = tan.get(key) if tan else None
    return None if d is None else _readonly(d._d)


def _view(t):
    """A NodeView of a tensor already known to be one (no argument check)."""
    v = object.__new__(NodeView)
    object.__setattr__(v, "_t", t)
    return v


class NodeView:
    """A read-only view of one tensor's place in its computation graph.

    ``NodeView(t)``: ``t`` is a Tensor. Two views are equal when they look at
    the same tensor object (not the same values), so views can be dict keys
    and set members. Reading a view never changes the graph, and the arrays
    it returns are read-only views of the tensor's memory.

        >>> w = ag.Tensor(2.0, requires_grad=True, name="w")
        >>> n = NodeView(ag.exp(w) * 3.0)
        >>> n.op_name, [p.op_name for p in n.parents], n.kind
        ('mul', ['exp', None], 'node')
    """

    __slots__ = ("_t",)

    def __init__(self, tensor):
        if not isinstance(tensor, TensorBase):
            raise TypeError(f"NodeView: expected a Tensor, got {type(tensor).__name__}")
        object.__setattr__(self, "_t", tensor)

    def __setattr__(self, name, value):
        raise AttributeError(f"NodeView is read-only (cannot set {name!r})")

    def __eq__(self, other):
        return isinstance(other, NodeView) and other._t is self._t

    def __hash__(self):
        return id(self._t)

    def __repr__(self):
        what = self.op_name or self.kind
        name = f" {self.name!r}" if self.name else ""
        return f"<NodeView{name} {what} {self.shape} {self.dtype} #{self.seq}>"

    # -- what the node is ------------------------------------------------------

    @property
    def tensor(self):
        """The tensor looked at (for a parent that was later changed in place,
        the hidden object holding the version the child read)."""
        return self._t

    @property
    def primitive(self):
        """The primitive object that made this tensor (``primitives.exp`` …), or
        None for a leaf: a compiler calls ``primitive.forward(*values, **settings)``."""
        return self._t._op

    @property
    def op_name(self):
        """The primitive's name ('add', 'matmul', 'sum' …), or None for a leaf."""
        op = self._t._op
        return None if op is None else op.name

    @property
    def kind(self):
        """'node' (made by a recorded primitive: every op on a tensor that requires
        grad, and views, whose record is kept even when nothing requires grad),
        'parameter' (a leaf that requires grad: what training changes) or
        'constant' (a leaf that does not)."""
        t = self._t
        if t._op is not None:
            return "node"
        return "parameter" if t._rg else "constant"

    @property
    def is_leaf(self):
        """True for parameters and constants (no primitive, no parents)."""
        return self._t._op is None

    @property
    def requires_grad(self):
        """Whether the backward pass differentiates this tensor."""
        return self._t._rg

    @property
    def name(self):
        """The tensor's ``name`` (None when unnamed)."""
        return self._t.name

    @property
    def seq(self):
        """Creation number: the order in which the forward pass recorded the
        nodes (the clock ``graph.next_seq``; a parent's is always smaller than
        its child's). 0 for parameters, constants and nodes that do not
        require grad (views of constants)."""
        return self._t._seq

    @property
    def is_freed(self):
        """True when ``backward()`` (without ``retain_graph=True``) released this
        node's inputs: its parents can no longer be read."""
        return self._t._op is not None and self._t._parents is None

    @property
    def parents(self):
        """The inputs of the primitive, in argument order, as NodeViews; () for a
        leaf. A parent that was changed in place after this node read it is
        seen as the version this node read (``graph.parents_of``). Raises
        GraphFreedError after ``backward()`` released the graph."""
        t = self._t
        if t._op is None:
            return ()
        if t._parents is None:
            raise GraphFreedError(graph.FREED_MSG)
        return tuple(map(_view, graph.parents_of(t)))

    @property
    def settings(self):
        """The primitive's keyword settings (``axis``, ``shape``, ``index`` …) as a
        read-only mapping; empty for a leaf and for ops without settings."""
        s = self._t._settings
        return types.MappingProxyType(s) if s else _EMPTY_SETTINGS

    # -- what the node holds ---------------------------------------------------

    @property
    def shape(self):
        """The value's shape (a tuple; () for a scalar)."""
        return self._t._d.shape

    @property
    def dtype(self):
        """The value's NumPy dtype."""
        return self._t._d.dtype

    @property
    def value(self):
        """The tensor's value, a read-only ndarray sharing its memory."""
        return _readonly(self._t._d)

    @property
    def grad(self):
        """The accumulated ``.grad`` (read-only ndarray), or None."""
        g = self._t._grad
        return None if g is None else _readonly(g._d)

    def tangent(self, level=None):
        """The forward-mode tangent R{value} at ``level`` (a ``forward_ad`` level or
        its id; None: the innermost open level, or with none open the outermost
        level closed last, as ``Tensor.tangent``), read-only; None means zero."""
        return _tangent(self._t, level, "NodeView.tangent")

    def grad_tangent(self, level=None):
        """R{grad}: the tangent of ``.grad`` at ``level`` after a forward-over-reverse
        pass (on a parameter, a piece of H v); None means zero or no grad."""
        g = self._t._grad
        return None if g is None else _tangent(g, level, "NodeView.grad_tangent")


# ---------------------------------------------------------------------------
# Walking a graph
# ---------------------------------------------------------------------------

def _roots(roots, who):
    items = tuple(roots) if isinstance(roots, (list, tuple)) else (roots,)
    if not items:
        raise ValueError(f"{who}: roots is empty")
    for i, r in enumerate(items):
        if isinstance(r, NodeView):
            r = r.tensor
        if not isinstance(r, TensorBase):
            where = "root" if len(items) == 1 and not isinstance(roots, (list, tuple)) else f"roots[{i}]"
            raise TypeError(f"{who}: {where} must be a Tensor, got {type(r).__name__}")
    return tuple(r.tensor if isinstance(r, NodeView) else r for r in items)


def _toposort(roots):
    try:
        return graph.toposort(list(roots))
    except RuntimeError as e:
        if e.args == (graph.FREED_MSG,):
            raise GraphFreedError(graph.FREED_MSG) from None
        raise


def walk(roots):
    """Every tensor that produced ``roots`` (a Tensor or a sequence of them),
    parents before children, as a list of NodeViews: v_1 … v_N.

    The nodes the backward pass differentiates come in the engine's order
    (``graph.toposort``: creation order, the order in which the forward pass
    evaluated them). Everything else the graph holds — parameters and
    constants, which the sort does not order among the nodes, and views of
    constants (a view keeps its record even when nothing requires grad, see
    ``primitives.View``) with what they were computed from — comes just
    before the first node that reads it, its own parents first, in argument
    order. A root that is itself a leaf comes last. Iterative: a chain of
    100,000 ops does not recurse. Raises GraphFreedError if ``backward()``
    released part of the graph.

        >>> [n.name or n.op_name for n in walk(f)]      # f = y + exp(x y), x = cos t, y = t²
        ['t', 'x', 'y', 'mul', 'exp', 'f']
    """
    roots = _roots(roots, "walk")
    order, placed = [], set()

    def place(p):
        """Put ``p`` in the order after its parents not yet placed (a post-order walk)."""
        stack = [(p, False)]
        while stack:
            q, ready = stack.pop()
            if id(q) in placed:
                continue
            if ready or q._op is None:
                placed.add(id(q))
                order.append(q)
                continue
            if q._parents is None:
                raise GraphFreedError(graph.FREED_MSG)
            stack.append((q, True))
            stack.extend((r, False) for r in reversed(graph.parents_of(q)) if id(r) not in placed)

    for t in _toposort(roots):
        if t._op is None:
            continue  # a parameter: placed before its first use
        for p in graph.parents_of(t):
            if id(p) not in placed:
                place(p)
        placed.add(id(t))
        order.append(t)
    for r in roots:
        place(r)
    return list(map(_view, order))


def backward_order(roots):
    """The tensors the backward sweep from ``roots`` visits, in its order: the
    reversed ``graph.toposort`` (#1 = the root; parameters last, once every
    contribution to their gradient is summed). Constants are not visited.
    Empty when no root requires grad."""
    roots = _roots(roots, "backward_order")
    return [_view(t) for t in reversed(_toposort(roots))]
