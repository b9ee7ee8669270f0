"""The Review tab: pick or get a case, stream the responses, rate, vote, see the reveal.

Layout: responses 2 across (a 2x2 grid for four), equal in size. Blind reviewers never see
the candidate pool: outside the queue they compare the study's candidates
(:meth:`Playground.study_candidates`); the pool checkboxes are filled only for admins and only
shown when blind review is switched off. What each phase shows is decided in
:mod:`harness.playground.review_view`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from harness.playground.engine import Comparison
from harness.playground.review_view import (
    BLIND_REFERENCE,
    RUBRIC_CHOICES,
    Slot,
    render,
    stream_update,
    vote_choices,
)
from harness.playground.ui_context import SHORTCUTS_HELP, AppContext
from harness.reviews import LABELS, MAX_SHOWN, RUBRIC, RUBRIC_TITLES, clean_reviewer_name, next_assignment

log = logging.getLogger(__name__)
SOURCES = ("Suite case", "Free prompt")


@dataclass
class ReviewTab:
    """The components other builders and handlers need."""

    reviewer_name: Any
    state: Any
    assignment: Any
    next_btn: Any
    queue_md: Any
    source: Any
    suite_dd: Any
    version_dd: Any
    case_dd: Any
    case_box: Any
    case_heading: Any
    case_input: Any
    case_ref: Any
    free_box: Any
    free_text: Any
    consent: Any
    candidates_cb: Any
    blind_cb: Any
    generate_btn: Any
    status: Any
    slots: list[Slot]
    vote: Any
    comment: Any
    submit_btn: Any
    edit_btn: Any
    vote_status: Any

    @property
    def gen_outputs(self) -> list[Any]:
        return [self.state, self.status, self.vote, self.submit_btn, self.edit_btn, self.vote_status, self.comment,
                self.case_heading, self.case_ref, *[c for s in self.slots for c in s.outputs()]]

    @property
    def all_radios(self) -> list[Any]:
        return [r for s in self.slots for r in s.radios]


def _build_slots() -> list[Slot]:
    slots = []
    with gr.Row(elem_id="slots", elem_classes=["slots"]):
        for i, label in enumerate(LABELS[:MAX_SHOWN]):
            with gr.Column(visible=i < 2, elem_id=f"slot-{label}", elem_classes=["slot"], min_width=280) as column:
                head = gr.Markdown(f"### Response {label}", elem_id=f"header-{label}")
                note = gr.Markdown(visible=False, elem_id=f"note-{label}", elem_classes=["identical-note"])
                text = gr.Textbox(show_label=False, interactive=False, lines=6, max_lines=24,
                                  elem_id=f"response-{label}", elem_classes=["response"],
                                  placeholder="(not generated yet)")
                badges = gr.HTML(elem_id=f"badges-{label}")
                with gr.Group(elem_id=f"rubric-box-{label}") as box:
                    gr.Markdown(f"**Rate response {label}**: 1 = unacceptable … 5 = exemplary, or N/A. "
                                "Every scale needs an answer.")
                    radios = [gr.Radio(RUBRIC_CHOICES, label=RUBRIC_TITLES[d], elem_id=f"rubric-{label}-{d}",
                                       elem_classes=["rubric"]) for d in RUBRIC]
            slots.append(Slot(column, head, note, text, badges, box, radios))
    return slots


def build_review_tab(ctx: AppContext, suites: list[str], first_suite: str | None, first_version: str | None,
                     first_cases: list[tuple[str, str]], reviewer_name: Any, rubric_guide: str) -> ReviewTab:
    engine = ctx.engine
    with gr.Row(equal_height=True):
        next_btn = gr.Button("Next assigned case", elem_id="next-assigned", scale=0, min_width=220)
        queue_md = gr.Markdown(elem_id="queue-info")
        gr.Markdown(SHORTCUTS_HELP, elem_id="shortcuts-help")
    source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Prompt source", elem_id="source")
    with gr.Row():
        suite_dd = gr.Dropdown(suites, value=first_suite, label="Suite", elem_id="suite")
        version_dd = gr.Dropdown(engine.versions(first_suite) if first_suite else [], value=first_version,
                                 label="Version", elem_id="version")
        case_dd = gr.Dropdown(first_cases, value=first_cases[0][1] if first_cases else None, label="Case",
                              elem_id="case", scale=2)
    with gr.Group(visible=True) as case_box:
        case_heading = gr.Markdown(elem_id="case-heading")
        case_input = gr.Textbox(label="Case input (what the model is asked)", interactive=False, lines=3,
                                max_lines=14, elem_id="case-input", elem_classes=["case-input"])
        with gr.Accordion("Author labels and reference answer", open=False):
            case_ref = gr.Markdown(BLIND_REFERENCE, elem_id="case-ref")
    with gr.Group(visible=False) as free_box:
        free_text = gr.Textbox(label="Your prompt (sent as the help-seeker's / patient's message under the selected "
                                     "suite's system prompt; on a suite with documents, asked about the selected "
                                     "case's document)", lines=3, elem_id="free-text")
        consent = gr.Checkbox(label="Store this prompt and the responses with my review. I confirm it contains no "
                                    "identifying patient information. (Unticked: only hashes are stored, and nothing "
                                    "is written to the generation cache.)", value=False, elem_id="consent")
    with gr.Row(equal_height=True):
        # Filled on page load for admins only: a hidden component's choices still reach the browser.
        candidates_cb = gr.CheckboxGroup([], value=[], label=f"Candidates (2–{MAX_SHOWN}; names shown: not blind)",
                                         elem_id="candidates", visible=False)
        blind_cb = gr.Checkbox(value=True, label="Blind review: hide names, badges and labels until I vote",
                               elem_id="blind", visible=False)
    generate_btn = gr.Button("Generate responses", variant="primary", elem_id="generate")
    status = gr.Markdown(elem_id="status")
    slots = _build_slots()
    with gr.Accordion("Rubric guide", open=False):
        gr.Markdown(rubric_guide)
    vote = gr.Radio(vote_choices(["A", "B"]), label="Which response is better overall?", elem_id="vote")
    comment = gr.Textbox(label="Comment (optional; stored with your vote)", lines=2, elem_id="comment")
    with gr.Row():
        submit_btn = gr.Button("Submit vote", variant="primary", interactive=False, elem_id="submit-vote")
        edit_btn = gr.Button("Edit my vote", visible=False, elem_id="edit-vote")
    vote_status = gr.Markdown(elem_id="vote-status")
    tab = ReviewTab(reviewer_name, gr.State(None), gr.State(None), next_btn, queue_md, source, suite_dd, version_dd,
                    case_dd, case_box, case_heading, case_input, case_ref, free_box, free_text, consent,
                    candidates_cb, blind_cb, generate_btn, status, slots, vote, comment, submit_btn, edit_btn,
                    vote_status)
    _wire_case_picking(ctx, tab)
    _wire_generation(ctx, tab)
    _wire_voting(ctx, tab)
    return tab


def case_view(ctx: AppContext, suite: str | None, version: str | None, case_id: str | None,
              blind: bool = True) -> tuple[str, str, str]:
    if not (suite and version and case_id):
        return "", "", ""
    try:
        heading, text, ref = ctx.engine.case_text(suite, version, case_id, blind=bool(blind))
    except Exception as exc:
        return f"_Cannot show case: {exc}_", "", ""
    return heading, text, BLIND_REFERENCE if blind else ref


def _wire_case_picking(ctx: AppContext, tab: ReviewTab) -> None:
    engine = ctx.engine
    case_outputs = [tab.case_heading, tab.case_input, tab.case_ref]

    def on_source(value: str) -> tuple[Any, Any]:
        free = value == SOURCES[1]
        return gr.update(visible=not free), gr.update(visible=free)

    tab.source.change(on_source, tab.source, [tab.case_box, tab.free_box])

    def on_suite(suite: str, blind: bool) -> tuple[Any, ...]:
        version = engine.default_version(suite)
        cases = engine.case_choices(suite, version) if version else []
        first = cases[0][1] if cases else None
        return (gr.update(choices=engine.versions(suite), value=version), gr.update(choices=cases, value=first),
                *case_view(ctx, suite, version, first, blind))

    tab.suite_dd.input(on_suite, [tab.suite_dd, tab.blind_cb], [tab.version_dd, tab.case_dd, *case_outputs])

    def on_version(suite: str, version: str, blind: bool) -> tuple[Any, ...]:
        cases = engine.case_choices(suite, version)
        first = cases[0][1] if cases else None
        return gr.update(choices=cases, value=first), *case_view(ctx, suite, version, first, blind)

    tab.version_dd.input(on_version, [tab.suite_dd, tab.version_dd, tab.blind_cb], [tab.case_dd, *case_outputs])
    tab.case_dd.input(lambda s, v, c, b: case_view(ctx, s, v, c, b), [tab.suite_dd, tab.version_dd, tab.case_dd,
                                                                     tab.blind_cb], case_outputs)

    def on_blind(blind: bool, suite: str, version: str, case_id: str, request: gr.Request) -> tuple[Any, ...]:
        admin = ctx.is_admin(request)
        return (gr.update(visible=admin and not blind), *case_view(ctx, suite, version, case_id, blind or not admin))

    tab.blind_cb.change(on_blind, [tab.blind_cb, tab.suite_dd, tab.version_dd, tab.case_dd],
                        [tab.candidates_cb, *case_outputs])
    tab.reviewer_name.blur(lambda typed: ctx.queue_text(clean_reviewer_name(typed)), tab.reviewer_name, tab.queue_md)


def _pool(ctx: AppContext, request: Any, blind: bool, chosen: list[str], job_candidates: list[str] | None
          ) -> tuple[list[str], bool]:
    """Which candidates to compare, and whether blind: a non-admin is always blind and never picks;
    a blind comparison takes the queue's candidates or the study's."""
    admin = ctx.is_admin(request)
    blind = bool(blind) or not admin
    if blind:
        return list(job_candidates or ctx.engine.study_candidates()), True
    return list(chosen or []), False


def _wire_generation(ctx: AppContext, tab: ReviewTab) -> None:
    engine = ctx.engine
    outputs = tab.gen_outputs

    def refuse(message: str) -> list[Any]:
        return [gr.skip(), message, *[gr.skip()] * (len(outputs) - 2)]

    def on_generate(src: str, suite: str, version: str, case_id: str, prompt: str, consented: bool,
                    chosen: list[str], blind: bool, typed: str, job: dict[str, Any] | None,
                    request: gr.Request) -> Any:
        reviewer = ctx.identify(request, typed)
        free = src == SOURCES[1]
        matches_job = bool(job) and not free and (job["suite"], job["version"], job["case_id"]) == (
            suite, version, case_id)
        names, blind = _pool(ctx, request, blind, chosen, job["candidates"] if matches_job and job else None)
        if blind and not reviewer:
            yield refuse("⚠ Enter your name first: the blind order is balanced per reviewer.")
            return
        try:
            comparison = engine.start(reviewer=reviewer or "", suite=suite, version=version, candidates=names,
                                      blind=blind, case_id=None if free else case_id,
                                      free_text=prompt if free else None, consent=bool(consented) if free else False,
                                      assignment_id=job["id"] if matches_job and job else None,
                                      about_case=case_id if free else None)
        except Exception as exc:
            yield refuse(f"⚠ {exc}")
            return
        yield render(engine, comparison, f"Generating response A of {len(comparison.order)}…", "generating",
                     reset=True)
        yield from _generate_all(engine, comparison, outputs)

    gen_inputs = [tab.source, tab.suite_dd, tab.version_dd, tab.case_dd, tab.free_text, tab.consent,
                  tab.candidates_cb, tab.blind_cb, tab.reviewer_name, tab.assignment]
    tab.generate_btn.click(on_generate, gen_inputs, outputs, concurrency_limit=1, concurrency_id="generate")

    def on_next(typed: str, request: gr.Request) -> tuple[Any, ...]:
        reviewer = ctx.identify(request, typed)
        if not reviewer:
            return (None, "⚠ Enter your name first.", *[gr.skip()] * 10)
        with engine.store() as store:
            job = next_assignment(store, reviewer)
        if job is None:
            return (None, ctx.queue_text(reviewer) + " Your queue is empty.", *[gr.skip()] * 10)
        cases = engine.case_choices(job["suite"], job["version"])
        heading, text, ref = case_view(ctx, job["suite"], job["version"], job["case_id"], True)
        return (job, ctx.queue_text(reviewer), gr.update(value=SOURCES[0]), gr.update(value=job["suite"]),
                gr.update(choices=engine.versions(job["suite"]), value=job["version"]),
                gr.update(choices=cases, value=job["case_id"]), gr.update(value=True), heading, text, ref,
                gr.update(visible=True), gr.update(visible=False))

    next_outputs = [tab.assignment, tab.queue_md, tab.source, tab.suite_dd, tab.version_dd, tab.case_dd, tab.blind_cb,
                    tab.case_heading, tab.case_input, tab.case_ref, tab.case_box, tab.free_box]

    def on_generate_job(src: str, suite: str, version: str, case_id: str, prompt: str, consented: bool,
                        chosen: list[str], blind: bool, typed: str, job: dict[str, Any] | None,
                        request: gr.Request) -> Any:
        if job is None:  # empty queue: leave the page as it is
            yield [gr.skip()] * len(outputs)
            return
        yield from on_generate(src, suite, version, case_id, prompt, consented, chosen, blind, typed, job, request)

    tab.next_btn.click(on_next, [tab.reviewer_name], next_outputs).then(
        on_generate_job, gen_inputs, outputs, concurrency_limit=1, concurrency_id="generate")


def _generate_all(engine: Any, comparison: Comparison, outputs: list[Any]) -> Any:
    """Stream every response in turn, then collapse identical ones and open the vote."""
    n = len(comparison.order)
    for i in range(n):
        label = LABELS[i]
        last = 0.0
        for progress in engine.generate_stream(comparison, i):
            if progress.error is not None:
                log.error("generation failed", exc_info=progress.error)
                yield render(engine, comparison, f"⚠ Generation failed for response {label}: {progress.error}",
                             "generating")
                return
            if progress.result is not None:
                comparison.responses.append(progress.result)
                break
            if time.monotonic() - last >= 0.25:
                last = time.monotonic()
                yield stream_update(i, progress.text, f"Response {label} of {n}: {progress.estimate}", len(outputs))
        if i + 1 < n:
            yield render(engine, comparison, f"Generating response {LABELS[i + 1]} of {n}…", "generating")
    comparison.collapse()
    message = ("Ready. Read every response, rate every scale (or N/A), then vote."
               + (" All responses are identical: rate once and save; no choice is needed." if comparison.identical
                  else "")
               + (" Names, badges and labels are hidden until you vote." if comparison.blind else "")
               + (f" You voted on this comparison before (review #{comparison.edit_of}): a new vote replaces that "
                  "one." if comparison.edit_of else ""))
    yield render(engine, comparison, message, "ready")


def _wire_voting(ctx: AppContext, tab: ReviewTab) -> None:
    engine = ctx.engine
    outputs = [*tab.gen_outputs, tab.queue_md]

    def refuse(message: str) -> list[Any]:
        out: list[Any] = [gr.skip()] * len(outputs)
        out[5] = f"⚠ {message}"
        return out

    def on_vote(request: gr.Request, current: dict[str, Any] | None, choice: str | None, note: str, typed: str,
                *ratings: Any) -> list[Any]:
        comparison = Comparison.from_state(current)
        reviewer = ctx.identify(request, typed)
        if not reviewer:
            return refuse("Enter your name before voting: every judgement needs a reviewer.")
        if comparison is None or not comparison.complete:
            return refuse("Generate the responses first.")
        if comparison.review_id is not None:
            return refuse(f"Already saved as review #{comparison.review_id} (locked). Use *Edit my vote* to change it.")
        rubric = {label: dict(zip(RUBRIC, ratings[i * len(RUBRIC):(i + 1) * len(RUBRIC)], strict=True))
                  for i, label in enumerate(LABELS[: len(comparison.order)])}
        comparison.reviewer = reviewer
        edited = comparison.edit_of is not None
        try:
            comparison.review_id = engine.save(comparison, vote=choice, rubric=rubric, comment=note or "")
        except ValueError as exc:
            return refuse(f"Not saved: {exc}.")
        reveal = ", ".join(f"{r['label']} = **{r['candidate']}**" for r in comparison.responses)
        message = (f"🔒 {'Updated' if edited else 'Saved'} review #{comparison.review_id} as **{reviewer}** — "
                   f"locked. Revealed: {reveal}. Next: *Next assigned case* (key **n**), or pick another case. "
                   "*Edit my vote* reopens it.")
        return [*render(engine, comparison, gr.skip(), "saved", vote_message=message), ctx.queue_text(reviewer)]

    tab.submit_btn.click(on_vote, [tab.state, tab.vote, tab.comment, tab.reviewer_name, *tab.all_radios], outputs,
                         concurrency_limit=4, concurrency_id="vote")

    def on_edit(current: dict[str, Any] | None) -> list[Any]:
        comparison = Comparison.from_state(current)
        if comparison is None or comparison.review_id is None:
            return refuse("Nothing saved to edit.")
        comparison.edit_of, comparison.review_id = comparison.review_id, None
        # The names are revealed now: an edit is no longer a blind judgement, and is stored as such.
        was_blind, comparison.blind = comparison.blind, False
        message = (f"✎ Editing review #{comparison.edit_of}: change the ratings or vote and submit again."
                   + (" The names are already revealed, so the edited vote is stored as non-blind and leaves the "
                      "blind statistics." if was_blind else ""))
        return [*render(engine, comparison, gr.skip(), "editing", vote_message=message), gr.skip()]

    tab.edit_btn.click(on_edit, [tab.state], outputs)
