"""The charlm job's configuration and the presets of its models.

``CharLMConfig`` adds to the shared training options the model, its sizes
(``--context``, ``--embedding``, ``--hidden``, ``--layers``, ``--heads``,
``--dropout``), the bigram's ``--smoothing``, the word list (``--words``,
``--limit-words``) and the number of sampled words; ``--compile`` (each
training step one traced program) is the shared option.  Every option left
unset takes the model's preset (``PRESETS``); ``resolve`` fills them in.
Without ``--model`` (or with ``--model all``) every model runs.
"""
from __future__ import annotations

import dataclasses
import math

from autograd_apps.common.config import Choice, Integer, Real, Switch, Text, flag_name, option
from autograd_apps.common.errors import UsageError
from autograd_apps.common.recipe import TrainingConfig, resolve_recipe
from autograd_apps.charlm.data import DEFAULT_WORDS, DEBIAN_PACKAGE
from autograd_apps.charlm.models import MODELS

__all__ = ["CharLMConfig", "MODELS", "ALL", "PRESETS", "ARCHITECTURE", "EVALS_PER_EPOCH",
           "RUNS_ROOT", "resolve", "all_configs"]

ALL = "all"
RUNS_ROOT = "runs/charlm"   # its own folder: a bare --resume never finds an image run
EVALS_PER_EPOCH = 4      # validation NLL four times per epoch unless --eval-every

# Which architecture options each model has (the others must stay unset).
ARCHITECTURE = {
    "bigram": ("smoothing",),
    "mlp": ("context", "embedding", "hidden"),
    "rnn": ("embedding", "hidden", "layers", "dropout"),
    "lstm": ("embedding", "hidden", "layers", "dropout"),
    "gru": ("embedding", "hidden", "layers", "dropout"),
    "transformer": ("embedding", "hidden", "layers", "heads", "dropout"),
}
_ARCH_NAMES = ("context", "embedding", "hidden", "layers", "heads", "dropout", "smoothing")

# The default of every option the command line leaves unset.  AdamW, the
# learning rate decayed to 0 (cosine) over the run; sizes and epochs chosen so
# that all six models train in a few minutes on 2 cores (docs/results.md).
_ADAMW = dict(optimizer="adamw", lr_schedule="cosine", weight_decay=0.01)
PRESETS = {
    # weight decay 0: the net is to reach the counts' maximum-likelihood NLL
    "bigram": dict(_ADAMW, lr=0.3, weight_decay=0.0, epochs=3, batch_size=256, smoothing=1.0),
    "mlp": dict(_ADAMW, lr=3e-3, epochs=6, batch_size=64, context=5, embedding=16, hidden=256),
    "rnn": dict(_ADAMW, lr=3e-3, epochs=5, batch_size=64, embedding=32, hidden=128, layers=1,
                dropout=0.0),
    "lstm": dict(_ADAMW, lr=5e-3, epochs=5, batch_size=64, embedding=32, hidden=128, layers=1,
                 dropout=0.0),
    "gru": dict(_ADAMW, lr=5e-3, epochs=5, batch_size=64, embedding=32, hidden=128, layers=1,
                dropout=0.0),
    "transformer": dict(_ADAMW, lr=3e-3, epochs=6, batch_size=64, embedding=64, hidden=256,
                        layers=2, heads=4, dropout=0.0),
}


