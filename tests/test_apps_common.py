"""The parts every training job shares (autograd_apps.common), without any dataset:
configuration and its command line, the recipe, the Trainer and its hooks,
checkpoints and exact resume, Ctrl-C, BLAS threads, the progress bar, the
one-line errors."""
import dataclasses
import io
import os
import signal
import time

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_apps.common import blas, cli, recipe
from autograd_apps.common.checkpoints import CheckpointDir
from autograd_apps.common.config import (Choice, Config, Integer, Real, Sizes, Switch, Text,
                                         option)
from autograd_apps.common.errors import UsageError
from autograd_apps.common.evaluation import (batch_error, classification_metrics,
                                             confusion_matrix)
from autograd_apps.common.interrupt import INTERRUPT_ENV, Interrupted, StopRequest
from autograd_apps.common.progress import ProgressBar
from autograd_apps.common.recipe import TrainingConfig, merge_resume, resolve_recipe
from autograd_apps.common.trainer import Trainer


# ---------------------------------------------------------------- kinds of values

@pytest.mark.parametrize("kind, text, value", [
    (Integer(1), "3", 3), (Integer(0), "0", 0), (Real(), "0.5", 0.5),
    (Real(allow_zero=True), "0", 0.0), (Real(allow_zero=True, below=1), "0.2", 0.2),
    (Sizes(), "512,256", (512, 256)), (Sizes(), "none", ()), (Sizes(), "", ()),
    (Text(), "runs/a", "runs/a"),
])
def test_kinds_parse(kind, text, value):
    assert kind.parse(text) == value


