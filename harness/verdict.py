"""The answer at the top of a run: per candidate, its gates, its risk misses and its pre-declared
primary metrics against the baseline, in plain sentences.

Only the primaries are tested for the verdict (a suite's ``primary_metrics:``, else the defaults
below, fixed before any run), and Holm's correction runs over exactly those comparisons, so the
verdict is not a fishing trip over every column of the leaderboard. A comparison on fewer than
``MIN_N`` pairs is shown but never called better or worse. Everything is read from the store, so
a changed score changes the verdict when the report is rendered again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.gates import gate_status  # re-exported: the verdict's words for a stored gate
from harness.stats import MIN_N, holm_adjust, paired_difference
from harness.store import Store

# Pre-declared per-suite primaries for suites whose suite.yaml has no ``primary_metrics:`` (every
# shipped version is released and may not change). Chosen from what each suite is for, before
# looking at any candidate's results: reply quality for the companion, summary quality and length
# for the summarizer, grounded and correct answers for the discharge assistant. Safety is judged by
# gates and risk misses, never averaged here.
DEFAULT_PRIMARY_METRICS: dict[str, tuple[str, ...]] = {
    "therapy": ("rougeL", "bertscore_f1", "empathy_total"),
    "summarization": ("rougeL", "bertscore_f1", "within_limit"),
    "discharge": ("grounded", "answer_correct_facts", "rougeL"),
}
ALPHA = 0.05


def metric_label(key: str) -> str:
    """A key's title, from the metric's own declaration (``harness.metrics.catalog.key_label``)."""
    from harness.metrics.catalog import key_label

    return key_label(key)


def metric_directions(store: Store, run_id: str, suite: str) -> dict[str, bool]:
    """Key -> higher is better, for the keys the run scored: the direction the metric declares in the
    catalog; a key no installed metric declares (a plugin since removed) keeps the one stored with the run."""
    from harness.metrics.catalog import declared_keys

    declared = declared_keys()
    return {k["key"]: declared[k["key"]].higher_is_better if k["key"] in declared else bool(k["higher_is_better"])
            for k in store.metric_keys(run_id, suite)}


def primary_metrics(suite_name: str, suite_obj: Any | None) -> tuple[list[str], str]:
    """(keys, where they come from): the suite's ``primary_metrics:`` or the per-suite default."""
    declared = list(getattr(getattr(suite_obj, "spec", None), "primary_metrics", None) or [])
    if declared:
        return declared, "suite.yaml primary_metrics"
    return list(DEFAULT_PRIMARY_METRICS.get(suite_name, ())), "harness/verdict.py defaults"


@dataclass
class Primary:
    suite: str
    key: str
    candidate: str
    mean: float
    low: float | None
    high: float | None
    n: int
    p_value: float
    wins: int
    ties: int
    losses: int
    higher_is_better: bool
    method: str
    p_holm: float | None = None
    status: str = "no difference"  # better | worse | no difference | too few cases

    @property
    def label(self) -> str:
        return metric_label(self.key)


@dataclass
class GateLine:
    suite: str
    gate_id: str
    status: str  # pass | fail | baseline | not exercised | too few cases | skipped
    message: str
    needs_n: int | None = None


@dataclass
class CandidateVerdict:
    label: str
    is_baseline: bool
    gates: list[GateLine] = field(default_factory=list)
    risk_misses: int = 0
    primaries: list[Primary] = field(default_factory=list)

    def gate_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for g in self.gates:
            counts[g.status] += 1
        return dict(counts)


@dataclass
class Verdict:
    baseline: str | None
    candidates: list[CandidateVerdict]
    primaries_by_suite: dict[str, list[str]]
    primary_source: dict[str, str]
    family_size: int
    sentences: list[str]
    missing_primaries: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def better(self) -> list[Primary]:
        return [p for c in self.candidates for p in c.primaries if p.status == "better"]


def _suite_values(store: Store, run_id: str, suite: str, version: str) -> dict[str, dict[str, dict[str, Any]]]:
    table: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
    for row in store.scores(run_id, suite):
        if row["version"] == version:
            table[row["candidate_fp"]][row["key"]][row["case_id"]] = row["value"]
    return table


