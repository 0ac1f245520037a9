"""The charlm job's report: test NLL per character, bits per character, samples, curves.

Every model is measured on the same test words (the seeded 10 % of the word
list), as the mean negative log-likelihood of each predicted token -- the
letters of a word and its end token '.' -- in nats, and in bits (/ ln 2).
Two references that need no training head the table: the uniform
distribution over the 27 tokens (log 27 = 3.2958 nats, 4.7549 bits) and the
unigram model (the training tokens' frequencies, add-one smoothed).

A run folder receives ``results.md`` (the table and the sampled words, in
Markdown), ``samples.txt``, ``learning_curves.png`` and the records of
``metrics.json``; a run of all models writes the same at its top, with one
row per model and ``learning_curves.png`` comparing their curves.
"""
from __future__ import annotations

import math

import numpy as np

from autograd_apps.common.console import say
from autograd_apps.common.report import (format_table, markdown_table, plot_comparison,
                                         plot_learning_curves)
from autograd_apps.charlm.data import IGNORE, VOCAB_SIZE
from autograd_apps.charlm.inference import bits, nll_per_char, sample_words
from autograd_apps.charlm.models import BigramCounts, count_parameters, describe_model

__all__ = ["reference_rows", "model_results", "final_report", "results_markdown",
           "print_results", "plot_all", "TABLE_HEADER"]

TABLE_HEADER = ("model", "architecture", "parameters", "epochs", "training time",
                "val NLL", "test NLL (nats/char)", "test bits/char")


def _unigram_nll(data):
    """Test NLL of the add-one smoothed frequencies of the training tokens."""
    y = data["y_train"]
    counts = np.bincount(y[y != IGNORE], minlength=VOCAB_SIZE) + 1.0
    logp = np.log(counts / counts.sum())
    test = data["y_test"]
    return float(-logp[test[test != IGNORE]].mean())


def reference_rows(data):
    """The two rows that need no training: uniform over the 27 tokens, and unigram."""
    uniform = math.log(VOCAB_SIZE)
    unigram = _unigram_nll(data)
    return [
        {"model": "uniform", "architecture": f"1/{VOCAB_SIZE} for every token",
         "parameters": 0, "test_nll": uniform, "test_bits": bits(uniform)},
        {"model": "unigram", "architecture": "letter frequencies (add-one)",
         "parameters": VOCAB_SIZE, "test_nll": unigram, "test_bits": bits(unigram)},
    ]


def _evaluate(model, data):
    test, n_test = nll_per_char(model, data["x_test"], data["y_test"])
    val, _ = nll_per_char(model, data["x_val"], data["y_val"])
    return {"val_nll": val, "test_nll": test, "test_bits": bits(test), "test_tokens": n_test}


def _samples(model, cfg, data):
    words = sample_words(model, cfg.samples, max_len=data["width"], seed=cfg.seed)
    known = set(data["words_train"]) | set(data["words_val"]) | set(data["words_test"])
    return [{"word": w, "in_list": w in known} for w in words]


def model_results(trainer, cfg, data):
    """The rows of a trained run: one, or two for ``bigram`` (the counts first,
    then the net); each with its figures and sampled words."""
    rows = []
    if cfg.model == "bigram":
        counts = BigramCounts(smoothing=cfg.smoothing).fit(data["x_train"], data["y_train"])
        train_nll, _ = nll_per_char(counts, data["x_train"], data["y_train"])
        rows.append({"model": "bigram (counts)",
                     "architecture": f"normalised counts, add-{cfg.smoothing:g} smoothing",
                     "parameters": count_parameters(counts), "epochs": None,
                     "training_time": None, "train_nll": train_nll, **_evaluate(counts, data),
                     "samples": _samples(counts, cfg, data)})
    model = trainer.model
    row = {"model": "bigram (net)" if cfg.model == "bigram" else cfg.model,
           "architecture": describe_model(cfg, data["width"]),
           "parameters": count_parameters(model), "epochs": trainer.epoch,
           "training_time": round(trainer.elapsed(), 1)}
    if cfg.model == "bigram":      # cheap: the exact training NLL, to compare with the counts'
        row["train_nll"] = nll_per_char(model, data["x_train"], data["y_train"])[0]
    else:                          # the last epoch's mini-batch mean
        row["train_nll"] = trainer.epoch_rows[-1]["train_cost"] if trainer.epoch_rows else None
    rows.append({**row, **_evaluate(model, data), "samples": _samples(model, cfg, data)})
    return rows


