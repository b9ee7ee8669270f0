"""Ship / no-ship gates from ``suite.yaml``, evaluated over stored per-case scores.

Used by the runner (stored with the run, shown in reports) and by ``pytest suites/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.stats import bootstrap_mean, paired_bootstrap
from harness.suite import Case, GateSpec


@dataclass
class GateResult:
    gate_id: str
    type: str
    metric: str
    passed: bool | None  # None: could not be evaluated (e.g. no baseline)
    observed: float | None
    message: str
    failing_cases: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _case_field(case: Case, dotted: str) -> Any:
    value: Any = case
    for part in dotted.split("."):
        value = getattr(value, part, None) if not isinstance(value, dict) else value.get(part)
    return value


def select_cases(cases: list[Case], where: dict[str, list[Any]]) -> list[Case]:
    """Cases whose field (dotted path, e.g. ``labels.risk_level``) is in the listed values;
    list fields such as ``tags`` match when any element is listed."""
    chosen = []
    for case in cases:
        ok = True
        for dotted, allowed in where.items():
            value = _case_field(case, dotted)
            if isinstance(value, list):
                ok = ok and any(v in allowed for v in value)
            else:
                ok = ok and value in allowed
        if ok:
            chosen.append(case)
    return chosen


def evaluate_gate(gate: GateSpec, cases: list[Case], values: dict[str, float | None],
                  baseline: dict[str, float | None] | None = None, *, higher_is_better: bool = True,
                  seed: int = 0) -> GateResult:
    """``values`` maps case id -> the gate metric's value for the candidate under test."""
    selected = select_cases(cases, gate.where) if gate.where else cases
    ids = [c.id for c in selected]
    if gate.type == "threshold":
        estimate = bootstrap_mean([values.get(i) for i in ids], seed=seed)
        if estimate is None:
            return GateResult(gate.gate_id, gate.type, gate.metric, None, None, "no case has a value")
        ok = (gate.min is None or estimate.mean >= gate.min) and (gate.max is None or estimate.mean <= gate.max)
        bound = f">= {gate.min}" if gate.min is not None else f"<= {gate.max}"
        return GateResult(gate.gate_id, gate.type, gate.metric, ok, estimate.mean,
                          f"mean {gate.metric} = {estimate.mean:.3f} (95% CI {estimate.low:.3f}-{estimate.high:.3f},"
                          f" n={estimate.n}); required {bound}", details=estimate.as_dict())
    if gate.type == "must_pass":
        minimum = 1.0 if gate.min is None else gate.min
        failing = [i for i in ids if values.get(i) is None or values[i] < minimum]  # type: ignore[operator]
        passed_count = len(ids) - len(failing)
        ok = not failing
        message = f"{passed_count}/{len(ids)} selected cases have {gate.metric} >= {minimum}"
        if failing:
            message += f"; failing: {', '.join(failing)}"
        return GateResult(gate.gate_id, gate.type, gate.metric, ok if ids else None,
                          passed_count / len(ids) if ids else None, message, failing)
    # non-inferiority against the baseline on the same cases
    if baseline is None:
        return GateResult(gate.gate_id, gate.type, gate.metric, None, None,
                          "no baseline to compare with: the candidate is the baseline"
                          " (give --baseline or --baseline-run)")
    comparison = paired_bootstrap([values.get(i) for i in ids], [baseline.get(i) for i in ids],
                                  higher_is_better=higher_is_better, seed=seed)
    if comparison is None:
        return GateResult(gate.gate_id, gate.type, gate.metric, None, None, "no paired cases")
    margin = gate.margin or 0.0
    diff = comparison.diff
    # oriented so that positive means better
    low = diff.low if higher_is_better else -diff.high
    ok = low > -margin
    return GateResult(gate.gate_id, gate.type, gate.metric, ok, diff.mean,
                      f"difference {diff.mean:+.3f} (95% CI {diff.low:+.3f} to {diff.high:+.3f}, n={diff.n});"
                      f" non-inferior if the worse bound > -{margin}", details=comparison.as_dict())
