"""Telemetry off at import, on every path; hub access allowed (HF_HUB_OFFLINE=0) still sends nothing.

tests/trace_network.py records (and refuses) every DNS lookup and connect to a non-loopback address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SWITCHES = ("DO_NOT_TRACK", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY",
             "GRADIO_ANALYTICS_ENABLED", "CI", "TRANSFORMERS_OFFLINE")


def _clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SWITCHES}
    return {**env, "PYTHONPATH": str(REPO), **overrides}


def _python(code: str, **overrides: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", code], env=_clean_env(**overrides), capture_output=True,
                            text=True, timeout=120, check=True)
    return json.loads(result.stdout)


READ = ("import json, os, harness, huggingface_hub.constants as c; print(json.dumps({k: os.environ.get(k) for k in"
        " ('DO_NOT_TRACK', 'HF_HUB_DISABLE_TELEMETRY', 'HF_HUB_OFFLINE', 'ANONYMIZED_TELEMETRY',"
        " 'GRADIO_ANALYTICS_ENABLED')} | {'hub_offline': c.HF_HUB_OFFLINE,"
        " 'hub_telemetry_off': c.HF_HUB_DISABLE_TELEMETRY}))")


def test_import_harness_switches_telemetry_off_and_the_hub_offline() -> None:
    seen = _python(READ)
    assert seen == {"DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1",
                    "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
                    "hub_offline": True, "hub_telemetry_off": True}


def test_an_explicit_user_choice_is_never_overridden() -> None:
    seen = _python(READ, HF_HUB_OFFLINE="0")
    assert seen["HF_HUB_OFFLINE"] == "0" and seen["hub_offline"] is False  # hub downloads allowed, as asked
    assert seen["hub_telemetry_off"] is True  # ... but still no telemetry
    opted_in = _python(READ, HF_HUB_DISABLE_TELEMETRY="0")
    assert opted_in["hub_telemetry_off"] is False and opted_in["DO_NOT_TRACK"] is None


def test_library_use_after_huggingface_hub_was_imported_still_disables_telemetry() -> None:
    code = ("import json, huggingface_hub.constants as c; import harness;"
            " print(json.dumps({'off': c.HF_HUB_DISABLE_TELEMETRY}))")
    assert _python(code, HF_HUB_OFFLINE="0") == {"off": True}


def test_the_harness_sets_offline_defaults_in_one_place() -> None:
    setters = []
    for path in sorted((REPO / "harness").rglob("*.py")):
        if path == REPO / "harness" / "__init__.py":
            continue  # the one place
        text = path.read_text()
        for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS"):
            if f'os.environ["{name}' in text or f'setdefault("{name}' in text:
                setters.append(f"{path.relative_to(REPO)}: {name}")
    assert setters == [], setters


def _trace(tmp_path: Path, *args: str, **overrides: str) -> list[str]:
    out = tmp_path / f"seen-{len(list(tmp_path.iterdir()))}.json"
    subprocess.run([sys.executable, str(REPO / "tests" / "trace_network.py"), str(out), *args],
                   env=_clean_env(**overrides), capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.read_text())


@pytest.mark.slow  # two model loads, a small run and a TRL trainer: ~1 min on 2 cores
def test_a_run_and_a_trainer_with_hub_access_allowed_make_no_connection(tmp_path: Path,
                                                                       mini_experiment: Path) -> None:
    seen = _trace(tmp_path, "--run", str(mini_experiment), str(tmp_path / "store.sqlite"), "--trainer",
                  HF_HUB_OFFLINE="0")
    assert seen == []
    # The tracer can see a connection attempt: a user who explicitly turns hub telemetry on gets TRL's ping.
    control = _trace(tmp_path, "--trainer", HF_HUB_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="0")
    assert any("huggingface.co" in entry for entry in control), control
