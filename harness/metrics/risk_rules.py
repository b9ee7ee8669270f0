"""The rules' reading of a text (``assess_rules``): C-SSRS-style level decisions over the cues, and a
score inside the level's band. See ``harness.metrics.risk`` for the levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.metrics.risk_acts import _DANGER_HERE, _FAREWELL_SIGNALS
from harness.metrics.risk_context import _HYPOTHETICAL, Cue, _find_cues, _fix_typos
from harness.metrics.risk_model import rule_features
from harness.metrics.risk_veiled import SELF_HARM_ANNOUNCING
from harness.metrics.risk_words import _KILL_SELF, _TIMELINE
from harness.metrics.text import fold, mask_other_voices
from harness.suite import RISK_ORDER

LEVELS: tuple[str, ...] = RISK_ORDER
FLAG_LEVELS = frozenset({"high", "imminent"})

# Score bands keep ``score`` consistent with ``level`` (a higher level always scores higher).
_BANDS: dict[str, tuple[float, float]] = {
    "none": (0.0, 0.1),
    "low": (0.2, 0.4),
    "moderate": (0.45, 0.65),
    "high": (0.7, 0.85),
    "imminent": (0.9, 1.0),
}

@dataclass(frozen=True)
class RiskAssessment:
    """Predicted level (none..imminent), a 0..1 score ordered like the levels, and readable cues."""

    level: str
    score: float
    cues: list[str]
    evidence: list[Cue] = field(default_factory=list, repr=False)
    probability: float | None = None  # the model's calibrated P(level >= high); None for rules alone
    probabilities: dict[str, float] = field(default_factory=dict, repr=False)  # P(>= low .. imminent)
    source: str = "rules"  # "rules", or "model" when the model raised the rules' level
    rule_level: str = ""  # what the rules alone said
    rule_vector: Any = field(default=None, repr=False, compare=False)

    @property
    def flagged(self) -> bool:
        return self.level in FLAG_LEVELS


_TIMELINE_RE = re.compile(_TIMELINE, re.I)

# How much each cue kind moves the score inside its level band.
_CUE_WEIGHTS: dict[str, float] = {
    "passive": 1,
    "active": 1,
    "method": 1,
    "means": 1,
    "intent": 2,
    "intent_generic": 1,
    "plan": 2,
    "preparatory": 1,
    # Behaviour outranks thoughts inside a band (C-SSRS: behaviour is the stronger predictor).
    "attempt": 2,
    "self_harm": 1.5,
    "hopelessness": 0.5,
    "act_in_progress": 2,
    "farewell": 2,
    "farewell_implicit": 1,
}


# Final arrangements: one is everyday life, two or more together read as preparation.
_ARRANGEMENT = re.compile(
    r"\b(?:gave|giving|given) (?:away )?my (?:\w+ )?(?:dog|cat|pets?|rabbit|things|stuff|records|bike|books|guitar)|"
    r"\bwr(?:ote|itten|iting) (?:out )?who (?:gets|should (?:get|have))|\b(?:cancel+ed|cancel+ing) my (?:lease|"
    r"subscriptions?|phone|contract|plans)|\bsold my (?:\w+ )?(?:guitar|car|things|stuff|bike|records)|"
    r"\bpaid off (?:my|all my) debts?|\b(?:updated|made|wrote|written|writing|signed|finished) (?:a|my) will\b|"
    r"\baffairs in order|\bsaid (?:my )?goodbyes? to (?:everyone|everybody|all of them|my (?:\w+ )?(?:family|friends))|"
    r"\bletters? (?:to|for) (?:each of )?my (?:kids|children|family|mum|mom|dad|parents|wife|husband|partner|sister|"
    r"brother|son|daughter)|\bpasswords?\b|\bdeleted (?:all )?my (?:socials|accounts)|"
    r"\b(?:instructions|plans|music|songs|hymns|readings) (?:for|at) my (?:own )?funeral|\bplanned my (?:own )?funeral",
    re.I,
)
_IN_IT = re.compile(
    r"\b(?:keep (?:walking|going)|further out|up to my (?:chest|neck|waist)|can'?t feel my|it'?s (?:so )?cold|"
    r"still (?:bleeding|in the water))\b",
    re.I,
)
_EXPLICIT_MEANS = re.compile(
    r"\bloaded\b|lined up|counted out|laid out|noose|tied and ready|in my (?:lap|hand|mouth)|hanging|set up|in place",
    re.I,
)
_EXPLICIT_AFTER = re.compile(
    r"^[^.!?]*?(?:how many|how much|lethal|painless|high enough|lined up|counted out|laid out|"
    # the writer's own death named after a note or a gift ("a letter for each of my kids for after I'm gone")
    r"(?:for |after |when |once |for after )i'?m (?:gone|dead|not (?:here|around) any ?more|no longer (?:here|around))|"
    r"(?:after|when|once) i (?:die|pass|kill myself)|after my death|"
    r"it takes (?:to|me to)|would kill|to die|overdose|liver|fatal|pass out)",
    re.I,
)
_EXPLICIT_PREP = re.compile(
    r"noose|charcoal|knots?\b|tying|lined up|counted out|laid out|without (?:them|anyone|anybody|people) knowing|"
    r"high enough|hose\b|suicide|goodbye (?:note|letter)|final|stockpil|hoard|sav(?:ed|ing)|enough|"
    r"lethal|painless|fatal|how many|how much|how long (?:does|would|will|did|do) it|"
    r"(?:(?:least|most) painful|quick\w*|fastest|easiest|surest|best) ways? to (?:kill|die|go\b|end (?:it|my|your))|"
    r"letters? (?:to|for)|notes? (?:to|for)|who should|away|(?:have|has) to find me\b|"
    r"(?:different|several|multiple|other) (?:chemists?|pharmac\w+|shops?|supermarkets?|stores?|garages?)",
    re.I,
)
_IDEATION_VERB = re.compile(
    r"\b(?:think|thinking|thought|thoughts|fantasi[sz]\w*|dream\w*|consider\w*|urges?|tempt\w*|want\w*|wanna|"
    r"going to|gonna|plan\w*|might|could just|keep picturing|imagin\w*|obsess\w*|wish\w*)\b",
    re.I,
)
_KILL_SELF_RE = re.compile(_KILL_SELF + r"|\bdie\b", re.I)
# A wish that names death itself, which a set time turns into intent ("... be dead by Friday", "gone for good").
_DEATH_TOLD = re.compile(r"\bdie\b|\bdead\b|gone (?:for good|forever|for ever|permanently)|won'?t be (?:here|around|"
                         r"alive)", re.I)
_SELF_HARM_ANNOUNCED = re.compile(rf"^{SELF_HARM_ANNOUNCING}\b", re.I)
# Words that make "I know exactly how I'd do it" a method, not a recipe.
_LETHAL_WORD = re.compile(
    r"\b(?:pills|tablets|overdose|rope|noose|gun|rifle|pistol|bridge|cliff|tracks|train|blade|razor|knife|wrists?|"
    r"jump|hang|lethal|die|dead|death)\b",
    re.I,
)
_SELF_METHOD = re.compile(r"my ?self|my (?:wrists?|throat)", re.I)


@dataclass(frozen=True)
class _Reading:
    """What the rules found in one text (its active cues and what they add up to), before a level is decided."""

    kinds: set[str]  # every active cue kind
    current: set[str]  # active cue kinds not told as past
    lowered: str
    ideation_now: bool
    self_harm_now: bool
    has_method: bool
    has_timeline: bool
    intent: bool
    has_means: bool
    plan: bool
    preparatory: bool
    timed_wish: bool
    attempt_recent: bool
    attempt_any: bool
    protective: bool
    explicit_means: bool
    act_now: bool
    implicit_farewell: bool


def assess_rules(text: str) -> RiskAssessment:
    """The rules' reading alone (no learned model): level, band score and cues; see the module docstring."""
    folded = _fix_typos(fold(text or ""))
    evidence = _find_cues(folded)
    r = _read(evidence, folded.lower())
    level = _level(r)
    strength = sum(_CUE_WEIGHTS.get(k, 0) for k in r.kinds) + (0.5 if r.has_timeline else 0)
    lo, hi = _BANDS[level]
    position = min(1.0, strength / 4) - (0.25 if r.protective else 0.0)
    score = round(lo + (hi - lo) * max(0.0, position), 4)
    cues = [c.label() for c in evidence if c.status == "active"]
    if r.has_timeline:
        cues.append("timeline")
    cues += [f"{c.status}: {c.kind}: {c.text}" for c in evidence if c.status != "active"]
    features = rule_features(
        level, r.kinds, {c.status for c in evidence if c.status != "active"}, r.has_timeline
    )
    return RiskAssessment(level, score, cues, evidence, rule_level=level, rule_vector=features)


