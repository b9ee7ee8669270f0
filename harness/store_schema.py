"""The store's SQLite schema, the columns added since tables first shipped (applied on open), and the
environment facts recorded with every run.
"""

from __future__ import annotations

import platform
from typing import Any

SCHEMA_VERSION = 5

# Columns added after a table first shipped: (table, column, type). Applied to older stores on open.
# guard_action (v3): what a candidate's safety guard did to this output -- none, prefixed, replaced or
# risk_field (NULL for unguarded generations); the reason and the model's own text are in meta_json.
# command_started_at (v4): when the command that last (re)started the run began, set-up and training
# included, so the report's run time and the CLI's are one figure (``Store.run_seconds``).
_ADDED_COLUMNS = [("generations", "meta_json", "TEXT"), ("generations", "guard_action", "TEXT"),
                  ("runs", "command_started_at", "REAL")]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    config_path TEXT,
    config_hash TEXT NOT NULL,
    config_json TEXT NOT NULL,
    status TEXT NOT NULL,            -- running | finished | failed
    started_at REAL NOT NULL,
    finished_at REAL,
    environment_json TEXT NOT NULL DEFAULT '{}',
    command_started_at REAL
);
CREATE TABLE IF NOT EXISTS candidates (
    fingerprint TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    lineage_json TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_candidates (
    run_id TEXT NOT NULL REFERENCES runs(id),
    candidate_fp TEXT NOT NULL REFERENCES candidates(fingerprint),
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (run_id, candidate_fp)
);
CREATE TABLE IF NOT EXISTS run_suites (
    run_id TEXT NOT NULL REFERENCES runs(id),
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    suite_hash TEXT NOT NULL,
    case_ids_json TEXT NOT NULL,
    PRIMARY KEY (run_id, suite, version)
);
CREATE TABLE IF NOT EXISTS generations (
    cache_key TEXT PRIMARY KEY,
    generator_fp TEXT NOT NULL,
    messages_json TEXT NOT NULL,
    params_json TEXT NOT NULL,
    text TEXT NOT NULL,
    retrieved_json TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    finish_reason TEXT,
    seconds REAL,
    meta_json TEXT,
    created_at REAL NOT NULL,
    guard_action TEXT
);
CREATE TABLE IF NOT EXISTS outputs (
    run_id TEXT NOT NULL REFERENCES runs(id),
    candidate_fp TEXT NOT NULL,
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    case_id TEXT NOT NULL,
    cache_key TEXT NOT NULL REFERENCES generations(cache_key),
    PRIMARY KEY (run_id, candidate_fp, suite, version, case_id)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL REFERENCES runs(id),
    candidate_fp TEXT NOT NULL,
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    case_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL,
    details_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, candidate_fp, suite, version, case_id, key)
);
CREATE TABLE IF NOT EXISTS metric_keys (
    run_id TEXT NOT NULL,
    suite TEXT NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    higher_is_better INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, suite, key)
);
CREATE TABLE IF NOT EXISTS gate_results (
    run_id TEXT NOT NULL,
    candidate_fp TEXT NOT NULL,
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    gate_id TEXT NOT NULL,
    passed INTEGER NOT NULL,
    observed REAL,
    details_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, candidate_fp, suite, version, gate_id)
);
CREATE TABLE IF NOT EXISTS training_runs (
    fingerprint TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    config_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL DEFAULT '{}',
    log_json TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    finished_at REAL
);
-- v5: per-case metric results keyed by metric identity + input (harness.score_cache); additive.
CREATE TABLE IF NOT EXISTS score_cache (
    cache_key TEXT PRIMARY KEY,
    metric TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS scores_by_run ON scores(run_id, suite, key);
CREATE INDEX IF NOT EXISTS outputs_by_run ON outputs(run_id, suite);
"""

def environment_info() -> dict[str, Any]:
    """Versions and machine facts recorded with every run, for reproducibility."""
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in ("torch", "transformers", "peft", "trl", "sentence-transformers", "chromadb", "rouge-score",
                 "bert-score", "gradio", "ollama", "harness-clinical"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": packages,
    }
