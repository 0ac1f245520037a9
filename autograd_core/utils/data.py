"""Datasets, samplers and the DataLoader, as ``torch.utils.data``.

A *map-style* dataset has ``__getitem__(i)`` and ``__len__()`` (a ``Dataset``
subclass, a ``TensorDataset``, a list, an ndarray); an *iterable* one is an
``IterableDataset`` with ``__iter__``. A ``DataLoader`` asks its sampler for
indices, groups them into batches (``BatchSampler``), fetches the samples and
merges them with ``collate_fn`` (``default_collate``: samples of Tensors,
arrays and numbers become one Tensor per field, stacked along a new first
dimension). Shuffling (``shuffle=True``, ``RandomSampler``, ``random_split``,
``WeightedRandomSampler``) draws from ``generator=`` or else from the global
generator, so ``ag.manual_seed(s)`` makes the batch order reproducible.

    >>> import autograd_core as ag
    >>> from autograd_core.utils.data import TensorDataset, DataLoader
    >>> ds = TensorDataset(ag.randn(100, 3), ag.randint(0, 2, (100,)))
    >>> for xb, yb in DataLoader(ds, batch_size=32, shuffle=True):
    ...     pass                       # xb: Tensor (32, 3), yb: Tensor (32,)

Everything runs in the calling process: ``num_workers`` and the other
multiprocessing options are accepted for PyTorch's signature, and the batches
are the same as with ``num_workers=0``. (``nn.DataLoader(x, y, ...)`` is the
fast path over whole arrays, with exact mid-epoch resume; see ``nn.data``.)
"""
from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import numbers

import numpy as np

from .. import random as _random
from ..creation import as_tensor, from_numpy, tensor
from ..ops import stack
from .._tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "DataLoader",
           "default_collate", "default_convert", "get_worker_info"]


# ---------------------------------------------------------------- checks

def _length(obj, fn, what="dataset"):
    """``len(obj)``, or a TypeError that says why a length is needed."""
    if not hasattr(type(obj), "__len__"):
        hint = ("; define __len__ (a map-style dataset has __getitem__ and __len__) or use "
                "an IterableDataset") if what.startswith("dataset") else ""
        raise TypeError(f"{fn}: the {what} ({type(obj).__name__}) has no __len__, and {fn} "
                        f"needs its length{hint}")
    return len(obj)


def _positive_int(value, fn, arg):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)) \
            or value <= 0:
        raise ValueError(f"{fn}: {arg} should be a positive integer value, but got "
                         f"{arg}={value!r}")
    return int(value)


def _flag(value, fn, arg):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {arg} should be a boolean value, but got {arg}={value!r}")
    return bool(value)


def _index_in_range(index, n, fn):
    """``index`` itself, checked against a length ``n`` when it is an integer."""
    i = index
    if type(i) is int or (isinstance(i, (numbers.Integral, np.integer))
                          and not isinstance(i, (bool, np.bool_))):
        if not -n <= i < n:
            raise IndexError(f"{fn}: index {int(i)} is out of range for a dataset of "
                             f"{n} examples")
    return index


# ---------------------------------------------------------------- datasets

