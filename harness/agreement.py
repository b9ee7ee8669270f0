"""Inter-rater agreement and pairwise ranking for clinical review votes.

Reviewer judgements are only worth acting on when reviewers agree more than chance, so the
playground reports Cohen's kappa (two raters), Fleiss' kappa (many raters, nominal),
Krippendorff's alpha (any number of raters, missing ratings, nominal or ordinal metric) and a
Bradley-Terry ranking of candidates with bootstrap confidence intervals.

All functions are pure (numpy/scipy only) so reports can call them on any data.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Rating = Hashable
Metric = Literal["nominal", "ordinal", "interval"]


def cohen_kappa(rater_a: Sequence[Rating], rater_b: Sequence[Rating]) -> float | None:
    """Cohen's kappa for two raters over the same items.

    None when undefined: no items, or both raters used one and the same category throughout
    (expected agreement 1, so 0/0); reporting 1.0 there would overstate a single agreement.
    """
    if len(rater_a) != len(rater_b):
        raise ValueError("both raters must rate the same items")
    n = len(rater_a)
    if n == 0:
        return None
    categories = sorted({*rater_a, *rater_b}, key=repr)
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for a, b in zip(rater_a, rater_b, strict=True):
        table[index[a], index[b]] += 1
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    if math.isclose(expected, 1.0):
        return None
    return float((observed - expected) / (1 - expected))


def percent_agreement(units: Sequence[Sequence[Rating | None]]) -> float | None:
    """Raw (observed) agreement: over units with two or more ratings, the share of rater pairs that
    gave the same rating, averaged over units. Shown beside kappa because kappa can be low while
    reviewers almost always agree (when one category dominates), and readers need both."""
    shares = []
    for unit in units:
        ratings = [r for r in unit if r is not None]
        m = len(ratings)
        if m < 2:
            continue
        same = sum(ratings.count(c) * (ratings.count(c) - 1) for c in set(ratings))
        shares.append(same / (m * (m - 1)))
    return sum(shares) / len(shares) if shares else None


def fleiss_kappa(counts: Sequence[Sequence[float]] | np.ndarray) -> float | None:
    """Fleiss' kappa from a units x categories table of rating counts.

    Textbook Fleiss needs the same number of raters per unit; rows with different totals
    (>= 2) use the usual per-unit agreement ``(sum n_ij^2 - n_i) / (n_i (n_i - 1))`` and
    category shares weighted by ratings, which reduces to Fleiss when totals are equal.
    Rows with fewer than two ratings carry no agreement information and are dropped. None
    when undefined (no such rows, or every rating in one category).
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.size == 0:
        return None
    totals = table.sum(axis=1)
    table, totals = table[totals >= 2], totals[totals >= 2]
    if len(table) == 0:
        return None
    per_unit = ((table**2).sum(axis=1) - totals) / (totals * (totals - 1))
    p_bar = float(per_unit.mean())
    shares = table.sum(axis=0) / totals.sum()
    p_e = float((shares**2).sum())
    if math.isclose(p_e, 1.0):
        return None
    return (p_bar - p_e) / (1 - p_e)


def _delta(metric: Metric, values: np.ndarray, marginals: np.ndarray) -> np.ndarray:
    """Squared difference function delta^2(c, k) for the sorted distinct ``values``."""
    k = len(values)
    if metric == "nominal":
        return 1.0 - np.eye(k)
    if metric == "interval":
        diff = values[:, None] - values[None, :]
        return diff.astype(float) ** 2
    # ordinal: (sum of marginals from c to k, minus half of the two end marginals)^2
    cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
    delta = np.zeros((k, k))
    for c in range(k):
        for j in range(k):
            lo, hi = min(c, j), max(c, j)
            span = cumulative[hi + 1] - cumulative[lo] - (marginals[lo] + marginals[hi]) / 2
            delta[c, j] = span**2
    return delta


def krippendorff_alpha(units: Sequence[Sequence[Rating | None]] | Mapping[Any, Sequence[Rating | None]],
                       metric: Metric = "nominal") -> float | None:
    """Krippendorff's alpha; each unit is the list of its ratings (None = missing).

    Units with fewer than two ratings are not pairable and are ignored. Ordinal and interval
    metrics need orderable (numeric) ratings. Returns None when undefined: nothing pairable,
    or every pairable rating is the same value (expected disagreement 0, so 0/0).
    """
    rows = list(units.values()) if isinstance(units, Mapping) else list(units)
    cleaned = [[r for r in row if r is not None] for row in rows]
    cleaned = [row for row in cleaned if len(row) >= 2]
    if not cleaned:
        return None
    if metric == "nominal":
        distinct = sorted({r for row in cleaned for r in row}, key=repr)
    else:
        distinct = sorted({r for row in cleaned for r in row})  # type: ignore[type-var]
    index = {v: i for i, v in enumerate(distinct)}
    k = len(distinct)
    if k == 1:
        return None
    # Coincidence matrix o_ck: each ordered pair within a unit weighted by 1/(m_u - 1).
    coincidence = np.zeros((k, k))
    for row in cleaned:
        counts = np.zeros(k)
        for r in row:
            counts[index[r]] += 1
        pairs = np.outer(counts, counts) - np.diag(counts)
        coincidence += pairs / (len(row) - 1)
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    values = np.array(distinct, dtype=float) if metric != "nominal" else np.arange(k, dtype=float)
    delta = _delta(metric, values, marginals)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (n - 1)
    if expected == 0:
        return None
    return 1.0 - observed / expected


