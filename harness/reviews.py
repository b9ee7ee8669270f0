"""Clinical reviews: reviewers, review queue, blind votes with rubric ratings, summaries, export.

The playground writes here; reports read :func:`review_summary`; the DPO stage reads the
JSONL written by :func:`export_preference_pairs`. Tables live in the run store (its own
tables, created by :func:`ensure_review_schema`), so judgements sit next to the generations
they judge. Every vote records who judged what: reviewer, suite version and hash, case, the
candidate fingerprints in the order shown (blind labels A-D) and the generation settings.

Privacy: a free-text prompt (typed by a reviewer, possibly clinical) is stored only with the
reviewer's consent; otherwise the review keeps a sha256 of the prompt and of each response,
never their text, and such reviews count for agreement and ranking but yield no training pairs.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.agreement import (
    Comparison,
    bradley_terry_ranking,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from harness.review_design import all_identical, balanced_order, group_of
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


# ----------------------------------------------------------------------------- reviewers


def register_reviewer(store: Store, username: str, *, is_admin: bool = False, source: str = "config") -> None:
    """Record a reviewer (login account or typed name); refreshes last_seen."""
    now = time.time()
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO reviewers(username, is_admin, source, created_at, last_seen) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(username) DO UPDATE SET last_seen = excluded.last_seen,"
            " is_admin = excluded.is_admin",
            (username, int(is_admin), source, now, now),
        )


def list_reviewers(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT username FROM reviewers ORDER BY username")]


def clean_reviewer_name(name: str | None) -> str | None:
    """A typed reviewer name, normalised; None when empty (votes need a reviewer)."""
    cleaned = " ".join((name or "").split())[:64]
    return cleaned or None


# ----------------------------------------------------------------------------- blind order


def comparison_key(suite: str, version: str, case_key: str, fingerprints: Iterable[str]) -> str:
    """What one comparison is: the same case (or free prompt) and the same candidate versions, in any order."""
    return sha256_text(json.dumps([suite, version, case_key, sorted(fingerprints)]))[:32]


def blind_order(candidates: Sequence[str], seed: str | None = None) -> tuple[list[str], str]:
    """Legacy random display order and its seed (stores from before the balanced design keep these
    seeds; this replays them). New comparisons use :func:`comparison_order`'s Latin square."""
    seed = seed or secrets.token_hex(16)
    order = sorted(candidates)
    random.Random(seed).shuffle(order)
    return order, seed


def reviewer_index(store: Store, reviewer: str) -> int:
    """A stable index per reviewer (order of first registration), the Latin square's reviewer axis."""
    now = time.time()
    with store.transaction() as cur:
        cur.execute("INSERT OR IGNORE INTO reviewers(username, is_admin, source, created_at, last_seen)"
                    " VALUES (?, 0, 'name', ?, ?)", (reviewer, now, now))
    row = store.conn.execute("SELECT COUNT(*) FROM reviewers WHERE rowid < (SELECT rowid FROM reviewers"
                             " WHERE username = ?)", (reviewer,)).fetchone()
    return int(row[0])


def comparison_order(store: Store, reviewer: str, key: str, candidates: Sequence[str],
                     case_index: int = 0) -> tuple[list[str], str]:
    """The blind order this reviewer gets for this comparison: a balanced Latin-square row
    (reviewer index + case index) the first time, then stored, so a reload shows the same A/B."""
    row = store.conn.execute("SELECT order_seed, order_json FROM review_comparisons WHERE reviewer = ? AND"
                             " comparison_key = ?", (reviewer, key)).fetchone()
    if row is not None and sorted(json.loads(row["order_json"])) == sorted(candidates):
        return json.loads(row["order_json"]), row["order_seed"]
    order, design = balanced_order(candidates, reviewer_index(store, reviewer), case_index)
    with store.transaction() as cur:
        cur.execute("INSERT OR IGNORE INTO review_comparisons(reviewer, comparison_key, order_seed, order_json,"
                    " created_at) VALUES (?, ?, ?, ?, ?)", (reviewer, key, design, json.dumps(order), time.time()))
    stored = store.conn.execute("SELECT order_seed, order_json FROM review_comparisons WHERE reviewer = ? AND"
                                " comparison_key = ?", (reviewer, key)).fetchone()
    return json.loads(stored["order_json"]), stored["order_seed"]  # a concurrent first view may have won


