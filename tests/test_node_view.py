"""autograd_core.node_view: the public, read-only view of graph nodes that viz
(and a compiler) read instead of the tensors' private record."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor, node_view as nv
from autograd_core.graph import toposort

from tests.course_graphs import fan_out


def reference_reachable(root):
    """Every tensor behind ``root`` through the public parents (a plain search)."""
    seen, stack = {nv.NodeView(root)}, [nv.NodeView(root)]
    while stack:
        for p in stack.pop().parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def assert_topological(order):
    position = {n: i for i, n in enumerate(order)}
    assert len(position) == len(order), "a tensor appears twice"
    for n in order:
        for p in n.parents:
            assert position[p] < position[n], (p, n)


# ---------------------------------------------------------------------------
# One node
# ---------------------------------------------------------------------------

def test_a_node_its_op_parents_settings_kind_name_and_creation_order():
    g = fan_out()
    t, x, y, f = (nv.NodeView(g[k]) for k in "txyf")
    assert (t.kind, t.op_name, t.primitive, t.parents, t.seq, t.is_leaf) == ("parameter", None, None, (), 0, True)
    assert (x.kind, x.op_name, x.parents) == ("node", "cos", (t,))
    assert y.op_name == "pow" and dict(y.settings) == {"p": 2}
    assert f.op_name == "add" and f.parents == (y, nv.NodeView(g["e"]))
    assert f.name == "f" and f.requires_grad and not f.is_leaf
    # creation order: the forward pass's, a parent always before its child
    seqs = [nv.NodeView(g[k]).seq for k in "xyuef"]
    assert seqs == sorted(seqs) and seqs[0] > 0
    c = nv.NodeView(Tensor([1.0, 2.0]))
    assert (c.kind, c.requires_grad, c.seq, c.shape, c.dtype) == ("constant", False, 0, (2,), np.float64)
    assert f.primitive is g["f"].grad_fn


def test_views_compare_by_tensor_identity_and_are_read_only():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([1.0, 2.0], requires_grad=True)          # equal values, another tensor
    assert nv.NodeView(a) == nv.NodeView(a) and nv.NodeView(a) != nv.NodeView(b)
    assert len({nv.NodeView(a), nv.NodeView(a), nv.NodeView(b)}) == 2
    n = nv.NodeView(a * 2.0)
    with pytest.raises(AttributeError, match="read-only"):
        n.name = "z"
    with pytest.raises(TypeError):
        n.settings["x"] = 1                               # a read-only mapping
    value = nv.NodeView(a).value
    assert np.shares_memory(value, a.data)                # no copy ...
    with pytest.raises(ValueError):
        value[0] = 5.0                                    # ... and no writes through it
    assert a.data[0] == 1.0
    assert "mul" in repr(n) and "(2,)" in repr(n)


def test_value_grad_and_tangents_follow_the_tensor():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    view = nv.NodeView(x)
    assert view.grad is None and view.tangent() is None and view.grad_tangent() is None
    with ag.forward_ad() as level:
        x.tangent = Tensor(np.array([1.0, 0.0]))
        y = (x ** 3).sum()
        y.backward(retain_graph=True)
        assert np.array_equal(view.tangent(), [1.0, 0.0])
        assert np.array_equal(view.tangent(level), [1.0, 0.0])
        assert np.array_equal(view.tangent(level.id), [1.0, 0.0])
    np.testing.assert_allclose(view.grad, [3.0, 12.0])            # 3x²
    np.testing.assert_allclose(view.grad_tangent(), [6.0, 0.0])   # H v, H = diag(6x)
    # after the level closes, the default is the level closed last (as Tensor.tangent)
    np.testing.assert_allclose(nv.NodeView(y).tangent(), y.tangent.data)
    with ag.forward_ad():                                 # a new level: nothing at it
        assert view.tangent() is None and nv.NodeView(y).tangent() is None
        assert nv.NodeView(y).tangent(level) == 3.0      # the old level, by name: Σ 3x² v
    with pytest.raises(TypeError, match="level"):
        view.tangent("inner")


def test_parents_are_the_versions_the_node_saw_after_an_in_place_change():
    w = Tensor(2.0, requires_grad=True, name="w")
    a = w * 3.0; a.name = "a"
    b = ag.exp(a)                                         # reads a = 6
    a.mul_(2.0)                                           # a is rebased: now 12
    c = a + b
    (b_parent,) = nv.NodeView(b).parents
    new_a, _ = nv.NodeView(c).parents
    assert new_a.tensor is a and b_parent.tensor is not a  # b saw the old version
    assert b_parent.value == 6.0 and new_a.value == 12.0
    assert new_a.parents[0] == b_parent                   # the in-place op read the old one
    order = nv.walk(c)
    assert_topological(order)
    assert sum(n.name == "a" for n in order) == 2         # both versions are in the graph
    c.backward()
    assert np.isclose(w.grad.item(), 6.0 + 3.0 * np.exp(6.0))


# ---------------------------------------------------------------------------
# Walking
# ---------------------------------------------------------------------------

def test_walk_is_the_evaluation_trace_v1_to_vN():
    g = fan_out()
    order = nv.walk(g["f"])
    assert [n.name for n in order] == ["t", "x", "y", "u", "e", "f"]
    assert [n.tensor for n in order] == toposort(g["f"])
    # the backward sweep's order is the reverse
    assert [n.name for n in nv.backward_order(g["f"])] == ["f", "e", "u", "y", "x", "t"]


def test_walk_places_constants_just_before_their_first_use():
    x, tv, lam = Tensor(1.5, name="x"), Tensor(0.2, name="t"), Tensor(0.1, name="λ")
    w = Tensor(0.7, requires_grad=True, name="w")
    b = Tensor(-0.3, requires_grad=True, name="b")
    z = w * x + b;                  z.name = "z"
    L = 0.5 * (ag.sigmoid(z) - tv) ** 2
    L_reg = L + lam * (0.5 * w ** 2)
    order = nv.walk(L_reg)
    assert_topological(order)
    assert set(order) == reference_reachable(L_reg)
    names = [n.name for n in order]
    assert names[:5] == ["w", "x", None, "b", "z"]        # w, x, the product, b, the sum
    # the differentiable part is the engine's sort, in its order
    assert [n.tensor for n in order if n.requires_grad and not n.is_leaf] == \
        [t for t in toposort(L_reg) if not t.is_leaf]
    for i, n in enumerate(order):
        if n.is_leaf:                                     # the next node reads it
            first = next(m for m in order[i:] if not m.is_leaf)
            assert n in first.parents, n


def test_walk_follows_views_of_constants_and_orders_them():
    x = Tensor(np.arange(6.0), name="x")
    v = x.reshape(2, 3).T                                 # views keep their record
    q = Tensor(np.ones((3, 2)), requires_grad=True, name="q")
    z = (v * q).sum()
    order = nv.walk(z)
    assert [(n.name or n.op_name, n.kind, n.requires_grad) for n in order] == [
        ("x", "constant", False), ("reshape", "node", False), ("transpose", "node", False),
        ("q", "parameter", True), ("mul", "node", True), ("sum", "node", True)]
    assert_topological(order)
    # a view of an intermediate taken under no_grad leads to that intermediate's graph
    h = ag.tanh(q)
    with ag.no_grad():
        hv = h.reshape(6)
    out = (hv * Tensor(np.ones(6), requires_grad=True)).sum()
    order = nv.walk(out)
    assert_topological(order)
    assert set(order) == reference_reachable(out)
    assert nv.NodeView(h) in order and nv.NodeView(h) not in nv.backward_order(out)


def test_walk_of_leaves_and_several_roots():
    w = Tensor(1.0, requires_grad=True, name="w")
    assert nv.walk(w) == [nv.NodeView(w)]
    c = Tensor(3.0)
    assert nv.walk(c) == [nv.NodeView(c)] and nv.backward_order(c) == []
    a, b = ag.sin(w), ag.cos(w)
    order = nv.walk([a, b])
    assert [n.op_name for n in order] == [None, "sin", "cos"]
    assert nv.walk((b, nv.NodeView(a))) == order          # views are accepted as roots


def test_a_chain_of_100000_ops_is_walked_without_recursion():
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    order = nv.walk(y)
    assert len(order) == 2 * 100_000 + 1
    assert order[0].name == "x" and order[-1].tensor is y
    assert len(nv.backward_order(y)) == 100_001


@st.composite
def random_graphs(draw):
    """A random program: each step applies an op to earlier values or new constants."""
    return draw(st.lists(st.tuples(st.sampled_from(["add", "mul", "sin", "view", "where"]),
                                   st.integers(0, 10**6), st.integers(0, 10**6),
                                   st.booleans()), min_size=1, max_size=25))


@settings(max_examples=20, deadline=None)
@given(random_graphs())
def test_walk_is_a_topological_order_of_everything_reachable(steps):
    rng = np.random.default_rng(0)
    values = [Tensor(rng.standard_normal(3), requires_grad=True),
              Tensor(rng.standard_normal(3))]
    for op, i, j, fresh_constant in steps:
        a = values[i % len(values)]
        b = Tensor(rng.standard_normal(3)) if fresh_constant else values[j % len(values)]
        if op == "add":
            values.append(a + b)
        elif op == "mul":
            values.append(a * b)
        elif op == "sin":
            values.append(ag.sin(a))
        elif op == "view":
            values.append(a.reshape(3, 1).reshape(3))
        else:
            values.append(ag.where(np.array([True, False, True]), a, b))
    root = values[-1]
    order = nv.walk(root)
    assert_topological(order)
    assert set(order) == reference_reachable(root)
    assert order[-1] == nv.NodeView(root)
    sweep = [n.tensor for n in nv.backward_order(root)]
    assert sweep == (list(reversed(toposort(root))) if root.requires_grad else [])
    # the nodes the backward pass differentiates keep the engine's order
    assert [n.tensor for n in order if n.requires_grad and not n.is_leaf] == \
        [t for t in reversed(sweep) if not t.is_leaf]


def test_a_compiler_can_re_evaluate_the_graph_from_the_view_alone():
    rng = np.random.default_rng(1)
    W = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    X = Tensor(rng.standard_normal((5, 4)))
    out = (ag.tanh(X @ W.T) * 2.0).sum(axis=1).mean()
    values = {}
    for n in nv.walk(out):
        if n.is_leaf:
            values[n] = n.value
        else:
            values[n] = n.primitive.forward(*(values[p] for p in n.parents), **n.settings)
        np.testing.assert_allclose(values[n], n.value)
    assert np.isclose(values[nv.NodeView(out)], out.item())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_a_freed_graph_raises_graph_freed_error():
    x = Tensor(2.0, requires_grad=True)
    y = ag.exp(x) * x
    y.backward()
    view = nv.NodeView(y)
    assert view.is_freed and not nv.NodeView(x).is_freed
    with pytest.raises(nv.GraphFreedError, match="retain_graph=True"):
        view.parents
    with pytest.raises(RuntimeError, match="retain_graph=True"):   # it is a RuntimeError
        nv.walk(y)
    with pytest.raises(nv.GraphFreedError):
        nv.backward_order(y)
    assert view.op_name == "mul" and view.value == y.item()        # what is left is readable


def test_bad_arguments():
    with pytest.raises(TypeError, match="NodeView: expected a Tensor, got ndarray"):
        nv.NodeView(np.ones(3))
    with pytest.raises(TypeError, match="walk: root must be a Tensor, got float"):
        nv.walk(1.0)
    with pytest.raises(TypeError, match=r"walk: roots\[1\] must be a Tensor"):
        nv.walk([Tensor(1.0), "y"])
    with pytest.raises(ValueError, match="walk: roots is empty"):
        nv.walk([])
    assert nv.KINDS == ("parameter", "constant", "node")
