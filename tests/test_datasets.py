"""IDX reading and Fashion-MNIST loading, on small synthetic files.

The test against the real data runs only where Debian's
dataset-fashion-mnist is installed (otherwise it is skipped).
"""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

import nn.datasets as datasets
from nn.datasets import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    DatasetNotFoundError,
    IDXError,
    find_fashion_mnist,
    find_mnist,
    load_fashion_mnist,
    load_idx_pair,
    load_mnist,
    read_idx,
    train_validation_split,
)

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
         np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, CODES[array.dtype.type], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False, extra=b""):
    data = idx_bytes(array) + extra
    Path(path).write_bytes(gzip.compress(data) if compress else data)
    return Path(path)


def write_split(directory, n=12, split="train", compress=True, seed=0):
    """A fake Fashion-MNIST split: n images of 28x28 and n labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if compress else ""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
    return images, labels


def write_all(directory, **kw):
    return write_split(directory, split="train", **kw), write_split(directory, split="test", **kw)


@pytest.fixture
def no_default(monkeypatch, tmp_path):
    """Hide the real installed data and any FASHION_MNIST_DIR / MNIST_DIR of the machine."""
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", str(tmp_path / "no-default"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.delenv("MNIST_DIR", raising=False)


# ------------------------------------------------------------------ read_idx

@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    # The name must not end in .gz: detection is by content.
    path = write_idx(tmp_path / "data.idx", array, compress)
    out = read_idx(path)
    assert out.shape == array.shape and out.dtype == array.dtype
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_gzip_detected_by_magic_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    raw_named_gz = write_idx(tmp_path / "raw.gz", array, compress=False)
    gz_named_raw = write_idx(tmp_path / "compressed.idx", array, compress=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


def test_result_is_writable(tmp_path):
    out = read_idx(write_idx(tmp_path / "a", np.zeros((2, 2), np.uint8)))
    out[0, 0] = 1


@pytest.mark.parametrize("magic, message", [
    (b"\x01\x00\x08\x01", "two zero bytes"),
    (b"\x00\x00\x07\x01", "dtype code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00", "shorter than the 4-byte magic"),
])
def test_bad_magic(tmp_path, magic, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(magic + struct.pack(">I", 0) if len(magic) == 4 else magic)
    with pytest.raises(IDXError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload(tmp_path, compress):
    data = idx_bytes(np.zeros((3, 5), np.int16))     # 30 payload bytes
    path = tmp_path / "short.idx"
    cut = data[:-7]
    path.write_bytes(gzip.compress(cut) if compress else cut)
    with pytest.raises(IDXError, match="need 30 payload bytes, found 23") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_header(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 5))
    with pytest.raises(IDXError, match="truncated IDX header"):
        read_idx(path)


def test_huge_declared_size_does_not_allocate(tmp_path):
    # A corrupt header may declare ~2**96 bytes; only what is there is read.
    path = tmp_path / "huge.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"x")
    with pytest.raises(IDXError, match="found 1"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_trailing_bytes(tmp_path, compress):
    path = write_idx(tmp_path / "long.idx", np.zeros(4, np.uint8), compress, extra=b"junk")
    with pytest.raises(IDXError, match="4 unexpected bytes") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_garbage_after_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))) + b"garbage!")
    with pytest.raises(IDXError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IDXError, match="corrupt or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupted_gzip(tmp_path):
    data = bytearray(gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32))))
    data[len(data) // 2] ^= 0xFF        # a flipped byte: bad deflate data or bad CRC
    path = tmp_path / "flipped.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXError) as info:
        read_idx(path)
    assert str(path) in str(info.value)


# ------------------------------------------------------------------ checksums

@pytest.mark.parametrize("compress", [False, True])
def test_checksum_mismatch_for_known_name(tmp_path, compress):
    # A file with an official name but other content must be caught...
    name = "t10k-labels-idx1-ubyte" + (".gz" if compress else "")
    path = write_idx(tmp_path / name, np.arange(10, dtype=np.uint8), compress)
    with pytest.raises(IDXError, match="checksum mismatch") as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    sha = hashlib.sha256(idx_bytes(np.arange(10, dtype=np.uint8))).hexdigest()
    fashion_sha = datasets.KNOWN_CHECKSUMS["t10k-labels-idx1-ubyte"][0][2]
    assert sha in message and fashion_sha in message          # actual and expected
    if compress:
        assert hashlib.md5(path.read_bytes()).hexdigest() in message
        assert "bb300cfdad3c16e7a12a480ee83cd310" in message
    # ...and can still be read on purpose.
    assert read_idx(path, verify=False).shape == (10,)


def test_unknown_names_are_not_checked(tmp_path):
    path = write_idx(tmp_path / "my-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8), True)
    assert read_idx(path).shape == (10,)


def test_known_payload_digest_accepted(tmp_path, monkeypatch):
    # A .gz whose MD5 is unknown passes if the decompressed data are known
    # (this is how Debian's re-compressed files are accepted).
    array = np.arange(10, dtype=np.uint8)
    sha = hashlib.sha256(idx_bytes(array)).hexdigest()
    monkeypatch.setitem(datasets.KNOWN_CHECKSUMS, "t10k-labels-idx1-ubyte",
                        (("Test", "0" * 32, sha),))
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", array, True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_known_gz_md5_accepted(tmp_path, monkeypatch):
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8), True)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.KNOWN_CHECKSUMS, "t10k-labels-idx1-ubyte",
                        (("Test", md5, None),))
    assert read_idx(path).shape == (10,)


# ------------------------------------------------------------------ pairs and loading

def test_load_idx_pair_count_mismatch(tmp_path):
    images = write_idx(tmp_path / "imgs", np.zeros((5, 2, 2), np.uint8))
    labels = write_idx(tmp_path / "lbls", np.zeros(4, np.uint8))
    with pytest.raises(IDXError, match="5 images .* 4 labels") as info:
        load_idx_pair(images, labels)
    assert str(images) in str(info.value) and str(labels) in str(info.value)


def test_load_idx_pair_mnist_like(tmp_path):
    images = write_idx(tmp_path / "imgs.gz", np.ones((3, 28, 28), np.uint8), True)
    labels = write_idx(tmp_path / "lbls.gz", np.array([1, 2, 3], np.uint8), True)
    x, y = load_idx_pair(images, labels)
    assert x.shape == (3, 28, 28) and y.tolist() == [1, 2, 3]


@pytest.mark.parametrize("compress", [False, True])
def test_load_fashion_mnist_synthetic(tmp_path, no_default, compress):
    (train_x, train_y), (test_x, test_y) = write_all(tmp_path / "d", compress=compress)
    x, y = load_fashion_mnist(tmp_path / "d", split="test", verify=False)
    assert x.dtype == np.float32 and x.shape == (12, 28, 28)
    assert y.dtype == np.int64 and y.shape == (12,)
    assert 0 <= x.min() and x.max() <= 1
    np.testing.assert_allclose(x * 255, test_x)
    np.testing.assert_array_equal(y, test_y)

    x, y = load_fashion_mnist(tmp_path / "d", split="train", flatten=True, limit=5,
                              normalize=False, dtype=np.float64, verify=False)
    assert x.shape == (5, 784) and x.dtype == np.float64
    np.testing.assert_array_equal(x, train_x[:5].reshape(5, -1))
    np.testing.assert_array_equal(y, train_y[:5])


def test_load_fashion_mnist_argument_errors(tmp_path, no_default):
    write_all(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_fashion_mnist(tmp_path, split="validation")
    with pytest.raises(ValueError, match="limit"):
        load_fashion_mnist(tmp_path, limit=-1, verify=False)
    with pytest.raises(ValueError, match="floating dtype"):
        load_fashion_mnist(tmp_path, dtype=np.uint8, verify=False)


def test_load_fashion_mnist_checks_shape_and_labels(tmp_path, no_default):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 4, 4), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(IDXError, match="28x28"):
        load_fashion_mnist(tmp_path, split="test", verify=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 10], np.uint8))
    with pytest.raises(IDXError, match="label 10 out of range"):
        load_fashion_mnist(tmp_path, split="test", verify=False)


def test_synthetic_files_fail_verification(tmp_path, no_default):
    write_all(tmp_path)
    with pytest.raises(IDXError, match="checksum mismatch"):
        load_fashion_mnist(tmp_path, split="test")


def test_classes():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"


# ------------------------------------------------------------------ search order

def test_search_order(tmp_path, monkeypatch):
    arg, env, default = (tmp_path / n for n in ("arg", "env", "default"))
    for d in (arg, env, default):
        write_all(d)
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", str(default))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(env))
    assert find_fashion_mnist(arg) == arg
    assert find_fashion_mnist() == env
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert find_fashion_mnist() == default
    # A location without the files is passed over for the next one.
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "missing"))
    assert find_fashion_mnist(tmp_path / "also-missing") == default


def test_subfolders_and_split(tmp_path, no_default):
    write_split(tmp_path / "fashion", split="test")
    # Only the test split is there: enough for split='test', not for all four.
    assert find_fashion_mnist(tmp_path, split="test") == tmp_path / "fashion"
    with pytest.raises(FileNotFoundError):
        find_fashion_mnist(tmp_path)
    write_split(tmp_path / "FashionMNIST" / "raw", split="train", compress=False)
    write_split(tmp_path / "FashionMNIST" / "raw", split="test", compress=True)
    assert find_fashion_mnist(tmp_path) == tmp_path / "FashionMNIST" / "raw"


def test_not_found_message(tmp_path, no_default):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        find_fashion_mnist(tmp_path / "empty")
    message = str(info.value)
    assert str(tmp_path / "empty") in message
    assert datasets.DEFAULT_DATA_DIR in message
    assert "FASHION_MNIST_DIR is not set" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "FASHION_MNIST_DIR=" in message and "--data" in message
    assert "t10k-labels-idx1-ubyte" in message


def test_not_found_summary_is_one_line(tmp_path, no_default):
    with pytest.raises(DatasetNotFoundError) as info:
        find_fashion_mnist(tmp_path / "nope")
    summary = info.value.summary
    assert "\n" not in summary and summary.startswith("Fashion-MNIST files not found (")
    assert f"{tmp_path / 'nope'}: no such directory" in summary
    assert "FASHION_MNIST_DIR is not set" in summary and "apt-get install" in summary
    assert isinstance(info.value, FileNotFoundError) and info.value.dataset == "Fashion-MNIST"


def test_search_defaults_false_looks_only_in_data_dir(tmp_path, monkeypatch):
    default = tmp_path / "default"
    write_all(default)
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", str(default))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    assert find_fashion_mnist(tmp_path / "typo") == default          # falls back...
    with pytest.raises(DatasetNotFoundError) as info:                # ...unless told not to
        find_fashion_mnist(tmp_path / "typo", search_defaults=False)
    assert [d for d, _, _ in info.value.looked] == [tmp_path / "typo"]
    (tmp_path / "file").write_text("")
    with pytest.raises(DatasetNotFoundError, match="not a directory"):
        find_fashion_mnist(tmp_path / "file", search_defaults=False)


def test_not_found_message_names_env_dir(tmp_path, no_default, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "from-env"))
    with pytest.raises(FileNotFoundError, match="from-env"):
        load_fashion_mnist()


# ------------------------------------------------------------------ MNIST

def test_mnist_search_order_and_layouts(tmp_path, no_default, monkeypatch):
    write_all(tmp_path / "arg")
    write_all(tmp_path / "env" / "MNIST" / "raw")          # torchvision's layout
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    assert find_mnist(tmp_path / "arg") == tmp_path / "arg"
    assert find_mnist() == tmp_path / "env" / "MNIST" / "raw"
    write_split(tmp_path / "sub" / "mnist", split="test", compress=False)
    assert find_mnist(tmp_path / "sub", split="test", search_defaults=False) == \
        tmp_path / "sub" / "mnist"


def test_mnist_not_found_says_how_to_get_it(tmp_path, no_default):
    with pytest.raises(DatasetNotFoundError) as info:
        find_mnist()
    summary = info.value.summary
    assert summary.startswith("MNIST files not found ($MNIST_DIR is not set)")
    assert "not packaged for Debian" in summary and "yann.lecun.com/exdb/mnist" in summary
    assert "MNIST_DIR=/that/dir" in summary and "--data" in summary
    # Never Debian's Fashion-MNIST folder.
    assert "/usr/share/datasets" not in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="missing train-images-idx3-ubyte"):
        load_mnist(tmp_path / "empty")


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_synthetic(tmp_path, no_default, compress):
    """Files with the official names but other content load: no checksum is required."""
    (train_x, train_y), (test_x, test_y) = write_all(tmp_path, compress=compress)
    with pytest.raises(IDXError, match="checksum mismatch"):
        load_fashion_mnist(tmp_path, split="test")       # Fashion-MNIST's files are checked
    x, y = load_mnist(tmp_path, split="test")
    assert x.dtype == np.float32 and x.shape == (12, 28, 28) and 0 <= x.min() <= x.max() <= 1
    np.testing.assert_allclose(x * 255, test_x)
    np.testing.assert_array_equal(y, test_y)
    assert y.dtype == np.int64
    x, y = load_mnist(tmp_path, split="train", flatten=True, limit=4, normalize=False,
                      dtype=np.float64)
    assert x.shape == (4, 784) and x.max() > 1
    np.testing.assert_array_equal(y, train_y[:4])
    assert MNIST_CLASSES == tuple("0123456789")


def test_load_mnist_checks_shape_and_labels(tmp_path, no_default):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 27), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(IDXError, match="28x28"):
        load_mnist(tmp_path, split="test")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 12], np.uint8))
    with pytest.raises(IDXError, match="label 12 out of range 0..9"):
        load_mnist(tmp_path, split="test")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="val")


def test_mnist_and_fashion_mnist_files_are_not_confused(tmp_path, no_default, monkeypatch):
    """The two datasets share file names: each loader refuses the other's known files."""
    write_all(tmp_path)
    digests = {}
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        gz = (tmp_path / f"{stem}.gz").read_bytes()
        digests[stem] = (hashlib.md5(gz).hexdigest(),
                         hashlib.sha256(gzip.decompress(gz)).hexdigest())
    # Pretend these are the official MNIST files (known by their .gz MD5)...
    for stem, (md5, _) in digests.items():
        monkeypatch.setitem(datasets.KNOWN_CHECKSUMS, stem, (("Fashion-MNIST", "0" * 32, "0" * 64),
                                                             ("MNIST", md5, None)))
    assert read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz").shape == (12,)   # a known file
    with pytest.raises(IDXError, match="this is the MNIST file of that name, not Fashion-MNIST"):
        load_fashion_mnist(tmp_path, split="test")
    # ...or the official Fashion-MNIST files (known by their decompressed SHA-256).
    for stem, (_, sha) in digests.items():
        monkeypatch.setitem(datasets.KNOWN_CHECKSUMS, stem, (("Fashion-MNIST", "0" * 32, sha),
                                                             ("MNIST", "1" * 32, None)))
    with pytest.raises(IDXError, match="this is the Fashion-MNIST file of that name, not MNIST"):
        load_mnist(tmp_path, split="test")


