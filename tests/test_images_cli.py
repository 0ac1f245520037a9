"""The image-classification program (autograd_apps.images, ``autograd-train``) end to
end: on small slices of Fashion-MNIST, and on a small MNIST the tests write.

Tests that need Fashion-MNIST skip (with the reason) when Debian's
dataset-fashion-mnist is not installed and $FASHION_MNIST_DIR is not set; the
ones on the synthetic MNIST always run.
"""
import csv
import gzip
import json
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn.datasets as datasets
from autograd_apps.common.cli import EXIT_ERROR
from autograd_apps.common.interrupt import EXIT_INTERRUPTED
from tests.app_runs import one_error_line as _one_error_line, run_cli
from autograd_apps.images import cli, config, models, report

ROOT = Path(__file__).resolve().parent.parent
EVAL_FIELDS = {"iteration", "epoch", "train_cost", "train_error", "val_cost", "val_error",
               "lr", "elapsed"}


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

# A small slice: 1,200 training images -> 1,000 for training (10 batches of 100)
# and 200 for validation; 300 test images.
SMALL = ["--limit-train", "1200", "--val-size", "200", "--limit-test", "300",
         "--batch-size", "100", "--no-progress", "--no-graph"]


def run_main(args, interrupt_after=None):
    return run_cli(cli.main, args, interrupt_after)


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


def one_error_line(capsys):
    return _one_error_line(capsys, "autograd-train")


# ---------------------------------------------------------------- a small MNIST

