#!/usr/bin/env bash
# Build the documentation site into site/ with `mkdocs build --strict`: any
# warning (a broken link, a missing page or anchor, a reference that cannot be
# resolved) fails the build. Sets up .venv first (scripts/setup.sh installs
# the `docs` extra). Extra arguments go to `mkdocs build`, e.g.
#   bash scripts/docs.sh --site-dir /tmp/site
# Serve it while editing with  .venv/bin/mkdocs serve
set -euo pipefail
for arg in "$@"; do
    if [[ "$arg" == "-q" || "$arg" == "--quiet" ]]; then
        echo "docs.sh: not with $arg: it hides the warnings that --strict counts, so a broken" \
             "link would pass" >&2
        exit 2
    fi
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"  # mkdocs.yml names the hooks and the Griffe extension by paths from here

# NO_MKDOCS_2_WARNING: mkdocs-material's banner about its end of life.
export NO_MKDOCS_2_WARNING=1 OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec "$ROOT/.venv/bin/python" -m mkdocs build --strict "$@"
