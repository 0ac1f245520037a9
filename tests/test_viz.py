"""Graph drawing (autograd_core.viz): structure, labels, backward order,
tangents, rendering with the real `dot` program, and the text table."""
import os
import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor, viz
from autograd_core.graph import toposort
from autograd_core.node_view import NodeView

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed "
                                      "(apt-get install graphviz): rendering is not tested")


# ---------------------------------------------------------------------------
# The textbook graphs
# ---------------------------------------------------------------------------

def fan_out_graph(t0=0.9):
    """f(x, y) = y + e^{xy}, x = cos t, y = t²: t and y fan out."""
    t = Tensor(t0, requires_grad=True, name="t")
    with ag.retain_grads():
        x = ag.cos(t); x.name = "x"
        y = t ** 2;    y.name = "y"
        u = x * y;     u.name = "u"
        e = ag.exp(u); e.name = "e"
        f = y + e;     f.name = "f"
    f.backward(retain_graph=True)
    return dict(t=t, x=x, y=y, u=u, e=e, f=f)


def logistic_graph(xv=1.5, tv=0.2, lamv=0.1, w0=0.7, b0=-0.3):
    """z = wx + b, y = σ(z), L = ½(y − t)², R = ½w², L_reg = L + λR."""
    x, t, lam = Tensor(xv, name="x"), Tensor(tv, name="t"), Tensor(lamv, name="λ")
    w = Tensor(w0, requires_grad=True, name="w")
    b = Tensor(b0, requires_grad=True, name="b")
    with ag.retain_grads():
        z = w * x + b;            z.name = "z"
        y = ag.sigmoid(z);        y.name = "y"
        L = 0.5 * (y - t) ** 2;   L.name = "L"
        R = 0.5 * w ** 2;         R.name = "R"
        L_reg = L + lam * R;      L_reg.name = "L_reg"
    L_reg.backward(retain_graph=True)
    return dict(x=x, t=t, lam=lam, w=w, b=b, z=z, y=y, L=L, R=R, L_reg=L_reg)


# ---------------------------------------------------------------------------
# Reading the Graphviz source back
# ---------------------------------------------------------------------------

