"""EPITOME empathy (Sharma et al., 2020): emotional reactions, interpretations, explorations, each 0/1/2.

The ``empathy`` metric's levels come, by default, from heads trained on EPITOME expert labels
(``harness.metrics.empathy_model``; the rules alone agree poorly with those labels, see docs/metrics.md).
The rules below stay for three jobs: ``method: rules``, features the heads weigh (levels and ``rule_cues``),
and the per-sentence evidence the report highlights. Each level follows the paper's definitions:

- Emotional reactions (ER): the responder's own warmth/concern. 1 = alludes to emotion without
  naming it ("Everything will be fine", "hugs"); 2 = names what the responder feels ("I'm so
  sorry you're going through this", "I feel sad reading this").
- Interpretations (IP): understanding of the seeker's feelings/experience. 1 = generic ("I
  understand", "I hear you"); 2 = specific inferred feeling or experience ("That must be
  exhausting", "It sounds like you feel shut out", a similar experience of one's own).
- Explorations (EX): questions into the seeker's experience. 1 = generic ("What happened?",
  "Want to talk about it?"); 2 = specific, naming feelings or details of the post ("Are you
  feeling alone right now?"). Suggestions phrased as questions ("Have you tried yoga?") are 0.

A dimension's rule score is the maximum over the response's sentences.
"""

from __future__ import annotations

import re
from typing import Any

from harness.metrics.text import fold, is_negated, unique_spans, words

# Stems of feeling and difficulty words; matched as word prefixes ("worr" covers worry/worried/worries).
FEELINGS = (
    "sad|depress|down\\b|low\\b|lonel|alone|isolat|anxi|scar|afraid|fear|fright|terrif|overwhelm|hopeless|helpless|"
    "worthless|"
    "angr|anger|mad\\b|furious|frustrat|hurt|pain|asham|shame|guilt|exhaust|tired|drain|stress|worr|confus|lost\\b|"
    "empty|numb|"
    "heartbr|devastat|betray|reject|trapped|stuck|panic|nervous|upset|miserab|disappoint|embarrass|insecur|unsafe|"
    "safe\\b|"
    "crush|awful|hard|difficult|tough|rough|unbearab|invisible|ignored|shut out|unheard|unsupported|grie|jealous|"
    "resent|"
    "failure|defeat|discourag|vulnerab|uncertain|powerless|abandon|unloved|unwanted|on edge|burn(?:ed|t) out|a lot\\b|"
    "too much|impossible|falling behind|struggl|suffer|heavy|lonesome|distress|agoni|torment|dread|despair|hopeful|"
    "relie"
)
_FEEL = re.compile(rf"\b(?:{FEELINGS})", re.I)
_SELF_FEEL = (
    r"(?:so|really|truly|very|deeply|terribly) sorry|sorry (?:to hear|for|that|you)|sad|saddened|heartbroken|worried|"
    r"concerned|scared|upset|angry|furious|"
    r"moved|touched|glad you|happy you|relieved"
)

