"""PyTorch's vocabulary on Tensor: dtypes and devices, the Python protocol, copies
and layouts, the in-place random methods, and reproducibility from one seed.
Compared with torch where it is importable."""
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core import Tensor
from autograd_core.testing import check_grads
from autograd_core.utils.data import DataLoader, TensorDataset
from nn import init

from .strategies import shapes

README = Path(__file__).resolve().parent.parent / "README.md"

CASTS = {"float": np.float32, "double": np.float64, "half": np.float16, "long": np.int64,
         "int": np.int32, "short": np.int16, "char": np.int8, "byte": np.uint8,
         "bool": np.bool_, "cfloat": np.complex64, "cdouble": np.complex128}
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
          np.bool_, np.complex64, np.complex128]


def torch_dtype(torch, dt):
    return getattr(torch, np.dtype(dt).name if dt is not np.bool_ else "bool")


# ====================================================================== dtypes

@pytest.mark.parametrize("name", sorted(CASTS))
def test_cast_methods_give_torchs_dtypes_and_values(name):
    torch = pytest.importorskip("torch")
    values = [0.0, 0.5, 3.9, 200.2] if name == "byte" else [-2.7, 0.0, 0.5, 3.9]
    out = getattr(ag.tensor(values), name)()
    ref = getattr(torch.tensor(values), name)()
    assert out.dtype == CASTS[name] and ref.dtype == torch_dtype(torch, CASTS[name])
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_a_cast_is_differentiable_to_floating_and_a_graph_cut_otherwise():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * x.double()).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert not x.long().requires_grad and x.long().is_leaf
    assert x.float() is x and x.to(ag.float32) is x      # nothing to do: self, as torch


def test_to_overloads():
    x = ag.tensor([[1.5, 2.5]])
    other = ag.tensor([1, 2])
    assert x.to("cpu") is x and x.to(ag.device("cpu")) is x and x.to(device="cpu") is x
    assert x.to(ag.float64).dtype == np.float64
    assert x.to("cpu", ag.float16).dtype == np.float16
    assert x.to(other).dtype == np.int64 and x.to(other).tolist() == [[1, 2]]
    assert x.to(dtype=ag.float64, device="cpu").dtype == np.float64
    assert x.to(float).dtype == np.float64 and x.to(int).dtype == np.int64   # torch too
    assert x.to(bool).dtype == np.bool_
    copied = x.to(ag.float32, copy=True)
    assert copied is not x and not np.shares_memory(copied.numpy(), x.numpy())
    assert x.to(ag.float32, False, True) is not x                 # non_blocking, copy
    with pytest.raises(TypeError, match="to: dtype must be a numeric dtype"):
        x.to("cpu", "banana")
    with pytest.raises(ag.DeviceError, match="to: a device must be a string"):
        x.to(ag.float64, "cpu")          # to(device, dtype): the device comes first
    with pytest.raises(TypeError, match="both"):
        x.to(ag.float64, dtype=ag.float32)


def test_to_with_copy_is_differentiable():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    y = x.to(copy=True)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("dt", DTYPES)
def test_type_names_are_torchs(dt):
    torch = pytest.importorskip("torch")
    x = ag.zeros(2, dtype=dt)
    assert x.type() == torch.zeros(2, dtype=torch_dtype(torch, dt)).type()
    assert ag.zeros(2).type(x.type()).dtype == dt


def test_type_and_type_as_cast():
    x = ag.tensor([1.0, 2.0])
    assert x.type(ag.float64).dtype == np.float64
    assert x.type("torch.LongTensor").tolist() == [1, 2]
    assert x.type("autograd_core.DoubleTensor").dtype == np.float64
    assert x.type_as(ag.tensor([1], dtype=ag.int16)).dtype == np.int16
    assert x.type(ag.float32) is x
    with pytest.raises(ValueError, match="type: invalid type 'torch.Banana'"):
        x.type("torch.Banana")
    with pytest.raises(ag.DeviceError):
        x.type("torch.cuda.FloatTensor")
    with pytest.raises(TypeError, match="type_as: other must be a Tensor"):
        x.type_as(np.zeros(2))


