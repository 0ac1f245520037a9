"""Recurrent layers with PyTorch's names, arguments, parameters and numbers:
``RNN``, ``LSTM``, ``GRU`` and the cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

One step of each recurrence, for an input projection x̃ = W_ih x + b_ih and
the previous hidden state h (PyTorch's gate order in the stacked weights):

=========  =================================================================
RNN        h' = act(x̃ + W_hh h + b_hh),  act = tanh or relu
LSTM       [i, f, g, o] = x̃ + W_hh h + b_hh;  i, f, o ← σ(·), g ← tanh(g)
           c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')   (h' ← W_hr h' with proj_size)
GRU        [r̃, z̃, ñ] = x̃,  [r̂, ẑ, n̂] = W_hh h + b_hh
           r = σ(r̃ + r̂),  z = σ(z̃ + ẑ),  n = tanh(ñ + r ⊙ n̂),  h' = n + z ⊙ (h − n)
=========  =================================================================

(the GRU's last line is PyTorch's (1 − z) ⊙ n + z ⊙ h, computed as PyTorch's
CPU kernel does). A layer runs the time loop over the list of its T inputs;
a bidirectional layer runs a second loop backwards in time and concatenates
the two outputs of each step on the feature axis; the next layer reads that
list, and the last one's is stacked into the output. Everything is made of
differentiable engine ops, so gradients, double backward, forward mode
(``functional.jvp``), the R-operator (``hvp``) and ``autograd_core.compile``
work through the layers; dropout between layers draws its mask through the
engine, afresh in every compiled call.

Why each step projects its own input (W_ih x_t + b_ih, a small product per
step) instead of projecting the whole sequence in one product and slicing it:
in this engine the gradient of a slice is a zero-padded array of the whole
tensor's size, so slicing a (T, N, G·H) projection T times costs T² · N·G·H in
the backward pass, far more than T small products. For the same reason
sequences pass between layers as lists of time steps, never as a stacked
tensor that the next layer would slice.

Parameters are named as in PyTorch — ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}`` (``weight_hr_l{k}`` with ``proj_size``),
``_reverse`` for the backward direction — with PyTorch's shapes, so a
``state_dict`` moves between the two unchanged. All start U(−1/√H, 1/√H),
H = hidden_size.

The functions ``rnn_tanh``, ``rnn_relu``, ``lstm``, ``gru`` (whole stacks, over
a flat list of weights) and ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``,
``gru_cell`` (one step) are the layers' arithmetic with PyTorch's ``torch.lstm``,
``torch.lstm_cell``, ... arguments: use them to differentiate with respect to
the weights as plain inputs.
"""
from __future__ import annotations

import math
import numbers
import inspect
import warnings

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from autograd_core.devices import check_device

from . import functional as F
from . import init
from .module import Module, Parameter, _param_dtype, _to_tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "RecurrentInputError", "rnn_tanh", "rnn_relu", "lstm", "gru",
           "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


class RecurrentInputError(RuntimeError, ValueError):
    """An input or state of a recurrent layer has the wrong size: a RuntimeError,
    as PyTorch raises, and a ValueError, as the rest of ``nn`` raises for shapes.

        >>> rnn = nn.RNN(3, 4)
        >>> try:
        ...     rnn(ag.zeros(5, 2, 7))                    # 7 features, the layer expects 3
        ... except nn.recurrent.RecurrentInputError as error:
        ...     isinstance(error, RuntimeError), isinstance(error, ValueError)
        (True, True)
    """


# ---------------------------------------------------------------------- one time step
# xp is the input projection W_ih x + b_ih of this step, (N, G·H); the state is
# h (N, H), or (h, c) for the LSTM. Each returns the new state.

def _tanh_step(xp, h, w_hh, b_hh, w_hr=None):
    return ag.tanh(ag.linear(h, w_hh, b_hh) + xp)


