"""The options every training job shares, and the optimiser and schedule they name.

``TrainingConfig`` is the base of a job's configuration dataclass: optimiser,
learning rate and its schedule, epochs, batch size, seed, evaluation interval,
and the run's output options (``--out``, ``--resume``, checkpoints kept, BLAS
threads, progress bar, graph drawing).  A job adds its own fields (model,
architecture, where its data are) by subclassing it, fills in what the
command line left unset with ``resolve_recipe`` and its presets, and continues
a stopped run with ``merge_resume``.
"""
from __future__ import annotations

import dataclasses
import os

import optim
from autograd_apps.common.config import (Choice, Config, Integer, Real, Switch, Text, flag_name,
                                         option)
from autograd_apps.common.errors import UsageError

__all__ = ["TrainingConfig", "OPTIMIZERS", "DEFAULT_LR", "SCHEDULES", "RUNS_ROOT",
           "resolve_recipe", "merge_resume", "build_optimizer", "build_scheduler"]

# Learning rate used when --optimizer differs from the preset and --lr is unset.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0}
OPTIMIZERS = tuple(DEFAULT_LR)
_WITH_MOMENTUM = ("momentum", "nesterov", "rmsprop")
SCHEDULES = ("none", "step", "cosine")
RUNS_ROOT = "runs"


@dataclasses.dataclass(frozen=True)
class TrainingConfig(Config):
    """The configuration every training job shares (subclass it for a job).

    Fields left None take the job's preset (``resolve_recipe``).  ``fixed``
    options define the trajectory of a run and cannot change on ``--resume``.

    Example::

        @dataclasses.dataclass(frozen=True)
        class CharConfig(TrainingConfig):
            context: int | None = option(Integer(1), "characters of context", fixed=True)
    """

    GROUPS = ("what to run", "training", "data and evaluation", "output")

    resume: str | None = option(
        Text(), "continue the run in DIR from its last checkpoint (default: the most recent "
        f"run under {RUNS_ROOT}/); --epochs may extend it", group="what to run",
        stored=False, nargs="?", const="")
    optimizer: str | None = option(
        Choice(OPTIMIZERS), "sgd | momentum (SGD, momentum 0.9) | nesterov | adam | adamw | "
        "rmsprop | adagrad | adadelta", group="training", fixed=True)
    lr: float | None = option(Real(), "learning rate", group="training", fixed=True)
    momentum: float | None = option(
        Real(allow_zero=True), "momentum for --optimizer momentum/nesterov (default 0.9) or "
        "rmsprop (default 0)", group="training", fixed=True)
    weight_decay: float | None = option(Real(allow_zero=True), "L2 weight decay",
                                        group="training", fixed=True)
    lr_schedule: str | None = option(
        Choice(SCHEDULES), "none | step (x --lr-gamma every --lr-step epochs) | cosine (to 0 "
        "over the run, updated every iteration)", group="training", fixed=True)
    lr_step: int | None = option(
        Integer(1), "epochs between decays for --lr-schedule step (default: a third of the "
        "epochs)", group="training", fixed=True)
    lr_gamma: float | None = option(Real(), "decay factor for --lr-schedule step (default 0.1)",
                                    group="training", fixed=True)
    epochs: int | None = option(Integer(1), "number of passes over the training set",
                                group="training")
    batch_size: int | None = option(Integer(1), "mini-batch size", group="training", fixed=True)
    compile: bool = option(
        Switch(), "run each training step as one program traced by autograd_core.compile "
        "(the same numbers as without it, in less time for small models)", default=False,
        group="training", stored=False)
    seed: int = option(Integer(0), "seed of the initialisation, the data order and dropout "
                       "(default 0)", default=0, group="training", fixed=True)
    eval_every: int | None = option(
        Integer(1), "evaluate on the validation set every N iterations",
        group="data and evaluation", fixed=True)
    out: str | None = option(Text(), f"run folder (default {RUNS_ROOT}/<model>-<timestamp>)",
                             group="output", stored=False)
    keep_checkpoints: int = option(
        Integer(0), "keep the last K epoch checkpoints besides last.ckpt (default 3; 0 keeps "
        "all)", default=3, group="output", metavar="K")
    blas_threads: int | None = option(
        Integer(0), "threads of NumPy's BLAS during the run (default 1, unless "
        "OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set; 0 leaves it alone). On a shared "
        "2-core machine one thread is both faster and steadier for these matrix sizes",
        group="output")
    progress: bool = option(Switch(negative=True), "no progress bar", default=True,
                            group="output", stored=False)
    graph: bool = option(Switch(negative=True), "do not draw graph.svg", default=True,
                         group="output")


def _default_blas_threads():
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        return 0
    return 1


