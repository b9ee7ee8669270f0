"""Training data must never contain evaluation cases.

A training example leaks when its normalised text equals a protected case's input, or contains
one (for inputs of at least ``MIN_CONTAINED_WORDS`` words, so a short phrase like "I feel sad"
does not count). Protected: every case in the test (and by default dev) splits of every suite.

Retrieval training pairs are checked question against question instead (``find_near_duplicate_
questions``): a training question that is the same as, or a near copy of, a test question leaks
even when it is asked about another document, and a training case that is another version's test
case of the same suite (``other_versions_test_cases``) leaks because versions share documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from pathlib import Path

from harness.errors import DataLeakageError
from harness.suite import Case, Suite, available_suites, available_versions, load_suite

MIN_CONTAINED_WORDS = 12
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space: what 'the same text' (or question) means here."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def case_texts(case: Case) -> list[str]:
    """The texts of a case that a model sees as input.

    A document-grounded question is protected together with its document: the same generic
    question ("Can I drive?") about a different patient's summary is not the same case.
    """
    question = f"{case.question} {case.document}" if case.question and case.document else case.question
    texts = [case.input, question, case.transcript]
    if case.messages:
        texts.extend(m.content for m in case.messages if m.role == "user")
    return [t for t in texts if t]


def protected_cases(splits: Iterable[str] = ("test", "dev"), suites_dir: Path | None = None) -> dict[str, str]:
    """normalised input text -> "suite/version:case-id" for every protected case."""
    wanted = set(splits)
    protected: dict[str, str] = {}
    for name in available_suites(suites_dir):
        for version in available_versions(name, suites_dir):
            suite = load_suite(name, version, suites_dir)
            for case in suite.cases:
                if case.split in wanted:
                    for text in case_texts(case):
                        protected.setdefault(normalise(text), f"{suite.key}:{case.id}")
    return protected


def find_leaks(examples: Iterable[tuple[str, str]], protected: dict[str, str]) -> list[tuple[str, str]]:
    """(example id, protected case) pairs for examples that equal or contain a protected input."""
    long_inputs = [(text, ref) for text, ref in protected.items() if len(text.split()) >= MIN_CONTAINED_WORDS]
    leaks = []
    for example_id, text in examples:
        norm = normalise(text)
        if norm in protected:
            leaks.append((example_id, protected[norm]))
            continue
        for needle, ref in long_inputs:
            if needle in norm:
                leaks.append((example_id, ref))
                break
    return leaks


def other_versions_test_cases(suite: Suite, training_cases: Iterable[Case]) -> dict[str, str]:
    """Training case id -> "suite/version:case" for training cases that are another shipped version's test cases.

    Versions of a suite share documents (discharge/v3 reuses v2's summaries), so a case that is test
    in one version must not be trained on in another: the retriever would be scored on it there.
    Looks in the folder the suite was loaded from; a suite's own test split is checked separately.
    """
    suites_dir = suite.directory.parent.parent
    protected = {text: ref for text, ref in protected_cases(("test",), suites_dir).items()
                 if not ref.startswith(f"{suite.key}:")}
    if not protected:
        return {}
    return dict(find_leaks(((c.id, text) for c in training_cases for text in case_texts(c)), protected))


def assert_no_leakage(examples: Iterable[tuple[str, str]], *, what: str = "training set",
                      splits: Iterable[str] = ("test", "dev"), suites_dir: Path | None = None) -> None:
    """Raise DataLeakageError naming the examples and the evaluation cases they overlap."""
    leaks = find_leaks(examples, protected_cases(splits, suites_dir))
    if leaks:
        shown = "; ".join(f"{example} overlaps {case}" for example, case in leaks[:10])
        more = f" (and {len(leaks) - 10} more)" if len(leaks) > 10 else ""
        raise DataLeakageError(
            f"{what} overlaps evaluation cases: {shown}{more}",
            hint="train only on train splits or outside data; remove these examples",
        )


def is_near_duplicate(a: str, b: str, threshold: float = 0.9) -> bool:
    """Equal after normalisation, or a difflib similarity ratio of at least ``threshold``."""
    na, nb = normalise(a), normalise(b)
    if na == nb:
        return True
    matcher = SequenceMatcher(None, na, nb, autojunk=False)
    return all(ratio() >= threshold for ratio in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio))


def find_near_duplicate_questions(
    train_questions: Iterable[str], test_questions: Sequence[str], threshold: float = 0.9
) -> list[tuple[str, str]]:
    """(training question, test question) pairs that are the same or near-duplicates."""
    leaks = []
    for question in dict.fromkeys(train_questions):
        for test in test_questions:
            if is_near_duplicate(question, test, threshold):
                leaks.append((question, test))
                break
    return leaks
