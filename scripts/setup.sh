#!/usr/bin/env bash
# Set up everything the project needs on a fresh Debian machine, idempotently:
#   - Debian packages: graphviz (`dot`, for autograd_core.viz),
#     dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist/) and
#     wamerican (the English word list /usr/share/dict/words, for autograd_apps.charlm)
#   - .venv/ in the repo, with the project installed editable plus the
#     [test,notebooks,docs] extras, and a `python3` Jupyter kernel for nbclient.
# A second run is fast: pip is skipped while .venv/.setup-stamp is up to date.
# Environment: PYTHON (default python3) picks the interpreter for a new venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
STAMP="$VENV/.setup-stamp"
PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(graphviz dataset-fashion-mnist wamerican)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Run a noisy command with its output in a log; show the log only on failure.
quietly() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "command failed: $*"
    fi
    rm -f "$log"
}

# ---------------------------------------------------------------- privileges
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=(__no_sudo__)
fi

APT_UPDATED=0
apt_install() {
    [[ "${SUDO[0]:-}" == "__no_sudo__" ]] &&
        die "need root or sudo to install Debian packages: $*"
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found; install these by hand: $*"
    if [[ "$APT_UPDATED" -eq 0 ]]; then
        say "apt-get update"
        quietly "${SUDO[@]}" apt-get update -q
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    quietly "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@"
}

deb_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# ------------------------------------------------------------ Debian packages
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    deb_installed "$pkg" || missing+=("$pkg")
done
if [[ "${#missing[@]}" -gt 0 ]]; then
    apt_install "${missing[@]}"
fi
command -v dot >/dev/null 2>&1 || die "graphviz is installed but 'dot' is not on PATH"

# -------------------------------------------------------------------- python
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found on PATH (need Python >= 3.10)"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    die "$(command -v "$PYTHON") is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); this project needs Python >= 3.10 (set PYTHON=/path/to/python3.x)"
fi

venv_ok() {
    [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys, pip' >/dev/null 2>&1
}

if ! venv_ok; then
    rm -rf "$VENV"
    say "creating .venv with $(command -v "$PYTHON") ($("$PYTHON" -c 'import platform; print(platform.python_version())'))"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian's own python3 ships venv/ensurepip separately.
        apt_install python3-venv
        quietly "$PYTHON" -m venv "$VENV"
    fi
    venv_ok || die "could not create a working virtual environment in $VENV"
fi

# ---------------------------------------------------------- python packages
# setuptools' editable install maps the top-level packages it finds at install
# time, so a package that gains its __init__.py later needs a reinstall: the
# stamp records which ones existed.
pkg_state() {
    local p
    for p in autograd_core nn optim autograd_apps; do
        [[ -f "$p/__init__.py" ]] && printf '%s\n' "$p"
    done
    return 0
}

need_install=1
if [[ -f "$STAMP" && "$STAMP" -nt pyproject.toml && "$STAMP" -nt "$ROOT/scripts/setup.sh" ]] &&
    [[ "$(cat "$STAMP")" == "$(pkg_state)" ]]; then
    need_install=0
fi

if [[ "$need_install" -eq 1 ]]; then
    state="$(pkg_state)"  # taken before pip runs, in case a package appears meanwhile
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
    say "upgrading pip"
    quietly "$VENV/bin/python" -m pip install -q --upgrade pip
    say "pip install -e '.[test,notebooks,docs]'"
    quietly "$VENV/bin/python" -m pip install -q -e '.[test,notebooks,docs]'
    printf '%s\n' "$state" >"$STAMP"
fi

# ------------------------------------------------------------ jupyter kernel
# nbclient runs notebooks with the kernel named in their metadata ('python3');
# pin that name to this venv's interpreter, inside the venv.
KERNEL_JSON="$VENV/share/jupyter/kernels/python3/kernel.json"
if ! grep -qF "\"$VENV/bin/python" "$KERNEL_JSON" 2>/dev/null; then
    say "registering Jupyter kernel 'python3' in .venv"
    quietly "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 \
        --display-name "Python 3 (autograd_core)"
fi

say "ready: $("$VENV/bin/python" -c 'import sys, numpy; print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}")')"
