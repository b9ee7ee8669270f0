"""Confidence intervals of the MI validation figures resample whole sessions."""

from __future__ import annotations

from harness.validation.mi import grouped_bootstrap_ci


def test_perfect_agreement_has_a_degenerate_interval() -> None:
    y = ["open", "closed"] * 10
    assert grouped_bootstrap_ci(y, y, [str(i // 4) for i in range(20)], "accuracy", n=200) == [1.0, 1.0]


def test_the_interval_brackets_the_figure_and_widens_when_sessions_disagree() -> None:
    y = ["question", "reflection", "other", "therapist_input"] * 30
    # sessions 0-2 fully right, 3-5 fully wrong: resampling sessions moves accuracy a lot
    pred = [lab if i < 60 else "other" for i, lab in enumerate(y)]
    by_session = [str(i // 20) for i in range(120)]
    lo, hi = grouped_bootstrap_ci(y, pred, by_session, "accuracy", n=500)
    accuracy = sum(a == b for a, b in zip(y, pred, strict=True)) / len(y)
    assert lo < accuracy < hi and hi - lo > 0.2
    # the same errors spread evenly over sessions give a narrow interval
    spread = [lab if i % 2 == 0 else "other" for i, lab in enumerate(y)]
    lo2, hi2 = grouped_bootstrap_ci(y, spread, by_session, "accuracy", n=500)
    assert hi2 - lo2 < hi - lo
    f_lo, f_hi = grouped_bootstrap_ci(y, pred, by_session, "macro_f1", n=200)
    assert 0.0 <= f_lo <= f_hi <= 1.0
