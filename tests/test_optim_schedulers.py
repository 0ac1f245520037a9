"""Learning-rate schedulers against their closed forms and PyTorch's rules."""
import math

import numpy as np
import pytest

from autograd_core import Tensor
import optim
from optim import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau, StepLR


def _opt(lrs=(0.1, 0.03), cls=optim.SGD):
    groups = [{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0])


def _trace(sched, opt, epochs):
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return np.array(out)


BASE = np.array([0.1, 0.03])


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (7, 0.9)])
def test_step_lr_closed_form(step_size, gamma):
    opt = _opt()
    lrs = _trace(StepLR(opt, step_size, gamma=gamma), opt, 25)
    want = np.array([BASE * gamma ** (e // step_size) for e in range(26)])
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == list(lrs[-1])


@pytest.mark.parametrize("gamma", [0.9, 0.5, 1.0])
def test_exponential_lr_closed_form(gamma):
    opt = _opt()
    lrs = _trace(ExponentialLR(opt, gamma), opt, 30)
    want = np.array([BASE * gamma ** e for e in range(31)])
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.001), (1, 0.0)])
def test_cosine_annealing_closed_form_including_past_T_max(T_max, eta_min):
    opt = _opt()
    lrs = _trace(CosineAnnealingLR(opt, T_max, eta_min=eta_min), opt, 3 * T_max + 2)
    want = np.array([eta_min + (BASE - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2
                     for e in range(3 * T_max + 3)])
    np.testing.assert_allclose(lrs, want, rtol=1e-9, atol=1e-12)


def test_step_with_explicit_epoch_uses_closed_form():
    opt = _opt()
    s = StepLR(opt, 3, gamma=0.5)
    s.step(7)
    np.testing.assert_allclose(s.get_last_lr(), BASE * 0.5 ** 2)
    c = CosineAnnealingLR(_opt(), 10)
    c.step(5)
    np.testing.assert_allclose(c.get_last_lr(), BASE * 0.5)


def test_schedulers_set_initial_lr_and_base_lrs():
    opt = _opt()
    s = ExponentialLR(opt, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE)
    assert s.base_lrs == list(BASE) and s.last_epoch == 0
    s.step()
    assert s.last_epoch == 1 and s.base_lrs == list(BASE)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_opt(), 2, last_epoch=4)
    opt = _opt()
    StepLR(opt, 2)
    s = StepLR(opt, 2, last_epoch=4)      # initial_lr now present
    assert s.last_epoch == 5


