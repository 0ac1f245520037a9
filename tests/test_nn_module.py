"""nn.Module, Parameter, Sequential: registration, traversal, modes, state_dict, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4))
        self.register_buffer("count", np.zeros(()))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block()
        self.head = nn.Linear(4, 2)
        self.alpha = nn.Parameter(np.array(0.5))

    def forward(self, x):
        return self.head(self.first(x)) * self.alpha


# ---------------------------------------------------------------- Parameter

def test_parameter_defaults_to_float32_leaf_requiring_grad():
    p = nn.Parameter(np.ones(3))
    assert isinstance(p, Tensor) and p.dtype == np.float32
    assert p.requires_grad and p.is_leaf
    assert nn.Parameter([1, 2]).dtype == np.float32
    assert nn.Parameter(np.ones(2), dtype=np.float64).dtype == np.float64
    assert nn.Parameter(Tensor(np.ones(2))).dtype == np.float64  # a float Tensor keeps its dtype
    assert not nn.Parameter(np.ones(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\nTensor(")
    with pytest.raises(TypeError):
        nn.Parameter(np.ones(2), dtype=np.int64)


def test_parameter_copies_data_and_results_are_plain_tensors():
    a = np.ones(3, dtype=np.float32)
    p = nn.Parameter(a)
    a[0] = 5
    assert p.data[0] == 1
    y = p * 2
    assert type(y) is Tensor and y.requires_grad


# ---------------------------------------------------------------- registration

def test_registration_order_and_dotted_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    # PyTorch's order: each module's own parameters, then its children's, depth first.
    assert names == ["alpha", "first.scale", "first.fc.weight", "first.fc.bias",
                     "head.weight", "head.bias"]
    assert list(net.parameters()) == [p for _, p in net.named_parameters()]
    assert [n for n, _ in net.named_children()] == ["first", "head"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Block", "Linear", "ReLU", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "first.fc", "first.act", "head"]
    assert [n for n, _ in net.named_buffers()] == ["first.count"]
    assert net.num_parameters() == 1 + 4 + 12 + 4 + 8 + 2


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3
    # state_dict lists every path, as PyTorch
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert seq.num_parameters() == 6


def test_attribute_reassignment_and_deletion_update_registries():
    m = nn.Module()
    m.w = nn.Parameter(np.zeros(2))
    assert [n for n, _ in m.named_parameters()] == ["w"]
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        m.w = Tensor(np.zeros(2))
    m.w = None
    assert list(m.named_parameters()) == [] and m.w is None
    m.w = nn.Parameter(np.zeros(3))
    m.w = nn.Linear(1, 1)           # a parameter name reused for a module
    assert [n for n, _ in m.named_parameters()] == ["w.weight", "w.bias"]
    del m.w
    assert list(m.named_parameters()) == [] and not hasattr(m, "w")
    m.plain = 3
    assert m.plain == 3 and list(m.state_dict()) == []


def test_missing_super_init_gives_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_register_parameter_buffer_and_add_module_validate():
    m = nn.Module()
    m.register_parameter("bias", None)
    assert m.bias is None and list(m.parameters()) == []
    with pytest.raises(TypeError):
        m.register_parameter("w", np.zeros(2))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", nn.Parameter(np.zeros(1)))
    m.x = 1
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("x", np.zeros(1))
    m.register_buffer("stat", np.arange(3.0))
    assert isinstance(m.stat, Tensor) and not m.stat.requires_grad
    m.stat = np.ones(3)                     # reassigning a buffer keeps it a buffer
    assert isinstance(m.stat, Tensor) and np.all(m.stat.data == 1)
    with pytest.raises(TypeError):
        m.stat = "text"
    m.register_buffer("tmp", np.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["stat"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "tmp"]
    with pytest.raises(TypeError):
        m.add_module("child", np.zeros(1))
    m.add_module("child", nn.ReLU())
    assert isinstance(m.child, nn.ReLU)


def test_call_runs_forward_and_base_forward_raises():
    net = Net()
    x = np.ones((5, 3), dtype=np.float32)
    assert net(x).shape == (5, 2)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


# ---------------------------------------------------------------- modes and grads

def test_train_eval_recursive():
    net = Net()
    assert net.training and net.first.fc.training
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.first.train(False)
    assert net.training and not net.first.training and not net.first.act.training
    with pytest.raises(ValueError):
        net.train("yes")


def test_zero_grad_sets_none_or_zeros():
    net = Net()
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_apply_and_to():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Net"]
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.first.count.dtype == np.float64
    assert net(np.ones((1, 3))).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_deepcopy_gives_an_independent_model():
    net = Net()
    clone = copy.deepcopy(net)
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(net(x).data, clone(x).data)
    clone.head.weight.data[...] = 0
    assert not np.all(net.head.weight.data == 0)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]


# ---------------------------------------------------------------- state_dict

def test_state_dict_holds_copies_in_order_including_buffers():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["alpha", "first.scale", "first.count", "first.fc.weight",
                        "first.fc.bias", "head.weight", "head.bias"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["head.weight"][...] = 123
    assert not np.any(net.head.weight.data == 123)
    kept = net.state_dict(keep_vars=True)
    assert kept["head.weight"] is net.head.weight
    assert list(net.state_dict(prefix="model.")) == ["model." + k for k in sd]


def test_load_state_dict_round_trip_in_place():
    nn.init.manual_seed(1)
    a = Net()
    nn.init.manual_seed(2)
    b = Net()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert not np.allclose(a(x).data, b(x).data)
    w_obj, w_arr = b.head.weight, b.head.weight.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert b.head.weight is w_obj and b.head.weight.data is w_arr  # copied in place


def test_load_state_dict_casts_and_accepts_tensors():
    lin = nn.Linear(2, 2)
    sd = {"weight": np.eye(2, dtype=np.float64), "bias": Tensor(np.array([1.0, 2.0]))}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, np.eye(2))
    np.testing.assert_array_equal(lin.bias.data, [1, 2])


def test_load_state_dict_lists_every_problem_in_one_error_and_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = model.state_dict()
    del bad["0.bias"]
    del bad["2.weight"]
    bad["0.weight"] = np.zeros((3, 5))
    bad["2.bias"] = np.zeros((4,))
    bad["extra.weight"] = np.zeros(1)
    bad["other"] = np.zeros(1)
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(bad)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "0.bias", "2.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight", "other".' in msg
    assert "size mismatch for 0.weight: copying a param with shape (3, 5) from checkpoint, " \
           "the shape in current model is (3, 2)." in msg
    assert "size mismatch for 2.bias" in msg
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.missing_keys == ["0.bias", "2.weight"]
    assert err.unexpected_keys == ["extra.weight", "other"]
    assert err.mismatched_keys == [("0.weight", (3, 5), (3, 2)), ("2.bias", (4,), (1,))]
    for k, v in model.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_and_invalid_values():
    model = nn.Sequential(nn.Linear(2, 3))
    partial = {"0.weight": np.ones((3, 2)), "junk": np.zeros(2)}
    res = model.load_state_dict(partial, strict=False)
    assert res.missing_keys == ["0.bias"] and res.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(model[0].weight.data, 1)
    with pytest.raises(nn.StateDictError, match="size mismatch for 0.weight"):
        model.load_state_dict({"0.weight": np.ones((2, 2))}, strict=False)
    with pytest.raises(nn.StateDictError, match="invalid value for 0.bias"):
        model.load_state_dict({"0.weight": np.ones((3, 2)), "0.bias": "abc"})
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([("0.weight", np.ones((3, 2)))])


def test_state_dict_loads_buffers_too():
    a, b = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    a(np.random.default_rng(0).standard_normal((8, 3)))
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.running_mean.data, a.running_mean.data)
    assert int(b.num_batches_tracked.data) == 1


def test_state_dict_survives_a_checkpoint_file(tmp_path):
    serialization = pytest.importorskip("autograd_core.serialization")
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(np.ones((5, 3), dtype=np.float32))
    path = tmp_path / "model.ckpt"
    serialization.save(model.state_dict(), path)
    nn.init.manual_seed(123)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(serialization.load(path))
    for (k, v), (k2, v2) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v, v2)


# ---------------------------------------------------------------- containers

def test_sequential_names_indexing_and_iteration():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq) == 3
    assert isinstance(seq[1], nn.Tanh) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        seq[3]
    with pytest.raises(TypeError):
        seq["0"]
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), lambda x: x)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    x = np.ones((2, 2), dtype=np.float32)
    expected = seq[3](seq[2](seq[1](seq[0](x))))
    np.testing.assert_array_equal(seq(x).data, expected.data)
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["enc.weight", "enc.bias"]
    seq[1] = nn.ReLU()
    assert isinstance(seq[1], nn.ReLU)


def test_module_list_registers():
    ml = nn.ModuleList([nn.Linear(1, 2), nn.Linear(2, 3)])
    ml.append(nn.Linear(3, 1))
    assert len(ml) == 3 and isinstance(ml[2], nn.Linear)
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]


# ---------------------------------------------------------------- repr

def test_repr_matches_pytorch_layout():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1, bias=False))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=2, out_features=1, bias=False)\n"
        ")")
    nested = nn.Sequential(nn.Sequential(nn.Tanh()), nn.Dropout(0.25))
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Tanh()\n"
        "  )\n"
        "  (1): Dropout(p=0.25, inplace=False)\n"
        ")")
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.BatchNorm1d(4)) == \
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.Linear(1, 1, dtype=np.float64)) == \
        "Linear(in_features=1, out_features=1, bias=True, dtype=float64)"
    assert repr(Net()).startswith("Net(\n  (first): Block(\n    (fc): Linear(")


# ---------------------------------------------------------------- package

def test_package_exports():
    for name in ["Module", "Parameter", "Sequential", "Linear", "ReLU", "LeakyReLU", "Tanh",
                 "Sigmoid", "Softmax", "LogSoftmax", "Identity", "Flatten", "Dropout",
                 "BatchNorm1d", "Conv2d", "MaxPool2d", "MSELoss", "BCELoss",
                 "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "HingeLoss", "KLDivLoss",
                 "DataLoader"]:
        assert hasattr(nn, name), name
    import nn.functional as F
    assert nn.functional is F and callable(F.cross_entropy)
    assert callable(nn.init.kaiming_uniform_)
    assert hasattr(nn.datasets, "load_fashion_mnist")


def test_model_trains_under_no_grad_free_inference():
    net = Net()
    with ag.no_grad():
        out = net(np.ones((2, 3), dtype=np.float32))
    assert not out.requires_grad
