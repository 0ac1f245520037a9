"""Bishop's Hessian toolkit (PRML §5.4): the exact Hessian of a network's loss,
its classical approximations, finite differences, and eigen-information at
scale — all built on ``functional`` and the R-operator.

The interface is a loss *closure* over a list of parameter Tensors::

    params = list(model.parameters())          # any leaf Tensors (duck-typed)
    loss_fn = lambda: loss(model(x), t)         # recomputes E from the current params
    H = exact_hessian(loss_fn, params)          # (W, W) float64 ndarray

W is the total number of parameter entries; vectors of length W are the
parameters flattened in list order (``flatten`` / ``unflatten``). No function
here changes the parameters' values, ``.grad``, ``.tangent`` or
``requires_grad`` (finite differences perturb ``.data`` and put it back).
Results are float64 NumPy arrays.

============================  ===================================================  =================
function                      what                                                 cost
============================  ===================================================  =================
hessian_vector_product        H v, R-operator (Pearlmutter), exact                 ≈ 2 gradients
exact_hessian                 H by W Hessian-vector products                       O(W²)
diagonal_hessian              Becker & Le Cun: back-propagated ∂²E/∂w², no         O(W)
                              off-diagonal terms (layered networks)
outer_product_hessian         Levenberg–Marquardt / Gauss–Newton Jᵀ H_L J          O(M W²), M outputs
gauss_newton_vector_product   Jᵀ H_L J v without J: jvp, H_L·, vjp                 ≈ 2 gradients
sequential_inverse_outer_     (αI + Σ_n b_n b_nᵀ)⁻¹ by rank-one updates            O(N W²)
  product
fd_hessian_four_point         second differences of E                              O(W³)
fd_hessian_central_gradients  central differences of ∇E                            O(W²)
hessian_eigs_power, lanczos   largest eigenvalues from hvps                        O(W) per step
hutchinson_trace/_diagonal    E[zᵀHz], E[z ⊙ Hz] over Rademacher z                 O(W) per probe
============================  ===================================================  =================
"""
from __future__ import annotations

import contextlib
import warnings
from typing import NamedTuple

import numpy as np

from . import functional as F
from .graph import enable_grad, forward_ad, no_grad
from ._tensor import Tensor

__all__ = [
    "flatten", "unflatten", "loss_and_grad", "hessian_vector_product", "HessianOperator",
    "hessian_operator", "exact_hessian",
    "Layer", "mlp_layers", "diagonal_hessian",
    "output_jacobian", "outer_product_factors", "outer_product_hessian",
    "gauss_newton_vector_product", "sequential_inverse_outer_product",
    "fd_hessian_four_point", "fd_hessian_central_gradients", "fd_epsilon_tradeoff",
    "power_iteration", "hessian_eigs_power", "lanczos_eigs", "lanczos",
    "hutchinson_trace", "hutchinson_diagonal",
]

LOSSES = ("sse", "sigmoid_ce", "softmax_ce")


# ---------------------------------------------------------------------------
# Parameter lists and flat vectors
# ---------------------------------------------------------------------------

def _data(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def flatten(tensors, dtype=np.float64):
    """Concatenate Tensors/arrays (raveled, in order) into one vector of ``dtype``."""
    tensors = list(tensors)
    if not tensors:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(_data(t), dtype=dtype).reshape(-1) for t in tensors])


def unflatten(vec, like, dtype=None):
    """Split a flat vector into arrays shaped like the Tensors/arrays in ``like``
    (``dtype`` None keeps the vector's dtype)."""
    vec = np.asarray(vec)
    shapes = [np.shape(_data(t)) for t in like]
    total = sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
    if vec.ndim != 1 or vec.size != total:
        raise ValueError(f"unflatten: the vector has shape {vec.shape} but the parameters have "
                         f"{total} entries in all; expected shape ({total},)")
    out, start = [], 0
    for s in shapes:
        n = int(np.prod(s, dtype=np.int64))
        piece = vec[start:start + n].reshape(s)
        out.append(piece if dtype is None else piece.astype(dtype))
        start += n
    return out


def _check_params(params, fname):
    if isinstance(params, Tensor):
        raise TypeError(f"{fname}: params must be a list of Tensors (e.g. list(model.parameters())), "
                        f"got a single Tensor; wrap it in a list")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{fname}: params must be a list of Tensors, got "
                        f"{type(params).__name__}") from None
    if not params:
        raise ValueError(f"{fname}: params is empty")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fname}: params[{i}] must be a Tensor, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"{fname}: params[{i}] (shape {p.shape}) is not a leaf tensor; "
                             f"parameters must be leaves")
        if p.dtype.kind != "f":
            raise TypeError(f"{fname}: params[{i}] has dtype {p.dtype}; parameters must be floating point")
    return params