def _clusters(suite_obj: Any | None, case_ids: list[str]) -> list[str] | None:
    if suite_obj is None:
        return None
    from harness.gates import case_clusters

    by_id = {c.id: c for c in suite_obj.cases}
    cases = [by_id[c] for c in case_ids if c in by_id]
    return case_clusters(cases) if len(cases) == len(case_ids) else None


def _compare_primaries(store: Store, run_id: str, suite_row: dict[str, Any], suite_obj: Any | None,
                       candidates: list[dict[str, Any]], baseline: dict[str, Any], keys: list[str],
                       seed: int) -> tuple[list[tuple[str, Primary]], list[str]]:
    """(candidate fp, comparison) for every non-baseline candidate x primary key; and keys with no scores."""
    suite, version, case_ids = suite_row["suite"], suite_row["version"], suite_row["case_ids"]
    key = f"{suite}/{version}"
    directions = metric_directions(store, run_id, suite)
    values = _suite_values(store, run_id, suite, version)
    clusters = _clusters(suite_obj, case_ids)
    base = values[baseline["fingerprint"]]
    found, missing = [], [k for k in keys if k not in directions]
    for cand in candidates:
        if cand["fingerprint"] == baseline["fingerprint"]:
            continue
        for metric in keys:
            if metric not in directions:
                continue
            hib = directions[metric]
            mine = [values[cand["fingerprint"]][metric].get(c) for c in case_ids]
            theirs = [base[metric].get(c) for c in case_ids]
            comp = paired_difference(mine, theirs, clusters=clusters, higher_is_better=hib, seed=seed)
            if comp is None:
                continue
            d = comp.diff
            found.append((cand["fingerprint"], Primary(key, metric, cand["label"], d.mean, d.low, d.high, d.n,
                                                       comp.p_value, comp.wins, comp.ties, comp.losses, hib,
                                                       d.method)))
    return found, missing


def _classify(comparisons: list[Primary]) -> int:
    """Holm over the primaries with enough pairs; set each one's status. Returns the family size."""
    family = [p for p in comparisons if p.n >= MIN_N]
    for p, adjusted in zip(family, holm_adjust([p.p_value for p in family]) if family else [], strict=True):
        p.p_holm = adjusted
        excludes_zero = p.low is not None and p.high is not None and (p.low > 0 or p.high < 0)
        if adjusted < ALPHA and excludes_zero:
            p.status = "better" if (p.mean > 0) == p.higher_is_better else "worse"
    for p in comparisons:
        if p.n < MIN_N:
            p.status = "too few cases"
    return len(family)


def run_suites(store: Store, run_id: str) -> dict[tuple[str, str], Any]:
    """The suite versions a run used, loaded from their files (None where they are gone)."""
    from harness.report.data import load_run_suite

    return {(s["suite"], s["version"]): load_run_suite(store, run_id, s)[0] for s in store.run_suites(run_id)}


