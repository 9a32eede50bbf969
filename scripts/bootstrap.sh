#!/usr/bin/env bash
# Sets everything up from a fresh clone: system packages (PostgreSQL + PostGIS + pgvector,
# Chromium), then the Python environment with the project installed (editable, with the
# test extras). Idempotent and quick when nothing changed. Prints nothing but progress.
#
#   In a conda environment (CONDA_PREFIX set, e.g. from environment.yml) the packages go
#   into that environment; otherwise into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

if [ -n "${CONDA_PREFIX:-}" ] && [ "${FLOATCHAT_USE_VENV:-0}" != "1" ]; then
  PY="$CONDA_PREFIX/bin/python"
else
  if [ ! -x .venv/bin/python ]; then
    PYTHON=${PYTHON:-python3}
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
      echo "[bootstrap] Python 3.11+ is required (found $("$PYTHON" --version 2>&1)); set PYTHON=python3.11" >&2; exit 1; }
    echo "[bootstrap] creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
  fi
  PY=.venv/bin/python
fi

# Re-install only when the dependency list changed.
stamp_dir=$("$PY" -c 'import sys; print(sys.prefix)')
stamp="$stamp_dir/.floatchat-installed"
want=$(cat pyproject.toml $(ls scripts/requirements-*.txt 2>/dev/null) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! "$PY" -c 'import floatchat_core, workbench' 2>/dev/null; then
  echo "[bootstrap] installing Python packages into $stamp_dir"
  "$PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  log=$(mktemp)
  pipi() {  # quiet unless it fails: then the whole pip log is shown
    if ! "$PY" -m pip install -q "$@" >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; exit 1; fi
  }
  if [ -f scripts/requirements-torch.txt ] && ! "$PY" -c 'import torch' 2>/dev/null; then
    # CPU-only torch first, so nothing pulls the CUDA build: a local CPU wheel if pip's
    # configuration knows one (find-links), else PyTorch's CPU index.
    echo "[bootstrap] installing CPU-only torch"
    if ! "$PY" -m pip install -q --no-index -r scripts/requirements-torch.txt >/dev/null 2>&1; then
      pipi --index-url https://download.pytorch.org/whl/cpu -r scripts/requirements-torch.txt
    fi
  fi
  pipi -e ".[test]"
  rm -f "$log"
  echo "$want" > "$stamp"
fi
echo "[bootstrap] ready: $PY"
