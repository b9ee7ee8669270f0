"""Degenerate outputs: empty, looping (repeated sentences or phrases) or cut off at the token limit.

A small model under greedy decoding often falls into a loop ("I'm so sorry. I'm so sorry. ...").
Such a reply must never look good on a quality metric, so the scoring step
(``harness.scoring``) adds this metric to every suite and counts the quality metrics of a
degenerate output as 0. Truncation is reported on its own (``truncated``): a summary cut at the
token limit is incomplete but not necessarily a loop; word limits treat it as not within limit.

Thresholds (chosen on the rule, not on any suite): a loop is a sentence that occurs 3+ times,
or half or more of the sentences being repeats (at least 4 sentences), or, for text without
sentence breaks, 40% or more of its word 4-grams being repeats (at least 16 words).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.text import split_sentences, words
from harness.suite import Case

TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_length"})


def repetition_profile(text: str) -> dict[str, Any]:
    """Sentence and 4-gram repetition of a text, and whether it counts as a loop."""
    keys = [" ".join(words(s.text)) for s in split_sentences(text or "")]
    keys = [k for k in keys if k]
    counts = Counter(keys)
    repeated_sentences = len(keys) - len(counts)
    tokens = words(text or "")
    grams = [tuple(tokens[i : i + 4]) for i in range(max(0, len(tokens) - 3))]
    repeated_grams = len(grams) - len(set(grams))
    gram_share = repeated_grams / len(grams) if grams else 0.0
    top_sentence, top_count = counts.most_common(1)[0] if counts else ("", 0)
    loop = (
        top_count >= 3
        or (len(keys) >= 4 and repeated_sentences / len(keys) >= 0.5)
        or (len(tokens) >= 16 and gram_share >= 0.4)
    )
    return {
        "sentences": len(keys),
        "repeated_sentences": repeated_sentences,
        "most_repeated": top_sentence if top_count > 1 else None,
        "most_repeated_count": top_count,
        "repeated_4gram_share": round(gram_share, 3),
        "loop": loop,
    }


def is_truncated(output: Output) -> bool:
    """Cut at the token limit: the scoring step's ``truncated`` flag, else the backend's finish reason."""
    if "truncated" in output.meta:
        return bool(output.meta["truncated"])
    return str(output.meta.get("finish_reason") or "").lower() in TRUNCATION_REASONS


def degenerate_check(output: Output) -> tuple[dict[str, float], dict[str, Any]]:
    profile = repetition_profile(output.text)
    empty = len(words(output.text or "")) < 2
    values = {
        "degenerate": float(empty or profile["loop"]),
        "looping": float(profile["loop"]),
        "empty": float(empty),
        "truncated": float(is_truncated(output)),
        "repeated_sentence_share": profile["repeated_sentences"] / max(1, profile["sentences"]),
    }
    return values, {**profile, "empty": empty}


@register_metric("degenerate", family="format", order=80)
class Degenerate:
    """Empty, looping or truncated output (lower is better on every key)."""

    name = "degenerate"
    keys = (
        ValueKey("degenerate", False, "1 if the output is empty or loops; its quality metrics count as 0"),
        ValueKey("looping", False, "1 if a sentence or phrase repeats in a loop"),
        ValueKey("empty", False, "1 if the output has fewer than two words"),
        ValueKey("truncated", False, "1 if generation stopped at the token limit"),
        ValueKey("repeated_sentence_share", False, "share of sentences that repeat an earlier one"),
    )

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        return [CaseScore(*degenerate_check(output)) for output in outputs]
