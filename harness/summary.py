"""What `harness run` prints at the end: per suite, each candidate's headline and safety metrics.

Names are never cut ("candid…" told a reader nothing): cells and headers wrap instead, each
estimate sits on two lines (mean, then the 95% CI), and the safety keys a suite scores get a
table of their own, so a narrow terminal still shows every candidate's full name and every
safety column.
"""

from __future__ import annotations

from typing import Any

from harness.metrics import headline_keys, safety_keys
from harness.runner import RunSummary

# Which keys are headline and which are safety (shown whenever a suite scores them: a candidate's
# safety is never left off the console) comes from each metric's registration (harness.metrics.metadata).

def _cell(entry: dict[str, Any] | None) -> str:
    estimate = (entry or {}).get("estimate")
    if not estimate:
        return "–"
    n = f" n={estimate['n']}" if estimate.get("n") is not None else ""
    if estimate.get("low") is None or estimate.get("high") is None:
        return f"{estimate['mean']:.3f}\nno interval{n}"
    return f"{estimate['mean']:.3f}\n[{estimate['low']:.2f}, {estimate['high']:.2f}]{n}"


def _table(title: str, rows: list[dict[str, Any]], keys: list[str], *, gates: bool) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=True, title_justify="left")
    table.add_column("candidate", overflow="fold")
    if gates:
        table.add_column("gates", overflow="fold")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right", overflow="fold")
    for row in rows:
        cells = [_cell(row["metrics"].get(key)) for key in keys]
        gate_cell = [f"{row['gates_passed']}/{len(row['gates'])}" if row["gates"] else "–"] if gates else []
        table.add_row(row["label"] + (" (baseline)" if row.get("is_baseline") else ""), *gate_cell, *cells)
    return table


def suite_tables(suite: str, rows: list[dict[str, Any]], width: int = 120) -> list[Any]:
    """The quality and (when the suite scores any) safety tables of one suite, split so that each
    fits ``width`` columns: a table wider than the terminal would be cropped, hiding columns."""
    present = list(rows[0]["metrics"])
    safety, every_safety_key = safety_keys(present), set(safety_keys())
    quality = headline_keys(present) or [k for k in present if k not in every_safety_key][:6]
    per_table = max(1, (width - _CANDIDATE_WIDTH - _GATES_WIDTH) // _METRIC_WIDTH)
    tables = []
    for title, keys, gates in ((f"{suite}  (mean, 95% CI)", quality, True),
                               (f"{suite}  safety (share of applicable cases)", safety, False)):
        for start in range(0, len(keys), per_table):
            tables.append(_table(title, rows, keys[start:start + per_table], gates=gates and start == 0))
    return tables


# Narrowest readable widths (borders and padding included) used to split wide tables.
_CANDIDATE_WIDTH, _GATES_WIDTH, _METRIC_WIDTH = 16, 8, 11


def noop_adapter_warnings(store: Any, run_id: str) -> list[str]:
    """Candidates with an adapter whose every output equals that of a candidate on the same base without
    one: the fine-tune changed nothing a reader could see (too few steps, a tiny learning rate)."""
    candidates = store.run_candidates(run_id)
    texts: dict[str, dict[tuple[str, str, str], str]] = {}
    for row in store.outputs(run_id):
        text = row["meta"].get("unguarded_text", row["text"]) if row["meta"] else row["text"]
        texts.setdefault(row["candidate_fp"], {})[(row["suite"], row["version"], row["case_id"])] = text
    warnings = []
    for tuned in candidates:
        if not tuned["spec"].get("adapter_path"):
            continue
        for base in candidates:
            same_base = base["spec"].get("backend_identity") == tuned["spec"].get("backend_identity")
            if base["spec"].get("adapter_path") or not same_base:
                continue
            mine, theirs = texts.get(tuned["fingerprint"], {}), texts.get(base["fingerprint"], {})
            shared = set(mine) & set(theirs)
            if shared and all(mine[k] == theirs[k] for k in shared):
                warnings.append(f"warning: candidate {tuned['label']!r} wrote exactly what {base['label']!r} wrote "
                                f"on all {len(shared)} shared cases: its adapter changed no output (train longer "
                                "or with a higher learning rate?)")
                break
    return warnings


def verdict_lines(store: Any, run_id: str) -> list[str]:
    """The report's verdict as plain sentences (same computation, same store)."""
    from harness.verdict import run_suites, run_verdict

    return run_verdict(store, run_id, run_suites(store, run_id)).sentences


def print_summary(console: Any, summary: RunSummary, verdict: list[str] | None = None) -> None:
    for suite, rows in summary.leaderboard.items():
        if not rows:
            continue
        for table in suite_tables(suite, rows, console.width):
            console.print(table)
    if verdict:
        console.print("[bold]Verdict[/bold] (primary metrics vs the baseline, Holm-corrected; gates; risk misses):")
        for line in verdict:
            console.print(f"  {line}", highlight=False)
    console.print(
        f"run [bold]{summary.run_id}[/bold]: {summary.generated} model generations,"
        f" {summary.reused} outputs reused from cache,"
        f" {summary.seconds:.1f} s" + (" (resumed)" if summary.resumed else "")
    )
    for suite, release in summary.suite_release.items():
        if release.get("state") != "released":
            console.print(f"[bold yellow]{suite}: {release['label']}[/bold yellow]")
    if summary.report_path:
        console.print(f"report: {summary.report_path}")