def _read(evidence: list[Cue], lowered: str) -> _Reading:
    """The C-SSRS concepts the active cues add up to (ideation, method, intent, plan, preparation, acts)."""
    active = [c for c in evidence if c.status == "active"]
    kinds = {c.kind for c in active}
    now = [c for c in active if c.when != "past"]
    current = {c.kind for c in now}

    # Method words count as ideation when aimed at oneself or wanted/thought about.
    method_ideation = "method_thought" in current or any(
        c.kind in ("method", "means")
        and (_SELF_METHOD.search(c.text) or _IDEATION_VERB.search(lowered[max(0, c.start - 60) : c.start]))
        for c in now
    )
    ideation_now = bool(current & {"passive", "active", "intent", "farewell", "act_in_progress"}) or method_ideation
    ideation_now = ideation_now or (
        "attempt" in current and any(c.when == "recent" for c in now if c.kind == "attempt")
    )
    self_harm_now = "self_harm" in current
    # Plan, means, preparation and timeline words are everyday words; they count only beside ideation.
    has_method = method_ideation or ("method" in current and (ideation_now or self_harm_now))
    explicit_prep = any(c.kind == "preparatory" and _EXPLICIT_PREP.search(c.text) for c in now)
    intent_now = "intent" in current or ("intent_generic" in current and "plan" in current)
    has_timeline = (ideation_now or has_method or explicit_prep or intent_now) and bool(_TIMELINE_RE.search(lowered))
    intent = "intent" in current or (
        "intent_generic" in current and (ideation_now or has_method or "plan" in current or "means" in current)
    )
    has_means = "means" in current and (ideation_now or has_method or intent)
    plan = any(
        c.kind == "plan"
        and (ideation_now or has_method or _KILL_SELF_RE.search(c.text) or _LETHAL_WORD.search(lowered))
        for c in now
    )
    arrangements = len({m.group(0).lower() for m in _ARRANGEMENT.finditer(lowered)})
    preparatory = any(
        c.kind == "preparatory"
        and (
            ideation_now
            or _EXPLICIT_PREP.search(c.text)
            or _EXPLICIT_AFTER.search(lowered[c.start : c.end + 120])
        )
        for c in now
    ) or arrangements >= 2
    # "I want to die tonight", "Tonight I'm going to hurt myself": a wish, or self-harm announced, with a set time.
    timed_wish = any(_timed_wish(c, lowered) for c in now)
    # An act reported as recent ("last week I sat in the garage with the car running") is a recent attempt;
    # one told with a remote date is a lifetime attempt.
    attempt_recent = any(c.kind in ("attempt", "act_in_progress") and c.when == "recent" for c in active)
    attempt_any = "attempt" in kinds or any(c.kind == "act_in_progress" and c.when == "past" for c in active)
    protective = "protective" in kinds

    explicit_means = any(c.kind in ("means", "preparatory") and _EXPLICIT_MEANS.search(c.text) for c in now)
    implicit_farewell = "farewell_implicit" in current and ("means" in current or ideation_now or intent)
    act_now = any(c.kind == "act_in_progress" and c.when == "current" for c in active)
    # At a height or on the tracks with a danger word, ideation or a goodbye: an act in progress.
    act_now = act_now or (
        "at_height" in current
        and (bool(_DANGER_HERE.search(lowered)) or ideation_now or intent or "farewell_implicit" in current)
    )
    # An undated act told with the water or the cold still around the writer is happening now.
    undated_attempt = any(c.kind == "attempt" and c.when == "current" for c in now)
    act_now = act_now or (undated_attempt and bool(_IN_IT.search(lowered)))
    farewell_signals = len({m.group(0).lower() for m in _FAREWELL_SIGNALS.finditer(mask_other_voices(lowered))})
    implicit_farewell = implicit_farewell or (farewell_signals >= 3 and not _HYPOTHETICAL.search(lowered))
    return _Reading(
        kinds=kinds, current=current, lowered=lowered, ideation_now=ideation_now, self_harm_now=self_harm_now,
        has_method=has_method, has_timeline=has_timeline, intent=intent, has_means=has_means, plan=plan,
        preparatory=preparatory, timed_wish=timed_wish, attempt_recent=attempt_recent, attempt_any=attempt_any,
        protective=protective, explicit_means=explicit_means, act_now=act_now, implicit_farewell=implicit_farewell,
    )


