"""``bleu_like``: clipped unigram precision times a brevity penalty, against the case's references.

A deliberately small BLEU-1 stand-in (no smoothing, no higher n-grams) to show what a team writes to
add a metric: a factory registered with its metadata, scoring a batch of (case, output) pairs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from harness.metrics import CaseScore, Output, ValueKey, register_metric
from harness.suite import Case

_WORD = re.compile(r"[a-z0-9']+")


def bleu1(prediction: str, reference: str) -> float:
    """Clipped unigram precision of ``prediction`` against ``reference``, times the brevity penalty."""
    pred, ref = _WORD.findall(prediction.lower()), _WORD.findall(reference.lower())
    if not pred or not ref:
        return 0.0
    overlap = sum((Counter(pred) & Counter(ref)).values())
    brevity = 1.0 if len(pred) >= len(ref) else math.exp(1 - len(ref) / len(pred))
    return overlap / len(pred) * brevity


@register_metric("bleu_like", headline=("bleu_like",), label="BLEU-1 (plugin)", order=15)
class BleuLike:
    """Best ``bleu1`` over the case's references; None when the case has no reference."""

    name = "bleu_like"
    keys = (ValueKey("bleu_like", description="clipped unigram precision x brevity penalty vs reference"),)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        scores = []
        for case, output in zip(cases, outputs, strict=True):
            refs = case.all_references
            if not refs:
                scores.append(CaseScore({"bleu_like": None}, {"reason": "no reference"}))
                continue
            scores.append(CaseScore({"bleu_like": max(bleu1(output.text, r) for r in refs)}, {"references": len(refs)}))
        return scores
