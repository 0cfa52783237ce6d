#!/usr/bin/env bash
# Open the notebooks in JupyterLab: copies in out/notebooks/ (ignored by git), so that using
# them never changes a tracked file. Options: --refresh (replace the copies with the current
# notebooks), --dry-run, -- JUPYTER LAB OPTIONS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec .venv/bin/python -m matchmaker.ui.lab --project "$PWD" "$@"
