"""nn.Module forward hooks: register_forward_pre_hook / register_forward_hook, as PyTorch's."""
import copy
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn
from nn import module as module_mod


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) + x


def make_model():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), Block(), nn.Linear(3, 1))


@pytest.fixture(autouse=True)
def no_hook_left_behind():
    yield
    assert module_mod._live_hooks == 0, "a test left a hook registered"


def test_hooks_see_every_call_in_order_and_are_removed():
    model = make_model()
    log, handles = [], []
    for name, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(lambda m, args, name=name: log.append(("pre", name))))
        handles.append(m.register_forward_hook(lambda m, args, out, name=name: log.append(("post", name))))
    model(np.ones((4, 2), dtype=np.float32))
    assert log == [("pre", ""), ("pre", "0"), ("post", "0"), ("pre", "1"), ("pre", "1.fc"),
                   ("post", "1.fc"), ("pre", "1.act"), ("post", "1.act"), ("post", "1"),
                   ("pre", "2"), ("post", "2"), ("post", "")]
    for h in handles:
        h.remove()
    h.remove()                                     # a second remove does nothing
    log.clear()
    model(np.ones((4, 2), dtype=np.float32))
    assert log == []
    assert "removed" in repr(h)


def test_pre_hook_replaces_inputs_and_forward_hook_replaces_the_output():
    lin = nn.Linear(2, 2)
    x = np.ones((1, 2), dtype=np.float32)
    plain, doubled = lin(x).data.copy(), lin(2 * x).data.copy()
    with lin.register_forward_pre_hook(lambda m, args: args[0] * 2.0):   # one value: wrapped
        np.testing.assert_allclose(lin(x).data, doubled)
    with lin.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,)):
        np.testing.assert_allclose(lin(x).data, lin.bias.data[None, :])
    seen = []
    with lin.register_forward_hook(lambda m, args, out: out + 1.0), \
            lin.register_forward_hook(lambda m, args, out: seen.append(out.data.copy())):
        y = lin(x)
    np.testing.assert_allclose(y.data, plain + 1.0)
    np.testing.assert_allclose(seen[0], plain + 1.0)     # the next hook sees the new output
    np.testing.assert_allclose(lin(x).data, plain)       # all removed on leaving the with


def test_with_kwargs_and_prepend():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    h1 = m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                     with_kwargs=True)
    h2 = m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs)),
                                 with_kwargs=True)
    h3 = m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    out = m(Tensor(2.0))
    assert out.item() == 6.0
    assert order == ["first", ("kw", {"factor": 3.0})]
    bad = m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"tuple of \(new_args, new_kwargs\)"):
        m(Tensor(2.0))
    for h in (h1, h2, h3, bad):
        h.remove()


def test_always_call_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    calls = []
    h1 = m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append("normal"))

    def failing(mod, args, out):
        raise KeyError("inside the hook")
    h3 = m.register_forward_hook(failing, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="boom"):
            m(Tensor(1.0))
    assert calls == [("always", None)]
    assert any("silenced" in str(w.message) for w in caught)
    for h in (h1, h2, h3):
        h.remove()


def test_no_hook_means_no_hook_state_and_the_direct_path():
    lin = nn.Linear(2, 2)
    assert "_forward_hooks" not in lin.__dict__ and "_forward_pre_hooks" not in lin.__dict__
    assert module_mod._live_hooks == 0
    h = lin.register_forward_hook(lambda m, a, o: None)
    assert module_mod._live_hooks == 1
    h.remove()
    assert module_mod._live_hooks == 0
    assert list(lin.state_dict()) == ["weight", "bias"]          # hooks are not state
    with pytest.raises(TypeError, match="hook must be callable"):
        lin.register_forward_hook("not a function")
    copy.deepcopy(lin)                                            # still copies


def test_the_same_hook_order_and_values_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = make_model()
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Module(), torch.nn.Linear(3, 1))
    theirs[1].fc, theirs[1].act = torch.nn.Linear(3, 3), torch.nn.Tanh()
    theirs[1].forward = lambda x: theirs[1].act(theirs[1].fc(x)) + x
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    logs = {}
    for label, model in (("ours", ours), ("torch", theirs)):
        log, handles = [], []
        for name, m in model.named_modules():
            handles.append(m.register_forward_pre_hook(
                lambda m, args, name=name: log.append(("pre", name, tuple(args[0].shape)))))
            handles.append(m.register_forward_hook(
                lambda m, args, out, name=name: log.append(("post", name, tuple(out.shape)))))
        handles.append(model[2].register_forward_hook(lambda m, args, out: out * 2))
        x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
        out = model(x if label == "ours" else torch.tensor(x))
        logs[label] = (log, np.asarray(out.detach().numpy() if label == "torch" else out.data))
        for h in handles:
            h.remove()
    assert logs["ours"][0] == logs["torch"][0]
    np.testing.assert_allclose(logs["ours"][1], logs["torch"][1], rtol=1e-5, atol=1e-6)
