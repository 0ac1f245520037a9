#!/usr/bin/env bash
# Run the test suite in .venv (set up first). Extra arguments go to pytest,
# e.g.  bash scripts/test.sh -m 'not slow'   or   bash scripts/test.sh -n 0 -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"

# pytest runs two workers on this 2-core class of machine; two BLAS threads
# each would oversubscribe the cores (OpenBLAS then slows down many-fold).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

rc=0
"$ROOT/.venv/bin/python" -m pytest -n 2 -q "$@" || rc=$?
if [[ "$rc" -eq 5 ]]; then
    echo "test.sh: ERROR: pytest collected no tests (exit 5); treating as a failure" >&2
    exit 1
fi
exit "$rc"
