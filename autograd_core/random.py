"""Random number generators, as ``torch.random``: one global generator and local ones.

Everything random in the library draws from ``default_generator`` unless it is
given ``generator=``: the creation functions (``ag.rand``, ``ag.randn``,
``ag.randperm``, ...), ``nn.init`` and the layers' default initialisation,
``nn.Dropout``, and the shuffling of ``autograd_core.utils.data.DataLoader``.
So ``ag.manual_seed(s)`` at the top of a script makes the whole run
reproducible, as ``torch.manual_seed`` does:

    >>> import autograd_core as ag
    >>> ag.manual_seed(0)                           # returns the global generator
    Generator(initial_seed=0)
    >>> a = ag.rand(3)
    >>> _ = ag.manual_seed(0)
    >>> b = ag.rand(3)
    >>> bool((a == b).all())                        # the same numbers
    True
    >>> g = ag.Generator().manual_seed(42)          # a local stream
    >>> ag.randn(2, 2, generator=g).shape
    (2, 2)

A ``Generator`` *is* a ``numpy.random.Generator`` over a PCG64 bit generator
(a subclass, with PyTorch's ``manual_seed``/``seed``/``initial_seed``/
``get_state``/``set_state`` added), so it can be passed wherever NumPy code
expects a generator, and ``Generator().manual_seed(s)`` produces exactly the
stream of ``np.random.default_rng(s)``. Wherever ``generator=`` is accepted,
a plain ``numpy.random.Generator`` works too.

Like PyTorch's, the global generator starts from a fixed seed
(``default_seed``), so a script run twice gives the same numbers even without
``manual_seed``; ``ag.seed()`` reseeds from the operating system's entropy.

States (``get_rng_state()``, ``Generator.get_state()``) are uint8 Tensors of
``STATE_BYTES`` bytes, as PyTorch's ByteTensor states: plain arrays, so they
go through ``ag.save``/``ag.load`` and state dicts without pickle.
"""
from __future__ import annotations

import contextlib
import numbers
import os

import numpy as np

from .core import wrap
from .devices import CPU, check_device as _check_device

__all__ = ["Generator", "default_generator", "default_seed", "manual_seed", "seed",
           "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "get_generator",
           "STATE_BYTES"]

default_seed = 0

# A state is eight little-endian uint64 words: a tag naming the layout, the
# 128-bit PCG64 state and increment (high word first), the bit generator's
# buffered 32-bit half-draw (flag, value), and the initial seed.
_STATE_TAG = int.from_bytes(b"agPCG64\x01", "little")
_WORDS = 8
STATE_BYTES = 8 * _WORDS
_MASK64 = (1 << 64) - 1


def _check_seed(seed, fn):
    """A seed as a non-negative int below 2**64; negative seeds (down to
    -2**63) wrap around to 2**64 + seed, as in PyTorch."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}: seed must be an int, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK64:
        raise ValueError(f"{fn}: seed must be in [-2**63, 2**64), got {seed}")
    return seed & _MASK64


class Generator(np.random.Generator):
    """``Generator(device='cpu')``: a stream of random numbers, as ``torch.Generator``.

    A ``numpy.random.Generator`` over PCG64 with PyTorch's methods added; a new
    one starts from ``default_seed``. ``manual_seed`` returns the generator,
    so ``g = ag.Generator().manual_seed(42)`` reads as in PyTorch.

        >>> g = ag.Generator().manual_seed(42)
        >>> state = g.get_state()
        >>> x = ag.rand(3, generator=g)
        >>> g.set_state(state)                      # returns the generator
        Generator(initial_seed=42)
        >>> y = ag.rand(3, generator=g)
        >>> bool((x == y).all())
        True
    """

    def __init__(self, device="cpu"):
        _check_device(device, "Generator")
        super().__init__(np.random.PCG64(default_seed))
        self._initial_seed = default_seed

    @property
    def device(self):
        """``ag.device('cpu')`` (equal to the string ``'cpu'``)."""
        return CPU

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (an int); returns the generator.
        The stream is that of ``np.random.default_rng(seed)``."""
        seed = _check_seed(seed, "manual_seed")
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        new = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(new)
        return new

    def initial_seed(self):
        """The seed this stream was last started from."""
        return self._initial_seed

    def get_state(self):
        """The state as a uint8 Tensor of ``STATE_BYTES`` bytes (see ``set_state``)."""
        st = self.bit_generator.state
        s, inc = st["state"]["state"], st["state"]["inc"]
        words = np.array([_STATE_TAG, s >> 64, s & _MASK64, inc >> 64, inc & _MASK64,
                          st["has_uint32"], st["uinteger"], self._initial_seed], dtype="<u8")
        return wrap(words.view(np.uint8).copy())

    def set_state(self, new_state):
        """Continue from ``new_state``, as returned by ``get_state`` (a Tensor,
        or the ndarray that ``ag.load`` gives back); returns the generator."""
        return self._restore(new_state, "Generator.set_state")

    def _restore(self, new_state, fn):
        words = _state_words(new_state, fn)
        self.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": (int(words[1]) << 64) | int(words[2]),
                      "inc": (int(words[3]) << 64) | int(words[4])},
            "has_uint32": int(words[5]), "uinteger": int(words[6])}
        self._initial_seed = int(words[7])
        return self

    def __reduce__(self):
        # copy.deepcopy (e.g. of a model holding a Dropout generator) keeps the class.
        return _generator_from_state, (self.get_state().data.tobytes(),)

    def __repr__(self):
        return f"Generator(initial_seed={self._initial_seed})"


