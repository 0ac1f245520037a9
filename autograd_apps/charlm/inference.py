"""Using a trained language model: its NLL per character on held-out words, and new words.

``nll_per_char`` is the figure the job reports: the mean over every predicted
token of the held-out words (each word's letters and its end token '.') of
-log P(token | the tokens before it), in nats; divided by ln 2 it is in bits
per character.  ``sample_words`` draws words letter by letter from the model,
starting from '.', until it predicts '.', with ``ag.multinomial`` and a seeded
``ag.Generator``, so the same seed gives the same words.
"""
from __future__ import annotations

import math

import numpy as np

import autograd_core as ag
import nn.functional as F

from autograd_apps.common.evaluation import evaluating, nll_sum
from autograd_apps.charlm.data import IGNORE, decode, lengths

__all__ = ["nll_per_char", "bits", "sample_words", "EVAL_CHUNK"]

EVAL_CHUNK = 512        # words per forward pass when evaluating


def nll_per_char(model, x, y, chunk=EVAL_CHUNK):
    """(mean NLL in nats per predicted token, number of tokens) of `model` on the
    encoded words (x, y), in float64, in eval mode and without a graph.

    The words are taken shortest first, `chunk` at a time, each chunk cut to
    its longest word (padding changes no prediction, only the cost).  No words:
    (nan, 0).

    Example: ``nll, n = nll_per_char(model, data["x_val"], data["y_val"])``.
    """
    order = np.argsort(lengths(y), kind="stable")
    total, count = 0.0, 0
    with evaluating(model):
        for i in range(0, len(order), chunk):
            rows = order[i:i + chunk]
            width = int(lengths(y[rows]).max())
            logits = model(x[rows, :width]).data
            part, n = nll_sum(logits, y[rows, :width], ignore_index=IGNORE)
            total += part
            count += n
    return (total / count if count else float("nan")), count


def bits(nats):
    """Nats -> bits (divided by ln 2).  Example: ``bits(math.log(2)) == 1.0``."""
    return nats / math.log(2)


def sample_words(model, n, max_len, seed=0, generator=None):
    """`n` words drawn from `model`: from '.', each next token from
    softmax(logits) by ``ag.multinomial``, until '.' or `max_len` tokens.

    generator: an ``ag.Generator`` (default: a new one seeded with `seed`), so
    the same seed gives the same words.  Runs in eval mode, without a graph.

    Example: ``sample_words(model, 20, max_len=23, seed=0)`` -> ``["prestion", ...]``.
    """
    g = generator if generator is not None else ag.Generator().manual_seed(seed)
    if n == 0:
        return []
    idx = np.zeros((n, 1), dtype=np.int64)
    with evaluating(model):
        for _ in range(max_len):
            probs = F.softmax(model(idx)[:, -1, :].double(), dim=-1)
            nxt = ag.multinomial(probs, 1, generator=g).numpy()
            idx = np.concatenate([idx, nxt], axis=1)
            if (idx[:, 1:] == 0).any(axis=1).all():
                break
    return [decode(row[1:]) for row in idx]
