"""Score cache: an unchanged (metric, parameters, code, case, text) is not scored again; any change is."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from harness.metrics import build_metric
from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.score_cache import ScoreCache, metric_identity
from harness.scoring import score_cases
from harness.store import Store
from harness.suite import Case

CASE = Case(id="c1", split="test", input="Work has been stressful.", reference="Work sounds stressful; what helps?")
OTHER = Case(id="c2", split="test", input="I can't sleep.", reference="Sleep trouble is hard. How long?")


@register_metric("test_word_count")
class WordCount:
    """A real (tiny) metric that counts how often it ran."""

    name = "test_word_count"
    keys = (ValueKey("words", True, "word count", (0.0, None)),)
    calls = 0

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        type(self).calls += 1
        return [CaseScore({"words": self.scale * len(o.text.split())}, {"n": len(o.text)}) for o in outputs]


@pytest.fixture()
def store(tmp_path):  # type: ignore[no-untyped-def]
    with Store(tmp_path / "store.sqlite") as opened:
        yield opened


def _score(store: Store, outputs: list[Output], scale: float = 1.0, cases: list[Case] | None = None):  # type: ignore[no-untyped-def]
    cache = ScoreCache(store)
    rows, _ = score_cases(cases or [CASE, OTHER], outputs, [build_metric("test_word_count", {"scale": scale}),
                                                             build_metric("rouge")], cache)
    return rows, cache


def test_a_warm_rescore_reads_the_cache_and_gives_identical_rows(store: Store) -> None:
    outputs = [Output("Work sounds hard, what helps you rest?"), Output("How long has sleep been hard?")]
    first, cold = _score(store, outputs)
    calls = WordCount.calls
    second, warm = _score(store, outputs)
    assert second == first
    assert WordCount.calls == calls, "the cached metric ran again"
    assert cold.hits == 0 and warm.misses == 0 and warm.hits > 0


def test_changed_text_parameters_or_case_miss_the_cache(store: Store) -> None:
    outputs = [Output("one two three"), Output("four five")]
    _score(store, outputs)
    calls = WordCount.calls
    rows, _ = _score(store, [Output("one two three four"), Output("four five")])
    assert WordCount.calls == calls + 1
    assert {r[3] for r in rows if r[2] == "words"} == {4.0, 2.0}
    rows, _ = _score(store, outputs, scale=2.0)
    assert WordCount.calls == calls + 2 and {r[3] for r in rows if r[2] == "words"} == {6.0, 4.0}
    changed = CASE.model_copy(update={"reference": "A different reference."})
    _score(store, outputs, cases=[changed, OTHER])
    assert WordCount.calls == calls + 3


def test_metrics_built_outside_build_metric_and_the_judge_are_never_cached() -> None:
    assert metric_identity(WordCount()) is None
    assert metric_identity(build_metric("test_word_count")) is not None
    judge = build_metric("llm_judge", {"fn": lambda messages: "4"})
    assert metric_identity(judge) is None


def test_switching_the_cache_off(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = [Output("a b"), Output("c")]
    _score(store, outputs)
    monkeypatch.setenv("HARNESS_SCORE_CACHE", "0")
    calls = WordCount.calls
    _, cache = _score(store, outputs)
    assert WordCount.calls == calls + 1 and cache.hits == 0


def test_an_older_store_gains_the_cache_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "old.sqlite"
    sqlite3.connect(path).close()
    with Store(path) as store:
        assert store.cached_scores(["missing"]) == {}
