"""Hand-written NumPy baselines: the floor the engine is benchmarked against.

Everything here is plain, idiomatic NumPy written the way a careful person would
write it by hand for one fixed model: float32 throughout (``dtype`` can be set to
float64 for gradient checks), no autodiff, no needless copies.

* ``NumpyMLP``  -- fully connected ReLU network + softmax cross-entropy (mean over
  the batch), textbook batched backpropagation, and ``hvp``: Pearlmutter's
  R-operator written out by hand (Bishop, PRML section 5.4.6, generalised to a batch,
  any depth and softmax cross-entropy).
* ``NumpyCNN``  -- conv(3x3, pad 1) -> ReLU -> maxpool 2 blocks, then flatten ->
  linear, softmax cross-entropy. Convolution by im2col (``sliding_window_view``
  + one matmul), col2im by accumulating per kernel offset, activations kept
  batch-innermost (C, H, W, N) so every copy moves long contiguous runs.
* ``make_fashion_like_batch`` -- random Fashion-MNIST-shaped data.

Parameters use PyTorch layouts (``Linear.weight`` is ``(out, in)``,
``Conv2d.weight`` is ``(out, in, kh, kw)``) and PyTorch's default initialisation
(uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases). They are
named ``W1, b1, W2, b2, ...`` (layer order) and are available both as attributes
and in the ``params`` dict (the same array objects; ``sgd_step`` updates in place).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "NumpyMLP",
    "NumpyCNN",
    "hvp",
    "softmax_cross_entropy",
    "make_fashion_like_batch",
]


# --------------------------------------------------------------------------- #
# shared pieces
# --------------------------------------------------------------------------- #
def _uniform(rng, bound, shape, dtype):
    return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def softmax_cross_entropy(logits, y):
    """Mean softmax cross-entropy and the softmax probabilities.

    Numerically stable: the row max is subtracted before exponentiating.
    Returns ``(loss, p)`` with ``loss`` a Python float and ``p`` of the dtype
    of ``logits``.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    # log-softmax at the target: shifted[y] - log(sum exp)
    loss = (np.log(s[:, 0]) - shifted[np.arange(n), y]).mean()
    e /= s  # softmax, in place on our own temporary
    return float(loss), e


def _delta_out(p, y):
    """(softmax - onehot) / n, in place on p."""
    n = p.shape[0]
    p[np.arange(n), y] -= 1
    p /= n
    return p


def _as_dict(names, V):
    if isinstance(V, dict):
        return V
    V = tuple(V)
    if len(V) != len(names):
        raise ValueError(f"direction has {len(V)} arrays, model has {len(names)}")
    return dict(zip(names, V))


def _like(names, template, d):
    """Return d (a dict) in the structure of template (dict, tuple or list)."""
    if isinstance(template, dict):
        return d
    out = tuple(d[k] for k in names)
    return list(out) if isinstance(template, list) else out


