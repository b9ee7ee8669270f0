"""Heavy libraries load only when used: importing the harness, planning a run and checking every gated
suite's metrics and gates must not import torch, nltk (behind rouge-score), bert-score,
sentence-transformers, chromadb or gradio -- a fully cached re-run never needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "transformers", "nltk", "rouge_score", "bert_score", "sentence_transformers", "chromadb",
         "gradio", "peft", "trl", "datasets", "sklearn"]

PROGRAM = f"""
import json, sys
import harness, harness.cli, harness.runner
from harness.gating import check_gate_session, gate_targets
check_gate_session(gate_targets())  # builds every gated suite's metrics and validates its gates
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def test_planning_and_gate_checks_import_no_heavy_library() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
