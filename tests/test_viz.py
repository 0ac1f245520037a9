"""Graph drawing: structure, labels, backward order, rendering with `dot`."""
import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor, viz
from autograd_core.graph import toposort

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def fan_out_graph():
    t = Tensor(0.9, requires_grad=True, name="t")
    with ag.retain_grads():
        x = ag.cos(t)
        x.name = "x"
        y = t ** 2
        y.name = "y"
        f = y + ag.exp(x * y)
    f.name = "f"
    f.backward(retain_graph=True)
    return t, x, y, f


def logistic_graph():
    w = Tensor(0.7, requires_grad=True, name="w")
    b = Tensor(-0.3, requires_grad=True, name="b")
    x, t, lam = Tensor(1.5, name="x"), Tensor(0.2, name="t"), 0.1
    z = w * x + b
    y = ag.sigmoid(z)
    L = 0.5 * (y - t) ** 2
    R = 0.5 * w ** 2
    L_reg = L + lam * R
    L_reg.backward(retain_graph=True)
    return w, b, L_reg


def node_labels(dot):
    return re.findall(r"<B>([^<]+)</B>", dot.source)


def test_one_box_per_tensor_one_ellipse_per_op_and_data_flow_edges():
    t, x, y, f = fan_out_graph()
    dot = viz.draw_graph(f)
    assert isinstance(dot, graphviz.Digraph)
    assert sorted(node_labels(dot)) == sorted(["t", "x", "y", "v4", "v5", "f"])
    ops = re.findall(r'label="?(\w+)[^\]]*shape=ellipse', dot.source)
    assert sorted(ops) == sorted(["cos", "pow", "mul", "exp", "add"])
    # t fans out into cos and pow; y into mul and add
    assert dot.source.count(f"t{id(t)} -> ") == 2
    assert dot.source.count(f"t{id(y)} -> ") == 2
    assert f"op{id(f)} -> t{id(f)}" in dot.source


def test_values_and_gradients_are_shown():
    t, x, y, f = fan_out_graph()
    src = viz.draw_graph(f).source
    assert f"grad {t.grad.item():.4g}" in src
    assert "data 0.9" in src
    assert f"grad {x.grad.item():.4g}" in src  # an intermediate v̄_i, kept by retain_grads
    assert "grad" not in viz.draw_graph(f, show_grad=False).source
    assert "data" not in viz.draw_graph(f, show_data=False).source


def test_backward_order_numbers_follow_the_reversed_topological_order():
    t, x, y, f = fan_out_graph()
    src = viz.draw_graph(f, backward_order=True).source
    forward_labels = ["t", "x", "y", "v4", "v5", "f"]  # v_i: the forward order
    by_node = {id(n): lab for n, lab in zip([t, x, y, f._parents[1]._parents[0], f._parents[1], f],
                                             forward_labels)}
    for step, node in enumerate(reversed(toposort(f)), start=1):
        label = by_node[id(node)]
        assert re.search(rf"<B>{re.escape(label)}  <FONT COLOR='#b03030'>#{step}</FONT>", src), (label, step)


def test_textbook_logistic_graph_draws_constants_and_parameters():
    w, b, L_reg = logistic_graph()
    src = viz.draw_graph(L_reg).source
    labels = node_labels(viz.draw_graph(L_reg))
    assert {"w", "b", "x"} <= set(labels)
    assert "data -0.2" in src  # y - t is y + (-t): the constant -t is folded
    assert "#cfe2f3" in src and "#eeeeee" in src  # parameters and constants coloured apart


def test_large_tensors_show_statistics_not_values():
    a = Tensor(np.arange(100.0).reshape(10, 10), requires_grad=True, name="A")
    s = (a * 2.0).sum()
    s.backward(retain_graph=True)
    src = viz.draw_graph(s).source
    assert "mean 99, std 57.73, min 0, max 198" in src
    assert "(10, 10) float64" in src


def test_tangents_are_drawn_when_asked():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    x.tangent = Tensor(np.array([1.0, 0.0]))
    with ag.forward_ad():
        y = (x * x).sum()
    src = viz.draw_graph(y, show_tangent=True).source
    assert "R{·} 2" in src  # d/dε Σ (x + εv)² = 2 x·v = 2


def test_r_values_of_gradients_are_drawn_after_forward_over_reverse():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    x.tangent = Tensor(np.array([1.0, 0.0]))
    with ag.forward_ad():
        y = (x ** 3).sum()
        y.backward(retain_graph=True)
    src = viz.draw_graph(y, show_tangent=True).source
    assert "R{grad} [6., 0.]" in src  # H v with H = diag(6x)


def test_freed_graph_says_to_retain_it():
    x = Tensor(2.0, requires_grad=True)
    y = ag.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.draw_graph(y)


def test_deep_chain_does_not_recurse_and_respects_max_nodes():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    dot = viz.draw_graph(y, max_nodes=50)
    assert len(node_labels(dot)) == 50
    assert "earlier tensors not drawn" in dot.source


def test_graph_table_lists_nodes_in_forward_order():
    t, x, y, f = fan_out_graph()
    table = viz.graph_table(f)
    names = [line.split()[0] for line in table.splitlines()[2:]]
    assert names == ["t", "x", "y", "v4", "v5", "f"]
    assert "cos" in table and "x, y" in table


def test_wrong_root_type():
    with pytest.raises(TypeError, match="root"):
        viz.draw_graph(np.ones(3))


@needs_dot
def test_renders_svg_and_png_with_dot(tmp_path):
    t, x, y, f = fan_out_graph()
    svg = viz.save_graph(f, tmp_path / "g.svg", backward_order=True)
    root = ET.parse(svg).getroot()
    text = " ".join(el.text or "" for el in root.iter())
    assert "exp" in text and "data 0.9" in text
    png = viz.save_graph(f, tmp_path / "g.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert viz.draw_graph(f)._repr_mimebundle_()  # what Jupyter shows inline
    with pytest.raises(ValueError, match="format"):
        viz.save_graph(f, tmp_path / "noext")
