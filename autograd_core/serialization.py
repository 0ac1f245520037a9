"""Checkpoints: ``save(obj, path)`` and ``load(path)``, as safetensors files.

A checkpoint is a `safetensors <https://github.com/huggingface/safetensors>`_
file, the ecosystem's pickle-free format: a little-endian u64 header length, a
JSON header (name → dtype, shape, byte offsets, plus a ``__metadata__`` table of
strings), then the raw little-endian bytes of every tensor.  The
``safetensors`` package writes and reads the files; this module adds

* **names**: every array sits under its dotted path in ``obj``.  A model's
  ``state_dict()`` saved on its own gives exactly its keys (``0.weight``,
  ``0.bias``, ...), so ``safetensors.torch.load_file`` followed by
  ``torch_model.load_state_dict(..., strict=True)`` loads it in PyTorch; inside
  a bigger state the names are prefixed (``model.0.weight``,
  ``optimizer.state.0.exp_avg``).
* **structure**: what is not an array -- dicts with their key types (str or
  int), lists versus tuples, None, bools, ints, floats, strings -- is JSON
  in ``__metadata__["autograd_core.checkpoint"]``::

      {"version": 2, "root": <node>}

  A node is JSON ``null``, ``true``/``false``, an int, a finite float or a
  string for itself; a JSON list for a list; otherwise an object with one tag:
  ``{"dict": [[key, node], ...]}`` (key a string or an int),
  ``{"tuple": [node, ...]}``, ``{"float": "nan" | "inf" | "-inf"}``,
  ``{"tensor": name}`` (an ndarray), ``{"scalar": name}`` (a NumPy scalar, kept
  as a 0-d tensor), ``{"bytes": name}`` (a uint8 tensor).  Arrays whose dtype
  safetensors lacks (complex128, str, bytes) are stored as their raw bytes, a
  uint8 tensor with one more axis of the item size, and the node says which
  dtype to view them as: ``{"tensor": name, "view": "<U3"}``.
* **a checksum**: ``__metadata__["autograd_core.crc32"]`` is the CRC-32 of the
  other metadata and of every tensor's name, dtype, shape and bytes.
  safetensors has none, so without it a flipped bit in the data would load
  silently.  ``__metadata__["format"] = "pt"`` says the tensors follow
  PyTorch's layouts, as Hugging Face's loaders expect.

``load`` also reads safetensors files written by anything else (without our
metadata it returns the flat dict name → ndarray, as ``load_file`` does) and
the ``.npz`` checkpoints of version 1.

Why not pickle: loading a pickle runs arbitrary code, so a checkpoint from
someone else would be a program.  And a checkpoint is untrusted input: ``load``
reads the header itself and checks it completely -- its length against the
file, the JSON, every dtype, shape and byte range, the structure -- before
anything is allocated beyond the header, and raises ``CheckpointError`` for
anything it does not understand.

Tensors are recognised by duck typing (an ndarray ``.data``), so this module
does not import the engine; ``load`` returns plain ndarrays and the caller
wraps them (``Module.load_state_dict`` copies values into its parameters).
"""

import errno
import hashlib
import json
import math
import os
import re
import stat
import zipfile
import zlib

import numpy as np
import safetensors
import safetensors.numpy

try:                                   # POSIX: serialises saves to one path
    import fcntl
except ImportError:                    # pragma: no cover - Windows
    fcntl = None

__all__ = ["save", "load", "CheckpointError", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "autograd_core.checkpoint"   # the __metadata__ key of the structure
FORMAT_VERSION = 2                         # 1 was the .npz format
CHECKSUM_KEY = "autograd_core.crc32"
MAX_DEPTH = 100                            # nested containers in one checkpoint
MAX_HEADER_BYTES = 100_000_000             # safetensors' own limit
_MAX_NDIM = 64                             # NumPy's
_MAX_BYTES = 2**63 - 1                     # NumPy's limit on one array's size


class CheckpointError(ValueError):
    """A file is not a readable autograd_core checkpoint (or safetensors file).

        >>> _ = open("notes.txt", "w").write("not a checkpoint")
        >>> try:
        ...     ag.load("notes.txt")
        ... except ag.serialization.CheckpointError as error:
        ...     print(type(error).__name__, isinstance(error, ValueError))
        CheckpointError True
    """


# safetensors' dtype codes that NumPy has, as little-endian dtypes.
_DTYPES = {code: np.dtype(t).newbyteorder("<") for code, t in [
    ("BOOL", np.bool_), ("U8", np.uint8), ("I8", np.int8), ("U16", np.uint16),
    ("I16", np.int16), ("U32", np.uint32), ("I32", np.int32), ("U64", np.uint64),
    ("I64", np.int64), ("F16", np.float16), ("F32", np.float32), ("F64", np.float64),
    ("C64", np.complex64)]}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}
