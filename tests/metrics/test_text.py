"""Sentence splitting, negation scope, quoted speech and number normalisation."""

from __future__ import annotations

from harness.metrics.text import is_negated, mask_other_voices, numbers_to_digits, sentences, split_sentences


def test_abbreviations_and_decimals_do_not_end_sentences() -> None:
    text = "Dr. Smith said to take 2.5 mg, e.g. with food. Is that ok?"
    assert sentences(text) == ["Dr. Smith said to take 2.5 mg, e.g. with food.", "Is that ok?"]


def test_bullets_and_line_breaks_split_and_offsets_point_into_the_text() -> None:
    text = "Plan:\n- rest\n- drink water"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Plan:", "rest", "drink water"]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_negation_in_the_same_clause_negates() -> None:
    text = "i would never hurt myself"
    assert is_negated(text, text.index("hurt"))


def test_pseudo_negations_do_not_negate() -> None:
    for text, cue in [
        ("i can't stop thinking about killing myself", "killing"),
        ("nobody would care if i killed myself", "killed"),
        ("i'm not sure i want to live", "want"),
    ]:
        assert not is_negated(text, text.index(cue)), text


def test_negation_does_not_cross_a_clause_break() -> None:
    text = "i don't know why, but i want to die"
    assert not is_negated(text, text.index("want"))


def test_reported_quotes_are_masked_but_own_thoughts_stay() -> None:
    masked = mask_other_voices('My friend texted "I want to die" and I keep thinking "I am worthless"')
    assert "I want to die" not in masked
    assert '"I am worthless"' in masked
    assert len(masked) == len('My friend texted "I want to die" and I keep thinking "I am worthless"')


def test_speaker_after_the_quote_is_recognised() -> None:
    assert "die" not in mask_other_voices('"I want to die," she said.')


def test_number_words_become_digits() -> None:
    assert numbers_to_digits("two thousand nine") == "2009"
    assert numbers_to_digits("twenty-five milligrams") == "25 milligrams"
    assert numbers_to_digits("one and a half tablets") == "1.5 tablets"
