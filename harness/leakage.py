"""Training data must never contain evaluation cases.

A training example leaks when its normalised text equals a protected case's input, or contains
one (for inputs of at least ``MIN_CONTAINED_WORDS`` words, so a short phrase like "I feel sad"
does not count). Protected: every case in the test (and by default dev) splits of every suite.

Retrieval training pairs are checked question against question instead (``find_near_duplicate_
questions``): a training question that is the same as, or a near copy of, a test question leaks
even when it is asked about another document, and a training case that is another version's test
case of the same suite (``other_versions_test_cases``) leaks because versions share documents.

Training records (``harness.variants.data``) are checked against ``leakage_index``: the protected
inputs read straight from every ``cases.jsonl`` (so a suite being edited cannot switch the check off),
matched whole or, from ``MIN_CONTAINED_WORDS`` words, as a word-bounded substring.
This module is the one place these rules live; training code calls it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Protocol

from harness.errors import DataLeakageError
from harness.suite import Case, Suite, available_suites, available_versions, default_suites_dir, load_suite
from harness.yamlio import iter_jsonl

MIN_CONTAINED_WORDS = 12
MIN_LEAK_WORDS = 4  # earlier user turns of a multi-turn case count from this many words
PROTECTED_SPLITS = ("test", "dev")


class BuiltRecords(Protocol):
    """What the training-record check reads of a built dataset (``harness.variants.data.BuiltDataset``)."""

    name: str
    records: list[dict[str, Any]]
    eval_records: list[dict[str, Any]]
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


def leakage_index(suites_dir: Path | None = None,
                  splits: Sequence[str] = PROTECTED_SPLITS) -> dict[str, list[tuple[str, str]]]:
    """Normalised inputs of every suite version's protected cases -> [(``suite/version:case_id``, split)].

    Same rule as ``protected_cases`` (test and dev protected, text normalised alike), but read
    from ``cases.jsonl`` directly rather than through full suite validation, so a suite being
    edited elsewhere cannot switch the check off. Earlier user turns of multi-turn cases count
    only from ``MIN_LEAK_WORDS`` words ("Hi." in a transcript is not leakage); a question asked
    about a document is only the same case together with that document, so it is not indexed alone.
    """
    base = suites_dir or default_suites_dir()
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for cases_path in sorted(base.glob("*/*/cases.jsonl")):
        key = f"{cases_path.parent.parent.name}/{cases_path.parent.name}"
        for _line, obj in iter_jsonl(cases_path):
            split = obj.get("split")
            if split not in splits:
                continue
            for text, minimum in _case_texts(obj):
                normal = normalise_nfkc(text)
                hit = (f"{key}:{obj.get('id')}", str(split))
                if normal and len(normal.split()) >= minimum and hit not in index[normal]:
                    index[normal].append(hit)
    return dict(index)


def normalise_nfkc(text: str) -> str:
    """``normalise`` after Unicode NFKC folding (full-width letters, ligatures): for raw case and record text."""
    return normalise(unicodedata.normalize("NFKC", text))


def _case_texts(obj: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(text, minimum words) for each input text of a raw case."""
    if isinstance(obj.get("input"), str):
        yield obj["input"], 1
    if isinstance(obj.get("transcript"), str):
        yield obj["transcript"], 1
    if isinstance(obj.get("question"), str) and not (obj.get("document") or obj.get("document_id")):
        yield obj["question"], 1
    messages = obj.get("messages")
    if isinstance(messages, list):
        users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        for position, text in enumerate(users):
            yield text, 1 if position == len(users) - 1 else MIN_LEAK_WORDS


def _record_user_texts(record: dict[str, Any]) -> list[str]:
    messages = record.get("messages") or record.get("prompt") or []
    return [m["content"] for m in messages if m["role"] == "user"]


def find_record_leaks(records: Iterable[dict[str, Any]], index: dict[str, list[tuple[str, str]]],
               splits: Sequence[str] = PROTECTED_SPLITS) -> list[tuple[str, list[str]]]:
    """(record id, protected case ids) for records whose user text equals a protected input, or
    contains one of at least ``MIN_CONTAINED_WORDS`` words."""
    wanted = set(splits)
    long_inputs = [(text, hits) for text, hits in index.items() if len(text.split()) >= MIN_CONTAINED_WORDS]
    leaks = []
    for record in records:
        found: list[str] = []
        for text in _record_user_texts(record):
            normal = normalise_nfkc(text)
            matches = list(index.get(normal, []))
            if len(normal.split()) >= MIN_CONTAINED_WORDS:
                padded = f" {normal} "
                matches += [h for needle, hits in long_inputs if f" {needle} " in padded for h in hits]
            found += [ref for ref, split in matches if split in wanted and ref not in found]
        if found:
            leaks.append((record["id"], found))
    return leaks


def check_training_leakage(datasets: Iterable[BuiltRecords], index: dict[str, list[tuple[str, str]]]) -> None:
    """Raise DataLeakageError if a training record repeats a test/dev input, or an eval record a test input.

    Eval records may come from a suite's dev split (eval loss only, never trained on).
    """
    problems = []
    for built in datasets:
        leaks = find_record_leaks(built.records, index) + find_record_leaks(built.eval_records, index, splits=("test",))
        for record_id, hits in leaks:
            problems.append(f"{record_id} (dataset {built.name!r}) overlaps {', '.join(hits)}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise DataLeakageError(
            f"training data overlaps evaluation cases: {shown}",
            hint="remove these examples (or move the suite case out of the test/dev split in a new suite version)",
        )


def check_question_leakage(train_questions: Iterable[str], test_questions: Sequence[str],
                           threshold: float = 0.9) -> None:
    """Refuse retrieval training when any training question equals or nearly equals a test question."""
    leaks = find_near_duplicate_questions(train_questions, test_questions, threshold)
    if leaks:
        shown = "; ".join(f"{a!r} ~ {b!r}" for a, b in leaks[:5])
        raise DataLeakageError(
            f"{len(leaks)} training question(s) duplicate test-split questions: {shown}",
            hint="rephrase or move the train cases, or set on_leak: drop to leave them out of training",
        )
