"""Embedding, RNN, LSTM, GRU and their cells.

Against PyTorch (skipped without it), from the same weights in both
directions (torch's state_dict loaded into ours and ours into torch): outputs,
final states, input, state and parameter gradients, in float32 and float64,
batch first or not, unbatched, one or two layers, bidirectional, given and
default initial states, bias off, LSTM projections, dropout in eval mode (and
dropout=1 in training mode, which is deterministic). Without PyTorch: the
gradient checker on an LSTM and a GRU as functions of input and weights,
forward mode and Hessian-vector products against finite differences,
initialisations, errors, and compiled training steps equal to eager ones.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.testing import check_grads
import nn
import nn.functional as F
import optim
from nn import recurrent as R

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=1e-4, atol=2e-6)}
DTYPES = [np.float32, np.float64]
I, H = 5, 6  # input_size, hidden_size of the comparisons

# kind -> (class name, extra constructor arguments)
KINDS = {"rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
         "lstm": ("LSTM", {}), "gru": ("GRU", {})}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _tdtype(torch, dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def from_torch(torch, kind, dtype, seed=0, **kw):
    """(ours, theirs): torch's layer, freshly initialised, and ours holding its state_dict."""
    name, extra = KINDS[kind]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(I, H, **extra, **kw, dtype=_tdtype(torch, dtype))
    ours = getattr(nn, name)(I, H, **extra, **kw, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def to_torch(torch, kind, dtype, seed=0, **kw):
    """(ours, theirs): our layer, freshly initialised, and torch's holding its state_dict."""
    name, extra = KINDS[kind]
    ag.manual_seed(seed)
    ours = getattr(nn, name)(I, H, **extra, **kw, dtype=dtype)
    theirs = getattr(torch.nn, name)(I, H, **extra, **kw, dtype=_tdtype(torch, dtype))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _states(state):
    """The final state(s) as a list: [h_n] or [h_n, c_n]."""
    return list(state) if isinstance(state, tuple) else [state]


def run_both(torch, ours, theirs, x, hx, dtype):
    """Run both layers on x (and the initial state(s) ``hx``, a list of arrays or
    None), back-propagate the same random cotangents of the output and the final
    states, and compare values and every gradient: input, initial states, parameters."""
    tol = TOL[dtype]
    xo, xt = Tensor(x.astype(dtype), requires_grad=True), torch.tensor(x.astype(dtype),
                                                                        requires_grad=True)
    if hx is None:
        ho = ht = None
        leaves_o, leaves_t = [xo], [xt]
    else:
        so = [Tensor(h.astype(dtype), requires_grad=True) for h in hx]
        st_ = [torch.tensor(h.astype(dtype), requires_grad=True) for h in hx]
        ho, ht = (tuple(so), tuple(st_)) if len(hx) == 2 else (so[0], st_[0])
        leaves_o, leaves_t = [xo] + so, [xt] + st_
    out_o, state_o = ours(xo, ho)
    out_t, state_t = theirs(xt, ht)
    results_o, results_t = [out_o] + _states(state_o), [out_t] + _states(state_t)
    rng = np.random.default_rng(7)
    loss_o, loss_t = 0, 0
    for a, b in zip(results_o, results_t):
        assert a.shape == tuple(b.shape)
        assert a.dtype == dtype
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
        g = rng.standard_normal(a.shape).astype(dtype)
        loss_o = loss_o + (a * Tensor(g)).sum()
        loss_t = loss_t + (b * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(leaves_o, leaves_t)):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **tol, err_msg=f"leaf {i}")
    mine = dict(ours.named_parameters())
    theirs_named = dict(theirs.named_parameters())
    assert list(mine) == list(theirs_named)
    for name, p in theirs_named.items():
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), **tol, err_msg=name)
    return out_o, state_o


def data_for(kind, config, seed=1, T=4, N=3, proj=0):
    """Input and initial states for ``config`` (keys: num_layers, bidirectional,
    batch_first, unbatched, state)."""
    rng = np.random.default_rng(seed)
    L = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    if config.get("unbatched"):
        x = rng.standard_normal((T, I))
        h_shape, c_shape = (L, proj or H), (L, H)
    else:
        x = rng.standard_normal((N, T, I) if config.get("batch_first") else (T, N, I))
        h_shape, c_shape = (L, N, proj or H), (L, N, H)
    if not config.get("state"):
        return x, None
    hx = [rng.standard_normal(h_shape)]
    if kind == "lstm":
        hx.append(rng.standard_normal(c_shape))
    return x, hx


