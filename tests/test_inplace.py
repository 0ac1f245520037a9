"""In-place operations with PyTorch's semantics, version counters, and NumPy
interoperability without silent cuts of the graph."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor


# ---------------------------------------------------------------------------
# Leaves: in place under no_grad, refused outside it
# ---------------------------------------------------------------------------

def test_manual_sgd_loop_with_no_grad_updates_in_place_for_many_steps():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    w = Tensor(np.zeros(3), requires_grad=True)
    first = None
    for _ in range(200):
        loss = ((Tensor(X) @ w - y) ** 2).mean()
        first = loss.item() if first is None else first
        loss.backward()
        with ag.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, [1.0, -2.0, 0.5], atol=1e-6)
    assert loss.item() < 1e-10 < first


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = Tensor(np.ones(3), requires_grad=True)
    msg = "a leaf Variable that requires grad is being used in an in-place operation"
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(3.0),
               lambda: w.copy_(np.zeros(3)), lambda: w.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match=msg):
            op()
    with pytest.raises(RuntimeError, match=msg):
        w += 1
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0:2].mul_(2)
    np.testing.assert_array_equal(w.data, np.ones(3))


def test_data_is_the_escape_hatch():
    p = Tensor(np.ones(3), requires_grad=True)
    (p * 2).sum().backward()
    p.data -= 0.5 * p.grad             # an ndarray operator with a Tensor operand
    np.testing.assert_allclose(p.data, [0.0, 0.0, 0.0])
    assert p._version == 0


def test_no_grad_updates_keep_identity_and_views_see_them():
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with ag.no_grad():
        row = w[1]
        row.fill_(-1.0)
        w[0, 0] = 10.0
        w[0, 1].add_(5.0)             # a one-element view, as in PyTorch
    np.testing.assert_array_equal(w.data, [[10.0, 6.0, 2.0], [-1.0, -1.0, -1.0]])
    assert w._version == 3


def test_in_place_dtype_and_shape_rules():
    i = Tensor(np.array([1, 2, 3]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    i.fill_(1.7)                       # fill_ casts, as in PyTorch
    np.testing.assert_array_equal(i.data, [1, 1, 1])
    x = Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(np.ones((2, 3)))
    f32 = Tensor(np.ones(2, np.float32))
    f32.add_(np.float64(1.5))
    assert f32.dtype == np.float32 and f32.data[0] == 2.5


# ---------------------------------------------------------------------------
# Graph tensors: differentiable in place (history rebased)
# ---------------------------------------------------------------------------

def test_relu_in_place_on_a_hidden_layer():
    rng = np.random.default_rng(1)
    X, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    w1 = Tensor(W, requires_grad=True)
    h = Tensor(X) @ w1
    h = h.relu_()
    (h * h).sum().backward()
    w2 = Tensor(W, requires_grad=True)
    ((Tensor(X) @ w2).relu() ** 2).sum().backward()
    np.testing.assert_allclose(w1.grad.data, w2.grad.data)


def test_setitem_on_a_graph_tensor_is_differentiable():
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    v = Tensor(np.array([10.0, 20.0]), requires_grad=True)
    h = x * 2
    h[:, 0] = 0
    h[:, 1] = v * v
    (h * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0, 4], [0, 0, 10]])
    np.testing.assert_allclose(v.grad.data, 2 * v.data * np.array([1.0, 4.0]))


def test_mul_in_place_on_a_non_leaf_and_earlier_uses_keep_the_old_value():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 1.0
    a = h * 2                 # uses h before the change
    h.mul_(3)
    assert h._version == 1
    (a + h).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])   # d/dx (2x + 3x)
    np.testing.assert_allclose(h.data, [3.0, 6.0])


def test_in_place_through_a_view_rebases_the_base():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    h = x + 0
    h[:, 1:].mul_(10)          # a view of h, changed in place
    (h ** 2).sum().backward()
    scale = np.array([[1.0, 10, 10], [1, 10, 10]])
    np.testing.assert_allclose(h.data, x.data * scale)
    np.testing.assert_allclose(x.grad.data, 2 * x.data * scale ** 2)


def test_a_constant_buffer_filled_with_graph_values():
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    buf = Tensor(np.zeros((3, 2)))
    h = w
    for t in range(3):        # an RNN-style loop writing into a preallocated buffer
        h = ag.tanh(h * 2)
        buf[t] = h
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    w2 = Tensor(w.data, requires_grad=True)
    h2, outs = w2, []
    for t in range(3):
        h2 = ag.tanh(h2 * 2)
        outs.append(h2)
    ag.stack(outs).sum().backward()
    np.testing.assert_allclose(w.grad.data, w2.grad.data)


def test_in_place_against_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    x = Tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    outs = []
    for T, lib in ((x, ag), (tx, torch)):
        h = T * 2
        h.add_(1).mul_(3)
        h[0] = h[1] * 3
        h[:, 2].sub_(1.5)
        h = h.relu_()
        h = h.exp()
        outs.append(h)
        (h.sum() if lib is ag else h.sum()).backward()
    np.testing.assert_allclose(outs[0].data, outs[1].detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


OPS = {
    "add_": (lambda t, o: t.add_(o), lambda t, o: t + o),
    "sub_": (lambda t, o: t.sub_(o), lambda t, o: t - o),
    "mul_": (lambda t, o: t.mul_(o), lambda t, o: t * o),
    "div_": (lambda t, o: t.div_(o), lambda t, o: t / o),
    "iadd": (lambda t, o: t.__iadd__(o), lambda t, o: t + o),
    "pow_": (lambda t, o: t.pow_(2), lambda t, o: t ** 2),
    "clamp_": (lambda t, o: t.clamp_(-0.5, 0.5), lambda t, o: t.clamp(-0.5, 0.5)),
    "copy_": (lambda t, o: t.copy_(o), lambda t, o: ag.broadcast_to(o * 1.0, t.shape)),
    "relu_": (lambda t, o: t.relu_(), lambda t, o: t.relu()),
}


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 10_000),
       shape=st.sampled_from([(), (3,), (2, 3)]), other_shape=st.sampled_from(["same", "row"]))
def test_in_place_ops_equal_their_out_of_place_twins(op, seed, shape, other_shape):
    rng = np.random.default_rng(seed)
    xd = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)
    od = rng.uniform(0.5, 2.0, shape if other_shape == "same" or not shape else shape[-1:])
    inplace, outofplace = OPS[op]
    results = []
    for fn in (inplace, outofplace):
        x = Tensor(xd, requires_grad=True)
        o = Tensor(od, requires_grad=True)
        h = x * 1.5
        out = fn(h, o)
        (out * out).sum().backward()
        results.append([None if g is None else g.data for g in (out, x.grad, o.grad)])
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b)


# ---------------------------------------------------------------------------
# Version counters
# ---------------------------------------------------------------------------

def test_changing_a_saved_constant_in_place_is_caught():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    loss = (x * c).sum()
    c[0] = 100.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*'mul'"):
        loss.backward()


def test_changing_a_saved_output_in_place_is_caught_but_unsaved_is_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = ag.exp(x)                  # exp saves its output
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*'exp'"):
        h.sum().backward()
    y = Tensor([1.0, 2.0], requires_grad=True)
    s = y + 1                      # add saves nothing
    s.mul_(2)
    s.sum().backward()
    np.testing.assert_allclose(y.grad.data, [2.0, 2.0])


def test_changing_a_detached_alias_is_caught():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y * y                      # saves y
    y.detach().zero_()             # shares memory and version with y
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()


def test_numpy_operands_are_captured():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = np.array([3.0, 4.0])
    loss = (x * c).sum()
    c[0] = 100.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_numpy_of_a_tensor_that_requires_grad_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy() is x.data
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])


# ---------------------------------------------------------------------------
# NumPy functions on Tensors
# ---------------------------------------------------------------------------

def test_numpy_ufuncs_and_functions_dispatch_to_differentiable_ops():
    x = Tensor(np.array([[0.1, 0.2], [0.3, 0.4]]), requires_grad=True)
    a = np.array([1.0, 2.0])
    y = np.exp(x) * a + np.sum(x, axis=0) + np.maximum(x, 0.25)
    assert isinstance(y, Tensor) and y.requires_grad
    z = np.concatenate([y, a[None]], axis=0)
    w = np.mean(np.tanh(z)) + np.max(x) + np.sum(a * x)
    assert isinstance(w, Tensor)
    w.backward()
    x2 = Tensor(x.data, requires_grad=True)
    y2 = ag.exp(x2) * a + x2.sum(axis=0) + ag.maximum(x2, 0.25)
    w2 = ag.tanh(ag.concatenate([y2, Tensor(a[None])])).mean() + x2.max() + (x2 * a).sum()
    w2.backward()
    np.testing.assert_allclose(x.grad.data, x2.grad.data)


def test_numpy_functions_without_an_engine_op_refuse_tensors_that_require_grad():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(TypeError, match="numpy.median.*cut the gradient"):
        np.median(x)  # np.median averages the middle values; torch.median does not
    with pytest.raises(TypeError, match="numpy.logaddexp"):
        np.logaddexp(x, 2.0)
    # results without a gradient to lose are fine
    assert np.shape(x) == (3,) and np.ndim(x) == 1
    assert np.searchsorted(x, 2.5) == 2
    c = Tensor(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(np.median(c), 2.0)


def test_numpy_out_argument_writes_in_place():
    t = Tensor(np.ones(3))
    np.add(t, 1.0, out=t)
    np.testing.assert_array_equal(t.data, [2.0, 2.0, 2.0])
    assert t._version == 1


def test_views_taken_before_an_in_place_change_of_their_base_follow_it():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = x * 1.0
    a, b = h[:2], h[2:]
    h.mul_(2)
    np.testing.assert_array_equal(a.data, [2.0, 4.0])
    (a * 10 + b).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [20.0, 20.0, 2.0, 2.0])


def test_a_view_of_a_constant_buffer_joins_the_graph_with_the_buffer():
    w = Tensor([1.0, 2.0], requires_grad=True)
    buf = Tensor(np.zeros((2, 2)))
    row0 = buf[0]
    buf[0] = w * 3
    assert row0.requires_grad
    row0.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])



@pytest.mark.parametrize("name,index,operand,keyword", [
    ("scatter_", [[2], [0]], 1.0, "src"),
    ("scatter_add_", [[0, 0]], ag.ones(1, 2), "src"),
    ("index_add_", [0, 0], ag.ones(2, 2), "source"),
    ("index_copy_", [2], ag.ones(2, 1), "source"),
    ("index_fill_", [1, 2], 5.0, "value"),
])
def test_indexed_inplace_ops_take_axis_as_their_out_of_place_twins(name, index, operand,
                                                                    keyword):
    index = ag.tensor(index)
    expected = getattr(ag.zeros(2, 3), name)(1, index, operand).data
    twin = getattr(ag, name[:-1])
    np.testing.assert_array_equal(twin(ag.zeros(2, 3), axis=1, index=index,
                                       **{keyword: operand}).data, expected)
    for spelling in ("axis", "dim"):
        x = ag.zeros(2, 3)
        out = getattr(x, name)(index=index, **{spelling: 1, keyword: operand})
        assert out is x
        np.testing.assert_array_equal(x.data, expected)
    with pytest.raises(TypeError, match=f"{name}: got both dim= and axis="):
        getattr(ag.zeros(2, 3), name)(dim=1, axis=1, index=index, **{keyword: operand})