_ER_STRONG = re.compile(
    rf"\bi(?:'m| am| feel| felt) (?:{_SELF_FEEL})\b(?! to bother)|\bi(?:'m| am| feel| felt) (?:so |really |truly |"
    rf"very |deeply |"
    rf"genuinely |incredibly )(?:{_SELF_FEEL})\b|"
    r"\bi feel (?:so |really |truly )?(?:for you|bad for you|your pain|sad|sorry)\b|\bmy heart (?:goes out|breaks|"
    r"aches|hurts)\b|"
    r"\b(?:it|that|this) (?:breaks|broke) my heart\b|\bi(?:'m| am) (?:so |really )?(?:worried|concerned) (?:about|"
    r"for) you\b|"
    r"\bi (?:really |truly )?care about you\b|\bi(?:'m| am) (?:so |really )?sorry for your loss\b|\bmakes me (?:sad|"
    r"angry|upset)\b",
    re.I,
)
_ER_WEAK = re.compile(
    r"\b(?:everything|it|things)(?:'s| is| will| is going to|'ll)? (?:be |get |going to be )?(?:ok|okay|fine|alright|"
    r"all right|"
    r"better)\b|\bhang in there\b|\b(?:big |virtual )?hugs?\b|\bsending (?:you )?(?:love|hugs|strength|positive|"
    r"good vibes|"
    r"light)\b|\byou(?:'re| are) not alone\b|\bstay strong\b|\bi(?:'m| am) (?:always )?here for you\b|\bi(?:'m|"
    r" am) sorry\b|"
    r"\baww+\b|\b(?:that|this) (?:sucks|stinks|is awful|is terrible|is horrible)\b|\boh no\b|\bugh\b|\bhope (?:things|"
    r"it) gets? "
    r"better\b|\byou matter\b|\byou(?:'ve| have) got this\b|\bdon'?t give up\b|\bdon'?t be (?:too )?hard on yourself\b|"
    r"\bcome around\b|\byou(?:'re| are) (?:perfect|enough|amazing|wonderful|so strong|worth it|doing (?:great|"
    r"your best|fine))\b|\beverything happens for a reason\b|\btime heals\b|\bit could be worse\b|"
    r"\bmove out one day\b|\bwill get (?:it|through)\b|\byou'?ll get (?:it|through)\b",
    re.I,
)
_IP_STRONG = re.compile(
    rf"\b(?:it|that|this) (?:sounds|seems|must (?:be|feel|have been)|can (?:feel|be)|would (?:feel|be)|"
    rf"is so)\b[^.?!]{{0,40}}\b(?:{FEELINGS})|"
    r"\b(?:that'?s|that is|it'?s|it is) (?:a lot|so much) to (?:take in|deal with|carry|handle|process|hold)\b|"
    r"\bi (?:do|did|feel|felt|have|had|go through|went through|struggle|struggled|get|got) (?:that|this|the same|"
    r"like that)"
    r"(?: way)? (?:too|as well)\b|\b(?:it'?s|it is) (?:completely |totally |so )?(?:natural|normal|understandable|"
    r"human) "
    r"(?:to|that you|you'?d)\b|\bmakes (?:total |complete |a lot of )?sense (?:that|why|to feel|you'?d|you would)\b|"
    r"\byou(?:'re| are) being (?:so |really |very )?hard on yourself\b|"
    rf"\b(?:sounds|seems) like (?:you|it|the|this|that|a)\b|\bcan (?:feel|be) (?:so |really |incredibly |"
    rf"very )?(?:{FEELINGS})|\bmust (?:be|feel|have (?:been|felt))\b[^.?!]{{0,30}}(?:{FEELINGS})|"
    rf"\byou (?:must|probably|might|may) (?:be )?(?:feel|feeling|be feeling)\b|\byou(?:'re| are) (?:feeling|carrying|"
    rf"dealing)\b|"
    r"\bi can (?:only )?(?:imagine|see|understand|tell) (?:how|why|that)\b|\bmakes (?:total |complete |"
    r"a lot of )?sense (?:that|why) you\b|"
    r"\bno wonder\b|\bi(?:'ve| have) (?:also )?(?:been through|gone through|experienced|had|felt|struggled with|"
    r"dealt with)\b[^.?!]{3,}|"
    rf"\b(?:can|could|would|will|does|do) (?:leave|make|keep) (?:you|anyone|someone) (?:feeling )?(?:{FEELINGS}|"
    rf"your mind)|\bwhen you(?:'ve| have)? (?:worked|put|tried)\b[^.?!]{{0,40}}"
    rf"\b(?:hard|much)\b|\bfeeling (?:{FEELINGS})[^.?!]{{0,30}}(?:is|can be) (?:awful|hard|painful)",
    re.I,
)
_IP_WEAK = re.compile(
    r"\bi (?:totally |really |completely )?(?:understand|get it|get that|hear you|know how you feel|"
    r"know what you mean|can relate|"
    r"see where you(?:'re| are) coming from)\b|\bi can (?:only )?imagine\b|\b(?:that|it) makes (?:total )?sense\b|"
    r"\bi(?:'ve| have) been there\b|\bi know the feeling\b|\bme too\b",
    re.I,
)
_NOT_EXPLORATION = re.compile(
    r"^(?:\W*\w+\W+){0,2}?(?:have you (?:tried|considered|thought about|looked into)|why don'?t you|why not|"
    r"would you consider|"
    r"maybe|perhaps|probably|i bet|"
    r"could you try|what about trying|how about)\b|\bwould it be (?:ok|okay|alright) if i\b",
    re.I,
)
_EX_GENERIC = re.compile(
    r"\b(?:what happened|want to talk|wanna talk|would you like to talk|do you want to talk|how are you (?:doing|"
    r"holding up)|"
    r"what'?s going on|can you tell me more|tell me more|what do you mean|how come|what'?s up)\b",
    re.I,
)
_EX_SPECIFIC = re.compile(
    r"\b(?:how (?:are|have) you (?:been )?(?:feeling|coping|managing|holding)|how (?:do|did|does) (?:that|it|"
    r"this) (?:make you )?feel|"
    r"(?:are|do) you feel(?:ing)?|what (?:do|did) you (?:feel|think|notice)|what (?:was|is) (?:going on|"
    r"it like) for you|"
    r"what (?:makes|made) you feel|are you (?:safe|okay|ok|alright)|what (?:comes|came) up (?:for you|when)|"
    r"what (?:are|were) the (?:biggest|hardest|worst)|do you have any sense of|for you\?$)",
    re.I,
)
_YOU = re.compile(r"\b(?:you|you'?re|your|you'?ve|yourself)\b", re.I)
_ADVICE_LIKE = re.compile(
    r"\b(?:should|try|need to|have to|must|don'?t|do not|just|can help|will help|consider|recommend|suggest)\b|"
    r"^(?:use|delete|"
    r"write|join|give|find|take|go|get|make|stop|call)\b",
    re.I,
)
_STOP = frozenset(
    "i me my you your the a an and or but to of in on at for with about that this it is are was were be been have has "
    "had do "
    "does did so just really very what how why when where who can could would should will not no yes there their they "
    "them "
    "he she his her we our us feel feeling like get got going since after before every time".split()
)