def existing_vote(store: Store, reviewer: str, key: str) -> int | None:
    """The id of this reviewer's vote on this comparison, if any."""
    row = store.conn.execute("SELECT id FROM reviews WHERE reviewer = ? AND comparison_key = ?",
                             (reviewer, key)).fetchone()
    return int(row["id"]) if row else None


# ----------------------------------------------------------------------------- saving reviews


@dataclass
class ShownResponse:
    """One response as shown to the reviewer under a blind label."""

    label: str
    candidate: str
    fingerprint: str
    text: str
    cache_key: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    rubric: dict[str, int | None] = field(default_factory=dict)
    same_as: str | None = None  # label of the earlier response with the same text (shown and rated once)


@dataclass
class ReviewInput:
    """Everything one judgement records."""

    reviewer: str
    suite: str
    version: str
    suite_hash: str
    case_id: str
    conversation: list[dict[str, str]]  # what the help-seeker/patient said, without system prompt
    shown: list[ShownResponse]
    vote: str
    source: str = "suite"
    split: str | None = None
    consent: bool = False
    blind: bool = True
    order_seed: str | None = None
    comment: str = ""
    assignment_id: int | None = None
    shown_at: float | None = None
    context: dict[str, Any] = field(default_factory=dict)
    edit_of: int | None = None  # the reviewer's earlier vote on this comparison that this one replaces

    @property
    def key(self) -> str:
        return comparison_key(self.suite, self.version, self.case_id, (s.fingerprint for s in self.shown))


def valid_votes(n_shown: int) -> tuple[str, ...]:
    return (*LABELS[:n_shown], *NON_DECISIVE)


def _check(review: ReviewInput) -> None:
    if not clean_reviewer_name(review.reviewer):
        raise ValueError("a review needs a reviewer")
    if not 2 <= len(review.shown) <= MAX_SHOWN:
        raise ValueError(f"a review compares 2 to {MAX_SHOWN} responses, got {len(review.shown)}")
    labels = [s.label for s in review.shown]
    if labels != list(LABELS[: len(labels)]):
        raise ValueError(f"responses must be labelled {', '.join(LABELS[: len(labels)])} in order, got {labels}")
    if review.vote not in valid_votes(len(review.shown)):
        raise ValueError(f"vote must be one of {', '.join(valid_votes(len(review.shown)))}, got {review.vote!r}")
    if review.source not in ("suite", "free"):
        raise ValueError(f"source must be 'suite' or 'free', got {review.source!r}")
    _check_identical(review)
    for shown in review.shown:
        for dim, value in shown.rubric.items():
            if dim not in RUBRIC:
                raise ValueError(f"unknown rubric dimension {dim!r} (known: {', '.join(RUBRIC)})")
            if value is not None and (not isinstance(value, int) or not 1 <= value <= 5):
                raise ValueError(f"rubric {dim} for {shown.label} must be 1-5, got {value!r}")


def _check_identical(review: ReviewInput) -> None:
    """Collapsed responses point at an earlier one with the same text; the vote names a shown one."""
    same_as = {s.label: s.same_as for s in review.shown if s.same_as}
    texts = {s.label: " ".join(s.text.split()) for s in review.shown}
    for label, target in same_as.items():
        if target not in texts or target >= label or target in same_as or texts[target] != texts[label]:
            raise ValueError(f"response {label} is marked identical to {target}, which it is not")
    if review.vote in same_as:
        raise ValueError(f"vote {review.vote} names a collapsed response; vote for {same_as[review.vote]}")
    if all_identical([s.label for s in review.shown], same_as) and review.vote != "tie":
        raise ValueError("all responses are identical: the vote is recorded as a tie")


class DuplicateVoteError(ValueError):
    """A reviewer voted on a comparison they have already voted on, without editing that vote."""


