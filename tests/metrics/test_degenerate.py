"""Loops, empty replies and truncation are recognised; sentences repeated count once."""

from __future__ import annotations

from collections.abc import Callable

from harness.metrics.base import Output
from harness.metrics.degenerate import degenerate_check, repetition_profile
from harness.metrics.empathy_metric import Empathy
from harness.metrics.mi import MICodes
from harness.metrics.text import dedupe_sentences, unique_spans
from harness.suite import Case


def test_a_sentence_repeated_many_times_is_a_loop() -> None:
    values, details = degenerate_check(Output("I am sorry about the delay. " * 12))
    assert values["degenerate"] == 1.0 and values["looping"] == 1.0
    assert details["most_repeated_count"] == 12


def test_a_phrase_loop_without_punctuation_is_a_loop() -> None:
    assert repetition_profile("and then we can talk and then we can talk " * 5)["loop"]


def test_a_normal_reply_is_not_degenerate() -> None:
    text = ("That sounds like a hard week. What has helped you get through weeks like this before? "
            "It took courage to reach out, and I'm glad you did.")
    values, _ = degenerate_check(Output(text))
    assert values == {"degenerate": 0.0, "looping": 0.0, "empty": 0.0, "truncated": 0.0,
                      "repeated_sentence_share": 0.0}


def test_empty_and_truncated_outputs() -> None:
    assert degenerate_check(Output("  "))[0]["empty"] == 1.0
    cut = Output("The summary says to take", meta={"finish_reason": "length"})
    values, _ = degenerate_check(cut)
    assert values["truncated"] == 1.0 and values["degenerate"] == 0.0


def test_dedupe_sentences_keeps_first_occurrences_in_order() -> None:
    text = "You matter. I hear you. you matter! I hear you. What would help?"
    assert dedupe_sentences(text) == "You matter. I hear you. What would help?"
    assert dedupe_sentences("") == ""


# --- a looping reply earns what saying each sentence once earns (MI and empathy share unique_spans) ---

_LOOPS = [
    ("My exams start on Monday and I can't sleep.",
     "That sounds stressful. You're carrying a lot right now. ", "Have you tried a warm bath? "),
    ("My dog died last week.", "I'm really sorry about your dog. ", "Do you want to tell me about him? "),
    ("I keep arguing with my dad.", "You just have to push through. ", "You just have to push through! "),
]


def test_mi_codes_count_a_repeated_sentence_once(make_case: Callable[..., Case]) -> None:
    metric = MICodes()
    for user, once, other in _LOOPS:
        case = make_case(user)
        single = metric.score([case], [Output(once + other)])[0]
        looped = metric.score([case], [Output(once * 20 + other + other.upper() + once)])[0]
        assert looped.values == single.values, (once, looped.values, single.values)
        assert looped.details["counts"] == single.details["counts"]


def test_empathy_counts_a_repeated_sentence_once(make_case: Callable[..., Case]) -> None:
    for method in ("rules", "model"):
        metric = Empathy(method=method)
        for user, once, other in _LOOPS:
            case = make_case(user)
            single = metric.score([case], [Output(once + other)])[0]
            looped = metric.score([case], [Output((once + other) * 20)])[0]
            assert looped.values == single.values, (method, once)
            assert len(looped.details["sentences"]) == len(single.details["sentences"])


def test_unique_spans_keep_first_offsets() -> None:
    text = "I hear you. I hear you! Tell me more. i hear you."
    spans = unique_spans(text)
    assert [s.text for s in spans] == ["I hear you.", "Tell me more."]
    assert [text[s.start:s.end] for s in spans] == ["I hear you.", "Tell me more."]
