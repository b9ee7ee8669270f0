"""Agreement statistics against published worked examples, and Bradley-Terry against its
defining likelihood equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.agreement import (
    Comparison,
    bradley_terry,
    bradley_terry_ranking,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    win_probability,
)


def test_cohen_kappa_textbook() -> None:
    # Wikipedia "Cohen's kappa" worked example: 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # one category only: undefined, not 1


def test_fleiss_kappa_textbook() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(table) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_equals_cohen_style_chance_for_two_raters() -> None:
    # With two raters Fleiss' kappa equals Scott's pi; perfect agreement gives 1.
    assert fleiss_kappa([[2, 0], [0, 2], [2, 0]]) == pytest.approx(1.0)
    assert fleiss_kappa([[1]]) is None
    assert fleiss_kappa([[3, 0], [2, 0]]) is None


# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", section C: 4 observers, 12 units,
# missing values. Published results: nominal 0.743, ordinal 0.815, interval 0.849.
_K_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
_K_UNITS = [list(unit) for unit in zip(*_K_DATA, strict=True)]


@pytest.mark.parametrize(("metric", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_alpha_textbook(metric: str, expected: float) -> None:
    assert krippendorff_alpha(_K_UNITS, metric=metric) == pytest.approx(expected, abs=5e-4)  # type: ignore[arg-type]


def test_krippendorff_edge_cases() -> None:
    assert krippendorff_alpha([[1], [2, None]]) is None
    assert krippendorff_alpha([[3, 3], [3, 3, 3]], metric="ordinal") is None  # no variation: undefined
    # Two raters, nominal, no missing data: alpha approaches Scott's pi with a small-sample correction.
    assert krippendorff_alpha({"u1": ["a", "b"], "u2": ["b", "a"]}) < 0


def test_bradley_terry_two_items_closed_form() -> None:
    comps = [Comparison("x", "y", 1.0)] * 3 + [Comparison("x", "y", 0.0)]
    theta = bradley_terry(comps, prior=0)
    assert theta["x"] - theta["y"] == pytest.approx(math.log(3), abs=1e-6)
    assert win_probability(theta["x"], theta["y"]) == pytest.approx(0.75, abs=1e-6)


def test_bradley_terry_satisfies_likelihood_equations() -> None:
    # Zermelo/Ford: at the MLE each item's observed wins equal its expected wins.
    rng = np.random.default_rng(1)
    true = {"a": 1.0, "b": 0.3, "c": -0.2, "d": -1.1}
    names = list(true)
    comps = []
    for _ in range(400):
        i, j = rng.choice(4, size=2, replace=False)
        p = win_probability(true[names[i]], true[names[j]])
        comps.append(Comparison(names[i], names[j], float(rng.random() < p)))
    comps += [Comparison("a", "d", 0.5), Comparison("b", "c", 0.5)]
    theta = bradley_terry(comps, prior=0, tol=1e-12, iterations=10000)
    for name in names:
        observed = sum(c.score if c.a == name else 1 - c.score for c in comps if name in (c.a, c.b))
        expected = sum(win_probability(theta[c.a], theta[c.b]) if c.a == name
                       else win_probability(theta[c.b], theta[c.a]) for c in comps if name in (c.a, c.b))
        assert observed == pytest.approx(expected, abs=1e-6)
    assert sum(theta.values()) == pytest.approx(0, abs=1e-9)
    assert [n for n, _ in sorted(theta.items(), key=lambda kv: -kv[1])] == names


def test_ranking_with_bootstrap_ci_and_unbeaten_items() -> None:
    comps = [Comparison("good", "bad", 1.0, group=i) for i in range(8)] + [Comparison("good", "ok", 0.5, group=99)]
    rows = bradley_terry_ranking(comps, resamples=200, seed=3)
    assert rows[0]["item"] == "good"
    assert rows[-1]["item"] == "bad"
    for row in rows:
        assert math.isfinite(row["strength"])
        assert row["ci_low"] - 1e-6 <= row["strength"] <= row["ci_high"] + 1e-6
    assert rows[0]["wins"] == 8 and rows[0]["ties"] == 1
    assert bradley_terry_ranking([]) == []


def test_percent_agreement_is_the_share_of_agreeing_rater_pairs() -> None:
    assert percent_agreement([["a", "a"], ["a", "b"]]) == 0.5
    assert percent_agreement([["a", "a", "b"]]) == pytest.approx(1 / 3)  # 1 of 3 pairs agree
    assert percent_agreement([["a"], [None, "b"]]) is None  # nothing pairable
    # High raw agreement with kappa undefined or low: why both are shown.
    votes = [["x", "x"]] * 9 + [["x", "y"]]
    assert percent_agreement(votes) == 0.9
    assert cohen_kappa([v[0] for v in votes], [v[1] for v in votes]) == pytest.approx(0.0)
