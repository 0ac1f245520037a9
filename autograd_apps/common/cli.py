"""What every job's command line shares: exit statuses, one-line errors, run folders.

``run_command(body)`` runs a job and turns what can go wrong into an exit
status and one line on stderr: 0 when done, 2 for a usage or data error
(never a traceback), 130 after Ctrl-C (a checkpoint was written; the line
says how to resume).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from autograd_core.serialization import CheckpointError
from nn.datasets import DatasetNotFoundError, IDXError

from autograd_apps.common.blas import blas_threads
from autograd_apps.common.checkpoints import CheckpointDir
from autograd_apps.common.console import program, say, set_program
from autograd_apps.common.errors import UsageError, one_line
from autograd_apps.common.interrupt import EXIT_INTERRUPTED, Interrupted, StopRequest
from autograd_apps.common.recipe import RUNS_ROOT, merge_resume
from autograd_apps.common.report import read_json, write_json

__all__ = ["run_command", "EXIT_OK", "EXIT_ERROR", "EXIT_INTERRUPTED", "new_run_dir",
           "check_new_run_dir", "make_run_dir", "latest_run", "load_run", "run_trainer",
           "run_job", "resume_dir"]

EXIT_OK = 0
EXIT_ERROR = 2


def _error(message):
    print(f"{program()}: error: {one_line(message)}", file=sys.stderr, flush=True)
    return EXIT_ERROR


def run_command(body, resume_command):
    """Run ``body()`` (returns an exit status) and report its failures in one line.

    resume_command(run_dir): the command that continues an interrupted run.

    Example: ``sys.exit(run_command(lambda: train(cfg), lambda d: f"prog --resume {d}"))``.
    """
    try:
        return body()
    except Interrupted as exc:
        where = (f"checkpoint saved to {exc.checkpoint}" if exc.checkpoint
                 else "no checkpoint written")
        print(f"\nInterrupted after iteration {exc.iteration}; {where}.\n"
              f"Resume with:  {resume_command(exc.run_dir)}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"\n{program()}: aborted; the last checkpoint written (if any) is unchanged.",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except DatasetNotFoundError as exc:
        return _error(exc.summary)
    except (UsageError, IDXError, CheckpointError) as exc:
        return _error(str(exc))
    except OSError as exc:      # a file that cannot be read or written: no traceback either
        return _error(f"{exc.filename + ': ' if exc.filename else ''}"
                      f"{exc.strerror or exc}")


def resume_dir(run_dir, group_marker):
    """The folder to give ``--resume`` for `run_dir`: its parent when that holds
    `group_marker` (a group of runs, resumed as a whole), else `run_dir` itself.

    Example: ``resume_dir("runs/textbook-1/mlp", "textbook.json")`` -> ``runs/textbook-1``.
    """
    run_dir = Path(run_dir)
    return run_dir.parent if (run_dir.parent / group_marker).is_file() else run_dir


def run_job(prog, parser, config_class, run, module, group_marker, argv=None):
    """A job's ``main``: parse `argv` (default: the command line) with `parser`,
    make the `config_class` configuration and run(command, given) under
    ``run_command``; an interrupted run is continued with ``python -m <module>
    --resume <resume_dir(...)>``.  Returns the exit status (0, 2, 130).

    Example: ``run_job("autograd-charlm", build_parser(), CharLMConfig, _run,
    "autograd_apps.charlm", "charlm.json", ["--model", "mlp"])``.
    """
    set_program(prog)
    args = parser.parse_args(argv)
    return run_command(lambda: run(*config_class.from_namespace(args)),
                       lambda d: f"python -m {module} --resume {resume_dir(d, group_marker)}")


def new_run_dir(stem, root=RUNS_ROOT):
    """A new folder name ``<root>/<stem>-<YYYYmmdd-HHMMSS>`` (suffixed -2, -3... if taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{stem}-{stamp}"
    path, k = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{k}")
        k += 1
    return path


def check_new_run_dir(path, group_marker=None):
    """`path` (``--out``) as the folder of a new run; ``UsageError`` if it is a file
    or already holds a run (a checkpoint, or `group_marker` of several runs)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path} is a file, not a folder")
    if CheckpointDir(path).exists() or (group_marker and (path / group_marker).is_file()):
        raise UsageError(f"{path} already holds a run; continue it with --resume {path}, "
                         "or choose another --out")
    return path


def make_run_dir(path):
    """Create the run folder `path` (and its parents); ``UsageError`` if it cannot be."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create the folder "
                         f"({exc.strerror or exc})") from None
    return Path(path)


