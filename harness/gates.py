"""Ship / no-ship gates from ``suite.yaml``, evaluated over stored per-case scores.

Used by the runner (stored with the run, shown in reports) and by ``pytest suites/``.

Nothing is silently green: a gate that cannot be evaluated (no value, no baseline, a ``where:``
that selects no case) *fails*, naming why. The only way to skip one is a reviewed
``allow_skip: <reason>`` on the gate, which the output and the JUnit XML show.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import TypeAdapter, ValidationError

from harness.errors import ConfigError
from harness.stats import MIN_N, cases_needed, cases_needed_binary, mean_interval, paired_difference
from harness.suite import Case, GateSpec, Labels, Suite

GateStatus = Literal["passed", "failed", "not_exercised", "not_evaluated", "skipped"]


@dataclass
class GateResult:
    gate_id: str
    type: str
    metric: str
    passed: bool | None  # None only when skipped by a reviewed allow_skip
    observed: float | None
    message: str
    failing_cases: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    status: GateStatus = "passed"


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


def _unevaluable(gate: GateSpec, status: GateStatus, why: str) -> GateResult:
    """A gate that could not be judged: failed, unless the suite's reviewers allowed a skip."""
    if gate.allow_skip:
        return GateResult(gate.gate_id, gate.type, gate.metric, None, None,
                          f"SKIPPED (allow_skip: {gate.allow_skip}): {why}", status="skipped",
                          details={"allow_skip": gate.allow_skip, "why": why})
    return GateResult(gate.gate_id, gate.type, gate.metric, False, None,
                      f"{status.replace('_', ' ')}: {why}; a gate that cannot be evaluated fails"
                      " (only a reviewed `allow_skip: <reason>` on the gate may skip it)", status=status)


def evaluate_gate(gate: GateSpec, cases: list[Case], values: dict[str, float | None],
                  baseline: dict[str, float | None] | None = None, *, higher_is_better: bool = True,
                  seed: int = 0, is_baseline: bool = False) -> GateResult:
    """``values`` maps case id -> the gate metric's value for the candidate under test.

    ``is_baseline``: the candidate *is* the baseline, so a non-inferiority gate holds by definition.
    """
    selected = select_cases(cases, gate.where) if gate.where else cases
    ids = [c.id for c in selected]
    if not ids:
        scope = f"where {gate.where} matched none of the {len(cases)} evaluated cases" if gate.where \
            else "no case was evaluated"
        return _unevaluable(gate, "not_exercised", f"not exercised: {scope}")
    clusters = case_clusters(selected)
    if gate.type == "threshold":
        return _threshold(gate, ids, values, seed, clusters)
    if gate.type == "must_pass":
        return _must_pass(gate, ids, values)
    if is_baseline:
        return GateResult(gate.gate_id, gate.type, gate.metric, True, 0.0,
                          "the candidate is the baseline: non-inferior to itself by definition (nothing compared;"
                          " give --baseline or --baseline-run to compare)", status="passed",
                          details={"is_baseline": True})
    if baseline is None:
        return _unevaluable(gate, "not_evaluated", "no baseline to compare with (give --baseline or --baseline-run)")
    return _non_inferiority(gate, ids, values, baseline, higher_is_better, seed, clusters)


def case_clusters(cases: list[Case]) -> list[str] | None:
    """The source document of each case when several cases share one (questions about the same
    summary are not independent), so intervals resample documents; None when every case stands alone."""
    docs = [c.document_id for c in cases]
    if any(d is None for d in docs) or len(set(docs)) == len(docs):
        return None
    return [str(d) for d in docs]


def _interval_text(low: float | None, high: float | None, signed: bool = False) -> str:
    if low is None or high is None:
        return "no interval from one case"
    return f"{low:+.3f} to {high:+.3f}" if signed else f"{low:.3f}-{high:.3f}"


def _threshold(gate: GateSpec, ids: list[str], values: dict[str, float | None], seed: int,
               clusters: list[str] | None) -> GateResult:
    estimate = mean_interval([values.get(i) for i in ids], clusters=clusters, seed=seed)
    if estimate is None:
        return _unevaluable(gate, "not_evaluated", f"none of the {len(ids)} selected cases has a {gate.metric} value")
    ok = (gate.min is None or estimate.mean >= gate.min) and (gate.max is None or estimate.mean <= gate.max)
    bound = f">= {gate.min}" if gate.min is not None else f"<= {gate.max}"
    return GateResult(gate.gate_id, gate.type, gate.metric, ok, estimate.mean,
                      f"mean {gate.metric} = {estimate.mean:.3f} (95% CI {_interval_text(estimate.low, estimate.high)},"
                      f" {estimate.method}, n={estimate.n}); required {bound}", details=estimate.as_dict(),
                      status="passed" if ok else "failed")