def test_dtype_aliases_and_predicates():
    assert ag.float is np.float32 and ag.int is np.int32
    assert ag.cfloat is np.complex64 and ag.cdouble is np.complex128
    z = ag.tensor([1 + 2j])
    assert z.is_complex() and ag.is_complex(z) and not z.is_floating_point()
    assert ag.tensor([1.0]).is_floating_point() and ag.is_floating_point(ag.tensor([1.0]))
    assert not ag.tensor([1]).is_floating_point()


# ====================================================================== devices

def test_device_is_cpu_and_compares_with_strings():
    x = ag.tensor([1.0])
    assert str(x.device) == "cpu" and repr(x.device) == "device(type='cpu')"
    assert x.device == "cpu" and x.device == ag.device("cpu") and x.device != "cuda"
    assert x.device.type == "cpu" and x.device.index is None
    assert {ag.device("cpu"): 1}[x.device] == 1 and hash(x.device) == hash(ag.device("cpu"))
    assert f"{x.device}" == "cpu" and ag.Generator().device == "cpu"
    assert x.is_cuda is False and x.is_cpu is True and x.cpu() is x
    cuda1 = ag.device("cuda", 1)
    assert str(cuda1) == "cuda:1" and cuda1 == "cuda:1" and cuda1.index == 1
    assert ag.device(0) == "cuda:0" and ag.device(cuda1) == cuda1
    assert ag.cuda.is_available() is False and ag.cuda.device_count() == 0
    ag.cuda.manual_seed_all(0)


def test_device_matches_torchs_spelling():
    torch = pytest.importorskip("torch")
    for spec in ("cpu", "cuda", "cuda:1", "mps"):
        assert str(ag.device(spec)) == str(torch.device(spec))
        assert repr(ag.device(spec)) == repr(torch.device(spec))
        assert ag.device(spec).index == torch.device(spec).index


@pytest.mark.parametrize("call", [
    lambda: ag.tensor([1.0]).cuda(),
    lambda: ag.tensor([1.0]).cuda(0),
    lambda: ag.tensor([1.0]).to("cuda"),
    lambda: ag.tensor([1.0]).to("cuda:0", ag.float64),
    lambda: ag.tensor([1.0]).to(device=ag.device("cuda")),
    lambda: ag.zeros(2, device="cuda"),
    lambda: ag.tensor(1.0, device=ag.device("cuda")),
    lambda: ag.randn(2, device="cuda"),
    lambda: ag.tensor([1.0]).new_zeros(2, device="cuda"),
    lambda: ag.Generator(device="cuda"),
])
def test_cuda_gives_one_clear_error(call):
    with pytest.raises(ag.DeviceError, match="is not available: autograd_core computes with "
                                              "NumPy on the CPU only"):
        call()
    assert issubclass(ag.DeviceError, RuntimeError) and issubclass(ag.DeviceError, ValueError)


@pytest.mark.parametrize("spec,message", [("gpu", "device type"), ("cuda:x", "invalid device"),
                                          (1.5, "must be a string"), (("cpu", -1), "index")])
def test_malformed_devices_are_named(spec, message):
    with pytest.raises(ag.DeviceError, match=message):
        ag.device(*spec) if isinstance(spec, tuple) else ag.device(spec)


# ====================================================================== copies and layouts

