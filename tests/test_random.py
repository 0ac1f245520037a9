"""autograd_core.random: one global generator, local Generators, states, and
everything random in the library drawing from them."""
import copy

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core.utils.data import DataLoader, TensorDataset, random_split


@pytest.fixture(autouse=True)
def _restore_global_stream():
    """Tests reseed the global generator; leave it as they found it."""
    state = ag.get_rng_state()
    yield
    ag.set_rng_state(state)


def draws(**kw):
    """One of every random thing the library does, as plain arrays."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    out = model(np.ones((2, 4), dtype=np.float32))
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, shuffle=True)
    return [ag.rand(3, **kw).data, ag.randn(2, 2, **kw).data, ag.randint(0, 9, (4,), **kw).data,
            ag.randperm(6, **kw).data, ag.normal(0.0, 2.0, (3,), **kw).data,
            ag.bernoulli(ag.full((5,), 0.5), **kw).data,
            ag.multinomial(ag.tensor([1.0, 2.0, 3.0]), 2, **kw).data,
            ag.rand_like(ag.zeros(2), **kw).data, ag.randn_like(ag.zeros(2), **kw).data,
            model[0].weight.data.copy(), out.data,
            np.concatenate([b[0].data for b in loader]),
            np.array(list(random_split(range(6), [3, 3], **kw)[0].indices)),
            nn.DataLoader(np.arange(8), batch_size=8, shuffle=True).order()]


def test_the_same_seed_gives_the_same_run():
    ag.manual_seed(123)
    a = draws()
    ag.manual_seed(123)
    b = draws()
    ag.manual_seed(124)
    c = draws()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    for i in (0, 1, 9, 10, 11):          # rand, randn, init, dropout, shuffling
        assert not np.array_equal(a[i], c[i])


def test_local_generators_reproduce_and_leave_the_global_stream_alone():
    ag.manual_seed(0)
    expected_next = ag.rand(4).data
    ag.manual_seed(0)
    g1, g2 = ag.Generator().manual_seed(7), ag.Generator().manual_seed(7)
    x = [ag.randn(3, generator=g1).data, ag.randperm(5, generator=g1).data]
    y = [ag.randn(3, generator=g2).data, ag.randperm(5, generator=g2).data]
    for u, v in zip(x, y):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(ag.rand(4).data, expected_next)   # global untouched


def test_a_numpy_generator_is_accepted_everywhere():
    a = ag.randn(3, generator=np.random.default_rng(5)).data
    b = ag.randn(3, generator=ag.Generator().manual_seed(5)).data
    np.testing.assert_array_equal(a, b)
    nn.init.normal_(np.zeros(3), generator=np.random.default_rng(1))
    ag.multinomial(ag.ones(3), 2, generator=np.random.default_rng(1))


def test_generator_streams_are_numpys_default_rng():
    g = ag.Generator().manual_seed(42)
    assert isinstance(g, np.random.Generator)
    np.testing.assert_array_equal(g.standard_normal(5), np.random.default_rng(42).standard_normal(5))
    # The global generator starts from default_seed, like a fresh Generator().
    assert ag.Generator().initial_seed() == ag.random.default_seed


def test_initial_seed_seed_and_manual_seed_return_values():
    assert ag.manual_seed(11) is ag.default_generator
    assert ag.initial_seed() == 11
    s = ag.seed()
    assert ag.initial_seed() == s and 0 <= s < 2 ** 64
    g = ag.Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3 and g.device == "cpu"
    assert g.seed() == g.initial_seed()


def test_negative_seeds_wrap_as_in_pytorch():
    assert ag.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    a = ag.rand(3).data
    ag.manual_seed(2 ** 64 - 1)
    np.testing.assert_array_equal(ag.rand(3).data, a)
    torch = pytest.importorskip("torch")
    assert torch.Generator().manual_seed(-1).initial_seed() == ag.Generator().manual_seed(-1).initial_seed()


@pytest.mark.parametrize("bad, error, match", [
    (1.5, TypeError, "seed must be an int"), ("3", TypeError, "seed must be an int"),
    (True, TypeError, "seed must be an int"), (None, TypeError, "seed must be an int"),
    (2 ** 64, ValueError, r"2\*\*64"), (-(2 ** 63) - 1, ValueError, r"2\*\*63"),
])
def test_bad_seeds(bad, error, match):
    with pytest.raises(error, match=match):
        ag.manual_seed(bad)
    with pytest.raises(error, match=match):
        ag.Generator().manual_seed(bad)


def test_state_round_trip_mid_stream():
    g = ag.Generator().manual_seed(9)
    g.integers(0, 100, size=3, dtype=np.int32)   # may leave a buffered 32-bit half-draw
    g.random(2)
    state = g.get_state()
    assert isinstance(state, ag.Tensor) and state.dtype == np.uint8
    assert state.shape == (ag.random.STATE_BYTES,)
    after = [g.integers(0, 2 ** 31, size=4, dtype=np.int32), g.standard_normal(3)]
    h = ag.Generator().set_state(state)
    again = [h.integers(0, 2 ** 31, size=4, dtype=np.int32), h.standard_normal(3)]
    for x, y in zip(after, again):
        np.testing.assert_array_equal(x, y)
    assert h.initial_seed() == 9


def test_global_state_round_trips_through_ag_save(tmp_path):
    ag.manual_seed(5)
    ag.rand(7)
    path = tmp_path / "rng.ckpt"
    ag.save({"rng": ag.get_rng_state(), "initial": ag.initial_seed(),
             "local": ag.Generator().manual_seed(2).get_state()}, path)
    expected = ag.randn(4).data
    ag.manual_seed(99)
    loaded = ag.load(path)
    assert isinstance(loaded["rng"], np.ndarray)          # plain arrays, no pickle
    ag.set_rng_state(loaded["rng"])
    np.testing.assert_array_equal(ag.randn(4).data, expected)
    assert ag.initial_seed() == loaded["initial"] == 5
    g = ag.Generator().set_state(loaded["local"])
    np.testing.assert_array_equal(g.random(3), np.random.default_rng(2).random(3))


@pytest.mark.parametrize("bad", [np.zeros(3, np.uint8), np.zeros(ag.random.STATE_BYTES),
                                 [0] * ag.random.STATE_BYTES, "state"])
def test_set_state_rejects_what_get_state_did_not_write(bad):
    with pytest.raises(TypeError, match="set_rng_state: new_state must be a state"):
        ag.set_rng_state(bad)
    with pytest.raises(TypeError, match="Generator.set_state"):
        ag.Generator().set_state(bad)


def test_set_state_rejects_a_foreign_byte_string():
    with pytest.raises(ValueError, match="not a generator state"):
        ag.set_rng_state(np.ones(ag.random.STATE_BYTES, np.uint8))


def test_deepcopy_keeps_class_and_state():
    g = ag.Generator().manual_seed(4)
    g.random(3)
    h = copy.deepcopy(g)
    assert type(h) is ag.Generator and h.initial_seed() == 4
    np.testing.assert_array_equal(g.random(5), h.random(5))
    d = copy.deepcopy(nn.Dropout(0.5, seed=3))
    assert isinstance(d.generator, ag.Generator)


def test_fork_rng_restores_the_global_stream():
    ag.manual_seed(1)
    expected = ag.rand(3).data
    ag.manual_seed(1)
    with ag.random.fork_rng():
        ag.randn(100)
    np.testing.assert_array_equal(ag.rand(3).data, expected)


def test_bad_generator_argument_names_the_function():
    with pytest.raises(TypeError, match="randn: generator must be an autograd_core.Generator"):
        ag.randn(2, generator=5)
    with pytest.raises(TypeError, match="uniform_: generator"):
        nn.init.uniform_(np.zeros(2), generator="g")
    with pytest.raises(TypeError, match="Dropout: generator"):
        nn.Dropout(generator=3)
    with pytest.raises(ValueError, match="device 'cuda'"):
        ag.Generator(device="cuda")


def test_dropout_draws_from_its_generator_or_the_global_one():
    x = np.ones((4, 50), dtype=np.float32)
    a = nn.Dropout(0.5, generator=ag.Generator().manual_seed(3))(x).data
    b = nn.Dropout(0.5, seed=3)(x).data          # seed=s is Generator().manual_seed(s)
    np.testing.assert_array_equal(a, b)
    ag.manual_seed(8)
    c = nn.Dropout(0.5)(x).data
    ag.manual_seed(8)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, c)
    with pytest.raises(ValueError, match="seed or generator"):
        nn.Dropout(0.5, seed=1, generator=ag.Generator())


def test_init_draws_from_the_global_generator():
    ag.manual_seed(21)
    w = nn.init.normal_(np.zeros(6))
    ag.manual_seed(21)
    np.testing.assert_array_equal(w, ag.default_generator.normal(0.0, 1.0, size=6))


def test_array_loader_without_a_seed_follows_the_global_generator():
    ag.manual_seed(3)
    a = nn.DataLoader(np.arange(20), batch_size=5, shuffle=True).order()
    ag.manual_seed(3)
    b = nn.DataLoader(np.arange(20), batch_size=5, shuffle=True).order()
    np.testing.assert_array_equal(a, b)
    g = nn.DataLoader(np.arange(20), shuffle=True, generator=ag.Generator().manual_seed(1))
    h = nn.DataLoader(np.arange(20), shuffle=True, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(g.order(), h.order())
    with pytest.raises(ValueError, match="seed or generator"):
        nn.DataLoader(np.arange(3), seed=1, generator=ag.Generator())
    ag.manual_seed(3)
    before = ag.get_rng_state().data.copy()
    nn.DataLoader(np.arange(20), batch_size=5)        # not shuffling: draws nothing
    np.testing.assert_array_equal(ag.get_rng_state().data, before)
