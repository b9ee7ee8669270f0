"""Bad input gets a clear error naming file, line and field -- and exit code 2 from the CLI."""

import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_experiment
from harness.errors import ConfigError, ModelNotFoundError
from harness.runner import plan_suites


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsuites: [therapy/v1\ncandidates:\n  - name: a\n")
    with pytest.raises(ConfigError, match=r"exp.yaml: malformed YAML at line \d+"):
        load_experiment(path)


def test_unknown_field_names_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsuites: [mini/v1]\ncandidates:\n  - name: a\n    temprature: 0.3\n")
    with pytest.raises(ConfigError, match=r"exp.yaml:5: field 'candidates.0.temprature': Extra inputs"):
        load_experiment(path)


def test_unknown_generation_param(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsuites: [mini/v1]\ncandidates:\n  - name: a\n    params: {temp: 1}\n")
    with pytest.raises(ConfigError, match=r"exp.yaml:5: field 'candidates.0.params'.*unknown generation params"):
        load_experiment(path)


def test_duplicate_candidate_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsuites: [mini/v1]\ncandidates:\n  - name: a\n  - name: a\n")
    with pytest.raises(ConfigError, match="candidate names must be unique"):
        load_experiment(path)


def test_baseline_must_name_a_candidate(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nbaseline: zzz\nsuites: [mini/v1]\ncandidates:\n  - name: a\n")
    with pytest.raises(ConfigError, match="baseline 'zzz' is not a candidate"):
        load_experiment(path)


def test_unknown_metric_named_in_suite(tmp_path: Path, fixture_suites: Path) -> None:
    folder = tmp_path / "suites" / "m" / "v1"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text("name: m\nversion: v1\ntask: generic\nmetrics:\n  - name: rouge_xl\n")
    (folder / "cases.jsonl").write_text('{"id": "a", "split": "test", "input": "hi"}\n')
    path = _write(tmp_path, f"name: x\nsuites_dir: {tmp_path / 'suites'}\nsuites: [m/v1]\ncandidates:\n  - name: a\n")
    with pytest.raises(ConfigError, match=r"suite.yaml:5: field 'metrics.0': unknown metric 'rouge_xl' \(known: "):
        plan_suites(load_experiment(path))


def test_unknown_suite_version(tmp_path: Path, fixture_suites: Path) -> None:
    path = _write(tmp_path, f"name: x\nsuites_dir: {fixture_suites}\nsuites: [mini/v7]\ncandidates:\n  - name: a\n")
    with pytest.raises(ConfigError, match=r"suite 'mini' has no version 'v7'"):
        plan_suites(load_experiment(path))


def test_missing_model_is_a_clear_error() -> None:
    from harness.models.transformers_backend import load_model_and_tokenizer

    with pytest.raises(ModelNotFoundError, match=r"cannot load model '/nonexistent/model'"):
        load_model_and_tokenizer("/nonexistent/model")


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_cli_reports_config_error_with_exit_code_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsuites: [mini/v1]\ncandidates:\n  - name: a\n    modle: typo\n")
    result = _cli("run", str(path))
    assert result.returncode == 2
    assert "exp.yaml:5: field 'candidates.0.modle'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_config_file(tmp_path: Path) -> None:
    result = _cli("run", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml: file not found" in result.stderr


def test_cli_help_lists_commands() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for command in ("run", "models", "report", "serve"):
        assert command in result.stdout
