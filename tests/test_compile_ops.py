"""Every op gives the same values and gradients compiled as eager on inputs the
trace never saw: nothing computed from a tensor's values may be frozen into a
program (indices, orders, masks, integer arithmetic, casts, detach). Ops whose
result's size depends on the values refuse to be compiled, clearly."""
import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core import Tensor
from autograd_core.compiler import CompileError

F = nn.functional


def real(seed, shape=(4, 5)):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def with_ties(seed, shape=(4, 5)):
    return np.round(np.random.default_rng(seed).uniform(-2, 2, shape))


def ints(seed, shape=(4, 5), high=5):
    return np.random.default_rng(seed + 100).integers(0, high, shape)


def row_index(seed):
    return ints(seed, (4,), 4)


# name: (function, input makers); the first input is differentiable when it is real
CASES = {
    "div_floor": (lambda x: ag.div(x, 0.7, rounding_mode="floor"), [real]),
    "div_trunc": (lambda x: ag.div(x, 0.7, rounding_mode="trunc"), [real]),
    "floordiv_int": (lambda i: (i * 3 - 5) // 2, [ints]),
    "mod": (lambda x: (x % 0.7) * x, [real]),
    "astype_int": (lambda x: (x * 3).astype(np.int64), [real]),
    "long_then_float": (lambda x: x * (x * 2).long().float(), [real]),
    "floor_int": (lambda i: ag.floor(i + 1), [ints]),
    "sign_bool": (lambda x: ag.sign(x > 0), [real]),
    "nan_to_num": (lambda x: ag.nan_to_num(ag.log(x)), [real]),
    "isclose": (lambda x: ag.isclose(x, ag.round(x), atol=0.3), [real]),
    "lerp_tensor_weight": (lambda x: ag.lerp(x, x * x, x), [real]),
    "sum_int": (lambda i: ag.sum(i * 2, dim=1), [ints]),
    "prod_int": (lambda i: ag.prod(i + 1, dim=1), [ints]),
    "cumsum_int": (lambda i: ag.cumsum(i, dim=1), [ints]),
    "max_dim": (lambda x: ag.max(x, dim=1), [real]),
    "min_dim_keepdim": (lambda x: ag.min(x, dim=0, keepdim=True), [real]),
    "max_ties": (lambda x: ag.max(x, axis=1), [with_ties]),
    "argmax": (lambda x: ag.argmax(x, dim=1), [real]),
    "argmin_flat": (lambda x: ag.argmin(x), [real]),
    "norm_with_zeros": (lambda x: ag.norm(ag.relu(x), dim=1), [real]),
    "std_with_zero_rows": (lambda x: ag.std(ag.relu(x - 1.5), dim=1), [real]),
    "any": (lambda x: ag.any(x > 1, dim=1), [real]),
    "all": (lambda x: ag.all(x > -1, dim=1), [real]),
    "count_nonzero": (lambda x: ag.count_nonzero(ag.relu(x), dim=1), [real]),
    "sort": (lambda x: ag.sort(x, dim=1), [real]),
    "sort_descending": (lambda x: ag.sort(x, dim=0, descending=True), [real]),
    "argsort": (lambda x: ag.argsort(x, dim=1), [real]),
    "topk": (lambda x: ag.topk(x, 2, dim=1), [real]),
    "kthvalue": (lambda x: ag.kthvalue(x, 2, dim=1), [real]),
    "median_dim": (lambda x: ag.median(x, dim=1), [real]),
    "median_all": (lambda x: ag.median(x), [with_ties]),
    "mode": (lambda i: ag.mode(i, dim=1), [ints]),
    "gather": (lambda x, i: ag.gather(x, 1, i), [real, ints]),
    "take_along_dim": (lambda x, i: ag.take_along_dim(x, i[:, :1], dim=1), [real, ints]),
    "index_select": (lambda x, i: ag.index_select(x, 0, i), [real, row_index]),
    "getitem_tensor": (lambda x, i: x[i], [real, row_index]),
    "masked_fill": (lambda x: x.masked_fill(x > 0, 0.5), [real]),
    "setitem_mask": (lambda x: _set_where_positive(x), [real]),
    "where": (lambda x: ag.where(x > 0, x, -2 * x), [real]),
    "scatter": (lambda x, i: ag.scatter(ag.zeros(4, 5, dtype=ag.float64), 1, i, x), [real, ints]),
    "scatter_add": (lambda x, i: ag.scatter_add(ag.zeros(4, 5, dtype=ag.float64), 1, i, x),
                    [real, ints]),
    "index_add": (lambda x, i: ag.index_add(ag.zeros(6, 5, dtype=ag.float64), 0, i, x),
                  [real, row_index]),
    "hardtanh": (lambda x: ag.hardtanh(x), [real]),
    "relu6": (lambda x: ag.relu6(x * 4), [real]),
    "elu": (lambda x: ag.elu(x), [real]),
    "selu": (lambda x: ag.selu(x), [real]),
    "celu": (lambda x: ag.celu(x, 0.5), [real]),
    "hardsigmoid": (lambda x: ag.hardsigmoid(x * 3), [real]),
    "hardswish": (lambda x: ag.hardswish(x * 3), [real]),
    "logsigmoid": (lambda x: ag.logsigmoid(x), [real]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), [real]),
    "clamp": (lambda x: ag.clamp(x, -0.5, 0.5), [real]),
    "abs": (lambda x: ag.abs(x), [real]),
    "detach": (lambda x: (x * 2).detach() + x, [real]),
    "bool_mask_product": (lambda x: x * (x > 0), [real]),
    "softmax": (lambda x: ag.softmax(x, 1), [real]),
    "view_as_int": (lambda x: (x * 1).view(np.int64) % 7, [real]),
    "embedding": (lambda w, i: F.embedding(i, w), [real, lambda seed: ints(seed, (3, 2), 4)]),
}


