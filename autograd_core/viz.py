"""Drawing computation graphs: the graph that produced a tensor, with values,
gradients, R{·} tangents and the order of the backward pass.

    f.backward(retain_graph=True)                 # keep the graph to draw it
    dot = ag.viz.draw_graph(f, backward_order=True)
    dot                                           # shows inline in Jupyter
    ag.viz.save_graph(f, "f.svg")                 # or .png / .pdf
    print(ag.viz.graph_table(f))                  # the same as a table

Tensors are boxes (parameters blue, constants grey, intermediate values white,
the root bold), primitives are small ellipses, edges follow the data flow.
Unnamed tensors are labelled v1 … vN in the order the forward pass computed
them, which is a topological order. With ``backward_order=True`` each tensor
that the backward pass reaches shows the step at which it does (1 = the root).
"""
from __future__ import annotations

import html
import os

import numpy as np

from .graph import toposort

__all__ = ["draw_graph", "save_graph", "graph_table", "print_graph"]

_COLORS = {"root": "#fde9b7", "param": "#cfe2f3", "const": "#eeeeee", "node": "#ffffff"}


class _Graph:
    """The tensors and ops reachable from ``root``, in forward order, with labels."""

    def __init__(self, root, max_nodes):
        from .tensor import Tensor
        if not isinstance(root, Tensor):
            raise TypeError(f"draw_graph: root must be a Tensor, got {type(root).__name__}")
        # Walk every parent, constants included (toposort keeps only what needs grad).
        seen = {id(root): root}
        stack = [root]
        while stack:
            t = stack.pop()
            if t._op is not None and t._parents is None:
                raise RuntimeError(
                    "draw_graph: this graph was freed by backward(); call "
                    "backward(retain_graph=True) to draw it after the backward pass")
            for p in t._parents or ():
                if id(p) not in seen:
                    seen[id(p)] = p
                    stack.append(p)
        tensors = list(seen.values())
        first_use = {}
        for t in tensors:
            for p in t._parents or ():
                first_use[id(p)] = min(first_use.get(id(p), t._seq), t._seq)
        # Nodes by creation; each leaf or constant just before its first use.
        order = sorted(tensors, key=lambda t: (t._seq if t._op is not None
                                               else first_use.get(id(t), 0) - 0.5))
        self.total = len(order)
        self.tensors = order[-max_nodes:] if len(order) > max_nodes else order
        self.drawn = {id(t) for t in self.tensors}
        self.index = {id(t): i + 1 for i, t in enumerate(order)}
        self.root = root
        self.backward_step = {}
        if root.requires_grad:
            for step, t in enumerate(reversed(toposort(root)), start=1):
                self.backward_step[id(t)] = step

    def label(self, t):
        return t.name if t.name else f"v{self.index[id(t)]}"

    def kind(self, t):
        if t is self.root:
            return "root"
        if t._op is None:
            return "param" if t.requires_grad else "const"
        return "node"


def _fmt_array(a, max_elements, precision):
    a = np.asarray(a)
    if a.size <= max_elements:
        if a.ndim == 0:
            return f"{a.item():.{precision}g}" if a.dtype.kind in "fc" else str(a.item())
        return np.array2string(a, precision=precision, separator=", ", threshold=max_elements,
                               suppress_small=True).replace("\n", "")
    if a.dtype.kind == "b":
        return f"{int(a.sum())} of {a.size} true"
    f = a.astype(np.float64)
    return (f"mean {f.mean():.{precision}g}, std {f.std():.{precision}g}, "
            f"min {f.min():.{precision}g}, max {f.max():.{precision}g}")


