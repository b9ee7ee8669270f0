"""The admin tabs: Results (agreement, ranking plot, preference export) and Review queue.

With logins on, only admins see these tabs (reviewers are not primed mid-study), and every handler
checks again, since a hidden tab's events can still be called.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from harness.playground.results_view import _md_escape, ranking_svg, results_markdown
from harness.playground.ui_context import AppContext
from harness.reviews import (
    assign_cases,
    assignment_progress,
    export_note,
    list_reviewers,
    review_summary,
    write_preference_pairs,
)

# Votes on these splits can become training pairs; test votes cannot (leakage), so a study queues here.
EXPORTABLE_SPLITS = ["train", "dev"]


@dataclass
class AdminTabs:
    results_tab: Any
    queue_tab: Any
    q_reviewers: Any
    q_candidates: Any


def build_results_tab(ctx: AppContext) -> Any:
    with gr.Tab("Results", id="results", visible=ctx.accounts is None) as results_tab:
        gr.Markdown("Agreement and ranking from blind reviews. With logins on, only admins see this tab, so "
                    "reviewers are not primed mid-study.")
        refresh_btn = gr.Button("Refresh results", elem_id="refresh-results")
        plot = gr.HTML(elem_id="ranking")
        results_md = gr.Markdown(elem_id="results")
        gr.Markdown("### Preference pairs for DPO")
        exclude_test = gr.Checkbox(value=True, label="Leave out test-split cases (they measure the candidates; "
                                                     "training on them leaks the test, and the DPO stage refuses it)",
                                   elem_id="exclude-test")
        export_btn = gr.Button("Export preference pairs (JSONL)", elem_id="export")
        export_status = gr.Markdown(elem_id="export-status")
        export_file = gr.File(label="Preference pairs", interactive=False, elem_id="export-file", height=80)

    def on_refresh(request: gr.Request) -> tuple[str, str]:
        if not ctx.is_admin(request):
            return "", "Results are visible to admins only."
        with ctx.engine.store() as store:
            summary = review_summary(store, resamples=500)
        return ranking_svg(summary["ranking"]), results_markdown(summary)

    refresh_btn.click(on_refresh, None, [plot, results_md], concurrency_limit=2)
    results_tab.select(on_refresh, None, [plot, results_md])

    def on_export(request: gr.Request, leave_out_test: bool) -> tuple[Any, str]:
        if not ctx.is_admin(request):
            return None, "Export is for admins only."
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path(tempfile.mkdtemp(prefix="harness-playground-export-")) / f"preference-pairs-{stamp}.jsonl"
        with ctx.engine.store() as store:
            count, skipped = write_preference_pairs(store, path, exclude_splits=["test"] if leave_out_test else [])
        return str(path), export_note(count, skipped) + " Use the file as a `preference_jsonl` dataset."

    export_btn.click(on_export, exclude_test, [export_file, export_status])
    return results_tab


def _progress_markdown(ctx: AppContext) -> str:
    with ctx.engine.store() as store:
        rows = assignment_progress(store)
    if not rows:
        return "_No assignments yet._"
    table = ["| Reviewer | Assigned | Done | Open |", "|---|---:|---:|---:|"]
    table += [f"| {_md_escape(r['reviewer'])} | {r['assigned']} | {r['done']} | {r['open']} |" for r in rows]
    return "\n".join(table)


def build_queue_tab(ctx: AppContext, suites: list[str], first_suite: str | None,
                    first_version: str | None) -> tuple[Any, Any, Any]:
    """Returns (tab, reviewer checkboxes, candidate checkboxes); both lists are filled on load for admins."""
    engine = ctx.engine
    with gr.Tab("Review queue", id="queue", visible=ctx.accounts is None) as queue_tab:
        gr.Markdown("Assign cases to reviewers. With overlap 2, every case goes to two different reviewers "
                    "(needed for agreement statistics). Display order is balanced across reviewers "
                    "(Latin square). Queue on **train/dev** cases if the votes should become DPO preference "
                    "pairs: test-split votes are never exported (they would leak the test).")
        with gr.Row():
            q_suite = gr.Dropdown(suites, value=first_suite, label="Suite", elem_id="q-suite")
            q_version = gr.Dropdown(engine.versions(first_suite) if first_suite else [], value=first_version,
                                    label="Version", elem_id="q-version")
            q_splits = gr.CheckboxGroup(["train", "dev", "test"], value=EXPORTABLE_SPLITS, label="Splits",
                                        elem_id="q-splits")
            q_limit = gr.Number(value=20, precision=0, minimum=1, label="Max cases")
        with gr.Row():
            q_candidates = gr.CheckboxGroup([], value=[], label="Candidates to compare (2–4)", elem_id="q-candidates")
            q_reviewers = gr.CheckboxGroup([], label="Reviewers", elem_id="q-reviewers")
            q_extra = gr.Textbox(label="More reviewers (comma-separated names)", visible=ctx.accounts is None)
        with gr.Row():
            q_overlap = gr.Number(value=2, precision=0, minimum=1, label="Reviewers per case (overlap)")
            q_seed = gr.Number(value=0, precision=0, label="Seed")
        assign_btn = gr.Button("Assign", variant="primary", elem_id="assign")
        assign_status = gr.Markdown(elem_id="assign-status")
        progress_md = gr.Markdown(elem_id="queue-progress")

    q_suite.input(lambda s: gr.update(choices=engine.versions(s), value=engine.default_version(s)), q_suite,
                  q_version)

    def on_assign(suite: str, version: str, splits: list[str], limit: float | None, chosen: list[str],
                  reviewers: list[str], extra: str, overlap: float | None, seed: float | None,
                  request: gr.Request) -> tuple[str, str]:
        if not ctx.is_admin(request):
            return "Only admins can assign cases.", ""
        people = list(reviewers or []) + [x for x in (extra or "").split(",") if x.strip()]
        try:
            loaded = engine.suite(suite, version)
            cases = [c.id for c in loaded.cases if c.split in set(splits or [])][: int(limit or 20)]
            if not cases:
                raise ValueError(f"no cases in the chosen splits ({', '.join(splits or []) or 'none'}) of "
                                 f"{suite}/{version}")
            with engine.store() as store:
                created = assign_cases(store, people, suite, version, loaded.hash, cases, list(chosen or []),
                                       overlap=int(overlap or 2), seed=int(seed or 0))
        except ValueError as exc:
            return f"⚠ {exc}", _progress_markdown(ctx)
        test_note = (" These are test-split cases: their votes count for agreement and ranking but never become "
                     "preference pairs." if set(splits or []) == {"test"} else "")
        return (f"Assigned {len(cases)} case(s) to {len(set(people))} reviewer(s), overlap {int(overlap or 2)}: "
                f"{created} new assignment(s).{test_note}"), _progress_markdown(ctx)

    assign_btn.click(on_assign, [q_suite, q_version, q_splits, q_limit, q_candidates, q_reviewers, q_extra,
                                 q_overlap, q_seed], [assign_status, progress_md], concurrency_limit=1)
    def on_queue_tab(request: gr.Request) -> str:
        return _progress_markdown(ctx) if ctx.is_admin(request) else ""

    queue_tab.select(on_queue_tab, None, progress_md)
    return queue_tab, q_reviewers, q_candidates


def reviewer_choices(ctx: AppContext) -> list[str]:
    with ctx.engine.store() as store:
        known = list_reviewers(store)
    return sorted(set(known) | set(ctx.accounts.usernames if ctx.accounts else []))