def parse(dot):
    """(nodes: id -> attribute text, edges: [(tail, head, attribute text)])."""
    nodes, edges = {}, []
    for line in dot.source.splitlines():
        m = re.match(r"\t(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
            continue
        m = re.match(r"\t(\w+) \[(.*)\]$", line)
        if m and m.group(1) not in ("graph", "node", "edge"):  # skip default attributes
            nodes[m.group(1)] = m.group(2)
    return nodes, edges


def tensor_nodes(nodes):
    return {k: v for k, v in nodes.items() if re.fullmatch(r"t\d+", k)}


def op_nodes(nodes):
    return {k: v for k, v in nodes.items() if re.fullmatch(r"op\d+", k)}


def node_of(nodes, label):
    """The id of the tensor box whose title is ``label``."""
    hits = [k for k, v in tensor_nodes(nodes).items() if f"<B>{label}</B>" in v]
    assert len(hits) == 1, (label, hits)
    return hits[0]


def reachable(root):
    """Every tensor that produced ``root``, constants included (a reference walk)."""
    seen, stack = {NodeView(root)}, [NodeView(root)]
    while stack:
        for p in stack.pop().parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return list(seen)


def fmt(x):
    return f"{x:.4g}"


# ---------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------

def test_fan_out_graph_one_box_per_tensor_one_ellipse_per_op_edges_in_data_flow():
    g = fan_out_graph()
    dot = viz.draw_graph(g["f"])
    assert isinstance(dot, graphviz.Digraph)
    nodes, edges = parse(dot)
    assert len(tensor_nodes(nodes)) == 6 and len(op_nodes(nodes)) == 5
    assert len(nodes) == 6 + 5                       # tensors + ops, nothing else
    assert all("shape=ellipse" in v for v in op_nodes(nodes).values())
    ops = sorted(re.search(r"<B>(\w+)</B>", v).group(1) for v in op_nodes(nodes).values())
    assert ops == ["add", "cos", "exp", "mul", "pow"]
    # parents -> op: 1 + 1 + 2 + 1 + 2 inputs; op -> output: 5
    assert len(edges) == 7 + 5
    ids = {name: node_of(nodes, name) for name in "txyuef"}
    tails = [a for a, _, _ in edges]
    assert tails.count(ids["t"]) == 2                # fan-out: t feeds cos and pow
    assert tails.count(ids["y"]) == 2                # y feeds mul and add
    assert tails.count(ids["f"]) == 0                # the root is a sink
    # every edge goes tensor -> op or op -> tensor, and each op has one output
    for a, b, _ in edges:
        assert (a.startswith("t") and b.startswith("op")) or (a.startswith("op") and b.startswith("t"))
    outputs = [b for a, b, _ in edges if a.startswith("op")]
    assert sorted(outputs) == sorted(set(outputs)) and len(outputs) == 5
    # the op that made f is fed by y and e
    f_op = next(a for a, b, _ in edges if b == ids["f"])
    assert sorted(a for a, b, _ in edges if b == f_op) == sorted([ids["y"], ids["e"]])


def test_same_tensor_twice_is_one_node_with_two_edges():
    x = Tensor(3.0, requires_grad=True, name="x")
    y = x * x
    nodes, edges = parse(viz.draw_graph(y))
    assert len(tensor_nodes(nodes)) == 2 and len(op_nodes(nodes)) == 1
    xid = node_of(nodes, "x")
    assert [a for a, _, _ in edges].count(xid) == 2


def test_logistic_graph_draws_constants_parameters_and_every_tensor():
    g = logistic_graph()
    root = g["L_reg"]
    nodes, edges = parse(viz.draw_graph(root))
    everything = reachable(root)
    n_ops = sum(not n.is_leaf for n in everything)
    assert len(tensor_nodes(nodes)) == len(everything)
    assert len(op_nodes(nodes)) == n_ops
    assert len(edges) == sum(len(n.parents) for n in everything) + n_ops
    # constants (x, λ, the literal ½ …) are drawn even though toposort skips them
    assert not g["x"].requires_grad and g["x"] not in toposort(root)
    for name in ["x", "λ", "w", "b", "z", "y", "L", "R", "L_reg"]:
        node_of(nodes, name)
    # parameters and constants are styled apart; the root is marked
    w_box, x_box, z_box, root_box = (nodes[node_of(nodes, n)] for n in ["w", "x", "z", "L_reg"])
    assert "parameter" in w_box and "#cfe2f3" in w_box
    assert "constant" in x_box and 'STYLE="dashed"' in x_box and "#eeeeee" in x_box
    assert "parameter" not in z_box and "constant" not in z_box and "dashed" not in z_box
    assert "output" in root_box and 'BORDER="2"' in root_box
    # w fans out: into w * x and into w ** 2
    assert [a for a, _, _ in edges].count(node_of(nodes, "w")) == 2


def test_values_and_gradients_are_shown_after_backward_with_retain_graph():
    g = logistic_graph()
    nodes, _ = parse(viz.draw_graph(g["L_reg"]))
    for name in ["w", "b", "z", "y", "L", "R", "L_reg"]:
        box = nodes[node_of(nodes, name)]
        t = g[name]
        assert f">{fmt(t.item())}<" in box, name
        assert "grad" in box and f">{fmt(t.grad.item())}<" in box, name
    # hand-derived adjoints (the textbook recursion)
    yv = 1 / (1 + np.exp(-(0.7 * 1.5 - 0.3)))
    z_bar = (yv - 0.2) * yv * (1 - yv)
    assert f">{fmt(z_bar * 1.5 + 0.1 * 0.7)}<" in nodes[node_of(nodes, "w")]   # w̄ = z̄ x + λ w
    assert f">{fmt(z_bar)}<" in nodes[node_of(nodes, "b")]
    # constants have no gradient row
    assert "grad" not in nodes[node_of(nodes, "x")]
    # the options switch rows off
    no_grad_src = viz.draw_graph(g["L_reg"], show_grad=False).source
    assert ">grad<" not in no_grad_src and ">value<" in no_grad_src
    no_data_src = viz.draw_graph(g["L_reg"], show_data=False).source
    assert ">value<" not in no_data_src and ">grad<" in no_data_src


def test_labels_show_shape_dtype_and_precision():
    a = Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True, name="a")
    s = (a * np.float32(1 / 3)).sum()
    s.backward(retain_graph=True)
    src = viz.draw_graph(s).source
    assert "(3,) · float32" in src and "scalar · float32" in src
    assert ">2<" in src                                 # sum of a / 3 = 2
    assert "0.3333" in src and "0.33333" not in src     # precision=4 significant digits
    assert "0.33333" in viz.draw_graph(s, precision=6).source