# safetensors dtypes without a NumPy equivalent: bfloat16, the float8/6/4s.
_FOREIGN_DTYPES = re.compile(r"BF16|F8_\w+|F6_\w+|F4")
# dtypes stored as raw bytes with a "view": complex128, unicode and byte strings.
_VIEW_PATTERN = re.compile(r"<c16|<U[1-9][0-9]{0,8}|\|S[1-9][0-9]{0,8}")


# ---------------------------------------------------------------- encoding

def _is_tensor(obj):
    # Duck typing keeps this module independent of the engine.  ndarray itself
    # has a .data attribute too, but a memoryview, so it is not caught here.
    return hasattr(obj, "data") and isinstance(obj.data, np.ndarray)


class _Encoder:
    """Turns a state into (structure node, {tensor name: contiguous array})."""

    def __init__(self):
        self.tensors = {}
        self._active = set()    # ids of the containers being encoded: cycle check

    def _add(self, array, names, where, tag):
        dtype = array.dtype
        if dtype.hasobject:
            raise TypeError(f"{where}: arrays of dtype {dtype} hold Python objects "
                            "and would need pickle; convert to a numeric or string dtype")
        little = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
        node = {}
        if little in _CODES:
            array = np.asarray(array, dtype=little, order="C")   # no copy if it is already
        elif _VIEW_PATTERN.fullmatch(little.str):
            # raw bytes: one more axis of the item size, viewed back on load
            array = np.asarray(array, dtype=little, order="C")
            array = array.reshape(array.shape + (1,)).view(np.uint8)
            node["view"] = little.str
        else:
            raise TypeError(f"{where}: arrays of dtype {dtype} cannot be stored in a "
                            "checkpoint; supported are bool, (unsigned) integers, float16/32/64, "
                            "complex64/128 and str or bytes arrays")
        name = ".".join(names) if names else "tensor"
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
        unique, n = name, 0
        while unique in self.tensors or unique == "__metadata__":
            n += 1                 # {"a.b": x, "a": {"b": y}}: both are "a.b"
            unique = f"{name}~{n}"
        self.tensors[unique] = array
        return {tag: unique, **node}

    def encode(self, obj, names, where, depth=0):
        # bool before int: bool is a subclass of int.
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, bytes):
            return self._add(np.frombuffer(obj, np.uint8), names, where, "bytes")
        if isinstance(obj, np.ndarray):
            return self._add(obj, names, where, "tensor")
        if isinstance(obj, np.generic):
            # A NumPy scalar keeps its dtype (np.float32(1.5) stays float32).
            return self._add(np.asarray(obj), names, where, "scalar")
        if _is_tensor(obj):
            return self._add(obj.data, names, where, "tensor")
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._active:
                raise ValueError(f"{where} contains itself; a checkpoint must be a tree")
            if depth >= MAX_DEPTH:
                raise ValueError(f"{where}: containers nested more than {MAX_DEPTH} deep "
                                 "cannot be saved")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return {"dict": [
                        [self._key(k, where),
                         self.encode(v, names + [str(k)], f"{where}[{k!r}]", depth + 1)]
                        for k, v in obj.items()]}
                items = [self.encode(v, names + [str(i)], f"{where}[{i}]", depth + 1)
                         for i, v in enumerate(obj)]
                return items if isinstance(obj, list) else {"tuple": items}
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"{where}: cannot save an object of type {type(obj).__module__}."
                        f"{type(obj).__qualname__}; supported are dicts, lists, tuples, "
                        "ndarrays, tensors, int, float, bool, str, bytes and None")

    @staticmethod
    def _key(key, where):
        if isinstance(key, str):
            return key
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return int(key)
        raise TypeError(f"{where}: dict key {key!r} of type {type(key).__name__} cannot be "
                        "saved; keys must be str or int")