class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and, to be
    shuffled, split or batched by a default sampler, ``__len__()``.
    ``a + b`` concatenates two datasets.

        >>> from autograd_core.utils.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i * i
        >>> ds = Squares()
        >>> len(ds), ds[3], len(ds + ds)           # + concatenates
        (4, 9, 8)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset should "
                                  "implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__``.
    ``a + b`` chains two streams.

        >>> from autograd_core.utils.data import IterableDataset, DataLoader
        >>> class Count(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n))
        >>> [b.tolist() for b in DataLoader(Count(5), batch_size=2)]
        [[0, 1], [2, 3], [4]]
        >>> list(Count(2) + Count(3))                     # + chains
        [0, 1, 0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of IterableDataset "
                                  "should implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is read by "
                        "iterating over it, not by index")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """``TensorDataset(*tensors)``: example i is ``tuple(t[i] for t in tensors)``.

    The tensors (or arrays, which are shared, not copied) must have the same
    first dimension. A DataLoader over a TensorDataset fetches each batch by
    one indexing per tensor rather than example by example.

        >>> ds = TensorDataset(ag.randn(10, 3), ag.arange(10))
        >>> x0, y0 = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        tensors = tuple(as_tensor(t) for t in tensors)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; the first dimension "
                                 "of every tensor indexes the examples")
        if len({t.shape[0] for t in tensors}) != 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors: all must have "
                             f"the same first dimension, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        _index_in_range(index, len(self), "TensorDataset")
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _batch(self, indices):
        """``default_collate([self[i] for i in indices])``, by one indexing per tensor."""
        idx = np.asarray(indices, dtype=np.int64)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"TensorDataset: index {int(bad)} is out of range for a "
                             f"dataset of {n} examples")
        return [t[idx] for t in self.tensors]


class Subset(Dataset):
    """``Subset(dataset, indices)``: the examples of ``dataset`` at ``indices``, in order.

        >>> from autograd_core.utils.data import Subset, TensorDataset
        >>> sub = Subset(TensorDataset(ag.arange(10)), [7, 2])
        >>> len(sub), sub[0]
        (2, (Tensor(7),))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        _index_in_range(idx, len(self), "Subset")
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        for i in indices:
            _index_in_range(i, len(self), "Subset")
        inner = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """``ConcatDataset(datasets)``: the examples of each map-style dataset in turn.
    ``cumulative_sizes[k]`` is the number of examples in datasets 0..k.

        >>> from autograd_core.utils.data import ConcatDataset, TensorDataset
        >>> ds = ConcatDataset([TensorDataset(ag.arange(3)), TensorDataset(ag.arange(10, 12))])
        >>> len(ds), ds[3]                               # index 3 is the second's first
        (5, (Tensor(10),))
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        sizes = []
        for k, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {k} is an IterableDataset; "
                                "chain streams with ChainDataset instead")
            sizes.append(_length(d, "ConcatDataset", f"dataset {k}"))
        self.cumulative_sizes = list(itertools.accumulate(sizes))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (numbers.Integral, np.integer)):
            raise TypeError(f"ConcatDataset: index must be an int, got {type(idx).__name__}")
        _index_in_range(idx, n, "ConcatDataset")
        if idx < 0:
            idx += n
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


class ChainDataset(IterableDataset):
    """``ChainDataset(datasets)``: the streams of iterable datasets one after another.

        >>> from autograd_core.utils.data import ChainDataset, IterableDataset
        >>> class Letters(IterableDataset):
        ...     def __init__(self, text):
        ...         self.text = text
        ...     def __iter__(self):
        ...         return iter(self.text)
        >>> list(ChainDataset([Letters("ab"), Letters("cd")]))
        ['a', 'b', 'c', 'd']
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for k, d in enumerate(self.datasets):
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: dataset {k} ({type(d).__name__}) is not "
                                "an IterableDataset")
            yield from d

    def __len__(self):
        return sum(_length(d, "ChainDataset", f"dataset {k}")
                   for k, d in enumerate(self.datasets))


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given
    ``lengths`` (ints summing to ``len(dataset)``, or fractions summing to 1:
    each gets ⌊n·fraction⌋ and the remainder is dealt out one by one from the
    first). The permutation comes from ``generator`` or the global generator.

        >>> train, val = random_split(range(10), [0.8, 0.2],
        ...                           generator=ag.Generator().manual_seed(0))
    """
    fn = "random_split"
    n = _length(dataset, fn)
    lengths = list(lengths)
    if not lengths or not all(isinstance(x, numbers.Real) and not isinstance(x, bool)
                              for x in lengths):
        raise TypeError(f"{fn}: lengths must be a non-empty sequence of ints or fractions, "
                        f"got {lengths!r}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"{fn}: fraction at index {i} is not between 0 and 1: {frac}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        if not all(isinstance(x, (numbers.Integral, np.integer)) and x >= 0 for x in lengths):
            raise ValueError(f"{fn}: lengths must be non-negative ints or fractions summing "
                             f"to 1, got {lengths!r}")
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(f"{fn}: sum of input lengths ({sum(sizes)}) does not equal the "
                         f"length of the input dataset ({n})")
    perm = _random.get_generator(generator, fn).permutation(n).tolist()
    ends = list(itertools.accumulate(sizes))
    return [Subset(dataset, perm[end - size:end]) for end, size in zip(ends, sizes)]


# ---------------------------------------------------------------- samplers

class Sampler:
    """Base class of samplers: iterables of dataset indices (or of index lists,
    for batch samplers). Subclasses define ``__iter__`` and usually ``__len__``.

        >>> from autograd_core.utils.data import Sampler
        >>> class EvenFirst(Sampler):                      # indices in a chosen order
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))
        ...     def __len__(self):
        ...         return self.n
        >>> list(EvenFirst(5))
        [0, 2, 4, 1, 3]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: samplers should implement __iter__")


