import numpy as np
import pytest

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


# ---- small-sample intervals (issue 19) ------------------------------------------------------------

from harness.stats import (  # noqa: E402
    MIN_N,
    cases_needed,
    cluster_bootstrap,
    mean_interval,
    newcombe_paired,
    paired_difference,
    sign_flip_p,
    t_interval,
    wilson_interval,
)


def test_wilson_is_never_zero_width_and_matches_the_textbook_value() -> None:
    low, high = wilson_interval(3, 3)
    assert round(low, 3) == 0.439 and high == pytest.approx(1.0)  # 3/3 is not "certainly 1.000"
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0) and round(high, 3) == 0.278
    low, high = wilson_interval(5, 10)
    assert (round(low, 3), round(high, 3)) == (0.237, 0.763)


def test_mean_interval_picks_wilson_t_or_cluster() -> None:
    binary = mean_interval([1, 1, 1, None])
    assert binary is not None and binary.method == "Wilson" and binary.low < 1.0 and binary.n == 3
    cont = mean_interval([0.1, 0.4, 0.35, 0.2, 0.5, 0.3])
    assert cont is not None and cont.method == "Student t"
    expected = t_interval(np.array([0.1, 0.4, 0.35, 0.2, 0.5, 0.3]))
    assert (cont.low, cont.high) == expected
    # Student t is wider than the percentile bootstrap at n = 6 (the point of the switch).
    old = bootstrap_mean([0.1, 0.4, 0.35, 0.2, 0.5, 0.3])
    assert old is not None and cont.high - cont.low > old.high - old.low
    single = mean_interval([0.4])
    assert single is not None and single.low is None and single.high is None
    clustered = mean_interval([0.1, 0.2, 0.9, 0.8, 0.5, 0.6], clusters=["a", "a", "b", "b", "c", "c"])
    assert clustered is not None and clustered.method == "cluster-robust t (3 documents)"
    # 2 documents: far wider than treating the 6 questions as independent
    two = mean_interval([0.1, 0.2, 0.1, 0.9, 0.8, 0.9], clusters=["a", "a", "a", "b", "b", "b"])
    plain = mean_interval([0.1, 0.2, 0.1, 0.9, 0.8, 0.9])
    assert two is not None and plain is not None and two.high - two.low > 3 * (plain.high - plain.low)
    # every question its own document: no clustering, plain t
    assert mean_interval([0.1, 0.2, 0.3], clusters=["a", "b", "c"]).method == "Student t"  # type: ignore[union-attr]


def test_cluster_bootstrap_is_wider_than_resampling_questions_when_clusters_differ() -> None:
    rng = np.random.default_rng(3)
    clusters = [g for g in range(12) for _ in range(10)]  # 120 questions from 12 summaries
    level = rng.random(12)
    data = np.array([level[g] + rng.normal(0, 0.05) for g in clusters])
    c_low, c_high = cluster_bootstrap(data, clusters)
    naive = bootstrap_mean(data.tolist())
    assert naive is not None and (c_high - c_low) > 2 * (naive.high - naive.low)
    estimate = mean_interval(data.tolist(), clusters=clusters)
    assert estimate is not None and estimate.method == "cluster bootstrap (12 documents)"


def test_newcombe_paired_contains_the_difference_and_stays_in_range() -> None:
    a = np.array([1, 1, 1, 1, 1, 1, 0, 1], dtype=float)
    b = np.array([0, 0, 1, 0, 0, 1, 0, 0], dtype=float)
    low, high = newcombe_paired(a, b)
    assert -1 <= low < (a.mean() - b.mean()) < high <= 1 and low > 0
    same = newcombe_paired(a, a)
    assert same[0] < 0 < same[1]


def test_paired_difference_methods_and_exact_p() -> None:
    better = [0.5, 0.6, 0.55, 0.7, 0.65, 0.6, 0.58, 0.62]
    base = [0.1, 0.2, 0.15, 0.3, 0.25, 0.2, 0.18, 0.22]
    result = paired_difference(better, base)
    assert result is not None and result.diff.method == "Student t (paired)"
    assert result.p_value < 1e-6  # paired t-test, consistent with the t interval
    assert result.diff.low is not None and result.diff.low > 0
    assert (result.wins, result.ties, result.losses) == (8, 0, 0)
    binary = paired_difference([1, 1, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1])
    assert binary is not None and binary.diff.method == "Newcombe paired score"
    assert binary.p_value == 0.25  # exact McNemar: 2 discordant pairs both favouring the candidate -> 2/2**2
    constant = paired_difference([0.5] * 8, [0.2] * 8)
    assert constant is not None and constant.p_value == 2 / 2 ** 8  # no spread: exact sign-flip
    none = paired_difference([0.3, 0.3], [0.3, 0.3])
    assert none is not None and none.p_value == 1.0 and none.ties == 2


def test_sign_flip_p_exact_and_monte_carlo_agree() -> None:
    d = np.array([0.3, -0.1, 0.2, 0.25, 0.05, 0.4, 0.1, -0.05, 0.15, 0.2, 0.3, 0.1, 0.2, 0.05, 0.1, 0.2, 0.3])
    exact = sign_flip_p(d[:16])
    assert 0 < exact < 0.01
    mc = sign_flip_p(d, resamples=20000)
    assert abs(mc - sign_flip_p(d[:16])) < 0.01


def test_cases_needed_grows_as_the_margin_shrinks() -> None:
    wide = cases_needed(0.2, 0.0, 0.1)
    narrow = cases_needed(0.2, 0.0, 0.05)
    assert wide is not None and narrow is not None and narrow > wide >= MIN_N
    assert cases_needed(0.2, -0.2, 0.1) is None  # worse than the margin on average: more cases will not help


def test_student_t_covers_better_than_the_percentile_bootstrap_at_demo_sizes() -> None:
    """A small version of bench/bench_coverage.py: skewed [0, 1] scores, n = 8, 300 samples."""
    rng = np.random.default_rng(11)
    hits_t = hits_pct = 0
    for _ in range(300):
        data = rng.beta(2, 8, 8)
        low, high = t_interval(data)
        hits_t += int(low <= 0.2 <= high)  # type: ignore[operator]
        pct = bootstrap_mean(data.tolist(), resamples=500, seed=int(rng.integers(1 << 30)))
        hits_pct += int(pct is not None and pct.low <= 0.2 <= pct.high)  # type: ignore[operator]
    assert hits_t / 300 >= 0.90 and hits_t > hits_pct + 9


def test_cases_needed_for_pass_fail_pairs() -> None:
    from harness.stats import cases_needed_binary

    ties = cases_needed_binary([0] * 6, [0] * 6, 0.05)
    assert ties is not None and ties > 6  # 6 tied failures cannot show non-inferiority within 0.05
    assert cases_needed_binary([0, 0, 0, 0], [1, 1, 1, 1], 0.05) is None


def test_identical_scores_are_named_and_clustered_shares_stay_in_range() -> None:
    same = paired_difference([0.2, 0.4, 0.3], [0.2, 0.4, 0.3])
    assert same is not None and same.diff.method == "identical on every case" and same.p_value == 1.0
    ties = paired_difference([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])
    assert ties is not None and ties.diff.method == "Newcombe paired score" and ties.diff.low < -0.3  # type: ignore[operator]
    share = mean_interval([1, 0, 1, 1, 0, 1], clusters=["a", "a", "a", "b", "b", "b"])
    assert share is not None and 0.0 <= share.low and share.high <= 1.0  # type: ignore[operator]
