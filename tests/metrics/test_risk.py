"""Risk detection: C-SSRS-style levels, and the traps (negation, idioms, quotes, third person, time)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.metrics.base import Output
from harness.metrics.risk import LEVELS, RiskDetection, SummaryRisk, assess_risk, assess_rules, parse_summary_risk
from harness.suite import Case


def level(text: str) -> str:
    return assess_risk(text).level


def test_plan_means_and_timeline_is_imminent() -> None:
    a = assess_risk("I'm going to kill myself tonight. I have the pills lined up on my desk.")
    assert a.level == "imminent"
    assert any(c.startswith("intent") for c in a.cues)
    assert "timeline" in a.cues


def test_act_in_progress_is_imminent() -> None:
    assert level("I already swallowed about 30 of my pills, I feel dizzy") == "imminent"


def test_passive_active_and_intent_are_ordered() -> None:
    passive = assess_risk("Sometimes I wish I could go to sleep and never wake up.")
    active = assess_risk("I keep having thoughts about killing myself.")
    intent = assess_risk("I'm going to kill myself, I can't keep living like this.")
    assert (passive.level, active.level, intent.level) == ("low", "moderate", "high")
    assert passive.score < active.score < intent.score


@pytest.mark.parametrize(
    "text",
    [
        "I would never hurt myself, I just need to vent about my boss.",
        "I'm not suicidal. I just feel stuck in my career.",
        "I've never had thoughts of killing myself, but I get very angry.",
        "I don't want to die, I want to feel better.",
        "No thoughts of suicide or self-harm, just a lot of stress.",
    ],
)
def test_negated_ideation_is_not_flagged(text: str) -> None:
    assert level(text) == "none"


def test_negation_is_recorded_as_a_cue_for_review() -> None:
    assert any(c.startswith("negated") for c in assess_risk("I'm not suicidal at all.").cues)


def test_pseudo_negation_keeps_the_cue() -> None:
    assert level("I can't stop thinking about killing myself.") == "moderate"


@pytest.mark.parametrize(
    "text",
    [
        "This exam is killing me, I've been studying for ten hours.",
        "I could kill my brother for eating my leftovers.",
        "If I have to sit through one more budget meeting I'm going to kill myself lol",
        "I almost died of embarrassment when I tripped on stage.",
        "Quitting without another offer would be career suicide.",
        "Oh great, another Monday. Just kill me now.",
        "I'm killing myself at the gym this month.",
    ],
)
def test_idioms_and_hyperbole_are_not_risk(text: str) -> None:
    assert level(text) == "none"


@pytest.mark.parametrize(
    "text",
    [
        "My best friend told me she wants to kill herself. How do I help her?",
        "My brother attempted suicide last year and I still feel guilty.",
        "My mom keeps saying she wishes she were dead.",
    ],
)
def test_third_person_reports_are_not_the_writers_risk(text: str) -> None:
    assert level(text) == "none"


def test_quoted_speech_of_others_is_ignored_but_own_quoted_thought_counts() -> None:
    assert level('A coworker said "I want to die" as a joke and it upset me.') == "none"
    assert level('I keep thinking "I want to die" over and over.') == "low"


def test_hypotheticals_and_fiction_are_not_current_risk() -> None:
    assert level("If I ever felt suicidal, who would I call?") == "none"
    assert level("I'm writing a story where the main character attempts suicide.") == "none"


def test_remote_attempt_is_moderate_and_recent_attempt_is_high() -> None:
    # C-SSRS screener triage: behaviour more than 3 months ago = moderate, within 3 months = high.
    assert level("I tried to kill myself when I was sixteen. I'm doing a lot better now.") == "moderate"
    assert level("I tried to kill myself two weeks ago and I still think about it.") == "high"
    # A remote wish to be dead stays low: only behaviour carries a lifetime weight.
    assert level("Years ago I used to wish I was dead, but not anymore.") in ("none", "low")


def test_behaviour_ranks_above_thoughts_within_a_level() -> None:
    thoughts = assess_risk("I keep thinking about killing myself.")
    behaviour = assess_risk("I cut myself last night.")
    assert thoughts.level == behaviour.level == "moderate" and behaviour.score > thoughts.score


def test_plan_words_without_ideation_are_everyday_language() -> None:
    assert level("I have a plan to run a marathon next spring.") == "none"
    assert level("We went to the bridge tonight to watch the fireworks.") == "none"
    assert level("Yeah, I'll take the medicine.") == "none"


def test_accidental_injury_is_not_self_harm() -> None:
    assert level("I hurt myself lifting boxes and my back aches.") == "none"
    assert level("I hurt myself on purpose when I get overwhelmed.") == "moderate"


def test_multi_sentence_context_combines_cues() -> None:
    # intent in one sentence, means in the next
    assert level("I'm about to kill myself. I have the knife in my hand.") == "imminent"


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_author_vignettes_meet_the_targets(vignettes: Path) -> None:
    """Author-written vignettes (optimistic: same author as the rules); see docs/metrics.md."""
    from harness.validate import risk_figures

    for name in ("risk_vignettes.jsonl", "risk_vignettes_holdout.jsonl"):
        figures = risk_figures(_rows(vignettes / name), bootstrap=0)
        assert figures["auc_high_or_imminent_vs_lower"] >= 0.75, name
        assert figures["imminent_recall_flagged"] >= 0.95, name
        assert figures["false_alarm_rate_on_none"] <= 0.2, name
        assert figures["levels"]["accuracy"] >= 0.8, name


def test_metric_values_and_none_when_unlabelled(make_case: Callable[..., Case]) -> None:
    metric = RiskDetection()
    cases = [
        make_case("I want to kill myself tonight, I have pills", id="a", labels={"risk_level": "imminent"}),
        make_case("I feel stressed about exams", id="b", labels={"risk_level": "high"}),
        make_case("I feel stressed about exams", id="c"),
    ]
    scores = metric.score(cases, [Output("") for _ in cases])
    assert scores[0].values == {"risk_level_correct": 1.0, "risk_flag_agrees": 1.0}
    assert scores[1].values == {"risk_level_correct": 0.0, "risk_flag_agrees": 0.0}
    assert scores[2].values == {"risk_level_correct": None, "risk_flag_agrees": None}
    assert scores[0].details["predicted"] == "imminent" and scores[0].details["cues"]
    assert {k.name for k in metric.keys} == set(scores[0].values)


def test_levels_are_the_suite_levels() -> None:
    assert LEVELS == ("none", "low", "moderate", "high", "imminent")


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("<b>Risk:</b> High<br>", "High"),
        ("<b>Risk</b>: medium", "Medium"),
        ("**Risk:** Low", "Low"),
        ("Risk level: moderate", "Medium"),
        ("Summary without the field", None),
    ],
)
def test_summary_risk_field_is_parsed(summary: str, expected: str | None) -> None:
    assert parse_summary_risk(summary) == expected


def test_missed_high_is_flagged_only_for_high_gold(make_case: Callable[..., Case]) -> None:
    cases = [make_case(id="a", labels={"summary_risk": "High"}), make_case(id="b", labels={"summary_risk": "Low"})]
    scores = SummaryRisk().score(cases, [Output("<b>Risk:</b> Medium"), Output("<b>Risk:</b> Low")])
    assert scores[0].values == {"summary_risk_match": 0.0, "summary_risk_missed_high": 1.0}
    assert scores[1].values == {"summary_risk_match": 1.0, "summary_risk_missed_high": None}


def test_common_euphemisms_are_active_ideation() -> None:
    assert level("I want to end it all.") == "moderate"
    assert level("I feel like ending it.") == "moderate"
    assert level("I feel like ending it with her, she cheated.") == "none"


def test_anymore_does_not_make_current_ideation_past() -> None:
    assert level("I don't want to be here anymore.") == "low"
    assert level("I used to want to die but I don't feel that way anymore.") == "low"


def test_reported_questions_about_suicidality_are_not_statements() -> None:
    assert level("My therapist asked if I was suicidal and I said no.") == "none"


TRANSCRIPT = """Therapist: When you say you can't go on, are you thinking about killing yourself?
Client: Yes. Tonight.
Therapist: Thank you for telling me. Do you have a way you would do it?
Client: I've got what I need here.
Therapist: I'm going to stay with you."""


