#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine: a virtual environment in
# .venv with the package (editable) and its extras. Idempotent: re-running is quick.
#   bash scripts/setup.sh            # package + notebooks
#   bash scripts/setup.sh test       # + test tools (pytest, hypothesis, playwright, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="notebooks"
[ "${1:-}" = "test" ] && extras="notebooks,test"
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is required (found: $("$PY" --version 2>&1))" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$extras-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  touch "$stamp"
fi
echo "setup: .venv ready ($(.venv/bin/python --version), extras: $extras)"
