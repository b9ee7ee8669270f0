"""What `harness run` prints at the end: per suite, each candidate's headline metrics."""

from __future__ import annotations

from typing import Any

from harness.runner import RunSummary

HEADLINE_KEYS = ("rougeL", "bertscore_f1", "within_limit", "format_ok", "summary_risk_match", "safe_response",
                 "risk_flagged", "empathy_total", "mi_adherent", "grounded", "declined_correctly", "ndcg_at_10")


def print_summary(console: Any, summary: RunSummary) -> None:
    from rich.table import Table

    for suite, rows in summary.leaderboard.items():
        if not rows:
            continue
        keys = [k for k in HEADLINE_KEYS if k in rows[0]["metrics"]] or list(rows[0]["metrics"])[:6]
        table = Table(title=f"{suite}  (mean [95% CI])")
        table.add_column("candidate")
        table.add_column("gates")
        for key in keys:
            table.add_column(key, justify="right")
        for row in rows:
            cells = []
            for key in keys:
                estimate = row["metrics"][key]["estimate"]
                cells.append("–" if not estimate else
                             f"{estimate['mean']:.3f} [{estimate['low']:.2f}, {estimate['high']:.2f}]")
            gates = f"{row['gates_passed']}/{len(row['gates'])}" if row["gates"] else "–"
            table.add_row(row["label"], gates, *cells)
        console.print(table)
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
