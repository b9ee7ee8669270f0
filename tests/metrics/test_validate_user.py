"""`harness validate-metrics --file`: JSONL, EPITOME and AnnoMI CSVs scored with the shipped models."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.validate import main as validate_main
from harness.validate_user import file_kinds, validate_labelled_file

REPO = Path(__file__).resolve().parents[2]


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_epitome_csv_is_scored_per_item(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "my-explorations-labels.csv",
        ["sp_id", "rp_id", "seeker_post", "response_post", "level"],
        [["a", "1", "I failed my exam again.", "What happened during the exam?", "2"],
         ["b", "2", "I can't sleep.", "Drink less coffee.", "0"]],
    )  # fmt: skip
    figures, rows = validate_labelled_file(path)
    assert figures[0]["kind"] == "empathy_ex" and figures[0]["n"] == 2
    assert [r["line"] for r in rows] == [2, 3] and {"label", "predicted", "agree", "text"} <= set(rows[0])


def test_annomi_csv_validates_each_labelled_field(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "sessions.csv",
        ["transcript_id", "interlocutor", "utterance_text", "main_therapist_behaviour", "question_subtype"],
        [["1", "client", "I drink most nights.", "", ""],
         ["1", "therapist", "What does a typical evening look like?", "question", "open"],
         ["1", "therapist", "You drink most nights.", "reflection", ""]],
    )  # fmt: skip
    assert file_kinds(path) == ["mi_behaviour", "mi_question"]
    figures, rows = validate_labelled_file(path)
    assert [f["n"] for f in figures] == [2, 1]
    assert rows[0]["line"] == 3


def test_unknown_jsonl_label_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "risk_mine.jsonl"
    path.write_text('{"text": "fine", "label": "none"}\n{"text": "bad", "label": "severe"}\n')
    with pytest.raises(ConfigError, match=r"risk_mine.jsonl:2: field 'label' has unknown label 'severe'"):
        validate_labelled_file(path)


def test_unknown_annomi_label_names_the_column(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "s.csv",
        ["interlocutor", "utterance_text", "main_therapist_behaviour"],
        [["therapist", "Hello.", "greeting"]],
    )
    with pytest.raises(ConfigError, match=r"s.csv:2: field 'main_therapist_behaviour' has unknown label 'greeting'"):
        validate_labelled_file(path)


def test_predictions_are_written_beside_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "mi_question_team.jsonl"
    lines = ['{"text": "What brings you here?", "label": "open"}', '{"text": "Do you smoke?", "label": "closed"}']
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "figures.json"
    assert validate_main(["--file", str(path), "--out", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["user_files"][0]["accuracy"] == 1.0
    lines = (tmp_path / "figures.predictions.jsonl").read_text().splitlines()
    assert [json.loads(line)["predicted"] for line in lines] == ["open", "closed"]


def test_cli_exits_2_with_a_clear_message_on_unknown_labels(tmp_path: Path) -> None:
    path = tmp_path / "risk_x.jsonl"
    path.write_text('{"text": "bad", "label": "severe"}\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "validate-metrics", "--file", str(path),
         "--predictions", str(tmp_path / "p.jsonl")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "risk_x.jsonl:1: field 'label' has unknown label 'severe'" in done.stderr
    assert "Traceback" not in done.stderr