LAYER_KEYS = ("num_layers", "bidirectional", "batch_first", "bias", "dropout", "proj_size")
CONFIGS = [
    dict(),
    dict(num_layers=2, state=True),
    dict(bidirectional=True, state=True),
    dict(num_layers=2, bidirectional=True, batch_first=True, state=True),
    dict(batch_first=True),
    dict(bias=False, num_layers=2, bidirectional=True),
    dict(unbatched=True, num_layers=2, bidirectional=True, state=True),
    dict(unbatched=True, batch_first=True),
    dict(num_layers=2, dropout=0.5, eval=True, state=True),
]


def _layer_kwargs(config):
    return {k: config[k] for k in LAYER_KEYS if k in config}


def _config_id(c):
    return "-".join(f"{k}={v}" for k, v in c.items()) or "defaults"


# ---------------------------------------------------------------------- layers vs torch

@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_layers_match_torch_from_torch_weights(torch, kind, dtype, config):
    ours, theirs = from_torch(torch, kind, dtype, **_layer_kwargs(config))
    if config.get("eval"):
        ours.eval()
        theirs.eval()
    x, hx = data_for(kind, config)
    run_both(torch, ours, theirs, x, hx, dtype)


@pytest.mark.parametrize("config", [dict(num_layers=2, bidirectional=True, state=True),
                                    dict(batch_first=True, unbatched=True, state=True)],
                         ids=_config_id)
@pytest.mark.parametrize("kind", list(KINDS))
def test_layers_match_torch_from_our_weights(torch, kind, config):
    ours, theirs = to_torch(torch, kind, np.float64, **_layer_kwargs(config))
    x, hx = data_for(kind, config, seed=3)
    run_both(torch, ours, theirs, x, hx, np.float64)


@pytest.mark.parametrize("config", [dict(state=True), dict(num_layers=2, bidirectional=True),
                                    dict(num_layers=2, bidirectional=True, batch_first=True,
                                         state=True, bias=False),
                                    dict(unbatched=True, state=True, num_layers=2)],
                         ids=_config_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_lstm_with_projections_matches_torch(torch, dtype, config):
    ours, theirs = from_torch(torch, "lstm", dtype, proj_size=2, **_layer_kwargs(config))
    assert ours.weight_hr_l0.shape == (2, H)
    x, hx = data_for("lstm", config, proj=2)
    out, (h_n, c_n) = run_both(torch, ours, theirs, x, hx, dtype)
    D = 2 if config.get("bidirectional") else 1
    assert out.shape[-1] == 2 * D and h_n.shape[-1] == 2 and c_n.shape[-1] == H


@pytest.mark.parametrize("kind", list(KINDS))
def test_dropout_one_in_training_mode_zeroes_what_the_upper_layer_reads(torch, kind):
    # Dropout is random, except at p = 1: the second layer then reads zeros, in both.
    ours, theirs = from_torch(torch, kind, np.float64, num_layers=2, dropout=1.0)
    assert ours.training and theirs.training
    x, hx = data_for(kind, dict(num_layers=2, state=True))
    run_both(torch, ours, theirs, x, hx, np.float64)


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(list(KINDS)), T=st.integers(1, 5), N=st.integers(1, 4),
       num_layers=st.integers(1, 2), bidirectional=st.booleans(), batch_first=st.booleans(),
       seed=st.integers(0, 1000))
def test_layers_match_torch_on_drawn_shapes(kind, T, N, num_layers, bidirectional,
                                            batch_first, seed):
    torch = pytest.importorskip("torch")
    config = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  state=seed % 2 == 0)
    ours, theirs = from_torch(torch, kind, np.float64, seed=seed, **_layer_kwargs(config))
    x, hx = data_for(kind, config, seed=seed, T=T, N=N)
    run_both(torch, ours, theirs, x, hx, np.float64)


def test_state_dicts_have_torchs_names_shapes_and_order_and_round_trip(torch):
    for kind in KINDS:
        for kw in (dict(), dict(num_layers=3, bidirectional=True), dict(bias=False),
                   dict(proj_size=3, num_layers=2, bidirectional=True) if kind == "lstm" else {}):
            ours, theirs = from_torch(torch, kind, np.float32, **kw)
            mine, their = ours.state_dict(), theirs.state_dict()
            assert list(mine) == list(their)
            for k in their:
                assert mine[k].shape == tuple(their[k].shape) and mine[k].dtype == np.float32
                np.testing.assert_array_equal(mine[k], their[k].numpy())
            assert ours._flat_weights_names == theirs._flat_weights_names
            assert [[p.shape for p in ws] for ws in ours.all_weights] == \
                [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]
            # and back: ours -> torch -> a fresh one of ours
            theirs.load_state_dict({k: torch.tensor(v) for k, v in mine.items()})
            again = type(ours)(I, H, **KINDS[kind][1], **kw)
            again.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
            for k, v in again.state_dict().items():
                np.testing.assert_array_equal(v, mine[k])


