"""Train and evaluate networks on Fashion-MNIST from one command.

    python -m autograd_core.train                      # the textbook recipe, both models
    python -m autograd_core.train --textbook --epochs 3   # ... a shorter version
    python -m autograd_core.train --model mlp-deep     # the best-MLP preset
    python -m autograd_core.train --model cnn --epochs 2 --compare-numpy
    python -m autograd_core.train --resume             # continue the latest run in runs/
    autograd-train ...                                 # the same, as a console script

Models (``--model``): ``logreg`` (one Linear layer, softmax in the loss),
``mlp`` (the textbook's 784-200(ReLU)-10), ``mlp-deep`` (784-512-256-10 with
dropout, the best-MLP preset), ``cnn`` (two conv3x3-ReLU-maxpool2 blocks of 16
and 32 channels, then 1568-128(ReLU)-10; ``--hidden none`` leaves the single
linear layer of ``benchmarks/numpy_baselines.NumpyCNN``).
Every option left unset takes the model's preset (``PRESETS``).

A run folder (``--out``, default ``runs/<model>-<timestamp>``) receives
``config.json``, ``metrics.csv``/``metrics.json`` (one row per evaluation),
``learning_curves.png``, ``confusion_matrix.png``, ``graph.svg`` (the
computation graph of a two-image batch, drawn by ``autograd_core.viz``) and
``checkpoints/`` (``epoch-NNN.ckpt`` at the end of every epoch and ``last.ckpt``,
the newest state; written atomically by ``autograd_core.save``, no pickle).

Reproducibility: the model's initialisation and the dropout masks come from
``nn.init``'s generator, seeded with ``--seed``; the order of the examples from
the DataLoader's seed. A checkpoint holds the model, the optimiser, the LR
schedule, the DataLoader position, the generator state, the metrics so far and
the running sums of the current evaluation window, so ``--resume`` -- after an
epoch or after Ctrl-C in the middle of one -- continues bit for bit as if the
run had never stopped. Ctrl-C is caught between iterations (never in the
middle of an update): the current iteration finishes, a checkpoint is written,
and the program exits with status 130 and says how to resume. A second Ctrl-C
aborts at once, without saving.

Speed: for the duration of a run NumPy's OpenBLAS is limited to one thread
(``--blas-threads``; not when OPENBLAS_NUM_THREADS / OMP_NUM_THREADS is set).
On a shared 2-core machine two BLAS threads made an MLP epoch 8-17x slower
(docs/results.md).

Test hook: with the environment variable ``AUTOGRAD_TRAIN_INTERRUPT_AFTER=k``
the program sends itself SIGINT after iteration k (exactly what Ctrl-C does).

``nn`` and ``optim`` are imported inside the functions that need them, so that
``import autograd_core`` never imports them.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import json
import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "PRESETS", "PUBLISHED_BENCHMARKS", "TEXTBOOK"]

PROG = "autograd-train"
CHECKPOINT_FORMAT = "autograd_core.train/1"
INTERRUPT_ENV = "AUTOGRAD_TRAIN_INTERRUPT_AFTER"
EXIT_INTERRUPTED = 130
EXIT_ERROR = 2

# ---------------------------------------------------------------------------
# Published figures: the one place they live.
#
# Test accuracy on the Fashion-MNIST test set (10,000 images), from
#   * the scikit-learn benchmark of the Fashion-MNIST authors (Xiao, Rasul &
#     Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
#     Machine Learning Algorithms", arXiv:1708.07747; results at
#     http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/): the best
#     LogisticRegression setting, 0.842;
#   * the "Benchmark" table of submitted results in the README of
#     https://github.com/zalandoresearch/fashion-mnist (not verified by the
#     maintainers; epochs and batch sizes differ between entries).  The
#     "MLP 256-128-100" row appears in earlier versions of that table, the
#     "MLP 256-128-64" row in later ones.
# ---------------------------------------------------------------------------
PUBLISHED_BENCHMARKS = {
    "logreg": (
        ("Logistic regression (scikit-learn benchmark, best setting)", 0.842),
    ),
    "mlp": (
        ("MLP 256-128-100 (README benchmark table)", 0.8833),
        ("MLP 256-128-64 (README benchmark table)", 0.900),
    ),
    "cnn": (
        ("2 conv layers + max pooling, Keras (README table)", 0.876),
        ("2 conv layers + max pooling, ELU, PyTorch (README table)", 0.903),
        ("2 conv layers + max pooling, TensorFlow, >300 epochs (README table)", 0.916),
    ),
}
MODEL_FAMILY = {"logreg": "logreg", "mlp": "mlp", "mlp-deep": "mlp", "cnn": "cnn"}
MODEL_SHORT = {"logreg": "logistic regression", "mlp": "MLP 784-200-10 (ReLU)",
               "mlp-deep": "MLP 784-512-256-10", "cnn": "CNN, 2 conv + pooling + FC"}
MODEL_DESCRIPTION = {
    "logreg": "logistic regression (one linear layer + softmax)",
    "mlp": "two-layer network, 200 ReLU hidden units",
    "mlp-deep": "MLP 784-512-256-10, ReLU, dropout",
    "cnn": "CNN: 2 x [conv3x3 -> ReLU -> maxpool2] -> linear layers",
}

# ---------------------------------------------------------------------------
# Presets: the default of every option the command line leaves unset.
# ---------------------------------------------------------------------------
PRESETS = {
    # The textbook recipe: mini-batch SGD, step 0.5, batch 100, 15 epochs,
    # validation cost and error every 100 iterations.
    "logreg": dict(optimizer="sgd", lr=0.5, lr_schedule="none", epochs=15, batch_size=100,
                   eval_every=100, hidden=(), dropout=0.0, weight_decay=0.0),
    "mlp": dict(optimizer="sgd", lr=0.5, lr_schedule="none", epochs=15, batch_size=100,
                eval_every=100, hidden=(200,), dropout=0.0, weight_decay=0.0),
    "mlp-deep": dict(optimizer="adam", lr=1e-3, lr_schedule="cosine", epochs=20, batch_size=128,
                     eval_every=200, hidden=(512, 256), dropout=0.2, weight_decay=0.0),
    "cnn": dict(optimizer="adam", lr=2e-3, lr_schedule="cosine", epochs=10, batch_size=64,
                eval_every=300, channels=(16, 32), hidden=(128,), dropout=0.0, weight_decay=0.0),
}

# The textbook's worked example, and the default of the main-job command: all
# 15 epochs of it take about 35 s on a shared 2-core machine (one BLAS thread),
# so the default is the full recipe; --epochs N gives a shorter one.
TEXTBOOK = dict(models=("logreg", "mlp"), optimizer="sgd", lr=0.5, batch_size=100,
                epochs=15, eval_every=100)

# Learning rate used when --optimizer differs from the preset and --lr is unset.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0}
OPTIMIZERS = tuple(DEFAULT_LR)
SCHEDULES = ("none", "step", "cosine")
DEFAULT_VAL_SIZE = 5000
SPLIT_SEED = 0           # the validation split is the same for every --seed
RUNS_ROOT = "runs"

# Settings that define a run's trajectory: fixed once it has started.
_TRAJECTORY_KEYS = ("model", "optimizer", "lr", "momentum", "weight_decay", "lr_schedule",
                    "lr_step", "lr_gamma", "batch_size", "seed", "val_size", "eval_every",
                    "limit_train", "hidden", "channels", "dropout")


class UsageError(Exception):
    """A problem with the command line or the files it names; reported without a traceback."""


class Interrupted(Exception):
    """Training stopped by Ctrl-C after a checkpoint was written."""

    def __init__(self, run_dir, checkpoint, iteration):
        super().__init__(f"interrupted at iteration {iteration}")
        self.run_dir, self.checkpoint, self.iteration = run_dir, checkpoint, iteration


# ---------------------------------------------------------------------------
# Small output helpers
# ---------------------------------------------------------------------------

def _say(*parts):
    print(*parts, flush=True)


def _warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr, flush=True)


def _fmt_duration(seconds):
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """A one-line progress bar on stderr: running loss, images/s, ETA.

    On a terminal the line is redrawn in place (at most 10 times a second);
    otherwise (a log file, CI) a plain line is printed every `log_every`
    seconds.  No dependency beyond the standard library.
    """

    def __init__(self, total, label, stream=None, enabled=True, log_every=15.0):
        self.total, self.label = total, label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every = log_every
        # a log gets its first line after log_every seconds; a terminal at once
        self._last = 0.0 if self.tty else time.perf_counter()
        self._width = 0

    def update(self, done, loss, rate, eta, force=False):
        if not self.enabled:
            return
        now = time.perf_counter()
        # In a log, the epoch's summary line follows anyway: no forced lines.
        if now - self._last < (0.1 if self.tty else self.log_every) and not (force and self.tty):
            return
        self._last = now
        frac = done / self.total if self.total else 1.0
        stats = (f"{done}/{self.total}  loss {loss:.4f}  {rate:,.0f} img/s  "
                 f"ETA {_fmt_duration(eta)}")
        if self.tty:
            n = 24
            filled = min(n, int(frac * n))
            bar = "=" * filled + (">" if filled < n else "") + " " * (n - filled - 1)
            line = f"{self.label} [{bar}] {stats}"
            pad = max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
        else:
            self.stream.write(f"{self.label}  {stats}  ({100 * frac:.0f}%)\n")
        self.stream.flush()

    def close(self):
        if self.enabled and self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


class _StopRequest:
    """SIGINT handler active during training: the first Ctrl-C asks the loop to
    stop at the next iteration boundary; a second one aborts at once."""

    def __init__(self):
        self.requested = False
        self.installed = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        except ValueError:        # not the main thread: KeyboardInterrupt is caught instead
            self.installed = False
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this iteration, then saving a checkpoint "
              "(press Ctrl-C again to abort without saving)", file=sys.stderr, flush=True)

    def request(self):
        """What Ctrl-C does; used by the AUTOGRAD_TRAIN_INTERRUPT_AFTER test hook."""
        if self.installed:
            signal.raise_signal(signal.SIGINT)
        else:
            self.requested = True

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
        return False


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _nonneg_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _nonneg_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _probability(text):
    value = _nonneg_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


def _int_list(text):
    text = text.strip()
    if text in ("", "none"):
        return ()
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 512,256, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def build_parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train and evaluate networks on Fashion-MNIST with autograd_core, and "
                    "compare the test accuracy with the published benchmark figures. "
                    "Without --model (or with --textbook) it runs the textbook recipe for "
                    "logistic regression and the 200-ReLU MLP.",
        epilog="Unset options take the model's preset. The data are looked for in --data, "
               "$FASHION_MNIST_DIR, then /usr/share/datasets/fashion-mnist "
               "(sudo apt-get install dataset-fashion-mnist).")
    g = p.add_argument_group("what to run")
    g.add_argument("--model", choices=tuple(PRESETS),
                   help="logreg | mlp (784-200-10, the textbook's) | mlp-deep (best-MLP preset) "
                        "| cnn (two conv layers with pooling)")
    g.add_argument("--textbook", action="store_true",
                   help="the textbook recipe for logreg and mlp (SGD, lr 0.5, batch 100, "
                        f"{TEXTBOOK['epochs']} epochs unless --epochs, eval every 100 "
                        "iterations); the default when --model is not given")
    g.add_argument("--resume", nargs="?", const="", default=None, metavar="DIR",
                   help="continue the run in DIR from its last checkpoint (default: the most "
                        f"recent run under {RUNS_ROOT}/); --epochs may extend it")
    g = p.add_argument_group("training")
    g.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd | momentum (SGD, momentum 0.9) | nesterov | adam | adamw | "
                        "rmsprop | adagrad | adadelta")
    g.add_argument("--lr", type=_positive_float, help="learning rate")
    g.add_argument("--momentum", type=_nonneg_float,
                   help="momentum for --optimizer momentum/nesterov (default 0.9)")
    g.add_argument("--weight-decay", type=_nonneg_float, help="L2 weight decay")
    g.add_argument("--lr-schedule", choices=SCHEDULES,
                   help="none | step (x --lr-gamma every --lr-step epochs) | cosine (to 0 over "
                        "the run, updated every iteration)")
    g.add_argument("--lr-step", type=_positive_int,
                   help="epochs between decays for --lr-schedule step (default: a third of "
                        "the epochs)")
    g.add_argument("--lr-gamma", type=_positive_float,
                   help="decay factor for --lr-schedule step (default 0.1)")
    g.add_argument("--epochs", type=_positive_int, help="number of passes over the training set")
    g.add_argument("--batch-size", type=_positive_int, help="mini-batch size")
    g.add_argument("--seed", type=_nonneg_int, help="seed of the initialisation, the data "
                   "order and dropout (default 0)")
    g.add_argument("--hidden", type=_int_list,
                   help="hidden layer sizes, e.g. 512,256, or none (mlp, mlp-deep; linear "
                        "layers after the convolutions for cnn, preset 128)")
    g.add_argument("--channels", type=_int_list, help="cnn: channels of the two conv layers, "
                   "e.g. 16,32")
    g.add_argument("--dropout", type=_probability, help="dropout probability before each "
                   "linear layer after the first (mlp-deep preset: 0.2)")
    g = p.add_argument_group("data and evaluation")
    g.add_argument("--data", metavar="DIR", help="directory holding the Fashion-MNIST IDX files")
    g.add_argument("--val-size", type=_nonneg_int,
                   help=f"validation images carved from the training set (default "
                        f"{DEFAULT_VAL_SIZE}, or a tenth of --limit-train); 0: none")
    g.add_argument("--eval-every", type=_positive_int,
                   help="evaluate the validation cost and misclassification rate every N "
                        "iterations (textbook: 100)")
    g.add_argument("--limit-train", type=_positive_int, metavar="N",
                   help="use only the first N training images (before the validation split)")
    g.add_argument("--limit-test", type=_positive_int, metavar="N",
                   help="evaluate on the first N test images only")
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="DIR",
                   help=f"run folder (default {RUNS_ROOT}/<model>-<timestamp>, or "
                        f"{RUNS_ROOT}/textbook-<timestamp>)")
    g.add_argument("--keep-checkpoints", type=_nonneg_int, default=None, metavar="K",
                   help="keep the last K epoch checkpoints besides last.ckpt (default 3; "
                        "0 keeps all)")
    g.add_argument("--blas-threads", type=_nonneg_int, metavar="N",
                   help="threads of NumPy's OpenBLAS during the run (default 1, unless "
                        "OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set; 0 leaves it alone). "
                        "On a shared 2-core machine one thread is both faster and steadier "
                        "for these matrix sizes")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--no-graph", action="store_true", help="do not draw graph.svg")
    g.add_argument("--compare-numpy", action="store_true",
                   help="also time one epoch of the hand-written NumPy baseline "
                        "(benchmarks/numpy_baselines.py) for the same architecture and print "
                        "the ratio")
    return p


def _resolve(args, model):
    """The full configuration of a single run: the command line over the preset."""
    preset = PRESETS[model]
    cfg = {"model": model}
    cfg["optimizer"] = args.optimizer or preset["optimizer"]
    if args.lr is not None:
        cfg["lr"] = args.lr
    elif cfg["optimizer"] == preset["optimizer"]:
        cfg["lr"] = preset["lr"]
    else:
        cfg["lr"] = DEFAULT_LR[cfg["optimizer"]]
    cfg["momentum"] = args.momentum if args.momentum is not None else (
        0.9 if cfg["optimizer"] in ("momentum", "nesterov") else 0.0)
    if args.momentum is not None and cfg["optimizer"] not in ("momentum", "nesterov", "rmsprop"):
        raise UsageError(f"--momentum applies to --optimizer momentum, nesterov or rmsprop, "
                         f"not {cfg['optimizer']}")
    cfg["weight_decay"] = args.weight_decay if args.weight_decay is not None \
        else preset["weight_decay"]
    cfg["lr_schedule"] = args.lr_schedule or preset["lr_schedule"]
    cfg["epochs"] = args.epochs or preset["epochs"]
    cfg["lr_step"] = args.lr_step or max(1, cfg["epochs"] // 3)
    cfg["lr_gamma"] = args.lr_gamma if args.lr_gamma is not None else 0.1
    if (args.lr_step is not None or args.lr_gamma is not None) and cfg["lr_schedule"] != "step":
        raise UsageError("--lr-step and --lr-gamma need --lr-schedule step")
    cfg["batch_size"] = args.batch_size or preset["batch_size"]
    cfg["eval_every"] = args.eval_every or preset["eval_every"]
    cfg["seed"] = args.seed if args.seed is not None else 0
    if model == "logreg" and args.hidden:
        raise UsageError("--hidden does not apply to --model logreg (it has no hidden layer)")
    cfg["hidden"] = list(args.hidden if args.hidden is not None else preset["hidden"])
    if model == "cnn":
        channels = args.channels if args.channels is not None else preset["channels"]
        if len(channels) != 2:
            raise UsageError(f"--channels needs two sizes (the two conv layers), got "
                             f"{','.join(map(str, channels)) or 'none'}")
        cfg["channels"] = list(channels)
    else:
        if args.channels is not None:
            raise UsageError("--channels only applies to --model cnn")
        cfg["channels"] = []
    cfg["dropout"] = args.dropout if args.dropout is not None else preset["dropout"]
    cfg["limit_train"] = args.limit_train
    cfg["limit_test"] = args.limit_test
    if args.val_size is not None:
        cfg["val_size"] = args.val_size
    else:
        cfg["val_size"] = DEFAULT_VAL_SIZE if args.limit_train is None \
            else min(DEFAULT_VAL_SIZE, args.limit_train // 10)
    cfg["data"] = args.data
    cfg["keep_checkpoints"] = 3 if args.keep_checkpoints is None else args.keep_checkpoints
    cfg["progress"] = not args.no_progress
    cfg["graph"] = not args.no_graph
    cfg["compare_numpy"] = args.compare_numpy
    cfg["blas_threads"] = _default_blas_threads(args)
    return cfg


def _default_blas_threads(args):
    if args.blas_threads is not None:
        return args.blas_threads
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        return 0
    return 1


def _openblas_thread_functions():
    """(get, set) for the OpenBLAS loaded by NumPy, found through /proc/self/maps
    (Linux), or None.  NumPy's wheels bundle it as libscipy_openblas64_."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return None
    paths = sorted({line.split()[-1] for line in maps.splitlines()
                    if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in (
                ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                ("openblas_get_num_threads", "openblas_set_num_threads")):
            get, set_ = getattr(lib, get_name, None), getattr(lib, set_name, None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


@contextlib.contextmanager
def blas_threads(n):
    """Run the block with NumPy's OpenBLAS limited to n threads (0/None: unchanged);
    the previous count is restored afterwards."""
    funcs = _openblas_thread_functions() if n else None
    if funcs is None:
        if n and n != 1:
            _warn("--blas-threads: could not find NumPy's OpenBLAS; thread count unchanged")
        yield None
        return
    get, set_ = funcs
    previous = get()
    set_(n)
    try:
        yield n
    finally:
        set_(previous)


def _new_run_dir(stem):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(RUNS_ROOT) / f"{stem}-{stamp}"
    path, k = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{k}")
        k += 1
    return path


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

_DATA_CACHE = {}


def _load_split(data_dir, split, limit):
    """Fashion-MNIST images (N, 28, 28) float32 in [0, 1] and int64 labels, cached per process."""
    from nn.datasets import find_fashion_mnist, load_fashion_mnist
    directory = find_fashion_mnist(data_dir, split=split)   # FileNotFoundError with install hint
    key = (str(Path(directory).resolve()), split, limit)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_fashion_mnist(directory, split=split, limit=limit)
    return _DATA_CACHE[key]


def load_data(cfg):
    """Train / validation / test arrays shaped for the model: (N, 784) or (N, 1, 28, 28)."""
    from nn.datasets import train_validation_split
    x, y = _load_split(cfg["data"], "train", cfg["limit_train"])
    if cfg["val_size"] >= len(x):
        raise UsageError(f"--val-size {cfg['val_size']} leaves no training images out of "
                         f"{len(x)}; use a smaller --val-size or a larger --limit-train")
    (x_tr, y_tr), (x_va, y_va) = train_validation_split(x, y, cfg["val_size"], seed=SPLIT_SEED)
    x_te, y_te = _load_split(cfg["data"], "test", cfg["limit_test"])
    shape = (1, 28, 28) if cfg["model"] == "cnn" else (784,)

    def shaped(a):
        return np.ascontiguousarray(a.reshape((len(a),) + shape))
    return dict(x_train=shaped(x_tr), y_train=y_tr, x_val=shaped(x_va), y_val=y_va,
                x_test=shaped(x_te), y_test=y_te)


# ---------------------------------------------------------------------------
# Model and optimiser
# ---------------------------------------------------------------------------

def build_model(cfg):
    """The network of ``cfg['model']``; its initialisation is seeded with ``cfg['seed']``."""
    import nn
    nn.init.manual_seed(cfg["seed"])
    layers = []
    if cfg["model"] == "cnn":
        c1, c2 = cfg["channels"]
        layers += [nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                   nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
        width = c2 * 7 * 7
    else:
        width = 784
    for h in cfg["hidden"]:
        if cfg["dropout"] and layers:        # after every hidden layer, never on the pixels
            layers.append(nn.Dropout(cfg["dropout"]))
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    if cfg["dropout"] and layers:
        layers.append(nn.Dropout(cfg["dropout"]))
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def build_optimizer(cfg, params):
    import optim
    name, lr, wd = cfg["optimizer"], cfg["lr"], cfg["weight_decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=cfg["momentum"], weight_decay=wd,
                         nesterov=name == "nesterov")
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd, momentum=cfg["momentum"])
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "adadelta":
        return optim.Adadelta(params, lr=lr, weight_decay=wd)
    raise UsageError(f"unknown optimizer {name!r}")


def build_scheduler(cfg, optimizer, iters_per_epoch):
    """(scheduler, when): 'iteration' for cosine (T_max = all iterations), 'epoch' for step."""
    import optim
    if cfg["lr_schedule"] == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=cfg["epochs"] * iters_per_epoch), "iteration"
    if cfg["lr_schedule"] == "step":
        return optim.StepLR(optimizer, step_size=cfg["lr_step"], gamma=cfg["lr_gamma"]), "epoch"
    return None, None


def evaluate(model, x, y, chunk=1000):
    """(mean cross-entropy, misclassification rate, predictions) on all of x, in eval mode."""
    import autograd_core as ag
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    try:
        with ag.no_grad():
            for i in range(0, len(x), chunk):
                logits = np.asarray(model(x[i:i + chunk]).data, dtype=np.float64)
                shifted = logits - logits.max(axis=1, keepdims=True)
                logz = np.log(np.exp(shifted).sum(axis=1))
                yb = y[i:i + chunk]
                total += float((logz - shifted[np.arange(len(yb)), yb]).sum())
                preds.append(logits.argmax(axis=1))
    finally:
        model.train(was_training)
    preds = np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)
    n = max(len(y), 1)
    return total / n, float(np.mean(preds != y)) if len(y) else float("nan"), preds


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

def _generators(model):
    """The random generators the model draws from: nn.init's, then any layer's own."""
    import nn
    gens = [("nn.init", nn.init.get_generator())]
    for name, module in model.named_modules():
        gen = getattr(module, "generator", None)
        if isinstance(gen, np.random.Generator):
            gens.append((name, gen))
    return gens


def _rng_state(model):
    return {name: gen.bit_generator.state for name, gen in _generators(model)}


def _set_rng_state(model, states):
    for name, gen in _generators(model):
        if name not in states:
            raise UsageError(f"checkpoint holds no state for the random generator {name!r}")
        gen.bit_generator.state = states[name]


def _checkpoint_dir(run_dir):
    return Path(run_dir) / "checkpoints"


def _last_checkpoint(run_dir):
    return _checkpoint_dir(run_dir) / "last.ckpt"


def _replace_link(src, dst):
    """Make dst the same file as src, atomically (a hard link, else a copy)."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


# ---------------------------------------------------------------------------
# One training run
# ---------------------------------------------------------------------------

EVAL_FIELDS = ("iteration", "epoch", "train_cost", "train_error", "val_cost", "val_error",
               "lr", "elapsed")


def _new_epoch_sums():
    # steps_time: wall-clock seconds in training steps; steps_cpu: CPU seconds of
    # this process in them (all threads), much less sensitive to other load.
    return dict(cost=0.0, err=0.0, n=0, steps_time=0.0, steps_cpu=0.0, wall_time=0.0, images=0)


def _interrupt_hook():
    """The iteration after which to simulate Ctrl-C (test hook), or None."""
    value = os.environ.get(INTERRUPT_ENV, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"${INTERRUPT_ENV} must be an iteration number, got {value!r}") from None


class Run:
    """A training run in a folder: start fresh or from a checkpoint, train, report."""

    def __init__(self, cfg, run_dir, data, label=None):
        import nn
        self.cfg = cfg
        self.dir = Path(run_dir)
        self.data = data
        self.label = label or cfg["model"]
        self.model = build_model(cfg)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = build_optimizer(cfg, self.model.parameters())
        self.loader = nn.DataLoader(data["x_train"], data["y_train"],
                                    batch_size=cfg["batch_size"], shuffle=True, seed=cfg["seed"])
        self.iters_per_epoch = len(self.loader)
        self.scheduler, self.schedule_when = build_scheduler(cfg, self.optimizer,
                                                             self.iters_per_epoch)
        self.iteration = 0
        self.epoch = 0                  # completed epochs
        self.finished = False
        self.evals, self.epochs = [], []
        # running sums: evaluation window and current epoch
        self.win = dict(cost=0.0, err=0.0, n=0)
        self.ep = _new_epoch_sums()
        self.elapsed_before = 0.0       # training time of earlier sessions (resume)
        self.session_start = None

    # ---- state ----------------------------------------------------------
    def state(self):
        return {
            "format": CHECKPOINT_FORMAT,
            "config": {k: v for k, v in self.cfg.items() if k in _TRAJECTORY_KEYS + ("epochs",)},
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "loader": self.loader.state_dict(),
            "rng": _rng_state(self.model),
            "iteration": self.iteration,
            "epoch": self.epoch,
            "finished": self.finished,
            "window": dict(self.win),
            "epoch_sums": dict(self.ep),
            "elapsed": self.elapsed(),
            "metrics": {"evals": list(self.evals), "epochs": list(self.epochs)},
        }

    def load_state(self, state):
        if state.get("format") != CHECKPOINT_FORMAT:
            raise UsageError(f"not a checkpoint of {PROG} (format {state.get('format')!r})")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.loader.load_state_dict(state["loader"])
        _set_rng_state(self.model, state["rng"])
        self.iteration, self.epoch = state["iteration"], state["epoch"]
        if self.loader.epoch != self.epoch:
            raise UsageError(f"inconsistent checkpoint: epoch {self.epoch} but the data "
                             f"loader is at epoch {self.loader.epoch}")
        self.finished = state["finished"]
        self.win = dict(state["window"])
        self.ep = dict(state["epoch_sums"])
        self.elapsed_before = state["elapsed"]
        self.evals = [dict(r) for r in state["metrics"]["evals"]]
        self.epochs = [dict(r) for r in state["metrics"]["epochs"]]

    def elapsed(self):
        extra = 0.0 if self.session_start is None else time.perf_counter() - self.session_start
        return self.elapsed_before + extra

    def save_checkpoint(self, epoch_end):
        import autograd_core as ag
        ckdir = _checkpoint_dir(self.dir)
        ckdir.mkdir(parents=True, exist_ok=True)
        last = _last_checkpoint(self.dir)
        state = self.state()
        if epoch_end:
            path = ckdir / f"epoch-{self.epoch:03d}.ckpt"
            ag.save(state, path)
            _replace_link(path, last)
            keep = self.cfg["keep_checkpoints"]
            if keep:
                old = sorted(ckdir.glob("epoch-*.ckpt"))[:-keep]
                for p in old:
                    p.unlink()
        else:
            ag.save(state, last)
        return last

    # ---- outputs --------------------------------------------------------
    def write_metrics(self, extra=None):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "metrics.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=EVAL_FIELDS)
            w.writeheader()
            for r in self.evals:
                w.writerow({k: r[k] for k in EVAL_FIELDS})
        doc = {"config": self.cfg, "iterations_per_epoch": self.iters_per_epoch,
               "n_train": int(len(self.data["y_train"])), "n_val": int(len(self.data["y_val"])),
               "n_test": int(len(self.data["y_test"])),
               "evals": self.evals, "epochs": self.epochs}
        if extra:
            doc.update(extra)
        _write_json(self.dir / "metrics.json", doc)

    def draw_graph(self):
        """graph.svg: the computation graph of the loss on two training images."""
        import importlib.util
        if importlib.util.find_spec("autograd_core.viz") is None:
            _warn("graph.svg not written: autograd_core.viz is not available yet")
            return None
        from autograd_core import viz
        saved = _rng_state(self.model)         # dropout must not consume the run's randomness
        try:
            xb, yb = self.data["x_train"][:2], self.data["y_train"][:2]
            loss = self.loss_fn(self.model(xb), yb)
            dot = viz.draw_graph(loss)
            path = self.dir / "graph.svg"
            path.write_bytes(dot.pipe(format="svg"))
            return path
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not stop training
            _warn(f"graph.svg not written: {type(exc).__name__}: {exc}")
            return None
        finally:
            _set_rng_state(self.model, saved)

    # ---- training ---------------------------------------------------------
    def record_eval(self):
        val_cost, val_err = (evaluate(self.model, self.data["x_val"], self.data["y_val"])[:2]
                             if len(self.data["y_val"]) else (float("nan"), float("nan")))
        n = max(self.win["n"], 1)
        row = {"iteration": self.iteration,
               "epoch": round(self.iteration / self.iters_per_epoch, 4),
               "train_cost": self.win["cost"] / n, "train_error": self.win["err"] / n,
               "val_cost": val_cost, "val_error": val_err,
               "lr": float(self.optimizer.param_groups[0]["lr"]),
               "elapsed": round(self.elapsed(), 3)}
        self.evals.append(row)
        self.win = dict(cost=0.0, err=0.0, n=0)
        return row

    def train(self, stop):
        """Train to cfg['epochs']; returns normally when done, raises Interrupted on Ctrl-C."""
        cfg = self.cfg
        total_epochs = cfg["epochs"]
        hook = _interrupt_hook()
        self.session_start = time.perf_counter()
        while self.epoch < total_epochs:
            progress = Progress(self.iters_per_epoch,
                                f"{self.label} epoch {self.epoch + 1}/{total_epochs}",
                                enabled=cfg["progress"])
            seg_start = time.perf_counter()
            seg_steps, seg_cpu, seg_images, seg_iters = 0.0, 0.0, 0, 0
            for xb, yb in self.loader:
                t0, c0 = time.perf_counter(), time.process_time()
                logits = self.model(xb)
                loss = self.loss_fn(logits, yb)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                if self.schedule_when == "iteration":
                    self.scheduler.step()
                seg_steps += time.perf_counter() - t0
                seg_cpu += time.process_time() - c0
                seg_images += len(yb)
                seg_iters += 1
                cost = float(loss.item())
                err = float(np.mean(logits.data.argmax(axis=1) != yb))
                self.iteration += 1
                for acc in (self.win, self.ep):
                    acc["cost"] += cost
                    acc["err"] += err
                    acc["n"] += 1
                if self.iteration % cfg["eval_every"] == 0:
                    self.record_eval()
                if progress.enabled:
                    done = self.loader.state_dict()["batch"] or self.iters_per_epoch
                    wall = time.perf_counter() - seg_start
                    eta = wall / seg_iters * (self.iters_per_epoch - done)
                    progress.update(done, self.ep["cost"] / self.ep["n"],
                                    seg_images / seg_steps if seg_steps else 0.0, eta,
                                    force=done == self.iters_per_epoch)
                if hook is not None and self.iteration == hook:
                    stop.request()
                # After the last batch of an epoch, the epoch's own bookkeeping and
                # checkpoint come first (below); the stop is honoured after them.
                if stop.requested and self.loader.state_dict()["batch"] != 0:
                    progress.close()
                    self.ep["steps_time"] += seg_steps
                    self.ep["steps_cpu"] += seg_cpu
                    self.ep["wall_time"] += time.perf_counter() - seg_start
                    self.ep["images"] += seg_images
                    path = self.save_checkpoint(epoch_end=False)
                    self.write_metrics()
                    raise Interrupted(self.dir, path, self.iteration)
            progress.close()
            # ---- end of epoch
            self.ep["steps_time"] += seg_steps
            self.ep["steps_cpu"] += seg_cpu
            self.ep["wall_time"] += time.perf_counter() - seg_start
            self.ep["images"] += seg_images
            self.epoch += 1
            if self.epoch == total_epochs and (not self.evals
                                               or self.evals[-1]["iteration"] != self.iteration):
                self.record_eval()     # the curves end at the final parameters
            n = max(self.ep["n"], 1)
            last = self.evals[-1] if self.evals else {}
            row = {"epoch": self.epoch, "iteration": self.iteration,
                   "train_cost": self.ep["cost"] / n, "train_error": self.ep["err"] / n,
                   "val_cost": last.get("val_cost"), "val_error": last.get("val_error"),
                   "lr": float(self.optimizer.param_groups[0]["lr"]),
                   "steps_time": round(self.ep["steps_time"], 3),
                   "steps_cpu": round(self.ep["steps_cpu"], 3),
                   "wall_time": round(self.ep["wall_time"], 3),
                   "images_per_s": round(self.ep["images"] / self.ep["steps_time"], 1)
                   if self.ep["steps_time"] else None}
            self.epochs.append(row)
            self.ep = _new_epoch_sums()
            if self.schedule_when == "epoch":
                self.scheduler.step()
            self.finished = self.epoch >= total_epochs
            self.save_checkpoint(epoch_end=True)
            self.write_metrics()
            val = (f"val cost {row['val_cost']:.4f}  val error {100 * row['val_error']:.2f}%  "
                   if row["val_cost"] is not None and not math.isnan(row["val_cost"]) else "")
            _say(f"{self.label} epoch {self.epoch}/{total_epochs}: "
                 f"train cost {row['train_cost']:.4f}  train error {100 * row['train_error']:.2f}%  "
                 f"{val}time {row['wall_time']:.1f}s "
                 f"(steps {row['steps_time']:.1f}s, {row['images_per_s'] or 0:,.0f} img/s)")
            if stop.requested:     # Ctrl-C during the evaluation or the checkpoint
                raise Interrupted(self.dir, _last_checkpoint(self.dir), self.iteration)
        self.finished = True
        self.elapsed_before, self.session_start = self.elapsed(), None

    # ---- final report ---------------------------------------------------------
    def report(self):
        """Test accuracy, confusion matrix, plots, benchmark table; returns the results."""
        cfg = self.cfg
        test_cost, test_err, preds = evaluate(self.model, self.data["x_test"], self.data["y_test"])
        acc = 1.0 - test_err
        cm = confusion_matrix(self.data["y_test"], preds, 10)
        steps = [e["steps_time"] for e in self.epochs if e.get("steps_time")]
        walls = [e["wall_time"] for e in self.epochs if e.get("wall_time")]
        results = {"test": {"accuracy": acc, "cost": test_cost, "n": int(len(preds)),
                            "confusion_matrix": cm.tolist()},
                   "time": {"epoch_steps_mean": float(np.mean(steps)) if steps else None,
                            "epoch_wall_mean": float(np.mean(walls)) if walls else None,
                            "training_total": round(self.elapsed(), 3)},
                   "published": [{"name": n, "accuracy": a}
                                 for n, a in PUBLISHED_BENCHMARKS[MODEL_FAMILY[cfg["model"]]]]}
        if cfg["compare_numpy"]:
            results["numpy_comparison"] = compare_numpy(self)
        self.write_metrics(results)
        plot_learning_curves(self.evals, self.dir / "learning_curves.png",
                             f"{MODEL_DESCRIPTION[cfg['model']]} -- {cfg['optimizer']}, "
                             f"lr {cfg['lr']:g}, batch {cfg['batch_size']}",
                             self.iters_per_epoch)
        plot_confusion_matrix(cm, self.dir / "confusion_matrix.png",
                              f"{cfg['model']}: test accuracy {acc:.4f} on {len(preds):,} images")
        return results


def confusion_matrix(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def _write_json(path, doc):
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    tmp.write_text(json.dumps(clean(doc), indent=1) + "\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Plots (matplotlib's object API: no global backend switch)
# ---------------------------------------------------------------------------

def _figure(**kw):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        _warn("matplotlib is not installed: no PNG plots (pip install matplotlib)")
        return None
    return Figure(**kw)


def plot_learning_curves(evals, path, title, iters_per_epoch=None):
    """Two panels, cost and misclassification rate against iterations: the
    mini-batch figures (mean over the iterations since the previous
    evaluation) in one colour, the whole validation set in another."""
    fig = _figure(figsize=(10, 4), layout="constrained")
    if fig is None or not evals:
        return None
    it = [r["iteration"] for r in evals]
    axes = fig.subplots(1, 2)
    for ax, key, name in ((axes[0], "cost", "cost (cross-entropy)"),
                          (axes[1], "error", "misclassification rate")):
        ax.plot(it, [r[f"train_{key}"] for r in evals], color="tab:blue", label="mini-batch")
        val = [r[f"val_{key}"] for r in evals]
        if any(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in val):
            ax.plot(it, val, color="tab:red", label="validation")
        ax.set_xlabel("iteration" + (f"  ({iters_per_epoch} per epoch)" if iters_per_epoch else ""))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[1].set_ylim(bottom=0)
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return path


def plot_confusion_matrix(cm, path, title):
    from nn.datasets import FASHION_MNIST_CLASSES
    fig = _figure(figsize=(7.5, 6.5), layout="constrained")
    if fig is None:
        return None
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.8)
    n = cm.shape[0]
    ax.set_xticks(range(n), FASHION_MNIST_CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(n), FASHION_MNIST_CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > top / 2 else "black")
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    return path


# ---------------------------------------------------------------------------
# The hand-written NumPy baseline, for --compare-numpy
# ---------------------------------------------------------------------------

def _import_baselines():
    try:
        from benchmarks import numpy_baselines
        return numpy_baselines
    except ImportError:
        pass
    root = Path(__file__).resolve().parent.parent     # the repository, for an editable install
    if (root / "benchmarks" / "numpy_baselines.py").is_file():
        sys.path.insert(0, str(root))
        try:
            from benchmarks import numpy_baselines
            return numpy_baselines
        finally:
            sys.path.remove(str(root))
    return None


def compare_numpy(run):
    """Time one epoch of plain SGD in the hand-written NumPy model of the same
    architecture (same data, batch size and example order), compare with this run."""
    cfg = run.cfg
    nb = _import_baselines()
    if nb is None:
        _warn("--compare-numpy: benchmarks/numpy_baselines.py not found (run from the repository)")
        return None
    notes = []
    if cfg["model"] == "cnn":
        if cfg["hidden"]:
            notes.append("the baseline has no hidden linear layer after the convolutions")
        base = nb.NumpyCNN(channels=(1, *cfg["channels"]), rng=np.random.default_rng(cfg["seed"]))
    else:
        base = nb.NumpyMLP(sizes=(784, *cfg["hidden"], 10), rng=np.random.default_rng(cfg["seed"]))
    if cfg["dropout"]:
        notes.append("the baseline has no dropout")
    if cfg["optimizer"] != "sgd":
        notes.append(f"the baseline uses plain SGD, this run {cfg['optimizer']}")
    x, y = run.data["x_train"], run.data["y_train"]
    order = run.loader.order(0)
    bs = cfg["batch_size"]
    lr = cfg["lr"] if cfg["optimizer"] == "sgd" else 0.01
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        base.sgd_step(x[idx], y[idx], lr)
    numpy_wall, numpy_cpu = time.perf_counter() - t0, time.process_time() - c0
    walls = [e["steps_time"] for e in run.epochs if e.get("steps_time")]
    cpus = [e["steps_cpu"] for e in run.epochs if e.get("steps_cpu")]
    if not walls:
        return None
    engine_wall, engine_cpu = float(np.mean(walls)), float(np.mean(cpus)) if cpus else None
    return {"baseline": type(base).__name__, "notes": notes,
            "numpy_epoch_wall": round(numpy_wall, 3), "numpy_epoch_cpu": round(numpy_cpu, 3),
            "engine_epoch_wall": round(engine_wall, 3),
            "engine_epoch_wall_min": round(float(min(walls)), 3),
            "engine_epoch_cpu": None if engine_cpu is None else round(engine_cpu, 3),
            "engine_epochs": len(walls),
            "ratio_wall": round(engine_wall / numpy_wall, 3) if numpy_wall else None,
            "ratio_cpu": round(engine_cpu / numpy_cpu, 3) if engine_cpu and numpy_cpu else None}


# ---------------------------------------------------------------------------
# Printing the results
# ---------------------------------------------------------------------------

def benchmark_table(model, accuracy):
    """Lines of the table comparing `accuracy` with the published figures of the family."""
    rows = PUBLISHED_BENCHMARKS[MODEL_FAMILY[model]]
    width = max(len(n) for n, _ in rows) + 2
    width = max(width, len("this run: " + model) + 2)
    lines = [f"{'':2}{'model':<{width}}{'test acc.':>10}{'this run - it':>16}",
             f"{'':2}{'-' * (width + 26)}"]
    for name, acc in rows:
        lines.append(f"{'':2}{name:<{width}}{acc:>10.4f}{accuracy - acc:>+16.4f}")
    lines.append(f"{'':2}{'this run (' + model + ')':<{width}}{accuracy:>10.4f}")
    return lines


def _print_single_result(run, results):
    cfg = run.cfg
    t = results["test"]
    tm = results["time"]
    _say("")
    _say(f"Test accuracy of {cfg['model']} ({MODEL_DESCRIPTION[cfg['model']]}): "
         f"{t['accuracy']:.4f}  (cost {t['cost']:.4f}, {t['n']:,} test images"
         + (", a slice" if t["n"] < 10000 else "") + ")")
    if tm["epoch_wall_mean"]:
        _say(f"Time per epoch: {tm['epoch_wall_mean']:.1f} s with evaluations, "
             f"{tm['epoch_steps_mean']:.1f} s of training steps "
             f"({len(run.data['y_train']):,} images, batch {cfg['batch_size']})")
    cmp_ = results.get("numpy_comparison")
    if cmp_:
        _say(f"Hand-written NumPy baseline ({cmp_['baseline']}, plain SGD), one epoch: "
             f"{cmp_['numpy_epoch_wall']:.1f} s wall, {cmp_['numpy_epoch_cpu']:.1f} s CPU; "
             f"engine (training steps, mean of {cmp_['engine_epochs']} epoch(s)): "
             f"{cmp_['engine_epoch_wall']:.1f} s wall, {cmp_['engine_epoch_cpu']:.1f} s CPU "
             f"-> engine / baseline = {cmp_['ratio_wall']:.2f}x wall, "
             f"{cmp_['ratio_cpu']:.2f}x CPU"
             + (f"  [{'; '.join(cmp_['notes'])}]" if cmp_["notes"] else ""))
    _say("Published Fashion-MNIST figures for the same model family "
         "(sources: PUBLISHED_BENCHMARKS in autograd_core/train.py):")
    for line in benchmark_table(cfg["model"], t["accuracy"]):
        _say(line)
    names = [n for n in ("metrics.csv", "metrics.json", "learning_curves.png",
                         "confusion_matrix.png", "graph.svg") if (run.dir / n).is_file()]
    _say(f"Outputs in {run.dir}/: {', '.join(names)}, checkpoints/")


# ---------------------------------------------------------------------------
# Driving runs
# ---------------------------------------------------------------------------

def _describe(cfg, n_train, n_val, iters):
    arch = {"logreg": "784 -> 10",
            "mlp": " -> ".join(map(str, [784, *cfg["hidden"], 10])),
            "mlp-deep": " -> ".join(map(str, [784, *cfg["hidden"], 10]))}.get(cfg["model"])
    if cfg["model"] == "cnn":
        c1, c2 = cfg["channels"]
        arch = (f"conv3x3 1->{c1}, pool, conv3x3 {c1}->{c2}, pool, "
                + " -> ".join(map(str, [c2 * 49, *cfg["hidden"], 10])))
    sched = cfg["lr_schedule"]
    if sched == "step":
        sched = f"step (x{cfg['lr_gamma']:g} every {cfg['lr_step']} epochs)"
    opt = cfg["optimizer"] + (f" (momentum {cfg['momentum']:g})"
                              if cfg["optimizer"] in ("momentum", "nesterov") else "")
    return (f"{cfg['model']}: {arch}" + (f", dropout {cfg['dropout']:g}" if cfg["dropout"] else "")
            + f" | {opt}, lr {cfg['lr']:g}, schedule {sched}"
            + (f", weight decay {cfg['weight_decay']:g}" if cfg["weight_decay"] else "")
            + f" | batch {cfg['batch_size']}, {cfg['epochs']} epoch{'s' if cfg['epochs'] > 1 else ''}"
            f" x {iters} iterations"
            + f" | {n_train:,} training / {n_val:,} validation images, eval every "
              f"{cfg['eval_every']} iterations | seed {cfg['seed']}"
            + (f" | BLAS threads {cfg['blas_threads']}" if cfg.get("blas_threads") else ""))


def train_one(cfg, run_dir, resume=False, label=None):
    """Train (or resume) one run in run_dir and report it; returns (run, results).

    Raises Interrupted after Ctrl-C (a checkpoint has been written)."""
    run_dir = Path(run_dir)
    data = load_data(cfg)
    run = Run(cfg, run_dir, data, label=label)
    if resume:
        import autograd_core as ag
        state = ag.load(_last_checkpoint(run_dir))
        run.load_state(state)
        _say(f"Resuming {run_dir} at epoch {run.epoch}, iteration {run.iteration} "
             f"(of {cfg['epochs']} epochs x {run.iters_per_epoch})")
        if cfg["epochs"] > run.epoch:
            run.finished = False
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(run_dir / "config.json", cfg)
        _say(_describe(cfg, len(data["y_train"]), len(data["y_val"]), run.iters_per_epoch))
        _say(f"Run folder: {run_dir}")
        if cfg["graph"]:
            run.draw_graph()
    with blas_threads(cfg.get("blas_threads", 1)):
        if not run.finished:
            with _StopRequest() as stop:
                run.train(stop)
        results = run.report()
    _print_single_result(run, results)
    return run, results


def _stored_config(run_dir):
    import autograd_core as ag
    path = _last_checkpoint(run_dir)
    if not path.is_file():
        raise UsageError(f"--resume: no checkpoint in {run_dir} (expected {path})")
    config_path = Path(run_dir) / "config.json"
    cfg = json.loads(config_path.read_text()) if config_path.is_file() else None
    state = ag.load(path)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(f"{path}: not a checkpoint of {PROG}")
    if cfg is None:
        cfg = dict(state["config"])
    for k, v in state["config"].items():   # the checkpoint is authoritative
        cfg[k] = v
    for k in ("hidden", "channels"):
        cfg[k] = list(cfg.get(k) or [])
    return cfg


def _merge_resume_args(cfg, args, explicit):
    """Options allowed on --resume: --epochs (extend), output and data location."""
    fixed = [k for k in explicit if k in _TRAJECTORY_KEYS]
    if fixed:
        raise UsageError("cannot change " + ", ".join("--" + k.replace("_", "-") for k in fixed)
                         + " when resuming: they define the run being continued")
    if args.epochs is not None and args.epochs != cfg["epochs"]:
        if cfg["lr_schedule"] == "cosine":
            raise UsageError(f"cannot change --epochs of a run with the cosine schedule (it "
                             f"decays to 0 over its {cfg['epochs']} epochs)")
        cfg["epochs"] = args.epochs
    if args.data is not None:
        cfg["data"] = args.data
    if args.limit_test is not None:
        cfg["limit_test"] = args.limit_test
    if args.keep_checkpoints is not None:
        cfg["keep_checkpoints"] = args.keep_checkpoints
    cfg["progress"] = not args.no_progress
    cfg["compare_numpy"] = args.compare_numpy or cfg.get("compare_numpy", False)
    if args.blas_threads is not None:
        cfg["blas_threads"] = args.blas_threads
    cfg.setdefault("blas_threads", 1)
    cfg.setdefault("keep_checkpoints", 3)
    cfg.setdefault("graph", True)
    return cfg


def _latest_run():
    root = Path(RUNS_ROOT)
    candidates = []
    if root.is_dir():
        for d in root.iterdir():
            marker = d / "textbook.json"
            if marker.is_file():
                candidates.append((marker.stat().st_mtime, d))
                for sub in d.iterdir():
                    ck = _last_checkpoint(sub)
                    if ck.is_file():
                        candidates.append((ck.stat().st_mtime, d))
            elif _last_checkpoint(d).is_file():
                candidates.append((_last_checkpoint(d).stat().st_mtime, d))
    if not candidates:
        raise UsageError(f"--resume: no run with a checkpoint under {root}/ "
                         "(give the run folder: --resume DIR)")
    return max(candidates)[1]


def _resume_hint(run_dir):
    return f"python -m autograd_core.train --resume {run_dir}"


# ---------------------------------------------------------------------------
# The textbook recipe
# ---------------------------------------------------------------------------

def run_textbook(args, explicit, resume_dir=None):
    if resume_dir is not None:
        meta = json.loads((Path(resume_dir) / "textbook.json").read_text())
        out = Path(resume_dir)
        base_cfgs = meta["configs"]
        if args.epochs is not None:
            raise UsageError("--epochs cannot be changed when resuming a textbook run")
    else:
        forbidden = [k for k in ("model", "optimizer", "lr", "lr_schedule", "batch_size",
                                 "eval_every", "hidden", "channels", "dropout", "momentum",
                                 "weight_decay", "lr_step", "lr_gamma") if k in explicit]
        if forbidden:
            raise UsageError("--textbook fixes the recipe (SGD, lr 0.5, batch 100, eval every "
                             "100 iterations); not allowed with it: "
                             + ", ".join("--" + k.replace("_", "-") for k in forbidden))
        epochs = args.epochs or TEXTBOOK["epochs"]
        out = Path(args.out) if args.out else _new_run_dir("textbook")
        base_cfgs = {}
        for model in TEXTBOOK["models"]:
            ns = argparse.Namespace(**vars(args))
            ns.epochs = epochs
            cfg = _resolve(ns, model)
            base_cfgs[model] = cfg
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / "textbook.json", {"epochs": epochs, "configs": base_cfgs})

    epochs = next(iter(base_cfgs.values()))["epochs"]
    if epochs == TEXTBOOK["epochs"]:
        scope = f"the full recipe, {epochs} epochs"
    else:
        scope = (f"SHORTENED: {epochs} of the recipe's {TEXTBOOK['epochs']} epochs "
                 "(--epochs); without --epochs the full recipe runs")
    _say("=" * 78)
    _say("The textbook recipe on Fashion-MNIST: logistic regression vs. a two-layer network "
         "with 200 ReLU units,")
    _say(f"mini-batch SGD, learning rate 0.5, batch 100, validation every 100 iterations ({scope}).")
    _say("The textbook trains on all 60,000 images (600 iterations per epoch, 9,000 in all); "
         "here the validation")
    _say("images (--val-size, default 5,000) are held out of the training set, and the test "
         "set is used only at the end.")
    _say(f"Run folder: {out}")
    _say("=" * 78)
    summary = {}
    for model in TEXTBOOK["models"]:
        cfg = dict(base_cfgs[model])
        cfg["progress"] = not args.no_progress
        cfg["compare_numpy"] = args.compare_numpy or cfg.get("compare_numpy", False)
        if args.data is not None:
            cfg["data"] = args.data
        if args.blas_threads is not None:
            cfg["blas_threads"] = args.blas_threads
        sub = out / model
        resume = resume_dir is not None and _last_checkpoint(sub).is_file()
        _say("")
        _, results = train_one(cfg, sub, resume=resume, label=model)
        summary[model] = results
    _say("")
    _say("=" * 78)
    _say(f"Textbook comparison ({scope}):")
    header = (f"  {'model':<34}{'val error':>10}{'test acc.':>11}{'published':>11}"
              f"{'s/epoch':>9}")
    _say(header)
    _say("  " + "-" * (len(header) - 2))
    for model, res in summary.items():
        evals = json.loads((out / model / "metrics.json").read_text())["evals"]
        val_err = evals[-1]["val_error"] if evals else None
        published = PUBLISHED_BENCHMARKS[MODEL_FAMILY[model]][0][1]
        per_epoch = res["time"]["epoch_wall_mean"]
        _say(f"  {MODEL_SHORT[model]:<34}"
             + (f"{100 * val_err:>9.2f}%" if val_err is not None else f"{'-':>10}")
             + f"{res['test']['accuracy']:>11.4f}{published:>11.4f}"
             + (f"{per_epoch:>9.1f}" if per_epoch else f"{'-':>9}"))
    _say("  (published: logistic regression 0.842 from the scikit-learn benchmark; MLP 0.8833 "
         "for 256-128-100 from the")
    _say("   Fashion-MNIST README table. The textbook's step 0.5 is too large for logistic "
         "regression on Fashion-MNIST:")
    _say("   see docs/results.md for a decaying step that reaches the published figure.)")
    _write_json(out / "summary.json", {m: {"test_accuracy": r["test"]["accuracy"],
                                           "time": r["time"]} for m, r in summary.items()})
    return 0


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def main(argv=None):
    """Run the command line; returns the exit status (0, 2 on errors, 130 after Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    explicit = {k for k, v in vars(args).items()
                if v is not None and k not in ("textbook", "no_progress", "no_graph",
                                               "compare_numpy", "resume")}
    try:
        if args.resume is not None:
            run_dir = Path(args.resume) if args.resume else _latest_run()
            if not run_dir.is_dir():
                raise UsageError(f"--resume: {run_dir} is not a directory")
            if (run_dir / "textbook.json").is_file():
                return run_textbook(args, explicit, resume_dir=run_dir)
            if args.out:
                raise UsageError("--out cannot be combined with --resume (the run keeps its folder)")
            cfg = _merge_resume_args(_stored_config(run_dir), args, explicit)
            train_one(cfg, run_dir, resume=True)
            return 0
        if args.textbook or args.model is None:
            return run_textbook(args, explicit)
        cfg = _resolve(args, args.model)
        run_dir = Path(args.out) if args.out else _new_run_dir(args.model)
        if _last_checkpoint(run_dir).is_file():
            raise UsageError(f"{run_dir} already holds a run; continue it with "
                             f"--resume {run_dir}, or choose another --out")
        train_one(cfg, run_dir)
        return 0
    except Interrupted as exc:
        print(f"\nInterrupted after iteration {exc.iteration}; checkpoint saved to "
              f"{exc.checkpoint}.\nResume with:  {_resume_hint(_top_run_dir(exc.run_dir))}",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"\n{PROG}: aborted; the last checkpoint written (if any) is unchanged.",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except (UsageError, FileNotFoundError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - data and checkpoint errors get a clean message
        from autograd_core.serialization import CheckpointError
        from nn.datasets import IDXError
        if isinstance(exc, (IDXError, CheckpointError)):
            print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
            return EXIT_ERROR
        raise


def _top_run_dir(run_dir):
    """The folder to pass to --resume: a textbook run's parent, else the run itself."""
    run_dir = Path(run_dir)
    if (run_dir.parent / "textbook.json").is_file():
        return run_dir.parent
    return run_dir


if __name__ == "__main__":
    sys.exit(main())
