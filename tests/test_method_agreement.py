"""Module functions and Tensor methods agree, and every axis takes both spellings.

``x.exp()`` is ``ag.exp(x)``: every public Tensor method that is not a
property, a dunder or an in-place method (``_`` at the end) has a module
function of the same name taking the same arguments after the tensor, and
every module function of ``ag.ops`` is a method, except for the two short
lists below, each entry with its reason. Names are enumerated, so an op added
later without its other half fails here.
"""
import inspect
import types

import pytest

import autograd_core as ag
import nn.functional as F
from autograd_core import Tensor

# Methods without a module function, as in PyTorch (checked below against torch).
METHOD_ONLY = {
    # the tensor's own machinery, and conversion to Python or NumPy objects
    "backward", "retain_grad", "item", "tolist", "numpy",
    # casts named after a dtype: at module level these names ARE dtypes (ag.float is float32)
    "float", "double", "half", "long", "int", "short", "char", "byte", "bool", "cfloat", "cdouble",
    # moves between dtypes, devices and layouts (ag.cuda is a module, as torch.cuda)
    "to", "type", "type_as", "cpu", "cuda", "contiguous", "is_contiguous",
    # factories that take self's dtype
    "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor",
    # questions about self answered by attributes at module level (x.ndim, x.dtype.itemsize)
    "dim", "ndimension", "nelement", "element_size",
}

# Module functions without a method (checked below against torch.Tensor).
_ACTIVATIONS = ("celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid",
                "mish", "relu6", "selu", "silu", "softplus", "softsign")
FUNCTION_ONLY = {
    "cat": "its first argument is a sequence of tensors",
    "concatenate": "its first argument is a sequence of tensors",
    "stack": "its first argument is a sequence of tensors",
    "einsum": "its first argument is the equation",
    "linear": "a layer's op (torch.nn.functional.linear), not a method in torch either",
    "tensordot": "a function of two equal operands, not a method in torch either",
    "std_mean": "a function only in torch too (torch.std_mean)",
    "var_mean": "a function only in torch too (torch.var_mean)",
    "getitem": "the method is __getitem__ (x[index])",
    "power": "NumPy's name, for np.power; the method is pow",
    "is_tensor": "a question about any object, which need not be a tensor",
    **{name: "its first argument is a sequence of tensors (torch has no such method either)"
       for name in ("column_stack", "concat", "dstack", "hstack", "row_stack", "vstack")},
    **{name: "a function in torch too (torch.atleast_1d etc. are not Tensor methods)"
       for name in ("atleast_1d", "atleast_2d", "atleast_3d")},
    "expand_dims": "NumPy's name, for np.expand_dims; the method is unsqueeze",
    "matrix_transpose": "NumPy's name, for np.matrix_transpose; the property is mT",
    "pad": "torch.nn.functional.pad, not a Tensor method in torch either",
    **{name: "an activation of torch.nn.functional, not a Tensor method in torch"
       for name in _ACTIVATIONS},
}

# Methods whose arguments differ from the module function's, as in torch.
DIFFERENT_ARGUMENTS = {
    "where": "x.where(condition, y) is where(condition, x, y): the condition comes first there",
}


def _public_methods():
    """{name: the function in the class} of Tensor's public, non-in-place methods."""
    out = {}
    for klass in reversed(Tensor.__mro__[:-1]):
        for name, value in vars(klass).items():
            if name.startswith("_") or name.endswith("_"):
                continue
            if isinstance(value, (property, staticmethod, classmethod)) or not callable(value):
                continue
            out[name] = value
    return out


def _module_function(name):
    f = getattr(ag, name, None)
    if f is None or isinstance(f, (type, types.ModuleType)) or not callable(f):
        return None
    return f


def _params_after_first(fn):
    params = list(inspect.signature(fn).parameters.values())
    assert params and params[0].kind in (params[0].POSITIONAL_ONLY,
                                         params[0].POSITIONAL_OR_KEYWORD), \
        f"{fn.__qualname__}: the tensor must come first"
    return [(p.name, p.kind, p.default) for p in params[1:]]


METHODS = _public_methods()
PAIRED = sorted(set(METHODS) - METHOD_ONLY)


