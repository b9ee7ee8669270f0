"""Statistics shared by reports, gates and the playground.

Percentile bootstrap for a mean and paired bootstrap for a difference (kept for callers that want
them), and the small-sample intervals reports and gates use: Wilson for pass/fail metrics, Student t
for continuous ones, cluster bootstrap for cases that share a document, Newcombe for paired
proportions; exact sign-flip p-values and Holm. All seeded, all numpy-vectorised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float | None  # None: one continuous value, no spread to build an interval from
    high: float | None
    n: int
    method: str = "percentile bootstrap"

    def as_dict(self) -> dict[str, float | int | str]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "method": self.method}


def _clean(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None and not np.isnan(v)], dtype=float)


def bootstrap_mean(values: Sequence[float | None], *, resamples: int = 2000, confidence: float = 0.95,
                   seed: int = 0) -> Estimate | None:
    """Mean with a percentile-bootstrap CI; None when no case has a value."""
    data = _clean(values)
    if data.size == 0:
        return None
    if data.size == 1 or np.all(data == data[0]):
        return Estimate(float(data.mean()), float(data.mean()), float(data.mean()), int(data.size))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, data.size, size=(resamples, data.size))
    means = data[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    return Estimate(float(data.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)),
                    int(data.size))


@dataclass(frozen=True)
class PairedComparison:
    diff: Estimate
    p_value: float
    wins: int
    ties: int
    losses: int

    def as_dict(self) -> dict[str, object]:
        return {"diff": self.diff.as_dict(), "p_value": self.p_value, "wins": self.wins, "ties": self.ties,
                "losses": self.losses}


def paired_bootstrap(candidate: Sequence[float | None], baseline: Sequence[float | None], *,
                     higher_is_better: bool = True, resamples: int = 2000, confidence: float = 0.95,
                     seed: int = 0, tie_tolerance: float = 1e-9) -> PairedComparison | None:
    """Difference candidate - baseline over cases where both have a value.

    The one paired bootstrap of the harness (gates, reports, retriever comparisons). Convention: the
    new thing first, the reference second; a positive ``diff.mean`` means the candidate scored higher.

    Wins/losses are oriented by ``higher_is_better``; the p-value is a two-sided sign-flip
    permutation test of the mean difference.
    """
    pairs = [(a, b) for a, b in zip(candidate, baseline, strict=True)
             if a is not None and b is not None and not np.isnan(a) and not np.isnan(b)]
    if not pairs:
        return None
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    d = a - b
    diff = bootstrap_mean(d.tolist(), resamples=resamples, confidence=confidence, seed=seed)
    assert diff is not None
    rng = np.random.default_rng(seed + 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, d.size))
    permuted = np.abs((signs * d).mean(axis=1))
    observed = abs(d.mean())
    p_value = float((np.sum(permuted >= observed - 1e-12) + 1) / (resamples + 1))
    better = d if higher_is_better else -d
    wins = int(np.sum(better > tie_tolerance))
    losses = int(np.sum(better < -tie_tolerance))
    return PairedComparison(diff, min(1.0, p_value), wins, d.size - wins - losses, losses)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (controls family-wise error over comparisons)."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (m - rank) * p_values[index])
        adjusted[index] = min(1.0, running)
    return adjusted.tolist()


# ----------------------------------------------------------------------------- small-sample intervals
#
# The percentile bootstrap above is the interval of the resampled means, which at n = 6-10 is too
# narrow (it ignores the t correction and the uncertainty of the spread): bench/bench_coverage.py
# measures its coverage. The functions below are what reports and gates use: Wilson score intervals
# for pass/fail metrics, Student-t intervals for continuous ones, a cluster bootstrap when cases
# share a source document, and Newcombe's score interval for a paired difference of proportions.

MIN_N = 6  # below this many cases (or pairs) a cell is descriptive only: greyed, no significance language
EXACT_SIGN_FLIP_MAX = 16  # up to this many non-zero pairs the sign-flip p-value is enumerated exactly


def is_binary(data: np.ndarray) -> bool:
    """Pass/fail values only (every value 0 or 1)."""
    return bool(data.size) and bool(np.all((data == 0) | (data == 1)))


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion: never zero-width, stays inside [0, 1] (3/3 -> 0.44-1)."""
    from scipy.stats import norm

    if n <= 0:
        raise ValueError("a proportion needs n >= 1")
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def t_interval(data: np.ndarray, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Student-t interval for a mean; (None, None) for a single value (no spread to judge from)."""
    from scipy.stats import t

    if data.size < 2:
        return None, None
    half = float(t.ppf(1 - (1 - confidence) / 2, data.size - 1)) * float(data.std(ddof=1)) / math.sqrt(data.size)
    return float(data.mean()) - half, float(data.mean()) + half


def bca_interval(data: np.ndarray, *, resamples: int = 2000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Bias-corrected and accelerated bootstrap interval for a mean (for comparison in the bench)."""
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    mean = data.mean()
    share = np.clip((np.sum(means < mean) + 0.5 * np.sum(means == mean)) / resamples, 1e-6, 1 - 1e-6)
    z0 = norm.ppf(share)
    jack = (data.sum() - data) / (data.size - 1)
    spread = jack.mean() - jack
    denom = 6.0 * (np.sum(spread ** 2) ** 1.5)
    accel = float(np.sum(spread ** 3) / denom) if denom > 0 else 0.0
    alpha = (1 - confidence) / 2
    bounds = []
    for z in (norm.ppf(alpha), norm.ppf(1 - alpha)):
        adjusted = norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
        bounds.append(float(np.quantile(means, float(np.clip(adjusted, 0, 1)))))
    return bounds[0], bounds[1]


MIN_BOOTSTRAP_CLUSTERS = 10  # fewer clusters: a bootstrap over them has too few distinct resamples


def cluster_bootstrap(data: np.ndarray, clusters: Sequence[Any], *, resamples: int = 2000,
                      confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean when whole clusters (a source document) are resampled:
    questions about the same summary are not independent, so resampling them one by one is too sure."""
    labels = list(dict.fromkeys(clusters))
    index = {label: i for i, label in enumerate(labels)}
    ids = np.array([index[c] for c in clusters])
    sums = np.bincount(ids, weights=data, minlength=len(labels))
    counts = np.bincount(ids, minlength=len(labels)).astype(float)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(labels), size=(resamples, len(labels)))
    means = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    alpha = (1 - confidence) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def cluster_t(data: np.ndarray, clusters: Sequence[Any], confidence: float = 0.95) -> tuple[float, float, float]:
    """(low, high, p for mean = 0): cluster-robust Student t over G clusters with G - 1 degrees of
    freedom. With 2-9 documents a bootstrap over them has a handful of distinct resamples and comes
    out *narrower* than resampling questions; this interval is honest about having G, not n, units."""
    from scipy.stats import t

    labels = list(dict.fromkeys(clusters))
    index = {label: i for i, label in enumerate(labels)}
    ids = np.array([index[c] for c in clusters])
    groups = len(labels)
    mean = float(data.mean())
    residual_totals = np.bincount(ids, weights=data - mean, minlength=groups)
    se = math.sqrt(groups / (groups - 1) * float(np.sum(residual_totals ** 2))) / data.size
    if se == 0:
        return mean, mean, 1.0 if mean == 0 else 0.0
    half = float(t.ppf(1 - (1 - confidence) / 2, groups - 1)) * se
    return mean - half, mean + half, float(min(1.0, 2 * t.sf(abs(mean) / se, groups - 1)))


def clustered_interval(data: np.ndarray, clusters: Sequence[Any], *, resamples: int = 2000,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float | None, str]:
    """(low, high, p or None, method) for clustered cases: cluster bootstrap from
    ``MIN_BOOTSTRAP_CLUSTERS`` documents up, cluster-robust t below."""
    groups = len(set(clusters))
    if groups >= MIN_BOOTSTRAP_CLUSTERS:
        low, high = cluster_bootstrap(data, clusters, resamples=resamples, confidence=confidence, seed=seed)
        return low, high, None, f"cluster bootstrap ({groups} documents)"
    low, high, p_value = cluster_t(data, clusters, confidence)
    return low, high, p_value, f"cluster-robust t ({groups} documents)"


def _pick_clusters(values: Sequence[float | None], clusters: Sequence[Any] | None) -> list[Any] | None:
    """Cluster labels of the kept values; None when fewer than 2 clusters or no case shares one."""
    if clusters is None:
        return None
    kept = [c for v, c in zip(values, clusters, strict=True) if v is not None and not np.isnan(v)]
    distinct = len(set(kept))
    return kept if 2 <= distinct < len(kept) else None


def mean_interval(values: Sequence[float | None], *, clusters: Sequence[Any] | None = None,
                  confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> Estimate | None:
    """Mean with the interval that suits the data: cluster bootstrap when cases share a cluster
    (``clusters`` aligned with ``values``), Wilson for pass/fail values, else Student t."""
    data = _clean(values)
    if data.size == 0:
        return None
    mean = float(data.mean())
    kept = _pick_clusters(values, clusters)
    if kept is not None:
        low, high, _p, method = clustered_interval(data, kept, resamples=resamples, confidence=confidence, seed=seed)
        if is_binary(data):  # a share stays within [0, 1] however few the documents
            low, high = max(0.0, low), min(1.0, high)
        return Estimate(mean, low, high, int(data.size), method)
    if is_binary(data):
        low, high = wilson_interval(float(data.sum()), int(data.size), confidence)
        return Estimate(mean, low, high, int(data.size), "Wilson")
    t_low, t_high = t_interval(data, confidence)
    return Estimate(mean, t_low, t_high, int(data.size), "Student t")  # type: ignore[arg-type]


def newcombe_paired(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's (1998, method 10) score interval for p(a) - p(b) on paired pass/fail values."""
    n = a.size
    both, only_a = float(np.sum((a == 1) & (b == 1))), float(np.sum((a == 1) & (b == 0)))
    only_b, neither = float(np.sum((a == 0) & (b == 1))), float(np.sum((a == 0) & (b == 0)))
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson_interval(both + only_a, n, confidence)
    l2, u2 = wilson_interval(both + only_b, n, confidence)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    if denom == 0:
        phi = 0.0
    elif cross > 0:
        phi = max(cross - n / 2, 0.0) / math.sqrt(denom)
    else:
        phi = cross / math.sqrt(denom)
    diff = p1 - p2
    down = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    up = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(-1.0, diff - down), min(1.0, diff + up)


def sign_flip_p(d: np.ndarray, *, resamples: int = 2000, seed: int = 0) -> float:
    """Two-sided sign-flip p-value of the mean difference: exact (every sign pattern) up to
    ``EXACT_SIGN_FLIP_MAX`` non-zero differences, Monte Carlo above."""
    nonzero = d[np.abs(d) > 1e-12]
    if nonzero.size == 0:
        return 1.0
    observed = abs(d.sum())
    if nonzero.size <= EXACT_SIGN_FLIP_MAX:
        patterns = ((np.arange(2 ** nonzero.size)[:, None] >> np.arange(nonzero.size)) & 1) * 2 - 1
        sums = np.abs(patterns @ nonzero)
        return float(np.mean(sums >= observed - 1e-9))
    rng = np.random.default_rng(seed + 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, nonzero.size))
    return float(min(1.0, (np.sum(np.abs(signs @ nonzero) >= observed - 1e-9) + 1) / (resamples + 1)))


def paired_difference(candidate: Sequence[float | None], baseline: Sequence[float | None], *,
                      clusters: Sequence[Any] | None = None, higher_is_better: bool = True,
                      resamples: int = 2000, confidence: float = 0.95, seed: int = 0,
                      tie_tolerance: float = 1e-9) -> PairedComparison | None:
    """candidate - baseline on the cases where both have a value, with an interval that suits the
    data (Newcombe for pass/fail pairs, cluster bootstrap when cases share a cluster, else Student t).
    p-value: the paired t-test for Student-t intervals (so it agrees with the interval); otherwise an
    exact sign-flip test (McNemar's exact test for pass/fail pairs; cluster totals flipped together)."""
    rows = [(x, y, c) for x, y, c in zip(candidate, baseline, clusters or [None] * len(candidate), strict=True)
            if x is not None and y is not None and not np.isnan(x) and not np.isnan(y)]
    if not rows:
        return None
    a = np.array([r[0] for r in rows], dtype=float)
    b = np.array([r[1] for r in rows], dtype=float)
    d = a - b
    kept = _pick_clusters(d.tolist(), [r[2] for r in rows]) if clusters is not None else None
    cluster_p = None
    binary_pairs = is_binary(a) and is_binary(b)
    if not np.any(d) and not binary_pairs:  # pass/fail ties keep Newcombe: 6 tied cases say little
        low, high, method, flips = 0.0, 0.0, "identical on every case", d
    elif kept is not None:
        low, high, cluster_p, method = clustered_interval(d, kept, resamples=resamples, confidence=confidence,
                                                          seed=seed)
        if binary_pairs:
            low, high = max(-1.0, low), min(1.0, high)
        index = {label: i for i, label in enumerate(dict.fromkeys(kept))}
        flips = np.bincount([index[c] for c in kept], weights=d)
    elif binary_pairs:
        low, high = newcombe_paired(a, b, confidence)
        method, flips = "Newcombe paired score", d
    else:
        low, high = t_interval(d, confidence)  # type: ignore[assignment]
        method, flips = "Student t (paired)", d
    diff = Estimate(float(d.mean()), low, high, int(d.size), method)
    better = d if higher_is_better else -d
    wins = int(np.sum(better > tie_tolerance))
    losses = int(np.sum(better < -tie_tolerance))
    if cluster_p is not None:
        p_value = cluster_p
    elif method.startswith("Student t") and d.size > 1 and float(d.std(ddof=1)) > 0:
        p_value = paired_t_p(d)  # the test that matches the interval: p < 0.05 exactly when the CI excludes 0
    else:
        p_value = sign_flip_p(flips, resamples=resamples, seed=seed)
    return PairedComparison(diff, p_value, wins, d.size - wins - losses, losses)


def paired_t_p(d: np.ndarray) -> float:
    """Two-sided one-sample t-test of the mean difference against 0."""
    from scipy.stats import t

    statistic = float(d.mean()) / (float(d.std(ddof=1)) / math.sqrt(d.size))
    return float(min(1.0, 2 * t.sf(abs(statistic), d.size - 1)))


def cases_needed(sd: float, effect: float, margin: float, confidence: float = 0.95, limit: int = 10_000) -> int | None:
    """Paired cases a non-inferiority comparison needs for its worse bound to clear ``-margin`` if the
    mean difference (``effect``, oriented so positive is better) and its spread ``sd`` held; None
    when the observed effect itself is not above ``-margin`` (more cases would not help)."""
    from scipy.stats import t

    if effect <= -margin:
        return None
    if sd <= 0:
        return 2
    for n in range(2, limit):
        if effect - float(t.ppf(1 - (1 - confidence) / 2, n - 1)) * sd / math.sqrt(n) > -margin:
            return n
    return None


def cases_needed_binary(a: Sequence[float], b: Sequence[float], margin: float, *, higher_is_better: bool = True,
                        confidence: float = 0.95, limit: int = 5000) -> int | None:
    """As ``cases_needed`` for paired pass/fail values: the smallest n whose Newcombe interval, with
    the same shares of concordant and discordant pairs, clears ``-margin``; None if none does."""
    x, y = np.array(a, dtype=float), np.array(b, dtype=float)
    if not higher_is_better:
        x, y = y, x
    if x.mean() - y.mean() <= -margin:
        return None
    shares = [float(np.mean(m)) for m in ((x == 1) & (y == 1), (x == 1) & (y == 0), (x == 0) & (y == 1))]
    for n in range(max(2, x.size), limit):
        counts = [round(share * n) for share in shares]
        rest = n - sum(counts)
        if rest < 0:
            continue
        cand = np.array([1] * counts[0] + [1] * counts[1] + [0] * counts[2] + [0] * rest, dtype=float)
        base = np.array([1] * counts[0] + [0] * counts[1] + [1] * counts[2] + [0] * rest, dtype=float)
        if newcombe_paired(cand, base, confidence)[0] > -margin:
            return n
    return None
