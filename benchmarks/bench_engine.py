"""Engine benchmarks: per-op overhead, deep chains, one MLP training step.

Every figure is a ratio against a baseline measured in the same run
(interleaved, best of several repeats), because these machines are shared
and absolute times drift with load.

    python -m benchmarks.bench_engine            # full
    python -m benchmarks.bench_engine --quick    # smoke run
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from benchmarks.numpy_baselines import NumpyMLP, make_fashion_like_batch

TARGETS = {
    "per_op_fwd_bwd_0d_us": 8.0,
    "chain_200k_seconds": 2.0,
    "chain_200k_peak_mb": 150.0,
    "mlp_step_ratio": 1.10,
}


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def per_op_overhead(shape, n_ops, repeats):
    """µs per op (y = y * c) forward and backward, and a bare NumPy multiply on
    the same operands as a yardstick for how fast this machine is right now."""
    c = Tensor(np.full(shape, 1.0000001))
    times = {"forward": float("inf"), "backward": float("inf"), "numpy_multiply": float("inf")}
    for _ in range(repeats):
        x = Tensor(np.ones(shape), requires_grad=True)
        y = x
        t0 = time.perf_counter()
        for _ in range(n_ops):
            y = y * c
        t1 = time.perf_counter()
        (y.sum() if shape else y).backward()
        t2 = time.perf_counter()
        a, b = np.ones(shape), np.full(shape, 1.0000001)
        for _ in range(n_ops):
            a = a * b
        t3 = time.perf_counter()
        times["forward"] = min(times["forward"], (t1 - t0) / n_ops * 1e6)
        times["backward"] = min(times["backward"], (t2 - t1) / n_ops * 1e6)
        times["numpy_multiply"] = min(times["numpy_multiply"], (t3 - t2) / n_ops * 1e6)
    times["forward_plus_backward"] = times["forward"] + times["backward"]
    return times


_CHAIN_SCRIPT = """
import resource, sys, time, tracemalloc
import autograd_core as ag
n = int(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
x = ag.Tensor(1.0, requires_grad=True)
y = x
for _ in range(n):
    y = y * 1.0000001
y.backward()
elapsed = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, peak, (after - before) * 1024)
"""


def deep_chain(n_ops):
    """A chain of n scalar multiplies, forward + backward, in a fresh process:
    seconds, peak traced Python memory and growth of peak RSS (bytes)."""
    out = subprocess.run([sys.executable, "-c", _CHAIN_SCRIPT, str(n_ops)],
                         capture_output=True, text=True, check=True)
    peak = float(out.stdout.split()[1])
    # tracemalloc slows allocation and adds its own memory: time the chain and
    # read the peak RSS in a second run without it
    timing = subprocess.run(
        [sys.executable, "-c", _CHAIN_SCRIPT.replace("tracemalloc.start()", "")
         .replace("peak = tracemalloc.get_traced_memory()[1]", "peak = 0")
         .replace("tracemalloc.stop()", ""), str(n_ops)],
        capture_output=True, text=True, check=True)
    elapsed, _, rss = (float(v) for v in timing.stdout.split())
    return {"ops": n_ops, "seconds": elapsed, "peak_traced_mb": peak / 1e6,
            "peak_rss_growth_mb": rss / 1e6}


class EngineMLP:
    """The same network as NumpyMLP, written with the engine's Tensor ops."""

    def __init__(self, ref: NumpyMLP):
        self.params = [Tensor(ref.params[k].copy(), requires_grad=True) for k in ref.names]

    def sgd_step(self, x, y, lr):
        W1, b1, W2, b2 = self.params
        h = ag.linear(x, W1, b1).relu()
        logits = ag.linear(h, W2, b2)
        loss = -logits.log_softmax(axis=1)[np.arange(len(y)), y].mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        for p in self.params:
            p.data -= lr * p.grad.data
        return loss


def mlp_step(batch, repeats, steps):
    rng = np.random.default_rng(0)
    ref = NumpyMLP((784, 200, 10), rng=rng, dtype=np.float32)
    eng = EngineMLP(ref)
    x, y = make_fashion_like_batch(batch, rng, (784,))
    xt = Tensor(x)
    # same start, same steps: the engine must agree with the hand-written one
    for _ in range(3):
        ref.sgd_step(x, y, 0.1)
        eng.sgd_step(xt, y, 0.1)
    agree = max(float(np.max(np.abs(p.data - ref.params[k])))
                for p, k in zip(eng.params, ref.names))
    t_np = t_ag = float("inf")
    for _ in range(repeats):  # interleaved so both see the same machine load
        t_np = min(t_np, _best(lambda: [ref.sgd_step(x, y, 0.01) for _ in range(steps)], 1) / steps)
        t_ag = min(t_ag, _best(lambda: [eng.sgd_step(xt, y, 0.01) for _ in range(steps)], 1) / steps)
    return {"numpy_ms": t_np * 1e3, "engine_ms": t_ag * 1e3, "ratio": t_ag / t_np,
            "max_param_difference_after_3_steps": agree}


def run(quick=False):
    repeats = 3 if quick else 7
    results = {
        "per_op_0d": per_op_overhead((), 2_000 if quick else 20_000, repeats),
        "per_op_10": per_op_overhead((10,), 2_000 if quick else 20_000, repeats),
        "chain": deep_chain(20_000 if quick else 200_000),
        "mlp_step": mlp_step(100, repeats, 5 if quick else 20),
    }
    results["targets"] = {
        "per_op_fwd_bwd_0d_us": (results["per_op_0d"]["forward_plus_backward"],
                                 TARGETS["per_op_fwd_bwd_0d_us"]),
        "chain_200k_seconds": (results["chain"]["seconds"], TARGETS["chain_200k_seconds"]),
        "chain_200k_peak_mb": (results["chain"]["peak_rss_growth_mb"], TARGETS["chain_200k_peak_mb"]),
        "mlp_step_ratio": (results["mlp_step"]["ratio"], TARGETS["mlp_step_ratio"]),
    }
    return results


def report(results):
    lines = ["| benchmark | figure |", "|---|---|"]
    for key in ("per_op_0d", "per_op_10"):
        r = results[key]
        lines.append(f"| {key}: forward / backward / sum (µs per op) | {r['forward']:.2f} / "
                     f"{r['backward']:.2f} / {r['forward_plus_backward']:.2f} "
                     f"(bare NumPy multiply: {r['numpy_multiply']:.2f}) |")
    c = results["chain"]
    lines.append(f"| chain of {c['ops']:,} scalar ops, forward + backward | {c['seconds']:.2f} s, "
                 f"peak RSS growth {c['peak_rss_growth_mb']:.0f} MB "
                 f"(traced {c['peak_traced_mb']:.0f} MB) |")
    m = results["mlp_step"]
    lines.append(f"| MLP 784-200-10 SGD step, batch 100, float32 | engine {m['engine_ms']:.3f} ms, "
                 f"hand-written NumPy {m['numpy_ms']:.3f} ms: ratio {m['ratio']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    print(report(res))
    print(json.dumps(res["targets"], indent=1))
