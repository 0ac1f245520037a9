"""A CNN training step: this engine (nn + optim) against the hand-written NumPy
network (``benchmarks.numpy_baselines.NumpyCNN``: im2col by
``sliding_window_view`` + one matmul per layer, col2im by accumulation) and
against PyTorch eager (when importable), from the same weights, in one run,
interleaved.

The model: conv 3×3 1→8 (padding 1), ReLU, max-pool 2, conv 3×3 8→16
(padding 1), ReLU, max-pool 2, flatten, linear 784→10, softmax cross-entropy;
batch 64 of 28×28 float32 images, plain SGD. One step = zero_grad, forward,
backward, update. PyTorch runs with as many threads as NumPy's BLAS (one under
``OPENBLAS_NUM_THREADS=1``), so all three share the same cores.

Targets (issue "nn for arbitrary models", item 3): engine ≤ 1.0× the
hand-written NumPy step and ≤ 1.6× PyTorch. The same step compiled
(``ag.compile``, issue "Compile", item 5): no slower than PyTorch eager.

    python -m benchmarks.bench_conv [--quick]
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

import autograd_core as ag
import nn
import optim
from autograd_core import Tensor
from benchmarks.numpy_baselines import NumpyCNN, make_fashion_like_batch

BATCH = 64
TARGET_OVER_NUMPY = 1.0
TARGET_OVER_TORCH = 1.6
TARGET_COMPILED_OVER_TORCH = 1.0


def _engine_model():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
        counts = [d["num_threads"] for d in threadpool_info() if d.get("user_api") == "blas"]
        if counts:
            return int(counts[0])
    except ImportError:
        pass
    return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))


def _torch_model(ref, torch):
    m = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))
    with torch.no_grad():
        for p, name in zip(m.parameters(), ref.names):
            p.copy_(torch.from_numpy(ref.params[name].copy()))
    return m


def _steps(batches, lr, ref, torch):
    """One-step callables for each contender, each from the baseline's weights,
    and a function measuring how far they drift apart after one step."""
    def engine_step():
        model = _engine_model()
        for p, name in zip(model.parameters(), ref.names):
            p.data[...] = ref.params[name]
        opt = optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, step

    model, engine_step_fn = engine_step()
    compiled_model, compiled_step_fn = engine_step()
    compiled_step_fn = ag.compile(compiled_step_fn)
    engine_batches = [(Tensor(x), Tensor(y)) for x, y in batches]
    state = {"i": 0}

    def engine():
        engine_step_fn(*engine_batches[state["i"] % len(batches)])

    def compiled():
        compiled_step_fn(*engine_batches[state["i"] % len(batches)])

    def numpy_step():
        x, y = batches[state["i"] % len(batches)]
        ref.sgd_step(x, y, lr)

    cases = {"engine": engine, "compiled": compiled, "numpy": numpy_step}
    tmodel = None
    if torch is not None:
        tmodel = _torch_model(ref, torch)
        topt = torch.optim.SGD(tmodel.parameters(), lr=lr)
        tloss = torch.nn.CrossEntropyLoss()
        torch_batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

        def torch_step():
            x, y = torch_batches[state["i"] % len(batches)]
            topt.zero_grad()
            loss = tloss(tmodel(x), y)
            loss.backward()
            topt.step()

        cases["torch"] = torch_step

    def differences():
        """Largest parameter difference from the NumPy network (all started equal
        and took the same steps)."""
        out = {name: max(float(np.abs(p.data - ref.params[k]).max())
                         for p, k in zip(m.parameters(), ref.names))
               for name, m in (("engine", model), ("compiled", compiled_model))}
        if tmodel is not None:
            out["torch"] = max(float(np.abs(p.detach().numpy() - ref.params[k]).max())
                               for p, k in zip(tmodel.parameters(), ref.names))
        return out

    return cases, state, differences


def run(quick=False):
    try:
        import torch
    except ImportError:
        torch = None
    threads = _blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(2)
    ref = NumpyCNN((1, 8, 16), rng=rng, dtype=np.float32)
    batches = [make_fashion_like_batch(BATCH, rng, (1, 28, 28)) for _ in range(4)]
    cases, state, differences = _steps(batches, 0.01, ref, torch)
    for fn in cases.values():  # one identical step each, then compare
        fn()
    agreement = differences()
    rounds = 8 if quick else 60
    for _ in range(2):  # warm-up
        for fn in cases.values():
            fn()
    times = {name: [] for name in cases}
    for r in range(rounds):
        state["i"] = r
        for name, fn in cases.items():  # interleaved: load drifts affect all alike
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(ts)) for name, ts in times.items()}
    best = {name: float(np.min(ts)) for name, ts in times.items()}
    result = {
        "batch": BATCH, "rounds": rounds, "threads": threads,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "median_ms": {k: 1e3 * v for k, v in med.items()},
        "min_ms": {k: 1e3 * v for k, v in best.items()},
        "engine_over_numpy": med["engine"] / med["numpy"],
        "compiled_over_numpy": med["compiled"] / med["numpy"],
        "max_param_difference_after_one_step": agreement,
        "targets": {"engine_over_numpy": TARGET_OVER_NUMPY},
    }
    if "torch" in med:
        result["engine_over_torch"] = med["engine"] / med["torch"]
        result["numpy_over_torch"] = med["numpy"] / med["torch"]
        result["compiled_over_torch"] = med["compiled"] / med["torch"]
        result["targets"]["engine_over_torch"] = TARGET_OVER_TORCH
        result["targets"]["compiled_over_torch"] = TARGET_COMPILED_OVER_TORCH
    return result


def report(r):
    names = [n for n in ("engine", "compiled", "numpy", "torch") if n in r["median_ms"]]
    label = {"engine": "engine (nn + optim), eager", "compiled": "engine, ag.compile",
             "numpy": "hand-written NumPy (im2col)", "torch": "PyTorch eager"}
    lines = [f"CNN training step, conv(1→8)-ReLU-pool-conv(8→16)-ReLU-pool-linear, batch "
             f"{r['batch']}, float32, SGD; {r['rounds']} interleaved rounds, {r['threads']} "
             f"thread(s), load average {r['load_average']}",
             "",
             "| per step | median | min |", "|---|---|---|"]
    for n in names:
        lines.append(f"| {label[n]} | {r['median_ms'][n]:.2f} ms | {r['min_ms'][n]:.2f} ms |")
    lines += ["", "| ratio (medians) | this run | target |", "|---|---|---|",
              f"| engine / hand-written NumPy | {r['engine_over_numpy']:.2f} | "
              f"≤ {TARGET_OVER_NUMPY:g} |",
              f"| compiled / hand-written NumPy | {r['compiled_over_numpy']:.2f} | |"]
    if "engine_over_torch" in r:
        lines.append(f"| engine / PyTorch | {r['engine_over_torch']:.2f} | "
                     f"≤ {TARGET_OVER_TORCH:g} |")
        lines.append(f"| compiled / PyTorch | {r['compiled_over_torch']:.2f} | "
                     f"≤ {TARGET_COMPILED_OVER_TORCH:g} |")
        lines.append(f"| hand-written NumPy / PyTorch | {r['numpy_over_torch']:.2f} | |")
    diff = r["max_param_difference_after_one_step"]
    lines += ["", "Same start, one step: largest parameter difference from the NumPy network "
              + ", ".join(f"{k} {v:.1e}" for k, v in diff.items()) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run(quick="--quick" in sys.argv)))
