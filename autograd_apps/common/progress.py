"""The progress bar of an epoch, drawn by tqdm: running loss, examples/s, ETA.

On a terminal the bar is redrawn in place (at most 10 times a second) and
erased at the end of the epoch, whose summary line follows.  In a log file or
CI (a stream that is not a terminal) a plain line is written every
`log_every` seconds instead, never a carriage return.
"""
from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["ProgressBar"]


class _Lines:
    """A file for tqdm that turns its in-place redraws ('\\r' + text) into lines."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        for piece in text.split("\r"):
            piece = piece.rstrip()
            if piece:
                self.stream.write(piece + "\n")

    def flush(self):
        self.stream.flush()


class ProgressBar:
    """One epoch's progress: ``update(done, loss, rate)`` after each iteration.

    total: iterations in the epoch; label: e.g. ``"mlp epoch 3/15"``; unit:
    what `rate` counts per second (``"images"``); done: iterations finished
    in the epoch (a resumed epoch starts at ``initial``); enabled=False
    draws nothing.

    Example::

        bar = ProgressBar(550, "mlp epoch 1/15")
        for i, batch in enumerate(loader, 1):
            bar.update(i, running_loss, images_per_second)
        bar.close()
    """

    def __init__(self, total, label, unit="images", stream=None, enabled=True,
                 log_every=15.0, initial=0):
        self.unit = unit
        self._bar = None
        if not enabled:
            return
        stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        if self.tty:
            kw = dict(file=stream, mininterval=0.1,
                      bar_format="{desc} [{bar:24}] {n_fmt}/{total_fmt}{postfix}  ETA {remaining}")
        else:
            # The first line after log_every seconds, then one every log_every.
            kw = dict(file=_Lines(stream), mininterval=log_every, delay=log_every,
                      bar_format="{desc}  {n_fmt}/{total_fmt}{postfix}  ETA {remaining}  "
                                 "({percentage:.0f}%)")
        # miniters=1: every update is a candidate for a redraw (by time), and
        # tqdm's monitor thread never redraws on its own.
        self._bar = tqdm(total=total, initial=initial, desc=label, leave=False, ascii=" =",
                         miniters=1, dynamic_ncols=False, **kw)

    @property
    def enabled(self):
        return self._bar is not None

    def update(self, done, loss, rate, force=False):
        """Set the bar to `done` iterations; `force` redraws now (terminals only:
        in a log the epoch's summary line follows anyway)."""
        if self._bar is None:
            return
        self._bar.set_postfix_str(f"loss {loss:.4f}  {rate:,.0f} {self.unit}/s", refresh=False)
        self._bar.update(done - self._bar.n)
        if force and self.tty:
            self._bar.refresh()

    def close(self):
        """Erase the bar (terminal) or stop writing lines (log)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
