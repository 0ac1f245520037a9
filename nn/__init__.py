"""nn: neural-network building blocks on autograd_core, with PyTorch's API.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    >>> loss = nn.CrossEntropyLoss()(model(x), y)
    >>> loss.backward()

``nn.functional`` holds the same operations as functions, ``nn.init`` the
initialisers (they draw from the global generator: ``autograd_core.manual_seed(seed)``,
also spelled ``nn.init.manual_seed``, makes model construction reproducible),
``nn.DataLoader`` mini-batches NumPy arrays (``nn.DataLoader(x, y, batch_size=32)``)
or, given a dataset, is ``autograd_core.utils.data.DataLoader``; ``nn.datasets``
reads Fashion-MNIST and MNIST; ``nn.utils`` clips gradients and turns parameters
into one vector and back (``torch.nn.utils``).
"""
from .module import (Module, Parameter, Sequential, ModuleList, StateDictError,
                     IncompatibleKeys)
from .layers import (Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax, Softplus,
                     Identity, Flatten, Dropout, BatchNorm1d)
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .pooling import (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d,
                      AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, Upsample)
from .channel_dropout import Dropout1d, Dropout2d
from .losses import (MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss,
                     KLDivLoss, MultiMarginLoss, HingeLoss)
from .sparse import Embedding
from .recurrent import (RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell,
                        RecurrentInputError)
from . import functional, init, utils
from .data import DataLoader
from . import datasets

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError", "IncompatibleKeys",
    "Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Softplus",
    "Identity", "Flatten", "Dropout", "BatchNorm1d",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "Upsample", "Dropout1d", "Dropout2d",
    "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "KLDivLoss", "MultiMarginLoss", "HingeLoss",
    "Embedding", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell",
    "GRUCell", "RecurrentInputError",
    "functional", "init", "utils", "DataLoader", "datasets",
]
