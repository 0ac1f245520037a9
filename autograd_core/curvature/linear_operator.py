"""Matrix-free linear operators: a square matrix known only by its products A v.

The curvature matrices of a network (Hessian, Gauss–Newton) are far too large
to form, but each product with a vector costs about two gradients. The
eigen/trace estimators (``spectral``) and the optimisers only need those
products, so they take a ``LinearOperator`` — or anything ``as_operator``
turns into one: a matrix, an object with ``matvec`` and ``shape`` (SciPy's
``LinearOperator``), an object with ``@`` and ``shape``, or a plain callable
v ↦ A v with its dimension.
"""
from __future__ import annotations

import numpy as np

__all__ = ["LinearOperator", "as_operator"]


class LinearOperator:
    """A square n × n matrix A given by its product: ``A @ v`` / ``A.matvec(v)``.

    ``shape``, ``dtype`` and ``matvec`` make it usable where SciPy expects a
    ``LinearOperator``; ``A @ M`` with a matrix M multiplies its columns;
    ``n_products`` counts the products so far; ``to_dense()`` forms A column by
    column (n products).

        >>> A = LinearOperator(lambda v: 2 * v, 3)
        >>> A @ np.ones(3)
        array([2., 2., 2.])
    """

    def __init__(self, matvec, n, name="LinearOperator"):
        if not callable(matvec):
            raise TypeError(f"{name}: matvec must be callable, got {type(matvec).__name__}")
        self._matvec = matvec
        self.shape = (int(n), int(n))
        self.dtype = np.dtype(np.float64)
        self.n_products = 0
        self._name = name

    def matvec(self, v):
        """A v for a vector v of length n (float64)."""
        v = np.asarray(v, dtype=np.float64)
        if v.shape not in ((self.shape[1],), (self.shape[1], 1)):
            raise ValueError(f"{self._name}.matvec: v has shape {v.shape} but the operator is "
                             f"{self.shape[0]}x{self.shape[1]}; expected shape ({self.shape[1]},)")
        self.n_products += 1
        out = np.asarray(self._matvec(v.reshape(-1)), dtype=np.float64)
        return out.reshape(v.shape)

    def __matmul__(self, v):
        v = np.asarray(v)
        if v.ndim == 2 and v.shape[1] != 1:
            return np.stack([self.matvec(c) for c in v.T], axis=1)
        return self.matvec(v)

    def to_dense(self):
        """The n × n matrix, column k = A e_k (n products)."""
        n = self.shape[0]
        A = np.empty((n, n))
        e = np.zeros(n)
        for k in range(n):
            e[k] = 1.0
            A[:, k] = self.matvec(e)
            e[k] = 0.0
        return A

    def __repr__(self):
        return (f"<{self._name} {self.shape[0]}x{self.shape[1]}, "
                f"{self.n_products} products>")


def as_operator(op, n=None, fname="as_operator"):
    """``op`` as a ``LinearOperator``: a ``LinearOperator`` (returned as is), a
    square matrix (ndarray, nested list, Tensor), an object with ``matvec`` and
    ``shape`` or with ``@`` and ``shape``, or a callable v ↦ A v (then give its
    dimension ``n``). ``fname`` names the caller in error messages.

        >>> from autograd_core.curvature import as_operator
        >>> A = as_operator(np.diag([1.0, 2.0]))                   # a matrix
        >>> A @ np.ones(2), A.shape
        (array([1., 2.]), (2, 2))
        >>> B = as_operator(lambda v: 3 * v, n=2)                   # a matvec and its dimension
        >>> B.to_dense()
        array([[3., 0.],
               [0., 3.]])
    """
    if isinstance(op, LinearOperator):
        return op
    shape = getattr(op, "shape", None)
    if hasattr(op, "matvec") and shape is not None:
        return LinearOperator(op.matvec, _square(shape, fname), fname)
    if isinstance(op, (np.ndarray, list)) or hasattr(op, "__array__"):
        A = np.asarray(op, dtype=np.float64)
        return LinearOperator(lambda v: A @ v, _square(A.shape, fname), fname)
    if hasattr(op, "__matmul__") and shape is not None:
        return LinearOperator(lambda v: op @ v, _square(shape, fname), fname)
    if callable(op):
        if n is None:
            raise TypeError(f"{fname}: op is a plain callable v -> A v; give its dimension "
                            f"n= as well")
        return LinearOperator(op, n, fname)
    raise TypeError(f"{fname}: op must be a square matrix, an operator with .matvec and "
                    f".shape, or a callable v -> A v, got {type(op).__name__}")


def _square(shape, fname):
    shape = tuple(shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{fname}: op must be square, got shape {shape}")
    return shape[0]
