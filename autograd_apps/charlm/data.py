"""The words of the character-level language model: read, cleaned, split, encoded.

The data are the English word list Debian ships in the package ``wamerican``
(``/usr/share/dict/words``, one word per line), or any such list given with
``--words FILE``.  It is cleaned the way makemore's ``names.txt`` is clean --
one lower-case word of letters per line, no repeats:

1. every line is stripped of surrounding white space; empty lines are skipped;
2. possessives are dropped: wamerican lists ``aardvark's`` beside ``aardvark``
   (a line ending in ``'s``);
3. the rest is lower-cased;
4. only words made entirely of the 26 letters a-z are kept: those with an
   accent (``bogotá``), an apostrophe (``i'm``), a hyphen or a digit are dropped;
5. repeats are dropped (lower-casing makes ``Ada`` and ``ada`` one word).

On wamerican 2020.12.07 that leaves 73,445 of the 104,334 lines.  The words
are then sorted (so the split depends on the set of words, not on the order
of the file), shuffled with a fixed seed (``SPLIT_SEED``, the same for every
``--seed``, so every model is tested on the same words) and split by word
80 / 10 / 10 into training, validation and test words.

Tokens: ``'.'`` (index 0) marks both the start and the end of a word, as in
makemore; ``'a'``..``'z'`` are 1..26.  A word w of length L is L + 1
predictions: the input ``.w1 ... wL`` and the target ``w1 ... wL.`` -- so the
end of the word is predicted too, and "per character" below means per
predicted token, L + 1 of them per word.  Words are stored as rows of two
(N, T) int64 arrays, T = the longest word + 1: inputs padded with '.' and
targets padded with ``IGNORE`` (-100, ``cross_entropy``'s ``ignore_index``).

Training batches (``WordBatches``) hold words of similar length and are cut
to their longest word, so that a recurrent or attention step is not spent on
padding: a random batch of 64 words is 1.7 times as long as its average word.
"""
from __future__ import annotations

import string
from pathlib import Path

import numpy as np

import nn
from autograd_apps.common.errors import UsageError

__all__ = ["DEFAULT_WORDS", "DEBIAN_PACKAGE", "SPLIT_SEED", "SPLIT", "ALPHABET", "END",
           "IGNORE", "VOCAB_SIZE", "clean_words", "read_words", "split_words", "encode",
           "decode", "load_data", "lengths", "WordBatches", "POOL_BATCHES"]

DEFAULT_WORDS = "/usr/share/dict/words"
DEBIAN_PACKAGE = "wamerican"
SPLIT_SEED = 0                          # the same split for every --seed
SPLIT = (0.8, 0.1, 0.1)                 # training, validation, test (fractions of the words)
END = "."                               # start and end of a word (index 0)
ALPHABET = END + string.ascii_lowercase
VOCAB_SIZE = len(ALPHABET)              # 27
IGNORE = -100                           # target padding: cross_entropy's ignore_index
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_LETTERS = frozenset(string.ascii_lowercase)


def clean_words(lines):
    """The cleaned words of `lines` (an iterable of strings), in first-seen order:
    stripped, possessives ("...'s") dropped, lower-cased, only words of the
    letters a-z kept, repeats dropped (see the module docstring).

    Example: ``clean_words(["Ada", "ada's", "ada", "Bogotá", "i'm", "zoo"])`` -> ``["ada", "zoo"]``.
    """
    seen = {}
    for line in lines:
        word = line.strip()
        if not word or word.endswith("'s"):
            continue
        word = word.lower()
        if _LETTERS.issuperset(word):
            seen.setdefault(word, None)
    return list(seen)


def read_words(path=None):
    """The cleaned words of the word list `path` (default ``/usr/share/dict/words``).

    ``UsageError`` (one line, naming the file and what to do) if the file is
    missing, unreadable, not UTF-8 text, or holds no word once cleaned.

    Example: ``len(read_words())`` -> 73445 with wamerican 2020.12.07.
    """
    given = path is not None
    path = Path(DEFAULT_WORDS if path is None else path).expanduser()
    if not path.exists():
        if given:
            raise UsageError(f"--words {path}: no such file")
        raise UsageError(f"word list {path} not found: install Debian's English word list "
                         f"(sudo apt-get install {DEBIAN_PACKAGE}), or give one with "
                         "--words FILE (one word per line)")
    if not path.is_file():
        raise UsageError(f"--words {path}: not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--words {path}: not UTF-8 text (byte {exc.start}: {exc.reason}); "
                         "expected one word per line") from None
    words = clean_words(text.splitlines())
    if not words:
        raise UsageError(f"--words {path}: no word left after cleaning (words of the letters "
                         "a-z, one per line, are kept)")
    return words


