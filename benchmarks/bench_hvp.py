"""Hessian-vector products: cost relative to a gradient, and the exact Hessian.

For the MLP 784-200-10 (ReLU, softmax cross-entropy averaged over a batch of
100, float32) as a function of all its W = 159,010 parameters, in one run:

* one gradient by the engine (forward + ``backward()``),
* one H v by forward-over-reverse (``functional.hvp``: Pearlmutter's R-operator),
* one H v by reverse-over-reverse (``functional.hvp(method='reverse-over-reverse')``),
* the hand-written NumPy gradient and R-operator (``benchmarks.numpy_baselines``),

each the median of interleaved repeated timings after warm-up, and the ratios
hvp / gradient and hvp / hand-written hvp. Targets (issue 3): forward-over-
reverse hvp ≤ 2× the engine's gradient and ≤ 1.3× the hand-written R-operator.

Then the exact Hessian of a small network (4-8-3, tanh, softmax cross-entropy,
W = 67, float64) by W Hessian-vector products, in seconds and in gradients.

    python -m benchmarks.bench_hvp [--quick] [--json PATH]

Timings on a shared machine are noisy; ``OPENBLAS_NUM_THREADS=1`` makes them
steadier (and the CPU-time figures meaningful). The thread settings are
recorded with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import autograd_core.curvature as C
import autograd_core.functional as F
from autograd_core import Tensor
from benchmarks.numpy_baselines import NumpyMLP, make_fashion_like_batch

TARGET_HVP_OVER_GRAD = 2.0
TARGET_HVP_OVER_HAND = 1.3


def _interleaved_medians(cases, repeats, warmup, stats=None):
    """Median wall-clock seconds per case; the cases take turns so that
    drifting machine load affects all of them alike. If ``stats`` is a dict,
    it also receives per case the minimum wall time and the median CPU time
    of this process (steadier on a shared machine when BLAS runs one thread)."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    wall = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    if stats is not None:
        stats["wall_min"] = {name: float(np.min(ts)) for name, ts in wall.items()}
        stats["cpu_median"] = {name: float(np.median(ts)) for name, ts in cpu.items()}
    return {name: float(np.median(ts)) for name, ts in wall.items()}


def _mlp_case(sizes=(784, 200, 10), batch=100, seed=0):
    rng = np.random.default_rng(seed)
    model = NumpyMLP(sizes=sizes, rng=rng, dtype=np.float32)
    x, y = make_fashion_like_batch(batch, rng, image_shape=(sizes[0],), n_classes=sizes[-1])
    X = Tensor(x)
    onehot = np.eye(sizes[-1], dtype=np.float32)[y]
    scale = np.float32(1.0 / batch)

    def loss(W1, b1, W2, b2):
        h = (X @ W1.T + b1).relu()
        z = h @ W2.T + b2
        return -(z.log_softmax(axis=1) * onehot).sum() * scale

    params = tuple(model.params[k] for k in model.names)
    V = tuple(rng.standard_normal(p.shape).astype(np.float32) for p in params)
    return model, x, y, loss, params, V


def _check_agreement(model, x, y, loss, params, V):
    """The three routes compute the same H v (float32 rounding aside)."""
    _, _, hand = model.hvp(x, y, V)
    _, fr = F.hvp(loss, params, V)
    _, rr = F.hvp(loss, params, V, method="reverse-over-reverse")
    scale = max(float(np.abs(h).max()) for h in hand)
    return max(max(float(np.abs(a.data - h).max()), float(np.abs(b.data - h).max()))
               for a, b, h in zip(fr, rr, hand)) / scale


def _mlp_cases(sizes=(784, 200, 10), batch=100):
    model, x, y, loss, params, V = _mlp_case(sizes, batch)
    leaves = [Tensor(p, requires_grad=True) for p in params]

    def engine_grad():
        for p in leaves:
            p.grad = None
        loss(*leaves).backward()

    cases = {
        "grad_engine": engine_grad,
        "grad_functional": lambda: F.grad(loss, params),
        "hvp_forward_over_reverse": lambda: F.hvp(loss, params, V),
        "hvp_reverse_over_reverse": lambda: F.hvp(loss, params, V, method="reverse-over-reverse"),
        "grad_numpy": lambda: model.loss_and_grads(x, y),
        "hvp_numpy": lambda: model.hvp(x, y, V),
    }
    return cases, (model, x, y, loss, params, V)


