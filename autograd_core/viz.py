"""Drawing computation graphs: the graph that produced a tensor, with values,
gradients, R{·} tangents and the order of the backward pass.

    f.backward(retain_graph=True)                 # keep the graph to draw it
    dot = ag.viz.draw_graph(f, backward_order=True)
    dot                                           # shows inline in Jupyter
    ag.viz.save_graph(f, "f.svg")                 # or .png / .pdf / .dot
    ag.viz.print_graph(f)                         # the same as a table, no Graphviz needed

Tensors are boxes: parameters (leaves that require grad) blue, constants grey
and dashed, intermediate values white, the root orange with a bold border.
Primitives are small ellipses, edges follow the data flow (parents → op →
output); a tensor used twice is drawn once, with two edges out of it.

Unnamed tensors are labelled v1 … vN in a topological order: the order in
which the forward pass created them, each leaf or constant just before its
first use. That is the evaluation trace of the course, v_1 … v_N.
With ``backward_order=True`` each tensor the backward pass visits shows, in
red, the step at which it does (#1 = the root): the reversed
``graph.toposort(root)``.

To see the adjoints v̄_i of intermediate nodes, run the forward pass inside
``ag.retain_grads()``; to draw after ``backward()``, pass
``retain_graph=True`` to it (otherwise the graph is freed).
"""
from __future__ import annotations

import html
import os
from contextlib import contextmanager

import numpy as np

from .graph import toposort

try:  # Python's graphviz package: only needed to draw, not for graph_table
    import graphviz as _graphviz
except ImportError:  # pragma: no cover - graphviz is a runtime dependency
    _graphviz = None

__all__ = ["draw_graph", "save_graph", "graph_table", "print_graph",
           "ComputationGraph", "DotNotFoundError"]

# Fill of the title bar, and border, by kind of tensor.
_STYLE = {
    "param": ("#cfe2f3", "#3d6fb6"),   # leaf that requires grad: what training changes
    "const": ("#eeeeee", "#8c8c8c"),   # data and literals: no gradient
    "node": ("#ffffff", "#5f5f5f"),    # intermediate value v_i
    "root": ("#fde9b7", "#b8860b"),    # the output the graph was drawn from
}
_KIND_WORD = {"param": "parameter", "const": "constant", "node": "", "root": "output"}
_OP_FILL = "#e8e8f8"
_STEP_COLOR = "#b03030"
_MUTED = "#666666"
_FONT = "Helvetica"
_MONO = "Courier"
# Ops whose operands are interchangeable: their edges need no argument number.
_SYMMETRIC_OPS = {"add", "mul"}

_FREED = ("{who}: the graph of this tensor was freed by backward(): its saved values are "
          "released after the backward pass. Call backward(retain_graph=True) to draw (or "
          "print) the graph after backward, or draw it before calling backward().")

_DOT_MISSING = ("Graphviz's `dot` program was not found, so the graph cannot be rendered. "
                "Install it with `apt-get install graphviz` (Debian/Ubuntu; `brew install "
                "graphviz` on macOS, `conda install graphviz` in conda). Without it, "
                "ag.viz.print_graph(root) prints the graph as a table, and "
                "save_graph(root, 'graph.dot') writes the Graphviz source.")


# ---------------------------------------------------------------------------
# The graph as data: the tensors reachable from the root, in forward order
# ---------------------------------------------------------------------------

