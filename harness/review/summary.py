"""What the reviews say: vote and rubric agreement between reviewers, and a Bradley-Terry ranking.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from harness.agreement import (
    Comparison,
    bradley_terry_ranking,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from harness.review.schema import NON_DECISIVE, RUBRIC, ensure_review_schema, load_reviews
from harness.review_design import all_identical, group_of
from harness.store import Store

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
