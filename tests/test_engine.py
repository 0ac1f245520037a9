"""The engine's behaviour: the textbook examples, the backward pass, dtypes,
numerics, modes and every error a user can run into."""
import threading

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor, no_grad, enable_grad


# -- the textbook examples, against the hand derivation ---------------------------

def test_logistic_least_squares_matches_hand_derivation():
    x, t, lam = 1.5, 0.2, 0.1
    w = Tensor(0.7, requires_grad=True, name="w")
    b = Tensor(-0.3, requires_grad=True, name="b")
    z = w * x + b
    y = ag.sigmoid(z)
    L = 0.5 * (y - t) ** 2
    R = 0.5 * w ** 2
    L_reg = L + lam * R
    L_reg.backward()
    # L̄_reg = 1, R̄ = λ, ȳ = y − t, z̄ = ȳ·y(1 − y), w̄ = z̄·x + R̄·w, b̄ = z̄
    yv = 1 / (1 + np.exp(-(0.7 * x - 0.3)))
    z_bar = (yv - t) * yv * (1 - yv)
    assert w.grad.item() == pytest.approx(z_bar * x + lam * 0.7, rel=1e-12)
    assert b.grad.item() == pytest.approx(z_bar, rel=1e-12)


def test_fan_out_example_matches_hand_derivation():
    # f(x, y) = y + exp(x y), x = cos t, y = t²: t feeds f through two paths.
    t = Tensor(0.9, requires_grad=True)
    x = ag.cos(t)
    y = t ** 2
    f = y + ag.exp(x * y)
    f.backward()
    tv = 0.9
    xv, yv = np.cos(tv), tv ** 2
    x_bar = np.exp(xv * yv) * yv
    y_bar = 1 + np.exp(xv * yv) * xv
    assert t.grad.item() == pytest.approx(x_bar * -np.sin(tv) + y_bar * 2 * tv, rel=1e-12)


def test_same_tensor_used_twice_accumulates():
    x = Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0
    y = Tensor([1.0, 2.0], requires_grad=True)
    z = y + y + y * y
    z.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [4.0, 6.0])


def test_grads_accumulate_across_backward_calls_and_can_be_reset():
    x = Tensor(2.0, requires_grad=True)
    (x * 3.0).backward()
    (x * 4.0).backward()
    assert x.grad.item() == 7.0
    x.grad = None
    (x * 5.0).backward()
    assert x.grad.item() == 5.0
    x.grad = np.array(1.0)
    assert isinstance(x.grad, Tensor)
    with pytest.raises(ValueError, match="shape"):
        x.grad = np.ones(3)


def test_leaf_grads_do_not_share_memory():
    a = Tensor(np.zeros(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0


def test_broadcast_operand_gradients_are_summed_to_shape():
    a = Tensor(np.ones((2, 1, 3)), requires_grad=True)
    b = Tensor(np.ones((4, 1)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1)
    np.testing.assert_array_equal(a.grad.data, np.full((2, 1, 3), 4.0))
    np.testing.assert_array_equal(b.grad.data, np.full((4, 1), 6.0))


def test_deep_chain_of_a_million_ops_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_double_backward_gives_second_and_third_derivatives():
    x = Tensor(1.3, requires_grad=True)
    y = x ** 3 + ag.sin(x)
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == pytest.approx(3 * 1.3 ** 2 + np.cos(1.3))
    x.grad = None
    g.backward(create_graph=True)
    h = x.grad
    assert h.item() == pytest.approx(6 * 1.3 - np.sin(1.3))
    x.grad = None
    h.backward()
    assert x.grad.item() == pytest.approx(6 - np.cos(1.3))


def test_retain_graph_and_release():
    x = Tensor(2.0, requires_grad=True)
    y = ag.exp(x) * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * np.exp(2.0))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    # the intermediate values are released: the root no longer references its inputs
    assert y._parents is None


def test_retain_grads_keeps_intermediate_gradients():
    x = Tensor(2.0, requires_grad=True)
    with ag.retain_grads():
        a = x * 3.0
        b = ag.sin(a)
    b.backward()
    assert a.grad.item() == pytest.approx(np.cos(6.0))
    assert b.grad.item() == 1.0
    c = x * 2.0
    c.retain_grad()
    (c * c).backward()
    assert c.grad.item() == pytest.approx(8.0)


def test_backward_with_explicit_gradient():
    x = Tensor(np.arange(3.0), requires_grad=True)
    y = x * x
    y.backward(gradient=np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 20.0, 400.0])


# -- modes --------------------------------------------------------------------------

def test_no_grad_and_enable_grad():
    x = Tensor(1.0, requires_grad=True)
    with no_grad():
        y = x * 2
        assert not y.requires_grad and y.is_leaf
        with enable_grad():
            z = x * 2
            assert z.requires_grad
    assert (x * 2).requires_grad

    @no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_no_grad_is_thread_local():
    x = Tensor(1.0, requires_grad=True)
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def worker():
        with no_grad():
            entered.set()
            release.wait(5)
            seen["worker"] = (x * 2).requires_grad

    th = threading.Thread(target=worker)
    th.start()
    entered.wait(5)
    seen["main"] = (x * 2).requires_grad  # the worker is inside no_grad right now
    release.set()
    th.join()
    assert seen == {"main": True, "worker": False}


def test_detach_and_requires_grad_():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = Tensor([1.0]).requires_grad_()
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_comparisons_do_not_require_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, 2 < x):
        assert r.dtype == bool and not r.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


