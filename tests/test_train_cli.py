"""The training program (autograd_core/train.py) end to end, on small slices of
Fashion-MNIST so that the file runs in well under a minute and a half.

Tests that need the data skip (with the reason) when Debian's
dataset-fashion-mnist is not installed and $FASHION_MNIST_DIR is not set.
"""
import csv
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn.datasets as datasets
from autograd_core import train

ROOT = Path(__file__).resolve().parent.parent


def _data_available():
    try:
        datasets.find_fashion_mnist()
        return True
    except FileNotFoundError:
        return False


needs_data = pytest.mark.skipif(
    not _data_available(),
    reason="Fashion-MNIST not found (sudo apt-get install dataset-fashion-mnist, "
           "or set FASHION_MNIST_DIR)")

HAS_VIZ = importlib.util.find_spec("autograd_core.viz") is not None

# A small slice: 1,200 training images -> 1,000 for training (10 batches of 100)
# and 200 for validation; 300 test images.
SMALL = ["--limit-train", "1200", "--val-size", "200", "--limit-test", "300",
         "--batch-size", "100", "--no-progress", "--no-graph"]


def run_main(args, interrupt_after=None):
    if interrupt_after is not None:
        os.environ[train.INTERRUPT_ENV] = str(interrupt_after)
    try:
        return train.main([str(a) for a in args])
    finally:
        os.environ.pop(train.INTERRUPT_ENV, None)


def params_of(run_dir):
    return ag.load(Path(run_dir) / "checkpoints" / "last.ckpt")["model"]


def evals_without_time(run_dir):
    doc = json.loads((Path(run_dir) / "metrics.json").read_text())
    return [{k: v for k, v in r.items() if k != "elapsed"} for r in doc["evals"]], doc


def assert_same_run(a, b):
    pa, pb = params_of(a), params_of(b)
    assert list(pa) == list(pb)
    for k in pa:
        assert pa[k].dtype == pb[k].dtype
        assert np.array_equal(pa[k], pb[k]), f"parameter {k} differs"
    ea, da = evals_without_time(a)
    eb, db = evals_without_time(b)
    assert ea == eb
    assert da["test"]["accuracy"] == db["test"]["accuracy"]
    assert da["test"]["confusion_matrix"] == db["test"]["confusion_matrix"]
    ta = [{k: r[k] for k in ("epoch", "iteration", "train_cost", "train_error", "lr")}
          for r in da["epochs"]]
    tb = [{k: r[k] for k in ("epoch", "iteration", "train_cost", "train_error", "lr")}
          for r in db["epochs"]]
    assert ta == tb


# ---------------------------------------------------------------- no data needed

def test_import_autograd_core_does_not_import_nn_or_optim():
    code = ("import sys, autograd_core, autograd_core.train; "
            "bad = [m for m in ('nn', 'optim') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "invalid choice"),
    (["--model", "mlp", "--epochs", "0"], "positive integer"),
    (["--model", "mlp", "--lr", "-1"], "positive number"),
    (["--model", "mlp", "--batch-size", "ten"], "positive integer"),
    (["--model", "mlp", "--dropout", "1.5"], "probability"),
    (["--model", "mlp", "--hidden", "64,x"], "comma-separated"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--model", "logreg", "--hidden", "100"], "no hidden layer"),
    (["--model", "mlp", "--channels", "8,16"], "only applies to --model cnn"),
    (["--model", "cnn", "--channels", "8"], "two sizes"),
    (["--model", "mlp", "--lr-gamma", "0.5"], "--lr-schedule step"),
    (["--model", "mlp", "--momentum", "0.9"], "--momentum applies"),
    (["--textbook", "--lr", "0.1"], "fixes the recipe"),
])
def test_inconsistent_options_are_reported(argv, message, capsys, tmp_path):
    assert train.main(argv + ["--out", str(tmp_path / "run")]) == train.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("autograd-train: error:") and message in err


def test_resume_without_a_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert train.main(["--resume"]) == train.EXIT_ERROR
    assert "no run with a checkpoint" in capsys.readouterr().err
    assert train.main(["--resume", str(tmp_path / "nope")]) == train.EXIT_ERROR
    assert "not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert train.main(["--resume", str(tmp_path / "empty")]) == train.EXIT_ERROR
    assert "no checkpoint" in capsys.readouterr().err