def test_unnamed_tensors_are_numbered_v1_to_vN_in_forward_order():
    a = Tensor(0.5, requires_grad=True)
    b = ag.sin(a)
    c = b * a
    d = ag.exp(c) + b
    nodes, edges = parse(viz.draw_graph(d))
    ids = {f"v{i}": node_of(nodes, f"v{i}") for i in range(1, 6)}
    # v1 = a, v2 = sin v1, v3 = v2·v1, v4 = exp v3, v5 = v4 + v2 (the root)
    def parents_of(v):
        op = next(x for x, y, _ in edges if y == ids[v])
        return sorted(x for x, y, _ in edges if y == op)
    assert parents_of("v2") == [ids["v1"]]
    assert parents_of("v3") == sorted([ids["v2"], ids["v1"]])
    assert parents_of("v5") == sorted([ids["v4"], ids["v2"]])
    assert "output" in nodes[ids["v5"]]
    # a name used twice gets its number too, so the table stays unambiguous
    p, q = Tensor(1.0, requires_grad=True, name="p"), Tensor(2.0, requires_grad=True, name="p")
    table = viz.graph_table(p * q)
    assert "p (v1)" in table and "p (v2)" in table


def test_op_settings_and_operand_numbers_are_drawn():
    X = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="X")
    W = Tensor(np.ones((3, 2)), requires_grad=True, name="W")
    h = (X @ W).sum(axis=0)
    k = ag.where(X.data > 2, X, 0.0)[:, 1:]
    out = h.sum() + k.sum()
    nodes, edges = parse(viz.draw_graph(out))
    ops = " ".join(op_nodes(nodes).values())
    assert "axis=0" in ops                               # sum over the batch
    assert "[:, 1:]" in ops                              # getitem's index
    assert "cond: 3 of 6 true" in ops                    # where's mask
    # matmul's operands are numbered (order matters), add's are not
    mm = next(k for k, v in op_nodes(nodes).items() if "<B>matmul</B>" in v)
    labels = {a: attrs for a, b, attrs in edges if b == mm}
    assert 'label=" 0"' in labels[node_of(nodes, "X")] and 'label=" 1"' in labels[node_of(nodes, "W")]
    add = next(k for k, v in op_nodes(nodes).items() if "<B>add</B>" in v)
    assert all("label" not in attrs for a, b, attrs in edges if b == add)