@dataclasses.dataclass(frozen=True)
class CharLMConfig(TrainingConfig):
    """Configuration of one charlm run, or of all of them (``model="all"``).

    Example::

        cfg, given = CharLMConfig.from_command_line(["--model", "mlp", "--context", "4"])
        cfg = resolve(cfg, n_train=58757)     # cfg.embedding == 16, cfg.context == 4, ...
    """

    resume: str | None = option(
        Text(), "continue the run in DIR from its last checkpoint (default: the most recent "
        f"run under {RUNS_ROOT}/); --epochs may extend a run of one model",
        group="what to run", stored=False, nargs="?", const="")
    out: str | None = option(
        Text(), f"run folder (default {RUNS_ROOT}/<model>-<timestamp>, or "
        f"{RUNS_ROOT}/all-<timestamp> for all models)", group="output", stored=False)
    model: str | None = option(
        Choice(MODELS + (ALL,)), "bigram (normalised counts and a one-layer net) | mlp "
        "(Bengio et al. 2003) | rnn | lstm | gru | transformer (causal) | all (the default: "
        "every model, then the table)", group="what to run", fixed=True)
    context: int | None = option(
        Integer(1), "mlp: characters of context (preset 5; Bengio et al. used 3-8)",
        group="model", fixed=True, optional=True)
    embedding: int | None = option(
        Integer(1), "size of the character embedding (the transformer's d_model)",
        group="model", fixed=True, optional=True)
    hidden: int | None = option(
        Integer(1), "hidden units (mlp, rnn, lstm, gru); the transformer's feed-forward width",
        group="model", fixed=True, optional=True)
    layers: int | None = option(Integer(1), "stacked recurrent layers, or transformer blocks",
                                group="model", fixed=True, optional=True)
    heads: int | None = option(Integer(1), "transformer: attention heads (preset 4)",
                               group="model", fixed=True, optional=True)
    dropout: float | None = option(
        Real(allow_zero=True, below=1), "dropout probability (transformer; between stacked "
        "recurrent layers)", group="model", fixed=True, optional=True)
    smoothing: float | None = option(
        Real(), "bigram counts: add-alpha smoothing, (N[a,b] + alpha) / sum_c (N[a,c] + alpha) "
        "(preset 1)", group="model", fixed=True, optional=True)
    words: str | None = option(
        Text(), f"the word list, one word per line (default {DEFAULT_WORDS}, from Debian's "
        f"{DEBIAN_PACKAGE} package)", group="data and evaluation", fixed=True, optional=True,
        metavar="FILE")
    limit_words: int | None = option(
        Integer(3), "use only N of the cleaned words (a seeded random choice, before the "
        "80/10/10 split)", group="data and evaluation", fixed=True, optional=True)
    samples: int = option(Integer(0), "words to sample from each trained model (default 20)",
                          default=20, group="data and evaluation")
    graph: bool = option(
        Switch(), "draw graph.svg, the computation graph of the loss of one short word",
        default=False, group="output")

    GROUPS = ("what to run", "model", "training", "data and evaluation", "output")


def _architecture(cfg, model, preset, strict):
    """{option: value} of cfg's architecture options for `model`, from the preset
    where unset; an option the model does not have is an error when `strict`."""
    values = {}
    for name in _ARCH_NAMES:
        given = getattr(cfg, name)
        if name in ARCHITECTURE[model]:
            values[name] = given if given is not None else preset[name]
        else:
            if given is not None and strict:
                has = [m for m, names in ARCHITECTURE.items() if name in names]
                raise UsageError(f"{flag_name(name)} does not apply to --model {model} (only to "
                                 f"{', '.join(has)})")
            values[name] = None
    if model == "transformer" and values["embedding"] % values["heads"]:
        raise UsageError(f"--embedding {values['embedding']} must be a multiple of --heads "
                         f"{values['heads']} (the transformer's heads split d_model)")
    return values


def resolve(cfg, n_train, strict=True):
    """`cfg` (with ``cfg.model`` one model) complete: every unset option from the
    model's preset; ``--eval-every`` a quarter of an epoch of `n_train` words.

    strict: options that do not apply to the model are an error (with
    ``--model all`` they apply to the models that have them).

    Example: ``resolve(CharLMConfig(model="gru"), 58757).hidden == 128``.
    """
    model = cfg.model
    preset = dict(PRESETS[model])
    batch = cfg.batch_size or preset["batch_size"]
    preset["eval_every"] = max(1, math.ceil(math.ceil(n_train / batch) / EVALS_PER_EPOCH))
    arch = _architecture(cfg, model, preset, strict)
    return resolve_recipe(cfg, preset).replace(**arch)


def all_configs(cfg, n_train):
    """{model: resolved configuration} of every model, for ``--model all``."""
    return {m: resolve(cfg.replace(model=m), n_train, strict=False) for m in MODELS}
