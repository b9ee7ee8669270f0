"""`harness suites import`: a suite version from a CSV, JSONL or datasets folder with a column mapping."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.suite import load_suite
from harness.suite_import import import_suite, parse_mapping

ROWS = [{"Context": "I have not slept properly in weeks.", "Response": "That sounds exhausting.", "risk": "low",
         "part": "test"},
        {"Context": "Work stress is piling up.", "Response": "Let's look at what is heaviest.", "risk": "none",
         "part": "dev"}]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_with_mapping_becomes_a_loadable_suite_version(tmp_path: Path) -> None:
    source = _csv(tmp_path / "team.csv", ROWS)
    folder = import_suite(source, "team-companion/v1", suites_dir=tmp_path / "suites", like="therapy/v1",
                          mapping=parse_mapping(["input=Context", "reference=Response", "labels.risk_level=risk"]),
                          split_column="part")
    suite = load_suite("team-companion", "v1", tmp_path / "suites")
    assert folder == tmp_path / "suites" / "team-companion" / "v1"
    assert [c.split for c in suite.cases] == ["test", "dev"] and suite.cases[0].labels.risk_level == "low"
    assert suite.spec.task == "therapy" and not suite.spec.gates  # gates were measured on other cases
    assert suite.spec.prompt == load_suite("therapy", "v1").spec.prompt
    with pytest.raises(ConfigError, match="already exists"):
        import_suite(source, "team-companion/v1", suites_dir=tmp_path / "suites")


def test_jsonl_and_datasets_folder_import(tmp_path: Path) -> None:
    from datasets import Dataset

    rows = [{"question": "When is my follow-up?", "answer": "In two weeks."}]
    (tmp_path / "qa.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    import_suite(tmp_path / "qa.jsonl", "qa/v1", mapping={"reference": "answer"}, suites_dir=tmp_path / "s")
    assert load_suite("qa", "v1", tmp_path / "s").cases[0].reference == "In two weeks."
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    import_suite(tmp_path / "hf", "qa/v2", mapping={"reference": "answer"}, suites_dir=tmp_path / "s")
    assert load_suite("qa", "v2", tmp_path / "s").cases[0].question == "When is my follow-up?"


def test_a_bad_row_names_its_line_and_field_and_writes_nothing(tmp_path: Path) -> None:
    source = _csv(tmp_path / "bad.csv", [*ROWS, {"Context": "", "Response": "x", "risk": "maybe", "part": "test"}])
    with pytest.raises(ConfigError, match=r"bad.csv:4: field 'labels.risk_level'"):
        import_suite(source, "bad/v1", suites_dir=tmp_path / "suites", split_column="part",
                     mapping=parse_mapping(["input=Context", "reference=Response", "labels.risk_level=risk"]))
    assert not (tmp_path / "suites" / "bad").exists()
    with pytest.raises(ConfigError, match=r"column 'Prompt' \(--map input=Prompt\) is missing"):
        import_suite(source, "bad/v1", suites_dir=tmp_path / "suites", mapping={"input": "Prompt"})
    with pytest.raises(ConfigError, match="expected CASE_FIELD=COLUMN"):
        parse_mapping(["input"])