def _set_where_positive(x):
    y = x * 1
    y[y > 0] = 0.25
    return y


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _leaves(o)]
    return [out]


def _step(fn):
    """fn's outputs and, for a real first input, its gradient of a weighted sum of them."""
    def step(*args):
        out = fn(*args)
        x = args[0]
        if x.requires_grad:
            terms = [(o * (k + 1.0)).sum() for k, o in enumerate(_leaves(out)) if o.requires_grad]
            if terms:
                sum(terms).backward()
                return out, x.grad
        return out
    return step


def _inputs(makers, seed):
    args = [Tensor(make(seed)) for make in makers]
    if makers[0] in (real, with_ties):
        args[0].requires_grad_(True)
    return args


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # log(x < 0)
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_equals_eager_on_new_values(name):
    fn, makers = CASES[name]
    compiled = ag.compile(_step(fn))
    for seed in range(4):
        ag.manual_seed(seed)
        expected = _leaves(_step(fn)(*_inputs(makers, seed)))
        ag.manual_seed(seed)
        got = _leaves(compiled(*_inputs(makers, seed)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape and g.dtype == e.dtype, (name, seed)
            np.testing.assert_array_equal(g.data, e.data, err_msg=f"{name}, call {seed}")
    assert compiled.stats["traces"] == 1, name


REFUSED = {
    "x[mask]": (lambda x: x[x > 0].sum(), "boolean mask"),
    "masked_select": (lambda x: ag.masked_select(x, x > 0), "masked_select"),
    "nonzero": (lambda x: ag.nonzero(x > 0), "nonzero"),
    "unique": (lambda x: ag.unique(ag.round(x)), "unique"),
    "bincount": (lambda x: ag.bincount((x[0] > 0).long()), "bincount"),
    "allclose": (lambda x: ag.tensor(1.0) if ag.allclose(x, x) else x, "allclose"),
    "item": (lambda x: x.sum().item(), "item"),
    "setitem_values": (lambda x: _set_values(x), "boolean mask"),
}


def _set_values(x):
    y = x * 1
    y[y > 0] = ag.ones(20, dtype=ag.float64)[: int(4)]
    return y


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_value_dependent_sizes_are_refused_clearly(name):
    fn, word = REFUSED[name]
    with pytest.raises(CompileError, match=word):
        ag.compile(fn)(Tensor(real(0)))


def test_a_written_zero_d_buffer_is_state_not_a_constant():
    counter = Tensor(np.array(0))          # stored as a NumPy scalar

    @ag.compile
    def step(x):
        with ag.no_grad():
            counter.add_(1)
        return x * counter

    for k in range(1, 4):
        assert step(Tensor(2.0)).item() == 2.0 * k
    assert counter.item() == 3


def test_infinite_settings_replay():
    f = ag.compile(lambda x: ag.logsigmoid(x) + ag.clamp(x, max=float("inf")))
    for v in (0.5, -3.0):
        x = Tensor(np.array([v, 2 * v]))
        np.testing.assert_array_equal(f(x).data, (ag.logsigmoid(x) + x).data)
