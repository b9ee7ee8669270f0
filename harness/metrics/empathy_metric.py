"""The ``empathy`` metric: EPITOME levels from the learned model (default) or the rules alone.

The rules (``harness.metrics.empathy``) mark the sentences carrying each mechanism; the learned model
(``harness.metrics.empathy_model``) reads those rules as features and decides the levels. This module
sits above both, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.empathy import score_empathy
from harness.metrics.text import dedupe_sentences
from harness.suite import Case


@register_metric("empathy", headline=("empathy_total",), details="empathy", order=30)
class Empathy:
    """EPITOME empathy of the model's response, conditioned on the seeker's text when present.

    By default three classifiers trained on EPITOME expert labels decide the levels (see
    ``harness.metrics.empathy_model``; they agree with experts far better than the rules, see
    docs/metrics.md); the rules still mark which sentences carry each mechanism for the report.

    Args:
        method: "model" (default) or "rules" (the hand-written rules alone, the pre-2026-12 behaviour).
        encoder: "lexical" (default, fast) or "minilm" (adds MiniLM embeddings; slower).
        models: optional ``{"empathy_er": path, "empathy_ip": path, "empathy_ex": path}`` of weights
            written by ``harness train-metric empathy`` (``empathy_sent_er`` ... for the sentence evidence
            heads); dimensions not named use the shipped weights.
        evidence: "model" (default): the highlighted sentences come from the sentence heads trained on
            EPITOME's rationales where they are confident; "rules": from the rules alone (faster).
    """

    name = "empathy"
    keys = (
        ValueKey("empathy_er", description="emotional reactions 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_ip", description="interpretations 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_ex", description="explorations 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_total", description="sum of the three, 0-6", bounds=(0.0, 6.0)),
    )

    def __init__(
        self, method: str = "model", encoder: str = "lexical", models: dict[str, str] | None = None,
        evidence: str = "model",
    ) -> None:
        if method not in ("model", "rules"):
            raise TypeError(f"empathy: unknown method {method!r} (known: model, rules)")
        if evidence not in ("model", "rules"):
            raise TypeError(f"empathy: unknown evidence {evidence!r} (known: model, rules)")
        self.models = dict(models or {})
        unknown = set(self.models) - {f"empathy_{k}{d}" for k in ("", "sent_") for d in ("er", "ip", "ex")}
        if unknown:
            raise TypeError(f"unknown empathy model kinds: {sorted(unknown)}")
        if method == "rules" and self.models:
            raise TypeError("empathy: models= needs method: model")
        self.method = method
        self.model: Any = None
        self.evidence: Any = None
        if method == "model":
            from harness.metrics.empathy_model import EmpathyModel

            self.model = EmpathyModel.default(encoder, self.models)
            self.evidence = self.model.evidence if evidence == "model" else None

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        seekers = [c.user_text for c in cases]
        responses = [o.text for o in outputs]
        scored = score_empathy_batch(seekers, responses, self.model, self.evidence)
        return [CaseScore(*_values(r, self.method)) for r in scored]


def score_empathy_batch(
    seekers: Sequence[str | None], responses: Sequence[str], model: Any = None, evidence: Any = None
) -> list[dict[str, Any]]:
    """``score_empathy`` for many pairs; with ``model`` (an ``EmpathyModel``) its levels replace the rules'.

    With ``evidence`` (an ``EvidenceModel``) the highlighted sentences are the ones it finds where it is
    confident, the rules' elsewhere; either way capped at the model's level (never above what it decided).
    """
    scored = [score_empathy(s, r) for s, r in zip(seekers, responses, strict=True)]
    if model is None:
        return scored
    from harness.metrics.empathy_evidence import split_responses

    known = [{(s["start"], s["end"]): (s["er"], s["ip"], s["ex"]) for s in result["sentences"]} for result in scored]
    rows = split_responses(seekers, responses, rule_levels=known)  # one pass: the heads' focus and the evidence
    once = [dedupe_sentences(r or "") for r in responses]  # a loop earns what saying it once earns
    for result, levels in zip(scored, model.predict(seekers, once, scored, rows), strict=True):
        for dim, level in levels.items():
            result[f"{dim}_rules"] = result[dim]
            result[dim] = level
        result["total"] = result["er"] + result["ip"] + result["ex"]
        result["source"] = f"model:{model.encoder}"
    if evidence is not None:
        _model_evidence(scored, rows, evidence)
    for result in scored:
        for sentence in result["sentences"]:  # evidence never shows a mechanism the model rules out
            for dim in ("er", "ip", "ex"):
                sentence[dim] = min(sentence[dim], result[dim])
        result["sentences"] = [s for s in result["sentences"] if s["er"] or s["ip"] or s["ex"]]
    return scored


def _model_evidence(scored: list[dict[str, Any]], rows: Any, evidence: Any) -> None:
    """Replace each result's sentences by every distinct sentence with the evidence heads' (or rules') levels."""
    from harness.metrics.empathy_evidence import CONFIDENT

    levels = evidence.levels(rows)
    rule_levels = [{(s["start"], s["end"]): s for s in result["sentences"]} for result in scored]
    for result in scored:
        result["sentences"] = []
    for k, (span, owner) in enumerate(zip(rows.spans, rows.owner, strict=True)):
        rules = rule_levels[owner].get((span.start, span.end), {})
        sentence: dict[str, Any] = {"text": span.text, "start": span.start, "end": span.end, "by": {}}
        for dim in ("er", "ip", "ex"):
            level, confidence = levels[dim][0][k], levels[dim][1][k]
            confident = confidence >= CONFIDENT
            sentence[dim] = int(level) if confident else int(rules.get(dim, 0))
            sentence["by"][dim] = "model" if confident else "rules"
        scored[owner]["sentences"].append(sentence)


def _values(result: dict[str, Any], method: str) -> tuple[dict[str, float | None], dict[str, Any]]:
    values: dict[str, float | None] = {
        "empathy_er": float(result["er"]),
        "empathy_ip": float(result["ip"]),
        "empathy_ex": float(result["ex"]),
        "empathy_total": float(result["total"]),
    }
    details = {"sentences": result["sentences"], "source": result.get("source", "rules")}
    if method == "model":
        details["rules"] = {d: result[f"{d}_rules"] for d in ("er", "ip", "ex")}
    return values, details
