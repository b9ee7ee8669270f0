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


def test_discharge_v2_is_a_real_retrieval_task() -> None:
    """Long summaries, document-level splits, and no test question copied into train."""
    from harness.leakage import find_near_duplicate_questions

    suite = load_suite("discharge", "v2")
    assert len(suite.documents) >= 20 and all(len(d.text) >= 6500 for d in suite.documents.values())
    splits_of = {}
    for case in suite.cases:
        splits_of.setdefault(case.document_id, set()).add(case.split)
        if case.labels.answerable:
            assert case.gold_passage and case.gold_passage in case.document, case.id
    assert all(len(s) == 1 for s in splits_of.values())
    test = [c.question for c in suite.cases if c.split == "test"]
    assert len(test) >= 100
    assert not find_near_duplicate_questions((c.question for c in suite.cases if c.split == "train"), test)


def test_every_suite_version_loads() -> None:
    for name in available_suites():
        for version in available_versions(name):
            assert load_suite(name, version).cases
