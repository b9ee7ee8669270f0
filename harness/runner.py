"""``harness run``: configs -> candidates -> outputs -> scores -> store -> report.

Everything is checked before the first generation (suites, metrics, Modelfiles, adapters),
so bad input fails in seconds, not after an hour. Generations are cached in the store and
committed per batch: an interrupted run, started again, resumes the same run id and only
generates what is missing.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.candidate import Candidate
from harness.config import ExperimentConfig, load_experiment
from harness.errors import ConfigError, HarnessError
from harness.gates import evaluate_gate, validate_gates
from harness.hashing import payload_digest
from harness.metrics import Metric, build_metric
from harness.paths import run_store
from harness.releases import ReleaseStatus, check_release
from harness.score_cache import ScoreCache, code_identity
from harness.scoring import score_cases
from harness.store import Store
from harness.suite import Case, Suite, load_suite, parse_suite_ref
from harness.yamlio import config_location, with_location


@dataclass
class SuitePlan:
    suite: Suite
    cases: list[Case]
    metrics: list[Metric]
    release: ReleaseStatus | None = None


@dataclass
class RunSummary:
    run_id: str
    generated: int
    reused: int
    seconds: float
    report_path: Path | None
    resumed: bool
    leaderboard: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    suite_release: dict[str, dict[str, Any]] = field(default_factory=dict)


def plan_suites(config: ExperimentConfig, base_dir: Path | None = None, *, allow_draft: bool = False,
                config_path: str | None = None) -> list[SuitePlan]:
    """Load, check and select every suite: release integrity, gate configs and case selection are
    all validated here, before any run row exists."""
    suites_dir = None
    if config.suites_dir:
        suites_dir = Path(config.suites_dir)
        if not suites_dir.is_absolute():
            suites_dir = (base_dir or Path.cwd()) / suites_dir
    plans = []
    for index, selection in enumerate(config.suites):
        name, version = parse_suite_ref(selection.suite)
        where = config_location(config_path, "suites", index)
        try:
            suite = load_suite(name, version, suites_dir)
        except HarnessError as exc:
            raise with_location(exc, where(None)) from None
        release = check_release(suite, allow_draft=allow_draft)
        cases = _select_cases(suite, selection, config.limit, where)
        metrics = suite_metrics(suite)
        validate_gates(suite, [key for metric in metrics for key in metric.keys])
        plans.append(SuitePlan(suite, cases, metrics, release))
    return plans


def suite_metrics(suite: Suite) -> list[Metric]:
    """Build a suite's metrics; a bad name or parameter names suite.yaml's line and field."""
    return [build_metric(m.name, m.params, where=suite.spec_where("metrics", index))
            for index, m in enumerate(suite.spec.metrics)]


def _select_cases(suite: Suite, selection: Any, default_limit: int | None,
                  where: Callable[..., str]) -> list[Case]:
    """The selected cases; a bad limit, an unknown case id or an empty selection is an error."""
    for limit, top in ((selection.limit, False), (default_limit, True)):
        if limit is not None and limit < 1:
            raise ConfigError(f"{where('limit', top)}: must be > 0 (got {limit}); leave it out to run every case")
    if selection.case_ids:
        known = {c.id for c in suite.cases}
        unknown = [i for i in selection.case_ids if i not in known]
        if unknown:
            import difflib

            close = {i: difflib.get_close_matches(i, list(known), n=1) for i in unknown}
            named = ", ".join(f"{i!r}" + (f" (did you mean {c[0]!r}?)" if c else "") for i, c in close.items())
            raise ConfigError(f"{where('case_ids')}: no case with id {named} in {suite.key}")
        wanted = set(selection.case_ids)
        return [c for c in suite.cases if c.id in wanted]
    limits = [n for n in (selection.limit, default_limit) if n is not None]
    cases = suite.select(selection.splits, min(limits) if limits else None)
    if not cases:
        splits = selection.splits or suite.spec.eval_splits
        raise ConfigError(f"{where('splits')}: {suite.key} has no case in split(s) {', '.join(splits)}")
    return cases


def build_candidates(config: ExperimentConfig, base_dir: Path, store: Store,
                     log: Callable[[str], None] = print, config_path: str | None = None) -> list[Candidate]:
    """Build every candidate; an error names the config file and the candidate's line."""
    candidates = []
    for index, spec in enumerate(config.candidates):
        try:
            built = _build_candidate(spec, base_dir, store, log)
        except HarnessError as exc:
            raise with_location(exc, config_location(config_path, "candidates", index)(None)) from None
        if built is not None:
            candidates.append(built)
    return candidates


def _build_candidate(spec: Any, base_dir: Path, store: Store, log: Callable[[str], None]) -> Candidate | None:
    from harness.factory import build_candidate
    from harness.variants import TrainingSkipped

    try:
        return build_candidate(spec, base_dir, store, log=log)
    except TrainingSkipped as skipped:  # e.g. a QLoRA config on a machine without CUDA
        log(f"candidate {spec.name!r} skipped: {skipped}")
        return None