# ----------------------------------------------------------------------------- Bradley-Terry


@dataclass(frozen=True)
class Comparison:
    """One judgement between two items: ``score`` is 1 if ``a`` won, 0 if ``b`` won, 0.5 for a tie."""

    a: str
    b: str
    score: float
    group: Hashable = None  # what the bootstrap resamples (e.g. the review id)


def bradley_terry(comparisons: Sequence[Comparison], items: Sequence[str] | None = None, *,
                  prior: float = 0.1, iterations: int = 2000, tol: float = 1e-10) -> dict[str, float]:
    """Maximum-likelihood Bradley-Terry log-strengths (mean 0), via Hunter's MM algorithm.

    ``P(i beats j) = exp(t_i) / (exp(t_i) + exp(t_j))``. ``prior`` adds that many virtual
    ties between every compared pair (a symmetric shrinkage toward equal strength) so that a
    candidate that never won still gets a finite strength; ``prior=0`` is the plain MLE.
    Items never compared get strength 0.
    """
    names = list(items) if items is not None else sorted({c.a for c in comparisons} | {c.b for c in comparisons})
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    if n == 0:
        return {}
    wins = np.zeros((n, n))  # wins[i, j]: (fractional) wins of i over j
    for c in comparisons:
        i, j = index[c.a], index[c.b]
        if i == j:
            continue
        wins[i, j] += c.score
        wins[j, i] += 1.0 - c.score
    games = wins + wins.T
    if prior > 0:
        compared = games > 0
        wins = wins + prior / 2 * compared
        games = wins + wins.T
    strength = np.ones(n)
    total_wins = wins.sum(axis=1)
    active = games.sum(axis=1) > 0
    for _ in range(iterations):
        denom = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = np.where(active & (denom > 0), total_wins / np.where(denom > 0, denom, 1), strength)
        updated = np.where(active, np.maximum(updated, 1e-300), 1.0)
        updated /= math.exp(np.log(updated[active]).mean()) if active.any() else 1.0
        if np.max(np.abs(np.log(updated) - np.log(strength))) < tol:
            strength = updated
            break
        strength = updated
    theta = np.log(strength)
    if active.any():
        theta = theta - theta[active].mean()
    theta[~active] = 0.0
    return {name: float(theta[index[name]]) for name in names}


def bradley_terry_ranking(comparisons: Sequence[Comparison], items: Sequence[str] | None = None, *,
                          resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                          prior: float = 0.1) -> list[dict[str, Any]]:
    """Bradley-Terry strengths with percentile bootstrap CIs, best first.

    The bootstrap resamples whole ``group``s (one review may yield several comparisons), so
    the interval reflects how many independent judgements there are, not how many pairs.
    """
    names = list(items) if items is not None else sorted({c.a for c in comparisons} | {c.b for c in comparisons})
    point = bradley_terry(comparisons, names, prior=prior)
    groups: dict[Hashable, list[Comparison]] = {}
    for i, c in enumerate(comparisons):
        groups.setdefault(c.group if c.group is not None else i, []).append(c)
    keys = list(groups)
    rng = np.random.default_rng(seed)
    samples = np.zeros((resamples, len(names)))
    if keys and resamples > 0:
        for r in range(resamples):
            drawn = rng.integers(0, len(keys), size=len(keys))
            resampled = [c for d in drawn for c in groups[keys[d]]]
            fit = bradley_terry(resampled, names, prior=prior, iterations=500, tol=1e-8)
            samples[r] = [fit[name] for name in names]
    alpha = (1 - confidence) / 2
    record: dict[str, dict[str, float]] = {n: {"wins": 0.0, "losses": 0.0, "ties": 0.0} for n in names}
    judged: dict[str, set[Hashable]] = {n: set() for n in names}  # independent judgements per item
    for i, c in enumerate(comparisons):
        for item in (c.a, c.b):
            judged[item].add(c.group if c.group is not None else i)
    for c in comparisons:
        if c.score == 0.5:
            record[c.a]["ties"] += 1
            record[c.b]["ties"] += 1
        else:
            winner, loser = (c.a, c.b) if c.score > 0.5 else (c.b, c.a)
            record[winner]["wins"] += 1
            record[loser]["losses"] += 1
    rows = []
    for j, name in enumerate(names):
        has_samples = bool(keys) and resamples > 0
        lo = float(np.quantile(samples[:, j], alpha)) if has_samples else None
        hi = float(np.quantile(samples[:, j], 1 - alpha)) if has_samples else None
        rows.append({"item": name, "strength": point[name], "ci_low": lo, "ci_high": hi,
                     # The same scale as a probability a reviewer can read: P(preferred over a candidate of
                     # average strength); monotone in strength, so the CI maps over unchanged.
                     "win_prob": win_probability(point[name], 0.0),
                     "win_prob_low": None if lo is None else win_probability(lo, 0.0),
                     "win_prob_high": None if hi is None else win_probability(hi, 0.0),
                     "wins": int(record[name]["wins"]), "losses": int(record[name]["losses"]),
                     "ties": int(record[name]["ties"]), "judgements": len(judged[name])})
    rows.sort(key=lambda row: -row["strength"])
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def win_probability(theta_a: float, theta_b: float) -> float:
    """P(a preferred over b) under Bradley-Terry."""
    return 1.0 / (1.0 + math.exp(theta_b - theta_a))