@pytest.mark.parametrize("name", PAIRED)
def test_a_method_is_the_module_function_or_takes_its_arguments(name):
    method, function = METHODS[name], _module_function(name)
    assert function is not None, (
        f"Tensor.{name} has no module function ag.{name}: add it to ag.ops (or, if PyTorch "
        f"has it only as a method, to METHOD_ONLY with the reason)")
    if method is not function and name not in DIFFERENT_ARGUMENTS:
        assert _params_after_first(method) == _params_after_first(function), \
            f"Tensor.{name} and ag.{name} take different arguments"


def _op_functions():
    return sorted(n for n in ag.ops.__all__
                  if callable(getattr(ag.ops, n)) and not isinstance(getattr(ag.ops, n), type))


@pytest.mark.parametrize("name", _op_functions())
def test_a_module_function_is_a_method(name):
    if name in FUNCTION_ONLY:
        assert not hasattr(Tensor, name), f"{name} is a method now: drop it from FUNCTION_ONLY"
        return
    assert name in METHODS, (f"ag.{name} has no Tensor method: add `{name} = ops.{name}` to "
                             f"Tensor (or to FUNCTION_ONLY with the reason)")
    assert METHODS[name] is getattr(ag.ops, name) or name in DIFFERENT_ARGUMENTS or \
        _params_after_first(METHODS[name]) == _params_after_first(getattr(ag.ops, name))


def test_the_exceptions_are_current():
    assert METHOD_ONLY <= set(METHODS), sorted(METHOD_ONLY - set(METHODS))
    for name in METHOD_ONLY:
        assert _module_function(name) is None, f"ag.{name} exists: drop it from METHOD_ONLY"
    assert set(FUNCTION_ONLY) <= set(_op_functions())
    for name in DIFFERENT_ARGUMENTS:
        assert METHODS[name] is not _module_function(name), name


def test_the_exceptions_follow_pytorch():
    torch = pytest.importorskip("torch")
    functions = (types.FunctionType, types.BuiltinFunctionType)
    for name in METHOD_ONLY:
        assert hasattr(torch.Tensor, name), name
        assert not isinstance(getattr(torch, name, None), functions), \
            f"torch.{name} is a function: ag.{name} should be one too"
    for name in FUNCTION_ONLY:
        assert not hasattr(torch.Tensor, name), f"torch.Tensor.{name} exists: make it a method"
    for name in DIFFERENT_ARGUMENTS:
        assert hasattr(torch.Tensor, name) and callable(getattr(torch, name, None)), name


def test_the_paired_names_are_pytorch_tensor_methods_where_torch_has_them():
    torch = pytest.importorskip("torch")
    numpy_only = {"astype", "clip", "maximum", "minimum"} - set(dir(torch.Tensor))
    missing = [n for n in PAIRED if not hasattr(torch.Tensor, n) and n not in numpy_only]
    assert not missing, f"methods that are neither torch's nor NumPy's: {missing}"


# ---------------------------------------------------------------- both spellings

# An argument named on the left must come with one named on the right: dims is torch's
# plural (flip, roll; tensordot's NumPy name is axes); keepdim and keepdims go together.
_SPELLINGS = (("axis", ("dim", "dims")), ("dim", ("axis",)), ("dims", ("axis", "axes")),
              ("keepdim", ("keepdims",)), ("keepdims", ("keepdim",)))


def _axis_functions():
    for module, names in ((ag.ops, ag.ops.__all__), (F, F.__all__)):
        for name in names:
            fn = getattr(module, name)
            if inspect.isfunction(fn):
                params = inspect.signature(fn).parameters
                if any(given in params for given, _ in _SPELLINGS):
                    yield f"{module.__name__}.{name}", params


@pytest.mark.parametrize("qualname,params", list(_axis_functions()),
                         ids=[q for q, _ in _axis_functions()])
def test_every_axis_argument_takes_both_spellings(qualname, params):
    if qualname.endswith(".tile"):
        return  # tile's dims are repetition counts (NumPy's reps), not axes
    for given, others in _SPELLINGS:
        if given in params:
            assert any(o in params for o in others), (
                f"{qualname} takes {given}= but not {' or '.join(o + '=' for o in others)}")
