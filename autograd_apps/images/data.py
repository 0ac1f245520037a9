"""The images of a run: Fashion-MNIST or MNIST, split into training, validation and test.

The IDX files are read by ``nn.datasets``.  With ``--data DIR`` only DIR (and
its usual subfolders) is searched, so a wrong folder is an error rather than a
silent fall-back to the installed copy; without it the dataset's environment
variable and default place are.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nn import datasets

from autograd_apps.common.errors import UsageError
from autograd_apps.images.config import SPLIT_SEED

__all__ = ["DATASET_NAMES", "CLASS_NAMES", "load_data"]

DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}
CLASS_NAMES = {"fashion-mnist": datasets.FASHION_MNIST_CLASSES, "mnist": datasets.MNIST_CLASSES}
_FIND = {"fashion-mnist": datasets.find_fashion_mnist, "mnist": datasets.find_mnist}
_LOAD = {"fashion-mnist": datasets.load_fashion_mnist, "mnist": datasets.load_mnist}

_CACHE = {}


def _load_split(dataset, data_dir, split, limit):
    """Images (N, 28, 28) float32 in [0, 1] and int64 labels, cached per process."""
    directory = _FIND[dataset](data_dir, split=split, search_defaults=data_dir is None)
    key = (dataset, str(Path(directory).resolve()), split, limit)
    if key not in _CACHE:
        _CACHE[key] = _LOAD[dataset](directory, split=split, limit=limit)
    return _CACHE[key]


def load_data(cfg):
    """Training, validation and test arrays shaped for ``cfg.model``: (N, 784), or
    (N, 1, 28, 28) for the CNN; labels int64.

    The validation images (``cfg.val_size``) are carved from the first
    ``cfg.limit_train`` training images by a fixed permutation (the same for
    every seed); the test images are the first ``cfg.limit_test``.

    Example: ``load_data(cfg)["x_train"].shape == (55000, 784)``.
    """
    x, y = _load_split(cfg.dataset, cfg.data, "train", cfg.limit_train)
    if cfg.val_size >= len(x):
        raise UsageError(f"--val-size {cfg.val_size} leaves no training images out of "
                         f"{len(x)}; use a smaller --val-size or a larger --limit-train")
    (x_tr, y_tr), (x_va, y_va) = datasets.train_validation_split(x, y, cfg.val_size,
                                                                 seed=SPLIT_SEED)
    x_te, y_te = _load_split(cfg.dataset, cfg.data, "test", cfg.limit_test)
    shape = (1, 28, 28) if cfg.model == "cnn" else (784,)

    def shaped(a):
        return np.ascontiguousarray(a.reshape((len(a),) + shape))
    return dict(x_train=shaped(x_tr), y_train=y_tr, x_val=shaped(x_va), y_val=y_va,
                x_test=shaped(x_te), y_test=y_te)