def _checksum(metadata, tensors):
    """CRC-32 of the metadata (but the checksum) and each tensor's name, dtype,
    shape and bytes: of everything in the file but the layout safetensors checks."""
    entries = sorted((k, v) for k, v in metadata.items() if k != CHECKSUM_KEY)
    crc = zlib.crc32(json.dumps(entries, separators=(",", ":")).encode("ascii"))
    for name in sorted(tensors):
        array = tensors[name]
        entry = [name, _CODES[array.dtype], list(array.shape)]
        crc = zlib.crc32(json.dumps(entry, separators=(",", ":")).encode("ascii"), crc)
        crc = zlib.crc32(array, crc)
    return f"{crc:08x}"


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


def _temporary_name(target):
    """The one temporary file that saves to `target` use, next to it.

    A fixed name per target means a save interrupted by a crash leaves at most
    this file, and the next save to the same path removes it."""
    directory, name = os.path.split(target)
    tmp = f".{name}.ag-save.tmp"
    if len(os.fsencode(tmp)) > 255:    # NAME_MAX
        tmp = f".{hashlib.sha1(os.fsencode(name)).hexdigest()}.ag-save.tmp"
    return os.path.join(directory, tmp)


def _lock(fd):
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:                # a file system without locks: single writer
            pass


def _open_temporary(tmp):
    """Create `tmp` afresh and lock it; returns its descriptor.

    Concurrent saves to one path queue on the lock.  A file found under the
    name and locked by nobody is a leftover of an interrupted save: removed."""
    flags = os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    for _ in range(1000):
        fresh = True
        try:
            # 0o666: the umask decides, as for any new file
            fd = os.open(tmp, flags | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            fresh = False
            try:
                fd = os.open(tmp, flags | nofollow)
            except FileNotFoundError:
                continue
            except OSError:
                if not os.path.islink(tmp):
                    raise
                os.unlink(tmp)         # a symbolic link where our temporary goes
                continue
        try:
            _lock(fd)
            try:
                ours = os.path.samestat(os.fstat(fd), os.lstat(tmp))
            except FileNotFoundError:
                ours = False           # the save holding it before us renamed it
            if ours and fresh:
                return fd
            if ours:
                os.unlink(tmp)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise OSError(f"save: could not create the temporary file {tmp}")


def _write_atomically(path, blob):
    """Replace `path` by a file holding `blob`: whole or not at all, durably.

    Written through symbolic links (the link stays), keeping an existing
    file's permission bits (and owner, where allowed)."""
    target = os.path.realpath(path)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not os.access(target, os.W_OK):
        # as open(path, "wb") would: a read-only file is not replaced behind its back
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    if old is not None and not stat.S_ISREG(old.st_mode):
        # a device or pipe (/dev/null): it cannot be replaced, only written to
        with open(target, "wb") as f:
            f.write(blob)
        return
    tmp = _temporary_name(target)
    fd = _open_temporary(tmp)
    try:
        if old is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
            if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                try:
                    os.fchown(fd, old.st_uid, old.st_gid)
                except PermissionError:
                    pass
        with open(fd, "wb", closefd=False) as f:
            f.write(blob)
        os.fsync(fd)
        os.replace(tmp, target)
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        os.close(fd)                   # releases the lock
    _fsync_directory(os.path.dirname(target))


def save(obj, path):
    """Write `obj` to `path` as a safetensors checkpoint, atomically.

    `obj` may nest dicts (str or int keys), lists and tuples of ndarrays,
    tensors (their ``.data`` is stored), NumPy scalars, int, float, bool, str,
    bytes and None -- a model's ``state_dict()``, an optimiser's or scheduler's,
    or a whole training state.  Arrays are stored under their dotted path
    (``{"model": sd}`` puts ``sd["0.weight"]`` at ``model.0.weight``), the rest
    as JSON in the header (see the module docstring).

    The file goes first to a temporary file next to `path` (``.NAME.ag-save.tmp``),
    is fsync'd, and is renamed over `path`, and the directory is fsync'd: a
    crash leaves either the old file or the new one, and the next save to
    `path` removes a leftover temporary file.  A symbolic link is written
    through (the link stays); an existing file keeps its permission bits.
    Like the rename it is, a save gives `path` a new inode: hard links to the
    old file keep the old content.

    Example:

        >>> model = nn.Linear(3, 2)
        >>> opt = optim.SGD(model.parameters(), lr=0.1)
        >>> ag.save(model.state_dict(), "model.safetensors")
        >>> ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
        ...          "epoch": 3}, "run.ckpt")
        >>> ag.load("run.ckpt")["epoch"]
        3
    """
    path = os.fspath(path)
    encoder = _Encoder()
    root = encoder.encode(obj, [], "obj")
    structure = json.dumps({"version": FORMAT_VERSION, "root": root}, ensure_ascii=True,
                           separators=(",", ":"), allow_nan=False)
    metadata = {"format": "pt", FORMAT_NAME: structure}
    metadata[CHECKSUM_KEY] = _checksum(metadata, encoder.tensors)
    _write_atomically(path, safetensors.numpy.save(encoder.tensors, metadata=metadata))


# ---------------------------------------------------------------- reading

def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r:.80}")
        out[key] = value
    return out