def _relu_step(xp, h, w_hh, b_hh, w_hr=None):
    return ag.relu(ag.linear(h, w_hh, b_hh) + xp)


def _lstm_step(xp, state, w_hh, b_hh, w_hr=None):
    h, c = state
    H = c.shape[-1]
    gates = ag.linear(h, w_hh, b_hh) + xp
    s = ag.sigmoid(gates)  # σ of all four blocks: one node; the g block's is unused
    i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
    g = ag.tanh(gates[:, 2 * H:3 * H])
    c = f * c + i * g
    h = o * ag.tanh(c)
    if w_hr is not None:
        h = ag.linear(h, w_hr)
    return h, c


def _gru_step(xp, h, w_hh, b_hh, w_hr=None):
    H = h.shape[-1]
    hp = ag.linear(h, w_hh, b_hh)
    rz = ag.sigmoid(hp[:, :2 * H] + xp[:, :2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = ag.tanh(xp[:, 2 * H:] + r * hp[:, 2 * H:])
    return n + z * (h - n)


# mode -> (number of gate blocks, step)
_MODES = {"RNN_TANH": (1, _tanh_step), "RNN_RELU": (1, _relu_step),
          "LSTM": (4, _lstm_step), "GRU": (3, _gru_step)}


# ---------------------------------------------------------------------- whole sequences

def _direction(step, xs, state, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """One layer in one direction over the list ``xs`` of the T inputs (N, F), each
    projected on its own (see the module docstring): (the list of the T outputs,
    the final state)."""
    outs = [None] * len(xs)
    for t in (range(len(xs) - 1, -1, -1) if reverse else range(len(xs))):
        state = step(ag.linear(xs[t], w_ih, b_ih), state, w_hh, b_hh, w_hr)
        outs[t] = state[0] if isinstance(state, tuple) else state
    return outs, state


def _groups(fn, params, has_biases, n_groups, lstm):
    """The flat weight list cut into one (w_ih, w_hh, b_ih, b_hh, w_hr) per layer
    and direction, in PyTorch's order."""
    params = list(params)
    base = 4 if has_biases else 2
    per, extra = divmod(len(params), n_groups) if n_groups else (0, 1)
    if extra or per not in ((base, base + 1) if lstm else (base,)):
        want = f"{n_groups * base}" + (f" (or {n_groups * (base + 1)} with projections)"
                                       if lstm else "")
        raise ValueError(f"{fn}: expected {want} weights in params ({base} per layer and "
                         f"direction with has_biases={has_biases}, for num_layers·"
                         f"num_directions = {n_groups}), got {len(params)}")
    out = []
    for k in range(n_groups):
        g = params[k * per:(k + 1) * per]
        w_ih, w_hh = g[0], g[1]
        b_ih, b_hh = (g[2], g[3]) if has_biases else (None, None)
        w_hr = g[base] if per > base else None
        out.append((w_ih, w_hh, b_ih, b_hh, w_hr))
    return out


def _recurrence(mode, input, hx, params, has_biases, num_layers, dropout, train,  # noqa: A002
                bidirectional, batch_first):
    """The stacked recurrence of ``mode``: (output, h_n) or (output, h_n, c_n)."""
    fn = mode.lower()
    _, step = _MODES[mode]
    lstm = mode == "LSTM"
    D = 2 if bidirectional else 1
    x = input if isinstance(input, Tensor) else ag.as_tensor(input)
    if x.ndim != 3:
        raise RecurrentInputError(f"{fn}: input must be 3-D (seq_len, batch, features), or "
                                  f"(batch, seq_len, features) with batch_first, got shape "
                                  f"{x.shape}")
    time_axis = 1 if batch_first else 0
    # Sequences pass between layers as lists of time steps (N, F) (see the module docstring).
    xs = ag.unbind(x, time_axis)
    states = tuple(hx) if lstm else (hx,)
    groups = _groups(fn, params, has_biases, num_layers * D, lstm)
    finals = [[] for _ in states]
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            start = tuple(s[k] for s in states)
            seq, last = _direction(step, xs, start if lstm else start[0], *groups[k],
                                   reverse=d == 1)
            outs.append(seq)
            for f, s in zip(finals, last if lstm else (last,)):
                f.append(s)
        xs = outs[0] if D == 1 else [ag.concatenate(pair, axis=1) for pair in zip(*outs)]
        if dropout and train and layer < num_layers - 1:
            # one mask for the whole sequence, a constant sliced per step
            mask = F.dropout(ag.ones((len(xs),) + xs[0].shape, dtype=xs[0].dtype), dropout, True)
            xs = [h * mask[t] for t, h in enumerate(xs)]
    return (ag.stack(xs, axis=time_axis),) + tuple(ag.stack(f, axis=0) for f in finals)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train,  # noqa: A002
             bidirectional, batch_first):
    """The stacked Elman RNN with tanh, as ``torch.rnn_tanh``:
    h' = tanh(W_ih x + b_ih + W_hh h + b_hh).

    Args:
        input: (T, N, input_size), or (N, T, input_size) with ``batch_first``.
        hx: h_0, (num_layers·D, N, hidden_size), D = 2 if bidirectional else 1.
        params: the weights in ``RNN``'s order (``list(rnn.parameters())``).
        has_biases: whether ``params`` holds biases (the layer's ``bias``).
        num_layers: the number of stacked layers.
        dropout: the dropout probability between layers (applied when ``train``).
        train: whether the layer is in training mode.
        bidirectional: whether each layer runs in both directions.
        batch_first: whether ``input`` and ``output`` are (N, T, ·).

    Returns ``(output, h_n)``: output (T, N, D·hidden_size) (batch first if asked), h_n like h_0.

        >>> rnn = nn.RNN(3, 4)
        >>> x, h0 = ag.randn(5, 2, 3), ag.zeros(1, 2, 4)
        >>> out, h_n = rnn_tanh(x, h0, list(rnn.parameters()), True, 1, 0.0, False, False,
        ...                     False)
        >>> out.shape, h_n.shape
        ((5, 2, 4), (1, 2, 4))
    """
    return _recurrence("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train,  # noqa: A002
             bidirectional, batch_first):
    """The stacked Elman RNN with ReLU, as ``torch.rnn_relu`` (arguments as ``rnn_tanh``):
    h' = relu(W_ih x + b_ih + W_hh h + b_hh).

        >>> from nn.recurrent import rnn_relu
        >>> rnn = nn.RNN(3, 4, nonlinearity="relu")
        >>> out, h_n = rnn_relu(ag.randn(5, 2, 3), ag.zeros(1, 2, 4), list(rnn.parameters()), True, 1,
        ...                     0.0, False, False, False)
        >>> out.shape, bool((out >= 0).all())
        ((5, 2, 4), True)
    """
    return _recurrence("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first)


def lstm(input, hx, params, has_biases, num_layers, dropout, train,  # noqa: A002
         bidirectional, batch_first):
    """The stacked LSTM, as ``torch.lstm``: c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').

    ``hx`` is ``(h_0, c_0)``; ``params`` in ``LSTM``'s order (with ``weight_hr``
    after the biases of each layer-direction when there are projections, which
    are then recognised by the number of weights). Returns ``(output, h_n, c_n)``.
    Other arguments as ``rnn_tanh``.

        >>> m = nn.LSTM(3, 4)
        >>> x, h0, c0 = ag.randn(5, 2, 3), ag.zeros(1, 2, 4), ag.zeros(1, 2, 4)
        >>> out, h_n, c_n = lstm(x, (h0, c0), list(m.parameters()), True, 1, 0.0, False,
        ...                      False, False)
        >>> out.shape, c_n.shape
        ((5, 2, 4), (1, 2, 4))
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"lstm: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
    return _recurrence("LSTM", input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train,  # noqa: A002
        bidirectional, batch_first):
    """The stacked GRU, as ``torch.gru`` (arguments as ``rnn_tanh``):
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.

        >>> from nn.recurrent import gru
        >>> m = nn.GRU(3, 4, batch_first=True)
        >>> out, h_n = gru(ag.randn(2, 5, 3), ag.zeros(1, 2, 4), list(m.parameters()), True, 1, 0.0,
        ...                False, False, True)
        >>> out.shape, h_n.shape
        ((2, 5, 4), (1, 2, 4))
    """
    return _recurrence("GRU", input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first)


def _cell(mode, input, hx, w_ih, w_hh, b_ih, b_hh):  # noqa: A002
    _, step = _MODES[mode]
    return step(ag.linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One step h' = tanh(W_ih x + b_ih + W_hh h + b_hh) for x (N, input_size), h (N, hidden_size),
    as ``torch.rnn_tanh_cell``.

        >>> from nn.recurrent import rnn_tanh_cell
        >>> x, h = ag.tensor([[0.5, -1.0]]), ag.zeros(1, 2)
        >>> rnn_tanh_cell(x, h, ag.eye(2), ag.zeros(2, 2))          # W_ih = I, W_hh = 0: tanh x
        Tensor([[ 0.4621172, -0.7615942]], dtype=float32)
    """
    return _cell("RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One step h' = relu(W_ih x + b_ih + W_hh h + b_hh), as ``torch.rnn_relu_cell``.

        >>> from nn.recurrent import rnn_relu_cell
        >>> x, h = ag.tensor([[0.5, -1.0]]), ag.zeros(1, 2)
        >>> rnn_relu_cell(x, h, ag.eye(2), ag.zeros(2, 2))          # relu x
        Tensor([[0.5, 0. ]], dtype=float32)
    """
    return _cell("RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One LSTM step for x (N, input_size) and hx = (h, c), each (N, hidden_size), as
    ``torch.lstm_cell``: returns (h', c'), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').

        >>> from nn.recurrent import lstm_cell
        >>> x, h, c = ag.ones(1, 2), ag.zeros(1, 3), ag.ones(1, 3)
        >>> w_ih, w_hh = ag.zeros(12, 2), ag.zeros(12, 3)            # every gate ½, g = 0
        >>> h1, c1 = lstm_cell(x, (h, c), w_ih, w_hh)
        >>> c1, h1                                                   # c' = ½·1, h' = ½ tanh ½
        (Tensor([[0.5, 0.5, 0.5]], dtype=float32), Tensor([[0.2310586, 0.2310586, 0.2310586]], dtype=float32))
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"lstm_cell: hx must be a pair (h, c), got {type(hx).__name__}")
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One GRU step, as ``torch.gru_cell``: h' = (1 − z) ⊙ n + z ⊙ h with
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).

        >>> from nn.recurrent import gru_cell
        >>> x, h = ag.ones(1, 2), ag.ones(1, 3)
        >>> gru_cell(x, h, ag.zeros(9, 2), ag.zeros(9, 3))            # z = ½, n = 0: h' = ½ h
        Tensor([[0.5, 0.5, 0.5]], dtype=float32)
    """
    return _cell("GRU", input, hx, w_ih, w_hh, b_ih, b_hh)


# ---------------------------------------------------------------------- argument checks

def _size(v, name, fn):
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}: {name} should be of type int, got: {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{fn}: {name} must be greater than zero, got {v}")
    return int(v)


def _flag(v, name, fn):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} should be of type bool, got: {type(v).__name__}")
    return bool(v)


def _as_float(x, dtype, who, what):
    """An input or state as a Tensor of the parameters' dtype: arrays and lists are
    converted; a Tensor of another dtype is refused, as PyTorch does."""
    if not isinstance(x, Tensor):
        return _to_tensor(x, dtype, who)
    if x.dtype != dtype:
        raise ValueError(f"{who}: {what} dtype ({x.dtype}) does not match weight dtype "
                         f"({dtype}). Convert the {what}: .to({dtype}), or the model: "
                         f"model.to({x.dtype})")
    return x


def _layer_input(who, input, dtype, batched_dims, layout):  # noqa: A002
    """A layer's input as a Tensor of ``dtype``, batched (``batched_dims`` dimensions)
    or unbatched (one fewer); ``layout`` names the dimensions in the error."""
    x = _as_float(input, dtype, who, "input")
    if x.ndim not in (batched_dims - 1, batched_dims):
        raise ValueError(f"{who}: Expected input to be {batched_dims - 1}D or {batched_dims}D "
                         f"{layout}, got {x.ndim}D input of shape {x.shape} instead")
    return x


def _torch_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


# ---------------------------------------------------------------------- layers

# The options a layer's repr shows when they differ from these (PyTorch's repr).
_REPR_DEFAULTS = (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                  ("dropout", 0), ("bidirectional", False))


class RNNBase(Module):
    """The base of ``RNN``, ``LSTM`` and ``GRU`` (as ``torch.nn.RNNBase``): builds the
    parameters of ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU') and runs the
    stacked recurrence; see ``LSTM`` for the arguments.

        >>> m = nn.RNNBase("GRU", 3, 4, num_layers=2)                 # what nn.GRU(3, 4, 2) builds
        >>> [name for name, _ in m.named_parameters()][:4]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
        >>> out, h_n = m(ag.randn(5, 1, 3))
        >>> out.shape, h_n.shape
        ((5, 1, 4), (2, 1, 4))
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"RNNBase: unrecognized RNN mode {mode!r}; expected one of "
                             f"{', '.join(_MODES)}")
        fn = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        check_device(device, fn)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{fn}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        self.mode = mode
        self.input_size = _size(input_size, "input_size", fn)
        self.hidden_size = _size(hidden_size, "hidden_size", fn)
        self.num_layers = _size(num_layers, "num_layers", fn)
        self.bias = _flag(bias, "bias", fn)
        self.batch_first = _flag(batch_first, "batch_first", fn)
        self.dropout = float(dropout)
        self.bidirectional = _flag(bidirectional, "bidirectional", fn)
        integer = isinstance(proj_size, (numbers.Integral, np.integer)) and \
            not isinstance(proj_size, bool)
        if not integer or proj_size < 0:
            raise ValueError(f"{fn}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= self.hidden_size:
            raise ValueError(f"{fn}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={self.hidden_size}")
        self.proj_size = int(proj_size)
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={self.num_layers}", stacklevel=3)
        dt = _param_dtype(dtype, fn)
        gate_size = _MODES[mode][0] * self.hidden_size
        real_hidden = self.proj_size or self.hidden_size
        D = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else real_hidden * D
            for direction in range(D):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if self.bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if self.proj_size:
                    shapes += [("weight_hr", (self.proj_size, self.hidden_size))]
                names = []
                for stem, shape in shapes:
                    setattr(self, stem + suffix, Parameter(np.empty(shape, dtype=dt), dtype=dt))
                    names.append(stem + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih_l0, weight_hh_l0, ...], ...]."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Does nothing, as PyTorch on the CPU (it packs weights for cuDNN)."""

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + "".join(
            f", {name}={getattr(self, name)}" for name, default in _REPR_DEFAULTS
            if getattr(self, name) != default)

    # -------------------------------------------------------------- forward

    def _state_shapes(self, batch):
        """The expected (name, shape) of each initial state for a batch of ``batch``."""
        n = self.num_layers * (2 if self.bidirectional else 1)
        h = ("h_0", (n, batch, self.proj_size or self.hidden_size))
        if self.mode == "LSTM":
            return [h, ("c_0", (n, batch, self.hidden_size))]
        return [h]

    def _prepare(self, input, hx):  # noqa: A002
        """(time- or batch-major 3-D input, list of 3-D initial states, batched?)."""
        who, w = repr(self), self.weight_ih_l0
        x = _layer_input(who, input, w.dtype, 3, "(seq_len, batch, input_size) or unbatched "
                                                 "(seq_len, input_size)")
        given_shape = x.shape
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(0 if self.batch_first else 1)
        t_axis, b_axis = (1, 0) if self.batch_first else (0, 1)
        layout = "(batch, seq_len, input_size)" if self.batch_first and batched else \
            "(seq_len, batch, input_size)" if batched else "(seq_len, input_size)"
        if x.shape[-1] != self.input_size:
            raise RecurrentInputError(
                f"{who}: input of shape {given_shape} "
                f"({layout}) has {x.shape[-1]} features, expected input_size="
                f"{self.input_size} (input.size(-1) must be equal to input_size)")
        if x.shape[t_axis] == 0:
            raise RecurrentInputError(f"{who}: Expected sequence length to be larger than 0 "
                                      f"in RNN, got input of shape {x.shape}")
        expected = self._state_shapes(x.shape[b_axis])
        if hx is None:
            return x, [ag.zeros(shape, dtype=w.dtype) for _, shape in expected], batched
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{who}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            given = list(hx)
        else:
            given = [hx]
        states = [_as_float(s, w.dtype, who, name) for s, (name, _) in zip(given, expected)]
        dims = 3 if batched else 2
        if any(s.ndim != dims for s in states):
            got = ", ".join(f"{name} {s.ndim}-D" for s, (name, _) in zip(states, expected))
            raise RecurrentInputError(
                f"{who}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, "
                f"{' and '.join(n for n, _ in expected)} should also be {dims}-D, got {got}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        for s, (name, shape) in zip(states, expected):
            if s.shape != shape:
                want, got = (shape, s.shape) if batched else (
                    shape[:1] + shape[2:], s.shape[:1] + s.shape[2:])
                raise RecurrentInputError(
                    f"{who}: Expected {name} of shape {_torch_shape(want)} = (num_layers·"
                    f"num_directions{', batch' if batched else ''}, "
                    f"{'proj_size' if name == 'h_0' and self.proj_size else 'hidden_size'}), "
                    f"got {_torch_shape(got)}")
        return x, states, batched

    def forward(self, input, hx=None):  # noqa: A002
        """``output, h_n`` (``output, (h_n, c_n)`` for the LSTM); see the class docstring."""
        x, states, batched = self._prepare(input, hx)
        hx_in = tuple(states) if self.mode == "LSTM" else states[0]
        output, *finals = _recurrence(self.mode, x, hx_in, self._flat_weights, self.bias,
                                      self.num_layers, self.dropout, self.training,
                                      self.bidirectional, self.batch_first)
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            finals = [f.squeeze(1) for f in finals]
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])


_LAYER_DOC = """
    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        num_layers: stacked layers, each reading the previous one's outputs (default 1).
        bias: use b_ih and b_hh (default True).
        batch_first: inputs and outputs are (batch, seq, feature) instead of
            (seq, batch, feature); states keep their layout (default False).
        dropout: after every layer but the last, dropout with this probability
            in training mode (default 0).
        bidirectional: add a layer-direction that reads the sequence backwards;
            its outputs are concatenated after the forward ones (default False).
{proj_size}        device: only the CPU.
        dtype: of the parameters (default: the default dtype, float32 unless changed).

    ``forward(input, hx=None)``: input (L, N, H_in), (N, L, H_in) with
    batch_first, or unbatched (L, H_in); the initial state(s) (D·num_layers, N,
    H_out), or (D·num_layers, H_out) unbatched, zeros if not given (D = 2 if
    bidirectional else 1). Returns output (L, N, D·H_out) (batch first if asked)
    with the last layer's h_t for every t, and the final state(s) of every
    layer-direction, index ``layer·D + direction`` (the LSTM's c always has
    hidden_size features).

"""


class RNN(RNNBase):
    """``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)``:
    the Elman network h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act = tanh
    or relu (``nonlinearity``). Returns ``output, h_n``.
    {arguments}
        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, h_n = rnn(ag.randn(5, 3, 10), ag.randn(2, 3, 20))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        args = list(args)
        nonlinearity = args.pop(3) if len(args) > 3 else kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None)``: the
    long short-term memory, with gates [i, f, g, o] = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh
    (i, f, o through σ, g through tanh), c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t).
    Returns ``output, (h_n, c_n)``; ``hx`` is ``(h_0, c_0)``. With ``proj_size`` > 0
    each h_t is projected, h_t ← W_hr h_t by ``weight_hr_l{k}`` (proj_size,
    hidden_size), so H_out = proj_size (c keeps hidden_size).
    {arguments}
        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (h_n, c_n) = lstm(ag.randn(5, 3, 10))
        >>> output.shape, h_n.shape, c_n.shape
        ((5, 3, 20), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None)``: the gated recurrent
    unit, r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h
    (gate order r, z, n in the stacked weights). Returns ``output, h_n``.
    {arguments}
        >>> gru = nn.GRU(10, 20, 2)
        >>> output, h_n = gru(ag.randn(5, 3, 10))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


def _signature(*names_defaults):
    """The signature the layer documents (its ``__init__`` takes ``*args`` to
    accept torch's positional order), for ``help()``, ``inspect`` and the docs."""
    P_ = inspect.Parameter
    params = [P_("self", P_.POSITIONAL_OR_KEYWORD)]
    for item in names_defaults:
        name, default = item if isinstance(item, tuple) else (item, P_.empty)
        params.append(P_(name, P_.POSITIONAL_OR_KEYWORD, default=default))
    return inspect.Signature(params)


_COMMON = (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False))
_DEVICE = (("device", None), ("dtype", None))
RNN.__init__.__signature__ = _signature("input_size", "hidden_size", ("num_layers", 1),
                                        ("nonlinearity", "tanh"), *_COMMON, *_DEVICE)
LSTM.__init__.__signature__ = _signature("input_size", "hidden_size", ("num_layers", 1),
                                         *_COMMON, ("proj_size", 0), *_DEVICE)
GRU.__init__.__signature__ = _signature("input_size", "hidden_size", ("num_layers", 1),
                                        *_COMMON, *_DEVICE)

_PROJ_DOC = "        proj_size: the size of the projected h (default 0: none).\n"
for _layer in (RNN, LSTM, GRU):   # the arguments they share, written once
    _layer.__doc__ = _layer.__doc__.replace(
        "    {arguments}\n", _LAYER_DOC.replace("{proj_size}", _PROJ_DOC if _layer is LSTM else ""))


# ---------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """The base of the cells (as ``torch.nn.RNNCellBase``): ``weight_ih``
    (chunks·H, input_size), ``weight_hh`` (chunks·H, H), ``bias_ih``, ``bias_hh``
    (chunks·H,), all U(−1/√H, 1/√H).

        >>> cell = nn.GRUCell(3, 4)                                   # an RNNCellBase with 3 chunks
        >>> isinstance(cell, nn.recurrent.RNNCellBase), tuple(cell.weight_ih.shape), tuple(cell.bias_hh.shape)
        (True, (12, 3), (12,))
    """

    _mode = None  # set by each cell

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        fn = type(self).__name__
        check_device(device, fn)
        self.input_size = _size(input_size, "input_size", fn)
        self.hidden_size = _size(hidden_size, "hidden_size", fn)
        self.bias = _flag(bias, "bias", fn)
        dt = _param_dtype(dtype, fn)
        G = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((G, self.input_size), dtype=dt), dtype=dt)
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), dtype=dt), dtype=dt)
        if self.bias:
            self.bias_ih = Parameter(np.empty(G, dtype=dt), dtype=dt)
            self.bias_hh = Parameter(np.empty(G, dtype=dt), dtype=dt)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _step(self, input, hx, n_states):  # noqa: A002
        """Check and shape the input and state(s), run one step, unbatch the result."""
        who, w = repr(self), self.weight_ih
        x = _layer_input(who, input, w.dtype, 2, "(batch, input_size) or unbatched (input_size,)")
        given_shape = x.shape
        batched = x.ndim == 2
        if not batched:
            x = x.reshape(1, -1)
        if x.shape[1] != self.input_size:
            raise RecurrentInputError(f"{who}: input of shape {given_shape} has {x.shape[1]} "
                                      f"features, expected input_size="
                                      f"{self.input_size}")
        names = ["hx"] if n_states == 1 else ["hx[0]", "hx[1]"]
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = [ag.zeros(shape, dtype=w.dtype)] * n_states
        else:
            if n_states == 1:
                given = [hx]
            elif isinstance(hx, (tuple, list)) and len(hx) == 2:
                given = list(hx)
            else:
                raise TypeError(f"{who}: hx must be a tuple (h, c), got {type(hx).__name__}")
            states = [_as_float(s, w.dtype, who, name) for s, name in zip(given, names)]
            for s, name in zip(states, names):
                if s.ndim not in (1, 2):
                    raise ValueError(f"{who}: Expected {name} to be 1D or 2D, got {s.ndim}D "
                                     f"instead (shape {s.shape})")
            if not batched:
                states = [s.reshape(1, -1) if s.ndim == 1 else s for s in states]
            for s, name in zip(states, names):
                if s.shape != shape:
                    want = shape if batched else shape[1:]
                    got = s.shape if batched or s.ndim != 2 or s.shape[0] != 1 else s.shape[1:]
                    raise RecurrentInputError(
                        f"{who}: {name} of shape {_torch_shape(got)} does not match: expected "
                        f"{_torch_shape(want)} = ({'batch, ' if batched else ''}hidden_size) "
                        f"for an input of shape {_torch_shape(given_shape)}")
        out = _cell(self._mode, x, states[0] if n_states == 1 else tuple(states),
                    self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if batched:
            return out
        if n_states == 1:
            return out.reshape(-1)
        return tuple(o.reshape(-1) for o in out)


class RNNCell(RNNCellBase):
    """``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', device=None,
    dtype=None)``: one step h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.

    ``forward(input, hx=None)``: input (N, input_size) or (input_size,), hx
    (N, hidden_size) or (hidden_size,), zeros if not given; returns h'.

        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(ag.randn(3, 10))          # (3, 20)
        >>> h = cell(ag.randn(3, 10), h)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity {nonlinearity!r}. Select from "
                             f"'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self):
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):  # noqa: A002
        return self._step(input, hx, 1)


class LSTMCell(RNNCellBase):
    """``LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)``: one
    LSTM step, [i, f, g, o] = W_ih x + b_ih + W_hh h + b_hh, c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),
    h' = σ(o) ⊙ tanh(c').

    ``forward(input, hx=None)``: hx = (h, c), each (N, hidden_size) or
    (hidden_size,), zeros if not given; returns (h', c').

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(ag.randn(3, 10))
        >>> h, c = cell(ag.randn(3, 10), (h, c))
    """

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        return self._step(input, hx, 2)


class GRUCell(RNNCellBase):
    """``GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)``: one GRU
    step, h' = (1 − z) ⊙ n + z ⊙ h, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).

    ``forward(input, hx=None)`` as ``RNNCell``'s.

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(ag.randn(3, 10))
    """

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):  # noqa: A002
        return self._step(input, hx, 1)