def _title(cfg, data):
    return (f"{describe_model(cfg, data['width'])} -- {cfg.optimizer}, lr {cfg.lr:g} "
            f"({cfg.lr_schedule}), batch {cfg.batch_size} words")


def final_report(trainer, cfg, data, run_dir):
    """Test the trained model(s), sample words, draw learning_curves.png, write
    samples.txt and results.md; returns {"rows": [...], "references": [...]}."""
    rows = model_results(trainer, cfg, data)
    plot_learning_curves(trainer.evals, run_dir / "learning_curves.png", _title(cfg, data),
                         (("cost", "NLL (nats per character)"),), trainer.iters_per_epoch,
                         x_axis="epoch")
    _write_samples(run_dir / "samples.txt", rows, cfg.seed)
    refs = reference_rows(data)
    (run_dir / "results.md").write_text(results_markdown(refs + rows, _scope(data), cfg.seed))
    return {"rows": rows, "references": refs}


def _write_samples(path, rows, seed):
    lines = []
    for row in rows:
        lines.append(f"# {row['model']} (seed {seed}; * = a word of the list)")
        lines += [s["word"] + (" *" if s["in_list"] else "") for s in row["samples"]]
    path.write_text("\n".join(lines) + "\n")


def _scope(data):
    return (f"{len(data['words_train']):,} training / {len(data['words_val']):,} validation / "
            f"{len(data['words_test']):,} test words of {data['path']}")


def _cells(row):
    def num(key, fmt):
        v = row.get(key)
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)
    time = row.get("training_time")
    return [row["model"], row["architecture"], f"{row['parameters']:,}",
            "-" if row.get("epochs") is None else str(row["epochs"]),
            "-" if time is None else f"{time:.0f} s",
            num("val_nll", ".4f"), num("test_nll", ".4f"), num("test_bits", ".4f")]


def results_markdown(rows, scope, seed):
    """results.md: the table of `rows` (reference rows and trained models), then
    each model's sampled words (a word of the list in italics)."""
    lines = ["# Character-level language models", "",
             f"Negative log-likelihood per character on the test words ({scope}); every "
             "word's letters and its end token count as characters.", ""]
    lines += markdown_table(TABLE_HEADER, [_cells(r) for r in rows])
    sampled = [r for r in rows if r.get("samples")]
    if sampled:
        lines += ["", f"## Sampled words (seed {seed}; in italics: words of the list)", ""]
        for r in sampled:
            words = ", ".join(f"*{s['word']}*" if s["in_list"] else s["word"]
                              for s in r["samples"])
            known = sum(s["in_list"] for s in r["samples"])
            lines.append(f"- **{r['model']}** ({known} of {len(r['samples'])} in the list): "
                         f"{words}")
    return "\n".join(lines) + "\n"


def print_results(rows, scope, seed, run_dir):
    """The table and the samples on stdout."""
    say("")
    say(f"Test NLL per character ({scope}):")
    for line in format_table(TABLE_HEADER, [_cells(r) for r in rows]):
        say(line)
    for r in rows:
        if r.get("samples"):
            words = " ".join(s["word"] + ("*" if s["in_list"] else "") for s in r["samples"])
            say(f"  {r['model']} samples (seed {seed}; * = in the list): {words}")
    counts = next((r for r in rows if r["model"] == "bigram (counts)"), None)
    net = next((r for r in rows if r["model"] == "bigram (net)"), None)
    if counts and net:
        say(f"  bigram: counts and net agree to {abs(counts['test_nll'] - net['test_nll']):.4f} "
            f"nats on the test words ({abs(counts['train_nll'] - net['train_nll']):.4f} on the "
            "training words)")
    say(f"Outputs in {run_dir}/: results.md, samples.txt, learning_curves.png, metrics.json, "
        "checkpoints/")


def plot_all(runs, path):
    """learning_curves.png of a run of all models: runs = [(model, trainer)]."""
    return plot_comparison([(model, trainer.evals) for model, trainer in runs], path,
                           "validation (solid) and mini-batch (dashed) NLL per character",
                           label="NLL (nats per character)")
