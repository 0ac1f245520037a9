#!/usr/bin/env bash
# Train / demo entry point: python -m autograd_core.train in .venv (set up first).
# Arguments are passed through; runs from the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m autograd_core.train "$@"