def test_large_tensors_show_statistics_not_values():
    a = Tensor(np.arange(100.0).reshape(10, 10), requires_grad=True, name="A")
    s = (a * 2.0).sum()
    s.backward(retain_graph=True)
    nodes, _ = parse(viz.draw_graph(s))
    box = nodes[node_of(nodes, "A")]
    assert "(10, 10) · float64" in box
    assert "mean 49.5  std 28.87" in box and "min 0  max 99" in box        # the value
    assert "mean 2  std 0" in box                                          # the gradient
    assert "[[" not in box and " 17" not in box
    # small tensors are shown in full, up to max_elements values
    b = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="B")
    full = parse(viz.draw_graph(b * 1.0))[0]
    assert "[[0, 1, 2]," in full[node_of(full, "B")]
    short = parse(viz.draw_graph(b * 1.0, max_elements=5))[0]
    assert "mean 2.5" in short[node_of(short, "B")]
    # a boolean or non-finite large value still gets a readable summary
    c = Tensor(np.array([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), requires_grad=True, name="C")
    cbox = parse(viz.draw_graph(c * 1.0))[0]
    assert "1 NaN/inf" in cbox[node_of(cbox, "C")] and "mean 3.5" in cbox[node_of(cbox, "C")]


# ---------------------------------------------------------------------------
# Backward order
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, root_name", [(fan_out_graph, "f"), (logistic_graph, "L_reg")])
def test_backward_order_numbers_follow_the_reversed_toposort(make, root_name):
    g = make()
    root = g[root_name]
    nodes, _ = parse(viz.draw_graph(root, backward_order=True))
    by_id = {id(t): name for name, t in g.items()}
    order = list(reversed(toposort(root)))
    assert order[0] is root
    for step, node in enumerate(order, start=1):
        if id(node) not in by_id:
            continue  # an unnamed intermediate (checked through the table below)
        box = nodes[node_of(nodes, by_id[id(node)])]
        assert f"<B>#{step}</B>" in box, (by_id[id(node)], step)
    assert len(re.findall(r"<B>#\d+</B>", viz.draw_graph(root, backward_order=True).source)) == len(order)
    # constants are not visited by the backward pass: no number
    if "x" in g and not g["x"].requires_grad:
        assert "#" not in re.sub(r'"#[0-9a-f]{6}"', "", nodes[node_of(nodes, "x")])
    # the table agrees with the drawing
    table = viz.graph_table(root, backward_order=True)
    steps = {line.split()[0]: line.split()[-1] for line in table.splitlines()[2:]}
    for step, node in enumerate(order, start=1):
        label = by_id.get(id(node))
        if label is not None:
            assert steps[label] == f"#{step}"
    assert "#" not in viz.draw_graph(root).source.replace('"#', "")  # off by default


# ---------------------------------------------------------------------------
# Tangents (forward mode, the R-operator)
# ---------------------------------------------------------------------------

def test_tangents_are_shown_when_asked():
    t = Tensor(0.9, requires_grad=True, name="t")
    with ag.forward_ad():
        t.tangent = Tensor(1.0)
        x = ag.cos(t); x.name = "x"
        y = t ** 2;    y.name = "y"
        f = y + ag.exp(x * y); f.name = "f"
    nodes, _ = parse(viz.draw_graph(f, show_tangent=True))
    t0 = 0.9
    dfdt = 2 * t0 + np.exp(t0**2 * np.cos(t0)) * (2 * t0 * np.cos(t0) - t0**2 * np.sin(t0))
    assert "R{·}" in nodes[node_of(nodes, "f")] and f">{fmt(dfdt)}<" in nodes[node_of(nodes, "f")]
    assert f">{fmt(-np.sin(t0))}<" in nodes[node_of(nodes, "x")]           # R{x} = -sin t · 1
    assert f">{fmt(2 * t0)}<" in nodes[node_of(nodes, "y")]                # R{y} = 2t · 1
    assert "R{·}" not in viz.draw_graph(f).source                         # off by default
    assert "R{·}" in viz.graph_table(f, show_tangent=True)


def test_r_values_of_gradients_after_forward_over_reverse():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    with ag.forward_ad():
        x.tangent = Tensor(np.array([1.0, 0.0]))
        y = (x ** 3).sum()
        y.backward(retain_graph=True)
    nodes, _ = parse(viz.draw_graph(y, show_tangent=True))
    box = nodes[node_of(nodes, "x")]
    assert "R{grad}" in box and "[6, 0]" in box      # H v with H = diag(6x), v = e1
    assert "[3, 12]" in box                          # the gradient 3x²
    assert "R{grad}" not in viz.draw_graph(y, show_tangent=True, show_grad=False).source


# ---------------------------------------------------------------------------
# Errors and limits
# ---------------------------------------------------------------------------

def test_freed_graph_raises_and_says_to_retain_it():
    x = Tensor(2.0, requires_grad=True)
    y = ag.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward\(retain_graph=True\)"):
        viz.draw_graph(y)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.graph_table(y)


def test_bad_arguments():
    x = Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="root must be a Tensor"):
        viz.draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(x * 2.0, rankdir="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(x * 2.0, max_nodes=0)
    with pytest.raises(ValueError, match="precision"):
        viz.draw_graph(x * 2.0, precision=0)


def test_a_single_tensor_and_a_constant_root():
    nodes, edges = parse(viz.draw_graph(Tensor(1.0, requires_grad=True, name="w")))
    assert len(nodes) == 1 and not edges
    nodes, edges = parse(viz.draw_graph(Tensor([1.0, 2.0]), backward_order=True))
    assert len(nodes) == 1 and not edges
    with ag.no_grad():
        y = Tensor(1.0, requires_grad=True) * 2.0
    assert len(parse(viz.draw_graph(y))[0]) == 1


def test_deep_chain_is_walked_without_recursion_and_respects_max_nodes():
    n = 5000
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.name = "y"
    dot = viz.draw_graph(y, max_nodes=50)
    nodes, edges = parse(dot)
    assert len(tensor_nodes(nodes)) == 50
    assert len(op_nodes(nodes)) == 25               # half of the tensors are the constants 1.0001
    assert "cut" in nodes and f"{2 * n + 1 - 50} earlier tensors not drawn" in nodes["cut"]
    assert "max_nodes=None" in nodes["cut"]
    assert any(a == "cut" for a, _, _ in edges)     # the cut is joined to the drawing
    node_of(nodes, "y")                              # the root end is what is kept
    # the default cap (500) applies too; max_nodes=None draws all 10,001 tensors
    assert len(tensor_nodes(parse(viz.draw_graph(y))[0])) == 500
    full = parse(viz.draw_graph(y, max_nodes=None, show_data=False))[0]
    assert len(tensor_nodes(full)) == 2 * n + 1 and "cut" not in full
    table = viz.graph_table(y, max_nodes=10)
    assert table.splitlines()[0].startswith(f"… {2 * n + 1 - 10} earlier tensors not shown")
    assert len(table.splitlines()) == 1 + 2 + 10


# ---------------------------------------------------------------------------
# Rendering with the real `dot`
# ---------------------------------------------------------------------------

def svg_text(path):
    root = ET.parse(path).getroot()              # the SVG is well-formed XML
    assert root.tag.endswith("svg")
    return " ".join(el.text for el in root.iter() if el.text)


@needs_dot
def test_renders_svg_png_pdf_with_dot(tmp_path):
    g = fan_out_graph()
    svg = viz.save_graph(g["f"], tmp_path / "fan_out.svg", backward_order=True, legend=True,
                         title="f = y + exp(xy)")
    assert svg == str(tmp_path / "fan_out.svg")
    text = svg_text(svg)
    for needle in ["t", "x", "y", "f", "cos", "exp", "mul", "#1", "#6", "0.9",
                   fmt(g["t"].grad.item()), "f = y + exp(xy)", "parameter", "backward step"]:
        assert needle in text.split() or needle in text, needle
    png = viz.save_graph(g["f"], tmp_path / "fan_out.png", dpi=120)
    with open(png, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = viz.save_graph(g["f"], tmp_path / "graph.out", format="pdf")
    with open(pdf, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    # .render() and .pipe() of the returned Digraph work as graphviz documents them
    dot = viz.draw_graph(logistic_graph()["L_reg"], backward_order=True)
    assert dot.pipe(format="png").startswith(b"\x89PNG")
    out = dot.render(filename="logistic", directory=tmp_path, format="svg")
    assert "L_reg" in svg_text(out) and "λ" in svg_text(out)


@needs_dot
def test_jupyter_shows_it_inline_as_svg():
    bundle = viz.draw_graph(fan_out_graph()["f"])._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "<svg" in bundle["image/svg+xml"]


@needs_dot
def test_large_and_truncated_graphs_render(tmp_path):
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((20, 30)), requires_grad=True, name="W")
    X = Tensor(rng.standard_normal((8, 30)), name="X")
    loss = ag.tanh(X @ W.T).sum()
    loss.backward(retain_graph=True)
    text = svg_text(viz.save_graph(loss, tmp_path / "big.svg"))
    assert "mean" in text and "std" in text
    y = Tensor(1.0, requires_grad=True)
    for _ in range(300):
        y = ag.sin(y)
    text = svg_text(viz.save_graph(y, tmp_path / "deep.svg", max_nodes=20))
    assert "not drawn" in text


def test_missing_dot_says_how_to_install_it(tmp_path, monkeypatch):
    g = fan_out_graph()
    dot = viz.draw_graph(g["f"])
    monkeypatch.setenv("PATH", str(tmp_path))           # no `dot` anywhere on PATH
    for render in (lambda: dot.pipe(format="svg"),
                   lambda: dot.render(filename="g", directory=tmp_path, format="png"),
                   lambda: viz.save_graph(g["f"], tmp_path / "g.svg"),
                   lambda: dot._repr_mimebundle_()):
        with pytest.raises(graphviz.ExecutableNotFound, match="apt-get install graphviz") as info:
            render()
        assert isinstance(info.value, viz.DotNotFoundError)
    # what needs no `dot` still works: the source, and the table
    path = viz.save_graph(g["f"], tmp_path / "g.dot")
    with open(path, encoding="utf-8") as fh:
        assert fh.read().startswith("digraph")
    assert "cos" in viz.graph_table(g["f"])


def test_save_graph_rejects_unknown_formats(tmp_path):
    f = fan_out_graph()["f"]
    with pytest.raises(ValueError, match="format"):
        viz.save_graph(f, tmp_path / "noextension")
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        viz.save_graph(f, tmp_path / "g.docx")
    assert not os.path.exists(tmp_path / "g.docx")


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def test_print_graph_lists_nodes_in_topological_order(capsys):
    g = fan_out_graph()
    viz.print_graph(g["f"], backward_order=True)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["tensor", "op", "parents", "shape", "value", "grad", "bwd"]
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == ["t", "x", "y", "u", "e", "f"]   # the evaluation trace
    assert rows[0][1] == "input"
    assert lines[3].split()[1:3] == ["cos", "t"]
    assert "pow p=2" in lines[4]
    assert "x, y" in lines[5] and "y, e" in lines[7]
    for line, name in zip(lines[2:], "txyuef"):
        t = g[name]
        assert fmt(t.item()) in line.split() and fmt(t.grad.item()) in line.split()
    assert rows[-1][-1] == "#1"


def test_graph_table_marks_constants_and_summarises_tensors():
    g = logistic_graph()
    table = viz.graph_table(g["L_reg"])
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert rows["x"].split()[1] == "constant" and rows["w"].split()[1] == "input"
    assert rows["λ"].split()[1] == "constant"
    assert "sigmoid" in rows["y"] and rows["y"].split()[2] == "z"
    W = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="W")
    s = W.sum(axis=1)
    line = viz.graph_table(s).splitlines()[-1]
    assert "sum axis=1" in line and "[6, 22, 38]" in line
    assert "mean 5.5, std 3.452, min 0, max 11" in viz.graph_table(s).splitlines()[2]


def test_graph_table_before_backward_has_no_gradient_column():
    x = Tensor(np.arange(20.0), requires_grad=True, name="x")
    y = x.reshape(4, 5).sum(axis=0)[np.array([1, 3])]
    table = viz.graph_table(y)
    assert table.splitlines()[0].split() == ["tensor", "op", "parents", "shape", "value"]
    assert "reshape shape=(4, 5)" in table and "sum axis=0" in table
    assert "getitem [[1, 3]]" in table and "[34, 42]" in table


# ---------------------------------------------------------------------------
# Models: parameter names, modules as clusters or boxes
# ---------------------------------------------------------------------------

import nn                                   # noqa: E402  (above the engine: only the tests use it)
from nn import module as nn_module          # noqa: E402


def parse_nested(dot):
    """(nodes, edges, clusters) of a source with subgraphs: clusters maps a cluster
    label to the ids of the nodes directly or indirectly inside it."""
    nodes, edges, clusters, open_ = {}, [], {}, []
    for line in dot.source.splitlines():
        text = line.strip()
        if text.startswith("subgraph cluster_"):
            open_.append(None)
            continue
        if text == "}" and open_:
            open_.pop()
            continue
        m = re.search(r'\blabel=("[^"]*"|\S+)', text)
        if m and open_ and open_[-1] is None and "[" not in text:
            open_[-1] = m.group(1).strip('"')
            clusters.setdefault(open_[-1], [])
            continue
        m = re.match(r"(\w+) -> (\w+)(?: \[(.*)\])?$", text)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
            continue
        m = re.match(r"(\w+) \[(.*)\]$", text)
        if m and m.group(1) not in ("graph", "node", "edge"):
            nodes[m.group(1)] = m.group(2)
            for label in open_:
                if label:
                    clusters[label].append(m.group(1))
    return nodes, edges, clusters


def module_boxes(nodes):
    """{title: node id} of the collapsed module boxes."""
    out = {}
    for k, v in nodes.items():
        if re.fullmatch(r"m\d+", k):
            title = re.search(r"<B>(.*?)</B>", v).group(1)
            out[title.replace("&middot;", "·")] = k
    return out


def mlp_and_loss(seed=0):
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x = np.random.default_rng(seed).standard_normal((4, 6)).astype(np.float32)
    with viz.record_modules(model) as calls:
        loss = nn.functional.cross_entropy(model(x), np.array([0, 2, 1, 0]))
    loss.backward(retain_graph=True)
    return model, calls, loss


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(3, 4)
        self.layer1 = Block(4)
        self.layer2 = Block(4)

    def forward(self, x):
        return self.layer2(self.layer1(self.inp(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x))


def named_model():
    ag.manual_seed(1)
    net = Net()
    x = Tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32), name="x")
    with viz.record_modules(net) as calls:
        loss = (net(x) ** 2).mean()
    return net, calls, loss