def _n_params(params):
    return sum(p.data.size for p in params)


def _check_vector(v, params, fname, argname="v"):
    v = np.asarray(v.data if isinstance(v, Tensor) else v)
    W = _n_params(params)
    if v.shape != (W,):
        raise ValueError(f"{fname}: {argname} has shape {v.shape} but the parameters have {W} "
                         f"entries; expected shape ({W},) (use flatten() on a list of arrays)")
    return v


class _Params:
    """Make the parameters leaves that require grad, optionally carrying
    tangents; put requires_grad and tangents back afterwards. (Gradients are
    taken with ``functional.gradients``, which never touches ``.grad``.)"""

    def __init__(self, params, tangents=None):
        self.params = params
        self.tangents = tangents

    def __enter__(self):
        self.saved = [(p.requires_grad, p.tangent) for p in self.params]
        for i, p in enumerate(self.params):
            p.requires_grad_(True)
            p.tangent = None if self.tangents is None else Tensor._wrap(
                np.asarray(self.tangents[i], dtype=p.dtype))
        return self

    def __exit__(self, *exc):
        for p, (rg, tan) in zip(self.params, self.saved):
            p.requires_grad_(rg)
            p.tangent = tan
        return False


def _scalar_loss(loss_fn, fname):
    out = loss_fn()
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: loss_fn() must return a Tensor, got {type(out).__name__}")
    if out.data.size != 1:
        raise ValueError(f"{fname}: loss_fn() must return a scalar, got a tensor of shape {out.shape}")
    return out


def _flat_or_zero(tensors, params):
    return flatten([np.zeros(p.shape) if t is None else t for t, p in zip(tensors, params)])


# ---------------------------------------------------------------------------
# Gradient, Hessian-vector product, exact Hessian
# ---------------------------------------------------------------------------

def loss_and_grad(loss_fn, params):
    """``(E, ∇E)``: the loss as a float and its gradient as a flat vector. One
    forward and one backward pass, O(W)."""
    params = _check_params(params, "loss_and_grad")
    with _Params(params), enable_grad():
        loss = _scalar_loss(loss_fn, "loss_and_grad")
        gs = F.gradients(loss, params)
    return float(loss.data), _flat_or_zero(gs, params)


def hessian_vector_product(loss_fn, params, v, method="forward-over-reverse"):
    """H v for a flat vector v (length W), exactly, without forming H.

    Forward-over-reverse (Pearlmutter's R-operator, default): set R{w} = v,
    evaluate E with every value carrying its R{·}, back-propagate with every
    δ carrying R{δ}; then H v = R{∇E}. ``'reverse-over-reverse'``: ∇⟨∇E, v⟩
    through a recorded backward pass. Cost ≈ 2 gradient evaluations, O(W) memory.
    """
    params = _check_params(params, "hessian_vector_product")
    F._check_method(method, "hessian_vector_product")
    v = _check_vector(v, params, "hessian_vector_product")
    vs = unflatten(v, params)
    if method == "forward-over-reverse":
        F._no_nested_forward("hessian_vector_product")
        with _Params(params, vs), enable_grad(), forward_ad():
            loss = _scalar_loss(loss_fn, "hessian_vector_product")
            gs = F.gradients(loss, params)
        return _flat_or_zero([None if g is None else g.tangent for g in gs], params)
    with _Params(params), enable_grad():
        loss = _scalar_loss(loss_fn, "hessian_vector_product")
        gs = F.gradients(loss, params, create_graph=True)
        inner = None
        for g, d, p in zip(gs, vs, params):
            if g is not None:
                term = (g * d.astype(p.dtype)).sum()
                inner = term if inner is None else inner + term
        if inner is None:
            return np.zeros(_n_params(params))
        return _flat_or_zero(F.gradients(inner, params), params)


