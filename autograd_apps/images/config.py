"""The image-classification job's configuration, its presets and the textbook recipe.

``ImagesConfig`` adds to the shared training options the model, its sizes
(``--hidden``, ``--channels``, ``--dropout``), the dataset and how it is cut
(``--val-size``, ``--limit-train``, ``--limit-test``).  Every option left unset
takes the model's preset (``PRESETS``); ``resolve`` fills them in.
"""
from __future__ import annotations

import dataclasses

from autograd_apps.common.config import (Choice, Integer, Real, Sizes, Switch, Text, flag_name,
                                         option)
from autograd_apps.common.errors import UsageError
from autograd_apps.common.recipe import RUNS_ROOT, TrainingConfig, resolve_recipe

__all__ = ["ImagesConfig", "MODELS", "DATASETS", "PRESETS", "TEXTBOOK", "DEFAULT_VAL_SIZE",
           "SPLIT_SEED", "resolve", "textbook_configs"]

MODELS = ("logreg", "mlp", "mlp-deep", "cnn")
DATASETS = ("fashion-mnist", "mnist")
DEFAULT_VAL_SIZE = 5000
SPLIT_SEED = 0           # the validation split is the same for every --seed

# The default of every option the command line leaves unset.
PRESETS = {
    # The textbook recipe (Lindholm et al., Example 6.2): mini-batch SGD, step
    # 0.5, batch 100, 15 epochs, validation cost and error every 100 iterations.
    "logreg": dict(optimizer="sgd", lr=0.5, lr_schedule="none", epochs=15, batch_size=100,
                   eval_every=100, hidden=(), dropout=0.0, weight_decay=0.0),
    "mlp": dict(optimizer="sgd", lr=0.5, lr_schedule="none", epochs=15, batch_size=100,
                eval_every=100, hidden=(200,), dropout=0.0, weight_decay=0.0),
    "mlp-deep": dict(optimizer="adam", lr=1e-3, lr_schedule="cosine", epochs=20, batch_size=128,
                     eval_every=200, hidden=(512, 256), dropout=0.2, weight_decay=0.0),
    "cnn": dict(optimizer="adam", lr=2e-3, lr_schedule="cosine", epochs=10, batch_size=64,
                eval_every=300, channels=(16, 32), hidden=(128,), dropout=0.0, weight_decay=0.0),
}

# The textbook's worked example, and the default of the command: all 15 epochs
# of it take about 35 s on a shared 2-core machine (one BLAS thread), so the
# default is the full recipe; --epochs N gives a shorter one.
TEXTBOOK = dict(models=("logreg", "mlp"), optimizer="sgd", lr=0.5, batch_size=100,
                epochs=15, eval_every=100)
# What --textbook fixes (the recipe and the two models), so may not be given with it.
_TEXTBOOK_FIXES = ("model", "optimizer", "lr", "lr_schedule", "batch_size", "eval_every",
                   "hidden", "channels", "dropout", "momentum", "weight_decay", "lr_step",
                   "lr_gamma")