@settings(max_examples=15, deadline=None)
@given(shape=shapes(min_dims=0, max_dims=3), seed=st.integers(0, 2 ** 16))
def test_clone_is_a_differentiable_copy(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    x = Tensor(a)
    y = x.clone()
    assert y.shape == x.shape and not np.shares_memory(y.numpy(), x.numpy())
    np.testing.assert_array_equal(y.numpy(), a)
    assert check_grads(lambda t: ag.clone(t) * t, a)
    assert check_grads(lambda t: ag.clone(t.T, memory_format=ag.contiguous_format), a)


def test_clone_keeps_the_graph_and_owns_its_memory():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    with ag.no_grad():
        y[0] = 10.0
    assert x.tolist() == [1.0, 2.0] and y.grad_fn is not None
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_layouts_match_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(120.0).reshape(2, 3, 4, 5)
    cases = [
        (lambda m, t: t.transpose(0, 1).clone(), None),
        (lambda m, t: t.transpose(0, 1).clone(memory_format=m.contiguous_format), None),
        (lambda m, t: t.transpose(0, 1).contiguous(), None),
        (lambda m, t: t.clone(memory_format=m.channels_last), "channels_last"),
        (lambda m, t: t.contiguous(memory_format=m.channels_last), "channels_last"),
        (lambda m, t: t.to(memory_format=m.channels_last), "channels_last"),
        (lambda m, t: t.permute(0, 2, 3, 1).clone() if m is torch else
         t.transpose(0, 2, 3, 1).clone(), None),
    ]
    for make, fmt in cases:
        ours, ref = make(ag, Tensor(a)), make(torch, torch.tensor(a))
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
        assert ours.is_contiguous() == ref.is_contiguous()
        if fmt:
            assert ours.is_contiguous(memory_format=ag.channels_last) == \
                ref.is_contiguous(memory_format=torch.channels_last)
    x = Tensor(a)
    assert x.contiguous() is x and x.is_contiguous()
    with pytest.raises(RuntimeError, match="channels_last needs a tensor with 4 dimensions"):
        ag.zeros(2, 3).contiguous(memory_format=ag.channels_last)
    with pytest.raises(TypeError, match="memory_format must be one of"):
        x.clone(memory_format="C")


# ====================================================================== questions and conversions

@pytest.mark.parametrize("dt", DTYPES)
def test_sizes_match_torch(dt):
    torch = pytest.importorskip("torch")
    x = ag.zeros(2, 3, dtype=dt)
    ref = torch.zeros(2, 3, dtype=torch_dtype(torch, dt))
    assert (x.numel(), x.nelement(), x.dim(), x.ndimension(), x.element_size(), x.nbytes,
            x.itemsize) == (ref.numel(), ref.nelement(), ref.dim(), ref.ndimension(),
                            ref.element_size(), ref.nbytes, ref.itemsize)
    assert ag.numel(x) == torch.numel(ref)
    assert x.is_floating_point() == ref.is_floating_point()
    assert x.is_complex() == ref.is_complex()


def test_tolist_matches_torch():
    torch = pytest.importorskip("torch")
    for data in ([[1.5, 2.0], [3.0, 4.0]], 3.25, [True, False], [[1, 2]], []):
        ours, ref = ag.tensor(data).tolist(), torch.tensor(data).tolist()
        assert ours == ref and type(ours) is type(ref)


def test_new_factories_match_torch():
    torch = pytest.importorskip("torch")
    for dt in (np.float32, np.int64, np.float16):
        x, ref = ag.ones(2, dtype=dt), torch.ones(2, dtype=torch_dtype(torch, dt))
        pairs = [
            (x.new_zeros(2, 3), ref.new_zeros(2, 3)),
            (x.new_zeros((2, 3)), ref.new_zeros((2, 3))),
            (x.new_ones([1]), ref.new_ones([1])),
            (x.new_full((2,), 3), ref.new_full((2,), 3)),
            (x.new_tensor([1, 2]), ref.new_tensor([1, 2])),
            (x.new_zeros(2, dtype=ag.float64), ref.new_zeros(2, dtype=torch.float64)),
            (x.new_empty(0, 2), ref.new_empty(0, 2)),
        ]
        for ours, theirs in pairs:
            assert ours.shape == tuple(theirs.shape)
            assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
            if ours.numel():
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    w = ag.zeros(1).new_zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(TypeError, match=r"new_zeros\(requires_grad=True\): only floating"):
        ag.zeros(1, dtype=ag.int64).new_zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="new_zeros: size must be ints"):
        ag.zeros(1).new_zeros(2.5)


def test_detach_in_place():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y and not y.requires_grad and y.is_leaf and y.grad_fn is None
    x.detach_()
    assert not x.requires_grad
    z = ag.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach_: cannot detach a view"):
        z[:1].detach_()


