"""optim.lr_scheduler as torch.optim.lr_scheduler: the same rates, momenta,
state dicts and errors, step by step (PyTorch where it is installed)."""
import importlib
import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import optim
from optim import lr_scheduler as L

LRS = (0.1, 0.03)


def _ours(cls=optim.SGD, lrs=LRS, **kw):
    groups = [{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **kw)


def _torchs(torch, cls_name="SGD", lrs=LRS, **kw):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return getattr(torch.optim, cls_name)(groups, lr=lrs[0], **kw)


def _hyper(opt, key):
    return [g[key] for g in opt.param_groups]


def _run_both(torch, make_ours, make_torch, steps, metrics=None, keys=("lr",)):
    """Step both schedulers ``steps`` times; compare every group's keys each time."""
    opt, sched = make_ours()
    topt, tsched = make_torch()
    for k in range(steps + 1):
        assert sched.get_last_lr() == tsched.get_last_lr(), f"step {k}"
        for key in keys:
            assert _hyper(opt, key) == _hyper(topt, key), f"{key} at step {k}"
        if k == steps:
            break
        opt.step()
        topt.step()
        if metrics is None:
            sched.step()
            tsched.step()
        else:
            sched.step(metrics[k])
            tsched.step(metrics[k])
    return sched, tsched


CHAINABLE = {
    "StepLR": ((3,), dict(gamma=0.5)),
    "StepLR-default-gamma": ((4,), {}),
    "MultiStepLR": (([2, 5, 5, 9],), dict(gamma=0.3)),
    "ExponentialLR": ((0.8,), {}),
    "CosineAnnealingLR": ((6,), dict(eta_min=0.001)),
    "CosineAnnealingLR-T1": ((1,), {}),
    "LambdaLR": ((lambda e: 1.0 / (1 + e),), {}),
}


@pytest.mark.parametrize("case", sorted(CHAINABLE))
def test_rates_match_torch_step_by_step(case):
    torch = pytest.importorskip("torch")
    name = case.split("-")[0]
    args, kw = CHAINABLE[case]

    def ours():
        opt = _ours()
        return opt, getattr(L, name)(opt, *args, **kw)

    def theirs():
        topt = _torchs(torch)
        return topt, getattr(torch.optim.lr_scheduler, name)(topt, *args, **kw)

    _run_both(torch, ours, theirs, 25)


def test_chained_schedulers_match_torch():
    torch = pytest.importorskip("torch")

    def ours():
        opt = _ours()
        return opt, [L.MultiStepLR(opt, [3, 6], gamma=0.5), L.ExponentialLR(opt, 0.9),
                     L.CosineAnnealingLR(opt, 5)]

    def theirs():
        topt = _torchs(torch)
        S = torch.optim.lr_scheduler
        return topt, [S.MultiStepLR(topt, [3, 6], gamma=0.5), S.ExponentialLR(topt, 0.9),
                      S.CosineAnnealingLR(topt, 5)]

    opt, ss = ours()
    topt, ts = theirs()
    for _ in range(12):
        opt.step()
        topt.step()
        for s, t in zip(ss, ts):
            s.step()
            t.step()
            assert s.get_last_lr() == t.get_last_lr()
        assert _hyper(opt, "lr") == _hyper(topt, "lr")


@pytest.mark.parametrize("name, args", [("StepLR", (3, 0.5)), ("MultiStepLR", ([2, 4], 0.5)),
                                        ("ExponentialLR", (0.7,)), ("CosineAnnealingLR", (8,))])
def test_resuming_with_last_epoch_matches_torch(name, args):
    # The constructor's first step, when resuming, must not decay once too often.
    torch = pytest.importorskip("torch")
    opt, topt = _ours(), _torchs(torch)
    first = getattr(L, name)(opt, *args)
    tfirst = getattr(torch.optim.lr_scheduler, name)(topt, *args)
    for _ in range(5):
        opt.step()
        topt.step()
        first.step()
        tfirst.step()
    s = getattr(L, name)(opt, *args, last_epoch=first.last_epoch)
    t = getattr(torch.optim.lr_scheduler, name)(topt, *args, last_epoch=tfirst.last_epoch)
    for _ in range(6):
        assert s.get_last_lr() == t.get_last_lr() and s.last_epoch == t.last_epoch
        opt.step()
        topt.step()
        s.step()
        t.step()


@pytest.mark.parametrize("name, args", [("StepLR", (3, 0.5)), ("MultiStepLR", ([2, 5, 5], 0.5)),
                                        ("ExponentialLR", (0.7,)), ("CosineAnnealingLR", (8, 0.01))])
def test_explicit_epoch_uses_the_closed_form_and_warns_like_torch(name, args):
    torch = pytest.importorskip("torch")
    opt, topt = _ours(), _torchs(torch)
    s = getattr(L, name)(opt, *args)
    t = getattr(torch.optim.lr_scheduler, name)(topt, *args)
    for epoch in (7, 2, 11, 5):
        with pytest.warns(UserWarning, match="epoch parameter"):
            s.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t.step(epoch)
        assert s.get_last_lr() == pytest.approx(t.get_last_lr(), rel=1e-15)


ONE_CYCLE = [
    ("SGD", dict(momentum=0.9), dict(max_lr=0.1, total_steps=20)),
    ("SGD", {}, dict(max_lr=[0.1, 0.05], epochs=4, steps_per_epoch=6, pct_start=0.25,
                     anneal_strategy="linear")),
    ("SGD", dict(momentum=0.9), dict(max_lr=1.0, total_steps=30, three_phase=True,
                                     div_factor=10.0, final_div_factor=100.0)),
    ("Adam", {}, dict(max_lr=0.01, total_steps=15, base_momentum=[0.8, 0.7],
                      max_momentum=0.9)),
    ("Adam", {}, dict(max_lr=0.01, total_steps=12, cycle_momentum=False, pct_start=0.5)),
    ("RMSprop", dict(momentum=0.5), dict(max_lr=0.2, total_steps=10, three_phase=True,
                                         anneal_strategy="linear")),
]


@pytest.mark.parametrize("opt_name, opt_kw, kw", ONE_CYCLE, ids=lambda x: str(x))
def test_one_cycle_matches_torch(opt_name, opt_kw, kw):
    torch = pytest.importorskip("torch")
    steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    keys = ["lr", "initial_lr", "max_lr", "min_lr"]
    if kw.get("cycle_momentum", True):
        keys.append("betas" if opt_name == "Adam" else "momentum")

    def ours():
        opt = _ours(getattr(optim, opt_name), **opt_kw)
        return opt, L.OneCycleLR(opt, **kw)

    def theirs():
        topt = _torchs(torch, opt_name, **opt_kw)
        return topt, torch.optim.lr_scheduler.OneCycleLR(topt, **kw)

    sched, tsched = _run_both(torch, ours, theirs, steps, keys=keys)
    with pytest.raises(ValueError, match=f"Tried to step {steps + 1} times"):
        sched.step()
    with pytest.raises(ValueError, match=f"Tried to step {steps + 1} times"):
        tsched.step()


def test_one_cycle_drives_sgd_momentum_into_the_update():
    x = Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    sched = L.OneCycleLR(opt, max_lr=0.5, total_steps=4)
    assert opt.param_groups[0]["momentum"] == 0.95
    assert opt.param_groups[0]["lr"] == pytest.approx(0.02, rel=1e-14)
    before = x.data.copy()
    (x * x).sum().backward()
    opt.step()
    sched.step()
    np.testing.assert_allclose(x.data, before - opt.param_groups[0]["initial_lr"] * 2.0, rtol=1e-15)
    assert opt.param_groups[0]["momentum"] < 0.95


@pytest.mark.parametrize("kw, metrics", [
    (dict(patience=1, cooldown=1, factor=0.5), [1.0, 0.9, 0.9, 0.95, 0.91, 0.5, 0.5, 0.6, 0.7, 0.8]),
    (dict(mode="max", patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.05, 0.0]),
     [1.0, 1.05, 1.2, 1.1, 1.0, 1.3, 1.3, 1.3]),
    (dict(patience=2, factor=0.9, eps=1e-3), [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
])
def test_reduce_on_plateau_matches_torch(kw, metrics):
    torch = pytest.importorskip("torch")

    def ours():
        opt = _ours()
        return opt, L.ReduceLROnPlateau(opt, **kw)

    def theirs():
        topt = _torchs(torch)
        return topt, torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)

    s, t = _run_both(torch, ours, theirs, len(metrics), metrics=metrics + [0.0])
    assert (s.best, s.num_bad_epochs, s.cooldown_counter, s.last_epoch) == \
           (t.best, t.num_bad_epochs, t.cooldown_counter, t.last_epoch)


def test_reduce_on_plateau_after_a_new_param_group():
    opt = _ours(lrs=(0.1,))
    s = L.ReduceLROnPlateau(opt, patience=0, min_lr=0.01)
    opt.add_param_group({"params": [Tensor(np.zeros(1), requires_grad=True)], "lr": 0.2})
    s.step(1.0)
    s.step(2.0)                                  # reduce: min_lrs follow the groups
    assert s.get_last_lr() == pytest.approx([0.01, 0.02])
    fixed = L.ReduceLROnPlateau(_ours(lrs=(0.1,)), patience=0, min_lr=[0.01])
    fixed.optimizer.add_param_group({"params": [Tensor(np.zeros(1), requires_grad=True)]})
    fixed.step(1.0)
    with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau` was initialized"):
        fixed.step(2.0)


# ---------------------------------------------------------------------------
# State dicts: torch's keys, torch's dicts load, checkpoints round-trip
# ---------------------------------------------------------------------------

STATEFUL = {
    "StepLR": ((3, 0.5), {}),
    "MultiStepLR": (([2, 4, 4],), dict(gamma=0.5)),
    "ExponentialLR": ((0.8,), {}),
    "CosineAnnealingLR": ((5,), dict(eta_min=0.01)),
    "OneCycleLR": ((), dict(max_lr=0.3, total_steps=20, three_phase=True)),
    "ReduceLROnPlateau": ((), dict(patience=1)),
}


def _step(s, k):
    if isinstance(s, (L.ReduceLROnPlateau,)) or type(s).__name__ == "ReduceLROnPlateau":
        s.step([1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2][k % 10])
    else:
        s.step()


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_state_dict_has_torchs_keys_and_loads_torchs_state(name):
    torch = pytest.importorskip("torch")
    args, kw = STATEFUL[name]
    topt = _torchs(torch, momentum=0.9)
    t = getattr(torch.optim.lr_scheduler, name)(topt, *args, **kw)
    opt = _ours(momentum=0.9)
    s = getattr(L, name)(opt, *args, **kw)
    assert set(s.state_dict()) == set(t.state_dict())
    for k in range(4):
        topt.step()
        _step(t, k)
    fresh = getattr(L, name)(opt, *args, **kw)
    fresh.load_state_dict(t.state_dict())
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group.update({k: v for k, v in tgroup.items() if k != "params"})
    for k in range(4, 10):
        _step(fresh, k)
        _step(t, k)
        assert fresh.get_last_lr() == t.get_last_lr()


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_state_dict_round_trips_through_a_checkpoint(name, tmp_path):
    args, kw = STATEFUL[name]
    opt = _ours(momentum=0.9)
    s = getattr(L, name)(opt, *args, **kw)
    for k in range(3):
        _step(s, k)
    ag.save({"sched": s.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.npz")
    loaded = ag.load(tmp_path / "ck.npz")
    opt2 = _ours(momentum=0.9)
    s2 = getattr(L, name)(opt2, *args, **kw)
    opt2.load_state_dict(loaded["opt"])
    s2.load_state_dict(loaded["sched"])
    for k in range(3, 12):
        _step(s, k)
        _step(s2, k)
        assert s2.get_last_lr() == s.get_last_lr()
        assert _hyper(opt2, "momentum") == _hyper(opt, "momentum")


def test_lambda_lr_saves_callable_objects_like_torch():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = _ours()
    s = L.LambdaLR(opt, [Warmup(4), lambda e: 0.5 ** e])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}, None]
    other = Warmup(100)
    s2 = L.LambdaLR(_ours(), [other, lambda e: 0.5 ** e])
    s2.load_state_dict(sd)
    assert other.n == 4 and s2.last_epoch == s.last_epoch
    assert "lr_lambdas" in sd                  # the caller's dict is left whole


def test_get_lr_outside_step_warns_like_torch():
    s = L.StepLR(_ours(), 2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()                                  # no warning from inside step


def test_module_path_and_aliases():
    module = importlib.import_module("optim.lr_scheduler")
    assert module is optim.lr_scheduler
    from optim.lr_scheduler import MultiStepLR, OneCycleLR        # noqa: F401
    for name in L.__all__:
        assert getattr(optim, name) is getattr(L, name)


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: L.OneCycleLR(o, 0.1), ValueError, "either total_steps OR"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError, "positive integer total_steps"),
    (lambda o: L.OneCycleLR(o, 0.1, epochs=2.5, steps_per_epoch=3), ValueError, "positive integer epochs"),
    (lambda o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=5, pct_start=1), ValueError, "pct_start"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=5, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: L.OneCycleLR(o, [0.1], total_steps=5), ValueError, "max_lr must have the same length"),
    (lambda o: L.OneCycleLR(optim.Adagrad(o.param_groups[0]["params"]), 0.1, total_steps=5),
     ValueError, "must support momentum"),
    (lambda o: L.MultiStepLR(o, 3), TypeError, "milestones must be a list"),
    (lambda o: L.MultiStepLR(o, [2.5]), ValueError, "Invalid milestone"),
    (lambda o: L.MultiStepLR(o, [2], gamma=-1), ValueError, "Invalid gamma"),
    (lambda o: L.OneCycleLR("sgd", 0.1, total_steps=5), TypeError, "is not an Optimizer"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make(_ours())


def test_scheduler_drives_training_like_torch():
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    tx = torch.tensor([2.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([x], lr=0.1, momentum=0.9, nesterov=True)
    topt = torch.optim.SGD([tx], lr=0.1, momentum=0.9, nesterov=True)
    s = L.OneCycleLR(opt, max_lr=0.2, total_steps=15, cycle_momentum=False)
    t = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.2, total_steps=15, cycle_momentum=False)
    for _ in range(15):
        opt.zero_grad()
        (0.5 * x ** 2 + x ** 4 / 40).sum().backward()
        opt.step()
        s.step()
        topt.zero_grad()
        (0.5 * tx ** 2 + tx ** 4 / 40).sum().backward()
        topt.step()
        t.step()
    assert np.all(np.isfinite(x.data)) and np.abs(x.data).max() < 1.0    # it trained
    np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=1e-12)
    assert math.isclose(s.get_last_lr()[0], t.get_last_lr()[0])