# --------------------------------------------------------------------------- #
# MLP
# --------------------------------------------------------------------------- #
class NumpyMLP:
    """Fully connected network ``sizes[0] -> ... -> sizes[-1]``, ReLU between
    layers, softmax cross-entropy averaged over the batch.

    ``NumpyMLP(sizes=(784, 200, 10), rng=None, dtype=np.float32)``; parameters
    ``W1 (200, 784), b1 (200,), W2 (10, 200), b2 (10,)`` for the default sizes.
    """

    def __init__(self, sizes=(784, 200, 10), rng=None, dtype=np.float32):
        if rng is None:
            rng = np.random.default_rng(0)
        if len(sizes) < 2:
            raise ValueError("need at least an input and an output size")
        self.sizes = tuple(int(s) for s in sizes)
        self.dtype = np.dtype(dtype)
        self.n_layers = len(self.sizes) - 1
        self.names = []
        self.params = {}
        for l, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / np.sqrt(fan_in)
            self._add(f"W{l}", _uniform(rng, bound, (fan_out, fan_in), self.dtype))
            self._add(f"b{l}", _uniform(rng, bound, (fan_out,), self.dtype))

    def _add(self, name, value):
        self.names.append(name)
        self.params[name] = value
        setattr(self, name, value)

    def _Wb(self, l):
        return self.params[f"W{l}"], self.params[f"b{l}"]

    # -- forward ----------------------------------------------------------- #
    def _forward(self, x):
        """Returns the list of layer inputs A_0..A_{L-1}, ReLU masks, and logits."""
        a = x.reshape(x.shape[0], -1)
        acts, masks = [a], []
        for l in range(1, self.n_layers):
            W, b = self._Wb(l)
            z = a @ W.T + b
            mask = z > 0
            a = np.maximum(z, 0)
            masks.append(mask)
            acts.append(a)
        W, b = self._Wb(self.n_layers)
        logits = a @ W.T + b
        return acts, masks, logits

    def logits(self, x):
        return self._forward(x)[2]

    def loss(self, x, y):
        return softmax_cross_entropy(self._forward(x)[2], y)[0]

    # -- backward ---------------------------------------------------------- #
    def loss_and_grads(self, x, y):
        """Loss and gradients (dict name -> array) by batched backpropagation.

        delta_L = (softmax - onehot)/n;  dW_l = delta_lᵀ A_{l-1};  db_l = Σ delta_l;
        delta_{l-1} = (delta_l W_l) ⊙ [Z_{l-1} > 0].  No gradient w.r.t. x (data).
        """
        acts, masks, logits = self._forward(x)
        loss, p = softmax_cross_entropy(logits, y)
        delta = _delta_out(p, y)
        grads = {}
        for l in range(self.n_layers, 0, -1):
            W, _ = self._Wb(l)
            grads[f"W{l}"] = delta.T @ acts[l - 1]
            grads[f"b{l}"] = delta.sum(axis=0)
            if l > 1:
                delta = delta @ W
                delta *= masks[l - 2]
        return loss, {k: grads[k] for k in self.names}

    def sgd_step(self, x, y, lr):
        """One step of plain SGD (in-place update); returns the loss before it."""
        loss, grads = self.loss_and_grads(x, y)
        for k in self.names:
            self.params[k] -= lr * grads[k]
        return loss

    # -- Hessian-vector product -------------------------------------------- #
    def hvp(self, x, y, V):
        """Gradient and exact H·V by Pearlmutter's R-operator, written by hand.

        ``V`` has the parameters' structure: a dict ``{"W1": ..., "b1": ...}`` or
        a tuple/list in the order ``W1, b1, W2, b2, ...``. Returns
        ``(loss, grads, Hv)`` with ``grads`` and ``Hv`` in the structure of ``V``.

        One forward pass with its R-pass, one backward pass with its R-pass:
          R{Z_l} = R{A_{l-1}} W_lᵀ + A_{l-1} V_lᵀ + c_l   (R{A_0} = 0: x is data)
          R{A_l} = [Z_l > 0] ⊙ R{Z_l}
          R{p}   = p ⊙ (R{logits} − Σ_k p R{logits}),    R{delta_L} = R{p}/n
          R{dW_l} = R{delta_l}ᵀ A_{l-1} + delta_lᵀ R{A_{l-1}},  R{db_l} = Σ R{delta_l}
          R{dA_{l-1}} = R{delta_l} W_l + delta_l V_l,  R{delta_{l-1}} = R{dA_{l-1}} ⊙ [Z>0]
        """
        Vd = _as_dict(self.names, V)
        L = self.n_layers
        n = x.shape[0]
        a = x.reshape(n, -1)
        acts, masks, racts = [a], [], [None]  # None: R{A_0} = 0
        ra = None
        for l in range(1, L + 1):
            W, b = self._Wb(l)
            Vw, Vb = Vd[f"W{l}"], Vd[f"b{l}"]
            z = a @ W.T + b
            rz = a @ Vw.T + Vb
            if ra is not None:
                rz += ra @ W.T
            if l == L:
                logits, rlogits = z, rz
                break
            mask = z > 0
            a = np.maximum(z, 0)
            rz *= mask
            ra = rz
            masks.append(mask)
            acts.append(a)
            racts.append(ra)

        loss, p = softmax_cross_entropy(logits, y)
        # R{p} = p ⊙ (R{logits} − Σ p R{logits});  R{delta} = R{p}/n
        rdelta = rlogits - (p * rlogits).sum(axis=1, keepdims=True)
        rdelta *= p
        rdelta /= n
        delta = _delta_out(p, y)

        grads, Hv = {}, {}
        for l in range(L, 0, -1):
            W, _ = self._Wb(l)
            a_prev, ra_prev = acts[l - 1], racts[l - 1]
            grads[f"W{l}"] = delta.T @ a_prev
            grads[f"b{l}"] = delta.sum(axis=0)
            rdW = rdelta.T @ a_prev
            if ra_prev is not None:
                rdW += delta.T @ ra_prev
            Hv[f"W{l}"] = rdW
            Hv[f"b{l}"] = rdelta.sum(axis=0)
            if l > 1:
                mask = masks[l - 2]
                new_rdelta = rdelta @ W
                new_rdelta += delta @ Vd[f"W{l}"]
                new_rdelta *= mask
                delta = delta @ W
                delta *= mask
                rdelta = new_rdelta
        grads = {k: grads[k] for k in self.names}
        Hv = {k: Hv[k] for k in self.names}
        return loss, _like(self.names, V, grads), _like(self.names, V, Hv)