class HessianOperator:
    """The Hessian of ``loss_fn`` at the current parameters as a matrix-free
    linear operator: ``H @ v`` / ``H.matvec(v)`` costs one Hessian-vector
    product. ``shape``, ``dtype`` and ``matvec`` make it usable where SciPy
    expects a ``LinearOperator``; ``n_products`` counts the products so far."""

    def __init__(self, loss_fn, params, method="forward-over-reverse"):
        self.loss_fn = loss_fn
        self.params = _check_params(params, "HessianOperator")
        self.method = method
        W = _n_params(self.params)
        self.shape = (W, W)
        self.dtype = np.dtype(np.float64)
        self.n_products = 0

    def matvec(self, v):
        self.n_products += 1
        return hessian_vector_product(self.loss_fn, self.params, np.ravel(v), self.method)

    def __matmul__(self, v):
        v = np.asarray(v)
        if v.ndim == 2:
            return np.stack([self.matvec(c) for c in v.T], axis=1)
        return self.matvec(v)

    def __repr__(self):
        return f"<HessianOperator {self.shape[0]}x{self.shape[1]}, {self.n_products} products>"


def hessian_operator(loss_fn, params, method="forward-over-reverse"):
    """``HessianOperator(loss_fn, params, method)``: H as a matrix-free operator."""
    return HessianOperator(loss_fn, params, method)


def exact_hessian(loss_fn, params, method="forward-over-reverse"):
    """The exact (W, W) Hessian, column k = H e_k by one Hessian-vector product.

    W products of ≈ 2 gradients each: O(W²) time, and O(W²) memory for the
    result — the cost the approximations below avoid (Bishop §5.4.5–5.4.6).
    """
    params = _check_params(params, "exact_hessian")
    W = _n_params(params)
    H = np.empty((W, W))
    e = np.zeros(W)
    for k in range(W):
        e[k] = 1.0
        H[:, k] = hessian_vector_product(loss_fn, params, e, method)
        e[k] = 0.0
    return H


# ---------------------------------------------------------------------------
# Becker & Le Cun: the diagonal approximation (Bishop §5.4.1)
# ---------------------------------------------------------------------------

class Layer(NamedTuple):
    """One fully connected layer a = z Wᵀ + b, z_out = h(a) — PyTorch layout:
    ``weight`` (out, in), ``bias`` (out,) or None. ``activation`` is 'identity',
    'relu', 'tanh', 'sigmoid', or a triple of callables (h, h', h'') of a."""
    weight: object
    bias: object = None
    activation: object = "identity"


def _activation(act):
    """(h, h', h'') as functions of the pre-activation a (ndarrays)."""
    if isinstance(act, tuple) and len(act) == 3 and all(callable(c) for c in act):
        return act
    if act in ("identity", "linear", None):
        return (lambda a: a, lambda a: np.ones_like(a), lambda a: np.zeros_like(a))
    if act == "relu":
        return (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(a.dtype), lambda a: np.zeros_like(a))
    if act == "tanh":
        def d1(a):
            return 1 - np.tanh(a) ** 2

        def d2(a):
            z = np.tanh(a)
            return -2 * z * (1 - z * z)
        return (np.tanh, d1, d2)
    if act == "sigmoid":
        def s(a):
            return 1 / (1 + np.exp(-a))

        def d1(a):
            z = s(a)
            return z * (1 - z)

        def d2(a):
            z = s(a)
            return z * (1 - z) * (1 - 2 * z)
        return (s, d1, d2)
    raise ValueError(f"diagonal_hessian: unknown activation {act!r}; use 'identity', 'relu', "
                     f"'tanh', 'sigmoid' or a triple of callables (h, h', h'')")


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


