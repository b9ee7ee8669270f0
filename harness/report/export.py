"""CSV and JSON exports of every table on a run page, written next to its index.html.

Exports are what a statistician or auditor re-analyses, so they carry full precision and the
identities (fingerprints, suite hashes) that the page abbreviates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def safe_name(text: str) -> str:
    """A file-name-safe slug (suite names are folder names already; this guards the rest)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return "" if value is None else value


def to_json(payload: Any) -> str:
    return json.dumps(payload, indent=1, default=str, ensure_ascii=False) + "\n"


LEADERBOARD_COLUMNS = (
    "suite", "version", "candidate", "fingerprint", "is_baseline", "key", "metric", "higher_is_better",
    "mean", "low", "high", "n", "diff", "diff_low", "diff_high", "p_value", "p_holm", "wins", "ties", "losses",
    "interval", "diff_interval",
)


def leaderboard_long(suite: str, version: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (candidate, key): estimate with CI and the paired comparison with the baseline."""
    out = []
    for row in rows:
        for key, entry in row["metrics"].items():
            est = entry.get("estimate") or {}
            comp = entry.get("vs_baseline") or {}
            diff = comp.get("diff") or {}
            out.append({
                "suite": suite, "version": version, "candidate": row["label"], "fingerprint": row["fingerprint"],
                "is_baseline": row["is_baseline"], "key": key, "metric": entry.get("metric"),
                "higher_is_better": entry.get("higher_is_better"), "mean": est.get("mean"), "low": est.get("low"),
                "high": est.get("high"), "n": est.get("n"), "diff": diff.get("mean"), "diff_low": diff.get("low"),
                "diff_high": diff.get("high"), "p_value": comp.get("p_value"), "p_holm": comp.get("p_holm"),
                "wins": comp.get("wins"), "ties": comp.get("ties"), "losses": comp.get("losses"),
                "interval": est.get("method"), "diff_interval": diff.get("method"),
            })
    return out


GATE_COLUMNS = ("suite", "version", "candidate", "fingerprint", "gate_id", "type", "metric", "passed", "observed",
                "message", "failing_cases")


def gates_long(suite: str, version: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        for gate in row["gates"]:
            details = gate.get("details") or {}
            out.append({
                "suite": suite, "version": gate.get("version", version), "candidate": row["label"],
                "fingerprint": row["fingerprint"], "gate_id": gate["gate_id"], "type": details.get("type"),
                "metric": details.get("metric"),
                "passed": {1: "pass", 0: "fail"}.get(gate["passed"], "n/a"), "observed": gate.get("observed"),
                "message": details.get("message"), "failing_cases": details.get("failing_cases") or [],
            })
    return out


SCORE_COLUMNS = ("suite", "version", "case_id", "candidate", "fingerprint", "key", "metric", "value")


def scores_long(suite: str, version: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for case in cases:
        for label, entry in case["candidates"].items():
            for key, value in entry["values"].items():
                out.append({"suite": suite, "version": version, "case_id": case["case_id"], "candidate": label,
                            "fingerprint": entry["fingerprint"], "key": key,
                            "metric": entry["metric_of"].get(key), "value": value})
    return out


def cases_payload(suite: str, version: str, suite_hash: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Per case: the suite case (when loaded), every candidate's output, prompt, values and details."""
    items = []
    for case in cases:
        items.append({
            "case_id": case["case_id"],
            "case": case.get("case"),
            "candidates": {
                label: {k: entry.get(k) for k in ("fingerprint", "text", "messages", "retrieved", "finish_reason",
                                                   "completion_tokens", "prompt_tokens", "seconds", "cache_key",
                                                   "values", "details")}
                for label, entry in case["candidates"].items()
            },
        })
    return {"suite": suite, "version": version, "suite_hash": suite_hash, "cases": items}


MISS_COLUMNS = ("suite", "version", "case_id", "candidate", "candidate_fp", "gold_risk", "keys", "reasons")
SCOPE_COLUMNS = ("suite", "version", "case_id", "candidate", "candidate_fp", "problems")
COMPARISON_COLUMNS = ("suite", "version", "candidate", "fingerprint", "key", "metric", "higher_is_better", "diff",
                      "diff_low", "diff_high", "n", "p_value", "p_holm", "wins", "ties", "losses", "direction")


def comparisons_long(suite: str, version: str, comparisons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"suite": suite, "version": version, **{k: v for k, v in c.items() if k not in ("diff", "scale", "bar")},
             "diff": c["diff"]["mean"], "diff_low": c["diff"]["low"], "diff_high": c["diff"]["high"]}
            for c in comparisons]


TRAINING_COLUMNS = ("step", "phase", "stage", "loss", "eval_loss", "learning_rate", "epoch", "grad_norm")
