"""Checkpoints: safetensors files, round trips, PyTorch both ways, atomic and
durable writes, and refusing every damaged or hostile file with CheckpointError."""

import io
import json
import math
import os
import pickle
import stat
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.numpy
from hypothesis import HealthCheck, given, settings, strategies as st

import nn
import autograd_core as ag
import autograd_core.serialization as serialization
from autograd_core.serialization import CheckpointError, load, save
from tests.legacy_fixture_state import legacy_state

FIXTURES = Path(__file__).parent / "fixtures"


class FakeTensor:
    """Stands in for autograd_core.Tensor: detected by its ndarray .data."""

    def __init__(self, data):
        self.data = np.asarray(data)


def assert_same(a, b):
    """Deep equality that also checks types, dtypes and shapes."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for ka, kb in zip(a, b):
            assert type(ka) is type(kb)
            assert_same(a[ka], b[kb])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b)


def round_trip(state, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save(state, path)
    return load(path)


def header_of(path):
    data = Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + n])


def raw_file(path, header, data=b""):
    """A file laid out as safetensors: u64 length, header, data (no checks)."""
    if not isinstance(header, bytes):
        header = json.dumps(header).encode()
    Path(path).write_bytes(len(header).to_bytes(8, "little") + header + data)
    return path


# ------------------------------------------------------------------ round trips

def test_nested_round_trip(tmp_path):
    state = {
        "model": {"0.weight": np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32),
                  "0.bias": np.zeros(3, np.float32)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.ones(3)}, 1: {"step": 3, "exp_avg": np.ones(2)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                              "params": [0, 1], "name": None}],
        },
        "epoch": 7,
        "note": "héllo ✓ \udc80",                 # a lone surrogate survives too
        "empty": {"list": [], "tuple": (), "dict": {}},
        "mixed_keys": {1: "int", "1": "str", -2: None},
        "rng": np.random.default_rng(5).bit_generator.state,   # 128-bit ints
    }
    out = round_trip(state, tmp_path)
    assert_same(state, out)
    assert list(out["optimizer"]["state"]) == [0, 1]          # int keys stay int
    assert isinstance(out["optimizer"]["param_groups"][0]["betas"], tuple)


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.arange(4, dtype=np.int64),
    np.array([True, False]),
    np.array(3.5),                       # 0-d
    np.array(2, dtype=np.int8),
    np.zeros((0, 4), np.float64),
    np.arange(5, dtype=np.uint16), np.arange(5, dtype=np.uint64), np.arange(3, dtype=np.int16),
    np.array([1.5, -2.0], np.float16),
    np.array([1 + 2j, -3j], np.complex64),
    np.array([[1 + 2j], [-3j]], np.complex128),          # stored as raw bytes + view
    np.array(["a", "bcd"]), np.array([[b"xy"], [b"z"]]), np.array("0-d str"),
    np.arange(6, dtype=np.float64).reshape(2, 3).T,      # not C-contiguous
    np.arange(4, dtype=">f4"),                           # big-endian
    np.zeros((2, 0, 3), np.complex128),
], ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_array_dtypes_and_shapes(tmp_path, array):
    out = round_trip({"x": array}, tmp_path)["x"]
    assert isinstance(out, np.ndarray)
    assert out.dtype == array.dtype.newbyteorder("=") and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_scalars(tmp_path):
    state = [None, True, False, 0, -5, 2**70, -2**100, 1.5, -0.0, float("inf"), float("-inf"),
             float("nan"), 0.1, 1e-310, 1.7976931348623157e308, "", "text", b"\x00\xffbytes", b"",
             np.float32(1.25), np.int64(9), np.bool_(True), np.complex128(1 - 1j),
             np.float64(0.5), np.str_("s")]
    out = round_trip(state, tmp_path)
    assert_same(state[:19], out[:19])
    for original, loaded in zip(state[19:23], out[19:23]):
        assert type(loaded) is type(original) and loaded == original
    # NumPy's subclasses of Python's float and str are stored as those (JSON)
    assert type(out[23]) is float and out[23] == 0.5
    assert type(out[24]) is str and out[24] == "s"


def test_tensors_are_stored_as_arrays(tmp_path):
    t = FakeTensor(np.arange(3, dtype=np.float32))
    real = ag.Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    out = round_trip({"w": t, "nested": [t], "real": real, "scalar": ag.Tensor(2.5)}, tmp_path)
    assert isinstance(out["w"], np.ndarray) and out["w"].dtype == np.float32
    np.testing.assert_array_equal(out["nested"][0], t.data)
    assert out["real"].dtype == np.float32 and out["real"].shape == (2, 2)
    assert out["scalar"].shape == () and out["scalar"] == 2.5


def test_top_level_non_dict(tmp_path):
    assert_same(round_trip((1, [2.0, "x"]), tmp_path), (1, [2.0, "x"]))
    assert_same(round_trip(np.eye(2), tmp_path), np.eye(2))
    assert round_trip(None, tmp_path) is None


def test_loaded_arrays_are_writable_and_own_their_memory(tmp_path):
    out = round_trip({"a": np.zeros(3), "b": np.zeros((2, 2), np.float32)}, tmp_path)
    out["a"][0] = 1.0
    out["b"] += 1
    assert out["a"][0] == 1.0 and out["b"].flags.writeable


def test_path_is_used_as_given(tmp_path):
    path = tmp_path / "checkpoint.ckpt"
    save({"a": 1}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.ckpt"]
    save({"a": 1}, str(tmp_path / "as-str"))
    assert load(tmp_path / "as-str") == {"a": 1}


# ------------------------------------------------------------------ the file format

def test_file_is_safetensors_with_the_state_dict_names(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    path = tmp_path / "m.safetensors"
    save(model.state_dict(), path)
    with safetensors.safe_open(path, framework="numpy") as f:
        assert sorted(f.keys()) == sorted(model.state_dict())
        metadata = f.metadata()
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(f.get_tensor(name), value)
    assert metadata["format"] == "pt"
    structure = json.loads(metadata["autograd_core.checkpoint"])
    assert structure["version"] == 2
    assert structure["root"] == {"dict": [[k, {"tensor": k}] for k in model.state_dict()]}
    assert list(load(path)) == list(model.state_dict())       # order kept


def test_nested_names_are_dotted_paths(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"model": {"0.weight": np.ones(2)}, "opt": {"state": {0: {"m": np.ones(1)}}},
          "hist": [np.ones(1), (np.ones(1),)], "s": np.float32(1), "b": b"x"}, path)
    assert set(safetensors.numpy.load_file(path)) == {
        "model.0.weight", "opt.state.0.m", "hist.0", "hist.1.0", "s", "b"}


def test_colliding_names_are_made_unique(tmp_path):
    state = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}, "__metadata__": np.full(1, 2.0)}
    path = tmp_path / "c.safetensors"
    save(state, path)
    assert set(safetensors.numpy.load_file(path)) == {"a.b", "a.b~1", "__metadata__~1"}
    assert_same(load(path), state)


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    path = tmp_path / "foreign.safetensors"
    tensors = {"b": np.arange(3, dtype=np.int32), "a": np.ones((2, 2), np.float32)}
    safetensors.numpy.save_file(tensors, path, metadata={"anything": "goes"})
    out = load(path)
    assert set(out) == {"a", "b"}
    for k in tensors:
        assert_same(tensors[k], out[k])
    out["a"][0, 0] = 5.0                                      # writable


def test_empty_state(tmp_path):
    assert round_trip({}, tmp_path) == {}
    path = tmp_path / "none.safetensors"
    safetensors.numpy.save_file({}, path)
    assert load(path) == {}


# ------------------------------------------------------------------ PyTorch, both ways

def _torch_pair(torch):
    """The same architecture in both libraries: Linear, BatchNorm1d, ReLU, Linear."""
    ours = nn.Sequential(nn.Linear(784, 200), nn.BatchNorm1d(200), nn.ReLU(), nn.Linear(200, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 200), torch.nn.BatchNorm1d(200),
                                 torch.nn.ReLU(), torch.nn.Linear(200, 10))
    return ours, theirs


def _batch(seed=0):
    return np.random.default_rng(seed).standard_normal((16, 784)).astype(np.float32)


def test_our_checkpoint_loads_in_pytorch_strictly(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch
    ours, theirs = _torch_pair(torch)
    ours(_batch(1))                       # train mode: running statistics move
    ours.eval()
    path = tmp_path / "m.safetensors"
    save(ours.state_dict(), path)
    result = theirs.load_state_dict(safetensors.torch.load_file(path), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    theirs.eval()
    x = _batch()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = ours(x).data
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert theirs[1].num_batches_tracked.dtype == torch.int64


def test_pytorch_checkpoint_loads_here_strictly(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch
    torch.manual_seed(0)
    ours, theirs = _torch_pair(torch)
    theirs(torch.from_numpy(_batch(2)))
    theirs.eval()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), path)
    state = load(path)
    assert set(state) == set(theirs.state_dict())
    ours.load_state_dict(state, strict=True)
    ours.eval()
    x = _batch()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=0, atol=1e-6)


def test_pytorch_bfloat16_file_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch
    path = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file({"w": torch.ones(3, dtype=torch.bfloat16)}, path)
    with pytest.raises(CheckpointError, match=r"'w' has dtype BF16, which NumPy does not have"):
        load(path)


# ------------------------------------------------------------------ unsupported objects

def test_unsupported_type_names_key_path(tmp_path):
    state = {"optimizer": {"state": {0: {"foo": object()}}}}
    with pytest.raises(TypeError, match=r"obj\['optimizer'\]\['state'\]\[0\]\['foo'\]"):
        save(state, tmp_path / "c.safetensors")
    assert list(tmp_path.iterdir()) == []                  # nothing written


def test_unsupported_list_item_and_dtypes(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['a'\]\[1\]: .*set"):
        save({"a": [1, {2}]}, tmp_path / "c")
    with pytest.raises(TypeError, match=r"obj\['obj'\].*pickle"):
        save({"obj": np.array([1, "a"], dtype=object)}, tmp_path / "c")
    with pytest.raises(TypeError, match=r"obj\['t'\]: arrays of dtype datetime64"):
        save({"t": np.array(["2020-01-01"], dtype="datetime64[D]")}, tmp_path / "c")
    with pytest.raises(TypeError, match=r"dtype complex256 cannot be stored"):
        save({"t": np.zeros(2, np.clongdouble)}, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", [1.5, None, (1, 2), True])
def test_unsupported_keys(tmp_path, key):
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({"d": {key: 1}}, tmp_path / "c")


def test_cycle_is_rejected(tmp_path):
    state = {"a": []}
    state["a"].append(state)
    with pytest.raises(ValueError, match="contains itself"):
        save(state, tmp_path / "c")


def test_depth_limit_on_save_and_just_below_it(tmp_path):
    deep = leaf = []
    for _ in range(serialization.MAX_DEPTH - 1):
        leaf.append([])
        leaf = leaf[0]
    assert round_trip(deep, tmp_path) == deep
    leaf.append([])
    with pytest.raises(ValueError, match="nested more than 100 deep"):
        save(deep, tmp_path / "c")


def test_shared_subtrees_are_fine(tmp_path):
    shared = [1, np.ones(2)]
    out = round_trip({"a": shared, "b": shared}, tmp_path)
    assert_same(out, {"a": shared, "b": shared})
    assert out["a"][1] is not out["b"][1]


# ------------------------------------------------------------------ atomic, durable writes

def _temporary(path):
    return Path(path).with_name(f".{Path(path).name}.ag-save.tmp")


def test_failed_replace_keeps_original_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "c.safetensors"
    save({"version": "old"}, path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk on fire")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        save({"version": "new", "w": np.ones(100)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]   # no temporary file
    monkeypatch.undo()
    assert load(path) == {"version": "old"}


def test_interrupted_write_keeps_original(tmp_path, monkeypatch):
    path = tmp_path / "c.safetensors"
    save({"version": "old"}, path)
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"version": "new"}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


def test_fsync_of_file_before_replace_and_of_directory_after(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    save({"a": 1}, tmp_path / "c")
    assert calls == ["fsync file", "replace", "fsync dir"]


CRASHING_SAVE = """
import os, sys
import autograd_core.serialization as s
def crash(src, dst):
    os._exit(3)              # the process dies after writing, before the rename