@pytest.mark.parametrize("kind, text, message", [
    (Integer(1), "0", "expected a positive integer, got 0"),
    (Integer(1), "ten", "expected a positive integer, got 'ten'"),
    (Integer(0), "-1", "expected an integer >= 0, got -1"),
    (Real(), "-1", "expected a positive number, got -1"),
    (Real(), "inf", "expected a positive number, got inf"),
    (Real(), "x", "expected a positive number, got 'x'"),
    (Real(allow_zero=True), "nan", "expected a number >= 0"),
    (Real(allow_zero=True, below=1), "1", "expected a probability in [0, 1), got 1"),
    (Sizes(), "64,x", "comma-separated positive integers"),
    (Sizes(), "64,0", "sizes must be positive"),
])
def test_kinds_reject_with_a_message(kind, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")):
        kind.parse(text)


@pytest.mark.parametrize("kind, value", [
    (Integer(1), True), (Integer(1), 2.0), (Integer(1), "3"), (Real(), "0.5"), (Real(), None),
    (Sizes(), [1, -2]), (Sizes(), "16"), (Sizes(), [1.5]), (Choice(("a", "b")), "c"),
    (Text(), 3), (Switch(), "yes"),
])
def test_kinds_check_stored_values(kind, value):
    """check() is what guards a config.json: JSON values of the wrong type are refused."""
    with pytest.raises(ValueError):
        kind.check(value)


def test_sizes_round_trip_through_json():
    assert Sizes().check([64, 32]) == (64, 32) and Sizes().to_json((64, 32)) == [64, 32]


# ---------------------------------------------------------------- a job's dataclass

@dataclasses.dataclass(frozen=True)
class Job(Config):
    GROUPS = ("first", "second")
    width: int | None = option(Integer(1), "layer width", group="second", fixed=True)
    rate: float = option(Real(), "rate", default=0.5, group="first")
    kind: str = option(Choice(("a", "b")), "which", default="a", group="first")
    sizes: tuple | None = option(Sizes(), "sizes", group="second", optional=True)
    plots: bool = option(Switch(negative=True), "no plots", default=True, group="second")
    where: str | None = option(Text(), "where", group="second", stored=False)


def test_parser_is_built_from_the_dataclass(capsys):
    cfg, given = Job.from_command_line(["--width", "3", "--no-plots", "--sizes", "4,5"])
    assert cfg == Job(width=3, rate=0.5, kind="a", sizes=(4, 5), plots=False)
    assert given == {"width", "plots", "sizes"}
    cfg, given = Job.from_command_line([])
    assert (cfg.width, cfg.rate, cfg.plots, given) == (None, 0.5, True, frozenset())
    help_text = Job.build_parser("job").format_help()
    assert help_text.index("first:") < help_text.index("second:")
    assert "--no-plots" in help_text and "{a,b}" in help_text
    with pytest.raises(SystemExit) as exc:
        Job.from_command_line(["--width", "0"], prog="job")
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["job: error: argument --width: expected a positive integer, got 0 "
                   "(see job --help)"]


def test_construction_validates_every_field():
    with pytest.raises(UsageError, match="--width: expected a positive integer, got -1"):
        Job(width=-1)
    with pytest.raises(UsageError, match="--rate"):
        Job(width=1).replace(rate=0.0)
    assert Job(width=1, sizes=[2]).sizes == (2,)       # canonical form


def test_json_round_trip_and_its_errors():
    cfg = Job(width=4, sizes=(2, 3), where="x")
    doc = cfg.to_dict()
    assert doc == {"width": 4, "rate": 0.5, "kind": "a", "sizes": [2, 3], "plots": True}
    assert Job.from_dict(doc, "f.json") == cfg.replace(where=None)
    for bad, message in [
            ([1], "f.json: not a configuration"),
            ({**doc, "extra": 1}, "f.json: unknown setting(s) extra"),
            ({k: v for k, v in doc.items() if k != "rate"}, "f.json: missing setting(s) rate"),
            ({**doc, "width": "4"}, "f.json: --width: expected a positive integer, got '4'"),
            ({**doc, "width": None}, "f.json: no value for width"),
    ]:
        with pytest.raises(UsageError) as info:
            Job.from_dict(bad, "f.json")
        assert str(info.value).startswith(message)
    assert Job.from_dict({**doc, "sizes": None}, "f.json").sizes is None   # optional


# ---------------------------------------------------------------- the recipe

PRESET = dict(optimizer="sgd", lr=0.5, lr_schedule="none", epochs=6, batch_size=100,
              eval_every=100, weight_decay=0.0)


def test_resolve_recipe(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cfg = resolve_recipe(TrainingConfig(), PRESET)
    assert (cfg.optimizer, cfg.lr, cfg.momentum, cfg.epochs, cfg.lr_step, cfg.lr_gamma,
            cfg.batch_size, cfg.blas_threads) == ("sgd", 0.5, 0.0, 6, 2, 0.1, 100, 1)
    cfg.require_complete("resolved")
    assert resolve_recipe(TrainingConfig(optimizer="adam"), PRESET).lr == 1e-3
    assert resolve_recipe(TrainingConfig(optimizer="nesterov"), PRESET).momentum == 0.9
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert resolve_recipe(TrainingConfig(), PRESET).blas_threads == 0
    with pytest.raises(UsageError, match="--momentum applies to --optimizer momentum, "
                                         "nesterov or rmsprop, not adam"):
        resolve_recipe(TrainingConfig(optimizer="adam", momentum=0.5), PRESET)
    with pytest.raises(UsageError, match="--lr-schedule step"):
        resolve_recipe(TrainingConfig(lr_step=2), PRESET)


def test_merge_resume():
    stored = resolve_recipe(TrainingConfig(), PRESET)
    cli_cfg, given = TrainingConfig.from_command_line(["--epochs", "9", "--keep-checkpoints",
                                                       "0", "--no-progress"])
    merged = merge_resume(stored, cli_cfg, given)
    assert (merged.epochs, merged.keep_checkpoints, merged.progress, merged.lr) == (9, 0, False, 0.5)
    for argv, message in [(["--lr", "0.1", "--seed", "2"], "cannot change --lr, --seed when"),
                          (["--out", "x"], "--out cannot be combined with --resume")]:
        with pytest.raises(UsageError, match=message):
            merge_resume(stored, *TrainingConfig.from_command_line(argv))
    cosine = stored.replace(lr_schedule="cosine")
    with pytest.raises(UsageError, match="cosine schedule"):
        merge_resume(cosine, cli_cfg, given)


@pytest.mark.parametrize("name, cls", [("sgd", "SGD"), ("nesterov", "SGD"), ("adam", "Adam"),
                                       ("adamw", "AdamW"), ("rmsprop", "RMSprop"),
                                       ("adagrad", "Adagrad"), ("adadelta", "Adadelta")])
def test_build_optimizer(name, cls):
    cfg = resolve_recipe(TrainingConfig(optimizer=name, weight_decay=0.01), PRESET)
    opt = recipe.build_optimizer(cfg, nn.Linear(2, 2).parameters())
    assert type(opt).__name__ == cls
    assert opt.param_groups[0]["lr"] == cfg.lr and opt.param_groups[0]["weight_decay"] == 0.01
    if name == "nesterov":
        assert opt.param_groups[0]["nesterov"] and opt.param_groups[0]["momentum"] == 0.9


# ---------------------------------------------------------------- the Trainer

def _problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    return x, y


def _trainer(run_dir, epochs=3, schedule="cosine", dropout=0.3):
    """A small classifier with dropout and a per-iteration schedule: everything
    that must be restored for an exact resume."""
    x, y = _problem()
    nn.init.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 4))
    cfg = resolve_recipe(TrainingConfig(optimizer="adam", lr_schedule=schedule, epochs=epochs,
                                        batch_size=16, eval_every=2), PRESET)
    opt = recipe.build_optimizer(cfg, model.parameters())
    loader = nn.DataLoader(x, y, batch_size=16, shuffle=True, seed=5)
    sched, interval = recipe.build_scheduler(cfg, opt, len(loader))
    loss_fn = nn.CrossEntropyLoss()

    def step(model, batch):
        logits = model(batch[0])
        return loss_fn(logits, batch[1]), {"error": batch_error(logits.data, batch[1])}

    def evaluate():
        cost, error, _ = classification_metrics(model, x, y)
        return {"cost": cost, "error": error}
    return Trainer(model, opt, loader, step, epochs=epochs, eval_every=2, evaluate=evaluate,
                   metrics=("cost", "error"), scheduler=sched, scheduler_interval=interval,
                   checkpoints=CheckpointDir(run_dir, keep=2), progress=False,
                   state_extra={"format": "test/1"})


