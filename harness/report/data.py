"""Everything a report shows, computed from the store (never from in-memory run state)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from harness.stats import bootstrap_mean, holm_adjust, paired_bootstrap
from harness.store import Store

RISK_KEYS = ("risk_flagged", "safe_response", "summary_risk_missed_high")


def _by_candidate(store: Store, run_id: str, suite: str) -> dict[str, dict[str, dict[str, float | None]]]:
    table: dict[str, dict[str, dict[str, float | None]]] = defaultdict(lambda: defaultdict(dict))
    for row in store.scores(run_id, suite):
        table[row["candidate_fp"]][row["key"]][row["case_id"]] = row["value"]
    return table


def leaderboard_rows(store: Store, run_id: str, suite: str, *, resamples: int = 2000,
                     seed: int = 0) -> list[dict[str, Any]]:
    """One row per candidate: mean + 95% CI per metric key, paired diff vs. the baseline, gates."""
    run = store.get_run(run_id) or {}
    config = json.loads(run.get("config_json") or "{}")
    candidates = store.run_candidates(run_id)
    if not candidates:
        return []
    baseline_label = config.get("baseline") or candidates[0]["label"]
    baseline = next((c for c in candidates if c["label"] == baseline_label), candidates[0])
    keys = store.metric_keys(run_id, suite)
    table = _by_candidate(store, run_id, suite)
    gates = [g for g in store.gate_results(run_id) if g["suite"] == suite]
    suite_info = next((s for s in store.run_suites(run_id) if s["suite"] == suite), None)
    case_ids = suite_info["case_ids"] if suite_info else []
    rows = []
    for candidate in candidates:
        fp = candidate["fingerprint"]
        metrics: dict[str, Any] = {}
        for key in keys:
            values = [table[fp][key["key"]].get(c) for c in case_ids]
            estimate = bootstrap_mean(values, resamples=resamples, seed=seed)
            entry: dict[str, Any] = {"estimate": estimate.as_dict() if estimate else None,
                                     "higher_is_better": bool(key["higher_is_better"]), "metric": key["metric"]}
            if fp != baseline["fingerprint"]:
                base_values = [table[baseline["fingerprint"]][key["key"]].get(c) for c in case_ids]
                comparison = paired_bootstrap(values, base_values, higher_is_better=bool(key["higher_is_better"]),
                                              resamples=resamples, seed=seed)
                entry["vs_baseline"] = comparison.as_dict() if comparison else None
            metrics[key["key"]] = entry
        cand_gates = [g for g in gates if g["candidate_fp"] == fp]
        rows.append({
            "label": candidate["label"],
            "fingerprint": fp,
            "is_baseline": fp == baseline["fingerprint"],
            "metrics": metrics,
            "gates": cand_gates,
            "gates_passed": sum(1 for g in cand_gates if g["passed"] == 1),
            "gates_failed": sum(1 for g in cand_gates if g["passed"] == 0),
        })
    # Holm adjustment across every (candidate, key) comparison on this suite.
    flat = [(r, k) for r in rows for k, e in r["metrics"].items() if e.get("vs_baseline")]
    adjusted = holm_adjust([r["metrics"][k]["vs_baseline"]["p_value"] for r, k in flat]) if flat else []
    for (row, key), p_adj in zip(flat, adjusted, strict=True):
        row["metrics"][key]["vs_baseline"]["p_holm"] = p_adj
    return rows


def case_table(store: Store, run_id: str, suite: str) -> list[dict[str, Any]]:
    """Per case: every candidate's output with its per-key values and details."""
    labels = {c["fingerprint"]: c["label"] for c in store.run_candidates(run_id)}
    outputs = store.outputs(run_id, suite)
    scores = store.scores(run_id, suite)
    by_case: dict[str, dict[str, Any]] = {}
    for out in outputs:
        case = by_case.setdefault(out["case_id"], {"case_id": out["case_id"], "candidates": {}})
        case["candidates"][labels.get(out["candidate_fp"], out["candidate_fp"])] = {
            "text": out["text"], "retrieved": out["retrieved"], "values": {}, "details": {},
            "prompt": out["messages"][-1]["content"] if out["messages"] else "",
        }
    for score in scores:
        case = by_case.get(score["case_id"])
        label = labels.get(score["candidate_fp"], score["candidate_fp"])
        if case is None or label not in case["candidates"]:
            continue
        entry = case["candidates"][label]
        entry["values"][score["key"]] = score["value"]
        entry["details"][score["metric"]] = json.loads(score["details_json"])
    return sorted(by_case.values(), key=lambda c: c["case_id"])


def risk_misses(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Safety-first list: cases where a risk key is 0 (a missed flag, an unsafe response)."""
    labels = {c["fingerprint"]: c["label"] for c in store.run_candidates(run_id)}
    misses = []
    for row in store.conn.execute(
        "SELECT suite, version, candidate_fp, case_id, key, value FROM scores WHERE run_id = ? AND key IN (?, ?, ?)",
        (run_id, *RISK_KEYS),
    ):
        bad = (row["key"] == "summary_risk_missed_high" and row["value"] == 1) or (
            row["key"] != "summary_risk_missed_high" and row["value"] == 0
        )
        if bad:
            misses.append({"suite": row["suite"], "version": row["version"], "case_id": row["case_id"],
                           "key": row["key"], "candidate": labels.get(row["candidate_fp"], row["candidate_fp"])})
    return sorted(misses, key=lambda m: (m["suite"], m["case_id"], m["candidate"]))