class SequentialSampler(Sampler):
    """Indices 0, 1, …, len(data_source) − 1.

        >>> from autograd_core.utils.data import SequentialSampler
        >>> list(SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(_length(self.data_source, "SequentialSampler", "data_source")))

    def __len__(self):
        return _length(self.data_source, "SequentialSampler", "data_source")


def _epoch_generator(generator):
    """The generator for one pass: ``generator`` itself, or (as PyTorch) a fresh
    one seeded by a single draw from the global generator, so that a pass
    consumes the same amount of the global stream whatever the dataset size."""
    if generator is not None:
        return generator
    return np.random.default_rng(int(_random.default_generator.integers(0, 1 << 63)))


class RandomSampler(Sampler):
    """Indices in random order: a new permutation per pass, or with
    ``replacement=True`` ``num_samples`` independent uniform draws. Without
    replacement, ``num_samples`` larger than the dataset concatenates
    permutations.

        >>> from autograd_core.utils.data import RandomSampler
        >>> order = list(RandomSampler(range(5), generator=ag.Generator().manual_seed(0)))
        >>> sorted(order)                                # a permutation
        [0, 1, 2, 3, 4]
        >>> len(list(RandomSampler(range(5), replacement=True, num_samples=8, generator=ag.Generator().manual_seed(0))))
        8
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _flag(replacement, "RandomSampler", "replacement")
        self._num_samples = num_samples
        self.generator = generator if generator is None else \
            _random.get_generator(generator, "RandomSampler")
        _positive_int(self.num_samples, "RandomSampler", "num_samples")

    @property
    def num_samples(self):
        """How many indices a pass yields (``len(sampler)``): the ``num_samples``
        given, else the length of ``data_source``."""
        if self._num_samples is None:
            return _length(self.data_source, "RandomSampler", "data_source")
        return self._num_samples

    def __iter__(self):
        n = _length(self.data_source, "RandomSampler", "data_source")
        rng = _epoch_generator(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        full, rest = divmod(self.num_samples, n)
        for _ in range(full):
            yield from rng.permutation(n).tolist()
        if rest:
            yield from rng.permutation(n)[:rest].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each pass.

        >>> from autograd_core.utils.data import SubsetRandomSampler
        >>> sorted(SubsetRandomSampler([3, 5, 9], generator=ag.Generator().manual_seed(0)))
        [3, 5, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator if generator is None else \
            _random.get_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        rng = _epoch_generator(self.generator)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (with replacement by default; without, each index at most once).

        >>> from autograd_core.utils.data import WeightedRandomSampler
        >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=ag.Generator().manual_seed(0)))
        >>> draws                                         # only index 1 has weight
        [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        fn = "WeightedRandomSampler"
        self.num_samples = _positive_int(num_samples, fn, "num_samples")
        self.replacement = _flag(replacement, fn, "replacement")
        w = np.asarray(weights.data if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"{fn}: weights should be a 1d sequence but given weights have "
                             f"shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"{fn}: weights must be finite and non-negative with a positive "
                             "sum")
        if not self.replacement and self.num_samples > int((w > 0).sum()):
            raise ValueError(f"{fn}: cannot draw {self.num_samples} samples without "
                             f"replacement from {int((w > 0).sum())} positive weights")
        self.weights = from_numpy(w)
        self.generator = generator if generator is None else _random.get_generator(generator, fn)

    def __iter__(self):
        from ..creation import multinomial
        draws = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from draws.data.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` (any iterable) into lists of
    ``batch_size``; the last, shorter one is dropped with ``drop_last=True``.

        >>> list(BatchSampler(range(5), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _positive_int(batch_size, "BatchSampler", "batch_size")
        self.drop_last = _flag(drop_last, "BatchSampler", "drop_last")
        self.sampler = sampler

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = _length(self.sampler, "BatchSampler", "sampler")
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


# ---------------------------------------------------------------- collation

def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _stack_tensors(batch):
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: sample 0 is a Tensor but sample {i} is a "
                            f"{type(t).__name__}")
        if t.shape != shape:
            raise RuntimeError(f"default_collate: cannot stack samples of different shapes "
                               f"into a batch: sample 0 has shape {shape}, sample {i} {t.shape}")
    if any(t.requires_grad for t in batch):
        return stack(batch)                         # keeps the graph, as torch.stack
    return from_numpy(np.stack([t.data for t in batch]))


def _stack_arrays(batch):
    elem = batch[0]
    if elem.dtype.kind not in "biufc":
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                        f"dicts or lists; found an array of dtype {elem.dtype}")
    try:
        return from_numpy(np.stack([np.asarray(a) for a in batch]))
    except ValueError:
        shapes = sorted({np.shape(a) for a in batch})
        raise RuntimeError(f"default_collate: cannot stack arrays of different shapes into "
                           f"a batch: {shapes}") from None


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and arrays are stacked along a new first dimension (one Tensor);
    NumPy scalars keep their dtype, Python floats give float64, ints int64,
    bools bool; strings and bytes stay a list; dicts, namedtuples and lists
    are collated field by field (tuples, as in PyTorch, give lists).

        >>> default_collate([(np.zeros(2), 0), (np.ones(2), 1)])
        [Tensor([[0., 0.], [1., 1.]]), Tensor([0, 1])]
    """
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        return _stack_arrays(batch)
    if isinstance(elem, np.generic) and elem.dtype.kind in "biufc":
        return _stack_arrays([np.asarray(x) for x in batch])
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, (bool, numbers.Integral)):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem)
        for i, sample in enumerate(batch):
            if not isinstance(sample, collections.abc.Mapping) or set(sample) != set(keys):
                raise KeyError(f"default_collate: sample {i} does not have the keys of "
                               f"sample 0 ({keys})")
        merged = {k: default_collate([sample[k] for sample in batch]) for k in keys}
        try:
            return type(elem)(merged)
        except TypeError:
            return merged
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(f"default_collate: each element in list of batch should "
                                   f"be of equal size: sample 0 has {size} fields, sample "
                                   f"{i} has {len(sample)}")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        if _is_namedtuple(elem):
            return type(elem)(*fields)
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(data):
    """Arrays and NumPy scalars in ``data`` become Tensors (arrays share memory);
    containers are converted element by element (tuples give lists, as in
    PyTorch). What a DataLoader with ``batch_size=None`` applies to each sample.

        >>> from autograd_core.utils.data import default_convert
        >>> default_convert({"x": np.ones(2), "n": 3})
        {'x': Tensor([1., 1.]), 'n': 3}
        >>> default_convert((np.zeros(1), np.float64(2.0)))   # a tuple gives a list
        [Tensor([0.]), Tensor(2.)]
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind not in "biufc":
            return data
        return as_tensor(data) if isinstance(data, np.ndarray) else tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        items = [default_convert(d) for d in data]
        try:
            return type(data)(items)
        except TypeError:
            return items
    return data


def get_worker_info():
    """``None``: data is always loaded in the calling process.

        >>> from autograd_core.utils.data import get_worker_info
        >>> get_worker_info() is None
        True
    """
    return None


# ---------------------------------------------------------------- the loader

_FROZEN = ("dataset", "batch_size", "batch_sampler", "sampler", "drop_last",
           "persistent_workers")


class DataLoader:
    """``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None,
    batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
    drop_last=False, timeout=0, worker_init_fn=None, multiprocessing_context=None,
    generator=None, *, prefetch_factor=None, persistent_workers=False, ...)``,
    as ``torch.utils.data.DataLoader`` (the same positions and defaults).

    Each pass yields ``collate_fn(samples)`` for the batches of indices from
    ``batch_sampler`` (by default ``BatchSampler(sampler, batch_size,
    drop_last)``, with ``sampler`` ``RandomSampler(dataset, generator=generator)``
    if ``shuffle`` else ``SequentialSampler(dataset)``). ``batch_size=None``
    turns batching off: each sample is passed through ``default_convert``.
    An ``IterableDataset`` is read in order, ``batch_size`` items at a time.

    A map-style dataset must have ``__len__`` unless a sampler is given, and
    an index past its end raises an IndexError that names it.

        >>> from autograd_core.utils.data import DataLoader, TensorDataset
        >>> x, y = ag.randn(100, 3), ag.randint(0, 2, (100,))
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
        ...                     generator=ag.Generator().manual_seed(0))
        >>> len(loader)                     # batches per pass
        2
        >>> [tuple(xb.shape) for xb, yb in loader]
        [(64, 3), (36, 3)]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        fn = "DataLoader"
        if isinstance(num_workers, bool) or not isinstance(num_workers, (numbers.Integral, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"{fn}: num_workers option should be a non-negative int, got "
                             f"{num_workers!r} (data is loaded in this process in any case)")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"{fn}: timeout option should be non-negative, got {timeout!r}")
        if shuffle is not None and not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"{fn}: shuffle should be a boolean value, got {shuffle!r}")
        _flag(drop_last, fn, "drop_last")
        if generator is not None:
            _random.get_generator(generator, fn)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"{fn}: collate_fn must be callable, got {type(collate_fn).__name__}")

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value, unset in (("shuffle", shuffle, (False, None)),
                                       ("sampler", sampler, (None,)),
                                       ("batch_sampler", batch_sampler, (None,))):
                if not any(value is u for u in unset):
                    raise ValueError(f"{fn} with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        elif not callable(getattr(dataset, "__getitem__", None)):
            raise TypeError(f"{fn}: dataset must be map-style (with __getitem__ and __len__) "
                            f"or an IterableDataset (with __iter__), got "
                            f"{type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ValueError(f"{fn}: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(f"{fn}: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(f"{fn}: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")

        if not iterable and sampler is None:
            _length(dataset, fn)            # a default sampler needs it: say so now
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_size = _positive_int(batch_size, fn, "batch_size")
            if not iterable:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = int(num_workers)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FROZEN:
            raise ValueError(f"DataLoader: the {name} attribute should not be set after the "
                             "DataLoader is initialized; make a new DataLoader")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    def __len__(self):
        """Batches per pass (samples, without batching)."""
        if isinstance(self.dataset, IterableDataset):
            n = _length(self.dataset, "len(DataLoader)")
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return _length(self.batch_sampler, "len(DataLoader)", "batch_sampler")
        return _length(self.sampler, "len(DataLoader)", "sampler")

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        return self._iter_indexed()

    # ---- fetching
    def _known_length(self):
        try:
            return len(self.dataset)
        except TypeError:
            return None

    def _get(self, index, n):
        if n is not None:
            _index_in_range(index, n, "DataLoader")
        try:
            return self.dataset[index]
        except IndexError as e:
            if n is None:
                raise
            raise IndexError(f"DataLoader: dataset[{index!r}] raised IndexError although "
                             f"len(dataset) is {n}: {e}") from e

    def _fetch(self, indices, n):
        ds = self.dataset
        if self.collate_fn is default_collate and type(ds).__getitem__ is TensorDataset.__getitem__:
            return ds._batch(indices)               # one indexing per tensor
        if callable(getattr(ds, "__getitems__", None)):
            if n is not None:
                for i in indices:
                    _index_in_range(i, n, "DataLoader")
            samples = ds.__getitems__(indices)
        else:
            samples = [self._get(i, n) for i in indices]
        return self.collate_fn(samples)

    def _iter_indexed(self):
        n = self._known_length()
        if self.batch_sampler is not None:
            for indices in self.batch_sampler:
                yield self._fetch(list(indices), n)
        else:
            for index in self.sampler:
                yield self.collate_fn(self._get(index, n))

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        it = iter(self.dataset)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})")
