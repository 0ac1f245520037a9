"""nn's containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict)
behave as PyTorch's: the same names, orders, state_dict keys, reprs and errors,
checked against torch.nn where it is installed."""
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Tensor
import nn


def names(module):
    return [n for n, _ in module.named_parameters()]


def kinds(container):
    return [type(m).__name__ for m in container]


# ---------------------------------------------------------------- Sequential

def test_sequential_list_operations_renumber_as_pytorch():
    a, b, c, d = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh()
    seq = nn.Sequential(a, b, c)
    assert seq.insert(1, d) is seq and list(seq) == [a, d, b, c]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert names(seq) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert seq.pop(1) is d and list(seq) == [a, b, c] and list(seq._modules) == ["0", "1", "2"]
    del seq[0]
    assert list(seq) == [b, c] and names(seq) == ["1.weight", "1.bias"]
    assert not hasattr(seq, "2")                  # the old names are gone from the instance
    seq.insert(-1, a)                             # before the last one, as list.insert
    assert list(seq) == [b, a, c]
    seq.insert(len(seq), d)
    assert list(seq)[-1] is d
    del seq[1:3]
    assert list(seq) == [b, d]
    assert seq.extend([a, c]) is seq and list(seq) == [b, d, a, c]
    with pytest.raises(IndexError):
        seq.insert(9, a)
    with pytest.raises(TypeError):
        seq.insert(0, lambda x: x)
    with pytest.raises(IndexError):
        del seq[4]


def test_sequential_slicing_adding_and_repeating():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b, c)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    both = seq + nn.Sequential(nn.Tanh())
    assert kinds(both) == ["Linear", "ReLU", "Linear", "Tanh"] and both[0] is a
    assert list(both._modules) == ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match="only objects of Sequential class"):
        seq + [nn.Tanh()]
    twice = nn.Sequential(a, b) * 2
    assert list(twice) == [a, b, a, b] and names(twice) == ["0.weight", "0.bias"]   # shared
    assert list(2 * nn.Sequential(b)) == [b, b]
    with pytest.raises(ValueError, match="Non-positive"):
        seq * 0
    with pytest.raises(TypeError):
        seq * 1.5
    seq += nn.Sequential(nn.Sigmoid())
    assert kinds(seq) == ["Linear", "ReLU", "Linear", "Sigmoid"]
    small = nn.Sequential(b)
    small *= 3
    assert list(small) == [b, b, b]
    x = np.ones((1, 2), dtype=np.float32)
    np.testing.assert_array_equal(seq(x).data, seq[3](seq[2](seq[1](seq[0](x)))).data)
    assert "0" not in dir(seq) and "forward" in dir(seq)


# ---------------------------------------------------------------- ModuleList

def test_module_list_operations():
    ml = nn.ModuleList(nn.Linear(1, 1) for _ in range(3))
    first = ml[0]
    ml.insert(0, nn.ReLU())
    assert kinds(ml) == ["ReLU", "Linear", "Linear", "Linear"] and ml[1] is first
    assert names(ml)[:2] == ["1.weight", "1.bias"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml[0] = nn.Tanh()
    assert isinstance(ml[0], nn.Tanh) and ml[-1] is ml[3]
    assert ml.pop(0).__class__ is nn.Tanh and len(ml) == 3 and ml[0] is first
    del ml[::2]
    assert len(ml) == 1 and list(ml._modules) == ["0"]
    ml += [nn.ReLU()]
    assert kinds(ml + nn.ModuleList([nn.Tanh()])) == ["Linear", "ReLU", "Tanh"]
    with pytest.raises(TypeError, match="should be called with an iterable"):
        ml.extend(nn.ReLU())
    with pytest.raises(IndexError, match="out of range"):
        ml[5]
    with pytest.raises(NotImplementedError):
        ml(np.ones(1))


def test_module_list_repr_groups_repeated_modules_as_pytorch():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(),
                        nn.Linear(2, 3)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): ReLU()\n"
        "  (4): Linear(in_features=2, out_features=3, bias=True)\n"
        ")")
    assert repr(nn.ModuleList()) == "ModuleList()"
    torch = pytest.importorskip("torch")
    tml = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2),
                               torch.nn.ReLU(), torch.nn.Linear(2, 3)])
    assert repr(ml) == repr(tml)


# ---------------------------------------------------------------- ModuleDict