class _Graph:
    """The tensors and ops that produced ``root``, in a topological order, with labels.

    Constants are parents but not in ``toposort`` (it keeps only what needs a
    gradient), so the walk follows ``_parents`` itself, iteratively.
    """

    def __init__(self, root, max_nodes, who):
        from ._tensor import Tensor
        if not isinstance(root, Tensor):
            raise TypeError(f"{who}: root must be a Tensor, got {type(root).__name__}")
        if max_nodes is not None and (not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1):
            raise ValueError(f"{who}: max_nodes must be a positive int or None, got {max_nodes!r}")
        seen = {id(root)}
        found = [root]
        stack = [root]
        while stack:
            parents = stack.pop()._parents
            if parents is None:
                raise RuntimeError(_FREED.format(who=who))
            for p in parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append(p)
                    if p._op is not None:
                        stack.append(p)
        # Nodes in creation order (a topological order); each leaf just before
        # its first use, in argument order.
        ops = sorted((t for t in found if t._op is not None), key=lambda t: t._seq)
        order, placed = [], set()
        for t in ops:
            for p in t._parents:
                if p._op is None and id(p) not in placed:
                    placed.add(id(p))
                    order.append(p)
            order.append(t)
        if not ops:
            order = [root]
        self.root = root
        self.order = order
        self.index = {id(t): i for i, t in enumerate(order, start=1)}
        self.total = len(order)
        self.shown = order if max_nodes is None or len(order) <= max_nodes else order[-max_nodes:]
        self.drawn = {id(t) for t in self.shown}
        self.max_nodes = max_nodes
        # Labels: the user's name, else v_i; a name used twice gets its v_i too.
        counts = {}
        for t in order:
            if t.name:
                counts[t.name] = counts.get(t.name, 0) + 1
        self._labels = {}
        for t in order:
            i = self.index[id(t)]
            if not t.name:
                self._labels[id(t)] = f"v{i}"
            elif counts[t.name] > 1:
                self._labels[id(t)] = f"{t.name} (v{i})"
            else:
                self._labels[id(t)] = t.name
        # Step at which the backward pass reaches each tensor: 1 = the root.
        self.backward_step = {}
        if root._rg:
            for step, t in enumerate(reversed(toposort(root)), start=1):
                self.backward_step[id(t)] = step

    def label(self, t):
        return self._labels[id(t)]

    def kind(self, t):
        if t is self.root:
            return "root"
        if t._op is None:
            return "param" if t._rg else "const"
        return "node"


# ---------------------------------------------------------------------------
# Formatting numbers, arrays and op settings
# ---------------------------------------------------------------------------

def _fmt_number(x, precision):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return f"{x.real:.{precision}g}{x.imag:+.{precision}g}j"
    x = float(x)
    if x == 0:
        return "0"  # also -0.0
    return f"{x:.{precision}g}"


def _value_lines(value, max_elements, precision, one_line=False):
    """A value as lines of text: in full when it has at most ``max_elements``
    elements, otherwise summary statistics (two lines, or one with ``one_line``)."""
    a = np.asarray(value)
    if a.size == 0:
        return [f"empty {a.shape}"]
    if a.size <= max_elements:
        if a.ndim == 0:
            return [_fmt_number(a.item(), precision)]
        texts = [_fmt_number(v, precision) for v in a.flat]
        # Pad to one width so that the rows of a matrix line up.
        width = max(len(s) for s in texts) if a.ndim > 1 and not one_line else 0
        out = np.array2string(a, separator=", ", threshold=a.size + 1,
                              formatter={"all": lambda v: _fmt_number(v, precision).rjust(width)},
                              max_line_width=10**6)
        lines = [line for line in out.splitlines() if line.strip()]
        return [" ".join(line.strip() for line in lines)] if one_line else lines
    if a.dtype.kind == "b":
        return [f"{int(a.sum())} of {a.size} true"]
    f = np.abs(a) if a.dtype.kind == "c" else a.astype(np.float64, copy=False)
    finite = f[np.isfinite(f)]
    bad = a.size - finite.size
    if finite.size == 0:
        return [f"all {a.size} values NaN/inf"]
    n = lambda v: _fmt_number(v, precision)  # noqa: E731
    stats = [f"mean {n(finite.mean())}", f"std {n(finite.std())}",
             f"min {n(finite.min())}", f"max {n(finite.max())}"]
    if a.dtype.kind == "c":
        stats[0] = "|·| " + stats[0]
    if bad:
        stats.append(f"{bad} NaN/inf")
    if one_line:
        return [", ".join(stats)]
    return ["  ".join(stats[:2]), "  ".join(stats[2:4])] + stats[4:]


def _value_text(value, max_elements, precision):
    """One line (tables): small arrays inline, large ones as statistics."""
    return _value_lines(value, max_elements, precision, one_line=True)[0]


def _fmt_slice(s):
    start = "" if s.start is None else s.start
    stop = "" if s.stop is None else s.stop
    return f"{start}:{stop}" + ("" if s.step is None else f":{s.step}")


def _fmt_setting(value, precision):
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, separator=", ", max_line_width=10**6,
                                   formatter={"all": lambda v: _fmt_number(v, precision)})
        return f"<{value.dtype} array {value.shape}>"
    if isinstance(value, slice):
        return _fmt_slice(value)
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype) or isinstance(value, type):
        return str(np.dtype(value))
    if isinstance(value, (float, np.floating)):
        return _fmt_number(value, precision)
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt_setting(v, precision) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def _settings_items(settings, precision):
    """``key=value`` strings for an op's settings, leaving out the defaults."""
    items = []
    for key, value in (settings or {}).items():
        if value is None or (key == "keepdims" and not value):
            continue
        if key == "index":
            parts = value if isinstance(value, tuple) else (value,)
            items.append("[" + ", ".join(_fmt_setting(v, precision) for v in parts) + "]")
        elif key == "axis" and isinstance(value, tuple) and len(value) == 1:
            items.append(f"axis={int(value[0])}")  # axis=(0,) reads as axis=0
        elif key == "cond" and isinstance(value, np.ndarray) and value.size > 1:
            items.append(f"cond: {int(np.count_nonzero(value))} of {value.size} true")
        else:
            items.append(f"{key}={_fmt_setting(value, precision)}")
    return items


