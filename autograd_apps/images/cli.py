"""``autograd-train``: train and evaluate image classifiers on Fashion-MNIST or MNIST.

    autograd-train                          # the textbook recipe, both models
    autograd-train --textbook --epochs 3    # ... a shorter version
    autograd-train --model mlp-deep         # the best-MLP preset
    autograd-train --model mlp --hidden 64 --epochs 2
    autograd-train --dataset mnist --data ~/mnist   # the lecture notes' own data
    autograd-train --resume                 # continue the latest run in runs/
    python -m autograd_apps.images ...      # the same

A run folder (``--out``, default ``runs/<model>-<timestamp>``) receives
``config.json``, ``metrics.csv``/``metrics.json`` (one row per evaluation),
``learning_curves.png``, ``confusion_matrix.png``, ``graph.svg`` (the
computation graph of a two-image batch) and ``checkpoints/``.  The textbook
recipe writes ``runs/textbook-<timestamp>/`` with one such folder per model.

Reproducibility: the model's initialisation and the dropout masks come from
``nn.init``'s generator, seeded with ``--seed``; the order of the examples from
the DataLoader's seed.  ``--resume`` -- after an epoch or after Ctrl-C in the
middle of one -- continues bit for bit as if the run had never stopped.
Ctrl-C is caught between iterations: a checkpoint is written and the program
exits with status 130 and says how to resume; a second Ctrl-C aborts at once.
"""
from __future__ import annotations

import sys
from pathlib import Path

import autograd_core as ag
import nn

from autograd_apps.common.checkpoints import CheckpointDir
from autograd_apps.common.cli import (EXIT_OK, check_new_run_dir, latest_run, load_run,
                                      make_run_dir, new_run_dir, run_job, run_trainer)
from autograd_apps.common.console import say
from autograd_apps.common.errors import UsageError
from autograd_apps.common.evaluation import classification_metrics
from autograd_apps.common.recipe import (RUNS_ROOT, build_optimizer, build_scheduler,
                                         merge_resume)
from autograd_apps.common.report import draw_loss_graph, read_json, write_json, write_run_metrics
from autograd_apps.common.trainer import Trainer
from autograd_apps.images.config import TEXTBOOK, ImagesConfig, resolve, textbook_configs
from autograd_apps.images.data import DATASET_NAMES, load_data
from autograd_apps.images.models import build_model, describe_model
from autograd_apps.images.report import final_report, print_result, print_textbook_summary

__all__ = ["main", "build_parser", "train_one", "PROG", "CHECKPOINT_FORMAT"]

PROG = "autograd-train"
CHECKPOINT_FORMAT = "autograd_apps.images/1"
TEXTBOOK_MARKER = "textbook.json"
METRICS = ("cost", "error")


def build_parser():
    """The argparse parser of ``autograd-train`` (built from ``ImagesConfig``)."""
    return ImagesConfig.build_parser(
        PROG,
        description="Train and evaluate networks on Fashion-MNIST (or MNIST) with "
                    "autograd_core, and compare the test accuracy with the published "
                    "benchmark figures and the lecture notes' MNIST example. Without --model "
                    "(or with --textbook) it runs the textbook recipe for logistic regression "
                    "and the 200-ReLU MLP.",
        epilog="Unset options take the model's preset. Fashion-MNIST is looked for in --data, "
               "$FASHION_MNIST_DIR, then /usr/share/datasets/fashion-mnist (sudo apt-get "
               "install dataset-fashion-mnist); MNIST in --data or $MNIST_DIR.")


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------

def _describe(cfg, n_train, n_val, iters):
    sched = cfg.lr_schedule
    if sched == "step":
        sched = f"step (x{cfg.lr_gamma:g} every {cfg.lr_step} epochs)"
    opt = cfg.optimizer + (f" (momentum {cfg.momentum:g})"
                           if cfg.optimizer in ("momentum", "nesterov") else "")
    return (f"{cfg.model}: {describe_model(cfg, long=True)} on {DATASET_NAMES[cfg.dataset]}"
            + f" | {opt}, lr {cfg.lr:g}, schedule {sched}"
            + (f", weight decay {cfg.weight_decay:g}" if cfg.weight_decay else "")
            + f" | batch {cfg.batch_size}, {cfg.epochs} epoch{'s' if cfg.epochs > 1 else ''}"
            f" x {iters} iterations"
            + f" | {n_train:,} training / {n_val:,} validation images, eval every "
              f"{cfg.eval_every} iterations | seed {cfg.seed}"
            + (f" | BLAS threads {cfg.blas_threads}" if cfg.blas_threads else ""))


