"""``nn.MultiheadAttention``, as ``torch.nn.MultiheadAttention``: the same
arguments, parameters (names, layouts, initialisation) and forward, so a
``state_dict`` moves between the two unchanged. The computation is
``nn.functional``'s multi-head attention (``scaled_dot_product_attention`` when
the weights are not needed).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import functional as F
from . import init
from .layers import Linear
from .module import Module, Parameter, _param_dtype

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False,
    dtype=None)``: Vaswani et al.'s attention with ``num_heads`` heads of size
    embed_dim / num_heads,

        headᵢ = softmax((Q Wqᵢᵀ)(K Wkᵢᵀ)ᵀ / √d + M) (V Wvᵢᵀ),   out = [head₁ … head_H] Woᵀ + bo.

    Parameters, as torch: ``in_proj_weight`` (3E, E) holding Wq, Wk, Wv stacked
    and ``in_proj_bias`` (3E,) — or, when ``kdim``/``vdim`` differ from E,
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight``
    (E, vdim) — and ``out_proj`` (a Linear(E, E): ``out_proj.weight``,
    ``out_proj.bias``); ``add_bias_kv``: ``bias_k``, ``bias_v`` (1, 1, E), one more
    learnt key and value. Initialisation: Xavier-uniform projections, zero biases,
    Xavier-normal ``bias_k``/``bias_v``. ``dropout`` drops attention weights in training.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` with inputs
    (L, N, E) — (N, L, E) if ``batch_first`` — or unbatched (L, E), returns
    ``(attn_output, attn_weights)``: the output shaped like ``query``, and the
    weights (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights=False``.
    Masks, as torch (note: True means *masked out* here, the opposite of
    ``scaled_dot_product_attention``): ``key_padding_mask`` (N, S), True for keys
    to ignore (padding); ``attn_mask`` (L, S) or (N·H, L, S), True where attention
    is not allowed; float masks are added to the scores. ``is_causal=True`` is a
    hint that ``attn_mask`` is the causal mask (which must then be given).

        >>> mha = nn.MultiheadAttention(64, 4, batch_first=True)
        >>> x = ag.randn(16, 32, 64)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((16, 32, 64), (16, 32, 32))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, dtype=None):
        super().__init__()
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)) or v <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got "
                                 f"embed_dim={embed_dim!r} and num_heads={num_heads!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                             f"got embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = F._check_probability(dropout, "MultiheadAttention", "dropout")
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = bool(add_zero_attn)
        dt = _param_dtype(dtype, "MultiheadAttention")
        e = self.embed_dim

        def empty(*shape):
            return Parameter(np.empty(shape, dtype=dt), dtype=dt)

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * e, e)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty(e, e)
            self.k_proj_weight = empty(e, self.kdim)
            self.v_proj_weight = empty(e, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * e)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k, self.bias_v = empty(1, 1, e), empty(1, 1, e)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self):
        """torch's initialisation (``out_proj.weight`` keeps Linear's default)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        return F._multi_head_attention(
            query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, self.training, key_padding_mask, need_weights, attn_mask,
            self.q_proj_weight, self.k_proj_weight, self.v_proj_weight, None, None,
            average_attn_weights, is_causal, self.batch_first, "MultiheadAttention",
            self.embed_dim)