def _generator_from_state(state_bytes):
    return Generator().set_state(np.frombuffer(state_bytes, np.uint8))


def _state_words(state, fn):
    if isinstance(state, (bytes, bytearray)):
        data = np.frombuffer(state, np.uint8)
    elif isinstance(state, np.ndarray):
        data = state
    else:  # a Tensor (checked by duck typing: an ndarray's .data is a memoryview)
        data = getattr(state, "data", None)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape != (STATE_BYTES,):
        desc = (f"an array of dtype {data.dtype} and shape {data.shape}"
                if isinstance(data, np.ndarray) else f"a {type(state).__name__}")
        raise TypeError(f"{fn}: new_state must be a state from get_state()/get_rng_state() "
                        f"(a uint8 tensor of {STATE_BYTES} bytes), got {desc}")
    words = np.ascontiguousarray(data).view("<u8")
    if int(words[0]) != _STATE_TAG:
        raise ValueError(f"{fn}: new_state is not a generator state written by get_state()")
    if words[5] > 1 or words[6] > 0xFFFFFFFF:
        raise ValueError(f"{fn}: new_state is corrupted (invalid buffered draw)")
    return words


default_generator = Generator()


def get_generator(generator=None, fn="generator"):
    """The ``numpy.random.Generator`` to draw from: ``generator`` if given (an
    ``ag.Generator`` or a ``numpy.random.Generator``), else ``default_generator``.
    Every random function of the library resolves its ``generator=`` here.

        >>> from autograd_core.random import get_generator
        >>> get_generator() is ag.default_generator
        True
        >>> g = ag.Generator()
        >>> get_generator(g) is g
        True
    """
    if generator is None:
        return default_generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{fn}: generator must be an autograd_core.Generator or a "
                        f"numpy.random.Generator, got {type(generator).__name__}")
    return generator


def manual_seed(seed):
    """Seed the global generator: ``ag.manual_seed(0)`` makes initialisation,
    dropout, shuffling and the random creation functions reproducible.
    Returns ``default_generator``.

        >>> ag.manual_seed(42)                          # returns the global generator
        Generator(initial_seed=42)
        >>> ag.initial_seed()
        42
    """
    return default_generator.manual_seed(seed)


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed.

        >>> s = ag.seed()                               # a fresh non-deterministic seed
        >>> ag.initial_seed() == s
        True
    """
    return default_generator.seed()


def initial_seed():
    """The seed the global generator was last started from.

        >>> _ = ag.manual_seed(7)
        >>> ag.initial_seed()
        7
    """
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state, a uint8 Tensor (see ``set_rng_state``).

        >>> state = ag.get_rng_state()
        >>> a = ag.rand(2)
        >>> ag.set_rng_state(state)
        >>> bool((ag.rand(2) == a).all())                # the same numbers again
        True
    """
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global generator's state from ``get_rng_state()``.

        >>> state = ag.get_rng_state()
        >>> a = ag.randn(3)
        >>> ag.set_rng_state(state)
        >>> bool((ag.randn(3) == a).all())
        True
    """
    default_generator._restore(new_state, "set_rng_state")


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True):
    """``with ag.random.fork_rng(): ...``: random draws inside the block do not
    change the global stream after it (its state is restored on exit).
    ``devices`` is accepted for PyTorch's signature; there is only the CPU.

        >>> _ = ag.manual_seed(0)
        >>> expected = ag.rand(2)
        >>> _ = ag.manual_seed(0)
        >>> with ag.random.fork_rng():
        ...     _ = ag.rand(5)                            # draws inside do not move the global stream
        >>> bool((ag.rand(2) == expected).all())
        True
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