def _output_derivatives(a, t, loss, act):
    """Per pattern: δ = ∂E_n/∂a and the diagonal s = ∂²E_n/∂a² at the output layer."""
    if loss == "sse":
        h, d1, d2 = _activation(act)
        y = h(a)
        t = np.asarray(t, dtype=np.float64).reshape(y.shape)
        r = y - t
        g1 = d1(a)
        return g1 * r, g1 * g1 + d2(a) * r
    if act not in ("identity", "linear", None):
        raise ValueError(f"diagonal_hessian: with loss={loss!r} the last layer outputs the logits, "
                         f"so its activation must be 'identity', got {act!r}")
    if loss == "sigmoid_ce":
        y = 1 / (1 + np.exp(-a))
        t = np.asarray(t, dtype=np.float64).reshape(y.shape)
        return y - t, y * (1 - y)
    # softmax_ce: integer class labels, or rows of target probabilities.
    e = np.exp(a - a.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    t = np.asarray(t)
    T = np.eye(a.shape[1])[t] if t.ndim == 1 else np.asarray(t, dtype=np.float64)
    return p - T, p * (1 - p)


def diagonal_hessian(layers, x, t, loss="sse", reduction="sum"):
    """The diagonal approximation of the Hessian by back-propagating second
    derivatives (Becker & Le Cun 1989; Bishop eqs. 5.79–5.81), O(W).

    ``layers``: a list of ``Layer(weight, bias, activation)`` (or tuples),
    PyTorch layout, for the network a⁽ˡ⁾ = z⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾, z⁽ˡ⁾ = h_l(a⁽ˡ⁾),
    z⁽⁰⁾ = x of shape (N, in); ``mlp_layers(model)`` reads an ``nn.Sequential``.
    ``loss`` with targets ``t``:

    * ``'sse'``: E = ½ Σ_n Σ_k (y_nk − t_nk)², y = h_L(a⁽ᴸ⁾) (any last activation);
    * ``'sigmoid_ce'``: E = −Σ [t ln σ(a) + (1−t) ln(1−σ(a))], a = last layer's output;
    * ``'softmax_ce'``: E = −Σ_n ln softmax(a_n)[t_n], t class labels (or probability rows);

    ``reduction='mean'`` divides by N. For each pattern, with δ_j = ∂E_n/∂a_j,

        ∂²E_n/∂w_ji² = (∂²E_n/∂a_j²) z_i²,
        ∂²E_n/∂a_j² ≈ h'(a_j)² Σ_k w_kj² ∂²E_n/∂a_k² + h''(a_j) Σ_k w_kj δ_k,

    i.e. the exact recursion with the off-diagonal terms ∂²E_n/∂a_k∂a_k' (k ≠ k')
    dropped; at the output ∂²E_n/∂a_k² = h'² + h''(y−t) (sse), y(1−y) (sigmoid),
    p_k(1−p_k) (softmax, whose off-diagonal −p_k p_k' is dropped too). Exact for
    a single layer and for one output unit behind one hidden layer; in general
    it can be far from the true diagonal (Hassibi & Stork).

    Returns a list of float64 arrays shaped like the parameters, in the order
    [W1, b1, W2, b2, ...] (biases that are None are skipped); ``flatten`` it
    to compare with ``np.diag(exact_hessian(...))``.
    """
    if loss not in LOSSES:
        raise ValueError(f"diagonal_hessian: loss must be one of {LOSSES}, got {loss!r}")
    if reduction not in ("sum", "mean"):
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
            z = _activation(act)[0](a)
    delta, s = _output_derivatives(As[-1], _data(t), loss, layers[-1][2])
    # Backward pass: second derivatives travel like first derivatives, squared weights.
    out = []
    for i in range(len(layers) - 1, -1, -1):
        W, b, _ = layers[i]
        z = zs[i]
        block = [s.T @ (z * z)] + ([] if b is None else [s.sum(axis=0)])
        out = block + out
        if i:
            _, d1, d2 = _activation(layers[i - 1][2])
            a = As[i - 1]
            g = delta @ W                     # ∂E/∂z_j = Σ_k w_kj δ_k
            h1 = d1(a)
            s = h1 * h1 * (s @ (W * W)) + d2(a) * g
            delta = h1 * g
    if reduction == "mean":
        out = [o / zs[0].shape[0] for o in out]
    return out


# ---------------------------------------------------------------------------
# Outer-product / Levenberg–Marquardt / Gauss–Newton (Bishop §5.4.2–5.4.3)
# ---------------------------------------------------------------------------

def _network_output(output_fn, fname):
    y = output_fn()
    if not isinstance(y, Tensor):
        raise TypeError(f"{fname}: output_fn() must return a Tensor (the network outputs), "
                        f"got {type(y).__name__}")
    return y


def output_jacobian(output_fn, params):
    """``(y, J)``: the outputs ``y = output_fn()`` (an ndarray) and J = ∂y/∂w as
    an (M, W) array, M = number of output entries (row-major over y's shape).
    One forward pass, then one backward pass per output entry."""
    params = _check_params(params, "output_jacobian")
    with _Params(params), enable_grad():
        y = _network_output(output_fn, "output_jacobian")
        J = np.zeros((y.data.size, _n_params(params)))
        if y.requires_grad:
            with F._Isolated(y, params) as scope:
                e = np.zeros(y.data.size, dtype=y.dtype)
                for m in range(y.data.size):
                    e[m] = 1
                    J[m] = _flat_or_zero(scope.run(e.reshape(y.shape)), params)
                    e[m] = 0
    return y.data, J


def _check_loss(loss, reduction, fname):
    if not (callable(loss) or loss in LOSSES):
        raise ValueError(f"{fname}: loss must be one of {LOSSES} or a callable y -> E(y), got {loss!r}")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"{fname}: reduction must be 'sum' or 'mean', got {reduction!r}")


