"""The top of a run page: the verdict strip (gates, risk misses, primary metrics as dot-and-CI plots
and win/tie/loss bars) and the case x candidate matrix of safety, scope and format checks.

View models only: the numbers come from ``harness.verdict`` and the store; the SVG from ``svg``.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from harness.report.svg import DotRow, dot_ci_panel, wtl_bars
from harness.verdict import Primary, Verdict, metric_label

GATE_ORDER = ("fail", "too few cases", "not exercised", "pass", "baseline", "skipped")
# Pass/fail checks shown in the matrix: safety first, then scope, then format.
CHECK_KEYS: tuple[tuple[str, str], ...] = (
    ("risk_flagged", "risk recognised"), ("safe_response", "safe response"),
    ("no_method_details", "no method detail"), ("no_harmful_content", "no harmful content"),
    ("summary_risk_match", "Risk field right"), ("scope_ok", "in scope"), ("no_diagnosis", "no diagnosis"),
    ("no_dosing", "no dosing"), ("well_formed", "well-formed"), ("format_ok", "format"),
    ("within_limit", "within word limit"),
)


def _dot_text(p: Primary) -> str:
    if p.method == "identical on every case":
        return f"identical on all {p.n} cases"
    if p.low is None or p.high is None:
        interval = "no interval"
    else:
        interval = f"[{p.low:+.3f}, {p.high:+.3f}]"
    tail = f"n={p.n}" if p.p_holm is None else f"Holm p={'<0.001' if p.p_holm < 0.001 else f'{p.p_holm:.3f}'}"
    return f"{p.mean:+.3f} {interval} {tail}"


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    """What the strip draws: sentences, one card per candidate, plots per suite."""
    cards = []
    for c in verdict.candidates:
        counts = c.gate_counts()
        cards.append({
            "label": c.label, "is_baseline": c.is_baseline, "risk_misses": c.risk_misses,
            "gate_counts": [(status, counts[status]) for status in GATE_ORDER if counts.get(status)],
            "gates": sorted(c.gates, key=lambda g: (GATE_ORDER.index(g.status), g.suite, g.gate_id)),
            "better": [p for p in c.primaries if p.status == "better"],
            "worse": [p for p in c.primaries if p.status == "worse"],
            "n_primaries": len(c.primaries),
        })
    suites = []
    for suite, keys in verdict.primaries_by_suite.items():
        panels, bars = [], []
        for key in keys:
            found = [p for c in verdict.candidates for p in c.primaries if p.suite == suite and p.key == key]
            if not found:
                continue
            rows = [DotRow(p.candidate, p.mean, p.low, p.high, p.status, _dot_text(p)) for p in found]
            arrow = "↑" if found[0].higher_is_better else "↓"
            title = f"{suite} · {metric_label(key)} ({arrow} better): candidate − {verdict.baseline}"
            panels.append(Markup(dot_ci_panel(title, rows, better_sign=1 if found[0].higher_is_better else -1)))
            bars += [(f"{p.candidate} · {metric_label(key)}", p.wins, p.ties, p.losses) for p in found]
        suites.append({
            "suite": suite, "primary_labels": [metric_label(k) for k in keys],
            "source": verdict.primary_source.get(suite),
            "missing": verdict.missing_primaries.get(suite, []), "panels": panels,
            "wtl": Markup(wtl_bars(f"{suite}: cases won / tied / lost against {verdict.baseline}", bars))
            if bars else None,
        })
    return {"sentences": verdict.sentences, "cards": cards, "suites": suites, "family_size": verdict.family_size,
            "baseline": verdict.baseline, "better": verdict.better,
            "has_primaries": any(verdict.primaries_by_suite.values())}


def check_matrix(blocks: list[dict[str, Any]], candidates: list[str]) -> dict[str, Any]:
    """Rows: every case of every suite; columns: candidates; cell: the pass/fail checks it scored,
    failures named. ``blocks`` are the report's suite blocks (with their ``cases``)."""
    rows = []
    used: set[str] = set()
    for block in blocks:
        for case in block["cases"]:
            cells, any_fail = [], False
            for label in candidates:
                entry = case["candidates"].get(label)
                values = (entry or {}).get("values") or {}
                checks = [(key, name, values[key]) for key, name in CHECK_KEYS if values.get(key) is not None]
                used.update(key for key, _n, _v in checks)
                failed = [name for _k, name, v in checks if v < 1]
                any_fail = any_fail or bool(failed)
                cells.append({"label": label, "n": len(checks), "failed": failed, "present": entry is not None})
            if any(c["n"] for c in cells):
                rows.append({"suite": block["key"], "case_id": case["case_id"], "anchor": case["anchor"],
                             "risk": (case.get("case") or {}).get("risk_level"), "cells": cells, "fail": any_fail})
    return {"rows": rows, "candidates": candidates, "checks": [name for key, name in CHECK_KEYS if key in used],
            "n_fail": sum(1 for r in rows if r["fail"])}


def case_sort_values(case: dict[str, Any]) -> str:
    """JSON ``{"candidate|key": value}`` on each case, for the sort/filter-by-metric control."""
    values = {f"{label}|{key}": v for label, entry in case["candidates"].items()
              for key, v in (entry.get("values") or {}).items() if v is not None and not key.startswith("model.")}
    return json.dumps(values, sort_keys=True)
