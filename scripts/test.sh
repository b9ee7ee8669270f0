#!/usr/bin/env bash
# Set up (if needed) and run the test suite: the harness's own tests, then the regression gates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest tests "$@"