def test_params_label_parameters_with_their_names_in_the_model():
    model, _, loss = mlp_and_loss()
    for params in (dict(model.named_parameters()), model):
        nodes, _ = parse(viz.draw_graph(loss, params=params))
        for name in ["0.weight", "0.bias", "2.weight", "2.bias"]:
            assert "parameter" in nodes[node_of(nodes, name)], name
        titles = re.findall(r"<B>(v\d+)</B>", " ".join(tensor_nodes(nodes).values()))
        anonymous = {NodeView(t) for t in model.parameters()} & {
            n for n in reachable(loss) if n.kind == "parameter" and n.name is None}
        assert len(anonymous) == 4 and len(titles) == len(tensor_nodes(nodes)) - 4
    table = viz.graph_table(loss, params=model)
    assert "0.weight" in table and "2.bias" in table
    # without params they are anonymous v_i, as before
    assert "0.weight" not in viz.draw_graph(loss).source
    # the name in the model wins over a tensor's own name; a tensor used twice keeps its first
    w = Tensor(1.0, requires_grad=True, name="own")
    assert "<B>enc.w</B>" in viz.draw_graph(w * 2.0, params={"enc.w": w, "alias": w}).source


def test_params_errors():
    x = Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="params must be a dict of name -> Tensor"):
        viz.draw_graph(x * 2.0, params=[x])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor, got ndarray"):
        viz.draw_graph(x * 2.0, params={"w": np.ones(2)})
    with pytest.raises(TypeError, match="params keys must be str"):
        viz.graph_table(x * 2.0, params={1: x})


