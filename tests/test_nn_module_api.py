"""Module's conveniences as PyTorch's: traversal (named_modules with memo, prefix and
remove_duplicate; get_submodule/get_parameter/get_buffer), buffers (persistent or
not), dtype and device moves that keep the Parameter objects (so optimisers keep
working), train/eval through the children's own train, zero_grad, load_state_dict
with assign, and __dir__."""
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
import optim


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.register_buffer("scale", np.ones(4, dtype=np.float32))
        self.register_buffer("cache", np.zeros(4, dtype=np.float32), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.shared = nn.Linear(4, 4)
        self.again = self.shared                  # the same module under two names
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.head(self.again(self.shared(self.block(x))))


def test_named_modules_memo_prefix_and_duplicates():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "shared", "head",
                                                   "head.0", "head.1"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == [
        "", "block", "block.fc", "shared", "again", "head", "head.0", "head.1"]
    assert [n for n, _ in net.named_modules(prefix="net")][:2] == ["net", "net.block"]
    memo = {net.block}                            # modules already seen are skipped
    assert [n for n, _ in net.named_modules(memo=memo)] == ["", "shared", "head", "head.0",
                                                            "head.1"]
    assert [n for n, _ in net.named_children()] == ["block", "shared", "head"]
    assert len(list(net.modules())) == 7          # the shared one once
    assert [n for n, _ in net.named_parameters(prefix="m", recurse=True)][:2] == [
        "m.block.fc.weight", "m.block.fc.bias"]
    assert list(net.block.parameters(recurse=False)) == []
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)].count("again.weight") == 1