def test_trainer_hooks_and_records(tmp_path):
    trainer = _trainer(tmp_path / "run")
    calls = []
    trainer.register_hook("step", lambda t, m: calls.append(("step", t.iteration, set(m))))
    trainer.register_hook("evaluation", lambda t, row: calls.append(("eval", row["iteration"])))
    trainer.register_hook("epoch_end", lambda t, row: calls.append(("epoch", row["epoch"])))
    with pytest.raises(ValueError, match="event must be one of"):
        trainer.register_hook("batch", print)
    trainer.fit()
    assert trainer.iters_per_epoch == 4 and trainer.iteration == 12 and trainer.finished
    steps = [c for c in calls if c[0] == "step"]
    assert [c[1] for c in steps] == list(range(1, 13)) and steps[0][2] == {"cost", "error"}
    assert [c for c in calls if c[0] == "eval"] == [("eval", i) for i in range(2, 13, 2)]
    assert [c for c in calls if c[0] == "epoch"] == [("epoch", 1), ("epoch", 2), ("epoch", 3)]
    assert calls.index(("epoch", 1)) == calls.index(("step", 4, {"cost", "error"})) + 2
    assert trainer.eval_fields == ("iteration", "epoch", "train_cost", "train_error",
                                   "val_cost", "val_error", "lr", "elapsed")
    assert set(trainer.evals[0]) == set(trainer.eval_fields)
    row = trainer.epoch_rows[-1]
    assert row["examples_per_s"] > 0 and row["lr"] == pytest.approx(0.0, abs=1e-12)
    files = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert files == ["epoch-002.ckpt", "epoch-003.ckpt", "last.ckpt"]   # keep=2
    assert ag.load(tmp_path / "run" / "checkpoints" / "last.ckpt")["format"] == "test/1"