def _parse_json(text, what):
    """Strict JSON (no NaN, no duplicate keys); damage becomes ValueError."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None
    except ValueError as exc:          # JSONDecodeError, duplicate keys, huge ints
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def _check_tensor_entry(name, entry):
    """(dtype, shape, begin, end) of a header entry, or ValueError."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"tensor {name!r:.80}: entry must hold exactly dtype, shape and "
                         f"data_offsets, got {entry!r:.120}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if isinstance(code, str) and code not in _DTYPES and _FOREIGN_DTYPES.fullmatch(code):
        raise ValueError(f"tensor {name!r:.80} has dtype {code}, which NumPy does not have; "
                         "convert it before saving (in PyTorch: tensor.float())")
    if code not in _DTYPES:
        raise ValueError(f"tensor {name!r:.80}: unknown dtype {code!r:.40}")

    def is_size(v):
        return type(v) is int and 0 <= v <= _MAX_BYTES

    if not isinstance(shape, list) or len(shape) > _MAX_NDIM or not all(map(is_size, shape)):
        raise ValueError(f"tensor {name!r:.80}: bad shape {shape!r:.120}")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(is_size, offsets))
            or offsets[0] > offsets[1]):
        raise ValueError(f"tensor {name!r:.80}: bad data_offsets {offsets!r:.120}")
    dtype = _DTYPES[code]
    if math.prod(max(n, 1) for n in shape) * dtype.itemsize > _MAX_BYTES:
        raise ValueError(f"tensor {name!r:.80}: shape {shape} is too large for NumPy")
    nbytes = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise ValueError(f"tensor {name!r:.80}: a {code} tensor of shape {shape} takes "
                         f"{nbytes} bytes, but data_offsets {offsets} span "
                         f"{offsets[1] - offsets[0]}")
    return dtype, tuple(shape), offsets[0], offsets[1]


def _read_header(f, size):
    """Read and check a safetensors header; returns ({name: (dtype, shape)}, metadata).

    Checked: the length against the file, the JSON, every entry, and that the
    tensors' byte ranges tile the data area exactly -- so nothing the header
    claims can exceed the file.  Raises ValueError."""
    prefix = f.read(8)
    if len(prefix) < 8:
        raise ValueError(f"{size} bytes is too short for a safetensors file")
    n = int.from_bytes(prefix, "little")
    if n > MAX_HEADER_BYTES:
        raise ValueError(f"header length {n} exceeds the limit of {MAX_HEADER_BYTES} bytes")
    if n > size - 8:
        raise ValueError(f"header length {n} exceeds the file's {size - 8} bytes after "
                         "the length (truncated?)")
    if f.read(1) != b"{":             # before reading n bytes of something else
        raise ValueError("the header is not a JSON object")
    raw = b"{" + f.read(n - 1)
    if len(raw) != n:
        raise ValueError("the file ended inside the header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the header is not UTF-8: {exc}") from None
    header = _parse_json(text, "the header")
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise ValueError("__metadata__ must map strings to strings")
    entries = {name: _check_tensor_entry(name, entry) for name, entry in header.items()}
    end = 0
    for name, (_, _, begin, stop) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin != end:
            raise ValueError(f"tensor {name!r:.80} starts at byte {begin} of the data, "
                             f"expected {end} (overlapping or leaving a gap)")
        end = stop
    if end != size - 8 - n:
        raise ValueError(f"the tensors take {end} bytes, but the file holds {size - 8 - n} "
                         "after the header (truncated or padded?)")
    return {name: e[:2] for name, e in entries.items()}, metadata


