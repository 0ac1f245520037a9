"""The engine's second generation: gradients returned by the sweep
(``autograd.grad``, ``backward(inputs=)``), nestable forward mode (levels),
and the error and edge-case behaviour that must never give a silent wrong answer."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor, functional as F
from autograd_core.autograd import forward_ad as fwAD


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# autograd.grad: cotangents of chosen inputs, no .grad touched
# ---------------------------------------------------------------------------

def test_grad_returns_gradients_of_leaves_and_intermediates_without_touching_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, -1.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh = ag.autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.data, 2 * (x.data * w.data) * w.data)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert x.grad is None and w.grad is None and h.grad is None
    (gw,) = ag.autograd.grad(y, w)
    np.testing.assert_allclose(gw.data, 2 * (x.data * w.data) * x.data)


def test_grad_walks_only_the_part_of_the_graph_it_needs():
    x = Tensor(2.0, requires_grad=True)
    z = Tensor(5.0, requires_grad=True)
    side = z.exp()                      # not on the path from y to x
    y = x * x + side
    (gx,) = ag.autograd.grad(y, x)
    assert gx.item() == 4.0
    # the side branch was not visited, so its graph was not freed
    side.backward()
    assert z.grad.item() == pytest.approx(np.exp(5.0))


def test_grad_of_several_outputs_with_grad_outputs():
    x = Tensor(np.arange(3.0), requires_grad=True)
    a, b = x * 2, x ** 2
    (g,) = ag.autograd.grad([a, b], x, grad_outputs=[np.ones(3), np.full(3, 0.5)])
    np.testing.assert_allclose(g.data, 2 + x.data)


def test_grad_errors_and_allow_unused():
    x = Tensor(1.0, requires_grad=True)
    u = Tensor(1.0, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ag.autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = ag.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
    assert gx.item() == 3 and gu is None
    gx, gu = ag.autograd.grad(y, [x, u], materialize_grads=True, retain_graph=True)
    assert gu.item() == 0
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.autograd.grad(y, Tensor(1.0))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.autograd.grad(Tensor(2.0), x)
    with pytest.raises(ValueError, match="implicitly created only for outputs with one element"):
        ag.autograd.grad(x * Tensor([1.0, 2.0]), x)


def test_seed_errors_name_the_callers_argument():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"autograd.grad: .*Pass grad_outputs= .*shape \(2,\).*"
                                         r"e\.g\. autograd\.grad\(y\.sum\(\), inputs\)") as e:
        ag.autograd.grad(y, x, retain_graph=True)
    assert "gradient=" not in str(e.value) and ".backward()" not in str(e.value)
    with pytest.raises(ValueError, match=r"autograd.grad: `grad_outputs` has shape \(3,\)"):
        ag.autograd.grad(y, x, grad_outputs=ag.ones(3), retain_graph=True)
    with pytest.raises(TypeError, match="autograd.grad: grad_outputs must be a Tensor"):
        ag.autograd.grad(y, x, grad_outputs="ones", retain_graph=True)
    with pytest.raises(ValueError, match=r"backward: .*Pass gradient= .*y\.sum\(\)\.backward\(\)"):
        y.backward()


def test_grad_frees_the_graph_unless_retained_and_create_graph_gives_higher_order():
    x = Tensor(0.7, requires_grad=True)
    y = x ** 4
    ag.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.autograd.grad(y, x)
    y = x ** 4
    (g,) = ag.autograd.grad(y, x, create_graph=True)
    (gg,) = ag.autograd.grad(g, x, create_graph=True)
    (ggg,) = ag.autograd.grad(gg, x)
    assert ggg.item() == pytest.approx(24 * 0.7)


def test_backward_inputs_accumulates_only_into_those():
    x = Tensor(2.0, requires_grad=True)
    w = Tensor(3.0, requires_grad=True)
    h = x * w
    y = h * h
    y.backward(inputs=[x, h], retain_graph=True)
    assert x.grad.item() == pytest.approx(2 * 6 * 3) and w.grad is None
    assert h.grad.item() == pytest.approx(12)
    y.backward(inputs=x)
    assert x.grad.item() == pytest.approx(72)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_backward_without_gradient_on_any_one_element_tensor(shape):
    x = Tensor(np.full(shape, 3.0), requires_grad=True)
    (x * x).backward()
    np.testing.assert_allclose(x.grad.data, np.full(shape, 6.0))


def test_backward_rejects_complex_gradients_and_integer_grads():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="real"):
        (x * 2).backward(np.array([1 + 1j, 0]))
    with pytest.raises(TypeError, match="floating"):
        x.grad = np.array([1, 2])
    with pytest.raises(ValueError, match="shape"):
        x.grad = np.ones(3)


# ---------------------------------------------------------------------------
# Forward mode that nests
# ---------------------------------------------------------------------------

def test_perturbation_confusion_is_avoided_in_every_mode():
    """d/dx [x · d/dy (x + y)] = 1 at every x (Siskind & Pearlmutter)."""
    for x0 in (0.0, 1.0, 3.5):
        inner_f = lambda x: F.jvp(lambda y: x + y, Tensor(1.0), Tensor(1.0))[1]
        assert F.jvp(lambda x: x * inner_f(x), Tensor(x0), Tensor(1.0))[1].item() == 1.0
        inner_r = lambda x: F.grad(lambda y: x + y, Tensor(1.0))
        assert F.grad(lambda x: x * inner_r(x), Tensor(x0)).item() == 1.0
        assert F.jvp(lambda x: x * inner_r(x), Tensor(x0), Tensor(1.0))[1].item() == 1.0
        assert F.grad(lambda x: x * inner_f(x), Tensor(x0)).item() == 1.0


def _f(x):
    return (ag.sin(x) * x ** 3).sum() + (x[0] * x[1]) ** 2


def _hessian_exact(x):
    h = np.diag(-np.sin(x) * x ** 3 + 6 * np.cos(x) * x ** 2 + 6 * np.sin(x) * x)
    h[0, 0] += 2 * x[1] ** 2
    h[1, 1] += 2 * x[0] ** 2
    h[0, 1] += 4 * x[0] * x[1]
    h[1, 0] += 4 * x[0] * x[1]
    return h


def _third_exact(x):
    """T_ijk for _f."""
    n = x.size
    T = np.zeros((n, n, n))
    s, c = np.sin(x), np.cos(x)
    d3 = -c * x ** 3 - 9 * s * x ** 2 + 18 * c * x + 6 * s
    for i in range(n):
        T[i, i, i] = d3[i]
    # (x0 x1)^2: ∂³ terms
    T[0, 1, 1] = T[1, 0, 1] = T[1, 1, 0] = 4 * x[0]
    T[1, 0, 0] = T[0, 1, 0] = T[0, 0, 1] = 4 * x[1]
    return T


def test_second_derivatives_by_every_route_match_the_exact_hessian():
    x = rng().standard_normal(3)
    v1, v2 = rng(1).standard_normal(3), rng(2).standard_normal(3)
    H = _hessian_exact(x)
    want = v2 @ H @ v1
    ff = F.jvp(lambda x: F.jvp(_f, x, v1)[1], x, v2)[1].item()
    fr = F.jvp(lambda x: F.grad(_f, x), x, v2)[1].data @ v1
    rf = F.grad(lambda x: F.jvp(_f, x, v1)[1], x).data @ v2
    rr = F.grad(lambda x: (F.grad(_f, x) * Tensor(v1)).sum(), x).data @ v2
    for value in (ff, fr, rf, rr):
        assert value == pytest.approx(want, rel=1e-10)
    np.testing.assert_allclose(F.jacobian(lambda x: F.jacobian(_f, x, mode="forward"), x,
                                          mode="forward").data, H, rtol=1e-10)
    np.testing.assert_allclose(F.jacobian(lambda x: F.grad(_f, x), x, mode="reverse").data, H,
                               rtol=1e-10)
    np.testing.assert_allclose(F.hessian(_f, x).data, H, rtol=1e-10)
    np.testing.assert_allclose(F.hessian(_f, x, method="reverse-over-reverse").data, H, rtol=1e-10)


def test_third_derivatives_by_every_route():
    x = rng(3).standard_normal(3)
    v1, v2, v3 = (rng(s).standard_normal(3) for s in (4, 5, 6))
    T = _third_exact(x)
    want = np.einsum("ijk,i,j,k", T, v1, v2, v3)
    fff = F.jvp(lambda x: F.jvp(lambda x: F.jvp(_f, x, v1)[1], x, v2)[1], x, v3)[1].item()
    hvp_in_jvp = F.jvp(lambda x: F.hvp(_f, x, v1)[1], x, v3)[1].data @ v2
    jac_of_hvp = F.jacobian(lambda x: F.hvp(_f, x, v1)[1], x).data @ v3 @ v2
    jac_of_hvp_fwd = F.jacobian(lambda x: F.hvp(_f, x, v1)[1], x, mode="forward").data @ v3 @ v2
    rrr = F.grad(lambda x: (F.grad(lambda x: (F.grad(_f, x) * Tensor(v1)).sum(), x)
                            * Tensor(v2)).sum(), x).data @ v3
    hvp_rr = F.jvp(lambda x: F.hvp(_f, x, v1, method="reverse-over-reverse")[1], x, v3)[1].data @ v2
    for value in (fff, hvp_in_jvp, jac_of_hvp, jac_of_hvp_fwd, rrr, hvp_rr):
        assert value == pytest.approx(want, rel=1e-9)


def test_nested_forward_mode_against_finite_differences():
    x = rng(7).standard_normal(4)
    v1, v2 = rng(8).standard_normal(4), rng(9).standard_normal(4)
    f = lambda x: (ag.tanh(x) ** 2).sum() * ag.exp(x).sum()
    d1 = lambda x: F.jvp(f, Tensor(x), v1)[1].item()
    eps = 1e-6
    fd = (d1(x + eps * v2) - d1(x - eps * v2)) / (2 * eps)
    assert F.jvp(lambda x: F.jvp(f, x, v1)[1], x, v2)[1].item() == pytest.approx(fd, rel=1e-6)


def test_dual_numbers_api():
    x = Tensor(np.array([1.0, 2.0]))
    with fwAD.dual_level():
        d = fwAD.make_dual(x, Tensor(np.array([1.0, 0.0])))
        y = ag.sin(d) * d
        primal, tangent = fwAD.unpack_dual(y)
        np.testing.assert_allclose(primal.data, np.sin(x.data) * x.data)
        np.testing.assert_allclose(tangent.data, [np.cos(1.0) * 1.0 + np.sin(1.0), 0.0])
        assert fwAD.unpack_dual(primal).tangent is None
        assert fwAD.is_dual(y) and not fwAD.is_dual(x)
    assert x._tan is None  # make_dual never touches its argument
    with pytest.raises(RuntimeError, match="no forward level"):
        fwAD.make_dual(x, x)


def test_tangents_set_on_existing_tensors_end_with_their_level():
    w = Tensor(np.ones(3), requires_grad=True)
    with ag.forward_ad():
        w.tangent = np.arange(3.0)
        y = (w * w).sum()
        assert y.tangent.item() == pytest.approx(2 * 3.0)
    assert w._tan is None or not w._tan
    with pytest.raises(RuntimeError, match="inside a forward-mode level"):
        w.tangent = np.ones(3)


def test_results_are_detached_at_top_level_and_connected_inside_a_transform():
    x = Tensor(np.array([0.3, 0.4]), requires_grad=True)
    g = F.grad(lambda x: (x ** 3).sum(), x)
    assert not g.requires_grad and x.grad is None
    g = F.grad(lambda x: (x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad


# ---------------------------------------------------------------------------
# No silent wrong answers
# ---------------------------------------------------------------------------

def test_anomaly_mode_on_vector_graphs_and_layers_names_the_op_and_line():
    import nn
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    with ag.detect_anomaly():
        (x * y).sum().backward()        # no crash on vector graphs
        lin = nn.Linear(3, 2)
        lin(x.reshape(1, 3)).sum().backward()
    z = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match=r"(?s)forward pass of 'log'.*test_autograd_api.py"):
            ag.log(z - 1.0)
        w = ag.sqrt(z * z)                    # fine forward; at 0 the backward divides by 0
        with pytest.raises(ag.AnomalyError, match=r"(?s)backward pass of 'sqrt'.*test_autograd_api"):
            (w * 0 + ag.sqrt(z * 0)).sum().backward()


def test_casting_to_integer_or_bool_cuts_the_graph():
    x = Tensor([1.5, 2.5], requires_grad=True)
    assert not x.astype(np.int64).requires_grad
    assert not x.astype(bool).requires_grad
    assert x.astype(np.float32).requires_grad


def test_pow_edge_values_match_pytorch():
    x = Tensor(0.0, requires_grad=True)
    (x ** 0).backward()
    assert x.grad.item() == 0.0
    y = Tensor(2.0, requires_grad=True)
    base = Tensor(0.0, requires_grad=True)
    out = base ** y
    out.backward()
    assert out.item() == 0.0 and y.grad.item() == 0.0 and base.grad.item() == 0.0
    y0 = Tensor(0.0, requires_grad=True)
    (0 ** y0).backward()
    assert y0.grad.item() == 0.0


def test_pow_edge_values_against_torch():
    torch = pytest.importorskip("torch")
    xs = np.array([0.0, 0.0, 2.0, 0.0])
    ys = np.array([0.0, 2.0, 0.0, 0.5])
    x, y = Tensor(xs, requires_grad=True), Tensor(ys, requires_grad=True)
    (x ** y).sum().backward()
    tx, ty = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    (tx ** ty).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())


def test_maximum_minimum_and_max_with_nan_follow_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([1.0, np.nan, 3.0, 2.0])
    b = np.array([np.nan, 2.0, 1.0, 2.0])
    for ours, theirs in [(ag.maximum, torch.maximum), (ag.minimum, torch.minimum)]:
        x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        out = ours(x, y)
        out.sum().backward()
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        tout = theirs(tx, ty)
        tout.sum().backward()
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
        np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())
    for ours, theirs in [("max", torch.max), ("min", torch.min)]:
        x = Tensor(a, requires_grad=True)
        getattr(x, ours)().backward()
        tx = torch.tensor(a, requires_grad=True)
        theirs(tx).backward()
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_set_grad_enabled_as_call_and_as_context_manager():
    try:
        ag.set_grad_enabled(False)
        assert not ag.is_grad_enabled()
        assert not (Tensor(1.0, requires_grad=True) * 2).requires_grad
    finally:
        ag.set_grad_enabled(True)
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    with ag.no_grad():
        with ag.set_grad_enabled(True):
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()


def test_gradcheck_fails_clearly_on_nan_or_inf():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(ag.GradcheckError, match="NaN or inf"):
        ag.gradcheck(lambda t: ag.sqrt(t), (x,))


@pytest.mark.parametrize("bad", [2, -3, 1.0, True, "0"])
def test_axis_arguments_reject_bad_values_naming_the_argument(bad):
    x = Tensor(np.ones((2, 3)))
    expected = (ValueError, IndexError) if isinstance(bad, int) and not isinstance(bad, bool) \
        else TypeError
    for call, arg in [(lambda: x.sum(axis=bad), "axis"), (lambda: x.sum(dim=bad), "dim"),
                      (lambda: x.softmax(bad), "axis|dim"), (lambda: x.transpose(bad, 0), "axes|dim"),
                      (lambda: ag.concatenate([x, x], axis=bad), "axis|dim"),
                      (lambda: x.mean(bad), "axis")]:
        with pytest.raises(expected, match=arg):
            call()
    with pytest.raises(TypeError, match="shape"):
        x.reshape(bad if not isinstance(bad, int) or isinstance(bad, bool) else 2.5)


def test_float16_reductions_accumulate_in_float32():
    x = Tensor(np.ones((10, 60000), dtype=np.float16))
    m = x.mean()
    assert m.dtype == np.float16 and m.item() == 1.0
    assert x.sum(axis=1).data[0] == 60000


def test_empty_reductions_give_pytorch_values():
    e = Tensor(np.zeros((0, 3)))
    assert e.sum().item() == 0.0
    assert np.isnan(e.mean().item())
    np.testing.assert_array_equal(e.sum(axis=0).data, np.zeros(3))
    assert e.logsumexp().item() == -np.inf
    np.testing.assert_array_equal(e.logsumexp(axis=0).data, np.full(3, -np.inf))
    with pytest.raises(ValueError, match="empty"):
        e.max()
