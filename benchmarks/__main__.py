"""Run every benchmark, write the figures to benchmarks/results/latest.json and
a table to docs/benchmarks.md.

    python -m benchmarks              # everything (several minutes)
    python -m benchmarks --quick      # a smoke run with small sizes
    python -m benchmarks engine hvp   # only some suites

Each suite is a module ``benchmarks.bench_<name>`` with ``run(quick) -> dict``
and ``report(dict) -> str`` (a Markdown table). Figures are ratios against a
baseline measured in the same run, so they survive a noisy, shared machine
better than absolute times; the absolute times are recorded too.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

SUITES = ["engine", "hvp", "training", "conv", "compile"]
# targets that are lower bounds (a speed-up of at least ...); the rest are upper bounds
AT_LEAST = {"w6_eager_over_compiled"}
ROOT = Path(__file__).resolve().parent.parent


# The workloads' short names, as the issues and the tables use them.
WORKLOADS = """## Workloads

| name | what | suite |
|---|---|---|
| W1 | MLP 784-200-10 (ReLU, softmax cross-entropy), one SGD step on a batch of 100, float32 (W1c: the same step written with raw tensors, eager and `ag.compile`d, also in float64) | `engine`, `compile`, `training` |
| W2 | the per-op path: one elementwise op on 0-d tensors (and on 10 elements), forward and backward, in µs per op | `engine` |
| W3 | a chain of 200,000 scalar ops, forward and backward: time and peak memory | `engine` |
| W4 | a Hessian-vector product of W1's loss by the R-operator, against a gradient and a hand-written R-pass | `hvp` |
| W5 | a CNN training step: conv 1→8 and 8→16 3×3, ReLU, max-pool 2, linear, batch 64, float32, eager and compiled, against hand-written NumPy (im2col) and PyTorch | `conv` |
| W6 | a micrograd-style scalar MLP 2-8-8-1 (every weight a 0-d tensor, tanh, squared error over 4 samples, SGD), eager against compiled | `compile` |

Each is timed against its baseline in the same run; "hand-written NumPy" is
`benchmarks/numpy_baselines.py`, the same network written by hand.

"""


def _machine():
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: d.get(k) for k in ("internal_api", "num_threads", "architecture")}
                        for d in threadpool_info()]
    except ImportError:
        pass
    return info


def _targets_table(suites):
    """The issues' targets next to this run's figures."""
    rows = []
    engine, hvp, conv = suites.get("engine"), suites.get("hvp"), suites.get("conv")
    compiled = suites.get("compile")
    if engine:
        for name, (value, target) in engine["targets"].items():
            rows.append((name, value, target))
    if hvp:
        m = hvp["mlp_784_200_10"]
        rows.append(("hvp (forward-over-reverse) / engine gradient", m["hvp_fr_over_grad"], 2.0))
        rows.append(("hvp (forward-over-reverse) / hand-written R-operator", m["hvp_fr_over_hand_hvp"], 1.3))
    if conv:
        for name, target in conv["targets"].items():
            rows.append((f"CNN step {name.replace('_over_', ' / ')}", conv[name], target))
    if compiled:
        for name, (value, target) in compiled["targets"].items():
            rows.append((name, value, target))
    if not rows:
        return ""
    lines = ["## Targets\n", "| figure | this run | target | |", "|---|---|---|---|"]
    for name, value, target in rows:
        low = name in AT_LEAST
        met = value >= target if low else value <= target
        lines.append(f"| {name} | {value:.3g} | {'≥' if low else '≤'} {target:g} | "
                     f"{'met' if met else 'missed'} |")
    return "\n".join(lines) + "\n\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="*", default=SUITES, help=f"any of {SUITES}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; choose from {SUITES}")

    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
               "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
               "machine": _machine(), "quick": args.quick, "suites": {}}
    sections = []
    for name in args.suites:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        res = module.run(quick=args.quick)
        res["wall_seconds"] = time.perf_counter() - t0
        results["suites"][name] = res
        table = module.report(res)
        print(table, flush=True)
        sections.append(f"## {name}\n\n{table}\n")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float))
    if not args.quick:
        doc = Path(args.doc)
        doc.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Benchmark results\n\n"
            f"Produced by `{results['command'].strip()}` (or `bash scripts/bench.sh`) on "
            f"{results['date']}; machine: {results['machine'].get('cpus')} CPUs, Python "
            f"{results['machine']['python']}, NumPy {results['machine']['numpy']}, "
            f"OPENBLAS_NUM_THREADS={results['machine']['OPENBLAS_NUM_THREADS']}, load average "
            f"at start {results['machine'].get('load_average')}. Raw figures: "
            f"`{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}`.\n\n"
            "Ratios compare against a baseline timed in the same run (interleaved, best of "
            "several repeats). The machines are shared: absolute times drift, ratios less so.\n\n")
        doc.write_text(header + WORKLOADS + _targets_table(results["suites"]) + "\n".join(sections))
        print(f"wrote {out} and {doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
