"""NumPy kernels behind the convolution and pooling primitives of
``autograd_core.primitives`` (the table keeps the rules; the arithmetic lives here).

Arrays are ``(N, C, *spatial)`` with D ≥ 1 spatial axes; a geometry is given per
spatial axis: ``kernel`` K, ``stride`` s, ``padding`` as (lo, hi) pairs (zeros,
or −∞ for max-pooling, never materialised) and ``dilation`` d. Output size per
axis: Q = (S + lo + hi − d·(K − 1) − 1) // s + 1; tap i of output q reads input
q·s + i·d − lo.

Every loop here is over the kernel's *offsets* (9 for a 3×3 kernel), never over
pixels; each iteration is one strided NumPy operation on the whole batch. Three
algorithms, chosen by shape (measured on the benchmark CNN and on wider layers):

* ``im2col`` — copy the K shifted views into a patch array (N, G, C/G·K, L) and
  do one batched matmul. Good when the per-group channel count is small (the
  first layer of a CNN), and the only choice for strided convolutions. The
  copies go straight from the unpadded input into a zeroed patch array,
  which beats padding first and using ``sliding_window_view`` (one copy less).
* ``shift`` — for stride 1: pad once into a flat buffer (N, C, P); the tap at
  offset k is then a *contiguous* slice of it shifted by a constant, so the
  convolution is K matmuls (O, C)·(C, L) straight on the buffer, with no patch
  array, and the outputs of the padded width are cropped at the end (the
  columns past the valid width are garbage). Wins once the channels feeding
  the products reach about 8 (2 for the transposed convolution), see
  ``plan``.
* ``depthwise`` — one input and one output channel per group (depthwise
  convolutions, and pooling written as a convolution): K broadcast
  multiply-adds, on the shifted flat buffer when the stride is 1 (long
  contiguous rows: 2-4× faster than on 2-D views), else on strided views; a
  matmul with an inner dimension of 1 would only add call overhead.

``conv`` is y = W ⋆ x; ``conv_transpose`` is its adjoint in x (``col2im``, or for
stride 1 the same ``shift`` kernel on the cotangent with the kernel flipped and
transposed); ``conv_weight`` is its adjoint in W (a correlation of x with the
cotangent). Together they are closed under differentiation.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

__all__ = ["conv_output_size", "conv", "conv_transpose", "conv_weight", "max_pool",
           "pool_choice", "pool_positions", "pool_windows_inside", "plan"]

# When the shift algorithm pays (CPU time on the benchmark CNN's layers and on
# wider ones, 2 cores, one BLAS thread): its K products have the channels of
# one group as inner dimension — 1 is 20× slower than im2col, from 8 on it is
# level or ahead, and 2-4× ahead once im2col's patch array leaves the cache;
# it computes the padded width and crops, so narrow outputs (7 wide, padded
# 9) favour im2col. The transposed product needs only 2 channels to beat
# col2im's scattered accumulation.
SHIFT_MIN_CHANNELS = 8
SHIFT_MIN_CHANNELS_TRANSPOSE = 2
SHIFT_MAX_WIDTH_WASTE = 1.25


def conv_output_size(size, kernel, stride, padding, dilation):
    """Q = (S + lo + hi − d·(K − 1) − 1) // s + 1 per spatial axis."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(size, kernel, stride, padding, dilation))