os.replace = crash
s.save({"new": 1}, sys.argv[1])
"""


def test_leftover_of_a_crashed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"old": 1}, path)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.run([sys.executable, "-c", CRASHING_SAVE, str(path)], env=env)
    assert proc.returncode == 3
    assert _temporary(path).exists()                     # the crash left it
    assert load(path) == {"old": 1}                      # the checkpoint is intact
    save({"next": 2}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]
    assert load(path) == {"next": 2}


def test_existing_permissions_are_kept_and_new_files_follow_the_umask(tmp_path):
    path = tmp_path / "private.safetensors"
    save({"a": 1}, path)
    path.chmod(0o600)
    save({"a": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and load(path) == {"a": 2}
    old = os.umask(0o027)
    try:
        save({"a": 3}, tmp_path / "new.safetensors")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.safetensors").stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root")
def test_owner_is_kept_when_allowed(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"a": 1}, path)
    os.chown(path, 65534, 65534)
    save({"a": 2}, path)
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0,
                    reason="root may write read-only files")
def test_read_only_file_is_not_replaced(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"a": 1}, path)
    path.chmod(0o444)
    with pytest.raises(PermissionError):
        save({"a": 2}, path)
    assert load(path) == {"a": 1}


def test_saving_to_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "real.safetensors"
    save({"v": 1}, target)
    link = tmp_path / "latest"
    link.symlink_to(os.path.join("runs", "real.safetensors"))      # relative link
    save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "real.safetensors")
    assert load(target) == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "runs"]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["real.safetensors"]
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "runs" / "created.safetensors")
    save({"v": 3}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "runs" / "created.safetensors") == {"v": 3}


def test_a_symlink_planted_at_the_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "c.safetensors"
    _temporary(path).symlink_to(victim)
    save({"a": 1}, path)
    assert victim.read_text() == "precious"
    assert load(path) == {"a": 1} and not os.path.lexists(_temporary(path))


def test_hard_links_keep_the_old_content(tmp_path):
    # autograd_core.train relies on it: last.ckpt starts as a hard link to an
    # epoch's checkpoint and is then saved over mid-epoch.
    epoch, last = tmp_path / "epoch-001.ckpt", tmp_path / "last.ckpt"
    save({"epoch": 1}, epoch)
    os.link(epoch, last)
    save({"epoch": 1.5}, last)
    assert load(epoch) == {"epoch": 1} and load(last) == {"epoch": 1.5}


def test_saving_to_a_device_writes_into_it():
    save({"a": np.ones(3)}, os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_concurrent_saves_to_one_path(tmp_path):
    path = tmp_path / "c.safetensors"
    states = [{"writer": i, "w": np.full(20_000, float(i))} for i in range(4)]
    errors = []

    def writer(state):
        try:
            for _ in range(8):
                save(state, path)
                loaded = load(path)       # always one whole checkpoint
                assert loaded["w"][0] == loaded["writer"]
        except Exception as exc:          # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=writer, args=(s,)) for s in states]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert load(path)["writer"] in range(4)
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


def test_overwrite(tmp_path):
    path = tmp_path / "c"
    save({"a": 1}, path)
    save({"b": np.arange(3)}, path)
    assert list(load(path)) == ["b"]


# ------------------------------------------------------------------ damaged and hostile files

def expect_error(path, *fragments, max_bytes=1_000_000):
    """load(path) raises CheckpointError naming the file, allocating at most
    max_bytes on the way (measured by tracemalloc, which sees NumPy's memory)."""
    if max_bytes is not None:
        tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as info:
            load(path)
        if max_bytes is not None:
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < max_bytes, f"{peak} bytes allocated before refusing {path}"
    finally:
        if max_bytes is not None:
            tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def valid_header(**tensor):
    return {"__metadata__": {"k": "v"},
            "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, **tensor}


def test_empty_and_tiny_files(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    expect_error(tmp_path / "empty", "empty")
    (tmp_path / "tiny").write_bytes(b"\x05\x00\x00")
    expect_error(tmp_path / "tiny", "too short")


def test_random_bytes_pickle_and_npy(tmp_path):
    (tmp_path / "random").write_bytes(np.random.default_rng(0).bytes(1000))
    expect_error(tmp_path / "random", "not a valid safetensors checkpoint")
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"w": [1.0]}))
    expect_error(tmp_path / "p.pkl", "a pickle file", "never unpickles")
    np.save(tmp_path / "a.npy", np.ones(3))
    expect_error(tmp_path / "a.npy", "not a valid safetensors checkpoint")


