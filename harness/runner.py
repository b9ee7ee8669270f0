"""``harness run``: configs -> candidates -> outputs -> scores -> store -> report.

Everything is checked before the first generation (suites, metrics, Modelfiles, adapters),
so bad input fails in seconds, not after an hour. Generations are cached in the store and
committed per batch: an interrupted run, started again, resumes the same run id and only
generates what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.candidate import Candidate
from harness.config import ExperimentConfig, load_experiment
from harness.gates import evaluate_gate
from harness.metrics.base import Metric, build_metric
from harness.scoring import score_cases
from harness.store import Store
from harness.suite import Case, Suite, load_suite, parse_suite_ref


@dataclass
class SuitePlan:
    suite: Suite
    cases: list[Case]
    metrics: list[Metric]


@dataclass
class RunSummary:
    run_id: str
    generated: int
    reused: int
    seconds: float
    report_path: Path | None
    resumed: bool
    leaderboard: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def plan_suites(config: ExperimentConfig, base_dir: Path | None = None) -> list[SuitePlan]:
    suites_dir = None
    if config.suites_dir:
        suites_dir = Path(config.suites_dir)
        if not suites_dir.is_absolute():
            suites_dir = (base_dir or Path.cwd()) / suites_dir
    plans = []
    for selection in config.suites:
        name, version = parse_suite_ref(selection.suite)
        suite = load_suite(name, version, suites_dir)
        limits = [n for n in (selection.limit, config.limit) if n]
        cases = suite.select(selection.splits, min(limits) if limits else None)
        if selection.case_ids:
            wanted = set(selection.case_ids)
            cases = [c for c in suite.cases if c.id in wanted]
        metrics = [
            build_metric(m.name, m.params, where=f"{suite.directory / 'suite.yaml'}: metrics")
            for m in suite.spec.metrics
        ]
        plans.append(SuitePlan(suite, cases, metrics))
    return plans


def build_candidates(config: ExperimentConfig, base_dir: Path, store: Store,
                     log: Callable[[str], None] = print) -> list[Candidate]:
    candidates = []
    for spec in config.candidates:
        adapter_path = None
        lineage: dict[str, Any] = {}
        if spec.train:
            from harness.variants import TrainingSkipped, train_adapter_for_candidate

            try:
                trained = train_adapter_for_candidate(spec, base_dir, store, log=log)
            except TrainingSkipped as skipped:  # e.g. a QLoRA config on a machine without CUDA
                log(f"candidate {spec.name!r} skipped: {skipped}")
                continue
            adapter_path, lineage = trained.adapter_path, trained.lineage
        candidates.append(Candidate(spec, base_dir, adapter_path=adapter_path, lineage=lineage))
    return candidates


def score_outputs(plan: SuitePlan, outputs: dict[str, Any]) -> tuple[list[tuple[str, str, str, float | None,
                                                                             dict[str, Any]]],
                                                                  list[tuple[str, str, bool, str]]]:
    """Score rows and metric keys for one suite (delivered, credited and model-own texts: ``harness.scoring``)."""
    return score_cases(plan.cases, [outputs[c.id] for c in plan.cases], plan.metrics)


def run_experiment(config_path: Path | str, *, store: Store, report_root: Path | None = None,
                   limit: int | None = None, write_report: bool = True, progress: bool = True,
                   log: Callable[[str], None] = print) -> RunSummary:
    config_path = Path(config_path)
    config = load_experiment(config_path)
    if limit is not None:
        config = config.model_copy(update={"limit": limit})
    return execute(config, base_dir=config_path.resolve().parent, store=store, config_path=str(config_path),
                   report_root=report_root, write_report=write_report, progress=progress, log=log)


def execute(config: ExperimentConfig, *, base_dir: Path, store: Store, config_path: str | None = None,
            report_root: Path | None = None, write_report: bool = True, progress: bool = True,
            log: Callable[[str], None] = print) -> RunSummary:
    """Run a validated config (``run_experiment`` loads one from YAML; gates build one in code)."""
    started = time.perf_counter()
    plans = plan_suites(config, base_dir)
    candidates = build_candidates(config, base_dir, store, log=log)

    config_hash = config.config_hash()
    run_id = store.find_unfinished_run(config_hash)
    resumed = run_id is not None
    if run_id is None:
        run_id = f"{config.name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    store.start_run(run_id, config.name, config_path, config_hash, config.model_dump(mode="json"))
    if resumed:
        log(f"resuming unfinished run {run_id}")
    for position, candidate in enumerate(candidates):
        store.register_candidate(run_id, candidate.fingerprint(), candidate.name, position, candidate.describe(),
                                 candidate.lineage)
    for plan in plans:
        store.register_suite(run_id, plan.suite.name, plan.suite.version, plan.suite.hash, [c.id for c in plan.cases])

    total = sum(len(p.cases) for p in plans) * len(candidates)
    try:
        with _progress(progress, total) as advance:
            for plan in plans:
                for candidate in candidates:
                    label = f"{candidate.name} · {plan.suite.key}"
                    keys, outputs = candidate.generate(
                        store, plan.suite, plan.cases, on_progress=lambda n, _c, lab=label: advance(n, lab)
                    )
                    fp = candidate.fingerprint()
                    store.link_outputs(run_id, fp, plan.suite.name, plan.suite.version, keys)
                    rows, metric_keys = score_outputs(plan, outputs)
                    store.save_scores(run_id, fp, plan.suite.name, plan.suite.version, rows, metric_keys)
        _store_gates(store, run_id, config, plans, candidates)
    except BaseException:
        store.finish_run(run_id, status="interrupted")
        raise
    generated = sum(c.stats["generated"] for c in candidates)
    reused = sum(c.stats["reused"] for c in candidates)
    store.finish_run(run_id)
    report_path = None
    if write_report:
        from harness.report import render_run_report

        report_path = render_run_report(store, run_id, (report_root or Path(config.report_dir)))
    from harness.report.data import leaderboard_rows

    board = {p.suite.key: leaderboard_rows(store, run_id, p.suite.name) for p in plans}
    return RunSummary(run_id, generated, reused, time.perf_counter() - started, report_path, resumed, board)


def _store_gates(store: Store, run_id: str, config: ExperimentConfig, plans: list[SuitePlan],
                 candidates: list[Candidate]) -> None:
    baseline = next(c for c in candidates if c.name == config.baseline_name)
    baseline_fp = baseline.fingerprint()
    rows = []
    for plan in plans:
        if not plan.suite.spec.gates:
            continue
        directions = {k["key"]: bool(k["higher_is_better"]) for k in store.metric_keys(run_id, plan.suite.name)}
        per_candidate: dict[str, dict[str, dict[str, float | None]]] = {}
        for score in store.scores(run_id, plan.suite.name):
            per_candidate.setdefault(score["candidate_fp"], {}).setdefault(score["key"], {})[score["case_id"]] = (
                score["value"]
            )
        for candidate in candidates:
            fp = candidate.fingerprint()
            for gate in plan.suite.spec.gates:
                values = per_candidate.get(fp, {}).get(gate.metric, {})
                base_values = per_candidate.get(baseline_fp, {}).get(gate.metric) if fp != baseline_fp else None
                result = evaluate_gate(gate, plan.cases, values, base_values,
                                       higher_is_better=directions.get(gate.metric, True), seed=config.seed)
                rows.append({
                    "candidate_fp": fp, "suite": plan.suite.name, "version": plan.suite.version,
                    "gate_id": result.gate_id, "passed": -1 if result.passed is None else int(result.passed),
                    "observed": result.observed,
                    "details": {"message": result.message, "failing_cases": result.failing_cases,
                                "type": result.type, "metric": result.metric, **result.details},
                })
    store.save_gate_results(run_id, rows)


class _progress:
    """A rich progress bar (counts + ETA) or a silent stand-in."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = total

    def __enter__(self) -> Callable[[int, str], None]:
        if not self.enabled:
            return lambda n, label: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeRemainingColumn(), transient=False)
        self._progress.__enter__()
        task = self._progress.add_task("generating", total=self.total)

        def advance(n: int, label: str) -> None:
            self._progress.update(task, advance=n, description=label)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.__exit__(*exc)
