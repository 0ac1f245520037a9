"""Mini-batches over NumPy arrays, reproducibly shuffled and resumable.

``nn.DataLoader`` has two entry points:

- ``nn.DataLoader(x, y, ..., batch_size=32, shuffle=True, seed=0)`` with
  arrays (or Tensors): the fast path of this module, which slices whole
  arrays, yields tuples of arrays and resumes exactly mid-epoch from
  ``state_dict()``;
- ``nn.DataLoader(dataset, batch_size=32, ...)`` with anything else (a
  ``Dataset``, a list, ...): PyTorch's loader,
  ``autograd_core.utils.data.DataLoader``, which yields collated Tensors.
"""

import math
import numbers

import numpy as np

from autograd_core import random as _random
from autograd_core.utils.data import DataLoader as _DatasetLoader

__all__ = ["DataLoader"]

_STATE_KEYS = ("epoch", "batch", "seed_entropy", "num_examples", "batch_size",
               "shuffle", "drop_last")


def _check_int(value, name, minimum):
    # bool is an int subclass, but batch_size=True is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _is_array_like(x):
    """What the array path takes: arrays, Tensors (they have ``__array__``) and numbers."""
    return isinstance(x, (np.ndarray, np.generic, numbers.Number)) or hasattr(x, "__array__")