def _loss_step(loss_fn):
    def step(model, batch):
        xb, yb = batch
        logits = model(xb)
        # the error as a tensor: a compiled step (--compile) computes it on every call
        wrong = logits.argmax(dim=1) != ag.as_tensor(yb)
        return loss_fn(logits, yb), {"error": wrong.double().mean()}
    return step


def _write_metrics(trainer, cfg, run_dir, data, extra=None):
    write_run_metrics(trainer, cfg, run_dir,
                      {"n_train": int(len(data["y_train"])), "n_val": int(len(data["y_val"])),
                       "n_test": int(len(data["y_test"]))}, extra)


def _print_epoch(trainer, row):
    val = (f"val cost {row['val_cost']:.4f}  val error {100 * row['val_error']:.2f}%  "
           if row["val_cost"] is not None and row["val_cost"] == row["val_cost"] else "")
    say(f"{trainer.label} epoch {trainer.epoch}/{trainer.epochs}: "
        f"train cost {row['train_cost']:.4f}  train error {100 * row['train_error']:.2f}%  "
        f"{val}time {row['wall_time']:.1f}s "
        f"(steps {row['steps_time']:.1f}s, {row['images_per_s'] or 0:,.0f} img/s)")


def train_one(cfg, run_dir, state=None, label=None):
    """Train one run in `run_dir` (from `state`, a checkpoint, if given), test it
    and print the report; returns (trainer, results).

    Raises ``Interrupted`` after Ctrl-C (a checkpoint has been written).
    """
    run_dir = Path(run_dir)
    data = load_data(cfg)
    model = build_model(cfg)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = build_optimizer(cfg, model.parameters())
    loader = nn.DataLoader(data["x_train"], data["y_train"], batch_size=cfg.batch_size,
                           shuffle=True, seed=cfg.seed)
    scheduler, interval = build_scheduler(cfg, optimizer, len(loader))

    def evaluate():
        if not len(data["y_val"]):
            return {}
        cost, error, _ = classification_metrics(model, data["x_val"], data["y_val"])
        return {"cost": cost, "error": error}

    trainer = Trainer(model, optimizer, loader, _loss_step(loss_fn), epochs=cfg.epochs,
                      eval_every=cfg.eval_every, evaluate=evaluate, metrics=METRICS,
                      scheduler=scheduler, scheduler_interval=interval,
                      checkpoints=CheckpointDir(run_dir, keep=cfg.keep_checkpoints),
                      state_extra={"format": CHECKPOINT_FORMAT, "config": cfg.to_dict()},
                      label=label or cfg.model, unit="images", progress=cfg.progress,
                      compile=cfg.compile)

    def draw_graph():
        if cfg.graph:
            draw_loss_graph(model, loss_fn, data["x_train"][:2], data["y_train"][:2],
                            run_dir / "graph.svg")

    trainer.register_hook("epoch_end", lambda t, row: (_write_metrics(t, cfg, run_dir, data),
                                                       _print_epoch(t, row)))
    results = run_trainer(
        trainer, cfg, run_dir, state, on_start=draw_graph,
        describe=lambda: _describe(cfg, len(data["y_train"]), len(data["y_val"]),
                                   trainer.iters_per_epoch),
        on_interrupt=lambda: _write_metrics(trainer, cfg, run_dir, data),
        finish=lambda: final_report(trainer, data, cfg, run_dir))
    _write_metrics(trainer, cfg, run_dir, data, results)
    print_result(trainer, cfg, results, run_dir)
    return trainer, results


# ---------------------------------------------------------------------------
# Resuming
# ---------------------------------------------------------------------------

def _load_run(run_dir, command, given):
    """(configuration, checkpoint state) of the run in `run_dir`, checked (``load_run``)."""
    return load_run(run_dir, ImagesConfig, CHECKPOINT_FORMAT, command, given)


# ---------------------------------------------------------------------------
# The textbook recipe
# ---------------------------------------------------------------------------

