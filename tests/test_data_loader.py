"""DataLoader: batching, shuffling, determinism, resuming."""

import numpy as np
import pytest

from nn.data import DataLoader


def make(n=10, **kw):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    return DataLoader(x, y, **kw)


def epoch_ids(loader):
    """The example ids (the y column) of one pass, batch by batch."""
    return [yb.tolist() for _, yb in loader]


@pytest.mark.parametrize("n, bs, drop_last, expected", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]),
    (2, 5, False, [2]),
    (2, 5, True, []),
    (0, 4, False, []),
])
def test_batch_counts(n, bs, drop_last, expected):
    loader = make(n, batch_size=bs, drop_last=drop_last)
    assert len(loader) == len(expected)
    assert [len(b) for b in epoch_ids(loader)] == expected


def test_batches_are_tuples_of_matching_rows():
    loader = make(7, batch_size=3, shuffle=True, seed=0)
    for batch in loader:
        assert isinstance(batch, tuple) and len(batch) == 2
        xb, yb = batch
        assert xb.shape == (len(yb), 3)
        np.testing.assert_array_equal(xb[:, 0], yb * 3)   # rows stay paired


def test_single_array():
    batches = list(DataLoader(np.arange(5), batch_size=2))
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3], [4]]


def test_unshuffled_order():
    assert epoch_ids(make(5, batch_size=2)) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_example_once_per_epoch(drop_last):
    loader = make(23, batch_size=4, shuffle=True, seed=1, drop_last=drop_last)
    for _ in range(3):
        seen = [i for batch in epoch_ids(loader) for i in batch]
        assert len(seen) == len(set(seen))
        if drop_last:
            assert len(seen) == 20
        else:
            assert sorted(seen) == list(range(23))


def test_deterministic_given_seed():
    a = make(50, batch_size=8, shuffle=True, seed=42)
    b = make(50, batch_size=8, shuffle=True, seed=42)
    for _ in range(3):
        assert epoch_ids(a) == epoch_ids(b)
    c = make(50, batch_size=8, shuffle=True, seed=43)
    assert epoch_ids(make(50, batch_size=8, shuffle=True, seed=42)) != epoch_ids(c)


def test_new_permutation_each_epoch():
    loader = make(50, batch_size=50, shuffle=True, seed=0)
    orders = [epoch_ids(loader)[0] for _ in range(4)]
    assert loader.epoch == 4
    assert len({tuple(o) for o in orders}) == 4
    assert all(sorted(o) == list(range(50)) for o in orders)


def test_set_epoch_reproduces_that_epochs_order():
    loader = make(30, batch_size=7, shuffle=True, seed=5)
    history = [epoch_ids(loader) for _ in range(3)]
    fresh = make(30, batch_size=7, shuffle=True, seed=5)
    fresh.set_epoch(2)
    assert epoch_ids(fresh) == history[2]
    assert fresh.epoch == 3


def test_break_starts_a_new_epoch():
    loader = make(20, batch_size=5, shuffle=True, seed=0)
    for _ in loader:
        break
    assert loader.epoch == 1
    reference = make(20, batch_size=5, shuffle=True, seed=0)
    reference.set_epoch(1)
    assert epoch_ids(loader) == epoch_ids(reference)


def test_resume_between_epochs():
    a = make(40, batch_size=6, shuffle=True, seed=7)
    epoch_ids(a)
    epoch_ids(a)
    state = a.state_dict()
    assert state["epoch"] == 2 and state["batch"] == 0
    b = make(40, batch_size=6, shuffle=True, seed=7)
    b.load_state_dict(state)
    for _ in range(3):
        assert epoch_ids(b) == epoch_ids(a)


@pytest.mark.parametrize("seed", [3, None])
def test_resume_mid_epoch(seed):
    a = make(40, batch_size=6, shuffle=True, seed=seed)
    epoch_ids(a)
    it = iter(a)
    for _ in range(3):
        next(it)
    state = a.state_dict()                       # as if saved while holding batch 3
    assert state["epoch"] == 1 and state["batch"] == 3
    rest = [yb.tolist() for _, yb in it]          # what the original run saw next
    following = epoch_ids(a)

    b = make(40, batch_size=6, shuffle=True, seed=0 if seed is None else seed)
    b.load_state_dict(state)                      # restores the seed entropy too
    assert epoch_ids(b) == rest
    assert epoch_ids(b) == following


def test_state_after_last_batch_points_to_next_epoch():
    a = make(10, batch_size=5, shuffle=True, seed=0)
    for _ in a:
        state = a.state_dict()
    assert state["epoch"] == 1 and state["batch"] == 0
    assert a.state_dict() == state


def test_state_dict_is_plain_python():
    state = make(10, batch_size=3, shuffle=True).state_dict()
    assert all(type(v) in (int, bool) for v in state.values())


def test_load_state_dict_rejects_other_settings():
    state = make(10, batch_size=3, shuffle=True, seed=0).state_dict()
    with pytest.raises(ValueError, match="batch_size=3"):
        make(10, batch_size=4, shuffle=True, seed=0).load_state_dict(state)
    with pytest.raises(ValueError, match="num_examples=10"):
        make(11, batch_size=3, shuffle=True, seed=0).load_state_dict(state)
    with pytest.raises(KeyError, match="epoch"):
        make(10, batch_size=3).load_state_dict({"batch": 0})


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-2, ValueError), (2.0, TypeError), ("4", TypeError), (True, TypeError),
    (None, TypeError),
])
def test_batch_size_validation(bad, error):
    with pytest.raises(error, match="batch_size"):
        make(batch_size=bad)


def test_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2\), \(4,\)"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))


def test_needs_arrays():
    with pytest.raises(TypeError, match="at least one array"):
        DataLoader(batch_size=2)
    with pytest.raises(ValueError, match="0-d"):
        DataLoader(np.float64(1.0))


def test_set_epoch_validation():
    with pytest.raises(ValueError, match="epoch"):
        make().set_epoch(-1)
