"""Validation plumbing: user files, figures blocks in docs, real-data sections when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.validate import FIGURES_END, FIGURES_START, update_docs, validate_mts, validate_user_file


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_user_risk_file_gives_auc_and_false_alarms(tmp_path: Path) -> None:
    rows = [
        {"text": "I'm going to kill myself tonight, I have the pills", "label": "imminent"},
        {"text": "I have a plan to end my life", "label": "high"},
        {"text": "My exam is killing me", "label": "none"},
        {"text": "I feel a bit low", "label": "none"},
    ]
    result = validate_user_file("risk", _write(tmp_path / "risk.jsonl", rows))
    assert result["auc_high_or_imminent_vs_lower"] == 1.0 and result["false_alarm_rate_on_none"] == 0.0


def test_user_mi_file_uses_the_sentence_pipeline(tmp_path: Path) -> None:
    rows = [{"text": "What brings you here today?", "label": "open"}, {"text": "Do you smoke?", "label": "closed"}]
    result = validate_user_file("mi_question", _write(tmp_path / "q.jsonl", rows))
    assert result["accuracy"] == 1.0


def test_unknown_kind_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        validate_user_file("vibes", _write(tmp_path / "x.jsonl", [{"text": "a", "label": "b"}]))


def test_figures_block_is_replaced_not_duplicated(tmp_path: Path) -> None:
    doc = tmp_path / "metrics.md"
    doc.write_text(f"# Metrics\n\n{FIGURES_START}\nold\n{FIGURES_END}\n\nmore text\n")
    results = {"meta": {"command": "python -m harness.validate", "date": "2025-01-01"}, "risk_vignettes": {}}
    update_docs(doc, results)
    update_docs(doc, results)
    text = doc.read_text()
    assert text.count(FIGURES_START) == 1 and "old" not in text and "more text" in text


def test_groundedness_tracks_human_factual_precision(shared_data: Path) -> None:
    mts = shared_data / "mts-dialog"
    if not (mts / "MTS-Dialog-Manual-Scores4CorrelationStudy.csv").exists():
        pytest.skip("mts-dialog absent")
    result = validate_mts(mts)
    assert result["groundedness_vs_dialogue"]["FactualPrecision"]["spearman"] > 0.15
    assert result["groundedness_vs_dialogue"]["HallucinationRate"]["spearman"] < -0.1


def test_run_validation_accepts_a_labelled_file(tmp_path: Path) -> None:
    from harness.validate import run_validation

    rows = [{"text": "Do you smoke?", "label": "closed"}, {"text": "What brings you in?", "label": "open"}]
    result = run_validation(_write(tmp_path / "mi_question_mine.jsonl", rows))
    assert result["user_files"][0]["kind"] == "mi_question"
    with pytest.raises(ConfigError, match="cannot tell"):
        run_validation(_write(tmp_path / "unnamed.jsonl", rows))