class _StopAt:
    """A StopRequest stand-in: asks to stop after iteration k."""

    def __init__(self, k):
        self.k, self.requested = k, False

    def after_iteration(self, iteration):
        self.requested = self.requested or iteration == self.k


@pytest.mark.parametrize("stop_at", [4, 6], ids=["end-of-epoch", "mid-epoch"])
def test_trainer_resumes_bit_for_bit(tmp_path, stop_at):
    straight = _trainer(tmp_path / "a")
    straight.fit()
    first = _trainer(tmp_path / "b")
    with pytest.raises(Interrupted) as info:
        first.fit(_StopAt(stop_at))
    assert info.value.iteration == stop_at and info.value.checkpoint.name == "last.ckpt"
    resumed = _trainer(tmp_path / "b")
    resumed.load_state_dict(resumed.checkpoints.load("test/1"))
    assert resumed.iteration == stop_at and not resumed.finished
    resumed.fit()
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert np.array_equal(p.data, q.data)
    drop = lambda rows: [{k: v for k, v in r.items() if k not in ("elapsed", "steps_time",  # noqa: E731
                                                              "steps_cpu", "wall_time",
                                                              "examples_per_s")} for r in rows]
    assert drop(straight.evals) == drop(resumed.evals)
    assert drop(straight.epoch_rows) == drop(resumed.epoch_rows)


def test_trainer_state_of_another_model_is_a_usage_error(tmp_path):
    trainer = _trainer(tmp_path / "run", epochs=1)
    trainer.fit()
    state = trainer.state_dict()
    other = _trainer(tmp_path / "other")
    other.model[0] = nn.Linear(4, 5)
    with pytest.raises(UsageError, match="does not fit this run"):
        other.load_state_dict(state)
    with pytest.raises(UsageError, match="does not fit this run: missing 'rng'"):
        _trainer(tmp_path / "x").load_state_dict({k: v for k, v in state.items() if k != "rng"})
    with pytest.raises(UsageError, match="not a checkpoint of this program"):
        trainer.checkpoints.load("another/1")
    with pytest.raises(UsageError, match="no checkpoint in"):
        CheckpointDir(tmp_path / "empty").load("test/1")


def test_metrics_of_sequences():
    """A second job (e.g. a character model) has logits (N, T, C) and targets (N, T)."""
    logits = np.array([[[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]])     # (1, 3, 2)
    targets = np.array([[0, 1, 1]])
    assert batch_error(logits, targets) == pytest.approx(1 / 3)

    class Model:
        training = True

        def __call__(self, x):
            return ag.Tensor(logits[x])

        def eval(self):
            self.training = False

        def train(self, mode=True):
            self.training = mode
    cost, error, preds = classification_metrics(Model(), np.array([0]), targets)
    expected = -np.mean([np.log(np.exp(2) / (np.exp(2) + 1))] * 2 + [np.log(1 / (np.exp(2) + 1))])
    assert cost == pytest.approx(expected) and error == pytest.approx(1 / 3)
    assert preds.tolist() == [0, 1, 0]
    assert confusion_matrix(targets, preds, 2).tolist() == [[1, 0], [1, 1]]


# ---------------------------------------------------------------- Ctrl-C

def test_stop_request_test_hook_sends_sigint(monkeypatch, capsys):
    monkeypatch.setenv(INTERRUPT_ENV, "3")
    previous = signal.getsignal(signal.SIGINT)
    with StopRequest() as stop:
        assert stop.installed
        stop.after_iteration(2)
        assert not stop.requested
        stop.after_iteration(3)           # a real SIGINT, caught by the handler
        assert stop.requested
        assert "Ctrl-C: finishing this iteration" in capsys.readouterr().err
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)   # the second Ctrl-C aborts
    assert signal.getsignal(signal.SIGINT) is previous
    monkeypatch.setenv(INTERRUPT_ENV, "soon")
    with pytest.raises(UsageError, match="must be an iteration number"):
        StopRequest()


# ---------------------------------------------------------------- BLAS threads