def test_chained_schedulers_compose():
    opt = _opt()
    a = StepLR(opt, 2, gamma=0.5)
    b = ExponentialLR(opt, 0.9)
    for e in range(1, 7):
        opt.step()
        a.step()
        b.step()
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                                   BASE * 0.5 ** (e // 2) * 0.9 ** e, rtol=1e-12)


def test_scheduler_drives_an_adaptive_optimiser():
    opt = _opt(cls=optim.Adam)
    s = CosineAnnealingLR(opt, 4)
    for _ in range(4):
        opt.step()
        s.step()
    np.testing.assert_allclose(s.get_last_lr(), [0.0, 0.0], atol=1e-15)


def test_scheduler_state_dict_round_trip():
    opt = _opt()
    s = CosineAnnealingLR(opt, 10, eta_min=0.001)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4 and sd["T_max"] == 10
    opt2 = _opt()
    s2 = CosineAnnealingLR(opt2, 3)
    s2.load_state_dict(sd)
    for g2, g in zip(opt2.param_groups, opt.param_groups):
        g2["lr"] = g["lr"]
    for _ in range(5):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
    with pytest.raises(ValueError, match="unexpected keys"):
        s2.load_state_dict({"bogus": 1})


# ---------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------

def ref_plateau(metrics, lr, mode="min", factor=0.1, patience=10, threshold=1e-4,
                threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
    """PyTorch's documented rule, re-implemented."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = []
    for m in metrics:
        if mode == "min":
            better = m < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = m > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.92, 0.5, 0.5, 0.49999, 0.6, 0.7, 0.8, 0.8, 0.3,
           0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.mark.parametrize("kw", [
    dict(patience=2),
    dict(patience=0),
    dict(patience=1, cooldown=2),
    dict(patience=1, factor=0.5, min_lr=0.02),
    dict(patience=1, threshold=0.05, threshold_mode="abs"),
    dict(patience=2, threshold=0.2),
    dict(mode="max", patience=1),
    dict(mode="max", patience=1, threshold_mode="abs", threshold=0.05),
    dict(patience=0, factor=0.999, eps=1e-2),
], ids=str)
def test_reduce_on_plateau_matches_rule(kw):
    opt = _opt(lrs=(0.1,))
    s = ReduceLROnPlateau(opt, **kw)
    got = []
    for m in METRICS:
        s.step(m)
        got.append(s.get_last_lr()[0])
    want = ref_plateau(METRICS, 0.1, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_reduce_on_plateau_basic_story():
    opt = _opt(lrs=(1.0, 0.5))
    s = ReduceLROnPlateau(opt, patience=2, factor=0.5, min_lr=[0.3, 0.0])
    for m in [3, 2, 2, 2]:          # best 2 at epoch 2; 2 bad epochs: not yet
        s.step(m)
    assert s.get_last_lr() == [1.0, 0.5]
    s.step(2)                       # third bad epoch > patience: reduce
    assert s.get_last_lr() == [0.5, 0.25]
    for _ in range(3):
        s.step(2)
    assert s.get_last_lr() == [0.3, 0.125]     # floored by min_lr
    assert s.num_bad_epochs == 0 and s.best == 2
    s.step(Tensor(1.0))                          # metrics may be 0-d tensors
    assert s.best == 1.0 and s.last_epoch == 9


def test_reduce_on_plateau_state_dict():
    opt = _opt(lrs=(0.1,))
    s = ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 1.0]:
        s.step(m)
    sd = s.state_dict()
    s2 = ReduceLROnPlateau(_opt(lrs=(0.1,)), patience=5)
    s2.load_state_dict(sd)
    assert s2.patience == 1 and s2.best == 1.0 and s2.num_bad_epochs == 1


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: ReduceLROnPlateau(o, factor=-0.1), ValueError, "Invalid factor"),
    (lambda o: ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3]), ValueError, "expected 2 min_lrs"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, "Invalid patience"),
    (lambda o: ReduceLROnPlateau(o, cooldown=-1), ValueError, "Invalid cooldown"),
    (lambda o: ReduceLROnPlateau(o, threshold=-1), ValueError, "Invalid threshold"),
    (lambda o: ReduceLROnPlateau(o, min_lr=-1), ValueError, "Invalid min_lr"),
    (lambda o: ReduceLROnPlateau(o, eps=-1), ValueError, "Invalid eps"),
    (lambda o: StepLR(o, 0), ValueError, "Invalid step_size"),
    (lambda o: StepLR(o, 2.5), ValueError, "Invalid step_size"),
    (lambda o: StepLR(o, 2, gamma=0), ValueError, "Invalid gamma"),
    (lambda o: ExponentialLR(o, -0.5), ValueError, "Invalid gamma"),
    (lambda o: CosineAnnealingLR(o, 0), ValueError, "Invalid T_max"),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=-1), ValueError, "Invalid eta_min"),
    (lambda o: StepLR(o, 2, last_epoch=-3), ValueError, "Invalid last_epoch"),
    (lambda o: StepLR("not an optimizer", 2), TypeError, "is not an Optimizer"),
    (lambda o: ReduceLROnPlateau(None), TypeError, "is not an Optimizer"),
])
def test_scheduler_validation(make, exc, match):
    with pytest.raises(exc, match=match):
        make(_opt())


# ---------------------------------------------------------------------------
# Optional: torch.optim.lr_scheduler gives the same rates
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, args, kw", [
    ("StepLR", (3,), dict(gamma=0.5)),
    ("ExponentialLR", (0.8,), {}),
    ("CosineAnnealingLR", (6,), dict(eta_min=0.001)),
])
def test_matches_torch_schedulers(name, args, kw):
    torch = pytest.importorskip("torch")
    opt = _opt()
    ours = _trace(getattr(optim, name)(opt, *args, **kw), opt, 20)
    tparams = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE]
    topt = torch.optim.SGD(tparams, lr=BASE[0])
    ts = getattr(torch.optim.lr_scheduler, name)(topt, *args, **kw)
    theirs = [ts.get_last_lr()]
    for _ in range(20):
        topt.step()
        ts.step()
        theirs.append(ts.get_last_lr())
    np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-12)


def test_matches_torch_reduce_on_plateau():
    torch = pytest.importorskip("torch")
    opt = _opt(lrs=(0.1,))
    s = ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=1, cooldown=1, factor=0.5)
    for m in METRICS:
        s.step(m)
        ts.step(m)
        assert s.get_last_lr()[0] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)


def test_lambda_lr_closed_form_per_group_and_state():
    import numpy as np
    import pytest
    import optim
    from autograd_core import Tensor
    a, b = Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    sched = optim.LambdaLR(opt, [lambda e: 0.9 ** e, lambda e: 1.0 / (1 + e)])
    for epoch in range(1, 6):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == pytest.approx([0.1 * 0.9 ** epoch, 0.5 / (1 + epoch)])
    state = sched.state_dict()
    assert "lr_lambdas" not in state
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    again = optim.LambdaLR(opt2, [lambda e: 0.9 ** e, lambda e: 1.0 / (1 + e)])
    again.load_state_dict(state)
    again.step()
    sched.step()
    assert again.get_last_lr() == pytest.approx(sched.get_last_lr())
    with pytest.raises(ValueError, match="one per param group"):
        optim.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="callable"):
        optim.LambdaLR(opt, 3.0)
