"""Checkpoints: round trips, atomic writes, and refusing anything but our format."""

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

import autograd_core.serialization as serialization
from autograd_core.serialization import CheckpointError, load, save


class FakeTensor:
    """Stands in for autograd_core.Tensor: detected by its ndarray .data."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def numpy(self):
        return self.data


def assert_same(a, b):
    """Deep equality that also checks types, dtypes and shapes."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for (ka, va), kb in zip(a.items(), b):
            assert type(ka) is type(kb)
            assert_same(va, b[kb])
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


def round_trip(state, tmp_path):
    path = tmp_path / "ckpt.npz"
    save(state, path)
    return load(path)


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
        "note": "héllo ✓",
        "empty": {"list": [], "tuple": (), "dict": {}},
        "mixed_keys": {1: "int", "1": "str"},
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
    np.array(["a", "bcd"]),
    np.arange(6, dtype=np.float64).reshape(2, 3).T,   # not C-contiguous
], ids=lambda a: f"{a.dtype}{a.shape}")
def test_array_dtypes_and_shapes(tmp_path, array):
    out = round_trip({"x": array}, tmp_path)["x"]
    assert isinstance(out, np.ndarray)
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_scalars(tmp_path):
    state = [None, True, False, 0, -5, 2**70, 1.5, -0.0, float("inf"), float("nan"),
             0.1, "", "text", b"\x00\xffbytes", np.float32(1.25), np.int64(9), np.bool_(True)]
    out = round_trip(state, tmp_path)
    assert_same(state[:14], out[:14])
    assert math.copysign(1, out[7]) == -1                        # -0.0 kept exactly
    for original, loaded in zip(state[14:], out[14:]):
        assert type(loaded) is type(original) and loaded == original


def test_tensors_are_stored_as_arrays(tmp_path):
    t = FakeTensor(np.arange(3, dtype=np.float32))
    out = round_trip({"w": t, "nested": [t]}, tmp_path)
    assert isinstance(out["w"], np.ndarray) and out["w"].dtype == np.float32
    np.testing.assert_array_equal(out["nested"][0], t.data)


def test_top_level_non_dict(tmp_path):
    assert_same(round_trip((1, [2.0, "x"]), tmp_path), (1, [2.0, "x"]))
    assert_same(round_trip(np.eye(2), tmp_path), np.eye(2))


def test_loaded_arrays_are_writable(tmp_path):
    out = round_trip({"a": np.zeros(3)}, tmp_path)
    out["a"][0] = 1.0


def test_path_is_used_as_given(tmp_path):
    path = tmp_path / "checkpoint.ckpt"       # np.savez alone would append .npz
    save({"a": 1}, path)
    assert path.exists() and not (tmp_path / "checkpoint.ckpt.npz").exists()
    save({"a": 1}, str(tmp_path / "as-str"), compress=True)
    assert load(tmp_path / "as-str") == {"a": 1}


def test_file_format_is_a_plain_npz(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.ones(2)}, path)
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["__meta__.json"].tobytes())
        assert npz["__meta__.json"].dtype == np.uint8
        names = set(npz.files)
    assert meta["format"] == "autograd_core.checkpoint" and meta["version"] == 1
    assert names == {"__meta__.json", "a0"}


# ------------------------------------------------------------------ unsupported objects

def test_unsupported_type_names_key_path(tmp_path):
    state = {"optimizer": {"state": {0: {"foo": object()}}}}
    with pytest.raises(TypeError, match=r"state\['optimizer'\]\['state'\]\[0\]\['foo'\]"):
        save(state, tmp_path / "c.npz")
    assert list(tmp_path.iterdir()) == []                  # nothing written


def test_unsupported_list_item_and_object_array(tmp_path):
    with pytest.raises(TypeError, match=r"state\['a'\]\[1\]: .*set"):
        save({"a": [1, {2}]}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match=r"state\['obj'\].*pickle"):
        save({"obj": np.array([1, "a"], dtype=object)}, tmp_path / "c.npz")


@pytest.mark.parametrize("key", [1.5, None, (1, 2), True])
def test_unsupported_keys(tmp_path, key):
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({"d": {key: 1}}, tmp_path / "c.npz")


