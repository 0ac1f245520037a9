"""nn: neural-network building blocks on autograd_core, with PyTorch's API.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    >>> x, y = ag.randn(32, 784), ag.randint(0, 10, (32,))
    >>> loss = nn.CrossEntropyLoss()(model(x), y)
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    (200, 784)

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
from .layers import Linear, Identity, Flatten, Unflatten, Dropout
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .pooling import (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d,
                      AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, Upsample)
from .channel_dropout import Dropout1d, Dropout2d
from .losses import (MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss,
                     KLDivLoss, MultiMarginLoss, HingeLoss)
from .sparse import Embedding
from .recurrent import (RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell,
                        RecurrentInputError)
# normalisation, attention, transformer and activation layers
from .activation import (ReLU, LeakyReLU, Tanh, Sigmoid, Softplus, Softmax, LogSoftmax, Softmin,
                         Softmax2d, GELU, SiLU, Mish, Softsign, ELU, SELU, CELU, Hardtanh, ReLU6,
                         Hardswish, Hardsigmoid, LogSigmoid, Tanhshrink, Softshrink, Hardshrink,
                         Threshold, GLU, PReLU)
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm, RMSNorm
from .attention import MultiheadAttention
from .transformer import TransformerEncoderLayer, TransformerEncoder
from . import functional, init, utils
from .data import DataLoader
from . import datasets
# containers, more losses and the distance modules
from .module import ModuleDict, ParameterList, ParameterDict
from .losses import (SmoothL1Loss, HuberLoss, SoftMarginLoss, MultiLabelSoftMarginLoss,
                     CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss,
                     GaussianNLLLoss, PoissonNLLLoss)
from .distance import CosineSimilarity, PairwiseDistance

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError", "IncompatibleKeys",
    "Linear", "Identity", "Flatten", "Unflatten", "Dropout",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "Upsample", "Dropout1d", "Dropout2d",
    "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "KLDivLoss", "MultiMarginLoss", "HingeLoss",
    "Embedding", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell",
    "GRUCell", "RecurrentInputError",
    "functional", "init", "utils", "DataLoader", "datasets",
    # normalisation, attention, transformer and activation layers
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softplus", "Softmax", "LogSoftmax", "Softmin",
    "Softmax2d", "GELU", "SiLU", "Mish", "Softsign", "ELU", "SELU", "CELU", "Hardtanh", "ReLU6",
    "Hardswish", "Hardsigmoid", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink",
    "Threshold", "GLU", "PReLU",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    # containers, more losses and the distance modules
    "ModuleDict", "ParameterList", "ParameterDict",
    "SmoothL1Loss", "HuberLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "GaussianNLLLoss",
    "PoissonNLLLoss", "CosineSimilarity", "PairwiseDistance",
]
