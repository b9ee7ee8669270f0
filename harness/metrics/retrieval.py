"""Retrieval quality of RAG candidates against each case's gold passage.

A retrieved chunk is relevant when its character span overlaps the gold passage's span in
the same document (the gold passage is located in the case's document text). When spans are
not available (no offsets, or the gold passage cannot be found in the document), text
containment decides instead. Because one gold passage may be split over two overlapping
windows, recall and nDCG credit the *fraction of the gold passage* a chunk covers:

- ``recall_at_k``: fraction of the gold passage's characters covered by the top-k chunks;
- ``ndcg_at_10``: gains are the newly covered fractions, discounted by log2(rank + 1); the
  ideal ranking covers the whole passage at rank 1, so IDCG = 1 and repeats earn nothing;
- ``mrr_at_10`` / ``hit_rate_at_10``: binary relevance (first relevant rank / any relevant).

Cases without a gold passage, or labelled unanswerable, score ``None`` (not applicable).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError
from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.rag.chunking import locate_passage as locate
from harness.suite import Case

KEYS: tuple[ValueKey, ...] = (
    ValueKey("recall_at_1", description="fraction of the gold passage covered by the top chunk"),
    ValueKey("recall_at_5", description="fraction of the gold passage covered by the top 5 chunks"),
    ValueKey("mrr_at_10", description="1 / rank of the first chunk overlapping the gold passage (0 if none in 10)"),
    ValueKey("ndcg_at_10", description="nDCG@10 with gains = newly covered fraction of the gold passage",
             label="nDCG@10"),
    ValueKey("hit_rate_at_10", description="1 if any of the top 10 chunks overlaps the gold passage"),
)
NONE_VALUES: dict[str, float | None] = {key.name: None for key in KEYS}
_SPACE = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def _union_length(intervals: list[tuple[int, int]]) -> int:
    total, current_end = 0, -1
    for start, end in sorted(intervals):
        if end <= current_end:
            continue
        total += end - max(start, current_end)
        current_end = end
    return total


@dataclass
class RetrievalJudgement:
    """Per-rank relevance and cumulative gold coverage for one case."""

    relevant: list[bool]
    coverage: list[float]  # coverage of the gold passage by the top-i chunks (cumulative)
    overlap: list[float]  # fraction of the gold passage each chunk covers on its own
    gold_span: tuple[int, int] | None
    match: str  # "span" or "text"

    def values(self) -> dict[str, float | None]:
        def recall(k: int) -> float:
            return self.coverage[min(k, len(self.coverage)) - 1] if self.coverage else 0.0

        top = self.relevant[:10]
        first = next((rank for rank, rel in enumerate(top, start=1) if rel), None)
        dcg, previous = 0.0, 0.0
        for rank, covered in enumerate(self.coverage[:10], start=1):
            dcg += (covered - previous) / math.log2(rank + 1)
            previous = covered
        return {
            "recall_at_1": recall(1),
            "recall_at_5": recall(5),
            "mrr_at_10": 1.0 / first if first else 0.0,
            "ndcg_at_10": dcg,
            "hit_rate_at_10": 1.0 if first else 0.0,
        }


def judge(
    retrieved: Sequence[dict[str, Any]],
    gold_passage: str,
    document: str | None,
    document_id: str | None,
    *,
    min_overlap_fraction: float = 0.0,
) -> RetrievalJudgement:
    """Decide, rank by rank, which retrieved chunks cover which part of the gold passage."""
    span = locate(document, gold_passage) if document else None
    gold_norm = _normalise(gold_passage)
    relevant: list[bool] = []
    coverage: list[float] = []
    overlap: list[float] = []
    intervals: list[tuple[int, int]] = []
    text_cover = 0.0
    for hit in retrieved:
        same_doc = document_id is None or hit.get("document_id") in (None, document_id)
        fraction = 0.0
        if same_doc and span is not None:
            start, end = hit.get("start"), hit.get("end")
            if (start is None or end is None) and document and hit.get("text"):
                found = locate(document, str(hit["text"]))
                start, end = found if found else (None, None)
            if start is not None and end is not None:
                lo, hi = max(int(start), span[0]), min(int(end), span[1])
                if hi > lo:
                    intervals.append((lo, hi))
                    fraction = (hi - lo) / (span[1] - span[0])
            covered = _union_length(intervals) / (span[1] - span[0])
        elif same_doc:
            text = _normalise(str(hit.get("text", "")))
            if gold_norm and gold_norm in text:
                fraction = 1.0
            elif text and text in gold_norm:
                fraction = len(text) / len(gold_norm)
            text_cover = min(1.0, text_cover + fraction)
            covered = text_cover
        else:
            covered = coverage[-1] if coverage else 0.0
        overlap.append(fraction)
        relevant.append(fraction > 0 and fraction >= min_overlap_fraction)
        coverage.append(covered)
    return RetrievalJudgement(relevant, coverage, overlap, span, "span" if span is not None else "text")


class RetrievalMetric:
    """Scores ``Output.retrieved`` against ``Case.gold_passage``; see the module docstring."""

    name = "retrieval"
    keys = KEYS

    def __init__(self, min_overlap_fraction: float = 0.0) -> None:
        if not 0.0 <= min_overlap_fraction <= 1.0:
            raise ConfigError(f"retrieval: min_overlap_fraction must be in [0, 1] (got {min_overlap_fraction})")
        self.min_overlap_fraction = min_overlap_fraction

    def score_one(self, case: Case, output: Output) -> CaseScore:
        if case.labels.answerable is False:
            return CaseScore(dict(NONE_VALUES), {"skipped": "case is labelled unanswerable"})
        if not case.gold_passage:
            return CaseScore(dict(NONE_VALUES), {"skipped": "case has no gold passage"})
        if output.retrieved is None:
            return CaseScore(dict(NONE_VALUES), {"skipped": "candidate does not retrieve"})
        verdict = judge(
            output.retrieved,
            case.gold_passage,
            case.document,
            case.document_id,
            min_overlap_fraction=self.min_overlap_fraction,
        )
        details = {
            "gold_passage": case.gold_passage,
            "gold_document_id": case.document_id,
            "gold_span": list(verdict.gold_span) if verdict.gold_span else None,
            "match": verdict.match,
            "retrieved": [
                {
                    "rank": rank,
                    "chunk_id": hit.get("chunk_id"),
                    "document_id": hit.get("document_id"),
                    "section": hit.get("section"),
                    "score": hit.get("score"),
                    "start": hit.get("start"),
                    "end": hit.get("end"),
                    "relevant": relevant,
                    "gold_overlap": round(fraction, 4),
                    "text": hit.get("text"),
                }
                for rank, (hit, relevant, fraction) in enumerate(
                    zip(output.retrieved[:10], verdict.relevant, verdict.overlap, strict=False), start=1
                )
            ],
        }
        return CaseScore(verdict.values(), details)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        if len(cases) != len(outputs):
            raise ValueError(f"retrieval: {len(cases)} cases but {len(outputs)} outputs")
        return [self.score_one(case, output) for case, output in zip(cases, outputs, strict=True)]


@register_metric("retrieval", family="retrieval", headline=("ndcg_at_10",), live=False, details="retrieval",
                 order=60)
def retrieval(min_overlap_fraction: float = 0.0) -> RetrievalMetric:
    """Recall@1/5, MRR@10, nDCG@10 and hit rate@10 of retrieved chunks against the gold passage.

    Args:
        min_overlap_fraction: share of the gold passage a chunk must cover to count as relevant
            for MRR and hit rate (0 = any overlap).
    """
    return RetrievalMetric(min_overlap_fraction)
