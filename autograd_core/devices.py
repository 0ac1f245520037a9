"""Devices, as ``torch.device``: autograd_core computes with NumPy, on the CPU only.

``ag.device('cpu')`` (and a tensor's ``.device``) prints ``cpu`` and compares
equal to the string ``'cpu'``, so device-agnostic PyTorch code runs
unchanged. A CUDA device can be *named* (``ag.device('cuda')``, as in
``device = 'cuda' if ag.cuda.is_available() else 'cpu'``), but putting data
on it (``t.cuda()``, ``t.to('cuda')``, ``ag.zeros(2, device='cuda')``) raises
one error everywhere, ``DeviceError``.

    >>> import autograd_core as ag
    >>> ag.tensor([1.0]).device
    device(type='cpu')
    >>> ag.tensor([1.0]).device == "cpu"
    True
"""
from __future__ import annotations

import numbers

__all__ = ["device", "DeviceError", "check_device", "CPU"]

# The device types PyTorch knows (a name outside these is a typo, not a device).
_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia", "privateuseone")


class DeviceError(RuntimeError, ValueError):
    """A device other than the CPU, or a malformed device: a RuntimeError (as
    PyTorch raises for an unavailable device) and a ValueError (a bad argument).

        >>> try:
        ...     ag.zeros(2, device="cuda")
        ... except ag.DeviceError as error:
        ...     print(type(error).__name__)
        DeviceError
    """


def _parse(spec, index, fn):
    """(type, index) of a device given as a string, a device or an int (a CUDA index)."""
    if isinstance(spec, device):
        if index is not None:
            raise DeviceError(f"{fn}: give the index in the device or separately, not both")
        return spec.type, spec.index
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        if index is not None:
            raise DeviceError(f"{fn}: an int device is already an index; got index={index!r} too")
        spec, index = "cuda", int(spec)      # torch.device(0) is cuda:0
    if not isinstance(spec, str):
        raise DeviceError(f"{fn}: a device must be a string such as 'cpu', a device or an int, "
                          f"got {type(spec).__name__} {spec!r}")
    kind, sep, number = spec.partition(":")
    if sep:
        if index is not None:
            raise DeviceError(f"{fn}: device string {spec!r} has an index; got index={index!r} too")
        if not number.isdigit():
            raise DeviceError(f"{fn}: invalid device string {spec!r} "
                              f"(expected e.g. 'cpu', 'cuda:0')")
        index = int(number)
    if kind not in _TYPES:
        raise DeviceError(f"{fn}: expected a device type such as 'cpu' or 'cuda' at the start of "
                          f"the device string, got {spec!r}")
    if index is not None and (isinstance(index, bool) or not isinstance(index, numbers.Integral)
                              or index < 0):
        raise DeviceError(f"{fn}: a device index must be a non-negative int, got {index!r}")
    return kind, None if index is None else int(index)


class device:
    """``device(type, index=None)``: where a tensor's data live, as ``torch.device``.

    ``type`` is a string (``'cpu'``, ``'cuda'``, ``'cuda:1'``), another
    device, or an int (a CUDA index). Only ``'cpu'`` can hold data here. A
    device equals another device or a device string with the same type and
    index (``device('cpu') == 'cpu'``).

        >>> ag.device("cpu"), str(ag.device("cuda", 1))
        (device(type='cpu'), 'cuda:1')

        >>> ag.device("cpu"), ag.ones(1).device
        (device(type='cpu'), device(type='cpu'))
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002 - torch's argument name
        self._type, self._index = _parse(type, index, "device")

    @property
    def type(self):
        """The device type, e.g. ``'cpu'``."""
        return self._type

    @property
    def index(self):
        """The device index (None: the current device of that type)."""
        return self._index

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        extra = "" if self._index is None else f", index={self._index}"
        return f"device(type={self._type!r}{extra})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except DeviceError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return device, (str(self),)


CPU = device("cpu")


def check_device(dev, fn):
    """``dev`` (None, a string, a device or an int) as a device that can hold
    data, i.e. the CPU; anything else raises ``DeviceError`` naming ``fn``.

        >>> from autograd_core.devices import check_device
        >>> check_device("cpu", "myop")                      # fine: the device
        device(type='cpu')
        >>> check_device("cuda:0", "myop")
        Traceback (most recent call last):
            ...
        autograd_core.devices.DeviceError: myop: device 'cuda:0' is not available: autograd_core computes with NumPy on the CPU only; use device='cpu' (or leave it out)
    """
    if dev is None or dev is CPU:
        return CPU
    kind, index = _parse(dev, None, fn)
    if kind != "cpu":
        where = kind if index is None else f"{kind}:{index}"
        raise DeviceError(
            f"{fn}: device {where!r} is not available: autograd_core computes with NumPy on "
            f"the CPU only; use device='cpu' (or leave it out)")
    return CPU
