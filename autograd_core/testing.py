"""Gradient checking: analytic derivatives against central differences.

``gradcheck`` forms the full Jacobian three ways — by finite differences, by
reverse mode (one VJP per output element) and by forward mode (one JVP per
input element) — and reports the worst disagreeing element. It is meant for
small inputs: the cost is (outputs + inputs) derivative evaluations plus
2·inputs function evaluations.
"""
from __future__ import annotations

import numpy as np

from .graph import forward_ad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jacobian"]


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree."""


def _as_inputs(inputs):
    if isinstance(inputs, (Tensor, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    tensors = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        tensors.append(x)
    return tuple(tensors)


def _checked_indices(inputs):
    idx = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not idx:  # nothing marked: check every floating-point input
        idx = [i for i, x in enumerate(inputs) if x.dtype.kind == "f"]
    if not idx:
        raise ValueError("gradcheck: no floating-point input to differentiate")
    return idx


def _fresh(inputs, checked):
    """float64 leaves that require grad for the checked inputs, constants otherwise."""
    return [Tensor(x.data.astype(np.float64), requires_grad=True) if i in checked
            else Tensor(x.data) for i, x in enumerate(inputs)]


def _call(f, xs):
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    return out


def numerical_jacobian(f, inputs, eps=1e-6):
    """Central differences: one (out.size, x.size) block per checked input."""
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    base = _fresh(inputs, checked)
    out_size = _call(f, base).data.size
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


def _reverse_jacobian(f, inputs, checked):
    xs = _fresh(inputs, checked)
    out = _call(f, xs)
    blocks = {i: np.zeros((out.data.size, xs[i].data.size)) for i in checked}
    if not out.requires_grad:
        return blocks
    for m in range(out.data.size):
        for i in checked:
            xs[i].grad = None
        u = np.zeros(out.data.size)
        u[m] = 1.0
        out.backward(u.reshape(out.shape).astype(out.dtype), retain_graph=True)
        for i in checked:
            if xs[i].grad is not None:
                blocks[i][m] = xs[i].grad.data.ravel()
    return blocks


def _forward_jacobian(f, inputs, checked):
    xs = _fresh(inputs, checked)
    out_size = _call(f, xs).data.size
    blocks = {}
    for i in checked:
        J = np.zeros((out_size, xs[i].data.size))
        for k in range(xs[i].data.size):
            for x in xs:
                x.tangent = None
            v = np.zeros(xs[i].data.size)
            v[k] = 1.0
            xs[i].tangent = Tensor(v.reshape(xs[i].shape))
            with forward_ad():
                out = _call(f, xs)
            if out.tangent is not None:
                J[:, k] = np.asarray(out.tangent.data, dtype=np.float64).ravel()
        xs[i].tangent = None
        blocks[i] = J
    return blocks


def _compare(mode, analytic, numerical, inputs, atol, rtol, out_shape, who="gradcheck"):
    for i, J_num in numerical.items():
        J = analytic[i]
        err = np.abs(J - J_num)
        tol = atol + rtol * np.abs(J_num)
        bad = err - tol
        if J.size and (np.isnan(J).any() or bad.max() > 0):
            m, k = np.unravel_index(np.nanargmax(np.where(np.isnan(J), np.inf, bad)), J.shape)
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
    (returns False instead if ``raise_exception=False``).
    """
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    numerical = numerical_jacobian(f, inputs, eps)
    out_shape = _call(f, _fresh(inputs, checked)).shape
    failure = _compare("reverse mode (VJP)", _reverse_jacobian(f, inputs, checked),
                       numerical, inputs, atol, rtol, out_shape, _who)
    if failure is None and check_forward:
        failure = _compare("forward mode (JVP)", _forward_jacobian(f, inputs, checked),
                           numerical, inputs, atol, rtol, out_shape, _who)
    if failure is not None:
        if raise_exception:
            raise GradcheckError(failure)
        return False
    return True


def gradgradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of x ↦ Jᵀu (built with create_graph)
    for a fixed random u. Exercises every VJP rule's own derivatives."""
    inputs = _as_inputs(inputs)
    checked = _checked_indices(inputs)
    probe = _fresh(inputs, checked)
    out_shape = _call(f, probe).shape
    u = np.random.default_rng(seed).standard_normal(out_shape)

    def vjp_of_f(*xs):
        from .ops import concatenate
        out = _call(f, xs)
        targets = [xs[i] for i in checked]
        saved = [t.grad for t in targets]
        for t in targets:
            t.grad = None
        try:
            out.backward(Tensor(u.astype(out.dtype)), create_graph=True)
            grads = [t.grad if t.grad is not None else Tensor(np.zeros(t.shape)) for t in targets]
        finally:
            for t, g in zip(targets, saved):
                t.grad = g
        return concatenate([g.reshape(-1) for g in grads])

    return gradcheck(vjp_of_f, inputs, eps, atol, rtol, raise_exception,
                     _who="gradgradcheck (second derivatives: the gradient of x ↦ Jᵀu)")
