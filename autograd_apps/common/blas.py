"""How many threads NumPy's BLAS may use during a run, through threadpoolctl.

On a shared 2-core machine OpenBLAS's default of one thread per core made an
MLP epoch 8-17x slower than one thread (docs/results.md): training is a long
sequence of medium-sized matrix products, and whenever another process holds a
core every product waits for its second thread.
"""
from __future__ import annotations

import contextlib

import numpy as np  # noqa: F401 - loads NumPy's BLAS, so that threadpoolctl can find it
from threadpoolctl import ThreadpoolController

from autograd_apps.common.console import warn

__all__ = ["blas_threads", "blas_thread_counts"]


def blas_thread_counts():
    """The thread count of every BLAS library loaded in this process (a list).

    Example: ``blas_thread_counts()`` -> ``[2]`` for NumPy's OpenBLAS on 2 cores.
    """
    return [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]


@contextlib.contextmanager
def blas_threads(n):
    """Run the block with the BLAS libraries limited to `n` threads, then restore them.

    n: 0 or None leaves them alone.  Yields `n`, or None if nothing was
    changed (no BLAS library found: a warning unless n is 1).

    Example::

        with blas_threads(1):
            train()
    """
    if not n:
        yield None
        return
    blas = ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        if n != 1:
            warn("--blas-threads: no BLAS library found in this process; thread count unchanged")
        yield None
        return
    with blas.limit(limits=n):
        yield n