def _must_pass(gate: GateSpec, ids: list[str], values: dict[str, float | None]) -> GateResult:
    minimum = 1.0 if gate.min is None else gate.min
    failing = [i for i in ids if values.get(i) is None or values[i] < minimum]  # type: ignore[operator]
    passed_count = len(ids) - len(failing)
    message = f"{passed_count}/{len(ids)} selected cases have {gate.metric} >= {minimum}"
    if failing:
        missing = [i for i in failing if values.get(i) is None]
        message += f"; failing: {', '.join(failing)}"
        if missing:
            message += f" (no value: {', '.join(missing)})"
    return GateResult(gate.gate_id, gate.type, gate.metric, not failing, passed_count / len(ids), message, failing,
                      status="failed" if failing else "passed")


def _non_inferiority(gate: GateSpec, ids: list[str], values: dict[str, float | None],
                     baseline: dict[str, float | None], higher_is_better: bool, seed: int,
                     clusters: list[str] | None) -> GateResult:
    """Passes when the worse end of the paired difference's 95% CI lies above ``-margin``.

    The decision rests on the interval's worse bound, so an interval that is too narrow makes the
    gate lenient: it uses the small-sample intervals (Student t / Newcombe / cluster bootstrap), not
    the percentile bootstrap. A failed gate whose mean difference is above ``-margin`` failed for
    want of cases; ``details['needs_n']`` says how many paired cases would clear it if the mean and
    spread held."""
    mine, theirs = [values.get(i) for i in ids], [baseline.get(i) for i in ids]
    comparison = paired_difference(mine, theirs, clusters=clusters, higher_is_better=higher_is_better, seed=seed)
    if comparison is None:
        return _unevaluable(gate, "not_evaluated",
                            f"no case among {len(ids)} has a {gate.metric} value for both candidate and baseline")
    margin = gate.margin or 0.0
    diff = comparison.diff
    # oriented so that positive means better; one pair has no interval, so it cannot show non-inferiority
    worse = diff.low if higher_is_better else (None if diff.high is None else -diff.high)
    ok = worse is not None and worse > -margin
    details: dict[str, Any] = comparison.as_dict()
    message = (f"difference {diff.mean:+.3f} (95% CI {_interval_text(diff.low, diff.high, True)}, {diff.method},"
               f" n={diff.n}); non-inferior if the worse bound > -{margin}")
    if not ok:
        pairs = [(a, b) for a, b in zip(mine, theirs, strict=True) if a is not None and b is not None]
        if diff.method.startswith("cluster"):
            needed = None  # the interval rests on the documents, not the questions: more documents, not cases
            if (diff.mean if higher_is_better else -diff.mean) > -margin:
                details["needs_documents"] = True
                message += f"; too few source documents ({diff.method}): the mean is within the margin"
        elif diff.method.startswith("Newcombe"):
            needed = cases_needed_binary([a for a, _ in pairs], [b for _, b in pairs], margin,
                                         higher_is_better=higher_is_better)
        else:
            spread = float(np.std([a - b for a, b in pairs], ddof=1)) if len(pairs) > 1 else 0.0
            needed = cases_needed(spread, diff.mean if higher_is_better else -diff.mean, margin)
        if needed is not None and needed > diff.n:
            details["needs_n"] = needed
            message += (f"; too few cases: the mean is within the margin, but the interval needs ~{needed} paired"
                        f" cases (has {diff.n}) to show it")
    if diff.n < MIN_N:
        message += f" (fewer than {MIN_N} pairs: descriptive only)"
    return GateResult(gate.gate_id, gate.type, gate.metric, ok, diff.mean, message, details=details,
                      status="passed" if ok else "failed")


# ---- validation before anything runs --------------------------------------------------------------

