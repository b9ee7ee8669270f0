from pathlib import Path

import pytest

from harness.errors import DataLeakageError
from harness.leakage import assert_no_leakage, find_leaks, normalise, protected_cases


def test_normalise_ignores_case_and_punctuation() -> None:
    assert normalise("I can't  SLEEP!") == normalise("i can t sleep")


def test_exact_test_case_is_refused(fixture_suites: Path) -> None:
    text = "I keep waking up at 3am, and can't get back to sleep."  # m-1 with different punctuation
    with pytest.raises(DataLeakageError, match=r"ex-7 overlaps mini/v1:m-1"):
        assert_no_leakage([("ex-7", text)], suites_dir=fixture_suites)


def test_train_split_cases_are_allowed(fixture_suites: Path) -> None:
    assert_no_leakage([("ok", "I get nervous before every meeting.")], suites_dir=fixture_suites)


def test_containment_of_a_long_input_counts() -> None:
    protected = {normalise("one two three four five six seven eight nine ten eleven twelve"): "s/v1:c"}
    wrapped = "User said: one two three four five six seven eight nine ten eleven twelve. Assistant: ok"
    assert find_leaks([("w", wrapped)], protected) == [("w", "s/v1:c")]
    assert find_leaks([("short", "one two three")], protected) == []


def test_shipped_suites_keep_train_and_test_apart() -> None:
    """No train case of any shipped suite repeats a dev/test case's input."""
    from harness.leakage import case_texts
    from harness.suite import available_suites, load_suite

    protected = protected_cases()
    train = [(f"{name}:{c.id}", t) for name in available_suites() for c in load_suite(name).cases
             if c.split == "train" for t in case_texts(c)]
    assert find_leaks(train, protected) == []
