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
            written by ``harness train-metric empathy``; dimensions not named use the shipped weights.
    """

    name = "empathy"
    keys = (
        ValueKey("empathy_er", description="emotional reactions 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_ip", description="interpretations 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_ex", description="explorations 0-2 (EPITOME)", bounds=(0.0, 2.0)),
        ValueKey("empathy_total", description="sum of the three, 0-6", bounds=(0.0, 6.0)),
    )

    def __init__(self, method: str = "model", encoder: str = "lexical", models: dict[str, str] | None = None) -> None:
        if method not in ("model", "rules"):
            raise TypeError(f"empathy: unknown method {method!r} (known: model, rules)")
        self.models = dict(models or {})
        unknown = set(self.models) - {"empathy_er", "empathy_ip", "empathy_ex"}
        if unknown:
            raise TypeError(f"unknown empathy model kinds: {sorted(unknown)}")
        if method == "rules" and self.models:
            raise TypeError("empathy: models= needs method: model")
        self.method = method
        self.model: Any = None
        if method == "model":
            from harness.metrics.empathy_model import EmpathyModel

            self.model = EmpathyModel.default(encoder, self.models)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        seekers = [c.user_text for c in cases]
        responses = [o.text for o in outputs]
        return [CaseScore(*_values(r, self.method)) for r in score_empathy_batch(seekers, responses, self.model)]


def score_empathy_batch(
    seekers: Sequence[str | None], responses: Sequence[str], model: Any = None
) -> list[dict[str, Any]]:
    """``score_empathy`` for many pairs; with ``model`` (an ``EmpathyModel``) its levels replace the rules'.

    The rules' per-sentence levels stay as highlighted evidence, capped at the model's level.
    """
    scored = [score_empathy(s, r) for s, r in zip(seekers, responses, strict=True)]
    if model is None:
        return scored
    once = [dedupe_sentences(r or "") for r in responses]  # a loop earns what saying it once earns
    for result, levels in zip(scored, model.predict(seekers, once, scored), strict=True):
        for dim, level in levels.items():
            result[f"{dim}_rules"] = result[dim]
            result[dim] = level
        for sentence in result["sentences"]:  # evidence never shows a mechanism the model rules out
            for dim in ("er", "ip", "ex"):
                sentence[dim] = min(sentence[dim], result[dim])
        result["sentences"] = [s for s in result["sentences"] if s["er"] or s["ip"] or s["ex"]]
        result["total"] = result["er"] + result["ip"] + result["ex"]
        result["source"] = f"model:{model.encoder}"
    return scored


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
