"""``Module``, ``Parameter`` and the containers ``Sequential`` and ``ModuleList``.

A model is a tree of Modules. Assigning an attribute registers it, as in
PyTorch: a ``Parameter`` becomes a parameter, a ``Module`` a child, and
``register_buffer`` declares state that is saved but not trained (BatchNorm's
running statistics). Registration order is kept and defines the order of
``parameters()``, ``named_parameters()`` and ``state_dict()``.

Registered values are kept both in the registries (``_parameters``,
``_buffers``, ``_modules``) and in the instance ``__dict__``, so reading
``self.weight`` in ``forward`` is a plain attribute lookup: no per-call
overhead above the engine.

Only the public Tensor API is used here (``.data``, ``.grad``,
``requires_grad``); nothing reaches into the graph.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
import itertools
import numbers
import warnings

import numpy as np

from autograd_core import Tensor
from autograd_core import graph as _graph

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "StateDictError",
           "IncompatibleKeys", "RemovableHandle"]


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True, dtype=None)``: a leaf Tensor that a
    ``Module`` registers when it is assigned as an attribute.

    Float32 by default: a number, list or ndarray is converted to float32
    unless ``dtype`` is given; a floating-point ``Tensor`` keeps its dtype.
    The data are copied. ``Parameter(np.ones(3))`` is a float32 leaf that
    requires grad.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True, dtype=None):
        if data is None:
            data = np.empty((0,), dtype=dtype or np.float32)
        if dtype is None:
            if isinstance(data, Tensor) and data.dtype.kind == "f":
                dtype = data.dtype
            else:
                dtype = np.float32
        elif np.dtype(dtype).kind != "f":
            raise TypeError(f"Parameter: dtype must be a floating-point type, got {np.dtype(dtype)}")
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


# -------------------------------------------------------------- helpers

def _to_tensor(x, dtype=None, fn="module"):
    """``x`` as a Tensor: Tensors pass through untouched; arrays, lists and
    numbers are wrapped, converted to ``dtype`` if given (a layer passes its
    parameters' dtype, so a float64 batch does not silently upcast a float32
    model) and to float32 if they are not floating point."""
    if isinstance(x, Tensor):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{fn}: expected a Tensor or an array of numbers, got "
                        f"{type(x).__name__}: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: expected a Tensor or an array of numbers, got "
                        f"{type(x).__name__} of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    return Tensor(arr)


def _param_dtype(dtype, where):
    """A layer's parameter dtype: float32 unless a floating ``dtype`` is given."""
    if dtype is None:
        return np.dtype(np.float32)
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating-point type, got {dt}")
    return dt


def _check_name(name, kind, module):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a str, got {type(name).__name__}")
    if not name:
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
    d = module.__dict__
    if name in d and name not in d["_parameters"] and name not in d["_buffers"] \
            and name not in d["_modules"]:
        raise KeyError(f"attribute {name!r} already exists")


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


# How many forward hooks are registered on any module: while none is,
# Module.__call__ goes straight to forward.
_live_hooks = 0


def _count_hooks(delta):
    global _live_hooks
    _live_hooks += delta


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return, as
    ``torch.utils.hooks.RemovableHandle``: ``handle.remove()`` unregisters the
    hook (a second call does nothing); ``with handle: ...`` removes it on exit.
    ``handle.id`` is unique among all hooks."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks

    def remove(self):
        hooks = self._hooks
        if hooks is not None and hooks.pop(self.id, None) is not None:
            _count_hooks(-1)
        self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}{'' if self._hooks is not None else ', removed'}>"


class StateDictError(RuntimeError):
    """``load_state_dict`` found missing, unexpected or mis-shaped entries.

    The message lists every problem; the attributes ``missing_keys``,
    ``unexpected_keys`` and ``mismatched_keys`` (``(key, shape in the
    state_dict, shape in the model)``) and ``invalid_keys`` (values that are
    not numeric arrays) hold them for programs.
    """

    def __init__(self, message, missing_keys=(), unexpected_keys=(), mismatched_keys=(),
                 invalid_keys=()):
        super().__init__(message)
        self.missing_keys = list(missing_keys)
        self.unexpected_keys = list(unexpected_keys)
        self.mismatched_keys = list(mismatched_keys)
        self.invalid_keys = list(invalid_keys)


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


# -------------------------------------------------------------- Module

