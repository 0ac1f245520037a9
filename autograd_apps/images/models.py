"""The four networks of the image job, and names for them that give their real sizes.

``logreg``: one Linear layer 784 -> 10 (softmax in the loss).  ``mlp``: the
textbook's 784-200(ReLU)-10 (``--hidden`` changes the sizes).  ``mlp-deep``:
784-512-256-10 with dropout 0.2, the best-MLP preset.  ``cnn``: two
conv3x3-ReLU-maxpool2 blocks (16 and 32 channels), then 1568-128(ReLU)-10;
``--hidden none`` leaves a single linear layer after the convolutions.
"""
from __future__ import annotations

import nn

__all__ = ["build_model", "layer_sizes", "describe_model", "MODEL_FAMILY"]

PIXELS, CLASSES, SIDE = 784, 10, 28
# The published figures are per family: mlp-deep is an MLP.
MODEL_FAMILY = {"logreg": "logreg", "mlp": "mlp", "mlp-deep": "mlp", "cnn": "cnn"}


def build_model(cfg):
    """The ``nn.Sequential`` of ``cfg.model`` with cfg's sizes, initialised from
    ``nn.init``'s generator seeded with ``cfg.seed``.

    Dropout (``cfg.dropout``) comes before every linear layer but the first
    one of an MLP: after each hidden layer, never on the pixels.

    Example: ``build_model(resolve(ImagesConfig(model="mlp")))`` -> Linear(784, 200), ReLU, Linear(200, 10).
    """
    nn.init.manual_seed(cfg.seed)
    layers = []
    if cfg.model == "cnn":
        c1, c2 = cfg.channels
        layers += [nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                   nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    sizes = layer_sizes(cfg)
    for width, h in zip(sizes[:-2], sizes[1:-1]):
        if cfg.dropout and layers:
            layers.append(nn.Dropout(cfg.dropout))
        layers += [nn.Linear(width, h), nn.ReLU()]
    if cfg.dropout and layers:
        layers.append(nn.Dropout(cfg.dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def layer_sizes(cfg):
    """Widths of the fully connected part, input to output: [784, *hidden, 10], or
    [c2 * 7 * 7, *hidden, 10] after the CNN's two poolings."""
    width = cfg.channels[1] * (SIDE // 4) ** 2 if cfg.model == "cnn" else PIXELS
    return [width, *cfg.hidden, CLASSES]


def describe_model(cfg, long=False):
    """A name of the model that shows its real sizes, e.g. ``MLP 784-64-10 (ReLU)``.

    long: also the dropout, and the CNN's layers spelled out.

    Example: ``describe_model(resolve(ImagesConfig(model="logreg")))`` -> ``"logistic regression 784-10"``.
    """
    sizes = "-".join(map(str, layer_sizes(cfg)))
    if cfg.model == "logreg":
        name = f"logistic regression {sizes}"
    elif cfg.model == "cnn":
        c1, c2 = cfg.channels
        head = f"FC {','.join(map(str, cfg.hidden))}" if cfg.hidden else "linear head"
        name = f"CNN 2x(conv3x3, ReLU, maxpool) {c1}/{c2} ch. + {head}"
        if long:
            name = (f"CNN: conv3x3 1->{c1}, ReLU, pool, conv3x3 {c1}->{c2}, ReLU, pool, "
                    f"{sizes}")
    else:
        name = f"MLP {sizes}" + (" (ReLU)" if cfg.hidden else " (no hidden layer)")
    if cfg.dropout and long:
        name += f", dropout {cfg.dropout:g}"
    return name