def _idx(array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(directory, n_train=600, n_test=200, seed=0, compress=True):
    """MNIST-named IDX files of a learnable toy problem: class k lights the k-th
    band of rows of a 28x28 image, plus noise."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 2 * k + 4:2 * k + 7, 4:24] += 180
        for stem, array in ((f"{prefix}-images-idx3-ubyte", images),
                            (f"{prefix}-labels-idx1-ubyte", labels)):
            data = _idx(np.clip(array, 0, 255))
            name = stem + (".gz" if compress else "")
            (directory / name).write_bytes(gzip.compress(data) if compress else data)
    return directory


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    return write_mnist(tmp_path_factory.mktemp("mnist"))


# 500 training images in 5 batches of 100 (the textbook's batch), 100 for validation.
MNIST = ["--dataset", "mnist", "--val-size", "100", "--no-progress", "--no-graph"]


# ---------------------------------------------------------------- no data needed

@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "invalid choice"),
    (["--model", "mlp", "--epochs", "0"], "positive integer"),
    (["--model", "mlp", "--lr", "-1"], "positive number"),
    (["--model", "mlp", "--batch-size", "ten"], "positive integer"),
    (["--model", "mlp", "--dropout", "1.5"], "probability"),
    (["--model", "mlp", "--hidden", "64,x"], "comma-separated"),
    (["--dataset", "cifar"], "invalid choice"),
    (["--model", "mlp", "--compare-numpy"], "unrecognized arguments"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in one_error_line(capsys)


@pytest.mark.parametrize("argv, message", [
    (["--model", "logreg", "--hidden", "100"], "no hidden layer"),
    (["--model", "mlp", "--channels", "8,16"], "only applies to --model cnn"),
    (["--model", "cnn", "--channels", "8"], "two sizes"),
    (["--model", "mlp", "--lr-gamma", "0.5"], "--lr-schedule step"),
    (["--model", "mlp", "--momentum", "0.9"], "--momentum applies"),
    (["--textbook", "--lr", "0.1"], "fixes the recipe"),
])
def test_inconsistent_options_are_reported(argv, message, capsys, tmp_path):
    assert cli.main(argv + ["--out", str(tmp_path / "run")]) == EXIT_ERROR
    assert message in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_resume_without_a_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--resume"]) == EXIT_ERROR
    assert "no run with a checkpoint" in one_error_line(capsys)
    assert cli.main(["--resume", str(tmp_path / "nope")]) == EXIT_ERROR
    assert "not a directory" in one_error_line(capsys)
    (tmp_path / "empty").mkdir()
    assert cli.main(["--resume", str(tmp_path / "empty")]) == EXIT_ERROR
    assert "no checkpoint" in one_error_line(capsys)


def test_missing_data_says_how_to_install(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", str(tmp_path / "not-installed"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    rc = cli.main(["--model", "logreg", "--data", str(empty), "--out", str(tmp_path / "run"),
                   "--no-progress"])
    assert rc == EXIT_ERROR
    err = one_error_line(capsys)
    assert "Fashion-MNIST files not found" in err
    assert str(empty) in err and "missing train-images-idx3-ubyte[.gz]" in err
    assert "apt-get install dataset-fashion-mnist" in err
    assert not (tmp_path / "run").exists()
    # Without --data: the environment variable and Debian's folder are looked in.
    assert cli.main(["--model", "logreg", "--out", str(tmp_path / "run")]) == EXIT_ERROR
    err = one_error_line(capsys)
    assert "not-installed: no such directory" in err and "FASHION_MNIST_DIR is not set" in err


def test_data_folder_that_does_not_exist(tmp_path, capsys):
    """An explicit --data is the only place looked in: no silent fall-back to the
    installed copy."""
    missing = tmp_path / "typo"
    assert cli.main(["--model", "logreg", "--data", str(missing),
                     "--out", str(tmp_path / "run")]) == EXIT_ERROR
    err = one_error_line(capsys)
    looked_in = err.split("files not found (")[1].split(")")[0]
    assert looked_in == f"{missing}: no such directory"
    (tmp_path / "a-file").write_text("x")
    assert cli.main(["--model", "logreg", "--data", str(tmp_path / "a-file"),
                     "--out", str(tmp_path / "run")]) == EXIT_ERROR
    assert "a-file: not a directory" in one_error_line(capsys)
    # the textbook recipe (no --model) as well, and neither leaves a run folder behind
    assert cli.main(["--data", str(missing), "--out", str(tmp_path / "tb")]) == EXIT_ERROR
    assert "files not found" in one_error_line(capsys)
    assert not (tmp_path / "run").exists() and not (tmp_path / "tb").exists()


def test_out_naming_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("not a folder")
    assert cli.main(["--model", "logreg", "--out", str(tmp_path / "taken")]) == EXIT_ERROR
    assert "is a file, not a folder" in one_error_line(capsys)
    assert cli.main(["--textbook", "--out", str(tmp_path / "taken")]) == EXIT_ERROR
    assert "is a file, not a folder" in one_error_line(capsys)


def test_out_below_a_file(tmp_path, mnist_dir, capsys):
    (tmp_path / "taken").write_text("not a folder")
    rc = run_main(["--model", "logreg", "--epochs", "1", "--data", mnist_dir,
                   "--out", tmp_path / "taken" / "run"] + MNIST)
    assert rc == EXIT_ERROR
    assert "cannot create the folder" in one_error_line(capsys)


def test_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert cli.main(["--model", "logreg", "--dataset", "mnist",
                     "--out", str(tmp_path / "run")]) == EXIT_ERROR
    err = one_error_line(capsys)
    assert "MNIST files not found" in err and "MNIST_DIR is not set" in err
    assert "not packaged for Debian" in err and "--data" in err
    assert "t10k-labels-idx1-ubyte" in err


def test_published_table_lives_in_one_place():
    t = report.PUBLISHED_BENCHMARKS
    assert dict(t["logreg"])["Logistic regression (scikit-learn benchmark, best setting)"] == 0.842
    assert 0.8833 in dict(t["mlp"]).values()
    cnn = [a for _, a in t["cnn"]]
    assert min(cnn) == 0.876 and max(cnn) == 0.916
    lines = report.benchmark_table("mlp-deep", 0.9)
    assert any("0.8833" in line and "+0.0167" in line for line in lines)
    assert lines[-1].split()[-1] == "0.9000"


def test_lecture_notes_figures():
    """Lindholm et al., Example 6.2: about 8 % and 2 % validation error on MNIST."""
    notes = report.LECTURE_NOTES_MNIST
    assert notes["logreg"][2] == 0.08 and notes["mlp"][2] == 0.02 and notes["mlp"][1] == (200,)
    lines = report.benchmark_table("mlp", 0.97, dataset="mnist")
    assert any("784-200-10" in line and "0.9800" in line and "-0.0100" in line for line in lines)
    textbook = config.resolve(config.ImagesConfig(model="mlp"))
    assert report.lecture_notes_figure(textbook)[1] == 0.02
    other = config.resolve(config.ImagesConfig(model="mlp", hidden=(64,)))
    assert "this run: MLP 784-64-10 (ReLU)" in report.lecture_notes_figure(other)[0]
    adam = config.resolve(config.ImagesConfig(model="mlp", optimizer="adam"))
    assert report.lecture_notes_figure(adam) is None


def test_model_names_give_the_real_sizes():
    def name(**kw):
        return models.describe_model(config.resolve(config.ImagesConfig(**kw)), long=True)
    assert name(model="logreg") == "logistic regression 784-10"
    assert name(model="mlp") == "MLP 784-200-10 (ReLU)"
    assert name(model="mlp", hidden=(64, 32)) == "MLP 784-64-32-10 (ReLU)"
    assert name(model="mlp-deep") == "MLP 784-512-256-10 (ReLU), dropout 0.2"
    assert name(model="cnn") == "CNN: conv3x3 1->16, ReLU, pool, conv3x3 16->32, ReLU, pool, 1568-128-10"
    assert name(model="cnn", hidden=(), channels=(8, 4)).endswith("8->4, ReLU, pool, 196-10")
    net = models.build_model(config.resolve(config.ImagesConfig(model="mlp", hidden=(64, 32))))
    assert [tuple(p.shape) for p in net.parameters()] == [(64, 784), (64,), (32, 64), (32,),
                                                          (10, 32), (10,)]


def test_python_m_autograd_apps_dispatches():
    r = subprocess.run([sys.executable, "-m", "autograd_apps", "images", "--help"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "autograd-train" in r.stdout and "--dataset" in r.stdout
    r = subprocess.run([sys.executable, "-m", "autograd_apps"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 2 and "images" in r.stderr
    r = subprocess.run([sys.executable, "-m", "autograd_apps", "chess"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown job 'chess'" in r.stderr


# ---------------------------------------------------------------- on the small MNIST

def test_mnist_run_reports_the_lecture_notes(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    assert run_main(["--model", "logreg", "--epochs", "2", "--data", mnist_dir,
                     "--out", out] + MNIST) == 0
    stdout = capsys.readouterr().out
    assert "on MNIST" in stdout and "Lindholm et al., Example 6.2" in stdout
    assert "0.9200" in stdout                      # the notes' ~8 % validation error
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["config"]["dataset"] == "mnist" and doc["published"] == []
    assert doc["lecture_notes_mnist"]["val_error"] == 0.08
    assert (doc["n_train"], doc["n_val"], doc["n_test"]) == (500, 100, 200)
    assert doc["test"]["accuracy"] > 0.9           # the toy problem is easy
    assert np.array(doc["test"]["confusion_matrix"]).sum() == 200


def test_hidden_sizes_in_every_label(tmp_path, mnist_dir, capsys, monkeypatch):
    titles = []
    for name in ("plot_learning_curves", "plot_confusion_matrix"):
        real = getattr(report, name)

        def spy(*args, _real=real, **kw):
            titles.append(next(a for a in args if isinstance(a, str) and "784" in a))
            return _real(*args, **kw)
        monkeypatch.setattr(report, name, spy)
    out = tmp_path / "run"
    assert run_main(["--model", "mlp", "--hidden", "32", "--epochs", "1", "--data", mnist_dir,
                     "--out", out] + MNIST) == 0
    stdout = capsys.readouterr().out
    assert len(titles) == 2 and all("784-32-10" in t for t in titles)
    assert "MLP 784-32-10 (ReLU)" in stdout.splitlines()[0]
    assert "Test accuracy of mlp (MLP 784-32-10 (ReLU))" in stdout
    assert "this run (MLP 784-32-10 (ReLU))" in stdout
    assert "200 ReLU" not in stdout


def test_resume_extends_the_epochs(tmp_path, mnist_dir, capsys):
    """--epochs on --resume continues a finished run; the result is the longer run."""
    straight, extended = tmp_path / "straight", tmp_path / "extended"
    common = ["--model", "logreg", "--data", mnist_dir, "--eval-every", "5"] + MNIST
    assert run_main(common + ["--epochs", "2", "--out", straight]) == 0
    assert run_main(common + ["--epochs", "1", "--out", extended]) == 0
    assert run_main(["--resume", extended, "--epochs", "2", "--no-progress"]) == 0
    assert_same_run(straight, extended)
    assert json.loads((extended / "config.json").read_text())["epochs"] == 2


@pytest.fixture
def mnist_run(tmp_path, mnist_dir):
    out = tmp_path / "run"
    assert run_main(["--model", "mlp", "--hidden", "16", "--epochs", "1", "--data", mnist_dir,
                     "--out", out] + MNIST) == 0
    return out


def test_resume_with_missing_config(mnist_run, capsys):
    capsys.readouterr()
    (mnist_run / "config.json").unlink()
    assert run_main(["--resume", mnist_run, "--epochs", "2"]) == EXIT_ERROR
    assert "config.json is missing" in one_error_line(capsys)


@pytest.mark.parametrize("corrupt, message", [
    (lambda text: text[:len(text) // 2], "not valid JSON"),
    (lambda text: "[1, 2]", "not a configuration"),
    (lambda text: text.replace('"lr": 0.5', '"lr": -3'), "--lr: expected a positive number"),
    (lambda text: text.replace('"hidden": [\n  16\n ]', '"hidden": "16"'), "--hidden"),
    (lambda text: text.replace('"seed": 0,', ''), "missing setting(s) seed"),
    (lambda text: text.replace('"seed": 0,', '"seed": 0, "colour": 1,'), "unknown setting(s) colour"),
    (lambda text: text.replace('"batch_size": 100', '"batch_size": null'), "no value for batch_size"),
])
def test_resume_with_corrupt_config(mnist_run, capsys, corrupt, message):
    capsys.readouterr()
    path = mnist_run / "config.json"
    path.write_text(corrupt(path.read_text()))
    assert run_main(["--resume", mnist_run, "--epochs", "2"]) == EXIT_ERROR
    err = one_error_line(capsys)
    assert message in err and str(path) in err


def test_resume_with_checkpoint_of_another_model(tmp_path, mnist_run, mnist_dir, capsys):
    other = tmp_path / "other"
    assert run_main(["--model", "logreg", "--epochs", "1", "--data", mnist_dir,
                     "--out", other] + MNIST) == 0
    capsys.readouterr()
    shutil.copyfile(other / "checkpoints" / "last.ckpt", mnist_run / "checkpoints" / "last.ckpt")
    assert run_main(["--resume", mnist_run, "--epochs", "2"]) == EXIT_ERROR
    err = one_error_line(capsys)
    assert "checkpoint of another run" in err and "model=logreg" in err and "model=mlp" in err
    # A checkpoint that is not one at all, and one of another program.
    (mnist_run / "checkpoints" / "last.ckpt").write_bytes(b"garbage")
    assert run_main(["--resume", mnist_run]) == EXIT_ERROR
    one_error_line(capsys)
    ag.save({"format": "someone-else/1"}, mnist_run / "checkpoints" / "last.ckpt")
    assert run_main(["--resume", mnist_run]) == EXIT_ERROR
    assert "not a checkpoint of this program" in one_error_line(capsys)


def test_resume_with_a_checkpoint_whose_shapes_do_not_fit(mnist_run, capsys):
    """config.json and the checkpoint agree, but the weights are of another size."""
    path = mnist_run / "checkpoints" / "last.ckpt"
    state = ag.load(path)
    state["model"]["0.weight"] = np.zeros((3, 784), np.float32)
    ag.save(state, path)
    capsys.readouterr()
    assert run_main(["--resume", mnist_run, "--epochs", "2"]) == EXIT_ERROR
    err = one_error_line(capsys)
    assert "does not fit this run" in err and str(path) in err


def test_textbook_resume_with_corrupt_marker(tmp_path, capsys):
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "textbook.json").write_text('{"epochs": 1}')
    assert run_main(["--resume", tmp_path / "tb"]) == EXIT_ERROR
    assert "not a textbook run" in one_error_line(capsys)


# ---------------------------------------------------------------- with Fashion-MNIST

@needs_data
def test_tiny_run_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--model", "mlp", "--epochs", "2", "--eval-every", "4", "--out", out,
            "--keep-checkpoints", "0"] + SMALL
    args.remove("--no-graph")
    assert run_main(args) == 0
    stdout = capsys.readouterr().out
    assert "Test accuracy of mlp" in stdout
    assert "0.8833" in stdout                       # the published table
    words = " ".join(stdout.split())                # the lecture notes, wrapped in lines
    assert "about 2% with this recipe (15 epochs) on MNIST" in words

    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["iteration"]) for r in rows] == [4, 8, 12, 16, 20]
    assert set(rows[0]) == EVAL_FIELDS
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
    assert json.loads((out / "config.json").read_text())["hidden"] == [200]

    for png in ("learning_curves.png", "confusion_matrix.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
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
    assert run_main(args) == EXIT_ERROR
    assert "already holds a run" in one_error_line(capsys)


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
    assert run_main(RESUME_ARGS + ["--out", out], interrupt_after=stop_at) == EXIT_INTERRUPTED
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
    assert run_main(RESUME_ARGS + ["--out", out], interrupt_after=6) == EXIT_INTERRUPTED
    assert run_main(["--resume", "--no-progress"], interrupt_after=17) == EXIT_INTERRUPTED
    assert ag.load(out / "checkpoints" / "last.ckpt")["iteration"] == 17
    capsys.readouterr()
    # options that would change the trajectory are refused
    assert run_main(["--resume", out, "--lr", "0.1"]) == EXIT_ERROR
    assert "cannot change --lr" in one_error_line(capsys)
    assert run_main(["--resume", out, "--epochs", "5"]) == EXIT_ERROR
    assert "cosine schedule" in one_error_line(capsys)
    assert run_main(["--resume", "--no-progress"]) == 0
    assert_same_run(straight_run, out)


@needs_data
def test_real_sigint_saves_a_checkpoint(tmp_path):
    """A real SIGINT to the program (what Ctrl-C sends) during the second epoch."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "autograd_apps.images", "--model", "logreg", "--epochs", "200",
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
    assert proc.returncode == EXIT_INTERRUPTED, stderr
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
    assert "Textbook comparison on Fashion-MNIST" in stdout
    assert "lecture notes, MNIST val error" in stdout and "~8%" in stdout and "~2%" in stdout
    assert "MNIST's digits are easier than Fashion-MNIST's clothes" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"logreg", "mlp"}
    for model in ("logreg", "mlp"):
        cfg = json.loads((out / model / "config.json").read_text())
        assert (cfg["optimizer"], cfg["lr"], cfg["batch_size"], cfg["eval_every"]) == \
            ("sgd", 0.5, 100, 100)
        assert (out / model / "checkpoints" / "last.ckpt").is_file()
    # The same folder cannot be started twice; it can be resumed (nothing left to do).
    assert run_main(["--textbook", "--epochs", "1", "--out", out]) == EXIT_ERROR
    assert "already holds a run" in one_error_line(capsys)
    assert run_main(["--resume", out, "--no-progress"]) == 0
    assert run_main(["--resume", out, "--lr", "0.1"]) == EXIT_ERROR
    assert "cannot change --lr" in one_error_line(capsys)