def test_reflected_operators_with_arrays_and_scalars():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    for r, ref in [(a + x, [4, 6]), (a - x, [2, 2]), (a * x, [3, 8]), (a / x, [3, 2]),
                   (2 ** x, [2, 4]), (1 - x, [0, -1]), (x @ a, 11.0), (a @ x, 11.0)]:
        assert isinstance(r, Tensor) and r.requires_grad
        np.testing.assert_allclose(r.data, ref)


# -- dtypes --------------------------------------------------------------------------

def test_float32_stays_float32_end_to_end():
    x = Tensor(np.random.rand(4, 3).astype(np.float32), requires_grad=True)
    W = Tensor(np.random.rand(3, 2).astype(np.float32), requires_grad=True)
    y = ((x @ W).tanh() * 2.5 + 1 - x.sum(axis=1, keepdims=True) / 3).log_softmax(axis=1)
    loss = (y ** 2).mean() + ag.sigmoid(y).max() + ag.logsumexp(y) + ag.sqrt(y * y + 1).sum()
    assert y.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32


def test_python_values_default_to_float64_and_scalars_never_upcast():
    assert Tensor(1.5).dtype == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor([1, 2]).dtype.kind == "i"
    x = Tensor(np.ones(2, dtype=np.float32))
    for r in (x * 2.5, 2.5 * x, x + 1, x / 3, x ** 2, x - np.float64(1.0), -x):
        assert r.dtype == np.float32


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        Tensor(True, requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        Tensor([1, 2]).requires_grad_()
    # integer tensors still compute
    assert (Tensor([1, 2]) * 2).data.tolist() == [2, 4]
    assert (Tensor([1, 2]) / 2).dtype == np.float64


# -- numerics ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: ag.sigmoid(x), lambda x: ag.tanh(x), lambda x: x.softmax(axis=0),
    lambda x: x.log_softmax(axis=0), lambda x: x.logsumexp(axis=0),
])
def test_stable_at_plus_minus_1000(fn):
    for dtype in (np.float64, np.float32):
        x = Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = fn(x)
            assert np.isfinite(y.data).all()
            y.sum().backward() if y.ndim else y.backward()
        assert np.isfinite(x.grad.data).all()


def test_softmax_family_values_at_extremes():
    x = Tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(x.softmax(axis=0).data, [0, 0, 1])
    np.testing.assert_allclose(x.log_softmax(axis=0).data, [-2000, -1000, 0])
    assert x.logsumexp().item() == 1000.0
    np.testing.assert_allclose(ag.sigmoid(x).data, [0, 0.5, 1])


# -- errors ----------------------------------------------------------------------------

def test_shape_mismatch_errors_name_the_op_and_both_shapes():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((5,)))
    for op, name in [(lambda: a + b, "add"), (lambda: a * b, "mul"), (lambda: a - b, "sub"),
                     (lambda: a / b, "div"), (lambda: ag.maximum(a, b), "maximum"),
                     (lambda: ag.where(np.ones((3, 4), bool), a, b), "where")]:
        with pytest.raises(ValueError, match=rf"{name}.*\(3, 4\).*\(5,\)"):
            op()
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5,\)"):
        a @ b
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\).*\(5,\)"):
        a.reshape(5)
    with pytest.raises(ValueError, match=r"concatenate.*\(1, 5\).*\(3, 4\)"):
        ag.concatenate([a, b.reshape(1, 5)], axis=0)
    with pytest.raises(ValueError, match=r"stack"):
        ag.stack([a, a[0]])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        a.sum(axis=2)
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        a[5]