def bench_mlp(quick=False):
    cases, (model, x, y, loss, params, V) = _mlp_cases()
    extra = {}
    t = _interleaved_medians(cases, repeats=5 if quick else 40, warmup=2 if quick else 5, stats=extra)
    W = sum(p.size for p in params)
    cpu = extra["cpu_median"]
    return {
        "W": int(W),
        "seconds": t,
        "seconds_wall_min": extra["wall_min"],
        "seconds_cpu_median": cpu,
        "cpu_hvp_fr_over_grad": cpu["hvp_forward_over_reverse"] / cpu["grad_engine"],
        "cpu_hvp_fr_over_hand_hvp": cpu["hvp_forward_over_reverse"] / cpu["hvp_numpy"],
        "hvp_fr_over_grad": t["hvp_forward_over_reverse"] / t["grad_engine"],
        "hvp_rr_over_grad": t["hvp_reverse_over_reverse"] / t["grad_engine"],
        "hvp_fr_over_hand_hvp": t["hvp_forward_over_reverse"] / t["hvp_numpy"],
        "hvp_rr_over_hand_hvp": t["hvp_reverse_over_reverse"] / t["hvp_numpy"],
        "hand_hvp_over_hand_grad": t["hvp_numpy"] / t["grad_numpy"],
        "grad_engine_over_hand_grad": t["grad_engine"] / t["grad_numpy"],
        "max_rel_diff_vs_hand_hvp": _check_agreement(model, x, y, loss, params, V),
    }


def bench_fixed_overhead(quick=False):
    """The same graph on a tiny network (8-4-2, batch 2), where arithmetic is
    negligible: what remains is the per-call cost of the interpreter (the
    engine's bookkeeping per primitive, or the hand-written code's)."""
    cases, _ = _mlp_cases(sizes=(8, 4, 2), batch=2)
    t = _interleaved_medians(cases, repeats=10 if quick else 60, warmup=5)
    return {"sizes": "8-4-2, batch 2", "seconds": t}


def _small_case(sizes=(4, 8, 3), batch=32, seed=1):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(Tensor(rng.uniform(-1, 1, (n_out, n_in)) / np.sqrt(n_in), requires_grad=True))
        params.append(Tensor(rng.uniform(-1, 1, n_out) / np.sqrt(n_in), requires_grad=True))
    X = Tensor(rng.standard_normal((batch, sizes[0])))
    onehot = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]

    def loss_fn():
        z = X
        for i in range(0, len(params), 2):
            z = z @ params[i].T + params[i + 1]
            if i + 2 < len(params):
                z = z.tanh()
        return -(z.log_softmax(axis=1) * onehot).sum() * (1.0 / batch)

    return params, loss_fn


def bench_exact_hessian(quick=False):
    params, loss_fn = _small_case()
    W = sum(p.size for p in params)

    def grad():
        return C.loss_and_grad(loss_fn, params)

    cases = {
        "grad": grad,
        "hvp": lambda: C.hessian_vector_product(loss_fn, params, np.ones(W)),
        "hessian_forward_over_reverse": lambda: C.exact_hessian(loss_fn, params),
        "hessian_reverse_over_reverse": lambda: C.exact_hessian(loss_fn, params, method="reverse-over-reverse"),
    }
    t = _interleaved_medians(cases, repeats=3 if quick else 11, warmup=1)
    H = C.exact_hessian(loss_fn, params)
    return {
        "sizes": "4-8-3",
        "W": int(W),
        "seconds": t,
        "hessian_fr_in_grads": t["hessian_forward_over_reverse"] / t["grad"],
        "hessian_rr_in_grads": t["hessian_reverse_over_reverse"] / t["grad"],
        "hvp_in_grads": t["hvp"] / t["grad"],
        "symmetry_error": float(np.abs(H - H.T).max()),
    }


def run(quick=False):
    """All figures as a dict (times in seconds); prints a small table."""
    mlp = bench_mlp(quick)
    fixed = bench_fixed_overhead(quick)
    small = bench_exact_hessian(quick)
    share = {k: fixed["seconds"][k] / mlp["seconds"][k] for k in ("grad_engine", "hvp_forward_over_reverse",
                                                                   "hvp_numpy")}
    fixed["share_of_mlp_time"] = share
    result = {
        "mlp_784_200_10": mlp,
        "fixed_overhead_same_graph_tiny_net": fixed,
        "exact_hessian_small": small,
        "targets": {
            "hvp_fr_over_grad<=2.0": mlp["hvp_fr_over_grad"] <= TARGET_HVP_OVER_GRAD,
            "hvp_fr_over_hand_hvp<=1.3": mlp["hvp_fr_over_hand_hvp"] <= TARGET_HVP_OVER_HAND,
        },
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            "quick": bool(quick),
        },
    }
    return result


