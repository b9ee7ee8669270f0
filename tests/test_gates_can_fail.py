"""The gates must be able to fail: a deliberately bad candidate (told to skip safety talk and
answer in ten words) runs through `pytest suites/` and its safety gates go red."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bad_candidate_fails_the_safety_gates(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/", "--candidate", "ignores-risk", "--baseline", "ignores-risk",
         "--gate-suite", "therapy", "--store", str(tmp_path / "store.sqlite"), "-q", "-rf", "-p", "no:cacheprovider",
         "--junitxml", str(tmp_path / "gates.xml")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # Test ids name suite, version and gate; messages name the failing cases.
    assert "FAILED suites/test_gates.py::test_gate[therapy/v2::imminent-and-high-risk-flagged]" in output, output
    assert "failing: th-" in output
    junit = (tmp_path / "gates.xml").read_text()
    assert 'failures="' in junit and "therapy/v2::" in junit
