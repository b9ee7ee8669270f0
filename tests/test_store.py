import pytest

from harness.store import Store


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    rows = [{"cache_key": f"k{i}", "generator_fp": "g", "messages_json": "[]", "params_json": "{}", "text": "t",
             "retrieved_json": None, "prompt_tokens": 1, "completion_tokens": 1, "finish_reason": "stop",
             "seconds": 0.1} for i in range(3)]
    rows[2]["text"] = None  # NOT NULL violation on the last row
    with pytest.raises(Exception):  # noqa: B017 - sqlite3.IntegrityError
        store.save_generations(rows)
    assert store.count_generations() == 0


def test_generations_round_trip(store: Store) -> None:
    store.save_generations([{"cache_key": "k", "generator_fp": "g", "messages_json": "[]", "params_json": "{}",
                             "text": "hello", "retrieved_json": '[{"text": "p"}]', "prompt_tokens": 3,
                             "completion_tokens": 2, "finish_reason": "stop", "seconds": 0.5}])
    found = store.cached_generations(["k", "missing"])
    assert list(found) == ["k"]
    assert found["k"].text == "hello"
    assert found["k"].retrieved == [{"text": "p"}]


def test_unfinished_run_is_found_for_resume(store: Store) -> None:
    store.start_run("r1", "exp", None, "hash1", {})
    assert store.find_unfinished_run("hash1") == "r1"
    store.finish_run("r1")
    assert store.find_unfinished_run("hash1") is None
    assert store.latest_run("exp") == "r1"
