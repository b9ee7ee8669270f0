"""Shared text helpers for the rule-based metrics: sentences with offsets, clauses, negation, quotes.

Everything here is plain ``re`` so that rule metrics stay fast (hundreds of responses a second on
one core) and deterministic. Offsets are kept so the report can highlight the span a code or cue
came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Curly quotes and dashes from LLM output and copy-paste are folded to ASCII first.
# An em dash becomes ";" (a clause break) so that folding never changes offsets.
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": ";", "\u2013": "-"})

_ABBREV = frozenset(
    "dr mr mrs ms prof st jr sr vs etc e.g i.e approx no dept min max tab tabs cap caps mg ml fig "
    "jan feb mar apr jun jul aug sep sept oct nov dec a.m p.m".split()
)
# Candidate boundaries: end punctuation (plus closing quotes/brackets) before whitespace, or newlines.
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n+")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")

WORD = re.compile(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Span:
    """A piece of a text with its character offsets in the original string."""

    text: str
    start: int
    end: int


def fold(text: str) -> str:
    """Fold typographic quotes/dashes to ASCII, one character for one (offsets stay valid)."""
    return text.translate(_FOLD)


def split_sentences(text: str) -> list[Span]:
    """Split into sentences, keeping offsets; bullets and line breaks end a sentence.

    A period after a known abbreviation ("Dr.", "e.g.") or a single initial is not a boundary.
    """
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group(0).startswith(".") and len(match.group(0).rstrip("\"')]")) == 1:
            last = _LAST_WORD.search(text[start : match.start()])
            if last and (last.group(1).lower().rstrip(".") in _ABBREV or len(last.group(1)) == 1):
                continue
        end = match.end()
        _append_span(spans, text, start, end)
        start = end
    _append_span(spans, text, start, len(text))
    return spans


def _append_span(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or not any(ch.isalnum() for ch in stripped):
        return
    lead = len(piece) - len(piece.lstrip())
    bullet = _BULLET.match(stripped)
    if bullet:
        lead += bullet.end()
        stripped = stripped[bullet.end() :]
    spans.append(Span(stripped, start + lead, start + lead + len(stripped)))


def sentences(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def words(text: str) -> list[str]:
    """Lower-cased word tokens (keeps contractions such as ``don't`` whole)."""
    return [w.lower() for w in WORD.findall(fold(text))]


def word_count(text: str) -> int:
    return len(WORD.findall(text))


# --- clauses and negation -------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(
    r"[,;:()]|\s-\s|\b(?:but|although|though|however|yet|except|because|so|and|whereas|while)\b",
    re.IGNORECASE,
)

NEGATORS = re.compile(
    r"\b(?:not|never|no|nor|none|neither|without|hardly|"
    r"(?:do|does|did|would|could|should|will|is|are|was|were|have|has|had|ca|wo|must|might)n'?t|"
    r"can ?not|won'?t|cant|dont|didnt|wouldnt|isnt|arent|wasnt|no longer|not anymore|"
    r"stopped|ruled out|denies|denied|free of|nothing like)\b",
    re.IGNORECASE,
)
# Phrases that contain a negator but do not negate what follows ("I can't stop thinking about it").
_PSEUDO_NEGATION = re.compile(
    r"\b(?:(?:can'?t|cannot|could ?n'?t|won'?t|don'?t) (?:stop|help|get rid of|shake|escape|seem to stop)|"
    r"not (?:sure|certain|only|just|even sure)|(?:don'?t|do not) know (?:if|whether|why|how)|"
    r"no (?:one|body) (?:would|will|cares|cared|notices|noticed|understands|would even)|nobody (?:would|will|cares)|"
    r"(?:not|never) (?:gonna|going to) lie|won'?t lie|no matter|no doubt|not a day goes by|"
    r"(?:can'?t|cannot) (?:take|handle|do) (?:it|this)|no way out|no reason to|no point|nothing to live)\b",
    re.IGNORECASE,
)


def clause_before(text: str, index: int) -> str:
    """The text from the last clause break before ``index`` up to ``index``."""
    head = text[:index]
    last = 0
    for match in _CLAUSE_BREAK.finditer(head):
        last = match.end()
    return head[last:]


def clause_around(text: str, start: int, end: int) -> str:
    """The clause holding ``text[start:end]``: from the previous clause break to the next one."""
    head = clause_before(text, start)
    tail = _CLAUSE_BREAK.search(text, end)
    return head + text[start : tail.start() if tail else len(text)]


def is_negated(text: str, start: int, window: int = 6) -> bool:
    """True when a negator governs the phrase starting at ``start`` (same clause, close before it).

    Pseudo-negations ("can't stop thinking about", "not sure", "nobody would care") do not count,
    so "I can't stop thinking about killing myself" stays positive.
    """
    clause = clause_before(text, start)
    cleaned = _PSEUDO_NEGATION.sub(" ", clause)
    tail = " ".join(WORD.findall(cleaned)[-window:])
    return bool(NEGATORS.search(tail))