def _scale(y, reduction):
    return 1.0 / np.shape(y)[0] if reduction == "mean" and np.ndim(y) else 1.0


def outer_product_factors(output_fn, params, loss="sse", reduction="sum"):
    """B with ``outer_product_hessian = Bᵀ B``: its rows are the vectors b_n of
    Bishop's sequential update (eq. 5.86).

    * ``'sse'``: b = ∇y_nk (one row per output entry);
    * ``'sigmoid_ce'``: b = √(y_n(1−y_n)) ∇a_n;
    * ``'softmax_ce'``: per pattern the K rows of (diag(√p) − √p pᵀ) J_n, a
      square root of diag(p) − ppᵀ (it is diag(√p) P diag(√p) with P a projector).

    ``reduction='mean'`` scales by 1/√N.
    """
    _check_loss(loss, reduction, "outer_product_factors")
    if callable(loss):
        raise ValueError("outer_product_factors: needs a named loss; for a callable use "
                         "outer_product_hessian")
    y, J = output_jacobian(output_fn, params)
    c = np.sqrt(_scale(y, reduction))
    if loss == "sse":
        return c * J
    if loss == "sigmoid_ce":
        p = 1 / (1 + np.exp(-np.asarray(y, dtype=np.float64).reshape(-1)))
        return c * np.sqrt(p * (1 - p))[:, None] * J
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"outer_product_factors: loss='softmax_ce' needs logits of shape (N, K), "
                         f"got {y.shape}")
    N, K = y.shape
    e = np.exp(y - y.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    B = np.empty_like(J)
    for n in range(N):
        s = np.sqrt(p[n])
        M = np.diag(s) - np.outer(s, p[n])
        B[n * K:(n + 1) * K] = M @ J[n * K:(n + 1) * K]
    return c * B


def outer_product_hessian(output_fn, params, loss="sse", reduction="sum"):
    """The outer-product (Levenberg–Marquardt) / Gauss–Newton approximation
    H ≈ Jᵀ H_L J, with J = ∂y/∂w the Jacobian of the network outputs
    ``y = output_fn()`` and H_L = ∂²E/∂y² (Bishop eqs. 5.84–5.85):

    * ``'sse'``, E = ½ Σ (y − t)²:        H ≈ Σ_n ∇y_n ∇y_nᵀ;
    * ``'sigmoid_ce'`` (y = logits a):     H ≈ Σ_n y_n(1 − y_n) ∇a_n ∇a_nᵀ;
    * ``'softmax_ce'`` (y = logits (N,K)): H ≈ Σ_n J_nᵀ (diag p_n − p_n p_nᵀ) J_n;
    * a callable ``loss(y) -> E``: general Gauss–Newton with H_L the exact
      Hessian of that callable at y (``functional.hessian``); no reduction applied.

    The dropped term is Σ (∂E/∂y)·∇²y: zero when the residuals vanish or the
    model is linear in w, so then the approximation is exact. It is always
    positive semi-definite. Targets are not needed for the named losses (H_L
    does not depend on them). Cost: M backward passes (M output entries) and
    O(M W²) to form; memory O(W²).
    """
    _check_loss(loss, reduction, "outer_product_hessian")
    if callable(loss):
        y, J = output_jacobian(output_fn, params)
        HL = F.hessian(loss, Tensor(np.asarray(y, dtype=np.float64))).data.reshape(y.size, y.size)
        return J.T @ HL @ J
    B = outer_product_factors(output_fn, params, loss, reduction)
    return B.T @ B


def _loss_curvature_times(y, r, loss, reduction, fname):
    """H_L r for outputs y and a direction r in output space (arrays)."""
    y = np.asarray(y, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    if callable(loss):
        return F.hvp(loss, Tensor(y), Tensor(r))[1].data
    c = _scale(y, reduction)
    if loss == "sse":
        return c * r
    if loss == "sigmoid_ce":
        p = 1 / (1 + np.exp(-y))
        return c * p * (1 - p) * r
    if y.ndim != 2:
        raise ValueError(f"{fname}: loss='softmax_ce' needs logits of shape (N, K), got {y.shape}")
    e = np.exp(y - y.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return c * p * (r - (p * r).sum(axis=1, keepdims=True))


def gauss_newton_vector_product(output_fn, params, v, loss="sse", reduction="sum"):
    """G v = Jᵀ H_L J v without forming J (Schraudolph 2002): one forward pass
    in forward mode gives J v = R{y}; multiply by the loss curvature H_L in
    output space (closed forms for the named losses, an hvp for a callable);
    one backward pass with that as the cotangent gives Jᵀ(H_L J v).
    Cost ≈ 2 gradients. Same losses and conventions as ``outer_product_hessian``.
    """
    params = _check_params(params, "gauss_newton_vector_product")
    _check_loss(loss, reduction, "gauss_newton_vector_product")
    v = _check_vector(v, params, "gauss_newton_vector_product")
    F._no_nested_forward("gauss_newton_vector_product")
    with _Params(params, unflatten(v, params)), enable_grad():
        with forward_ad():
            y = _network_output(output_fn, "gauss_newton_vector_product")
        Jv = np.zeros(y.shape) if y.tangent is None else y.tangent.data
        u = _loss_curvature_times(y.data, Jv, loss, reduction, "gauss_newton_vector_product")
        # The backward pass runs outside forward_ad: plain arrays, no tangents.
        gs = F.gradients(y, params, cotangent=u.astype(y.dtype)) if y.requires_grad else [None] * len(params)
    return _flat_or_zero(gs, params)


def sequential_inverse_outer_product(B, alpha):
    """(αI + Σ_n b_n b_nᵀ)⁻¹ by Bishop's sequential rank-one update (eq. 5.89):

        H_0⁻¹ = I/α,   H_{n+1}⁻¹ = H_n⁻¹ − (H_n⁻¹ b)(bᵀ H_n⁻¹) / (1 + bᵀ H_n⁻¹ b),

    the Sherman–Morrison formula, one data point (row b of ``B``) at a time.
    ``B`` is (N, W), e.g. ``outer_product_factors(...)``. Cost O(N W²), no
    matrix inversion; α > 0 keeps every step invertible.
    """
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    if B.ndim != 2:
        raise ValueError(f"sequential_inverse_outer_product: B must be (N, W), got shape {B.shape}")
    if not np.isscalar(alpha) or not alpha > 0:
        raise ValueError(f"sequential_inverse_outer_product: alpha must be a positive number, got {alpha!r}")
    Hinv = np.eye(B.shape[1]) / alpha
    for b in B:
        u = Hinv @ b
        Hinv -= np.outer(u, u) / (1.0 + b @ u)
    return Hinv


# ---------------------------------------------------------------------------
# Finite differences (Bishop §5.4.4)
# ---------------------------------------------------------------------------

class _Perturb:
    """Shift flat parameter entries in place, and restore their exact values."""

    def __init__(self, params):
        self.slots = []
        for p in params:
            flat = p.data.reshape(-1)
            if not np.shares_memory(flat, p.data):
                raise ValueError("finite differences need parameters with contiguous data")
            for k in range(flat.size):
                self.slots.append((flat, k))

    def shifted(self, shifts):
        """Context: entry i moved to w_i + Σ shifts for i (``shifts``: (i, δ) pairs)."""
        @contextlib.contextmanager
        def ctx():
            saved = {i: self.slots[i][0][self.slots[i][1]] for i, _ in shifts}
            total = {}
            for i, d in shifts:
                total[i] = total.get(i, 0.0) + d
            try:
                for i, d in total.items():
                    flat, k = self.slots[i]
                    flat[k] = saved[i] + d
                yield
            finally:
                for i, value in saved.items():
                    flat, k = self.slots[i]
                    flat[k] = value
        return ctx()


def _fd_params(params, fname):
    params = _check_params(params, fname)
    for i, p in enumerate(params):
        if p.dtype != np.float64:
            warnings.warn(f"{fname}: params[{i}] is {p.dtype}; finite differences need float64 "
                          f"parameters to be accurate", RuntimeWarning, stacklevel=3)
    return params


def fd_hessian_four_point(loss_fn, params, eps=1e-4):
    """Second differences of E (Bishop eq. 5.90):

        ∂²E/∂w_i∂w_j ≈ [E(w_i+ε, w_j+ε) − E(w_i+ε, w_j−ε) − E(w_i−ε, w_j+ε)
                        + E(w_i−ε, w_j−ε)] / 4ε²,

    error O(ε²) plus rounding O(u/ε²). W(W+1)/2 entries × 4 evaluations of E,
    each O(W): O(W³). Parameters are perturbed in place and restored; use float64.
    """
    params = _fd_params(params, "fd_hessian_four_point")
    pert = _Perturb(params)
    W = len(pert.slots)

    def E():
        with no_grad():
            return float(_scalar_loss(loss_fn, "fd_hessian_four_point").data)

    H = np.empty((W, W))
    for i in range(W):
        for j in range(i, W):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                with pert.shifted([(i, si * eps), (j, sj * eps)]):
                    total += sign * E()
            H[i, j] = H[j, i] = total / (4 * eps * eps)
    return H


def fd_hessian_central_gradients(loss_fn, params, eps=1e-5, symmetrize=False):
    """Central differences of the back-propagated gradient (Bishop eq. 5.91):

        H e_j ≈ [∇E(w + ε e_j) − ∇E(w − ε e_j)] / 2ε,

    error O(ε²) plus rounding O(u/ε). 2W gradients of O(W) each: O(W²).
    ``symmetrize`` returns (H + Hᵀ)/2.
    """
    params = _fd_params(params, "fd_hessian_central_gradients")
    pert = _Perturb(params)
    W = len(pert.slots)
    H = np.empty((W, W))
    for j in range(W):
        with pert.shifted([(j, eps)]):
            gp = loss_and_grad(loss_fn, params)[1]
        with pert.shifted([(j, -eps)]):
            gm = loss_and_grad(loss_fn, params)[1]
        H[:, j] = (gp - gm) / (2 * eps)
    return (H + H.T) / 2 if symmetrize else H


def fd_epsilon_tradeoff(loss_fn, params, eps_values=None, method="central_gradients", reference=None):
    """The step-size trade-off of finite differences: for each ε, the largest
    absolute error against the exact Hessian (``reference``, computed by
    ``exact_hessian`` if not given). Truncation error falls like ε², rounding
    error grows like u/ε (gradients) or u/ε² (four-point): the best ε is in
    between. Returns a list of ``(eps, max_abs_error)``.
    """
    if method not in ("central_gradients", "four_point"):
        raise ValueError(f"fd_epsilon_tradeoff: method must be 'central_gradients' or "
                         f"'four_point', got {method!r}")
    if eps_values is None:
        eps_values = 10.0 ** -np.arange(1, 11)
    if reference is None:
        reference = exact_hessian(loss_fn, params)
    fd = fd_hessian_central_gradients if method == "central_gradients" else fd_hessian_four_point
    return [(float(eps), float(np.max(np.abs(fd(loss_fn, params, eps) - reference))))
            for eps in eps_values]


# ---------------------------------------------------------------------------
# Eigen-information from Hessian-vector products
# ---------------------------------------------------------------------------

def _matvec_of(op):
    if hasattr(op, "matvec"):
        return op.matvec, op.shape[0]
    A = np.asarray(op)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise TypeError("expected a square matrix or an operator with .matvec and .shape")
    return (lambda v: A @ v), A.shape[0]


def power_iteration(op, iters=200, tol=1e-10, seed=0, v0=None):
    """The eigenvalue of largest magnitude of a symmetric ``op`` (a matrix or
    an operator with ``.matvec``/``.shape``) and its unit eigenvector.

    v ← Hv/‖Hv‖ until the Rayleigh quotient vᵀHv settles (relative ``tol``).
    Converges like |λ₂/λ₁|ᵏ; one product per step. Returns ``(λ, v)``.
    """
    matvec, n = _matvec_of(op)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) if v0 is None else np.array(v0, dtype=np.float64)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(iters):
        w = matvec(v)
        new = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0:
            return 0.0, v
        v = w / norm
        if abs(new - lam) <= tol * max(abs(new), 1e-300):
            lam = new
            break
        lam = new
    return float(v @ matvec(v)), v


def hessian_eigs_power(loss_fn, params, k=1, iters=200, tol=1e-10, seed=0):
    """The k eigenvalues of the Hessian largest in magnitude, by power iteration
    on Hessian-vector products with deflation H ← H − λ u uᵀ after each one.

    Returns ``(eigenvalues (k,), eigenvectors (W, k))``, in the order found.
    Never forms H: memory O(kW), time (steps × 2 gradients). Deflation loses
    accuracy as k grows; prefer ``lanczos`` beyond a few.
    """
    op = HessianOperator(loss_fn, params)
    found, vecs = [], []

    class _Deflated:
        shape = op.shape

        @staticmethod
        def matvec(v):
            w = op.matvec(v)
            for lam, u in zip(found, vecs):
                w = w - lam * (u @ v) * u
            return w

    for i in range(k):
        lam, u = power_iteration(_Deflated, iters, tol, seed + i)
        found.append(lam)
        vecs.append(u)
    return np.array(found), np.stack(vecs, axis=1)


def lanczos_eigs(op, k=1, m=None, seed=0, which="largest"):
    """The k largest (``which='largest'``) or smallest eigenvalues of a
    symmetric ``op`` by m steps of Lanczos with full re-orthogonalisation.

    Builds an orthonormal basis Q of the Krylov space span{q, Hq, …, H^{m−1}q}
    in which H is tridiagonal T = QᵀHQ; the eigenvalues of T (Ritz values)
    approach the extreme eigenvalues of H fast. m products + O(m² W).
    ``m`` defaults to min(W, max(2k + 20, 30)); with m = W the result is exact
    (up to rounding). Returns ``(eigenvalues (k,), Ritz vectors (W, k))``,
    sorted from the extreme inwards.
    """
    matvec, n = _matvec_of(op)
    if m is None:
        m = min(n, max(2 * k + 20, 30))
    m = min(int(m), n)
    if not 1 <= k <= m:
        raise ValueError(f"lanczos: need 1 <= k <= m = {m}, got k={k}")
    if which not in ("largest", "smallest"):
        raise ValueError(f"lanczos: which must be 'largest' or 'smallest', got {which!r}")
    rng = np.random.default_rng(seed)
    Q = np.zeros((n, m))
    alpha, beta = np.zeros(m), np.zeros(m)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    steps = m
    for j in range(m):
        Q[:, j] = q
        w = matvec(q)
        alpha[j] = q @ w
        # Full re-orthogonalisation (twice is enough): keeps Q orthonormal
        # in floating point, so no spurious copies of converged eigenvalues.
        for _ in range(2):
            w -= Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)
        if j == m - 1:
            break
        b = np.linalg.norm(w)
        if b < 1e-12 * max(1.0, abs(alpha[:j + 1]).max()):
            steps = j + 1  # invariant subspace found: T is exact on it
            break
        beta[j] = b
        q = w / b
    T = np.diag(alpha[:steps]) + np.diag(beta[:steps - 1], 1) + np.diag(beta[:steps - 1], -1)
    vals, vecs = np.linalg.eigh(T)
    order = np.argsort(vals)[::-1] if which == "largest" else np.argsort(vals)
    order = order[:min(k, steps)]
    return vals[order], Q[:, :steps] @ vecs[:, order]


def lanczos(loss_fn, params, k=1, m=None, seed=0, which="largest"):
    """The k largest (or smallest) eigenvalues of the Hessian of ``loss_fn``
    by Lanczos on Hessian-vector products (``lanczos_eigs``), never forming H."""
    return lanczos_eigs(HessianOperator(loss_fn, params), k, m, seed, which)


def _rademacher(rng, n):
    return rng.integers(0, 2, size=n) * 2.0 - 1.0


def hutchinson_trace(loss_fn, params, n_probes=100, seed=0, return_std=False):
    """tr H ≈ (1/S) Σ_s z_sᵀ H z_s with Rademacher probes z (entries ±1):
    unbiased since E[z zᵀ] = I; variance 2 Σ_{i≠j} H_ij² per probe. One
    Hessian-vector product per probe. ``return_std`` also gives the standard
    error of the estimate."""
    op = HessianOperator(loss_fn, params)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(int(n_probes)):
        z = _rademacher(rng, op.shape[0])
        samples.append(z @ op.matvec(z))
    samples = np.array(samples)
    est = float(samples.mean())
    if return_std:
        return est, float(samples.std(ddof=1) / np.sqrt(len(samples))) if len(samples) > 1 else np.inf
    return est


def hutchinson_diagonal(loss_fn, params, n_probes=100, seed=0):
    """diag H ≈ (1/S) Σ_s z_s ⊙ H z_s with Rademacher probes (Bekas, Kokiopoulou
    & Saad 2007): unbiased since E[z_i z_j] = δ_ij; each entry's error falls
    like 1/√S, driven by the off-diagonal entries of its row. One
    Hessian-vector product per probe; returns a flat (W,) vector."""
    op = HessianOperator(loss_fn, params)
    rng = np.random.default_rng(seed)
    acc = np.zeros(op.shape[0])
    for _ in range(int(n_probes)):
        z = _rademacher(rng, op.shape[0])
        acc += z * op.matvec(z)
    return acc / int(n_probes)