class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign Parameters and
    sub-Modules as attributes, and define ``forward``; calling the module
    calls ``forward``. Modules start in training mode.
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()

    # ---------------------------------------------------------- registration

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(f"cannot assign parameter {name!r} before "
                                     f"Module.__init__() call (call super().__init__() first)")
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError(f"cannot assign module {name!r} before "
                                     f"Module.__init__() call (call super().__init__() first)")
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                f"(nn.Parameter or None expected)")
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"{name!r} (nn.Module or None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            value = self._as_buffer(name, value)
            d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name, keep=None):
        """Unregister ``name`` (except from ``keep``: re-assignment keeps its place)."""
        d = self.__dict__
        for reg in ("_parameters", "_buffers", "_modules"):
            if reg != keep:
                d[reg].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    @staticmethod
    def _as_buffer(name, value):
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, (np.ndarray, numbers.Number, np.generic)):
            return Tensor(value)
        raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                        f"(Tensor, ndarray or None expected)")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a
        disabled bias) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            f"(nn.Parameter or None expected)")
        self._forget(name, keep="_parameters")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register non-trained state (a Tensor, ndarray or None) under ``name``.
        Persistent buffers are part of ``state_dict()``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self)
        tensor = self._as_buffer(name, tensor)
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Register ``module`` (or None) as a child under ``name``."""
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        self._forget(name, keep="_modules")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # ---------------------------------------------------------- calling

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        # One global test each: no per-module work while no hook exists anywhere
        # and no special engine mode (the compiler's tracer) is on.
        if _graph._specials:
            tracer = _graph.tracer()
            if tracer is not None:
                tracer.module(self)   # a compiled step depends on this module's mode
        if _live_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ---------------------------------------------------------- hooks

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before every ``forward``, as PyTorch's hook of
        that name; returns a ``RemovableHandle``.

        The hook may return None (inputs unchanged) or new positional inputs (a
        tuple, or one value that is then wrapped in a tuple). With
        ``with_kwargs=True`` it is called as ``hook(module, args, kwargs)`` and
        returns None or ``(new_args, new_kwargs)``. Hooks run in registration
        order; ``prepend=True`` puts this one first.

            >>> h = layer.register_forward_pre_hook(lambda m, args: print(args[0].shape))
            >>> h.remove()
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, (bool(with_kwargs),),
                              "register_forward_pre_hook")

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after every ``forward``, as PyTorch's
        hook of that name; returns a ``RemovableHandle``.

        A hook that returns something other than None replaces the output (the
        next hook sees the new one). With ``with_kwargs=True`` it is called as
        ``hook(module, args, kwargs, output)``. ``always_call=True`` also runs it
        (with ``output=None``) when ``forward`` raises; an error in the hook is
        then turned into a warning and the forward's error propagates.
        ``prepend=True`` runs this hook before the others.

            >>> shapes = []
            >>> h = model.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
        """
        return self._add_hook("_forward_hooks", hook, prepend,
                              (bool(with_kwargs), bool(always_call)), "register_forward_hook")

    def _add_hook(self, registry, hook, prepend, flags, who):
        if not callable(hook):
            raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__}")
        d = self.__dict__
        hooks = d.get(registry)
        if hooks is None:  # created on first use: modules without hooks carry nothing
            hooks = d[registry] = OrderedDict()
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook,) + flags
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        _count_hooks(1)
        return handle

    def _call_with_hooks(self, args, kwargs):
        """``forward`` between this module's forward pre-hooks and forward hooks."""
        d = self.__dict__
        pre, post = d.get("_forward_pre_hooks"), d.get("_forward_hooks")
        for hook, with_kwargs in list(pre.values()) if pre else ():
            if with_kwargs:
                new = hook(self, args, kwargs)
                if new is not None:
                    if not (isinstance(new, tuple) and len(new) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {new}.")
                    args, kwargs = new
            else:
                new = hook(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        if not post:
            return self.forward(*args, **kwargs)
        post = list(post.values())
        done = 0  # hooks that have run (the always_call ones left must still run on error)
        result = None
        try:
            result = self.forward(*args, **kwargs)
            for hook, with_kwargs, _always in post:
                done += 1
                new = hook(self, args, kwargs, result) if with_kwargs else hook(self, args, result)
                if new is not None:
                    result = new
            return result
        except Exception:
            for hook, with_kwargs, always in post[done:]:
                if not always:
                    continue
                try:
                    new = hook(self, args, kwargs, result) if with_kwargs else hook(self, args, result)
                    if new is not None:
                        result = new
                except Exception as e:  # noqa: BLE001 - silenced, as PyTorch does
                    warnings.warn(f"module forward hook with ``always_call=True`` raised an "
                                  f"exception that was silenced as another error was raised in "
                                  f"forward: {e}", stacklevel=2)
            raise

    # ---------------------------------------------------------- traversal

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs in registration order; a parameter
        shared by several modules is listed once, under its first name."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, only_trainable=False):
        """Total number of scalar parameters (each shared parameter counted once)."""
        return sum(p.size for p in self.parameters()
                   if p.requires_grad or not only_trainable)

    # ---------------------------------------------------------- modes and grads

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module
        and all descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """``train(False)``: Dropout becomes the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters.

        As in PyTorch ≥ 2.0 the default sets ``.grad`` to None (saves memory, and
        an optimiser then skips parameters that received no gradient);
        ``set_to_none=False`` fills existing gradients with zeros in place.
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording of every parameter (freeze with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """Call ``fn(m)`` on every descendant (children first), then on self; returns self.
        Typical use: custom initialisation."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, dtype):
        """Convert floating-point parameters and buffers to ``dtype`` in place
        (``model.to(np.float64)`` for gradient checks); returns self."""
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"to: dtype must be a floating-point type, got {dt}")
        for p in self.parameters():
            p.data = p.data.astype(dt)
            if p.grad is not None:
                p.grad = p.grad.data.astype(dt)
        for b in self.buffers():
            if b.data.dtype.kind == "f":
                b.data = b.data.astype(dt)
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ---------------------------------------------------------- state

    def _state_items(self, prefix=""):
        """(key, Tensor) for every parameter and persistent buffer, per module:
        its parameters, then its buffers, then its children (PyTorch's order).
        Shared tensors appear under every name, as in PyTorch."""
        d = self.__dict__
        for name, p in d["_parameters"].items():
            if p is not None:
                yield prefix + name, p
        for name, b in d["_buffers"].items():
            if b is not None and name not in d["_non_persistent_buffers"]:
                yield prefix + name, b
        for name, m in d["_modules"].items():
            if m is not None:
                yield from m._state_items(prefix + name + ".")

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict of dotted name → ndarray copy, for every parameter and
        persistent buffer (``keep_vars=True``: the tensors themselves).

        The values are plain ndarrays, so the dict can be saved by
        ``autograd_core.serialization.save`` or ``np.savez``.
        """
        out = OrderedDict() if destination is None else destination
        for key, t in self._state_items(prefix):
            out[key] = t if keep_vars else t.data.copy()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the existing parameters and buffers, in place.

        Every entry is checked before anything is copied: with ``strict=True``
        (default) missing and unexpected keys are errors; shape mismatches and
        values that are not numeric arrays always are. One ``StateDictError``
        lists them all. Values are cast to the parameter's dtype. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got "
                            f"{type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in own]
        mismatched, invalid, values = [], [], {}
        for key, t in own.items():
            if key not in state_dict:
                continue
            v = state_dict[key]
            arr = v.data if isinstance(v, Tensor) else v
            try:
                arr = np.asarray(arr)
            except Exception:  # noqa: BLE001 - any failure means "not an array"
                arr = None
            if arr is None or arr.dtype.kind not in "biuf":
                invalid.append((key, type(v).__name__ if arr is None else str(arr.dtype)))
                continue
            if arr.shape != t.shape:
                mismatched.append((key, arr.shape, t.shape))
                continue
            values[key] = arr
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ".")
        for key, got, want in mismatched:
            problems.append(f"size mismatch for {key}: copying a param with shape {got} from "
                            f"checkpoint, the shape in current model is {want}.")
        for key, what in invalid:
            problems.append(f"invalid value for {key}: expected a numeric array, got {what}.")
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems),
                missing if strict else (), unexpected if strict else (), mismatched, invalid)
        for key, arr in values.items():
            own[key].data[...] = arr
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------- printing

    def extra_repr(self):
        """The text inside the parentheses of this module's repr; layers override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2)
                       for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


# -------------------------------------------------------------- containers

class Sequential(Module):
    """``Sequential(*modules)`` or ``Sequential(OrderedDict(name=module, ...))``:
    calls the modules in order. Children are named ``'0'``, ``'1'``, ... (so
    parameters are ``0.weight``, ``0.bias``, ...); supports ``len``, iteration,
    indexing (a slice gives a Sequential keeping the names) and ``append``."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], dict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, "
                                    f"not a Module")
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def _index(self, idx):
        n = len(self._modules)
        if not isinstance(idx, (numbers.Integral, np.integer)) or isinstance(idx, bool):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, "
                            f"not {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a {type(self).__name__} "
                             f"of length {n}")
        return int(idx) % n

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[self._index(idx)][1]

    def __setitem__(self, idx, module):
        name = list(self._modules)[self._index(idx)]
        setattr(self, name, module)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of Modules whose parameters are registered (names ``'0'``, ``'1'``, ...)."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(mods[idx])
        return mods[idx]