def test_reprs_are_torchs(torch):
    for kind in KINDS:
        for kw in (dict(), dict(num_layers=2, bias=False, batch_first=True, dropout=0.25,
                                bidirectional=True)):
            ours, theirs = from_torch(torch, kind, np.float32, **kw)
            assert repr(ours) == repr(theirs)
    assert repr(nn.LSTM(3, 5, proj_size=2)) == repr(torch.nn.LSTM(3, 5, proj_size=2))
    for ours, theirs in [(nn.RNNCell(3, 4, nonlinearity="relu", bias=False),
                          torch.nn.RNNCell(3, 4, nonlinearity="relu", bias=False)),
                         (nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)),
                         (nn.GRUCell(3, 4, bias=False), torch.nn.GRUCell(3, 4, bias=False)),
                         (nn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0,
                                       scale_grad_by_freq=True),
                          torch.nn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0,
                                             scale_grad_by_freq=True))]:
        assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------- cells vs torch

CELLS = {"rnn_tanh": ("RNNCell", {}), "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
         "lstm": ("LSTMCell", {}), "gru": ("GRUCell", {})}


@pytest.mark.parametrize("batched,given,bias", [(True, True, True), (True, False, True),
                                                (False, True, False), (False, False, True)])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cells_match_torch_over_a_sequence(torch, kind, dtype, batched, given, bias):
    name, extra = CELLS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(I, H, bias=bias, **extra, dtype=_tdtype(torch, dtype))
    ours = getattr(nn, name)(I, H, bias=bias, **extra, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    lead = (3,) if batched else ()
    xs = rng.standard_normal((4,) + lead + (I,)).astype(dtype)
    n_states = 2 if kind == "lstm" else 1
    h0 = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(n_states)]
    xo, xt = Tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    so = [Tensor(h, requires_grad=True) for h in h0]
    st_ = [torch.tensor(h, requires_grad=True) for h in h0]
    state_o = (tuple(so) if n_states == 2 else so[0]) if given else None
    state_t = (tuple(st_) if n_states == 2 else st_[0]) if given else None
    loss_o = loss_t = 0
    for t in range(xs.shape[0]):   # the cell applied along a sequence, its state fed back
        state_o, state_t = ours(xo[t], state_o), theirs(xt[t], state_t)
        for a, b in zip(_states(state_o), _states(state_t)):
            assert a.shape == tuple(b.shape)
            np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL[dtype])
        loss_o = loss_o + sum((a * (t + 1.0)).tanh().sum() for a in _states(state_o))
        loss_t = loss_t + sum((b * (t + 1.0)).tanh().sum() for b in _states(state_t))
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), **TOL[dtype])
    if given:
        for a, b in zip(so, st_):
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **TOL[dtype])
    for k, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, k).grad.data, p.grad.numpy(), **TOL[dtype],
                                   err_msg=k)


def test_cell_functions_are_the_cells_arithmetic(torch):
    rng = np.random.default_rng(2)
    x, h, c = (rng.standard_normal(s) for s in ((3, I), (3, H), (3, H)))
    for fn, cls, n in [(R.rnn_tanh_cell, "rnn_tanh_cell", 1), (R.rnn_relu_cell, "rnn_relu_cell", 1),
                       (R.lstm_cell, "lstm_cell", 4), (R.gru_cell, "gru_cell", 3)]:
        ws = [rng.standard_normal(s) for s in ((n * H, I), (n * H, H), (n * H,), (n * H,))]
        hx = (Tensor(h), Tensor(c)) if n == 4 else Tensor(h)
        thx = (torch.tensor(h), torch.tensor(c)) if n == 4 else torch.tensor(h)
        ours = fn(Tensor(x), hx, *map(Tensor, ws))
        theirs = getattr(torch, cls)(torch.tensor(x), thx, *map(torch.tensor, ws))
        for a, b in zip(_states(ours), _states(theirs) if n == 4 else [theirs]):
            np.testing.assert_allclose(a.data, b.numpy(), **TOL[np.float64])