def resolve_recipe(cfg, preset):
    """`cfg` with every unset training option taken from `preset` (or derived).

    preset: a dict with ``optimizer, lr, lr_schedule, epochs, batch_size,
    eval_every, weight_decay``.  --lr defaults to the preset's when the
    optimiser is the preset's, else to ``DEFAULT_LR``; --momentum to 0.9 for
    (Nesterov) momentum; --lr-step to a third of the epochs.  Raises
    ``UsageError`` for options that do not apply.

    Example: ``resolve_recipe(cfg, PRESETS["mlp"]).lr == 0.5``.
    """
    optimizer = cfg.optimizer or preset["optimizer"]
    if cfg.lr is not None:
        lr = cfg.lr
    elif optimizer == preset["optimizer"]:
        lr = preset["lr"]
    else:
        lr = DEFAULT_LR[optimizer]
    if cfg.momentum is not None and optimizer not in _WITH_MOMENTUM:
        raise UsageError(f"--momentum applies to --optimizer {', '.join(_WITH_MOMENTUM[:-1])} "
                         f"or {_WITH_MOMENTUM[-1]}, not {optimizer}")
    momentum = cfg.momentum if cfg.momentum is not None else (
        0.9 if optimizer in ("momentum", "nesterov") else 0.0)
    schedule = cfg.lr_schedule or preset["lr_schedule"]
    if (cfg.lr_step is not None or cfg.lr_gamma is not None) and schedule != "step":
        raise UsageError("--lr-step and --lr-gamma need --lr-schedule step")
    epochs = cfg.epochs or preset["epochs"]
    return cfg.replace(
        optimizer=optimizer, lr=lr, momentum=momentum, lr_schedule=schedule, epochs=epochs,
        weight_decay=cfg.weight_decay if cfg.weight_decay is not None else preset["weight_decay"],
        lr_step=cfg.lr_step or max(1, epochs // 3),
        lr_gamma=cfg.lr_gamma if cfg.lr_gamma is not None else 0.1,
        batch_size=cfg.batch_size or preset["batch_size"],
        eval_every=cfg.eval_every or preset["eval_every"],
        blas_threads=cfg.blas_threads if cfg.blas_threads is not None
        else _default_blas_threads())


def merge_resume(stored, command, given):
    """The configuration of a resumed run: `stored` (the run's) with the options
    of this `command` line that may change, `given` naming those it set.

    Options that define the trajectory are refused; --epochs may extend a
    run unless its schedule is cosine (whose decay spans the planned epochs);
    the options that are not ``fixed`` (a data folder, checkpoints kept, BLAS
    threads, progress bar) follow the command line.

    Example: ``merge_resume(stored, cli, {"epochs"}).epochs == cli.epochs``.
    """
    fixed = [name for name in type(stored).fixed_names() if name in given]
    if fixed:
        raise UsageError("cannot change " + ", ".join(flag_name(k) for k in fixed)
                         + " when resuming: they define the run being continued")
    if "out" in given:
        raise UsageError("--out cannot be combined with --resume (the run keeps its folder)")
    changes = {"progress": command.progress}
    if "epochs" in given and command.epochs != stored.epochs:
        if stored.lr_schedule == "cosine":
            raise UsageError(f"cannot change --epochs of a run with the cosine schedule (it "
                             f"decays to 0 over its {stored.epochs} epochs)")
        changes["epochs"] = command.epochs
    stored_names = {f.name for f, opt in type(stored).options() if opt.stored}
    for name in sorted(given & stored_names - {"epochs"}):
        changes[name] = getattr(command, name)
    return stored.replace(**changes)


def build_optimizer(cfg, params):
    """The ``optim`` optimiser named by ``cfg.optimizer`` with cfg's lr, momentum
    and weight decay.

    Example: ``build_optimizer(cfg, model.parameters())`` -> ``optim.SGD(...)``.
    """
    name, lr, wd = cfg.optimizer, cfg.lr, cfg.weight_decay
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=wd,
                         nesterov=name == "nesterov")
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd, momentum=cfg.momentum)
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad,
               "adadelta": optim.Adadelta}
    return classes[name](params, lr=lr, weight_decay=wd)


def build_scheduler(cfg, optimizer, iters_per_epoch):
    """(scheduler, interval): cosine steps every iteration (T_max = the whole run),
    step decay every epoch; (None, None) without a schedule.

    Example: ``build_scheduler(cfg, opt, 550)`` -> ``(CosineAnnealingLR, "iteration")``.
    """
    if cfg.lr_schedule == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=cfg.epochs * iters_per_epoch), "iteration"
    if cfg.lr_schedule == "step":
        return optim.StepLR(optimizer, step_size=cfg.lr_step, gamma=cfg.lr_gamma), "epoch"
    return None, None
