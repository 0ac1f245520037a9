"""``Module``, ``Parameter`` and the containers ``Sequential``, ``ModuleList``,
``ModuleDict``, ``ParameterList`` and ``ParameterDict``.

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
``requires_grad``); nothing reaches into the graph. Moving a model between
dtypes (``to``, ``double``, ...) changes its tensors in place, so optimisers and
compiled steps that hold them keep working.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
import itertools
import numbers
import warnings

import numpy as np

from autograd_core import Tensor
from autograd_core import graph as _graph
from autograd_core import no_grad as _no_grad
from autograd_core._tensor import _to_args   # Tensor.to's overloads, shared by Module.to
from autograd_core.compiler import host_call
from autograd_core.devices import DeviceError, check_device
from autograd_core.dtypes import as_dtype, get_default_dtype

from .utils import zero_grad_

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "StateDictError", "IncompatibleKeys", "RemovableHandle"]


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True, dtype=None)``: a leaf Tensor that a
    ``Module`` registers when it is assigned as an attribute.

    The default dtype (``ag.get_default_dtype()``, float32 unless changed) by
    default: a number, list or ndarray is converted to it unless ``dtype`` is
    given; a floating-point ``Tensor`` keeps its dtype. The data are copied.
    ``Parameter(np.ones(3))`` is a float32 leaf that requires grad.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True, dtype=None):
        if data is None:
            data = np.empty((0,), dtype=dtype or get_default_dtype())
        if dtype is None:
            if isinstance(data, Tensor) and data.dtype.kind == "f":
                dtype = data.dtype
            else:
                dtype = get_default_dtype()
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
    """A layer's parameter dtype: the default dtype (``ag.get_default_dtype()``,
    float32 unless changed, as in torch) unless a floating ``dtype`` is given."""
    if dtype is None:
        return np.dtype(get_default_dtype())
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating-point type, got {dt}")
    return dt


def _dtype_repr(dt):
    """``, dtype=...`` in a layer's repr where its dtype is not the default one."""
    return "" if dt == get_default_dtype() else f", dtype={dt}"


