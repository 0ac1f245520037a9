"""Bishop's approximations of the Hessian (PRML §5.4.1–5.4.3): the diagonal
(Becker & Le Cun), the outer product (Levenberg–Marquardt / Gauss–Newton) and
its sequential inverse.

Every derivative comes from the engine: h′ and h″ of an activation by nested
forward mode on the activation itself, the loss's δ = ∂E/∂a and curvature
∂²E/∂a² by the gradient and Hessian-vector products of the loss as a function
of the network outputs (``products.output_loss``). What is written out here is
the approximation itself: which terms are kept and how they are propagated.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import functional as F
from ..core import TensorBase, wrap
from ..graph import no_grad
from ..ops import relu, sigmoid, tanh
from .products import (LOSSES, REDUCTIONS, check_loss, example_hessian_blocks, output_hessian_blocks,
                       output_jacobian, output_loss)

__all__ = ["Layer", "mlp_layers", "activation_derivatives", "diagonal_hessian",
           "outer_product_factors", "outer_product_hessian", "sequential_inverse_outer_product"]


# ---------------------------------------------------------------------------
# Layers and activations
# ---------------------------------------------------------------------------

class Layer(NamedTuple):
    """One fully connected layer a = z Wᵀ + b, z_out = h(a) — PyTorch layout:
    ``weight`` (out, in), ``bias`` (out,) or None. ``activation`` is 'identity',
    'relu', 'tanh', 'sigmoid', or an elementwise function h of Tensors
    (e.g. ``lambda a: a.tanh() * 1.7``), which the engine differentiates.

        >>> from autograd_core.curvature import Layer
        >>> Layer(np.ones((2, 3)), np.zeros(2), "tanh").activation
        'tanh'
        >>> Layer(np.ones((2, 3))).bias is None             # no bias, identity activation
        True
    """
    weight: object
    bias: object = None
    activation: object = "identity"


_IDENTITY = ("identity", "linear", None)
_ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}


def _activation(act, fname="diagonal_hessian"):
    """The elementwise engine function h of a named or callable activation."""
    if act in _IDENTITY:
        return lambda a: a
    if isinstance(act, str) and act in _ACTIVATIONS:
        return _ACTIVATIONS[act]
    if callable(act):
        return act
    if isinstance(act, tuple):
        raise ValueError(f"{fname}: activation {act!r}: give h alone, a function of Tensors "
                         f"(its derivatives h', h'' come from the engine)")
    raise ValueError(f"{fname}: unknown activation {act!r}; use 'identity', 'relu', 'tanh', "
                     f"'sigmoid' or an elementwise function of Tensors")


def _values(h, a):
    with no_grad():
        out = h(wrap(np.asarray(a, dtype=np.float64)))
    return np.asarray(out.data if isinstance(out, TensorBase) else out, dtype=np.float64)


def activation_derivatives(activation, a):
    """``(h′(a), h″(a))`` of an elementwise activation at the pre-activations
    ``a`` (float64 arrays shaped like ``a``), by nested forward mode:
    h′(a) = J_h 1 is one jvp of h along ones, h″(a) a jvp of that.

        >>> from autograd_core.curvature import activation_derivatives
        >>> activation_derivatives("sigmoid", np.zeros(2))   # (σ(1 − σ), σ(1 − σ)(1 − 2σ))
        (array([0.25, 0.25]), array([0., 0.]))
        >>> d1, d2 = activation_derivatives("tanh", np.array([0.5]))
        >>> bool(np.allclose(d1, 1 - np.tanh(0.5) ** 2)), bool(np.allclose(d2, -2 * np.tanh(0.5) * d1))
        (True, True)
    """
    h = _activation(activation, "activation_derivatives")
    a = np.asarray(a, dtype=np.float64)
    ones = np.ones_like(a)
    d1, d2 = F.jvp(lambda x: F.jvp(h, x, ones)[1], a, ones)
    if d1.shape != a.shape:
        raise ValueError(f"activation_derivatives: the activation must be elementwise, but it "
                         f"maps shape {a.shape} to {d1.shape}")
    return np.asarray(d1.data, dtype=np.float64), np.asarray(d2.data, dtype=np.float64)


def _data(t):
    return t.data if isinstance(t, TensorBase) else np.asarray(t)


def _as_layers(layers):
    out = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 3:
            raise TypeError(f"diagonal_hessian: layers[{i}] must be a Layer or a tuple "
                            f"(weight, bias, activation), got {type(layer).__name__}")
        layer = Layer(*layer)
        W = np.asarray(_data(layer.weight), dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"diagonal_hessian: layers[{i}].weight must be 2-D (out, in), "
                             f"got shape {W.shape}")
        b = None if layer.bias is None else np.asarray(_data(layer.bias), dtype=np.float64)
        if b is not None and b.shape != (W.shape[0],):
            raise ValueError(f"diagonal_hessian: layers[{i}].bias has shape {b.shape}, expected "
                             f"({W.shape[0]},) for a weight of shape {W.shape}")
        if i and W.shape[1] != out[-1][0].shape[0]:
            raise ValueError(f"diagonal_hessian: layers[{i}].weight has shape {W.shape} but the "
                             f"previous layer has {out[-1][0].shape[0]} outputs")
        _activation(layer.activation)   # refuse an unknown activation before any work
        out.append((W, b, layer.activation))
    if not out:
        raise ValueError("diagonal_hessian: no layers")
    return out


def mlp_layers(model):
    """Read a sequential MLP (duck-typed ``nn.Sequential`` of ``Linear`` and
    activation modules) as a list of ``Layer`` for ``diagonal_hessian``.

    Linear-like modules have a 2-D ``weight`` (PyTorch layout (out, in)) and a
    ``bias`` (or None); ``ReLU``, ``Tanh``, ``Sigmoid`` (by class name) set the
    activation of the Linear before them; ``Identity``, ``Flatten`` and
    ``Dropout`` (which must be in eval mode for a Hessian) are skipped. The
    returned layers hold the parameter Tensors themselves.

        >>> from autograd_core.curvature import mlp_layers
        >>> layers = mlp_layers(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)))
        >>> [(tuple(layer.weight.shape), layer.activation) for layer in layers]
        [((4, 3), 'tanh'), ((1, 4), 'identity')]
    """
    if hasattr(model, "children") and callable(model.children):
        modules = list(model.children())
    elif hasattr(model, "_modules"):
        modules = list(model._modules.values())
    else:
        modules = list(model)
    acts = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid"}
    layers = []
    for m in modules:
        name = type(m).__name__
        w = getattr(m, "weight", None)
        if w is not None and np.ndim(_data(w)) == 2:
            layers.append(Layer(w, getattr(m, "bias", None), "identity"))
        elif name in acts:
            if not layers or layers[-1].activation != "identity":
                raise ValueError(f"mlp_layers: activation {name} does not follow a Linear layer")
            layers[-1] = layers[-1]._replace(activation=acts[name])
        elif name in ("Identity", "Flatten", "Dropout"):
            continue
        else:
            raise ValueError(f"mlp_layers: cannot read a module of type {name} as part of an MLP")
    return layers


# ---------------------------------------------------------------------------
# Becker & Le Cun: the diagonal approximation (Bishop §5.4.1)
# ---------------------------------------------------------------------------

def _output_derivatives(a, t, loss, reduction, act):
    """Per pattern at the output layer: δ = ∂E/∂a and the diagonal ∂²E/∂a², from
    the engine's gradient and Hessian blocks of E as a function of a."""
    if loss != "sse" and act not in _IDENTITY:
        raise ValueError(f"diagonal_hessian: with loss={loss!r} the last layer outputs the logits, "
                         f"so its activation must be 'identity', got {act!r}")
    h = _activation(act)
    loss_of_output = output_loss(loss, reduction, target=t, fname="diagonal_hessian")

    def E(a_):
        return loss_of_output(h(a_))

    delta = np.asarray(F.grad(E, a).data, dtype=np.float64)
    s = np.diagonal(example_hessian_blocks(E, a), axis1=1, axis2=2).reshape(a.shape)
    return delta, s


