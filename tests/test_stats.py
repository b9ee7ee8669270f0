import numpy as np

from harness.stats import bootstrap_mean, holm_adjust, paired_bootstrap


def test_bootstrap_ci_contains_mean_and_ignores_none() -> None:
    values = [0.1, 0.5, None, 0.9, 0.3, 0.7]
    estimate = bootstrap_mean(values)
    assert estimate is not None and estimate.n == 5
    assert estimate.low < estimate.mean == np.mean([0.1, 0.5, 0.9, 0.3, 0.7]) < estimate.high
    assert bootstrap_mean([None, None]) is None


def test_bootstrap_is_seeded() -> None:
    values = list(np.random.default_rng(1).random(30))
    assert bootstrap_mean(values, seed=3) == bootstrap_mean(values, seed=3)


def test_paired_bootstrap_detects_a_consistent_improvement() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(40)
    better = base + 0.1 + rng.normal(0, 0.01, 40)
    result = paired_bootstrap(better.tolist(), base.tolist())
    assert result is not None
    assert result.diff.low > 0.05 and result.p_value < 0.01
    assert (result.wins, result.losses) == (40, 0)
    lower_is_better = paired_bootstrap(better.tolist(), base.tolist(), higher_is_better=False)
    assert lower_is_better is not None and lower_is_better.losses == 40


def test_paired_bootstrap_no_difference_is_not_significant() -> None:
    rng = np.random.default_rng(0)
    a = rng.random(40)
    result = paired_bootstrap(a.tolist(), (a + rng.normal(0, 0.05, 40)).tolist())
    assert result is not None and result.p_value > 0.05 and result.diff.low < 0 < result.diff.high


def test_holm_adjustment() -> None:
    assert holm_adjust([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
