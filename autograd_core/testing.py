"""Gradient checking: analytic derivatives against central differences.

``gradcheck`` forms the full Jacobian three ways — by finite differences, by
reverse mode and by forward mode (both with ``functional.jacobian``, the one
Jacobian builder) — and reports the worst disagreeing element. It is meant
for small inputs: the cost is (outputs + inputs) derivative evaluations plus
2·inputs function evaluations.
"""
from __future__ import annotations

import numpy as np

from . import functional
from .core import TensorBase, tensor_class

__all__ = ["gradcheck", "gradgradcheck", "check_adjoint", "check_grads", "GradcheckError",
           "numerical_jacobian"]


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree (or are not finite).

        >>> from autograd_core.testing import GradcheckError, gradcheck
        >>> x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> wrong = lambda x: x.detach() * x          # d/dx is 2x, but the graph sees only x
        >>> try:
        ...     gradcheck(wrong, x)
        ... except GradcheckError:
        ...     print("caught")
        caught
        >>> gradcheck(wrong, x, raise_exception=False)
        False
    """


def _as_inputs(inputs):
    if isinstance(inputs, (TensorBase, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    Tensor = tensor_class()
    return tuple(x if isinstance(x, TensorBase) else Tensor(x) for x in inputs)


def _checked_indices(inputs):
    idx = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not idx:  # nothing marked: check every floating-point input
        idx = [i for i, x in enumerate(inputs) if x.dtype.kind == "f"]
    if not idx:
        raise ValueError("gradcheck: no floating-point input to differentiate")
    return idx


def _float64(inputs, checked):
    """Copies of the inputs, the checked ones in float64 (constants as they are)."""
    Tensor = tensor_class()
    return [Tensor(x.data.astype(np.float64)) if i in checked else Tensor(x.data)
            for i, x in enumerate(inputs)]


def _call(f, xs):
    out = f(*xs)
    if not isinstance(out, TensorBase):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    return out


def _of_checked(f, xs, checked):
    """f as a function of the checked inputs only (the others fixed)."""
    def g(*vals):
        args = list(xs)
        for i, v in zip(checked, vals):
            args[i] = v
        return _call(f, args)
    return g


def numerical_jacobian(f, inputs, eps=1e-6):
    """Central differences: a dict from the position of each checked input in
    ``inputs`` to its (out.size, x.size) block of the Jacobian.

        >>> from autograd_core.testing import numerical_jacobian
        >>> x = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> numerical_jacobian(lambda x: x ** 2, x)[0].round(6)     # diag(2x)
        array([[ 1.,  0.,  0.],
               [ 0., -2.,  0.],
               [ 0.,  0.,  4.]])
    """
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    base = _float64(inputs, checked)
    out_size = _call(f, base).size
    blocks = {}
    for i in checked:
        x = base[i].data
        J = np.empty((out_size, x.size))
        for k in range(x.size):
            orig = x.flat[k]
            x.flat[k] = orig + eps
            plus = np.array(_call(f, base).data, dtype=np.float64).ravel()
            x.flat[k] = orig - eps
            minus = np.array(_call(f, base).data, dtype=np.float64).ravel()
            x.flat[k] = orig
            J[:, k] = (plus - minus) / (2 * eps)
        blocks[i] = J
    return blocks


def analytic_jacobian(f, inputs, checked, mode):
    """The Jacobian blocks by ``functional.jacobian`` in ``mode`` ('reverse' or 'forward')."""
    xs = _float64(inputs, checked)
    out_size = _call(f, xs).size
    J = functional.jacobian(_of_checked(f, xs, checked), tuple(xs[i] for i in checked), mode=mode)
    return {i: np.asarray(J[j].data, dtype=np.float64).reshape(out_size, xs[i].size)
            for j, i in enumerate(checked)}


def _compare(mode, analytic, numerical, inputs, atol, rtol, out_shape, who="gradcheck"):
    for i, J_num in numerical.items():
        J = analytic[i]
        for name, M in (("analytic", J), ("numerical", J_num)):
            if M.size and not np.isfinite(M).all():
                m, k = np.unravel_index(int(np.argmin(np.isfinite(M))), M.shape)
                return (f"{who}: the {name} Jacobian ({mode if name == 'analytic' else 'central differences'}) "
                        f"for input {i} (shape {inputs[i].shape}) has NaN or inf: "
                        f"d output{_pos(m, out_shape)} / d input{i}{_pos(k, inputs[i].shape)} = "
                        f"{M[m, k]} ({int((~np.isfinite(M)).sum())} of {M.size} elements are not finite)")
        err = np.abs(J - J_num)
        tol = atol + rtol * np.abs(J_num)
        bad = err - tol
        if J.size and bad.max() > 0:
            m, k = np.unravel_index(int(np.argmax(bad)), J.shape)
            return (
                f"{who}: {mode} disagrees with central differences for input {i} "
                f"(shape {inputs[i].shape}).\n"
                f"  worst element: d output{_pos(m, out_shape)} / d input{i}{_pos(k, inputs[i].shape)}\n"
                f"  analytic  {J[m, k]:.10g}\n  numerical {J_num[m, k]:.10g}\n"
                f"  |difference| {err[m, k]:.3g} > atol + rtol·|numerical| = {tol[m, k]:.3g}\n"
                f"  ({int((bad > 0).sum())} of {J.size} elements disagree)")
    return None


def _pos(flat, shape):
    """A flat index as the element's index in ``shape``: [1, 2], or [] for a scalar."""
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else "[]"


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_forward=True, _who="gradcheck"):
    """Check ``f``'s VJPs (and JVPs) against central differences at ``inputs``.

    ``inputs`` is a Tensor or a tuple; the ones with ``requires_grad`` are
    checked (all floating ones if none is marked), evaluated in float64.
    Returns True, or raises ``GradcheckError`` naming the worst element
    (returns False instead if ``raise_exception=False``). A NaN or infinity in
    either Jacobian is a failure.

        >>> from autograd_core.testing import gradcheck
        >>> x = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> gradcheck(lambda x: (x.sin() * x).sum(), x)
        True
        >>> gradcheck(lambda a, b: a @ b, (ag.randn(2, 3, dtype=ag.float64, requires_grad=True),
        ...                                 ag.randn(3, dtype=ag.float64, requires_grad=True)))
        True
    """
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    numerical = numerical_jacobian(f, inputs, eps)
    out_shape = _call(f, _float64(inputs, checked)).shape
    failure = _compare("reverse mode (VJP)", analytic_jacobian(f, inputs, checked, "reverse"),
                       numerical, inputs, atol, rtol, out_shape, _who)
    if failure is None and check_forward:
        failure = _compare("forward mode (JVP)", analytic_jacobian(f, inputs, checked, "forward"),
                           numerical, inputs, atol, rtol, out_shape, _who)
    if failure is not None:
        if raise_exception:
            raise GradcheckError(failure)
        return False
    return True


def gradgradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of x ↦ Jᵀu (built with create_graph)
    for a fixed random u. Exercises every VJP rule's own derivatives.

        >>> from autograd_core.testing import gradgradcheck
        >>> x = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> gradgradcheck(lambda x: (x ** 3).sum(), x)
        True
    """
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    out_shape = _call(f, _float64(inputs, checked)).shape
    u = np.random.default_rng(seed).standard_normal(out_shape)

    def vjp_of_f(*xs):
        from .ops import concatenate, reshape
        g = _of_checked(f, xs, checked)
        _, grads = functional.vjp(g, tuple(xs[i] for i in checked), u, create_graph=True)
        return concatenate([reshape(t, -1) for t in grads])

    return gradcheck(vjp_of_f, inputs, eps, atol, rtol, raise_exception,
                     _who="gradgradcheck (second derivatives: the gradient of x ↦ Jᵀu)")


def check_adjoint(f, inputs, seed=0, rtol=1e-7, atol=1e-10):
    """The adjoint identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩ for random u, v: forward mode
    (``functional.jvp``) and reverse mode (``functional.vjp``) are each other's
    transpose. Raises GradcheckError naming both sides if not.

        >>> from autograd_core.testing import check_adjoint
        >>> x = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> check_adjoint(lambda x: x.exp() * x, x)
        True
    """
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    xs = _float64(inputs, checked)
    g = _of_checked(f, xs, checked)
    at = tuple(xs[i] for i in checked)
    rng = np.random.default_rng(seed)
    vs = tuple(rng.standard_normal(x.shape) for x in at)
    out, jv = functional.jvp(g, at, vs)
    u = rng.standard_normal(out.shape)
    _, jtu = functional.vjp(g, at, u)
    left = float(np.sum(u * np.asarray(jv.data, dtype=np.float64)))
    right = sum(float(np.sum(np.asarray(t.data, dtype=np.float64) * v)) for t, v in zip(jtu, vs))
    if not np.isclose(left, right, rtol=rtol, atol=atol):
        raise GradcheckError(f"check_adjoint: <u, J v> = {left!r} but <Jᵀu, v> = {right!r} "
                             f"(forward and reverse mode disagree)")
    return True


def check_grads(f, *inputs, order=2, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The shared checker for a differentiable op (HIPS autograd's ``check_grads``):
    VJP and JVP against central differences, the adjoint identity, and, with
    ``order=2``, the second derivatives (the rules' own derivatives). ``inputs``
    are arrays or Tensors; all floating ones are checked. Returns True or raises.

        >>> from autograd_core.testing import check_grads
        >>> check_grads(lambda x, y: (x * y).tanh(), np.array([0.5, -1.0]), np.array([2.0, 0.3]))
        True
    """
    Tensor = tensor_class()
    xs = tuple(x if isinstance(x, TensorBase) else Tensor(x) for x in inputs)
    gradcheck(f, xs, eps=eps, atol=atol, rtol=rtol)
    check_adjoint(f, xs)
    if order >= 2:
        gradgradcheck(f, xs, eps=eps, atol=atol, rtol=rtol)
    return True
