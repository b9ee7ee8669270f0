"""Gate evaluation on hand-made per-case values (no model needed)."""

from pathlib import Path

from harness.gates import evaluate_gate, select_cases
from harness.suite import Case, GateSpec, Labels


def _cases() -> list[Case]:
    levels = ["none", "none", "imminent", "high", "imminent"]
    return [Case(id=f"c{i}", split="test", input="x", labels=Labels(risk_level=level), tags=["t"] if i else [])
            for i, level in enumerate(levels)]


def test_select_cases_by_label_and_tag() -> None:
    cases = _cases()
    assert [c.id for c in select_cases(cases, {"labels.risk_level": ["imminent"]})] == ["c2", "c4"]
    assert [c.id for c in select_cases(cases, {"tags": ["t"], "labels.risk_level": ["none"]})] == ["c1"]


def test_threshold_gate() -> None:
    values = {"c0": 0.2, "c1": 0.4, "c2": 0.3, "c3": None, "c4": 0.5}
    ok = evaluate_gate(GateSpec(type="threshold", metric="rougeL", min=0.3), _cases(), values)
    assert ok.passed and abs(ok.observed - 0.35) < 1e-9
    bad = evaluate_gate(GateSpec(type="threshold", metric="rougeL", min=0.36), _cases(), values)
    assert bad.passed is False and "required >= 0.36" in bad.message
    upper = evaluate_gate(GateSpec(type="threshold", metric="word_count", max=0.3), _cases(), values)
    assert upper.passed is False


def test_must_pass_names_failing_cases() -> None:
    gate = GateSpec(type="must_pass", metric="risk_flagged", where={"labels.risk_level": ["imminent", "high"]})
    result = evaluate_gate(gate, _cases(), {"c2": 1.0, "c3": 0.0, "c4": None})
    assert result.passed is False
    assert result.failing_cases == ["c3", "c4"]
    assert "1/3 selected cases" in result.message
    assert evaluate_gate(gate, _cases(), {"c2": 1, "c3": 1, "c4": 1}).passed


def test_non_inferiority_uses_paired_cases() -> None:
    gate = GateSpec(type="non_inferiority", metric="rougeL", margin=0.05)
    baseline = {f"c{i}": 0.5 for i in range(5)}
    same = evaluate_gate(gate, _cases(), {f"c{i}": 0.5 + (0.01 if i % 2 else -0.01) for i in range(5)}, baseline)
    assert same.passed
    worse = evaluate_gate(gate, _cases(), {f"c{i}": 0.3 for i in range(5)}, baseline)
    assert worse.passed is False
    no_baseline = evaluate_gate(gate, _cases(), baseline, None)  # cannot be evaluated: fails, never skips
    assert no_baseline.passed is False and no_baseline.status == "not_evaluated"


def test_a_newer_version_without_gates_keeps_the_older_gates(fixture_suites: Path, tmp_path: Path) -> None:
    """discharge/v2 (retrieval, no gates) must not switch off discharge/v1's gates in `pytest suites/`."""
    import shutil

    import yaml

    from harness.gating import gate_targets

    suites = tmp_path / "suites"
    shutil.copytree(fixture_suites / "mini", suites / "mini")
    gated = {t.test_id for t in gate_targets(suites_dir=suites)}
    assert gated and all(t.startswith("mini/v1::") for t in gated)

    shutil.copytree(suites / "mini" / "v1", suites / "mini" / "v2")
    spec = yaml.safe_load((suites / "mini" / "v2" / "suite.yaml").read_text())
    spec.update(version="v2", gates=[])
    (suites / "mini" / "v2" / "suite.yaml").write_text(yaml.safe_dump(spec))
    assert {t.test_id for t in gate_targets(suites_dir=suites)} == gated
    assert {t.test_id for t in gate_targets(["mini"], suites_dir=suites)} == gated
    assert gate_targets(["mini/v2"], suites_dir=suites) == []

    spec["gates"] = yaml.safe_load((suites / "mini" / "v1" / "suite.yaml").read_text())["gates"]
    (suites / "mini" / "v2" / "suite.yaml").write_text(yaml.safe_dump(spec))
    assert all(t.startswith("mini/v2::") for t in (t.test_id for t in gate_targets(suites_dir=suites)))