def test_missing_data_says_how_to_install(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", str(tmp_path / "not-installed"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    rc = train.main(["--model", "logreg", "--data", str(empty), "--out", str(tmp_path / "run"),
                     "--no-progress"])
    assert rc == train.EXIT_ERROR
    err = capsys.readouterr().err
    assert "Fashion-MNIST files not found" in err
    assert str(empty) in err
    assert "apt-get install dataset-fashion-mnist" in err
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_published_table_lives_in_one_place():
    t = train.PUBLISHED_BENCHMARKS
    assert dict(t["logreg"])["Logistic regression (scikit-learn benchmark, best setting)"] == 0.842
    assert 0.8833 in dict(t["mlp"]).values()
    cnn = [a for _, a in t["cnn"]]
    assert min(cnn) == 0.876 and max(cnn) == 0.916
    lines = train.benchmark_table("mlp-deep", 0.9)
    assert any("0.8833" in line and "+0.0167" in line for line in lines)
    assert lines[-1].split()[-1] == "0.9000"


def test_progress_bar_terminal_and_log():
    class TTY(io.StringIO):
        def isatty(self):
            return True

    tty = TTY()
    bar = train.Progress(10, "epoch 1/2", stream=tty)
    bar.update(5, 0.5, 1234.0, 65.0, force=True)
    bar.close()
    out = tty.getvalue()
    assert out.startswith("\repoch 1/2 [") and "5/10" in out and "loss 0.5000" in out
    assert "1,234 img/s" in out and "ETA 1:05" in out

    log = io.StringIO()
    bar = train.Progress(10, "epoch 1/2", stream=log, log_every=0.05)
    bar.update(1, 0.5, 100.0, 10.0)           # too soon for a log line
    time.sleep(0.06)
    bar.update(5, 0.25, 100.0, 1.0)
    bar.update(10, 0.25, 100.0, 0.0, force=True)   # too soon again: a log is not forced
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in lines[0] and "5/10" in lines[0] and "(50%)" in lines[0]

    quiet = io.StringIO()
    bar = train.Progress(10, "x", stream=quiet, enabled=False)
    bar.update(10, 0.1, 1.0, 0.0, force=True)
    assert quiet.getvalue() == ""


# ---------------------------------------------------------------- with the data