# ------------------------------------------------------------------ split

def test_train_validation_split():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    (xt, yt), (xv, yv) = train_validation_split(x, y, n_val=10, seed=3)
    assert len(xv) == 10 and len(xt) == 40
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(xt[:, 0] // 2, yt)          # pairs stay together
    (xt2, _), (xv2, _) = train_validation_split(x, y, n_val=10, seed=3)
    np.testing.assert_array_equal(xv, xv2)
    (_, _), (_, yv3) = train_validation_split(x, y, n_val=10, seed=4)
    assert not np.array_equal(yv, yv3)
    with pytest.raises(ValueError, match="n_val"):
        train_validation_split(x, y, n_val=51)
    with pytest.raises(ValueError, match="same first dimension"):
        train_validation_split(x, y[:-1], n_val=1)


# ------------------------------------------------------------------ the real data

REAL_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_real_data = pytest.mark.skipif(
    not (REAL_DIR / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (sudo apt-get install dataset-fashion-mnist)",
)


@needs_real_data
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    assert find_fashion_mnist() == REAL_DIR
    # verify=True (the default) checks every file against the known checksums.
    x, y = load_fashion_mnist(split="test", limit=1000)
    assert x.shape == (1000, 28, 28) and x.dtype == np.float32
    assert y.shape == (1000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    # Full label files: the dataset is exactly balanced.
    for split, per_class in (("train", 6000), ("test", 1000)):
        labels = read_idx(next(REAL_DIR.glob(("train" if split == "train" else "t10k")
                                              + "-labels-idx1-ubyte*")))
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), [per_class] * 10)
    # The images files have the announced sizes.
    train_images = read_idx(REAL_DIR / "train-images-idx3-ubyte.gz")
    assert train_images.shape == (60000, 28, 28) and train_images.dtype == np.uint8


@needs_real_data
def test_real_checksums_table_matches_installed_files():
    for stem, entries in datasets.KNOWN_CHECKSUMS.items():
        fashion = dict((e[0], e) for e in entries)["Fashion-MNIST"]
        payload = gzip.decompress((REAL_DIR / f"{stem}.gz").read_bytes())
        assert hashlib.sha256(payload).hexdigest() == fashion[2], stem
