"""SQLite store: runs, candidates, cached generations, scores, gate results, reviews.

Every write that belongs together happens in one transaction, so a crash leaves either the
whole batch or none of it. Generations are keyed by (generator fingerprint x prompt x params),
which is what makes a re-run of an unchanged experiment generate nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.store_schema import _ADDED_COLUMNS, _SCHEMA, SCHEMA_VERSION, environment_info


def _guard_action(row: dict[str, Any]) -> str | None:
    """The guard's action from a generation row's meta (None when no guard ran)."""
    meta = json.loads(row.get("meta_json") or "{}")
    guard = meta.get("guard") if isinstance(meta, dict) else None
    return str(guard.get("action", "none")) if isinstance(guard, dict) else None


@dataclass
class StoredGeneration:
    text: str
    retrieved: list[dict[str, Any]] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    seconds: float | None
    meta: dict[str, Any] = field(default_factory=dict)


class Store:
    """Thin query layer over one SQLite file. Safe to open from several processes (WAL)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older store up to SCHEMA_VERSION without losing anything."""
        with self.transaction() as cur:
            for table, column, kind in _ADDED_COLUMNS:
                columns = {row[1] for row in cur.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    if column == "guard_action":  # backfill from the guard info already kept in meta_json
                        cur.execute("UPDATE generations SET guard_action = json_extract(meta_json, '$.guard.action')"
                                    " WHERE meta_json IS NOT NULL AND json_valid(meta_json)")
            cur.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self.conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            yield cur
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cur.close()

    # ---- runs -------------------------------------------------------------------------------
    def find_unfinished_run(self, config_hash: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM runs WHERE config_hash = ? AND status != 'finished' ORDER BY started_at DESC LIMIT 1",
            (config_hash,),
        ).fetchone()
        return row["id"] if row else None

    def start_run(self, run_id: str, name: str, config_path: str | None, config_hash: str,
                  config: dict[str, Any], *, command_started_at: float | None = None,
                  environment: dict[str, Any] | None = None) -> None:
        """``command_started_at``: wall-clock start of the command (before set-up and training);
        ``environment``: what to record beside ``environment_info()``. Both are updated when a run is resumed,
        so they are those of the command that finished it (and computed its scores)."""
        now = time.time()
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO runs(id, name, config_path, config_hash, config_json, status, started_at,"
                " environment_json, command_started_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET status='running', command_started_at=excluded.command_started_at,"
                " environment_json=excluded.environment_json",
                (run_id, name, config_path, config_hash, json.dumps(config, default=str), now,
                 json.dumps({**environment_info(), **(environment or {})}), command_started_at or now),
            )

    @staticmethod
    def run_seconds(run: dict[str, Any]) -> float | None:
        """Seconds from the start of the command that last ran ``run`` to its finish (report writing
        excluded): the one figure the CLI prints and the report header shows."""
        if not run.get("finished_at"):
            return None
        return float(run["finished_at"]) - float(run.get("command_started_at") or run["started_at"])

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, time.time(), run_id))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return dict(row) if row else None

    def list_runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM runs ORDER BY started_at DESC")]

    def latest_run(self, name: str | None = None, status: str = "finished") -> str | None:
        query = "SELECT id FROM runs WHERE status = ?"
        args: list[Any] = [status]
        if name:
            query += " AND name = ?"
            args.append(name)
        row = self.conn.execute(query + " ORDER BY started_at DESC LIMIT 1", args).fetchone()
        return row["id"] if row else None

    # ---- candidates & suites ----------------------------------------------------------------
    def register_candidate(self, run_id: str, fingerprint: str, label: str, position: int,
                           spec: dict[str, Any], lineage: dict[str, Any]) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO candidates(fingerprint, name, spec_json, lineage_json, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET lineage_json=excluded.lineage_json",
                (fingerprint, label, json.dumps(spec, default=str), json.dumps(lineage, default=str), time.time()),
            )
            cur.execute(
                "INSERT OR REPLACE INTO run_candidates(run_id, candidate_fp, label, position) VALUES (?, ?, ?, ?)",
                (run_id, fingerprint, label, position),
            )

    def run_candidates(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT rc.label, rc.candidate_fp, c.spec_json, c.lineage_json FROM run_candidates rc"
            " JOIN candidates c ON c.fingerprint = rc.candidate_fp WHERE rc.run_id = ? ORDER BY rc.position",
            (run_id,),
        )
        return [
            {"label": r["label"], "fingerprint": r["candidate_fp"], "spec": json.loads(r["spec_json"]),
             "lineage": json.loads(r["lineage_json"])}
            for r in rows
        ]

    def register_suite(self, run_id: str, suite: str, version: str, suite_hash: str, case_ids: list[str]) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO run_suites(run_id, suite, version, suite_hash, case_ids_json)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, suite, version, suite_hash, json.dumps(case_ids)),
            )

    def run_suites(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM run_suites WHERE run_id = ? ORDER BY suite", (run_id,))
        return [{**dict(r), "case_ids": json.loads(r["case_ids_json"])} for r in rows]

    # ---- generations (the cache) ------------------------------------------------------------
    def cached_generations(self, keys: Sequence[str]) -> dict[str, StoredGeneration]:
        found: dict[str, StoredGeneration] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT cache_key, text, retrieved_json, prompt_tokens, completion_tokens, finish_reason, seconds,"
                f" meta_json FROM generations WHERE cache_key IN ({marks})",
                chunk,
            ):
                found[row["cache_key"]] = StoredGeneration(
                    text=row["text"],
                    retrieved=json.loads(row["retrieved_json"]) if row["retrieved_json"] else None,
                    prompt_tokens=row["prompt_tokens"],
                    completion_tokens=row["completion_tokens"],
                    finish_reason=row["finish_reason"],
                    seconds=row["seconds"],
                    meta=json.loads(row["meta_json"] or "{}"),
                )
        return found

    def save_generations(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert one batch of generations atomically."""
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO generations(cache_key, generator_fp, messages_json, params_json, text,"
                " retrieved_json, prompt_tokens, completion_tokens, finish_reason, seconds, meta_json, created_at,"
                " guard_action) VALUES (:cache_key, :generator_fp, :messages_json, :params_json, :text,"
                " :retrieved_json, :prompt_tokens, :completion_tokens, :finish_reason, :seconds, :meta_json,"
                " :created_at, :guard_action)",
                [{"created_at": time.time(), "meta_json": None, **row, "guard_action": _guard_action(row)}
                 for row in rows],
            )

    def count_generations(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def link_outputs(self, run_id: str, candidate_fp: str, suite: str, version: str,
                     case_keys: dict[str, str]) -> None:
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO outputs(run_id, candidate_fp, suite, version, case_id, cache_key)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, candidate_fp, suite, version, case_id, key) for case_id, key in case_keys.items()],
            )

    def outputs(self, run_id: str, suite: str | None = None) -> list[dict[str, Any]]:
        query = (
            "SELECT o.candidate_fp, o.suite, o.version, o.case_id, g.text, g.retrieved_json, g.completion_tokens,"
            " g.finish_reason, g.messages_json, g.meta_json, g.guard_action FROM outputs o"
            " JOIN generations g ON g.cache_key = o.cache_key WHERE o.run_id = ?"
        )
        args: list[Any] = [run_id]
        if suite:
            query += " AND o.suite = ?"
            args.append(suite)
        rows = []
        for r in self.conn.execute(query, args):
            row = dict(r)
            row["retrieved"] = json.loads(row.pop("retrieved_json")) if r["retrieved_json"] else None
            row["messages"] = json.loads(row.pop("messages_json"))
            row["meta"] = json.loads(row.pop("meta_json") or "{}")
            rows.append(row)
        return rows

    # ---- scores -----------------------------------------------------------------------------
    def save_scores(self, run_id: str, candidate_fp: str, suite: str, version: str,
                    rows: Iterable[tuple[str, str, str, float | None, dict[str, Any]]],
                    keys: Iterable[tuple[str, str, bool, str]]) -> None:
        """rows: (case_id, metric, key, value, details); keys: (metric, key, higher_is_better, description)."""
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO metric_keys(run_id, suite, metric, key, higher_is_better, description)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, suite, m, k, int(hib), d) for m, k, hib, d in keys],
            )
            cur.executemany(
                "INSERT OR REPLACE INTO scores(run_id, candidate_fp, suite, version, case_id, metric, key, value,"
                " details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, candidate_fp, suite, version, case_id, metric, key, value,
                     json.dumps(details, default=str))
                    for case_id, metric, key, value, details in rows
                ],
            )

    def cached_scores(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached per-case metric results (``harness.score_cache``) by key: {"values", "details"}."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT cache_key, payload_json FROM score_cache WHERE cache_key IN ({marks})", chunk
            ):
                found[row["cache_key"]] = json.loads(row["payload_json"])
        return found

    def save_cached_scores(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """rows: (cache_key, metric, payload_json), in one transaction."""
        now = time.time()
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO score_cache(cache_key, metric, payload_json, created_at) VALUES (?, ?, ?, ?)",
                [(key, metric, payload, now) for key, metric, payload in rows],
            )

    def scores(self, run_id: str, suite: str | None = None, candidate_fp: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM scores WHERE run_id = ?"
        args: list[Any] = [run_id]
        if suite:
            query += " AND suite = ?"
            args.append(suite)
        if candidate_fp:
            query += " AND candidate_fp = ?"
            args.append(candidate_fp)
        return [dict(r) for r in self.conn.execute(query, args)]

    def metric_keys(self, run_id: str, suite: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT metric, key, higher_is_better, description FROM metric_keys WHERE run_id = ? AND suite = ?"
                " ORDER BY rowid",
                (run_id, suite),
            )
        ]

    def set_score_value(self, run_id: str, candidate_fp: str, suite: str, case_id: str, key: str,
                        value: float | None) -> None:
        with self.transaction() as cur:
            cur.execute(
                "UPDATE scores SET value = ? WHERE run_id = ? AND candidate_fp = ? AND suite = ? AND case_id = ?"
                " AND key = ?",
                (value, run_id, candidate_fp, suite, case_id, key),
            )

    # ---- gates ------------------------------------------------------------------------------
    def save_gate_results(self, run_id: str, rows: Iterable[dict[str, Any]]) -> None:
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO gate_results(run_id, candidate_fp, suite, version, gate_id, passed, observed,"
                " details_json) VALUES (:run_id, :candidate_fp, :suite, :version, :gate_id, :passed, :observed,"
                " :details_json)",
                [{"run_id": run_id, **row, "details_json": json.dumps(row.get("details", {}), default=str)}
                 for row in rows],
            )

    def gate_results(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM gate_results WHERE run_id = ?", (run_id,))
        return [{**dict(r), "details": json.loads(r["details_json"])} for r in rows]

    # ---- training lineage -------------------------------------------------------------------
    def save_training_run(self, fingerprint: str, kind: str, status: str, output_dir: str,
                          config: dict[str, Any], metrics: dict[str, Any], log: list[dict[str, Any]]) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO training_runs(fingerprint, kind, status, output_dir, config_json,"
                " metrics_json, log_json, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fingerprint, kind, status, output_dir, json.dumps(config, default=str),
                 json.dumps(metrics, default=str), json.dumps(log, default=str), time.time(),
                 time.time() if status == "finished" else None),
            )

    def training_run(self, fingerprint: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM training_runs WHERE fingerprint = ?", (fingerprint,)).fetchone()
        if not row:
            return None
        out = dict(row)
        out["config"] = json.loads(out.pop("config_json"))
        out["metrics"] = json.loads(out.pop("metrics_json"))
        out["log"] = json.loads(out.pop("log_json"))
        return out

