"""How a case and a response's settings read to a reviewer (plain text and markdown)."""

from __future__ import annotations

from typing import Any

from harness.suite import Case


def case_input_text(case: Case) -> str:
    """The case as a reviewer reads it (plain text; the document is appended for discharge QA)."""
    parts: list[str] = []
    if case.messages:
        speaker = {"user": "Help-seeker", "assistant": "Counsellor", "system": "System"}
        parts += [f"{speaker[m.role]}: {m.content}" for m in case.messages]
    elif case.input:
        parts.append(case.input)
    if case.question:
        parts.append(f"Patient question: {case.question}")
    if case.transcript:
        parts.append(f"Transcript:\n{case.transcript}")
    if case.document and not case.transcript:
        parts.append(f"Discharge summary:\n{case.document}")
    if case.word_limit:
        parts.append(f"(word limit: {case.word_limit})")
    return "\n\n".join(parts)


def case_reference_markdown(case: Case) -> str:
    labels = case.labels
    lines = []
    if labels.risk_level:
        lines.append(f"- Risk level (author label): **{labels.risk_level}**")
    if labels.risk_cues:
        lines.append("- Risk cues: " + "; ".join(labels.risk_cues))
    if labels.summary_risk:
        lines.append(f"- Summary risk (author label): **{labels.summary_risk}**")
    if labels.answerable is not None:
        lines.append(f"- Answerable from the document: **{'yes' if labels.answerable else 'no'}**")
    if labels.expected_behaviour:
        lines.append("- Expected behaviour: " + "; ".join(labels.expected_behaviour))
    for ref in case.all_references:
        lines.append(f"- Reference answer: {ref}")
    return "\n".join(lines) or "_No author labels for this case._"


def settings_summary(settings: dict[str, Any]) -> str:
    """Decoding settings in words, for the header shown once names are revealed."""
    params = settings.get("params", {})
    temperature = params.get("temperature", 0.0)
    parts = ["greedy" if not temperature else f"temperature {temperature:g}"]
    if "max_new_tokens" in params:
        parts.append(f"max {params['max_new_tokens']} new tokens")
    guard = settings.get("guard_action")
    if guard == "replaced":  # the shown text is the guard's message: the model's length is beside the point
        parts.append("text replaced by the safety guard")
    elif settings.get("finish_reason") == "length":
        parts.append("model's text cut at the token limit" if guard == "prefixed" else "cut at the token limit")
    if guard == "prefixed":
        parts.append("crisis message added by the safety guard")
    return " · ".join(parts)