@dataclasses.dataclass(frozen=True)
class ImagesConfig(TrainingConfig):
    """Configuration of one image-classification run (``autograd-train``).

    Example::

        cfg, given = ImagesConfig.from_command_line(["--model", "mlp", "--hidden", "64"])
        cfg = resolve(cfg)          # cfg.lr == 0.5, cfg.hidden == (64,), ...
    """

    data: str | None = option(
        Text(), "directory holding the dataset's four IDX files (train-images-idx3-ubyte[.gz] "
        "etc.); default $FASHION_MNIST_DIR then /usr/share/datasets/fashion-mnist for "
        "Fashion-MNIST, $MNIST_DIR for MNIST", group="data and evaluation", optional=True)
    out: str | None = option(
        Text(), f"run folder (default {RUNS_ROOT}/<model>-<timestamp>, or "
        f"{RUNS_ROOT}/textbook-<timestamp>)", group="output", stored=False)
    model: str | None = option(
        Choice(MODELS), "logreg | mlp (784-200-10, the textbook's) | mlp-deep (best-MLP preset) "
        "| cnn (two conv layers with pooling)", group="what to run", fixed=True)
    textbook: bool = option(
        Switch(), "the textbook recipe for logreg and mlp (SGD, lr 0.5, batch 100, "
        f"{TEXTBOOK['epochs']} epochs unless --epochs, eval every 100 iterations); the default "
        "when --model is not given", default=False, group="what to run", stored=False)
    hidden: tuple | None = option(
        Sizes(), "hidden layer sizes, e.g. 512,256, or none (mlp, mlp-deep; linear layers after "
        "the convolutions for cnn, preset 128)", group="training", fixed=True)
    channels: tuple | None = option(
        Sizes(), "cnn: channels of the two conv layers, e.g. 16,32", group="training", fixed=True)
    dropout: float | None = option(
        Real(allow_zero=True, below=1), "dropout probability before each linear layer after the "
        "first (mlp-deep preset: 0.2)", group="training", fixed=True)
    dataset: str = option(
        Choice(DATASETS), "fashion-mnist (default) | mnist (the lecture notes' digits; give "
        "their folder with --data)", default="fashion-mnist", group="data and evaluation",
        fixed=True)
    val_size: int | None = option(
        Integer(0), f"validation images carved from the training set (default "
        f"{DEFAULT_VAL_SIZE}, or a tenth of --limit-train); 0: none",
        group="data and evaluation", fixed=True)
    limit_train: int | None = option(
        Integer(1), "use only the first N training images (before the validation split)",
        group="data and evaluation", fixed=True, optional=True)
    limit_test: int | None = option(Integer(1), "evaluate on the first N test images only",
                                    group="data and evaluation", optional=True)


def resolve(cfg):
    """`cfg` (with ``cfg.model`` set) complete: every unset option from the model's
    preset; ``UsageError`` for options that do not apply to the model.

    Example: ``resolve(ImagesConfig(model="cnn")).channels == (16, 32)``.
    """
    model = cfg.model
    preset = PRESETS[model]
    if model == "logreg" and cfg.hidden:
        raise UsageError("--hidden does not apply to --model logreg (it has no hidden layer)")
    hidden = cfg.hidden if cfg.hidden is not None else preset["hidden"]
    if model == "cnn":
        channels = cfg.channels if cfg.channels is not None else preset["channels"]
        if len(channels) != 2:
            raise UsageError(f"--channels needs two sizes (the two conv layers), got "
                             f"{','.join(map(str, channels)) or 'none'}")
    elif cfg.channels is not None:
        raise UsageError("--channels only applies to --model cnn")
    else:
        channels = ()
    if cfg.val_size is not None:
        val_size = cfg.val_size
    else:
        val_size = DEFAULT_VAL_SIZE if cfg.limit_train is None \
            else min(DEFAULT_VAL_SIZE, cfg.limit_train // 10)
    return resolve_recipe(cfg, preset).replace(
        hidden=hidden, channels=channels, val_size=val_size,
        dropout=cfg.dropout if cfg.dropout is not None else preset["dropout"])


def textbook_configs(cfg, given):
    """{model: resolved configuration} of the textbook recipe for both models.

    ``UsageError`` if the command line sets what the recipe fixes.
    """
    forbidden = [name for name in _TEXTBOOK_FIXES if name in given]
    if forbidden:
        raise UsageError("--textbook fixes the recipe (SGD, lr 0.5, batch 100, eval every "
                         "100 iterations); not allowed with it: "
                         + ", ".join(flag_name(k) for k in forbidden))
    epochs = cfg.epochs or TEXTBOOK["epochs"]
    return {model: resolve(cfg.replace(model=model, epochs=epochs, textbook=False))
            for model in TEXTBOOK["models"]}