def test_directory_and_missing_file_are_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


def test_every_truncation_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"w": np.arange(10.0), "b": np.ones(3, np.float32), "step": 4, "name": "x"}, path)
    data = path.read_bytes()
    for keep in range(len(data)):
        (tmp_path / "t").write_bytes(data[:keep])
        expect_error(tmp_path / "t", max_bytes=None)


def test_every_byte_with_a_flipped_bit_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3)},
          "step": 3, "lr": 0.1, "betas": (0.9, 0.999), "flags": [True, None], "nan": float("nan"),
          "s": np.int64(4), "b": b"xy", "u": np.array(["ab"])}, path)
    data = path.read_bytes()
    for i in range(len(data)):
        damaged = bytearray(data)
        damaged[i] ^= 1 << (i % 8)
        (tmp_path / "d").write_bytes(bytes(damaged))
        expect_error(tmp_path / "d", max_bytes=None)


def test_flipped_data_byte_fails_the_checksum(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01                   # inside the tensor's bytes: safetensors cannot tell
    path.write_bytes(bytes(data))
    expect_error(path, "checksum mismatch")


@pytest.mark.parametrize("length", [2**63, 2**40, serialization.MAX_HEADER_BYTES + 8, 1000])
def test_header_length_beyond_the_file_or_the_limit(tmp_path, length):
    path = tmp_path / "c"
    path.write_bytes(length.to_bytes(8, "little") + b'{"__metadata__":{}}' + b" " * 200)
    expect_error(path, "header length")


def test_huge_claimed_shape_in_a_tiny_file(tmp_path):
    # 2**37 float32 elements (512 GiB) claimed by a 200-byte file
    header = {"w": {"dtype": "F32", "shape": [2**37], "data_offsets": [0, 4 * 2**37]}}
    path = raw_file(tmp_path / "c", header, b"\0" * 100)
    assert path.stat().st_size < 200
    expect_error(path, "the tensors take 549755813888 bytes, but the file holds 100")
    header["w"]["data_offsets"] = [0, 100]
    expect_error(raw_file(path, header, b"\0" * 100), "takes 549755813888 bytes")


def test_shape_too_large_for_numpy_even_if_empty(tmp_path):
    header = {"w": {"dtype": "F64", "shape": [0, 2**62], "data_offsets": [0, 0]}}
    expect_error(raw_file(tmp_path / "c", header), "too large for NumPy")
    header = {"w": {"dtype": "F64", "shape": [1] * 65, "data_offsets": [0, 8]}}
    expect_error(raw_file(tmp_path / "c", header, b"\0" * 8), "bad shape")


@pytest.mark.parametrize("where", ["header", "metadata", "structure"])
def test_nesting_5000_deep(tmp_path, where):
    deep = "[" * 5000 + "]" * 5000
    if where == "header":
        header = b'{"x":' + deep.encode() + b"}"
    elif where == "metadata":
        header = b'{"__metadata__":{"k":' + deep.encode() + b"}}"
    else:
        header = {"__metadata__": {"autograd_core.checkpoint": '{"version":2,"root":' + deep + "}",
                                   "autograd_core.crc32": "00000000"}}
    expect_error(raw_file(tmp_path / "c", header), "is nested too deeply")
    shallow = "[" * 300 + "]" * 300   # parses as JSON, then fails the depth limit
    header = {"__metadata__": {"autograd_core.checkpoint": '{"version":2,"root":' + shallow + "}",
                               "autograd_core.crc32": "00000000"}}
    expect_error(raw_file(tmp_path / "c", header), "nested more than 100 deep")


@pytest.mark.parametrize("entry, fragment", [
    ({"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}, "unknown dtype 'F33'"),
    ({"dtype": 7, "shape": [2], "data_offsets": [0, 8]}, "unknown dtype 7"),
    ({"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}, "NumPy does not have"),
    ({"dtype": "F64", "shape": [2], "data_offsets": [0, 8]}, "takes 16 bytes"),
    ({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}, "bad shape"),
    ({"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}, "bad shape"),
    ({"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}, "bad shape"),
    ({"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}, "bad shape"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}, "bad data_offsets"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}, "bad data_offsets"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 16]}, "bad data_offsets"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}, "starts at byte 4"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": 1}, "exactly"),
    ({"dtype": "F32", "shape": [2]}, "exactly"),
    ([1, 2], "exactly"),
])
def test_bad_tensor_entries(tmp_path, entry, fragment):
    expect_error(raw_file(tmp_path / "c", {"w": entry}, b"\0" * 8), fragment)


@pytest.mark.parametrize("tensors, data_len, fragment", [
    ({"a": [0, 8], "b": [4, 12]}, 12, "overlapping or leaving a gap"),
    ({"a": [0, 8], "b": [12, 20]}, 20, "overlapping or leaving a gap"),
    ({"a": [0, 8], "b": [8, 16]}, 24, "the file holds 24"),
    ({"a": [0, 8], "b": [8, 16]}, 12, "the file holds 12"),
    ({"a": [0, 8], "b": [0, 8]}, 8, "overlapping"),
])
def test_offsets_out_of_range(tmp_path, tensors, data_len, fragment):
    header = {k: {"dtype": "F32", "shape": [2], "data_offsets": v} for k, v in tensors.items()}
    expect_error(raw_file(tmp_path / "c", header, b"\0" * data_len), fragment)


@pytest.mark.parametrize("header, fragment", [
    (b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
     b'"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', "duplicate key 'w'"),
    (b'{"__metadata__":{"k":1}}', "__metadata__ must map strings to strings"),
    (b'{"__metadata__":["k"]}', "__metadata__ must map strings to strings"),
    (b'{"__metadata__":{"k":NaN}}', "NaN is not JSON"),
    (b'{"__metadata__":{"k":"\xff"}}', "not UTF-8"),
    (b'{"__metadata__":{"k":"v"}', "not valid JSON"),
    (b'{"__metadata__":{"k":"v"}} trailing', "not valid JSON"),
    (b'[]', "not a JSON object"),
    (b' {}', "not a JSON object"),
])
def test_bad_header_json(tmp_path, header, fragment):
    expect_error(raw_file(tmp_path / "c", header), fragment)


def _ours(tmp_path, root, tensors=None, version=2, crc=None):
    """A file with our metadata around `root`, and a correct checksum unless given."""
    tensors = tensors or {}
    structure = json.dumps({"version": version, "root": root})
    metadata = {"format": "pt", "autograd_core.checkpoint": structure}
    metadata["autograd_core.crc32"] = crc or serialization._checksum(metadata, tensors)
    path = tmp_path / "ours.safetensors"
    safetensors.numpy.save_file(tensors, path, metadata=metadata)
    return path


W = {"w": np.ones(2, np.float32)}


@pytest.mark.parametrize("root, tensors, fragment", [
    ({"tensor": "missing"}, W, "refers to tensor 'missing'"),
    ([{"tensor": "w"}, {"tensor": "w"}], W, "used twice"),
    ({"dict": []}, W, "'w' are not part of the structure"),
    ({"bytes": "w"}, W, "bytes must be a 1-d U8 tensor"),
    ({"scalar": "w"}, W, "a scalar, but 'w' has shape (2,)"),
    ({"tensor": "w", "view": "<U1"}, W, "needs U8 with a last axis of 4"),
    ({"tensor": "w", "view": "O"}, W, "bad view dtype"),
    ({"tensor": "w", "view": "<c3"}, W, "bad view dtype"),
    ({"tensor": "w", "view": "<U0"}, W, "bad view dtype"),
    ({"tensor": "w", "view": "<f8"}, W, "bad view dtype"),
    ({"tensor": "w", "view": "<U1", "more": 1}, W, "not a node"),
    ({"tensor": 3}, W, "refers to tensor 3"),
    ({"dict": [[1.5, None]]}, None, "bad dict item"),
    ({"dict": [["a", 1], ["a", 2]]}, None, "duplicate key 'a'"),
    ({"float": "1.0"}, None, "not a node"),
    ({"set": []}, None, "not a node"),
    ({}, None, "not a node"),
    ({"tuple": [], "list": []}, None, "not a node"),
])
def test_bad_structure(tmp_path, root, tensors, fragment):
    expect_error(_ours(tmp_path, root, tensors), "damaged checkpoint", fragment)


def test_structure_versions_and_checksum(tmp_path):
    expect_error(_ours(tmp_path, None, version=3), "version 3 is newer", "upgrade")
    expect_error(_ours(tmp_path, None, version=1), "bad format version 1")
    expect_error(_ours(tmp_path, None, version="2"), "bad format version '2'")
    path = tmp_path / "extra.safetensors"
    safetensors.numpy.save_file({}, path, metadata={
        "autograd_core.checkpoint": '{"version":2,"root":null,"more":1}',
        "autograd_core.crc32": "0"})
    expect_error(path, "not {version, root}")
    expect_error(_ours(tmp_path, None, crc="00000000"), "checksum mismatch")
    path = tmp_path / "half.safetensors"
    safetensors.numpy.save_file({}, path, metadata={"autograd_core.crc32": "0"})
    expect_error(path, "lacks")
    safetensors.numpy.save_file({}, path, metadata={"autograd_core.checkpoint": "{"})
    expect_error(path, "lacks")


# ------------------------------------------------------------------ fuzzing the loader

def _valid_files():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = []
        for i, state in enumerate([
                {"model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                           "0.bias": np.zeros(2, np.float32)},
                 "opt": {"state": {0: {"step": 2, "m": np.ones(3)}}, "lr": 0.1},
                 "s": ["x", None, (1, float("inf"))], "u": np.array(["ab", "c"])},
                {"w": np.arange(3, dtype=np.int64)}]):
            path = Path(d) / f"{i}.safetensors"
            save(state, path)
            out.append(path.read_bytes())
        safetensors.numpy.save_file({"a": np.ones((2, 2)), "b": np.zeros(3, np.uint8)},
                                    Path(d) / "f.safetensors")
        out.append((Path(d) / "f.safetensors").read_bytes())
        return out


VALID_FILES = _valid_files()
LEGACY_FILES = [(FIXTURES / name).read_bytes()
                for name in ("checkpoint_v1.npz", "checkpoint_v1_compressed.npz")]


@st.composite
def mutated(draw, sources):
    data = bytearray(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "set", "splice", "insert", "delete"]))
        n = len(data)
        i = draw(st.integers(0, max(n - 1, 0)))
        if kind == "truncate":
            del data[i:]
        elif kind == "flip" and n:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and n:
            data[i] = draw(st.sampled_from([0, 0xFF, ord("{"), ord("["), ord('"'), ord("9")]))
        elif kind == "splice":
            other = draw(st.sampled_from(sources))
            j = draw(st.integers(0, len(other)))
            data[i:] = other[j:j + draw(st.integers(0, 64))] + data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[i:i + draw(st.integers(1, 16))]
    return bytes(data)


def _only_checkpoint_errors(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz", numbered=True) / "c"
    path.write_bytes(data)
    try:
        load(path)
    except CheckpointError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(VALID_FILES))
def test_fuzz_safetensors_loader_raises_only_checkpoint_error(data, tmp_path_factory):
    _only_checkpoint_errors(data, tmp_path_factory)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(LEGACY_FILES))
def test_fuzz_npz_loader_raises_only_checkpoint_error(data, tmp_path_factory):
    _only_checkpoint_errors(data, tmp_path_factory)


# ------------------------------------------------------------------ version 1 (.npz)

@pytest.mark.parametrize("name", ["checkpoint_v1.npz", "checkpoint_v1_compressed.npz"])
def test_version_1_checkpoints_still_load(name):
    assert_same(load(FIXTURES / name), legacy_state())


def test_version_1_checkpoint_can_be_resaved_as_safetensors(tmp_path):
    state = load(FIXTURES / "checkpoint_v1.npz")
    save(state, tmp_path / "new.safetensors")
    assert_same(load(tmp_path / "new.safetensors"), legacy_state())


def _npz(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def _npy(array, **header_changes):
    buffer = io.BytesIO()
    np.save(buffer, array)
    data = buffer.getvalue()
    if header_changes:
        n = int.from_bytes(data[8:10], "little")
        header = eval(data[10:10 + n].decode("latin1"))     # noqa: S307 - our own test bytes
        header.update(header_changes)
        text = repr(header).encode("latin1")
        text += b" " * (n - 1 - len(text)) + b"\n"
        data = data[:10] + text + data[10 + n:]
    return data


V1_META = json.dumps({"format": "autograd_core.checkpoint", "version": 1,
                      "root": {"t": "array", "name": "a0"}}).encode()


def test_version_1_member_claiming_a_huge_shape(tmp_path):
    members = {"__meta__.json.npy": _npy(np.frombuffer(V1_META, np.uint8)),
               "a0.npy": _npy(np.zeros(4), shape=(2**37,))}
    expect_error(_npz(tmp_path / "c.npz", members), "its header claims")


def test_version_1_foreign_npz_and_torch_save_files(tmp_path):
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    expect_error(tmp_path / "foreign.npz", "not an autograd_core checkpoint", "__meta__.json")
    torch_like = _npz(tmp_path / "model.pt", {"archive/data.pkl": pickle.dumps({}),
                                              "archive/version": b"3"})
    expect_error(torch_like, "a torch.save file", "safetensors.torch.save_file")
    meta = json.dumps({"format": "someone-else", "version": 1, "root": None}).encode()
    _npz(tmp_path / "other.npz", {"__meta__.json.npy": _npy(np.frombuffer(meta, np.uint8))})
    expect_error(tmp_path / "other.npz", "foreign __meta__.json")


class Boom:
    """Unpickling this would create a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_object_array_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = Boom(marker)
    buffer = io.BytesIO()
    np.save(buffer, evil, allow_pickle=True)
    path = _npz(tmp_path / "evil.npz", {"a0.npy": buffer.getvalue(),
                                        "__meta__.json.npy": _npy(np.frombuffer(V1_META, np.uint8))})
    expect_error(path, "pickle")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Boom(marker)))
    expect_error(tmp_path / "evil.pkl", "pickle")
    assert not marker.exists()


def test_module_does_not_import_engine():
    # serialization must work before / without the engine modules.
    source = open(serialization.__file__).read()
    assert "from ." not in source and "import autograd_core" not in source
