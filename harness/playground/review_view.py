"""What the Review tab shows for a comparison in each phase, as Gradio updates.

Blind review, Chatbot-Arena style: until the vote, responses carry only their letter: no
candidate name, no metric badges, no risk tags or author labels, no guard action. After the vote
(phase ``saved``) all of it is revealed. Identical responses are shown once. Kept apart from the
event wiring so each phase's rule sits in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr

from harness.playground.case_text import settings_summary
from harness.playground.engine import Comparison, Playground
from harness.review_design import NOT_APPLICABLE, group_of
from harness.reviews import LABELS, MAX_SHOWN, RUBRIC

Phase = Literal["generating", "ready", "saved", "editing"]
RUBRIC_CHOICES = [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"), ("N/A", NOT_APPLICABLE)]
BLIND_REFERENCE = "_Author labels, risk tags and the reference answer are shown after your vote (blind review)._"
BADGES_AFTER_VOTE = "<em class='badges-hidden'>Automated checks and the safety guard's action appear after your " \
                    "vote.</em>"


@dataclass
class Slot:
    """One response's place on the page (A-D)."""

    column: Any
    header: Any
    note: Any
    text: Any
    badges: Any
    rubric_box: Any
    radios: list[Any]

    def outputs(self) -> list[Any]:
        return [self.column, self.header, self.note, self.text, self.badges, self.rubric_box, *self.radios]


SLOT_WIDTH = 6 + len(RUBRIC)  # len(Slot.outputs())


def vote_choices(labels: list[str]) -> list[tuple[str, str]]:
    """Vote options for the labels a reviewer reads (identical texts count once)."""
    if len(labels) <= 2:
        return [(f"{label} is better", label) for label in labels] + [("Tie (equally good)", "tie"),
                                                                      ("Both bad", "both_bad")]
    return [(f"{label} is best", label) for label in labels] + [("Tie (no clear best)", "tie"),
                                                               ("All bad", "both_bad")]


def header(comparison: Comparison | None, index: int, revealed: bool) -> str:
    label = LABELS[index]
    if comparison is None or index >= len(comparison.order) or (comparison.blind and not revealed):
        return f"### Response {label}"
    name = comparison.order[index]
    done = next((r for r in comparison.responses if r["label"] == label), None)
    if done is None:
        return f"### Response {label} — {name}"
    return f"### Response {label} — {name}\n`{done['fingerprint'][:8]}` · {settings_summary(done['settings'])}"


def _note(comparison: Comparison, label: str) -> str:
    if not comparison.complete or label in comparison.same_as:
        return ""
    group = group_of(label, comparison.same_as)
    if len(group) < 2:
        return ""
    if comparison.identical:
        return (f"**All {len(group)} responses are identical** (shown once). Rate it once; no choice is "
                "needed, and the vote is recorded as a tie (identical responses).")
    others = ", ".join(g for g in group if g != label)
    return f"**Identical to response {others}** (shown once): rated once, and choosing {label} chooses both."


def slot_updates(comparison: Comparison, index: int, phase: Phase, *, reset: bool) -> list[Any]:
    """Column, header, note, text, badges, rubric box and radios of one slot."""
    n = len(comparison.order)
    if index >= n:
        return [gr.update(visible=False), *[gr.skip()] * (SLOT_WIDTH - 1)]
    label = LABELS[index]
    revealed = phase in ("saved", "editing") or not comparison.blind
    done = next((r for r in comparison.responses if r["label"] == label), None)
    collapsed = label in comparison.same_as
    note = _note(comparison, label)
    locked = phase == "saved"
    badges = (done["badges_html"] if revealed else BADGES_AFTER_VOTE) if done else "<em>generating…</em>"
    radios = [gr.update(value=None, interactive=True) if reset else gr.update(interactive=not locked)
              for _ in RUBRIC]
    return [gr.update(visible=not collapsed), header(comparison, index, revealed),
            gr.update(value=note, visible=bool(note)), done["text"] if done else "", badges,
            gr.update(visible=not collapsed), *radios]


def render(engine: Playground, comparison: Comparison, message: str, phase: Phase, *, reset: bool = False,
           vote_message: str | None = None) -> list[Any]:
    """Every output of a generate / vote / edit event (see :data:`OUTPUT_NAMES` for the order)."""
    ready = phase in ("ready", "editing")
    identical = comparison.identical
    labels = comparison.shown_labels if comparison.complete else list(LABELS[: len(comparison.order)])
    vote = gr.update(choices=vote_choices(labels), visible=not identical, interactive=phase != "saved",
                     **({"value": None} if reset or phase == "ready" else {}))
    submit = gr.update(interactive=ready, value="Save rating" if identical else "Submit vote")
    heading, reference = case_panel(engine, comparison, revealed=phase in ("saved", "editing")
                                    or not comparison.blind)
    out: list[Any] = [comparison.to_state(), message, vote, submit, gr.update(visible=phase == "saved"),
                      vote_message if vote_message is not None else ("" if reset else gr.skip()),
                      gr.update(value="", interactive=True) if reset else gr.update(interactive=phase != "saved"),
                      heading, reference]
    for i in range(MAX_SHOWN):
        out += slot_updates(comparison, i, phase, reset=reset)
    return out


def stream_update(index: int, text: str, message: str, n_outputs: int) -> list[Any]:
    """While response ``index`` streams: only its text and the status line change."""
    out: list[Any] = [gr.skip()] * n_outputs
    out[1] = message
    out[len(OUTPUT_NAMES) + index * SLOT_WIDTH + 3] = text
    return out


OUTPUT_NAMES = ("state", "status", "vote", "submit", "edit", "vote_status", "comment", "case_heading", "case_ref")


def case_panel(engine: Playground, comparison: Comparison, *, revealed: bool) -> tuple[Any, Any]:
    """Case heading and author labels: without tags and labels until the vote in blind review."""
    if comparison.source != "suite":
        return gr.skip(), gr.skip()
    try:
        heading, _, reference = engine.case_text(comparison.suite, comparison.version, comparison.case_id,
                                                 blind=not revealed)
    except Exception as exc:  # a case that vanished from the suite must not break the page
        return f"_Cannot show case: {exc}_", ""
    return heading, reference if revealed else BLIND_REFERENCE
