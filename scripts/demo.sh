#!/usr/bin/env bash
# Set up (if needed) and run the demo experiment offline on the embedded models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/harness run configs/experiments/demo.yaml "$@"
