"""The optim contract: optimisers read .data/.grad and write .data only, and the
shared templates (per-parameter gradient, maximize, weight decay; the
quasi-Newton step) behave the same for every optimiser."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import optim

_RNG = np.random.default_rng(11)
_A = _RNG.standard_normal((5, 5))
_A = _A @ _A.T / 5 + np.eye(5)
_B = _RNG.standard_normal(5)
_X0 = _RNG.standard_normal(5)


def _params(dtype=np.float64):
    return [Tensor(_X0[:2].astype(dtype), requires_grad=True),
            Tensor(_X0[2:].astype(dtype).reshape(3, 1), requires_grad=True)]


def _loss(ps, sign=1.0):
    x = ag.concatenate([ps[0], ps[1].reshape(3)])
    f = 0.5 * (x @ (Tensor(_A.astype(x.dtype)) @ x)) - (Tensor(_B.astype(x.dtype)) * x).sum() \
        + 0.2 * ag.sin(2 * x).sum()
    return f * sign


FIRST_ORDER = {
    "SGD": lambda p, **kw: optim.SGD(p, lr=0.05, momentum=0.8, **kw),
    "SGD-nesterov": lambda p, **kw: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, **kw),
    "Adagrad": lambda p, **kw: optim.Adagrad(p, lr=0.1, lr_decay=0.01, **kw),
    "Adadelta": lambda p, **kw: optim.Adadelta(p, lr=0.5, **kw),
    "RMSprop": lambda p, **kw: optim.RMSprop(p, lr=0.01, momentum=0.3, centered=True, **kw),
    "Adam": lambda p, **kw: optim.Adam(p, lr=0.05, amsgrad=True, **kw),
    "AdamW": lambda p, **kw: optim.AdamW(p, lr=0.05, **kw),
}
QUASI_NEWTON = {
    "LBFGS": lambda p: optim.LBFGS(p, max_iter=4, history_size=3),
    "LBFGS-sw": lambda p: optim.LBFGS(p, max_iter=4, line_search_fn="strong_wolfe"),
    "BFGS": lambda p: optim.BFGS(p, max_iter=4),
    "BFGS-backtracking": lambda p: optim.BFGS(p, max_iter=4, line_search_fn="backtracking"),
    "BFGS-fixed": lambda p: optim.BFGS(p, max_iter=4, max_eval=10, line_search_fn=None, lr=0.1),
    "SR1": lambda p: optim.SR1(p, max_iter=4),
}


class _GradWatch:
    """Records every assignment to any Tensor's .grad made outside a closure."""

    def __init__(self, monkeypatch):
        self.in_closure = False
        self.assignments = []
        prop = Tensor.grad
        watch = self

        def setter(t, value):
            if not watch.in_closure:
                watch.assignments.append(t)
            prop.fset(t, value)

        monkeypatch.setattr(Tensor, "grad", property(prop.fget, setter))

    def closure(self, opt, ps, sign=1.0):
        def closure():
            self.in_closure = True
            try:
                opt.zero_grad()
                loss = _loss(ps, sign)
                loss.backward()
                return loss
            finally:
                self.in_closure = False
        return closure


@pytest.mark.parametrize("name", sorted(FIRST_ORDER) + sorted(QUASI_NEWTON))
def test_step_reads_grad_and_writes_data_in_place_only(name, monkeypatch):
    make = FIRST_ORDER.get(name) or QUASI_NEWTON[name]
    ps = _params()
    arrays = [p.data for p in ps]
    opt = make(ps)
    watch = _GradWatch(monkeypatch)
    closure = watch.closure(opt, ps)
    for _ in range(3):
        if name in QUASI_NEWTON:
            opt.step(closure)
            continue
        closure()
        grads = [p.grad for p in ps]
        values = [g.data.copy() for g in grads]
        opt.step()
        for p, g, v in zip(ps, grads, values):       # the gradients are left as they were
            assert p.grad is g
            np.testing.assert_array_equal(g.data, v)
    assert watch.assignments == []
    assert all(p.data is a for p, a in zip(ps, arrays))
    assert not np.allclose(np.concatenate([a.ravel() for a in arrays]), _X0)


