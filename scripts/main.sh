#!/usr/bin/env bash
# The main job: python -m autograd_apps.images (the `autograd-train` console
# script) in .venv, set up first; without arguments the textbook recipe.
# Arguments are passed through; runs from the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m autograd_apps.images "$@"