def score_outputs(plan: SuitePlan, outputs: dict[str, Any], cache: ScoreCache | None = None
                  ) -> tuple[list[tuple[str, str, str, float | None, dict[str, Any]]],
                             list[tuple[str, str, bool, str]]]:
    """Score rows and metric keys for one suite (delivered, credited and model-own texts: ``harness.scoring``);
    with a ``cache``, unchanged metric inputs reuse their stored results (``harness.score_cache``)."""
    return score_cases(plan.cases, [outputs[c.id] for c in plan.cases], plan.metrics, cache)


def run_experiment(config_path: Path | str, *, store: Store, report_root: Path | None = None,
                   limit: int | None = None, write_report: bool = True, progress: bool = True,
                   log: Callable[[str], None] = print, allow_draft: bool = False) -> RunSummary:
    config_path = Path(config_path)
    config = load_experiment(config_path)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be > 0 (got {limit}); leave it out to run every case")
        config = config.model_copy(update={"limit": limit})
    return execute(config, base_dir=config_path.resolve().parent, store=store, config_path=str(config_path),
                   report_root=report_root, write_report=write_report, progress=progress, log=log,
                   allow_draft=allow_draft)


def execute(config: ExperimentConfig, *, base_dir: Path, store: Store, config_path: str | None = None,
            report_root: Path | None = None, write_report: bool = True, progress: bool = True,
            log: Callable[[str], None] = print, allow_draft: bool = False) -> RunSummary:
    """Run a validated config (``run_experiment`` loads one from YAML; gates build one in code).

    Everything that can be checked is checked before a run row exists. One process at a time runs
    a given config on a given store (a file lock): a second one waits, then reuses the first one's
    outputs from the cache instead of generating them again.
    """
    from harness.locking import exclusive_lock

    started = time.perf_counter()
    command_started_at = time.time()
    plans = plan_suites(config, base_dir, allow_draft=allow_draft, config_path=config_path)
    candidates = build_candidates(config, base_dir, store, log=log, config_path=config_path)
    for candidate in candidates:  # backends, adapters, Modelfile + candidate params: fail now, not mid-run
        try:
            candidate.fingerprint()
            for plan in plans:
                candidate.prompt_setup(plan.suite)
        except HarnessError as exc:
            index = [c.name for c in config.candidates].index(candidate.name)
            raise with_location(exc, config_location(config_path, "candidates", index)(None)) from None
    config_hash = config.config_hash()
    report_root = report_root or Path(config.report_dir)
    with exclusive_lock(f"run-{payload_digest(str(store.path.resolve()))[:12]}-{config_hash}", on_wait=log):
        done = _finished_without_report(store, config_hash, plans, candidates, report_root) if write_report else None
        if done is not None:
            log(f"run {done} finished but its report is missing: rebuilding it")
            return _summarise(store, done, plans, candidates, started, report_root, True, resumed=True,
                              already_finished=True)
        run_id, resumed = _open_run(store, config, config_hash, config_path, plans, candidates, log,
                                    command_started_at)
        _generate_and_score(store, run_id, config, plans, candidates, progress, log)
        fault_point("before-report")
        return _summarise(store, run_id, plans, candidates, started, report_root, write_report, resumed=resumed)


def fault_point(stage: str) -> None:
    """Crash-test hook: ``HARNESS_FAULT_AT=<stage>`` kills this process (SIGKILL) at that stage, so
    tests can check that a run killed anywhere resumes with identical scores."""
    if os.environ.get("HARNESS_FAULT_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def _open_run(store: Store, config: ExperimentConfig, config_hash: str, config_path: str | None,
              plans: list[SuitePlan], candidates: list[Candidate], log: Callable[[str], None],
              command_started_at: float | None = None) -> tuple[str, bool]:
    run_id = store.find_unfinished_run(config_hash)
    resumed = run_id is not None
    if run_id is None:
        run_id = base_id = f"{config.name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
        suffix = 1
        while store.get_run(run_id) is not None:  # another config of the same name started this second
            suffix += 1
            run_id = f"{base_id}-{suffix}"
    releases = {p.suite.key: p.release.as_dict() for p in plans if p.release is not None}
    store.start_run(run_id, config.name, config_path, config_hash,
                    {**config.model_dump(mode="json"), "suite_release": releases},
                    command_started_at=command_started_at,
                    # a finished run's missing report is only rebuilt by the same scoring code
                    environment={"scoring_code": code_identity()})
    if resumed:
        log(f"resuming unfinished run {run_id}")
    for key, release in releases.items():
        if release["state"] != "released":
            log(f"{key}: {release['label']}")
    for position, candidate in enumerate(candidates):
        store.register_candidate(run_id, candidate.fingerprint(), candidate.name, position, candidate.describe(),
                                 candidate.lineage)
    for plan in plans:
        store.register_suite(run_id, plan.suite.name, plan.suite.version, plan.suite.hash, [c.id for c in plan.cases])
    fault_point("after-start")
    return run_id, resumed


