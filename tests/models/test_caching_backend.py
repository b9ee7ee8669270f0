"""The generation cache as a backend wrapper: same keys and rows as before, so old stores stay warm."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

import harness.candidate
from harness.candidate import Candidate, CandidateSpec
from harness.guard import SafetyGuardSpec
from harness.models.base import ChatRequest, GenerationParams, GenerationResult
from harness.models.caching import CachingBackend
from harness.store import Store
from harness.suite import load_suite

# Rows written by Candidate.generate before the cache became a wrapper (see "written_by" in the file).
OLD_ROWS = Path(__file__).resolve().parents[1] / "fixtures" / "old_generation_cache.json"


class _Refusing:
    """A backend that must not be reached: every request should be a cache hit."""

    identity = "refusing"

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        raise AssertionError(f"cache miss: {len(requests)} request(s) reached the model")


class _Counting:
    """A deterministic echo backend that counts the requests it answers."""

    identity = "echo"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        self.calls += len(requests)
        return [GenerationResult(f"echo {r.messages[-1]['content']}", 3, 2, "stop") for r in requests]


def _old_store(path: Path) -> tuple[Store, dict]:
    """A store holding the old code's rows, inserted with plain SQL in the old column layout."""
    written = json.loads(OLD_ROWS.read_text(encoding="utf-8"))
    store = Store(path)
    columns = list(written["rows"][0])
    with store.transaction() as cur:
        cur.executemany(f"INSERT INTO generations({', '.join(columns)}, created_at) "
                        f"VALUES ({', '.join('?' * len(columns))}, 0)",
                        [[row[c] for c in columns] for row in written["rows"]])
    return store, written


@pytest.mark.parametrize("guarded", [False, True])
def test_a_store_written_by_the_old_code_is_a_cache_hit(tmp_path: Path, fixture_suites: Path, guarded: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store, written = _old_store(tmp_path / "old.sqlite")
    # Guarded keys include the guard rules' content hash, which any later edit of the rules changes (and so
    # re-derives guarded rows, by design): hold it at the value the rows were written with.
    monkeypatch.setattr(harness.candidate, "guard_rules_identity", lambda: written["guard_rules_identity"])
    suite = load_suite("mini", "v1", fixture_suites)
    cases = [c for c in suite.select() if c.id in written["case_ids"]]
    spec = CandidateSpec.model_validate(written["spec"])
    if guarded:
        spec = spec.model_copy(update={"safety_guard": SafetyGuardSpec()})
    candidate = Candidate(spec)
    candidate._backend = _Refusing()  # type: ignore[assignment]
    candidate._backend.identity = Candidate(spec).backend.identity  # the real generator's identity
    keys, outputs = candidate.generate(store, suite, cases)
    assert keys == written["guarded_keys" if guarded else "unguarded_keys"]
    texts = {row["cache_key"]: row["text"] for row in written["rows"]}
    assert {case_id: o.text for case_id, o in outputs.items()} == {c: texts[k] for c, k in keys.items()}
    assert candidate.stats == {"generated": 0, "reused": len(cases)}
    assert store.count_generations() == len(written["rows"])  # nothing new written
    store.close()


def test_the_wrapper_generates_each_miss_once_and_then_serves_it(store: Store) -> None:
    inner = _Counting()
    cached = CachingBackend(inner, store, "gen-fp", batch_size=2)
    params = GenerationParams(max_new_tokens=4)
    requests = [ChatRequest([{"role": "user", "content": text}], params) for text in ("a", "bb", "a", "ccc")]
    first = cached.generate(requests)
    assert [r.text for r in first] == ["echo a", "echo bb", "echo a", "echo ccc"]
    assert inner.calls == 3  # the repeated prompt was generated once
    again = CachingBackend(inner, store, "gen-fp").generate(list(reversed(requests)))
    assert [r.text for r in again] == ["echo ccc", "echo a", "echo bb", "echo a"] and inner.calls == 3
    assert again[0].completion_tokens == 2 and again[0].finish_reason == "stop"
    # Another generator fingerprint is another cache: it misses.
    CachingBackend(inner, store, "other-fp").generate(requests[:1])
    assert inner.calls == 4 and store.count_generations() == 4