def _op_text(t, precision):
    items = _settings_items(t._settings, precision)
    return t._op.name + (" " + " ".join(items) if items else "")


# ---------------------------------------------------------------------------
# Graphviz output
# ---------------------------------------------------------------------------

def _esc(text):
    return html.escape(str(text), quote=False)


def _shape_text(t):
    return "scalar" if t.ndim == 0 else str(t.shape)


def _tensor_label(g, t, o):
    kind = g.kind(t)
    head_fill, border = _STYLE[kind]
    title = f"<B>{_esc(g.label(t))}</B>"
    if o["backward_order"] and id(t) in g.backward_step:
        title += f'  <FONT COLOR="{_STEP_COLOR}"><B>#{g.backward_step[id(t)]}</B></FONT>'
    info = " · ".join(s for s in (_KIND_WORD[kind], _shape_text(t), str(t.dtype)) if s)
    rows = [f'<TR><TD COLSPAN="2" BGCOLOR="{head_fill}">{title}</TD></TR>',
            f'<TR><TD COLSPAN="2"><FONT POINT-SIZE="9" COLOR="{_MUTED}">{_esc(info)}</FONT></TD></TR>']

    def row(name, value):
        lines = _value_lines(value, o["max_elements"], o["precision"])
        body = '<BR ALIGN="LEFT"/>'.join(_esc(line) for line in lines) + '<BR ALIGN="LEFT"/>'
        rows.append(f'<TR><TD ALIGN="RIGHT" VALIGN="TOP"><FONT POINT-SIZE="10" COLOR="{_MUTED}">'
                    f'{_esc(name)}</FONT></TD>'
                    f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT FACE="{_MONO}" POINT-SIZE="10">'
                    f'{body}</FONT></TD></TR>')

    if o["show_data"]:
        row("value", t._d)
    grad = t._grad
    if o["show_grad"] and grad is not None:
        row("grad", grad._d)
    if o["show_tangent"] and t.tangent is not None:
        row("R{·}", t.tangent._d)
    if o["show_tangent"] and o["show_grad"] and grad is not None and grad.tangent is not None:
        # forward-over-reverse: R{v̄}, on a parameter R{∂E/∂w} = (H v)_w
        row("R{grad}", grad.tangent._d)
    style = ' STYLE="dashed"' if kind == "const" else ""
    width = 2 if kind == "root" else 1
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'COLOR="{border}" BGCOLOR="white"{style}>' + "".join(rows) + "</TABLE>>")


def _op_label(t, precision):
    items = _settings_items(t._settings, precision)
    text = f"<B>{_esc(t._op.name)}</B>"
    if items:
        text += "<BR/>" + "<BR/>".join(f'<FONT POINT-SIZE="8">{_esc(s)}</FONT>' for s in items)
    return f"<{text}>"


if _graphviz is not None:
    class DotNotFoundError(_graphviz.ExecutableNotFound):
        """Graphviz's ``dot`` program is missing: says how to install it."""

        def __init__(self, message=_DOT_MISSING):
            RuntimeError.__init__(self, message)

    class ComputationGraph(_graphviz.Digraph):
        """A ``graphviz.Digraph`` whose rendering explains a missing ``dot``."""

        def pipe(self, *args, **kwargs):
            with _explain_missing_dot():
                return super().pipe(*args, **kwargs)

        def render(self, *args, **kwargs):
            with _explain_missing_dot():
                return super().render(*args, **kwargs)

        def unflatten(self, *args, **kwargs):
            with _explain_missing_dot():
                return super().unflatten(*args, **kwargs)
else:  # pragma: no cover
    class DotNotFoundError(RuntimeError):
        pass

    ComputationGraph = None


@contextmanager
def _explain_missing_dot():
    try:
        yield
    except DotNotFoundError:
        raise
    except _graphviz.ExecutableNotFound as e:
        raise DotNotFoundError() from e


def _require_graphviz(who):
    if _graphviz is None:
        raise ImportError(f"{who} needs the Python package `graphviz` (pip install graphviz) "
                          f"and Graphviz's `dot` program (apt-get install graphviz)")


