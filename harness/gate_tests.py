"""One test per gate: `suite/version::gate-id`. Failing cases are named in the message.

Collected from the repository's suites/test_gates.py, or directly from the installed package:
``pytest --pyargs harness.gate_tests --suites-dir DIR`` (the fixtures come from harness.pytest_plugin).
A gate that could not be evaluated (not exercised, no values, no baseline) fails; only a gate with
a reviewed `allow_skip: <reason>` in suite.yaml is skipped, and the reason shows in the output and
in the JUnit XML (as the skip message and as properties).
"""

import pytest


def test_gate(gate_target, gate_results, suite_releases, record_property) -> None:  # type: ignore[no-untyped-def]
    result = gate_results[(gate_target.suite.key, gate_target.gate_id)]
    release = suite_releases.get(gate_target.suite.key)
    record_property("gate_status", result.status)
    if release is not None:
        record_property("suite_release", release.label)
    if result.status == "skipped":
        record_property("allow_skip", result.details.get("allow_skip", ""))
        pytest.skip(f"{gate_target.test_id}: {result.message}")
    draft = f" [suite {release.label}]" if release is not None and release.state == "draft" else ""
    assert result.passed, f"{gate_target.test_id} ({result.type} on {result.metric}){draft}: {result.message}"
