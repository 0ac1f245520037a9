"""Compiled against eager against hand-written NumPy, in one run.

W1c  MLP 784-200-10 SGD step, batch 100 (float32 and float64): the step
     written with raw tensors, eager and ``ag.compile``d, against
     ``NumpyMLP.sgd_step``; and the same step through ``nn`` + ``optim``.
W6   a micrograd-style scalar MLP (2-8-8-1, every weight a 0-d tensor, tanh,
     squared error over 4 samples, SGD): eager against compiled.
mem  peak traced memory of one MLP step, eager against compiled.

Every figure is a ratio against a baseline timed in the same run, interleaved,
best of several repeats.

    python -m benchmarks.bench_compile [--quick]
"""
from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

import autograd_core as ag
from autograd_core import Tensor
from benchmarks.numpy_baselines import NumpyMLP, make_fashion_like_batch

TARGETS = {
    "compiled_mlp_f32_over_numpy": 0.85,
    "compiled_mlp_f64_over_numpy": 0.95,
    "w6_eager_over_compiled": 10.0,     # at least
}


def _best(fn, repeats, inner):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


def _raw_step(params, lr):
    W1, b1, W2, b2 = params

    def step(x, y):
        h = ag.linear(x, W1, b1).relu()
        logits = ag.linear(h, W2, b2)
        loss = -logits.log_softmax(axis=1)[np.arange(len(y)), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss
    return step


def mlp(dtype, repeats, inner):
    import nn
    import optim
    rng = np.random.default_rng(0)
    ref = NumpyMLP((784, 200, 10), rng=rng, dtype=dtype)
    x, y = make_fashion_like_batch(100, rng, (784,))
    x = x.astype(dtype)
    params = [Tensor(ref.params[k].copy(), requires_grad=True) for k in ref.names]
    eager = _raw_step(params, 0.01)
    comp = ag.compile(_raw_step([Tensor(p.data.copy(), requires_grad=True) for p in params], 0.01))
    # the same program with its large products split over two threads (the
    # machine's two cores; NumPy's BLAS itself keeps one thread)
    comp2 = ag.compile(_raw_step([Tensor(p.data.copy(), requires_grad=True) for p in params],
                                 0.01), options={"threads": 2})
    model = nn.Sequential(nn.Linear(784, 200, dtype=dtype), nn.ReLU(),
                          nn.Linear(200, 10, dtype=dtype))
    opt = optim.SGD(model.parameters(), lr=0.01)

    def nn_step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    nn_comp = ag.compile(nn_step)
    xt, yt = Tensor(x), Tensor(y)
    # warm up, and check that the compiled step is the eager step
    for _ in range(3):
        eager(xt, yt)
        comp(x, y)
        comp2(x, y)
        nn_step(xt, yt)
        nn_comp(x, y)
    agree = float(abs(eager(xt, yt).item() - comp(x, y).item()))
    t = {"numpy": float("inf"), "eager": float("inf"), "compiled": float("inf"),
         "compiled_2threads": float("inf"), "nn_eager": float("inf"),
         "nn_compiled": float("inf")}
    for _ in range(repeats):
        t["numpy"] = min(t["numpy"], _best(lambda: ref.sgd_step(x, y, 0.01), 1, inner))
        t["eager"] = min(t["eager"], _best(lambda: eager(xt, yt), 1, inner))
        t["compiled"] = min(t["compiled"], _best(lambda: comp(x, y), 1, inner))
        t["compiled_2threads"] = min(t["compiled_2threads"], _best(lambda: comp2(x, y), 1, inner))
        t["nn_eager"] = min(t["nn_eager"], _best(lambda: nn_step(xt, yt), 1, inner))
        t["nn_compiled"] = min(t["nn_compiled"], _best(lambda: nn_comp(x, y), 1, inner))
    out = {k + "_ms": v * 1e3 for k, v in t.items()}
    out.update(eager_over_numpy=t["eager"] / t["numpy"],
               compiled_over_numpy=t["compiled"] / t["numpy"],
               compiled_2threads_over_numpy=t["compiled_2threads"] / t["numpy"],
               nn_eager_over_raw_eager=t["nn_eager"] / t["eager"],
               nn_compiled_over_numpy=t["nn_compiled"] / t["numpy"],
               loss_difference_compiled_vs_eager=agree,
               program=repr(comp.last_program))
    return out


def scalar_mlp(repeats, inner):
    """W6: micrograd's style, every weight a 0-d tensor."""
    rng = np.random.default_rng(0)
    sizes = (2, 8, 8, 1)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append([([Tensor(rng.uniform(-1, 1), requires_grad=True) for _ in range(fan_in)],
                        Tensor(0.0, requires_grad=True)) for _ in range(fan_out)])
    params = [p for layer in layers for ws, b in layer for p in ws + [b]]
    X = rng.standard_normal((4, 2))
    Y = np.array([1.0, -1.0, -1.0, 1.0])

    def step(xs, ys):
        loss = 0.0
        for n in range(4):
            a = [xs[n, 0], xs[n, 1]]
            for k, layer in enumerate(layers):
                outs = []
                for ws, b in layer:
                    act = b
                    for w, ai in zip(ws, a):
                        act = act + w * ai
                    outs.append(act.tanh() if k < len(layers) - 1 else act)
                a = outs
            loss = loss + (a[0] - ys[n]) ** 2
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        return loss

    comp = ag.compile(step)
    xt, yt = Tensor(X), Tensor(Y)
    snapshot = [p.data.copy() for p in params]
    comp(X, Y)
    comp(X, Y)
    t = {"eager": float("inf"), "compiled": float("inf")}
    for _ in range(repeats):
        t["eager"] = min(t["eager"], _best(lambda: step(xt, yt), 1, inner))
        t["compiled"] = min(t["compiled"], _best(lambda: comp(X, Y), 1, inner))
    for p, s in zip(params, snapshot):
        p.data = s
    return {"eager_ms": t["eager"] * 1e3, "compiled_ms": t["compiled"] * 1e3,
            "eager_over_compiled": t["eager"] / t["compiled"], "params": len(params),
            "instructions": comp.last_program.n_instructions}


def peak_memory():
    rng = np.random.default_rng(0)
    ref = NumpyMLP((784, 200, 10), rng=rng, dtype=np.float32)
    x, y = make_fashion_like_batch(100, rng, (784,))
    params = [Tensor(ref.params[k].copy(), requires_grad=True) for k in ref.names]
    eager = _raw_step(params, 0.01)
    comp = ag.compile(_raw_step(params, 0.01))
    xt, yt = Tensor(x), Tensor(y)
    comp(x, y)
    out = {}
    for name, fn in (("eager", lambda: eager(xt, yt)), ("compiled", lambda: comp(x, y))):
        fn()
        tracemalloc.start()
        fn()
        out[name + "_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    # the compiled step's buffers live between calls: they count against it
    out["planned_buffers_mb"] = comp.last_program.arena_bytes / 1e6
    out["compiled_total_mb"] = out["compiled_peak_mb"] + out["planned_buffers_mb"]
    return out


def run(quick=False):
    repeats, inner = (2, 3) if quick else (7, 20)
    results = {"mlp_f32": mlp(np.float32, repeats, inner),
               "mlp_f64": mlp(np.float64, repeats, inner),
               "w6": scalar_mlp(2 if quick else 5, 1 if quick else 5),
               "memory": peak_memory()}
    results["targets"] = {
        "compiled_mlp_f32_over_numpy": (results["mlp_f32"]["compiled_over_numpy"],
                                        TARGETS["compiled_mlp_f32_over_numpy"]),
        "compiled_mlp_f64_over_numpy": (results["mlp_f64"]["compiled_over_numpy"],
                                        TARGETS["compiled_mlp_f64_over_numpy"]),
        "compiled_mlp_f32_over_numpy_threads2": (
            results["mlp_f32"]["compiled_2threads_over_numpy"],
            TARGETS["compiled_mlp_f32_over_numpy"]),
        "w6_eager_over_compiled": (results["w6"]["eager_over_compiled"],
                                   TARGETS["w6_eager_over_compiled"]),
        "compiled_mlp_f64_over_numpy_threads2": (
            results["mlp_f64"]["compiled_2threads_over_numpy"],
            TARGETS["compiled_mlp_f64_over_numpy"]),
        # the arena counts: it is the compiled step's memory, held between calls
        "compiled_memory_over_eager_peak": (results["memory"]["compiled_total_mb"]
                                            / results["memory"]["eager_peak_mb"], 1.0),
    }
    return results


def report(r):
    lines = ["| workload | hand-written NumPy | eager | compiled | eager ÷ NumPy | compiled ÷ NumPy |",
             "|---|---|---|---|---|---|"]
    for key, label in (("mlp_f32", "W1c MLP 784-200-10 step, float32"),
                       ("mlp_f64", "W1c MLP 784-200-10 step, float64")):
        m = r[key]
        lines.append(f"| {label}, raw tensors | {m['numpy_ms']:.3f} ms | {m['eager_ms']:.3f} ms | "
                     f"{m['compiled_ms']:.3f} ms | {m['eager_over_numpy']:.2f} | "
                     f"{m['compiled_over_numpy']:.2f} |")
        lines.append(f"| {label}, raw tensors, compiled with threads=2 | | | "
                     f"{m['compiled_2threads_ms']:.3f} ms | | "
                     f"{m['compiled_2threads_over_numpy']:.2f} |")
        lines.append(f"| {label}, nn + optim | | {m['nn_eager_ms']:.3f} ms | "
                     f"{m['nn_compiled_ms']:.3f} ms | {m['nn_eager_ms'] / m['numpy_ms']:.2f} | "
                     f"{m['nn_compiled_over_numpy']:.2f} |")
    w = r["w6"]
    lines.append(f"| W6 scalar MLP 2-8-8-1 ({w['params']} 0-d parameters), one step | | "
                 f"{w['eager_ms']:.2f} ms | {w['compiled_ms']:.3f} ms | eager ÷ compiled "
                 f"{w['eager_over_compiled']:.1f} | |")
    mem = r["memory"]
    lines.append("")
    lines.append(f"Memory of one MLP step (float32): eager's traced peak {mem['eager_peak_mb']:.2f} MB; "
                 f"compiled, {mem['compiled_total_mb']:.2f} MB = its arena of planned buffers "
                 f"{mem['planned_buffers_mb']:.2f} MB (allocated once, held between calls) + "
                 f"{mem['compiled_peak_mb']:.2f} MB traced during the call. nn + optim over raw tensors, eager: "
                 f"{r['mlp_f32']['nn_eager_over_raw_eager']:.3f} (float32).")
    return "\n".join(lines)


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    print(report(res))