def save_review(store: Store, review: ReviewInput) -> int:
    """Store one judgement atomically and close the matching queue assignment; returns its id.

    One vote per reviewer per comparison: a second vote is refused unless it names the first as
    ``edit_of``, in which case the first is updated in place (same id, ``edited_at`` set).
    """
    _check(review)
    key = review.key
    earlier = existing_vote(store, review.reviewer, key)
    if earlier is not None and review.edit_of != earlier:
        raise DuplicateVoteError(f"{review.reviewer} already voted on this comparison (review #{earlier}); "
                                 "open it again to edit that vote")
    if review.edit_of is not None and earlier is None:
        raise ValueError(f"review #{review.edit_of} is not {review.reviewer}'s vote on this comparison")
    if earlier is not None:
        return _edit_review(store, earlier, review)
    try:
        return _insert_review(store, review, key)
    except sqlite3.IntegrityError:  # the same reviewer's vote from another tab got in first
        raise DuplicateVoteError(f"{review.reviewer} already voted on this comparison; open it again to edit "
                                 "that vote") from None


def _edit_review(store: Store, review_id: int, review: ReviewInput) -> int:
    """Replace vote, rubric and comment of an earlier vote; labels are mapped through fingerprints, since a
    non-blind view may have shown the candidates in another order."""
    old_label = {r["fingerprint"]: r["label"] for r in store.conn.execute(
        "SELECT label, fingerprint FROM review_responses WHERE review_id = ?", (review_id,))}
    new_fp = {s.label: s.fingerprint for s in review.shown}
    vote = old_label[new_fp[review.vote]] if review.vote in new_fp else review.vote
    winner = new_fp.get(review.vote)
    with store.transaction() as cur:
        cur.execute("UPDATE reviews SET vote = ?, winner_fp = ?, comment = ?, blind = blind AND ?, edited_at = ?"
                    " WHERE id = ?", (vote, winner, review.comment.strip()[:4000], int(review.blind), time.time(),
                                      review_id))
        cur.executemany(
            f"UPDATE review_responses SET {', '.join(f'{d} = ?' for d in RUBRIC)} WHERE review_id = ?"
            " AND fingerprint = ?",
            [(*[s.rubric.get(d) for d in RUBRIC], review_id, s.fingerprint) for s in review.shown],
        )
    return review_id


def _insert_review(store: Store, review: ReviewInput, key: str) -> int:
    keep_text = review.source == "suite" or review.consent
    winner = next((s.fingerprint for s in review.shown if s.label == review.vote), None)
    shown = [{"label": s.label, "candidate": s.candidate, "fingerprint": s.fingerprint,
              **({"same_as": s.same_as} if s.same_as else {})} for s in review.shown]
    now = time.time()
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO reviews(reviewer, source, suite, version, suite_hash, case_id, split, prompt_hash,"
            " prompt_json, consent, blind, order_seed, shown_json, vote, winner_fp, comment, assignment_id,"
            " shown_at, created_at, context_json, comparison_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (review.reviewer, review.source, review.suite, review.version, review.suite_hash, review.case_id,
             review.split, prompt_hash(review.conversation),
             json.dumps(review.conversation, ensure_ascii=False) if keep_text else None,
             int(review.consent), int(review.blind), review.order_seed, json.dumps(shown), review.vote, winner,
             review.comment.strip()[:4000],
             review.assignment_id, review.shown_at, now, json.dumps(review.context, default=str), key),
        )
        review_id = int(cur.lastrowid or 0)
        cur.executemany(
            f"INSERT INTO review_responses(review_id, label, position, candidate, fingerprint, cache_key,"
            f" response_text, response_hash, settings_json, same_as, {', '.join(RUBRIC)})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(RUBRIC))})",
            [
                (review_id, s.label, i, s.candidate, s.fingerprint, s.cache_key if keep_text else None,
                 s.text if keep_text else None, sha256_text(s.text), json.dumps(s.settings, default=str),
                 s.same_as, *[s.rubric.get(d) for d in RUBRIC])
                for i, s in enumerate(review.shown)
            ],
        )
        if review.source == "suite":
            names = json.dumps(sorted(s.candidate for s in review.shown))
            if review.assignment_id is not None:
                cur.execute("UPDATE review_assignments SET review_id = ?, done_at = ? WHERE id = ? AND reviewer = ?"
                            " AND done_at IS NULL", (review_id, now, review.assignment_id, review.reviewer))
            cur.execute(
                "UPDATE review_assignments SET review_id = ?, done_at = ? WHERE reviewer = ? AND suite = ?"
                " AND version = ? AND case_id = ? AND candidates_json = ? AND done_at IS NULL",
                (review_id, now, review.reviewer, review.suite, review.version, review.case_id, names),
            )
    return review_id


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


