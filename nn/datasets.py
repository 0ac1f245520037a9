"""Reading IDX files and loading Fashion-MNIST (and MNIST), in plain NumPy.

The IDX format (used by MNIST and Fashion-MNIST) is a 4-byte magic number --
two zero bytes, a dtype code, the number of dimensions -- then one big-endian
uint32 per dimension, then the array in C order, big-endian.  The files are
usually distributed gzip-compressed.

Nothing here downloads anything: the data must already be on disk.  On Debian
and Ubuntu ``sudo apt-get install dataset-fashion-mnist`` puts the four
Fashion-MNIST files in ``/usr/share/datasets/fashion-mnist``.

Only NumPy and the standard library are used, so this module can be imported
without the rest of the package.
"""

import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "IDXError",
    "read_idx",
    "load_idx_pair",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "train_validation_split",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "KNOWN_CHECKSUMS",
]


class IDXError(ValueError):
    """An IDX file is malformed, truncated, or fails its checksum."""


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


def _verify(path, gz, header, payload):
    """Compare `path` with the known checksums of files of the same name."""
    name = _known_name(path)
    if name is None:
        return
    candidates = KNOWN_CHECKSUMS[name]
    if gz:
        md5 = _file_digest(path, "md5")
        if any(md5 == gz_md5 for _, gz_md5, _ in candidates):
            return
    sha = hashlib.sha256(header)
    sha.update(payload)
    sha = sha.hexdigest()
    if any(sha == idx_sha for _, _, idx_sha in candidates if idx_sha):
        return
    expected = []
    for dataset, gz_md5, idx_sha in candidates:
        if gz:
            expected.append(f"{dataset} .gz MD5 {gz_md5}")
        if idx_sha:
            expected.append(f"{dataset} decompressed SHA-256 {idx_sha}")
    actual = f"decompressed SHA-256 {sha}"
    if gz:
        actual = f".gz MD5 {md5}, " + actual
    raise IDXError(
        f"{path}: checksum mismatch: expected {' or '.join(expected)}; got {actual}. "
        "The file is corrupt or is not the official data of that name "
        "(pass verify=False to read it anyway, e.g. for uncompressed MNIST files)."
    )


def read_idx(path, verify=True):
    """Read an IDX file, raw or gzip-compressed, into an ndarray.

    Compression is detected from the gzip magic bytes, not the file name.  The
    result has the shape of the header's dims and the IDX dtype in native byte
    order (uint8 for images and labels); it is writable.

    If the file's name (with or without ``.gz``) is one of the official
    MNIST / Fashion-MNIST names and `verify` is true, it is checked against
    ``KNOWN_CHECKSUMS``: the published MD5 of the .gz file, or the SHA-256 of
    the decompressed data.  Any problem raises ``IDXError`` naming the file.
    """
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
    if verify:
        _verify(path, gz, header, payload)
    return array


def load_idx_pair(images_path, labels_path, verify=True):
    """Read an images file and a labels file that belong together.

    Works for any dataset in the MNIST layout.  Returns ``(images, labels)``
    as read (uint8 for MNIST-like data); raises ``IDXError`` if the labels
    are not 1-D or the example counts differ.
    """
    images = read_idx(images_path, verify=verify)
    labels = read_idx(labels_path, verify=verify)
    if labels.ndim != 1:
        raise IDXError(f"{labels_path}: labels must be 1-D, got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels; the two files do not belong together"
        )
    return images, labels


