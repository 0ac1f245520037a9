#!/usr/bin/env bash
# Build the site, serve it on localhost and look at it in headless Chromium:
# screenshots of the home page, the Tensor reference and a notebook, and checks
# that the Tensor page lists its methods and the notebook page shows its
# images and typeset equations. Prints a report; exits non-zero on a failure.
# Not part of the test suite (it needs Chromium; Debian's package is installed
# if missing). Arguments go to scripts/docs_check.py (e.g. --out DIR).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v chromium >/dev/null 2>&1; then
    [[ "$(id -u)" -eq 0 ]] && SUDO=() || SUDO=(sudo)
    echo "docs_check: installing Debian's chromium" >&2
    if ! apt-cache show chromium >/dev/null 2>&1; then
        "${SUDO[@]}" apt-get update -q >/dev/null
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends chromium >/dev/null
fi

bash "$ROOT/scripts/docs.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/docs_check.py" --site "$ROOT/site" "$@"