def hvp(model, x, y, V):
    """Function form of ``NumpyMLP.hvp``: returns ``(loss, grads, Hv)``."""
    return model.hvp(x, y, V)


# --------------------------------------------------------------------------- #
# CNN
# --------------------------------------------------------------------------- #
# Internal layout (C, H, W, N): batch innermost. Every spatial shift, pooling view
# and patch copy then moves contiguous runs of W*N (or N) values, which is what
# makes im2col / col2im fast in NumPy (the cuda-convnet layout). Inputs, weights
# and gradients are in PyTorch layouts; only activations use this order.

def _pad_hw(x, pad):
    """Zero-pad the two spatial axes of a (C, H, W, N) array."""
    C, H, W, N = x.shape
    out = np.zeros((C, H + 2 * pad, W + 2 * pad, N), dtype=x.dtype)
    out[:, pad:pad + H, pad:pad + W, :] = x
    return out


def _im2col(x, k, pad):
    """(C, H, W, N) -> patch matrix (C*k*k, Ho*Wo*N), stride 1.

    Rows are ordered (C, kh, kw), so a PyTorch weight (O, C, kh, kw) is matched by
    ``W.reshape(O, -1)`` and the convolution is one matmul giving (O, Ho*Wo*N).
    """
    if pad:
        x = _pad_hw(x, pad)
    patches = sliding_window_view(x, (k, k), axis=(1, 2))  # (C, Ho, Wo, N, k, k) view
    C, Ho, Wo, N = patches.shape[:4]
    cols = patches.transpose(0, 4, 5, 1, 2, 3).reshape(C * k * k, Ho * Wo * N)  # the copy
    return cols, (Ho, Wo)


def _col2im(dcols, x_shape, k, pad):
    """Adjoint of ``_im2col``: accumulate (C*k*k, Ho*Wo*N) back to (C, H, W, N),
    one shifted slab per kernel offset."""
    C, H, W, N = x_shape
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    d = dcols.reshape(C, k, k, Ho, Wo, N)
    dxp = np.zeros((C, H + 2 * pad, W + 2 * pad, N), dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + Ho, j:j + Wo, :] += d[:, i, j]
    return dxp[:, pad:pad + H, pad:pad + W, :] if pad else dxp


_POOL_OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _maxpool2_forward(a):
    """2x2 / stride-2 max-pool of (C, H, W, N): the max of the four strided views."""
    q = [a[:, i::2, j::2, :] for i, j in _POOL_OFFSETS]
    return np.maximum(np.maximum(q[0], q[1]), np.maximum(q[2], q[3]))


def _maxpool2_backward(g, a, m):
    """Route g (C, H/2, W/2, N) to the max of each 2x2 window of a (C, H, W, N).

    On ties only the first position in window order gets the gradient, as in PyTorch.
    """
    da = np.zeros_like(a)
    taken = None
    for i, j in _POOL_OFFSETS:
        hit = a[:, i::2, j::2, :] == m
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            taken |= hit
        da[:, i::2, j::2, :] = g * hit
    return da


