#!/usr/bin/env bash
# Benchmarks: python -m benchmarks in .venv (set up first), from the repository
# root so that the benchmarks/ folder is importable. Arguments are passed through.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
# One BLAS thread unless told otherwise: the engine and its NumPy baselines then
# do the same arithmetic on one core, and the ratios measure the engine's own
# cost instead of how two BLAS threads fight other work on a shared 2-core box.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$ROOT/.venv/bin/python" -m benchmarks "$@"