def test_backward_on_non_scalar_explains_what_to_pass():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient.*\(3,\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        (x * 2).backward(gradient=np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


def test_wrong_types_raise_type_errors_naming_the_argument():
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="str"):
        x + "a"
    with pytest.raises(TypeError, match="data"):
        Tensor("abc")
    with pytest.raises(TypeError, match="data"):
        Tensor(object())
    with pytest.raises(TypeError, match="axis"):
        x.sum(axis="0")
    with pytest.raises(TypeError, match="cond"):
        ag.where(np.array([1.0, 0.0]), x, x)
    with pytest.raises(TypeError, match="name"):
        Tensor(1.0, name=3)


def test_detect_anomaly_names_the_op_and_the_users_line():
    x = Tensor([1.0, -1.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(ag.AnomalyError, match=r"(?s)forward pass of 'log'.*test_engine.py"):
            ag.log(x - 1.0)  # log(0) = -inf: this line is named
        y = ag.sqrt(x * x)  # fine forward (values 1, 1) ...
        z = ag.sqrt(x - x)  # ... sqrt(0) = 0 forward, infinite derivative backward
        with pytest.raises(ag.AnomalyError, match=r"(?s)backward pass of 'sqrt'.*test_engine.py"):
            (z.sum() + y.sum()).backward()


def test_setitem_into_a_leaf_that_requires_grad_is_refused():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*in-place"):
        x[0] = 2.0
    with ag.no_grad():
        x[0] = 2.0  # allowed, as in PyTorch
    assert x.data[0] == 2.0 and x.is_leaf and x.requires_grad
    c = Tensor(np.ones(3))
    c[0] = 2.0
    assert c.data[0] == 2.0


# -- forward mode ---------------------------------------------------------------------

def test_forward_mode_tangents_on_every_node():
    x = Tensor(0.5)
    with ag.forward_ad():
        x.tangent = Tensor(1.0)
        a = x * x
        b = ag.sin(a)
    assert a.tangent.item() == pytest.approx(2 * 0.5)
    assert b.tangent.item() == pytest.approx(np.cos(0.25) * 2 * 0.5)


def test_forward_over_reverse_is_the_hessian_vector_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    with ag.forward_ad():
        x.tangent = Tensor(v)
        y = (x @ A @ x) * 0.5 + (x ** 3).sum()
        y.backward()
    H = 0.5 * (A + A.T) + np.diag(6 * x.data)
    np.testing.assert_allclose(x.grad.tangent.data, H @ v)


# -- gradcheck itself ---------------------------------------------------------------

def test_gradcheck_reports_the_worst_element_of_a_wrong_rule(monkeypatch):
    from autograd_core import primitives as P
    wrong = P.Elementwise("sin", np.sin, lambda out, x: -P.cos(x))  # sign error
    x = Tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda t: wrong(t) * 2.0, (x,))
    msg = str(info.value)
    assert "reverse mode (VJP)" in msg and "worst element" in msg and "analytic" in msg
    assert not ag.gradcheck(lambda t: wrong(t), (x,), raise_exception=False)
    assert ag.gradcheck(lambda t: t.sin(), (x,))


def test_repr_and_conversions():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    assert "requires_grad=True" in repr(x) and "name='x'" in repr(x)
    assert "grad_fn=<mul>" in repr(x * 2)
    assert float(Tensor(2.5)) == 2.5 and Tensor(3.0).item() == 3.0
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    assert x.detach().numpy() is x.data
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert len(x) == 2 and [t.item() for t in x] == [1.0, 2.0]
    assert x.T is x and Tensor(np.ones((2, 3))).T.shape == (3, 2)
    assert x.ndim == 1 and x.size == 2 and x.shape == (2,) and x.dtype == np.float64


@pytest.mark.parametrize("create_graph", [False, True])
def test_leaf_grads_are_own_writable_arrays_of_the_leaf_dtype(create_graph):
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = Tensor(np.ones(3, np.float32), requires_grad=True)
    A = Tensor(np.eye(3))  # float64: the product is float64
    ((x + y) @ (A @ x)).backward(create_graph=create_graph)
    assert x.grad is not y.grad and x.grad.dtype == np.float32 and y.grad.dtype == np.float32
    x.grad.data *= 0.5  # writable, and y's grad is untouched
    np.testing.assert_allclose(y.grad.data, np.ones(3))
