"""Preference pairs from blind votes (the DPO stage's input), written as JSONL; what was skipped and why.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.review.schema import NON_DECISIVE, ensure_review_schema, load_reviews
from harness.review.summary import is_identical
from harness.store import Store

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
