"""Evaluating a classifier on held-out data: cross-entropy, misclassification, confusion.

Works for any model whose output is class logits, shape (N, C) or (N, ..., C)
(e.g. one prediction per character of a sequence): the leading dimensions are
flattened, and the targets are class indices of the leading shape; targets
equal to an ``ignore_index`` (padding) are left out, as in ``cross_entropy``.
"""
from __future__ import annotations

import contextlib

import numpy as np

import autograd_core as ag

__all__ = ["classification_metrics", "batch_error", "confusion_matrix", "nll_sum", "evaluating"]


def _flat(logits, targets):
    logits = np.asarray(logits, dtype=np.float64)
    return logits.reshape(-1, logits.shape[-1]), np.asarray(targets).reshape(-1)


@contextlib.contextmanager
def evaluating(model):
    """Run the block with `model` in eval mode (dropout off) and no graph recorded;
    its mode is restored afterwards.

    Example: ``with evaluating(model): logits = model(x)``.
    """
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            yield model
    finally:
        model.train(was_training)


def nll_sum(logits, targets, ignore_index=None):
    """(total, count): total = sum_n -log softmax(logits_n)[target_n] in float64, over
    the `count` targets that are not `ignore_index` (None: all of them).

    Example: ``nll_sum([[0., 0.], [5., 0.]], [1, -100], ignore_index=-100)`` -> ``(0.6931..., 1)``.
    """
    logits, targets = _flat(logits, targets)
    if ignore_index is not None:
        keep = targets != ignore_index
        logits, targets = logits[keep], targets[keep]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logz = np.log(np.exp(shifted).sum(axis=1))
    return float((logz - shifted[np.arange(len(targets)), targets]).sum()), len(targets)


def batch_error(logits, targets):
    """Misclassification rate of one batch: the fraction where argmax(logits) != target.

    Example: ``batch_error([[2., 1.], [0., 3.]], [0, 0]) == 0.5``.
    """
    logits, targets = _flat(logits, targets)
    return float(np.mean(logits.argmax(axis=1) != targets)) if len(targets) else float("nan")


def classification_metrics(model, x, y, chunk=1000):
    """(mean cross-entropy, misclassification rate, predictions) of `model` on (x, y).

    cost = -(1/N) sum_n log softmax(f(x_n))_{y_n}, in float64, evaluated in
    eval mode (dropout off) without recording a graph, `chunk` examples at a
    time; the model's mode is restored.  Empty data give (nan, nan, []).

    Example: ``cost, error, preds = classification_metrics(model, x_val, y_val)``.
    """
    total, count, preds = 0.0, 0, []
    with evaluating(model):
        for i in range(0, len(x), chunk):
            logits = model(x[i:i + chunk]).data
            part, n = nll_sum(logits, y[i:i + chunk])
            total += part
            count += n
            preds.append(logits.reshape(-1, logits.shape[-1]).argmax(axis=1))
    if not count:
        return float("nan"), float("nan"), np.zeros(0, dtype=np.int64)
    preds = np.concatenate(preds)
    return total / count, float(np.mean(preds != np.asarray(y).reshape(-1))), preds


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts C[i, j] of examples of class i predicted as j (int64, n_classes x n_classes).

    Example: ``confusion_matrix([0, 1, 1], [0, 0, 1], 2)`` -> ``[[1, 0], [1, 1]]``.
    """
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)), 1)
    return cm
