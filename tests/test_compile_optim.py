"""The optimiser inside a compiled step: SGD's and Adam's/AdamW's updates are
recorded as tensor ops of the program (not a host call of ``step``), and the
compiled run equals the eager one bit for bit -- parameters, gradients and
the optimiser's state -- with the learning rate changed by a scheduler on
every step, across state-dict save/load and resumption."""
from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ag
import nn
import optim
from autograd_core import Tensor
from autograd_core.compiler import check_plan
from optim.lr_scheduler import CosineAnnealingLR, StepLR

STEPS = 30


def _groups(model):
    """Two groups: the weights, and the biases (with their own lr, no decay)."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return [{"params": weights}, {"params": biases, "lr": 0.02, "weight_decay": 0}]


CONFIGS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "sgd_dampening_wd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3,
                                             weight_decay=0.01),
    "sgd_nesterov_maximize": lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True,
                                                  maximize=True),
    "sgd_groups": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam_amsgrad_wd": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                                             weight_decay=0.05, amsgrad=True),
    "adam_small_beta1_maximize": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.3, 0.9),
                                                       maximize=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "adamw_amsgrad_groups": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1,
                                                   amsgrad=True),
}
GROUPED = {"sgd_groups", "adamw_amsgrad_groups"}

SCHEDULERS = {
    "cosine": lambda opt: CosineAnnealingLR(opt, T_max=7),
    "step": lambda opt: StepLR(opt, step_size=1, gamma=0.9),
}


def _model(dtype=np.float32):
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Linear(8, 3, dtype=dtype))


def _batches(n, dtype=np.float32, seed=3):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((6, 5)).astype(dtype), rng.standard_normal((6, 3)).astype(dtype))
            for _ in range(n)]


def _setup(config, dtype=np.float32):
    model = _model(dtype)
    params = _groups(model) if config in GROUPED else model.parameters()
    return model, CONFIGS[config](params)


def _step_fn(model, opt, set_to_none=True):
    def step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def _run(model, opt, batches, compiled, set_to_none=True, scheduler=None, step=None):
    step = step or _step_fn(model, opt, set_to_none)
    if compiled and not isinstance(step, ag.compiler.CompiledFunction):
        step = ag.compile(step)
    sched = SCHEDULERS[scheduler](opt) if scheduler else None
    losses, lrs = [], []
    for x, y in batches:
        lrs.append([g["lr"] for g in opt.param_groups])
        loss = step(x, y) if compiled else step(Tensor(x), Tensor(y))
        losses.append(loss.data.copy())
        if sched is not None:
            sched.step()
    return np.array(losses), lrs, step


def assert_same_state(a, b):
    """Two optimiser state dicts (or parts of them) are equal, arrays bit for bit."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a, key=str) == sorted(b, key=str)
        for k in a:
            assert_same_state(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_state(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert type(a) is type(b) and a == b


def assert_same_training(model_e, opt_e, model_c, opt_c):
    for pe, pc in zip(model_e.parameters(), model_c.parameters()):
        np.testing.assert_array_equal(pc.data, pe.data)
        assert (pe.grad is None) == (pc.grad is None)
        if pe.grad is not None:
            np.testing.assert_array_equal(pc.grad.data, pe.grad.data)
    assert_same_state(opt_c.state_dict(), opt_e.state_dict())


def host_calls(program):
    return [ins.payload[0].__name__ for ins in program.instrs if ins.kind == "host"]


@pytest.mark.parametrize("set_to_none", [True, False], ids=["set_to_none", "zeroed"])
@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_compiled_steps_equal_eager_with_a_schedule(config, scheduler, set_to_none):
    batches = _batches(STEPS)
    model_e, opt_e = _setup(config)
    losses_e, lrs_e, _ = _run(model_e, opt_e, batches, False, set_to_none, scheduler)
    model_c, opt_c = _setup(config)
    losses_c, lrs_c, step = _run(model_c, opt_c, batches, True, set_to_none, scheduler)
    np.testing.assert_array_equal(losses_c, losses_e)
    assert_same_training(model_e, opt_e, model_c, opt_c)
    assert lrs_c == lrs_e and len({lr[0] for lr in lrs_c}) > STEPS // 2   # lr changed
    # traced once without state (or gradients to zero), once with; replayed since
    # (plain SGD keeps no state: once)
    traces = 1 if config == "sgd" and set_to_none else 2
    assert step.stats["traces"] == traces and step.stats["replays"] == STEPS - traces
    # one program: the update and zero_grad are recorded; only the scalar bookkeeping
    # (step counts, this step's lr and bias corrections) is a host call
    assert host_calls(step.last_program) == ["_book"]
    assert step.last_program.source.count("host") == 1
    check_plan(step.last_program)


@pytest.mark.parametrize("config", ["sgd_momentum", "adam_amsgrad_wd"])
def test_float64_parameters_compiled_equal_eager(config):
    batches = _batches(12, np.float64)
    runs = []
    for compiled in (False, True):
        model, opt = _setup(config, np.float64)
        losses, _, step = _run(model, opt, batches, compiled, scheduler="cosine")
        runs.append((model, opt, losses))
    np.testing.assert_array_equal(runs[1][2], runs[0][2])
    assert_same_training(runs[0][0], runs[0][1], runs[1][0], runs[1][1])
    assert host_calls(step.last_program) == ["_book"]


def test_zero_dimensional_parameters():
    """Every weight a 0-d tensor (as the micrograd-style MLP): state and scalars 0-d too."""
    def build():
        ag.manual_seed(0)
        return [ag.randn((), requires_grad=True) for _ in range(3)]

    def make_step(ws, opt):
        def step(x):
            opt.zero_grad()
            loss = ((ws[0] * x + ws[1]).tanh() * ws[2]).sum() ** 2
            loss.backward()
            opt.step()
            return loss
        return step

    xs = [np.random.default_rng(i).standard_normal(4) for i in range(10)]
    for make in (lambda ws: optim.SGD(ws, lr=0.05, momentum=0.9, nesterov=True),
                 lambda ws: optim.Adam(ws, lr=0.05, amsgrad=True)):
        we, wc = build(), build()
        oe, oc = make(we), make(wc)
        fe, fc = make_step(we, oe), ag.compile(make_step(wc, oc))
        for x in xs:
            np.testing.assert_array_equal(fc(x).data, fe(Tensor(x)).data)
        for a, b in zip(we, wc):
            np.testing.assert_array_equal(b.data, a.data)
        assert_same_state(oc.state_dict(), oe.state_dict())
        assert fc.stats["replays"] == len(xs) - 2


@pytest.mark.parametrize("config", ["sgd_momentum", "adam_amsgrad_wd"])
def test_the_traced_first_step_creates_the_state_as_eager(config):
    x, y = _batches(1)[0]
    model_e, opt_e = _setup(config)
    _step_fn(model_e, opt_e)(Tensor(x), Tensor(y))
    model_c, opt_c = _setup(config)
    ag.compile(_step_fn(model_c, opt_c))(x, y)
    assert_same_training(model_e, opt_e, model_c, opt_c)
    for p in model_c.parameters():            # arrays of their own, as eager's
        assert all(type(v) is np.ndarray and v.flags.owndata and v.dtype == p.dtype
                   for v in opt_c.state[p].values() if not isinstance(v, int))


def test_a_program_traced_before_the_state_existed_is_not_replayed():
    model, opt = _setup("sgd_momentum")
    step = ag.compile(_step_fn(model, opt))
    x, y = _batches(1)[0]
    step(x, y)                                 # creates the momentum buffers
    assert all("momentum_buffer" in opt.state[p] for p in model.parameters())
    step(x, y)
    assert step.stats["guard_failures"] == 1 and step.stats["traces"] == 2
    step(x, y)
    assert step.stats["replays"] == 1


def _run_with_events(config, batches, compiled, event):
    """Steps over ``batches``, with ``event(i, opt)`` called before step i."""
    model, opt = _setup(config)
    step = _step_fn(model, opt)
    if compiled:
        step = ag.compile(step)
    for i, (x, y) in enumerate(batches):
        event(i, opt)
        step(x, y) if compiled else step(Tensor(x), Tensor(y))
    return model, opt, step


def test_changing_the_structure_of_a_group_retraces():
    """Momentum switched on, then Nesterov's: new operations, so new programs;
    the numbers still equal eager."""
    def event(i, opt):
        if i == 5:
            opt.param_groups[0]["momentum"] = 0.9       # buffers created at step 6
        if i == 8:
            opt.param_groups[0]["nesterov"] = True

    (me, oe, _), (mc, oc, step) = (_run_with_events("sgd", _batches(12), c, event)
                                   for c in (False, True))
    assert_same_training(me, oe, mc, oc)
    assert step.stats["traces"] == 4      # start, momentum (twice: no buffers, then buffers), nesterov


def test_adams_betas_crossing_one_half_retraces():
    """β₁ decides which side of PyTorch's two-sided lerp the update takes."""
    def event(i, opt):
        if i == 4:
            opt.param_groups[0]["betas"] = (0.2, 0.999)

    (me, oe, _), (mc, oc, step) = (_run_with_events("adam", _batches(8), c, event)
                                   for c in (False, True))
    assert_same_training(me, oe, mc, oc)
    assert step.stats["traces"] == 3


def test_state_dict_round_trip_after_compiled_steps(tmp_path):
    for config in ("sgd_dampening_wd", "adam_amsgrad_wd"):
        model, opt = _setup(config)
        _run(model, opt, _batches(8), True, scheduler="step")
        saved = opt.state_dict()
        ag.save(saved, tmp_path / f"{config}.safetensors")
        loaded = ag.load(tmp_path / f"{config}.safetensors")
        assert_same_state(loaded, saved)
        fresh_model, fresh = _setup(config)
        fresh.load_state_dict(loaded)
        assert_same_state(fresh.state_dict(), saved)
        for k in ("exp_avg", "momentum_buffer"):      # copies: no memory shared with opt
            for p, q in zip(model.parameters(), fresh_model.parameters()):
                if k in opt.state[p]:
                    assert not np.shares_memory(opt.state[p][k], fresh.state[q][k])


@pytest.mark.parametrize("config", ["sgd_nesterov_maximize", "adam", "adamw_amsgrad_groups"])
def test_resuming_from_a_state_dict_with_compiled_steps_equals_eager(config):
    first, second = _batches(6, seed=5), _batches(10, seed=6)
    # eager all the way
    model_e, opt_e = _setup(config)
    _run(model_e, opt_e, first, False)
    _run(model_e, opt_e, second, False)
    # eager, saved; a fresh model and optimiser load it and go on compiled
    model_a, opt_a = _setup(config)
    _run(model_a, opt_a, first, False)
    model_c, opt_c = _setup(config)
    model_c.load_state_dict(model_a.state_dict())
    opt_c.load_state_dict(opt_a.state_dict())
    _, _, step = _run(model_c, opt_c, second, True)
    for pe, pc in zip(model_e.parameters(), model_c.parameters()):
        np.testing.assert_array_equal(pc.data, pe.data)
    assert_same_state(opt_c.state_dict(), opt_e.state_dict())
    assert step.stats["traces"] == 1        # the state existed: one program from the start


def test_loading_a_state_dict_into_the_optimiser_of_a_compiled_step():
    """load_state_dict replaces the state's arrays: the cached program, which
    holds the old ones, is traced again rather than replayed."""
    saved = {}

    def event(i, opt):
        if i == 4:
            saved["state"] = opt.state_dict()
        if i == 8:
            opt.load_state_dict(saved.pop("state"))      # back to the state after 4 steps

    (me, oe, _), (mc, oc, step) = (_run_with_events("adam_amsgrad_wd", _batches(12), c, event)
                                   for c in (False, True))
    assert_same_training(me, oe, mc, oc)
    assert step.stats["traces"] == 3


def test_other_optimisers_stay_host_calls_and_equal_eager():
    batches = _batches(8)
    for make in (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
                 lambda ps: optim.Adagrad(ps, lr=0.05)):
        runs = []
        for compiled in (False, True):
            model = _model()
            opt = make(model.parameters())
            losses, _, step = _run(model, opt, batches, compiled)
            runs.append((model, opt, losses))
        np.testing.assert_array_equal(runs[1][2], runs[0][2])
        assert_same_training(runs[0][0], runs[0][1], runs[1][0], runs[1][1])
        assert host_calls(step.last_program) == ["_eager_step"]


def test_eager_steps_are_unchanged_by_tracing_support():
    """The eager rule (NumPy on .data) and PyTorch's numbers: one Adam and one
    SGD step by hand."""
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    for _ in range(2):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    g1 = np.float32(2) * np.array([1.0, -2.0], np.float32)
    g1 = g1 + np.float32(0.5) * np.array([1.0, -2.0], np.float32)
    w1 = np.array([1.0, -2.0], np.float32) - np.float32(0.1) * g1
    g2 = 2 * w1 + np.float32(0.5) * w1
    buf = np.float32(0.9) * g1 + g2
    np.testing.assert_array_equal(w.data, w1 - np.float32(0.1) * buf)
    assert isinstance(opt.state[w]["momentum_buffer"], np.ndarray)


def test_the_program_with_the_update_can_be_drawn():
    model, opt = _setup("adam_amsgrad_wd")
    _, _, step = _run(model, opt, _batches(3), True)
    dot = ag.compiler.draw_program(step.last_program)
    assert "host: " in dot.source and "into " in dot.source      # _book; updates in place