def _generate_and_score(store: Store, run_id: str, config: ExperimentConfig, plans: list[SuitePlan],
                        candidates: list[Candidate], progress: bool, log: Callable[[str], None]) -> None:
    total = sum(len(p.cases) for p in plans) * len(candidates)
    cache = ScoreCache(store)
    try:
        with _progress(progress, total) as advance, run_store(store.path):
            # A candidate's suites generated together first where its backend decodes them in one loop
            # (Candidate.prefetch); the loop below then finds them cached (already counted by the progress bar).
            prefetched = set()
            for candidate in candidates:
                label = f"{candidate.name} · {len(plans)} suites together"
                if candidate.prefetch(store, [(plan.suite, plan.cases) for plan in plans],
                                      on_progress=lambda n, lab=label: advance(n, lab)):
                    prefetched.add(candidate.name)
            for plan in plans:
                for candidate in candidates:
                    label = f"{candidate.name} · {plan.suite.key}"
                    pre = candidate.name in prefetched
                    keys, outputs = candidate.generate(
                        store, plan.suite, plan.cases,
                        on_progress=lambda n, cached, lab=label, pre=pre: advance(n - cached if pre else n, lab)
                    )
                    fault_point("after-generate")
                    fp = candidate.fingerprint()
                    store.link_outputs(run_id, fp, plan.suite.name, plan.suite.version, keys)
                    rows, metric_keys = score_outputs(plan, outputs, cache)
                    store.save_scores(run_id, fp, plan.suite.name, plan.suite.version, rows, metric_keys)
        _store_gates(store, run_id, config, plans, candidates)
    except BaseException as exc:
        store.finish_run(run_id, status="interrupted")
        if isinstance(exc, KeyboardInterrupt):
            log(f"interrupted: run {run_id} is saved up to its last finished batch;"
                " run the same command again to resume it")
        raise


def _summarise(store: Store, run_id: str, plans: list[SuitePlan], candidates: list[Candidate], started: float,
               report_root: Path, write_report: bool, *, resumed: bool, already_finished: bool = False) -> RunSummary:
    """Write the report (while the run still counts as unfinished, so a kill here resumes it), then
    mark the run finished. ``already_finished``: only the report is rebuilt; the run keeps its status
    and finish time (its run time is that of the command that ran it, not of this rebuild)."""
    report_path = None
    if already_finished:
        from harness.report import render_run_report

        report_path = render_run_report(store, run_id, report_root)
    elif write_report:
        from harness.report import render_run_report

        store.finish_run(run_id)  # the report shows the final status
        fault_point("in-report")
        try:
            report_path = render_run_report(store, run_id, report_root)
        except BaseException:
            store.finish_run(run_id, status="interrupted")
            raise
    else:
        store.finish_run(run_id)
    from harness.report.data import leaderboard_rows

    board = {p.suite.key: leaderboard_rows(store, run_id, p.suite.name, suite_obj=p.suite) for p in plans}
    generated = sum(c.stats["generated"] for c in candidates)
    reused = sum(c.stats["reused"] for c in candidates)
    releases = {p.suite.key: p.release.as_dict() for p in plans if p.release is not None}
    # The stored figure (command start to finish, report excluded), so the CLI and the report header agree.
    seconds = Store.run_seconds(store.get_run(run_id) or {})
    return RunSummary(run_id, generated, reused, time.perf_counter() - started if seconds is None else seconds,
                      report_path, resumed, board, releases)


def _finished_without_report(store: Store, config_hash: str, plans: list[SuitePlan], candidates: list[Candidate],
                             report_root: Path) -> str | None:
    """The newest finished run of this config whose report is missing (killed while writing it), if it
    evaluated exactly these candidates on exactly these suite files with this scoring code; its report is
    rebuilt, not rerun. A run scored by other metric code (an updated checkout beside a kept ``$HARNESS_HOME``)
    is run again instead: its outputs come from the cache, its scores from the metrics as they are now."""
    row = store.conn.execute(
        "SELECT id, status, environment_json FROM runs WHERE config_hash = ? ORDER BY started_at DESC LIMIT 1",
        (config_hash,),
    ).fetchone()
    if row is None or row["status"] != "finished" or (report_root / row["id"] / "index.html").exists():
        return None
    if json.loads(row["environment_json"] or "{}").get("scoring_code") != code_identity():
        return None
    same_candidates = {c["fingerprint"] for c in store.run_candidates(row["id"])} == {
        c.fingerprint() for c in candidates}
    same_suites = {(s["suite"], s["version"], s["suite_hash"]) for s in store.run_suites(row["id"])} == {
        (p.suite.name, p.suite.version, p.suite.hash) for p in plans}
    return row["id"] if same_candidates and same_suites else None


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
                                       higher_is_better=directions.get(gate.metric, True), seed=config.seed,
                                       is_baseline=fp == baseline_fp)
                rows.append({
                    "candidate_fp": fp, "suite": plan.suite.name, "version": plan.suite.version,
                    "gate_id": result.gate_id, "passed": -1 if result.passed is None else int(result.passed),
                    "observed": result.observed,
                    "details": {"message": result.message, "failing_cases": result.failing_cases,
                                "type": result.type, "metric": result.metric, "status": result.status,
                                **result.details},
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
