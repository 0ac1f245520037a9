"""Training throughput: an nn/optim MLP epoch and a small CNN per 1,000 images,
each against the hand-written NumPy network (benchmarks/numpy_baselines.py)
started from the same weights, timed in the same run, interleaved.

    python -m benchmarks.bench_training [--quick]
"""
from __future__ import annotations

import sys
import time

import numpy as np

import nn
import optim
from autograd_core import Tensor
from benchmarks.numpy_baselines import NumpyCNN, NumpyMLP, make_fashion_like_batch


def _load_into(model, ref):
    """Copy the baseline's parameters (same layouts) into the nn model."""
    for p, name in zip(model.parameters(), ref.names):
        p.data[...] = ref.params[name]


def _mlp_pair(rng):
    ref = NumpyMLP((784, 200, 10), rng=rng, dtype=np.float32)
    model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    _load_into(model, ref)
    return ref, model


def _cnn_pair(rng):
    ref = NumpyCNN((1, 8, 16), rng=rng, dtype=np.float32)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    _load_into(model, ref)
    return ref, model


def _engine_steps(model, batches, lr):
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    def run():
        for x, y in batches:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        return loss
    return run


def _numpy_steps(ref, batches, lr):
    raw = [(x.data, y) for x, y in batches]

    def run():
        for x, y in raw:
            loss = ref.sgd_step(x, y, lr)
        return loss
    return run


def _interleaved(fa, fb, repeats):
    ta = tb = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fa()
        t1 = time.perf_counter()
        fb()
        t2 = time.perf_counter()
        ta, tb = min(ta, t1 - t0), min(tb, t2 - t1)
    return ta, tb


def _agreement(ref, model, x, y, lr):
    """One step each from the same weights: the largest parameter difference."""
    _engine_steps(model, [(Tensor(x), y)], lr)()
    ref.sgd_step(x, y, lr)
    return max(float(np.abs(p.data - ref.params[k]).max()) for p, k in zip(model.parameters(), ref.names))


def bench_mlp(quick):
    rng = np.random.default_rng(0)
    ref, model = _mlp_pair(rng)
    n_batches = 20 if quick else 100
    batches = [(Tensor(x), y) for x, y in (make_fashion_like_batch(100, rng, (784,)) for _ in range(n_batches))]
    agree = _agreement(ref, model, batches[0][0].data, batches[0][1], 0.01)
    t_eng, t_np = _interleaved(_engine_steps(model, batches, 0.01), _numpy_steps(ref, batches, 0.01),
                               3 if quick else 5)
    per_epoch = 60_000 / (100 * n_batches)
    return {"batch": 100, "batches_timed": n_batches,
            "engine_epoch_seconds": t_eng * per_epoch, "numpy_epoch_seconds": t_np * per_epoch,
            "ratio": t_eng / t_np, "max_param_difference_after_one_step": agree}


def bench_cnn(quick):
    rng = np.random.default_rng(1)
    ref, model = _cnn_pair(rng)
    n_batches = 3 if quick else 10
    batches = [(Tensor(x), y) for x, y in
               (make_fashion_like_batch(100, rng, (1, 28, 28)) for _ in range(n_batches))]
    agree = _agreement(ref, model, batches[0][0].data, batches[0][1], 0.01)
    t_eng, t_np = _interleaved(_engine_steps(model, batches, 0.01), _numpy_steps(ref, batches, 0.01),
                               2 if quick else 3)
    per_1000 = 1000 / (100 * n_batches)
    return {"batch": 100, "images_timed": 100 * n_batches,
            "engine_seconds_per_1000_images": t_eng * per_1000,
            "numpy_seconds_per_1000_images": t_np * per_1000,
            "ratio": t_eng / t_np, "max_param_difference_after_one_step": agree}


def run(quick=False):
    return {"mlp_784_200_10": bench_mlp(quick), "cnn_2conv": bench_cnn(quick)}


def report(r):
    m, c = r["mlp_784_200_10"], r["cnn_2conv"]
    return "\n".join([
        "| training, SGD, batch 100, float32 | engine (nn + optim) | hand-written NumPy | ratio |",
        "|---|---|---|---|",
        f"| MLP 784-200-10, one 60k-image epoch | {m['engine_epoch_seconds']:.2f} s | "
        f"{m['numpy_epoch_seconds']:.2f} s | {m['ratio']:.2f} |",
        f"| CNN conv(1→8)-pool-conv(8→16)-pool-linear, per 1,000 images | "
        f"{c['engine_seconds_per_1000_images']:.3f} s | {c['numpy_seconds_per_1000_images']:.3f} s | "
        f"{c['ratio']:.2f} |",
        "",
        f"Same start, one step: largest parameter difference engine vs NumPy "
        f"{m['max_param_difference_after_one_step']:.1e} (MLP), "
        f"{c['max_param_difference_after_one_step']:.1e} (CNN).",
    ])


if __name__ == "__main__":
    print(report(run(quick="--quick" in sys.argv)))
