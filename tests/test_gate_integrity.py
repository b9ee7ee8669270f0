"""Nothing silently green: unevaluable gates fail, skips are explicit, gate configs and released
suites are checked before anything runs (issue 20, item 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError
from harness.gates import evaluate_gate, validate_gates
from harness.metrics import build_metric
from harness.releases import ReleaseChangedError, check_release
from harness.suite import Case, GateSpec, Labels, load_suite

REPO = Path(__file__).resolve().parents[1]


def _cases(levels: tuple[str, ...] = ("none", "low", "none")) -> list[Case]:
    return [Case(id=f"c{i}", split="test", input="x", labels=Labels(risk_level=level))  # type: ignore[arg-type]
            for i, level in enumerate(levels)]


SAFETY = {"type": "must_pass", "metric": "risk_flagged", "where": {"labels.risk_level": ["high", "imminent"]}}


def test_a_safety_gate_whose_selector_matches_nothing_fails_naming_why() -> None:
    result = evaluate_gate(GateSpec(**SAFETY), _cases(), {"c0": 1.0, "c1": 1.0, "c2": 1.0})
    assert result.passed is False and result.status == "not_exercised"
    assert "matched none of the 3 evaluated cases" in result.message


def test_only_a_reviewed_allow_skip_skips_and_it_says_why() -> None:
    gate = GateSpec(**SAFETY, allow_skip="no risky cases in this split; reviewed by the safety lead 2026-12")
    result = evaluate_gate(gate, _cases(), {})
    assert result.passed is None and result.status == "skipped"
    assert "allow_skip: no risky cases" in result.message and "not exercised" in result.message
    with pytest.raises(ValueError):
        GateSpec(**SAFETY, allow_skip="ok")  # a reason, not a shrug


def test_a_threshold_gate_without_values_fails() -> None:
    result = evaluate_gate(GateSpec(type="threshold", metric="rougeL", min=0.1), _cases(), {"c0": None})
    assert result.passed is False and result.status == "not_evaluated"


def test_non_inferiority_against_itself_passes_by_definition_and_says_so() -> None:
    gate = GateSpec(type="non_inferiority", metric="rougeL", margin=0.05)
    result = evaluate_gate(gate, _cases(), {"c0": 0.5}, None, is_baseline=True)
    assert result.passed and "the candidate is the baseline" in result.message


def _mini_copy(tmp_path: Path, fixture_suites: Path, gates: list[dict]) -> Path:
    suites = tmp_path / "suites"
    shutil.copytree(fixture_suites / "mini", suites / "mini")
    spec_path = suites / "mini" / "v1" / "suite.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["gates"] = gates
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return suites


def _validate(suites: Path) -> None:
    suite = load_suite("mini", "v1", suites)
    metrics = [build_metric(m.name, m.params) for m in suite.spec.metrics]
    validate_gates(suite, [k for m in metrics for k in m.keys])


@pytest.mark.parametrize(("gate", "expected"), [
    ({"type": "threshold", "metric": "rougeL_typo", "min": 0.1}, r"gates.0.metric'.*unknown metric key 'rougeL_typo'"),
    ({**SAFETY, "metric": "within_limit", "where": {"labels.risk_levle": ["high"]}},
     r"gates.0.where.labels.risk_levle"),
    ({**SAFETY, "metric": "within_limit", "where": {"label.risk_level": ["high"]}}, r"unknown case field 'label'"),
    ({**SAFETY, "metric": "within_limit", "where": {"labels.risk_level": ["hgih"]}}, r"value 'hgih' can never occur"),
    ({"type": "threshold", "metric": "rougeL", "min": 1.5}, r"gates.0.min'.*outside the range of rougeL"),
    ({"type": "non_inferiority", "metric": "rougeL", "margin": -0.1}, r"gates.0.margin"),
])
def test_gate_configs_are_validated_before_anything_runs(tmp_path: Path, fixture_suites: Path, gate: dict,
                                                        expected: str) -> None:
    suites = _mini_copy(tmp_path, fixture_suites, [gate])
    with pytest.raises(ConfigError, match=expected) as info:
        _validate(suites)
    assert "suite.yaml:" in str(info.value)  # file and line


def test_valid_gate_configs_pass_validation(tmp_path: Path, fixture_suites: Path) -> None:
    _validate(_mini_copy(tmp_path, fixture_suites, [SAFETY | {"metric": "within_limit"},
                                                   {"type": "threshold", "metric": "word_count", "max": 40}]))
    for name, version in (("therapy", "v1"), ("summarization", "v1"), ("discharge", "v1")):
        suite = load_suite(name, version)
        metrics = [build_metric(m.name, m.params) for m in suite.spec.metrics]
        validate_gates(suite, [k for m in metrics for k in m.keys])


def _gated_therapy_version() -> str:
    from harness.gating import gated_version

    return gated_version("therapy").version


def _tampered_suites(tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the released suites whose gated therapy version has its risky test cases relabelled 'none'."""
    suites = tmp_path / "suites"
    suites.mkdir()
    for item in ("therapy", "released.json", "released_cases.json"):
        source = REPO / "suites" / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, suites / item)
    path = suites / "therapy" / _gated_therapy_version() / "cases.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    changed = []
    for row in rows:
        if row["split"] == "test" and row.get("labels", {}).get("risk_level") in ("high", "imminent"):
            row["labels"]["risk_level"] = "none"
            changed.append(row["id"])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return suites, changed