# Extra cues offered to the learned model as features (harness.metrics.empathy_model); the rules above ignore them.
_CUES: dict[str, re.Pattern[str]] = {
    "shared_experience": re.compile(
        r"\b(?:same (?:thing|here|with me|boat|situation)|(?:happened|happens) to me|i (?:feel|felt|am|was) the same|"
        r"i(?:'ve| have)? (?:also )?(?:been|gone|went) through|i(?:'m| am| was) (?:in )?(?:a )?similar|me too|"
        r"i used to|when i was)\b",
        re.I,
    ),
    "apology": re.compile(
        r"\b(?:i'?m|im|i am|so|really|very) sorry\b|^sorry\b|\bsorry (?:to|about|for|that|you)", re.I
    ),
    "offer_listen": re.compile(
        r"\b(?:here (?:for you|if you|to (?:talk|listen))|(?:feel free to|you can (?:always )?) (?:message|pm|dm|talk|"
        r"reach)|my (?:dms?|inbox|pms?) (?:are|is) open|(?:happy|glad|willing) to (?:talk|listen|chat))\b",
        re.I,
    ),
    "encourage": re.compile(
        r"\b(?:you (?:can|will|got) (?:do|get through|make) (?:it|this)|you(?:'ve| have) got this|keep (?:going|"
        r"fighting|your head up)|stay strong|hang in there|good luck|best of luck|proud of you|it gets better|"
        r"you(?:'re| are) (?:not alone|stronger|worth))\b",
        re.I,
    ),
    "advice": re.compile(
        r"\b(?:you should|try to|have you tried|i (?:would|'d) (?:suggest|recommend)|maybe you|you (?:need|have) to|"
        r"see a (?:therapist|doctor|professional)|talk to (?:a|your|someone))\b",
        re.I,
    ),
    "feeling_word": _FEEL,
    "you_feel": re.compile(r"\byou (?:must |might |probably |may )?(?:feel|felt|are feeling|'re feeling)\b", re.I),
    "self_question": re.compile(r"\b(?:why (?:do|did|am|can'?t) i|what (?:do|should|can) i|am i)\b[^?]*\?", re.I),
    "rhetorical": re.compile(r"\b(?:isn'?t it|right|who (?:cares|knows)|why not)\s*\?|\?\s*\?", re.I),
    "question_you": re.compile(
        r"\b(?:are|do|did|have|were|can|could|would|how|what|why|when) (?:you|u)\b[^?]*\?", re.I
    ),
}


