#!/usr/bin/env bash
# The main job, in .venv, set up first. A first argument naming a job picks it:
#   bash scripts/main.sh [options]          the image job: python -m autograd_apps.images
#                                           (`autograd-train`); without options the
#                                           textbook recipe
#   bash scripts/main.sh images [options]   the same
#   bash scripts/main.sh charlm [options]   the character-level language models:
#                                           python -m autograd_apps.charlm (`autograd-charlm`)
# The other arguments are passed through; runs from the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOB=images
if [[ $# -gt 0 && ( "$1" == "images" || "$1" == "charlm" ) ]]; then
    JOB="$1"
    shift
fi
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m "autograd_apps.$JOB" "$@"