# ----------------------------------------------------------------------------- summary


def _unit_key(review: dict[str, Any]) -> tuple[str, ...]:
    """What two reviews must share to be judgements of the same thing (order-independent)."""
    fps = sorted(s["fingerprint"] for s in review["shown"])
    case = review["case_id"] if review["source"] == "suite" else review["prompt_hash"]
    return (review["suite"], review["version"], case, *fps)


def _latest_per_reviewer(reviews: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A reviewer who judged the same unit twice counts once (their latest judgement)."""
    latest: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for review in reviews:
        latest[(review["reviewer"], _unit_key(review))] = review
    return sorted(latest.values(), key=lambda r: r["id"])


def _same_as(review: dict[str, Any]) -> dict[str, str]:
    return {s["label"]: s["same_as"] for s in review["shown"] if s.get("same_as")}


def is_identical(review: dict[str, Any]) -> bool:
    """Every response shown had the same text: the 'tie' is by construction, not a judgement."""
    return all_identical([s["label"] for s in review["shown"]], _same_as(review))


def _vote_category(review: dict[str, Any]) -> str:
    """What a reviewer chose, in candidate space: the winning group's fingerprints (a collapsed choice
    picks every candidate that wrote that text), or tie / both_bad."""
    if review["vote"] in NON_DECISIVE:
        return review["vote"]
    fp = {s["label"]: s["fingerprint"] for s in review["shown"]}
    return "+".join(sorted(fp[label] for label in group_of(review["vote"], _same_as(review))))


def comparisons_from_reviews(reviews: Iterable[dict[str, Any]]) -> list[Comparison]:
    """Pairwise outcomes: the chosen response (with every response identical to it) beats every other
    shown; identical responses tie with each other; a tie is a draw between all shown; 'both bad'
    states no preference and is left out."""
    comparisons = []
    for review in reviews:
        labels = {s["label"]: s["fingerprint"] for s in review["shown"]}
        same_as = _same_as(review)
        if review["vote"] == "both_bad":
            continue
        if review["vote"] == "tie":
            fps = list(labels.values())
            comparisons += [Comparison(a, b, 0.5, review["id"]) for i, a in enumerate(fps) for b in fps[i + 1:]]
            continue
        group = set(group_of(review["vote"], same_as))
        winners = [labels[lab] for lab in sorted(group)]
        comparisons += [Comparison(a, b, 0.5, review["id"]) for i, a in enumerate(winners) for b in winners[i + 1:]]
        comparisons += [Comparison(w, labels[lab], 1.0, review["id"]) for w in winners
                        for lab in labels if lab not in group]
    return comparisons


def _vote_agreement(reviews: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Agreement on votes in candidate space (labels A/B differ between reviewers by design).

    Comparisons whose responses were all identical are left out: nobody chose anything there, and
    counting their forced ties as agreement (or their old arbitrary picks as disagreement) would
    distort kappa either way. Their number is reported.
    """
    by_unit: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)
    identical_units: set[tuple[str, ...]] = set()
    for review in reviews:
        if is_identical(review):
            identical_units.add(_unit_key(review))
            continue
        by_unit[_unit_key(review)][review["reviewer"]] = _vote_category(review)
    shared = {u: v for u, v in by_unit.items() if len(v) >= 2}
    categories = sorted({c for votes in shared.values() for c in votes.values()})
    fleiss_table = [[list(votes.values()).count(c) for c in categories] for votes in shared.values()]
    raters = sorted({r for votes in by_unit.values() for r in votes})
    pairs = []
    for i, a in enumerate(raters):
        for b in raters[i + 1:]:
            common = [u for u, votes in by_unit.items() if a in votes and b in votes]
            if common:
                first, second = [by_unit[u][a] for u in common], [by_unit[u][b] for u in common]
                pairs.append({"reviewers": [a, b], "units": len(common), "kappa": cohen_kappa(first, second),
                              "agreement": sum(x == y for x, y in zip(first, second, strict=True)) / len(common)})
    defined = [p["kappa"] for p in pairs if p["kappa"] is not None]
    return {
        "units_multi_rated": len(shared),
        "identical_units_excluded": len(identical_units),
        "raw_agreement": percent_agreement([list(v.values()) for v in shared.values()]),
        "cohen_kappa_pairs": pairs,
        "cohen_kappa_mean": sum(defined) / len(defined) if defined else None,
        "fleiss_kappa": fleiss_kappa(fleiss_table) if fleiss_table else None,
        "krippendorff_alpha_nominal": krippendorff_alpha([list(votes.values()) for votes in by_unit.values()],
                                                         metric="nominal"),
    }


