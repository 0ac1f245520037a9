"""nn layers follow the default dtype, as torch's do: with
``ag.set_default_dtype(ag.float64)`` every floating parameter and buffer of a
layer built without ``dtype=`` is float64 (and float32 under the default)."""
import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.utils import get_total_norm

# name -> a builder taking the nn namespace (ours or torch.nn): the same call in both
LAYERS = {
    "Linear": lambda m: m.Linear(3, 2),
    "Conv1d": lambda m: m.Conv1d(2, 3, 3),
    "Conv2d": lambda m: m.Conv2d(2, 3, 3),
    "ConvTranspose1d": lambda m: m.ConvTranspose1d(2, 3, 3),
    "ConvTranspose2d": lambda m: m.ConvTranspose2d(2, 3, 3),
    "BatchNorm1d": lambda m: m.BatchNorm1d(3),
    "BatchNorm2d": lambda m: m.BatchNorm2d(3),
    "BatchNorm3d": lambda m: m.BatchNorm3d(3),
    "LayerNorm": lambda m: m.LayerNorm(4),
    "GroupNorm": lambda m: m.GroupNorm(2, 4),
    "RMSNorm": lambda m: m.RMSNorm(4),
    "Embedding": lambda m: m.Embedding(5, 3),
    "RNN": lambda m: m.RNN(3, 4),
    "LSTM": lambda m: m.LSTM(3, 4, proj_size=2),
    "GRU": lambda m: m.GRU(3, 4, bidirectional=True),
    "RNNCell": lambda m: m.RNNCell(3, 4),
    "LSTMCell": lambda m: m.LSTMCell(3, 4),
    "GRUCell": lambda m: m.GRUCell(3, 4),
    "MultiheadAttention": lambda m: m.MultiheadAttention(4, 2, kdim=3, vdim=5),
    "TransformerEncoderLayer": lambda m: m.TransformerEncoderLayer(4, 2, dim_feedforward=8),
    "TransformerEncoder": lambda m: m.TransformerEncoder(
        m.TransformerEncoderLayer(4, 2, dim_feedforward=8, batch_first=True), 2),
    "PReLU": lambda m: m.PReLU(3),
}


@pytest.fixture
def float64_default():
    before = ag.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    yield
    ag.set_default_dtype(before)


def floating_state(module):
    """The dtypes of the module's floating parameters and buffers, by name."""
    return {k: np.dtype(v.dtype) for k, v in module.state_dict().items()
            if np.dtype(v.dtype).kind == "f"}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_parameters_and_buffers_take_the_default_dtype(name, float64_default):
    layer = LAYERS[name](nn)
    dtypes = floating_state(layer)
    assert dtypes and set(dtypes.values()) == {np.dtype(np.float64)}, dtypes


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_float32_under_the_default_default(name):
    assert ag.get_default_dtype() == ag.float32
    assert set(floating_state(LAYERS[name](nn)).values()) == {np.dtype(np.float32)}


def test_explicit_dtype_wins_and_parameter_follows_the_default(float64_default):
    assert nn.Linear(2, 2, dtype=np.float32).weight.dtype == np.float32
    assert nn.Parameter(np.ones(3)).dtype == np.float64
    assert nn.Parameter().dtype == np.float64
    assert nn.Parameter(ag.ones(2, dtype=ag.float32)).dtype == np.float32   # a Tensor keeps its own
    assert get_total_norm([]).dtype == np.float64                            # torch.tensor(0.0)
    layer = nn.Linear(3, 2)
    assert layer(np.ones((1, 3))).dtype == np.float64


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_same_dtypes_as_torch(name):
    torch = pytest.importorskip("torch")
    before, tbefore = ag.get_default_dtype(), torch.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ours = floating_state(LAYERS[name](nn))
        theirs = {k: np.dtype(str(v.dtype).replace("torch.", ""))
                  for k, v in LAYERS[name](torch.nn).state_dict().items() if v.is_floating_point()}
    finally:
        ag.set_default_dtype(before)
        torch.set_default_dtype(tbefore)
    assert ours == theirs


def test_repr_names_a_dtype_only_where_it_is_not_the_default(float64_default):
    assert "dtype" not in repr(nn.Linear(2, 2)) and "dtype" not in repr(nn.Conv2d(1, 1, 3))
    assert "dtype=float32" in repr(nn.Linear(2, 2, dtype=np.float32))
    assert "dtype=float32" in repr(nn.Conv1d(1, 1, 3, dtype=np.float32))
