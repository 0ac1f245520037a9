"""autograd_core.compile: a traced step replayed as a planned NumPy program
equals the eager step, retraces on a new signature, refuses what it cannot
record, and never lets two live values share a buffer."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.compiler import CompileError, check_plan


def mlp_params(rng, dtype=np.float32):
    return [Tensor(rng.standard_normal((16, 12)).astype(dtype) * 0.3, requires_grad=True),
            Tensor(np.zeros(16, dtype), requires_grad=True),
            Tensor(rng.standard_normal((5, 16)).astype(dtype) * 0.3, requires_grad=True),
            Tensor(np.zeros(5, dtype), requires_grad=True)]


def make_step(params, lr=0.1):
    W1, b1, W2, b2 = params

    def step(x, y):
        h = ag.linear(x, W1, b1).relu()
        logits = ag.linear(h, W2, b2)
        loss = -logits.log_softmax(axis=1)[np.arange(len(y)), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss
    return step


def batches(rng, n, dtype=np.float32, batch=8):
    return [(rng.standard_normal((batch, 12)).astype(dtype), rng.integers(0, 5, batch))
            for _ in range(n)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_training_equals_eager_bitwise_over_many_steps(dtype, threads, monkeypatch):
    rng = np.random.default_rng(0)
    data = batches(rng, 30, dtype, batch=64)
    p_eager = mlp_params(np.random.default_rng(1), dtype)
    p_comp = [Tensor(p.data.copy(), requires_grad=True) for p in p_eager]
    eager = make_step(p_eager)
    compiled = ag.compile(make_step(p_comp), options={"threads": threads})
    if threads > 1:
        import autograd_core.compiler as C
        monkeypatch.setattr(C, "_SPLIT_MACS", 1)   # split even these small products
    for x, y in data:
        le = eager(Tensor(x), Tensor(y)).item()
        lc = compiled(x, y).item()
        assert lc == le
    for a, b in zip(p_eager, p_comp):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.grad.data, b.grad.data)
    assert compiled.stats["traces"] == 1 and compiled.stats["replays"] == 29
    check_plan(compiled.last_program)
    assert ("_par_matmul" in compiled.last_program.source) == (threads > 1)


def test_a_new_signature_retraces_and_the_cache_is_bounded():
    params = mlp_params(np.random.default_rng(1), np.float64)
    compiled = ag.compile(make_step(params), cache_size=2)
    rng = np.random.default_rng(2)
    for batch in (4, 4, 6, 4, 8, 6):
        compiled(rng.standard_normal((batch, 12)), rng.integers(0, 5, batch))
    assert compiled.stats["traces"] == 4       # 4, 6, 8, then 6 again after eviction
    assert compiled.stats["evictions"] == 2
    assert len(compiled.programs) == 2


def test_inference_function_and_python_scalar_arguments():
    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]))

    @ag.compile
    def f(x, scale):
        return ag.tanh(x @ w) * scale, (x * 2).sum(axis=0)

    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    a1, b1 = f(x, 2.0)
    a2, b2 = f(x + 1, 2.0)
    np.testing.assert_allclose(a2.data, np.tanh((x + 1) @ w.data) * 2.0)
    np.testing.assert_allclose(b2.data, ((x + 1) * 2).sum(axis=0))
    f(x, 3.0)                                # another scalar value: another signature
    assert f.stats["traces"] == 2
    assert a1.data is not a2.data            # results are new arrays on every call


@pytest.mark.parametrize("make_bad", [
    lambda: (lambda x: x.sum().item()),
    lambda: (lambda x: x * 2 if x.sum() > 0 else x),
    lambda: (lambda x: print(x)),
    lambda: (lambda x: Tensor(np.asarray(x) * 2)),
    lambda: (lambda x: float(x.mean())),
])
def test_values_that_would_leave_the_program_raise_naming_the_line(make_bad):
    with pytest.raises(CompileError, match="test_compile.py"):
        ag.compile(make_bad())(np.ones(3))


def test_random_numbers_are_drawn_afresh_on_every_call():
    @ag.compile
    def noisy(x):
        return x + ag.rand(3)

    a, b = noisy(np.zeros(3)), noisy(np.zeros(3))
    assert not np.array_equal(a.data, b.data)
    ag.manual_seed(7)
    first = [noisy(np.zeros(3)).data for _ in range(3)]
    ag.manual_seed(7)
    again = [noisy(np.zeros(3)).data for _ in range(3)]
    np.testing.assert_array_equal(first, again)


def test_guards_on_parameters_and_gradients():
    w = Tensor(np.ones(3), requires_grad=True)

    @ag.compile
    def step(x):
        loss = (w * x).sum()
        loss.backward()       # accumulates into w.grad, as eager does
        return loss

    step(np.ones(3))
    np.testing.assert_array_equal(w.grad.data, np.ones(3))
    step(np.ones(3) * 2)      # w.grad exists now: a different program (accumulation)
    np.testing.assert_array_equal(w.grad.data, np.full(3, 3.0))
    step(np.ones(3))
    np.testing.assert_array_equal(w.grad.data, np.full(3, 4.0))
    assert step.stats["traces"] == 2
    w.data = np.ones(4)       # a parameter of another shape: retrace
    w.grad = None
    step(np.ones(4))
    assert step.stats["traces"] == 3


# ---------------------------------------------------------------------------
# The memory plan never aliases two live values
# ---------------------------------------------------------------------------

UNARY = [ag.exp, ag.tanh, ag.sigmoid, ag.relu, lambda t: t * 2.0, lambda t: -t,
         lambda t: t.sum(axis=0, keepdims=True) + t]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
          lambda a, b: ag.maximum(a, b), lambda a, b: a @ b.T @ b]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_ops=st.integers(2, 25))
def test_random_graphs_compile_to_programs_that_equal_eager(seed, n_ops):
    rng = np.random.default_rng(seed)
    picks = [(int(rng.integers(2)), int(rng.integers(10 ** 6)), int(rng.integers(10 ** 6)),
              int(rng.integers(10 ** 6))) for _ in range(n_ops)]
    w = Tensor(rng.standard_normal((3, 4)) * 0.5, requires_grad=True)

    def f(x):
        vals = [x, w]
        for binary, i, j, k in picks:
            if binary:
                vals.append(BINARY[i % len(BINARY)](vals[j % len(vals)], vals[k % len(vals)]))
            else:
                vals.append(UNARY[i % len(UNARY)](vals[j % len(vals)]))
        out = sum(v.sum() for v in vals[2:]) + vals[-1].sum() + (w * w).sum()
        w.grad = None
        out.backward()
        return out, vals[-1]

    compiled = ag.compile(f)
    for _ in range(3):
        x = rng.standard_normal((3, 4))
        out_c, last_c = compiled(x)
        grad_c = w.grad.data.copy()
        out_e, last_e = f(Tensor(x))
        np.testing.assert_allclose(out_c.data, out_e.data, rtol=1e-12)
        np.testing.assert_allclose(last_c.data, last_e.data, rtol=1e-12)
        np.testing.assert_allclose(grad_c, w.grad.data, rtol=1e-12)
    check_plan(compiled.last_program)


def test_buffers_of_other_shapes_share_the_arena_when_never_alive_together():
    """The forward activations are dead by the time the update's temporaries
    are made: the arena places them over each other although their shapes
    differ, so it is smaller than the buffers laid side by side; gradients
    (read by the caller between calls) overlap nothing."""
    rng = np.random.default_rng(0)
    params = mlp_params(rng)
    compiled = ag.compile(make_step(params))
    for x, y in batches(rng, 2, batch=32):
        compiled(x, y)
    program = compiled.last_program
    check_plan(program)
    sizes = [int(np.prod(s)) * np.dtype(d).itemsize for s, d in program.buffers]
    assert program.arena_bytes < sum(sizes)
    extents = [(o, o + n) for o, n in zip(program.offsets, sizes)]
    grads = {id(p.grad.data.base if p.grad.data.base is not None else p.grad.data) for p in params}
    assert len(grads) == 1          # every gradient is a view of the one arena
    for p in params:
        g = p.grad.data
        start = g.__array_interface__["data"][0] - program._buffers[0].__array_interface__["data"][0] \
            + program.offsets[0]
        mine = [e for e in extents if e == (start, start + g.nbytes)]
        assert mine, "a gradient is not one of the planned buffers"
        assert sum(lo < start + g.nbytes and start < hi for lo, hi in extents) == 1


@pytest.mark.parametrize("update", ["sub", "add", "mul"])
def test_scalar_network_runs_as_python_floats_and_equals_eager_bitwise(update):
    """micrograd's style: every weight a 0-d tensor. The program computes in
    Python floats and stores the updated weights by item assignment; the
    weights, gradients and losses are eager's, bit for bit, for many steps,
    whichever in-place operator updates them."""
    def make(seed):
        rng = np.random.default_rng(seed)
        return [[Tensor(rng.uniform(-1, 1), requires_grad=True) for _ in range(3)]
                for _ in range(4)]

    def step_for(neurons):
        params = [w for n in neurons for w in n]

        def step(xs, ys):
            loss = 0.0
            for x, y in zip(xs, ys):
                hidden = [(n[0] * x + n[1]).tanh() for n in neurons[:3]]
                out = neurons[3][2] * sum((h * n[2] for h, n in zip(hidden, neurons[:3])),
                                          neurons[3][0])
                loss = loss + (out - y) ** 2 + neurons[3][1] ** 2 * 1e-3
            for p in params:
                p.grad = None
            loss.backward()
            with ag.no_grad():
                for p in params:
                    if update == "sub":
                        p -= 0.05 * p.grad
                    elif update == "add":
                        p += -0.05 * p.grad
                    else:
                        p *= 1.0 - 0.05 * p.grad.tanh()      # a bounded factor
            return loss
        return step, params

    eager, p_e = step_for(make(0))
    compiled, p_c = step_for(make(0))
    compiled = ag.compile(compiled)
    rng = np.random.default_rng(1)
    for _ in range(12):
        xs, ys = rng.standard_normal(3), rng.standard_normal(3)
        assert compiled(xs, ys).item() == eager(Tensor(xs), Tensor(ys)).item()
    for a, b in zip(p_e, p_c):
        assert a.item() == b.item() and a.grad.item() == b.grad.item()
        assert a.data.shape == () and b.data.dtype == np.float64
    assert compiled.stats["traces"] == 1 and "copyto" not in compiled.last_program.source


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradients_changed_in_place_after_backward_are_what_the_leaves_hold(set_to_none):
    """Scaling or clamping ``p.grad`` in place between backward and the
    optimiser (hand-written clipping): the optimiser reads the changed values
    and, after the call, every leaf holds them, as in eager."""
    import nn
    import optim

    def make():
        nn.init.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad(set_to_none=set_to_none)
            loss = (model(x) ** 2).sum()
            loss.backward()
            with ag.no_grad():
                for p in model.parameters():
                    p.grad.mul_(0.5)
                    p.grad.clamp_(-0.3, 0.3)
            opt.step()
            return loss
        return model, step

    rng = np.random.default_rng(0)
    eager_model, eager = make()
    compiled_model, compiled = make()
    compiled = ag.compile(compiled)
    for _ in range(5):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        assert eager(x).item() == compiled(x).item()
        for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
            np.testing.assert_array_equal(a.data, b.data)
            np.testing.assert_array_equal(a.grad.data, b.grad.data)
    assert compiled.stats["replays"] >= 3