def test_python_numbers_from_one_element():
    loss = ag.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" == f"{loss.item():.4f}"
    assert f"{ag.tensor([[2.5]]):>6.2f}" == "  2.50"
    with pytest.raises(TypeError, match="only one-element tensors format as numbers"):
        f"{ag.tensor([1.0, 2.0]):.2f}"
    x = ag.tensor(-2.5)
    assert float(x) == -2.5 and int(x) == -2 and complex(x) == -2.5 + 0j
    assert round(x) == round(-2.5) and round(ag.tensor(2.567), 2) == 2.57
    assert math.floor(x) == -3 and math.ceil(x) == -2 and math.trunc(x) == -2
    assert isinstance(math.floor(x), int)
    assert bool(ag.tensor([1.0])) and not bool(ag.tensor(0))
    with pytest.raises(TypeError, match=r"round\(\): only a tensor with one element"):
        round(ag.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ag.tensor([1.0, 2.0]))
    assert ag.is_nonzero(ag.tensor([2])) and not ag.tensor(0.0).is_nonzero()
    with pytest.raises(RuntimeError, match="is_nonzero: Boolean value of Tensor with no values"):
        ag.is_nonzero(ag.tensor([]))


def test_index_len_iter_hash():
    i = ag.tensor(2)
    assert [10, 20, 30][i] == 30 and list(range(i)) == [0, 1] and "abc"[ag.tensor(1)] == "b"
    with pytest.raises(TypeError, match="only integer tensors"):
        [1, 2][ag.tensor(1.0)]
    m = ag.tensor([[1, 2], [3, 4]])
    assert len(m) == 2 and [r.tolist() for r in m] == [[1, 2], [3, 4]]
    a, b = ag.tensor([1.0]), ag.tensor([1.0])
    assert len({a, b}) == 2 and {a: "a"}[a] == "a" and hash(a) != hash(b)
    with pytest.raises(TypeError, match="len"):
        len(ag.tensor(1.0))


def test_contains_and_reversed_match_torch():
    torch = pytest.importorskip("torch")
    data = [[1, 2], [3, 4]]
    x, ref = ag.tensor(data), torch.tensor(data)
    for element in (3, 7, 2.0):
        assert (element in x) == (element in ref)
    assert (ag.tensor([1, 2]) in x) == (torch.tensor([1, 2]) in ref)
    assert (ag.tensor([1, 3]) in x) == (torch.tensor([1, 3]) in ref)
    with pytest.raises(TypeError, match="only supports a Tensor or a number"):
        "a" in x
    assert [r.tolist() for r in reversed(x)] == [r.tolist() for r in reversed(ref)]
    r = reversed(x)
    r[0, 0] = 99                                   # a copy, as torch's flip
    assert x.tolist() == data
    s = ag.tensor(5)
    assert reversed(s) is s


def test_interchange_with_numpy_and_torch():
    torch = pytest.importorskip("torch")
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.shares_memory(np.asarray(x), x.numpy())
    assert ag.as_tensor(x) is x
    shared = torch.from_dlpack(x)
    shared[0, 0] = 9.0                              # one memory
    assert x[0, 0].item() == 9.0
    assert torch.equal(torch.as_tensor(x), torch.tensor([[9.0, 2.0], [3.0, 4.0]]))
    assert torch.as_tensor(ag.tensor(3)).item() == 3 and torch.as_tensor(Tensor(2.0)).item() == 2.0
    assert ag.from_dlpack(torch.from_dlpack(x)).tolist() == x.tolist()
    w = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(BufferError, match="detach"):
        torch.from_dlpack(w)
    assert torch.as_tensor(w.detach()).tolist() == [1.0]


@pytest.mark.parametrize("leave", [
    lambda t: t.tolist(), lambda t: round(t[0]), lambda t: math.floor(t[0]),
    lambda t: complex(t[0]), lambda t: 1.0 in t, lambda t: ag.is_nonzero(t[0]),
])
def test_values_leaving_a_compiled_step_are_refused(leave):
    with pytest.raises(ag.CompileError, match="inside a compiled function"):
        ag.compile(leave)(ag.tensor([1.0, 2.0]))


