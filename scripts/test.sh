#!/usr/bin/env bash
# Set up (if needed) and run the tests: lint, the harness's own tests, then the regression gates
# (`pytest suites/`) on the default candidate. Gate outputs are cached in the store
# ($HARNESS_HOME/store.sqlite), so a second run, or one after the demo, reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest tests "$@"
mkdir -p .harness
.venv/bin/python -m pytest suites/ --junitxml .harness/gates.xml
