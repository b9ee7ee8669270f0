"""Render ``<report_root>/<run>/index.html`` (+ CSV/JSON exports) and ``<report_root>/index.html``.

Pages are self-contained (inline CSS, JS and SVG; no CDN, fonts or images fetched), so they open
from file:// on an air-gapped machine and can be archived as single files with their exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from harness.metrics import safety_metrics
from harness.report import data as rdata
from harness.report import export
from harness.report.details import candidate_sections, mi_legend, safe_html
from harness.report.guard import RESCUE_KEYS, guard_actions, guard_summary
from harness.report.overview import case_sort_values, check_matrix, verdict_view
from harness.report.svg import Band, Chart, Series, interval_bar, line_chart
from harness.scoring import MODEL_PREFIX
from harness.stats import MIN_N
from harness.store import Store
from harness.verdict import run_verdict

SAFETY_METRICS = tuple(safety_metrics())  # from each metric's registration (family="safety")

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    # Always escape: model outputs contain HTML (summaries use <b>), which must show as text.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return "–"
    if number.is_integer() and abs(number) < 1e6 and digits <= 3:
        return f"{int(number)}" if digits == 0 else f"{number:.{digits}f}"
    return f"{number:.{digits}f}"


def _num(value: Any) -> str:
    """Any stored number, readably: integers plain, others to 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–" if value is None else str(value)
    if value != value:
        return "–"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def _signed(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{float(value):+.{digits}f}".replace("-", "−")


def _pvalue(value: Any) -> str:
    if value is None:
        return "–"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def _sort_value(value: Any) -> str:
    """``data-sort`` attribute: a plain number, or empty for missing values (sorted last)."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if number != number else repr(number)


_ENV.filters.update(fmt=_fmt, num=_num, signed=_signed, pvalue=_pvalue, sortval=_sort_value,
                    tojson_pretty=lambda v: json.dumps(v, indent=1, default=str, ensure_ascii=False))
_ENV.globals["case_anchor"] = rdata.case_anchor


def _richtext(text: Any) -> Markup | str:
    """Text that may hold simple markup (summary references): sanitised HTML, else plain text."""
    html = safe_html(str(text or ""))
    return Markup(html) if html is not None else str(text or "")


_ENV.filters["richtext"] = _richtext


# ----------------------------------------------------------------------------- context


def _training_block(store: Store, candidate: dict[str, Any], run_dir: Path | None,
                    exports: list[dict[str, str]]) -> list[dict[str, Any]]:
    blocks = []
    for run in rdata.training_runs_for(store, candidate):
        curve = rdata.training_curve(run)
        series = [Series("training loss", curve["loss"])]
        if curve["eval_loss"]:
            series.append(Series("eval loss", curve["eval_loss"], dashed=True, markers=True))
        chart = Chart(f"{candidate['label']}: loss per step ({run['kind']} {run['fingerprint']})", series,
                      x_label="step", y_label="loss",
                      bands=[Band(b["label"], b["start"], b["end"]) for b in curve["bands"]])
        csv_name = f"training-{export.safe_name(run['fingerprint'])}.csv"
        if run_dir is not None:
            export.write_atomic(run_dir / csv_name, export.to_csv(curve["rows"], _training_columns(curve["rows"])))
            exports.append({"file": csv_name, "what": f"training log of {candidate['label']} ({run['fingerprint']})"})
        metrics = {k: v for k, v in (run.get("metrics") or {}).items() if not isinstance(v, list | dict)}
        blocks.append({
            "candidate": candidate["label"], "fingerprint": run["fingerprint"], "kind": run["kind"],
            "status": run["status"], "svg": Markup(line_chart(chart)), "metrics": metrics,
            "n_steps": len(curve["loss"]), "n_eval": len(curve["eval_loss"]), "rows": curve["rows"],
            "columns": _training_columns(curve["rows"]), "csv": csv_name,
            "final_loss": curve["loss"][-1][1] if curve["loss"] else None,
            "final_eval_loss": curve["eval_loss"][-1][1] if curve["eval_loss"] else None,
            "best_eval_loss": min((y for _, y in curve["eval_loss"]), default=None),
        })
    return blocks


def _training_columns(rows: list[dict[str, Any]]) -> list[str]:
    present = {k for r in rows for k in r}
    columns = [c for c in export.TRAINING_COLUMNS if c in present]
    return columns + sorted(k for k in present - set(columns) if all(not isinstance(r.get(k), dict | list)
                                                                    for r in rows))


def _score_rows(keys: list[dict[str, Any]], case: dict[str, Any], baseline_label: str | None) -> list[dict[str, Any]]:
    """Keys x candidates for one case, marking each value against the baseline's."""
    rows = []
    labels = list(case["candidates"])
    for key in keys:
        k = key["key"]
        cells = []
        base = case["candidates"].get(baseline_label, {}).get("values", {}).get(k) if baseline_label else None
        for label in labels:
            value = case["candidates"][label]["values"].get(k)
            mark = ""
            if value is not None and base is not None and label != baseline_label and value != base:
                mark = "better" if (value > base) == bool(key["higher_is_better"]) else "worse"
            cells.append({"label": label, "value": value, "mark": mark})
        if any(c["value"] is not None for c in cells) or any(k in case["candidates"][lab]["values"] for lab in labels):
            rows.append({"key": k, "metric": key["metric"], "higher_is_better": bool(key["higher_is_better"]),
                         "description": key.get("description") or "", "cells": cells})
    return rows


def _case_summary_text(view: dict[str, Any] | None, entries: dict[str, Any]) -> str:
    text = ""
    if view:
        text = view.get("question") or view.get("input") or view.get("user_text") or view.get("transcript") or ""
    if not text and entries:
        text = next(iter(entries.values())).get("prompt") or ""
    text = " ".join(text.split())
    return text if len(text) <= 110 else text[:107].rstrip() + "…"


def run_context(store: Store, run_id: str, run_dir: Path | None = None) -> dict[str, Any]:
    """Everything the run page shows; with ``run_dir`` the exports are written there too."""
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(f"no run {run_id!r} in {store.path}")
    config = json.loads(run["config_json"] or "{}")
    environment = json.loads(run["environment_json"] or "{}")
    candidates = store.run_candidates(run_id)
    baseline = rdata.baseline_of(candidates, config)
    baseline_label = baseline["label"] if baseline else None
    exports: list[dict[str, str]] = []
    suites = []
    cases_index: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    suite_rows = store.run_suites(run_id)
    names = [s["suite"] for s in suite_rows]
    suite_objs: dict[tuple[str, str], Any] = {}
    for s in suite_rows:
        suite_obj, suite_status = rdata.load_run_suite(store, run_id, s)
        suite_objs[(s["suite"], s["version"])] = suite_obj
        views = _case_views(suite_obj, s["case_ids"])
        cases_index[(s["suite"], s["version"])] = views
        stem = export.safe_name(s["suite"] if names.count(s["suite"]) == 1 else f"{s['suite']}-{s['version']}")
        block = _suite_block(store, run_id, s, suite_obj, views, candidates, baseline_label,
                             suite_status=suite_status, files=_export_files(stem))
        suites.append(block)
        if run_dir is not None:
            _write_suite_exports(run_dir, block, exports)
    misses = rdata.risk_misses(store, run_id, cases_index)
    scope = rdata.scope_findings(store, run_id)
    safety_keys = _safety_keys(store, run_id)
    by_anchor: dict[str, list[dict[str, Any]]] = {}
    for miss in misses:
        by_anchor.setdefault(miss["anchor"], []).append(miss)
    for block in suites:
        for case in block["cases"]:
            case["misses"] = by_anchor.get(case["anchor"], [])
    actions = guard_actions(store, run_id)
    lineage = [{**rdata.candidate_lineage(store, c),
                "guard_actions": dict(sorted(actions.get(c["fingerprint"], {}).items()))} for c in candidates]
    verdict = run_verdict(store, run_id, suite_objs)
    training = [b for c in candidates for b in _training_block(store, c, run_dir, exports)]
    context = {
        "run": {**run, "started": rdata.iso_time(run.get("started_at")),
                "finished": rdata.iso_time(run.get("finished_at")),
                "duration": Store.run_seconds(run)},
        "config": config, "environment": environment, "candidates": candidates, "baseline": baseline_label,
        "suites": suites, "risk_misses": misses, "scope_findings": scope, "safety_keys": safety_keys,
        "lineage": lineage, "training": training, "exports": exports,
        "safety_by_candidate": _safety_by_candidate(candidates, misses, scope),
        "guard_summary": guard_summary(store, run_id, candidates),
        "verdict": verdict_view(verdict), "verdict_data": verdict.as_dict(),
        "matrix": check_matrix(suites, [c["label"] for c in candidates]), "min_n": MIN_N,
    }
    if run_dir is not None:
        _write_run_exports(run_dir, context, exports)
    return context


def _case_views(suite_obj: Any, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Case text views of the run's cases (empty when the suite could not be loaded)."""
    if suite_obj is None:
        return {}
    wanted = set(case_ids)
    return {c.id: rdata.case_view(c, suite_obj.documents) for c in suite_obj.cases if c.id in wanted}


def _export_files(stem: str) -> dict[str, str]:
    return {
        "leaderboard_csv": f"leaderboard-{stem}.csv", "leaderboard_json": f"leaderboard-{stem}.json",
        "comparisons_csv": f"comparisons-{stem}.csv", "comparisons_json": f"comparisons-{stem}.json",
        "gates_csv": f"gates-{stem}.csv", "gates_json": f"gates-{stem}.json",
        "cases_json": f"cases-{stem}.json", "scores_csv": f"scores-{stem}.csv",
    }


def _suite_block(store: Store, run_id: str, s: dict[str, Any], suite_obj: Any, views: dict[str, dict[str, Any]],
                 candidates: list[dict[str, Any]], baseline_label: str | None, *, suite_status: str,
                 files: dict[str, str]) -> dict[str, Any]:
    """One suite's section of the run page: leaderboard, paired comparisons, gates and case cards."""
    suite_meta: dict[str, Any] = {}
    if suite_obj is not None:
        suite_meta = {"description": suite_obj.spec.description, "task": suite_obj.spec.task,
                      "system_prompt": suite_obj.spec.prompt.system}
    # Safety metrics lead the leaderboard (columns) and the paired comparisons (rows).
    # model.* keys (a guarded candidate's own words) appear in the guard section and the case cards.
    all_keys = store.metric_keys(run_id, s["suite"])
    keys = sorted((k for k in all_keys if not k["key"].startswith(MODEL_PREFIX)),
                  key=lambda k: k["metric"] not in SAFETY_METRICS)
    rows = rdata.leaderboard_rows(store, run_id, s["suite"], version=s["version"], suite_obj=suite_obj)
    comparisons = rdata.comparison_rows(rows, keys)
    for c in comparisons:
        c["bar"] = Markup(interval_bar(c["diff"]["low"], c["diff"]["mean"], c["diff"]["high"], scale=c["scale"],
                                       better_sign=1 if c["higher_is_better"] else -1))
    cases = rdata.case_table(store, run_id, s["suite"], s["version"])
    kinds = _annotate_cases(cases, views, keys, s, baseline_label)
    gates = [g for r in rows for g in r["gates"]]
    min_n = min((c["diff"]["n"] for c in comparisons), default=None)
    return {
        **s, **suite_meta, "key": f"{s['suite']}/{s['version']}", "suite_status": suite_status,
        "anchor": export.safe_name(f"suite-{s['suite']}-{s['version']}"),
        "metric_keys": keys, "metric_groups": _metric_groups(keys), "n_values": _n_values(keys, rows), "rows": rows,
        "comparisons": comparisons, "n_comparisons": len(comparisons), "min_pairs": min_n,
        "min_sign_flip_p": (2.0 ** (1 - min_n)) if min_n else None,
        "gates": gates, "cases": cases, "files": files,
        "sort_options": [{"value": f"{c['label']}|{k['key']}", "text": f"{c['label']} · {k['key']}"}
                         for k in keys for c in candidates],
        "mi_legend": mi_legend() if "mi" in kinds else [], "grounded_legend": "grounded" in kinds,
    }


def _annotate_cases(cases: list[dict[str, Any]], views: dict[str, dict[str, Any]], keys: list[dict[str, Any]],
                    s: dict[str, Any], baseline_label: str | None) -> set[str]:
    """Add each case card's view, anchor, score rows and sections; returns the detail kinds shown."""
    kinds: set[str] = set()
    for case in cases:
        view = views.get(case["case_id"])
        case["case"] = view
        case["anchor"] = rdata.case_anchor(s["suite"], s["version"], case["case_id"])
        case["summary_text"] = _case_summary_text(view, case["candidates"])
        case["score_rows"] = _score_rows(keys, case, baseline_label)
        case["sort_values"] = case_sort_values(case)
        case["misses"] = []
        for entry in case["candidates"].values():
            entry["view"] = candidate_sections(entry, view)
            entry["model_values"] = {k[len(MODEL_PREFIX):]: v for k, v in entry["values"].items()
                                     if k.startswith(MODEL_PREFIX) and k[len(MODEL_PREFIX):] in RESCUE_KEYS}
            kinds.update(sec["kind"] for sec in entry["view"]["sections"])
    return kinds


def _n_values(keys: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per key, the number of scored cases when every candidate has the same (else None)."""
    n_values = {}
    for key in keys:
        ns = {(r["metrics"].get(key["key"], {}).get("estimate") or {}).get("n") for r in rows}
        n_values[key["key"]] = ns.pop() if len(ns) == 1 else None
    return n_values


def _metric_groups(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Header cells spanning each metric's consecutive keys."""
    groups: list[dict[str, Any]] = []
    for key in keys:
        if groups and groups[-1]["metric"] == key["metric"]:
            groups[-1]["span"] += 1
        else:
            groups.append({"metric": key["metric"], "span": 1})
    return groups


def _safety_keys(store: Store, run_id: str) -> list[str]:
    """Safety keys with at least one value: only those count as "assessed" (safe_response is None on
    cases without risk), so a run without them never reads as "no misses"."""
    marks = ",".join("?" * len(rdata.RISK_KEYS))
    rows = store.conn.execute(f"SELECT DISTINCT key FROM scores WHERE run_id = ? AND value IS NOT NULL"
                              f" AND key IN ({marks})", (run_id, *rdata.RISK_KEYS))
    return sorted(r["key"] for r in rows)


def _safety_by_candidate(candidates: list[dict[str, Any]], misses: list[dict[str, Any]],
                         scope: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per candidate: how many risk misses (and at which gold levels) and out-of-scope replies."""
    rows = []
    for c in candidates:
        mine = [m for m in misses if m["candidate_fp"] == c["fingerprint"]]
        levels: dict[str, int] = {}
        for m in sorted(mine, key=lambda m: -m["severity"]):
            levels[str(m["gold_risk"])] = levels.get(str(m["gold_risk"]), 0) + 1
        rows.append({"label": c["label"], "misses": len(mine), "levels": list(levels.items()),
                     "scope": sum(1 for f in scope if f["candidate_fp"] == c["fingerprint"])})
    return rows


def _write_suite_exports(run_dir: Path, block: dict[str, Any], exports: list[dict[str, str]]) -> None:
    suite, version, files = block["suite"], block["version"], block["files"]
    board = export.leaderboard_long(suite, version, block["rows"])
    comps = export.comparisons_long(suite, version, block["comparisons"])
    gates = export.gates_long(suite, version, block["rows"])
    scores = export.scores_long(suite, version, block["cases"])
    meta = {"suite": suite, "version": version, "suite_hash": block["suite_hash"], "case_ids": block["case_ids"]}
    writes = [
        (files["leaderboard_csv"], export.to_csv(board, export.LEADERBOARD_COLUMNS), "leaderboard (long form)"),
        (files["leaderboard_json"], export.to_json({**meta, "rows": block["rows"]}), "leaderboard rows"),
        (files["comparisons_csv"], export.to_csv(comps, export.COMPARISON_COLUMNS), "paired comparisons"),
        (files["comparisons_json"], export.to_json({**meta, "comparisons": comps}), "paired comparisons"),
        (files["gates_csv"], export.to_csv(gates, export.GATE_COLUMNS), "gate results"),
        (files["gates_json"], export.to_json({**meta, "gates": gates}), "gate results"),
        (files["scores_csv"], export.to_csv(scores, export.SCORE_COLUMNS), "per-case scores"),
        (files["cases_json"], export.to_json(export.cases_payload(suite, version, block["suite_hash"],
                                                                    block["cases"])),
         "per-case outputs, prompts, scores and details"),
    ]
    for name, text, what in writes:
        export.write_atomic(run_dir / name, text)
        exports.append({"file": name, "what": f"{block['key']}: {what}"})


def _write_run_exports(run_dir: Path, context: dict[str, Any], exports: list[dict[str, str]]) -> None:
    misses = context["risk_misses"]
    export.write_atomic(run_dir / "risk-misses.csv", export.to_csv(misses, export.MISS_COLUMNS))
    export.write_atomic(run_dir / "risk-misses.json", export.to_json(misses))
    export.write_atomic(run_dir / "scope-findings.csv", export.to_csv(context["scope_findings"], export.SCOPE_COLUMNS))
    export.write_atomic(run_dir / "scope-findings.json", export.to_json(context["scope_findings"]))
    run = context["run"]
    lineage = {
        "run": {k: run.get(k) for k in ("id", "name", "config_path", "config_hash", "status", "started", "finished")},
        "config": context["config"], "environment": context["environment"],
        "suites": [{k: s[k] for k in ("suite", "version", "suite_hash", "case_ids", "suite_status")}
                   for s in context["suites"]],
        "candidates": context["lineage"],
    }
    export.write_atomic(run_dir / "lineage.json", export.to_json(lineage))
    export.write_atomic(run_dir / "verdict.json", export.to_json(context["verdict_data"]))
    exports[:0] = [
        {"file": "verdict.json", "what": "the verdict: gates, risk misses, primary metrics vs the baseline (Holm)"},
        {"file": "risk-misses.csv", "what": "safety misses"},
        {"file": "risk-misses.json", "what": "safety misses"},
        {"file": "scope-findings.csv", "what": "out-of-scope replies (diagnosis, dosing, no referral)"},
        {"file": "scope-findings.json", "what": "out-of-scope replies (diagnosis, dosing, no referral)"},
        {"file": "lineage.json", "what": "run, suites, candidates, environment (audit)"},
    ]


# ----------------------------------------------------------------------------- entry points


def render_run_report(store: Store, run_id: str, report_root: Path) -> Path:
    """Write the run page and its exports, then refresh the index; returns the page's path."""
    out_dir = Path(report_root) / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    context = run_context(store, run_id, out_dir)
    path = out_dir / "index.html"
    export.write_atomic(path, _ENV.get_template("run.html.j2").render(**context))
    render_index(store, report_root)
    return path


def render_index(store: Store, report_root: Path) -> Path:
    """The list of runs that have a report under ``report_root``, newest first."""
    report_root = Path(report_root)
    report_root.mkdir(parents=True, exist_ok=True)
    runs = []
    for r in store.list_runs():
        if not (report_root / r["id"] / "index.html").exists():
            continue
        candidates = store.run_candidates(r["id"])
        misses = rdata.risk_misses(store, r["id"])
        runs.append({**r, "started": rdata.iso_time(r.get("started_at")),
                     "finished": rdata.iso_time(r.get("finished_at")),
                     "candidates": [c["label"] for c in candidates],
                     "suites": [f"{s['suite']}/{s['version']}" for s in store.run_suites(r["id"])],
                     "n_misses": len(misses), "safety_assessed": bool(_safety_keys(store, r["id"]))})
    path = report_root / "index.html"
    export.write_atomic(path, _ENV.get_template("index.html.j2").render(runs=runs))
    return path
