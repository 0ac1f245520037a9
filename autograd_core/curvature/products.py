"""Curvature products of a network's loss, built on ``functional``: the gradient,
the Hessian-vector product (Pearlmutter's R-operator), the exact Hessian, the
Jacobian of the outputs, and the Gauss–Newton product Jᵀ H_L J v.

The interface is a *closure* over a list of parameter Tensors (which must
require grad)::

    params = list(model.parameters())
    loss_fn = lambda: loss(model(x), t)         # E, recomputed from the current params
    output_fn = lambda: model(x)                # y, the network outputs

Vectors of length W (the number of parameter entries) are the parameters
flattened in list order (``autograd_core.flat``). Results are float64 NumPy
arrays. Nothing here changes the parameters' values, ``.grad``, tangents or
``requires_grad``: gradients are the values the engine's sweep returns, and
directions live on a forward level that closes with the call.

The loss in output space. The Gauss–Newton matrix needs H_L = ∂²E/∂y²; for
the named losses the engine differentiates a function of y with the same
Hessian (``output_loss``): 'sse' ½‖y − t‖², 'sigmoid_ce' Σ softplus(y) − tᵀy,
'softmax_ce' Σ_n logsumexp(y_n) − Σ_n t_nᵀ y_n (y the logits). The targets
only shift the gradient, so they may be left out for curvature.
"""
from __future__ import annotations

import numpy as np

from .. import autograd
from .. import functional as F
from ..core import TensorBase, wrap
from ..flat import flatten, numel, unflatten
from ..graph import enable_grad
from ..ops import logsumexp, stack
from .linear_operator import LinearOperator

__all__ = [
    "LOSSES", "loss_and_grad", "hessian_vector_product", "HessianOperator", "hessian_operator",
    "exact_hessian", "output_jacobian", "output_loss", "example_hessian_blocks", "output_hessian_blocks",
    "gauss_newton_vector_product", "GaussNewtonOperator",
]

LOSSES = ("sse", "sigmoid_ce", "softmax_ce")
REDUCTIONS = ("sum", "mean")


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def check_params(params, fname, require_grad=True):
    """``params`` as a list of floating-point leaf Tensors (that require grad)."""
    if isinstance(params, TensorBase):
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
        if not isinstance(p, TensorBase):
            raise TypeError(f"{fname}: params[{i}] must be a Tensor, got {type(p).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(f"{fname}: params[{i}] has dtype {p.dtype}; parameters must be "
                            f"floating point")
        if not p.is_leaf:
            raise ValueError(f"{fname}: params[{i}] (shape {p.shape}) is not a leaf tensor; "
                             f"parameters must be leaves")
        if require_grad and not p.requires_grad:
            raise ValueError(f"{fname}: params[{i}] (shape {p.shape}) does not require grad; "
                             f"curvature is taken with respect to tensors that require grad "
                             f"(call params[{i}].requires_grad_() or leave it out)")
    return params


def check_vector(v, params, fname, argname="v"):
    """A flat vector of length W over ``params`` (ValueError naming both shapes)."""
    v = np.asarray(v.data if isinstance(v, TensorBase) else v)
    W = numel(params)
    if v.shape != (W,):
        raise ValueError(f"{fname}: {argname} has shape {v.shape} but the parameters have {W} "
                         f"entries; expected shape ({W},) (flatten() a list of arrays)")
    return v


def scalar_loss(loss_fn, fname):
    """``loss_fn`` checked on every call: a Tensor with one element."""
    if not callable(loss_fn):
        raise TypeError(f"{fname}: loss_fn must be callable, got {type(loss_fn).__name__}")

    def loss():
        out = loss_fn()
        if not isinstance(out, TensorBase):
            raise TypeError(f"{fname}: loss_fn() must return a Tensor, got {type(out).__name__}")
        if out.size != 1:
            raise ValueError(f"{fname}: loss_fn() must return a scalar, got a tensor of shape "
                             f"{out.shape}")
        return out
    return loss


def network_output(output_fn, fname):
    """``output_fn()``, checked to be a Tensor."""
    y = output_fn()
    if not isinstance(y, TensorBase):
        raise TypeError(f"{fname}: output_fn() must return a Tensor (the network outputs), "
                        f"got {type(y).__name__}")
    return y


def check_loss(loss, reduction, fname, allow_none=False):
    if not (callable(loss) or loss in LOSSES or (allow_none and loss is None)):
        extra = ", None (output_fn returns (E, y))" if allow_none else ""
        raise ValueError(f"{fname}: loss must be one of {LOSSES}{extra} or a callable "
                         f"y -> E(y), got {loss!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fname}: reduction must be 'sum' or 'mean', got {reduction!r}")