def _check_name(name, kind, module, registry):
    """PyTorch's rules for a registered name: a non-empty str without ".", and not
    an attribute of the module already (a method, ``training``, or an entry of
    another registry) unless it is in ``registry``, where it is replaced."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a str, got {type(name).__name__}")
    if not name:
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
    if hasattr(module, name) and name not in module.__dict__[registry]:
        raise KeyError(f"attribute {name!r} already exists")


def _assign(t, fn):
    """t takes the values of fn(t), in place (``Module._apply``)."""
    new = fn(t)
    if new is not t:
        t.data = new.data


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
        _check_name(name, "parameter", self, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            f"(nn.Parameter or None expected)")
        self._forget(name, keep="_parameters")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register non-trained state (a Tensor, ndarray or None) under ``name``, as
        PyTorch: it moves with ``to()``/``double()``, is listed by ``buffers()``, and,
        if ``persistent`` (default), is part of ``state_dict()``.

            >>> m = nn.Module()
            >>> m.register_buffer("running_mean", ag.zeros(4))
            >>> m.register_buffer("cache", ag.zeros(4), persistent=False)   # not saved
            >>> list(m.state_dict())
            ['running_mean']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self, "_buffers")
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
        _check_name(name, "module", self, "_modules")
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

            >>> layer = nn.Linear(3, 2)
            >>> h = layer.register_forward_pre_hook(lambda m, args: print(args[0].shape))
            >>> _ = layer(ag.ones(4, 3))
            (4, 3)
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

            >>> model, shapes = nn.Linear(3, 2), []
            >>> h = model.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
            >>> _ = model(ag.ones(4, 3)); shapes
            [(4, 2)]
            >>> h.remove()
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
        """(dotted name, module) for this module and every descendant, depth first,
        as PyTorch: ``memo`` is the set of modules already listed (a module reached
        twice is listed once, unless ``remove_duplicate=False``), ``prefix`` starts
        every name.

            >>> [name for name, _ in nn.Sequential(nn.Linear(2, 2)).named_modules()]
            ['', '0']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """This module and every descendant, each once (``named_modules`` without names)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, module) for the direct children, each module once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct children, each once."""
        for _, m in self.named_children():
            yield m

    def get_submodule(self, target):
        """The descendant named by the dotted path ``target`` (``''``: self), as
        PyTorch; AttributeError names the first part that is missing or not a
        Module.

            >>> net = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
            >>> net.get_submodule("0.1")
            ReLU()
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at the dotted path ``target``, replacing what is there (a
        Module) or adding it (unless ``strict``), as PyTorch."""
        if target == "":
            raise ValueError("set_submodule: cannot set the submodule without a target name")
        if not isinstance(module, Module):
            raise ValueError(f"set_submodule: `module` is not an nn.Module, found "
                             f"{type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target):
        """The parameter named by the dotted path ``target`` (``'encoder.0.weight'``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer named by the dotted path ``target`` (``'bn.running_mean'``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(mod, name)

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
        """The parameters (of this module only if ``recurse`` is False), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs, persistent or not, in registration order."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers (of this module only if ``recurse`` is False), each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, only_trainable=False):
        """Total number of scalar parameters (each shared parameter counted once)."""
        return sum(p.size for p in self.parameters()
                   if p.requires_grad or not only_trainable)

    # ---------------------------------------------------------- modes and grads

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and,
        through their own ``train``, on its children; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """``train(False)``: Dropout becomes the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    @host_call
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (``nn.utils.zero_grad_``).

        As in PyTorch ≥ 2.0 the default sets ``.grad`` to None (saves memory, and
        an optimiser then skips parameters that received no gradient);
        ``set_to_none=False`` fills existing gradients with zeros in place. In a
        compiled step it is one host call, repeated by every replay (as
        ``Optimizer.zero_grad``).
        """
        zero_grad_(self.parameters(), set_to_none)

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

    # ---------------------------------------------------------- dtypes and devices

    def _apply(self, fn, recurse=True):
        """Give every parameter, its gradient and every buffer ``t`` the value
        ``fn(t)`` (computed under no_grad), children first, as PyTorch's
        ``Module._apply``.

        Each tensor keeps its object and takes the new values (``t.data = fn(t)``,
        PyTorch's way for parameters), so optimisers, compiled steps and any other
        holder of a parameter or buffer keep seeing the module's. Returns self."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        d = self.__dict__
        with _no_grad():
            for p in d["_parameters"].values():
                if p is not None:
                    _assign(p, fn)
                    if p.grad is not None:
                        _assign(p.grad, fn)
            for b in d["_buffers"].values():
                if b is not None:
                    _assign(b, fn)
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype
        and device), keyword ``dtype=``/``device=``/``non_blocking=``/``memory_format=``,
        as ``torch.nn.Module.to``: converts the floating-point parameters and buffers
        in place (``_apply``: the Parameter and buffer objects stay, so an optimiser
        built before keeps working); integer buffers keep their dtype. The only
        device is the CPU (``'cuda'`` raises ``ag.DeviceError``). Returns self.

            >>> model = nn.Linear(2, 1)
            >>> model.to(ag.float64).weight.dtype          # for gradient checks
            dtype('float64')
            >>> model.to("cpu") is model
            True
        """
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        memory_format = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword argument(s) {sorted(kwargs)}")
        dtype, device, _ = _to_args(args, dtype, device, False)
        check_device(device, "Module.to")
        if dtype is not None:
            dtype = as_dtype(dtype, "Module.to")
            if dtype.kind not in "fc":
                raise TypeError(f"Module.to only accepts floating point or complex dtypes, but "
                                f"got desired dtype={dtype}")

        def convert(t):
            if memory_format is not None and t.ndim in (4, 5):
                t = t.to(memory_format=memory_format)
            return t.to(dtype) if dtype is not None and t.dtype.kind in "fc" else t
        return self._apply(convert)

    def _cast_floats(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.dtype.kind == "f" else t)

    def float(self):
        """Floating-point parameters and buffers to float32, in place; returns self."""
        return self._cast_floats(np.float32)

    def double(self):
        """Floating-point parameters and buffers to float64, in place; returns self."""
        return self._cast_floats(np.float64)

    def half(self):
        """Floating-point parameters and buffers to float16, in place; returns self."""
        return self._cast_floats(np.float16)

    def type(self, dst_type):
        """Every parameter and buffer to ``dst_type`` (a dtype or a name such as
        ``'torch.DoubleTensor'``), in place; returns self."""
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self):
        """Self: parameters and buffers are on the CPU already."""
        return self

    def cuda(self, device=None):
        """Raises ``ag.DeviceError``: autograd_core computes with NumPy on the CPU only."""
        return self._elsewhere("cuda", device)

    def xpu(self, device=None):
        """Raises ``ag.DeviceError`` (there is only the CPU)."""
        return self._elsewhere("xpu", device)

    def ipu(self, device=None):
        """Raises ``ag.DeviceError`` (there is only the CPU)."""
        return self._elsewhere("ipu", device)

    def mtia(self, device=None):
        """Raises ``ag.DeviceError`` (there is only the CPU)."""
        return self._elsewhere("mtia", device)

    def _elsewhere(self, kind, device):
        """The one error of ``cuda()`` and its kin (``ag.DeviceError``, as ``Tensor.cuda``)."""
        if device is None:
            device = kind
        elif isinstance(device, numbers.Integral) and not isinstance(device, bool):
            device = f"{kind}:{device}"
        check_device(device, f"Module.{kind}")       # raises for every device but the CPU
        raise DeviceError(f"Module.{kind}: device must be a {kind} device, got {device!r}")

    # ---------------------------------------------------------- state

    def _state_items(self, prefix=""):
        """(key, Tensor, owning module, attribute name) for every parameter and
        persistent buffer, per module: its parameters, then its buffers, then its
        children (PyTorch's order). Shared tensors appear under every name, as in
        PyTorch."""
        d = self.__dict__
        for name, p in d["_parameters"].items():
            if p is not None:
                yield prefix + name, p, self, name
        for name, b in d["_buffers"].items():
            if b is not None and name not in d["_non_persistent_buffers"]:
                yield prefix + name, b, self, name
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
        for key, t, _, _ in self._state_items(prefix):
            out[key] = t if keep_vars else t.data.copy()
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into the existing parameters and buffers, in place.

        Every entry is checked before anything is copied: with ``strict=True``
        (default) missing and unexpected keys are errors; shape mismatches and
        values that are not numeric arrays always are. One ``StateDictError``
        lists them all. Values are cast to the parameter's dtype. With
        ``assign=True`` (PyTorch's) the loaded values become the parameters and
        buffers instead, keeping their dtype: a Parameter in the state_dict is
        used as it is, other values become new Parameters (with the old one's
        ``requires_grad``); optimisers built before then hold the old objects.
        Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got "
                            f"{type(state_dict).__name__}")
        items = list(self._state_items())
        own = OrderedDict((key, t) for key, t, _, _ in items)
        slots = {key: (module, name) for key, _, module, name in items}
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
            if not assign:
                own[key].data[...] = arr
                continue
            module, name = slots[key]
            old, value = own[key], state_dict[key]
            if isinstance(old, Parameter):
                if isinstance(value, Parameter):
                    value.requires_grad_(old.requires_grad)
                else:
                    value = Parameter(arr, requires_grad=old.requires_grad,
                                      dtype=arr.dtype if arr.dtype.kind == "f" else None)
            setattr(module, name, value if isinstance(value, Tensor) else arr)
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

    def __dir__(self):
        """The class's attributes, the instance's and every registered name, without
        the names that are not identifiers (a Sequential's ``'0'``), as PyTorch."""
        d = self.__dict__
        keys = set(dir(type(self))) | set(d) | set(d["_parameters"]) | set(d["_buffers"]) \
            | set(d["_modules"])
        return sorted(k for k in keys if not k[0].isdigit())