@needs_data
def test_tiny_run_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--model", "mlp", "--epochs", "2", "--eval-every", "4", "--out", out,
            "--keep-checkpoints", "0", "--compare-numpy"] + SMALL
    if HAS_VIZ:
        args.remove("--no-graph")
    assert run_main(args) == 0
    stdout = capsys.readouterr().out
    assert "Test accuracy of mlp" in stdout
    assert "0.8833" in stdout                       # the published table
    assert "Hand-written NumPy baseline (NumpyMLP" in stdout and "engine / baseline" in stdout

    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["iteration"]) for r in rows] == [4, 8, 12, 16, 20]
    assert set(rows[0]) == set(train.EVAL_FIELDS)
    for r in rows:
        assert 0 <= float(r["val_error"]) <= 1 and float(r["val_cost"]) > 0
        assert 0 <= float(r["train_error"]) <= 1 and float(r["train_cost"]) > 0

    doc = json.loads((out / "metrics.json").read_text())
    assert doc["config"]["model"] == "mlp" and doc["iterations_per_epoch"] == 10
    assert (doc["n_train"], doc["n_val"], doc["n_test"]) == (1000, 200, 300)
    assert len(doc["evals"]) == 5 and len(doc["epochs"]) == 2
    assert 0 <= doc["test"]["accuracy"] <= 1
    cm = np.array(doc["test"]["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 300
    assert doc["numpy_comparison"]["ratio_wall"] > 0 and doc["numpy_comparison"]["ratio_cpu"] > 0
    assert json.loads((out / "config.json").read_text())["hidden"] == [200]

    for png in ("learning_curves.png", "confusion_matrix.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if HAS_VIZ:
        assert b"<svg" in (out / "graph.svg").read_bytes()

    ckpts = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert ckpts == ["epoch-001.ckpt", "epoch-002.ckpt", "last.ckpt"]
    first = ag.load(out / "checkpoints" / "epoch-001.ckpt")
    last = ag.load(out / "checkpoints" / "last.ckpt")
    assert (first["epoch"], first["iteration"], first["finished"]) == (1, 10, False)
    assert (last["epoch"], last["iteration"], last["finished"]) == (2, 20, True)
    assert set(last["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert last["model"]["0.weight"].shape == (200, 784)
    assert last["model"]["0.weight"].dtype == np.float32
    assert not np.array_equal(first["model"]["0.weight"], last["model"]["0.weight"])
    assert last["loader"]["epoch"] == 2 and last["loader"]["batch"] == 0
    assert "nn.init" in last["rng"]

    # The checkpoint loads into a fresh model of the same architecture.
    import nn
    model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    model.load_state_dict(last["model"])
    assert np.array_equal(model[0].weight.data, last["model"]["0.weight"])

    # Starting a new run over an existing one is refused.
    assert run_main(args) == train.EXIT_ERROR
    assert "already holds a run" in capsys.readouterr().err


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """mlp-deep (Adam, cosine schedule per iteration, dropout) for 3 epochs, uninterrupted."""
    if not _data_available():
        pytest.skip("Fashion-MNIST not found")
    out = tmp_path_factory.mktemp("straight") / "run"
    assert run_main(RESUME_ARGS + ["--out", out]) == 0
    return out


RESUME_ARGS = ["--model", "mlp-deep", "--hidden", "64,32", "--epochs", "3",
               "--eval-every", "4", "--seed", "3"] + SMALL


@needs_data
@pytest.mark.parametrize("stop_at", [10, 13], ids=["after-epoch-1", "mid-epoch-2"])
def test_resume_gives_the_identical_run(stop_at, straight_run, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_main(RESUME_ARGS + ["--out", out], interrupt_after=stop_at) == train.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "Ctrl-C" in err and f"--resume {out}" in err
    state = ag.load(out / "checkpoints" / "last.ckpt")
    assert state["iteration"] == stop_at and not state["finished"]
    assert state["loader"]["epoch"] == stop_at // 10 and state["loader"]["batch"] == stop_at % 10
    assert run_main(["--resume", out, "--no-progress"]) == 0
    assert "Resuming" in capsys.readouterr().out
    assert_same_run(straight_run, out)


@needs_data
def test_resume_twice_and_latest_run_default(straight_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)          # --resume without DIR looks in ./runs
    out = Path("runs") / "interrupted"
    assert run_main(RESUME_ARGS + ["--out", out], interrupt_after=6) == train.EXIT_INTERRUPTED
    assert run_main(["--resume", "--no-progress"], interrupt_after=17) == train.EXIT_INTERRUPTED
    assert ag.load(out / "checkpoints" / "last.ckpt")["iteration"] == 17
    # options that would change the trajectory are refused
    assert run_main(["--resume", out, "--lr", "0.1"]) == train.EXIT_ERROR
    assert "cannot change --lr" in capsys.readouterr().err
    assert run_main(["--resume", "--no-progress"]) == 0
    assert_same_run(straight_run, out)


@needs_data
def test_real_sigint_saves_a_checkpoint(tmp_path):
    """A real SIGINT to the program (what Ctrl-C sends) during the second epoch."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "autograd_core.train", "--model", "logreg", "--epochs", "200",
           "--out", str(out)] + SMALL
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:                        # wait for the end of epoch 1
            if line.startswith("logreg epoch 1/200") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == train.EXIT_INTERRUPTED, stderr
    assert "checkpoint saved" in stderr and f"--resume {out}" in stderr
    assert "Traceback" not in stderr
    state = ag.load(out / "checkpoints" / "last.ckpt")
    assert state["iteration"] >= 10 and not state["finished"]
    assert state["loader"]["batch"] == state["iteration"] % 10


@needs_data
def test_accuracy_floor_logreg(tmp_path, capsys):
    """Logistic regression by plain SGD, 4,500 training images, 2 epochs (450 steps):
    0.78 when measured, far above chance (0.10); a wrong gradient (sign,
    transpose, a missing softmax term) cannot get there."""
    out = tmp_path / "run"
    assert run_main(["--model", "logreg", "--epochs", "2", "--limit-train", "5000",
                     "--val-size", "500", "--limit-test", "1000", "--out", out,
                     "--no-progress", "--no-graph", "--lr", "0.1", "--batch-size", "20"]) == 0
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["test"]["n"] == 1000
    assert doc["test"]["accuracy"] > 0.70, doc["test"]["accuracy"]
    assert doc["evals"][-1]["val_error"] < 0.30


@needs_data
def test_textbook_mode_runs_both_models(tmp_path, capsys):
    out = tmp_path / "textbook"
    rc = run_main(["--textbook", "--epochs", "1", "--limit-train", "1200", "--val-size", "200",
                   "--limit-test", "300", "--out", out, "--no-progress", "--no-graph"])
    assert rc == 0
    stdout = capsys.readouterr().out
    assert "SHORTENED: 1 of the recipe's 15 epochs" in stdout
    assert "Textbook comparison" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"logreg", "mlp"}
    for model in ("logreg", "mlp"):
        cfg = json.loads((out / model / "config.json").read_text())
        assert (cfg["optimizer"], cfg["lr"], cfg["batch_size"], cfg["eval_every"]) == \
            ("sgd", 0.5, 100, 100)
        assert (out / model / "checkpoints" / "last.ckpt").is_file()
