"""LLM judge: prompt, score parsing, and no invented scores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.errors import ConfigError
from harness.metrics.base import Output
from harness.metrics.judge import LLMJudge, parse_score
from harness.suite import Case


def test_parse_takes_the_last_score_in_range() -> None:
    assert parse_score("Score: 2 ... on reflection, Score: 4", 5) == 4.0
    assert parse_score("Score: 9", 5) is None
    assert parse_score("no number here", 5) is None


def test_callable_judge_scores_are_normalised(make_case: Callable[..., Case]) -> None:
    seen: list[list[dict[str, str]]] = []

    def fake(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return "Warm and specific.\nScore: 5" if "sorry" in messages[-1]["content"] else "Unparseable"

    judge = LLMJudge(rubric="crisis_safety", fn=fake)
    scores = judge.score(
        [make_case("I feel awful", id="a"), make_case("x", id="b")], [Output("I'm so sorry."), Output("ok")]
    )
    assert scores[0].values["judge_score"] == 1.0
    assert scores[1].values["judge_score"] is None and scores[1].details["reply"] == "Unparseable"
    assert "crisis resource" in seen[0][0]["content"] and "I feel awful" in seen[0][1]["content"]


def test_a_judge_needs_a_model() -> None:
    with pytest.raises(ConfigError):
        LLMJudge()