def test_sequence_functions_are_torchs(torch):
    ours, theirs = from_torch(torch, "lstm", np.float64, num_layers=2, bidirectional=True)
    x, (h0, c0) = data_for("lstm", dict(num_layers=2, bidirectional=True, state=True))
    out, h_n, c_n = R.lstm(Tensor(x), (Tensor(h0), Tensor(c0)), list(ours.parameters()),
                           True, 2, 0.0, False, True, False)
    t_out, t_h, t_c = torch.lstm(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)),
                                 list(theirs.parameters()), True, 2, 0.0, False, True, False)
    for a, b in ((out, t_out), (h_n, t_h), (c_n, t_c)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL[np.float64])
    ours, theirs = from_torch(torch, "gru", np.float64, batch_first=True)
    x, (h0,) = data_for("gru", dict(batch_first=True, state=True))
    out, h_n = R.gru(Tensor(x), Tensor(h0), list(ours.parameters()), True, 1, 0.0, False,
                     False, True)
    t_out, t_h = torch.gru(torch.tensor(x), torch.tensor(h0), list(theirs.parameters()), True,
                           1, 0.0, False, False, True)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **TOL[np.float64])
    np.testing.assert_allclose(h_n.data, t_h.detach().numpy(), **TOL[np.float64])


# ---------------------------------------------------------------------- embedding vs torch

def embedding_twins(torch, dtype=np.float64, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(10, 4, dtype=_tdtype(torch, dtype), **kw)
    ours = nn.Embedding(10, 4, dtype=dtype, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=2), dict(padding_idx=-1),
                                dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0),
                                dict(scale_grad_by_freq=True),
                                dict(padding_idx=5, max_norm=1.5, scale_grad_by_freq=True),
                                dict(sparse=True)], ids=lambda kw: _config_id(kw))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_embedding_matches_torch(torch, dtype, kw):
    ours, theirs = embedding_twins(torch, dtype, **kw)
    if kw.get("padding_idx") is not None:
        # as torch: the padding row starts at zero; make it non-zero to see it is looked up
        with ag.no_grad():
            ours.weight[kw["padding_idx"]] = 3.0
        with torch.no_grad():
            theirs.weight[kw["padding_idx"]] = 3.0
    rng = np.random.default_rng(0)
    tol = TOL[dtype]
    for step, idx in enumerate([np.array([[1, 2, 5, 1], [9, 5, 5, 0]]), np.array([5, 9, 3]),
                                np.array(7), rng.integers(0, 10, (2, 3, 2))]):
        out, tout = ours(Tensor(idx)), theirs(torch.tensor(idx))
        assert out.shape == tuple(tout.shape) == idx.shape + (4,)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
        # max_norm changed the table in place, identically
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), **tol)
        g = rng.standard_normal(out.shape).astype(dtype)
        ours.weight.grad = None
        theirs.weight.grad = None
        (out * Tensor(g)).sum().backward()
        (tout * torch.tensor(g)).sum().backward()
        tgrad = theirs.weight.grad
        tgrad = tgrad.to_dense() if tgrad.is_sparse else tgrad
        np.testing.assert_allclose(ours.weight.grad.data, tgrad.numpy(), **tol,
                                   err_msg=f"step {step}")


def test_embedding_functional_and_from_pretrained_match_torch(torch):
    table = np.random.default_rng(0).standard_normal((6, 3))
    idx = np.array([[0, 5, 5], [2, 0, 1]])
    w, tw = Tensor(table.copy(), requires_grad=True), torch.tensor(table.copy(),
                                                                    requires_grad=True)
    out = F.embedding(idx, w, padding_idx=0, max_norm=1.2)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=0, max_norm=1.2)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL[np.float64])
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), **TOL[np.float64])
    for freeze in (True, False):
        ours = nn.Embedding.from_pretrained(Tensor(table), freeze=freeze, padding_idx=1)
        theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze,
                                                    padding_idx=1)
        assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
        assert ours.weight.dtype == np.float64
        np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
        assert repr(ours) == repr(theirs)
        rows = np.array([[1, 0], [1, 5]])   # the padding row is kept as given, and looked up
        np.testing.assert_array_equal(ours(rows).data,
                                      theirs(torch.tensor(rows)).detach().numpy())


# ---------------------------------------------------------------------- derivatives

def _lstm_of(x, h0, c0, *w):
    return R.lstm(x, (h0, c0), w, True, 1, 0.0, False, True, False)[0]


def test_check_grads_lstm_of_input_state_and_weights():
    ag.manual_seed(0)
    m = nn.LSTM(2, 2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, h0, c0 = (rng.standard_normal(s) for s in ((3, 2, 2), (2, 2, 2), (2, 2, 2)))
    check_grads(_lstm_of, x, h0, c0, *[p.data for p in m.parameters()])


def test_check_grads_gru_of_input_and_weights():
    ag.manual_seed(1)
    m = nn.GRU(2, 2, num_layers=2, batch_first=True, dtype=np.float64)
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2, 2))

    def f(x, *w):
        return R.gru(x, Tensor(h0), w, True, 2, 0.0, False, False, True)[1]

    check_grads(f, x, *[p.data for p in m.parameters()])


