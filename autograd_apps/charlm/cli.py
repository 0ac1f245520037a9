"""``autograd-charlm``: character-level language models of English words.

    autograd-charlm                         # every model, then the table (runs/charlm/all-*)
    autograd-charlm --model lstm            # one model
    autograd-charlm --model mlp --context 8 --epochs 2
    autograd-charlm --words my-words.txt    # another word list (one word per line)
    autograd-charlm --resume                # continue the latest run in runs/charlm/
    python -m autograd_apps.charlm ...      # the same
    bash scripts/main.sh charlm ...         # the same, after setting up .venv

The words are Debian's English word list (``wamerican``), cleaned and split
80/10/10 by word (``autograd_apps/charlm/data.py``).  A run folder (``--out``,
default ``runs/charlm/<model>-<timestamp>``) receives ``config.json``,
``metrics.csv``/``metrics.json`` (one row per evaluation), ``results.md`` (the
table of test NLL per character, in nats and bits, and the sampled words),
``samples.txt``, ``learning_curves.png`` and ``checkpoints/``.  All models
(``--model all``, the default) write ``runs/charlm/all-<timestamp>/`` with one
such folder per model and the whole table and a comparison of the curves at
its top.

Reproducibility: the initialisation and dropout come from ``nn.init``'s
generator seeded with ``--seed``, the order of the words from the loader's
seed, the samples from an ``ag.Generator`` seeded with ``--seed``.
``--resume`` -- after an epoch or after Ctrl-C in the middle of one -- continues
bit for bit as if the run had never stopped.  Ctrl-C is caught between
iterations: a checkpoint is written and the program exits with status 130 and
says how to resume; a second Ctrl-C aborts at once.
"""
from __future__ import annotations

import sys
from pathlib import Path

from autograd_apps.common.checkpoints import CheckpointDir
from autograd_apps.common.cli import (EXIT_OK, check_new_run_dir, latest_run, load_run,
                                      make_run_dir, new_run_dir, run_job, run_trainer)
from autograd_apps.common.console import say
from autograd_apps.common.errors import UsageError
from autograd_apps.common.recipe import build_optimizer, build_scheduler, merge_resume
from autograd_apps.common.report import draw_loss_graph, read_json, write_json, write_run_metrics
from autograd_apps.common.trainer import Trainer
from autograd_apps.charlm.config import (ALL, MODELS, RUNS_ROOT, CharLMConfig, all_configs,
                                         resolve)
from autograd_apps.charlm.data import WordBatches, lengths, load_data
from autograd_apps.charlm.inference import nll_per_char
from autograd_apps.charlm.models import build_model, describe_model, token_nll
from autograd_apps.charlm.report import (final_report, plot_all, print_results, reference_rows,
                                         results_markdown)

__all__ = ["main", "build_parser", "train_one", "run_all", "PROG", "CHECKPOINT_FORMAT",
           "RUNS_ROOT", "ALL_MARKER"]

PROG = "autograd-charlm"
CHECKPOINT_FORMAT = "autograd_apps.charlm/1"
ALL_MARKER = "charlm.json"      # marks the folder of a run of all models


def build_parser():
    """The argparse parser of ``autograd-charlm`` (built from ``CharLMConfig``)."""
    return CharLMConfig.build_parser(
        PROG,
        description="Train character-level language models of English words (bigram counts "
                    "and net, Bengio's MLP, RNN, LSTM, GRU, a causal transformer) with "
                    "autograd_core, and report their test negative log-likelihood per "
                    "character in nats and bits, learning curves and sampled words. Without "
                    "--model every model runs.",
        epilog="Unset options take the model's preset. The words are read from --words, by "
               "default /usr/share/dict/words (sudo apt-get install wamerican). Runs go to "
               f"{RUNS_ROOT}/; --resume without a folder continues the latest one.")


def _loss_step(model, batch):
    xb, yb = batch
    return token_nll(model(xb), yb), {}