def draw_graph(root, *, show_data=True, show_grad=True, show_tangent=False,
               backward_order=False, rankdir="LR", max_elements=6, precision=4,
               max_nodes=500, title=None, legend=False):
    """The computation graph that produced ``root``, as a ``graphviz.Digraph``.

    One box per tensor (its name, or v_i in forward order; kind, shape and
    dtype; value and gradient) and one ellipse per primitive op (its name and
    settings such as ``axis``), edges from parents through the op to its
    output. Operands of ops where their order matters (``matmul``, ``pow``,
    ``where``…) are numbered on their edges.

    show_data, show_grad: show ``.data`` and ``.grad`` (when set). Tensors with
        at most ``max_elements`` elements are shown in full with ``precision``
        significant digits, larger ones as mean, std, min and max.
    show_tangent: show the forward-mode tangent R{v} (``.tangent``, set by
        ``ag.forward_ad()``), and with show_grad also R{v̄} (``.grad.tangent``)
        after a forward-over-reverse pass.
    backward_order: number each tensor by the step at which the backward pass
        reaches it (#1 = the root), i.e. by the reversed ``toposort(root)``.
    rankdir: 'LR' (left to right, default), 'TB', 'RL' or 'BT'.
    max_nodes: draw at most this many tensors, the ones nearest the root in
        forward order (None = all); a note says how many were left out.
    title: a caption above the graph. legend: add a key to the colours.

    The result shows inline in Jupyter and renders with ``.pipe(format='svg')``,
    ``.render(...)`` or ``save_graph``; rendering needs Graphviz's ``dot``.
    Raises RuntimeError if ``backward()`` already freed the graph (use
    ``backward(retain_graph=True)`` to draw after backward).
    """
    _require_graphviz("draw_graph")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if not isinstance(max_elements, (int, np.integer)) or max_elements < 0:
        raise ValueError(f"draw_graph: max_elements must be an int >= 0, got {max_elements!r}")
    if not isinstance(precision, (int, np.integer)) or precision < 1:
        raise ValueError(f"draw_graph: precision must be an int >= 1, got {precision!r}")
    g = _Graph(root, max_nodes, "draw_graph")
    o = dict(show_data=show_data, show_grad=show_grad, show_tangent=show_tangent,
             backward_order=backward_order, max_elements=max_elements, precision=precision)

    dot = ComputationGraph(
        name="computation_graph",
        graph_attr={"rankdir": rankdir, "fontname": _FONT, "bgcolor": "white",
                    "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": _FONT, "fontsize": "11"},
        edge_attr={"arrowsize": "0.7", "color": "#444444", "fontname": _FONT,
                   "fontsize": "8", "fontcolor": _MUTED})
    if title:
        dot.attr(label=str(title), labelloc="t", fontsize="14")

    tid = {id(t): f"t{g.index[id(t)]}" for t in g.shown}
    cut = [] if g.total == len(g.shown) else ["cut"]
    if cut:
        hidden = g.total - len(g.shown)
        dot.node("cut", f"<… {hidden} earlier tensor{'s' if hidden != 1 else ''} not drawn<BR/>"
                        f"(max_nodes={g.max_nodes}; pass max_nodes=None to draw all)>",
                 shape="note", fontcolor=_MUTED, color="#aaaaaa", fontsize="10")
    for t in g.shown:
        dot.node(tid[id(t)], _tensor_label(g, t, o), shape="plaintext", margin="0")
        if t._op is None:
            continue
        op_id = "op" + tid[id(t)][1:]
        dot.node(op_id, _op_label(t, precision), shape="ellipse", style="filled",
                 fillcolor=_OP_FILL, color="#8888aa", fontsize="10", margin="0.04,0.02",
                 height="0.3", width="0.4")
        numbered = len(t._parents) > 1 and t._op.name not in _SYMMETRIC_OPS
        elided = False
        for i, p in enumerate(t._parents):
            if id(p) in g.drawn:
                dot.edge(tid[id(p)], op_id, label=f" {i}" if numbered else None)
            elif not elided:
                elided = True
                dot.edge("cut", op_id, style="dashed", color="#aaaaaa")
        dot.edge(op_id, tid[id(t)])
    if legend:
        _add_legend(dot, backward_order)
    return dot


