"""Bishop's Hessian toolkit (PRML §5.4): the exact Hessian of a network's loss,
its classical approximations, finite differences, and eigen-information at
scale — all built on ``functional`` and the R-operator.

The interface is a loss *closure* over a list of parameter Tensors that
require grad:

    >>> from autograd_core.curvature import exact_hessian
    >>> model, x, t = nn.Linear(3, 2), ag.randn(4, 3), ag.tensor([0, 1, 1, 0])
    >>> params = list(model.parameters())
    >>> loss_fn = lambda: F.cross_entropy(model(x), t)   # recomputes E from the current params
    >>> H = exact_hessian(loss_fn, params)               # (W, W) float64 ndarray
    >>> H.shape, H.dtype, bool(np.allclose(H, H.T))
    ((8, 8), dtype('float64'), True)

W is the total number of parameter entries; vectors of length W are the
parameters flattened in list order (``flatten`` / ``unflatten``). No function
here changes the parameters' values, ``.grad``, tangents or ``requires_grad``
(finite differences shift ``.data`` and put it back). Results are float64.

=============================  ================================================  =================
module / function              what                                              cost
=============================  ================================================  =================
``products``
hessian_vector_product         H v, R-operator (Pearlmutter), exact              ≈ 2 gradients
HessianOperator, exact_hessian H matrix-free; H by W products                    O(W²)
output_jacobian                J = ∂y/∂w                                         M backward passes
gauss_newton_vector_product    Jᵀ H_L J v without J: jvp, ∂E/∂y, vjp             ≈ 2 gradients
``bishop``
diagonal_hessian               Becker & Le Cun: back-propagated ∂²E/∂w², no      O(W)
                               off-diagonal terms (layered networks)
outer_product_hessian          Levenberg–Marquardt / Gauss–Newton Jᵀ H_L J       O(M W²), M outputs
sequential_inverse_outer_      (αI + Σ_n b_n b_nᵀ)⁻¹ by rank-one updates         O(N W²)
  product
``finite_differences``
fd_hessian_four_point          second differences of E                           O(W³)
fd_hessian_central_gradients   central differences of ∇E                         O(W²)
``spectral`` (any matvec)
power_iteration, eigs_power,   largest eigenvalues                               O(W) per product
  lanczos_eigs, lanczos
estimate_trace/_diagonal,      E[zᵀAz], E[z ⊙ Az] over Rademacher z              O(W) per probe
  hutchinson_trace/_diagonal
=============================  ================================================  =================
"""
from ..flat import flatten, unflatten
from .linear_operator import LinearOperator, as_operator
from .products import (LOSSES, loss_and_grad, hessian_vector_product, HessianOperator,
                       hessian_operator, exact_hessian, output_jacobian, output_loss,
                       example_hessian_blocks, output_hessian_blocks,
                       gauss_newton_vector_product, GaussNewtonOperator)
from .bishop import (Layer, mlp_layers, activation_derivatives, diagonal_hessian,
                     outer_product_factors, outer_product_hessian, sequential_inverse_outer_product)
from .finite_differences import (fd_hessian_four_point, fd_hessian_central_gradients,
                                 fd_epsilon_tradeoff)
from .spectral import (power_iteration, eigs_power, hessian_eigs_power, lanczos_eigs, lanczos,
                       estimate_trace, estimate_diagonal, hutchinson_trace, hutchinson_diagonal)

__all__ = [
    "flatten", "unflatten", "LinearOperator", "as_operator",
    "LOSSES", "loss_and_grad", "hessian_vector_product", "HessianOperator", "hessian_operator",
    "exact_hessian", "output_jacobian", "output_loss", "example_hessian_blocks",
    "output_hessian_blocks", "gauss_newton_vector_product", "GaussNewtonOperator",
    "Layer", "mlp_layers", "activation_derivatives", "diagonal_hessian",
    "outer_product_factors", "outer_product_hessian", "sequential_inverse_outer_product",
    "fd_hessian_four_point", "fd_hessian_central_gradients", "fd_epsilon_tradeoff",
    "power_iteration", "eigs_power", "hessian_eigs_power", "lanczos_eigs", "lanczos",
    "estimate_trace", "estimate_diagonal", "hutchinson_trace", "hutchinson_diagonal",
]