@functools.lru_cache(maxsize=512)
def _axis_taps(n, q, k, s, lo, d):
    """Per kernel offset i along one axis: (output slice, input slice) of the
    outputs whose tap lands inside the input (0 ≤ q·s + i·d − lo < n), or None."""
    taps = []
    for i in range(k):
        first = max(0, -(-(lo - i * d) // s))            # ceil((lo − i·d) / s)
        last = min(q - 1, (n - 1 + lo - i * d) // s)
        if last < first:
            taps.append(None)
            continue
        start = first * s + i * d - lo
        taps.append((slice(first, last + 1), slice(start, start + (last - first) * s + 1, s)))
    return tuple(taps)


@functools.lru_cache(maxsize=512)
def _taps(size, out, kernel, stride, padding, dilation):
    """Every kernel offset (row-major) with at least one valid output:
    (offset index, offset tuple, output slices, input slices)."""
    per_axis = [_axis_taps(n, q, k, s, lo, d)
                for n, q, k, s, (lo, _), d in zip(size, out, kernel, stride, padding, dilation)]
    result = []
    for flat, offset in enumerate(itertools.product(*[range(k) for k in kernel])):
        parts = [per_axis[a][i] for a, i in enumerate(offset)]
        if any(p is None for p in parts):
            continue
        result.append((flat, offset, tuple(p[0] for p in parts), tuple(p[1] for p in parts)))
    return tuple(result)


_ALL2 = (slice(None), slice(None))


def _unit(stride):
    return all(s == 1 for s in stride)


def plan(kind, x_shape, w_shape, stride, padding, dilation, groups):
    """The algorithm for ``kind`` ('conv', 'transpose' or 'weight') of a
    convolution of an (N, C, *S) input ``x_shape`` with an (O, C/G, *K) weight:
    'depthwise', 'shift' or 'im2col' (see the module docstring)."""
    out_per_group = w_shape[0] // groups
    in_per_group = w_shape[1]
    if in_per_group == 1 and out_per_group == 1:
        return "depthwise"
    if not _unit(stride):
        return "im2col"
    if kind == "transpose":
        return "shift" if out_per_group >= SHIFT_MIN_CHANNELS_TRANSPOSE else "im2col"
    size, kernel = x_shape[2:], w_shape[2:]
    grid = [n + lo + hi for n, (lo, hi) in zip(size, padding)]
    out = conv_output_size(size, kernel, stride, padding, dilation)
    waste = math.prod(grid[1:]) / max(1, math.prod(out[1:]))
    if in_per_group >= SHIFT_MIN_CHANNELS and waste <= SHIFT_MAX_WIDTH_WASTE:
        return "shift"
    return "im2col"


# ---------------------------------------------------------------------------
# Helpers: patches, flat padded buffers
# ---------------------------------------------------------------------------

def _im2col(x, kernel, out, stride, padding, dilation):
    """Patch array (N, C, *K, *Q): entry [n, c, i…, q…] = x_pad[n, c, q·s + i·d]."""
    taps = _taps(x.shape[2:], out, kernel, stride, padding, dilation)
    padded = any(lo or hi for lo, hi in padding)
    cols = (np.zeros if padded else np.empty)(x.shape[:2] + kernel + out, dtype=x.dtype)
    for _, offset, qs, ts in taps:
        cols[_ALL2 + offset + qs] = x[_ALL2 + ts]
    return cols


def _col2im(cols, size, kernel, out, stride, padding, dilation):
    """The adjoint of ``_im2col``: (N, C, *K, *Q) summed back to (N, C, *size)."""
    taps = _taps(size, out, kernel, stride, padding, dilation)
    x = np.zeros(cols.shape[:2] + tuple(size), dtype=cols.dtype)
    for _, offset, qs, ts in taps:
        x[_ALL2 + ts] += cols[_ALL2 + offset + qs]
    return x


def _flat_buffer(x, pads, tail):
    """``x`` (N, C, *S) placed into zeros of the padded grid S + lo + hi (a
    negative pad crops), flattened over the grid, with ``tail`` zeros after it."""
    grid = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    size = math.prod(grid)
    buf = np.zeros(x.shape[:2] + (size + tail,), dtype=x.dtype)
    dst = [slice(max(lo, 0), max(lo, 0) + n - max(-lo, 0) - max(-hi, 0))
           for n, (lo, hi) in zip(x.shape[2:], pads)]
    src = [slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape[2:], pads)]
    buf[..., :size].reshape(x.shape[:2] + grid)[_ALL2 + tuple(dst)] = x[_ALL2 + tuple(src)]
    return buf, grid


def _grid_strides(grid):
    """Element strides of a C-ordered array of shape ``grid``."""
    strides = [1] * len(grid)
    for a in range(len(grid) - 2, -1, -1):
        strides[a] = strides[a + 1] * grid[a + 1]
    return strides


def _shift_offsets(kernel, dilation, grid):
    """Flat offset of every kernel tap in the padded grid, and the tail of zeros
    the last tap reads past the grid."""
    st = _grid_strides(grid)
    offsets = [sum(i * d * t for i, d, t in zip(offset, dilation, st))
               for offset in itertools.product(*[range(k) for k in kernel])]
    tail = sum((k - 1) * d * t for k, d, t in zip(kernel[1:], dilation[1:], st[1:]))
    return offsets, tail


def _shift_correlate(buf, grid, w, dilation, out, groups, b=None):
    """b + Σ_k W_k · buf[…, off_k : off_k + Lf] on the flat padded buffer (stride 1):
    (N, G·Og, *out) as a view cropped from the padded-width result."""
    n = buf.shape[0]
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    og = o // groups
    offsets, _ = _shift_offsets(kernel, dilation, grid)
    length = out[0] * math.prod(grid[1:])
    xg = buf.reshape(n, groups, cg, buf.shape[-1])
    wk = w.reshape(groups, og, cg, math.prod(kernel))
    # one channel in and out per group: a broadcast product, not N·G 1×1 matmuls
    product = np.multiply if cg == og == 1 else np.matmul
    res = np.empty((n, groups, og, length), dtype=np.result_type(buf, w))
    tmp = np.empty_like(res) if len(offsets) > 1 else None
    for k, off in enumerate(offsets):
        product(wk[..., k], xg[..., off:off + length], out=res if k == 0 else tmp)
        if k:
            res += tmp
    res = res.reshape((n, o, out[0]) + grid[1:])
    _add_bias(res, b)  # on the contiguous buffer, before cropping
    return res[(Ellipsis,) + tuple(slice(0, q) for q in out[1:])] if len(out) > 1 else res


def _add_bias(y, b):
    if b is not None:
        y += b.reshape((-1,) + (1,) * (y.ndim - 2))
    return y


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------

def conv(x, w, b=None, *, stride, padding, dilation, groups):
    """y[n, o, q] = b[o] + Σ_{c ∈ group(o), i} W[o, c, i] · x_pad[n, c, q·s + i·d]."""
    kernel = w.shape[2:]
    out = conv_output_size(x.shape[2:], kernel, stride, padding, dilation)
    how = plan("conv", x.shape, w.shape, stride, padding, dilation, groups)
    n = x.shape[0]
    o, cg = w.shape[:2]
    dt = np.result_type(x, w)
    if how == "shift" or (how == "depthwise" and _unit(stride)):
        offsets, tail = _shift_offsets(kernel, dilation,
                                       tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)))
        buf, grid = _flat_buffer(x, padding, tail)
        return _shift_correlate(buf, grid, w, dilation, out, groups, b)
    if how == "depthwise":
        y = np.zeros((n, o) + out, dtype=dt)
        for flat, _, qs, ts in _taps(x.shape[2:], out, kernel, stride, padding, dilation):
            wk = w.reshape(o, math.prod(kernel))[:, flat].reshape((1, o) + (1,) * len(out))
            y[_ALL2 + qs] += x[_ALL2 + ts] * wk
        return _add_bias(y, b)
    cols = _im2col(x, kernel, out, stride, padding, dilation)
    cols = cols.reshape(n, groups, cg * math.prod(kernel), math.prod(out))
    y = np.matmul(w.reshape(groups, o // groups, cg * math.prod(kernel)), cols)
    return _add_bias(y.reshape((n, o) + out), b)


def conv_transpose(g, w, b=None, *, stride, padding, dilation, groups, size):
    """The adjoint of ``conv`` in x, for an input of spatial ``size``:
    x̄[n, c, t] = b[c] + Σ_{o, i : t = q·s + i·d − lo} W[o, c, i] · g[n, o, q]."""
    kernel = w.shape[2:]
    out = g.shape[2:]
    o, cg = w.shape[:2]
    og = o // groups
    n = g.shape[0]
    size = tuple(size)
    how = plan("transpose", (n, cg * groups) + size, w.shape, stride, padding, dilation, groups)
    dt = np.result_type(g, w)
    if how == "shift" or (how == "depthwise" and _unit(stride)):
        # x̄ = (flipped, transposed W) ⋆ g placed on a grid of S + d·(K − 1).
        pads = [(d * (k - 1) - lo, s + lo - q)
                for s, q, k, (lo, _), d in zip(size, out, kernel, padding, dilation)]
        grid = tuple(s + d * (k - 1) for s, k, d in zip(size, kernel, dilation))
        _, tail = _shift_offsets(kernel, dilation, grid)
        buf, grid = _flat_buffer(g, pads, tail)
        flip = (slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)
        wt = w.reshape((groups, og, cg) + kernel).swapaxes(1, 2).reshape((groups * cg, og) + kernel)
        return _shift_correlate(buf, grid, wt[flip], dilation, size, groups, b)
    if how == "depthwise":
        x = np.zeros((n, o) + size, dtype=dt)
        for flat, _, qs, ts in _taps(size, out, kernel, stride, padding, dilation):
            wk = w.reshape(o, math.prod(kernel))[:, flat].reshape((1, o) + (1,) * len(out))
            x[_ALL2 + ts] += g[_ALL2 + qs] * wk
        return _add_bias(x, b)
    wt = w.reshape(groups, og, cg * math.prod(kernel)).swapaxes(1, 2)  # (G, Cg·K, Og)
    cols = np.matmul(wt, g.reshape(n, groups, og, math.prod(out)))    # (N, G, Cg·K, L)
    cols = cols.reshape((n, groups * cg) + kernel + out)
    return _add_bias(_col2im(cols, size, kernel, out, stride, padding, dilation), b)


def conv_weight(x, g, *, stride, padding, dilation, groups, size):
    """The adjoint of ``conv`` in W, for a kernel of spatial ``size``:
    W̄[o, c, i] = Σ_{n, q} g[n, o, q] · x_pad[n, c, q·s + i·d]."""
    kernel = tuple(size)
    out = g.shape[2:]
    n, c = x.shape[:2]
    o = g.shape[1]
    cg, og = c // groups, o // groups
    how = plan("weight", x.shape, (o, cg) + kernel, stride, padding, dilation, groups)
    dt = np.result_type(x, g)
    if how == "shift" or (how == "depthwise" and _unit(stride)):
        grid = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
        offsets, tail = _shift_offsets(kernel, dilation, grid)
        buf, grid = _flat_buffer(x, padding, tail)
        # g on the same padded-width grid, zero in the cropped columns
        gfull, _ = _flat_buffer(g, [(0, 0)] + [(0, s - q) for s, q in zip(grid[1:], out[1:])], 0)
        length = gfull.shape[-1]
        gg = gfull.reshape(n, groups, og, length)
        xg = buf.reshape(n, groups, cg, buf.shape[-1])
        dw = np.empty((o, cg, len(offsets)), dtype=dt)
        for k, off in enumerate(offsets):
            if how == "depthwise":  # per channel, one dot product of long rows
                dw[:, 0, k] = np.einsum("nal,nal->a", gg[:, :, 0], xg[:, :, 0, off:off + length])
                continue
            prod = np.matmul(gg, xg[..., off:off + length].swapaxes(-1, -2))  # (N, G, Og, Cg)
            dw[:, :, k] = prod.sum(axis=0).reshape(o, cg)
        return dw.reshape((o, cg) + kernel)
    if how == "depthwise":
        dw = np.zeros((o, math.prod(kernel)), dtype=dt)
        axes = (0,) + tuple(range(2, g.ndim))
        for flat, _, qs, ts in _taps(x.shape[2:], out, kernel, stride, padding, dilation):
            dw[:, flat] = (g[_ALL2 + qs] * x[_ALL2 + ts]).sum(axis=axes)
        return dw.reshape((o, 1) + kernel)
    cols = _im2col(x, kernel, out, stride, padding, dilation)
    cols = cols.reshape(n, groups, cg * math.prod(kernel), math.prod(out))
    prod = np.matmul(g.reshape(n, groups, og, math.prod(out)), cols.swapaxes(-1, -2))  # (N, G, Og, Cg·K)
    return prod.sum(axis=0).reshape((o, cg) + kernel)


# ---------------------------------------------------------------------------
# Max-pooling: the window maxima, and where each came from
# ---------------------------------------------------------------------------

def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool(x, *, kernel, stride, padding, dilation):
    """y[n, c, q] = max_i x_pad[n, c, q·s + i·d], the padding being −∞ (it never wins)."""
    out = conv_output_size(x.shape[2:], kernel, stride, padding, dilation)
    y = None
    for _, _, qs, ts in _taps(x.shape[2:], out, kernel, stride, padding, dilation):
        full = all(s.start == 0 and s.stop == q for s, q in zip(qs, out))
        if y is None and full:
            y = x[_ALL2 + ts].copy()
            continue
        if y is None:
            y = np.full(x.shape[:2] + out, _lowest(x.dtype), dtype=x.dtype)
        part = y[_ALL2 + qs]
        np.maximum(part, x[_ALL2 + ts], out=part)  # propagates NaN
    if y is None:  # every window lies in the padding
        y = np.full(x.shape[:2] + out, _lowest(x.dtype), dtype=x.dtype)
    return y


def pool_windows_inside(size, out, kernel, stride, padding, dilation):
    """Which windows have at least one tap inside the input (a boolean array of
    the output's spatial shape), or None if all do. A window wholly in the
    padding gives −∞ and, as in PyTorch, passes no gradient."""
    masks = []
    for n, q, k, s, (lo, _), d in zip(size, out, kernel, stride, padding, dilation):
        inside = np.zeros(q, dtype=bool)
        for tap in _axis_taps(n, q, k, s, lo, d):
            if tap is not None:
                inside[tap[0]] = True
        masks.append(inside)
    if all(m.all() for m in masks):
        return None
    grid = masks[0]
    for m in masks[1:]:
        grid = np.logical_and.outer(grid, m)
    return grid


def pool_choice(x, y, *, kernel, stride, padding, dilation):
    """Which tap (flat offset index) each window's maximum ``y`` came from, as
    PyTorch decides: the first maximum in window order; in a window holding
    NaN, the last NaN. Taps in the padding never win.

    Boolean arithmetic on whole views (``np.where`` and masked ``copyto`` are
    several times slower): a tap wins where it equals the maximum and no
    earlier tap did."""
    out = y.shape[2:]
    taps = _taps(x.shape[2:], out, kernel, stride, padding, dilation)
    choice = np.zeros(y.shape, dtype=np.min_scalar_type(math.prod(kernel)))
    found = np.zeros(y.shape, dtype=bool)
    for flat, _, qs, ts in taps:
        hit = x[_ALL2 + ts] == y[_ALL2 + qs]
        done = found[_ALL2 + qs]
        np.greater(hit, done, out=hit)          # hit and not done
        done |= hit
        if flat:
            choice[_ALL2 + qs] += hit * choice.dtype.type(flat)
    if y.dtype.kind == "f" and np.isnan(y).any():
        for flat, _, qs, ts in taps:            # the last NaN writes last
            np.copyto(choice[_ALL2 + qs], flat, where=np.isnan(x[_ALL2 + ts]))
    return choice


def pool_positions(x, y, *, kernel, stride, padding, dilation):
    """Flat indices into ``x`` of the elements the maxima ``y`` came from
    (``pool_choice`` turned into positions: window corner plus tap offset; 0 for
    a window wholly in the padding, see ``pool_windows_inside``)."""
    choice = pool_choice(x, y, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    size = x.shape[2:]
    st = _grid_strides(size)
    taps = np.array([sum(i * d * t for i, d, t in zip(offset, dilation, st))
                     for offset in itertools.product(*[range(k) for k in kernel])], dtype=np.intp)
    corner = np.arange(x.shape[0] * x.shape[1], dtype=np.intp).reshape(
        x.shape[:2] + (1,) * len(size)) * math.prod(size)
    for a, (q, s, (lo, _), t) in enumerate(zip(y.shape[2:], stride, padding, st)):
        shape = [1] * (len(size) + 2)
        shape[a + 2] = q
        corner = corner + ((np.arange(q, dtype=np.intp) * s - lo) * t).reshape(shape)
    positions = taps[choice] + corner
    inside = pool_windows_inside(size, y.shape[2:], kernel, stride, padding, dilation)
    if inside is not None:
        positions = np.where(inside, positions, 0)
    return positions.ravel()
