"""The training loop every job shares: mini-batches, evaluations, checkpoints, resume.

``Trainer`` runs epochs of ``loader`` through ``loss_step``, the optimiser and
the LR schedule; evaluates every ``eval_every`` iterations (and at the end);
keeps the mini-batch metrics averaged since the previous evaluation and over
the epoch; writes a checkpoint at the end of every epoch and when Ctrl-C stops
it; and calls the hooks registered for ``"step"``, ``"evaluation"`` and
``"epoch_end"``.

Its ``state_dict()`` holds everything the rest of a run depends on -- model,
optimiser, schedule, the DataLoader's position, the random generators, the
metrics so far and the running sums of the current evaluation window and
epoch -- so a trainer given it by ``load_state_dict`` continues bit for bit as
if the run had never stopped, also from the middle of an epoch.
"""
from __future__ import annotations

import copy
import statistics
import time

import autograd_core as ag
import nn
from autograd_apps.common.checkpoints import rng_state, set_rng_state
from autograd_apps.common.errors import UsageError, one_line
from autograd_apps.common.interrupt import Interrupted
from autograd_apps.common.progress import ProgressBar

__all__ = ["Trainer", "HOOK_EVENTS", "COMPILE_CACHE"]

HOOK_EVENTS = ("step", "evaluation", "epoch_end")
# Compiled programs kept per trainer (compile=True), one per batch signature:
# a job whose batches are cut to their longest sequence has one per length.
COMPILE_CACHE = 64


def _new_sums(metrics):
    return {"n": 0, **{m: 0.0 for m in metrics}}


def _new_epoch_sums(metrics):
    # steps_time: wall-clock seconds in training steps; steps_cpu: CPU seconds
    # of this process in them (all threads), much less sensitive to other load.
    return {**_new_sums(metrics), "steps_time": 0.0, "steps_cpu": 0.0, "wall_time": 0.0,
            "examples": 0}


class _NoStop:
    requested = False

    def after_iteration(self, iteration):
        pass


