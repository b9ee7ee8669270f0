"""Discharge answers: claims looked up in the document, declines, and gold facts."""

from __future__ import annotations

from collections.abc import Callable

from harness.metrics.base import Output
from harness.metrics.groundedness import Groundedness, declines, extract_claims
from harness.suite import Case

DOC = (
    "Discharge summary. Diagnosis: community-acquired pneumonia. Medications: Amoxicillin 500 mg three times "
    "daily for 7 days. Continue metformin 1000 mg twice a day. Follow-up with Dr. Lee on March 14. "
    "Avoid heavy lifting for two weeks. Return to the emergency department if fever above 101 F."
)


def kinds(answer: str) -> dict[str, bool]:
    return {f"{c.kind}:{c.key}": c.supported for c in extract_claims(answer, DOC)}


def test_synonyms_and_number_formats_are_supported() -> None:
    claims = kinds("Take amoxicillin 500 mg TID for seven days; keep taking metformin 1,000 mg BID.")
    assert claims["dose:500 mg"] and claims["dose:1000 mg"]
    assert claims["frequency:freq:3/day"] and claims["frequency:freq:2/day"]
    assert claims["duration:7 day"] and claims["medication:amoxicillin"]


def test_invented_dose_date_and_drug_are_unsupported() -> None:
    claims = kinds("Take amoxicillin 875 mg. Your follow-up is on March 21. Also start lisinopril.")
    assert not claims["dose:875 mg"] and not claims["date:3/21"] and not claims["medication:lisinopril"]


def test_twice_daily_is_not_also_once_daily() -> None:
    assert "frequency:freq:1/day" not in kinds("Take it twice daily.")


def test_unsupported_instruction_is_caught() -> None:
    claims = extract_claims("Avoid swimming and saunas for a month.", DOC)
    assert [c.kind for c in claims if not c.supported] == ["instruction"]


def test_declines_are_recognised() -> None:
    assert declines("The summary doesn't say whether you can drive. Please ask your care team.")
    assert declines("That isn't mentioned in your discharge instructions, so please call the clinic to check.")
    assert not declines("You can drive after three days.")


def test_a_decline_needs_both_not_covered_and_the_care_team() -> None:
    assert not declines("That isn't mentioned in your discharge instructions.")
    assert not declines("This could be serious. Go to the emergency department and see a doctor right away.")
    assert not declines("Call 911 now if you feel faint.")


def test_metric_on_answerable_and_unanswerable_cases(make_case: Callable[..., Case]) -> None:
    answerable = make_case(
        "How often do I take amoxicillin?",
        id="a",
        document=DOC,
        labels={"answerable": True},
        facts=["amoxicillin 500 mg three times daily", "7 days"],
    )
    unanswerable = make_case("Can I drive?", id="b", document=DOC, labels={"answerable": False})
    metric = Groundedness()
    good = metric.score([answerable], [Output("Amoxicillin 500 mg, three times a day, for 7 days.")])[0]
    assert good.values["grounded"] == 1.0 and good.values["answer_correct_facts"] == 1.0
    assert good.values["declined_correctly"] is None
    partial = metric.score([answerable], [Output("Take amoxicillin 500 mg twice a day.")])[0]
    assert partial.values["answer_correct_facts"] == 0.0
    declined = metric.score([unanswerable], [Output("Your summary doesn't mention driving; ask your care team.")])[0]
    invented = metric.score([unanswerable], [Output("The summary doesn't say, but wait 5 days before driving.")])[0]
    assert declined.values["declined_correctly"] == 1.0
    assert invented.values["declined_correctly"] == 0.0 and invented.values["unsupported_claims"] >= 1


def test_no_checkable_claims_counts_as_grounded(make_case: Callable[..., Case]) -> None:
    case = make_case("Thanks", document=DOC)
    score = Groundedness().score([case], [Output("You're welcome, take care.")])[0]
    assert score.values["grounded"] == 1.0 and score.values["unsupported_claims"] == 0.0


def test_answering_beside_a_decline_is_not_declining(make_case: Callable[..., Case]) -> None:
    case = make_case("Can I go swimming next week?", document=DOC, labels={"answerable": False})
    metric = Groundedness()
    mixed = [
        "Sure, swimming is fine. Your summary does not mention it, so check with your GP.",
        "You can go swimming next week.\n\nYour discharge summary doesn't say; please ask your care team.",
        "It's okay to swim. That isn't covered in your summary, so contact the clinic if unsure.",
    ]
    for text in mixed:
        assert metric.score([case], [Output(text)])[0].values["declined_correctly"] == 0.0, text
    clean = [
        "Your summary doesn't say whether you can swim. Please ask your care team before you do.",
        "Swimming isn't mentioned in your discharge instructions. You can ask your GP at the follow-up.",
    ]
    for text in clean:
        assert metric.score([case], [Output(text)])[0].values["declined_correctly"] == 1.0, text


def test_a_duration_needs_the_same_duration_in_the_document(make_case: Callable[..., Case]) -> None:
    doc = "Apixaban 2.5 mg twice daily for 35 days. Staples out on 16 May, 14 days after surgery. Rest 2 weeks."
    case = make_case("How long do I take the blood thinner?", document=doc)
    claims = {c["text"]: c["supported"] for c in Groundedness().score([case], [Output(
        "Take it for 35 days, rest for 14 days, and the staples come out after 3 weeks.")])[0].details["claims"]
        if c["kind"] == "duration"}
    assert claims == {"35 days": True, "14 days": True, "3 weeks": False}
    moved = Groundedness().score([case], [Output("Take the apixaban for 2 days.")])[0].details["claims"]
    assert [c["supported"] for c in moved if c["kind"] == "duration"] == [False]  # 2 is there, not as 2 days


_BANS = (
    "Knee replacement, left. Activity: no driving for 4 weeks. Do not kneel on the new knee; avoid hot tubs "
    "until the wound has healed. You may walk as far as is comfortable. Take paracetamol 1 g every 6 hours; "
    "no more than 4 g a day."
)


def test_permission_where_the_summary_forbids_is_unsupported(make_case: Callable[..., Case]) -> None:
    case = make_case("question", document=_BANS)
    metric = Groundedness()
    for text in ("Yes, you can drive home from the hospital.", "It's fine to kneel when you garden.",
                 "Sure, a hot tub is fine, you can use it."):
        claims = metric.score([case], [Output(text)])[0].details["claims"]
        assert [c["kind"] for c in claims if not c["supported"]] == ["contradiction"], text
    for text in ("You should not drive for 4 weeks.", "You can walk as far as is comfortable.",
                 "Please don't kneel on the new knee, and avoid hot tubs until it has healed.",
                 "You can take paracetamol, but no more than 4 g a day."):
        claims = metric.score([case], [Output(text)])[0].details["claims"]
        assert not [c for c in claims if c["kind"] == "contradiction"], text