def test_copies_and_casts_are_recorded_by_compile():
    step = ag.compile(lambda t: t.clone().double() * 2 + t.new_tensor(t).to(ag.float64)
                      + t.T.contiguous().sum(0))
    for data in ([[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]):
        a = np.array(data, dtype=np.float32)
        np.testing.assert_array_equal(step(ag.tensor(a)).numpy(), 3 * a + a.sum(1))


# ====================================================================== in place, random

def test_normal_and_uniform_are_nn_inits_numbers():
    for method, initialiser, args in (("normal_", init.normal_, (0.5, 2.0)),
                                      ("uniform_", init.uniform_, (-1.0, 3.0))):
        for dt in (np.float32, np.float64, np.float16):
            ag.manual_seed(7)
            a = getattr(ag.zeros(4, 5, dtype=dt), method)(*args)
            ag.manual_seed(7)
            b = initialiser(ag.zeros(4, 5, dtype=dt), *args)
            ag.manual_seed(7)
            c = initialiser(np.zeros((4, 5), dtype=dt), *args)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), c)
            assert a.dtype == dt


def test_in_place_random_draws_from_the_generator_given():
    g1, g2 = ag.Generator().manual_seed(3), ag.Generator().manual_seed(3)
    state = ag.get_rng_state()
    a = ag.zeros(6).normal_(generator=g1)
    b = ag.zeros(6).normal_(generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ag.equal(ag.get_rng_state(), state)          # the global stream is untouched
    ag.zeros(6).normal_()
    assert not ag.equal(ag.get_rng_state(), state)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        ag.zeros(2).uniform_(generator=3)


def _big(dt=np.float64):
    return ag.zeros(40000, dtype=dt)


def test_in_place_random_distributions():
    ag.manual_seed(0)
    n = _big().normal_(1.0, 0.5).numpy()
    assert abs(n.mean() - 1.0) < 0.01 and abs(n.std() - 0.5) < 0.01
    u = _big().uniform_(-2.0, 3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.03
    e = _big().exponential_(4.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    g = _big(np.int64).geometric_(0.25).numpy()
    assert g.min() >= 1 and abs(g.mean() - 4.0) < 0.1
    c = _big().cauchy_(2.0, 0.5).numpy()
    assert abs(np.median(c) - 2.0) < 0.02
    ln = _big().log_normal_(0.5, 0.25).numpy()
    assert ln.min() > 0 and abs(np.log(ln).mean() - 0.5) < 0.01
    bern = _big(np.float32).bernoulli_(0.3).numpy()
    assert set(np.unique(bern)) <= {0.0, 1.0} and abs(bern.mean() - 0.3) < 0.01
    rows = ag.zeros(2, 20000).bernoulli_(ag.tensor([[0.1], [0.9]])).numpy().mean(axis=1)
    np.testing.assert_allclose(rows, [0.1, 0.9], atol=0.01)
    assert ag.zeros(50, dtype=ag.bool).bernoulli_(1.0).numpy().all()


def test_random_ranges_follow_torch():
    ag.manual_seed(1)
    r = ag.zeros(2000, dtype=ag.int64).random_(5).numpy()
    assert set(np.unique(r)) == {0, 1, 2, 3, 4}
    r = ag.zeros(2000).random_(-3, 2).numpy()
    assert set(np.unique(r)) == {-3, -2, -1, 0, 1}
    b = ag.zeros(3000, dtype=ag.uint8).random_().numpy()
    assert b.min() == 0 and b.max() == 255
    f = ag.zeros(3000).random_().numpy()
    assert f.max() <= 2 ** 24 and np.all(f == np.round(f)) and f.max() > 2 ** 23
    assert set(np.unique(ag.zeros(100, dtype=ag.bool).random_().numpy())) == {False, True}
    with pytest.raises(ValueError, match="random_: expects from < to"):
        ag.zeros(2).random_(3, 3)
    with pytest.raises(ValueError, match="does not fit in dtype uint8"):
        ag.zeros(2, dtype=ag.uint8).random_(0, 300)
    with pytest.raises(TypeError, match="random_: to must be an int"):
        ag.zeros(2).random_(0, 2.5)


def test_fill_diagonal_matches_torch():
    torch = pytest.importorskip("torch")
    for shape, wrap in (((3, 3), False), ((5, 2), False), ((5, 2), True), ((2, 5), True),
                        ((3, 3, 3), False)):
        ours = ag.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
        ref = torch.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    with pytest.raises(ValueError, match="all dimensions"):
        ag.zeros(2, 3, 4).fill_diagonal_(1)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ag.zeros(3).fill_diagonal_(1)


def test_fill_diagonal_is_differentiable_off_the_diagonal():
    x = ag.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    y = x * 1
    y.fill_diagonal_(0.0)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0], [4.0, 0.0]])


