"""A run folder's checkpoints: ``checkpoints/epoch-NNN.ckpt`` and ``last.ckpt``.

Files are written by ``autograd_core.save`` (atomically, no pickle).  At the
end of every epoch ``epoch-NNN.ckpt`` is written and ``last.ckpt`` made the same
file (a hard link, else a copy); after Ctrl-C in the middle of an epoch only
``last.ckpt`` is replaced.  Only the newest `keep` epoch files are kept.

The random generators a model draws from (``nn.init``'s, used for the
initialisation and dropout, and any layer's own) are saved with it, so that a
resumed run draws the same numbers as one that never stopped.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

import autograd_core as ag
import nn
from autograd_apps.common.errors import UsageError

__all__ = ["CheckpointDir", "rng_state", "set_rng_state"]


def _generators(model):
    """The random generators the model draws from: nn.init's, then any layer's own."""
    gens = [("nn.init", nn.init.get_generator())]
    for name, module in model.named_modules():
        gen = getattr(module, "generator", None)
        if isinstance(gen, np.random.Generator):
            gens.append((name, gen))
    return gens


def rng_state(model):
    """{name: bit-generator state} of every generator `model` draws from.

    Example: ``saved = rng_state(model); ...; set_rng_state(model, saved)``.
    """
    return {name: gen.bit_generator.state for name, gen in _generators(model)}


def set_rng_state(model, states):
    """Restore what ``rng_state`` returned; ``UsageError`` if a generator is missing."""
    for name, gen in _generators(model):
        if name not in states:
            raise UsageError(f"checkpoint holds no state for the random generator {name!r}")
        gen.bit_generator.state = states[name]


class CheckpointDir:
    """The ``checkpoints/`` folder of the run folder `run_dir`.

    keep: how many ``epoch-NNN.ckpt`` files to keep (0: all).

    Example::

        ckpts = CheckpointDir("runs/mlp-1", keep=3)
        ckpts.save(state, epoch=2)     # epoch-002.ckpt, and last.ckpt
        state = ckpts.load("autograd_apps.images/1")
    """

    def __init__(self, run_dir, keep=3):
        self.run_dir = Path(run_dir)
        self.dir = self.run_dir / "checkpoints"
        self.keep = keep

    @property
    def last(self):
        """``checkpoints/last.ckpt``: the newest state."""
        return self.dir / "last.ckpt"

    def exists(self):
        return self.last.is_file()

    def save(self, state, epoch=None):
        """Write `state`: as ``epoch-NNN.ckpt`` and ``last.ckpt`` when `epoch` is
        given (the end of an epoch), else as ``last.ckpt`` only.  Returns last.ckpt."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if epoch is None:
            ag.save(state, self.last)
            return self.last
        path = self.dir / f"epoch-{epoch:03d}.ckpt"
        ag.save(state, path)
        _replace_link(path, self.last)
        if self.keep:
            for old in sorted(self.dir.glob("epoch-*.ckpt"))[:-self.keep]:
                old.unlink()
        return self.last

    def load(self, expected_format):
        """The state in ``last.ckpt``; ``UsageError`` if there is none or it was
        written by another program (its ``format`` is not `expected_format`)."""
        if not self.exists():
            raise UsageError(f"--resume: no checkpoint in {self.run_dir} (expected {self.last})")
        state = ag.load(self.last)
        fmt = state.get("format") if isinstance(state, dict) else None
        if fmt != expected_format:
            raise UsageError(f"{self.last}: not a checkpoint of this program (format {fmt!r}, "
                             f"expected {expected_format!r})")
        return state


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