class _Decoder:
    """Builds the state from a structure node.

    First run without arrays (``arrays=None``) it only checks the structure
    against the header's tensors, before any tensor is read; then with them."""

    def __init__(self, table, arrays=None):
        self.table, self.arrays = table, arrays
        self.used = set()

    def decode(self, node, where="obj", depth=0):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if depth >= MAX_DEPTH:
            raise ValueError(f"{where}: nested more than {MAX_DEPTH} deep")
        if isinstance(node, list):
            return [self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node)]
        if not isinstance(node, dict) or not node:
            raise ValueError(f"{where}: not a node: {node!r:.80}")
        tag = next(iter(node))
        value = node[tag]
        if tag in ("tensor", "scalar", "bytes"):
            return self._tensor(node, tag, where)
        if len(node) != 1:
            raise ValueError(f"{where}: not a node: {node!r:.80}")
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "dict" and isinstance(value, list):
            out = {}
            for item in value:
                if not (isinstance(item, list) and len(item) == 2
                        and (isinstance(item[0], str) or type(item[0]) is int)):
                    raise ValueError(f"{where}: bad dict item {item!r:.80}")
                key, child = item
                if key in out:
                    raise ValueError(f"{where}: duplicate key {key!r:.80}")
                out[key] = self.decode(child, f"{where}[{key!r}]", depth + 1)
            return out
        raise ValueError(f"{where}: not a node: {node!r:.80}")

    def _tensor(self, node, tag, where):
        name = node[tag]
        view = node.get("view")
        if self.arrays is None:
            self._check(node, tag, name, view, where)
            return None
        array = self.arrays[name]
        if view is not None:
            array = array.view(np.dtype(view)).reshape(array.shape[:-1])
        if tag == "bytes":
            return array.tobytes()
        return array[()] if tag == "scalar" else array

    def _check(self, node, tag, name, view, where):
        if set(node) - {tag, "view"} or (tag == "bytes" and view is not None):
            raise ValueError(f"{where}: not a node: {node!r:.80}")
        if not isinstance(name, str) or name not in self.table:
            raise ValueError(f"{where}: refers to tensor {name!r:.80}, which the file "
                             "does not hold")
        if name in self.used:
            raise ValueError(f"{where}: tensor {name!r:.80} is used twice")
        self.used.add(name)
        dtype, shape = self.table[name]
        if tag == "bytes" and not (dtype == np.uint8 and len(shape) == 1):
            raise ValueError(f"{where}: bytes must be a 1-d U8 tensor, {name!r:.80} is "
                             f"{dtype} of shape {shape}")
        if view is not None:
            if not (isinstance(view, str) and _VIEW_PATTERN.fullmatch(view)):
                raise ValueError(f"{where}: bad view dtype {view!r:.40}")
            itemsize = np.dtype(view).itemsize
            if not (dtype == np.uint8 and shape and shape[-1] == itemsize):
                raise ValueError(f"{where}: viewing {name!r:.80} ({dtype}, shape {shape}) "
                                 f"as {view} needs U8 with a last axis of {itemsize}")
            shape = shape[:-1]
        if tag == "scalar" and shape != ():
            raise ValueError(f"{where}: a scalar, but {name!r:.80} has shape {shape}")


class _Replaced(Exception):
    """The file at the path changed between checking its header and reading it."""


def _read_tensors(path, table, before):
    """All tensors of the (checked) file, read by safetensors."""
    with safetensors.safe_open(path, framework="numpy") as f:
        arrays = {name: f.get_tensor(name) for name in f.keys()}
    after = os.stat(path)
    if ((before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)
            != (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns)):
        raise _Replaced
    if set(arrays) != set(table) or any((a.dtype, a.shape) != table[k] for k, a in arrays.items()):
        raise ValueError("safetensors read other tensors than the header holds")
    return arrays


