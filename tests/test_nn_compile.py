"""nn under ``ag.compile``: training steps of models built from nn layers, losses and
optimisers, compiled, equal the eager steps (same seed for dropout); every loss of
nn.functional gives the eager values and gradients in a replay; a bad class index
raises in every replay instead of giving a loss."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.compiler import CompileError, check_plan
import nn
import nn.functional as F
import optim

STEPS = 10
CLASSES = 5


def mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 16),
                         nn.LeakyReLU(0.1), nn.Dropout(0.2), nn.Linear(16, CLASSES))


def cnn(pool=nn.MaxPool2d):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), pool(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, CLASSES))


def mlp_batches(rng, ignore_index=None):
    out = []
    for _ in range(STEPS):
        y = rng.integers(0, CLASSES, 8)
        if ignore_index is not None:
            y[rng.random(8) < 0.3] = ignore_index
        out.append((rng.standard_normal((8, 12)).astype(np.float32), y))
    return out


def cnn_batches(rng):
    return [(rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, CLASSES, 4))
            for _ in range(STEPS)]


OPTIMISERS = {
    "sgd_momentum": lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    "adam": lambda params: optim.Adam(params, lr=0.01),
}

LOSSES = {
    "plain": dict(),
    "class_weights": dict(weight=np.linspace(0.5, 2.0, CLASSES).astype(np.float32)),
    "ignore_index": dict(ignore_index=-1),
    "label_smoothing": dict(label_smoothing=0.1),
    "all_three": dict(weight=np.linspace(2.0, 0.5, CLASSES).astype(np.float32),
                      ignore_index=2, label_smoothing=0.2),
}


def make_step(model, optimiser, loss_fn, zero_grad_by_model=False):
    def step(x, y):
        if zero_grad_by_model:
            model.zero_grad()
        else:
            optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        return loss
    return step


def train(build, make_optimiser, loss_fn, batches, compiled, zero_grad_by_model=False):
    """Losses and final parameters of STEPS steps, from the same start and seed."""
    ag.manual_seed(0)
    model = build()
    opt = make_optimiser(model.parameters())
    step = make_step(model, opt, loss_fn, zero_grad_by_model)
    if compiled:
        step = ag.compile(step)
    ag.manual_seed(1)                       # the dropout masks: the same stream in both runs
    losses = []
    for x, y in batches:
        loss = step(x, y) if compiled else step(Tensor(x), Tensor(y))
        losses.append(loss.data.copy())
    return losses, [p.data.copy() for p in model.parameters()], step


def assert_same_run(eager, compiled):
    (le, pe, _), (lc, pc, step) = eager, compiled
    np.testing.assert_array_equal(np.array(lc), np.array(le))
    for a, b in zip(pc, pe):
        np.testing.assert_array_equal(a, b)
    assert step.stats["replays"] >= STEPS - 2       # traced once per signature, then replayed
    check_plan(step.last_program)


@pytest.mark.parametrize("opt_name", sorted(OPTIMISERS))
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_compiled_mlp_with_dropout_and_cross_entropy_equals_eager(opt_name, loss_name):
    options = LOSSES[loss_name]
    batches = mlp_batches(np.random.default_rng(3), options.get("ignore_index"))
    criterion = nn.CrossEntropyLoss(**options)
    runs = [train(mlp, OPTIMISERS[opt_name], criterion, batches, compiled=c) for c in (False, True)]
    assert_same_run(*runs)
    # dropout drew a new mask on every call: the losses differ from step to step
    assert len({float(v) for v in runs[1][0]}) == STEPS


@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d], ids=["MaxPool2d", "AvgPool2d"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMISERS))
def test_compiled_cnn_training_equals_eager(opt_name, pool):
    batches = cnn_batches(np.random.default_rng(4))
    runs = [train(lambda: cnn(pool), OPTIMISERS[opt_name], nn.CrossEntropyLoss(), batches,
                  compiled=c, zero_grad_by_model=True) for c in (False, True)]
    assert_same_run(*runs)


def test_dropout_in_a_replay_draws_a_new_mask_from_the_seeded_stream():
    drop = nn.Dropout(0.5)
    f = ag.compile(lambda x: drop(x))
    x = np.ones((4, 6), dtype=np.float32)
    ag.manual_seed(5)
    replayed = [f(x).data.copy() for _ in range(4)]
    ag.manual_seed(5)
    eager = [drop(Tensor(x)).data.copy() for _ in range(4)]
    np.testing.assert_array_equal(replayed, eager)
    assert not np.array_equal(replayed[1], replayed[2])
    assert set(np.unique(replayed)) <= {0.0, 2.0}
    seeded = nn.Dropout(0.5, seed=3)           # a layer's own generator is replayed too
    g = ag.compile(lambda x: seeded(x))
    a = [g(x).data.copy() for _ in range(3)]
    seeded.generator.manual_seed(3)
    np.testing.assert_array_equal(a, [seeded(Tensor(x)).data for _ in range(3)])
    drop.eval()                                # another mode: another program, the identity
    np.testing.assert_array_equal(f(x).data, x)


# ---------------------------------------------------------------------------
# Every loss of nn.functional replays with the eager values and gradients
# ---------------------------------------------------------------------------

def _labels(rng, n=6, c=4):
    return rng.integers(0, c, n)


def _normal(rng):
    return rng.standard_normal((6, 4))


def _signs(rng):
    return np.sign(rng.random((6, 4)) - 0.5)


def _probabilities(rng, shape=(6, 4)):
    p = rng.random(shape) + 0.05
    return p / p.sum(-1, keepdims=True)


# name -> (loss of the model output z and the call's data, data for one call)
CASES = {
    "mse": (lambda z, t: F.mse_loss(z, t), _normal),
    "l1": (lambda z, t: F.l1_loss(z, t, reduction="sum"), _normal),
    "bce": (lambda z, t: F.binary_cross_entropy(z.sigmoid(), t, weight=np.linspace(1, 2, 4)),
            lambda r: r.random((6, 4))),
    "bce_saturated": (lambda z, t: F.binary_cross_entropy((z * 1000).sigmoid(), t),
                      lambda r: (r.random((6, 4)) > 0.5).astype(float)),
    "bce_with_logits": (lambda z, t: F.binary_cross_entropy_with_logits(
        z, t, pos_weight=np.full(4, 2.0)), lambda r: r.random((6, 4))),
    "cross_entropy": (lambda z, t: F.cross_entropy(z, t, weight=[1.0, 2.0, 0.5, 1.0],
                                                   ignore_index=3, label_smoothing=0.1),
                      _labels),
    "cross_entropy_probs": (lambda z, t: F.cross_entropy(z, t, label_smoothing=0.05),
                            _probabilities),
    "cross_entropy_none": (lambda z, t: F.cross_entropy(z, t, reduction="none", ignore_index=0),
                           _labels),
    "nll": (lambda z, t: F.nll_loss(z.log_softmax(1), t, weight=np.arange(1.0, 5.0)), _labels),
    "kl_div": (lambda z, t: F.kl_div(z.log_softmax(1), t, "batchmean"),
               lambda r: np.where(r.random((6, 4)) < 0.2, 0.0, _probabilities(r))),
    "kl_div_log_target": (lambda z, t: F.kl_div(z.log_softmax(1), t, "sum", log_target=True),
                          lambda r: np.log(_probabilities(r))),
    "multi_margin": (lambda z, t: F.multi_margin_loss(z, t, p=2, weight=[1.0, 2.0, 3.0, 4.0]),
                     _labels),
    "hinge_binary": (lambda z, t: F.hinge_loss(z, t), _signs),
    "hinge_multiclass": (lambda z, t: F.hinge_loss(z, t, margin=0.5), _labels),
    "smooth_l1": (lambda z, t: F.smooth_l1_loss(z, t, beta=0.5), _normal),
    "huber": (lambda z, t: F.huber_loss(z, t, delta=0.7), _normal),
    "soft_margin": (lambda z, t: F.soft_margin_loss(z, t), _signs),
    "multilabel_soft_margin": (lambda z, t: F.multilabel_soft_margin_loss(
        z, t, weight=np.linspace(1, 2, 4)), lambda r: (r.random((6, 4)) > 0.5).astype(float)),
    "cosine_embedding": (lambda z, t: F.cosine_embedding_loss(z[:3], z[3:], t, margin=0.1),
                         lambda r: np.sign(r.random(3) - 0.5)),
    "margin_ranking": (lambda z, t: F.margin_ranking_loss(z[:, 0], z[:, 1], t, margin=0.2),
                       lambda r: np.sign(r.random(6) - 0.5)),
    "triplet": (lambda z, t: F.triplet_margin_loss(z[:2], z[2:4], z[4:] + t, swap=True),
                lambda r: r.standard_normal((2, 4))),
    "gaussian_nll": (lambda z, t: F.gaussian_nll_loss(z, t, (z * z)[:, :1] + 1e-7, full=True),
                     _normal),
    "poisson_nll": (lambda z, t: F.poisson_nll_loss(z, t, full=True),
                    lambda r: r.poisson(2.0, (6, 4)).astype(float)),
    "cosine_similarity": (lambda z, t: F.cosine_similarity(z, t).sum(),
                          _normal),
    "pairwise_distance": (lambda z, t: F.pairwise_distance(z, t, p=3).sum(),
                          _normal),
    "one_hot_and_leaky_relu": (lambda z, t: (F.leaky_relu(z, 0.2) * F.one_hot(t, 4)).sum(),
                               _labels),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_loss_replays_with_the_eager_values_and_gradients(name):
    loss_of, data = CASES[name]
    rng = np.random.default_rng(11)
    w = Tensor(rng.standard_normal((3, 4)) * 0.7, requires_grad=True)

    def step(x, t):
        w.grad = None
        loss = loss_of(x @ w, t)
        loss.sum().backward()
        return loss, w.grad

    compiled = ag.compile(step)
    for _ in range(4):
        x, t = rng.standard_normal((6, 3)), data(rng)
        loss_c, grad_c = compiled(x, t)
        loss_c, grad_c = loss_c.data.copy(), grad_c.data.copy()
        loss_e, grad_e = step(Tensor(x), Tensor(t))
        np.testing.assert_array_equal(loss_c, loss_e.data)
        np.testing.assert_array_equal(grad_c, grad_e.data)
    assert compiled.stats["traces"] == 1 and compiled.stats["replays"] == 3


# ---------------------------------------------------------------------------
# Bad targets in a replay: an error, never a loss
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [5, -2, 7])
def test_a_bad_class_index_raises_in_every_replay(bad):
    model = nn.Linear(3, CLASSES)
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = ag.compile(make_step(model, opt, nn.CrossEntropyLoss(ignore_index=-1)))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    step(x, np.array([0, 1, -1, 4]))
    step(x, np.array([0, 1, 2, 3]))
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(IndexError):
        step(x, np.array([0, bad, 1, 2]))
    for p, b in zip(model.parameters(), before):      # the step stopped before the update
        np.testing.assert_array_equal(p.data, b)
    assert step.stats["replays"] >= 1
    with pytest.raises(IndexError, match=r"cross_entropy: an index is out of bounds: class "
                                         r"indices must be in \[0, 4\]"):
        ag.compile(lambda z, y: F.cross_entropy(z, y))(x[:2] @ np.ones((3, 5)), np.array([0, bad]))
    with pytest.raises(IndexError, match=f"cross_entropy: target {bad} is out of bounds"):
        F.cross_entropy(x[:2] @ np.ones((3, 5)), np.array([0, bad]))  # eagerly: the value


def test_bad_values_in_a_replay_give_nan_or_raise():
    mm = ag.compile(lambda z, y: F.multi_margin_loss(z, y))
    z = np.zeros((2, 3))
    mm(z, np.array([0, 2]))
    with pytest.raises(IndexError):
        mm(z, np.array([0, 3]))
    oh = ag.compile(lambda y: F.one_hot(y, 3))
    np.testing.assert_array_equal(oh(np.array([2, 0])).data, [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(IndexError):
        oh(np.array([-1, 0]))
    with pytest.raises(CompileError, match="one_hot: num_classes=-1"):
        ag.compile(lambda y: F.one_hot(y))(np.array([1, 0]))
    bce = ag.compile(lambda p, t: F.binary_cross_entropy(p, t))
    t = np.array([0.0, 1.0])
    assert np.isfinite(bce(np.array([0.25, 0.5]), t).item())
    with np.errstate(invalid="ignore"):                         # (the replay's log warns)
        assert np.isnan(bce(np.array([0.25, 1.5]), t).item())    # not a probability
    hinge = ag.compile(lambda z, y: F.hinge_loss(z, y))
    assert np.isfinite(hinge(np.zeros(2), np.array([1.0, -1.0])).item())
    assert np.isnan(hinge(np.zeros(2), np.array([1.0, 0.5])).item())
    gauss = ag.compile(lambda x, v: F.gaussian_nll_loss(x, np.zeros(2), v))
    assert np.isfinite(gauss(np.ones(2), np.ones(2)).item())
    assert np.isnan(gauss(np.ones(2), np.array([1.0, -1.0])).item())