def _add_legend(dot, backward_order):
    cells = [(fill, border, _KIND_WORD[k] or "intermediate", ' STYLE="dashed"' if k == "const" else "")
             for k, (fill, border) in _STYLE.items()]
    row = "".join(f'<TD BORDER="1" COLOR="{b}" BGCOLOR="{f}"{s}><FONT POINT-SIZE="9">{w}</FONT></TD>'
                  for f, b, w, s in cells)
    row += f'<TD BGCOLOR="{_OP_FILL}" STYLE="rounded"><FONT POINT-SIZE="9">op</FONT></TD>'
    if backward_order:
        row += (f'<TD><FONT POINT-SIZE="9" COLOR="{_STEP_COLOR}"><B>#k</B></FONT>'
                f'<FONT POINT-SIZE="9"> = backward step</FONT></TD>')
    with dot.subgraph(name="cluster_legend") as sub:
        sub.attr(label="", style="invis")
        sub.node("legend", f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{row}</TR></TABLE>>',
                 shape="plaintext", margin="0")


def save_graph(root, path, format=None, *, dpi=None, **options):  # noqa: A002 - graphviz's name
    """Draw ``root``'s graph to the file ``path`` and return the path (a str).

    The format comes from the extension (``.svg``, ``.png``, ``.pdf``, any
    format of ``dot -T``) unless ``format`` is given; ``.dot``/``.gv`` write
    the Graphviz source and need no ``dot`` program. ``dpi`` sets the
    resolution of raster formats (dot's default is 96). Other keyword options
    go to ``draw_graph``.
    """
    _require_graphviz("save_graph")
    path = os.fspath(path)
    fmt = (format or os.path.splitext(path)[1].lstrip(".")).lower()
    if not fmt:
        raise ValueError(f"save_graph: cannot tell the format of {path!r} from its extension; "
                         f"use a name ending in .svg, .png or .pdf, or pass format='svg'")
    if fmt not in ("dot", "gv") and fmt not in _graphviz.FORMATS:
        raise ValueError(f"save_graph: unknown format {fmt!r} (from {path!r}); "
                         f"use svg, png, pdf or another format of `dot -T`")
    dot = draw_graph(root, **options)
    if dpi is not None:
        dot.attr(dpi=str(dpi))
    if fmt in ("dot", "gv"):
        data = dot.source.encode("utf-8")
    else:
        data = dot.pipe(format=fmt)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


# ---------------------------------------------------------------------------
# The graph as a table
# ---------------------------------------------------------------------------

def graph_table(root, *, show_data=True, show_grad=True, show_tangent=False,
                backward_order=False, max_elements=4, precision=4, max_nodes=None):
    """The graph as a plain-text table, one row per tensor in forward
    (topological) order: what one writes on the board for v_1 … v_N.

    Columns: the tensor (its name or v_i), its op with settings (``input``
    for parameters, ``constant`` for data and literals), its parents, shape,
    value and gradient; with ``show_tangent`` R{·} (and R{grad}); with
    ``backward_order`` the step at which the backward pass reaches it.
    Needs no Graphviz. ``max_nodes`` keeps only the last rows.
    """
    g = _Graph(root, max_nodes, "graph_table")
    header = ["tensor", "op", "parents", "shape"]
    if show_data:
        header.append("value")
    if show_grad:
        header.append("grad")
    if show_tangent:
        header.append("R{·}")
        if show_grad:
            header.append("R{grad}")
    if backward_order:
        header.append("bwd")
    rows = [header]
    fmt = lambda v: _value_text(v, max_elements, precision)  # noqa: E731
    for t in g.shown:
        if t._op is None:
            op = "input" if t._rg else "constant"
        else:
            op = _op_text(t, precision)
        row = [g.label(t), op, ", ".join(g.label(p) for p in t._parents or ()), str(t.shape)]
        grad = t._grad
        if show_data:
            row.append(fmt(t._d))
        if show_grad:
            row.append(fmt(grad._d) if grad is not None else "")
        if show_tangent:
            row.append(fmt(t.tangent._d) if t.tangent is not None else "")
            if show_grad:
                row.append(fmt(grad.tangent._d) if grad is not None and grad.tangent is not None else "")
        if backward_order:
            step = g.backward_step.get(id(t))
            row.append("" if step is None else f"#{step}")
        rows.append(row)
    # Before any backward pass a gradient column would be empty: leave it out.
    keep = [i for i, name in enumerate(header)
            if name not in ("grad", "R{grad}") or any(r[i] for r in rows[1:])]
    rows = [[r[i] for i in keep] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(keep))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if g.total > len(g.shown):
        hidden = g.total - len(g.shown)
        lines.insert(0, f"… {hidden} earlier tensor{'s' if hidden != 1 else ''} not shown "
                        f"(max_nodes={g.max_nodes})")
    return "\n".join(lines)


def print_graph(root, **options):
    """Print ``graph_table(root, **options)``."""
    print(graph_table(root, **options))
