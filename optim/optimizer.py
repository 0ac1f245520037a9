"""The ``Optimizer`` base class: parameter groups, per-parameter state, and
state dicts that load into an optimiser built over new parameter objects.

An optimiser only reads ``p.data`` and ``p.grad`` and writes ``p.data`` in
place (so a float32 parameter stays float32 and every other reference to the
array sees the update). Everything else -- hyper-parameters, moment buffers,
quasi-Newton memories -- lives here, with PyTorch's layout::

    opt.param_groups == [{'params': [p0, p1], 'lr': 0.1, ...}, ...]
    opt.state[p0]    == {'step': 3, 'exp_avg': ndarray, ...}
    opt.state_dict() == {'state': {0: {...}, 1: {...}},
                         'param_groups': [{'lr': 0.1, ..., 'params': [0, 1]}]}

In a state dict parameters are numbered by their position across all groups,
so it can be loaded into a fresh optimiser over fresh parameters of the same
shapes (e.g. after a restart), and saved with ``autograd_core.save`` (no
pickle: every value is an array, a number, a string, None or a container).

Two templates below hold what the optimisers share, so each keeps only its own
rule: ``PerParameterOptimizer.step`` (the first-order methods: gradient,
``maximize``, weight decay, state creation, step count; the subclass gives
``_update``) and ``FlatStateOptimizer`` (the second-order methods over the
flattened parameters: closure evaluation, moves along a ray, line searches).
"""
from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict

import numpy as np

from autograd_core import Tensor, enable_grad, flat, no_grad, zeros_like
from autograd_core.compiler import guard, host_call, is_tracing, untraced
from autograd_core.core import wrap
from nn.utils import zero_grad_

from .line_search import backtracking, strong_wolfe

__all__ = ["Optimizer", "required", "PerParameterOptimizer", "FlatStateOptimizer"]


class _RequiredParameter:
    """Marks a hyper-parameter that has no default: every group must give it."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


# ---------------------------------------------------------------------------
# Validation helpers shared by the optimisers (messages follow PyTorch's)
# ---------------------------------------------------------------------------

def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_nonneg(value, what):
    """``ValueError("Invalid <what>: <value>")`` unless ``0 <= value``."""
    if not _is_real(value) or not (0.0 <= value) or math.isnan(value):
        raise ValueError(f"Invalid {what}: {value}")


_PYTORCH_WORDING = {"lr": "learning rate", "eps": "epsilon value"}


def check_nonnegative(group, *keys):
    """``check_nonneg`` for each named hyper-parameter of ``group``, worded as
    PyTorch's messages ("Invalid learning rate: -1", "Invalid momentum value: -1")."""
    for key in keys:
        check_nonneg(group[key], _PYTORCH_WORDING.get(key, f"{key} value"))


def check_range(value, what, lo, hi, hi_closed=False):
    """``ValueError`` unless ``lo <= value < hi`` (``<= hi`` if ``hi_closed``)."""
    ok = _is_real(value) and (lo <= value <= hi if hi_closed else lo <= value < hi)
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral,)) or value < 1:
        raise ValueError(f"Invalid {name}: {value} (expected a positive integer)")


def check_choice(value, name, choices):
    if value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise ValueError(f"Invalid {name}: {value!r} (expected one of {opts})")


# ---------------------------------------------------------------------------
# Flat-vector helpers for the quasi-Newton and second-order optimisers
# ---------------------------------------------------------------------------

def flat_dtype(params):
    """The dtype of the flat vectors over ``params`` (``autograd_core.flat``)."""
    return flat.flat_dtype(params)


def gather_flat_grad(params):
    """All gradients as one new vector (zeros for a parameter without ``.grad``)."""
    return flat.flatten([p.grad for p in params], dtype=flat_dtype(params), like=params)


def add_flat_(params, step, direction):
    """p ← p + step · direction[slice of p], in place."""
    for p, piece in zip(params, flat.unflatten(direction, params)):
        p.data += (piece * step).astype(p.data.dtype, copy=False)


