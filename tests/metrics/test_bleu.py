"""BLEU (sacrebleu) as an overlap metric beside ROUGE and BERTScore."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.metrics import Output, build_metric
from harness.suite import Case


def test_bleu_rewards_overlap_and_skips_cases_without_reference(make_case: Callable[..., Case]) -> None:
    ref = "Take amoxicillin 500 mg three times daily for seven days."
    cases = [make_case("q", reference=ref), make_case("q", reference=ref), make_case("q")]
    outputs = [Output(ref), Output("Rest and drink plenty of water."), Output("anything")]
    exact, unrelated, none = build_metric("bleu").score(cases, outputs)
    assert exact.values["bleu"] == pytest.approx(100.0)
    assert unrelated.values["bleu"] < 10.0
    assert none.values["bleu"] is None