class DataLoader:
    """Iterate over arrays in mini-batches: ``for xb, yb in DataLoader(x, y, batch_size=32)``.

    Called with a dataset instead (``DataLoader(dataset, batch_size=...)``, or
    any first argument that is not an array, Tensor or number, or
    ``dataset=``), it returns ``autograd_core.utils.data.DataLoader(...)``,
    PyTorch's loader, with PyTorch's arguments.

    Every array must have the same first dimension (the examples); each batch
    is a tuple with one slice of each array, in the order given.

    With ``shuffle=True`` every epoch visits the examples in a new order.  The
    order of epoch ``e`` comes from ``np.random.default_rng`` seeded with
    ``SeedSequence(seed, spawn_key=(e,))``: it depends only on the seed and
    the epoch number, not on how many epochs this process has run, which is
    what makes ``set_epoch(n)`` and resuming exact.  With ``seed=None`` the
    seed is drawn once, here, from ``generator`` (an ``autograd_core.Generator``
    or ``numpy.random.Generator``) or else from the global generator, so that
    ``autograd_core.manual_seed(s)`` fixes the order; ``state_dict()`` records
    it, so that run can be resumed too.

    ``epoch`` counts completed (or abandoned) passes: a pass that finishes, or
    a ``for`` loop left early with ``break``, moves to the next epoch.
    ``state_dict()`` may be taken between batches; a loader given it by
    ``load_state_dict()`` yields exactly the batches the original would have
    yielded next, starting in the middle of an epoch if need be.

        >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> [yb.tolist() for xb, yb in nn.DataLoader(x, y, batch_size=2)]      # arrays, in order
        [[0, 1], [2, 3], [4]]
        >>> loader = nn.DataLoader(x, y, batch_size=2, shuffle=True, seed=0)
        >>> first = [yb.tolist() for _, yb in loader]                 # epoch 0
        >>> second = [yb.tolist() for _, yb in loader]                # epoch 1: a new order
        >>> sorted(sum(first, [])) == sorted(sum(second, [])) == [0, 1, 2, 3, 4]
        True
        >>> loader.set_epoch(0)
        >>> [yb.tolist() for _, yb in loader] == first               # the same seed and epoch
        True
    """

    def __new__(cls, *args, **kwargs):
        if (args and not _is_array_like(args[0])) or (not args and "dataset" in kwargs):
            return _DatasetLoader(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, *arrays, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 generator=None):
        if not arrays:
            raise TypeError("DataLoader needs at least one array")
        arrays = tuple(np.asarray(a) for a in arrays)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"array {i} is 0-d (shape ()); DataLoader needs arrays "
                                 "whose first dimension indexes the examples")
        shapes = [a.shape for a in arrays]
        if len({s[0] for s in shapes}) != 1:
            raise ValueError("all arrays must have the same first dimension (number of "
                             f"examples), got shapes {', '.join(map(str, shapes))}")
        self.arrays = arrays
        self.batch_size = _check_int(batch_size, "batch_size", 1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if seed is None:
            rng = _random.get_generator(generator, "DataLoader")
            # Only a shuffling loader consumes randomness (as in PyTorch).
            self._seed_entropy = int(rng.integers(0, 1 << 63)) if shuffle else 0
        else:
            self._seed_entropy = _check_int(seed, "seed", 0)
        self._epoch = 0
        self._next_batch = 0
        # Identifies the iteration allowed to update the position; set_epoch
        # and load_state_dict detach any iteration still running.
        self._iteration = None

    @property
    def num_examples(self):
        """The number of examples: the arrays' common first dimension."""
        return len(self.arrays[0])

    @property
    def epoch(self):
        """Index of the epoch the next (or current) pass belongs to, from 0."""
        return self._epoch

    def __len__(self):
        """Number of batches per epoch."""
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def set_epoch(self, epoch):
        """Make the next pass epoch `epoch` (its shuffle order), from its first batch."""
        self._epoch = _check_int(epoch, "epoch", 0)
        self._next_batch = 0
        self._iteration = None

    def order(self, epoch=None):
        """The example indices of `epoch` (default: the current one), in visiting order."""
        epoch = self._epoch if epoch is None else _check_int(epoch, "epoch", 0)
        if not self.shuffle:
            return np.arange(self.num_examples)
        seq = np.random.SeedSequence(self._seed_entropy, spawn_key=(epoch,))
        return np.random.default_rng(seq).permutation(self.num_examples)

    def __iter__(self):
        token = object()
        self._iteration = token
        order = self.order() if self.shuffle else None
        n_batches, bs = len(self), self.batch_size
        try:
            for b in range(self._next_batch, n_batches):
                if self._iteration is token:
                    # Updated before yielding, so that a state_dict() taken
                    # while the caller holds batch b resumes at b + 1.
                    self._next_batch = b + 1
                if order is None:
                    # Slices give views: no copy when not shuffling.
                    yield tuple(a[b * bs:(b + 1) * bs] for a in self.arrays)
                else:
                    idx = order[b * bs:(b + 1) * bs]
                    yield tuple(a[idx] for a in self.arrays)
        finally:
            # Also reached when a `for` loop breaks early (the generator is
            # closed): as in PyTorch, the next pass is a new epoch.
            if self._iteration is token:
                self._epoch += 1
                self._next_batch = 0
                self._iteration = None

    def state_dict(self):
        """Plain-Python state (ints and bools) from which iteration can resume."""
        epoch, batch = self._epoch, self._next_batch
        if batch >= len(self) and batch > 0:
            # The caller holds the epoch's last batch: resuming starts the next one.
            epoch, batch = epoch + 1, 0
        return {
            "epoch": epoch,
            "batch": batch,
            "seed_entropy": int(self._seed_entropy),
            "num_examples": self.num_examples,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state):
        """Resume from ``state_dict()``; the data and settings must be the same."""
        missing = [k for k in _STATE_KEYS if k not in state]
        if missing:
            raise KeyError(f"DataLoader state is missing {', '.join(missing)}")
        for key in ("num_examples", "batch_size", "shuffle", "drop_last"):
            if state[key] != getattr(self, key):
                raise ValueError(
                    f"DataLoader state was saved with {key}={state[key]!r} but this "
                    f"loader has {key}={getattr(self, key)!r}; resuming would not "
                    "reproduce the same batches"
                )
        epoch = _check_int(state["epoch"], "state['epoch']", 0)
        batch = _check_int(state["batch"], "state['batch']", 0)
        if batch > len(self):
            raise ValueError(f"state['batch']={batch} exceeds the {len(self)} batches per epoch")
        self._seed_entropy = _check_int(state["seed_entropy"], "state['seed_entropy']", 0)
        self._epoch, self._next_batch = epoch, batch
        self._iteration = None

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return (f"DataLoader({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, epoch={self._epoch})")
