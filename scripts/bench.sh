#!/usr/bin/env bash
# Benchmarks: python -m benchmarks in .venv (set up first), from the repository
# root so that the benchmarks/ folder is importable. Arguments are passed through.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m benchmarks "$@"