def test_record_modules_notes_the_clock_range_of_every_call():
    model, calls, loss = mlp_and_loss()
    assert [c.name for c in calls] == ["", "0", "1", "2"] and calls.names() == ["", "0", "1", "2"]
    assert [c.type_name for c in calls] == ["Sequential", "Linear", "ReLU", "Linear"]
    outer = calls.calls[0]
    assert all(c.parent is outer and outer.start < c.start < c.end < outer.end for c in calls.calls[1:])
    assert calls.calls[1].end < calls.calls[2].start            # siblings do not overlap
    assert calls.calls[1].input_shapes == ((4, 6),) and calls.calls[1].output_shapes == ((4, 5),)
    assert calls.calls[3].parameters == [("2.weight", (3, 5)), ("2.bias", (3,))]
    assert "in_features=6" in calls.calls[1].extra and calls.calls[1].depth == 1
    # each node lies in the range of the call that made it
    by_op = {}
    for n in nv_walk(loss):
        if n.seq:
            inside = [c.name for c in calls if c.contains(n.seq)]
            by_op.setdefault(n.op_name, set()).add(inside[-1] if inside else None)
    assert by_op["linear"] == {"0", "2"} and by_op["relu"] == {"1"}
    assert by_op["log_softmax"] == {None}                        # the loss is outside the model
    assert nn_module._live_hooks == 0                            # every hook removed on exit
    assert "4 calls" in repr(calls)


