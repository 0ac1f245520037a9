"""Checkpoints: ``save(state, path)`` and ``load(path)`` without pickle.

A checkpoint is one ``.npz`` file (a zip of ``.npy`` arrays, as written by
``np.savez``).  Every array in the state is stored as its own member
``a0``, ``a1``, ...; the nested structure around them -- dicts and their key
types, lists versus tuples, Python scalars, strings -- is described by JSON,
stored as a uint8 array named ``__meta__.json``::

    {"format": "autograd_core.checkpoint", "version": 1, "root": <node>}

with nodes ``{"t": "dict", "items": [[["int", 0], <node>], ...]}``,
``{"t": "list"|"tuple", "items": [...]}``, ``{"t": "array", "name": "a3"}``,
``{"t": "str"|"int"|"bool", "v": ...}``, ``{"t": "float", "v": "0x1.8p+1"}``
(``float.hex``: exact, and covers inf and nan, which JSON cannot),
``{"t": "none"}``, and a few more below.

Why not pickle: loading a pickle runs arbitrary code, so a checkpoint from
someone else would be a program.  ``load`` reads with ``allow_pickle=False``
and accepts nothing it did not write.

Tensors are recognised by duck typing (an ndarray ``.data``), so this module
does not import the engine; ``load`` returns plain ndarrays and the caller
wraps them (``Module.load_state_dict`` copies values into its parameters).
"""

import json
import os
import secrets
import zipfile
import zlib

import numpy as np

__all__ = ["save", "load", "CheckpointError", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "autograd_core.checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__.json"


class CheckpointError(ValueError):
    """A file is not a readable autograd_core checkpoint."""


# ---------------------------------------------------------------- encoding

def _is_tensor(obj):
    # Duck typing keeps this module independent of the engine.  ndarray itself
    # has a .data attribute too, but a memoryview, so it is not caught here.
    return hasattr(obj, "data") and isinstance(obj.data, np.ndarray)


class _Encoder:
    def __init__(self):
        self.arrays = {}
        self._active = set()    # ids of the containers being encoded: cycle check

    def _add_array(self, array, path):
        if array.dtype.hasobject:
            raise TypeError(f"{path}: arrays of dtype {array.dtype} hold Python objects "
                            "and would need pickle; convert to a numeric or string dtype")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def encode(self, obj, path):
        # bool before int: bool is a subclass of int.
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": obj}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, bytes):
            return {"t": "bytes", "name": self._add_array(np.frombuffer(obj, np.uint8), path)}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "name": self._add_array(obj, path)}
        if isinstance(obj, np.generic):
            # A NumPy scalar keeps its dtype (np.float32(1.5) stays float32).
            return {"t": "scalar", "name": self._add_array(np.asarray(obj), path)}
        if _is_tensor(obj):
            return {"t": "array", "name": self._add_array(obj.data, path), "tensor": True}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._active:
                raise ValueError(f"{path} contains itself; a checkpoint must be a tree")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return {"t": "dict", "items": [
                        [self._encode_key(k, path), self.encode(v, f"{path}[{k!r}]")]
                        for k, v in obj.items()]}
                kind = "list" if isinstance(obj, list) else "tuple"
                return {"t": kind, "items": [self.encode(v, f"{path}[{i}]")
                                             for i, v in enumerate(obj)]}
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"{path}: cannot save an object of type {type(obj).__module__}."
                        f"{type(obj).__qualname__}; supported are dicts, lists, tuples, "
                        "ndarrays, tensors, int, float, bool, str, bytes and None")

    @staticmethod
    def _encode_key(key, path):
        if isinstance(key, str):
            return ["str", key]
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return ["int", int(key)]
        raise TypeError(f"{path}: dict key {key!r} of type {type(key).__name__} cannot be "
                        "saved; keys must be str or int")


# ---------------------------------------------------------------- writing

