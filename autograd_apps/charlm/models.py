"""The language models of the charlm job, written as in PyTorch with ``nn``.

Every model reads a batch of words as token indices ``idx`` (N, T) -- the
start token '.' then the letters, see ``data`` -- and returns logits (N, T, V)
of the next token at every position; position t sees only ``idx[:, :t + 1]``
(padding after a word therefore never changes its predictions).

``bigram``     P(next | previous) as a table, two ways that give the same answer:
               ``BigramCounts``, the normalised counts of the training bigrams
               with add-alpha smoothing, (N[a, b] + alpha) / sum_c (N[a, c] + alpha);
               and ``BigramNet``, a one-layer net -- logits = one_hot(previous) W,
               written as the row lookup W[previous] (``nn.Embedding``) -- trained
               by gradient descent to the same negative log-likelihood.
``mlp``        Bengio et al. 2003, "A Neural Probabilistic Language Model": the
               last ``context`` tokens (before the word: '.') are embedded, the
               embeddings concatenated, a tanh hidden layer, a linear layer to
               the logits (the paper's optional direct input-output connections
               are left out, as in makemore).
``rnn``, ``lstm``, ``gru``   an embedding, ``nn.RNN`` (tanh) / ``nn.LSTM`` /
               ``nn.GRU`` (``layers`` stacked, zero initial state), a linear layer
               from the hidden state to the logits.
``transformer`` a small GPT-like decoder: token and learnt position embeddings,
               ``layers`` pre-norm ``nn.TransformerEncoderLayer`` blocks (GELU)
               whose self-attention gets the causal mask (True above the
               diagonal: position t attends to positions <= t), a final
               ``nn.LayerNorm`` and a linear layer to the logits.

``token_nll`` is the training loss.  Every layer is made of engine ops, so a
training step through any model can be compiled (``ag.compile``).
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
import nn
import nn.functional as F

from autograd_apps.charlm.data import IGNORE, VOCAB_SIZE

__all__ = ["MODELS", "BigramCounts", "BigramNet", "MLP", "RecurrentLM", "TransformerLM",
           "build_model", "token_nll", "count_parameters", "describe_model"]

MODELS = ("bigram", "mlp", "rnn", "lstm", "gru", "transformer")
_RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _indices(idx):
    """Token indices as an int64 Tensor (a Tensor is kept, so a compiled step reads
    each call's batch)."""
    return idx if isinstance(idx, ag.Tensor) else ag.as_tensor(np.asarray(idx, dtype=np.int64))


class BigramCounts(nn.Module):
    """The bigram model of normalised counts: P(b | a) = (N[a, b] + α) / Σ_c (N[a, c] + α).

    N (buffer ``counts``, V x V, float64) counts the (previous, next) token pairs
    of the training words (``fit``); α = ``smoothing`` > 0 (1: Laplace's add-one,
    as makemore).  ``forward(idx)`` returns log P(· | idx), which are logits.
    It has no parameters: nothing to train.

    Example::

        counts = BigramCounts(smoothing=1.0).fit(x_train, y_train)
        log_probs = counts(x_val)            # (N, T, 27)
    """

    def __init__(self, vocab_size=VOCAB_SIZE, smoothing=1.0):
        super().__init__()
        if not smoothing > 0:
            raise ValueError(f"BigramCounts: smoothing must be positive, got {smoothing!r}")
        self.vocab_size, self.smoothing = vocab_size, float(smoothing)
        self.register_buffer("counts", ag.zeros((vocab_size, vocab_size), dtype=ag.float64))

    def fit(self, x, y):
        """Count the pairs (x[n, t], y[n, t]) whose target is not padding; returns self."""
        x, y = np.asarray(x), np.asarray(y)
        keep = y != IGNORE
        counts = np.zeros((self.vocab_size, self.vocab_size))
        np.add.at(counts, (x[keep], y[keep]), 1.0)
        with ag.no_grad():
            self.counts.copy_(ag.as_tensor(counts))
        return self

    def log_probs(self):
        """The V x V table log P(b | a), float64."""
        smoothed = self.counts + self.smoothing
        return ag.log(smoothed / smoothed.sum(axis=1, keepdims=True))

    def forward(self, idx):
        return self.log_probs()[_indices(idx)]

    def extra_repr(self):
        return f"{self.vocab_size}, smoothing={self.smoothing:g}"


class BigramNet(nn.Module):
    """The bigram model as a one-layer net: logits = one_hot(idx) W = W[idx], W (V x V)
    starting at zero (the uniform distribution), as makemore's.

    Example: ``BigramNet()(ag.tensor([[0, 1]])).shape`` -> ``(1, 2, 27)``.
    """

    def __init__(self, vocab_size=VOCAB_SIZE):
        super().__init__()
        self.logits = nn.Embedding(vocab_size, vocab_size)
        nn.init.zeros_(self.logits.weight)

    def forward(self, idx):
        return self.logits(_indices(idx))


class MLP(nn.Module):
    """Bengio et al.'s neural probabilistic language model: the previous ``context``
    tokens -> embeddings of size ``embedding``, concatenated -> tanh layer of
    ``hidden`` units -> logits.  Before the start of a word the context is '.'.

    Example: ``MLP(context=3, embedding=16, hidden=200)(ag.tensor([[0, 1, 2]])).shape`` -> ``(1, 3, 27)``.
    """

    def __init__(self, context=3, embedding=16, hidden=200, vocab_size=VOCAB_SIZE):
        super().__init__()
        self.context = int(context)
        self.wte = nn.Embedding(vocab_size, embedding)
        self.hidden = nn.Linear(self.context * embedding, hidden)
        self.lm_head = nn.Linear(hidden, vocab_size)

    def forward(self, idx):
        idx = _indices(idx)
        n, t = idx.shape
        k = self.context
        padded = ag.cat([ag.zeros((n, k - 1), dtype=idx.dtype), idx], axis=1)
        # window[n, t] = padded[n, t : t + k]: the k tokens ending at position t
        windows = padded[:, np.arange(t)[:, None] + np.arange(k)[None, :]]
        emb = self.wte(windows).reshape(n, t, k * self.wte.embedding_dim)
        return self.lm_head(ag.tanh(self.hidden(emb)))


class RecurrentLM(nn.Module):
    """Embedding -> ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``cell``) -> linear layer.

    Example: ``RecurrentLM("lstm", 32, 128)(ag.tensor([[0, 1, 2]])).shape`` -> ``(1, 3, 27)``.
    """

    def __init__(self, cell, embedding=32, hidden=128, layers=1, dropout=0.0,
                 vocab_size=VOCAB_SIZE):
        super().__init__()
        if cell not in _RECURRENT:
            raise ValueError(f"RecurrentLM: cell must be one of {', '.join(_RECURRENT)}, "
                             f"got {cell!r}")
        self.cell = cell
        self.wte = nn.Embedding(vocab_size, embedding)
        self.rnn = _RECURRENT[cell](embedding, hidden, num_layers=layers, batch_first=True,
                                    dropout=dropout if layers > 1 else 0.0)
        self.lm_head = nn.Linear(hidden, vocab_size)

    def forward(self, idx):
        out, _ = self.rnn(self.wte(_indices(idx)))
        return self.lm_head(out)


class TransformerLM(nn.Module):
    """A small causal transformer: token + position embeddings (``d_model``),
    ``layers`` pre-norm ``nn.TransformerEncoderLayer`` blocks (``heads`` heads,
    feed-forward width ``hidden``, GELU, ``dropout``) under the causal mask, a
    final LayerNorm, a linear layer to the logits.  Sequences up to
    ``block_size`` tokens.

    Example: ``TransformerLM(block_size=8)(ag.tensor([[0, 1, 2]])).shape`` -> ``(1, 3, 27)``.
    """

    def __init__(self, block_size, d_model=64, heads=4, layers=2, hidden=256, dropout=0.0,
                 vocab_size=VOCAB_SIZE):
        super().__init__()
        self.block_size = int(block_size)
        self.wte = nn.Embedding(vocab_size, d_model)
        self.wpe = nn.Embedding(self.block_size, d_model)
        # Separate layers, each initialised on its own (nn.TransformerEncoder would
        # deep-copy one layer, so that every block started from the same weights).
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, heads, hidden, dropout, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        idx = _indices(idx)
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"TransformerLM: sequence of {t} tokens, longer than the block "
                             f"size {self.block_size}")
        x = self.wte(idx) + self.wpe(np.arange(t))
        causal = np.triu(np.ones((t, t), dtype=bool), k=1)     # True: may not attend
        for block in self.blocks:
            x = block(x, src_mask=causal, is_causal=True)
        return self.lm_head(self.ln_f(x))


