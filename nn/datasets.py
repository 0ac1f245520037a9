"""Reading IDX files and loading Fashion-MNIST and MNIST, in plain NumPy.

The IDX format (used by MNIST and Fashion-MNIST) is a 4-byte magic number --
two zero bytes, a dtype code, the number of dimensions -- then one big-endian
uint32 per dimension, then the array in C order, big-endian.  The files are
usually distributed gzip-compressed.

Nothing here downloads anything: the data must already be on disk.  On Debian
and Ubuntu ``sudo apt-get install dataset-fashion-mnist`` puts the four
Fashion-MNIST files in ``/usr/share/datasets/fashion-mnist``.  MNIST has no
Debian package: its four files (same names, same layout) are found in a
directory you give, or in ``$MNIST_DIR``.

Only NumPy and the standard library are used, so this module can be imported
without the rest of the package.
"""

import functools
import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "IDXError",
    "DatasetNotFoundError",
    "read_idx",
    "load_idx_pair",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "find_mnist",
    "load_mnist",
    "train_validation_split",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR_ENV",
    "MNIST_CLASSES",
    "MNIST_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "KNOWN_CHECKSUMS",
]


class IDXError(ValueError):
    """An IDX file is malformed, truncated, or fails its checksum.

        >>> _ = open("labels-idx1-ubyte", "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2]))
        >>> try:                                  # the header promises 3 labels, the file holds 2
        ...     nn.datasets.read_idx("labels-idx1-ubyte")
        ... except nn.datasets.IDXError as error:
        ...     print(type(error).__name__)
        IDXError
    """


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are in none of the places looked in.

    ``str(error)`` lists every place looked in, one per line, and how to get
    the data; ``error.summary`` says the same in one line (for a command
    line).  Attributes: ``dataset`` (its name), ``looked`` (one
    ``(directory, origin, problem)`` per place) and ``hint`` (how to get it).

        >>> try:
        ...     nn.datasets.find_mnist("no-such-dir", search_defaults=False)
        ... except nn.datasets.DatasetNotFoundError as error:
        ...     print(error.dataset, isinstance(error, FileNotFoundError))
        MNIST True
    """

    def __init__(self, dataset, looked, hint, note=None):
        self.dataset, self.looked, self.hint, self.note = dataset, tuple(looked), hint, note
        lines = [f"  {d}  ({origin}): {problem}" for d, origin, problem in self.looked]
        if note:
            lines.append(f"  ({note})")
        super().__init__(
            f"{dataset} files not found. Looked in (each also in its subfolders "
            f"{', '.join(s + '/' for s in _SPECS[dataset].subfolders)}):\n"
            + "\n".join(lines) + "\n" + hint)

    @property
    def summary(self):
        """The error in one line: where it looked, what was missing, how to get the data."""
        places = [f"{d}: {problem}" for d, _, problem in self.looked]
        places += [self.note] if self.note else []
        return f"{self.dataset} files not found ({'; '.join(places) or 'nowhere'}). {self.hint}"


FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

FASHION_MNIST_DIR_ENV = "FASHION_MNIST_DIR"
# Where Debian's package dataset-fashion-mnist installs the files.  A module
# attribute (not a literal inside the function) so that tests can point it
# elsewhere.
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
INSTALL_HINT = (
    "To get it: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu; "
    "installs into /usr/share/datasets/fashion-mnist), or put the four files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzip'd or not) in a "
    "directory and set FASHION_MNIST_DIR=/that/dir or pass --data /that/dir."
)

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
MNIST_DIR_ENV = "MNIST_DIR"
MNIST_HINT = (
    "MNIST is not packaged for Debian: download its four files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, from "
    "http://yann.lecun.com/exdb/mnist/ or a mirror; gzip'd or not) into a "
    "directory and set MNIST_DIR=/that/dir or pass --data /that/dir."
)

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# dtype code -> big-endian NumPy dtype, as the IDX format defines them.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


# --------------------------------------------------------------------------
# Known checksums.
#
# gz_md5: the MD5 of the official .gz file, as published in the README of
#   github.com/zalandoresearch/fashion-mnist (Fashion-MNIST) and used by
#   torchvision (MNIST).
# idx_sha256: the SHA-256 of the *decompressed* IDX file.  Nobody publishes
#   these, so they were computed from Debian's dataset-fashion-mnist
#   (0.0~git20200523.55506a9-1) after proving its files are the official ones.
#   Debian normalised the gzip headers (dropped the stored file name, changed
#   the timestamp), so its .gz files do not match the published MD5s; but
#   putting back a header with the file name and the original timestamp
#   (2017-08-31 10:50:06 UTC for the train files, 10:50:27 for the test files;
#   XFL 0, OS 3) in front of Debian's unchanged compressed streams reproduces
#   all four published MD5s exactly.  The data also pass the obvious checks:
#   60,000 / 10,000 images of 28x28 and exactly 6,000 / 1,000 labels per class.
#   Hence a .gz file passes if either its MD5 or its decompressed SHA-256 is
#   known.  No decompressed digests are recorded for MNIST, which shares the
#   file names: read uncompressed MNIST files with verify=False.
# --------------------------------------------------------------------------
KNOWN_CHECKSUMS = {
    "train-images-idx3-ubyte": (
        ("Fashion-MNIST", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
         "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        ("MNIST", "f68b3c2dcbeaaa9fbdd348bbdeb94873", None),
    ),
    "train-labels-idx1-ubyte": (
        ("Fashion-MNIST", "25c81989df183df01b3e8a0aad5dffbe",
         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        ("MNIST", "d53e105ee54ea40749a09fcbcd1e9432", None),
    ),
    "t10k-images-idx3-ubyte": (
        ("Fashion-MNIST", "bef4ecab320f06d8554ea6380940ec79",
         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        ("MNIST", "9fb629c4189551a2d022fa330f9573f3", None),
    ),
    "t10k-labels-idx1-ubyte": (
        ("Fashion-MNIST", "bb300cfdad3c16e7a12a480ee83cd310",
         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ("MNIST", "ec29112dd5afa0611ce80d1b7f02629c", None),
    ),
}


def _known_name(path):
    """The KNOWN_CHECKSUMS key for `path` (``x`` for ``x`` and ``x.gz``), or None."""
    name = Path(path).name
    if name.endswith(".gz"):
        name = name[:-3]
    return name if name in KNOWN_CHECKSUMS else None


def _file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _read_exactly(stream, n):
    """Read up to n bytes, looping because a single read may return fewer."""
    buf = bytearray()
    while len(buf) < n:
        block = stream.read(min(_CHUNK, n - len(buf)))
        if not block:
            break
        buf += block
    return buf


def _count_rest(stream):
    """Number of bytes left in `stream` (read and discarded, not kept)."""
    count = 0
    for block in iter(lambda: stream.read(_CHUNK), b""):
        count += len(block)
    return count


def _parse_and_read(stream, path):
    """Check the header, read the payload; returns (array, header bytes, payload bytes)."""
    magic = _read_exactly(stream, 4)
    if len(magic) < 4:
        raise IDXError(f"{path}: not an IDX file: only {len(magic)} bytes, "
                       "shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = magic
    if zero0 != 0 or zero1 != 0:
        raise IDXError(f"{path}: not an IDX file: magic number {bytes(magic).hex()} "
                       "does not start with two zero bytes")
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise IDXError(f"{path}: unknown IDX dtype code 0x{code:02X} in magic number "
                       f"{bytes(magic).hex()} (known: {known})")
    if ndim == 0:
        raise IDXError(f"{path}: IDX header declares 0 dimensions")

    dims_raw = _read_exactly(stream, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise IDXError(f"{path}: truncated IDX header: {ndim} dimensions need "
                       f"{4 * ndim} bytes of sizes, got {len(dims_raw)}")
    dims = struct.unpack(f">{ndim}I", dims_raw)
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize

    # Read at most the declared size: a corrupt header declaring terabytes
    # must not make us allocate terabytes, only as much as the file holds.
    payload = _read_exactly(stream, expected)
    if len(payload) < expected:
        raise IDXError(f"{path}: truncated IDX file: header dims {dims} of {dtype.name} "
                       f"need {expected} payload bytes, found {len(payload)}")
    extra = _count_rest(stream)
    if extra:
        raise IDXError(f"{path}: {extra} unexpected bytes after the IDX payload: "
                       f"header dims {dims} of {dtype.name} need exactly {expected} "
                       f"payload bytes, found {expected + extra}")

    # frombuffer over a bytearray gives a writable array without a copy.
    array = np.frombuffer(payload, dtype=dtype).reshape(dims)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array, bytes(magic) + bytes(dims_raw), payload


def _content_sha256(header, payload):
    sha = hashlib.sha256(header)
    sha.update(payload)
    return sha.hexdigest()


def _verify(path, gz, header, payload, dataset=None):
    """Compare `path` with the known checksums of files of the same name.

    `dataset` (``"Fashion-MNIST"``, ``"MNIST"``) restricts the comparison to that
    dataset's files; None accepts any dataset's.
    """
    name = _known_name(path)
    if name is None:
        return
    candidates = KNOWN_CHECKSUMS[name]
    md5 = _file_digest(path, "md5") if gz else None
    sha = _content_sha256(header, payload)
    matches = [ds for ds, gz_md5, idx_sha in candidates
               if (gz and md5 == gz_md5) or (idx_sha and sha == idx_sha)]
    if matches and (dataset is None or dataset in matches):
        return
    if matches:
        raise IDXError(f"{path}: this is the {matches[0]} file of that name, not {dataset}")
    expected = []
    for ds, gz_md5, idx_sha in candidates:
        if dataset is not None and ds != dataset:
            continue
        if gz:
            expected.append(f"{ds} .gz MD5 {gz_md5}")
        if idx_sha:
            expected.append(f"{ds} decompressed SHA-256 {idx_sha}")
    actual = f"decompressed SHA-256 {sha}"
    if gz:
        actual = f".gz MD5 {md5}, " + actual
    raise IDXError(
        f"{path}: checksum mismatch: expected {' or '.join(expected)}; got {actual}. "
        "The file is corrupt or is not the official data of that name "
        "(pass verify=False to read it anyway, e.g. for uncompressed MNIST files)."
    )


def _refuse_fashion_mnist(path, gz, header, payload):
    """The check of MNIST files: no checksums (there are many re-packed copies),
    but the Fashion-MNIST files, which have the same names, are refused."""
    name = _known_name(path)
    if name is None:
        return
    sha = _content_sha256(header, payload)
    if any(ds == "Fashion-MNIST" and sha == idx_sha for ds, _, idx_sha in KNOWN_CHECKSUMS[name]):
        raise IDXError(f"{path}: this is the Fashion-MNIST file of that name, not MNIST")


def _read(path):
    """(array, gzip'd?, header bytes, payload bytes) of the IDX file at `path`."""
    path = Path(path)
    gz = _is_gzip(path)
    try:
        if gz:
            with gzip.open(path, "rb") as stream:
                array, header, payload = _parse_and_read(stream, path)
        else:
            with open(path, "rb") as stream:
                array, header, payload = _parse_and_read(stream, path)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # EOFError: the gzip stream ends early; zlib.error / BadGzipFile:
        # corrupt data, bad CRC, or garbage after the compressed stream.
        raise IDXError(f"{path}: corrupt or truncated gzip data: {exc}") from exc
    return array, gz, header, payload


def read_idx(path, verify=True):
    """Read an IDX file, raw or gzip-compressed, into an ndarray.

    Compression is detected from the gzip magic bytes, not the file name.  The
    result has the shape of the header's dims and the IDX dtype in native byte
    order (uint8 for images and labels); it is writable.

    If the file's name (with or without ``.gz``) is one of the official
    MNIST / Fashion-MNIST names and `verify` is true, it is checked against
    ``KNOWN_CHECKSUMS``: the published MD5 of the .gz file, or the SHA-256 of
    the decompressed data.  Any problem raises ``IDXError`` naming the file.

    Example: ``labels = read_idx("t10k-labels-idx1-ubyte.gz")`` -> uint8 array (10000,).

        >>> _ = open("labels-idx1-ubyte", "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
        >>> nn.datasets.read_idx("labels-idx1-ubyte")          # magic 0 0 8 (uint8) 1 (dims), 3, data
        array([7, 2, 1], dtype=uint8)
    """
    array, gz, header, payload = _read(path)
    if verify:
        _verify(Path(path), gz, header, payload)
    return array


def _load_pair(images_path, labels_path, check):
    """Images and labels read with ``check(path, gz, header, payload)`` (or none)."""
    arrays = []
    for path in (images_path, labels_path):
        array, gz, header, payload = _read(path)
        if check is not None:
            check(Path(path), gz, header, payload)
        arrays.append(array)
    images, labels = arrays
    if labels.ndim != 1:
        raise IDXError(f"{labels_path}: labels must be 1-D, got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels; the two files do not belong together"
        )
    return images, labels


def load_idx_pair(images_path, labels_path, verify=True):
    """Read an images file and a labels file that belong together.

    Works for any dataset in the MNIST layout.  Returns ``(images, labels)``
    as read (uint8 for MNIST-like data); raises ``IDXError`` if the labels
    are not 1-D or the example counts differ.  `verify` as in ``read_idx``.

        >>> from pathlib import Path
        >>> d = Path("mnist"); d.mkdir(exist_ok=True)
        >>> images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(196)) * 8
        >>> _ = (d / "train-images-idx3-ubyte").write_bytes(images)          # 2 images, 28×28
        >>> _ = (d / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]))
        >>> x, y = nn.datasets.load_idx_pair(d / "train-images-idx3-ubyte", d / "train-labels-idx1-ubyte",
        ...                                 verify=False)        # not the official files
        >>> x.shape, x.dtype, y
        ((2, 28, 28), dtype('uint8'), array([3, 7], dtype=uint8))
    """
    return _load_pair(images_path, labels_path, _verify if verify else None)


def _find_file(directory, stem):
    """`stem` or `stem.gz` inside `directory` (uncompressed first: faster), or None."""
    for name in (stem, stem + ".gz"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


class _Dataset(NamedTuple):
    """Where a dataset in the MNIST layout is looked for, and what it holds."""
    name: str
    env: str                       # the environment variable naming its directory
    default_dir: Callable          # () -> the system-wide directory, or None
    default_origin: str
    # Layouts seen in the wild besides flat (Debian, Keras): the repositories'
    # own data/<name> folders and torchvision's <Name>/raw.
    subfolders: tuple
    classes: tuple
    hint: str                      # how to get the files


_SPECS = {
    "Fashion-MNIST": _Dataset("Fashion-MNIST", FASHION_MNIST_DIR_ENV, lambda: DEFAULT_DATA_DIR,
                              "default, Debian's dataset-fashion-mnist",
                              ("fashion", "fashion-mnist", "FashionMNIST/raw"),
                              FASHION_MNIST_CLASSES, INSTALL_HINT),
    "MNIST": _Dataset("MNIST", MNIST_DIR_ENV, lambda: None, "", ("mnist", "MNIST/raw"),
                      MNIST_CLASSES, MNIST_HINT),
}


def _find(spec, data_dir, split, search_defaults):
    if split is not None and split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    needed = _SPLIT_FILES[split] if split else _SPLIT_FILES["train"] + _SPLIT_FILES["test"]

    sources = []
    if data_dir is not None:
        sources.append((data_dir, "data_dir argument / --data"))
    env = os.environ.get(spec.env) if search_defaults else None
    if env:
        sources.append((env, f"${spec.env}"))
    default = spec.default_dir() if search_defaults else None
    if default:
        sources.append((default, spec.default_origin))

    looked = []
    for root, origin in sources:
        root = Path(root)
        if not root.is_dir():
            looked.append((root, origin, "not a directory" if root.exists()
                           else "no such directory"))
            continue
        for directory in [root] + [root / sub for sub in spec.subfolders]:
            if all(_find_file(directory, stem) for stem in needed):
                return directory
            if directory.is_dir():
                missing = [s for s in needed if not _find_file(directory, s)]
                looked.append((directory, origin,
                               "missing " + ", ".join(f"{s}[.gz]" for s in missing)))
    note = f"${spec.env} is not set" if search_defaults and not env else None
    raise DatasetNotFoundError(spec.name, looked, spec.hint, note)


def find_fashion_mnist(data_dir=None, split=None, *, search_defaults=True):
    """Directory holding the Fashion-MNIST files.

    Looks, in order, in `data_dir` (the CLI's ``--data DIR``), in
    ``$FASHION_MNIST_DIR``, then in ``/usr/share/datasets/fashion-mnist``
    (Debian's dataset-fashion-mnist), each also in the subfolders ``fashion``,
    ``fashion-mnist`` and ``FashionMNIST/raw``; with ``search_defaults=False``
    only in `data_dir`.  A directory qualifies if it holds both files of
    `split` ('train' or 'test'), or all four if `split` is None, each either
    raw or gzip'd.  Raises ``DatasetNotFoundError`` (a ``FileNotFoundError``)
    listing every place looked in and how to install the data.

    Example: ``find_fashion_mnist()`` -> ``PosixPath('/usr/share/datasets/fashion-mnist')``.

        >>> from pathlib import Path
        >>> d = Path("fashion"); d.mkdir(exist_ok=True)
        >>> images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(196)) * 8
        >>> _ = (d / "train-images-idx3-ubyte").write_bytes(images)          # 2 images, 28×28
        >>> _ = (d / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]))
        >>> nn.datasets.find_fashion_mnist(d, split="train", search_defaults=False)
        PosixPath('fashion')
    """
    return _find(_SPECS["Fashion-MNIST"], data_dir, split, search_defaults)


def find_mnist(data_dir=None, split=None, *, search_defaults=True):
    """Directory holding the MNIST files (the same four names as Fashion-MNIST's).

    Looks in `data_dir`, then (unless ``search_defaults=False``) in
    ``$MNIST_DIR``, each also in the subfolders ``mnist`` and ``MNIST/raw``
    (torchvision's layout).  There is no system-wide default: MNIST has no
    Debian package.  Raises ``DatasetNotFoundError`` saying how to get the files.

    Example: ``find_mnist("~/data/mnist", split="test")``.

        >>> from pathlib import Path
        >>> d = Path("mnist"); d.mkdir(exist_ok=True)
        >>> images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(196)) * 8
        >>> _ = (d / "train-images-idx3-ubyte").write_bytes(images)          # 2 images, 28×28
        >>> _ = (d / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]))
        >>> nn.datasets.find_mnist(d, split="train", search_defaults=False)
        PosixPath('mnist')
    """
    return _find(_SPECS["MNIST"], data_dir, split, search_defaults)


def _load(spec, data_dir, split, dtype, normalize, flatten, limit, check):
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    dtype = np.dtype(dtype)
    if normalize and not np.issubdtype(dtype, np.floating):
        raise ValueError(f"normalize=True scales to [0, 1] and needs a floating dtype, "
                         f"got dtype={dtype}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 0):
        raise ValueError(f"limit must be None or a non-negative int, got {limit!r}")
    directory = _find(spec, data_dir, split, True)
    images_path, labels_path = (_find_file(directory, stem) for stem in _SPLIT_FILES[split])
    images, labels = _load_pair(images_path, labels_path, check)

    # Without a checksum nothing else vouches for the content: check the shape
    # and label range the rest of the code relies on.
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: expected uint8 images of 28x28, got "
                       f"{images.dtype} of shape {images.shape}")
    if labels.size and labels.max() >= len(spec.classes):
        raise IDXError(f"{labels_path}: label {int(labels.max())} out of range "
                       f"0..{len(spec.classes) - 1}")

    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    images = images.astype(dtype)
    if normalize:
        images /= 255
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels.astype(np.int64)


def load_fashion_mnist(data_dir=None, split="train", dtype=np.float32,
                       normalize=True, flatten=False, limit=None, verify=True):
    """Fashion-MNIST as ``(images, labels)`` NumPy arrays.

    images: `dtype`, shape (N, 28, 28), or (N, 784) if `flatten`; values in
    [0, 1] if `normalize`, else 0..255.  labels: int64, shape (N,), indices
    into ``FASHION_MNIST_CLASSES``.  `limit` keeps the first `limit` examples
    (all of them if there are fewer).  See ``find_fashion_mnist`` for where
    the files are looked for.  With `verify` every file must match the known
    Fashion-MNIST checksums (the MNIST files, which have the same names, are
    refused).

    Example: ``x, y = load_fashion_mnist(split="test", flatten=True)`` -> (10000, 784), (10000,).

        >>> from pathlib import Path
        >>> d = Path("fashion"); d.mkdir(exist_ok=True)
        >>> images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(196)) * 8
        >>> _ = (d / "train-images-idx3-ubyte").write_bytes(images)          # 2 images, 28×28
        >>> _ = (d / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]))
        >>> x, y = nn.datasets.load_fashion_mnist(d, verify=False, normalize=False)   # not the real files
        >>> x.shape, x.dtype, y
        ((2, 28, 28), dtype('float32'), array([3, 7]))
    """
    check = functools.partial(_verify, dataset="Fashion-MNIST") if verify else None
    return _load(_SPECS["Fashion-MNIST"], data_dir, split, dtype, normalize, flatten,
                 limit, check)


def load_mnist(data_dir=None, split="train", dtype=np.float32, normalize=True,
               flatten=False, limit=None):
    """MNIST (LeCun, Cortes & Burges: hand-written digits) as ``(images, labels)``.

    The same arrays as ``load_fashion_mnist`` (labels are the digits 0-9,
    ``MNIST_CLASSES``), from the directory ``find_mnist`` finds.  No checksum
    is required, since copies of MNIST are re-packed in many ways; the files
    must be well-formed 28x28 uint8 images with labels 0-9, and the
    Fashion-MNIST files (same names) are refused.

    Example: ``x, y = load_mnist("~/data/mnist", split="train", limit=1000)``.

        >>> from pathlib import Path
        >>> d = Path("mnist"); d.mkdir(exist_ok=True)
        >>> images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(range(196)) * 8
        >>> _ = (d / "train-images-idx3-ubyte").write_bytes(images)          # 2 images, 28×28
        >>> _ = (d / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]))
        >>> x, y = nn.datasets.load_mnist(d, split="train", flatten=True)
        >>> x.shape, x.dtype, float(x.max()) <= 1.0, y
        ((2, 784), dtype('float32'), True, array([3, 7]))
    """
    return _load(_SPECS["MNIST"], data_dir, split, dtype, normalize, flatten, limit,
                 _refuse_fashion_mnist)


def train_validation_split(x, y, n_val, seed=0):
    """Split (x, y) into ``(x_train, y_train), (x_val, y_val)``.

    `n_val` examples, chosen by a permutation from ``np.random.default_rng(seed)``,
    go to validation; the same seed gives the same split.  Both parts keep the
    examples' original order (shuffling is the DataLoader's job).

        >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
        >>> (x_train, y_train), (x_val, y_val) = nn.datasets.train_validation_split(x, y, 2, seed=0)
        >>> y_train, y_val                      # each part in the original order
        (array([0, 1, 3]), array([2, 4]))
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"x and y must have the same first dimension, got shapes "
                         f"{x.shape} and {y.shape}")
    if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) \
            or not 0 <= n_val <= len(x):
        raise ValueError(f"n_val must be an int in [0, {len(x)}], got {n_val!r}")
    perm = np.random.default_rng(seed).permutation(len(x))
    val_idx = np.sort(perm[:n_val])
    train_idx = np.sort(perm[n_val:])
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])
