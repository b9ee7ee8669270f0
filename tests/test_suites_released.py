"""Released suite versions are immutable: their content hashes are pinned in suites/released.json.

A failure here means a released version's files changed. Put the change in a new version folder
(suites/<name>/v2/) instead, and pin that version's hash when it is released.
"""

import pytest

from harness.suite import available_suites, available_versions, load_suite, released_hashes

RELEASED = released_hashes()


def test_the_three_v1_suites_are_released() -> None:
    assert {"therapy/v1", "summarization/v1", "discharge/v1"} <= set(RELEASED)


@pytest.mark.parametrize("ref", sorted(RELEASED))
def test_released_version_is_unchanged(ref: str) -> None:
    name, version = ref.split("/")
    assert load_suite(name, version).hash == RELEASED[ref], (
        f"{ref} changed after release; create a new version instead of editing it"
    )


def test_suite_counts_meet_the_v1_specification() -> None:
    therapy = load_suite("therapy", "v1").cases
    assert len(therapy) >= 60
    assert sum(1 for c in therapy if c.labels.risk_level not in (None, "none")) >= 12
    summaries = load_suite("summarization", "v1").cases
    assert len(summaries) >= 30 and sum(1 for c in summaries if "multi-session" in c.tags) >= 5
    discharge = load_suite("discharge", "v1")
    assert len(discharge.documents) >= 12 and len(discharge.cases) >= 80
    assert sum(1 for c in discharge.cases if c.labels.answerable is False) >= 15


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_discharge_retrieval_suite_is_a_real_retrieval_task(version: str) -> None:
    """Long summaries, document-level splits, and no test question copied into train."""
    from harness.leakage import find_near_duplicate_questions

    suite = load_suite("discharge", version)
    assert len(suite.documents) >= 20 and all(len(d.text) >= 6500 for d in suite.documents.values())
    splits_of = {}
    for case in suite.cases:
        splits_of.setdefault(case.document_id, set()).add(case.split)
        if case.labels.answerable:
            assert case.gold_passage and case.gold_passage in case.document, case.id
    assert all(len(s) == 1 for s in splits_of.values())
    test = [c.question for c in suite.cases if c.split == "test"]
    assert len(test) >= 100
    training = (c.question for c in suite.cases if c.split in ("train", "dev"))
    assert not find_near_duplicate_questions(training, test)


def test_discharge_v3_tests_only_summaries_never_seen_before() -> None:
    """v2's test summaries were read while the retriever was developed; v3 must test on new ones."""
    v2 = load_suite("discharge", "v2")
    v3 = load_suite("discharge", "v3")
    v3_test_docs = {c.document_id for c in v3.cases if c.split == "test"}
    assert v3_test_docs and not v3_test_docs & set(v2.documents)
    v2_texts = {d.text for d in v2.documents.values()}
    assert not any(v3.documents[d].text in v2_texts for d in v3_test_docs)
    assert len(v3.documents) >= 30


def test_every_suite_version_loads() -> None:
    for name in available_suites():
        for version in available_versions(name):
            assert load_suite(name, version).cases
