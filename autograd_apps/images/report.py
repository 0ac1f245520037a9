"""The image job's report: test accuracy, plots, and the figures to compare with.

Two sets of reference figures live here, and only here:

* ``PUBLISHED_BENCHMARKS``: Fashion-MNIST test accuracies, from
    - the scikit-learn benchmark of the Fashion-MNIST authors (Xiao, Rasul &
      Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
      Machine Learning Algorithms", arXiv:1708.07747; results at
      http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/): the best
      LogisticRegression setting, 0.842;
    - the "Benchmark" table of submitted results in the README of
      https://github.com/zalandoresearch/fashion-mnist (not verified by the
      maintainers; epochs and batch sizes differ between entries).  The
      "MLP 256-128-100" row appears in earlier versions of that table, the
      "MLP 256-128-64" row in later ones.
* ``LECTURE_NOTES_MNIST``: the course's own worked example on MNIST (Lindholm,
  Wahlström, Lindsten & Schön, "Supervised Machine Learning", lecture notes,
  Example 6.2): the same recipe as ``--textbook`` -- SGD, step 0.5, batch 100,
  15 epochs (9,000 iterations on all 60,000 training images) -- reaches a
  validation error of about 8 % for logistic regression and about 2 % for the
  two-layer network with 200 ReLU units, measured on the 10,000 MNIST test
  images used as validation data.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np

from autograd_apps.common.console import say
from autograd_apps.common.evaluation import classification_metrics, confusion_matrix
from autograd_apps.common.report import (format_table, plot_confusion_matrix,
                                         plot_learning_curves)
from autograd_apps.images.data import CLASS_NAMES, DATASET_NAMES
from autograd_apps.images.models import MODEL_FAMILY, describe_model

__all__ = ["PUBLISHED_BENCHMARKS", "LECTURE_NOTES_MNIST", "WHY_MNIST_IS_EASIER",
           "benchmark_table", "lecture_notes_figure", "final_report", "print_result",
           "print_textbook_summary"]

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

LECTURE_NOTES_SOURCE = "Lindholm et al., Example 6.2"
# model -> (the notes' name of the model, its hidden sizes, validation error, "approximately")
LECTURE_NOTES_MNIST = {
    "logreg": ("logistic regression 784-10", (), 0.08),
    "mlp": ("two-layer network 784-200-10, ReLU", (200,), 0.02),
}

WHY_MNIST_IS_EASIER = (
    "MNIST's digits are easier than Fashion-MNIST's clothes, whose T-shirts, shirts, "
    "pullovers, coats and dresses share their silhouettes (see confusion_matrix.png); and "
    "the notes train on all 60,000 images and validate on the 10,000 test images, while "
    "here --val-size training images are held out for validation (docs/results.md)."
)


def lecture_notes_figure(cfg):
    """(label, validation error) of the lecture notes' MNIST example for cfg's
    model, or None (another model, or another recipe than the textbook's)."""
    entry = LECTURE_NOTES_MNIST.get(cfg.model)
    textbook = (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.lr_schedule) == ("sgd", 0.5, 100, "none")
    if entry is None or not textbook:
        return None
    name, hidden, error = entry
    if tuple(cfg.hidden) != hidden:
        name += f" (this run: {describe_model(cfg)})"
    return name, error


def benchmark_table(model, accuracy, dataset="fashion-mnist", label=None):
    """Lines of the table comparing `accuracy` with the published figures of the
    model's family (Fashion-MNIST), or with the lecture notes' (MNIST).

    label: this run's name in the table (default: `model`).

    Example: ``benchmark_table("mlp", 0.87)[2]`` -> ``"  MLP 256-128-100 (...)  0.8833  -0.0133"``.
    """
    if dataset == "mnist":
        entry = LECTURE_NOTES_MNIST.get(model)
        rows = [] if entry is None else [
            (f"{entry[0]} ({LECTURE_NOTES_SOURCE}, validation)", 1 - entry[2])]
    else:
        rows = list(PUBLISHED_BENCHMARKS[MODEL_FAMILY[model]])
    body = [(name, f"{acc:.4f}", f"{accuracy - acc:+.4f}") for name, acc in rows]
    body.append((f"this run ({label or model})", f"{accuracy:.4f}", ""))
    return format_table(("model", "test acc.", "this run - it"), body)


def _run_title(cfg):
    return (f"{describe_model(cfg, long=True)} on {DATASET_NAMES[cfg.dataset]} -- "
            f"{cfg.optimizer}, lr {cfg.lr:g}, batch {cfg.batch_size}")


def final_report(trainer, data, cfg, run_dir):
    """Test the trained model, draw learning_curves.png and confusion_matrix.png;
    returns the results (test accuracy, cost, confusion matrix, times, the
    reference figures)."""
    test_cost, test_err, preds = classification_metrics(trainer.model, data["x_test"],
                                                        data["y_test"])
    accuracy = 1.0 - test_err
    classes = CLASS_NAMES[cfg.dataset]
    cm = confusion_matrix(data["y_test"], preds, len(classes))
    steps = [e["steps_time"] for e in trainer.epoch_rows if e.get("steps_time")]
    eager_step = trainer.eager_step_seconds() if trainer.compiled is not None else None
    walls = [e["wall_time"] for e in trainer.epoch_rows if e.get("wall_time")]
    notes = lecture_notes_figure(cfg)
    results = {"test": {"accuracy": accuracy, "cost": test_cost, "n": int(len(preds)),
                        "confusion_matrix": cm.tolist()},
               "time": {"epoch_steps_mean": float(np.mean(steps)) if steps else None,
                        "epoch_wall_mean": float(np.mean(walls)) if walls else None,
                        "training_total": round(trainer.elapsed(), 3),
                        # --compile: eager steps on copies, for the comparison
                        "eager_epoch_steps_estimate": None if eager_step is None else
                        round(eager_step * trainer.iters_per_epoch, 3)},
               "published": [] if cfg.dataset == "mnist" else
               [{"name": n, "accuracy": a} for n, a in PUBLISHED_BENCHMARKS[MODEL_FAMILY[cfg.model]]],
               "lecture_notes_mnist": None if notes is None else
               {"model": notes[0], "val_error": notes[1], "source": LECTURE_NOTES_SOURCE}}
    plot_learning_curves(trainer.evals, run_dir / "learning_curves.png", _run_title(cfg),
                         (("cost", "cost (cross-entropy)"), ("error", "misclassification rate")),
                         trainer.iters_per_epoch)
    plot_confusion_matrix(cm, classes, run_dir / "confusion_matrix.png",
                          f"{describe_model(cfg)} on {DATASET_NAMES[cfg.dataset]}: test accuracy "
                          f"{accuracy:.4f} on {len(preds):,} images")
    return results


def _final_val_error(trainer):
    evals = trainer.evals
    err = evals[-1]["val_error"] if evals else None
    return None if err is None or (isinstance(err, float) and math.isnan(err)) else err


def print_result(trainer, cfg, results, run_dir):
    """The end of a run on stdout: test accuracy, time per epoch, the reference table."""
    t, tm = results["test"], results["time"]
    name = DATASET_NAMES[cfg.dataset]
    say("")
    say(f"Test accuracy of {cfg.model} ({describe_model(cfg, long=True)}) on {name}: "
        f"{t['accuracy']:.4f}  (cost {t['cost']:.4f}, {t['n']:,} test images"
        + (", a slice" if t["n"] < 10000 else "") + ")")
    if tm["epoch_wall_mean"]:
        say(f"Time per epoch: {tm['epoch_wall_mean']:.1f} s with evaluations, "
            f"{tm['epoch_steps_mean']:.1f} s of training steps"
            + (" (compiled)" if trainer.compiled is not None else "")
            + f" ({len(trainer.loader.arrays[0]):,} images, batch {cfg.batch_size})")
    if tm.get("eager_epoch_steps_estimate"):
        say(f"Eager steps, for comparison: {tm['eager_epoch_steps_estimate']:.1f} s per epoch "
            f"(the median of 20 eager steps on a copy of the trained model, times "
            f"{trainer.iters_per_epoch} steps): compiled "
            f"{tm['eager_epoch_steps_estimate'] / tm['epoch_steps_mean']:.2f}x as fast")
    if cfg.dataset == "mnist" and cfg.model not in LECTURE_NOTES_MNIST:
        say(f"No reference figures for {cfg.model} on MNIST are recorded here (the lecture "
            f"notes' Example 6.2 has logistic regression and the 200-ReLU network).")
    else:
        say(f"The lecture notes' MNIST figures ({LECTURE_NOTES_SOURCE}), as accuracy:"
            if cfg.dataset == "mnist" else
            "Published Fashion-MNIST figures for the same model family "
            "(sources: PUBLISHED_BENCHMARKS in autograd_apps/images/report.py):")
        for line in benchmark_table(cfg.model, t["accuracy"], cfg.dataset, describe_model(cfg)):
            say(line)
    notes = results["lecture_notes_mnist"]
    val = _final_val_error(trainer)
    if notes and cfg.dataset != "mnist":
        _paragraph(f"The lecture notes ({LECTURE_NOTES_SOURCE}) reach a validation error of "
                   f"about {100 * notes['val_error']:.0f}% with this recipe (15 epochs) on MNIST "
                   f"({notes['model']})"
                   + (f"; this run: {100 * val:.2f}% on {name}" if val is not None else "")
                   + ". Why they differ: " + WHY_MNIST_IS_EASIER, indent="")
    names = [n for n in ("metrics.csv", "metrics.json", "learning_curves.png",
                         "confusion_matrix.png", "graph.svg") if (run_dir / n).is_file()]
    say(f"Outputs in {run_dir}/: {', '.join(names)}, checkpoints/")


def print_textbook_summary(scope, runs, dataset):
    """The comparison table at the end of ``--textbook``: runs = [(cfg, trainer, results)]."""
    name = DATASET_NAMES[dataset]
    mnist = dataset == "mnist"
    header = ["model", "val error", "test acc."]
    header += [] if mnist else ["published"]
    header += ["lecture notes, MNIST val error", "s/epoch"]
    rows = []
    for cfg, trainer, res in runs:
        val = _final_val_error(trainer)
        notes = lecture_notes_figure(cfg)
        per_epoch = res["time"]["epoch_wall_mean"]
        row = [describe_model(cfg), "-" if val is None else f"{100 * val:.2f}%",
               f"{res['test']['accuracy']:.4f}"]
        if not mnist:
            row.append(f"{PUBLISHED_BENCHMARKS[MODEL_FAMILY[cfg.model]][0][1]:.4f}")
        row += ["-" if notes is None else f"~{100 * notes[1]:.0f}%",
                f"{per_epoch:.1f}" if per_epoch else "-"]
        rows.append(row)
    say(f"Textbook comparison on {name} ({scope}):")
    for line in format_table(header, rows):
        say(line)
    if mnist:
        _paragraph(f"(lecture notes: {LECTURE_NOTES_SOURCE}, the same recipe and data; they "
                   "train on all 60,000 images and validate on the 10,000 test images, here "
                   "--val-size images are held out of the training set: --val-size 0 trains "
                   "on all.)")
    else:
        _paragraph("(published: logistic regression 0.842 from the scikit-learn benchmark; MLP "
                   "0.8833 for 256-128-100 from the Fashion-MNIST README table. The textbook's "
                   "step 0.5 is too large for logistic regression on Fashion-MNIST: see "
                   "docs/results.md for a decaying step that reaches the published figure.)")
        _paragraph(f"(lecture notes: {LECTURE_NOTES_SOURCE}, the same recipe on MNIST. "
                   + WHY_MNIST_IS_EASIER + " To run it on MNIST: --dataset mnist --data DIR.)")


def _paragraph(text, indent="  "):
    say(textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + " "))