def test_textbook_on_mnist(tmp_path, mnist_dir, capsys):
    out = tmp_path / "textbook"
    assert run_main(["--textbook", "--epochs", "1", "--dataset", "mnist", "--data", mnist_dir,
                     "--val-size", "100", "--out", out, "--no-progress", "--no-graph"]) == 0
    stdout = capsys.readouterr().out
    assert "The textbook recipe on MNIST" in stdout
    assert "Textbook comparison on MNIST" in stdout and "published" not in stdout.split(
        "Textbook comparison")[1].splitlines()[1]
    assert "the same recipe and data" in stdout


def test_compiled_steps_give_the_eager_run(tmp_path, mnist_dir, capsys):
    """--compile replays one traced program per step (loss, backward, Adam with a
    cosine schedule, dropout drawing fresh masks): the run, interrupted and
    resumed with --compile, is the eager run bit for bit."""
    args = ["--dataset", "mnist", "--data", mnist_dir, "--model", "mlp-deep",
            "--hidden", "64,32", "--epochs", "2", "--eval-every", "4", "--seed", "3",
            "--val-size", "100", "--batch-size", "50", "--no-progress", "--no-graph"]
    assert run_main(args + ["--out", tmp_path / "eager"]) == 0
    assert run_main(args + ["--out", tmp_path / "compiled", "--compile"],
                    interrupt_after=7) == EXIT_INTERRUPTED
    assert run_main(["--resume", tmp_path / "compiled", "--compile", "--no-progress"]) == 0
    capsys.readouterr()
    assert_same_run(tmp_path / "eager", tmp_path / "compiled")


def test_compiled_run_reports_eager_steps_beside_its_own(tmp_path, mnist_dir, capsys):
    args = ["--dataset", "mnist", "--data", mnist_dir, "--model", "mlp", "--epochs", "1",
            "--val-size", "100", "--batch-size", "50", "--no-progress", "--no-graph",
            "--out", tmp_path / "run", "--compile"]
    assert run_main(args) == 0
    out = capsys.readouterr().out
    assert "of training steps (compiled)" in out
    assert re.search(r"Eager steps, for comparison: \d+\.\d s per epoch .* compiled "
                     r"\d+\.\d\dx as fast", " ".join(out.split()))
    doc = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert doc["time"]["eager_epoch_steps_estimate"] > 0