def test_blas_threads_limits_and_restores():
    before = blas.blas_thread_counts()
    assert before, "NumPy's BLAS should be visible to threadpoolctl"
    with blas.blas_threads(1) as n:
        assert n == 1 and blas.blas_thread_counts() == [1] * len(before)
        np.ones((50, 50)) @ np.ones((50, 50))
    assert blas.blas_thread_counts() == before
    with blas.blas_threads(0) as n:
        assert n is None and blas.blas_thread_counts() == before


# ---------------------------------------------------------------- progress bar

class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal():
    tty = _TTY()
    bar = ProgressBar(10, "epoch 1/2", stream=tty)
    bar.update(5, 0.5, 1234.0, force=True)
    bar.close()
    out = tty.getvalue()
    assert out.startswith("\repoch 1/2 [")
    shown = out.split("\r")[-3]                  # the last drawing, before the erasure
    assert "5/10" in shown and "loss 0.5000" in shown and "1,234 images/s" in shown
    assert "ETA" in shown and "=" * 12 in shown
    assert out.endswith("\r") and out.split("\r")[-2].strip() == ""   # erased at the end


def test_progress_bar_in_a_log():
    log = io.StringIO()
    bar = ProgressBar(10, "epoch 1/2", stream=log, log_every=0.05)
    bar.update(1, 0.5, 100.0)                  # too soon for a log line
    time.sleep(0.06)
    bar.update(5, 0.25, 100.0)
    bar.update(10, 0.25, 100.0, force=True)    # too soon again: a log is not forced
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in log.getvalue()
    assert "5/10" in lines[0] and "(50%)" in lines[0] and "loss 0.2500" in lines[0]

    quiet = io.StringIO()
    bar = ProgressBar(10, "x", stream=quiet, enabled=False)
    bar.update(10, 0.1, 1.0, force=True)
    bar.close()
    assert quiet.getvalue() == "" and not bar.enabled


# ---------------------------------------------------------------- the command line

def test_run_command_turns_failures_into_one_line(capsys, tmp_path):
    from nn.datasets import IDXError, find_mnist
    from autograd_core.serialization import CheckpointError

    def fail(exc):
        def body():
            raise exc
        return body
    resume = lambda d: f"prog --resume {d}"  # noqa: E731
    cases = [(UsageError("bad\noption"), "bad option"), (IDXError("f: truncated"), "f: truncated"),
             (CheckpointError("c: corrupt"), "c: corrupt"),
             (PermissionError(13, "Permission denied", "/x"), "/x: Permission denied")]
    try:
        find_mnist(tmp_path / "none", search_defaults=False)
    except FileNotFoundError as exc:
        cases.append((exc, "MNIST files not found"))
    for exc, text in cases:
        assert cli.run_command(fail(exc), resume) == cli.EXIT_ERROR
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and text in err, err
    assert cli.run_command(fail(Interrupted(tmp_path, tmp_path / "last.ckpt", 7)), resume) == 130
    err = capsys.readouterr().err
    assert "Interrupted after iteration 7" in err and f"prog --resume {tmp_path}" in err
    assert cli.run_command(fail(KeyboardInterrupt()), resume) == 130
    assert cli.run_command(lambda: 0, resume) == 0
    with pytest.raises(ZeroDivisionError):           # a bug is not hidden
        cli.run_command(fail(ZeroDivisionError()), resume)


def test_run_folders(tmp_path):
    a = cli.new_run_dir("mlp", root=tmp_path)
    a.mkdir()
    b = cli.new_run_dir("mlp", root=tmp_path)
    assert a != b and b.name.startswith(a.name)
    with pytest.raises(UsageError, match="no run with a checkpoint"):
        cli.latest_run(tmp_path)
    CheckpointDir(a).save({"format": "x"})
    assert cli.latest_run(tmp_path) == a
    with pytest.raises(UsageError, match="already holds a run"):
        cli.check_new_run_dir(a)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        cli.check_new_run_dir(tmp_path / "file")
    with pytest.raises(UsageError, match="cannot create the folder"):
        cli.make_run_dir(tmp_path / "file" / "run")
    assert cli.make_run_dir(tmp_path / "x" / "y").is_dir()
