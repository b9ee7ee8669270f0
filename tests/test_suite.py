from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.suite import load_suite


def _write_suite(root: Path, cases: str, yaml_extra: str = "") -> Path:
    folder = root / "s" / "v1"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(f"name: s\nversion: v1\ntask: generic\n{yaml_extra}")
    (folder / "cases.jsonl").write_text(cases)
    return root


def test_fixture_suite_loads_with_hash_and_splits(fixture_suites: Path) -> None:
    suite = load_suite("mini", "v1", fixture_suites)
    assert suite.key == "mini/v1"
    assert [c.id for c in suite.select()] == ["m-1", "m-2", "m-3"]
    assert [c.id for c in suite.select(["train"])] == ["m-4"]
    assert len(suite.hash) == 64


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "a", "split": "test", "input": "hi"}\n{"id": "b", oops}\n')
    with pytest.raises(ConfigError, match=r"cases.jsonl:2: invalid JSON"):
        load_suite("s", "v1", root)


def test_bad_field_names_line_and_field(tmp_path: Path) -> None:
    cases = '{"id": "a", "split": "test", "input": "hi"}\n{"id": "b", "split": "val", "input": "x"}\n'
    root = _write_suite(tmp_path, cases)
    with pytest.raises(ConfigError, match=r"cases.jsonl:2: field 'split'"):
        load_suite("s", "v1", root)


def test_unknown_case_field_is_rejected(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "a", "split": "test", "input": "hi", "refrence": "typo"}\n')
    with pytest.raises(ConfigError, match=r"field 'refrence'"):
        load_suite("s", "v1", root)


def test_case_without_input_is_rejected(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "a", "split": "test"}\n')
    with pytest.raises(ConfigError, match="needs one of"):
        load_suite("s", "v1", root)


def test_duplicate_case_id(tmp_path: Path) -> None:
    line = '{"id": "a", "split": "test", "input": "hi"}\n'
    root = _write_suite(tmp_path, line + line)
    with pytest.raises(ConfigError, match=r"duplicate case id 'a' \(first on line 1\)"):
        load_suite("s", "v1", root)


def test_unknown_version_lists_available(fixture_suites: Path) -> None:
    with pytest.raises(ConfigError, match=r"no version 'v9' \(available: v1\)"):
        load_suite("mini", "v9", fixture_suites)


def test_unknown_suite_lists_known(fixture_suites: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown suite 'nope'.*known suites: mini"):
        load_suite("nope", None, fixture_suites)


def test_suite_yaml_error_names_line_and_field(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "a", "split": "test", "input": "hi"}\n',
                        "gates:\n  - type: threshold\n    metric: rougeL\n")
    with pytest.raises(ConfigError, match=r"suite.yaml:5: field 'gates.0'.*needs 'min' or 'max'"):
        load_suite("s", "v1", root)


def test_document_ids_resolve(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "q", "split": "test", "question": "When?", "document_id": "d1"}\n')
    (root / "s" / "v1" / "documents.jsonl").write_text('{"id": "d1", "text": "Follow up on May 3."}\n')
    suite = load_suite("s", "v1", root)
    assert suite.cases[0].document == "Follow up on May 3."


def test_unknown_document_id(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "q", "split": "test", "question": "When?", "document_id": "d9"}\n')
    (root / "s" / "v1" / "documents.jsonl").write_text('{"id": "d1", "text": "x"}\n')
    with pytest.raises(ConfigError, match=r"cases.jsonl:1: field 'document_id': unknown document 'd9'"):
        load_suite("s", "v1", root)


def test_hash_changes_when_a_case_changes(tmp_path: Path) -> None:
    root = _write_suite(tmp_path, '{"id": "a", "split": "test", "input": "hi"}\n')
    before = load_suite("s", "v1", root).hash
    (root / "s" / "v1" / "cases.jsonl").write_text('{"id": "a", "split": "test", "input": "hi!"}\n')
    assert load_suite("s", "v1", root).hash != before