def review_summary(store: Store, *, blind_only: bool = True, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Agreement between reviewers and a Bradley-Terry ranking of candidates, for reports and the app.

    Non-blind votes are excluded by default (reviewers who know which candidate wrote a
    response are biased); their number is reported.
    """
    ensure_review_schema(store)
    every = load_reviews(store)
    used = [r for r in every if r["blind"] or not blind_only]
    reviews = _latest_per_reviewer(used)
    names: dict[str, str] = {}
    for review in reviews:
        for s in review["shown"]:
            names[s["fingerprint"]] = s["candidate"]

    agreement = _vote_agreement(reviews)
    raters = sorted({r["reviewer"] for r in reviews})

    # Rubric agreement: each (unit, candidate) is rated by several reviewers on an ordinal scale.
    rubric: dict[str, Any] = {}
    by_candidate: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for dim in RUBRIC:
        rated: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for review in reviews:
            for response in review["responses"]:
                value = response["rubric"].get(dim)
                if value is not None:
                    rated[(*_unit_key(review), response["fingerprint"])].append(value)
                    by_candidate[response["fingerprint"]][dim].append(value)
        values = [v for vs in rated.values() for v in vs]
        rubric[dim] = {
            "ratings": len(values),
            "units_multi_rated": sum(1 for vs in rated.values() if len(vs) >= 2),
            "mean": sum(values) / len(values) if values else None,
            "krippendorff_alpha_ordinal": krippendorff_alpha(list(rated.values()), metric="ordinal"),
            "raw_agreement": percent_agreement(list(rated.values())),
        }

    ranking = bradley_terry_ranking(comparisons_from_reviews(reviews), sorted(names), resamples=resamples, seed=seed)
    for row in ranking:
        row["fingerprint"] = row.pop("item")
        row["candidate"] = names.get(row["fingerprint"], row["fingerprint"])
    votes = Counter("identical" if is_identical(r) else "decisive" if r["winner_fp"] else r["vote"]
                    for r in reviews)
    return {
        "reviews": len(reviews),
        "reviews_stored": len(every),
        "excluded_non_blind": len(every) - len(used),
        # Stores from before one-vote-per-comparison may hold repeats; only each reviewer's latest counts.
        "superseded_repeats": len(used) - len(reviews),
        "blind_only": blind_only,
        "reviewers": raters,
        "votes": {"decisive": votes.get("decisive", 0), "tie": votes.get("tie", 0),
                  "both_bad": votes.get("both_bad", 0), "identical": votes.get("identical", 0)},
        "vote_agreement": agreement,
        "rubric": rubric,
        "rubric_by_candidate": {
            fp: {"candidate": names.get(fp, fp), **{d: (sum(v) / len(v) if (v := dims.get(d)) else None)
                                                     for d in RUBRIC}}
            for fp, dims in sorted(by_candidate.items())
        },
        "ranking": ranking,
    }


# ----------------------------------------------------------------------------- export


def preference_pairs(store: Store, *, blind_only: bool = False,
                     exclude_splits: Sequence[str] = ()) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """DPO pairs from decisive votes: the chosen response vs. each other response shown.

    Ties and 'both bad' make no pair; reviews without stored text (free prompts without
    consent) make none either. ``exclude_splits=["test"]`` leaves out test cases, which the
    DPO stage's leakage check would refuse. Returns (pairs, skipped counts by reason).
    """
    ensure_review_schema(store)
    pairs: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for review in load_reviews(store, blind_only=blind_only):
        if review["split"] in set(exclude_splits):
            skipped[f"split_{review['split']}"] += 1
            continue
        if is_identical(review):
            skipped["identical_responses"] += 1
            continue
        if review["vote"] in NON_DECISIVE:
            skipped[review["vote"]] += 1
            continue
        conversation = review["conversation"]
        by_label = {r["label"]: r for r in review["responses"]}
        chosen = by_label.get(review["vote"])
        if not conversation or chosen is None or chosen["response_text"] is None:
            skipped["no_consent"] += 1
            continue
        single_turn = len(conversation) == 1 and conversation[0]["role"] == "user"
        for label, rejected in by_label.items():
            if label == review["vote"]:
                continue
            if rejected["response_text"] is None or rejected["response_text"].strip() == "":
                skipped["empty_response"] += 1
                continue
            if chosen["response_text"].strip() == "":
                skipped["empty_response"] += 1
                continue
            if rejected["response_text"].strip() == chosen["response_text"].strip():
                skipped["identical_responses"] += 1
                continue
            pairs.append({
                "id": f"review-{review['id']}-{review['vote']}>{label}",
                # A string for single-turn prompts (every DPO tool reads it), the conversation otherwise.
                "prompt": conversation[0]["content"] if single_turn else conversation,
                "messages": conversation,
                "chosen": chosen["response_text"],
                "rejected": rejected["response_text"],
                "reviewer": review["reviewer"],
                "review_id": review["id"],
                "suite": review["suite"],
                "version": review["version"],
                "suite_hash": review["suite_hash"],
                "case_id": review["case_id"],
                "split": review["split"],
                "source": review["source"],
                "blind": bool(review["blind"]),
                "chosen_candidate": chosen["candidate"],
                "rejected_candidate": rejected["candidate"],
                "chosen_fingerprint": chosen["fingerprint"],
                "rejected_fingerprint": rejected["fingerprint"],
                "chosen_settings": chosen["settings"],
                "rejected_settings": rejected["settings"],
                "chosen_rubric": chosen["rubric"],
                "rejected_rubric": rejected["rubric"],
                "comment": review["comment"],
                "created_at": datetime.fromtimestamp(review["created_at"], UTC).isoformat(),
            })
    return pairs, dict(skipped)


def export_preference_pairs(store: Store, path: Path | str, *, blind_only: bool = False,
                            exclude_splits: Sequence[str] = ()) -> int:
    """Write preference pairs as JSONL (``preference_jsonl`` for the DPO stage); returns the count."""
    return write_preference_pairs(store, path, blind_only=blind_only, exclude_splits=exclude_splits)[0]


def write_preference_pairs(store: Store, path: Path | str, *, blind_only: bool = False,
                           exclude_splits: Sequence[str] = ()) -> tuple[int, dict[str, int]]:
    """Like :func:`export_preference_pairs`, also returning the skipped votes by reason.

    Written to a temporary file and renamed, so a reader never sees half a file.
    """
    pairs, skipped = preference_pairs(store, blind_only=blind_only, exclude_splits=exclude_splits)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    with staging.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False, default=str) + "\n")
    staging.replace(target)
    return len(pairs), skipped


SKIP_REASONS = {
    "tie": "tie votes (no preferred response)",
    "both_bad": "'both bad' votes (no preferred response)",
    "identical_responses": "identical responses (nothing to prefer)",
    "no_consent": "free prompts stored without consent (no text to train on)",
    "empty_response": "empty responses",
}


def export_note(count: int, skipped: dict[str, int]) -> str:
    """Plain words for an export: how many pairs, and why each skipped vote made none."""
    parts = []
    for reason, n in sorted(skipped.items()):
        if reason.startswith("split_"):
            split = reason.removeprefix("split_")
            parts.append(f"{n} vote(s) on {split}-split cases left out: {split} cases measure the candidates, and "
                         "training on them would leak the test into the model (the DPO stage refuses such data)"
                         if split == "test" else f"{n} vote(s) on {split}-split cases left out as asked")
        else:
            parts.append(f"{n} {SKIP_REASONS.get(reason, reason.replace('_', ' '))}")
    text = f"Exported **{count}** preference pair(s) from decisive votes."
    if parts:
        text += " Skipped: " + "; ".join(parts) + "."
    if count == 0 and skipped.get("split_test"):
        text += (" To get pairs, queue cases from the train or dev split (the Review queue's default) and vote "
                 "on those.")
    return text
