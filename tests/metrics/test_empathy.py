"""EPITOME empathy levels on responses that differ in one dimension at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harness.metrics.base import Output
from harness.metrics.empathy import score_empathy
from harness.metrics.empathy_metric import Empathy
from harness.suite import Case

SEEKER = "My boyfriend broke up with me over text and I can't stop crying."


def test_strong_emotional_reaction_names_the_responders_feeling() -> None:
    assert score_empathy(SEEKER, "I'm so sorry you're going through this.")["er"] == 2
    assert score_empathy(SEEKER, "My heart goes out to you.")["er"] == 2


def test_platitudes_are_weak_emotional_reactions() -> None:
    assert score_empathy(SEEKER, "Hang in there, everything will be okay.")["er"] == 1


def test_specific_interpretation_beats_generic_understanding() -> None:
    assert score_empathy(SEEKER, "Being dumped by text must feel so dismissive and painful.")["ip"] == 2
    assert score_empathy(SEEKER, "I understand.")["ip"] == 1


def test_negated_understanding_is_not_an_interpretation() -> None:
    assert score_empathy(SEEKER, "I don't understand why you care so much.")["ip"] == 0


def test_feeling_question_is_a_strong_exploration_generic_question_weak() -> None:
    assert score_empathy(SEEKER, "How are you feeling about it right now?")["ex"] == 2
    assert score_empathy(SEEKER, "What happened?")["ex"] == 1


def test_advice_phrased_as_a_question_is_not_exploration() -> None:
    assert score_empathy(SEEKER, "Have you tried journaling?")["ex"] == 0


def test_sarcastic_dismissal_scores_zero_everywhere() -> None:
    result = score_empathy(SEEKER, "Wow, big deal. Plenty of fish in the sea.")
    assert (result["er"], result["ip"], result["ex"]) == (0, 0, 0)


def test_multi_sentence_response_takes_the_best_sentence_per_dimension() -> None:
    result = score_empathy(SEEKER, "I'm so sorry. That sounds really painful. What do you feel most right now?")
    assert (result["er"], result["ip"], result["ex"], result["total"]) == (2, 2, 2, 6)
    assert len(result["sentences"]) == 3


def test_metric_emits_four_keys(make_case: Callable[..., Case]) -> None:
    scores = Empathy(method="rules").score([make_case(SEEKER)], [Output("I understand. What happened?")])
    assert scores[0].values == {"empathy_er": 0.0, "empathy_ip": 1.0, "empathy_ex": 1.0, "empathy_total": 2.0}


def test_author_vignettes_reach_the_target(vignettes: Path) -> None:
    """Author-written vignettes (optimistic); the figure in docs/metrics.md comes from harness.validate."""
    from harness.validate import validate_empathy_vignettes

    result = validate_empathy_vignettes(sorted(vignettes.glob("empathy_vignettes*.jsonl")))
    for name, figures in result.items():
        assert figures["mean_macro_f1"] >= 0.55, name
    rows = [json.loads(x) for x in (vignettes / "empathy_vignettes.jsonl").read_text().splitlines() if x.strip()]
    assert len(rows) >= 40