def _fmt_settings(settings):
    parts = []
    for k, v in (settings or {}).items():
        if isinstance(v, np.ndarray):
            v = f"array{v.shape}"
        elif isinstance(v, tuple) and any(isinstance(i, np.ndarray) for i in v):
            v = "[" + ", ".join(f"array{i.shape}" if isinstance(i, np.ndarray) else repr(i) for i in v) + "]"
        elif isinstance(v, np.dtype):
            v = str(v)
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _tensor_label(g, t, show_data, show_grad, show_tangent, backward_order, max_elements, precision):
    name = html.escape(g.label(t))
    if backward_order and id(t) in g.backward_step:
        name += f"  <FONT COLOR='#b03030'>#{g.backward_step[id(t)]}</FONT>"
    rows = [f"<TR><TD><B>{name}</B></TD></TR>",
            f"<TR><TD><FONT POINT-SIZE='10'>{html.escape(str(t.shape))} {t.dtype}</FONT></TD></TR>"]
    if show_data:
        rows.append(f"<TR><TD ALIGN='LEFT'>data {html.escape(_fmt_array(t._d, max_elements, precision))}</TD></TR>")
    if show_grad and t.grad is not None:
        rows.append(f"<TR><TD ALIGN='LEFT'>grad {html.escape(_fmt_array(t.grad._d, max_elements, precision))}</TD></TR>")
    if show_tangent and t.tangent is not None:
        rows.append(f"<TR><TD ALIGN='LEFT'>R{{·}} {html.escape(_fmt_array(t.tangent._d, max_elements, precision))}</TD></TR>")
    if show_tangent and show_grad and t.grad is not None and t.grad.tangent is not None:
        # forward-over-reverse: R{v̄}, e.g. R{∂E/∂w} = (H v)_w on a parameter
        rows.append(f"<TR><TD ALIGN='LEFT'>R{{grad}} "
                    f"{html.escape(_fmt_array(t.grad.tangent._d, max_elements, precision))}</TD></TR>")
    return "<<TABLE BORDER='0' CELLBORDER='1' CELLSPACING='0' CELLPADDING='3'>" + "".join(rows) + "</TABLE>>"


def draw_graph(root, *, show_data=True, show_grad=True, show_tangent=False, backward_order=False,
               rankdir="LR", max_elements=6, precision=4, max_nodes=500, title=None):
    """The computation graph that produced ``root`` as a ``graphviz.Digraph``.

    ``show_data`` / ``show_grad`` / ``show_tangent``: print values, ``.grad``
    and the forward-mode tangent R{·}, and with both of the last two R{grad}
    after a forward-over-reverse pass (small tensors in full, larger ones as
    mean/std/min/max, above ``max_elements`` elements). ``backward_order``:
    number tensors by the step at which the backward pass reaches them.
    ``max_nodes``: draw at most this many tensors (the ones nearest the root).
    To see intermediate gradients, run the forward pass inside
    ``ag.retain_grads()`` and call ``backward(retain_graph=True)``.
    """
    import graphviz

    g = _Graph(root, max_nodes)
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"arrowsize": "0.7"})
    if title:
        dot.attr(label=title, labelloc="t", fontsize="14")
    if g.total > len(g.tensors):
        dot.node("truncated", f"… {g.total - len(g.tensors)} earlier tensors not drawn "
                 f"(max_nodes={max_nodes})", shape="note", fontcolor="#777777")
    for t in g.tensors:
        kind = g.kind(t)
        dot.node(f"t{id(t)}", _tensor_label(g, t, show_data, show_grad, show_tangent, backward_order,
                                             max_elements, precision),
                 shape="box", style="filled,bold" if kind == "root" else "filled",
                 fillcolor=_COLORS[kind], margin="0.05")
        if t._op is not None:
            op_id = f"op{id(t)}"
            settings = _fmt_settings(t._settings)
            label = t._op.name + (f"\n{settings}" if settings else "")
            dot.node(op_id, label, shape="ellipse", style="filled", fillcolor="#e8e8f8",
                     fontsize="10", height="0.3")
            dot.edge(op_id, f"t{id(t)}")
            for p in t._parents:
                if id(p) in g.drawn:
                    dot.edge(f"t{id(p)}", op_id)
    return dot


def save_graph(root, path, format=None, **options):
    """Draw ``root``'s graph into ``path`` (format from the extension: svg, png,
    pdf, …) with the real ``dot`` program; returns the path."""
    import graphviz

    path = os.fspath(path)
    fmt = format or os.path.splitext(path)[1].lstrip(".").lower()
    if not fmt:
        raise ValueError(f"save_graph: cannot tell the format of {path!r}; give format='svg' or 'png'")
    dot = draw_graph(root, **options)
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("save_graph: Graphviz's `dot` program is not installed; "
                           "install it with `sudo apt-get install graphviz`") from None
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def graph_table(root, max_elements=4, precision=4):
    """The graph as a plain-text table in forward (topological) order:
    v_i, the op, its parents, shape, value and gradient."""
    g = _Graph(root, max_nodes=10**9)
    rows = [("tensor", "op", "parents", "shape", "value", "grad")]
    for t in g.tensors:
        op = "input" if t._op is None and t.requires_grad else "constant" if t._op is None else t._op.name
        parents = ", ".join(g.label(p) for p in t._parents or ())
        grad = _fmt_array(t.grad._d, max_elements, precision) if t.grad is not None else ""
        rows.append((g.label(t), op, parents, str(t.shape), _fmt_array(t._d, max_elements, precision), grad))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_graph(root, **options):
    """Print ``graph_table(root)``."""
    print(graph_table(root, **options))
