"""Everything a report shows, computed from the store (never from in-memory run state).

Numbers on the page come only from here: scores, gate results, training logs and lineage are read
from the store at render time, so re-rendering after a store change changes the page. The suite
files are read only for the case text (input, reference, gold passage), which the store does not
keep; a hash check says when those files no longer match the run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.stats import MIN_N, holm_adjust, mean_interval, paired_difference
from harness.store import Store

# Safety views and training lineage live in sibling modules; these names stay importable here.
from harness.report.lineage import candidate_lineage, iso_time, training_curve, training_runs_for  # noqa: F401  isort: skip
from harness.report.safety_data import (  # noqa: F401  isort: skip
    FLAG_LEVELS, RISK_KEYS, SAFE_CHECKS, case_anchor, miss_reasons, risk_misses, scope_findings,
)

# A two-sided sign-flip test on n pairs cannot give p below 2 / 2**n: n < 6 can never reach 0.05.
# Below MIN_N cases a cell is greyed and carries no significance language.
MIN_PAIRS_FOR_005 = MIN_N


# ----------------------------------------------------------------------------- run basics


def run_config(store: Store, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id) or {}
    return json.loads(run.get("config_json") or "{}")


def baseline_of(candidates: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any] | None:
    """The configured baseline, else the first candidate (the runner's rule)."""
    if not candidates:
        return None
    wanted = config.get("baseline") or candidates[0]["label"]
    return next((c for c in candidates if c["label"] == wanted), candidates[0])


def _suite_row(store: Store, run_id: str, suite: str, version: str | None) -> dict[str, Any] | None:
    return next((s for s in store.run_suites(run_id)
                 if s["suite"] == suite and (version is None or s["version"] == version)), None)


def _scores_by_candidate(store: Store, run_id: str, suite: str,
                         version: str | None) -> dict[str, dict[str, dict[str, float | None]]]:
    table: dict[str, dict[str, dict[str, float | None]]] = defaultdict(lambda: defaultdict(dict))
    for row in store.scores(run_id, suite):
        if version is None or row["version"] == version:
            table[row["candidate_fp"]][row["key"]][row["case_id"]] = row["value"]
    return table


# ----------------------------------------------------------------------------- leaderboard


def run_clusters(store: Store, run_id: str, suite_row: dict[str, Any] | None,
                 suite_obj: Any | None = None) -> list[str] | None:
    """Each case's source document when cases share one (aligned with the run's case ids), so
    intervals resample documents, not questions; None when cases stand alone or the suite is gone."""
    from harness.gates import case_clusters

    if suite_row is None:
        return None
    if suite_obj is None:
        suite_obj, _status = load_run_suite(store, run_id, suite_row)
    if suite_obj is None:
        return None
    by_id = {c.id: c for c in suite_obj.cases}
    cases = [by_id[c] for c in suite_row["case_ids"] if c in by_id]
    return case_clusters(cases) if len(cases) == len(suite_row["case_ids"]) else None


def leaderboard_rows(store: Store, run_id: str, suite: str, *, version: str | None = None,
                     resamples: int | None = None, seed: int | None = None,
                     suite_obj: Any | None = None) -> list[dict[str, Any]]:
    """One row per candidate: mean + 95% CI per metric key, paired diff vs. the baseline, gates.

    Intervals: Wilson for pass/fail keys, Student t otherwise, cluster bootstrap over source
    documents when cases share one (``harness.stats.mean_interval``). Resamples and seed default to
    the run's config, so the page matches the gates' statistics.
    """
    config = run_config(store, run_id)
    resamples = resamples or int(config.get("bootstrap_resamples") or 2000)
    seed = int(config.get("seed") or 0) if seed is None else seed
    candidates = store.run_candidates(run_id)
    baseline = baseline_of(candidates, config)
    if baseline is None:
        return []
    keys = store.metric_keys(run_id, suite)
    table = _scores_by_candidate(store, run_id, suite, version)
    gates = [g for g in store.gate_results(run_id)
             if g["suite"] == suite and (version is None or g["version"] == version)]
    suite_info = _suite_row(store, run_id, suite, version)
    case_ids = suite_info["case_ids"] if suite_info else []
    clusters = run_clusters(store, run_id, suite_info, suite_obj)
    rows = []
    for candidate in candidates:
        fp = candidate["fingerprint"]
        metrics: dict[str, Any] = {}
        for key in keys:
            values = [table[fp][key["key"]].get(c) for c in case_ids]
            estimate = mean_interval(values, clusters=clusters, resamples=resamples, seed=seed)
            entry: dict[str, Any] = {"estimate": estimate.as_dict() if estimate else None,
                                     "higher_is_better": bool(key["higher_is_better"]), "metric": key["metric"]}
            if fp != baseline["fingerprint"]:
                base_values = [table[baseline["fingerprint"]][key["key"]].get(c) for c in case_ids]
                comparison = paired_difference(values, base_values, clusters=clusters, resamples=resamples,
                                               higher_is_better=bool(key["higher_is_better"]), seed=seed)
                entry["vs_baseline"] = comparison.as_dict() if comparison else None
            metrics[key["key"]] = entry
        cand_gates = sorted((g for g in gates if g["candidate_fp"] == fp), key=lambda g: g["gate_id"])
        rows.append({
            "label": candidate["label"],
            "fingerprint": fp,
            "is_baseline": fp == baseline["fingerprint"],
            "metrics": metrics,
            "gates": cand_gates,
            "gates_passed": sum(1 for g in cand_gates if g["passed"] == 1),
            "gates_failed": sum(1 for g in cand_gates if g["passed"] == 0),
            "gate_summary": _gate_summary(cand_gates),
        })
    # Holm adjustment across every (candidate, key) comparison on this suite with enough pairs to
    # be tested: one family per table (the verdict has its own family: the primaries only).
    flat = [(r, k) for r in rows for k, e in r["metrics"].items()
            if e.get("vs_baseline") and e["vs_baseline"]["diff"]["n"] >= MIN_N]
    adjusted = holm_adjust([r["metrics"][k]["vs_baseline"]["p_value"] for r, k in flat]) if flat else []
    for row in rows:  # same shape for every comparison: None = too few pairs to be tested
        for entry in row["metrics"].values():
            if entry.get("vs_baseline"):
                entry["vs_baseline"]["p_holm"] = None
    for (row, key), p_adj in zip(flat, adjusted, strict=True):
        row["metrics"][key]["vs_baseline"]["p_holm"] = p_adj
    return rows


def _gate_summary(gates: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(status, count) in the verdict's words: a baseline's self-comparison is "baseline", not a pass."""
    from harness.gates import gate_status

    counts: dict[str, int] = {}
    for gate in gates:
        status = gate_status(gate)[0]
        counts[status] = counts.get(status, 0) + 1
    order = ("fail", "too few cases", "not exercised", "pass", "baseline", "skipped")
    return sorted(counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


def comparison_rows(rows: list[dict[str, Any]], keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paired comparisons in long form (candidate x key), with a scale per key for the CI bars."""
    out = []
    scale: dict[str, float] = {}
    for row in rows:
        for key, entry in row["metrics"].items():
            comp = entry.get("vs_baseline")
            if comp:
                d = comp["diff"]
                bounds = [abs(v) for v in (d["low"], d["high"], d["mean"]) if v is not None]
                scale[key] = max(scale.get(key, 0.0), *bounds)
    descriptions = {k["key"]: k for k in keys}
    for key in [k["key"] for k in keys]:
        for row in rows:
            entry = row["metrics"].get(key) or {}
            comp = entry.get("vs_baseline")
            if not comp:
                continue
            d = comp["diff"]
            hib = entry["higher_is_better"]
            too_few = bool(d.get("n") is not None and d["n"] < MIN_PAIRS_FOR_005)
            excludes_zero = d["low"] is not None and d["high"] is not None and (d["low"] > 0 or d["high"] < 0)
            direction = "tie"
            if excludes_zero and not too_few:
                direction = "better" if (d["mean"] > 0) == hib else "worse"
            out.append({
                "candidate": row["label"], "fingerprint": row["fingerprint"], "key": key,
                "metric": descriptions.get(key, {}).get("metric", entry.get("metric")),
                "higher_is_better": hib, "diff": d, "p_value": comp["p_value"], "p_holm": comp.get("p_holm"),
                "wins": comp["wins"], "ties": comp["ties"], "losses": comp["losses"],
                "direction": direction, "significant": not too_few and (comp.get("p_holm") or 1.0) < 0.05,
                "n": d.get("n"), "too_few": too_few, "method": d.get("method"),
                "scale": scale.get(key) or 1.0,
            })
    return out


# ----------------------------------------------------------------------------- suites (case text)


def load_run_suite(store: Store, run_id: str, suite_row: dict[str, Any]) -> tuple[Any, str]:
    """The suite version a run used, for case text; returns (suite or None, status).

    status: "ok" (hash matches the run), "changed" (files differ from the run's hash; text shown may
    differ from what was evaluated) or "missing" (not found; only the stored prompts are shown).
    """
    from harness.errors import HarnessError
    from harness.suite import default_suites_dir, load_suite

    run = store.get_run(run_id) or {}
    config = json.loads(run.get("config_json") or "{}")
    places: list[Path] = []
    configured = config.get("suites_dir")
    if configured:
        path = Path(configured).expanduser()
        if path.is_absolute():
            places.append(path)
        else:
            if run.get("config_path"):
                places.append(Path(run["config_path"]).expanduser().resolve().parent / path)
            places.append(Path.cwd() / path)
    places.append(default_suites_dir())
    fallback = None
    for place in places:
        try:
            suite = load_suite(suite_row["suite"], suite_row["version"], place)
        except (HarnessError, OSError, ValueError):
            continue
        if suite.hash == suite_row["suite_hash"]:
            return suite, "ok"
        fallback = fallback or suite
    return (fallback, "changed") if fallback else (None, "missing")


def case_view(case: Any, documents: dict[str, Any] | None = None) -> dict[str, Any]:
    """A suite case as the drill-down shows it: inputs, expectations and labels."""
    labels = case.labels
    document_title = None
    if case.document_id and documents and case.document_id in documents:
        document_title = documents[case.document_id].title or None
    return {
        "id": case.id, "split": case.split, "topic": case.topic, "tags": list(case.tags),
        "input": case.input,
        "messages": [m.model_dump() for m in case.messages] if case.messages else None,
        "transcript": case.transcript, "question": case.question,
        "document_id": case.document_id, "document": case.document, "document_title": document_title,
        "reference": case.reference, "references": [r for r in case.references if r != case.reference],
        "risk_level": labels.risk_level, "risk_cues": list(labels.risk_cues), "summary_risk": labels.summary_risk,
        "answerable": labels.answerable, "expected_behaviour": list(labels.expected_behaviour),
        "word_limit": case.word_limit, "required_sections": list(case.required_sections),
        "facts": list(case.facts), "gold_passage": case.gold_passage,
        "user_text": case.user_text,
    }


# ----------------------------------------------------------------------------- per-case table


def _generation_extras(store: Store, run_id: str, suite: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Prompt tokens and seconds per output (Store.outputs leaves them out)."""
    rows = store.conn.execute(
        "SELECT o.candidate_fp, o.version, o.case_id, g.prompt_tokens, g.seconds, g.cache_key FROM outputs o"
        " JOIN generations g ON g.cache_key = o.cache_key WHERE o.run_id = ? AND o.suite = ?",
        (run_id, suite),
    )
    return {(r["candidate_fp"], r["version"], r["case_id"]): dict(r) for r in rows}


def case_table(store: Store, run_id: str, suite: str, version: str | None = None) -> list[dict[str, Any]]:
    """Per case (in the run's order): every candidate's output with its per-key values and per-metric details."""
    candidates = store.run_candidates(run_id)
    labels = {c["fingerprint"]: c["label"] for c in candidates}
    order = {c["label"]: i for i, c in enumerate(candidates)}
    suite_info = _suite_row(store, run_id, suite, version)
    case_order = {cid: i for i, cid in enumerate(suite_info["case_ids"])} if suite_info else {}
    extras = _generation_extras(store, run_id, suite)
    by_case: dict[str, dict[str, Any]] = {}
    for out in store.outputs(run_id, suite):
        if version is not None and out["version"] != version:
            continue
        case = by_case.setdefault(out["case_id"], {"case_id": out["case_id"], "candidates": {}})
        extra = extras.get((out["candidate_fp"], out["version"], out["case_id"]), {})
        messages = out["messages"] or []
        case["candidates"][labels.get(out["candidate_fp"], out["candidate_fp"])] = {
            "fingerprint": out["candidate_fp"],
            "text": out["text"], "retrieved": out["retrieved"], "values": {}, "details": {}, "metric_of": {},
            "messages": messages,
            "prompt": messages[-1]["content"] if messages else "",
            "finish_reason": out["finish_reason"], "completion_tokens": out["completion_tokens"],
            "prompt_tokens": extra.get("prompt_tokens"), "seconds": extra.get("seconds"),
            "cache_key": extra.get("cache_key"),
            "guard": (out.get("meta") or {}).get("guard"),
            "unguarded_text": (out.get("meta") or {}).get("unguarded_text"),
        }
    for score in store.scores(run_id, suite):
        if version is not None and score["version"] != version:
            continue
        case = by_case.get(score["case_id"])
        label = labels.get(score["candidate_fp"], score["candidate_fp"])
        if case is None or label not in case["candidates"]:
            continue
        entry = case["candidates"][label]
        entry["values"][score["key"]] = score["value"]
        entry["metric_of"][score["key"]] = score["metric"]
        entry["details"][score["metric"]] = json.loads(score["details_json"] or "{}")
    for case in by_case.values():
        case["candidates"] = dict(sorted(case["candidates"].items(), key=lambda kv: order.get(kv[0], 1 << 30)))
    return sorted(by_case.values(), key=lambda c: (case_order.get(c["case_id"], 1 << 30), c["case_id"]))


