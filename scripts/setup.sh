#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install drypowder (editable) with every dependency, the viz,
# test and bench extras included, at the exact versions of requirements.lock.
# Idempotent and quick on a re-run: only what is missing or at another version is installed.
# After changing dependencies in pyproject.toml, refresh the lock with `bash scripts/lock.sh`.
#   --bootstrap   only the venv and the installer (uv), nothing else (scripts/lock.sh uses it)
set -euo pipefail
cd "$(dirname "$0")/.."

# The installer: uv installs from the lock (hashes checked) in parallel, and resolves the lock.
UV_VERSION=0.13.9
LOCK=requirements.lock

find_python() {
  for cand in python3.12 python3.13 python3.14 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -V -r); do
      p="$(pyenv root)/versions/$v/bin/python3"
      [ -x "$p" ] && { echo "$p"; return 0; }
    done
  fi
  for p in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)" || { echo "error: drypowder needs Python >= 3.12 (Mesa 3.4+); none found" >&2; exit 2; }
  echo "creating .venv with $PY" >&2
  "$PY" -m venv .venv
fi
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
[ "${1:-}" = "--bootstrap" ] && exit 0

# --compile-bytecode: imports stay fast even where Python may not write its bytecode cache
uv_pip() { .venv/bin/uv pip "$1" --python .venv/bin/python --quiet --compile-bytecode "${@:2}"; }
uv_pip install -r "$LOCK"
uv_pip install --no-deps -e .
