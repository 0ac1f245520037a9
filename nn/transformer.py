"""``nn.TransformerEncoderLayer`` and ``nn.TransformerEncoder``, as torch's:
the same arguments, sub-modules (hence ``state_dict`` keys: ``self_attn.*``,
``linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``; ``layers.0.…`` in the
encoder) and computation.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from . import functional as F
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .layers import Dropout, Linear
from .module import Module, ModuleList
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-5, batch_first=False, norm_first=False,
    bias=True, dtype=None)``: self-attention and a two-layer feed-forward block,
    each with a residual connection and a LayerNorm (Vaswani et al. 2017):

        norm_first=False (post-norm):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
        norm_first=True  (pre-norm):   x = x + SA(norm1(x));  x = x + FF(norm2(x))

    with SA = dropout1(self_attn(x, x, x)) and FF = dropout2(linear2(dropout(
    activation(linear1(x))))). ``activation``: 'relu', 'gelu' or any callable
    (a Module is registered as the child ``activation``, as torch).

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``:
    ``src`` (S, N, E) — (N, S, E) with ``batch_first`` — or unbatched (S, E);
    masks as ``MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``.

        >>> layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
        >>> layer(ag.randn(16, 32, 64)).shape
        (16, 32, 64)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 dtype=None):
        super().__init__()
        if isinstance(dim_feedforward, bool) or not isinstance(
                dim_feedforward, (numbers.Integral, np.integer)) or dim_feedforward <= 0:
            raise ValueError(f"TransformerEncoderLayer: dim_feedforward must be a positive int, "
                             f"got {dim_feedforward!r}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation should be relu/gelu "
                                 f"(or a callable), not {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a "
                            f"callable, got {type(activation).__name__}")
        # torch's flag for its fused kernels: 1 relu, 2 gelu, 0 anything else
        self.activation_relu_or_gelu = (
            1 if activation is F.relu or isinstance(activation, ReLU) else
            2 if activation is F.gelu or isinstance(activation, GELU) else 0)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``TransformerEncoder(encoder_layer, num_layers, norm=None,
    enable_nested_tensor=True, mask_check=True)``: ``num_layers`` deep copies of
    ``encoder_layer`` (``layers.0``, ``layers.1``, …; each with its own parameters,
    all starting from the given layer's values, as torch), applied in turn, then
    ``norm`` if given. (``enable_nested_tensor`` and ``mask_check`` are accepted for
    compatibility: there are no nested tensors here.)

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: the
    masks are passed to every layer.

        >>> layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(64))
        >>> encoder(ag.randn(8, 10, 64)).shape
        (8, 10, 64)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        if isinstance(num_layers, bool) or not isinstance(num_layers, (numbers.Integral,
                                                                       np.integer)) \
                or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be a positive int, got "
                             f"{num_layers!r}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        # is_causal=None: torch compares the mask with the causal one to set the hint;
        # the hint changes no value (the mask is applied either way), so it stays off.
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        if self.norm is not None:
            output = self.norm(output)
        return output
