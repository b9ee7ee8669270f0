"""Statistics shared by reports, gates and the playground.

Percentile bootstrap for a mean, paired bootstrap for a difference on the same cases, and a
sign-flip permutation p-value. All seeded, all numpy-vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


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