def run_verdict(store: Store, run_id: str, suites: dict[tuple[str, str], Any] | None = None) -> Verdict:
    """The verdict of a stored run. ``suites`` maps (suite, version) to the loaded suite (for its
    ``primary_metrics:`` and the cases' documents); a missing one falls back to the defaults."""
    import json

    from harness.report.data import baseline_of, risk_misses

    suites = suites or {}
    run = store.get_run(run_id) or {}
    config = json.loads(run.get("config_json") or "{}")
    seed = int(config.get("seed") or 0)
    candidates = store.run_candidates(run_id)
    baseline = baseline_of(candidates, config)
    verdicts = {c["fingerprint"]: CandidateVerdict(c["label"], baseline is not None
                                                   and c["fingerprint"] == baseline["fingerprint"])
                for c in candidates}
    for row in store.gate_results(run_id):
        if row["candidate_fp"] in verdicts:
            status, needs = gate_status(row)
            verdicts[row["candidate_fp"]].gates.append(GateLine(f"{row['suite']}/{row['version']}", row["gate_id"],
                                                                status, (row["details"] or {}).get("message", ""),
                                                                needs))
    for miss in risk_misses(store, run_id):
        if miss["candidate_fp"] in verdicts:
            verdicts[miss["candidate_fp"]].risk_misses += 1
    comparisons: list[tuple[str, Primary]] = []
    by_suite: dict[str, list[str]] = {}
    source: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    for s in store.run_suites(run_id):
        key = f"{s['suite']}/{s['version']}"
        suite_obj = suites.get((s["suite"], s["version"]))
        by_suite[key], source[key] = primary_metrics(s["suite"], suite_obj)
        if baseline is None:
            continue
        found, absent = _compare_primaries(store, run_id, s, suite_obj, candidates, baseline, by_suite[key], seed)
        comparisons += found
        if absent:
            missing[key] = absent
    family = _classify([p for _, p in comparisons])
    for fp, primary in comparisons:
        verdicts[fp].primaries.append(primary)
    verdict = Verdict(baseline["label"] if baseline else None, list(verdicts.values()), by_suite, source, family, [],
                      missing)
    verdict.sentences = sentences(verdict)
    return verdict


def _interval(p: Primary) -> str:
    if p.low is None or p.high is None:
        return f"{p.mean:+.3f}, no interval"
    return f"{p.mean:+.3f} [{p.low:+.3f}, {p.high:+.3f}]"


def _finding(p: Primary) -> str:
    holm = "<0.001" if (p.p_holm or 0) < 0.001 else f"{p.p_holm:.3f}"
    return f"{p.suite} {p.label} ({_interval(p)}, Holm p = {holm}, n = {p.n})"


def sentences(verdict: Verdict) -> list[str]:
    """Plain sentences, the answer first: who is better or worse than the baseline, then gates and misses."""
    base = verdict.baseline or "the baseline"
    others = [c for c in verdict.candidates if not c.is_baseline]
    out = []
    tested = "; ".join(f"{suite}: {', '.join(metric_label(k) for k in keys)}"
                       for suite, keys in verdict.primaries_by_suite.items() if keys)
    better = {c.label: [p for p in c.primaries if p.status == "better"] for c in others}
    worse = {c.label: [p for p in c.primaries if p.status == "worse"] for c in others}
    if not tested:
        out.append("No suite in this run declares primary metrics (primary_metrics: in suite.yaml), so the verdict"
                   f" does not compare quality with {base}; it covers gates and risk misses only.")
    elif not any(better.values()) and not any(worse.values()):
        out.append(f"No candidate differs from {base} on the primary metrics ({tested}) after Holm correction over"
                   f" {verdict.family_size} comparison{'s' if verdict.family_size != 1 else ''}.")
    else:
        for label, found in better.items():
            if found:
                out.append(f"{label} is better than {base} on " + "; ".join(_finding(p) for p in found) + ".")
        for label, found in worse.items():
            if found:
                out.append(f"{label} is worse than {base} on " + "; ".join(_finding(p) for p in found) + ".")
        quiet = [label for label in better if not better[label] and not worse[label]]
        if quiet:
            out.append(f"{', '.join(quiet)} {'does' if len(quiet) == 1 else 'do'} not differ from {base} on the"
                       f" primary metrics ({tested}).")
    few = sorted({p.suite for c in others for p in c.primaries if p.status == "too few cases"})
    if few:
        out.append(f"On {', '.join(few)} fewer than {MIN_N} paired cases: those comparisons are descriptive only.")
    for c in verdict.candidates:
        counts = c.gate_counts()
        problems = [f"{n} {status}" for status, n in counts.items() if status in ("fail", "too few cases",
                                                                                 "not exercised")]
        if problems:
            out.append(f"{c.label}: gates {', '.join(problems)} (of {len(c.gates)}).")
        if c.risk_misses:
            out.append(f"{c.label}: {c.risk_misses} risk miss{'es' if c.risk_misses != 1 else ''} (gold-risky cases not"
                       " flagged or not answered safely).")
    return out