def load(path):
    """Read a checkpoint written by ``save`` (or any safetensors file); arrays
    come back as ndarrays.

    Dict keys keep their types (int stays int), tuples stay tuples, arrays
    keep dtype and shape, and every array is writable and owns its memory.  A
    safetensors file without our metadata (``safetensors.torch.save_file``)
    gives the flat dict name → ndarray, as ``safetensors.numpy.load_file``; an
    ``.npz`` checkpoint of format version 1 is read too.

    Anything else -- an empty, truncated or damaged file, a header that claims
    more than the file holds, a checksum that does not match, a dtype NumPy
    lacks (bfloat16) -- raises ``CheckpointError`` naming the file, before any
    memory beyond the header is allocated.  Nothing is ever unpickled.

    Example:

        >>> model = nn.Linear(3, 2)
        >>> ag.save(model.state_dict(), "model.safetensors")
        >>> fresh = nn.Linear(3, 2)
        >>> fresh.load_state_dict(ag.load("model.safetensors"))
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((fresh.weight == model.weight).all())
        True
    """
    path = os.fspath(path)
    for _ in range(10):
        try:
            return _load_once(path)
        except _Replaced:
            continue            # a save renamed a new file over it: read that one
    raise CheckpointError(f"{path}: the file kept changing while it was being read")


def _load_once(path):
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise CheckpointError(f"{path}: not a regular file")
        if before.st_size == 0:
            raise CheckpointError(f"{path}: empty file, not a checkpoint")
        head = f.read(4)
        f.seek(0)
        try:
            table, metadata = _read_header(f, before.st_size)
        except ValueError as exc:
            if head in (b"PK\x03\x04", b"PK\x05\x06"):   # a zip: the .npz format
                return _load_v1(path)
            if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
                raise CheckpointError(f"{path}: a pickle file, not a checkpoint; autograd_core "
                                      "never unpickles (pickle runs code)") from None
            raise CheckpointError(f"{path}: not a valid safetensors checkpoint: {exc}") from None
    metadata = metadata or {}
    ours = FORMAT_NAME in metadata or CHECKSUM_KEY in metadata
    try:
        if ours:
            if FORMAT_NAME not in metadata or CHECKSUM_KEY not in metadata:
                raise ValueError(f"__metadata__ lacks {FORMAT_NAME!r} or {CHECKSUM_KEY!r}")
            structure = metadata[FORMAT_NAME]
            document = _parse_json(structure, "the structure")
            version = document.get("version") if isinstance(document, dict) else None
            if type(version) is int and version > FORMAT_VERSION:
                raise CheckpointError(
                    f"{path}: checkpoint format version {version} is newer than this "
                    f"autograd_core reads (1..{FORMAT_VERSION}); upgrade autograd_core")
            if type(version) is not int or version < 2:
                raise ValueError(f"bad format version {version!r:.40}")
            if set(document) != {"version", "root"}:
                raise ValueError("the structure is not {version, root}")
            checker = _Decoder(table)
            checker.decode(document["root"])
            unused = sorted(set(table) - checker.used)
            if unused:
                raise ValueError(f"tensor(s) {', '.join(map(repr, unused[:5]))} are not "
                                 "part of the structure")
        try:
            arrays = _read_tensors(path, table, before)
        except safetensors.SafetensorError as exc:
            raise ValueError(f"safetensors: {exc}") from None
        if not ours:
            return arrays
        if _checksum(metadata, arrays) != metadata[CHECKSUM_KEY]:
            raise ValueError("checksum mismatch: the file is damaged")
        return _Decoder(table, arrays).decode(document["root"])
    except CheckpointError:
        raise
    except ValueError as exc:
        raise CheckpointError(f"{path}: damaged checkpoint: {exc}") from None


# ------------------------------------------- version 1: .npz, read-only

_V1_META = "__meta__.json"
_DEFLATE_MAX_RATIO = 1032          # deflate cannot expand data more than this