def test_check_grads_cells_and_embedding():
    rng = np.random.default_rng(3)
    x, h, c = (rng.standard_normal(s) for s in ((2, 3), (2, 2), (2, 2)))
    ws = {n: [rng.standard_normal(s) * 0.7 for s in ((n * 2, 3), (n * 2, 2), (n * 2,), (n * 2,))]
          for n in (1, 3, 4)}
    check_grads(lambda x, h, *w: R.rnn_tanh_cell(x, h, *w), x, h, *ws[1])
    check_grads(lambda x, h, *w: R.gru_cell(x, h, *w), x, h, *ws[3])
    check_grads(lambda x, h, c, *w: ag.stack(R.lstm_cell(x, (h, c), *w)), x, h, c, *ws[4])
    idx = Tensor(np.array([[1, 0, 3], [3, 3, 2]]))
    check_grads(lambda w: F.embedding(idx, w),   # padding_idx and scale_grad_by_freq change
                # the gradient on purpose: it is then not the derivative
                rng.standard_normal((4, 2)))


def _flat_lstm_loss(m, x):
    """(loss of the flat weight vector, that vector): the sum of squares of an LSTM's
    output, with the weights as one vector w (views of it reshaped per parameter)."""
    shapes = [p.shape for p in m.parameters()]
    sizes = [math.prod(s) for s in shapes]
    w0 = np.concatenate([p.data.ravel() for p in m.parameters()])

    def loss(w):
        parts, at = [], 0
        for shape, n in zip(shapes, sizes):
            parts.append(w[at:at + n].reshape(shape))
            at += n
        out = R.lstm(Tensor(x), (ag.zeros(2, 2, 3, dtype=np.float64),
                                 ag.zeros(2, 2, 3, dtype=np.float64)),
                     parts, True, 2, 0.0, False, False, False)[0]
        return (out * out).sum()
    return loss, w0


