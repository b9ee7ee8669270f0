"""Sentence evidence heads learned from EPITOME rationales: labels, shipped weights, report evidence."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from harness.metrics.base import Output
from harness.metrics.empathy_evidence import SENTENCE_FEATURES, EvidenceModel, rationale_level, split_responses
from harness.metrics.empathy_metric import Empathy
from harness.metrics.models import WEIGHTS_DIR
from harness.suite import Case

SEEKER = "I failed my driving test for the third time today and I feel like such an idiot."


def test_a_sentence_carries_the_level_only_when_mostly_inside_the_rationale() -> None:
    rationale = "That must feel so discouraging|"
    assert rationale_level("That must feel so discouraging.", rationale, "2") == 2
    assert rationale_level("Book another test next month.", rationale, "2") == 0
    assert rationale_level("That must feel so discouraging.", rationale, "0") == 0
    assert rationale_level("That must feel so discouraging.", "", "1") == 0


@pytest.mark.parametrize("dim", ["er", "ip", "ex"])
def test_shipped_sentence_heads_record_data_and_beat_the_rules_at_finding_evidence(dim: str) -> None:
    meta = json.loads((WEIGHTS_DIR / f"empathy_sent_{dim}-lexical.json").read_text())
    assert meta["features"] == SENTENCE_FEATURES
    assert len(meta["trained_on"][0]["sha256"]) == 64
    cv = meta["figures"]["grouped_cv_dev"]
    assert cv["carries_f1"] > cv["rules_carries_f1"]


def test_sentences_keep_their_offsets_and_repeats_count_once() -> None:
    response = "Ugh, that is rough. Ugh, that is rough. What went wrong on the test?"
    rows = split_responses([SEEKER], [response])
    assert [s.text for s in rows.spans] == ["Ugh, that is rough.", "What went wrong on the test?"]
    assert all(response[s.start : s.end] == s.text for s in rows.spans)
    assert rows.X.shape[0] == 2 and list(rows.owner) == [0, 0]


def test_model_levels_point_at_the_right_sentences() -> None:
    rows = split_responses(
        [SEEKER] * 2,
        ["Just practise more and book another one.", "I'm really sorry, I know how crushing that is. "
         "How did the examiner explain it?"],
    )
    levels = EvidenceModel.default().levels(rows)
    assert levels["ex"][0][0] == 0 and levels["ex"][0][-1] > 0  # the advice is no question; the question is
    assert levels["er"][0][1] > 0  # the apology is an emotional reaction


def test_report_evidence_is_model_driven_and_capped_at_the_response_level(make_case: Callable[..., Case]) -> None:
    text = "I'm so sorry, that sounds really disheartening. Just practise more. How are you feeling about trying again?"
    score = Empathy().score([make_case(SEEKER)], [Output(text)])[0]
    sentences = score.details["sentences"]
    assert sentences and all(set(s["by"].values()) <= {"model", "rules"} for s in sentences)
    assert "Just practise more." not in [s["text"] for s in sentences]
    for sentence in sentences:
        for dim in ("er", "ip", "ex"):
            assert sentence[dim] <= score.values[f"empathy_{dim}"]
    rules_only = Empathy(evidence="rules").score([make_case(SEEKER)], [Output(text)])[0]
    assert rules_only.values == score.values and all("by" not in s for s in rules_only.details["sentences"])
    with pytest.raises(TypeError):
        Empathy(evidence="vibes")


def test_focus_block_reads_only_the_sentences_likely_to_carry_the_mechanism() -> None:
    import numpy as np

    from harness.metrics.empathy_evidence import focus_features

    rows = split_responses([SEEKER, SEEKER], ["That must sting. Book another test.", "Book another test."])
    advice_only = rows.X[2].toarray()
    focus = focus_features(rows, np.array([1.0, 0.0, 0.0]), 2).toarray()
    assert np.allclose(focus[0], rows.X[0].toarray()[0])  # the carrying sentence alone, L2-normalised
    assert not focus[1].any() and advice_only.any()  # nothing carries in the second response