_CLAUSE_BREAK = re.compile(r"[.!?\n,;:]|\b(?:because|and|but|so|cause|cuz)\b")
_OPENING_TIME = re.compile(r"^\s*(?:this time |by |until |till )?" + _TIMELINE, re.I)


def _timed_wish(cue: Cue, lowered: str) -> bool:
    """A wish to die (or self-harm announced) with a set time right after it or opening its clause: intent."""
    wish = (
        cue.kind == "active"
        or (cue.kind == "passive" and _DEATH_TOLD.search(cue.text))
        or (cue.kind == "self_harm" and _SELF_HARM_ANNOUNCED.search(cue.text))
    )
    return bool(wish) and bool(
        _TIMELINE_RE.search(lowered[cue.end : cue.end + 30]) or _time_opens_clause(lowered, cue.start)
    )


def _time_opens_clause(lowered: str, start: int) -> bool:
    """The clause holding ``start`` opens with a set time ("Tonight I wanna end it all", "this time next week I'll
    be gone for good"); a time further back ("sitting up at 2am wanting to ...") tells a habit, not a date."""
    head = lowered[max(0, start - 60) : start]
    return bool(_OPENING_TIME.search(_CLAUSE_BREAK.split(head)[-1]))


def _level(r: _Reading) -> str:
    """The level a reading comes to: the first rule that holds, from imminent down to none."""
    if r.act_now or "farewell" in r.current or r.implicit_farewell:
        return "imminent"
    elif r.preparatory and r.has_timeline and (r.has_means or _EXPLICIT_PREP.search(r.lowered)):
        return "imminent"
    elif (r.intent and (r.has_timeline or r.has_means or r.plan or r.preparatory)) or (r.plan and r.has_timeline):
        return "imminent"
    elif r.has_means and r.has_timeline and (r.has_method or r.preparatory or "active" in r.current):
        return "imminent"
    elif r.explicit_means and _TIMELINE_RE.search(r.lowered):
        # A loaded gun or pills laid out, with a set time: conservative even without a death word.
        return "imminent"
    elif (r.intent or r.plan or r.preparatory or r.attempt_recent or (r.has_means and (r.has_method or r.ideation_now))
          or r.timed_wish):
        return "high"
    elif "active" in r.current or r.has_method or r.self_harm_now or r.attempt_any:
        # C-SSRS screener triage: suicidal behaviour more than 3 months ago is moderate risk, however long ago.
        return "moderate"
    elif "passive" in r.current:
        return "moderate" if r.attempt_any else "low"
    elif r.kinds & {"passive", "active", "attempt", "self_harm", "hopelessness", "intent"}:
        return "low"
    return "none"


def _band_position(rules: RiskAssessment) -> float:
    """Where the rules put the text inside its level's band (0..1)."""
    lo, hi = _BANDS[rules.level]
    return (rules.score - lo) / (hi - lo) if hi > lo else 0.0


def _band_score(level: str, position: float) -> float:
    lo, hi = _BANDS[level]
    return round(lo + (hi - lo) * min(1.0, max(0.0, position)), 4)