# ---------------------------------------------------------------------------
# Gradient, Hessian-vector product, exact Hessian
# ---------------------------------------------------------------------------

def loss_and_grad(loss_fn, params):
    """``(E, ∇E)``: the loss as a float and its gradient as a flat vector. One
    forward and one backward pass, O(W).

        >>> from autograd_core.curvature import loss_and_grad
        >>> w = ag.tensor([0.0, 3.0], dtype=ag.float64, requires_grad=True)
        >>> loss_and_grad(lambda: ((w - 1) ** 2).sum(), [w])    # g = 2(w − 1)
        (5.0, array([-2.,  4.]))
    """
    params = check_params(params, "loss_and_grad")
    with enable_grad():
        E = scalar_loss(loss_fn, "loss_and_grad")()
        gs = F.gradients(E, params)
    return float(E.item()), flatten(gs, like=params)


def hessian_vector_product(loss_fn, params, v, method="forward-over-reverse"):
    """H v for a flat vector v (length W), exactly, without forming H:
    ``functional.closure_hvp`` on flat vectors.

    Forward-over-reverse (Pearlmutter's R-operator, default): R{w} = v, E is
    evaluated with every value carrying its R{·}, back-propagated with every
    δ carrying R{δ}; then H v = R{∇E}. ``'reverse-over-reverse'``: ∇⟨∇E, v⟩
    through a recorded backward pass. Cost ≈ 2 gradients, O(W) memory.

        >>> from autograd_core.curvature import hessian_vector_product
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> hessian_vector_product(lambda: (w ** 3).sum(), [w], np.array([1.0, -1.0]))  # 6 w ⊙ v
        array([  6., -12.])
    """
    fname = "hessian_vector_product"
    params = check_params(params, fname)
    if method not in F.HVP_METHODS:
        raise ValueError(f"{fname}: method must be one of {F.HVP_METHODS}, got {method!r}")
    v = check_vector(v, params, fname)
    _, hv = F.closure_hvp(scalar_loss(loss_fn, fname), params, unflatten(v, params), method)
    return flatten(hv)


class HessianOperator(LinearOperator):
    """The Hessian of ``loss_fn`` at the current parameters as a matrix-free
    operator: ``H @ v`` costs one Hessian-vector product.

        >>> from autograd_core.curvature import HessianOperator
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> H = HessianOperator(lambda: (w ** 3).sum(), [w])       # H = diag(6w)
        >>> H @ np.array([1.0, 1.0]), H.shape, H.n_products
        (array([ 6., 12.]), (2, 2), 1)
    """

    def __init__(self, loss_fn, params, method="forward-over-reverse"):
        self.loss_fn = loss_fn
        self.params = check_params(params, "HessianOperator")
        if method not in F.HVP_METHODS:
            raise ValueError(f"HessianOperator: method must be one of {F.HVP_METHODS}, "
                             f"got {method!r}")
        self.method = method
        super().__init__(lambda v: hessian_vector_product(loss_fn, self.params, v, method),
                         numel(self.params), "HessianOperator")


