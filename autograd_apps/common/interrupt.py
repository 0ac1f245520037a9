"""Ctrl-C during training: finish the iteration, save a checkpoint, exit 130.

``StopRequest`` is a context manager that installs a SIGINT handler for the
duration of training.  The first Ctrl-C only sets ``requested``; the training
loop looks at it between iterations (never in the middle of an update), writes
a checkpoint and raises ``Interrupted``.  A second Ctrl-C raises
``KeyboardInterrupt`` at once, without saving.

Test hook: with the environment variable ``AUTOGRAD_TRAIN_INTERRUPT_AFTER=k``
the program sends itself SIGINT after iteration k, exactly what Ctrl-C does.
"""
from __future__ import annotations

import os
import signal
import sys

from autograd_apps.common.errors import UsageError

__all__ = ["StopRequest", "Interrupted", "INTERRUPT_ENV", "EXIT_INTERRUPTED"]

INTERRUPT_ENV = "AUTOGRAD_TRAIN_INTERRUPT_AFTER"
EXIT_INTERRUPTED = 130          # what a shell reports for a program ended by SIGINT


class Interrupted(Exception):
    """Training stopped by Ctrl-C after writing a checkpoint.

    Attributes: ``run_dir``, ``checkpoint`` (the file written) and ``iteration``.
    """

    def __init__(self, run_dir, checkpoint, iteration):
        super().__init__(f"interrupted at iteration {iteration}")
        self.run_dir, self.checkpoint, self.iteration = run_dir, checkpoint, iteration


def _interrupt_after():
    value = os.environ.get(INTERRUPT_ENV, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"${INTERRUPT_ENV} must be an iteration number, got {value!r}") from None


class StopRequest:
    """SIGINT handler active during training (a context manager).

    ``requested`` becomes True at the first Ctrl-C; a second one raises
    ``KeyboardInterrupt``.  Outside the main thread, where Python cannot
    install signal handlers, Ctrl-C is not caught and ``request()`` only sets
    the flag.

    Example::

        with StopRequest() as stop:
            for batch in loader:
                step(batch)
                stop.after_iteration(i)
                if stop.requested:
                    save(); raise Interrupted(...)
    """

    def __init__(self):
        self.requested = False
        self.installed = False
        self._previous = None
        self._interrupt_after = _interrupt_after()

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        except ValueError:        # not the main thread
            self.installed = False
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this iteration, then saving a checkpoint "
              "(press Ctrl-C again to abort without saving)", file=sys.stderr, flush=True)

    def request(self):
        """Do what Ctrl-C does (a real SIGINT when the handler is installed)."""
        if self.installed:
            signal.raise_signal(signal.SIGINT)
        else:
            self.requested = True

    def after_iteration(self, iteration):
        """The test hook: request a stop after iteration ``$AUTOGRAD_TRAIN_INTERRUPT_AFTER``."""
        if self._interrupt_after is not None and iteration == self._interrupt_after:
            self.request()

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
        return False