def _check_v1_members(path):
    """Check every .npy member's header against the zip's sizes before NumPy
    reads it: NumPy allocates what a member's header claims."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            where = f"member {info.filename!r:.80}"
            if info.flag_bits & 0x1:
                raise ValueError(f"{where} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size:
                    raise ValueError(f"{where}: stored sizes differ")
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64:
                    raise ValueError(f"{where}: claims more than deflate can expand to")
            else:
                raise ValueError(f"{where}: unsupported compression {info.compress_type}")
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"{where}: unsupported .npy version {version}")
                shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise ValueError(f"{where}: holds Python objects (pickle); refused")
                expected = member.tell() + math.prod(shape) * dtype.itemsize
            if expected != info.file_size:
                raise ValueError(f"{where}: its header claims {expected} bytes, the zip "
                                 f"{info.file_size}")


def _decode_v1(node, arrays, where, depth=0):
    if depth >= MAX_DEPTH:
        raise ValueError(f"{where}: nested more than {MAX_DEPTH} deep")
    if not isinstance(node, dict) or "t" not in node:
        raise ValueError(f"{where}: expected a node, got {node!r:.80}")
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "int", "str"):
        value = node.get("v")
        if type(value) is not {"bool": bool, "int": int, "str": str}[t]:
            raise ValueError(f"{where}: {t} node holds {value!r:.80}")
        return value
    if t == "float":
        try:
            return float.fromhex(node["v"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: bad float {node.get('v')!r:.80}") from None
    if t in ("array", "scalar", "bytes"):
        name = node.get("name")
        if not isinstance(name, str) or name not in arrays:
            raise ValueError(f"{where}: refers to array {name!r:.80}, which the file "
                             "does not hold")
        array = arrays[name]
        if t == "scalar":
            return array[()]
        return array.tobytes() if t == "bytes" else array
    items = node.get("items")
    if t in ("list", "tuple") and isinstance(items, list):
        values = [_decode_v1(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)]
        return values if t == "list" else tuple(values)
    if t == "dict" and isinstance(items, list):
        out = {}
        for item in items:
            try:
                (kind, key), value = item
            except (TypeError, ValueError):
                raise ValueError(f"{where}: bad dict item {item!r:.80}") from None
            if not ((kind == "str" and type(key) is str) or (kind == "int" and type(key) is int)):
                raise ValueError(f"{where}: bad dict key {[kind, key]!r:.80}")
            out[key] = _decode_v1(value, arrays, f"{where}[{key!r}]", depth + 1)
        return out
    raise ValueError(f"{where}: unknown node {node!r:.80}")


def _load_v1(path):
    """A checkpoint of format version 1: an ``.npz`` whose member
    ``__meta__.json`` describes the structure around members ``a0``, ``a1``, ..."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        if _V1_META + ".npy" not in names:
            if any(name.endswith("data.pkl") for name in names):
                raise CheckpointError(
                    f"{path}: a torch.save file, which holds pickle; autograd_core never "
                    "unpickles. In PyTorch, save the state dict with "
                    "safetensors.torch.save_file(model.state_dict(), path) instead")
            raise CheckpointError(f"{path}: not an autograd_core checkpoint: a zip/.npz "
                                  f"file without {_V1_META}")
        _check_v1_members(path)
        with np.load(path, allow_pickle=False) as npz:
            meta_array = npz[_V1_META]
            if meta_array.dtype != np.uint8 or meta_array.ndim != 1:
                raise ValueError(f"{_V1_META} is not a 1-D uint8 array")
            meta = _parse_json(meta_array.tobytes().decode("utf-8"), _V1_META)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                raise CheckpointError(f"{path}: not an autograd_core checkpoint: an .npz "
                                      f"with a foreign {_V1_META}")
            if meta.get("version") != 1 or "root" not in meta:
                raise ValueError(f"bad version {meta.get('version')!r:.40} or no root")
            # Read every member now: NpzFile reads lazily and closes with the `with`.
            arrays = {name: npz[name] for name in npz.files if name != _V1_META}
        return _decode_v1(meta["root"], arrays, "obj")
    except CheckpointError:
        raise
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
            KeyError, NotImplementedError, SyntaxError, TypeError, OverflowError,
            MemoryError) as exc:
        raise CheckpointError(f"{path}: damaged .npz checkpoint (format version 1): "
                              f"{type(exc).__name__}: {exc}") from None