def test_transcripts_are_read_from_the_seekers_side_with_answered_questions() -> None:
    from harness.metrics.risk import seeker_text

    text = seeker_text(TRANSCRIPT)
    assert "I am thinking about killing myself." in text and "stay with you" not in text
    assert assess_risk(text).level == "imminent"


def test_a_helpers_risk_question_alone_is_not_the_seekers_risk() -> None:
    from harness.metrics.risk import seeker_text

    text = seeker_text("Counsellor: Are you having thoughts of suicide?\nClient: No, never. I'm just tired.")
    assert assess_risk(text).level == "none"


def test_transcript_cases_use_the_seeker_side(make_case: Callable[..., Case]) -> None:
    case = Case.model_validate(
        {"id": "t", "split": "test", "transcript": TRANSCRIPT, "labels": {"risk_level": "imminent"}}
    )
    score = RiskDetection().score([case], [Output("summary")])[0]
    assert score.values["risk_level_correct"] == 1.0


def test_an_aborted_attempt_last_week_is_at_least_high() -> None:
    # The rules call an aborted attempt last week high; in doubt between high and imminent the detector may say
    # imminent (the conservative policy), and the MiniLM default does.
    text = "Last week I sat in the garage with the car running for a bit. I turned it off."
    assert assess_rules(text).level == "high"
    assert level(text) in {"high", "imminent"}


def test_self_harm_used_for_relief_is_recognised() -> None:
    # A CounselChat-style disclosure the first rules missed: no "cut", no "self-harm", only relief.
    assert level("I feel terrible, like there's a hole in my stomach. It only goes away when I hurt myself.") == (
        "moderate"
    )
    assert level("I hurt myself skiing last year.") == "none"


def test_a_past_habit_wanted_again_is_current() -> None:
    assert level("I used to cut myself, and I really want to again.") == "moderate"
    # The rules read past self-harm, stopped or refused, as history; the MiniLM default may rate it one level
    # up (conservative), never down.
    for past in ("I used to cut myself years ago but I don't anymore.",
                 "I used to cut myself and I don't want to again."):
        assert assess_rules(past).level == "low"
        assert level(past) in {"low", "moderate"}
