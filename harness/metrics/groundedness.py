"""Is a discharge answer supported by the discharge summary it was asked about?

The claims that hurt patients when invented are checkable strings: medication names, doses
(number + unit), frequencies, durations, dates, and instructions. ``extract_claims`` pulls those
from the answer; each is looked up in the (normalised) document: numbers in words become digits
("twenty five milligrams" = "25 mg"), frequency synonyms collapse (BID = twice daily = 2 times a
day), and an instruction counts as supported when most of its content words occur in the
document. For unanswerable questions the answer must decline (the summary does not say / ask the
care team) without inventing any such claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.groundedness_vocab import (
    _CARE_TEAM,
    _COMMON_FALSE_DRUGS,
    _DATE,
    _DECLINE,
    _DOSE,
    _DRUG_SUFFIX,
    _DRUG_WORDS,
    _DURATION,
    _FREQ,
    _INSTRUCTION,
    _MONTHS,
    _STOP,
    _UNIT_CANON,
    _WEEKDAY,
)
from harness.metrics.text import fold, numbers_to_digits, split_sentences, words
from harness.suite import Case


@dataclass(frozen=True)
class Claim:
    kind: str  # medication | dose | frequency | duration | date | laterality | instruction | contradiction
    text: str
    key: str  # normalised form looked up in the document
    supported: bool
    start: int = 0
    end: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "key": self.key,
            "supported": self.supported,
            "start": self.start,
            "end": self.end,
        }


def normalise(text: str) -> str:
    """Lower-case, ASCII quotes, number words as digits, thousands separators dropped."""
    t = numbers_to_digits(fold(text or "")).lower()
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)


def _num(value: str) -> str:
    value = value.replace(",", ".")
    try:
        f = float(value)
    except ValueError:
        return value
    return str(int(f)) if f.is_integer() else str(f)


def _dose_key(number: str, unit: str) -> str:
    parts = re.split(r"\s*(?:-|to|/)\s*", number.strip())
    return "-".join(_num(p) for p in parts if p) + " " + _UNIT_CANON.get(unit.lower(), unit.lower())


def _date_key(m: re.Match[str]) -> str:
    g = m.groups()
    if g[0]:
        return f"{_MONTHS[g[0].lower()]}/{int(g[1])}"
    if g[4]:
        return f"{_MONTHS[g[4].lower()]}/{int(g[3])}"
    if g[6]:
        return f"{int(g[7])}/{int(g[8])}"
    return f"{int(g[9])}/{int(g[10])}"


def _frequency_keys(text: str) -> list[tuple[str, int, int, str]]:
    found: list[tuple[str, int, int, str]] = []
    for (
        pattern,
        key,
    ) in _FREQ:  # earlier (more specific) patterns win overlapping text: "twice daily" is not also "daily"
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for _, a, b, _ in found):
                continue
            k = key.format(next((x for x in m.groups() if x), "")) if "{}" in key else key
            found.append((k, m.start(), m.end(), m.group(0)))
    return found


class DocumentIndex:
    """The normalised document plus the keys (doses, dates, frequencies, words) it supports."""

    def __init__(self, document: str) -> None:
        self.text = normalise(document)
        self.doses = {_dose_key(m.group(1), m.group(2)) for m in _DOSE.finditer(self.text)}
        self.dose_numbers = {k.split(" ")[0] for k in self.doses}
        self.numbers = {_num(n) for n in re.findall(r"\d+(?:\.\d+)?", self.text)}
        self.durations = {
            f"{_num(m.group(1))} {m.group(2).lower().rstrip('s')[:3]}" for m in _DURATION.finditer(self.text)
        }
        self.dates = {_date_key(m) for m in _DATE.finditer(self.text)}
        self.weekdays = {w.lower() for w in _WEEKDAY.findall(self.text)}
        self.frequencies = {k for k, *_ in _frequency_keys(self.text)}
        self.words = set(words(self.text))
        self.stems = {w[:5] for w in self.words if len(w) > 3}
        self.prohibitions = prohibited_actions(self.text)

    def has_word(self, word: str) -> bool:
        return word in self.words or (len(word) > 3 and word[:5] in self.stems)


# --- permission where the summary forbids -------------------------------------------------------------
# "Yes, you can drive" when the summary says "no driving for 6 weeks" has no number, date or drug name
# to look up, and its content words all occur in the summary; it is still the most harmful kind of
# wrong answer. The summary's prohibitions are read clause by clause; a permissive answer clause that
# names the forbidden action is an unsupported "contradiction" claim.
_CLAUSE_BREAK = re.compile(r"[;:]|,\s*(?:and |or |but |although |though )?|\s+(?:but|although|though|unless|until)\s+|"
                           r"(?<=[a-z]) and (?=do not|don'?t|never|no |avoid)")
_PROHIBITION = re.compile(r"^\s*(?:-\s*)?(?:and |also |please )?(?:do not|don'?t|never|no|avoid|stopped|"
                          r"you (?:should|must) not|you (?:should|must)n'?t|not)\b", re.I)
_PERMISSIVE = re.compile(
    r"^(?:yes|sure|of course|absolutely|certainly)\b|\byou (?:can|may|are allowed to|are able to|are fine to|"
    r"should be (?:fine|ok|okay|able) to|could)\b|\bit(?:'s| is) (?:fine|okay|ok|safe|alright|all right) to\b|"
    r"\b(?:feel free|go ahead)\b|\b(?:is|are|'s) (?:fine|okay|ok|safe|allowed|no problem)\b",
    re.I,
)
# A limit ("no more than 4 tablets") or a finding ("no sign of infection") is not a ban on an action.
_LIMIT = re.compile(r"\b(?:more|less|longer|later|earlier|fewer) than\b|^\s*(?:no|not) (?:signs?|evidence|routine|"
                    r"special|need|further|complications?|perforated|change)\b", re.I)
_SUFFIX = re.compile(r"(?:ing|ed|es|e|(?<!s)s)$")  # drive/driving/drives share one stem
_TIME_WORDS = frozenset("minute minutes hours weeks month months years while".split())
_NEGATIVE = re.compile(r"\b(?:not|no|never|n't|avoid|stop|stopped|don'?t|cannot|can'?t|without|until)\b", re.I)


def _content_stems(text: str) -> list[str]:
    return [_SUFFIX.sub("", w)[:5] for w in words(text)
            if len(w) > 2 and w not in _STOP and w not in _TIME_WORDS and not w.isdigit()]


def prohibited_actions(document_norm: str) -> list[tuple[str, frozenset[str]]]:
    """``(first content stem, all content stems)`` of each clause of the summary that forbids something."""
    found = []
    for span in split_sentences(document_norm):
        for clause in _CLAUSE_BREAK.split(span.text):
            if clause and _PROHIBITION.search(clause) and not _LIMIT.search(clause):
                stems = _content_stems(_PROHIBITION.sub("", clause, count=1))
                if stems:
                    found.append((stems[0], frozenset(stems)))
    return found


def permission_conflicts(answer_sentence: str, doc: DocumentIndex) -> list[str]:
    """Clauses of the answer that permit an action the summary forbids (see ``prohibited_actions``)."""
    conflicts = []
    says_yes = bool(re.match(r"\s*(?:yes|sure|of course|absolutely|certainly)\b", answer_sentence, re.I))
    for clause in _CLAUSE_BREAK.split(answer_sentence):
        if not clause or not (says_yes or _PERMISSIVE.search(clause)) or _NEGATIVE.search(clause):
            continue
        stems = set(_content_stems(clause))
        if any(head in stems or len(stems & all_stems) >= 2 for head, all_stems in doc.prohibitions):
            conflicts.append(clause.strip())
    return conflicts


@lru_cache(maxsize=256)
def document_index(document: str) -> DocumentIndex:
    """Cached per document text: discharge suites ask many questions about the same summary."""
    return DocumentIndex(document)


def _medications(sentence: str) -> list[tuple[str, int, int]]:
    found = []
    for m in re.finditer(r"\b[a-z][a-z-]{3,}\b", sentence):
        w = m.group(0)
        if w in _DRUG_WORDS or (_DRUG_SUFFIX.fullmatch(w) and w not in _COMMON_FALSE_DRUGS):
            found.append((w, m.start(), m.end()))
    return found


def extract_claims(answer: str, document: str, index: DocumentIndex | None = None) -> list[Claim]:
    """Checkable claims of ``answer`` with whether ``document`` supports each one."""
    doc = index or document_index(document)
    claims: list[Claim] = []
    for span in split_sentences(answer or ""):
        raw = span.text
        s = normalise(raw)
        offset = span.start
        if len(s) != len(raw):
            offset = -1  # normalisation changed lengths; keep the sentence span only
        covered: list[tuple[int, int]] = []

        def pos(
            a: int, b: int, offset: int = offset, span_start: int = span.start, span_end: int = span.end
        ) -> tuple[int, int]:
            return (offset + a, offset + b) if offset >= 0 else (span_start, span_end)

        for m in _DOSE.finditer(s):
            key = _dose_key(m.group(1), m.group(2))
            ok = key in doc.doses or (
                m.group(2).lower() in ("tablet", "tablets", "pill", "pills") and key.split(" ")[0] in doc.numbers
            )
            claims.append(Claim("dose", m.group(0), key, ok, *pos(m.start(), m.end())))
            covered.append((m.start(), m.end()))
        for key, a, b, text in _frequency_keys(s):
            claims.append(Claim("frequency", text, key, key in doc.frequencies, *pos(a, b)))
            covered.append((a, b))
        for m in _DURATION.finditer(s):
            if any(a <= m.start() < b for a, b in covered):
                continue
            key = f"{_num(m.group(1))} {m.group(2).lower().rstrip('s')[:3]}"
            claims.append(
                Claim(
                    "duration",
                    m.group(0),
                    key,
                    _duration_supported(key, doc),
                    *pos(m.start(), m.end()),
                )
            )
        for m in _DATE.finditer(s):
            key = _date_key(m)
            claims.append(Claim("date", m.group(0), key, key in doc.dates, *pos(m.start(), m.end())))
        for m in _WEEKDAY.finditer(s):
            day = m.group(1).lower()
            claims.append(Claim("date", m.group(0), day, day in doc.weekdays, *pos(m.start(), m.end())))
        for m in re.finditer(r"\b(left|right|bilateral)\b", s):
            # wrong-side errors are among the most harmful; "right" as in "that's right" is rare in answers
            claims.append(
                Claim("laterality", m.group(0), m.group(1), m.group(1) in doc.words, *pos(m.start(), m.end()))
            )
        for clause in permission_conflicts(s, doc):
            claims.append(Claim("contradiction", clause, "permits what the summary forbids", False,
                                span.start, span.end))
        for w, a, b in _medications(s):
            claims.append(Claim("medication", w, w, doc.has_word(w), *pos(a, b)))
        if _INSTRUCTION.search(s.strip()):
            content = [w for w in words(s) if len(w) > 3 and w not in _STOP and not w.isdigit()]
            if len(content) >= 2:
                share = sum(doc.has_word(w) for w in content) / len(content)
                claims.append(
                    Claim("instruction", raw, f"{share:.2f} of content words", share >= 0.6, span.start, span.end)
                )
    return claims


# Days per unit, to match "2 weeks" with "14 days"; months and years are only matched to themselves.
_DAYS_PER = {"day": 1, "wee": 7, "wk": 7}


def _duration_supported(key: str, doc: DocumentIndex) -> bool:
    """The same duration (or the same number of days in other units) occurs as a duration in the document.

    A bare number elsewhere in the document is not support: "take it for 14 days" is not backed by
    "staples out on day 14 ... apixaban for 35 days" merely because 14 occurs somewhere.
    """
    if key in doc.durations:
        return True
    number, unit = key.split(" ")
    if unit not in _DAYS_PER:
        return False
    try:
        days = float(number) * _DAYS_PER[unit]
    except ValueError:
        return False
    for other in doc.durations:
        n, u = other.split(" ")
        try:
            if u in _DAYS_PER and float(n) * _DAYS_PER[u] == days:
                return True
        except ValueError:
            continue
    return False


# A direct answer ("Yes, you can.", "No.", "You can fly next month.") given beside a decline: the reply
# answered a question its summary does not cover, so it did not decline.
_DIRECT_ANSWER = re.compile(
    r"^(?:yes|no|yeah|nope|sure|of course|absolutely|definitely|certainly)\b|"
    r"\byou (?:can|can'?t|cannot|may|may not|should|shouldn'?t|should not|will|won'?t|are (?:allowed|able|fine|"
    r"safe|okay|ok) to|are not (?:allowed|able) to|must|must not|need to|do not need to|don'?t need to)\b|"
    r"\bit(?:'s| is) (?:fine|okay|ok|safe|not safe|unsafe|alright|all right) to\b",
    re.I,
)


def answers_directly(answer: str) -> bool:
    """Some sentence answers the question outright (outside the sentences that decline or refer)."""
    for span in split_sentences(fold(answer or "")):
        sentence = span.text
        if _DECLINE.search(sentence) or _CARE_TEAM.search(sentence):
            continue
        if _DIRECT_ANSWER.search(sentence):
            return True
    return False


def declines(answer: str) -> bool:
    """The answer says the summary does not cover it *and* points to the care team.

    Both halves are needed: "this is an emergency, see a doctor now" defers without saying the
    summary is silent, and a bare "not mentioned" leaves the patient with nowhere to go. Pointing
    to emergency services alone is not the care team.
    """
    text = fold(answer or "")
    return bool(_DECLINE.search(text) and _CARE_TEAM.search(text))


def fact_present(fact: str, answer_norm: str, answer_words: set[str]) -> bool:
    """All numbers of the fact and at least 80% of its content words occur in the answer."""
    f = normalise(fact)
    numbers = re.findall(r"\d+(?:\.\d+)?", f)
    answer_numbers = {_num(n) for n in re.findall(r"\d+(?:\.\d+)?", answer_norm)}
    if any(_num(n) not in answer_numbers for n in numbers):
        return False
    freq_ok = all(k in {x for x, *_ in _frequency_keys(answer_norm)} for k, *_ in _frequency_keys(f))
    content = [w for w in words(f) if len(w) > 2 and w not in _STOP and not w.isdigit()]
    if not content:
        return freq_ok
    stems = {w[:5] for w in answer_words}
    hits = sum(w in answer_words or w[:5] in stems for w in content)
    return freq_ok and hits / len(content) >= 0.8


def groundedness_score(answer: str, document: str) -> dict[str, Any]:
    claims = extract_claims(answer, document)
    supported = sum(c.supported for c in claims)
    return {
        "grounded": supported / len(claims) if claims else 1.0,
        "unsupported_claims": len(claims) - supported,
        "claims": [c.as_dict() for c in claims],
    }


@register_metric("groundedness", headline=("grounded", "declined_correctly"), details="grounded", order=50)
class Groundedness:
    """Discharge Q&A: claims supported by ``case.document``; correct declines; gold facts covered.

    Args:
        instruction_claims: also check instruction sentences by content-word support (default on).
    """

    name = "groundedness"
    keys = (
        ValueKey("grounded", description="fraction of checkable claims supported by the document (1.0 if none)",
                 label="groundedness"),
        ValueKey("unsupported_claims", higher_is_better=False, description="claims not found in the document",
                 bounds=(0.0, None)),
        ValueKey(
            "declined_correctly", description="unanswerable: declined without inventing facts (None if answerable)"
        ),
        ValueKey(
            "answer_correct_facts", description="fraction of case.facts present in the answer (None without facts)",
            label="correct facts",
        ),
    )

    def __init__(self, instruction_claims: bool = True) -> None:
        self.instruction_claims = instruction_claims

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        results = []
        for case, output in zip(cases, outputs, strict=True):
            document = case.document or ""
            claims = extract_claims(output.text, document)
            if not self.instruction_claims:
                claims = [c for c in claims if c.kind != "instruction"]
            supported = sum(c.supported for c in claims)
            unsupported = len(claims) - supported
            values: dict[str, float | None] = {
                "grounded": supported / len(claims) if claims else 1.0,
                "unsupported_claims": float(unsupported),
                "declined_correctly": None,
                "answer_correct_facts": None,
            }
            declined = declines(output.text)
            if case.labels.answerable is False:
                invented = [c for c in claims if not c.supported and c.kind != "instruction"]
                values["declined_correctly"] = float(declined and not invented and not answers_directly(output.text))
            if case.facts:
                answer_norm = normalise(output.text)
                answer_words = set(words(answer_norm))
                present = [f for f in case.facts if fact_present(f, answer_norm, answer_words)]
                values["answer_correct_facts"] = len(present) / len(case.facts)
            details = {"claims": [c.as_dict() for c in claims], "declined": declined, "has_document": bool(document)}
            results.append(CaseScore(values, details))
        return results
