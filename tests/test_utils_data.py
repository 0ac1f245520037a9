"""autograd_core.utils.data as torch.utils.data: datasets, samplers, collation,
the DataLoader, and nn.DataLoader given a dataset."""
import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn
from autograd_core import Tensor
from autograd_core.utils import data as D
from autograd_core.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                      IterableDataset, RandomSampler, SequentialSampler,
                                      Subset, SubsetRandomSampler, TensorDataset,
                                      WeightedRandomSampler, default_collate, default_convert,
                                      random_split)


@pytest.fixture(autouse=True)
def _restore_global_stream():
    state = ag.get_rng_state()
    yield
    ag.set_rng_state(state)


class Squares(Dataset):
    """A map-style dataset written as for PyTorch: (x, y) = (array of 3 floats, int)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(3, i * i, dtype=np.float32), i


class NoLen(Dataset):
    """__getitem__ never raises IndexError and there is no __len__ (the case that
    used to run the machine out of memory)."""

    def __getitem__(self, i):
        return np.zeros(2)


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def gen(seed):
    return ag.Generator().manual_seed(seed)


# ---------------------------------------------------------------- the loader

def test_batches_of_a_map_style_dataset_are_stacked_tensors():
    batches = list(DataLoader(Squares(10), batch_size=4))
    assert len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and xb.shape == (4, 3) and xb.dtype == np.float32
    assert isinstance(yb, Tensor) and yb.dtype == np.int64 and yb.data.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(xb.data[:, 0], [0, 1, 4, 9])
    assert batches[-1][0].shape == (2, 3)
    assert [b[1].shape[0] for b in DataLoader(Squares(10), batch_size=4, drop_last=True)] == [4, 4]


def test_nn_dataloader_given_a_dataset_is_pytorchs_loader():
    loader = nn.DataLoader(Squares(10), batch_size=4, shuffle=True, generator=gen(0))
    assert isinstance(loader, DataLoader) and len(loader) == 3
    shapes = [tuple(xb.shape) for xb, _ in loader]
    assert shapes == [(4, 3), (4, 3), (2, 3)]
    seen = sorted(i for _, yb in loader for i in yb.data.tolist())
    assert seen == list(range(10))
    assert isinstance(nn.DataLoader(dataset=Squares(3)), DataLoader)
    assert isinstance(nn.DataLoader([1, 2, 3], batch_size=2), DataLoader)
    with pytest.raises(TypeError, match="has no __len__"):
        nn.DataLoader(NoLen(), batch_size=2)
    # Arrays still take the fast path, which yields tuples of arrays.
    x = np.arange(6.0).reshape(3, 2)
    assert isinstance(nn.DataLoader(x, batch_size=2), nn.DataLoader)
    assert isinstance(next(iter(nn.DataLoader(x, batch_size=2)))[0], np.ndarray)


def test_a_dataset_without_len_is_a_clear_error_not_a_runaway_loop():
    for kw in ({}, {"shuffle": True}, {"batch_size": None}):
        with pytest.raises(TypeError, match="DataLoader: the dataset \\(NoLen\\) has no __len__"):
            DataLoader(NoLen(), **kw)
    # With an explicit sampler no length is needed.
    batches = list(DataLoader(NoLen(), sampler=[0, 5, 7], batch_size=2))
    assert [b.shape for b in batches] == [(2, 2), (1, 2)]
    with pytest.raises(TypeError, match="BatchSampler: the sampler \\(list_iterator\\) has no"):
        len(DataLoader(NoLen(), sampler=iter([0, 1])))
    with pytest.raises(TypeError, match="random_split: the dataset \\(NoLen\\) has no __len__"):
        random_split(NoLen(), [1, 1])


def test_an_index_past_the_end_names_it():
    with pytest.raises(IndexError, match="DataLoader: index 10 is out of range for a dataset "
                                         "of 10 examples"):
        list(DataLoader(Squares(10), sampler=[3, 10]))

    class Lying(Squares):
        def __len__(self):
            return 12          # claims more than __getitem__ serves

    with pytest.raises(IndexError, match=r"dataset\[10\] raised IndexError although "
                                         r"len\(dataset\) is 12"):
        list(DataLoader(Lying(10), batch_size=4))
    ds = TensorDataset(np.arange(5))
    with pytest.raises(IndexError, match="TensorDataset: index 5 is out of range"):
        list(DataLoader(ds, sampler=[4, 5], batch_size=2))
    with pytest.raises(IndexError, match="TensorDataset: index 5 is out of range"):
        ds[5]


def test_batch_size_none_converts_each_sample():
    samples = list(DataLoader(Squares(3), batch_size=None))
    assert len(samples) == 3
    x, y = samples[2]                       # a tuple becomes a list, as in PyTorch
    assert isinstance(x, Tensor) and x.shape == (3,) and y == 2
    assert len(DataLoader(Squares(3), batch_size=None)) == 3


def test_samplers_and_batch_samplers():
    picked = [b[1].data.tolist() for b in DataLoader(Squares(10), sampler=[9, 1, 4], batch_size=2)]
    assert picked == [[9, 1], [4]]
    bs = BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)
    loader = DataLoader(Squares(5), batch_sampler=bs)
    assert [b[1].data.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert loader.batch_size is None and len(loader) == 3
    assert isinstance(DataLoader(Squares(5)).sampler, SequentialSampler)
    assert isinstance(DataLoader(Squares(5), shuffle=True).sampler, RandomSampler)
    assert isinstance(DataLoader(Squares(5)).batch_sampler, BatchSampler)
    assert DataLoader(Squares(5), batch_size=None).batch_sampler is None


def test_collate_fn_is_applied_to_the_list_of_samples():
    out = list(DataLoader(Squares(3), batch_size=2, collate_fn=lambda b: [s[1] for s in b]))
    assert out == [[0, 1], [2]]


def test_iterable_dataset():
    assert [b.data.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.data.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == \
        [[0, 1], [2, 3]]
    assert len(DataLoader(Stream(5), batch_size=2)) == 3
    assert len(DataLoader(Stream(5), batch_size=2, drop_last=True)) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    chained = list(DataLoader(Stream(2) + Stream(3), batch_size=10))
    assert chained[0].data.tolist() == [0, 1, 0, 1, 2]
    for kw in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="with IterableDataset: expected unspecified"):
            DataLoader(Stream(3), **kw)
    with pytest.raises(TypeError, match="is an IterableDataset"):
        Stream(3)[0]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value"),
    ({"batch_size": -1}, ValueError, "batch_size should be a positive integer value"),
    ({"batch_size": 2.0}, ValueError, "batch_size should be a positive integer value"),
    ({"shuffle": True, "sampler": [0, 1]}, ValueError, "mutually exclusive with shuffle"),
    ({"batch_size": 2, "batch_sampler": [[0]]}, ValueError, "batch_sampler option is mutually"),
    ({"drop_last": True, "batch_sampler": [[0]]}, ValueError, "batch_sampler option is mutually"),
    ({"sampler": [0], "batch_sampler": [[0]]}, ValueError, "batch_sampler option is mutually"),
    ({"batch_size": None, "drop_last": True}, ValueError, "disables auto-batching"),
    ({"generator": 5}, TypeError, "DataLoader: generator must be"),
    ({"num_workers": -1}, ValueError, "num_workers"),
    ({"collate_fn": 3}, TypeError, "collate_fn must be callable"),
    ({"shuffle": "yes"}, TypeError, "shuffle should be a boolean"),
])
def test_loader_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(Squares(4), **kwargs)


def test_loader_errors_where_pytorch_raises():
    tdata = pytest.importorskip("torch.utils.data")
    cases = [{"batch_size": 0}, {"shuffle": True, "sampler": [0, 1]},
             {"batch_size": 2, "batch_sampler": [[0]]}, {"batch_size": None, "drop_last": True},
             {"num_workers": -1}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}]
    for kw in cases:
        try:
            tdata.DataLoader(list(range(4)), **kw)
            torch_raised = False
        except (ValueError, TypeError):
            torch_raised = True
        try:
            DataLoader(list(range(4)), **kw)
            we_raised = False
        except (ValueError, TypeError):
            we_raised = True
        assert we_raised == torch_raised, kw


def test_attributes_are_frozen_after_init():
    loader = DataLoader(Squares(4))
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 2


def test_tensor_dataset_fast_path_equals_per_sample_collation():
    x = ag.randn(13, 3, requires_grad=True)
    y = ag.arange(13)
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(1))
    slow = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(1),
                      collate_fn=lambda b: default_collate(b))
    for (xb, yb), (xs, ys) in zip(loader, slow):
        assert isinstance(xb, Tensor) and xb.shape == xs.shape and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.data, xs.data)
        np.testing.assert_array_equal(yb.data, ys.data)
    xb, _ = next(iter(DataLoader(ds, batch_size=13)))
    (xb * 2).sum().backward()                            # gradients reach the dataset tensor
    np.testing.assert_array_equal(x.grad.data, np.full((13, 3), 2, np.float32))


def test_tensor_dataset_shares_arrays_and_checks_sizes():
    a = np.zeros((4, 2))
    ds = TensorDataset(a, np.arange(4))
    a[1, 0] = 9
    assert ds[1][0].data[0] == 9 and len(ds) == 4
    with pytest.raises(ValueError, match=r"size mismatch between tensors.*\(3,\), \(4,\)"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="needs at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="tensor 0 is 0-d"):
        TensorDataset(np.float64(1.0))


# ---------------------------------------------------------------- shuffling

def test_shuffling_is_reproducible_by_generator_and_by_manual_seed():
    def order(**kw):
        return [i for _, yb in DataLoader(Squares(20), batch_size=6, shuffle=True, **kw)
                for i in yb.data.tolist()]

    assert order(generator=gen(3)) == order(generator=gen(3))
    assert order(generator=gen(3)) != order(generator=gen(4))
    assert sorted(order(generator=gen(3))) == list(range(20))
    ag.manual_seed(5)
    a = order()
    ag.manual_seed(5)
    assert order() == a
    loader = DataLoader(Squares(20), batch_size=20, shuffle=True, generator=gen(0))
    assert [b[1].data.tolist() for b in loader] != [b[1].data.tolist() for b in loader]


def test_random_sampler():
    s = RandomSampler(range(5), generator=gen(0))
    assert len(s) == 5 and sorted(s) == list(range(5))
    more = list(RandomSampler(range(4), num_samples=10, generator=gen(0)))
    assert len(more) == 10 and sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3]
    repl = list(RandomSampler(range(3), replacement=True, num_samples=3000, generator=gen(1)))
    counts = np.bincount(repl, minlength=3)
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(3000 * (1 / 3) * (2 / 3)))
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(4), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(4), replacement=1)
    with pytest.raises(TypeError, match="RandomSampler: the data_source \\(NoLen\\) has no"):
        RandomSampler(NoLen())


def test_subset_random_sampler():
    s = SubsetRandomSampler([10, 20, 30], generator=gen(2))
    assert len(s) == 3 and sorted(s) == [10, 20, 30]


def test_weighted_random_sampler():
    w = [0.1, 0.9, 0.0]
    s = list(WeightedRandomSampler(w, 5000, generator=gen(0)))
    counts = np.bincount(s, minlength=3)
    assert counts[2] == 0 and abs(counts[1] / 5000 - 0.9) < 5 * np.sqrt(0.09 / 5000)
    without = list(WeightedRandomSampler(w, 2, replacement=False, generator=gen(0)))
    assert sorted(without) == [0, 1]
    assert len(WeightedRandomSampler(ag.tensor([1.0, 2.0]), 7)) == 7
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[0.1, 0.9]], 1)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([0.1, -0.9], 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([0.1], 0)
    with pytest.raises(ValueError, match="without replacement from 2 positive weights"):
        WeightedRandomSampler(w, 3, replacement=False)


def test_batch_sampler():
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, True)) == 2 and len(BatchSampler(range(5), 2, False)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(5), 0, True)
    with pytest.raises(TypeError, match="drop_last should be a boolean"):
        BatchSampler(range(5), 2, 1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), bs=st.integers(1, 9), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2 ** 32))
def test_every_example_once_per_pass_in_batches_of_batch_size(n, bs, drop_last, shuffle, seed):
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=bs, drop_last=drop_last,
                        shuffle=shuffle, generator=gen(seed))
    sizes = [len(b[0]) for b in loader]
    full, rest = divmod(n, bs)
    assert sizes == [bs] * full + ([] if drop_last or not rest else [rest])
    assert len(loader) == len(sizes)
    seen = [i for b in loader for i in b[0].data.tolist()]
    assert len(set(seen)) == len(seen) == sum(sizes)
    if not shuffle:
        assert seen == list(range(len(seen)))


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                             (2, 5, False), (2, 5, True), (1, 1, False)])
def test_batch_shapes_and_lengths_match_pytorch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    ours = DataLoader(TensorDataset(x, np.arange(n)), batch_size=bs, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.arange(n)),
                              batch_size=bs, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for (xb, yb), (xt, yt) in zip(ours, theirs, strict=True):
        assert xb.shape == tuple(xt.shape) and yb.shape == tuple(yt.shape)
        np.testing.assert_array_equal(xb.data, xt.numpy())


# ---------------------------------------------------------------- datasets

def test_subset():
    ds = TensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [0, 3, 7])
    assert len(sub) == 3 and sub[1][0].item() == 30 and sub[-1][0].item() == 70
    assert [b[0].data.tolist() for b in DataLoader(sub, batch_size=2)] == [[0, 30], [70]]
    with pytest.raises(IndexError, match="Subset: index 3 is out of range"):
        sub[3]


def test_concat_dataset():
    a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 14))
    c = ConcatDataset([a, b])
    assert len(c) == 7 and c.cumulative_sizes == [3, 7]
    assert [c[i][0].item() for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert c[-1][0].item() == 13 and (a + b)[4][0].item() == 11
    for bad in (7, -8):
        with pytest.raises(IndexError, match=f"ConcatDataset: index {bad} is out of range"):
            c[bad]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="dataset 1 \\(NoLen\\) has no __len__"):
        ConcatDataset([a, NoLen()])
    with pytest.raises(TypeError, match="is an IterableDataset"):
        ConcatDataset([Stream(2)])


def test_random_split():
    parts = random_split(range(10), [3, 7], generator=gen(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(range(10), [3, 7], generator=gen(0))
    assert again[0].indices == parts[0].indices
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="sum of input lengths \\(9\\) does not equal the "
                                         "length of the input dataset \\(10\\)"):
        random_split(range(10), [3, 6])
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="non-negative ints or fractions"):
        random_split(range(10), [0.3, 0.6])
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    for lengths in ([0.33, 0.33, 0.34], [0.5, 0.5], [0.1, 0.9], [1.0]):
        for n in (10, 11, 7):
            ours = [len(p) for p in random_split(range(n), lengths)]
            theirs = [len(p) for p in tdata.random_split(range(n), lengths)]
            assert ours == theirs


def test_base_classes():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="should implement __iter__"):
        iter(D.Sampler())
    assert D.get_worker_info() is None


# ---------------------------------------------------------------- collation

Point = collections.namedtuple("Point", "x y")


def structure(obj):
    """A comparable description: types, dtypes, shapes and values."""
    if isinstance(obj, Tensor):
        return ("T", str(obj.dtype), obj.shape, obj.data.tolist())
    if hasattr(obj, "numpy") and hasattr(obj, "dtype"):          # a torch tensor
        return ("T", str(obj.dtype).replace("torch.", ""), tuple(obj.shape), obj.tolist())
    if isinstance(obj, dict):
        return {k: structure(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [structure(v) for v in obj])
    return obj


COLLATE_CASES = [
    [1, 2, 3], [1.0, 2.0], [True, False], ["a", "b"], [b"a", b"b"],
    [np.float32(1), np.float32(2)], [np.int32(1), np.int32(2)],
    [np.zeros(2), np.ones(2)], [np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)],
    [np.array(1.0), np.array(2.0)], [(1, 2.0), (3, 4.0)], [[1, 2.0], [3, 4.0]],
    [{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}], [Point(1, 2.0), Point(3, 4.0)],
    [1, 2.5], [{"x": [np.zeros(1), 1]}, {"x": [np.ones(1), 2]}],
]


@pytest.mark.parametrize("batch", COLLATE_CASES)
def test_default_collate_matches_pytorch(batch):
    ours = default_collate(batch)
    if isinstance(batch[0], np.ndarray):
        assert isinstance(ours, Tensor) and ours.shape == (2,) + batch[0].shape
    tdata = pytest.importorskip("torch.utils.data")
    theirs = tdata.default_collate(batch)
    assert type(ours).__name__ == type(theirs).__name__ or isinstance(ours, Tensor)
    assert structure(ours) == structure(theirs)


def test_default_collate_of_tensors_keeps_the_graph():
    a = ag.ones(2, requires_grad=True)
    out = default_collate([a, ag.zeros(2)])
    assert out.shape == (2, 2) and out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1, 1])
    plain = default_collate([ag.ones(2), ag.zeros(2)])
    assert not plain.requires_grad and plain.dtype == np.float32


@pytest.mark.parametrize("batch, error, match", [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([np.zeros(2), np.ones(3)], RuntimeError, "cannot stack arrays of different shapes"),
    ([ag.zeros(2), ag.ones(3)], RuntimeError, "cannot stack samples of different shapes"),
    ([None, None], TypeError, "found NoneType"),
    ([object()], TypeError, "found object"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "array of dtype <U1"),
    ([], ValueError, "the batch is empty"),
    ([{"a": 1}, {"b": 2}], KeyError, "sample 1 does not have the keys"),
])
def test_default_collate_errors(batch, error, match):
    with pytest.raises(error, match=match):
        default_collate(batch)


def test_default_convert():
    a = np.zeros(3)
    t = default_convert(a)
    assert isinstance(t, Tensor) and t.data is a                 # shares memory
    assert default_convert((a, 1))[1] == 1 and isinstance(default_convert((a, 1)), list)
    assert isinstance(default_convert({"k": a})["k"], Tensor)
    p = default_convert(Point(a, "s"))
    assert isinstance(p, Point) and p.y == "s"
    assert default_convert(np.float32(2)).dtype == np.float32
    assert default_convert("text") == "text"