def _textbook_header(cfgs, out):
    first = next(iter(cfgs.values()))
    epochs, dataset = first.epochs, DATASET_NAMES[first.dataset]
    if epochs == TEXTBOOK["epochs"]:
        scope = f"the full recipe, {epochs} epochs"
    else:
        scope = (f"SHORTENED: {epochs} of the recipe's {TEXTBOOK['epochs']} epochs "
                 "(--epochs); without --epochs the full recipe runs")
    names = " vs. ".join(describe_model(c) for c in cfgs.values())
    say("=" * 78)
    say(f"The textbook recipe on {dataset}: {names},")
    say(f"mini-batch SGD, learning rate 0.5, batch 100, validation every 100 iterations ({scope}).")
    say("The lecture notes train on all 60,000 MNIST images (600 iterations per epoch, 9,000 "
        "in all); here the")
    say("validation images (--val-size, default 5,000) are held out of the training set, and "
        "the test set is used only at the end.")
    say(f"Run folder: {out}")
    say("=" * 78)
    return scope


def run_textbook(command, given, resume_dir=None):
    """Logistic regression and the 200-ReLU MLP with the textbook recipe, then a
    comparison table; `resume_dir` continues an earlier textbook run."""
    if resume_dir is not None:
        out = Path(resume_dir)
        if "epochs" in given:
            raise UsageError("--epochs cannot be changed when resuming a textbook run")
        meta_path = out / TEXTBOOK_MARKER
        meta = read_json(meta_path)
        if not isinstance(meta, dict) or not isinstance(meta.get("configs"), dict) \
                or set(meta["configs"]) != set(TEXTBOOK["models"]):
            raise UsageError(f"{meta_path}: not a textbook run (expected the configurations "
                             f"of {', '.join(TEXTBOOK['models'])})")
        cfgs = {m: ImagesConfig.from_dict(meta["configs"][m], source=f"{meta_path} ({m})")
                for m in TEXTBOOK["models"]}
    else:
        cfgs = textbook_configs(command, given)
        out = (check_new_run_dir(command.out, TEXTBOOK_MARKER) if command.out
               else new_run_dir("textbook"))
        for cfg in cfgs.values():   # a missing dataset is reported before any folder is made
            load_data(cfg)          # (cached: the runs read the same arrays)
        make_run_dir(out)
        write_json(out / TEXTBOOK_MARKER, {"epochs": next(iter(cfgs.values())).epochs,
                                           "configs": {m: c.to_dict() for m, c in cfgs.items()}})
    scope = _textbook_header(cfgs, out)
    runs = []
    for model, cfg in cfgs.items():
        sub, state = out / model, None
        if resume_dir is not None:
            if CheckpointDir(sub).exists():
                cfg, state = _load_run(sub, command, given)
            else:
                cfg = merge_resume(cfg, command, given)
        say("")
        trainer, results = train_one(cfg, sub, state=state, label=model)
        runs.append((cfg, trainer, results))
    say("")
    say("=" * 78)
    print_textbook_summary(scope, runs, next(iter(cfgs.values())).dataset)
    write_json(out / "summary.json", {cfg.model: {"test_accuracy": r["test"]["accuracy"],
                                                  "time": r["time"]} for cfg, _, r in runs})
    return EXIT_OK


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def _run(command, given):
    if command.resume is not None:
        run_dir = Path(command.resume) if command.resume else latest_run(RUNS_ROOT,
                                                                         TEXTBOOK_MARKER)
        if not run_dir.is_dir():
            raise UsageError(f"--resume: {run_dir} is not a directory")
        if (run_dir / TEXTBOOK_MARKER).is_file():
            return run_textbook(command, given, resume_dir=run_dir)
        cfg, state = _load_run(run_dir, command, given)
        train_one(cfg, run_dir, state=state)
        return EXIT_OK
    if command.textbook or command.model is None:
        return run_textbook(command, given)
    cfg = resolve(command)
    run_dir = (check_new_run_dir(command.out, TEXTBOOK_MARKER) if command.out
               else new_run_dir(command.model))
    train_one(cfg, run_dir)
    return EXIT_OK


def main(argv=None):
    """Run ``autograd-train`` with `argv` (default: the command line); returns the
    exit status: 0, 2 after an error (one line on stderr), 130 after Ctrl-C.

    Example: ``main(["--model", "logreg", "--epochs", "1"])``.
    """
    return run_job(PROG, build_parser(), ImagesConfig, _run, "autograd_apps.images",
                   TEXTBOOK_MARKER, argv)


if __name__ == "__main__":
    sys.exit(main())