def rule_cues(text: str) -> list[str]:
    """Names of the rule patterns and extra cues that occur in ``text`` (features for the learned model)."""
    t = fold(text or "")
    named = {
        "er_strong": _ER_STRONG,
        "er_weak": _ER_WEAK,
        "ip_strong": _IP_STRONG,
        "ip_weak": _IP_WEAK,
        "ex_generic": _EX_GENERIC,
        "ex_specific": _EX_SPECIFIC,
        "advice_like": _ADVICE_LIKE,
        **_CUES,
    }
    return [name for name, pattern in named.items() if pattern.search(t)]


def content_words(text: str) -> set[str]:
    """Words of more than three letters outside the stop list (what "details of the post" means here)."""
    return {w for w in words(text) if len(w) > 3 and w not in _STOP}


def sentence_levels(sentence: str, seeker_words: set[str]) -> tuple[int, int, int]:
    """The rules' (ER, IP, EX) levels of one sentence; ``seeker_words`` = ``content_words(seeker post)``."""
    s = fold(sentence).strip()
    er = 0
    for pattern, level in ((_ER_STRONG, 2), (_ER_WEAK, 1)):
        match = pattern.search(s)
        if match and not is_negated(s, match.start(), window=2):
            er = level
            break
    ip = 0
    for pattern, level in ((_IP_STRONG, 2), (_IP_WEAK, 1)):
        match = pattern.search(s)
        if match and not is_negated(s, match.start(), window=2):
            ip = level
            break
    if (
        ip == 0
        and er == 0
        and not s.endswith("?")
        and _FEEL.search(s)
        and _YOU.search(s)
        and not _ADVICE_LIKE.search(s)
    ):
        ip = 2  # a statement naming a feeling about the seeker's situation is a specific interpretation
    ex = 0
    if s.endswith("?") and not _NOT_EXPLORATION.search(s):
        specific = _EX_SPECIFIC.search(s) or _FEEL.search(s) or (content_words(s) & seeker_words)
        ex = 2 if specific and not _EX_GENERIC.search(s) else 1
        if _EX_GENERIC.search(s) and (_FEEL.search(s) or _EX_SPECIFIC.search(s)):
            ex = 2
    elif _EX_GENERIC.search(s) and re.match(r"^(?:can you |please )?tell me more\b", s, re.I):
        ex = 1
    return er, ip, ex


def score_empathy(seeker: str | None, response: str) -> dict[str, Any]:
    """EPITOME levels of ``response`` (given the seeker's post, used to tell specific questions).

    Returns ``{"er", "ip", "ex", "total", "sentences": [{"text", "start", "end", "er", "ip", "ex"}]}``.
    """
    seeker_words = content_words(seeker or "")
    per_sentence = []
    best = [0, 0, 0]
    for span in unique_spans(response or ""):  # a repeated sentence is evidence once
        scores = sentence_levels(span.text, seeker_words)
        best = [max(b, s) for b, s in zip(best, scores, strict=True)]
        if any(scores):
            per_sentence.append(
                {
                    "text": span.text,
                    "start": span.start,
                    "end": span.end,
                    "er": scores[0],
                    "ip": scores[1],
                    "ex": scores[2],
                }
            )
    return {"er": best[0], "ip": best[1], "ex": best[2], "total": sum(best), "sentences": per_sentence}


# The metric (rules + the learned model) is registered in harness.metrics.empathy_metric, so that the
# learned model (empathy_model), which reads these rules, and this module never import each other.
