"""autograd_core.functional: derivatives as functions, and the R-operator.

Forward mode against central differences and against reverse mode through the
adjoint identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩ for every op; both hvp routes against
exact Hessians and differences of gradients; torch.autograd.functional's
shape conventions; composition (create_graph); Bishop's two-layer R{·}
equations written out in NumPy and matched node by node.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd_core as ag
import autograd_core.functional as F
from autograd_core import Tensor
from tests.strategies import broadcastable_pair

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def rng(seed=0):
    return np.random.default_rng(seed)


def off_kinks(a, margin=0.2):
    """Values of magnitude in [margin, margin + 1] with random signs (no kinks, no ties)."""
    return np.sign(a + 1e-12) * (margin + np.abs(a) % 1.0)


def fd_jvp(f, xs, vs, eps=1e-6):
    """Central difference of f along v: (f(x + εv) - f(x - εv)) / 2ε."""
    plus = f(*[Tensor(x + eps * v) for x, v in zip(xs, vs)]).data
    minus = f(*[Tensor(x - eps * v) for x, v in zip(xs, vs)]).data
    return (plus - minus) / (2 * eps)


def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        g.flat[k] = (f(Tensor(x + e)).item() - f(Tensor(x - e)).item()) / (2 * eps)
    return g


def fd_hvp_of_grads(f, x, v, eps=1e-5):
    """H v ≈ (∇f(x + εv) - ∇f(x - εv)) / 2ε: differences of (exact) gradients."""
    return (F.grad(f, x + eps * v).data - F.grad(f, x - eps * v).data) / (2 * eps)


# ---------------------------------------------------------------------------
# Every op: jvp vs finite differences, adjoint identity, jacobian both modes
# ---------------------------------------------------------------------------

COND = np.array([[True, False, True, True], [False, True, False, True], [True, True, False, False]])
IDX = np.array([2, 0, 2, 1])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])

# name -> (f, input shapes, kind): kind 'any' (reals), 'pos' (positive), 'kink' (|x| >= 0.2)
OPS = {
    "neg": (lambda x: -x, [(3, 4)], "any"),
    "exp": (lambda x: x.exp(), [(3, 4)], "any"),
    "log": (lambda x: x.log(), [(3, 4)], "pos"),
    "sqrt": (lambda x: x.sqrt(), [(3, 4)], "pos"),
    "reciprocal": (lambda x: x.reciprocal(), [(3, 4)], "pos"),
    "abs": (lambda x: x.abs(), [(3, 4)], "kink"),
    "sin": (lambda x: x.sin(), [(3, 4)], "any"),
    "cos": (lambda x: x.cos(), [(3, 4)], "any"),
    "tanh": (lambda x: x.tanh(), [(3, 4)], "any"),
    "sigmoid": (lambda x: x.sigmoid(), [(3, 4)], "any"),
    "relu": (lambda x: x.relu(), [(3, 4)], "kink"),
    "pow_scalar": (lambda x: x ** 3, [(3, 4)], "any"),
    "pow_frac": (lambda x: x ** 1.5, [(3, 4)], "pos"),
    "pow_tensor": (lambda a, b: a ** b, [(3, 4), (4,)], "pos"),
    "clip": (lambda x: x.clip(-0.5, 0.7), [(3, 4)], "kink"),
    "add_broadcast": (lambda a, b: a + b, [(3, 4), (4,)], "any"),
    "sub_broadcast": (lambda a, b: a - b, [(2, 1, 4), (3, 4)], "any"),
    "mul_broadcast": (lambda a, b: a * b, [(3, 1), (1, 4)], "any"),
    "div": (lambda a, b: a / b, [(3, 4), (3, 4)], "pos"),
    "scalar_ops": (lambda x: 2.0 * x - 1.0 / (x + 3.0) + x / 4.0, [(3, 4)], "pos"),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)], "any"),
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)], "any"),
    "matvec": (lambda a, b: a @ b, [(3, 4), (4,)], "any"),
    "dot": (lambda a, b: a @ b, [(4,), (4,)], "any"),
    "where": (lambda a, b: ag.where(COND, a, b), [(3, 4), (4,)], "any"),
    "maximum": (lambda a, b: ag.maximum(a, b + 3.0), [(3, 4), (3, 4)], "any"),
    "minimum": (lambda a, b: ag.minimum(a, b + 3.0), [(3, 4), (3, 4)], "any"),
    "sum_all": (lambda x: x.sum(), [(3, 4)], "any"),
    "sum_axis": (lambda x: x.sum(axis=1), [(2, 3, 4)], "any"),
    "mean_keepdims": (lambda x: x.mean(axis=(0, 2), keepdims=True), [(2, 3, 4)], "any"),
    "max_axis": (lambda x: x.max(axis=1), [(3, 4)], "any"),
    "min_all": (lambda x: x.min(), [(3, 4)], "any"),
    "logsumexp": (lambda x: x.logsumexp(axis=1), [(3, 4)], "any"),
    "softmax": (lambda x: x.softmax(axis=0), [(3, 4)], "any"),
    "log_softmax": (lambda x: x.log_softmax(axis=-1), [(3, 4)], "any"),
    "reshape": (lambda x: x.reshape(4, 3), [(3, 4)], "any"),
    "transpose": (lambda x: x.transpose(2, 0, 1), [(2, 3, 4)], "any"),
    "T": (lambda x: x.T, [(3, 4)], "any"),
    "broadcast_to": (lambda x: x.broadcast_to((2, 3, 4)), [(3, 1)], "any"),
    "getitem_slice": (lambda x: x[1:, ::2], [(3, 4)], "any"),
    "getitem_int_array": (lambda x: x[IDX], [(3, 4)], "any"),  # repeated rows accumulate
    "getitem_mask": (lambda x: x[MASK], [(3, 4)], "any"),
    "concatenate": (lambda a, b: ag.concatenate([a, b], axis=1), [(3, 4), (3, 2)], "any"),
    "stack": (lambda a, b: ag.stack([a, b], axis=1), [(3, 4), (3, 4)], "any"),
    "composite_mlp": (lambda x, w: ((x @ w).tanh() @ w.T).sigmoid().sum(axis=0).log(),
                      [(5, 3), (3, 4)], "any"),
}


def op_inputs(name, seed=0):
    _, shapes, kind = OPS[name]
    r = rng(seed)
    xs = []
    for s in shapes:
        if kind == "pos":
            xs.append(r.uniform(0.5, 2.0, size=s))
        elif kind == "kink":
            xs.append(off_kinks(r.uniform(-1.5, 1.5, size=s)))
        else:
            xs.append(r.uniform(-1.5, 1.5, size=s))
    vs = [r.standard_normal(s) for s in shapes]
    return xs, vs


@pytest.mark.parametrize("name", sorted(OPS))
def test_jvp_matches_central_differences(name):
    f = OPS[name][0]
    xs, vs = op_inputs(name)
    out, jv = F.jvp(f, tuple(xs), tuple(vs))
    np.testing.assert_allclose(out.data, f(*map(Tensor, xs)).data)
    assert jv.shape == out.shape
    np.testing.assert_allclose(jv.data, fd_jvp(f, xs, vs), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(OPS))
def test_adjoint_identity_between_jvp_and_vjp(name):
    """⟨u, J v⟩ = ⟨Jᵀu, v⟩: forward and reverse mode are transposes of each other."""
    f = OPS[name][0]
    xs, vs = op_inputs(name, seed=1)
    out, jv = F.jvp(f, tuple(xs), tuple(vs))
    u = rng(2).standard_normal(out.shape)
    _, utj = F.vjp(f, tuple(xs), u)
    lhs = np.sum(u * jv.data)
    rhs = sum(np.sum(g.data * v) for g, v in zip(utj, vs))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_jacobian_forward_and_reverse_agree(name):
    f = OPS[name][0]
    xs, _ = op_inputs(name, seed=3)
    Jf = F.jacobian(f, tuple(xs), mode="forward")
    Jr = F.jacobian(f, tuple(xs), mode="reverse")
    out_shape = f(*map(Tensor, xs)).shape
    for a, b, x in zip(Jf, Jr, xs):
        assert a.shape == b.shape == out_shape + x.shape
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14)


@FAST
@given(pair=broadcastable_pair(), seed=st.integers(0, 2**16),
       op=st.sampled_from(["add", "mul", "sub", "div", "maximum"]))
def test_adjoint_identity_under_broadcasting(pair, seed, op):
    fns = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
           "div": lambda a, b: a / (b * b + 1.0), "maximum": lambda a, b: ag.maximum(a, b)}
    f = fns[op]
    r = rng(seed)
    xs = tuple(r.standard_normal(s) for s in pair)
    vs = tuple(r.standard_normal(s) for s in pair)
    out, jv = F.jvp(f, xs, vs)
    u = r.standard_normal(out.shape)
    _, g = F.vjp(f, xs, u)
    assert [t.shape for t in g] == [x.shape for x in xs]
    np.testing.assert_allclose(np.sum(u * jv.data), sum(np.sum(a.data * v) for a, v in zip(g, vs)),
                               rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# grad, vjp, jvp: values, conventions, no side effects
# ---------------------------------------------------------------------------

A = rng(10).standard_normal((4, 4))
A = A + A.T


def quartic(x):
    """f(x) = ½ xᵀAx + Σ x⁴/4 + Σ sin x:  ∇f = Ax + x³ + cos x,  H = A + diag(3x² - sin x)."""
    return 0.5 * (x * (Tensor(A) @ x)).sum() + (x ** 4).sum() * 0.25 + x.sin().sum()


def quartic_grad(x):
    return A @ x + x ** 3 + np.cos(x)


def quartic_hessian(x):
    return A + np.diag(3 * x ** 2 - np.sin(x))


def test_grad_values_and_input_kinds():
    x = rng(1).standard_normal(4)
    for given_x in (x, Tensor(x), Tensor(x, requires_grad=True)):
        g = F.grad(quartic, given_x)
        assert isinstance(g, Tensor) and g.shape == (4,)
        np.testing.assert_allclose(g.data, quartic_grad(x), rtol=1e-12)
        assert not g.requires_grad
    # a number is a 0-d input
    np.testing.assert_allclose(F.grad(lambda s: s.sin() * s, 0.3).data, np.cos(0.3) * 0.3 + np.sin(0.3))


def test_calls_leave_inputs_and_closed_over_tensors_untouched():
    x = Tensor(rng(1).standard_normal(4), requires_grad=True)
    w = Tensor(rng(2).standard_normal(4), requires_grad=True)
    w.grad = np.ones(4)
    before = w.grad

    def f(x):
        return (x * w).sin().sum()

    v = rng(3).standard_normal(4)
    F.grad(f, x)
    F.vjp(f, x, 1.0)
    F.jvp(f, x, v)
    F.hvp(f, x, v)
    F.hvp(f, x, v, method="reverse-over-reverse")
    F.hessian(f, x)
    F.jacobian(f, x)
    F.grad(f, x, create_graph=True)  # evaluated on an identity node of x: gradients pass through x
    F.hvp(f, x, v, create_graph=True)
    F.hessian(f, x, method="reverse-over-reverse", create_graph=True)
    assert x.grad is None and x.tangent is None and x.is_leaf
    assert w.grad is before and w.tangent is None


def test_float32_inputs_give_float32_results():
    x = rng(1).standard_normal(4).astype(np.float32)
    v = rng(2).standard_normal(4)  # float64 direction is cast to the input's dtype
    assert F.grad(quartic, x).dtype == np.float32
    assert F.hvp(quartic, x, v)[1].dtype == np.float32
    assert F.jvp(lambda x: x.tanh(), x, v)[1].dtype == np.float32
    np.testing.assert_allclose(F.hvp(quartic, x, v)[1].data,
                               quartic_hessian(x.astype(np.float64)) @ v.astype(np.float32), rtol=1e-4)


def test_vjp_and_jvp_return_the_output_too():
    x = rng(1).standard_normal(3)
    f = lambda x: x.exp() * 2.0  # noqa: E731
    out, g = F.vjp(f, x, np.ones(3))
    np.testing.assert_allclose(out.data, 2 * np.exp(x))
    np.testing.assert_allclose(g.data, 2 * np.exp(x))
    out, jv = F.jvp(f, x, np.arange(3.0))
    np.testing.assert_allclose(jv.data, 2 * np.exp(x) * np.arange(3.0))
    assert not out.requires_grad and not jv.requires_grad
    # u / v may be omitted for one-element outputs / inputs, as in torch
    np.testing.assert_allclose(F.vjp(lambda x: (x * x).sum(), x)[1].data, 2 * x)
    np.testing.assert_allclose(F.jvp(lambda s: s * s, 3.0)[1].data, 6.0)


def test_tuple_input_conventions():
    """Shapes of results as in torch.autograd.functional."""
    r = rng(4)
    a, b = r.standard_normal((2, 3)), r.standard_normal(3)

    def f(a, b):
        return (a * b).tanh().sum(axis=1)  # shape (2,)

    def s(a, b):
        return (a * b).tanh().sum()

    g = F.grad(s, (a, b))
    assert isinstance(g, tuple) and [t.shape for t in g] == [(2, 3), (3,)]
    out, vj = F.vjp(f, (a, b), np.ones(2))
    assert out.shape == (2,) and isinstance(vj, tuple) and [t.shape for t in vj] == [(2, 3), (3,)]
    out, jv = F.jvp(f, (a, b), (np.ones((2, 3)), np.ones(3)))
    assert isinstance(jv, Tensor) and jv.shape == (2,)
    # jvp of a tuple is the sum of each input's effect
    only_a = F.jvp(f, (a, b), (np.ones((2, 3)), np.zeros(3)))[1].data
    only_b = F.jvp(f, (a, b), (np.zeros((2, 3)), np.ones(3)))[1].data
    np.testing.assert_allclose(jv.data, only_a + only_b)
    out, hv = F.hvp(s, (a, b), (np.ones((2, 3)), np.ones(3)))
    assert out.shape == () and isinstance(hv, tuple) and [t.shape for t in hv] == [(2, 3), (3,)]
    J = F.jacobian(f, (a, b))
    assert isinstance(J, tuple) and [t.shape for t in J] == [(2, 2, 3), (2, 3)]
    H = F.hessian(s, (a, b))
    assert isinstance(H, tuple) and all(isinstance(row, tuple) for row in H)
    assert [[t.shape for t in row] for row in H] == [[(2, 3, 2, 3), (2, 3, 3)], [(3, 2, 3), (3, 3)]]
    # a one-element tuple still gives tuples
    assert isinstance(F.grad(lambda a: a.sum(), (a,)), tuple)
    assert isinstance(F.hessian(lambda a: (a * a).sum(), (a,))[0], tuple)
    # single input: plain tensors with shapes f(x).shape + x.shape
    assert F.jacobian(lambda a: a.exp(), a).shape == (2, 3, 2, 3)
    assert F.hessian(lambda b: (b ** 3).sum(), b).shape == (3, 3)


def test_jacobian_of_a_tuple_output():
    a = rng(5).standard_normal(3)
    J = F.jacobian(lambda x: (x.sin(), x.sum()), a)
    assert isinstance(J, tuple) and J[0].shape == (3, 3) and J[1].shape == (3,)
    np.testing.assert_allclose(J[0].data, np.diag(np.cos(a)))
    np.testing.assert_allclose(J[1].data, np.ones(3))
    J2 = F.jacobian(lambda x, y: (x * y, (x + y).sum()), (a, a))
    assert [[t.shape for t in row] for row in J2] == [[(3, 3), (3, 3)], [(3,), (3,)]]


def test_jacobian_auto_mode_chooses_forward_for_few_inputs():
    calls = []

    def wide(x):  # 2 inputs -> 50 outputs: forward mode needs 2 evaluations
        calls.append(1)
        return (Tensor(np.linspace(0, 1, 50)[:, None]) * x).sum(axis=1).sin()

    x = rng(6).standard_normal(2)
    J = F.jacobian(wide, x)
    assert len(calls) <= 3  # one to see the output size, then one per input element
    np.testing.assert_allclose(J.data, F.jacobian(wide, x, mode="reverse").data)
    calls.clear()
    F.jacobian(lambda x: wide(x).sum(), x)  # 2 inputs -> 1 output: reverse, one evaluation
    assert len(calls) == 1


def test_functions_that_ignore_their_input_give_zeros():
    x = rng(7).standard_normal(3)
    const = lambda x: Tensor(np.array(2.0))  # noqa: E731
    np.testing.assert_array_equal(F.grad(const, x).data, np.zeros(3))
    np.testing.assert_array_equal(F.hvp(const, x, x)[1].data, np.zeros(3))
    np.testing.assert_array_equal(F.hvp(lambda x: x.sum(), x, x)[1].data, np.zeros(3))  # linear: H = 0
    np.testing.assert_array_equal(F.hessian(const, x).data, np.zeros((3, 3)))
    np.testing.assert_array_equal(F.jacobian(lambda x: Tensor(np.ones(2)), x).data, np.zeros((2, 3)))
    g = F.grad(lambda a, b: (a * a).sum(), (x, x))
    np.testing.assert_array_equal(g[1].data, np.zeros(3))


# ---------------------------------------------------------------------------
# hvp and hessian
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", F.HVP_METHODS)
def test_hvp_matches_exact_hessian_and_differences_of_gradients(method):
    r = rng(8)
    for _ in range(3):
        x, v = r.standard_normal(4), r.standard_normal(4)
        out, hv = F.hvp(quartic, x, v, method=method)
        np.testing.assert_allclose(out.item(), quartic(Tensor(x)).item())
        np.testing.assert_allclose(hv.data, quartic_hessian(x) @ v, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(hv.data, fd_hvp_of_grads(quartic, x, v), rtol=1e-7, atol=1e-7)


def mlp_loss(W1, b1, W2, b2, X=rng(9).standard_normal((6, 3)), T=np.eye(2)[[0, 1, 1, 0, 1, 0]]):
    h = (X @ W1.T + b1).tanh()
    z = h @ W2.T + b2
    return -(z.log_softmax(axis=1) * T).sum() * (1 / 6)


def mlp_params(seed=11):
    r = rng(seed)
    return (r.standard_normal((4, 3)), r.standard_normal(4), r.standard_normal((2, 4)), r.standard_normal(2))


def test_hvp_routes_agree_on_a_network_with_tuple_inputs():
    ps = mlp_params()
    vs = tuple(rng(12).standard_normal(p.shape) for p in ps)
    _, a = F.hvp(mlp_loss, ps, vs)
    _, b = F.hvp(mlp_loss, ps, vs, method="reverse-over-reverse")
    H = F.hessian(mlp_loss, ps)
    for i in range(4):
        np.testing.assert_allclose(a[i].data, b[i].data, rtol=1e-11, atol=1e-13)
        # (H v)_i = Σ_j H_ij v_j, contracting v_j's axes
        expected = sum(np.tensordot(H[i][j].data, vs[j], axes=vs[j].ndim) for j in range(4))
        np.testing.assert_allclose(a[i].data, expected, rtol=1e-11, atol=1e-13)
    # and against differences of gradients of the flattened function
    eps = 1e-5
    gp = F.grad(mlp_loss, tuple(p + eps * v for p, v in zip(ps, vs)))
    gm = F.grad(mlp_loss, tuple(p - eps * v for p, v in zip(ps, vs)))
    for i in range(4):
        np.testing.assert_allclose(a[i].data, (gp[i].data - gm[i].data) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hessian_methods_agree_are_symmetric_and_match_analytic():
    x = rng(13).standard_normal(4)
    H1 = F.hessian(quartic, x)
    H2 = F.hessian(quartic, x, method="reverse-over-reverse")
    np.testing.assert_allclose(H1.data, quartic_hessian(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H2.data, H1.data, rtol=1e-12, atol=1e-12)
    ps = mlp_params()
    Ha, Hb = F.hessian(mlp_loss, ps), F.hessian(mlp_loss, ps, method="reverse-over-reverse")
    for i in range(4):
        for j in range(4):
            np.testing.assert_allclose(Ha[i][j].data, Hb[i][j].data, rtol=1e-10, atol=1e-12)
            # symmetry across blocks: H_ij = H_jiᵀ
            ni, nj = ps[i].size, ps[j].size
            np.testing.assert_allclose(Ha[i][j].data.reshape(ni, nj), Ha[j][i].data.reshape(nj, ni).T,
                                       atol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_x_shape_twice():
    X = rng(14).standard_normal((2, 3))
    H = F.hessian(lambda X: (X.exp() * X).sum(), X)  # diagonal: (2 + x) e^x
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H.data.reshape(6, 6), np.diag(((2 + X) * np.exp(X)).ravel()), atol=1e-12)


# ---------------------------------------------------------------------------
# Composition: create_graph
# ---------------------------------------------------------------------------

def test_jacobian_of_grad_is_the_hessian_in_both_modes():
    x = rng(15).standard_normal(4)

    def g(x):
        return F.grad(quartic, x, create_graph=True)

    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(F.jacobian(g, x, mode=mode).data, quartic_hessian(x), atol=1e-12)


def test_jvp_of_grad_is_forward_over_reverse_hvp():
    x, v = rng(16).standard_normal(4), rng(17).standard_normal(4)
    _, hv = F.jvp(lambda x: F.grad(quartic, x, create_graph=True), x, v)
    np.testing.assert_allclose(hv.data, quartic_hessian(x) @ v, atol=1e-12)


def test_third_derivatives_by_composition():
    x, v = rng(18).standard_normal(4), rng(19).standard_normal(4)
    # ∇ Σ_i ∂f/∂x_i = Σ_i ∂²f/∂x∂x_i = row sums of H; and its derivative: third order
    np.testing.assert_allclose(F.grad(lambda x: F.grad(quartic, x, create_graph=True).sum(), x).data,
                               quartic_hessian(x).sum(axis=1), atol=1e-12)
    # d/dx (vᵀ H(x) v) = Σ_i 6 x_i v_i² - sin(x_i) v_i²  (only the diagonal of H depends on x)
    for method in F.HVP_METHODS:
        third = F.grad(lambda x: (F.hvp(quartic, x, v, method=method, create_graph=True)[1] * v).sum(), x)
        np.testing.assert_allclose(third.data, (6 * x - np.cos(x)) * v * v, atol=1e-12)
    # the Hessian itself stays differentiable: d/dx trace H = 6x - cos x
    for method in F.HVP_METHODS:
        tr = F.grad(lambda x: sum(F.hessian(quartic, x, method=method, create_graph=True)[i, i]
                                  for i in range(4)), x)
        np.testing.assert_allclose(tr.data, 6 * x - np.cos(x), atol=1e-12)


def test_jacobians_with_create_graph_are_differentiable_in_both_modes():
    x = rng(23).standard_normal(3)
    for mode in ("forward", "reverse"):
        # J = diag(3x²), so d/dx Σ_ij J_ij = 6x
        g = F.grad(lambda x: F.jacobian(lambda y: y ** 3, x, mode=mode, create_graph=True).sum(), x)
        np.testing.assert_allclose(g.data, 6 * x, atol=1e-12)


def test_vjp_create_graph_is_differentiable_in_u():
    x = rng(20).standard_normal(3)
    u = Tensor(rng(21).standard_normal(3), requires_grad=True)
    _, g = F.vjp(lambda x: x.sin(), x, u, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(u.grad.data, np.cos(x))


def test_gradients_like_torch_autograd_grad_leaves_grads_alone():
    w = Tensor(rng(22).standard_normal(3), requires_grad=True)
    b = Tensor(1.0, requires_grad=True)
    loss = ((w * w).sum() + b) * 2.0
    gw, gb = F.gradients(loss, [w, b])
    np.testing.assert_allclose(gw.data, 4 * w.data)
    assert gb.item() == 2.0 and w.grad is None and b.grad is None
    loss.backward()  # graph retained
    np.testing.assert_allclose(w.grad.data, 4 * w.data)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_non_scalar_output_errors_name_the_shape():
    x = np.ones(3)
    for call in (lambda: F.grad(lambda x: x * 2, x), lambda: F.hvp(lambda x: x * 2, x, x),
                 lambda: F.hessian(lambda x: x * 2, x)):
        with pytest.raises(ValueError, match=r"scalar.*\(3,\)"):
            call()


def test_shape_mismatch_errors_name_both_shapes():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"v has shape \(3,\).*x has shape \(2, 3\)"):
        F.hvp(lambda x: x.sum(), x, np.ones(3))
    with pytest.raises(ValueError, match=r"v has shape \(6,\).*x has shape \(2, 3\)"):
        F.jvp(lambda x: x, x, np.ones(6))
    with pytest.raises(ValueError, match=r"u has shape \(2,\).*f\(x\) has shape \(2, 3\)"):
        F.vjp(lambda x: x, x, np.ones(2))
    with pytest.raises(ValueError, match=r"v\[1\] has shape \(2,\).*x\[1\] has shape \(3,\)"):
        F.jvp(lambda a, b: a + b, (np.ones(3), np.ones(3)), (np.ones(3), np.ones(2)))
    with pytest.raises(ValueError, match="2 entries but x has 3"):
        F.jvp(lambda a, b, c: a, (1.0, 2.0, 3.0), (1.0, 2.0))
    with pytest.raises(ValueError, match="may only be omitted"):
        F.vjp(lambda x: x, x)


def test_wrong_types_name_the_argument():
    with pytest.raises(TypeError, match="f must be callable"):
        F.grad("not a function", np.ones(2))
    with pytest.raises(TypeError, match="x must be a Tensor"):
        F.grad(lambda x: x.sum(), "abc")
    with pytest.raises(TypeError, match=r"x\[1\] must be a Tensor"):
        F.grad(lambda a, b: a.sum(), (np.ones(2), {"a": 1}))
    with pytest.raises(TypeError, match="v must be a Tensor"):
        F.hvp(lambda x: x.sum(), np.ones(2), "v")
    with pytest.raises(TypeError, match="x has dtype int64"):
        F.grad(lambda x: x.sum(), np.arange(3))
    with pytest.raises(TypeError, match="must return a Tensor"):
        F.grad(lambda x: 3.0, np.ones(2))
    with pytest.raises(TypeError, match="tuple of 2 directions"):
        F.jvp(lambda a, b: a, (np.ones(2), np.ones(2)), np.ones(2))
    with pytest.raises(ValueError, match="method must be one of"):
        F.hvp(lambda x: x.sum(), np.ones(2), np.ones(2), method="finite-differences")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.jacobian(lambda x: x, np.ones(2), mode="sideways")


def test_forward_mode_nests():
    x = np.ones(2)
    # forward over forward: d/dx (J(x) x) with J = diag(2x), so J x = 2x², derivative diag(4x)
    J = F.jacobian(lambda x: F.jvp(lambda y: y * y, x, x)[1], x, mode="forward")
    np.testing.assert_allclose(J.data, 4 * np.eye(2))
    # reverse over forward: d/dx (J(x) v) with J = diag(2x)
    J = F.jacobian(lambda x: F.jvp(lambda y: y * y, x, np.ones(2), create_graph=True)[1], x, mode="reverse")
    np.testing.assert_allclose(J.data, 2 * np.eye(2))


# ---------------------------------------------------------------------------
# Bishop §5.4.6: the R{·} equations of a two-layer network, by hand
# ---------------------------------------------------------------------------

def test_two_layer_r_propagation_by_hand_matches_hvp_and_every_node():
    """E = ½ Σ_n Σ_k (y_nk - t_nk)²,  a = x W1ᵀ + b1,  z = tanh(a),  y = z W2ᵀ + b2.

    The R{·} equations (Bishop 5.98-5.110), with V the direction for W:
      R{a_j} = Σ_i v_ji x_i + v_bj            R{z_j} = h'(a_j) R{a_j}
      R{y_k} = Σ_j w_kj R{z_j} + Σ_j v_kj z_j + v_bk
      δ_k = y_k - t_k                         R{δ_k} = R{y_k}
      δ_j = h'(a_j) Σ_k w_kj δ_k
      R{δ_j} = h''(a_j) R{a_j} Σ_k w_kj δ_k + h'(a_j) Σ_k v_kj δ_k + h'(a_j) Σ_k w_kj R{δ_k}
      R{∂E/∂w_kj} = R{δ_k} z_j + δ_k R{z_j}    R{∂E/∂w_ji} = x_i R{δ_j}
      R{∂E/∂b_k} = R{δ_k}                      R{∂E/∂b_j} = R{δ_j}
    """
    r = rng(30)
    N, D, M, K = 5, 3, 4, 2
    x, t = r.standard_normal((N, D)), r.standard_normal((N, K))
    W1, b1, W2, b2 = (r.standard_normal(s) for s in [(M, D), (M,), (K, M), (K,)])
    V1, Vb1, V2, Vb2 = (r.standard_normal(s) for s in [(M, D), (M,), (K, M), (K,)])

    # ---- by hand, in NumPy -------------------------------------------------
    a = x @ W1.T + b1
    z = np.tanh(a)
    y = z @ W2.T + b2
    h1 = 1 - z ** 2                    # h'(a)
    h2 = -2 * z * h1                   # h''(a)
    Ra = x @ V1.T + Vb1
    Rz = h1 * Ra
    Ry = Rz @ W2.T + z @ V2.T + Vb2
    dk = y - t
    back = dk @ W2                     # Σ_k w_kj δ_k
    dj = h1 * back
    Rdk = Ry
    Rdj = h2 * Ra * back + h1 * (dk @ V2) + h1 * (Rdk @ W2)
    RgW2 = Rdk.T @ z + dk.T @ Rz
    Rgb2 = Rdk.sum(axis=0)
    RgW1 = Rdj.T @ x
    Rgb1 = Rdj.sum(axis=0)

    def E(W1, b1, W2, b2):
        a = x @ W1.T + b1
        a.name = "a"
        z = a.tanh()
        z.name = "z"
        y = z @ W2.T + b2
        y.name = "y"
        return 0.5 * ((y - t) ** 2).sum()

    ps, vs = (W1, b1, W2, b2), (V1, Vb1, V2, Vb2)
    expected = (RgW1, Rgb1, RgW2, Rgb2)
    # ---- the engine: both hvp routes --------------------------------------
    for method in F.HVP_METHODS:
        _, hv = F.hvp(E, ps, vs, method=method)
        for got, want in zip(hv, expected):
            np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)
    # ---- node by node, through r_op ----------------------------------------
    res = F.r_op(E, ps, vs)
    nodes = {row["name"]: row for row in res.nodes() if row["name"]}
    np.testing.assert_allclose(nodes["a"]["R"], Ra, atol=1e-12)
    np.testing.assert_allclose(nodes["z"]["R"], Rz, atol=1e-12)
    np.testing.assert_allclose(nodes["y"]["R"], Ry, atol=1e-12)
    np.testing.assert_allclose(nodes["y"]["grad"], dk, atol=1e-12)     # δ_k
    np.testing.assert_allclose(nodes["y"]["R_grad"], Rdk, atol=1e-12)  # R{δ_k}
    np.testing.assert_allclose(nodes["a"]["grad"], dj, atol=1e-12)     # δ_j
    np.testing.assert_allclose(nodes["a"]["R_grad"], Rdj, atol=1e-12)  # R{δ_j}
    # the returned leaves carry v, ∇E and R{∇E} = H v
    for leaf, v, want in zip(res.inputs, vs, expected):
        np.testing.assert_allclose(leaf.tangent.data, v)
        np.testing.assert_allclose(leaf.grad.tangent.data, want, atol=1e-12)
    np.testing.assert_allclose(res.grad[2].data, dk.T @ z, atol=1e-12)
    for got, want in zip(res.hvp, expected):
        np.testing.assert_allclose(got.data, want, atol=1e-12)
    # the graph is kept, with R-values on the tensors themselves (what draw_graph shows)
    assert res.output.tangent is not None and res.output.grad is not None
    assert {row["op"] for row in res.nodes()} >= {"input", "matmul", "tanh", "add"}


def test_r_op_forward_only_and_non_scalar_outputs():
    x, v = rng(31).standard_normal(3), rng(32).standard_normal(3)
    res = F.r_op(lambda x: x.sin(), x, v, backward=False)
    np.testing.assert_allclose(res.output.tangent.data, np.cos(x) * v)
    assert res.grad is None and res.hvp is None
    u = rng(33).standard_normal(3)
    res = F.r_op(lambda x: x.sin(), x, v, u=u)  # R{uᵀJ} = (∂/∂x uᵀJ) v = -u sin(x) v
    np.testing.assert_allclose(res.grad.data, u * np.cos(x))
    np.testing.assert_allclose(res.hvp.data, -u * np.sin(x) * v)
    with pytest.raises(ValueError, match=r"scalar.*\(3,\)"):
        F.r_op(lambda x: x.sin(), x, v)


def test_hvp_matches_the_hand_written_numpy_r_operator():
    """The benchmark's floor (benchmarks/numpy_baselines.py), in float64."""
    nb = pytest.importorskip("benchmarks.numpy_baselines")
    r = rng(34)
    model = nb.NumpyMLP(sizes=(6, 5, 3), rng=r, dtype=np.float64)
    x, y = r.standard_normal((7, 6)), r.integers(0, 3, size=7)
    onehot = np.eye(3)[y]

    def loss(W1, b1, W2, b2):
        z = (x @ W1.T + b1).relu() @ W2.T + b2
        return -(z.log_softmax(axis=1) * onehot).sum() * (1 / 7)

    ps = tuple(model.params[k] for k in model.names)
    vs = tuple(r.standard_normal(p.shape) for p in ps)
    _, grads, Hv = model.hvp(x, y, vs)
    out, hv = F.hvp(loss, ps, vs)
    np.testing.assert_allclose(out.item(), model.loss(x, y))
    for got, want in zip(hv, Hv):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)
    for got, want in zip(F.grad(loss, ps), grads):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Against PyTorch, when it is installed