def nv_walk(root):
    from autograd_core.node_view import walk
    return walk(root)


def test_a_collapsed_mlp_is_one_box_per_layer():
    model, calls, loss = mlp_and_loss()
    dot = viz.draw_graph(loss, modules=calls, collapse=True)
    nodes, edges, clusters = parse_nested(dot)
    boxes = module_boxes(nodes)
    assert set(boxes) == {"0 · Linear", "1 · ReLU", "2 · Linear"}
    ops = " ".join(v for k, v in nodes.items() if re.fullmatch(r"op\d+", k))
    assert "linear" not in ops and "relu" not in ops and "log_softmax" in ops   # the loss stays
    assert "weight" not in " ".join(tensor_nodes(nodes).values())               # inside the boxes
    box0 = nodes[boxes["0 · Linear"]]
    assert "weight (5, 6), bias (5,)" in box0 and "35 parameters" in box0 and "(4, 6) → (4, 5)" in box0
    assert "ops: linear" in box0
    # data flows box -> tensor -> box -> tensor -> box -> the loss's ops
    def successor(a):
        (b,) = [h for t, h, _ in edges if t == a]
        return b
    h1 = successor(boxes["0 · Linear"])
    assert successor(h1) == boxes["1 · ReLU"]
    assert successor(successor(boxes["1 · ReLU"])) == boxes["2 · Linear"]
    # the model is a cluster around the boxes and their outputs, the loss outside it
    assert set(boxes.values()) <= set(clusters["Sequential"])
    root_id = next(k for k, v in tensor_nodes(nodes).items() if "output" in v)
    assert root_id not in clusters["Sequential"]
    # the model's ops, its parameters and the input made inside layer 0 are in the boxes
    full = parse(viz.draw_graph(loss))[0]
    assert len(op_nodes(nodes)) == len(op_nodes(full)) - 3
    assert len(tensor_nodes(nodes)) == len(tensor_nodes(full)) - 5


def test_a_collapsed_cnn_fits_on_a_page():
    ag.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                        nn.ReLU(), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
    x = np.random.default_rng(0).standard_normal((2, 1, 10, 10)).astype(np.float32)
    with viz.record_modules(cnn) as calls:
        loss = nn.functional.cross_entropy(cnn(x), np.array([1, 2]))
    nodes, edges, _ = parse_nested(viz.draw_graph(loss, modules=calls, collapse=True))
    boxes = module_boxes(nodes)
    assert list(boxes) == ["0 · Conv2d", "1 · ReLU", "2 · MaxPool2d", "3 · Conv2d", "4 · ReLU",
                           "5 · Flatten", "6 · Linear"]
    assert len(tensor_nodes(nodes)) <= 14 < len(nv_walk(loss))  # collapsed: fewer boxes than nodes
    assert "cut" not in nodes and all("cut" not in e[:2] for e in edges)
    assert "(2, 1, 10, 10) → (2, 4, 8, 8)" in nodes[boxes["0 · Conv2d"]]
    assert "weight (8, 4, 3, 3)" in nodes[boxes["3 · Conv2d"]]