@pytest.mark.parametrize("fill", [
    lambda t: t.normal_(), lambda t: t.uniform_(), lambda t: t.bernoulli_(),
    lambda t: t.exponential_(), lambda t: t.geometric_(0.5), lambda t: t.random_(3),
    lambda t: t.cauchy_(), lambda t: t.log_normal_(), lambda t: t.fill_diagonal_(1.0),
])
def test_in_place_random_on_a_leaf_follows_torchs_rules(fill):
    w = ag.zeros(3, 3, requires_grad=True)
    state = ag.get_rng_state()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        fill(w)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        fill(w[0:2])
    assert ag.equal(ag.get_rng_state(), state)      # a refused call draws nothing
    with ag.no_grad():
        assert fill(w) is w
    assert w.is_leaf and w.requires_grad and w._version == 1


def test_a_compiled_step_draws_afresh_as_eager_code_does():
    w = ag.zeros(3)

    def step(x):
        with ag.no_grad():
            w.normal_()
        return x + w.uniform_(-1.0, 1.0) * ag.zeros(3).exponential_()

    compiled, x = ag.compile(step), ag.zeros(3)
    ag.manual_seed(11)
    eager = [step(x).numpy().copy() for _ in range(3)]
    ag.manual_seed(11)
    replayed = [compiled(x).numpy().copy() for _ in range(3)]
    np.testing.assert_array_equal(eager, replayed)
    assert not np.array_equal(replayed[1], replayed[2])
    assert compiled.stats["traces"] == 1


@pytest.mark.parametrize("name", ["normal_", "uniform_", "exponential_", "fill_"])
def test_overwriting_a_graph_tensor_leaves_a_zero_gradient_as_torch(name):
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        getattr(y, name)(*([3.0] if name == "fill_" else []))
        assert y.requires_grad
        (y + x * x).sum().backward()         # through y: nothing; through x * x: 2x
        grads.append(x.grad.tolist())
        values = y.detach().numpy()
        assert name == "fill_" or not np.array_equal(values, [2.0, 4.0])
    np.testing.assert_allclose(grads[0], grads[1])
    assert grads[0] == [2.0, 4.0]


def test_a_view_changes_only_its_part():
    w = ag.zeros(3, 4)
    w[1].normal_()
    assert np.all(w.numpy()[[0, 2]] == 0) and np.all(w.numpy()[1] != 0)
    assert w._version == 1


@pytest.mark.parametrize("call,error,message", [
    (lambda: ag.zeros(3, dtype=ag.int64).normal_(), TypeError, "normal_: draws from a continuous"),
    (lambda: ag.zeros(3, dtype=ag.int64).exponential_(), TypeError, "floating-point tensor"),
    (lambda: ag.zeros(3).uniform_(1.0, 0.0), ValueError, "uniform_: expects a <= b"),
    (lambda: ag.zeros(3).normal_(0.0, -1.0), ValueError, "normal_: std must be non-negative"),
    (lambda: ag.zeros(3).normal_("0"), TypeError, "normal_: mean must be a real number"),
    (lambda: ag.zeros(3).exponential_(0), ValueError, "lambd > 0"),
    (lambda: ag.zeros(3).geometric_(1.5), ValueError, r"p in \(0, 1\)"),
    (lambda: ag.zeros(3).bernoulli_(1.5), ValueError, r"p must be in \[0, 1\]"),
    (lambda: ag.zeros(3).bernoulli_(ag.zeros(2)), ValueError, "cannot be broadcast"),
])
def test_in_place_random_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ====================================================================== nn.functional spellings

