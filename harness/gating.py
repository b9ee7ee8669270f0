"""Evaluate a suite's gates for one candidate: the engine behind ``pytest suites/``.

Outputs come through the store (a second run reuses them), and the run is recorded like any
other, so a gate failure can be opened in a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.config import ExperimentConfig, SuiteSelection, load_experiment
from harness.errors import ConfigError
from harness.gates import GateResult, evaluate_gate
from harness.paths import shipped_dir
from harness.releases import ReleaseStatus
from harness.runner import execute
from harness.store import Store
from harness.suite import Suite, available_suites, available_versions, load_suite

DEFAULT_CANDIDATES = shipped_dir("configs") / "experiments" / "gates.yaml"


@dataclass
class GateTarget:
    suite: Suite
    gate_id: str

    @property
    def test_id(self) -> str:
        return f"{self.suite.key}::{self.gate_id}"


def gated_version(name: str, suites_dir: Path | None = None) -> Suite:
    """The newest version of a suite that has gates: a newer version without gates (e.g. a
    retrieval-only suite) does not switch off its predecessor's gates."""
    newest_first = (load_suite(name, v, suites_dir) for v in reversed(available_versions(name, suites_dir)))
    newest = next(newest_first)
    return newest if newest.spec.gates else next((suite for suite in newest_first if suite.spec.gates), newest)


def gate_targets(only: list[str] | None = None, suites_dir: Path | None = None) -> list[GateTarget]:
    """Every gate of the newest gated version of every suite (or of the named ``suite[/version]`` refs)."""
    if only:
        suites = []
        for ref in only:
            name, _, version = ref.partition("/")
            suites.append(load_suite(name, version, suites_dir) if version else gated_version(name, suites_dir))
    else:
        suites = [gated_version(name, suites_dir) for name in available_suites(suites_dir)]
    return [GateTarget(suite, gate.gate_id) for suite in suites for gate in suite.spec.gates]


def evaluate_candidate_gates(
    store: Store, suites: list[Suite], candidate: str, *, candidates_config: Path = DEFAULT_CANDIDATES,
    baseline: str = "base", baseline_run: str | None = None, progress: bool = True, allow_draft: bool = False,
) -> dict[tuple[str, str], GateResult]:
    """Run ``candidate`` (and the in-run baseline) on the suites' eval splits; evaluate every gate."""
    catalogue = load_experiment(candidates_config)
    by_name = {c.name: c for c in catalogue.candidates}
    for name in {candidate, baseline}:
        if name not in by_name:
            raise ConfigError(f"{candidates_config}: no candidate named {name!r} (known: {', '.join(by_name)})")
    chosen = [by_name[candidate]] + ([by_name[baseline]] if baseline != candidate and not baseline_run else [])
    config = ExperimentConfig(
        name=f"gates-{candidate}",
        suites=[SuiteSelection(suite=s.key) for s in suites],
        candidates=chosen,
        baseline=baseline if baseline in {c.name for c in chosen} else candidate,
        suites_dir=str(suites[0].directory.parent.parent) if suites else None,
        seed=catalogue.seed,
    )
    summary = execute(config, base_dir=candidates_config.resolve().parent, store=store,
                      config_path=str(candidates_config), write_report=False, progress=progress,
                      allow_draft=allow_draft)
    labels = {c["label"]: c["fingerprint"] for c in store.run_candidates(summary.run_id)}
    fp = labels[candidate]
    results: dict[tuple[str, str], GateResult] = {}
    for row in store.gate_results(summary.run_id):
        if row["candidate_fp"] != fp:
            continue
        details = row["details"]
        passed = None if row["passed"] == -1 else bool(row["passed"])
        results[(f"{row['suite']}/{row['version']}", row["gate_id"])] = GateResult(
            row["gate_id"], details.get("type", ""), details.get("metric", ""), passed, row["observed"],
            details.get("message", ""), details.get("failing_cases", []), details,
            details.get("status") or ("skipped" if passed is None else "passed" if passed else "failed"),
        )
    if baseline_run:
        _apply_stored_baseline(store, summary.run_id, fp, baseline_run, baseline, suites, results)
    return results


def _apply_stored_baseline(store: Store, run_id: str, fp: str, baseline_run: str, baseline: str,
                           suites: list[Suite], results: dict[tuple[str, str], GateResult]) -> None:
    """Non-inferiority against a stored run's scores (same cases, paired)."""
    stored = {c["label"]: c["fingerprint"] for c in store.run_candidates(baseline_run)}
    if baseline not in stored:
        raise ConfigError(f"stored run {baseline_run!r} has no candidate {baseline!r} (has: {', '.join(stored)})")
    directions = {}
    for suite in suites:
        for key in store.metric_keys(run_id, suite.name):
            directions[key["key"]] = bool(key["higher_is_better"])
        for gate in suite.spec.gates:
            if gate.type != "non_inferiority":
                continue
            mine = {r["case_id"]: r["value"] for r in store.scores(run_id, suite.name, fp) if r["key"] == gate.metric}
            theirs = {r["case_id"]: r["value"] for r in store.scores(baseline_run, suite.name, stored[baseline])
                      if r["key"] == gate.metric}
            cases = suite.select()
            results[(suite.key, gate.gate_id)] = evaluate_gate(
                gate, cases, mine, theirs, higher_is_better=directions.get(gate.metric, True))


def check_gate_session(targets: list[GateTarget], *, allow_draft: bool = False) -> dict[str, ReleaseStatus]:
    """Before any gate runs: every gated suite is its pinned release (or an allowed draft) and every
    gate names a metric the suite measures, a real case field, and a threshold in range."""
    from harness.gates import validate_gates
    from harness.releases import check_release
    from harness.runner import suite_metrics

    releases = {}
    for suite in {t.suite.key: t.suite for t in targets}.values():
        releases[suite.key] = check_release(suite, allow_draft=allow_draft)
        metrics = suite_metrics(suite)
        validate_gates(suite, [key for metric in metrics for key in metric.keys])
    return releases