# -------------------------------------------------------------- containers

def _position(container, idx, extend=False):
    """``idx`` (an int, negative from the end) as a position in ``container``; with
    ``extend`` also len(container) (insertion at the end). IndexError otherwise."""
    n = len(container)
    if isinstance(idx, bool) or not isinstance(idx, (numbers.Integral, np.integer)):
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                        f"not {type(idx).__name__}")
    idx = int(idx)
    if not -n <= idx < n + extend:
        raise IndexError(f"index {idx} is out of range for a {type(container).__name__} "
                         f"of length {n}")
    return idx % n if idx < 0 else idx


def _renumber(container, modules):
    """Make ``modules`` the container's children, named '0', '1', ... (PyTorch
    renumbers a Sequential or ModuleList after a deletion or an insertion)."""
    d = container.__dict__
    for name in d["_modules"]:
        d.pop(name, None)
    d["_modules"] = OrderedDict()
    for i, m in enumerate(modules):
        d["_modules"][str(i)] = m
        d[str(i)] = m


def _compact_repr(container):
    """PyTorch's repr of a ModuleList: runs of children with the same repr in one
    line, ``(0-3): 4 x Linear(...)``."""
    reprs = [repr(m) for m in container]
    if not reprs:
        return container._get_name() + "()"
    lines, start = [], 0
    for i in range(1, len(reprs) + 1):
        if i == len(reprs) or reprs[i] != reprs[start]:
            label = f"({start})" if i - 1 == start else f"({start}-{i - 1}): {i - start} x"
            sep = ": " if i - 1 == start else " "
            lines.append(_addindent(f"{label}{sep}{reprs[start]}", 2))
            start = i
    return container._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children named '0', '1', ... that are
    a list (deleting or inserting renumbers them, as PyTorch)."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        setattr(self, list(self._modules)[_position(self, idx)], module)

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_position(self, idx)]
        _renumber(self, mods)

    def pop(self, idx):
        """Remove and return the module at ``idx`` (a slice: a container of them)."""
        out = self[idx]
        del self[idx]
        return out

    def append(self, module):
        """Add ``module`` at the end (named ``str(len(self))``); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (as ``list.insert``: negative counts
        from the end, len(self) appends); the children are renumbered. Returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: module must be a Module, got "
                            f"{type(module).__name__}")
        mods = list(self._modules.values())
        mods.insert(_position(self, index, extend=True), module)
        _renumber(self, mods)
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        if not hasattr(modules, "__iter__"):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, "
                            f"but got {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self


class Sequential(_ModuleSequence):
    """``Sequential(*modules)`` or ``Sequential(OrderedDict(name=module, ...))``:
    calls the modules in order, as ``torch.nn.Sequential``. Children are named
    ``'0'``, ``'1'``, ... (so parameters are ``0.weight``, ``0.bias``, ...).

    A list of modules too: ``len``, iteration, ``seq[i]`` (a slice gives a
    Sequential keeping the names), ``seq[i] = m``, ``del seq[i]``, ``append``,
    ``insert``, ``extend``, ``pop``, ``seq + other`` and ``seq * n`` (the same
    modules, repeated). Deleting or inserting renumbers the children '0', '1', ...,
    as PyTorch.

        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        >>> net.append(nn.Linear(8, 2))[1:]
        Sequential(
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
    """

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

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        """Each module applied to the output of the one before, in order."""
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[_position(self, idx)][1]

    def _other(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other).__name__} is given.")
        return list(other)

    def __add__(self, other):
        return Sequential(*self, *self._other(other))

    def __iadd__(self, other):
        return self.extend(self._other(other))

    def _repeats(self, times):
        if isinstance(times, bool) or not isinstance(times, numbers.Integral):
            raise TypeError(f"unsupported operand type(s) for *: 'Sequential' and "
                            f"'{type(times).__name__}'")
        if times <= 0:
            raise ValueError(f"Non-positive multiplication factor {times} for Sequential")
        return list(self) * int(times)

    def __mul__(self, times):
        return Sequential(*self._repeats(times))

    __rmul__ = __mul__

    def __imul__(self, times):
        return self.extend(self._repeats(times)[len(self):])


class ModuleList(_ModuleSequence):
    """``ModuleList(modules=None)``: a list of Modules whose parameters are registered
    (names ``'0'``, ``'1'``, ...), as ``torch.nn.ModuleList``: indexing (a slice
    gives a ModuleList), ``ml[i] = m``, ``del ml[i]`` (renumbers), ``append``,
    ``extend``, ``insert``, ``pop``, ``+``, ``+=``; no ``forward`` of its own.

        >>> blocks, x = nn.ModuleList(nn.Linear(8, 8) for _ in range(3)), ag.ones(2, 8)
        >>> for block in blocks:
        ...     x = block(x)
        >>> x.shape
        (2, 8)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(mods[idx])
        return mods[_position(self, idx)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList([*self, *other])

    def __repr__(self):
        return _compact_repr(self)


class ModuleDict(Module):
    """``ModuleDict(modules=None)``: a dict of Modules by name, registered as children
    in insertion order, as ``torch.nn.ModuleDict``: ``md[key]``, ``md[key] = m``,
    ``del md[key]``, ``in``, ``len``, iteration over the keys, ``keys``,
    ``values``, ``items``, ``update`` (a mapping or (key, module) pairs), ``pop``
    and ``clear``. Keys are strs that are not attributes of a Module (such as
    ``'training'`` or ``'keys'``): KeyError, as PyTorch.

        >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "box": nn.Linear(8, 4)})
        >>> {name: head(ag.ones(1, 8)).shape for name, head in heads.items()}
        {'cls': (1, 3), 'box': (1, 4)}
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def pop(self, key):
        """Remove and return the module under ``key``."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping (in its order) or an iterable of
        (key, module) pairs."""
        _update(self, modules, "ModuleDict", sort_plain_dicts=False)


def _update(container, items, who, sort_plain_dicts):
    """``container[key] = value`` for a mapping's items (a plain mapping sorted by key
    where PyTorch sorts: ParameterDict) or for (key, value) pairs, with PyTorch's
    errors."""
    if not hasattr(items, "__iter__") or isinstance(items, (str, bytes)):
        raise TypeError(f"{who}.update should be called with an iterable of key/value pairs, "
                        f"but got {type(items).__name__}")
    if hasattr(items, "keys") and hasattr(items, "__getitem__"):
        pairs = list(items.items())
        if sort_plain_dicts and not isinstance(items, (OrderedDict, ParameterDict)):
            pairs.sort(key=lambda kv: kv[0])
    else:
        pairs = []
        for j, pair in enumerate(items):
            if not hasattr(pair, "__iter__") or isinstance(pair, (str, bytes)):
                raise TypeError(f"{who} update sequence element #{j} should be Iterable; is "
                                f"{type(pair).__name__}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"{who} update sequence element #{j} has length {len(pair)}; "
                                 f"2 is required")
            pairs.append(pair)
    for key, value in pairs:
        container[key] = value


def _entry_repr(key, value):
    """One line of a ParameterList's or ParameterDict's repr, PyTorch's layout."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(n) for n in value.shape)
        return f"  ({key}): {kind} containing: [{value.type()} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_entry(value):
    """A Tensor that is not a Parameter becomes one (a copy), as PyTorch's containers."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) \
        else value


class ParameterList(Module):
    """``ParameterList(values=None)``: a list of Parameters, registered (names
    ``'0'``, ``'1'``, ...), as ``torch.nn.ParameterList``: ``pl[i]`` (a slice gives a
    ParameterList), ``pl[i] = p``, ``append``, ``extend``, ``+=``, ``len``,
    iteration. A Tensor that is not a Parameter is made one (a copy); other
    objects are kept as they are. Calling a ParameterList is an error.

        >>> scales = nn.ParameterList(nn.Parameter(ag.ones(n)) for n in (3, 4))
        >>> [name for name, _ in scales.named_parameters()], scales[1].shape
        (['0', '1'], (4,))
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(*idx.indices(len(self)))])
        return getattr(self, str(_position(self, idx)))

    def __setitem__(self, idx, value):
        setattr(self, str(_position(self, idx)), _as_entry(value))

    def append(self, value):
        """Add ``value`` at the end; returns self."""
        setattr(self, str(self._size), _as_entry(value))
        self._size += 1
        return self

    def extend(self, values):
        """Append every element of the iterable ``values``; returns self."""
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in list(values):
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def extra_repr(self):
        """One line per entry: its kind, type and size (PyTorch's layout)."""
        return "\n".join(_entry_repr(i, v) for i, v in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """``ParameterDict(parameters=None)``: a dict of Parameters by name (str keys),
    registered in insertion order, as ``torch.nn.ParameterDict``: ``pd[key]``,
    ``pd[key] = p``, ``del pd[key]``, ``in``, ``len``, iteration over the keys,
    ``keys``, ``values``, ``items``, ``get``, ``setdefault``, ``pop``,
    ``popitem``, ``clear``, ``copy``, ``fromkeys``, ``update`` and ``|``. A Tensor
    that is not a Parameter is made one (a copy). As PyTorch, ``update`` with a
    plain dict adds its entries sorted by key (an OrderedDict keeps its order).

        >>> biases = nn.ParameterDict({"a": nn.Parameter(ag.zeros(3))})
        >>> biases["b"] = ag.ones(2)                 # a Tensor becomes a Parameter
        >>> list(biases.state_dict()), type(biases["b"]).__name__
        (['a', 'b'], 'Parameter')
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key):
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}')")
        return key

    def __getitem__(self, key):
        if self._key(key) not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        key = self._key(key)
        if key not in self._keys:   # a new key must not hide an attribute ('keys', 'training')
            _check_name(key, "parameter", self, "_parameters")
        setattr(self, key, _as_entry(value))
        self._keys[key] = None

    def __delitem__(self, key):
        if self._key(key) not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def values(self):
        """The entries (a list), in insertion order."""
        return [self[k] for k in self._keys]

    def items(self):
        """(key, entry) pairs (a list), in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        """``self[key]``, or ``default`` if ``key`` is absent."""
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """``self[key]``, after setting it to ``default`` if absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        """Remove and return the entry under ``key``."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, value) added."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same Parameter objects."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with every key of ``keys`` set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of (key, value) pairs."""
        _update(self, parameters, "ParameterDict", sort_plain_dicts=True)

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = ParameterDict(other)
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        """One line per entry: its kind, type and size (PyTorch's layout)."""
        return "\n".join(_entry_repr(k, v) for k, v in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