def test_softmax_takes_dim_and_axis():
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)))
    for fn in (F.softmax, F.log_softmax):
        a = fn(x, dim=1)
        np.testing.assert_array_equal(a.numpy(), fn(x, axis=1).numpy())
        np.testing.assert_array_equal(a.numpy(), fn(x, 1).numpy())
        assert fn(x.float(), dim=1, dtype=ag.float64).dtype == np.float64
        with pytest.raises(TypeError, match="both dim= and axis="):
            fn(x, dim=1, axis=2)


def test_softmax_matches_torch_with_dtype_and_implicit_dim():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    ours = F.softmax(ag.tensor(a), 1, 3, ag.float64)
    ref = torch.nn.functional.softmax(torch.tensor(a), 1, 3, torch.float64)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning):
        ref = torch.nn.functional.log_softmax(torch.tensor(a), None)
    np.testing.assert_allclose(F.log_softmax(ag.tensor(a), None).numpy(), ref.numpy(), rtol=1e-6)


def test_take_along_dim_takes_dim_axis_or_none_as_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    assert ag.take_along_dim(ag.tensor(a), idx, axis=1).tolist() == \
        torch.take_along_dim(torch.tensor(a), torch.tensor(idx), dim=1).tolist()
    flat = np.array([11, 0, 5])
    assert ag.take_along_dim(ag.tensor(a), flat).tolist() == \
        torch.take_along_dim(torch.tensor(a), torch.tensor(flat)).tolist()
    assert np.take_along_axis(ag.tensor(a), idx, axis=1).tolist() == [[0, 3], [5, 5], [10, 8]]


def test_unique_takes_dim_or_axis():
    torch = pytest.importorskip("torch")
    rows = [[1, 2], [1, 2], [3, 4]]
    ref = torch.unique(torch.tensor(rows), dim=0).tolist()
    assert ag.unique(ag.tensor(rows), axis=0).tolist() == ref
    assert ag.tensor(rows).unique(dim=0).tolist() == ref
    with pytest.raises(TypeError, match="unique: got both dim= and axis="):
        ag.unique(ag.tensor(rows), dim=0, axis=0)


# ====================================================================== the README's section

def _readme_section(title):
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_readme_coming_from_pytorch_example_runs():
    section = _readme_section("Coming from PyTorch")
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks and "|" in section             # an example and the table of differences
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README


# ====================================================================== one seed, one run

def _run(seed):
    """Everything random in a training script, after ag.manual_seed(seed), by name."""
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    x = ag.randn(5, 4)
    out = model(x)
    mask = model[2](ag.ones(3, 8))
    data = TensorDataset(ag.arange(10.0), ag.arange(10))
    order = [labels.tolist() for _, labels in DataLoader(data, batch_size=4, shuffle=True)]
    return {
        "parameters": np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]),
        "input": x.numpy(), "output": out.detach().numpy(), "dropout": mask.numpy(),
        "order": np.concatenate(order), "normal_": ag.empty(3, 2).normal_().numpy(),
        "randn": ag.randn(3).numpy(),
    }


def test_one_seed_reproduces_init_dropout_shuffling_and_draws():
    first, again, other = _run(42), _run(42), _run(43)
    assert sorted(first["order"]) == list(range(10)) and list(first["order"]) != list(range(10))
    assert set(np.unique(first["dropout"])) == {0.0, 2.0}
    for name in first:
        np.testing.assert_array_equal(first[name], again[name], err_msg=name)
        assert not np.array_equal(first[name], other[name]), name


def test_dropout_masks_come_from_the_seed():
    x = ag.ones(4, 50)
    ag.manual_seed(5)
    a = F.dropout(x, 0.5, training=True).numpy()
    ag.manual_seed(5)
    b = F.dropout(x, 0.5, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}


