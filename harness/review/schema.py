"""The review tables in the run store: their schema, migration and reading (``load_reviews``), and the
vote labels and rubric every other review module shares.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.store import Store

RUBRIC: tuple[str, ...] = ("safety", "empathy", "clinical_accuracy", "mi_adherence", "scope")
RUBRIC_TITLES: dict[str, str] = {
    "safety": "Safety",
    "empathy": "Empathy",
    "clinical_accuracy": "Clinical accuracy",
    "mi_adherence": "MI adherence",
    "scope": "Scope",
}
LABELS = "ABCD"
NON_DECISIVE = ("tie", "both_bad")
MAX_SHOWN = len(LABELS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS reviewers (
    username TEXT PRIMARY KEY,
    is_admin INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,              -- config (login account) | name (typed without login)
    created_at REAL NOT NULL,
    last_seen REAL
);
CREATE TABLE IF NOT EXISTS review_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    suite_hash TEXT NOT NULL,
    case_id TEXT NOT NULL,
    candidates_json TEXT NOT NULL,     -- candidate names to compare, sorted
    position INTEGER NOT NULL,
    created_at REAL NOT NULL,
    review_id INTEGER,
    done_at REAL,
    UNIQUE (reviewer, suite, version, case_id, candidates_json)
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('suite', 'free')),
    suite TEXT NOT NULL,
    version TEXT NOT NULL,
    suite_hash TEXT NOT NULL,
    case_id TEXT NOT NULL,
    split TEXT,
    prompt_hash TEXT NOT NULL,         -- sha256 of the conversation (always)
    prompt_json TEXT,                  -- the conversation without system prompt; NULL without consent
    consent INTEGER NOT NULL DEFAULT 0,
    blind INTEGER NOT NULL,
    order_seed TEXT,                   -- how the shown order was drawn: 'latin:ROW/N' (balanced) or a legacy seed
    shown_json TEXT NOT NULL,          -- [{{label, candidate, fingerprint}}] in the order shown
    vote TEXT NOT NULL CHECK (vote IN ({", ".join(repr(v) for v in (*LABELS, *NON_DECISIVE))})),
    winner_fp TEXT,
    comment TEXT NOT NULL DEFAULT '',
    assignment_id INTEGER,
    shown_at REAL,
    created_at REAL NOT NULL,
    context_json TEXT NOT NULL DEFAULT '{{}}',
    comparison_key TEXT,               -- suite/version/case/fingerprints: one vote per reviewer per key
    edited_at REAL
);
CREATE TABLE IF NOT EXISTS review_comparisons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    comparison_key TEXT NOT NULL,
    order_seed TEXT NOT NULL,          -- 'latin:ROW/N' (balanced design) or a legacy random seed
    order_json TEXT NOT NULL,          -- candidate names in the order shown (A, B, ...)
    created_at REAL NOT NULL,
    UNIQUE (reviewer, comparison_key)
);
CREATE TABLE IF NOT EXISTS review_responses (
    review_id INTEGER NOT NULL REFERENCES reviews(id),
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    candidate TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    cache_key TEXT,
    response_text TEXT,                -- NULL for a free prompt without consent
    response_hash TEXT NOT NULL,
    settings_json TEXT NOT NULL,       -- generation params, system prompt hash, backend identity
    {", ".join(f"{d} INTEGER CHECK ({d} BETWEEN 1 AND 5)" for d in RUBRIC)},
    PRIMARY KEY (review_id, label)
);
CREATE INDEX IF NOT EXISTS reviews_by_case ON reviews(suite, version, case_id);
CREATE INDEX IF NOT EXISTS assignments_by_reviewer ON review_assignments(reviewer, done_at);
"""


_ADDED_COLUMNS = {"comparison_key": "TEXT", "edited_at": "REAL"}
# same_as: label of the earlier response with the same text; shown once, rated once, voted as one.
_ADDED_RESPONSE_COLUMNS = {"same_as": "TEXT"}


def ensure_review_schema(store: Store) -> None:
    """Create the review tables if missing and add columns newer versions need (idempotent; safe while
    another process writes). Votes stored before ``comparison_key`` existed keep NULL there."""
    store.conn.executescript(_SCHEMA)
    with store.transaction() as cur:
        have = {row[1] for row in cur.execute("PRAGMA table_info(reviews)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in have:
                cur.execute(f"ALTER TABLE reviews ADD COLUMN {column} {kind}")
        have = {row[1] for row in cur.execute("PRAGMA table_info(review_responses)")}
        for column, kind in _ADDED_RESPONSE_COLUMNS.items():
            if column not in have:
                cur.execute(f"ALTER TABLE review_responses ADD COLUMN {column} {kind}")
        cur.execute("CREATE UNIQUE INDEX IF NOT EXISTS reviews_one_vote ON reviews(reviewer, comparison_key)"
                    " WHERE comparison_key IS NOT NULL")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_hash(conversation: Sequence[dict[str, str]]) -> str:
    """Identity of a prompt without its text: groups identical prompts for agreement."""
    return sha256_text(json.dumps(list(conversation), sort_keys=True, ensure_ascii=False))


def load_reviews(store: Store, *, blind_only: bool = False) -> list[dict[str, Any]]:
    """Reviews (oldest first) with their shown responses and rubric ratings."""
    query = "SELECT * FROM reviews" + (" WHERE blind = 1" if blind_only else "") + " ORDER BY id"
    reviews = []
    responses: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in store.conn.execute("SELECT * FROM review_responses ORDER BY review_id, position"):
        item = dict(row)
        item["settings"] = json.loads(item.pop("settings_json"))
        item["rubric"] = {d: item.pop(d) for d in RUBRIC}
        responses[item["review_id"]].append(item)
    for row in store.conn.execute(query):
        item = dict(row)
        item["shown"] = json.loads(item.pop("shown_json"))
        item["conversation"] = json.loads(item.pop("prompt_json")) if item["prompt_json"] else None
        item["context"] = json.loads(item.pop("context_json"))
        item["responses"] = responses.get(item["id"], [])
        reviews.append(item)
    return reviews


def clean_reviewer_name(name: str | None) -> str | None:
    """A typed reviewer name, normalised; None when empty (votes need a reviewer)."""
    cleaned = " ".join((name or "").split())[:64]
    return cleaned or None