class NumpyCNN:
    """Small CNN: [conv(k x k, stride 1, padding k//2) -> ReLU -> maxpool 2] per
    stage, then flatten -> linear -> softmax cross-entropy (mean over the batch).

    ``NumpyCNN(channels=(1, 8, 16), image_size=(28, 28), n_classes=10,
    kernel_size=3, rng=None, dtype=np.float32)``. Input ``(N, C, H, W)``.
    Parameters: ``W1 (8,1,3,3), b1, W2 (16,8,3,3), b2, W3 (10, 16*7*7), b3``.
    Convolution by im2col + one matmul; col2im by accumulating per kernel offset.
    Activations are kept as (C, H, W, N) internally; the flatten uses PyTorch's
    (C, H, W) order so ``W3`` matches ``nn.Linear`` after ``nn.Flatten``.
    """

    def __init__(self, channels=(1, 8, 16), image_size=(28, 28), n_classes=10,
                 kernel_size=3, rng=None, dtype=np.float32):
        if rng is None:
            rng = np.random.default_rng(0)
        if np.isscalar(image_size):
            image_size = (image_size, image_size)
        self.channels = tuple(int(c) for c in channels)
        self.k = int(kernel_size)
        if self.k % 2 == 0:
            raise ValueError("kernel_size must be odd ('same' padding k//2)")
        self.pad = self.k // 2
        self.dtype = np.dtype(dtype)
        self.n_conv = len(self.channels) - 1
        H, W = image_size
        for _ in range(self.n_conv):
            if H % 2 or W % 2:
                raise ValueError("image size must stay even through every pooling stage")
            H, W = H // 2, W // 2
        self.n_features = self.channels[-1] * H * W
        self.names, self.params = [], {}
        for l in range(1, self.n_conv + 1):
            cin, cout = self.channels[l - 1], self.channels[l]
            bound = 1.0 / np.sqrt(cin * self.k * self.k)
            self._add(f"W{l}", _uniform(rng, bound, (cout, cin, self.k, self.k), self.dtype))
            self._add(f"b{l}", _uniform(rng, bound, (cout,), self.dtype))
        l = self.n_conv + 1
        bound = 1.0 / np.sqrt(self.n_features)
        self._add(f"W{l}", _uniform(rng, bound, (n_classes, self.n_features), self.dtype))
        self._add(f"b{l}", _uniform(rng, bound, (n_classes,), self.dtype))

    _add = NumpyMLP._add

    def _forward(self, x):
        n = x.shape[0]
        a = x.transpose(1, 2, 3, 0)  # (N, C, H, W) -> (C, H, W, N) view; padding copies it
        cache = []
        for l in range(1, self.n_conv + 1):
            Wt, b = self.params[f"W{l}"], self.params[f"b{l}"]
            cols, (Ho, Wo) = _im2col(a, self.k, self.pad)
            z = Wt.reshape(Wt.shape[0], -1) @ cols + b[:, None]  # (O, Ho*Wo*N)
            mask = z > 0
            r = np.maximum(z, 0).reshape(-1, Ho, Wo, n)
            pooled = _maxpool2_forward(r)
            cache.append((a.shape, cols, mask, r, pooled))
            a = pooled
        feat = a.transpose(3, 0, 1, 2).reshape(n, -1)  # PyTorch flatten order (C, H, W)
        L = self.n_conv + 1
        logits = feat @ self.params[f"W{L}"].T + self.params[f"b{L}"]
        return logits, feat, a.shape, cache

    def logits(self, x):
        return self._forward(x)[0]

    def loss(self, x, y):
        return softmax_cross_entropy(self._forward(x)[0], y)[0]

    def loss_and_grads(self, x, y):
        """Loss and gradients (dict name -> array); no gradient w.r.t. x."""
        logits, feat, (c, h, w, n), cache = self._forward(x)
        loss, p = softmax_cross_entropy(logits, y)
        delta = _delta_out(p, y)
        L = self.n_conv + 1
        grads = {f"W{L}": delta.T @ feat, f"b{L}": delta.sum(axis=0)}
        g = (delta @ self.params[f"W{L}"]).reshape(n, c, h, w).transpose(1, 2, 3, 0)
        for l in range(self.n_conv, 0, -1):
            in_shape, cols, mask, r, pooled = cache[l - 1]
            Wt = self.params[f"W{l}"]
            Wm = Wt.reshape(Wt.shape[0], -1)
            dz = _maxpool2_backward(g, r, pooled).reshape(Wt.shape[0], -1)
            dz *= mask
            grads[f"W{l}"] = (dz @ cols.T).reshape(Wt.shape)
            grads[f"b{l}"] = dz.sum(axis=1)
            if l > 1:
                g = _col2im(Wm.T @ dz, in_shape, self.k, self.pad)
        return loss, {k: grads[k] for k in self.names}

    def sgd_step(self, x, y, lr):
        """One step of plain SGD (in-place update); returns the loss before it."""
        loss, grads = self.loss_and_grads(x, y)
        for k in self.names:
            self.params[k] -= lr * grads[k]
        return loss


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
def make_fashion_like_batch(n, rng, image_shape=(784,), n_classes=10, dtype=np.float32):
    """Random images in [0, 1) of shape ``(n, *image_shape)`` (dtype float32 by
    default) and int64 labels in ``[0, n_classes)``."""
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        x = rng.random((n, *image_shape), dtype=dtype)
    else:
        x = rng.random((n, *image_shape)).astype(dtype)
    y = rng.integers(0, n_classes, size=n, dtype=np.int64)
    return x, y