class Trainer:
    """Train `model` for `epochs` passes over `loader`.

    loss_step(model, batch) -> (loss, extra): the scalar loss Tensor of a
    batch and a dict of further per-batch metrics (e.g. ``{"error": 0.12}``);
    ``metrics`` names them all, ``"cost"`` (the loss) first.  evaluate() ->
    {name: value} on held-out data, the names in ``val_metrics`` (default:
    ``metrics``).  scheduler / scheduler_interval: an LR schedule stepped
    every ``"iteration"`` or every ``"epoch"``.  checkpoints: a
    ``CheckpointDir`` (None: no checkpoints); ``state_extra`` is saved in
    every checkpoint besides the trainer's state (e.g. the format and the
    configuration).  label, unit: for the progress bar and the per-epoch
    rate (``<unit>_per_s``); count(batch): examples in a batch (default
    ``len(batch[0])``).

    compile: run each step (loss_step, zero_grad, backward, the optimiser's
    step) as one program traced by ``autograd_core.compile``: the same numbers,
    fewer Python steps; one program per batch signature (e.g. per sequence
    length), up to ``COMPILE_CACHE`` of them. loss_step's extra metrics must then be Tensors computed
    with tensor ops (a float read from a tensor would be frozen into the program).

    Example::

        trainer = Trainer(model, opt, loader, step, epochs=15, eval_every=100,
                          evaluate=lambda: {"cost": ..., "error": ...},
                          metrics=("cost", "error"), checkpoints=CheckpointDir(run))
        trainer.register_hook("epoch_end", lambda t, row: print(row))
        with StopRequest() as stop:
            trainer.fit(stop)
    """

    def __init__(self, model, optimizer, loader, loss_step, *, epochs, eval_every,
                 evaluate=None, metrics=("cost",), val_metrics=None, scheduler=None,
                 scheduler_interval=None, checkpoints=None, state_extra=None,
                 label="train", unit="examples", count=None, progress=True, compile=False):
        if scheduler is not None and scheduler_interval not in ("iteration", "epoch"):
            raise ValueError(f"Trainer: scheduler_interval must be 'iteration' or 'epoch', "
                             f"got {scheduler_interval!r}")
        if not metrics or metrics[0] != "cost":
            raise ValueError(f"Trainer: metrics must start with 'cost' (the loss), got {metrics!r}")
        self.model, self.optimizer, self.loader = model, optimizer, loader
        self.loss_step, self.evaluate = loss_step, evaluate
        self.epochs, self.eval_every = epochs, eval_every
        self.metrics = tuple(metrics)
        self.val_metrics = tuple(val_metrics if val_metrics is not None else metrics)
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.checkpoints, self.state_extra = checkpoints, dict(state_extra or {})
        self.label, self.unit, self.progress = label, unit, progress
        self.count = count or (lambda batch: len(batch[0]))
        self.iters_per_epoch = len(loader)
        self.iteration = 0
        self.epoch = 0                  # completed epochs
        self.finished = False
        self.evals, self.epoch_rows = [], []
        self.window = _new_sums(self.metrics)          # since the previous evaluation
        self.epoch_sums = _new_epoch_sums(self.metrics)
        self.elapsed_before = 0.0       # training time of earlier sessions (resume)
        self.session_start = None
        self.hooks = {event: [] for event in HOOK_EVENTS}
        self.compiled = (ag.compile(self._update, cache_size=COMPILE_CACHE) if compile
                         else None)

    # ---- hooks ------------------------------------------------------------
    def register_hook(self, event, fn):
        """Call ``fn(trainer, info)`` at every `event`: ``"step"`` (info: the
        batch's metrics), ``"evaluation"`` (the new row of ``evals``) or
        ``"epoch_end"`` (the new row of ``epoch_rows``, after its checkpoint)."""
        if event not in self.hooks:
            raise ValueError(f"register_hook: event must be one of {', '.join(HOOK_EVENTS)}, "
                             f"got {event!r}")
        self.hooks[event].append(fn)
        return fn

    def _call(self, event, info):
        for fn in self.hooks[event]:
            fn(self, info)

    # ---- fields of the records -----------------------------------------------
    @property
    def eval_fields(self):
        """Column names of ``evals`` (and of a metrics.csv)."""
        return ("iteration", "epoch", *(f"train_{m}" for m in self.metrics),
                *(f"val_{m}" for m in self.val_metrics), "lr", "elapsed")

    def lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def elapsed(self):
        """Seconds of training so far, over every session of the run."""
        extra = 0.0 if self.session_start is None else time.perf_counter() - self.session_start
        return self.elapsed_before + extra

    # ---- state ---------------------------------------------------------------
    def state_dict(self):
        """Everything needed to continue exactly; plus ``state_extra``."""
        return {
            **self.state_extra,
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "loader": self.loader.state_dict(),
            "rng": rng_state(self.model),
            "iteration": self.iteration,
            "epoch": self.epoch,
            "finished": self.finished,
            "window": dict(self.window),
            "epoch_sums": dict(self.epoch_sums),
            "elapsed": self.elapsed(),
            "metrics": {"evals": list(self.evals), "epochs": list(self.epoch_rows)},
        }

    def load_state_dict(self, state):
        """Continue from ``state_dict()``; ``UsageError`` if it does not fit this
        trainer (another architecture, data of another size, ...)."""
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            self.loader.load_state_dict(state["loader"])
            set_rng_state(self.model, state["rng"])
            iteration, epoch = state["iteration"], state["epoch"]
            window, epoch_sums = dict(state["window"]), dict(state["epoch_sums"])
            finished, elapsed = state["finished"], state["elapsed"]
            evals = [dict(r) for r in state["metrics"]["evals"]]
            epoch_rows = [dict(r) for r in state["metrics"]["epochs"]]
        except (KeyError, ValueError, TypeError, AttributeError, nn.StateDictError) as exc:
            # StateDictError: another architecture; the others: a damaged state.
            text = f"missing {exc}" if isinstance(exc, KeyError) else one_line(exc)
            raise UsageError(f"checkpoint does not fit this run: {text}") from None
        if self.loader.epoch != epoch:
            raise UsageError(f"inconsistent checkpoint: epoch {epoch} but the data "
                             f"loader is at epoch {self.loader.epoch}")
        if set(window) != set(_new_sums(self.metrics)):
            raise UsageError(f"checkpoint does not fit this run: its metrics are "
                             f"{', '.join(sorted(set(window) - {'n'}))}")
        self.iteration, self.epoch = iteration, epoch
        self.window, self.epoch_sums = window, epoch_sums
        self.elapsed_before = elapsed
        self.evals, self.epoch_rows = evals, epoch_rows
        self.finished = finished and self.epoch >= self.epochs

    def save_checkpoint(self, epoch_end):
        """Write the state (``epoch-NNN.ckpt`` too at the end of an epoch); returns
        last.ckpt, or None without a ``CheckpointDir``."""
        if self.checkpoints is None:
            return None
        return self.checkpoints.save(self.state_dict(), epoch=self.epoch if epoch_end else None)

    # ---- training ------------------------------------------------------------
    def record_evaluation(self):
        """Evaluate now: one row of ``evals`` (the window's mini-batch means, the
        validation metrics, lr, elapsed); the window starts again."""
        val = self.evaluate() if self.evaluate is not None else {}
        n = max(self.window["n"], 1)
        row = {"iteration": self.iteration,
               "epoch": round(self.iteration / self.iters_per_epoch, 4),
               **{f"train_{m}": self.window[m] / n for m in self.metrics},
               **{f"val_{m}": val.get(m, float("nan")) for m in self.val_metrics},
               "lr": self.lr(), "elapsed": round(self.elapsed(), 3)}
        self.evals.append(row)
        self.window = _new_sums(self.metrics)
        self._call("evaluation", row)
        return row

    def _update(self, batch):
        """One step of the parameters: (the batch's loss, its extra metrics)."""
        loss, extra = self.loss_step(self.model, batch)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss, extra

    def eager_step_seconds(self, steps=20):
        """The median wall time of one eager training step, measured on copies of
        the model and optimiser over the loader's next ``steps`` batches: the
        baseline a compiled run's time is reported beside. The trainer's own
        model, optimiser, loader position and random generators are left as
        they were."""
        loader_state, rngs = self.loader.state_dict(), rng_state(self.model)
        model, optimizer = copy.deepcopy((self.model, self.optimizer))
        was_training = model.training
        model.train()
        times = []
        try:
            for k, batch in enumerate(self.loader):
                if k == steps:
                    break
                t0 = time.perf_counter()
                loss, _ = self.loss_step(model, batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                times.append(time.perf_counter() - t0)
        finally:
            model.train(was_training)
            self.loader.load_state_dict(loader_state)
            set_rng_state(self.model, rngs)
        return statistics.median(times) if times else None

    def _step(self, batch):
        if self.compiled is None:
            loss, extra = self._update(batch)
        else:
            try:
                loss, extra = self.compiled(batch)
            except ag.CompileError as exc:
                raise UsageError(f"--compile: the training step cannot be compiled: "
                                 f"{one_line(exc)}") from None
        if self.scheduler_interval == "iteration":
            self.scheduler.step()
        return {"cost": float(loss.item()), **{k: float(v) for k, v in extra.items()}}

    def _end_segment(self, seg):
        for key in ("steps_time", "steps_cpu", "examples"):
            self.epoch_sums[key] += seg[key]
        self.epoch_sums["wall_time"] += time.perf_counter() - seg["start"]

    def _epoch_row(self):
        sums = self.epoch_sums
        n = max(sums["n"], 1)
        last = self.evals[-1] if self.evals else {}
        return {"epoch": self.epoch, "iteration": self.iteration,
                **{f"train_{m}": sums[m] / n for m in self.metrics},
                **{f"val_{m}": last.get(f"val_{m}") for m in self.val_metrics},
                "lr": self.lr(),
                "steps_time": round(sums["steps_time"], 3),
                "steps_cpu": round(sums["steps_cpu"], 3),
                "wall_time": round(sums["wall_time"], 3),
                f"{self.unit}_per_s": round(sums["examples"] / sums["steps_time"], 1)
                if sums["steps_time"] else None}

    def fit(self, stop=None):
        """Train to ``epochs``. `stop`: a ``StopRequest``; when it is requested the
        current iteration finishes, a checkpoint is written and ``Interrupted``
        is raised."""
        stop = stop if stop is not None else _NoStop()
        self.session_start = time.perf_counter()
        while self.epoch < self.epochs:
            bar = ProgressBar(self.iters_per_epoch, f"{self.label} epoch {self.epoch + 1}/"
                              f"{self.epochs}", unit=self.unit, enabled=self.progress,
                              initial=self.loader.state_dict()["batch"])
            seg = {"start": time.perf_counter(), "steps_time": 0.0, "steps_cpu": 0.0,
                   "examples": 0}
            for batch in self.loader:
                t0, c0 = time.perf_counter(), time.process_time()
                values = self._step(batch)
                seg["steps_time"] += time.perf_counter() - t0
                seg["steps_cpu"] += time.process_time() - c0
                seg["examples"] += self.count(batch)
                self.iteration += 1
                for sums in (self.window, self.epoch_sums):
                    sums["n"] += 1
                    for m in self.metrics:
                        sums[m] += values[m]
                self._call("step", values)
                if self.iteration % self.eval_every == 0:
                    self.record_evaluation()
                position = self.loader.state_dict()["batch"]
                if bar.enabled:
                    bar.update(position or self.iters_per_epoch,
                               self.epoch_sums["cost"] / self.epoch_sums["n"],
                               seg["examples"] / seg["steps_time"] if seg["steps_time"] else 0.0,
                               force=position == 0)
                stop.after_iteration(self.iteration)
                # After the last batch of an epoch, the epoch's own bookkeeping and
                # checkpoint come first (below); the stop is honoured after them.
                if stop.requested and position != 0:
                    bar.close()
                    self._end_segment(seg)
                    raise Interrupted(self.checkpoints and self.checkpoints.run_dir,
                                      self.save_checkpoint(epoch_end=False), self.iteration)
            bar.close()
            self._end_segment(seg)
            self.epoch += 1
            if self.epoch == self.epochs and (not self.evals
                                              or self.evals[-1]["iteration"] != self.iteration):
                self.record_evaluation()     # the curves end at the final parameters
            row = self._epoch_row()
            self.epoch_rows.append(row)
            self.epoch_sums = _new_epoch_sums(self.metrics)
            if self.scheduler_interval == "epoch":
                self.scheduler.step()
            self.finished = self.epoch >= self.epochs
            last = self.save_checkpoint(epoch_end=True)
            self._call("epoch_end", row)
            if stop.requested:     # Ctrl-C during the evaluation or the checkpoint
                raise Interrupted(self.checkpoints and self.checkpoints.run_dir, last,
                                  self.iteration)
        self.finished = True
        self.elapsed_before, self.session_start = self.elapsed(), None
