#!/usr/bin/env bash
# Command 1 of the README: install everything bst-lab needs, then run the notebook series headless.
#   bash scripts/setup.sh            # ML-1M, downloaded into data/ on first use
#   BST_DATASET=ml-100k BST_DATA_DIR=/path/with/ml-100k-folder bash scripts/setup.sh
# Steps: npm packages (npm ci), Jupyter (Debian/Ubuntu packages when missing and apt is usable), the tslab
# kernel registered inside the project (.jupyter/, not your global Jupyter), then every notebook in order.
# Executed notebooks and HTML exports go to build/ (git-ignored). Set BST_SKIP_NOTEBOOKS=1 to install only.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== setup: %s\n' "$*"; }

# 1. Node.js >= 20.19 (require() of ES modules, which arquero is, is on by default from 20.19).
if ! command -v node >/dev/null; then
  echo "setup: Node.js is missing: install Node.js 20.19 or newer (https://nodejs.org or your package manager)" >&2
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  echo "setup: Node.js $(node --version) is too old: bst-lab needs 20.19 or newer" >&2
  exit 1
}

# 2. npm packages. tfjs-node-gpu is optional: where its libtensorflow download fails, npm skips it.
say "npm ci"
npm ci --no-audit --no-fund

# 3. Jupyter (classic notebook + nbclient + nbconvert) for the headless run.
PY=${BST_PYTHON:-}
has_jupyter() { "$1" -c 'import nbclient, nbconvert, nbformat, jupyter_client' >/dev/null 2>&1; }
if [ -z "$PY" ]; then
  for cand in /usr/bin/python3 python3; do
    if command -v "$cand" >/dev/null && has_jupyter "$cand"; then PY=$(command -v "$cand"); break; fi
  done
fi
if [ -z "$PY" ]; then
  pkgs="jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client"
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    say "installing Jupyter from Debian/Ubuntu packages: $pkgs"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
    PY=/usr/bin/python3
  else
    cat >&2 <<MSG
setup: Jupyter is missing and apt-get is not usable here. Install it, then run this again:
  Debian/Ubuntu:  sudo apt-get install $pkgs
  elsewhere:      python3 -m pip install jupyterlab nbclient nbconvert
  (a Python other than python3 on PATH: BST_PYTHON=/path/to/python bash scripts/setup.sh)
MSG
    exit 1
  fi
fi
has_jupyter "$PY" || { echo "setup: $PY still cannot import nbclient/nbconvert" >&2; exit 1; }

# 3b. Chromium: the browser checks of `npm test` (command 2) draw every chart in headless Chromium.
CHROMIUM=${BST_CHROMIUM:-/usr/bin/chromium}
can_apt() { command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; }
apt_install() {
  local SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if [ ! -x "$CHROMIUM" ]; then
  if can_apt; then
    say "installing Chromium (Debian/Ubuntu package chromium) for the browser checks of npm test"
    apt_install chromium || { echo "setup: apt-get install chromium failed; install Chromium and set BST_CHROMIUM=/path/to/chromium" >&2; exit 1; }
  else
    cat >&2 <<MSG
setup: Chromium is missing at $CHROMIUM and apt-get is not usable here; npm test's browser checks need it.
  Debian/Ubuntu:  sudo apt-get install chromium
  elsewhere:      install Chromium and set BST_CHROMIUM=/path/to/chromium
MSG
    exit 1
  fi
fi

# 3c. JupyterLab where the platform packages it (Debian does not: there `jupyter notebook notebooks/` is the
# interactive command, from the classic notebook installed above).
if ! "$PY" -c 'import jupyterlab' >/dev/null 2>&1; then
  lab_pkg=""
  if command -v apt-cache >/dev/null; then
    for p in jupyterlab python3-jupyterlab; do
      if apt-cache show "$p" >/dev/null 2>&1; then lab_pkg=$p; break; fi
    done
  fi
  if [ -n "$lab_pkg" ] && can_apt; then
    say "installing JupyterLab ($lab_pkg)"
    apt_install "$lab_pkg" || echo "setup: JupyterLab ($lab_pkg) did not install; use jupyter notebook notebooks/" >&2
  else
    say "JupyterLab is not packaged here: open the notebooks with  jupyter notebook notebooks/"
  fi
fi

# 4. The tslab kernel, registered inside the project.
say "registering the tslab kernel in .jupyter/ (python: $PY)"
node_modules/.bin/tslab install --python="$PY" --binary="$PWD/node_modules/.bin/tslab" --prefix="$PWD/.jupyter" >/dev/null

# 5. The notebook series, headless, in order.
if [ "${BST_SKIP_NOTEBOOKS:-0}" = 1 ]; then
  say "done (BST_SKIP_NOTEBOOKS=1: notebooks not run)"
  exit 0
fi
say "running the notebooks (dataset ${BST_DATASET:-ml-1m}, data folder ${BST_DATA_DIR:-data/})"
"$PY" scripts/run_notebooks.py --out build
say "done: executed notebooks in build/notebooks, HTML in build/html"
