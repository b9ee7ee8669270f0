from __future__ import annotations

import math
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.metrics import Output, build_metric, metric_names
from harness.suite import Case

DOC = (
    "DISCHARGE MEDICATIONS:\n1. Furosemide 40 mg every morning.\n\n"
    "DIET: Low sodium diet, less than 2 grams of salt per day.\n\n"
    "FOLLOW-UP:\nSee Dr. Patel on Monday.\n"
)
GOLD = "Low sodium diet, less than 2 grams of salt per day."
GOLD_START = DOC.index(GOLD)


def case(**overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "id": "c1", "split": "test", "document_id": "doc-1", "document": DOC,
        "question": "What can I eat?", "gold_passage": GOLD, "labels": {"answerable": True},
    }
    fields.update(overrides)
    return Case(**fields)


def hit(start: int, end: int, document_id: str = "doc-1", section: str = "X", chunk_id: str | None = None,
        score: float = 0.5) -> dict[str, Any]:
    return {"text": DOC[start:end], "document_id": document_id, "section": section, "start": start, "end": end,
            "score": score, "chunk_id": chunk_id or f"{document_id}:{start}-{end}"}


MEDS = hit(0, DOC.index("\n\nDIET"), section="DISCHARGE MEDICATIONS")
DIET = hit(DOC.index("DIET"), DOC.index("\n\nFOLLOW"), section="DIET")
FOLLOW = hit(DOC.index("FOLLOW"), len(DOC) - 1, section="FOLLOW-UP")


def score(retrieved: list[dict[str, Any]] | None, **overrides: Any) -> Any:
    metric = build_metric("retrieval")
    return metric.score([case(**overrides)], [Output(text="", retrieved=retrieved)])[0]


def test_metric_is_registered_with_its_keys() -> None:
    assert "retrieval" in metric_names()
    keys = [k.name for k in build_metric("retrieval").keys]
    assert keys == ["recall_at_1", "recall_at_5", "mrr_at_10", "ndcg_at_10", "hit_rate_at_10"]


def test_gold_chunk_first_scores_one_everywhere() -> None:
    result = score([DIET, MEDS, FOLLOW])
    assert result.values == {"recall_at_1": 1.0, "recall_at_5": 1.0, "mrr_at_10": 1.0, "ndcg_at_10": 1.0,
                             "hit_rate_at_10": 1.0}


def test_gold_chunk_third_is_discounted() -> None:
    values = score([MEDS, FOLLOW, DIET]).values
    assert values["recall_at_1"] == 0.0
    assert values["recall_at_5"] == 1.0
    assert values["mrr_at_10"] == pytest.approx(1 / 3)
    assert values["ndcg_at_10"] == pytest.approx(1 / math.log2(4))
    assert values["hit_rate_at_10"] == 1.0


def test_no_relevant_chunk_scores_zero() -> None:
    values = score([MEDS, FOLLOW]).values
    assert set(values.values()) == {0.0}


def test_gold_split_over_two_windows_earns_partial_recall_and_no_credit_for_repeats() -> None:
    middle = GOLD_START + len(GOLD) // 2
    first_half, second_half = hit(0, middle), hit(middle - 5, len(DOC))
    values = score([first_half, first_half, second_half]).values
    assert 0.4 < values["recall_at_1"] < 0.6
    assert values["recall_at_5"] == 1.0
    expected = values["recall_at_1"] + (1 - values["recall_at_1"]) / math.log2(4)
    assert values["ndcg_at_10"] == pytest.approx(expected)


def test_same_span_in_another_document_is_not_relevant() -> None:
    values = score([hit(DIET["start"], DIET["end"], document_id="doc-2")]).values
    assert values["hit_rate_at_10"] == 0.0


def test_min_overlap_fraction_ignores_a_grazing_chunk() -> None:
    graze = hit(0, GOLD_START + 3)
    metric = build_metric("retrieval", {"min_overlap_fraction": 0.5})
    result = metric.score([case()], [Output(text="", retrieved=[graze])])[0]
    assert result.values["hit_rate_at_10"] == 0.0
    assert score([graze]).values["hit_rate_at_10"] == 1.0


def test_bad_min_overlap_fraction_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        build_metric("retrieval", {"min_overlap_fraction": 2})


@pytest.mark.parametrize(
    ("overrides", "retrieved", "reason"),
    [
        ({"labels": {"answerable": False}}, [DIET], "unanswerable"),
        ({"gold_passage": None}, [DIET], "no gold passage"),
        ({}, None, "does not retrieve"),
    ],
)
def test_not_applicable_cases_score_none(overrides: dict[str, Any], retrieved: Any, reason: str) -> None:
    result = score(retrieved, **overrides)
    assert all(v is None for v in result.values.values())
    assert reason in result.details["skipped"]


def test_rewrapped_gold_passage_is_still_located_by_span() -> None:
    result = score([DIET], gold_passage="Low sodium diet,\n less than 2 grams of salt per day.")
    assert result.details["match"] == "span"
    assert result.values["recall_at_1"] == 1.0


def test_text_containment_fallback_without_offsets_or_document() -> None:
    chunk = {"text": "DIET: Low sodium diet, less than 2 grams of salt per day.", "chunk_id": "x"}
    result = score([{"text": "FOLLOW-UP", "chunk_id": "y"}, chunk], document=None)
    assert result.details["match"] == "text"
    assert result.values["mrr_at_10"] == 0.5
    assert result.values["recall_at_5"] == 1.0


def test_chunks_without_offsets_are_located_in_the_document() -> None:
    chunk = {"text": DIET["text"], "document_id": "doc-1", "chunk_id": "z"}
    result = score([chunk])
    assert result.details["match"] == "span"
    assert result.values["ndcg_at_10"] == 1.0


def test_details_show_retrieved_chunks_next_to_the_gold_passage() -> None:
    details = score([MEDS, DIET]).details
    assert details["gold_passage"] == GOLD
    assert details["gold_span"] == [GOLD_START, GOLD_START + len(GOLD)]
    rows = details["retrieved"]
    assert [r["chunk_id"] for r in rows] == [MEDS["chunk_id"], DIET["chunk_id"]]
    assert [r["section"] for r in rows] == ["DISCHARGE MEDICATIONS", "DIET"]
    assert [r["relevant"] for r in rows] == [False, True]
    assert rows[1]["score"] == 0.5 and rows[1]["gold_overlap"] == 1.0
