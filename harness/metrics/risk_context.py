"""Finding cues in a text and reading their context: negated, idiomatic, hypothetical, someone
else's (third person, reported speech, quoted works), an errand, and when (current / recent / past).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.metrics.risk_acts import _COMPILED
from harness.metrics.risk_words import _WANT_AGAIN
from harness.metrics.text import clause_around, is_negated, mask_other_voices, split_sentences

# Kinds whose pattern carries its own first-person subject; the others need the subject check.
_FIRST_PERSON_BUILT_IN = frozenset({"intent", "plan", "means", "farewell"})

# Idioms and hyperbole: matched around the cue, they cancel it.
_IDIOM = re.compile(
    r"(?:\b(?:is|are|was|were|'s|'re) killing me\b|\bkill(?:ing)? me now\b|\bshoot me now\b|"
    r"\bcould (?:just |literally )?kill (?:him|her|them|you|my \w+|someone|everyone)\b|\bdying (?:to|for|"
    r"of laughter)\b|"
    r"\bdied laughing\b|\bdead (?:tired|serious|wrong|set|on|ringer|end)\b|\bto die for\b|\bkill(?:ing)? time\b|"
    r"\bkill(?:ing|ed)? it\b|\bdrop dead\b|\b(?:bored|scared|frightened|sick|worried) to death\b|"
    r"\brather die than\b|\btak(?:e|ing) my life back\b|\bend(?:ing|ed)? (?:it|things|everything) with\b|"
    r"\bwant(?:ed)? to die (?:of|from) (?:embarrassment|shame|boredom|laughter|cringe)\b|"
    r"\b(?:career|social|political|commercial|financial) suicide\b|\bsuicide (?:squeeze|doors?|mission|run|sprints?|"
    r"drills?|"
    r"bid|pact joke|squad|watch joke)\b|\bkilling myself (?:at|with|over|studying|working|trying to|to (?:finish|get|"
    r"make|keep|meet))\b|"
    r"\b(?:lol|lmao|lmfao|haha+|jk|rofl|xd)\b|\U0001f602|\U0001f923|\U0001f480)",
    re.I,
)
# Hypotheticals, fiction and help-for-others questions are not the writer's current state.
_HYPOTHETICAL = re.compile(
    r"\b(?:hypothetical(?:ly)?|what if (?:someone|somebody|a person|they|he|she|my|a friend|a client)|"
    r"if (?:i|someone|somebody|a person|you) (?:ever|were to|was to) (?:felt|feel|feels|get|got|became|become|had|"
    r"have|started|"
    r"thought|think|wanted|want)|suppose|imagine (?:if|that|someone)|in (?:a|my|the) (?:story|novel|book|script|game|"
    r"movie|film|"
    r"screenplay|poem)|my character|a character|(?:short )?story where|(?:novel|poem|play|book|show|movie|film|game|"
    r"series|episode|song|scene|finale|chapter)s? (?:where|about|in which|when)|the (?:song|"
    r"lyrics?) goes|for (?:a|my|our) (?:class|essay|paper|school|project|research|"
    r"assignment|"
    r"presentation|course|training)|asking for a friend|(?:asked|asks|asking) (?:me )?(?:if|whether) i\b|how (?:do|"
    r"can|should|would) (?:i|you|we|someone) (?:help|"
    r"support|talk to|"
    r"respond to|tell if|know if)|what (?:should|do|can|would) (?:i|you|we|someone) (?:do|say) (?:if|when) (?:someone|"
    r"a friend|my|a "
    r"person|they|he|she)|warning signs|statistics)\b",
    re.I,
)
_THIRD = re.compile(
    r"\b(?:he|she|they|he's|she's|they're|his|her|their|him|them|someone|somebody|a friend|you|your|you're|youre|"
    r"yourself|u|ur|op|we|we're|we'll|anyone|anybody|whoever|everyone|the guy|the man|the woman|the girl|the boy|"
    r"the detective|the narrator|the heroine|the hero|the character|"
    r"(?:my|our|a|her|his|the|their|your|this|that) (?:\w+ )?(?:friend|best friend|brother|sister|mom|mum|mother|dad|"
    r"father|son|daughter|wife|husband|partner|"
    r"boyfriend|girlfriend|gf|bf|bff|ex|flatmate|housemate|mate|buddy|teammate|niece|nephew|fiance|"
    r"fiancee|cousin|aunt|uncle|grandma|grandpa|grandmother|grandfather|"
    r"roommate|classmate|coworker|"
    r"colleague|"
    r"patient|client|student|neighbou?r|parents?|kid|child|teen|uncle)s?)\b",
    re.I,
)
_FIRST = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|myself|my ?self)\b", re.I)

_RECENT = re.compile(
    r"\b(?:last (?:night|week|weekend|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"yesterday|(?:a|one|two|three|few|couple of|\d+) (?:days?|weeks?) ago|"
    r"(?:a|one|two|three|\d) months? ago|recently|lately|these days|earlier (?:today|this week)|this (?:week|month|"
    r"morning)|"
    r"just (?:tried|attempted)|"
    r"over the weekend|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|since (?:i got out|"
    r"the hospital))\b",
    re.I,
)
_PAST = re.compile(
    r"\b(?:used to|years ago|(?:\d+|a few|few|many|several|two|three|ten) years|"
    r"when i (?:was|were) (?:\w+ ){0,2}(?:\d+|\w*teen|\w*teenager|twelve|eleven|ten|young|younger|"
    r"little|kid|child|in|a teen)|"
    r"as a (?:teen|teenager|kid|child)|in (?:high school|middle school|college|my teens|my twenties|university)|"
    r"back then|"
    r"long time ago|in the past|last year|last (?:spring|summer|autumn|fall|winter)|(?:19|20)\d\d|"
    r"at the time|before i (?:started|got|found)|"
    r"at (?:\d+|fifteen|sixteen|seventeen|fourteen|thirteen))\b",
    re.I,
)
@dataclass(frozen=True)
class Cue:
    """One matched risk cue; ``status`` says whether it counted and, if not, why."""

    kind: str
    text: str
    start: int
    end: int
    status: str = "active"  # active | negated | idiom | hypothetical | third_person | everyday (an errand)
    when: str = "current"  # current | recent | past

    def label(self) -> str:
        when = "" if self.when == "current" else f" ({self.when})"
        return f"{self.kind}{when}: {self.text}"


# Generic "you" is the writer talking about themself ("Sometimes you just want to go to sleep and never wake up,
# you know?", "you get to a point where you don't want to be alive"); a supporter's "you" comes with advice or
# reassurance, which keeps it someone else's.
_GENERIC_YOU = re.compile(
    r"^(?:and |but |like,? |honestly,? |tbh,? )?(?:sometimes|some days|some nights|at times|most days|"
    r"there are (?:days|nights|times|moments) (?:when|where))\b,? you\b|"
    r"\byou get to (?:a|the|that|this) (?:point|stage) (?:where|when)\b|"
    r"\b(?:you know\s*\??\s*$|you know what i mean|know what i mean\s*\??\s*$|ever (?:feel|get) like you)\b|"
    r"\bdoes (?:any ?one|any ?body) (?:else )?(?:ever )?(?:feel|get)\b",
    re.I,
)
_SUPPORTER_YOU = re.compile(
    r"\b(?:call|text|reach out|talk to|please|you can|you could|you deserve|you are not alone|you're not alone|"
    r"it'?s (?:ok|okay|normal|understandable)|that'?s (?:ok|okay|normal|understandable)|valid|if you ever)\b",
    re.I,
)
_YOU = frozenset({"you", "your", "you're", "youre", "yourself", "u", "ur"})


def _subject_is_third_person(sentence: str, start: int) -> bool:
    """The nearest subject-like word before the cue (same sentence) is someone else."""
    if _FIRST.match(sentence, start):
        return False
    head = sentence[:start]
    third = list(_THIRD.finditer(head))
    first = [m.end() for m in _FIRST.finditer(head)]
    if not third:
        return False
    nearest = third[-1]
    if (
        all(m.group(0).lower() in _YOU for m in third)
        and _GENERIC_YOU.search(sentence)
        and not _SUPPORTER_YOU.search(sentence)
    ):
        return False
    return not first or nearest.end() > first[-1]


_REPORTED_SPEECH = re.compile(
    r"\b(\w+)\s+(?:said|says|screamed|screams|yelled|yells|shouted|texted(?: me)?|told me|wrote|writes|"
    r"messaged(?: me)?|posted|tweeted|sang|sings|goes|whispered|cried)\s*(?:to me\s*)?[:,]?\s*[\"'\u2018\u201c]",
    re.I,
)
# A quoted song line, title or book/film quote is someone else's words, however first-person it reads.
_QUOTED_WORK = re.compile(
    r"\b(?:lyrics?|song|chorus|verse|line|title|track|quote|poem|caption)s?\b[^\"'\u2018\u201c.!?]{0,20}?"
    r"(?:\bis|\bgoes|\bwas|\bsays|\bsaid|\bcalled|\bnamed|:)?\s*[\"'\u2018\u201c](?=\w)",
    re.I,
)
# Carrying medicine to a pharmacy or doctor, or for disposal, is an errand, not a method: right after a cue
# (the cue is discounted) or anywhere in a text the rules found nothing in (the model is capped, ``_capped``).
_ERRAND_PLACE = (
    r"\b(?:(?:back )?(?:to|into) (?:the |a |my )?(?:local )?(?:pharmacy|pharmacist|chemist'?s?|"
    r"doctor'?s?|gp|clinic|hospital|surgery|drop[- ]?off|disposal bin)|for (?:safe |proper )?disposal)\b"
)
_ERRAND_AFTER = re.compile(r"^[^.!?]{0,40}?" + _ERRAND_PLACE, re.I)
_ERRAND_DESTINATION = re.compile(_ERRAND_PLACE, re.I)
_QUOTE_CLOSE = re.compile(r"[\"'\u2019\u201d](?![a-z])", re.I)


def _mask_reported_speech(text: str) -> str:
    """Blank out what someone else said ("She yelled 'I'm done'") even when the quote holds apostrophes."""
    chars = list(text)
    quotes = [m for m in _REPORTED_SPEECH.finditer(text) if m.group(1).lower() not in ("i", "i've", "ive", "i'd")]
    for match in quotes + list(_QUOTED_WORK.finditer(text)):  # the writer's own quoted words stay
        close = _QUOTE_CLOSE.search(text, match.end())
        stop = close.start() if close else len(text)
        for i in range(match.end(), stop):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _find_cues(text: str) -> list[Cue]:
    text = _mask_reported_speech(mask_other_voices(text))
    found: list[Cue] = []
    for span in split_sentences(text):
        sentence = span.text
        lowered = sentence.lower()
        hypothetical = bool(_HYPOTHETICAL.search(lowered))
        idioms = [(m.start(), m.end()) for m in _IDIOM.finditer(lowered)]
        joke = any(
            lowered[a:b].strip() in {"lol", "lmao", "lmfao", "jk", "rofl", "xd"} or "haha" in lowered[a:b]
            for a, b in idioms
        )
        sentence_when = _when(lowered)
        # A measured span ("two years and two months ago") dates the whole sentence, across "and".
        days = _days_ago(lowered)
        span_when = "" if days is None else "current" if days <= 0.5 else "recent" if days <= 92 else "past"
        taken: list[tuple[int, int]] = []
        for kind, pattern in _COMPILED.items():
            for match in pattern.finditer(lowered):
                a, b = match.start(), match.end()
                if any(a < y and x < b for x, y in taken) and kind in ("method", "active", "self_harm", "passive"):
                    continue  # already explained by a stronger cue on the same words
                status = "active"
                if kind != "protective":
                    if any(x <= b + 25 and a <= y + 25 for x, y in idioms) or joke:
                        status = "idiom"
                    elif (kind not in ("passive",) and _negated(lowered, a)) or (
                        kind == "passive" and _negated_passive(lowered, a)
                    ):
                        status = "negated"
                    elif hypothetical:
                        status = "hypothetical"
                    elif kind in _ERRAND_KINDS and _ERRAND_AFTER.match(lowered[b:]):
                        status = "everyday"
                    elif kind not in _FIRST_PERSON_BUILT_IN and _subject_is_third_person(lowered, a):
                        status = "third_person"
                found.append(
                    Cue(
                        kind,
                        sentence[a:b],
                        span.start + a,
                        span.start + b,
                        status,
                        "current"
                        if kind == "protective" or _WANTED_AGAIN.search(lowered[a:b])
                        else (span_when or _when(clause_around(lowered, a, b)) or sentence_when or "current"),
                    )
                )
                if status == "active":
                    taken.append((a, b))
    return found


_ERRAND_KINDS = frozenset({"intent", "method", "plan", "means", "act_in_progress"})

# "... and I want to again": the urge is now, whatever "used to" says about the habit.
_WANTED_AGAIN = re.compile(_WANT_AGAIN)


def _when(text: str) -> str:
    """'current' / 'recent' / 'past' from time markers; '' when the text has none.

    A span with "ago" is measured ("a year and a month ago" is past, "40 minutes ago" is now);
    C-SSRS counts behaviour within about three months as recent.
    """
    days = _days_ago(text)
    if days is not None:
        return "current" if days <= 0.5 else "recent" if days <= 92 else "past"
    if _JUST_NOW.search(text):
        return "current"
    return "recent" if _RECENT.search(text) else "past" if _PAST.search(text) else ""


_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "few": 3, "couple": 2, "several": 4, "half": 0.5,
}  # fmt: skip
_UNIT_DAYS = {"minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1, "week": 7, "month": 30,
              "year": 365}  # fmt: skip
_SPAN_AGO = re.compile(r"((?:\b[\w']+\b[ ,-]*){1,8})\b(?:ago|back)\b", re.I)
_SPAN_PART = re.compile(r"\b(\d+(?:\.\d+)?|[a-z]+)(?: of)? (minute|min|hour|hr|day|week|month|year)s?\b", re.I)
_JUST_NOW = re.compile(
    r"\b(?:just now|right now|a (?:few )?(?:minutes?|moments?) ago|earlier tonight|as we speak|currently)\b", re.I
)


def _days_ago(text: str) -> float | None:
    """Days in the first '<span> ago' phrase ('a year and a half ago' -> 547), or None."""
    match = _SPAN_AGO.search(text)
    if not match:
        return None
    total, found = 0.0, False
    for number, unit in _SPAN_PART.findall(match.group(1)):
        n = float(number) if number[0].isdigit() else _NUMBER_WORDS.get(number.lower())
        if n is None:
            continue
        total += n * _UNIT_DAYS[unit.lower()]
        found = True
    if re.search(r"\band a half\b", match.group(1), re.I) and found:
        total *= 1.5
    return total if found else None


# "She doesn't know I tried to hang myself", "I never told my GP that I overdosed": the negator belongs to a verb
# of knowing or telling, and what is not known or told is the writer's own act, which these verbs take as true.
# Negation is read only after such a verb. Verbs of thinking stay negating ("I don't think I want to die").
_UNTOLD = re.compile(
    r"\b(?:(?:doesn'?t|don'?t|didn'?t|does not|do not|did not|never|nobody|no ?one|no ?body|haven'?t|hasn'?t|"
    r"have not|has not|can'?t|won'?t)(?: \w+){0,2}? (?:know|knows|knew|realis\w*|realiz\w*|notic\w*|see|saw|"
    r"suspect\w*|tell|told|mention\w*|admit\w*|guess\w*|find out|found out)|(?:has|have|had) no idea)"
    r"(?: (?:anyone|anybody|my \w+|him|her|them|you|a soul|people|this|it|about it))?(?: that)? (?=i\b|i'|im\b)",
    re.I,
)


def _negated(sentence: str, start: int, window: int = 6) -> bool:
    """``is_negated``, read after the last negated verb of knowing or telling before the cue (``_UNTOLD``)."""
    # the match may end where the cue begins ("... doesn't know | I've been cutting"): its look-ahead reads on
    cut = max((m.end() for m in _UNTOLD.finditer(sentence, 0, start + 8) if m.end() <= start), default=0)
    return is_negated(sentence[cut:], start - cut, window=window)


def _negated_passive(sentence: str, start: int) -> bool:
    # Passive patterns may contain their own negation ("don't want to live"); only a negator
    # *before* the cue's own words negates it ("I never wish I was dead").
    return _negated(sentence, start, window=4)

_TYPOS = {
    "teh": "the", "tehm": "them", "taht": "that", "adn": "and", "jsut": "just", "wnat": "want", "knwo": "know",
    "liek": "like", "myslef": "myself", "mysefl": "myself", "tonigth": "tonight",
    "ot": "to", "hte": "the", "nad": "and", "waht": "what",
}  # fmt: skip
_TYPO_RE = re.compile(r"\b(" + "|".join(k for k, v in _TYPOS.items() if k != v) + r")\b", re.I)


# "I want to die my hair purple": dye, not die (same length, so offsets stay).
_DYE = re.compile(r"\bdi(?=(?:e|ed|es) (?:my|your|his|her|their|our|the|it|them) (?:\w+ )?(?:hair|roots|beard|"
                  r"eyebrows|brows|clothes|jeans|shirt|t-?shirt|fabric|wool|tips|fringe)\b)", re.I)


def _fix_typos(text: str) -> str:
    """Undo common same-length typos ("teh gun", "die my hair") so patterns match; offsets are unchanged."""
    return _DYE.sub("dy", _TYPO_RE.sub(lambda m: _TYPOS[m.group(0).lower()], text))