# ---------------------------------------------------------------------------

def test_against_torch_autograd_functional():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    r = rng(40)
    a, b = r.standard_normal((2, 3)), r.standard_normal(3)
    va, vb = r.standard_normal((2, 3)), r.standard_normal(3)

    def ours(a, b):
        return ((a * b).tanh() * a).sum()

    def theirs(a, b):
        return (torch.tanh(a * b) * a).sum()

    def ours_vec(a, b):
        return (a * b).sin().sum(axis=1)

    def theirs_vec(a, b):
        return torch.sin(a * b).sum(dim=1)

    T = lambda *arrs: tuple(torch.tensor(x) for x in arrs)  # noqa: E731

    def close(x, y):
        if isinstance(y, (tuple, list)):
            assert isinstance(x, tuple) and len(x) == len(y)
            for p, q in zip(x, y):
                close(p, q)
        else:
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(x.data, y.detach().numpy(), rtol=1e-10, atol=1e-12)

    close(F.hvp(ours, (a, b), (va, vb))[1], TF.hvp(theirs, T(a, b), T(va, vb))[1])
    close(F.hessian(ours, (a, b)), TF.hessian(theirs, T(a, b)))
    close(F.hessian(lambda b: ours(a, b), b), TF.hessian(lambda b: theirs(torch.tensor(a), b), T(b)[0]))
    close(F.jacobian(ours_vec, (a, b)), TF.jacobian(theirs_vec, T(a, b)))
    close(F.jacobian(lambda a: ours_vec(a, b), a), TF.jacobian(lambda a: theirs_vec(a, torch.tensor(b)), T(a)[0]))
    close(F.jvp(ours_vec, (a, b), (va, vb))[1], TF.jvp(theirs_vec, T(a, b), T(va, vb))[1])
    u = r.standard_normal(2)
    close(F.vjp(ours_vec, (a, b), u)[1], TF.vjp(theirs_vec, T(a, b), T(u)[0])[1])
