"""Forward-mode AD with dual numbers, as ``torch.autograd.forward_ad``.

    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> primal, tangent = ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0])
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(primal, tangent)     # x = primal + tangent·ε
    ...     y = (x ** 2).sum()
    ...     value, jvp = fwAD.unpack_dual(y)       # f(primal), J·tangent
    >>> value, jvp                                  # 1² + 2², 2·1·1 + 2·2·0
    (Tensor(5., dtype=float32), Tensor(2., dtype=float32))

A level is a tag for one ε (ε² = 0). Levels nest: inside an inner level an
outer level's tangents flow through every computation, including the inner
tangents' own computation, so ``jvp`` of a ``jvp`` is a second derivative
and two perturbations are never confused (see ``graph.Level``).
"""
from __future__ import annotations

from typing import NamedTuple

from .. import primitives as P
from ..core import TensorBase, set_tangent, tangent_at
from ..graph import Level, innermost_level, state

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "is_dual",
           "UnpackedDualTensor"]


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal value and its tangent (None = zero).

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     out = fwAD.unpack_dual(fwAD.make_dual(ag.tensor(2.0), ag.tensor(1.0)) ** 2)
        >>> out.primal, out.tangent                      # x², 2x·ẋ
        (Tensor(4., dtype=float32), Tensor(4., dtype=float32))
    """
    primal: TensorBase
    tangent: object


def dual_level(record=None):
    """A context manager opening a new forward level (returns the ``Level``).

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> x = ag.tensor([1.0, 2.0])
        >>> with fwAD.dual_level():
        ...     y = fwAD.make_dual(x, ag.tensor([1.0, 1.0])).exp()
        ...     fwAD.unpack_dual(y).tangent                 # eˣ · ẋ
        Tensor([2.718282 , 7.3890557], dtype=float32)
        >>> fwAD.is_dual(y)                              # the level closed: no tangent
        False
    """
    return Level(record)


def enter_dual_level():
    """Open a new level without a ``with`` block; close it with ``exit_dual_level``.

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> level = fwAD.enter_dual_level()              # what ``with dual_level()`` does
        >>> x = fwAD.make_dual(ag.tensor(3.0), ag.tensor(1.0))
        >>> fwAD.unpack_dual(x * x).tangent
        Tensor(6., dtype=float32)
        >>> fwAD.exit_dual_level()
    """
    return Level().__enter__()


def exit_dual_level(*, level=None):
    """Close the innermost level (``level``, if given, must be it).

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> _ = fwAD.enter_dual_level()
        >>> fwAD.exit_dual_level()
        >>> fwAD.exit_dual_level()                       # none open
        Traceback (most recent call last):
            ...
        RuntimeError: exit_dual_level: no forward level is open
    """
    inner = innermost_level()
    if inner is None:
        raise RuntimeError("exit_dual_level: no forward level is open")
    if level is not None and level is not inner:
        raise RuntimeError("exit_dual_level: levels must be closed innermost first")
    inner.__exit__(None, None, None)


def _level(level, fn):
    if level is None:
        level = innermost_level()
        if level is None:
            raise RuntimeError(f"{fn}: no forward level is open; use `with dual_level():`")
    elif not isinstance(level, Level) or not level.is_open:
        raise RuntimeError(f"{fn}: level must be an open forward level")
    return level


def make_dual(tensor, tangent, *, level=None):
    """A new tensor with ``tensor``'s value (and history) carrying ``tangent`` at
    ``level`` (the innermost open one by default).

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 1.0]))
        ...     fwAD.unpack_dual(x.sin()).tangent             # cos x · ẋ
        Tensor([1.       , 0.5403023], dtype=float32)
    """
    if not isinstance(tensor, TensorBase):
        raise TypeError(f"make_dual: tensor must be a Tensor, got {type(tensor).__name__}")
    lv = _level(level, "make_dual")
    dual = P.alias(tensor)
    set_tangent(dual, tangent, lv)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: ``tensor`` without its tangent at ``level``, and that tangent.

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     y = fwAD.make_dual(ag.tensor(2.0), ag.tensor(1.0)) ** 3
        ...     primal, tangent = fwAD.unpack_dual(y)
        >>> primal, tangent                              # 2³, 3·2²
        (Tensor(8., dtype=float32), Tensor(12., dtype=float32))
    """
    if not isinstance(tensor, TensorBase):
        raise TypeError(f"unpack_dual: tensor must be a Tensor, got {type(tensor).__name__}")
    if level is None and not state.levels:
        return UnpackedDualTensor(tensor, None)
    lv = _level(level, "unpack_dual")
    tan = tangent_at(tensor, lv)
    if tan is None:
        return UnpackedDualTensor(tensor, None)
    primal = P.alias(tensor)
    set_tangent(primal, None, lv)
    return UnpackedDualTensor(primal, tan)


def is_dual(tensor):
    """True if ``tensor`` carries a tangent at an open forward level (a layer that
    takes a shortcut for constants must not take it then).

        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     fwAD.is_dual(fwAD.make_dual(ag.ones(1), ag.ones(1))), fwAD.is_dual(ag.ones(1))
        (True, False)
    """
    tan = getattr(tensor, "_tan", None)
    return bool(tan) and any(lv.id in tan for lv in state.levels)
