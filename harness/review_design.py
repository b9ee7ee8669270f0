"""How a blind comparison is laid out for a reviewer: balanced display order, identical
responses collapsed, and what a complete rubric is.

Pure functions, so the playground, the store code and the tests share one rule for each:

- Display order is a cyclic Latin square over the sorted candidate names. The row is
  ``reviewer_index + case_index`` (mod n), so across reviewers of one case, and across the
  cases of one reviewer, every candidate appears in every position equally often. Random
  orders per reviewer only balance on average; with 2-3 reviewers per case they often don't.
- Responses with the same text (after whitespace normalisation) are shown once: the later
  ones point at the first (``same_as``) and share its rubric; a choice of that response
  picks the whole group, and when every response is the same the vote is a tie by
  construction ("identical"), not a forced arbitrary pick.
- A rubric is complete when every scale of every shown response has a score or an explicit
  "N/A"; an empty scale is an unanswered question, not a quiet "not applicable".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOT_APPLICABLE = "N/A"
LATIN_PREFIX = "latin:"


def latin_row(reviewer_index: int, case_index: int, n: int) -> int:
    """Row of the cyclic Latin square this reviewer gets on this case."""
    if n < 1:
        raise ValueError("a Latin square needs at least one candidate")
    return (reviewer_index + case_index) % n


def balanced_order(candidates: Sequence[str], reviewer_index: int, case_index: int) -> tuple[list[str], str]:
    """Display order and its design tag (``latin:ROW/N``, stored with the vote)."""
    base = sorted(dict.fromkeys(candidates))
    row = latin_row(reviewer_index, case_index, len(base))
    return base[row:] + base[:row], f"{LATIN_PREFIX}{row}/{len(base)}"


def replay_design(candidates: Sequence[str], design: str) -> list[str]:
    """The order a stored design tag stands for (for audits and tests)."""
    if not design.startswith(LATIN_PREFIX):
        raise ValueError(f"not a Latin-square design tag: {design!r}")
    row, n = (int(x) for x in design[len(LATIN_PREFIX):].split("/"))
    base = sorted(dict.fromkeys(candidates))
    if n != len(base):
        raise ValueError(f"design {design!r} is for {n} candidates, got {len(base)}")
    return base[row:] + base[:row]


def normalised(text: str) -> str:
    """Whitespace-insensitive identity of a response (what a reader cannot tell apart)."""
    return " ".join((text or "").split())


def identical_groups(texts: Mapping[str, str]) -> dict[str, str]:
    """label -> label of the first response with the same text, for every later duplicate."""
    first: dict[str, str] = {}
    same_as: dict[str, str] = {}
    for label, text in texts.items():
        key = normalised(text)
        if key in first:
            same_as[label] = first[key]
        else:
            first[key] = label
    return same_as


def shown_labels(labels: Sequence[str], same_as: Mapping[str, str]) -> list[str]:
    """The labels a reviewer actually reads and rates (one per distinct text)."""
    return [label for label in labels if label not in same_as]


def all_identical(labels: Sequence[str], same_as: Mapping[str, str]) -> bool:
    return len(labels) >= 2 and len(shown_labels(labels, same_as)) == 1


def group_of(label: str, same_as: Mapping[str, str]) -> list[str]:
    """Every label showing the same text as ``label`` (itself included), in label order."""
    root = same_as.get(label, label)
    members = [root, *(lab for lab, to in same_as.items() if to == root)]
    return sorted(set(members))


def missing_rubric(ratings: Mapping[str, Mapping[str, Any]], scales: Sequence[str],
                   titles: Mapping[str, str] | None = None) -> list[str]:
    """'A: Safety'-style names of scales with neither a score nor N/A (empty = complete)."""
    missing = []
    for label, values in ratings.items():
        for scale in scales:
            if values.get(scale) in (None, ""):
                missing.append(f"{label}: {(titles or {}).get(scale, scale)}")
    return missing


def rubric_scores(values: Mapping[str, Any], scales: Sequence[str]) -> dict[str, int | None]:
    """Stored form of one response's ratings: ints, with N/A (and legacy blanks) as None."""
    out: dict[str, int | None] = {}
    for scale in scales:
        value = values.get(scale)
        out[scale] = None if value in (None, "", NOT_APPLICABLE) else int(value)
    return out
