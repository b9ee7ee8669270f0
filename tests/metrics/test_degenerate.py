"""Loops, empty replies and truncation are recognised; sentences repeated count once."""

from __future__ import annotations

from harness.metrics.base import Output
from harness.metrics.degenerate import degenerate_check, repetition_profile
from harness.metrics.text import dedupe_sentences


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