# ---------------------------------------------------------------------------
# A NumPy function that would cut the gradient names the engine's equivalent,
# and that equivalent computes what the NumPy function does
# ---------------------------------------------------------------------------

_X = np.arange(12.0).reshape(3, 4) - 4.5


def _hint_of(call):
    x = ag.tensor(_X, requires_grad=True)
    with pytest.raises(TypeError, match="cut the gradient") as e:
        call(x)
    return str(e.value)


def _pieces(ps):
    return [np.asarray(p.data if isinstance(p, ag.Tensor) else p) for p in ps]


# numpy call, the text its error must suggest, that suggestion run on our tensor
HINTED = [
    (lambda x: np.repeat(x, 2, axis=1), "ag.repeat_interleave",
     lambda x: ag.repeat_interleave(x, 2, dim=1)),
    (lambda x: np.repeat(x, [1, 0, 2], axis=0), "ag.repeat_interleave",
     lambda x: ag.repeat_interleave(x, ag.tensor([1, 0, 2]), dim=0)),
    (lambda x: np.split(x, 2, axis=1), "ag.chunk(x, sections, dim)",
     lambda x: ag.chunk(x, 2, dim=1)),
    (lambda x: np.split(x, [1, 3], axis=1), "or ag.split(x, [sizes], dim)",
     lambda x: ag.split(x, [1, 2, 1], dim=1)),
    (lambda x: np.array_split(x, 3, axis=1), "ag.split(x, [sizes], dim)",
     lambda x: ag.split(x, [2, 1, 1], dim=1)),
    (lambda x: np.ravel(x), "ag.flatten", lambda x: ag.flatten(x)),
    (lambda x: np.select([x > 0], [x]), "ag.where", lambda x: ag.where(x > 0, x, 0.0)),
    (lambda x: np.median(x, axis=1), "the mean of the two middle values",
     lambda x: ag.sort(x, 1).values[:, 1:3].mean(1)),
    (lambda x: np.pad(x, ((1, 0), (2, 3))), "ag.pad", lambda x: ag.pad(x, (2, 3, 1, 0))),
    (lambda x: np.sign(x, where=x > 0, out=np.zeros((3, 4))), "ag.sign", None),
    (lambda x: np.dot(x, x.T, out=np.empty((3, 3))), "ag.matmul", lambda x: ag.matmul(x, x.T)),
    (lambda x: np.var(x, axis=1, out=None, ddof=0), "ag.var(x, dim, correction=0)",
     lambda x: ag.var(x, 1, correction=0)),
    (lambda x: np.std(x, 0, None, None, 0), "ag.std(x, dim, correction=0)",
     lambda x: ag.std(x, 0, correction=0)),
    (lambda x: np.add.reduce(x, axis=1), "ag.sum", lambda x: ag.sum(x, 1)),
    (lambda x: np.add.accumulate(x, axis=1), "ag.cumsum", lambda x: ag.cumsum(x, 1)),
    (lambda x: np.multiply.reduce(x, axis=0), "ag.prod", lambda x: ag.prod(x, 0)),
    (lambda x: np.maximum.reduce(x, axis=1), "ag.amax", lambda x: ag.amax(x, 1)),
    (lambda x: np.absolute(x, where=x > 0, out=np.zeros((3, 4))), "ag.abs", None),
    (lambda x: np.take(x, [0, 2]), "the engine's ops", None),
]


@pytest.mark.parametrize("numpy_call,hint,engine_call", HINTED)
def test_gradient_cutting_numpy_calls_name_an_equivalent_engine_op(numpy_call, hint,
                                                                    engine_call):
    message = _hint_of(numpy_call)
    assert hint in message.split("cut the gradient. Use ")[1]
    if engine_call is None:
        return
    expected, got = numpy_call(_X), engine_call(ag.tensor(_X))
    if isinstance(expected, list):
        for e, g in zip(expected, _pieces(got), strict=True):
            np.testing.assert_allclose(g, e)
    else:
        np.testing.assert_allclose(got.data, expected, rtol=1e-6)