def test_module_dict_is_a_dict_of_registered_modules():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    md["dec"] = nn.Linear(3, 2)
    assert list(md) == ["enc", "act", "dec"] and list(md.keys()) == ["enc", "act", "dec"]
    assert names(md) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert "act" in md and len(md) == 3 and md["act"] is md.act
    assert [k for k, _ in md.items()] == list(md.keys()) and len(list(md.values())) == 3
    assert isinstance(md.pop("act"), nn.ReLU) and "act" not in md and not hasattr(md, "act")
    del md["dec"]
    assert list(md) == ["enc"]
    md.update([("a", nn.Tanh()), ("b", nn.Sigmoid())])
    md.update(nn.ModuleDict({"c": nn.ReLU()}))
    assert list(md) == ["enc", "a", "b", "c"]
    assert list(md.state_dict()) == ["enc.weight", "enc.bias"]
    md.clear()
    assert len(md) == 0 and names(md) == []
    for bad_key in ("training", "keys", "forward"):      # would hide Module's own attributes
        with pytest.raises(KeyError, match="already exists"):
            md[bad_key] = nn.ReLU()
    with pytest.raises(KeyError, match="contain"):
        md["a.b"] = nn.ReLU()
    with pytest.raises(TypeError, match="update should be called with an iterable"):
        md.update(3)
    with pytest.raises(ValueError, match="element #0 has length 3"):
        md.update([("a", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="element #0 should be Iterable"):
        md.update([5])
    with pytest.raises(KeyError):
        md["missing"]


# ---------------------------------------------------------------- ParameterList / Dict

def test_parameter_list_registers_and_converts_tensors():
    p0 = nn.Parameter(np.ones(3))
    pl = nn.ParameterList([p0, Tensor(np.zeros((2, 2))), "note"])
    assert len(pl) == 3 and pl[0] is p0
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad   # a Tensor became one
    assert pl[2] == "note"
    assert names(pl) == ["0", "1"] and list(pl.state_dict()) == ["0", "1"]
    pl.append(nn.Parameter(np.ones(1)))
    pl += [nn.Parameter(np.ones(4))]
    assert len(pl) == 5 and names(pl) == ["0", "1", "3", "4"]
    assert isinstance(pl[1:3], nn.ParameterList) and len(pl[1:3]) == 2 and pl[-1] is pl[4]
    pl[0] = nn.Parameter(np.full(3, 2.0))
    assert float(pl[0].data[0]) == 2.0
    assert [type(v).__name__ for v in pl] == ["Parameter", "Parameter", "str", "Parameter",
                                              "Parameter"]
    lines = repr(pl).splitlines()
    assert lines[1] == "    (0): Parameter containing: [torch.FloatTensor of size 3]"
    assert lines[3] == "    (2): Object of type: str"
    with pytest.raises(RuntimeError, match="should not be called"):
        pl()
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        pl.extend(Tensor(np.ones(2)))
    with pytest.raises(IndexError):
        pl[7]
    with pytest.raises(TypeError, match="cannot assign"):
        pl[0] = 3                           # a parameter's slot takes a Parameter (PyTorch)


def test_parameter_dict_is_a_dict_of_registered_parameters():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.zeros(3))
    pd = nn.ParameterDict(OrderedDict([("b", b), ("a", a)]))
    assert list(pd) == ["b", "a"] and pd["a"] is a and names(pd) == ["b", "a"]
    pd.update({"d": Tensor(np.ones(1)), "c": nn.Parameter(np.ones(1))})   # a plain dict: sorted
    assert list(pd) == ["b", "a", "c", "d"] and isinstance(pd["d"], nn.Parameter)
    pd["a"] = nn.Parameter(np.full(2, 5.0))                  # replaced in place: same position
    assert list(pd) == ["b", "a", "c", "d"] and float(pd["a"].data[0]) == 5.0
    assert pd.get("zz") is None and pd.get("b") is b and "c" in pd and len(pd) == 4
    assert pd.setdefault("e", nn.Parameter(np.ones(1))) is pd["e"]
    assert pd.pop("e") is not None and "e" not in pd and not hasattr(pd, "e")
    assert pd.popitem()[0] == "d" and list(reversed(pd)) == ["c", "a", "b"]
    copy = pd.copy()
    assert copy["b"] is b and list(copy) == list(pd)
    merged = pd | {"z": nn.Parameter(np.ones(1))}
    assert list(merged) == ["b", "a", "c", "z"] and "z" not in pd
    pd |= nn.ParameterDict({"y": nn.Parameter(np.ones(1))})
    assert list(pd)[-1] == "y"
    keys = pd.fromkeys(["p", "q"], Tensor(np.ones(2)))
    assert list(keys) == ["p", "q"] and keys["p"] is not keys["q"]
    assert [k for k, _ in pd.items()] == list(pd.keys()) and len(pd.values()) == len(pd)
    assert list(pd.state_dict()) == list(pd)
    del pd["b"]
    assert "b" not in pd and names(pd)[0] == "a"
    assert repr(nn.ParameterDict({"w": nn.Parameter(np.ones((2, 3)))})) == (
        "ParameterDict(  (w): Parameter containing: [torch.FloatTensor of size 2x3])")
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = nn.Parameter(np.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        pd["training"] = nn.Parameter(np.ones(1))
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pd()
    pd.clear()
    assert len(pd) == 0 and names(pd) == []


def test_containers_match_pytorch_names_and_orders():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    ours = nn.ParameterDict({"b": nn.Parameter(np.ones(1)), "a": nn.Parameter(np.ones(1))})
    theirs = tn.ParameterDict({"b": tn.Parameter(torch.ones(1)), "a": tn.Parameter(torch.ones(1))})
    assert list(ours) == list(theirs)
    ours.update({"d": nn.Parameter(np.ones(1)), "c": nn.Parameter(np.ones(1))})
    theirs.update({"d": tn.Parameter(torch.ones(1)), "c": tn.Parameter(torch.ones(1))})
    assert list(ours) == list(theirs)

    def build(lib):
        seq = lib.Sequential(lib.Linear(2, 2), lib.ReLU(), lib.Linear(2, 2))
        seq.insert(1, lib.Tanh())
        del seq[0]
        seq.append(lib.Linear(2, 1))
        box = lib.ModuleDict({"seq": seq, "list": lib.ModuleList([lib.Linear(1, 1)] * 2)})
        box["list"].insert(0, lib.Linear(1, 2))
        return box
    assert list(build(nn).state_dict()) == list(build(tn).state_dict())
    assert [n for n, _ in build(nn).named_modules()] == [n for n, _ in build(tn).named_modules()]