def call_closure(closure):
    """Evaluate a closure with gradient recording on (it may run inside no_grad)."""
    with enable_grad():
        return closure()


def copy_state(value, float_dtype=None):
    """A deep copy of a state value: arrays (and Tensors' arrays) copied, containers
    rebuilt with their own type (an OrderedDict stays one), so that nothing
    shares memory with the model or the optimiser. With ``float_dtype``,
    floating arrays are cast to it (a loaded state follows its parameter)."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.generic)):
        if float_dtype is not None and value.dtype.kind == "f":
            return value.astype(float_dtype, copy=True)
        return value.copy()
    if isinstance(value, dict):
        items = [(k, copy_state(v, float_dtype)) for k, v in value.items()]
        try:
            return type(value)(items)
        except TypeError:
            return dict(items)
    if isinstance(value, (list, tuple)):
        return type(value)(copy_state(v, float_dtype) for v in value)
    return copy.deepcopy(value)


# ---------------------------------------------------------------------------
# Operations of the rules that are written once for arrays and for Tensors
# (PerParameterOptimizer._rule): the NumPy call on an array, the engine's op
# on a Tensor -- the same floating-point operation
# ---------------------------------------------------------------------------

def clone_state(g):
    """A copy of ``g`` (array or Tensor) that owns its memory: a new state buffer.

        >>> from optim.optimizer import clone_state
        >>> g = np.array([1.0, 2.0]); buf = clone_state(g); buf *= 2
        >>> g, buf
        (array([1., 2.]), array([2., 4.]))
    """
    return g.clone() if isinstance(g, Tensor) else np.array(g, copy=True)


def sqrt(a):
    """√a elementwise, of an array (``np.sqrt``) or a Tensor (``Tensor.sqrt``).

        >>> from optim.optimizer import sqrt
        >>> sqrt(np.array([4.0])), sqrt(ag.tensor([4.0]))
        (array([2.]), Tensor([2.], dtype=float32))
    """
    return a.sqrt() if isinstance(a, Tensor) else np.sqrt(a)


def maximum_(a, b):
    """a ← max(a, b) elementwise, in place (array or Tensor ``a``).

        >>> from optim.optimizer import maximum_
        >>> a = np.array([1.0, 5.0]); maximum_(a, np.array([3.0, 2.0])); a
        array([3., 5.])
    """
    if isinstance(a, Tensor):
        a.copy_(a.maximum(b))
    else:
        np.maximum(a, b, out=a)


def assign_(a, b):
    """a ← b in place (array or Tensor ``a``; ``b`` broadcast to its shape).

        >>> from optim.optimizer import assign_
        >>> a = ag.zeros(2); _ = assign_(a, ag.tensor([1.0, 2.0])); a
        Tensor([1., 2.], dtype=float32)
    """
    if isinstance(a, Tensor):
        return a.copy_(b)
    a[...] = b
    return a


# ---------------------------------------------------------------------------
# The base class
# ---------------------------------------------------------------------------

class Optimizer:
    """``Optimizer(params, defaults)``: the base of every optimiser.

    ``params`` is an iterable of Tensors, or of dicts each holding a
    ``'params'`` list and hyper-parameters that override ``defaults`` for that
    group. Subclasses implement ``step`` and ``_validate_group`` (called on
    every group, including those added later with ``add_param_group``).

    Per-parameter state lives in ``self.state[p]`` (a dict, keyed by the
    parameter object itself, hashed by identity).

        >>> w1, w2 = ag.zeros(2, requires_grad=True), ag.zeros(3, requires_grad=True)
        >>> opt = optim.SGD([{"params": [w1]}, {"params": [w2], "lr": 0.01}], lr=0.1)
        >>> [group["lr"] for group in opt.param_groups]        # a group overrides the defaults
        [0.1, 0.01]
        >>> class PlainGD(optim.Optimizer):                      # a new method: step over the groups
        ...     def __init__(self, params, lr=0.1):
        ...         super().__init__(params, dict(lr=lr))
        ...     def step(self, closure=None):
        ...         for group in self.param_groups:
        ...             for p in group["params"]:
        ...                 if p.grad is not None:
        ...                     p.data -= group["lr"] * p.grad.data
        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> (w ** 2).sum().backward()
        >>> PlainGD([w]).step()
        >>> w
        Tensor([0.8, 1.6], dtype=float32, requires_grad=True)
    """

    # Per-parameter state arrays must have their parameter's shape (first-order
    # optimisers); quasi-Newton optimisers keep flat global state and override.
    _state_shapes_follow_params = True

    def __init_subclass__(cls, **kwargs):
        # Inside ``autograd_core.compile`` a step and a reset are opaque host
        # calls of the program: they work on .data and .grad arrays, which the
        # program keeps in the same places from call to call.
        # (A step that records itself -- ``PerParameterOptimizer.step`` -- is not wrapped.)
        super().__init_subclass__(**kwargs)
        for name in ("step", "zero_grad"):
            fn = cls.__dict__.get(name)
            if fn is not None and not getattr(fn, "__wrapped_host_call__", False) \
                    and not getattr(fn, "__records_itself__", False):
                setattr(cls, name, host_call(fn))

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                "or dicts, but got a Tensor; wrap it in a list: [x]")
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets changes between runs; use a list instead")
        if isinstance(params, dict):
            params = [params]
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}") from None
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- groups ---------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``'params'`` and optional
        hyper-parameters; the optimiser's defaults fill in the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (the list of tensors)")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets changes between runs; use a list instead")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} of the group is "
                    f"a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} of the group was made "
                    f"by an operation); optimise the leaf it came from, or use .detach()")
            if p.data.dtype.kind != "f":
                raise TypeError(
                    f"optimizer can only optimize floating-point Tensors, but parameter {i} "
                    f"has dtype {p.data.dtype}")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(
                "a parameter group contains the same tensor more than once; "
                "each parameter must appear once")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}")
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group):
        """Raise ValueError naming the argument if a hyper-parameter is invalid."""

    # -- gradients --------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimised parameters.

        ``set_to_none=True`` (the default, as PyTorch) sets ``p.grad = None``;
        otherwise gradients are zeroed in place (``nn.utils.zero_grad_``, the one
        place where gradients are reset).
        """
        if is_tracing():
            self._traced_zero_grad(set_to_none)
        else:
            self._reset_grads(set_to_none)

    def _traced_zero_grad(self, set_to_none):
        """``zero_grad`` inside a compiled step, recorded (not a host call):
        ``p.grad = None`` bindings (without reading the old gradients, so
        whether they existed is no part of the signature), or the gradients
        zeroed in place -- replaced by fresh zeros where ``zero_grad_`` would."""
        with no_grad():
            for p in self._all_params():
                if set_to_none:
                    p.grad = None
                    continue
                g = p.grad
                if g is None:
                    continue
                if (g.is_leaf and not g.requires_grad and g._d.__class__ is np.ndarray
                        and g._d.flags.writeable and getattr(g, "tangent", None) is None):
                    g.zero_()
                else:
                    p.grad = zeros_like(g)

    @host_call
    def _reset_grads(self, set_to_none):
        zero_grad_(self._all_params(), set_to_none)

    def step(self, closure=None):
        """Update every parameter from its ``.grad`` once; returns the closure's
        loss (None without a closure).

        Subclasses implement it (the base raises NotImplementedError).
        ``closure``, as in PyTorch, is an optional callable that zeroes the
        gradients, recomputes the loss, calls ``loss.backward()`` and returns
        the loss: the step calls it (with gradient recording on) and uses the
        gradients it leaves; optimisers that evaluate the loss several times
        per step (LBFGS and the other line-search methods) require it.
        """
        raise NotImplementedError

    def _eval_closure(self, closure):
        return None if closure is None else call_closure(closure)

    def _all_params(self):
        return [p for g in self.param_groups for p in g["params"]]

    # -- state dicts ------------------------------------------------------------

    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are numbered by position across groups; arrays are copies.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy_state(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                state[index[id(p)]] = {k: copy_state(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state dict made by ``state_dict()`` (maybe of another optimiser
        object over other parameter objects with the same shapes).

        Groups must match in number and size; per-parameter arrays must match
        their parameter's shape. Values are copied, floating arrays cast to the
        parameter's dtype.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError(
                "load_state_dict: expected a dict with keys 'state' and 'param_groups' "
                "(as returned by Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError("load_state_dict: 'param_groups' must be a list of dicts")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"load_state_dict: param_groups[{i}] is not a dict with 'params'")
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(saved['params'])} parameters in "
                    f"the state dict but {len(mine['params'])} in the optimizer")
        id_map = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for idx, p in zip(saved["params"], mine["params"]):
                id_map[idx] = p
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError("load_state_dict: 'state' must be a dict keyed by parameter index")
        new_state = defaultdict(dict)
        for key, value in saved_state.items():
            if key not in id_map:
                raise ValueError(
                    f"load_state_dict: state for parameter index {key!r}, but the param groups "
                    f"only list indices {sorted(id_map)}")
            p = id_map[key]
            if not isinstance(value, dict):
                raise ValueError(f"load_state_dict: state[{key!r}] must be a dict")
            self._check_loaded_state(key, p, value)
            new_state[p] = {k: (v if k == "step" and not isinstance(v, np.ndarray)
                                else copy_state(v, p.data.dtype))
                            for k, v in value.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            g = {k: copy_state(v) for k, v in saved.items() if k != "params"}
            g["params"] = mine["params"]
            self._validate_group(g)
            new_groups.append(g)
        self.param_groups = new_groups
        self.state = new_state

    def _check_loaded_state(self, index, param, state):
        """Shape check: a per-parameter array must have its parameter's shape."""
        if not self._state_shapes_follow_params:
            return
        for k, v in state.items():
            arr = v.data if isinstance(v, Tensor) else v
            if isinstance(arr, np.ndarray) and arr.ndim > 0 and arr.shape != param.data.shape:
                raise ValueError(
                    f"load_state_dict: state '{k}' of parameter {index} has shape {arr.shape}, "
                    f"but the parameter has shape {param.data.shape}")

    # -- display ----------------------------------------------------------------

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


class PerParameterOptimizer(Optimizer):
    r"""The step template of the first-order optimisers (SGD, Adagrad, Adadelta,
    RMSprop, Adam, AdamW): each parameter is updated on its own.

    ``step(closure)`` evaluates the closure (if given), then for every parameter
    θ that has a gradient::

        g = ∇θ                  (−∇θ if the group's ``maximize``)
        g ← g + λ θ             (``weight_decay`` λ ≠ 0, the L2 penalty)
        θ ← θ (1 − lr · λ)      (instead, when ``_decoupled_weight_decay``: AdamW)

    creates θ's state on first use (``_init_state``), counts ``state['step']``
    (when the state has one; SGD keeps none, as PyTorch) and calls
    ``_update(p, g, state, group)``, the method's own rule, which writes
    ``p.data`` in place. ``g`` may be the gradient's own array: rules never
    modify it.

    A rule that a compiled step should record (SGD, Adam, AdamW) is instead
    ``_rule(x, g, state, group, k)``, written once for arrays and for Tensors
    (in-place operators and ``clone_state``/``sqrt``/``maximum_``/``assign_``),
    with its floats ``k`` from ``_scalars(state, group)`` and its choices in
    ``_structure(group)``; the class sets ``_traceable = True``. Eagerly it
    runs on ``p.data`` with Python floats; inside ``ag.compile`` on ``p`` with
    0-d Tensors the host call ``_book`` fills on every call (docs/design.md,
    "The optimiser inside the program").

        >>> from optim.optimizer import PerParameterOptimizer
        >>> class SignSGD(PerParameterOptimizer):               # only the rule is new
        ...     def __init__(self, params, lr=0.1, weight_decay=0):
        ...         super().__init__(params, dict(lr=lr, weight_decay=weight_decay))
        ...     def _update(self, p, g, state, group):
        ...         p.data -= group["lr"] * np.sign(g)
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> (w ** 2).sum().backward()
        >>> SignSGD([w]).step()
        >>> w
        Tensor([ 0.9, -1.9], dtype=float32, requires_grad=True)
    """

    _decoupled_weight_decay = False
    # True where ``_rule`` is written once for arrays and for Tensors: a compiled
    # step then records the update as tensor ops (``_traced_step``) instead of
    # calling ``step`` as an opaque host call.
    _traceable = False
    # The scalars of ``_scalars`` that depend on the parameter's own state (its
    # step count); the others are the group's, shared by its parameters.
    _stepwise_scalars = ()

    def _init_state(self, p, group):
        """The fresh per-parameter state (a dict) of parameter ``p``."""
        return {}

    def _update(self, p, g, state, group):
        """The method's rule: change ``p.data`` in place, given the gradient ``g``."""
        if not self._traceable:
            raise NotImplementedError
        self._rule(p.data, g, state, group, self._scalars(state, group))

    def _rule(self, x, g, state, group, k):
        """The rule of a traceable optimiser, for arrays (eager: ``x`` is ``p.data``,
        ``state`` holds arrays, ``k`` Python floats) and for Tensors (traced: ``x`` is
        ``p``, ``state`` holds Tensors over the state arrays, ``k`` 0-d Tensors of the
        parameter's dtype, which round as NumPy rounds a Python float against an
        array of that dtype). In-place operators only, on ``x`` and on ``state``."""
        raise NotImplementedError

    def _scalars(self, state, group):
        """The Python floats ``_rule`` reads this step, by name."""
        return {"lr": group["lr"]}

    def _structure(self, group):
        """The choices of ``group`` that decide which operations ``_rule`` performs
        (a compiled step is traced again when they change; the numbers are read
        from ``_scalars`` on every call)."""
        return (group.get("maximize", False), group.get("weight_decay", 0) != 0)

    @staticmethod
    def _regularise(x, g, maximize, weight_decay, decoupled, decay):
        """g negated if ``maximize``; then the L2 term g + λx, or (decoupled, AdamW)
        x ← x·decay with decay = 1 − lr·λ, in place. ``weight_decay`` is λ, or None
        when λ = 0 (arrays and Python floats, or Tensors)."""
        if maximize:
            g = -g
        if weight_decay is not None:
            if decoupled:
                x *= decay
            else:
                g = g + weight_decay * x
        return g

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        if self._traceable and is_tracing():
            return self._traced_step(closure)
        return self._eager_step(closure)

    step.__records_itself__ = True

    @host_call
    def _eager_step(self, closure=None):
        loss = self._eval_closure(closure)
        decoupled = self._decoupled_weight_decay
        for group in self.param_groups:
            maximize = group.get("maximize", False)
            wd = group.get("weight_decay", 0)
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = np.asarray(p.grad.data, dtype=p.data.dtype)
                if maximize or wd != 0:
                    g = self._regularise(p.data, g, maximize, wd if wd != 0 else None,
                                         decoupled, 1 - group["lr"] * wd)
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                if "step" in state:
                    state["step"] += 1
                self._update(p, g, state, group)
        return loss

    # -- inside a compiled step -------------------------------------------------

    def _traced_step(self, closure):
        """The step as tensor ops under ``no_grad``, recorded by the compiler's
        tracer, so that a replay recomputes the update (see docs/design.md,
        "The optimiser inside the program"). What is not an array operation --
        the step counts and the floats of ``_scalars`` (learning rate, bias
        corrections), which change from call to call -- is one host call,
        ``_book``, that writes the floats into 0-d arrays the program reads.
        A ``guard`` makes the state's existence (and the arrays holding it) part
        of the program's signature: the first step, which creates the state,
        is traced again once the state exists."""
        loss = self._eval_closure(closure)
        guard(self._state_signature)
        entries, plan = [], {}
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    with untraced():          # exactly eager's fresh state
                        state.update(self._init_state(p, group))
                dtype = p.dtype
                booked = plan.get((id(group), dtype.str))
                if booked is None:    # (group, the group's 0-d arrays, dtype, [(p, p's)])
                    booked = plan[id(group), dtype.str] = (group, {}, dtype, [])
                arrays = {}
                booked[3].append((p, arrays))
                entries.append((group, p, arrays, booked[1], dtype))
        self._book(list(plan.values()))
        decoupled = self._decoupled_weight_decay
        over = {}          # one Tensor over each array (no copy: in-place ops write into it)

        def tensor_over(a):
            t = over.get(id(a))
            if t is None:
                t = over[id(a)] = wrap(a)
            return t

        with no_grad():
            for group, p, arrays, group_arrays, dtype in entries:
                k = {name: tensor_over(a) for name, a in {**group_arrays, **arrays}.items()}
                state = self.state[p]
                tensors = {key: tensor_over(v) for key, v in state.items()
                           if v.__class__ is np.ndarray}
                g = p.grad
                if g.dtype != dtype:
                    g = g.to(dtype)
                wd = group.get("weight_decay", 0) != 0
                g = self._regularise(p, g, group.get("maximize", False),
                                     k["weight_decay"] if wd else None, decoupled,
                                     k["decay"] if wd and decoupled else None)
                self._rule(p, g, tensors, group, k)
                for key, t in tensors.items():      # state created by the rule (SGD's buffer)
                    if key not in state:
                        state[key] = np.array(t._d, dtype=dtype, copy=True)
        return loss

    def _traced_scalars(self, state, group):
        """``_scalars`` and, when the group decays weights, λ and 1 − lr·λ."""
        k = self._scalars(state, group)
        wd = group.get("weight_decay", 0)
        if wd != 0:
            k["weight_decay"] = wd
            k["decay"] = 1 - group["lr"] * wd
        return k

    @host_call
    def _book(self, plan):
        """Count the steps and write this step's floats into the 0-d arrays the
        compiled program reads (created, with the parameter's dtype, on the
        traced call): per group and dtype ``(group, its arrays, dtype, [(p, p's
        arrays), ...])``, the group's floats once, those of ``_stepwise_scalars``
        per parameter."""
        stepwise = self._stepwise_scalars
        for group, group_arrays, dtype, params in plan:
            for i, (p, arrays) in enumerate(params):
                state = self.state[p]
                if "step" in state:
                    state["step"] += 1
                if i and not stepwise:
                    continue
                for name, value in self._traced_scalars(state, group).items():
                    where = arrays if name in stepwise else group_arrays
                    if i and where is group_arrays:
                        continue
                    a = where.get(name)
                    if a is None:
                        where[name] = np.array(value, dtype=dtype)
                    else:
                        a[()] = value

    def _state_signature(self):
        """What a traced step's program depends on beyond the tensors: the groups
        (their identity and ``_structure``), and per parameter whether its state
        exists and which arrays hold it."""
        key, get, ndarray = [], self.state.get, np.ndarray     # (runs before every replay)
        for group in self.param_groups:
            key.append((id(group), self._structure(group)))
            for p in group["params"]:
                s = get(p)
                key.append(id(p))
                key.append([id(v) for v in s.values() if v.__class__ is ndarray] if s else None)
        return key


_LINE_SEARCHES = {"strong_wolfe": strong_wolfe, "backtracking": backtracking}


class FlatStateOptimizer(Optimizer):
    """Base for optimisers that keep one global state over the flattened
    parameters (stored, as in PyTorch's LBFGS, under the first parameter).

    They allow a single parameter group; loaded flat arrays must have the total
    number of parameter elements. The helpers below are what all of them do
    with a closure: evaluate it (loss and flat gradient), evaluate it at
    x + t·d and come back to x, and run a line search along d.

        >>> from optim.optimizer import FlatStateOptimizer
        >>> w = ag.zeros(2, requires_grad=True)
        >>> isinstance(optim.LBFGS([w]), FlatStateOptimizer)
        True
        >>> optim.LBFGS([{"params": [w]}, {"params": [ag.zeros(1, requires_grad=True)]}])
        Traceback (most recent call last):
            ...
        ValueError: LBFGS doesn't support per-parameter options (parameter groups)
    """

    _state_shapes_follow_params = False
    _square_state_keys = ()          # state arrays that are n×n (BFGS's H, SR1's B)

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"{type(self).__name__} doesn't support per-parameter options "
                f"(parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        """Add the one parameter group (as ``Optimizer.add_param_group``); a
        second group raises ValueError: these optimisers have a single group."""
        if self.param_groups:
            raise ValueError(
                f"{type(self).__name__} doesn't support per-parameter options "
                f"(parameter groups)")
        super().add_param_group(param_group)

    def load_state_dict(self, state_dict):
        """Load a state dict made by ``state_dict()`` (as
        ``Optimizer.load_state_dict``); its flat arrays must have the total
        number of parameter elements (n, or n×n for a matrix such as BFGS's H)."""
        super().load_state_dict(state_dict)
        self._params = self.param_groups[0]["params"]

    def _numel(self):
        return sum(p.data.size for p in self._params)

    def _check_loaded_state(self, index, param, state):
        n = self._numel()
        square = self._square_state_keys

        def check(k, arr):
            if not isinstance(arr, np.ndarray) or arr.ndim == 0:
                return
            if k in square:
                ok = arr.shape == (n, n)
                want = (n, n)
            else:
                ok = arr.ndim == 1 and arr.shape[0] == n
                want = (n,)
            if not ok:
                raise ValueError(
                    f"load_state_dict: state '{k}' of {type(self).__name__} has shape "
                    f"{arr.shape}, but the parameters have {n} elements in all "
                    f"(expected {want})")

        for k, v in state.items():
            if isinstance(v, (list, tuple)):
                for x in v:
                    check(k, x.data if isinstance(x, Tensor) else x)
            else:
                check(k, v.data if isinstance(v, Tensor) else v)

    def _require_closure(self, closure):
        if closure is None or not callable(closure):
            raise TypeError(
                f"{type(self).__name__}.step() needs a closure: a function that zeroes the "
                f"gradients, recomputes the loss, calls loss.backward() and returns the loss")

    def _count_step(self, state, evals, **figures):
        """Book one step in ``state``: ``n_iter`` + 1, ``func_evals`` + ``evals``,
        and the step's own figures (damping, step size, ...)."""
        state["n_iter"] += 1
        state["func_evals"] += evals
        state.update(figures)

    def _evaluate(self, closure):
        """(float loss, flat gradient) at the current parameters (one closure call)."""
        loss = float(call_closure(closure))
        return loss, gather_flat_grad(self._params)

    def _snapshot(self):
        """Copies of the parameters' arrays, for ``_restore``."""
        return [p.data.copy() for p in self._params]

    def _restore(self, snapshot):
        for p, value in zip(self._params, snapshot):
            p.data[...] = value

    def _along(self, x, t, d, evaluate):
        """``evaluate()`` at the point x + t·d, where the parameters now are at x
        (a ``_snapshot``); the parameters are left at x."""
        add_flat_(self._params, t, d)
        try:
            return evaluate()
        finally:
            self._restore(x)

    def _line_search(self, closure, kind, t, d, loss, flat_grad, gtd, max_ls=25):
        """Run the line search ``kind`` ('strong_wolfe' or 'backtracking') along d
        from the current parameters, starting at step t. Returns (loss,
        flat_grad, t, closure calls) at the accepted step; the parameters are
        left unchanged (the caller moves them)."""
        x0 = self._snapshot()

        def along_ray(x, t_, d_):
            return self._along(x, t_, d_, lambda: self._evaluate(closure))

        return _LINE_SEARCHES[kind](along_ray, x0, t, d, loss, flat_grad, gtd, max_ls=max_ls)
