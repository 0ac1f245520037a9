"""Optimiser state dicts (round trips into fresh optimisers over new
parameters, through checkpoint files too, and their errors), gradient
clipping, and early stopping."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import optim


# ---------------------------------------------------------------------------
# Round trips: k steps, save, load into a fresh optimiser over new parameters
# holding the same values, then both take the same further steps.
# ---------------------------------------------------------------------------

_RNG = np.random.default_rng(11)
_GA = _RNG.standard_normal((7, 7))
_GA = _GA @ _GA.T / 7 + np.eye(7)
_GB = _RNG.standard_normal(7)
THETA0 = _RNG.standard_normal(7)


def _params(theta=THETA0, dtype=np.float64):
    return [Tensor(np.asarray(theta[:3], dtype=dtype), requires_grad=True),
            Tensor(np.asarray(theta[3:], dtype=dtype).reshape(2, 2), requires_grad=True)]


def _theta(params):
    return np.concatenate([p.data.ravel() for p in params]).astype(np.float64)


def _loss(params):
    x = ag.concatenate([params[0], params[1].reshape(4)])
    A, b = Tensor(_GA.astype(x.dtype)), Tensor(_GB.astype(x.dtype))
    return 0.5 * (x @ (A @ x)) - (b * x).sum() + 0.1 * ag.cos(3 * x).sum()


def _closure(opt, params):
    def closure():
        opt.zero_grad()
        loss = _loss(params)
        loss.backward()
        return loss
    return closure


def _hf_closure(params):
    def closure():
        z = ag.concatenate([params[0], params[1].reshape(4)]) * 1.0
        A, b = Tensor(_GA), Tensor(_GB)
        return 0.5 * (z @ (A @ z)) - (b * z).sum(), z
    return closure


OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda p: optim.Adadelta(p, lr=0.5),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "Adam": lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.05),
    "LBFGS": lambda p: optim.LBFGS(p, max_iter=2, history_size=3),
    "LBFGS-sw": lambda p: optim.LBFGS(p, max_iter=2, line_search_fn="strong_wolfe"),
    "BFGS": lambda p: optim.BFGS(p, max_iter=2),
    "SR1": lambda p: optim.SR1(p, max_iter=2),
    "Newton": lambda p: optim.Newton(p, damping=0.1, solver="cg"),
    "HessianFree": lambda p: optim.HessianFree(p),
}


def _advance(name, opt, params, steps):
    for _ in range(steps):
        if name == "HessianFree":
            opt.step(_hf_closure(params))
        else:
            opt.step(_closure(opt, params))


def _round_trip(name, through=None):
    make = OPTIMIZERS[name]
    params = _params()
    opt = make(params)
    _advance(name, opt, params, 3)
    sd = opt.state_dict()
    if through is not None:
        sd = through(sd)
    params2 = _params(_theta(params))
    opt2 = make(params2)
    opt2.load_state_dict(sd)
    for _ in range(3):
        _advance(name, opt, params, 1)
        _advance(name, opt2, params2, 1)
        np.testing.assert_array_equal(_theta(params2), _theta(params))
    return opt, opt2, params, params2


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_gives_identical_steps(name):
    _round_trip(name)


@pytest.mark.parametrize("name", ["Adam", "SGD", "LBFGS-sw", "BFGS", "HessianFree"])
def test_state_dict_round_trip_through_a_checkpoint_file(name, tmp_path):
    path = tmp_path / "opt.ckpt"

    def through(sd):
        ag.save(sd, path)
        return ag.load(path)

    _round_trip(name, through)


def test_fresh_optimiser_without_state_diverges():
    # Control for the round-trip test: without the state the steps differ.
    params = _params()
    opt = OPTIMIZERS["Adam"](params)
    _advance("Adam", opt, params, 3)
    params2 = _params(_theta(params))
    opt2 = OPTIMIZERS["Adam"](params2)
    _advance("Adam", opt, params, 1)
    _advance("Adam", opt2, params2, 1)
    assert not np.array_equal(_theta(params), _theta(params2))


def test_state_dict_layout_is_pytorchs():
    params = _params()
    opt = optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1)
    _advance("Adam", opt, params, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 2
    assert sd["state"][1]["exp_avg"].shape == (2, 2)


def test_state_dict_holds_copies():
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    _advance("Adam", opt, params, 1)
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].copy()
    _advance("Adam", opt, params, 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)
    # And loading copies in: mutating the dict afterwards changes nothing.
    opt2 = optim.Adam(_params(), lr=0.1)
    opt2.load_state_dict(sd)
    sd["state"][0]["exp_avg"][...] = 99.0
    sd["param_groups"][0]["lr"] = 7.0
    p0 = opt2.param_groups[0]["params"][0]
    np.testing.assert_array_equal(opt2.state[p0]["exp_avg"], saved)
    assert opt2.param_groups[0]["lr"] == 0.1


def test_loading_restores_hyperparameters_and_casts_to_parameter_dtype():
    params = _params()
    opt = optim.SGD(params, lr=0.05, momentum=0.9)
    _advance("SGD", opt, params, 2)
    opt.param_groups[0]["lr"] = 0.0125          # e.g. changed by a scheduler
    sd = opt.state_dict()
    params32 = _params(_theta(params), dtype=np.float32)
    opt32 = optim.SGD(params32, lr=1.0, momentum=0.9)
    opt32.load_state_dict(sd)
    assert opt32.param_groups[0]["lr"] == 0.0125
    assert opt32.param_groups[0]["params"][0] is params32[0]
    buf = opt32.state[params32[1]]["momentum_buffer"]
    assert buf.dtype == np.float32 and buf.shape == (2, 2)


def test_scheduler_and_optimizer_resume_together(tmp_path):
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    sched = optim.StepLR(opt, 2, gamma=0.5)
    for _ in range(3):
        _advance("Adam", opt, params, 1)
        sched.step()
    ag.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c")
    ck = ag.load(tmp_path / "c")
    params2 = _params(_theta(params))
    opt2 = optim.Adam(params2, lr=0.1)
    sched2 = optim.StepLR(opt2, 2, gamma=0.5)
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    for _ in range(3):
        _advance("Adam", opt, params, 1)
        sched.step()
        _advance("Adam", opt2, params2, 1)
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
        np.testing.assert_array_equal(_theta(params), _theta(params2))


def test_plateau_scheduler_state_survives_a_checkpoint(tmp_path):
    opt = optim.SGD(_params(), lr=0.1)
    s = optim.ReduceLROnPlateau(opt, patience=1)
    s.step(1.0)
    ag.save(s.state_dict(), tmp_path / "p")
    s2 = optim.ReduceLROnPlateau(optim.SGD(_params(), lr=0.1))
    s2.load_state_dict(ag.load(tmp_path / "p"))
    assert s2.best == 1.0 and s2.mode_worse == math.inf and s2.patience == 1


# -- errors ------------------------------------------------------------------------

def _trained_adam():
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    _advance("Adam", opt, params, 1)
    return opt.state_dict()


def test_load_state_dict_errors():
    sd = _trained_adam()
    two_groups = optim.Adam([{"params": _params()[:1]}, {"params": _params()[1:]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(sd)
    one_param = optim.Adam(_params()[:1])
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        one_param.load_state_dict(sd)
    wrong_shape = optim.Adam([Tensor(np.zeros(3), requires_grad=True),
                              Tensor(np.zeros(4), requires_grad=True)])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 1 has shape \(2, 2\)"):
        wrong_shape.load_state_dict(sd)
    opt = optim.Adam(_params())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict([1, 2])
    bad = _trained_adam()
    bad["state"][5] = bad["state"].pop(0)
    with pytest.raises(ValueError, match="parameter index 5"):
        opt.load_state_dict(bad)
    bad = _trained_adam()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.load_state_dict(bad)


def test_flat_state_size_is_checked():
    params = _params()
    opt = optim.LBFGS(params)
    _advance("LBFGS", opt, params, 1)
    sd = opt.state_dict()
    small = optim.LBFGS([Tensor(np.zeros(3), requires_grad=True),
                         Tensor(np.zeros((2, 1)), requires_grad=True)])
    with pytest.raises(ValueError, match="5 elements"):
        small.load_state_dict(sd)
    b = optim.BFGS(params)
    _advance("BFGS", b, params, 1)
    small_b = optim.BFGS([Tensor(np.zeros(3), requires_grad=True),
                          Tensor(np.zeros((2, 1)), requires_grad=True)])
    with pytest.raises(ValueError, match=r"expected \(5, 5\)"):
        small_b.load_state_dict(b.state_dict())


# ---------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------

def _with_grads(*grads, dtype=np.float64):
    ps = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = np.array(g, dtype=dtype, copy=True)
        ps.append(p)
    return ps


G1 = np.array([3.0, -4.0, 1.0])
G2 = np.array([[2.0, 0.5], [-6.0, 1.5]])
ALL = np.concatenate([G1, G2.ravel()])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_scales_to_max_norm(norm_type):
    ps = _with_grads(G1, G2)
    total = optim.clip_grad_norm_(ps, 1.5, norm_type=norm_type)
    want = np.abs(ALL).max() if math.isinf(norm_type) else np.sum(np.abs(ALL) ** norm_type) ** (1 / norm_type)
    assert float(total) == pytest.approx(want, rel=1e-12)
    coef = 1.5 / (want + 1e-6)
    np.testing.assert_allclose(ps[0].grad.data, G1 * coef, rtol=1e-12)
    np.testing.assert_allclose(ps[1].grad.data, G2 * coef, rtol=1e-12)
    new = np.concatenate([p.grad.data.ravel() for p in ps])
    new_norm = np.abs(new).max() if math.isinf(norm_type) else np.sum(np.abs(new) ** norm_type) ** (1 / norm_type)
    assert new_norm == pytest.approx(1.5, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone():
    ps = _with_grads(G1, G2)
    total = optim.clip_grad_norm_(ps, 100.0)
    assert float(total) == pytest.approx(np.linalg.norm(ALL))
    np.testing.assert_array_equal(ps[0].grad.data, G1)
    np.testing.assert_array_equal(ps[1].grad.data, G2)


def test_clip_grad_norm_edge_cases():
    p = Tensor(np.zeros(2), requires_grad=True)                  # no grad: skipped
    q = _with_grads(np.array([3.0, 4.0]))[0]
    assert float(optim.clip_grad_norm_([p, q], 1.0)) == pytest.approx(5.0)
    assert p.grad is None
    assert float(optim.clip_grad_norm_([p], 1.0)) == 0.0           # nothing to clip
    single = _with_grads(np.array([6.0, 8.0]))[0]
    assert float(optim.clip_grad_norm_(single, 5.0)) == pytest.approx(10.0)   # a lone Tensor
    (g32,) = _with_grads(np.array([3.0, 4.0]), dtype=np.float32)
    optim.clip_grad_norm_([g32], 1.0)
    assert g32.grad.data.dtype == np.float32
    bad = _with_grads(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert math.isinf(float(optim.clip_grad_norm_(bad, 1.0)))
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm_([q], -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        optim.clip_grad_norm_([q], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="not a Tensor"):
        optim.clip_grad_norm_([np.zeros(2)], 1.0)


def test_clip_grad_norm_with_engine_gradients_and_a_training_step():
    w = Tensor(np.array([10.0, -10.0]), requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    ((w * w).sum()).backward()                                    # grad (20, −20)
    total = optim.clip_grad_norm_([w], 1.0)
    assert float(total) == pytest.approx(np.sqrt(800))
    opt.step()
    assert np.linalg.norm(w.data - np.array([10.0, -10.0])) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value():
    ps = _with_grads(G1, G2)
    optim.clip_grad_value_(ps, 2.0)
    np.testing.assert_array_equal(ps[0].grad.data, np.clip(G1, -2, 2))
    np.testing.assert_array_equal(ps[1].grad.data, np.clip(G2, -2, 2))
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value_(ps, -1.0)


# ---------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------

class Toy:
    """Duck-typed model: its state dict returns references to live arrays."""

    def __init__(self):
        self.w = np.zeros(3)

    def state_dict(self):
        return {"w": self.w, "meta": {"tag": "toy"}}

    def load_state_dict(self, d):
        self.w[...] = d["w"]


def _run(stopper, metrics, model):
    for epoch, m in enumerate(metrics):
        model.w[...] = epoch               # the "weights" after this epoch
        if stopper.step(m, model):
            return epoch
    return None


def test_early_stopping_restores_best_weights():
    model = Toy()
    es = optim.EarlyStopping(patience=3)
    stopped = _run(es, [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 0.1], model)
    assert stopped == 5 and es.stopped_epoch == 5 and es.should_stop
    assert es.best == 3.0 and es.best_epoch == 2
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])     # weights of epoch 2


def test_early_stopping_min_delta_mode_and_patience_zero():
    model = Toy()
    es = optim.EarlyStopping(patience=2, min_delta=0.5)
    # 4.7 and 4.6 are not improvements by more than 0.5 over 5.0.
    assert _run(es, [5.0, 4.7, 4.6, 1.0], model) == 2
    np.testing.assert_array_equal(model.w, [0.0, 0.0, 0.0])
    es = optim.EarlyStopping(patience=1, mode="max")
    assert _run(es, [0.1, 0.5, 0.4, 0.9], model) == 2
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])
    es = optim.EarlyStopping(patience=0)
    assert _run(es, [3.0, 2.0, 2.0], model) == 2
    es = optim.EarlyStopping(patience=1)
    assert _run(es, [3.0, float("nan")], model) == 1              # NaN is never better


def test_early_stopping_without_restoring():
    model = Toy()
    es = optim.EarlyStopping(patience=1, restore_best_weights=False)
    assert _run(es, [1.0, 2.0], model) == 1
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])
    assert es.best_state is None


def test_early_stopping_manual_restore_and_state_dict():
    model = Toy()
    es = optim.EarlyStopping(patience=5)
    _run(es, [3.0, 1.0, 2.0], model)
    assert not es.should_stop
    assert es.restore(model)
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])
    es2 = optim.EarlyStopping(patience=5)
    es2.load_state_dict(es.state_dict())
    assert es2.best == 1.0 and es2.num_bad_epochs == 1 and es2.epoch == 2
    assert optim.EarlyStopping(patience=1).restore(model) is False


def test_early_stopping_with_an_nn_module():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("nn.Linear not available")
    model = nn.Linear(2, 1)
    es = optim.EarlyStopping(patience=1)
    es.step(1.0, model)
    best_w = model.weight.data.copy()
    model.weight.data[...] += 5.0
    assert es.step(2.0, model)
    np.testing.assert_array_equal(model.weight.data, best_w)


@pytest.mark.parametrize("kw, match", [
    (dict(patience=-1), "Invalid patience"),
    (dict(patience=1.5), "Invalid patience"),
    (dict(patience=1, min_delta=-0.1), "Invalid min_delta"),
    (dict(patience=1, mode="avg"), "Invalid mode"),
])
def test_early_stopping_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        optim.EarlyStopping(**kw)
    with pytest.raises(TypeError, match="state_dict"):
        optim.EarlyStopping(patience=1).step(1.0, object())


def test_clipping_gradients_from_create_graph_backward():
    # Such gradients may be one read-only array shared by several parameters;
    # each must be clipped exactly once.
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (3.0 * (x + y)).sum().backward(create_graph=True)
    total = optim.clip_grad_norm_([x, y], 1.0)
    assert float(total) == pytest.approx(np.sqrt(6 * 9.0))
    coef = 1.0 / (np.sqrt(54.0) + 1e-6)
    np.testing.assert_allclose(x.grad.data, 3.0 * coef)
    np.testing.assert_allclose(y.grad.data, 3.0 * coef)
    optim.clip_grad_value_([x, y], 0.1)
    np.testing.assert_allclose(x.grad.data, 0.1)
