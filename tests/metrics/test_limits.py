"""Word limits are judged on complete outputs; a summary needs its sections to be well formed."""

from __future__ import annotations

from collections.abc import Callable

from harness.metrics.base import Output
from harness.metrics.limits import SummaryFormat, WordLimit, check_summary_format
from harness.suite import Case

SECTIONS = ("Chief Complaint", "Key Themes", "Interventions", "Risk")
TAGS = ("b", "br", "p")
GOOD = ("<b>Chief Complaint:</b> low mood <b>Key Themes:</b> sleep, work <b>Interventions:</b> "
        "activity scheduling <b>Risk:</b> Low. no ideation")


def test_plain_text_without_sections_is_not_well_formed() -> None:
    checks = check_summary_format("Client discussed low mood and sleep; we planned walks.", SECTIONS, TAGS)
    assert checks["tags_balanced"] and not checks["well_formed"]


def test_a_complete_record_is_well_formed_and_an_empty_section_is_not() -> None:
    assert check_summary_format(GOOD, SECTIONS, TAGS)["well_formed"]
    hollow = GOOD.replace("activity scheduling", "")
    checks = check_summary_format(hollow, SECTIONS, TAGS)
    assert not checks["well_formed"] and checks["empty_sections"] == ["Interventions"]


def test_summary_format_metric_reports_both_keys(make_case: Callable[..., Case]) -> None:
    [score] = SummaryFormat().score([make_case()], [Output("just words")])
    assert score.values["well_formed"] == 0.0 and score.values["tags_balanced"] == 1.0
    assert score.values["format_ok"] == 0.0


def test_a_truncated_reply_is_not_within_the_limit(make_case: Callable[..., Case]) -> None:
    case = make_case()
    short_but_cut = Output("Three words only", meta={"finish_reason": "length"})
    complete = Output("Three words only", meta={"finish_reason": "stop"})
    cut_score, done_score = WordLimit(default_limit=50).score([case, case], [short_but_cut, complete])
    assert cut_score.values["within_limit"] == 0.0 and cut_score.details["truncated"]
    assert done_score.values["within_limit"] == 1.0