def hessian_operator(loss_fn, params, method="forward-over-reverse"):
    """``HessianOperator(loss_fn, params, method)``: H as a matrix-free operator.

        >>> from autograd_core.curvature import hessian_operator
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> hessian_operator(lambda: (w ** 3).sum(), [w]).to_dense()
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    return HessianOperator(loss_fn, params, method)


def exact_hessian(loss_fn, params, method="forward-over-reverse"):
    """The exact (W, W) Hessian, column k = H e_k by one Hessian-vector product.

    W products of ≈ 2 gradients each: O(W²) time, and O(W²) memory for the
    result — the cost the approximations (``bishop``) avoid.

        >>> from autograd_core.curvature import exact_hessian
        >>> w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> exact_hessian(lambda: (w ** 3).sum() + w[0] * w[1], [w])   # [[6w₀, 1], [1, 6w₁]]
        array([[ 6.,  1.],
               [ 1., 12.]])
    """
    return HessianOperator(scalar_loss(loss_fn, "exact_hessian"),
                           check_params(params, "exact_hessian"), method).to_dense()


# ---------------------------------------------------------------------------
# The outputs: Jacobian, and the loss as a function of them
# ---------------------------------------------------------------------------

def output_jacobian(output_fn, params):
    """``(y, J)``: the outputs ``y = output_fn()`` (an ndarray) and J = ∂y/∂w as
    an (M, W) array, M = number of output entries (row-major over y's shape):
    ``functional.closure_jacobian``, one backward pass per output entry.

        >>> from autograd_core.curvature import output_jacobian
        >>> model, x = nn.Linear(3, 2), ag.randn(4, 3)
        >>> y, J = output_jacobian(lambda: model(x), list(model.parameters()))
        >>> y.shape, J.shape                                     # J: (y.size, W)
        ((4, 2), (8, 8))
    """
    params = check_params(params, "output_jacobian")
    y, blocks = F.closure_jacobian(lambda: network_output(output_fn, "output_jacobian"), params)
    J = np.concatenate([np.asarray(b.data, dtype=np.float64).reshape(y.size, p.size)
                        for b, p in zip(blocks, params)], axis=1)
    return y.data, J


def _examples(shape):
    """(N, K): the outputs seen as N examples (the first axis) of K entries."""
    N = shape[0] if len(shape) else 1
    return N, (int(np.prod(shape, dtype=np.int64)) // N if N else 0)


def output_loss(loss, reduction="sum", target=None, fname="output_loss"):
    """E(y) as a function of the outputs y that the engine differentiates.

    A named loss gives (c = 1, or 1/N for ``reduction='mean'``, N = y.shape[0]):

    * ``'sse'``:        c · ½ Σ (y − t)²
    * ``'sigmoid_ce'``: c · Σ [softplus(y) − t y]                  (y: logits)
    * ``'softmax_ce'``: c · Σ_n [logsumexp(y_n) − t_nᵀ y_n]        (y: (N, K) logits,
      t class labels or rows of probabilities)

    the negative log-likelihoods up to a constant. ``target`` None means
    t = 0: the same Hessian in y. A callable ``loss`` is returned as is.

        >>> from autograd_core.curvature import output_loss
        >>> E = output_loss("sse", target=np.array([[1.0, 2.0]]))
        >>> E(ag.tensor([[3.0, 2.0]], dtype=ag.float64))           # ½ Σ (y − t)²
        Tensor(2.)
        >>> y, r = np.zeros((1, 2)), np.array([[1.0, 0.0]])
        >>> _, Hr = ag.functional.hvp(output_loss("softmax_ce"), y, r)
        >>> Hr                                               # (diag p − p pᵀ) r, p = (½, ½)
        Tensor([[ 0.25, -0.25]])
    """
    if callable(loss):
        return loss

    def E(y):
        c = 1.0 / y.shape[0] if reduction == "mean" and y.ndim and y.shape[0] else 1.0
        if loss == "sse":
            r = y if target is None else y - np.asarray(target, dtype=y.dtype).reshape(y.shape)
            return (r * r).sum() * (0.5 * c)
        if loss == "sigmoid_ce":
            # softplus(y) = log(e⁰ + eʸ): the fused logsumexp is stable at ±1000
            # and has exact derivatives everywhere (also at y = 0).
            value = logsumexp(stack([np.zeros(y.shape, dtype=y.dtype), y], axis=-1), axis=-1).sum()
        else:
            if y.ndim != 2:
                raise ValueError(f"{fname}: loss='softmax_ce' needs logits of shape (N, K), "
                                 f"got {y.shape}")
            value = logsumexp(y, axis=1).sum()
        if target is not None:
            value = value - (y * _target_rows(loss, target, y)).sum()
        return value * c
    return E


def _target_rows(loss, target, y):
    t = np.asarray(target)
    if loss == "softmax_ce" and t.ndim == 1:
        return np.eye(y.shape[1], dtype=y.dtype)[t]
    return np.asarray(t, dtype=y.dtype).reshape(y.shape)


def example_hessian_blocks(E, y):
    """The diagonal blocks of ∂²E/∂y² for a scalar function E that is a sum of
    one term per example (row of y): an (N, K, K) array, N = y.shape[0] and
    K the entries per example. H is then block diagonal, and K Hessian-vector
    products give every block: H(e_k in every row) holds column k of each.

        >>> from autograd_core.curvature import example_hessian_blocks
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> example_hessian_blocks(lambda a: (a ** 3).sum(), a)    # block n: diag(6 a_n)
        array([[[ 6.,  0.],
                [ 0., 12.]],
        <BLANKLINE>
               [[18.,  0.],
                [ 0., 24.]]])
    """
    y = np.asarray(y.data if isinstance(y, TensorBase) else y, dtype=np.float64)
    N, K = _examples(y.shape)
    blocks = np.empty((N, K, K))
    for k in range(K):
        r = np.zeros((N, K))
        r[:, k] = 1.0
        _, hv = F.hvp(E, wrap(y), r.reshape(y.shape))
        blocks[:, :, k] = np.asarray(hv.data).reshape(N, K)
    return blocks


def output_hessian_blocks(loss, y, reduction="sum", target=None):
    """The Hessian H_L = ∂²E/∂y² of the loss in output space, as blocks.

    A named loss is a sum over examples (rows of y), so H_L is block diagonal:
    the N blocks (N, K, K) of ``example_hessian_blocks(output_loss(loss), y)``
    (for 'softmax_ce', diag(p_n) − p_n p_nᵀ). A callable loss may couple
    anything: its whole Hessian as one (1, M, M) block, by M products.

        >>> from autograd_core.curvature import output_hessian_blocks
        >>> output_hessian_blocks("softmax_ce", np.zeros((1, 2)))  # diag(p) − p pᵀ, p = (½, ½)
        array([[[ 0.25, -0.25],
                [-0.25,  0.25]]])
    """
    E = output_loss(loss, reduction, target, "output_hessian_blocks")
    if callable(loss):
        y = np.asarray(y.data if isinstance(y, TensorBase) else y, dtype=np.float64)
        return example_hessian_blocks(lambda flat: E(flat.reshape(y.shape)), y.reshape(1, -1))
    return example_hessian_blocks(E, y)


# ---------------------------------------------------------------------------
# The Gauss–Newton product
# ---------------------------------------------------------------------------

def _loss_and_output(result, fname):
    if not (isinstance(result, tuple) and len(result) == 2
            and all(isinstance(t, TensorBase) for t in result)):
        raise TypeError(f"{fname}: with loss=None, output_fn() must return (E, y): the loss and "
                        f"the network outputs it was computed from (both Tensors), got "
                        f"{type(result).__name__}")
    return result


def gauss_newton_vector_product(output_fn, params, v, loss="sse", reduction="sum"):
    """G v = Jᵀ H_L J v without forming J or H_L (Schraudolph 2002), for J = ∂y/∂w
    and H_L = ∂²E/∂y² at the outputs y = ``output_fn()``.

    One forward pass with the parameters carrying v gives R{y} = J v; the
    gradient ∂E/∂y taken in that pass carries R{∂E/∂y} = H_L J v (E depends on
    w only through y); one backward pass of y with that cotangent gives
    Jᵀ(H_L J v). Cost ≈ 2 gradients.

    ``loss``: a named loss (see ``output_loss``; targets are not needed), a
    callable y ↦ E(y), or None: then ``output_fn()`` returns ``(E, y)``, the
    loss and the outputs it was computed from (Hessian-free's closure).

        >>> from autograd_core.curvature import gauss_newton_vector_product, outer_product_hessian
        >>> model, x = nn.Linear(3, 2), ag.randn(4, 3)
        >>> params, v = list(model.parameters()), np.arange(8.0)
        >>> Gv = gauss_newton_vector_product(lambda: model(x), params, v, "softmax_ce")
        >>> G = outer_product_hessian(lambda: model(x), params, "softmax_ce")   # formed
        >>> bool(np.allclose(Gv, G @ v))
        True
    """
    fname = "gauss_newton_vector_product"
    params = check_params(params, fname)
    check_loss(loss, reduction, fname, allow_none=True)
    v = check_vector(v, params, fname)
    E_of = None if loss is None else output_loss(loss, reduction, fname=fname)
    outputs = []

    def output_gradient():
        if E_of is None:
            E, y = _loss_and_output(output_fn(), fname)
        else:
            y = network_output(output_fn, fname)
            E = E_of(y)
        outputs.append(y)
        if not (E.requires_grad and y.requires_grad):
            return wrap(np.zeros(y.shape, dtype=y.dtype))
        (g,) = autograd.grad(E, y, retain_graph=True, allow_unused=True,
                             materialize_grads=True)
        return g

    _, HJv = F.closure_jvp(output_gradient, params, unflatten(v, params))
    y = outputs[-1]
    if not y.requires_grad:
        return np.zeros(v.size)
    return flatten(F.gradients(y, params, HJv), like=params)


class GaussNewtonOperator(LinearOperator):
    """The Gauss–Newton matrix G = Jᵀ H_L J at the current parameters as a
    matrix-free operator (``gauss_newton_vector_product``); positive
    semi-definite whenever the loss is convex in the outputs.

        >>> from autograd_core.curvature import GaussNewtonOperator, lanczos_eigs
        >>> model, x = nn.Linear(3, 2), ag.randn(4, 3)
        >>> G = GaussNewtonOperator(lambda: model(x), list(model.parameters()), "softmax_ce")
        >>> G.shape
        (8, 8)
        >>> top = lanczos_eigs(G, k=1)[0]
        >>> bool(np.allclose(top, np.linalg.eigvalsh(G.to_dense())[-1]))
        True
    """

    def __init__(self, output_fn, params, loss="sse", reduction="sum"):
        self.params = check_params(params, "GaussNewtonOperator")
        check_loss(loss, reduction, "GaussNewtonOperator", allow_none=True)
        super().__init__(lambda v: gauss_newton_vector_product(output_fn, self.params, v, loss,
                                                               reduction),
                         numel(self.params), "GaussNewtonOperator")
