"""Render ``reports/<run>/index.html`` and ``reports/index.html`` with Jinja2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from harness.report.data import case_table, leaderboard_rows, risk_misses
from harness.store import Store

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


_ENV.filters["fmt"] = _fmt


def run_context(store: Store, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    suites = store.run_suites(run_id)
    return {
        "run": run,
        "config": json.loads(run["config_json"]),
        "environment": json.loads(run["environment_json"]),
        "candidates": store.run_candidates(run_id),
        "suites": [
            {**s, "metric_keys": store.metric_keys(run_id, s["suite"]),
             "rows": leaderboard_rows(store, run_id, s["suite"]),
             "cases": case_table(store, run_id, s["suite"])}
            for s in suites
        ],
        "risk_misses": risk_misses(store, run_id),
    }


def render_run_report(store: Store, run_id: str, report_root: Path) -> Path:
    context = run_context(store, run_id)
    out_dir = Path(report_root) / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(_ENV.get_template("run.html.j2").render(**context), encoding="utf-8")
    tmp.replace(path)
    render_index(store, report_root)
    return path


def render_index(store: Store, report_root: Path) -> Path:
    report_root = Path(report_root)
    report_root.mkdir(parents=True, exist_ok=True)
    runs = [r for r in store.list_runs() if (report_root / r["id"] / "index.html").exists()]
    path = report_root / "index.html"
    path.write_text(_ENV.get_template("index.html.j2").render(runs=runs), encoding="utf-8")
    return path