def _find_file(directory, stem):
    """`stem` or `stem.gz` inside `directory` (uncompressed first: faster), or None."""
    for name in (stem, stem + ".gz"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _candidate_dirs(root):
    # Layouts seen in the wild: flat (Debian, Keras), data/fashion (the
    # zalandoresearch repository), FashionMNIST/raw (torchvision).
    root = Path(root)
    return [root, root / "fashion", root / "fashion-mnist",
            root / "FashionMNIST" / "raw"]


def find_fashion_mnist(data_dir=None, split=None):
    """Directory holding the Fashion-MNIST files.

    Looks, in order, in `data_dir` (the CLI's ``--data DIR``), in
    ``$FASHION_MNIST_DIR``, then in ``/usr/share/datasets/fashion-mnist``
    (Debian's dataset-fashion-mnist), each also in the subfolders ``fashion``,
    ``fashion-mnist`` and ``FashionMNIST/raw``.  A directory qualifies if it
    holds both files of `split` ('train' or 'test'), or all four if `split` is
    None, each either raw or gzip'd.  Raises ``FileNotFoundError`` listing
    every place looked in and how to install the data.
    """
    if split is not None and split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    needed = _SPLIT_FILES[split] if split else _SPLIT_FILES["train"] + _SPLIT_FILES["test"]

    sources = []
    if data_dir is not None:
        sources.append((data_dir, "data_dir argument / --data"))
    env = os.environ.get(FASHION_MNIST_DIR_ENV)
    if env:
        sources.append((env, f"${FASHION_MNIST_DIR_ENV}"))
    sources.append((DEFAULT_DATA_DIR, "default, Debian's dataset-fashion-mnist"))

    looked = []
    for root, origin in sources:
        if not Path(root).is_dir():
            looked.append(f"  {root}  ({origin}): no such directory")
            continue
        for directory in _candidate_dirs(root):
            if all(_find_file(directory, stem) for stem in needed):
                return directory
            if directory.is_dir():
                missing = [s for s in needed if not _find_file(directory, s)]
                looked.append(f"  {directory}  ({origin}): missing "
                              + ", ".join(f"{s}[.gz]" for s in missing))
    if not env:
        looked.append(f"  (${FASHION_MNIST_DIR_ENV} is not set)")
    raise FileNotFoundError(
        "Fashion-MNIST files not found. Looked in (each also in its subfolders "
        "fashion/, fashion-mnist/, FashionMNIST/raw/):\n" + "\n".join(looked)
        + "\n" + INSTALL_HINT
    )


def load_fashion_mnist(data_dir=None, split="train", dtype=np.float32,
                       normalize=True, flatten=False, limit=None, verify=True):
    """Fashion-MNIST as ``(images, labels)`` NumPy arrays.

    images: `dtype`, shape (N, 28, 28), or (N, 784) if `flatten`; values in
    [0, 1] if `normalize`, else 0..255.  labels: int64, shape (N,), indices
    into ``FASHION_MNIST_CLASSES``.  `limit` keeps the first `limit` examples
    (all of them if there are fewer).  See ``find_fashion_mnist`` for where
    the files are looked for.
    """
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    dtype = np.dtype(dtype)
    if normalize and not np.issubdtype(dtype, np.floating):
        raise ValueError(f"normalize=True scales to [0, 1] and needs a floating dtype, "
                         f"got dtype={dtype}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 0):
        raise ValueError(f"limit must be None or a non-negative int, got {limit!r}")
    directory = find_fashion_mnist(data_dir, split=split)
    images_path, labels_path = (_find_file(directory, stem) for stem in _SPLIT_FILES[split])
    images, labels = load_idx_pair(images_path, labels_path, verify=verify)

    # With verify=False nothing else vouches for the content: check the shape
    # and label range the rest of the code relies on.
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: expected uint8 images of 28x28, got "
                       f"{images.dtype} of shape {images.shape}")
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise IDXError(f"{labels_path}: label {int(labels.max())} out of range 0..9")

    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    images = images.astype(dtype)
    if normalize:
        images /= 255
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels.astype(np.int64)


def train_validation_split(x, y, n_val, seed=0):
    """Split (x, y) into ``(x_train, y_train), (x_val, y_val)``.

    `n_val` examples, chosen by a permutation from ``np.random.default_rng(seed)``,
    go to validation; the same seed gives the same split.  Both parts keep the
    examples' original order (shuffling is the DataLoader's job).
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