def latest_run(root=RUNS_ROOT, group_marker=None):
    """The run folder under `root` with the newest checkpoint (for a bare ``--resume``).

    group_marker: the file that marks a folder holding several runs (e.g.
    ``textbook.json``); such a folder is returned as a whole.
    """
    root = Path(root)
    candidates = []
    if root.is_dir():
        for d in (p for p in root.iterdir() if p.is_dir()):
            if group_marker and (d / group_marker).is_file():
                candidates.append(((d / group_marker).stat().st_mtime, d))
                for sub in (p for p in d.iterdir() if p.is_dir()):
                    last = CheckpointDir(sub).last
                    if last.is_file():
                        candidates.append((last.stat().st_mtime, d))
            elif CheckpointDir(d).exists():
                candidates.append((CheckpointDir(d).last.stat().st_mtime, d))
    if not candidates:
        raise UsageError(f"--resume: no run with a checkpoint under {root}/ "
                         "(give the run folder: --resume DIR)")
    return max(candidates)[1]


def load_run(run_dir, config_class, checkpoint_format, command, given):
    """(configuration, checkpoint state) of the run in `run_dir`, to be continued
    with the options of this `command` line (`given` names those it set).

    Checked: the checkpoint is one of this program (`checkpoint_format`), the
    run's ``config.json`` is a valid `config_class` and describes the run the
    checkpoint belongs to (the same ``fixed`` options); ``UsageError`` otherwise.
    The checkpoint's planned epochs win (an earlier --resume may have extended them).

    Example: ``cfg, state = load_run("runs/mlp-1", ImagesConfig, "autograd_apps.images/1", cmd, given)``.
    """
    ckpts = CheckpointDir(run_dir)
    state = ckpts.load(checkpoint_format)
    config_path = Path(run_dir) / "config.json"
    if not config_path.is_file():
        raise UsageError(f"--resume: {config_path} is missing, so the run in {run_dir} "
                         "cannot be continued")
    stored = config_class.from_dict(read_json(config_path), source=config_path)
    saved = config_class.from_dict(state.get("config"), source=f"{ckpts.last} (its config)")
    differ = [name for name in config_class.fixed_names()
              if getattr(stored, name) != getattr(saved, name)]
    if differ:
        def show(cfg):
            return ", ".join(f"{name}={one_line(getattr(cfg, name))}" for name in differ)
        raise UsageError(f"{ckpts.last} is a checkpoint of another run: {show(saved)} there, "
                         f"but {show(stored)} in {config_path}")
    stored = stored.replace(epochs=saved.epochs)
    return merge_resume(stored, command, given), state


def run_trainer(trainer, cfg, run_dir, state, *, describe, finish, on_start=None,
                on_interrupt=None):
    """The life of one run in `run_dir`: start it or resume it, train, finish.

    state: a checkpoint to continue from (None: a new run, whose folder is
    created).  ``config.json`` is (re)written with `cfg`; describe() -> the
    line that introduces a new run; on_start(): after a new run's folder
    exists (e.g. draw its graph).  Training runs with ``cfg.blas_threads``
    BLAS threads and Ctrl-C caught (``StopRequest``); after Ctrl-C
    on_interrupt() runs and ``Interrupted`` propagates.  Returns finish(),
    called with the same BLAS threads once training is complete.

    Example: ``run_trainer(trainer, cfg, run, None, describe=lambda: "mlp",
    finish=lambda: final_report(trainer))``.
    """
    run_dir = Path(run_dir)
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except UsageError as exc:
            raise UsageError(f"{trainer.checkpoints.last}: {exc}") from None
        write_json(run_dir / "config.json", cfg.to_dict())      # e.g. --epochs extended it
        say(f"Resuming {run_dir} at epoch {trainer.epoch}, iteration {trainer.iteration} "
            f"(of {cfg.epochs} epochs x {trainer.iters_per_epoch})")
    else:
        make_run_dir(run_dir)
        write_json(run_dir / "config.json", cfg.to_dict())
        say(describe())
        say(f"Run folder: {run_dir}")
        if on_start is not None:
            on_start()
    with blas_threads(cfg.blas_threads):
        if not trainer.finished:
            with StopRequest() as stop:
                try:
                    trainer.fit(stop)
                except Interrupted:
                    if on_interrupt is not None:
                        on_interrupt()
                    raise
        return finish()