def test_a_changed_released_suite_is_refused_with_its_case_ids(tmp_path: Path) -> None:
    suites, changed = _tampered_suites(tmp_path)
    suite = load_suite("therapy", _gated_therapy_version(), suites)
    with pytest.raises(ReleaseChangedError) as info:
        check_release(suite)
    assert changed and all(case_id in str(info.value) for case_id in changed)
    draft = check_release(suite, allow_draft=True)
    assert draft.state == "draft" and "DRAFT" in draft.label and changed[0] in draft.label


def test_released_pins_apply_to_a_copy_in_a_team_folder_without_its_own_pins(tmp_path: Path) -> None:
    suites, _ = _tampered_suites(tmp_path)
    (suites / "released.json").unlink()
    (suites / "released_cases.json").unlink()
    with pytest.raises(ReleaseChangedError):
        check_release(load_suite("therapy", _gated_therapy_version(), suites))


def test_a_team_suite_is_unreleased_not_refused(fixture_suites: Path) -> None:
    status = check_release(load_suite("mini", "v1", fixture_suites))
    assert status.state == "unreleased" and "unreleased" in status.label


def test_the_repository_suites_match_their_per_case_pins() -> None:
    for key in json.loads((REPO / "suites" / "released.json").read_text()):
        assert check_release(load_suite(*key.split("/"))).state == "released"


def _pytest_suites(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pytest", str(REPO / "suites"), "-q", "-rfs", "-p", "no:cacheprovider",
                           *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_pytest_suites_on_a_tampered_released_suite_fails_loudly(tmp_path: Path) -> None:
    suites, changed = _tampered_suites(tmp_path)
    result = _pytest_suites("--suites-dir", str(suites), "--gate-suite", "therapy",
                            "--store", str(tmp_path / "s.sqlite"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "gate session refused" in output and changed[0] in output and "--allow-draft" in output


@pytest.mark.slow  # ~30 s of CPU (a model run on three cases); longer on a busy machine
def test_pytest_suites_fails_a_not_exercised_gate_and_shows_an_allowed_skip(tmp_path: Path,
                                                                           fixture_suites: Path) -> None:
    """End to end on a three-case team suite: 'not exercised' is red; allow_skip is a visible skip."""
    suites = _mini_copy(tmp_path, fixture_suites, [
        {"id": "risky-flagged", **SAFETY, "metric": "within_limit"},
        {"id": "risky-allowed", **SAFETY, "metric": "within_limit",
         "allow_skip": "this team suite has no risky cases yet; reviewed 2026-12-06"},
        # A gate that passes (within_limit would fail: 24 new tokens cut some replies, and a cut reply is not
        # "within limit").
        {"id": "count-all", "type": "threshold", "metric": "word_count", "max": 200},
    ])
    candidates = tmp_path / "candidates.yaml"
    candidates.write_text("name: team-gates\nsuites: [mini]\ncandidates:\n  - name: base\n")
    junit = tmp_path / "gates.xml"
    result = _pytest_suites("--suites-dir", str(suites), "--candidates-config", str(candidates),
                            "--store", str(tmp_path / "s.sqlite"), "--junitxml", str(junit))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "FAILED" in output and "mini/v1::risky-flagged" in output and "not exercised" in output
    assert "1 passed, 1 skipped" in output or ("1 passed" in output and "1 skipped" in output), output
    xml = junit.read_text()
    assert "allow_skip: this team suite has no risky cases yet" in xml
    assert 'name="gate_status" value="not_exercised"' in xml and "unreleased" in xml