def test_jvp_through_lstm_equals_finite_differences():
    ag.manual_seed(2)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 3))

    def f(x):
        out, (h_n, c_n) = m(x)
        return ag.concatenate([out.reshape(-1), c_n.reshape(-1)])

    out, jv = ag.functional.jvp(f, Tensor(x), Tensor(v))
    eps = 1e-6
    fd = (f(Tensor(x + eps * v)).data - f(Tensor(x - eps * v)).data) / (2 * eps)
    np.testing.assert_allclose(jv.data, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(out.data, f(Tensor(x)).data)


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse-over-reverse"])
def test_hvp_through_lstm_equals_finite_differences_of_the_gradient(method):
    ag.manual_seed(3)
    m = nn.LSTM(2, 3, num_layers=2, dtype=np.float64)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 2))
    loss, w0 = _flat_lstm_loss(m, x)
    u = rng.standard_normal(w0.size)
    value, hv = ag.functional.hvp(loss, Tensor(w0), Tensor(u), method=method)
    eps = 1e-6

    def grad(w):
        return ag.functional.grad(loss, Tensor(w)).data

    fd = (grad(w0 + eps * u) - grad(w0 - eps * u)) / (2 * eps)
    np.testing.assert_allclose(hv.data, fd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(value.data, loss(Tensor(w0)).data)


def test_double_backward_through_gru():
    # the gradient's own gradient (create_graph) equals the HVP
    ag.manual_seed(4)
    m = nn.GRU(2, 3, dtype=np.float64)
    x = Tensor(np.random.default_rng(4).standard_normal((3, 2, 2)), requires_grad=True)
    out, h_n = m(x)
    (g,) = ag.autograd.grad((out ** 3).sum(), [x], create_graph=True)
    v = np.random.default_rng(5).standard_normal(x.shape)
    (hv,) = ag.autograd.grad((g * Tensor(v)).sum(), [x])
    _, expected = ag.functional.hvp(lambda x: (m(x)[0] ** 3).sum(), Tensor(x.data), Tensor(v))
    np.testing.assert_allclose(hv.data, expected.data, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- initialisation

def test_recurrent_initialisation_is_uniform_within_one_over_sqrt_hidden():
    ag.manual_seed(0)
    for layer in (nn.LSTM(7, 100, num_layers=2, bidirectional=True, proj_size=10),
                  nn.GRU(7, 100), nn.RNN(7, 100), nn.LSTMCell(7, 100), nn.GRUCell(7, 100),
                  nn.RNNCell(7, 100, nonlinearity="relu")):
        bound = 1 / math.sqrt(100)
        for name, p in layer.named_parameters():
            assert p.dtype == np.float32, name
            d = p.data.astype(np.float64)
            assert np.abs(d).max() <= bound, name
            assert np.abs(d).max() > 0.9 * bound, name
            if d.size >= 400:   # U(-b, b): mean 0, standard deviation b/√3
                assert abs(d.mean()) < 0.2 * bound, name
                assert abs(d.std() - bound / math.sqrt(3)) < 0.1 * bound, name
    ag.manual_seed(5)
    a = nn.LSTM(3, 4).state_dict()
    ag.manual_seed(5)
    b = nn.LSTM(3, 4).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_embedding_initialisation_is_standard_normal_with_a_zero_padding_row():
    ag.manual_seed(0)
    e = nn.Embedding(1000, 8, padding_idx=-3)
    assert e.padding_idx == 997 and e.weight.dtype == np.float32
    d = e.weight.data.astype(np.float64)
    np.testing.assert_array_equal(d[997], 0)
    assert abs(d.mean()) < 0.05 and abs(d.std() - 1) < 0.05
    assert nn.Embedding(4, 2, dtype=np.float64).weight.dtype == np.float64
    frozen = nn.Embedding(3, 2, _weight=np.ones((3, 2)), _freeze=True)
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    np.testing.assert_array_equal(frozen.weight.data, np.ones((3, 2)))


# ---------------------------------------------------------------------- behaviour

def test_padding_row_gets_no_gradient_and_counts_scale_the_others():
    w = Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    idx = np.array([[0, 1, 1], [3, 1, 0]])
    F.embedding(idx, w, padding_idx=1, scale_grad_by_freq=True).sum().backward()
    # rows 0 and 3: summed gradient / count = 1; row 1 (padding): 0; row 2: unused
    np.testing.assert_array_equal(w.grad.data, [[1, 1], [0, 0], [0, 0], [1, 1]])
    out = F.embedding(idx, w, padding_idx=1)
    np.testing.assert_array_equal(out.data[0, 1], [2.0, 3.0])   # the row's value is looked up


def test_max_norm_renormalises_only_the_rows_looked_up_in_place():
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    w = Tensor(table.copy(), requires_grad=True)
    out = F.embedding(np.array([0, 1, 0]), w, max_norm=1.0)
    np.testing.assert_allclose(w.data[0], [0.6, 0.8], rtol=1e-6)      # scaled to norm 1
    np.testing.assert_array_equal(w.data[1:], table[1:])             # small or not looked up
    np.testing.assert_allclose(out.data, w.data[[0, 1, 0]])
    assert w.is_leaf and w.requires_grad


def test_dropout_between_layers_in_training_mode_only():
    ag.manual_seed(0)
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    m.eval()
    reference = m(x)[0].data
    np.testing.assert_array_equal(m(x)[0].data, reference)          # eval: deterministic
    m.train()
    ag.manual_seed(11)
    a = m(x)[0].data
    b = m(x)[0].data
    assert not np.allclose(a, reference) and not np.allclose(a, b)  # a new mask per call
    ag.manual_seed(11)
    np.testing.assert_array_equal(m(x)[0].data, a)                   # the global generator
    one = nn.GRU(3, 8, num_layers=1)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 8, num_layers=1, dropout=0.2)
    ag.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = nn.GRU(3, 8, dropout=0.9)
    single.load_state_dict(one.state_dict())
    np.testing.assert_array_equal(single(x)[0].data, one(x)[0].data)  # no layer above: no dropout


def test_unbatched_equals_a_batch_of_one():
    ag.manual_seed(0)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    for m in (nn.LSTM(3, 4, num_layers=2, bidirectional=True), nn.GRU(3, 4, batch_first=True),
              nn.RNN(3, 4, nonlinearity="relu")):
        out, state = m(x)
        batch_axis = 0 if m.batch_first else 1
        out1, state1 = m(np.expand_dims(x, batch_axis))
        np.testing.assert_allclose(out.data, np.squeeze(out1.data, batch_axis), rtol=1e-6)
        for a, b in zip(_states(state), _states(state1)):
            assert a.shape == b.shape[:1] + b.shape[2:]
            np.testing.assert_allclose(a.data, b.data[:, 0], rtol=1e-6)


def test_parameters_stay_leaves_and_arrays_take_the_parameter_dtype():
    m = nn.GRU(3, 4, dtype=np.float64)
    out, h = m(np.ones((2, 1, 3), dtype=np.float32))          # an array is converted
    assert out.dtype == np.float64 and h.dtype == np.float64
    m.to(np.float32)
    out, h = m(np.ones((2, 1, 3)))
    assert out.dtype == np.float32
    assert all(p.is_leaf for p in m.parameters())
    m.flatten_parameters()   # PyTorch's cuDNN call: nothing to do here


# ---------------------------------------------------------------------- errors

def test_layer_constructor_errors():
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(TypeError, match="input_size should be of type int"):
        nn.RNN(3.0, 4)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.LSTM(3, 4, 0)
    with pytest.raises(TypeError, match="bias should be of type bool"):
        nn.LSTM(3, 4, bias=1)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, 1, "sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ag.devices.DeviceError, match="LSTM"):
        nn.LSTM(3, 4, device="cuda")
    with pytest.raises(TypeError, match="LSTM: dtype must be a floating-point type"):
        nn.LSTM(3, 4, dtype=np.int64)
    assert nn.RNN(3, 4, 2, "relu").mode == "RNN_RELU"        # torch's positional order


def test_layer_forward_errors_name_the_layer_the_argument_and_the_shapes():
    m = nn.LSTM(10, 20, num_layers=2)
    x = np.zeros((5, 3, 10), dtype=np.float32)
    with pytest.raises(nn.RecurrentInputError,
                       match=r"LSTM\(10, 20, num_layers=2\): input of shape \(5, 3, 7\).*"
                             r"7 features, expected input_size=10"):
        m(np.zeros((5, 3, 7), dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"Expected h_0 of shape \(2, 3, 20\).*got \(1, 3, 20\)"):
        m(x, (np.zeros((1, 3, 20)), np.zeros((2, 3, 20))))
    with pytest.raises(ValueError, match=r"Expected c_0 of shape \(2, 3, 20\).*got \(2, 4, 20\)"):
        m(x, (np.zeros((2, 3, 20)), np.zeros((2, 4, 20))))
    with pytest.raises(RuntimeError, match="For batched 3-D input, h_0 and c_0 should also be "
                                           "3-D, got h_0 2-D, c_0 3-D"):
        m(x, (np.zeros((2, 20)), np.zeros((2, 3, 20))))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input"):
        m(x[:, 0], (np.zeros((2, 3, 20)), np.zeros((2, 3, 20))))
    with pytest.raises(RuntimeError, match=r"Expected h_0 of shape \(4, 20\).*got \(2, 20\)"):
        nn.GRU(10, 20, 2, bidirectional=True)(x[:, 0], np.zeros((2, 20)))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D.*4D input of shape"):
        m(np.zeros((1, 5, 3, 10)))
    with pytest.raises(ValueError, match=r"input dtype \(float64\) does not match weight dtype "
                                         r"\(float32\)"):
        m(Tensor(np.zeros((5, 3, 10))))
    with pytest.raises(ValueError, match=r"h_0 dtype \(float64\)"):
        nn.GRU(10, 20)(x, Tensor(np.zeros((1, 3, 20))))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        m(x, np.zeros((2, 3, 20)))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        m(np.zeros((0, 3, 10), dtype=np.float32))
    with pytest.raises(TypeError, match="LSTM"):
        m("not an array")
    with pytest.raises(ValueError, match=r"lstm: expected 4 \(or 5 with projections\) "
                                         r"weights in params.* got 3"):
        R.lstm(Tensor(x), (Tensor(np.zeros((1, 3, 20))),) * 2, list(m.parameters())[:3],
               True, 1, 0.0, False, False, False)


def test_cell_errors_name_the_cell_the_argument_and_the_shapes():
    cell = nn.LSTMCell(4, 3)
    with pytest.raises(nn.RecurrentInputError,
                       match=r"LSTMCell\(4, 3\): input of shape \(2, 5\) has 5 features, "
                             r"expected input_size=4"):
        cell(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"hx\[1\] of shape \(2, 4\) does not match: "
                                           r"expected \(2, 3\) = \(batch, hidden_size\)"):
        cell(np.zeros((2, 4), dtype=np.float32), (np.zeros((2, 3)), np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"Expected input to be 1D or 2D.*3D"):
        cell(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"Expected hx\[0\] to be 1D or 2D, got 3D"):
        cell(np.zeros((2, 4)), (np.zeros((1, 2, 3)), np.zeros((2, 3))))
    with pytest.raises(RuntimeError, match=r"GRUCell\(4, 3\): hx of shape \(5,\)|"
                                           r"GRUCell\(4, 3\): hx of shape \(5\)"):
        nn.GRUCell(4, 3)(np.zeros(4), np.zeros(5))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h, c\)"):
        cell(np.zeros((2, 4)), np.zeros((2, 3)))


def test_embedding_errors():
    e = nn.Embedding(5, 2)
    with pytest.raises(TypeError, match="embedding: input must hold integer indices.*float32"):
        e(ag.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="embedding: input must hold integer indices"):
        e(np.array([0.5]))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for a weight of "
                                         r"shape \(5, 2\): indices must lie in \[0, 4\]"):
        e(np.array([[0, 5]]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        e(np.array([-1]))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        F.embedding(np.array([0]), np.ones((5, 2)), padding_idx=-6)
    with pytest.raises(ValueError, match=r"shape of _weight \(4, 2\) does not match "
                                         r"\(num_embeddings, embedding_dim\) = \(5, 2\)"):
        nn.Embedding(5, 2, _weight=np.ones((4, 2)))
    with pytest.raises(ValueError, match="from_pretrained: embeddings must be 2-dimensional"):
        nn.Embedding.from_pretrained(np.ones(3))
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-D.*\(5,\)"):
        F.embedding(np.array([0]), np.ones(5))
    with pytest.raises(ValueError, match="num_embeddings must be a non-negative int"):
        nn.Embedding(-1, 2)


# ---------------------------------------------------------------------- compiled steps

class TinyLM(nn.Module):
    """Embedding → 2-layer LSTM → Linear: next-token logits."""

    def __init__(self, vocab=12, dim=5, hidden=7, **emb):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, **emb)
        self.rnn = nn.LSTM(dim, hidden, num_layers=2, batch_first=True, dropout=0.3)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h, _ = self.rnn(self.emb(tokens))
        return self.out(h)


def _lm_step(model, opt):
    def step(tokens, targets):
        opt.zero_grad()
        logp = model(tokens).log_softmax(-1)
        loss = -logp.gather(-1, targets.unsqueeze(-1)).mean()
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("emb", [dict(padding_idx=0), dict(max_norm=1.0, scale_grad_by_freq=True)],
                         ids=["padding_idx", "max_norm"])
def test_compiled_lstm_language_model_training_equals_eager(emb):
    models = []
    for _ in range(2):
        ag.manual_seed(0)
        models.append(TinyLM(**emb))
    eager_model, compiled_model = models
    eager = _lm_step(eager_model, optim.Adam(eager_model.parameters(), lr=0.05))
    compiled = ag.compile(_lm_step(compiled_model, optim.Adam(compiled_model.parameters(),
                                                              lr=0.05)))
    rng = np.random.default_rng(0)
    losses = []
    for i in range(6):
        tokens, targets = rng.integers(0, 12, (4, 6)), rng.integers(0, 12, (4, 6))
        ag.manual_seed(100 + i)      # the same dropout masks in both
        expected = eager(Tensor(tokens), Tensor(targets)).item()
        ag.manual_seed(100 + i)
        got = compiled(tokens, targets).item()
        assert got == expected, f"step {i}"
        losses.append(got)
    assert compiled.stats["replays"] >= 4
    assert losses[-1] < losses[0]
    for (name, a), b in zip(eager_model.named_parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_compiled_forward_of_each_layer_equals_eager_on_new_inputs():
    ag.manual_seed(0)
    layers = [nn.GRU(3, 4, num_layers=2, bidirectional=True), nn.RNN(3, 4, batch_first=True),
              nn.LSTM(3, 4, proj_size=2)]
    rng = np.random.default_rng(0)
    for layer in layers:
        fn = ag.compile(lambda x, h, layer=layer: layer(x, h if layer.mode != "LSTM" else None))
        hshape = (4, 2, 4) if layer.bidirectional else (1, 2, 4)
        for _ in range(3):
            x = rng.standard_normal((2, 5, 3) if layer.batch_first else (5, 2, 3))
            x = x.astype(np.float32)
            h = rng.standard_normal(hshape).astype(np.float32)
            got, want = fn(x, h), layer(Tensor(x), Tensor(h) if layer.mode != "LSTM" else None)
            np.testing.assert_array_equal(got[0].data, want[0].data)
            for a, b in zip(_states(got[1]), _states(want[1])):
                np.testing.assert_array_equal(a.data, b.data)
        assert fn.stats["traces"] == 1


def test_compiled_dropout_draws_a_new_mask_on_every_call():
    drop = nn.Dropout(0.5)
    fn = ag.compile(lambda x: drop(x))
    masks = [fn(np.ones(64, dtype=np.float32)).data for _ in range(3)]
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    assert set(np.unique(masks[0])) <= {0.0, 2.0}
    ag.manual_seed(9)
    eager = F.dropout(Tensor(np.ones(64, dtype=np.float32)), 0.5).data
    ag.manual_seed(9)
    np.testing.assert_array_equal(fn(np.ones(64, dtype=np.float32)).data, eager)
    assert F.dropout(Tensor(np.float32(2.0)), 0.5).shape == ()
    x = Tensor(np.ones(6), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)    # the gradient is the mask


def test_every_public_name_has_a_docstring():
    from nn import sparse
    for module in (R, sparse):
        for name in module.__all__:
            assert (getattr(module, name).__doc__ or "").strip(), name
    for layer in (nn.RNN, nn.LSTM, nn.GRU):
        assert "Args:" in layer.__doc__ and "{arguments}" not in layer.__doc__
