"""MI coding: the rule-decided codes, the model-decided ones, permission, and the MITI summary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.metrics.base import Output
from harness.metrics.mi import MICodes, code_utterance, summarize_codes, summarize_conversation
from harness.metrics.models import LinearTextClassifier
from harness.suite import Case


def codes(text: str, context: str | None = None) -> list[str]:
    return [code for _, code in code_utterance(text, context)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You need to stop drinking.", "direct"),
        ("If you keep this up you will lose your job.", "warn"),
        ("You're in denial about how much you drink.", "confront"),
        ("Don't you think you should just quit?", "confront"),
        ("Trust me, the best thing you can do is quit today.", "persuade"),
        ("You should try meditation.", "advice_without_permission"),
        ("Why don't you just quit?", "persuade"),
        ("That took a lot of courage to share.", "affirmation"),
        ("It's entirely up to you.", "emphasize_autonomy"),
    ],
)
def test_rule_codes(text: str, expected: str) -> None:
    assert codes(text) == [expected]


def test_permission_earlier_in_the_response_makes_advice_adherent() -> None:
    assert codes("Would it be okay if I shared an idea? You could try a short walk each morning.") == [
        "closed_question",
        "advice_with_permission",
    ]


def test_a_request_for_advice_in_the_users_turn_is_permission() -> None:
    assert codes("You could try a short walk each morning.", context="What should I do about my sleep?") == [
        "advice_with_permission"
    ]
    assert codes("You could try a short walk each morning.", context="I can't sleep.") == ["advice_without_permission"]


def test_crisis_directives_are_information_not_non_adherent() -> None:
    assert codes("Please call 988 right now if you feel unsafe.") == ["giving_information"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What would help most right now?", "open_question"),
        ("How has the week been for you?", "open_question"),
        ("Do you have anyone to talk to?", "closed_question"),
        ("How many drinks do you have on a typical night?", "closed_question"),
        ("Tell me more about what happened.", "open_question"),
        ("Can you tell me what a typical evening looks like?", "open_question"),
        # Preamble clauses are skipped: the question starts after "So, Rick, about your flatmate,".
        ("So, Rick, about your flatmate situation, what do you make of it?", "open_question"),
        ("And those friends who stopped calling, did they come back?", "closed_question"),
        # Scaling questions ask for a number.
        ("On a scale of 1 to 10, how important is it for you to cut down?", "closed_question"),
        # Indirect questions ask without a question mark; asking leave is closed.
        ("I'm wondering what you make of all this.", "open_question"),
        ("So I guess I'm wondering if you've thought about other ways to cope.", "open_question"),
        ("I wonder if I could raise the subject of your weight.", "closed_question"),
        # Invitations phrased as "why don't you" are open questions, not persuasion.
        ("Why don't you fill me in on what's been going on since last time?", "open_question"),
        # "How could you ..." asks about possibilities unless it accuses.
        ("How could you get a different social life?", "open_question"),
        ("How could you do that to your own sister?", "confront"),
    ],
)
def test_open_and_closed_questions(text: str, expected: str) -> None:
    assert codes(text) == [expected]


def test_reflections_are_recognised_and_typed() -> None:
    result = codes("It sounds like you're feeling trapped between wanting to quit and needing the relief it gives you.")
    assert result[0] in ("simple_reflection", "complex_reflection")


def test_multi_sentence_response_is_coded_per_sentence_with_spans() -> None:
    text = "It sounds like work has been exhausting. What would you like to change first?"
    scores = MICodes().score([_case()], [Output(text)])[0]
    sentences = scores.details["sentences"]
    assert [s["code"] for s in sentences][1] == "open_question"
    assert all(text[s["start"] : s["end"]] == s["text"] for s in sentences)


def _case() -> Case:
    return Case.model_validate({"id": "c", "split": "test", "input": "I'm tired of my job."})


def test_summary_ratios_follow_miti_definitions() -> None:
    summary = summarize_codes(
        ["open_question", "closed_question", "complex_reflection", "simple_reflection", "complex_reflection", "direct"]
    )
    assert summary["mi_reflection_question_ratio"] == 1.5
    assert summary["mi_pct_open_questions"] == 0.5
    assert summary["mi_pct_complex_reflections"] == pytest.approx(2 / 3, abs=1e-3)
    assert (summary["mi_non_adherent"], summary["mi_adherent"]) == (1, 0)


def test_summary_is_none_where_the_denominator_is_zero() -> None:
    summary = summarize_codes(["affirmation"])
    assert summary["mi_reflection_question_ratio"] is None
    assert summary["mi_pct_open_questions"] is None and summary["mi_pct_complex_reflections"] is None
    assert summary["mi_adherent"] == 1


def test_metric_keys_match_values(make_case: Callable[..., Case]) -> None:
    metric = MICodes()
    score = metric.score([make_case("I drink too much")], [Output("You must stop. What worries you about it?")])[0]
    assert set(score.values) == {k.name for k in metric.keys}
    assert score.values["mi_adherent"] == 0.0 and score.values["mi_non_adherent"] == 1.0


def test_conversation_summary_pools_turns() -> None:
    summary = summarize_conversation(["What brings you in?", "So you feel stuck at work.", "You should quit."])
    assert summary["counts"]["open_question"] == 1
    assert summary["mi_non_adherent"] == 1 and len(summary["turns"]) == 3


def test_minilm_encoder_weights_match_the_embedding_model() -> None:
    """Loads MiniLM once (cached for the session): the shipped minilm weights fit its 384 dims."""
    from harness.metrics import build_metric

    metric = build_metric("mi_codes", {"encoder": "minilm"})
    score = metric.score([_case()], [Output("So you feel stuck at work. What would you like to change?")])[0]
    assert [s["code"] for s in score.details["sentences"]][1] == "open_question"
    assert score.details["sentences"][0]["code"].endswith("reflection")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a reflection said with rising intonation is still a reflection
        ("So the evenings are when the cravings hit hardest?", "reflection"),
        ("You'd like to be there for your daughter's games?", "reflection"),
        # a wh-word that asks for one fact is a closed question (MITI's wording rule)
        ("Where did you grow up?", "closed_question"),
        ("Which doctor prescribed the inhaler?", "closed_question"),
        ("At what age did you first try a cigarette?", "closed_question"),
        # polite invitations to talk are open, though they start with an auxiliary
        ("Could you elaborate a little on the arguments at home?", "open_question"),
        ("Would you be willing to share what a hard day looks like?", "open_question"),
    ],
)
def test_question_and_reflection_forms(text: str, expected: str) -> None:
    (code,) = codes(text)
    assert code.endswith(expected)


def test_a_turn_with_stacked_questions_takes_its_last_question() -> None:
    from harness.metrics.mi import utterance_subtype

    turn = codes("What has the week been like for you? Did you manage the walk?")
    assert turn == ["open_question", "closed_question"]
    assert utterance_subtype(turn, "question") == "closed"
    assert utterance_subtype(["closed_question", "open_question"], "question") == "open"
    assert utterance_subtype(["complex_reflection", "simple_reflection"], "reflection") == "complex"
    assert utterance_subtype(["affirmation"], "reflection") is None


def _question_model_saying_open_with(p_open: float) -> LinearTextClassifier:
    """A real (constant) open/closed classifier: zero weights, intercept giving ``p_open`` for every turn."""
    import numpy as np

    from harness.metrics.models import HASH_DIM

    logit = float(np.log(p_open / (1 - p_open)))
    return LinearTextClassifier(
        "mi_question", "lexical", ("closed", "open"), np.zeros((1, HASH_DIM), np.float32), np.array([logit], np.float32)
    )


def test_a_turn_with_no_coded_question_is_open_only_when_the_model_is_fairly_sure() -> None:
    from harness.metrics.mi import UNCODED_OPEN_THRESHOLD, MICoder, get_coder, utterance_subtypes

    shipped = get_coder()
    statement_like = "So the bus ride to the new job takes you most of an hour, yeah?"
    asking = "What has the new job been like so far?"
    assert codes(statement_like) == ["simple_reflection"]  # the pipeline codes no question in it
    assert UNCODED_OPEN_THRESHOLD > 0.5
    for p_open, expected in ((0.6, "closed"), (0.7, "open")):
        coder = MICoder(shipped.behaviour, _question_model_saying_open_with(p_open), shipped.reflection)
        # the coded question decides when there is one; otherwise the model, shifted towards closed
        assert utterance_subtypes(coder, [statement_like, asking], None, "question") == [expected, "open"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Anything else on your mind about the move?", "open_question"),
        ("Is there anything else that makes the evenings hard?", "open_question"),
        ("Do you have any thoughts about how you'd start?", "open_question"),
        ("Have you thought about what you'd want instead?", "open_question"),
        ("Do you have a car?", "closed_question"),
        ("Is there a pharmacy near you?", "closed_question"),
        ("Have you thought about quitting?", "closed_question"),
    ],
)
def test_yes_no_forms_that_invite_elaboration_are_open(text: str, expected: str) -> None:
    assert code_utterance(text)[-1][1] == expected
