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

from autograd_apps.common.checkpoints import CheckpointDir
from autograd_apps.common.console import program
from autograd_apps.common.errors import UsageError, one_line
from autograd_apps.common.interrupt import EXIT_INTERRUPTED, Interrupted
from autograd_apps.common.recipe import RUNS_ROOT

__all__ = ["run_command", "EXIT_OK", "EXIT_ERROR", "EXIT_INTERRUPTED", "new_run_dir",
           "check_new_run_dir", "make_run_dir", "latest_run"]

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