def _fsync_directory(directory):
    # Makes the rename itself durable.  Not possible on every platform
    # (Windows cannot open a directory), where it is skipped.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(state, path, compress=False):
    """Write `state` to `path` as a checkpoint, atomically.

    `state` may nest dicts (str or int keys), lists and tuples of ndarrays,
    tensors (their ``.data`` is stored), NumPy scalars, int, float, bool, str,
    bytes and None.  The file is written exactly at `path` (no ``.npz`` is
    appended).  It is first written to a temporary file in the same directory,
    flushed and fsync'd, then renamed over `path`: an interrupted save leaves
    either the old file or the new one, never a mixture, and no temporary
    file.  `compress` uses zip deflate (smaller, slower).
    """
    path = os.fspath(path)
    encoder = _Encoder()
    root = encoder.encode(state, "state")
    meta = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root},
                      ensure_ascii=True).encode("ascii")
    members = dict(encoder.arrays)
    members[META_KEY] = np.frombuffer(meta, dtype=np.uint8)

    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as for
    # any new file (tempfile.mkstemp would force 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            # A file object, not a name: np.savez would append ".npz" to a name.
            (np.savez_compressed if compress else np.savez)(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


# ---------------------------------------------------------------- reading

def _decode(node, arrays, where):
    def corrupt(what):
        return CheckpointError(f"corrupt checkpoint metadata at {where}: {what}")

    if not isinstance(node, dict) or "t" not in node:
        raise corrupt(f"expected a node, got {node!r:.80}")
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "int", "str"):
        value = node.get("v")
        expected = {"bool": bool, "int": int, "str": str}[t]
        if type(value) is not expected:
            raise corrupt(f"{t} node holds {value!r:.80}")
        return value
    if t == "float":
        try:
            return float.fromhex(node["v"])
        except (KeyError, TypeError, ValueError):
            raise corrupt(f"bad float {node.get('v')!r:.80}") from None
    if t in ("array", "scalar", "bytes"):
        name = node.get("name")
        if name not in arrays:
            raise corrupt(f"refers to array {name!r}, which the file does not hold")
        array = arrays[name]
        if t == "scalar":
            return array[()]
        if t == "bytes":
            return array.tobytes()
        return array
    if t in ("list", "tuple"):
        items = node.get("items")
        if not isinstance(items, list):
            raise corrupt(f"{t} without items")
        values = [_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(items)]
        return values if t == "list" else tuple(values)
    if t == "dict":
        items = node.get("items")
        if not isinstance(items, list):
            raise corrupt("dict without items")
        out = {}
        for item in items:
            try:
                (kind, key), value = item
            except (TypeError, ValueError):
                raise corrupt(f"bad dict item {item!r:.80}") from None
            if not ((kind == "str" and type(key) is str) or (kind == "int" and type(key) is int)):
                raise corrupt(f"bad dict key {[kind, key]!r:.80}")
            out[key] = _decode(value, arrays, f"{where}[{key!r}]")
        return out
    raise corrupt(f"unknown node type {t!r:.40}")


def load(path):
    """Read a checkpoint written by ``save``; arrays come back as ndarrays.

    Dict keys keep their types (int stays int), tuples stay tuples, arrays
    keep dtype and shape.  Anything else -- an empty, truncated or non-zip
    file, an ``.npz`` without our metadata, or one holding pickled objects --
    raises ``CheckpointError`` naming the file; nothing is ever unpickled.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise CheckpointError(f"{path}: empty file, not an autograd_core checkpoint")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):   # a zip with members / an empty zip
        raise CheckpointError(f"{path}: not an autograd_core checkpoint: not a zip/.npz "
                              f"file (starts with {head.hex()})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if META_KEY not in npz.files:
                raise CheckpointError(f"{path}: not an autograd_core checkpoint: "
                                      f"missing {META_KEY}")
            meta_array = npz[META_KEY]
            if meta_array.dtype != np.uint8 or meta_array.ndim != 1:
                raise CheckpointError(f"{path}: {META_KEY} must be a 1-D uint8 array, got "
                                      f"{meta_array.dtype} of shape {meta_array.shape}")
            try:
                meta = json.loads(meta_array.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CheckpointError(f"{path}: {META_KEY} is not valid JSON: {exc}") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                found = meta.get("format") if isinstance(meta, dict) else None
                raise CheckpointError(f"{path}: not an autograd_core checkpoint: format "
                                      f"marker is {found!r}, expected {FORMAT_NAME!r}")
            version = meta.get("version")
            if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
                raise CheckpointError(
                    f"{path}: checkpoint format version {version!r} is not supported "
                    f"(this autograd_core reads versions 1..{FORMAT_VERSION})")
            # Read every member now: NpzFile reads lazily and closes with the `with`.
            arrays = {name: npz[name] for name in npz.files if name != META_KEY}
    except CheckpointError:
        raise
    except ValueError as exc:
        # np.load raises ValueError for object arrays (pickle refused) and
        # for malformed .npy headers.
        raise CheckpointError(f"{path}: unreadable checkpoint: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint: "
                              f"{type(exc).__name__}: {exc}") from None
    if "root" not in meta:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata: no root")
    try:
        return _decode(meta["root"], arrays, "state")
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
