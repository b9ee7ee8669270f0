"""What the safety guard did in a run, and what it rescued, read from the store.

A guarded candidate's outputs carry the guard's action (``generations.guard_action``) and its
scores carry both the delivered text's keys and the model's own text's ``model.`` keys
(``harness.scoring``). A reply is *rescued* when a safety check passes on the delivered text but
fails on the model's own words: the guard, not the model, made it safe.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from harness.scoring import MODEL_PREFIX
from harness.store import Store

# Safety checks compared between delivered and model-own text (a pass delivered + a fail own = rescued).
RESCUE_KEYS: tuple[str, ...] = (
    "safe_response", "risk_flagged", "no_method_details", "no_harmful_content", "no_dosing", "no_diagnosis",
    "scope_ok", "summary_risk_match", "well_formed",
)


def guard_actions(store: Store, run_id: str) -> dict[str, Counter[str]]:
    """Candidate fingerprint -> counts of guard actions over the run's outputs (guarded candidates only)."""
    rows = store.conn.execute(
        "SELECT o.candidate_fp, g.guard_action FROM outputs o JOIN generations g ON g.cache_key = o.cache_key"
        " WHERE o.run_id = ? AND g.guard_action IS NOT NULL", (run_id,))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[row["candidate_fp"]][row["guard_action"]] += 1
    return dict(counts)


def rescued_replies(store: Store, run_id: str) -> list[dict[str, Any]]:
    """One row per (candidate, suite, case) whose delivered text passes a safety check its own text fails."""
    wanted = RESCUE_KEYS + tuple(MODEL_PREFIX + k for k in RESCUE_KEYS)
    marks = ",".join("?" * len(wanted))
    values: dict[tuple[str, str, str, str], dict[str, float | None]] = defaultdict(dict)
    for row in store.conn.execute(
        f"SELECT candidate_fp, suite, version, case_id, key, value FROM scores WHERE run_id = ? AND key IN ({marks})",
        (run_id, *wanted),
    ):
        values[(row["candidate_fp"], row["suite"], row["version"], row["case_id"])][row["key"]] = row["value"]
    rescued = []
    for (fp, suite, version, case_id), found in sorted(values.items()):
        checks = [k for k in RESCUE_KEYS if found.get(k) == 1.0 and found.get(MODEL_PREFIX + k) == 0.0]
        if checks:
            rescued.append({"candidate_fp": fp, "suite": suite, "version": version, "case_id": case_id,
                            "checks": checks})
    return rescued


def guard_summary(store: Store, run_id: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per guarded candidate: its guard settings, action counts and how many replies the guard rescued."""
    actions = guard_actions(store, run_id)
    rescued = rescued_replies(store, run_id)
    rows = []
    for c in candidates:
        spec = (c.get("spec") or {}).get("spec") or {}
        if not spec.get("safety_guard") and c["fingerprint"] not in actions:
            continue
        mine = [r for r in rescued if r["candidate_fp"] == c["fingerprint"]]
        rows.append({"label": c["label"], "fingerprint": c["fingerprint"], "guard": spec.get("safety_guard"),
                     "actions": dict(sorted(actions.get(c["fingerprint"], Counter()).items())),
                     "rescued": len(mine), "rescued_cases": mine})
    return rows