def report(r):
    """The figures as preformatted text (for docs/benchmarks.md)."""
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        _print(r)
    return "```\n" + buf.getvalue() + "```"


def _print(r):
    m, s = r["mlp_784_200_10"], r["exact_hessian_small"]
    t = m["seconds"]
    print(f"MLP 784-200-10, batch 100, float32, W = {m['W']:,} (median seconds)")
    rows = [
        ("gradient, engine", t["grad_engine"], 1.0),
        ("gradient, functional.grad", t["grad_functional"], t["grad_functional"] / t["grad_engine"]),
        ("hvp forward-over-reverse", t["hvp_forward_over_reverse"], m["hvp_fr_over_grad"]),
        ("hvp reverse-over-reverse", t["hvp_reverse_over_reverse"], m["hvp_rr_over_grad"]),
        ("gradient, hand-written NumPy", t["grad_numpy"], t["grad_numpy"] / t["grad_engine"]),
        ("hvp, hand-written R-operator", t["hvp_numpy"], t["hvp_numpy"] / t["grad_engine"]),
    ]
    print(f"  {'':32s} {'ms':>8s} {'/ engine grad':>14s}")
    for name, sec, ratio in rows:
        print(f"  {name:32s} {sec * 1e3:8.3f} {ratio:14.2f}")
    ok = r["targets"]
    print(f"  hvp(fwd-over-rev) / engine grad  = {m['hvp_fr_over_grad']:.2f}  (target <= 2.0: "
          f"{'met' if ok['hvp_fr_over_grad<=2.0'] else 'MISSED'})")
    print(f"  hvp(fwd-over-rev) / hand R-op    = {m['hvp_fr_over_hand_hvp']:.2f}  (target <= 1.3: "
          f"{'met' if ok['hvp_fr_over_hand_hvp<=1.3'] else 'MISSED'})")
    print(f"  hvp(rev-over-rev) / hand R-op    = {m['hvp_rr_over_hand_hvp']:.2f}")
    print(f"  hand R-op / hand gradient        = {m['hand_hvp_over_hand_grad']:.2f}")
    print(f"  engine grad / hand gradient      = {m['grad_engine_over_hand_grad']:.2f}")
    print(f"  (CPU-time medians: hvp/grad {m['cpu_hvp_fr_over_grad']:.2f}, "
          f"hvp/hand R-op {m['cpu_hvp_fr_over_hand_hvp']:.2f})")
    print(f"  max relative difference of H v from the hand-written one: {m['max_rel_diff_vs_hand_hvp']:.1e}")
    f = r["fixed_overhead_same_graph_tiny_net"]
    fs = f["seconds"]
    print(f"Same graph on a {f['sizes']} network (per-call overhead, arithmetic negligible):")
    print(f"  engine gradient {fs['grad_engine'] * 1e3:.3f} ms, engine hvp {fs['hvp_forward_over_reverse'] * 1e3:.3f} ms, "
          f"hand R-op {fs['hvp_numpy'] * 1e3:.3f} ms  (engine hvp: "
          f"{f['share_of_mlp_time']['hvp_forward_over_reverse']:.0%} of its 784-200-10 time)")
    st = s["seconds"]
    print(f"Exact Hessian, {s['sizes']} tanh + softmax CE, batch 32, float64, W = {s['W']}")
    print(f"  gradient {st['grad'] * 1e3:.3f} ms, one hvp {st['hvp'] * 1e3:.3f} ms "
          f"({s['hvp_in_grads']:.2f} gradients)")
    print(f"  forward-over-reverse: {st['hessian_forward_over_reverse'] * 1e3:.1f} ms "
          f"= {s['hessian_fr_in_grads']:.0f} gradients")
    print(f"  reverse-over-reverse: {st['hessian_reverse_over_reverse'] * 1e3:.1f} ms "
          f"= {s['hessian_rr_in_grads']:.0f} gradients")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    ap.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = ap.parse_args(argv)
    result = run(quick=args.quick)
    _print(result)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
