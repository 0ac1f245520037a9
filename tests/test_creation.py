"""Creation functions and dtype rules, as in PyTorch: sizes, dtypes, memory
sharing, errors, and the distributions of the random ones (by moments)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core import Tensor

from .strategies import shapes


@pytest.fixture(autouse=True)
def _restore_defaults():
    state, default = ag.get_rng_state(), ag.get_default_dtype()
    yield
    ag.set_rng_state(state)
    ag.set_default_dtype(default)


def torch_or_skip():
    return pytest.importorskip("torch")


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


# ---------------------------------------------------------------- dtypes

def test_dtype_names_are_numpy_types():
    assert ag.float32 is np.float32 and ag.float64 is np.float64 and ag.float16 is np.float16
    assert ag.int32 is np.int32 and ag.int64 is np.int64 and ag.long is np.int64
    assert ag.bool is np.bool_
    assert ag.zeros(2, dtype=ag.long).dtype == ag.int64
    assert np.zeros(2, dtype=ag.float16).dtype == np.float16   # usable by NumPy too
    assert "bool" not in ag.__all__                                # no shadowing on import *


def test_default_dtype():
    assert ag.get_default_dtype() is ag.float32
    assert Tensor([1.5]).dtype == np.float64                        # the constructor: NumPy
    ag.set_default_dtype(ag.float64)
    assert ag.get_default_dtype() is ag.float64
    for t in (ag.tensor([1.5]), ag.zeros(2), ag.rand(2), ag.arange(0.5, 2), ag.full((1,), 2.0),
              ag.linspace(0, 1, 3), ag.eye(2)):
        assert t.dtype == np.float64
    assert ag.tensor(1j).dtype == np.complex128
    assert ag.tensor([1]).dtype == np.int64
    ag.set_default_dtype("float16")
    assert ag.ones(1).dtype == np.float16
    with pytest.raises(TypeError, match="only floating-point types"):
        ag.set_default_dtype(ag.int64)
    with pytest.raises(TypeError, match="set_default_dtype: d must be"):
        ag.set_default_dtype(None)


@pytest.mark.parametrize("data, expected", [
    (1, "int64"), (1.5, "float32"), (True, "bool"), (1 + 2j, "complex64"),
    ([1, 2], "int64"), ([1, 2.5], "float32"), ([True, False], "bool"), ([True, 2], "int64"),
    ([], "float32"), ([[1, 2], [3, 4]], "int64"), ([[1.0], [2]], "float32"),
    (np.float64(1.0), "float64"), (np.float32(1.0), "float32"), (np.int32(3), "int32"),
    ([np.float64(1.0), 2], "float64"), ([np.int32(1), 2], "int64"),
    ([np.int32(1), np.int32(2)], "int32"), ([np.float32(1.0), 1], "float32"),
    ([np.int64(1), 2.5], "float32"), ([np.float16(1.0), np.int16(1)], "float16"),
    (np.array([1, 2], dtype=np.int32), "int32"), (np.array([1.0]), "float64"),
    ([np.array([1.0, 2.0]), np.array([3.0, 4.0])], "float64"),
    (np.zeros(3, dtype=np.uint8), "uint8"), ((1, 2.0), "float32"),
])
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_tensor_infers_dtypes_as_pytorch(data, expected):
    assert str(ag.tensor(data).dtype) == expected
    assert str(ag.as_tensor(data).dtype) == expected
    torch = pytest.importorskip("torch")
    assert torch_dtype_name(torch.tensor(data)) == expected


def test_tensor_of_tensors_and_of_a_tensor():
    t = ag.tensor([ag.tensor(1.0), ag.tensor(2.0)])
    assert t.dtype == np.float32 and t.shape == (2,)
    assert ag.tensor([ag.tensor(1.0, dtype=ag.float64), 2.0]).dtype == np.float64
    src = ag.ones(3, requires_grad=True)
    copy = ag.tensor(src)
    assert copy.dtype == src.dtype and not copy.requires_grad and copy.is_leaf
    copy.data[0] = 5
    assert src.data[0] == 1                                         # a copy


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_tensor_of_another_librarys_array_keeps_its_dtype():
    torch = pytest.importorskip("torch")
    t = ag.tensor(torch.ones(2, dtype=torch.float64))
    assert t.dtype == np.float64 and t.data.tolist() == [1.0, 1.0]
    assert ag.tensor([torch.tensor(1), 2]).dtype == np.int64


def test_tensor_copies_and_requires_grad():
    a = np.zeros(3)
    t = ag.tensor(a, requires_grad=True)
    a[0] = 7
    assert t.data[0] == 0 and t.requires_grad and t.is_leaf
    (t * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2, 2, 2])
    assert ag.tensor([1.7, -1.7], dtype=ag.int64).data.tolist() == [1, -1]   # truncates


@pytest.mark.parametrize("call, error, match", [
    (lambda: ag.tensor([1, 2], requires_grad=True), TypeError, "tensor: only floating-point"),
    (lambda: ag.tensor([[1, 2], [3]]), ValueError, "tensor: data is ragged"),
    (lambda: ag.tensor("a"), TypeError, "tensor: could not infer the dtype of str"),
    (lambda: ag.tensor(None), TypeError, "could not infer the dtype of NoneType"),
    (lambda: ag.tensor([1, {}]), TypeError, "could not infer the dtype of dict"),
    (lambda: ag.tensor(np.array(["a"])), TypeError, "dtype <U1"),
    (lambda: ag.tensor([1], dtype="floatt"), TypeError, "tensor: dtype must be a numeric dtype"),
    (lambda: ag.tensor([1], dtype=object), TypeError, "tensor: dtype must be a numeric dtype"),
    (lambda: ag.tensor(1.0, device="cuda"), ValueError, "tensor: device 'cuda'"),
    (lambda: ag.tensor([2 ** 70]), ValueError, "tensor: a value does not fit in dtype int64"),
])
def test_tensor_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(4.0)
    t = ag.from_numpy(a)
    assert t.data is a and t.dtype == np.float64
    a[0] = 10
    assert t.data[0] == 10
    t.data[1] = 20
    assert a[1] == 20
    z = np.array(3.0)
    tz = ag.from_numpy(z)
    z[...] = 4.0
    assert tz.item() == 4.0
    with pytest.raises(TypeError, match="from_numpy: expected an np.ndarray, got list"):
        ag.from_numpy([1, 2])
    with pytest.raises(TypeError, match="from_numpy: cannot make a tensor from an array of dtype"):
        ag.from_numpy(np.array(["x"]))


def test_as_tensor_copies_only_when_needed():
    t = ag.randn(3, requires_grad=True)
    assert ag.as_tensor(t) is t and ag.as_tensor(t, dtype=ag.float32) is t
    cast = ag.as_tensor(t, dtype=ag.float64)
    assert cast.dtype == np.float64 and cast.requires_grad      # a differentiable cast
    cast.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.ones(3, np.float32))
    a = np.zeros(3, dtype=np.float32)
    assert ag.as_tensor(a).data is a and ag.as_tensor(a, ag.float32).data is a
    b = ag.as_tensor(a, dtype=ag.float64)
    assert b.dtype == np.float64 and b.data is not a
    assert ag.as_tensor([1.0, 2]).dtype == np.float32 and ag.as_tensor(3).dtype == np.int64
    with pytest.raises(TypeError, match="as_tensor: could not infer the dtype of object"):
        ag.as_tensor(object())


def test_internal_imports_of_the_tensor_module_still_work():
    from autograd_core._tensor import Tensor as T  # the module that defines the class
    assert T is Tensor and callable(ag.tensor) and ag.tensor(1).dtype == np.int64


# ---------------------------------------------------------------- sizes and filled tensors

@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_conventions(fn):
    f = getattr(ag, fn)
    for t in (f(2, 3), f((2, 3)), f([2, 3]), f(size=(2, 3)), f(np.int64(2), 3),
              f(ag.tensor(2), 3)):
        assert t.shape == (2, 3) and t.dtype == np.float32
    assert f(4).shape == (4,) and f(()).shape == () and f(0, 2).shape == (0, 2)
    assert f(size=3).shape == (3,)
    assert f(2, dtype=ag.float64, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match=f"{fn}\\(\\) missing the size"):
        f()
    with pytest.raises(TypeError, match=f"{fn}: size must be ints"):
        f(2.0)
    with pytest.raises(TypeError, match=f"{fn}: size must be ints"):
        f((2, "3"))
    with pytest.raises(ValueError, match=f"{fn}: sizes must be non-negative"):
        f(2, -1)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        f(2, size=(2,))


@settings(max_examples=25, deadline=None)
@given(shape=shapes(max_dims=4), fn=st.sampled_from(["zeros", "ones", "rand", "randn", "empty"]))
def test_shapes_match_pytorch(shape, fn):
    assert getattr(ag, fn)(*shape).shape == shape if shape else getattr(ag, fn)(()).shape == ()
    torch = pytest.importorskip("torch")
    t = getattr(torch, fn)(shape)
    assert tuple(t.shape) == getattr(ag, fn)(shape).shape
    assert torch_dtype_name(t) == str(getattr(ag, fn)(shape).dtype)


def test_zeros_ones_full_values_and_dtypes():
    np.testing.assert_array_equal(ag.zeros(2, 2).data, np.zeros((2, 2)))
    np.testing.assert_array_equal(ag.ones(3, dtype=ag.int32).data, [1, 1, 1])
    assert ag.ones(3, dtype=ag.int32).dtype == np.int32
    assert ag.full((2,), 1).dtype == np.int64
    assert ag.full((2,), True).dtype == np.bool_
    assert ag.full((2,), 1.5).dtype == np.float32
    assert ag.full((2,), np.float64(1.5)).dtype == np.float32      # the kind decides, as torch
    assert ag.full((2,), 1j).dtype == np.complex64
    assert ag.full(3, 2.0).shape == (3,)
    assert ag.full((2, 2), 7, dtype=ag.float64).data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    with pytest.raises(TypeError, match="full: fill_value must be a number"):
        ag.full((2,), "x")
    with pytest.raises(ValueError, match="full: fill_value 300 does not fit in dtype uint8"):
        ag.full((2,), 300, dtype=ag.uint8)
    with pytest.raises(TypeError, match="zeros: only floating-point tensors can require"):
        ag.zeros(2, dtype=ag.int64, requires_grad=True)


def test_like_functions():
    x = ag.tensor([[1, 2, 3]], dtype=ag.float64)
    for f in (ag.zeros_like, ag.ones_like, ag.empty_like, ag.rand_like, ag.randn_like):
        t = f(x)
        assert t.shape == (1, 3) and t.dtype == np.float64
        assert f(x.data).shape == (1, 3)                              # arrays too
        assert f(x, dtype=ag.float32).dtype == np.float32
        assert f(x, requires_grad=True).requires_grad
    np.testing.assert_array_equal(ag.ones_like(x).data, np.ones((1, 3)))
    ints = ag.tensor([1, 2])
    assert ag.full_like(ints, 2.7).data.tolist() == [2, 2]           # cast to the input's dtype
    assert ag.full_like(ints, 2.7, dtype=ag.float32).data.tolist() == pytest.approx([2.7, 2.7])
    assert ag.zeros_like(ints).dtype == np.int64
    with pytest.raises(TypeError, match="rand_like: dtype must be a floating-point type"):
        ag.rand_like(ints)
    with pytest.raises(TypeError, match="zeros_like: input must be a Tensor or an ndarray"):
        ag.zeros_like([1, 2])
    r = ag.randint_like(ints, 10)
    assert r.dtype == np.int64 and r.shape == (2,) and np.all((0 <= r.data) & (r.data < 10))
    r = ag.randint_like(x, 3, 5)
    assert r.dtype == np.float64 and set(r.data.ravel()) <= {3.0, 4.0}


def test_eye():
    np.testing.assert_array_equal(ag.eye(3).data, np.eye(3))
    assert ag.eye(2, 3).shape == (2, 3) and ag.eye(2).dtype == np.float32
    assert ag.eye(2, dtype=ag.int64).dtype == np.int64
    with pytest.raises(ValueError, match="eye: n must be non-negative"):
        ag.eye(-1)
    with pytest.raises(TypeError, match="eye: m must be an int"):
        ag.eye(2, 1.5)


@pytest.mark.parametrize("args, kwargs", [
    ((5,), {}), ((1, 4), {}), ((0, 5, 0.5), {}), ((1.0, 4), {}), ((5, 0, -1), {}),
    ((0, 1, 0.1), {}), ((0, 0), {}), ((-3, 3, 2), {}), ((0, 5), {"dtype": "float64"}),
    ((0, 2.5, 1), {"dtype": "int64"}), ((0.5, 3), {"dtype": "int64"}), ((np.int32(5),), {}),
    ((10,), {"dtype": "float16"}),
])
def test_arange_matches_pytorch(args, kwargs):
    ours = ag.arange(*args, **kwargs)
    if "dtype" not in kwargs:
        assert ours.shape == np.arange(*args).shape
    torch = pytest.importorskip("torch")
    theirs = torch.arange(*args, **{k: getattr(torch, v) for k, v in kwargs.items()})
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == torch_dtype_name(theirs)
    np.testing.assert_allclose(ours.data.astype(float), theirs.double().numpy(), rtol=1e-6)


def test_arange_errors_and_tensor_arguments():
    assert ag.arange(ag.tensor(4)).data.tolist() == [0, 1, 2, 3]
    assert ag.arange(end=3).data.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        ag.arange(0, 5, 0)
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        ag.arange(5, 0)
    with pytest.raises(TypeError, match="arange: end must be a number"):
        ag.arange(0, "5")


@pytest.mark.parametrize("args, kwargs", [
    ((0, 1, 5), {}), ((0, 10, 4), {"dtype": "int64"}), ((0, 1, 1), {}), ((0, 1, 0), {}),
    ((-2.5, 7, 11), {"dtype": "float64"}), ((3, -3, 6), {}),
])
def test_linspace_matches_pytorch(args, kwargs):
    ours = ag.linspace(*args, **kwargs)
    assert ours.shape == (args[2],)
    torch = pytest.importorskip("torch")
    theirs = torch.linspace(*args, **{k: getattr(torch, v) for k, v in kwargs.items()})
    assert str(ours.dtype) == torch_dtype_name(theirs)
    np.testing.assert_allclose(ours.data.astype(float), theirs.double().numpy(), rtol=1e-6,
                               atol=1e-6)


def test_linspace_and_logspace_errors():
    with pytest.raises(ValueError, match="linspace: steps must be non-negative"):
        ag.linspace(0, 1, -1)
    with pytest.raises(TypeError):
        ag.linspace(0, 1)                                            # steps is required
    np.testing.assert_allclose(ag.logspace(0, 2, 3).data, [1, 10, 100], rtol=1e-6)
    np.testing.assert_allclose(ag.logspace(0, 3, 4, base=2).data, [1, 2, 4, 8], rtol=1e-6)


# ---------------------------------------------------------------- random: moments

N = 200_000
SE = 1 / math.sqrt(N)     # standard errors below are multiples of σ/√N


def assert_mean_var(x, mean, var, k=5):
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    assert abs(x.mean() - mean) < k * math.sqrt(var / n)
    # var of the sample variance ≈ (μ4 − σ⁴)/n; μ4 ≤ 3σ⁴ for the laws used here
    assert abs(x.var() - var) < k * math.sqrt(2 * var ** 2 / n) * 1.3


def test_rand_and_randn_moments():
    ag.manual_seed(0)
    u = ag.rand(N)
    assert u.dtype == np.float32 and u.data.min() >= 0 and u.data.max() < 1
    assert_mean_var(u.data, 0.5, 1 / 12)
    z = ag.randn(N, dtype=ag.float64)
    assert z.dtype == np.float64
    assert_mean_var(z.data, 0.0, 1.0)
    h = ag.rand(N, dtype=ag.float16)
    assert h.dtype == np.float16 and h.data.max() < 1
    assert_mean_var(h.data, 0.5, 1 / 12)
    assert_mean_var(ag.randn(N, dtype=ag.float16).data, 0.0, 1.0)


def test_normal_overloads_and_moments():
    ag.manual_seed(1)
    x = ag.normal(3.0, 2.0, (N,))
    assert x.dtype == np.float32
    assert_mean_var(x.data, 3.0, 4.0)
    mean = ag.tensor([[-5.0], [5.0]])                                 # (2, 1), float32
    std = ag.tensor([1.0, 0.5, 2.0], dtype=ag.float64)               # (3,)
    y = ag.normal(mean, std)
    assert y.shape == (2, 3) and y.dtype == np.float32               # mean's dtype, as torch
    assert ag.normal(0.0, std).dtype == np.float64                   # else std's
    y = ag.normal(mean, std, dtype=ag.float64)
    many = np.stack([ag.normal(mean, std).data for _ in range(4000)])
    np.testing.assert_allclose(many.mean(0), np.broadcast_to(mean.data, (2, 3)),
                               atol=5 * 2.0 / math.sqrt(4000))
    np.testing.assert_allclose(many.std(0), np.broadcast_to(std.data, (2, 3)), rtol=0.06)
    assert ag.normal(ag.zeros(4), 1.0).shape == (4,)
    assert ag.normal(0.0, ag.ones(2, 2)).shape == (2, 2)
    torch = pytest.importorskip("torch")
    for m, s in ((ag.zeros(2, 1), ag.ones(3, dtype=ag.float64)),
                 (ag.zeros(2, dtype=ag.float64), ag.ones(2)), (0.0, ag.ones(2, dtype=ag.float64))):
        ours = ag.normal(m, s)
        theirs = torch.normal(torch.from_numpy(m.data) if isinstance(m, Tensor) else m,
                              torch.from_numpy(s.data))
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == torch_dtype_name(theirs)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ag.normal(0.0, 1.0), TypeError, "normal: with a number mean and std, give the size"),
    (lambda: ag.normal(0.0, -1.0, (2,)), ValueError, "normal: std must be >= 0, got -1"),
    (lambda: ag.normal(ag.zeros(2), -ag.ones(2)), ValueError, "normal: std must be >= 0"),
    (lambda: ag.normal(ag.zeros(3), ag.ones(4)), ValueError, r"mean of shape \(3,\) and std"),
    (lambda: ag.normal(ag.zeros(3, dtype=ag.int64), 1.0), TypeError,
     "normal: mean must be floating-point"),
    (lambda: ag.normal(ag.zeros(3), 1.0, (3,)), TypeError, "normal: size is only allowed"),
])
def test_normal_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_randint():
    ag.manual_seed(2)
    r = ag.randint(3, 9, (N,))
    assert r.dtype == np.int64 and r.data.min() == 3 and r.data.max() == 8
    assert_mean_var(r.data, 5.5, (6 ** 2 - 1) / 12)
    for t in (ag.randint(5, (3,)), ag.randint(0, 5, size=(3,)), ag.randint(high=5, size=(3,)),
              ag.randint(2, high=5, size=(3,))):
        assert t.shape == (3,) and np.all((t.data >= 0) & (t.data < 5))
    f = ag.randint(5, (2, 2), dtype=ag.float32)
    assert f.dtype == np.float32 and np.all(f.data == np.round(f.data))
    b = ag.randint(0, 2, (10,), dtype=ag.bool)
    assert b.dtype == np.bool_


@pytest.mark.parametrize("call, error, match", [
    (lambda: ag.randint(5), TypeError, "randint\\(\\) needs high and size"),
    (lambda: ag.randint(5, 3), TypeError, "randint: size must be a tuple of ints, got int 3"),
    (lambda: ag.randint(5, 2, (3,)), ValueError, "randint: low must be less than high"),
    (lambda: ag.randint(0, 300, (3,), dtype=ag.uint8), ValueError, "does not fit in dtype uint8"),
    (lambda: ag.randint(5, (3,), requires_grad=True), TypeError, "randint: only floating-point"),
    (lambda: ag.randint(1, 2, 3, 4), TypeError, "randint\\(\\) takes"),
])
def test_randint_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_randperm():
    ag.manual_seed(3)
    p = ag.randperm(50)
    assert p.dtype == np.int64 and sorted(p.data.tolist()) == list(range(50))
    assert ag.randperm(0).shape == (0,)
    assert ag.randperm(4, dtype=ag.float32).dtype == np.float32
    # Each position is uniform over the values: position 0 over many permutations.
    firsts = np.array([ag.randperm(5).data[0] for _ in range(5000)])
    counts = np.bincount(firsts, minlength=5)
    assert np.all(np.abs(counts - 1000) < 5 * math.sqrt(5000 * 0.2 * 0.8))
    with pytest.raises(ValueError, match="randperm: n must be non-negative"):
        ag.randperm(-1)


def test_bernoulli_with_tensor_p():
    ag.manual_seed(4)
    p = ag.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=ag.float64)
    draws = np.stack([ag.bernoulli(p).data for _ in range(20000)])
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    se = np.sqrt(p.data * (1 - p.data) / 20000)
    assert np.all(np.abs(draws.mean(0) - p.data) <= 5 * se + 1e-12)
    assert draws[:, 0].sum() == 0 and draws[:, 4].min() == 1
    q = ag.bernoulli(ag.zeros(N), 0.3)                     # a number p: input gives shape/dtype
    assert q.dtype == np.float32
    assert_mean_var(q.data, 0.3, 0.21)
    with pytest.raises(ValueError, match="bernoulli: input must be probabilities in \\[0, 1\\], got 1.5"):
        ag.bernoulli(ag.full((3,), 1.5))
    with pytest.raises(ValueError, match="bernoulli: p must be in \\[0, 1\\], got 1.5"):
        ag.bernoulli(ag.zeros(3), p=1.5)
    with pytest.raises(TypeError, match="bernoulli: input must be floating-point"):
        ag.bernoulli(ag.ones(3, dtype=ag.int64))


def test_multinomial_with_replacement_frequencies():
    ag.manual_seed(5)
    w = ag.tensor([1.0, 2.0, 0.0, 5.0])
    s = ag.multinomial(w, N, replacement=True)
    assert s.dtype == np.int64 and s.shape == (N,)
    freq = np.bincount(s.data, minlength=4) / N
    p = w.data / w.data.sum()
    assert freq[2] == 0
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N) + 1e-12)
    rows = ag.multinomial(ag.tensor([[1.0, 0.0], [0.0, 1.0]]), 6, True)
    assert rows.shape == (2, 6) and rows.data.tolist() == [[0] * 6, [1] * 6]


def test_multinomial_without_replacement():
    ag.manual_seed(6)
    w = np.array([1.0, 2.0, 0.0, 3.0])
    p = w / w.sum()
    draws = ag.multinomial(ag.tensor(np.tile(w, (30000, 1))), 2).data   # 30000 rows at once
    one = ag.multinomial(ag.tensor(w), 2).data
    assert one.shape == (2,) and one[0] != one[1]
    assert all(a != b for a, b in draws) and not np.any(draws == 2)
    first = np.bincount(draws[:, 0], minlength=4) / len(draws)
    assert np.all(np.abs(first - p) < 5 * np.sqrt(p * (1 - p) / len(draws)) + 1e-12)
    # The second draw: P(j second) = Σ_i p_i · p_j / (1 − p_i).
    second_p = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j)
                         for j in range(4)])
    second = np.bincount(draws[:, 1], minlength=4) / len(draws)
    assert np.all(np.abs(second - second_p) < 5 * np.sqrt(second_p * (1 - second_p) / len(draws))
                  + 1e-12)
    full = ag.multinomial(ag.ones(2, 6), 6)
    assert full.shape == (2, 6) and all(sorted(r) == list(range(6)) for r in full.data.tolist())


@pytest.mark.parametrize("call, error, match", [
    (lambda: ag.multinomial(ag.tensor([1.0, 2.0, 0.0]), 3), ValueError,
     "only 2 categories of positive weight"),
    (lambda: ag.multinomial(ag.tensor([1.0, 2.0, 0.0]), 4), ValueError,
     "cannot draw 4 samples without replacement from 3 categories"),
    (lambda: ag.multinomial(ag.tensor([1.0, -2.0]), 1), ValueError, "non-negative weights"),
    (lambda: ag.multinomial(ag.tensor([1.0, np.inf]), 1), ValueError, "inf, nan"),
    (lambda: ag.multinomial(ag.zeros(3), 1), ValueError, "sum to 0"),
    (lambda: ag.multinomial(ag.ones(2, 3, 4), 1), ValueError, "must be 1-D or 2-D"),
    (lambda: ag.multinomial(ag.ones(3), 0), ValueError, "num_samples must be positive"),
    (lambda: ag.multinomial(ag.ones(3, dtype=ag.int64), 1), TypeError,
     "multinomial: input must be floating-point"),
    (lambda: ag.multinomial(ag.ones(3), 1, replacement=1), TypeError, "replacement must be a bool"),
])
def test_multinomial_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_multinomial_errors_where_pytorch_raises():
    torch = pytest.importorskip("torch")
    cases = [([1.0, 2.0, 0.0], 4, False), ([1.0, -2.0], 1, False), ([0.0, 0.0], 1, False),
             ([1.0, 2.0], 0, False), ([1.0, 2.0, 0.0], 2, False), ([1.0, 2.0, 0.0], 4, True)]
    for w, n, repl in cases:
        try:
            torch.multinomial(torch.tensor(w), n, repl)
            torch_raised = False
        except RuntimeError:
            torch_raised = True
        try:
            ag.multinomial(ag.tensor(w), n, repl)
            we_raised = False
        except ValueError:
            we_raised = True
        assert we_raised == torch_raised, (w, n, repl)


def test_random_creation_dtypes_and_shapes_match_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [
        (ag.rand(2, 3), torch.rand(2, 3)), (ag.randn(4), torch.randn(4)),
        (ag.randint(0, 5, (2, 2)), torch.randint(0, 5, (2, 2))),
        (ag.randperm(7), torch.randperm(7)),
        (ag.normal(0.0, 1.0, (3,)), torch.normal(0.0, 1.0, (3,))),
        (ag.bernoulli(ag.full((2, 2), 0.5)), torch.bernoulli(torch.full((2, 2), 0.5))),
        (ag.multinomial(ag.ones(2, 5), 3), torch.multinomial(torch.ones(2, 5), 3)),
        (ag.rand_like(ag.zeros(3, dtype=ag.float64)),
         torch.rand_like(torch.zeros(3, dtype=torch.float64))),
        (ag.randint_like(ag.zeros(3), 4), torch.randint_like(torch.zeros(3), 4)),
        (ag.eye(2, 3), torch.eye(2, 3)), (ag.full((2,), 1), torch.full((2,), 1)),
        (ag.empty(0, 3), torch.empty(0, 3)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == torch_dtype_name(theirs)