def _describe(cfg, data, iters):
    return (f"{cfg.model}: {describe_model(cfg, data['width'])} | {cfg.optimizer}, lr "
            f"{cfg.lr:g}, schedule {cfg.lr_schedule}"
            + (f", weight decay {cfg.weight_decay:g}" if cfg.weight_decay else "")
            + f" | batch {cfg.batch_size} words, {cfg.epochs} epoch"
              f"{'s' if cfg.epochs > 1 else ''} x {iters} iterations"
            + f" | {len(data['words_train']):,} training / {len(data['words_val']):,} "
              f"validation words, eval every {cfg.eval_every} iterations | seed {cfg.seed}"
            + (" | compiled steps (--compile)" if cfg.compile else "")
            + (f" | BLAS threads {cfg.blas_threads}" if cfg.blas_threads else ""))


def _write_metrics(trainer, cfg, run_dir, data, extra=None):
    write_run_metrics(trainer, cfg, run_dir,
                      {"n_train": len(data["words_train"]), "n_val": len(data["words_val"]),
                       "n_test": len(data["words_test"]), "words": data["path"]}, extra)


def _print_epoch(trainer, row):
    val = (f"val NLL {row['val_cost']:.4f}  "
           if row["val_cost"] is not None and row["val_cost"] == row["val_cost"] else "")
    say(f"{trainer.label} epoch {trainer.epoch}/{trainer.epochs}: "
        f"train NLL {row['train_cost']:.4f}  {val}time {row['wall_time']:.1f}s "
        f"(steps {row['steps_time']:.1f}s, {row['chars_per_s'] or 0:,.0f} chars/s)")


def _graph_word(data):
    """The index of a short training word (4 letters, else the shortest) for graph.svg."""
    n = lengths(data["y_train"])
    short = [i for i, k in enumerate(n.tolist()) if k == 5]
    return short[0] if short else int(n.argmin())


def train_one(cfg, run_dir, state=None, label=None):
    """Train one model in `run_dir` (from `state`, a checkpoint, if given), test it
    and print its table; returns (trainer, results).

    Raises ``Interrupted`` after Ctrl-C (a checkpoint has been written).
    """
    run_dir = Path(run_dir)
    data = load_data(cfg)
    model = build_model(cfg, data["width"])
    optimizer = build_optimizer(cfg, model.parameters())
    loader = WordBatches(data["x_train"], data["y_train"], cfg.batch_size, seed=cfg.seed)
    scheduler, interval = build_scheduler(cfg, optimizer, len(loader))
    trainer = Trainer(model, optimizer, loader, _loss_step, epochs=cfg.epochs,
                      eval_every=cfg.eval_every, metrics=("cost",),
                      evaluate=lambda: {"cost": nll_per_char(model, data["x_val"],
                                                             data["y_val"])[0]},
                      scheduler=scheduler, scheduler_interval=interval,
                      checkpoints=CheckpointDir(run_dir, keep=cfg.keep_checkpoints),
                      state_extra={"format": CHECKPOINT_FORMAT, "config": cfg.to_dict()},
                      label=label or cfg.model, unit="chars",
                      count=lambda batch: int(lengths(batch[1]).sum()),
                      progress=cfg.progress, compile=cfg.compile)

    def draw_graph():
        if cfg.graph:
            i = _graph_word(data)
            width = int(lengths(data["y_train"][i]))
            draw_loss_graph(model, token_nll, data["x_train"][i:i + 1, :width],
                            data["y_train"][i:i + 1, :width], run_dir / "graph.svg")

    trainer.register_hook("epoch_end", lambda t, row: (_write_metrics(t, cfg, run_dir, data),
                                                       _print_epoch(t, row)))
    results = run_trainer(
        trainer, cfg, run_dir, state, on_start=draw_graph,
        describe=lambda: _describe(cfg, data, trainer.iters_per_epoch),
        on_interrupt=lambda: _write_metrics(trainer, cfg, run_dir, data),
        finish=lambda: final_report(trainer, cfg, data, run_dir))
    _write_metrics(trainer, cfg, run_dir, data, results)
    print_results(results["references"] + results["rows"], _scope(data), cfg.seed, run_dir)
    return trainer, results