def split_words(words, limit=None, seed=SPLIT_SEED, fractions=SPLIT):
    """(training, validation, test) lists of words: `words` sorted, shuffled with
    `seed`, cut to the first `limit` (None: all), then split by `fractions`.

    Every part gets at least one word when there are three or more.

    Example: ``train, val, test = split_words(read_words())`` -> 58756, 7344, 7345 words.
    """
    order = sorted(set(words))
    perm = np.random.default_rng(seed).permutation(len(order))
    chosen = [order[i] for i in perm[:limit]]
    n = len(chosen)
    if n < 3:
        raise UsageError(f"need at least 3 words to split into training, validation and test "
                         f"words, got {n}")
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test
    return chosen[:n_train], chosen[n_train:n_train + n_val], chosen[n_train + n_val:]


def encode(words, width):
    """(inputs, targets): two (len(words), width) int64 arrays.

    Row i is ``.w`` padded with '.' (0) and ``w.`` padded with ``IGNORE``;
    width must be at least the longest word + 1.

    Example: ``encode(["ab"], 4)`` -> ``([[0, 1, 2, 0]], [[1, 2, 0, -100]])``.
    """
    x = np.zeros((len(words), width), dtype=np.int64)
    y = np.full((len(words), width), IGNORE, dtype=np.int64)
    for i, word in enumerate(words):
        if len(word) + 1 > width:
            raise ValueError(f"encode: word {word!r} needs width {len(word) + 1}, got {width}")
        codes = [_INDEX[c] for c in word]
        x[i, 1:len(codes) + 1] = codes
        y[i, :len(codes)] = codes
        y[i, len(codes)] = 0
    return x, y


def decode(codes):
    """The word spelled by token indices `codes`, up to the first end token.

    Example: ``decode([1, 2, 0, 5])`` -> ``"ab"``.
    """
    out = []
    for c in np.asarray(codes).reshape(-1).tolist():
        if c == 0:
            break
        out.append(ALPHABET[c])
    return "".join(out)


def lengths(targets):
    """Tokens per row of a target array (the word's length + 1)."""
    return (np.asarray(targets) != IGNORE).sum(axis=-1)


POOL_BATCHES = 50       # batches per pool of WordBatches


class WordBatches(nn.DataLoader):
    """Mini-batches of words of similar length, in a new random order every epoch,
    each cut to its longest word: ``for x, y in WordBatches(x_train, y_train, 64, seed=0)``.

    Epoch e starts from ``nn.DataLoader``'s shuffled order of the words (a
    function of the seed and e).  That order is cut into pools of
    ``pool`` x batch_size words; each pool is sorted by word length (stably)
    and cut into batches; the order of the batches of the whole epoch is then
    shuffled too (the only incomplete batch, of the last pool, stays last).
    Every word is visited once per epoch, and ``state_dict()`` /
    ``load_state_dict()`` resume exactly, mid-epoch too, as the DataLoader's.

    Yields (inputs, targets), each (B, T_b) with T_b the batch's longest word + 1.
    """

    def __init__(self, x, y, batch_size, seed=0, pool=POOL_BATCHES):
        super().__init__(x, y, batch_size=batch_size, shuffle=True, seed=seed)
        self.pool = int(pool)
        self.lengths = lengths(y)

    def order(self, epoch=None):
        """The word indices of `epoch` in visiting order: consecutive runs of
        batch_size words are the batches."""
        epoch = self.epoch if epoch is None else epoch
        words = super().order(epoch)
        bs = self.batch_size
        size = self.pool * bs
        batches = []
        for start in range(0, len(words), size):
            pool = words[start:start + size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches += [pool[i:i + bs] for i in range(0, len(pool), bs)]
        full = [b for b in batches if len(b) == bs]
        rest = [b for b in batches if len(b) < bs]
        seq = np.random.SeedSequence(self.state_dict()["seed_entropy"], spawn_key=(epoch, 1))
        shuffled = [full[i] for i in np.random.default_rng(seq).permutation(len(full))]
        return np.concatenate(shuffled + rest) if batches else words

    def __iter__(self):
        for x, y in super().__iter__():
            width = int(lengths(y).max())
            yield x[:, :width], y[:, :width]


_CACHE = {}


def load_data(cfg):
    """The split and encoded words of a run: a dict with the word lists
    (``words_train``, ``words_val``, ``words_test``), the arrays ``x_train``,
    ``y_train``, ``x_val``, ... (see ``encode``), ``width`` (the longest word of
    all three parts + 1, the transformer's block size) and ``path``.

    Reads ``cfg.words`` (default ``/usr/share/dict/words``), keeps
    ``cfg.limit_words`` words (None: all); cached per process.

    Example: ``load_data(cfg)["x_train"].shape`` -> ``(58756, 23)``.
    """
    path = Path(cfg.words or DEFAULT_WORDS).expanduser()
    key = (str(path.resolve()) if path.exists() else str(path), cfg.limit_words,
           path.stat().st_mtime_ns if path.is_file() else None)
    if key not in _CACHE:
        parts = split_words(read_words(cfg.words), cfg.limit_words)
        width = max(len(w) for part in parts for w in part) + 1
        data = {"path": str(path), "width": width}
        for name, part in zip(("train", "val", "test"), parts):
            data[f"words_{name}"] = part
            data[f"x_{name}"], data[f"y_{name}"] = encode(part, width)
        _CACHE[key] = data
    return _CACHE[key]