def diagonal_hessian(layers, x, t, loss="sse", reduction="sum"):
    """The diagonal approximation of the Hessian by back-propagating second
    derivatives (Becker & Le Cun 1989; Bishop eqs. 5.79–5.81), O(W).

    ``layers``: a list of ``Layer(weight, bias, activation)`` (or tuples),
    PyTorch layout, for the network a⁽ˡ⁾ = z⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾, z⁽ˡ⁾ = h_l(a⁽ˡ⁾),
    z⁽⁰⁾ = x of shape (N, in); ``mlp_layers(model)`` reads an ``nn.Sequential``.
    ``loss`` with targets ``t`` (see ``output_loss``):

    * ``'sse'``: E = ½ Σ_n Σ_k (y_nk − t_nk)², y = h_L(a⁽ᴸ⁾) (any last activation);
    * ``'sigmoid_ce'``: E = −Σ [t ln σ(a) + (1−t) ln(1−σ(a))], a = last layer's output;
    * ``'softmax_ce'``: E = −Σ_n ln softmax(a_n)[t_n], t class labels (or probability rows);

    ``reduction='mean'`` divides by N. For each pattern, with δ_j = ∂E_n/∂a_j,

        ∂²E_n/∂w_ji² = (∂²E_n/∂a_j²) z_i²,
        ∂²E_n/∂a_j² ≈ h'(a_j)² Σ_k w_kj² ∂²E_n/∂a_k² + h''(a_j) Σ_k w_kj δ_k,

    i.e. the exact recursion with the off-diagonal terms ∂²E_n/∂a_k∂a_k' (k ≠ k')
    dropped, at the output too (softmax's −p_k p_k'). Exact for a single layer
    and for one output unit behind one hidden layer; in general it can be far
    from the true diagonal (Hassibi & Stork).

    Returns a list of float64 arrays shaped like the parameters, in the order
    [W1, b1, W2, b2, ...] (biases that are None are skipped); ``flatten`` it
    to compare with ``np.diag(exact_hessian(...))``.

        >>> from autograd_core.curvature import diagonal_hessian, exact_hessian, flatten, mlp_layers
        >>> model = nn.Sequential(nn.Linear(3, 2))         # one layer: the diagonal is exact
        >>> x, t = ag.randn(5, 3), ag.tensor([0, 1, 1, 0, 1])
        >>> d = flatten(diagonal_hessian(mlp_layers(model), x, t, "softmax_ce"))
        >>> H = exact_hessian(lambda: F.cross_entropy(model(x), t, reduction="sum"),
        ...                   list(model.parameters()))
        >>> d.shape, bool(np.allclose(d, np.diag(H), atol=1e-6))
        ((8,), True)
    """
    if loss not in LOSSES:
        raise ValueError(f"diagonal_hessian: loss must be one of {LOSSES}, got {loss!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"diagonal_hessian: reduction must be 'sum' or 'mean', got {reduction!r}")
    layers = _as_layers(layers)
    z = np.asarray(_data(x), dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != layers[0][0].shape[1]:
        raise ValueError(f"diagonal_hessian: x must have shape (N, {layers[0][0].shape[1]}), "
                         f"got {z.shape}")
    # Forward pass, keeping each layer's input z and pre-activation a.
    zs, As = [], []
    for i, (W, b, act) in enumerate(layers):
        a = z @ W.T + (0 if b is None else b)
        zs.append(z)
        As.append(a)
        if i < len(layers) - 1:
            z = _values(_activation(act), a)
    delta, s = _output_derivatives(As[-1], _data(t), loss, reduction, layers[-1][2])
    # Backward pass: second derivatives travel like first derivatives, squared weights.
    out = []
    for i in range(len(layers) - 1, -1, -1):
        W, b, _ = layers[i]
        z = zs[i]
        out = [s.T @ (z * z)] + ([] if b is None else [s.sum(axis=0)]) + out
        if i:
            h1, h2 = activation_derivatives(layers[i - 1][2], As[i - 1])
            g = delta @ W                     # ∂E/∂z_j = Σ_k w_kj δ_k
            s = h1 * h1 * (s @ (W * W)) + h2 * g
            delta = h1 * g
    return out


# ---------------------------------------------------------------------------
# Outer product / Levenberg–Marquardt / Gauss–Newton (Bishop §5.4.2–5.4.3)
# ---------------------------------------------------------------------------

def _jacobian_and_curvature(output_fn, params, loss, reduction, fname):
    """J split by blocks (N, K, W) and the blocks of H_L (N, K, K)."""
    check_loss(loss, reduction, fname)
    y, J = output_jacobian(output_fn, params)
    blocks = output_hessian_blocks(loss, y, reduction)
    N, K = blocks.shape[:2]
    return J.reshape(N, K, J.shape[1]), blocks


def outer_product_hessian(output_fn, params, loss="sse", reduction="sum"):
    """The outer-product (Levenberg–Marquardt) / Gauss–Newton approximation
    H ≈ Jᵀ H_L J = Σ_n J_nᵀ H_n J_n, with J = ∂y/∂w the Jacobian of the network
    outputs ``y = output_fn()`` and H_L = ∂²E/∂y² (Bishop eqs. 5.84–5.85):

    * ``'sse'``, E = ½ Σ (y − t)²:        H ≈ Σ_n ∇y_n ∇y_nᵀ;
    * ``'sigmoid_ce'`` (y = logits a):     H ≈ Σ_n y_n(1 − y_n) ∇a_n ∇a_nᵀ;
    * ``'softmax_ce'`` (y = logits (N,K)): H ≈ Σ_n J_nᵀ (diag p_n − p_n p_nᵀ) J_n;
    * a callable ``loss(y) -> E``: general Gauss–Newton with H_L the exact
      Hessian of that callable at y; no reduction applied.

    H_L comes from the engine (``output_hessian_blocks``). The dropped term is
    Σ (∂E/∂y)·∇²y: zero when the residuals vanish or the model is linear in w,
    so then the approximation is exact. It is positive semi-definite for a loss
    convex in y. Targets are not needed (H_L does not depend on them). Cost: M
    backward passes (M output entries) and O(M W²) to form; memory O(W²).

        >>> from autograd_core.curvature import exact_hessian, outer_product_hessian
        >>> model, x, t = nn.Linear(3, 2), ag.randn(4, 3), ag.tensor([0, 1, 1, 0])
        >>> params = list(model.parameters())
        >>> G = outer_product_hessian(lambda: model(x), params, "softmax_ce")
        >>> G.shape, bool(np.linalg.eigvalsh(G).min() > -1e-10)       # (W, W), PSD
        ((8, 8), True)
        >>> H = exact_hessian(lambda: F.cross_entropy(model(x), t, reduction="sum"), params)
        >>> bool(np.allclose(G, H, atol=1e-6))          # exact: the logits are linear in w
        True
    """
    Jn, blocks = _jacobian_and_curvature(output_fn, params, loss, reduction,
                                         "outer_product_hessian")
    W = Jn.shape[2]
    G = Jn.reshape(-1, W).T @ np.matmul(blocks, Jn).reshape(-1, W)
    return 0.5 * (G + G.T)


def outer_product_factors(output_fn, params, loss="sse", reduction="sum"):
    """B with ``outer_product_hessian = Bᵀ B``: its rows are the vectors b of
    Bishop's sequential update (eq. 5.86). Per pattern, the K rows S_n J_n with
    S_n the symmetric square root of the loss's curvature block H_n:

    * ``'sse'``: H_n = I, b = ∇y_nk (one row per output entry);
    * ``'sigmoid_ce'``: H_n diagonal, b = √(y_nk(1−y_nk)) ∇a_nk;
    * ``'softmax_ce'``: S_n = (diag p_n − p_n p_nᵀ)^½.

    ``reduction='mean'`` scales by 1/√N. Named losses only (a callable's H_L
    need not be positive semi-definite, so it may have no square root).

        >>> from autograd_core.curvature import outer_product_factors, outer_product_hessian
        >>> model, x = nn.Linear(3, 2), ag.randn(4, 3)
        >>> params = list(model.parameters())
        >>> B = outer_product_factors(lambda: model(x), params, "softmax_ce")
        >>> B.shape                                     # (N·K, W)
        (8, 8)
        >>> bool(np.allclose(B.T @ B, outer_product_hessian(lambda: model(x), params, "softmax_ce")))
        True
    """
    check_loss(loss, reduction, "outer_product_factors")
    if callable(loss):
        raise ValueError("outer_product_factors: needs a named loss; for a callable use "
                         "outer_product_hessian")
    Jn, blocks = _jacobian_and_curvature(output_fn, params, loss, reduction,
                                         "outer_product_factors")
    lam, Q = np.linalg.eigh(blocks)
    # A named loss is convex in y, so λ ≥ 0 up to rounding.
    S = np.matmul(Q * np.sqrt(np.maximum(lam, 0.0))[:, None, :], np.swapaxes(Q, 1, 2))
    return np.matmul(S, Jn).reshape(-1, Jn.shape[2])


def sequential_inverse_outer_product(B, alpha):
    """(αI + Σ_n b_n b_nᵀ)⁻¹ by Bishop's sequential rank-one update (eq. 5.89):

        H_0⁻¹ = I/α,   H_{n+1}⁻¹ = H_n⁻¹ − (H_n⁻¹ b)(bᵀ H_n⁻¹) / (1 + bᵀ H_n⁻¹ b),

    the Sherman–Morrison formula, one data point (row b of ``B``) at a time.
    ``B`` is (N, W), e.g. ``outer_product_factors(...)``. Cost O(N W²), no
    matrix inversion; α > 0 keeps every step invertible.

        >>> from autograd_core.curvature import sequential_inverse_outer_product
        >>> B = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
        >>> Hinv = sequential_inverse_outer_product(B, alpha=1e-3)
        >>> bool(np.allclose(Hinv, np.linalg.inv(1e-3 * np.eye(2) + B.T @ B)))
        True
    """
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    if B.ndim != 2:
        raise ValueError(f"sequential_inverse_outer_product: B must be (N, W), got shape {B.shape}")
    if not np.isscalar(alpha) or not alpha > 0:
        raise ValueError(f"sequential_inverse_outer_product: alpha must be a positive number, "
                         f"got {alpha!r}")
    Hinv = np.eye(B.shape[1]) / alpha
    for b in B:
        u = Hinv @ b
        Hinv -= np.outer(u, u) / (1.0 + b @ u)
    return Hinv
