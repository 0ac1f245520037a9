"""Evaluating a classifier on held-out data: cross-entropy, misclassification, confusion.

Works for any model whose output is class logits, shape (N, C) or (N, ..., C)
(e.g. one prediction per character of a sequence): the leading dimensions are
flattened, and the targets are class indices of the leading shape.
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag

__all__ = ["classification_metrics", "batch_error", "confusion_matrix"]


def _flat(logits, targets):
    logits = np.asarray(logits, dtype=np.float64)
    return logits.reshape(-1, logits.shape[-1]), np.asarray(targets).reshape(-1)


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
    was_training = model.training
    model.eval()
    total, count, preds = 0.0, 0, []
    try:
        with ag.no_grad():
            for i in range(0, len(x), chunk):
                logits, targets = _flat(model(x[i:i + chunk]).data, y[i:i + chunk])
                shifted = logits - logits.max(axis=1, keepdims=True)
                logz = np.log(np.exp(shifted).sum(axis=1))
                total += float((logz - shifted[np.arange(len(targets)), targets]).sum())
                count += len(targets)
                preds.append(logits.argmax(axis=1))
    finally:
        model.train(was_training)
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
