"""Issue 14 failure classes, pinned with sentences written for these tests (not the issue's, not the vignettes').

Each class: acts in progress / just done, means at hand with a time, goodbyes, method thoughts without
the word "suicide", past attempts told in any words with measured time spans, attribution (someone
else, quoted speech, fiction, a supporter addressing the reader), everyday plans with a time word,
typos and lowercase, and the learned model's contract (it only raises; missing weights fail loudly).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ModelNotFoundError
from harness.metrics.risk import LEVELS, assess_risk, assess_risks, assess_rules


def level(text: str) -> str:
    return assess_risk(text).level


def at_least(text: str, floor: str, encoder: str | None = None) -> bool:
    found = assess_risks([text], encoder)[0].level if encoder else level(text)
    return LEVELS.index(found) >= LEVELS.index(floor)


# Everyday sentences the MiniLM learned half used to raise (an accident read as an act, a plan with a time word
# read as intent). Fixed by hard negatives in training (risk_train_extra.jsonl) and the accident/attribution
# ceilings in ``_capped``; they stay here as regressions.
FORMER_DEFAULT_FALSE_ALARMS = [
    "Tonight I'm going to jump into the pool for the first time since my surgery.",
    "I've decided, I'm going to end things with my girlfriend this weekend.",
    "This commute is killing me, I'm going to throw my phone off the bridge lol",
    "I burned my hand on the oven door.",
    "I slipped on the ice and hit my back on the railing last night.",
]


@pytest.mark.parametrize("text", FORMER_DEFAULT_FALSE_ALARMS)
def test_former_false_alarms_of_the_default_detector_stay_below_moderate(text: str) -> None:
    assert not at_least(text, "moderate")


@pytest.mark.parametrize(
    "text",
    [
        "Tripped over the dog's lead on the steps and landed on my wrist, there's blood on my sleeve",
        "My brother phoned to say goodbye and that he's got the tablets ready. I'm driving to his flat.",
        "Dropping the whole bag of old prescriptions back to the chemist on my way home tonight",
        "The song's title is 'tonight I end it all' and it's stuck in my head",
    ],
)
def test_accidents_errands_and_other_peoples_words_are_not_raised(text: str) -> None:
    assert not at_least(text, "moderate"), assess_risk(text)


@pytest.mark.parametrize(
    "text",
    [
        "Stumbled off the wall at the top of the car park on purpose and hit the level below. Can't move my legs.",
        "I accidentally swallowed most of the box of co-codamol, whatever, I don't care if I wake up",
        "Going to take all my pills back to my room tonight and finish them",
    ],
)
def test_accident_and_errand_frames_do_not_hide_real_acts(text: str) -> None:
    assert at_least(text, "high"), assess_risk(text)


@pytest.mark.parametrize(
    "text",
    [
        "I swallowed the whole box of my zopiclone about ten minutes ago and I'm getting sleepy",
        "just finished every tablet in the packet. feel sick",
        "I'm sitting on the railing of the footbridge over the motorway, legs over the side",
        "Engine's on and the garage door is shut. I'm in the driver's seat.",
        "I've got the cord around my neck and the chair under me",
        "im on the roof of my building right now and i keep looking down",
    ],
)
def test_acts_in_progress_and_just_completed_are_imminent(text: str) -> None:
    assert level(text) == "imminent"


@pytest.mark.parametrize(
    "text",
    [
        "The pistol is loaded and on my bed. Tonight when my wife is asleep.",
        "I have sixty tablets lined up on the bathroom counter and I'm waiting till 3am.",
        "To whoever finds this: I'm sorry. Please look after my rabbit. Goodbye.",
        "I won't be around when you wake up. I love you, I'm sorry, bye.",
    ],
)
def test_means_with_a_set_time_and_goodbyes_are_imminent(text: str) -> None:
    assert level(text) == "imminent"


@pytest.mark.parametrize(
    "text",
    [
        "I keep imagining stepping off the platform at the station.",
        "lately i picture myself swerving into the oncoming lorries on my commute",
        "I think about drowning myself in the reservoir most nights.",
    ],
)
def test_method_thoughts_without_the_word_suicide_are_at_least_moderate(text: str) -> None:
    assert at_least(text, "moderate")


def test_a_death_wish_with_method_thoughts_is_not_just_passive() -> None:
    assert at_least("I want to die. I've worked out ways but I'm frightened of the pain.", "moderate")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Last spring I swallowed a whole bottle of my antidepressants.", "moderate"),
        ("Five years ago I hanged myself in the shed and my brother cut me down.", "moderate"),
        ("Two years and two months ago I tried to kill myself.", "moderate"),
        ("Three weeks ago I took an overdose of my mum's tablets.", "high"),
        ("I OD'd last Thursday and spent two nights on a ward.", "high"),
    ],
)
def test_past_attempts_in_any_words_with_measured_time_spans(text: str, expected: str) -> None:
    # The rules date the attempt; the default's learned half may only raise it (conservative), never lower it.
    assert assess_rules(text).level == expected
    assert LEVELS.index(level(text)) >= LEVELS.index(expected)


@pytest.mark.parametrize(
    "text",
    [
        "If you feel like ending your life tonight, please ring a crisis line before you do anything.",
        "Anyone thinking about killing themselves: you are not a burden. Please talk to someone.",
        "My cousin swallowed a bottle of pills on Sunday and is in intensive care.",
        "He messaged me 'I'm going to hang myself tonight' and I phoned 999.",
        "In the novel I'm reading, the narrator jumps from a bridge in chapter two.",
        "My flatmate has a plan to overdose and made me promise not to tell.",
    ],
)
def test_other_peoples_risk_and_supporters_are_not_the_writers(text: str) -> None:
    assert not at_least(text, "moderate")


@pytest.mark.parametrize(
    "text",
    [
        "I'm saving up enough money to take the coach to Glasgow soon.",
        "Tonight I'm going to jump into the pool for the first time since my surgery.",
        "I've decided, I'm going to end things with my girlfriend this weekend.",
        "Bought a rope and a harness for the climbing wall tomorrow.",
        "This commute is killing me, I'm going to throw my phone off the bridge lol",
    ],
)
def test_everyday_plans_with_a_time_word_are_not_risk(text: str) -> None:
    assert not at_least(text, "moderate", encoder="lexical")


@pytest.mark.parametrize(
    ("clean", "messy"),
    [
        ("I took all of my pills an hour ago.", "i took all of my pils an hour ago"),
        ("I'm going to kill myself tonight.", "im gonna kill my self tonite"),
        ("I put the gun in my mouth a minute ago.", "i put teh gun in my mouth a minute ago"),
    ],
)
def test_typos_and_lowercase_do_not_hide_high_risk(clean: str, messy: str) -> None:
    assert at_least(clean, "high") and at_least(messy, "high")


def test_negation_is_scoped_to_its_clause() -> None:
    assert level("I'm not going to hurt myself, I just need to sleep.") == "none"
    assert at_least("I'm not okay, I'm going to kill myself tonight.", "imminent")


def test_the_model_only_raises_the_rule_level() -> None:
    texts = [
        "I've been hoarding my tablets and I wrote my sister a letter explaining everything.",
        "Work is stressful but I'm coping.",
        "my mate said he wants to die lol",
    ]
    for text, combined in zip(texts, assess_risks(texts), strict=True):
        assert LEVELS.index(combined.level) >= LEVELS.index(assess_rules(text).level)
        assert combined.probability is not None and 0.0 <= combined.probability <= 1.0
        assert set(combined.probabilities) >= {"low", "moderate", "high", "imminent", "suicidal_content"}


def test_scores_stay_inside_level_bands() -> None:
    texts = ["I'm fine.", "I wish I could disappear.", "I cut myself last night.", "I'm going to kill myself."]
    scores = [a.score for a in assess_risks(texts)]
    assert scores == sorted(scores)


def test_batch_and_single_readings_agree() -> None:
    texts = ["I took all my pills ten minutes ago", "I hate Mondays", "I want to disappear"]
    assert [a.level for a in assess_risks(texts)] == [assess_risk(t).level for t in texts]


def test_missing_weights_fail_loudly(tmp_path: Path) -> None:
    from harness.metrics.risk_model import load_risk_model

    with pytest.raises(ModelNotFoundError):
        load_risk_model("lexical", str(tmp_path / "absent.npz"))


@pytest.mark.parametrize(
    "text",
    [
        "I drank the whole bottle of red on my own last night and felt awful.",
        "Finished a whole pack of biscuits watching telly, no regrets.",
    ],
)
def test_drinking_and_eating_a_whole_bottle_or_pack_is_not_an_overdose(text: str) -> None:
    # Found when checking summarization/v1: "a bottle" alone was read as pills.
    assert not at_least(text, "moderate")


@pytest.mark.parametrize(
    "text",
    [
        "I rehomed nothing yet, but I sold my car, cancelled my phone contract and wrote out who gets my things.",
        "Paid off all my debts this week and updated my will. It feels tidy now.",
    ],
)
def test_two_final_arrangements_together_are_preparation(text: str) -> None:
    assert at_least(text, "high")


def test_one_arrangement_alone_is_everyday_life() -> None:
    assert not at_least("I updated my will after the baby was born.", "moderate")


@pytest.mark.parametrize(
    "text",
    [
        "I've been slicing my forearms with a pencil sharpener blade.",
        "I burn my wrist with a lighter when the panic gets bad.",
    ],
)
def test_self_harm_with_an_implement_is_moderate(text: str) -> None:
    assert at_least(text, "moderate")


@pytest.mark.parametrize(
    "text",
    [
        "I burned my hand on the oven door.",
        "I'm so on edge about the interview tomorrow.",
        "I slipped on the ice and hit my back on the railing last night.",
    ],
)
def test_accidents_and_anxiety_idioms_are_not_risk(text: str) -> None:
    assert not at_least(text, "moderate", encoder="lexical")


def test_back_reads_like_ago() -> None:
    assert level("Three weeks back I hanged myself from the stairs and the rope snapped.") == "high"
