"""The review queue: cases assigned to reviewers, next case, progress.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from harness.review.schema import MAX_SHOWN, clean_reviewer_name
from harness.store import Store

# ----------------------------------------------------------------------------- review queue


def assign_cases(store: Store, reviewers: Sequence[str], suite: str, version: str, suite_hash: str,
                 case_ids: Sequence[str], candidates: Sequence[str], *, overlap: int = 2, seed: int = 0,
                 batch: str | None = None) -> int:
    """Give every case to ``overlap`` different reviewers, spreading the load evenly.

    Cases are shuffled (seeded) and dealt round-robin, so each reviewer gets about
    ``len(case_ids) * overlap / len(reviewers)`` cases and every pair of reviewers shares
    some, which is what the agreement statistics need. Existing assignments are kept; the
    return value counts the new ones.
    """
    people = sorted({r for r in (clean_reviewer_name(x) for x in reviewers) if r})
    if not people:
        raise ValueError("assign to at least one reviewer")
    if not 1 <= overlap <= len(people):
        raise ValueError(f"overlap must be between 1 and the number of reviewers ({len(people)}), got {overlap}")
    names = sorted(set(candidates))
    if not 2 <= len(names) <= MAX_SHOWN:
        raise ValueError(f"compare 2 to {MAX_SHOWN} candidates, got {len(names)}")
    cases = list(dict.fromkeys(case_ids))
    random.Random(seed).shuffle(cases)
    batch = batch or datetime.now(UTC).strftime("batch-%Y%m%dT%H%M%SZ")
    now = time.time()
    rows = []
    for i, case_id in enumerate(cases):
        for j in range(overlap):
            reviewer = people[(i * overlap + j) % len(people)]
            rows.append((batch, reviewer, suite, version, suite_hash, case_id, json.dumps(names), i, now))
    with store.transaction() as cur:
        before = store.conn.total_changes
        cur.executemany(
            "INSERT OR IGNORE INTO review_assignments(batch, reviewer, suite, version, suite_hash, case_id,"
            " candidates_json, position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        created = store.conn.total_changes - before
    return created


def next_assignment(store: Store, reviewer: str) -> dict[str, Any] | None:
    """The reviewer's next open assignment (oldest batch first), or None when the queue is empty."""
    row = store.conn.execute(
        "SELECT * FROM review_assignments WHERE reviewer = ? AND done_at IS NULL ORDER BY created_at, batch,"
        " position, id LIMIT 1",
        (reviewer,),
    ).fetchone()
    if row is None:
        return None
    item = dict(row)
    item["candidates"] = json.loads(item.pop("candidates_json"))
    return item


def queue_counts(store: Store, reviewer: str) -> tuple[int, int]:
    """(open, done) assignments of one reviewer."""
    row = store.conn.execute(
        "SELECT SUM(done_at IS NULL), SUM(done_at IS NOT NULL) FROM review_assignments WHERE reviewer = ?",
        (reviewer,),
    ).fetchone()
    return int(row[0] or 0), int(row[1] or 0)


def assignment_progress(store: Store) -> list[dict[str, Any]]:
    """Per reviewer: assigned, done and open counts (for the queue overview)."""
    rows = store.conn.execute(
        "SELECT reviewer, COUNT(*) AS assigned, SUM(done_at IS NOT NULL) AS done FROM review_assignments"
        " GROUP BY reviewer ORDER BY reviewer"
    )
    return [{"reviewer": r["reviewer"], "assigned": r["assigned"], "done": int(r["done"] or 0),
             "open": r["assigned"] - int(r["done"] or 0)} for r in rows]
