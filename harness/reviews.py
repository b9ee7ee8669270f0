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

import json
import random
import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# The review tables, queue, summary and export are in harness.review; re-exported here, where callers
# and tests have always imported them.
from harness.review.export import (
    SKIP_REASONS,
    export_note,
    export_preference_pairs,
    preference_pairs,
    write_preference_pairs,
)
from harness.review.queue import assign_cases, assignment_progress, next_assignment, queue_counts
from harness.review.schema import (
    LABELS,
    MAX_SHOWN,
    NON_DECISIVE,
    RUBRIC,
    RUBRIC_TITLES,
    clean_reviewer_name,
    ensure_review_schema,
    load_reviews,
    prompt_hash,
    sha256_text,
)
from harness.review.summary import comparisons_from_reviews, is_identical, review_summary
from harness.review_design import all_identical, balanced_order
from harness.store import Store

__all__ = ["LABELS", "MAX_SHOWN", "NON_DECISIVE", "RUBRIC", "RUBRIC_TITLES", "SKIP_REASONS", "DuplicateVoteError",
           "ReviewInput", "ShownResponse", "assign_cases", "assignment_progress", "blind_order",
           "clean_reviewer_name", "comparison_key", "comparison_order", "comparisons_from_reviews",
           "ensure_review_schema", "existing_vote", "export_note", "export_preference_pairs", "is_identical",
           "list_reviewers", "load_reviews", "next_assignment", "preference_pairs", "prompt_hash", "queue_counts",
           "register_reviewer", "review_summary", "reviewer_index", "save_review", "sha256_text", "valid_votes",
           "write_preference_pairs"]

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