def build_model(cfg, block_size):
    """The network of ``cfg.model`` with cfg's sizes (for ``bigram``: the net),
    initialised from ``nn.init``'s generator seeded with ``cfg.seed``.

    block_size: the longest sequence (the longest word + 1; the transformer's
    position table).

    Example: ``build_model(resolve(CharLMConfig(model="lstm"), 58757), 23)``.
    """
    nn.init.manual_seed(cfg.seed)
    if cfg.model == "bigram":
        return BigramNet()
    if cfg.model == "mlp":
        return MLP(cfg.context, cfg.embedding, cfg.hidden)
    if cfg.model in _RECURRENT:
        return RecurrentLM(cfg.model, cfg.embedding, cfg.hidden, cfg.layers, cfg.dropout)
    if cfg.model == "transformer":
        return TransformerLM(block_size, cfg.embedding, cfg.heads, cfg.layers, cfg.hidden,
                             cfg.dropout)
    raise ValueError(f"build_model: unknown model {cfg.model!r}")


def token_nll(logits, targets):
    """The mean negative log-likelihood per token, -(1/M) Σ log softmax(logits)[target],
    over the M targets that are not padding (``IGNORE``): ``F.cross_entropy`` on
    the flattened positions, with ``ignore_index=IGNORE``.

    Example: ``token_nll(model(xb), yb).backward()``.
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           _indices(targets).reshape(-1), ignore_index=IGNORE)


def count_parameters(model):
    """Number of trained numbers (for ``BigramCounts``: the table's V x V entries)."""
    if isinstance(model, BigramCounts):
        return int(model.counts.size)
    return int(sum(p.size for p in model.parameters()))


def describe_model(cfg, block_size=None):
    """A name of the model that shows its sizes, e.g. ``LSTM 1x128, embedding 32``.

    Example: ``describe_model(resolve(CharLMConfig(model="mlp"), 58757))``
    -> ``"MLP: context 5 x embedding 16 -> 256 tanh"``.
    """
    m = cfg.model
    if m == "bigram":
        return "bigram: one-layer net 27 -> 27 (softmax)"
    if m == "mlp":
        return (f"MLP: context {cfg.context} x embedding {cfg.embedding} -> {cfg.hidden} tanh")
    if m in _RECURRENT:
        return (f"{m.upper()}: {cfg.layers}x{cfg.hidden}, embedding {cfg.embedding}"
                + (f", dropout {cfg.dropout:g}" if cfg.dropout and cfg.layers > 1 else ""))
    if m == "transformer":
        return (f"transformer: {cfg.layers} blocks, d_model {cfg.embedding}, {cfg.heads} heads, "
                f"feed-forward {cfg.hidden}" + (f", block {block_size}" if block_size else "")
                + (f", dropout {cfg.dropout:g}" if cfg.dropout else ""))
    raise ValueError(f"describe_model: unknown model {m!r}")