def _scope(data):
    return (f"{len(data['words_test']):,} test words; trained on "
            f"{len(data['words_train']):,}")


# ---------------------------------------------------------------------------
# All models
# ---------------------------------------------------------------------------

def _load_all(out):
    """{model: configuration} of the run of all models in `out` (its marker file)."""
    meta_path = out / ALL_MARKER
    meta = read_json(meta_path)
    if not isinstance(meta, dict) or not isinstance(meta.get("configs"), dict) \
            or set(meta["configs"]) != set(MODELS):
        raise UsageError(f"{meta_path}: not a run of all models (expected the configurations "
                         f"of {', '.join(MODELS)})")
    return {m: CharLMConfig.from_dict(meta["configs"][m], source=f"{meta_path} ({m})")
            for m in MODELS}


def run_all(command, given, resume_dir=None):
    """Every model in turn, in one folder, then the table of all of them;
    `resume_dir` continues an earlier run of all models."""
    if resume_dir is not None:
        out = Path(resume_dir)
        if "epochs" in given:
            raise UsageError("--epochs cannot be changed when resuming a run of all models")
        cfgs = _load_all(out)
    else:
        data = load_data(command)
        cfgs = all_configs(command, len(data["words_train"]))
        out = (check_new_run_dir(command.out, ALL_MARKER) if command.out
               else new_run_dir("all", RUNS_ROOT))
        make_run_dir(out)
        write_json(out / ALL_MARKER, {"configs": {m: c.to_dict() for m, c in cfgs.items()}})
    say("=" * 78)
    say(f"Character-level language models of English words: {', '.join(MODELS)}")
    say(f"Run folder: {out}")
    say("=" * 78)
    runs, rows = [], []
    for model, cfg in cfgs.items():
        sub, state = out / model, None
        if resume_dir is not None:
            if CheckpointDir(sub).exists():
                cfg, state = load_run(sub, CharLMConfig, CHECKPOINT_FORMAT, command, given)
            else:
                cfg = merge_resume(cfg, command, given)
        say("")
        trainer, results = train_one(cfg, sub, state=state, label=model)
        runs.append((model, trainer))
        rows += results["rows"]
    data = load_data(next(iter(cfgs.values())))
    rows = reference_rows(data) + rows
    say("")
    say("=" * 78)
    print_results(rows, _scope(data), command.seed, out)
    (out / "results.md").write_text(results_markdown(rows, _scope(data), command.seed))
    plot_all(runs, out / "learning_curves.png")
    write_json(out / "summary.json", {"rows": rows})
    return EXIT_OK


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def _run(command, given):
    if command.resume is not None:
        run_dir = Path(command.resume) if command.resume else latest_run(RUNS_ROOT, ALL_MARKER)
        if not run_dir.is_dir():
            raise UsageError(f"--resume: {run_dir} is not a directory")
        if (run_dir / ALL_MARKER).is_file():
            return run_all(command, given, resume_dir=run_dir)
        cfg, state = load_run(run_dir, CharLMConfig, CHECKPOINT_FORMAT, command, given)
        train_one(cfg, run_dir, state=state)
        return EXIT_OK
    if command.model in (None, ALL):
        return run_all(command, given)
    data = load_data(command)
    cfg = resolve(command, len(data["words_train"]))
    run_dir = (check_new_run_dir(command.out, ALL_MARKER) if command.out
               else new_run_dir(command.model, RUNS_ROOT))
    train_one(cfg, run_dir)
    return EXIT_OK


def main(argv=None):
    """Run ``autograd-charlm`` with `argv` (default: the command line); returns the
    exit status: 0, 2 after an error (one line on stderr), 130 after Ctrl-C.

    Example: ``main(["--model", "bigram", "--epochs", "1"])``.
    """
    return run_job(PROG, build_parser(), CharLMConfig, _run, "autograd_apps.charlm", ALL_MARKER,
                   argv)


if __name__ == "__main__":
    sys.exit(main())
