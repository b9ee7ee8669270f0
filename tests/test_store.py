import sqlite3

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


def test_an_older_store_is_migrated_without_loss(tmp_path) -> None:  # type: ignore[no-untyped-def]


    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE generations (cache_key TEXT PRIMARY KEY, generator_fp TEXT NOT NULL, messages_json TEXT NOT NULL,"
        " params_json TEXT NOT NULL, text TEXT NOT NULL, retrieved_json TEXT, prompt_tokens INTEGER,"
        " completion_tokens INTEGER, finish_reason TEXT, seconds REAL, created_at REAL NOT NULL);"
        "INSERT INTO generations VALUES ('k', 'g', '[]', '{}', 'kept', NULL, 1, 1, 'stop', 0.1, 0);"
    )
    old.commit()
    old.close()
    with Store(path) as store:
        assert store.cached_generations(["k"])["k"].text == "kept"
        columns = {row[1] for row in store.conn.execute("PRAGMA table_info(generations)")}
        assert "meta_json" in columns
        assert store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "5"
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "score_cache" in tables
        assert "command_started_at" in {row[1] for row in store.conn.execute("PRAGMA table_info(runs)")}


def test_guard_actions_are_backfilled_into_the_new_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "v2.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE generations (cache_key TEXT PRIMARY KEY, generator_fp TEXT NOT NULL, messages_json TEXT NOT NULL,"
        " params_json TEXT NOT NULL, text TEXT NOT NULL, retrieved_json TEXT, prompt_tokens INTEGER,"
        " completion_tokens INTEGER, finish_reason TEXT, seconds REAL, meta_json TEXT, created_at REAL NOT NULL);"
        "INSERT INTO generations VALUES ('g', 'g', '[]', '{}', 'crisis', NULL, 1, 1, 'stop', 0.1,"
        " '{\"guard\": {\"action\": \"prefixed\"}, \"unguarded_text\": \"own\"}', 0);"
        "INSERT INTO generations VALUES ('p', 'g', '[]', '{}', 'plain', NULL, 1, 1, 'stop', 0.1, NULL, 0);"
    )
    old.commit()
    old.close()
    with Store(path) as store:
        actions = dict(store.conn.execute("SELECT cache_key, guard_action FROM generations"))
        assert actions == {"g": "prefixed", "p": None}
        assert store.cached_generations(["g"])["g"].meta["unguarded_text"] == "own"


def test_run_time_is_the_command_time_and_old_runs_fall_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The report header and the CLI show one figure: command start (set-up and training included) to finish."""
    path = tmp_path / "v3.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, config_path TEXT, config_hash TEXT NOT NULL,"
        " config_json TEXT NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL,"
        " environment_json TEXT NOT NULL DEFAULT '{}');"
        "INSERT INTO runs VALUES ('old', 'n', NULL, 'h', '{}', 'finished', 100.0, 130.0, '{}');"
    )
    old.commit()
    old.close()
    with Store(path) as store:
        assert Store.run_seconds(store.get_run("old") or {}) == 30.0
        store.start_run("new", "n", None, "h2", {}, command_started_at=50.0)
        store.finish_run("new")
        run = store.get_run("new") or {}
        assert run["command_started_at"] == 50.0 and Store.run_seconds(run) == run["finished_at"] - 50.0


def test_a_resumed_run_records_the_environment_of_the_command_that_resumed_it(store: Store) -> None:
    import json

    store.start_run("r1", "demo", None, "h", {}, environment={"scoring_code": "old"})
    store.start_run("r1", "demo", None, "h", {}, environment={"scoring_code": "new"})  # resumed by newer code
    environment = json.loads(store.get_run("r1")["environment_json"])
    assert environment["scoring_code"] == "new" and environment["python"]