def test_buffers_persistent_or_not():
    b = Block()
    assert [n for n, _ in b.named_buffers()] == ["steps", "scale", "cache"]
    # PyTorch's order: a module's own parameters and buffers, then its children's
    assert list(b.state_dict()) == ["steps", "scale", "fc.weight", "fc.bias"]
    b.register_buffer("cache", np.ones(4, dtype=np.float32))     # persistent now
    assert list(b.state_dict())[2] == "cache"
    with pytest.raises(KeyError, match="already exists"):
        b.register_buffer("forward", np.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        b.register_buffer("fc", np.ones(1))                      # a child's name
    with pytest.raises(KeyError, match="already exists"):
        b.register_parameter("scale", nn.Parameter(np.ones(4)))  # a buffer's name
    with pytest.raises(TypeError):
        b.register_buffer("x", "text")


def test_get_submodule_parameter_buffer_and_set_submodule():
    net = Net()
    assert net.get_submodule("") is net and net.get_submodule("head.1") is net.head[1]
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_buffer("block.scale") is net.block.scale
    with pytest.raises(AttributeError, match="Block has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        net.get_submodule("block.fc.weight")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Parameter"):
        net.get_parameter("block.scale")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("block.fc.weight")
    new = nn.Linear(4, 2)
    net.set_submodule("head.1", new)
    assert net.head[1] is new
    with pytest.raises(AttributeError, match="has no attribute"):
        net.set_submodule("head.extra", nn.ReLU(), strict=True)
    with pytest.raises(ValueError, match="not an nn.Module"):
        net.set_submodule("head.1", 3)


def test_to_casts_floats_in_place_and_the_optimiser_keeps_working():
    net = Net()
    params = list(net.parameters())
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    opt.step()
    steps_buffer, scale_buffer = net.block.steps, net.block.scale
    assert net.to(ag.float64) is net
    assert [p is q for p, q in zip(net.parameters(), params)] == [True] * len(params)
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert net.block.scale.dtype == np.float64 and net.block.cache.dtype == np.float64
    assert net.block.steps.dtype == np.int64 and net.block.steps is steps_buffer  # not cast
    assert net.block.scale is scale_buffer and net.block._buffers["scale"] is scale_buffer
    net.zero_grad()
    net(np.ones((2, 3))).sum().backward()
    before = params[0].data.copy()
    opt.step()                                    # the optimiser holds the same objects
    assert not np.array_equal(params[0].data, before) and params[0].dtype == np.float64
    assert net.float() is net and all(p.dtype == np.float32 for p in net.parameters())
    assert net.half().block.fc.weight.dtype == np.float16
    net.to(Tensor(np.zeros(1, dtype=np.float64)))           # to(tensor): its dtype
    assert net.block.fc.weight.dtype == np.float64
    net.to("cpu", ag.float32)
    assert net.block.fc.weight.dtype == np.float32
    net.to(device="cpu", dtype=ag.float64, non_blocking=True)
    assert net.block.fc.weight.dtype == np.float64
    assert net.to("cpu") is net and net.cpu() is net
    net.type(ag.float32)
    assert net.block.fc.weight.dtype == np.float32
    net.type("torch.DoubleTensor")
    assert net.block.steps.dtype == np.float64    # type() casts every tensor, as PyTorch


def test_devices_and_dtypes_that_cannot_be_used_raise_one_clear_error():
    net = Net()
    for call in (lambda: net.cuda(), lambda: net.cuda(0), lambda: net.to("cuda"),
                 lambda: net.to("cuda:1", ag.float32), lambda: net.xpu()):
        with pytest.raises(ag.DeviceError, match="CPU only"):
            call()
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        net.to(ag.int64)
    with pytest.raises(TypeError, match="unexpected keyword"):
        net.to(dtyp=ag.float64)
    assert net.block.fc.weight.dtype == np.float32               # nothing changed


def test_apply_underscore_apply_and_recursive_train():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "Linear", "ReLU", "Linear", "Sequential", "Net"]
    net._apply(lambda t: t * 0 if t.dtype.kind == "f" else t)
    assert all(np.all(p.data == 0) for p in net.parameters())

    class Frozen(nn.Module):                      # a child whose own train() is honoured
        def train(self, mode=True):
            return super().train(False)

    net.head.append(Frozen())
    net.train()
    assert net.training and net.block.training and not net.head[2].training
    net.eval()
    assert not any(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_resets_through_nn_utils():
    net = Net()
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and np.all(g.data == 0) for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_dir():
    net = Net()
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    listed = dir(net)
    for name in ("block", "shared", "head", "forward", "training", "state_dict"):
        assert name in listed
    assert "0" not in dir(net.head) and listed == sorted(listed)


def test_load_state_dict_assign_takes_the_loaded_tensors():
    net = Net()
    sd = Net().double().state_dict()
    loaded = OrderedDict((k, v) for k, v in sd.items())
    # a shared module is loaded under each of its names: give both the same Parameter
    loaded["shared.bias"] = loaded["again.bias"] = nn.Parameter(np.full(4, 7.0), dtype=np.float64)
    old_weight = net.block.fc.weight
    net.block.fc.weight.requires_grad_(False)
    result = net.load_state_dict(loaded, assign=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    w = net.block.fc.weight
    assert w is not old_weight and isinstance(w, nn.Parameter) and w.dtype == np.float64
    assert not w.requires_grad                   # the old parameter's flag is kept
    assert net.shared.bias is loaded["shared.bias"] and net.again.bias is net.shared.bias
    assert net.block.scale.dtype == np.float64 and not isinstance(net.block.scale, nn.Parameter)
    np.testing.assert_array_equal(net.block.fc.bias.data, sd["block.fc.bias"])
    plain = Net()                                # without assign: copied, dtype kept
    weight = plain.block.fc.weight
    plain.load_state_dict(sd)
    assert plain.block.fc.weight is weight and weight.dtype == np.float32


def test_modules_and_containers_against_pytorch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.body = lib.Sequential(lib.Linear(3, 4), lib.ReLU())
                self.register_buffer("mean", torch.zeros(4) if lib is torch.nn else ag.zeros(4))
                self.register_buffer("tmp", torch.zeros(1) if lib is torch.nn else ag.zeros(1),
                                     persistent=False)
                self.heads = lib.ModuleDict({"a": lib.Linear(4, 1), "b": lib.Linear(4, 2)})
        return Model()
    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules(prefix="x")] == \
        [n for n, _ in theirs.named_modules(prefix="x")]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours_dir, theirs_dir = set(dir(ours)), set(dir(theirs))
    for name in ("body", "heads", "mean", "tmp", "get_submodule", "set_submodule",
                 "get_parameter", "get_buffer", "register_module", "named_buffers", "half",
                 "type", "cpu", "cuda", "to", "apply", "requires_grad_", "zero_grad",
                 "extra_repr", "load_state_dict", "state_dict", "named_modules"):
        assert name in theirs_dir and name in ours_dir, name