def test_named_submodules_collapse_by_depth_and_expand_by_name():
    net, calls, loss = named_model()

    def drawn(**kw):
        nodes, _, clusters = parse_nested(viz.draw_graph(loss, modules=calls, **kw))
        return set(module_boxes(nodes)), set(clusters)

    assert drawn(collapse=True) == ({"encoder · Encoder", "head · Linear"}, {"Net"})
    assert drawn(depth=2)[0] == {"encoder.inp · Linear", "encoder.layer1 · Block",
                                 "encoder.layer2 · Block", "head · Linear"}
    boxes, clusters = drawn(expand=["encoder.layer1"])
    assert boxes == {"encoder.inp · Linear", "encoder.layer1.fc · Linear",
                     "encoder.layer1.act · Tanh", "encoder.layer2 · Block", "head · Linear"}
    assert clusters == {"Net", "encoder · Encoder", "encoder.layer1 · Block"}
    assert drawn(depth=0)[0] == {"Net"}
    assert drawn(expand=["head"]) == ({"encoder · Encoder"}, {"Net", "head · Linear"})
    # not collapsed: every call a cluster, every op drawn
    nodes, _, clusters = parse_nested(viz.draw_graph(loss, modules=calls))
    assert not module_boxes(nodes)
    assert len(op_nodes(nodes)) == len(op_nodes(parse(viz.draw_graph(loss))[0]))
    assert "encoder.layer1.fc · Linear" in clusters
    weight = node_of(nodes, "encoder.layer1.fc.weight")               # names from the recording
    assert weight in clusters["encoder.layer1.fc · Linear"]
    assert node_of(nodes, "x") not in clusters["Net"]                 # the input stays outside


def test_a_module_called_twice_gets_a_box_per_call():
    ag.manual_seed(0)
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    with viz.record_modules(model) as calls:
        y = model(np.ones((2, 3), dtype=np.float32)).sum()
    assert [c.name for c in calls] == ["", "0", "1", "0"] and calls.calls[3].call == 2
    nodes, _, _ = parse_nested(viz.draw_graph(y, modules=calls, collapse=True))
    titles = [re.sub(r"<.*?>", "", v) for k, v in nodes.items() if re.fullmatch(r"m\d+", k)]
    assert sum("call 1 of 2" in t for t in titles) == 1 and sum("call 2 of 2" in t for t in titles) == 1


def test_module_drawing_errors():
    net, calls, loss = named_model()
    with pytest.raises(ValueError, match="collapse, expand and depth need modules="):
        viz.draw_graph(loss, collapse=True)
    with pytest.raises(ValueError, match=r"expand names 'encoder.layer3'.*'encoder.layer1'"):
        viz.draw_graph(loss, modules=calls, expand=["encoder.layer3"])
    with pytest.raises(ValueError, match="depth must be an int >= 0"):
        viz.draw_graph(loss, modules=calls, depth=-1)
    with pytest.raises(TypeError, match="modules must be what record_modules"):
        viz.draw_graph(loss, modules=[net])
    with pytest.raises(TypeError, match="record_modules: model must be an nn.Module"):
        viz.record_modules(lambda x: x)
    recording = viz.record_modules(net)
    with recording:
        with pytest.raises(RuntimeError, match="already active"):
            recording.__enter__()
    assert nn_module._live_hooks == 0


@needs_dot
def test_collapsed_graphs_render(tmp_path):
    _, calls, loss = mlp_and_loss()
    text = svg_text(viz.save_graph(loss, tmp_path / "mlp.svg", modules=calls, collapse=True,
                                   legend=True))
    for needle in ["0 · Linear", "1 · ReLU", "Sequential", "module", "log_softmax"]:
        assert needle in text, needle


def test_a_call_that_raises_is_closed_where_it_raised():
    class Fails(nn.Module):
        def forward(self, x):
            y = x * 2.0                     # a node made before the error
            raise ValueError(f"bad {y.shape}")

    class Careful(nn.Module):
        def __init__(self):
            super().__init__()
            self.risky = Fails()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            try:
                self.risky(x)
            except ValueError:
                pass
            return self.fc(x)

    model = Careful()
    x = Tensor(np.ones((1, 2), dtype=np.float32), requires_grad=True)
    with viz.record_modules(model) as calls:
        y = model(x).sum()
    outer, risky, fc = calls.calls
    assert risky.end is not None and risky.end < fc.start and fc.end < outer.end
    assert risky.output_shapes == ()
    boxes = module_boxes(parse_nested(viz.draw_graph(y, modules=calls, collapse=True))[0])
    assert set(boxes) == {"fc · Linear"}        # the failed call made nothing y depends on


def test_draw_program_shows_the_compiled_program_with_its_buffers():
    """viz draws graph mode too: one box per instruction of a compiled program,
    each naming its buffer; an elementwise chain runs in place in one buffer."""
    f = ag.compile(lambda x: (ag.exp(x) * 2.0 + 1.0).sum())
    f(np.ones((3, 4)))
    dot = ag.viz.draw_program(f)            # a compiled function: its last program
    src = dot.source
    assert src.count("shape=box") == f.last_program.n_instructions
    assert "exp" in src and "B0 in place" in src and "input 0" in src
    assert ag.viz.draw_program(f.last_program).source == src
    with pytest.raises(TypeError, match="draw_program: expected a compiled program"):
        ag.viz.draw_program(lambda x: x)