def test_cycle_is_rejected(tmp_path):
    state = {"a": []}
    state["a"].append(state)
    with pytest.raises(ValueError, match="contains itself"):
        save(state, tmp_path / "c.npz")


def test_shared_subtrees_are_fine(tmp_path):
    shared = [1, 2]
    assert round_trip({"a": shared, "b": shared}, tmp_path) == {"a": [1, 2], "b": [1, 2]}


# ------------------------------------------------------------------ atomic writes

def test_failed_replace_keeps_original_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save({"version": "old"}, path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk on fire")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        save({"version": "new", "w": np.ones(100)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]    # no temporary file left
    monkeypatch.undo()
    assert load(path) == {"version": "old"}


def test_interrupted_write_keeps_original(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save({"version": "old"}, path)
    before = path.read_bytes()

    def interrupted(file, **arrays):
        file.write(b"PK\x03\x04 partial data")
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"version": "new"}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_fsync_is_called_before_replace(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    save({"a": 1}, tmp_path / "c.npz")
    assert calls.index("fsync") < calls.index("replace")


def test_overwrite(tmp_path):
    path = tmp_path / "c.npz"
    save({"a": 1}, path)
    save({"b": np.arange(3)}, path)
    assert list(load(path)) == ["b"]


# ------------------------------------------------------------------ bad files

def expect_error(path, *fragments):
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    expect_error(path, "empty")


def test_random_bytes(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    expect_error(path, "not a zip")


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "c.npz"
    save({"w": np.arange(1000.0), "b": np.ones(10)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    expect_error(path, "corrupt or truncated")


def test_corrupted_member(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[2000] ^= 0xFF                       # inside a0.npy's data: the zip CRC catches it
    path.write_bytes(bytes(data))
    expect_error(path)


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.ones(3))
    expect_error(path, "not an autograd_core checkpoint", "missing __meta__.json")


def test_wrong_format_marker_and_version(tmp_path):
    path = tmp_path / "other.npz"
    meta = json.dumps({"format": "someone-else", "version": 1, "root": {"t": "none"}}).encode()
    np.savez(path, **{"__meta__.json": np.frombuffer(meta, np.uint8)})
    expect_error(path, "format marker is 'someone-else'")
    meta = json.dumps({"format": "autograd_core.checkpoint", "version": 99,
                       "root": {"t": "none"}}).encode()
    np.savez(path, **{"__meta__.json": np.frombuffer(meta, np.uint8)})
    expect_error(path, "version 99")


def test_corrupt_metadata(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, **{"__meta__.json": np.frombuffer(b"{not json", np.uint8)})
    expect_error(path, "not valid JSON")
    meta = json.dumps({"format": "autograd_core.checkpoint", "version": 1,
                       "root": {"t": "array", "name": "a7"}}).encode()
    np.savez(path, **{"__meta__.json": np.frombuffer(meta, np.uint8)})
    expect_error(path, "'a7'")


def test_plain_npy_is_rejected(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.ones(3))
    expect_error(path, "not a zip")


class Boom:
    """Unpickling this would create a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_object_array_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    # A checkpoint-looking file whose array member holds pickled objects.
    path = tmp_path / "evil.npz"
    meta = json.dumps({"format": "autograd_core.checkpoint", "version": 1,
                       "root": {"t": "array", "name": "a0"}}).encode()
    evil = np.empty(1, dtype=object)
    evil[0] = Boom(marker)
    buffer = io.BytesIO()
    np.save(buffer, evil, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a0.npy", buffer.getvalue())
        zf.writestr("__meta__.json.npy", _npy_bytes(np.frombuffer(meta, np.uint8)))
    expect_error(path, "pickle")
    assert not marker.exists()


def test_pickle_file_is_refused(tmp_path):
    import pickle
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Boom(marker)))
    expect_error(path, "not a zip")
    assert not marker.exists()


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


def test_module_does_not_import_engine():
    # serialization must work before / without the engine modules.
    source = open(serialization.__file__).read()
    assert "from ." not in source and "import autograd_core" not in source