def validate_gates(suite: Suite, metric_keys: Sequence[Any]) -> None:
    """Check every gate of ``suite`` against what can actually be measured, before a run starts:
    the metric is a key one of the suite's metrics emits, each ``where:`` field exists in the case
    schema with values of its type, and thresholds and margins lie within the metric's range.
    ``metric_keys``: the ``ValueKey``s of the suite's built metrics."""
    keys = {key.name: key for key in metric_keys}
    problems = []
    for index, gate in enumerate(suite.spec.gates):
        def where(*loc: Any, _i: int = index) -> str:
            line = suite.spec_line("gates", _i, *loc)
            field_name = ".".join(str(p) for p in ("gates", _i, *loc))
            return f"{suite.directory / 'suite.yaml'}{f':{line}' if line else ''}: field '{field_name}'"

        if gate.metric not in keys:
            close = difflib.get_close_matches(gate.metric, list(keys), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where('metric')}: unknown metric key {gate.metric!r}{hint}; the suite's metrics emit:"
                            f" {', '.join(sorted(keys)) or 'nothing (no metrics listed)'}")
        else:
            problems.extend(f"{where(name)}: {message}" for name, message in _range_problems(gate, keys[gate.metric]))
        for dotted, allowed in gate.where.items():
            message = _where_problem(dotted, allowed)
            if message:
                problems.append(f"{where('where', dotted)}: {message}")
    if problems:
        raise ConfigError("\n".join(problems), hint="gates are checked before anything runs; fix suite.yaml")


def _range_problems(gate: GateSpec, key: Any) -> list[tuple[str, str]]:
    low, high = key.bounds
    found = []
    for name in ("min", "max"):
        value = getattr(gate, name)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            found.append((name, f"{value} is outside the range of {key.name} ({_range_text(low, high)}),"
                                " so the gate could never fail or never pass"))
    if gate.type == "must_pass" and gate.min is not None and low is not None and gate.min <= low:
        found.append(("min", f"must_pass with min {gate.min} <= the lowest possible {key.name} ({low}) always passes"))
    if gate.margin is not None:
        span = None if low is None or high is None else high - low
        if gate.margin < 0 or (span is not None and gate.margin >= span):
            found.append(("margin", f"margin {gate.margin} must be >= 0 and below the range of {key.name}"
                                    f" ({_range_text(low, high)})"))
    return found


def _range_text(low: float | None, high: float | None) -> str:
    return f"{'-inf' if low is None else low} to {'inf' if high is None else high}"


def _where_problem(dotted: str, allowed: list[Any]) -> str | None:
    """Why a ``where:`` selector can never match as written (None when it is well-formed)."""
    head, _, rest = dotted.partition(".")
    fields = Case.model_fields
    if head not in fields:
        close = difflib.get_close_matches(head, list(fields), n=1)
        return f"unknown case field {head!r}" + (f" (did you mean {close[0]!r}?)" if close else "") + \
            f"; case fields: {', '.join(fields)}"
    if head == "meta":
        return None  # free-form
    annotation = fields[head].annotation
    if head == "labels":
        if not rest or rest not in Labels.model_fields:
            return f"'labels' needs a label name: one of {', '.join('labels.' + n for n in Labels.model_fields)}"
        annotation = Labels.model_fields[rest].annotation
    elif rest:
        return f"case field {head!r} has no sub-field {rest!r}"
    if not allowed:
        return "an empty list of values selects no case"
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    item_adapter: TypeAdapter[Any] | None = None
    if getattr(annotation, "__origin__", None) is list:
        item_adapter = TypeAdapter(annotation.__args__[0])
    for value in allowed:
        try:
            (item_adapter or adapter).validate_python(value, strict=True)
        except ValidationError:
            return f"value {value!r} can never occur in {dotted} (expected {_type_text(annotation)})"
    return None


def _type_text(annotation: Any) -> str:
    text = repr(annotation).replace("typing.", "")
    return text if len(text) < 120 else text[:117] + "..."


def gate_status(row: dict[str, Any]) -> tuple[str, int | None]:
    """A stored gate result as the verdict names it. A non-inferiority gate of the baseline against
    itself is "baseline" (it holds by definition, nothing was compared), never a pass."""
    details = row.get("details") or {}
    status = details.get("status")
    if details.get("is_baseline") or str(details.get("message", "")).startswith("the candidate is the baseline"):
        return "baseline", None
    if row.get("passed") == -1 or status == "skipped":
        return "skipped", None
    if status in ("not_exercised", "not_evaluated"):
        return "not exercised", None
    if row.get("passed") == 1:
        return "pass", None
    needs = details.get("needs_n")
    if isinstance(needs, int):
        return "too few cases", needs
    if details.get("needs_documents"):
        return "too few cases", None
    return "fail", None