@pytest.mark.parametrize("name", sorted(FIRST_ORDER))
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_maximize_is_descent_on_the_negated_loss(name, weight_decay):
    # g = −∇f + λθ in one place for every first-order optimiser: maximising f is
    # minimising −f, bit for bit, with or without weight decay.
    runs = []
    for maximize, sign in ((True, 1.0), (False, -1.0)):
        ps = _params()
        opt = FIRST_ORDER[name](ps, maximize=maximize, weight_decay=weight_decay)
        for _ in range(5):
            opt.zero_grad()
            _loss(ps, sign).backward()
            opt.step()
        runs.append(np.concatenate([p.data.ravel() for p in ps]))
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("name", sorted(set(FIRST_ORDER) - {"AdamW"}))
def test_weight_decay_is_the_gradient_of_an_l2_penalty(name):
    lam = 0.3
    runs = []
    for wd, penalty in ((lam, 0.0), (0.0, lam)):
        ps = _params()
        opt = FIRST_ORDER[name](ps, weight_decay=wd)
        for _ in range(5):
            opt.zero_grad()
            loss = _loss(ps) + 0.5 * penalty * sum((p * p).sum() for p in ps)
            loss.backward()
            opt.step()
        runs.append(np.concatenate([p.data.ravel() for p in ps]))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-14)


def test_adamw_decays_the_parameters_before_the_adam_step():
    ps, qs = _params(), _params()
    adamw = optim.AdamW(ps, lr=0.05, weight_decay=0.2)
    adam = optim.Adam(qs, lr=0.05)
    for _ in range(4):
        for opt, params in ((adamw, ps), (adam, qs)):
            opt.zero_grad()
            _loss(params).backward()
        for q, p in zip(qs, ps):                 # θ ← θ(1 − lr·λ), then the same Adam step
            q.data[...] = p.data * (1 - 0.05 * 0.2)
        adamw.step()
        adam.step()
        for p, q in zip(ps, qs):
            np.testing.assert_array_equal(p.data, q.data)


def test_first_order_state_is_created_on_first_use_and_counts_steps():
    ps = _params()
    opt = optim.Adam(ps, lr=0.01)
    _loss(ps).backward()
    ps[1].grad = None                            # only the first parameter has a gradient
    opt.step()
    opt.step()
    assert opt.state[ps[0]]["step"] == 2 and ps[1] not in opt.state
    sgd = optim.SGD(_params(), lr=0.1)           # SGD keeps no step count, as PyTorch
    _loss(sgd.param_groups[0]["params"]).backward()
    sgd.step()
    assert all("step" not in s for s in sgd.state.values())


def _counting_closure(opt, ps, calls):
    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = _loss(ps)
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("cls", [optim.LBFGS, optim.BFGS])
def test_fixed_step_skips_the_evaluation_after_the_last_iteration(cls):
    ps = _params()
    opt = cls(ps, max_iter=3, max_eval=100, line_search_fn=None, lr=0.05,
              tolerance_change=0.0, tolerance_grad=0.0)
    calls = []
    closure = _counting_closure(opt, ps, calls)
    opt.step(closure)
    opt.step(closure)
    # each step: one evaluation at the start, one after each iteration but the last
    assert len(calls) == 2 * 3 and opt.state[ps[0]]["func_evals"] == 6
    assert opt.state[ps[0]]["n_iter"] == 6


@pytest.mark.parametrize("name", sorted(QUASI_NEWTON))
def test_quasi_newton_template_counts_and_budget(name):
    ps = _params()
    opt = QUASI_NEWTON[name](ps)
    calls = []
    closure = _counting_closure(opt, ps, calls)
    first = opt.step(closure)
    state = opt.state[ps[0]]
    assert float(first) == pytest.approx(float(_loss(_params())))     # the loss at the start
    assert state["func_evals"] == len(calls) and 1 <= state["n_iter"] <= 4
    opt.step(closure)
    assert state["func_evals"] == len(calls) and state["n_iter"] <= 8


@pytest.mark.parametrize("cls", [optim.LBFGS, optim.BFGS, optim.SR1])
def test_quasi_newton_stops_at_a_stationary_point_without_moving(cls):
    x = Tensor(np.linalg.solve(_A, _B), requires_grad=True)      # ∇ of the quadratic is 0
    opt = cls([x])

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (Tensor(_A) @ x)) - (Tensor(_B) * x).sum()
        loss.backward()
        return loss

    before = x.data.copy()
    opt.step(closure)
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0
    np.testing.assert_array_equal(x.data, before)