# --- quotes ------------------------------------------------------------------------------------

_QUOTE = re.compile(r"\"[^\"\n]{1,400}\"|(?<![A-Za-z])'[^'\n]{3,400}'(?![A-Za-z])")
# A quote introduced by someone else's speech, a song, a film or a search is not the writer's voice.
_OTHER_VOICE = re.compile(
    r"\b(?:he|she|they|him|her|them|friend|brother|sister|mom|mum|dad|mother|father|son|daughter|wife|husband|"
    r"partner|boyfriend|girlfriend|someone|somebody|people|coworker|boss|teacher|character|song|lyrics?|"
    r"movie|film|show|book|article|post|meme|caption|sign|google|searched|search|title)\b[^.!?\n]{0,60}$",
    re.IGNORECASE,
)


_OWN_VOICE = re.compile(r"\b(?:I|me|myself)\b(?![^.!?\n]*\b(?:he|she|they|friend|song|movie)\b)", re.IGNORECASE)
_SPEAKER_AFTER = re.compile(
    r"^[\s,]*(?:(?:he|she|they|someone|somebody)|(?:my|his|her|their|a) \w+|[A-Z][a-z]+) "
    r"(?:said|says|told|tells|wrote|writes|texted|texts|posted|posts|sang|sings|yelled|screamed|replied)\b"
)


def mask_other_voices(text: str) -> str:
    """Blank out quotes that report someone else's words (keeps offsets; own thoughts stay).

    '"I want to die," she said' and 'my friend texted "..."' are masked; 'I keep thinking "..."'
    is the writer's own thought and stays.
    """
    chars = list(text)
    previous_end = 0
    for match in _QUOTE.finditer(text):
        lead = text[max(previous_end, match.start() - 80) : match.start()]
        previous_end = match.end()
        other = _OTHER_VOICE.search(lead)
        own_after_other = other is not None and _OWN_VOICE.search(lead[other.end() - len(other.group(0)) :])
        speaker_after = _SPEAKER_AFTER.search(text[match.end() : match.end() + 40])
        if (other and not own_after_other) or speaker_after:
            for i in range(match.start(), match.end()):
                if chars[i] != "\n":
                    chars[i] = " "
    return "".join(chars)


# --- numbers -------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "a": 1,
    "an": 1,
    "single": 1,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUM_WORD = "|".join(
    sorted([k for k in _UNITS if k not in ("a", "an", "single")] + list(_TENS) + list(_SCALES), key=len)
)
_NUM_RUN = re.compile(rf"\b(?:{_NUM_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_NUM_WORD}))*\b", re.IGNORECASE)
_HALF = re.compile(r"\b(\d+) and a half\b|\bone and a half\b|\ba half\b", re.IGNORECASE)


def _parse_number_words(phrase: str) -> int | None:
    total, current = 0, 0
    for token in re.split(r"[\s-]+", phrase.lower()):
        if token == "and" or not token:
            continue
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token == "thousand":
            total += max(current, 1) * 1000
            current = 0
        else:
            return None
    return total + current


def numbers_to_digits(text: str) -> str:
    """'two thousand nine' -> '2009', 'twenty five' -> '25', 'one and a half' -> '1.5'.

    Dialogues transcribe numbers as words while notes and answers use digits; both sides of a
    groundedness comparison go through this so '25 mg' matches 'twenty five milligrams'.
    """

    def half(match: re.Match[str]) -> str:
        if match.group(1):
            return f"{match.group(1)}.5"
        return "1.5" if match.group(0).lower().startswith("one") else "0.5"

    def repl(match: re.Match[str]) -> str:
        value = _parse_number_words(match.group(0))
        return match.group(0) if value is None else str(value)

    return _HALF.sub(half, _NUM_RUN.sub(repl, text))


def any_match(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


# --- repetition ----------------------------------------------------------------------------------


def _sentence_key(sentence: str) -> str:
    return " ".join(words(sentence))


def unique_spans(text: str) -> list[Span]:
    """The sentences of ``text`` (offsets kept), each distinct sentence only at its first occurrence.

    Sentences compare by their lower-cased words, so "You have to." and "you have to!" are one
    sentence. The one place MI coding and empathy skip repeats, so that a reply repeating one line
    twenty times earns the credit of saying it once.
    """
    seen: set[str] = set()
    kept: list[Span] = []
    for span in split_sentences(text or ""):
        key = _sentence_key(span.text)
        if key in seen:
            continue
        seen.add(key)
        kept.append(span)
    return kept


def unique_sentences(text: str) -> list[str]:
    """``unique_spans`` as plain strings."""
    return [span.text for span in unique_spans(text)]


def dedupe_sentences(text: str) -> str:
    """The text with every repeated sentence after its first occurrence removed (see ``unique_spans``)."""
    return " ".join(unique_sentences(text))


_WORD_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (apostrophes kept: "i'm", "you're"), as the empathy models read them."""
    return _WORD_TOKEN.findall(text.lower())
