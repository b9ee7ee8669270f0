"""LLM judge: prompt, score parsing, and no invented scores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.metrics.base import Output
from harness.metrics.judge import LLMJudge, judge_agreement_summary, parse_score
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


def test_repeated_judgements_report_their_agreement(make_case: Callable[..., Case]) -> None:
    replies = iter(["Score: 4", "Score: 2", "Score: 4", "Score: 4", "Score: 4", "no score"])

    def noisy(messages: list[dict[str, str]]) -> str:
        return next(replies)

    judge = LLMJudge(fn=noisy, repeats=3)
    scores = judge.score([make_case("a", id="a"), make_case("b", id="b")], [Output("x"), Output("y")])
    # Repeat r is one batch over all cases: case a got 4, 4, 4 and case b got 2, 4, unparseable.
    assert scores[0].details["raw_score"] == [4.0, 4.0, 4.0] and scores[0].values["judge_agreement"] == 1.0
    assert scores[1].details["raw_score"] == [2.0, 4.0, None]
    assert scores[1].values["judge_score"] == pytest.approx(0.5)  # mean of 2 and 4 = 3 -> (3-1)/4
    assert scores[1].values["judge_agreement"] == 0.5
    summary = judge_agreement_summary(scores)
    assert summary["cases_with_repeats"] == 2
    assert summary["pairwise_exact"] == pytest.approx(3 / 4) and summary["pairwise_within_one"] == pytest.approx(3 / 4)


def test_the_judge_fingerprint_pins_rubric_and_decoding() -> None:
    def fn(messages: list[dict[str, str]]) -> str:
        return "Score: 3"

    a = LLMJudge(fn=fn, rubric="crisis_safety")
    assert a.fingerprint == LLMJudge(fn=fn, rubric="crisis_safety").fingerprint
    assert a.fingerprint != LLMJudge(fn=fn, rubric="faithfulness").fingerprint
    assert a.fingerprint != LLMJudge(fn=fn, rubric="crisis_safety", repeats=2).fingerprint


def test_greedy_repeats_are_refused() -> None:
    with pytest.raises(ConfigError, match="temperature"):
        LLMJudge(judge={"backend": "transformers", "model": "smollm2-135m-instruct"}, repeats=3)


def test_the_embedded_model_judges_through_the_real_backend(make_case: Callable[..., Case]) -> None:
    judge = LLMJudge(
        judge={"backend": "transformers", "model": "smollm2-135m-instruct"},
        repeats=2,
        temperature=0.9,
        max_new_tokens=24,
    )
    scores = judge.score(
        [make_case("I can't sleep and I feel hopeless", id="a"), make_case("Work is stressful", id="b")],
        [Output("That sounds exhausting. What has helped before?"), Output("Just relax.")],
    )
    for s in scores:
        assert s.details["judge_fingerprint"] == judge.fingerprint
        assert len(s.details["reply"]) == 2 and all(isinstance(r, str) and r for r in s.details["reply"])
        assert s.values["judge_score"] is None or 0.0 <= s.values["judge_score"] <= 1.0
    # Different seeds per repeat: sampled judgements are not copies of each other.
    assert any(s.details["reply"][0] != s.details["reply"][1] for s in scores)


class _ScoringBackend:
    """A registered backend that always says 'Score: 4' and counts the requests reaching it."""

    identity = "judge-test-scoring"
    calls = 0

    def generate(self, requests):  # type: ignore[no-untyped-def]
        from harness.models.base import GenerationResult

        type(self).calls += len(requests)
        return [GenerationResult("Fair.\nScore: 4") for _ in requests]


def test_the_judge_generates_through_the_cache(make_case: Callable[..., Case], tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from harness.models import registry

    registry.backend_names()  # entry points loaded first, then the test backend added for this test only
    monkeypatch.setitem(registry._FACTORIES, "judge-test-scoring", lambda settings: _ScoringBackend())
    cases, outputs = [make_case("a", id="a"), make_case("b", id="b")], [Output("x"), Output("y")]
    spec = {"backend": "judge-test-scoring", "cache": str(tmp_path / "judge.sqlite")}
    _ScoringBackend.calls = 0
    first = LLMJudge(judge=spec).score(cases, outputs)
    assert _ScoringBackend.calls == 2 and first[0].values["judge_score"] == 0.75
    again = LLMJudge(judge=spec).score(cases, outputs)  # a new judge, the same store: no model call
    assert _ScoringBackend.calls == 2 and [s.values for s in again] == [s.values for s in first]
    LLMJudge(judge={**spec, "cache": False}).score(cases, outputs)
    assert _ScoringBackend.calls == 4
    with pytest.raises(ConfigError, match="cache"):
        LLMJudge(judge={**spec, "cache": 3})


def test_a_run_with_its_own_store_keeps_the_judges_cache_there(tmp_path, monkeypatch, tiny_gpt2) -> None:  # type: ignore[no-untyped-def]
    """``harness run --store X``: the judge's cached verdicts go to X with the outputs and scores, not to a
    store under $HARNESS_HOME that the run never named (and a second run on X asks the judge nothing)."""
    import shutil

    import yaml

    from harness.models import registry
    from harness.runner import run_experiment
    from harness.store import Store
    from harness.suite import load_suite

    registry.backend_names()
    monkeypatch.setitem(registry._FACTORIES, "judge-test-scoring", lambda settings: _ScoringBackend())
    home = tmp_path / "home"
    monkeypatch.setenv("HARNESS_HOME", str(home))
    monkeypatch.delenv("HARNESS_STORE", raising=False)
    suite_dir = tmp_path / "suites" / "mini" / "v1"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "suites" / "mini" / "v1", suite_dir)
    spec = yaml.safe_load((suite_dir / "suite.yaml").read_text())
    spec["metrics"].append({"name": "llm_judge", "params": {"judge": {"backend": "judge-test-scoring"}}})
    (suite_dir / "suite.yaml").write_text(yaml.safe_dump(spec))
    experiment = tmp_path / "judged.yaml"
    experiment.write_text(yaml.safe_dump({
        "name": "judged", "suites_dir": str(tmp_path / "suites"), "suites": ["mini/v1"],
        "report_dir": str(tmp_path / "reports"),
        "candidates": [{"name": "base", "model": str(tiny_gpt2), "params": {"max_new_tokens": 4}}],
    }))
    run_path = tmp_path / "run.sqlite"
    _ScoringBackend.calls = 0
    with Store(run_path) as store:
        run_experiment(experiment, store=store, progress=False, allow_draft=True)
    cases = [c for c in load_suite("mini", "v1", tmp_path / "suites").cases if c.split == "test"]
    assert _ScoringBackend.calls == len(cases) > 0  # one verdict per case
    assert not (home / "store.sqlite").exists()
    with Store(run_path) as store:
        judged = store.conn.execute("SELECT COUNT(*) FROM generations WHERE text = 'Fair.\nScore: 4'").fetchone()[0]
    assert judged == len(cases)
    with Store(run_path) as store:
        run_experiment(experiment, store=store, progress=False, allow_draft=True)
    assert _ScoringBackend.calls == len(cases)  # scored again from the run store: no new verdicts
