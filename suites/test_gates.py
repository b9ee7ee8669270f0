"""One test per gate: `suite/version::gate-id`. Failing cases are named in the message."""

import pytest


def test_gate(gate_target, gate_results) -> None:  # type: ignore[no-untyped-def]
    result = gate_results[(gate_target.suite.key, gate_target.gate_id)]
    if result.passed is None:
        pytest.skip(result.message)
    assert result.passed, f"{gate_target.test_id} ({result.type} on {result.metric}): {result.message}"
