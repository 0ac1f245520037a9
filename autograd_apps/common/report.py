"""What a run leaves in its folder: JSON and CSV records, plots, the graph, tables.

Plots use matplotlib's object API (``matplotlib.figure.Figure``: no global
backend switch, safe without a display); without matplotlib they are skipped
with a warning.  JSON is written atomically, with NaN and infinities as null.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from autograd_core import viz
from autograd_apps.common.checkpoints import rng_state, set_rng_state
from autograd_apps.common.console import warn
from autograd_apps.common.errors import UsageError

__all__ = ["write_json", "read_json", "write_csv", "write_run_metrics", "plot_learning_curves", "plot_comparison",
           "plot_confusion_matrix", "draw_loss_graph", "format_table", "markdown_table"]


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return value


def write_json(path, doc):
    """Write `doc` to `path` as indented JSON, atomically (NaN/inf -> null).

    Example: ``write_json(run / "summary.json", {"accuracy": 0.87})``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(_clean(doc), indent=1) + "\n")
    os.replace(tmp, path)


def read_json(path, what="file"):
    """The JSON document in `path`; ``UsageError`` (one line) if it is missing or not JSON."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such {what}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None


def write_csv(path, rows, fields):
    """Rows (dicts) as CSV with the columns `fields`, in that order.

    Example: ``write_csv(run / "metrics.csv", trainer.evals, trainer.eval_fields)``.
    """
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row[k] for k in fields})


def write_run_metrics(trainer, cfg, run_dir, about, extra=None):
    """A run's records: ``metrics.csv`` (one row per evaluation) and
    ``metrics.json`` -- the configuration, iterations per epoch, `about` (the
    job's sizes of its data, e.g. ``{"n_train": 55000}``), every evaluation,
    every epoch and `extra` (e.g. the test results).

    Example: ``write_run_metrics(trainer, cfg, run, {"n_train": 55000}, {"test": results})``.
    """
    run_dir = Path(run_dir)
    write_csv(run_dir / "metrics.csv", trainer.evals, trainer.eval_fields)
    write_json(run_dir / "metrics.json",
               {"config": cfg.to_dict(), "iterations_per_epoch": trainer.iters_per_epoch,
                **about, "evals": trainer.evals, "epochs": trainer.epoch_rows, **(extra or {})})


def _figure(**kw):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        warn("matplotlib is not installed: no PNG plots (pip install matplotlib)")
        return None
    return Figure(**kw)


def _is_number(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _x_values(evals, x_axis, iters_per_epoch):
    """The x coordinates of the evaluations and the axis label."""
    if x_axis == "epoch":
        return [r["epoch"] for r in evals], "epoch"
    if x_axis != "iteration":
        raise ValueError(f"x_axis must be 'iteration' or 'epoch', got {x_axis!r}")
    return ([r["iteration"] for r in evals],
            "iteration" + (f"  ({iters_per_epoch} per epoch)" if iters_per_epoch else ""))


def plot_learning_curves(evals, path, title, panels, iters_per_epoch=None, x_axis="iteration"):
    """One panel per metric against iterations (or epochs, ``x_axis="epoch"``): the
    mini-batch means since the previous evaluation (``train_<m>``) in blue, the
    validation set (``val_<m>``) in red.  panels: ((metric, axis label), ...).

    Example: ``plot_learning_curves(evals, "curves.png", "MLP", (("cost", "cross-entropy"),))``.
    """
    fig = _figure(figsize=(5 * len(panels), 4), layout="constrained")
    if fig is None or not evals:
        return None
    it, x_label = _x_values(evals, x_axis, iters_per_epoch)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (key, name) in zip(axes, panels):
        ax.plot(it, [r[f"train_{key}"] for r in evals], color="tab:blue", label="mini-batch")
        val = [r[f"val_{key}"] for r in evals]
        if any(_is_number(v) for v in val):
            ax.plot(it, val, color="tab:red", label="validation")
        ax.set_xlabel(x_label)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
        if key == "error":
            ax.set_ylim(bottom=0)
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return path


def plot_comparison(runs, path, title, metric="cost", label="cost"):
    """Several runs on one axis against epochs: each run's validation ``val_<metric>``
    as a solid line and its mini-batch means ``train_<metric>`` dashed, in the
    run's colour.  runs: ((name, evals), ...), as ``Trainer.evals``.

    Example: ``plot_comparison([("mlp", t1.evals), ("lstm", t2.evals)], "all.png", "NLL")``.
    """
    fig = _figure(figsize=(8, 5), layout="constrained")
    runs = [(name, evals) for name, evals in runs if evals]
    if fig is None or not runs:
        return None
    ax = fig.subplots()
    colours = [f"C{i % 10}" for i in range(len(runs))]
    for (name, evals), colour in zip(runs, colours):
        epochs = [r["epoch"] for r in evals]
        val = [r[f"val_{metric}"] for r in evals]
        if any(_is_number(v) for v in val):
            ax.plot(epochs, val, color=colour, label=f"{name} (validation)")
        ax.plot(epochs, [r[f"train_{metric}"] for r in evals], color=colour, linestyle="--",
                alpha=0.6, label=f"{name} (mini-batch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    return path


def plot_confusion_matrix(cm, classes, path, title):
    """The confusion matrix as a heat map with the counts written in the cells.

    Example: ``plot_confusion_matrix(cm, ("0", "1"), "cm.png", "test set")``.
    """
    fig = _figure(figsize=(7.5, 6.5), layout="constrained")
    if fig is None:
        return None
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.8)
    n = cm.shape[0]
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
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


def draw_loss_graph(model, loss_fn, inputs, targets, path):
    """Draw the computation graph of ``loss_fn(model(inputs), targets)`` as SVG.

    The model's random generators are restored afterwards (a dropout mask
    drawn here must not change the run).  A drawing problem only warns.
    Returns the path, or None.
    """
    saved = rng_state(model)
    try:
        dot = viz.draw_graph(loss_fn(model(inputs), targets))
        Path(path).write_bytes(dot.pipe(format="svg"))
        return path
    except Exception as exc:  # noqa: BLE001 - a drawing problem must not stop training
        warn(f"{Path(path).name} not written: {type(exc).__name__}: {exc}")
        return None
    finally:
        set_rng_state(model, saved)


def format_table(header, rows, align=None, indent=2):
    """Lines of a plain-text table; align: one of "<" / ">" per column (default:
    first left, the rest right).

    Example: ``format_table(("model", "acc."), [("mlp", "0.87")])``.
    """
    cols = len(header)
    align = align or ("<",) + (">",) * (cols - 1)
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(cols)]
    pad = " " * indent

    def line(r):
        return pad + "  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip()
    return [line(cells[0]), pad + "-" * (sum(widths) + 2 * (cols - 1))] + [line(r) for r in cells[1:]]



def markdown_table(header, rows, align=None):
    """Lines of a Markdown (GitHub) table; align: one of "<" / ">" per column
    (default: first left, the rest right).  A ``|`` in a cell is escaped.

    Example: ``markdown_table(("model", "NLL"), [("mlp", "2.10")])`` ->
    ``["| model | NLL |", "|:---|---:|", "| mlp | 2.10 |"]``.
    """
    cols = len(header)
    align = align or ("<",) + (">",) * (cols - 1)

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    rule = "|" + "|".join(":---" if a == "<" else "---:" for a in align) + "|"
    return [line(header), rule] + [line(r) for r in rows]
