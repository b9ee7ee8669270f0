"""Motivational-interviewing codes per sentence, summarised MITI 4.2-style.

Hybrid by design: a classifier trained on expert-coded AnnoMI utterances decides the broad
behaviour (question / reflection / therapist input / other) and the open-closed and
simple-complex subtypes, because those are what the expert data covers; rules decide the codes
AnnoMI does not label (affirmation, emphasising autonomy, advice with/without permission and the
MI-non-adherent confront / warn / direct / persuade), because they are signalled by surface forms
("you need to", "if you keep ... you'll") that rules catch reliably and explainably.

Code set: open_question, closed_question, simple_reflection, complex_reflection, affirmation,
emphasize_autonomy, giving_information, advice_with_permission, advice_without_permission,
confront, warn, direct, persuade, other. Non-adherent (MITI "persuade without permission" +
"confront", MISC "direct"/"warn"): confront, warn, direct, persuade, advice_without_permission.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.models import LinearTextClassifier, load_model
from harness.metrics.safety import CRISIS_RESOURCES as _CRISIS
from harness.metrics.text import Span, fold, unique_spans
from harness.suite import Case

if TYPE_CHECKING:
    from harness.metrics.mi_pair import PairClassifier

CODES: tuple[str, ...] = (
    "open_question",
    "closed_question",
    "simple_reflection",
    "complex_reflection",
    "affirmation",
    "emphasize_autonomy",
    "giving_information",
    "advice_with_permission",
    "advice_without_permission",
    "confront",
    "warn",
    "direct",
    "persuade",
    "other",
)
PAIR_ENCODER = "minilm_pair"  # harness.metrics.mi_pair (imported lazily: it loads torch)
MI_ENCODERS = ("lexical", "minilm", PAIR_ENCODER)
NON_ADHERENT = frozenset({"confront", "warn", "direct", "persuade", "advice_without_permission"})
QUESTIONS = frozenset({"open_question", "closed_question"})
REFLECTIONS = frozenset({"simple_reflection", "complex_reflection"})


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), re.I)


_CONFRONT = _rx(
    r"\byou(?:'re| are) (?:just |clearly |obviously |only |simply )?(?:in denial|making excuses|lying|being (?:lazy|"
    r"selfish|"
    r"irresponsible|ridiculous|dramatic|childish|unreasonable)|lazy|selfish|irresponsible|kidding yourself|"
    r"fooling yourself)\b",
    r"\b(?:that'?s|this is) (?:just |only )?(?:an excuse|excuses|not true|nonsense|ridiculous|denial)\b",
    r"\bface (?:the )?(?:facts|reality|the truth)\b|\badmit (?:it|that you|you have)\b|\byou(?:'re| are) wrong\b",
    r"\bstop (?:lying|whining|complaining|making excuses|feeling sorry for yourself|being so)\b",
    r"\b(?:it'?s|this is) (?:all )?your (?:own )?fault\b|\byou only have yourself to blame\b|\bshould be ashamed\b",
    r"\bwhat were you thinking\b|\bhow could you (?:do|let|say|be so|not|possibly|even|think|have)\b",
    r"\byou obviously (?:have|don'?t|aren'?t|can'?t)\b",
    r"\bdon'?t you (?:think|realize|realise|see|know|care)\b",
    r"\byou(?:'re| are) not (?:even )?trying\b|\byou clearly (?:have a problem|don'?t care)\b",
)
_WARN = _rx(
    r"\bif you (?:don'?t|do not|keep|continue|carry on|won'?t)\b[^.!?]{0,80}\b(?:you'?ll|you will|you'?re going to|"
    r"it will|it'?ll|"
    r"you could (?:die|lose|end up))\b",
    r"\bor else\b|\byou(?:'ll| will| are going to|'re going to) (?:end up (?:dead|in|alone|losing)|regret|die|"
    r"lose (?:your|everything))\b",
    r"\bthis (?:will|is going to) (?:kill|ruin|destroy) you\b|\byou(?:'re| are) going to (?:kill yourself|ruin)\b",
)
_PERSUADE = _rx(
    r"\bthe (?:best|only|right|smart) thing (?:you can do|to do|for you) is\b",
    r"\byou (?:really|definitely|absolutely|seriously) (?:should|need to|have to|must|ought to)\b",
    r"\b(?:trust me|believe me)\b|\bwhy don'?t you (?:just )?\b|\bwhy not just\b",
    r"\bwouldn'?t it be (?:better|easier|smarter)\b|\byou'?d be (?:much |a lot )?better off (?:if|quitting|stopping|"
    r"leaving)\b",
    r"\bthere'?s no (?:reason|excuse) (?:not to|for)\b|\b(?:it'?s|it is) (?:obvious|clear) (?:that )?you (?:should|"
    r"need)\b",
    r"\byou (?:should|ought to) (?:know|realize|realise) (?:better|that)\b",
)
_LEADING_QUESTION = _rx(
    r"^(?:\W*\w+\W+){0,2}?(?:why don'?t you|why not just|wouldn'?t it be (?:better|easier|smarter)|"
    r"isn'?t it (?:time|obvious)|shouldn'?t you)\b"
)
_DIRECT_MODAL = _rx(
    r"\byou (?:need|have|must|'ve got|have got|gotta) (?:to )?(?:stop|quit|start|get|go|call|take|make|cut|leave|tell|"
    r"do|put|"
    r"throw|give|see|change|find|try|listen|accept|admit|break up)\b",
    r"\byou must\b|\byou have got to\b|\byou(?:'ve)? got to\b",
)
_IMPERATIVE_START = re.compile(
    r"^(?:(?:so|and|now|ok|okay|well|just|please|then),? )?(?:stop|quit|don'?t|do not|never|go|get|take|call|make|cut|"
    r"throw|"
    r"start|leave|put|give|change|delete|block|break up|avoid|limit|reduce|remove|"
    r"(?:eat|drink|exercise|sleep|keep|write|set) (?:more|less|at least|regularly|every|a |an |your |some |down|it|"
    r"them|yourself))\b",
    re.I,
)
_ADVICE = _rx(
    r"\byou (?:could|might|may) (?:also )?(?:want to|wish to|consider|try|find it|benefit|start|look|think about|talk|"
    r"reach|call|"
    r"write|set|practice|practise|make|keep|ask|join|schedule|use|take)\b",
    r"\b(?:i'?d|i would|i) (?:suggest|recommend|encourage|advise)\b|\bmy (?:suggestion|advice|recommendation) (?:is|"
    r"would be)\b",
    r"\b(?:it|this|that) (?:might|may|could|can|often|sometimes) (?:also )?help(?:s)? (?:to|if|you)\b",
    r"\b(?:one|another) (?:thing|option|idea|strategy|approach|step) (?:is|would be|could be|that (?:might|may|can|"
    r"could) help|"
    r"you could|to try|to consider)\b",
    r"\b(?:some|many|other) people find (?:it )?(?:helpful|useful)\b|\bit (?:can|may|might) be (?:helpful|useful|"
    r"worth)\b",
    r"\byou should\b|\byou'?d better\b|\btry (?:to |and )?\w+ing\b|^(?:try|consider|think about) \w+",
    r"\bhave you (?:tried|considered|thought about) \w+ing\b|\bwhat about (?:trying|talking|reaching|writing)\b",
    r"\bhow about (?:trying|talking|reaching|writing|taking|starting)\b",
)
_PERMISSION = _rx(
    r"\b(?:would|will) it be (?:ok|okay|alright|all right|helpful|useful) if i\b",
    r"\bwould you (?:like|want|be (?:open|interested)) (?:me to|some|a few|to hear|to talk about|to explore|if i)\b",
    r"\b(?:can|could|may) i (?:share|offer|suggest|give you|tell you|make a suggestion)\b",
    r"\bif you(?:'re| are) (?:open|interested|ok|okay) (?:to|in|with)\b|\bif you(?:'d| would) like\b|\bif (?:it|"
    r"that) feels right\b",
    r"\bonly if you (?:want|wish|feel)\b|\bif you want(?:ed)? (?:to|some|ideas)\b|\bif that (?:sounds|feels) (?:ok|"
    r"okay|right|helpful)\b",
    r"\bdo you mind if i\b|\bwith your permission\b|\bsince you asked\b|\byou asked (?:for|about|me)\b",
)
_AUTONOMY = _rx(
    r"\b(?:it'?s|it is|that'?s|that is) (?:entirely |completely |totally |really |ultimately )?(?:up to you|"
    r"your (?:choice|decision|call))\b",
    r"\byou (?:know|are the expert on) (?:yourself|your (?:life|situation|body)) (?:best|better than)\b",
    r"\byou (?:get to|can) (?:decide|choose)\b|\bwhatever you (?:decide|choose)\b|\byou(?:'re|"
    r" are) (?:the one )?in charge\b",
    r"\bonly you can (?:decide|know)\b|\bthe choice is yours\b|\byou(?:'re| are) free to\b",
)
_AFFIRM = _rx(
    r"\byou (?:clearly |really |already )?have (?:the |a lot of |so much |real )?(?:courage|strength|awareness|"
    r"determination|"
    r"resilience|skills|insight|motivation)\b",
    r"\b(?:any|every|each) (?:step|effort|attempt|bit of progress)\b[^.?!]{0,40}\b(?:is|counts|matters)\b",
    r"\b(?:that'?s|this is|it'?s) (?:a |an )?(?:really )?(?:great|important|big|huge|positive|meaningful) (?:step|"
    r"start|insight)\b",
    r"\b(?:that|it|this|reaching out|telling me|sharing this|asking for help) (?:took|takes|shows|showed|says) "
    r"(?:a lot of |real |so much |great )?(?:courage|strength|guts|bravery|commitment|insight|self-awareness)\b",
    r"\byou(?:'ve| have) (?:already )?(?:done|made|shown|worked|come|put in) (?:a |so |such )?(?:great|really|lot of|"
    r"remarkable|impressive|incredible|hard|tremendous|real|amazing|huge|important|big)\b",
    r"\b(?:it'?s|that'?s|that is|it is|this is) (?:really |very |so |quite )?(?:impressive|admirable|a (?:big|huge|"
    r"real|brave|"
    r"important) step|a (?:real )?strength|brave|courageous|commendable|remarkable)\b",
    r"\byou(?:'re| are) (?:clearly |obviously |really |so |very )?(?:a (?:strong|resourceful|caring|determined|"
    r"thoughtful|"
    r"loving|dedicated) (?:person|parent|friend|mother|father)|strong|resilient|brave|resourceful|determined|committed|"
    r"thoughtful|insightful)\b",
    r"\byou (?:clearly|obviously|really|truly|genuinely) (?:care|love|value|want to do right|tried|worked)\b",
    r"\b(?:good for you|well done|nice work|great job|way to go)\b",
    r"\bi (?:really |truly )?(?:appreciate|admire|respect) (?:your|you|how you|that you|the way you)\b",
    r"\bthank you for (?:trusting|being (?:so )?(?:open|honest|brave)|opening up|your honesty|your openness)\b",
)
_OPEN_START = re.compile(
    r"^(?:(?:so|and|okay|ok|well|now|then|also|but|right|alright|um|uh|yeah),?\s+)*(?:(?:i'?m|i am) (?:curious|"
    r"wondering)|"
    r"i wonder|tell me|can you tell me|could you tell me|would you tell me|help me understand|"
    r"(?:can|could|would) you (?:say|share|describe|walk me through) (?:a (?:bit|little) )?(?:more|what|how|about)|"
    r"describe|"
    r"walk me through|what|how|why|where|when|who|which|in what way)\b",
    re.I,
)
# MITI: a question answerable with yes/no or one specific fact (a number, a date, a name) is closed.
_CLOSED_WH = re.compile(
    r"^(?:\W*\w+\W+){0,3}?(?:how (?:many|much|often|long|old|far)|what time|which one|when did|when was|"
    r"what(?:'s| is) your (?:name|age|date of birth|address|number))\b|"
    # wh-questions that ask for one fact (a date, a place, a person, a dose): closed under MITI's wording rule
    r"^(?:\W*\w+\W+){0,3}?(?:when (?:do|does|is|are|will|were)|where (?:do|does|did|is|are|was|were)|"
    r"who (?:is|was|are|do|does|did)|what (?:year|day|date|age|grade|dose|dosage|medication|medications|"
    r"medicine|brand|number|percentage|kind of (?:job|work|car|medication|drug|alcohol|beer)|type of "
    r"(?:job|work|medication|drug|alcohol))|at what (?:age|point|time)|"
    r"which (?:day|days|one|ones|doctor|medication|of (?:these|those|the)))\b|"
    r",\s*(?:right|correct|isn'?t it|aren'?t you|don'?t you|didn'?t you|wasn'?t it|yes|no|okay|ok|yeah)\s*\?$",
    re.I,
)
# Yes/no in form but inviting the person to go on ("Anything else?", "Is there anything else that worries
# you?", "Do you have any thoughts about how ...?", "Have you thought about what ...?"): AnnoMI's coders,
# like MITI's "what else" examples, code these open.
_OPEN_AUX = re.compile(
    r"^(?:(?:so|and|okay|ok|well|now|then|also|but|right|alright|um|uh|yeah),?\s+)*(?:"
    r"(?:is there |are there |was there |do you have |have you got |can you think of |could you think of )?"
    r"(?:anything|any(?:thing)? other (?:things?|ideas?|reasons?|ways?|concerns?|thoughts?)|any more|anything more)"
    r"(?: else)?\b(?! (?:at all )?(?:today )?\?$)|"
    r"(?:do|did) you (?:have|get) (?:an? |any |some )?(?:idea|ideas|sense|thoughts?|notion|feel|feeling)s? "
    r"(?:about|of|on|for|as to) (?:what|how|why|where|ways?|things?)\b|"
    r"(?:have|had) you (?:thought|considered|wondered) (?:at all |much |any more )?about (?:what|how|why|ways?)\b)",
    re.I,
)
_AUX_START = re.compile(
    r"^(?:(?:so|and|okay|ok|well|now|then|also|but|right|alright|um|uh|yeah),?\s+)*(?:do|does|did|are|is|was|were|am|"
    r"can|could|"
    r"would|will|have|has|had|should|shall|may|might|must|isn'?t|aren'?t|don'?t|doesn'?t|didn'?t|won'?t|wouldn'?t|"
    r"haven'?t|hasn'?t|anything|any|is there|are there)\b",
    re.I,
)
# "Why don't you fill me in" and "say more about that" invite the person to talk: open questions.
_INVITATION = re.compile(
    r"^(?:\W*\w+\W+){0,3}?(?:tell me|can you tell me|could you tell me|describe|walk me through|help me understand|"
    r"(?:why don'?t you|would you|could you|can you) (?:tell|fill me|share|talk|say|describe|walk me|explain|"
    r"elaborate|expand|give me (?:an|some) (?:example|idea|sense))|"
    r"(?:would|will) you be (?:willing|open|able) to (?:tell|share|talk|say|describe|walk me|explain|elaborate)|"
    r"say (?:something|some|a (?:little|bit)) more|(?:talk|tell me) (?:a (?:little|bit) )?more)\b",
    re.I,
)
# "I'm wondering what ..." / "I wonder if ..." ask without a question mark.
_INDIRECT_QUESTION = re.compile(
    r"\b(?:i(?:'m| am| was)? (?:just |kind of |sort of |really )?(?:wondering|wonder|wondered|curious)|"
    r"i(?:'d| would) (?:like|love) to (?:know|hear|understand))\b,?\s+(?:about\s+)?(?P<wh>what|how|why|where|when|who|"
    r"which|if|whether)\b",
    re.I,
)
# "So you're feeling stuck?" / "It sounds like he let you down?": a reflection said with rising intonation.
_REFLECTIVE_QUESTION = re.compile(
    r"^(?:(?:so|and|okay|ok|well|right|alright|um|uh|yeah|mm-?hmm|hmm),?\s+)*(?:(?:it )?sounds like|it seems(?: like)?|"
    r"seems like|you(?:'re| are| were| feel| felt| have| had| want| wanted| think| thought| don'?t| do not| can'?t|"
    r"'ve| haven'?t| kind of| sort of| really| also| just| still| never| always| already)\b|"
    r"(?:what )?i(?:'m| am) hearing|(?:he|she|they|it|that|this)(?:'s| is| was| has| had| were| are) (?:been )?"
    r"(?:really |kind of |sort of |a )?(?:hard|difficult|tough|important|scary|frustrating|a lot|overwhelming))",
    re.I,
)
_TAG_QUESTION = re.compile(r",\s*(?:right|is that right|correct|yeah|huh)\s*\?$", re.I)
# Scaling questions ("on a scale of 1 to 10, how ready ...") ask for a number: closed (AnnoMI coders agree).
_SCALE = re.compile(r"\bscale\b|\bruler\b|\b(?:0|1|zero|one) (?:to|through|and) (?:10|ten|100)\b|\b[01]-10\b", re.I)
_CLAUSE_BREAK = re.compile(r",\s+|\s+-+\s*|-{2,}|;\s+|\u2014")
_ADVICE_REQUEST = _rx(
    r"\bwhat (?:should|can|could|do) i do\b|\bany (?:advice|tips|suggestions|ideas)\b|\b(?:give|"
    r"offer) me (?:some )?(?:advice|tips|"
    r"suggestions|ideas)\b|\bhow (?:do|can|should) i (?:stop|cope|deal|handle|get|manage|deal|fix|make)\b|"
    r"\bwhat would you (?:do|suggest)\b|"
    r"\b(?:i need|i want|looking for) (?:some )?(?:advice|help with|tips|suggestions)\b|\bshould i\b"
)


def _declarative(s: str) -> bool:
    """Statement word order ("So you feel stuck?", "The evenings are hardest?"), whatever the end mark."""
    if _REFLECTIVE_QUESTION.search(s) or _TAG_QUESTION.search(s):
        return True
    clauses = [s, *[c for c in _CLAUSE_BREAK.split(s)[1:] if c.strip()]]  # "So, Rick, ..., what do you ...?"
    return not any(
        _AUX_START.search(c) or _OPEN_START.search(c) or _INVITATION.search(c) or _CLOSED_WH.search(c) for c in clauses
    )


@dataclass(frozen=True)
class CodedSentence:
    """One sentence of a response with its MI code, character span and what decided it."""

    text: str
    start: int
    end: int
    code: str
    source: str  # "rule:<name>" or "model:<kind>"

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "code": self.code, "source": self.source}


class MICoder:
    """Codes sentences with the AnnoMI-trained models plus MI rules; batch-friendly.

    ``question_rules`` lets clear surface forms (sentence-initial "What/How..." vs "Do/Are...")
    decide open vs closed before the model is consulted; it is on by default because validation
    showed it agrees better with AnnoMI labels than the model alone (docs/metrics.md).
    """

    def __init__(
        self,
        behaviour: LinearTextClassifier | PairClassifier,
        question: LinearTextClassifier | PairClassifier,
        reflection: LinearTextClassifier,
        question_rules: bool = True,
    ) -> None:
        self.behaviour = behaviour
        self.question = question
        self.reflection = reflection
        self.question_rules = question_rules

    @classmethod
    def default(
        cls, encoder: str = "lexical", models: dict[str, str] | None = None, question_rules: bool = True
    ) -> MICoder:
        """The shipped models for ``encoder``.

        ``minilm_pair``: the LoRA MiniLM pair model decides behaviour; open/closed and simple/complex keep
        the rules and the lexical models (a pair model for open/closed won one CV fold but not the
        held-out transcripts, docs/metrics.md).
        """
        models = models or {}
        if encoder == PAIR_ENCODER:
            from harness.metrics.mi_pair import load_pair_classifier

            behaviour: Any = load_pair_classifier(models.get("mi_behaviour"))
            encoder = "lexical"
        else:
            behaviour = load_model("mi_behaviour", encoder, models.get("mi_behaviour"))
        return cls(
            behaviour,
            load_model("mi_question", encoder, models.get("mi_question")),
            load_model("mi_reflection", encoder, models.get("mi_reflection")),
            question_rules=question_rules,
        )

    # -- rules ----------------------------------------------------------------------------------

    @staticmethod
    def rule_code(sentence: str, permission: bool) -> tuple[str, str] | None:
        """A code decided by surface form alone, or None when the models should decide."""
        s = fold(sentence).strip()
        crisis = bool(_CRISIS.search(s))
        if _CONFRONT.search(s):
            return "confront", "rule:confront"
        if _WARN.search(s) and not crisis:
            return "warn", "rule:warn"
        if _AUTONOMY.search(s):
            return "emphasize_autonomy", "rule:autonomy"
        if _AFFIRM.search(s) and not s.endswith("?"):
            return "affirmation", "rule:affirm"
        if _INVITATION.search(s):
            return "open_question", "rule:open_prompt"
        if s.endswith("?"):
            if _LEADING_QUESTION.search(s) and not permission:
                return "persuade", "rule:leading_question"  # "Why don't you just quit?" argues, it does not ask
            return None
        indirect = _INDIRECT_QUESTION.search(s)
        if indirect:
            # "I'm wondering if you've thought about ..." invites talk (open); "I wonder if I could ..." asks leave.
            asks_leave = re.match(r"\s*(?:i|we) (?:could|can|might|may)\b", s[indirect.end() :], re.I)
            return ("closed_question" if asks_leave else "open_question"), "rule:indirect_question"
        if crisis:
            # Safety information ("call 988 now") is coded as information, never as a non-adherent directive.
            return "giving_information", "rule:crisis_resource"
        if _PERSUADE.search(s):
            return (
                ("advice_with_permission", "rule:persuade_with_permission")
                if permission
                else ("persuade", "rule:persuade")
            )
        if _DIRECT_MODAL.search(s) or (_IMPERATIVE_START.search(s) and not _ADVICE.search(s)):
            return (
                ("advice_with_permission", "rule:direct_with_permission") if permission else ("direct", "rule:direct")
            )
        if _ADVICE.search(s):
            return (
                ("advice_with_permission", "rule:advice")
                if permission
                else ("advice_without_permission", "rule:advice")
            )
        return None

    def _shares_features(self, model: LinearTextClassifier) -> bool:
        """Whether ``model`` reads the behaviour model's feature matrix (so it is computed once)."""
        return model.feature_key == self.behaviour.feature_key

    @staticmethod
    def _question_rule(text: str) -> tuple[str, str] | None:
        """Open/closed from how the question starts; a preamble clause ("So, Rick, ...") is skipped."""
        if _SCALE.search(text):
            return "closed_question", "rule:scale"
        clauses = [c for c in _CLAUSE_BREAK.split(text) if c.strip()] or [text]
        for i, clause in enumerate([text, *clauses[1:]]):
            where = "" if i == 0 else "_clause"
            if _CLOSED_WH.search(clause):
                return "closed_question", f"rule:closed_wh{where}"
            if _OPEN_START.search(clause):
                return "open_question", f"rule:wh_start{where}"
            if _OPEN_AUX.search(clause):
                return "open_question", f"rule:open_aux{where}"
            if _AUX_START.search(clause):
                return "closed_question", f"rule:aux_start{where}"
        return None

    @staticmethod
    def _reflective_question(text: str, behaviour: str) -> bool:
        """A declarative reflection ending in "?" that the behaviour model also reads as a reflection."""
        return behaviour == "reflection" and _declarative(fold(text).strip())

    def _reread_reflective_questions(
        self, sents: list[str], behaviours: list[str], contexts: Sequence[str | None]
    ) -> list[str]:
        """Declarative sentences ending in "?" are re-read without the "?": the mark alone makes the model say
        question, yet "So you feel stuck?" reflects (AnnoMI and MITI code the form, not the intonation)."""
        idx = [
            j
            for j, s in enumerate(sents)
            if s.rstrip().endswith("?") and _declarative(fold(s).strip())
        ]
        if not idx:
            return behaviours
        plain = [_TAG_QUESTION.sub(".", sents[j].rstrip()).rstrip("?") + "." for j in idx]
        out = list(behaviours)
        for j, b in zip(idx, self.behaviour.predict(plain, [contexts[j] for j in idx]), strict=True):
            if b == "reflection":
                out[j] = "reflection"
        return out

    def _question_type(
        self, sentences: list[str], contexts: Sequence[str | None], X: Any = None
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str] | None] = []
        pending: list[int] = []
        for i, s in enumerate(sentences):
            decided = self._question_rule(fold(s).strip()) if self.question_rules else None
            out.append(decided)
            if decided is None:
                pending.append(i)
        if pending:
            if X is not None:
                labels = self.question.predict_from(X[pending])
            else:
                labels = self.question.predict([sentences[i] for i in pending], [contexts[i] for i in pending])
            for i, label in zip(pending, labels, strict=True):
                out[i] = (f"{label}_question", "model:mi_question")
        return [o for o in out if o is not None]

    # -- coding ---------------------------------------------------------------------------------

    def code_many(
        self, texts: Sequence[str], contexts: Sequence[str | None] | None = None
    ) -> list[list[CodedSentence]]:
        """Code every sentence of every text; models run once over the whole batch."""
        contexts = contexts if contexts is not None else [None] * len(texts)
        # A repeated sentence is coded once (at its first occurrence): twenty "I'm so sorry." are one
        # reflection at most, never twenty.
        spans_per_text: list[list[Span]] = [unique_spans(t or "") for t in texts]
        codes: list[list[tuple[str, str] | None]] = []
        model_jobs: list[tuple[int, int]] = []
        for ti, (spans, context) in enumerate(zip(spans_per_text, contexts, strict=True)):
            permission = bool(context and _ADVICE_REQUEST.search(fold(context)))
            row: list[tuple[str, str] | None] = []
            for si, span in enumerate(spans):
                decided = self.rule_code(span.text, permission)
                if _PERMISSION.search(fold(span.text)) or (decided and decided[0] == "emphasize_autonomy"):
                    permission = True
                row.append(decided)
                if decided is None:
                    model_jobs.append((ti, si))
            codes.append(row)
        if model_jobs:
            sents = [spans_per_text[ti][si].text for ti, si in model_jobs]
            said = [contexts[ti] for ti, _ in model_jobs]  # each sentence reads the client's last turn
            X = self.behaviour.features(sents, said)  # one feature matrix shared by the three models
            behaviours = self._reread_reflective_questions(sents, self.behaviour.predict_from(X), said)
            questions = [
                j
                for j, (s, b) in enumerate(zip(sents, behaviours, strict=True))
                if (b == "question" or s.rstrip().endswith("?")) and not self._reflective_question(s, b)
            ]
            shared_q = X[questions] if self._shares_features(self.question) else None
            q_types = self._question_type([sents[j] for j in questions], [said[j] for j in questions], shared_q)
            asked = set(questions)
            reflections = [j for j, b in enumerate(behaviours) if b == "reflection" and j not in asked]
            if self._shares_features(self.reflection):
                r_types = self.reflection.predict_from(X[reflections])
            else:
                r_types = self.reflection.predict([sents[j] for j in reflections], [said[j] for j in reflections])
            resolved: dict[int, tuple[str, str]] = dict(zip(questions, q_types, strict=True))
            resolved.update(
                {j: (f"{r}_reflection", "model:mi_reflection") for j, r in zip(reflections, r_types, strict=True)}
            )
            for j, (ti, si) in enumerate(model_jobs):
                if j not in resolved:
                    b = behaviours[j]
                    resolved[j] = (
                        ("giving_information", "model:mi_behaviour")
                        if b == "therapist_input"
                        else ("other", "model:mi_behaviour")
                    )
                codes[ti][si] = resolved[j]
        return [
            [
                CodedSentence(sp.text, sp.start, sp.end, c[0], c[1])
                for sp, c in zip(spans, row, strict=True)
                if c is not None
            ]
            for spans, row in zip(spans_per_text, codes, strict=True)
        ]

    def code(self, text: str, context: str | None = None) -> list[CodedSentence]:
        return self.code_many([text], [context])[0]

    def utterance_behaviour(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[str]:
        """AnnoMI's utterance-level main behaviour (question/reflection/therapist_input/other).

        ``contexts`` = the client's turn before each text (the model reads word overlap with it).
        """
        return self.behaviour.predict(list(texts), None if contexts is None else list(contexts))


_CODERS: dict[tuple[str, tuple[tuple[str, str], ...], bool], MICoder] = {}


def get_coder(encoder: str = "lexical", models: dict[str, str] | None = None, question_rules: bool = True) -> MICoder:
    key = (encoder, tuple(sorted((models or {}).items())), question_rules)
    if key not in _CODERS:
        _CODERS[key] = MICoder.default(encoder, models, question_rules)
    return _CODERS[key]


def code_utterance(text: str, context: str | None = None, encoder: str = "lexical") -> list[tuple[str, str]]:
    """``[(sentence, code), ...]`` for one therapist/model turn; ``context`` = the client's last turn."""
    return [(c.text, c.code) for c in get_coder(encoder).code(text, context)]


def utterance_subtype(codes: Sequence[str], family: str) -> str | None:
    """One open/closed (``family="question"``) or simple/complex (``"reflection"``) label for a whole turn.

    Stacked questions ("What happened? Did you call him?") take the subtype of the last question: on
    AnnoMI-dev (grouped 5-fold CV, annotator 3 excluded) the last question agrees with the experts 0.822
    and "open if any is open" 0.817 (the first question did worse still with the shipped models), so coders
    there hear the last question. A turn is complex when any of its reflections is complex.
    """
    found = [c.split("_")[0] for c in codes if c.endswith(f"_{family}")]
    if not found:
        return None
    if family == "reflection":
        return "complex" if "complex" in found else found[-1]
    return found[-1]


# When no sentence of a turn known to ask something is coded a question (a statement said with rising
# intonation, a tag "..., yeah?", a trailing-off fragment), AnnoMI's coders mostly call it closed: 72% of
# such turns against 40% of the others. The utterance-level question model, trained on all questions, then
# says open only above this probability (chosen by nested grouped CV on 75 AnnoMI-dev transcripts: 0.65 in
# every fold; open/closed on these turns 0.731 -> 0.806, docs/metrics.md).
UNCODED_OPEN_THRESHOLD = 0.65


def utterance_subtypes(
    coder: MICoder,
    texts: Sequence[str],
    contexts: Sequence[str | None] | None,
    family: str,
    coded: Sequence[Sequence[CodedSentence]] | None = None,
) -> list[str]:
    """One open/closed (``family="question"``) or simple/complex (``"reflection"``) label per turn.

    For turns known to ask (or reflect), as in AnnoMI's utterance-level subtypes: the sentence pipeline's
    answer (``utterance_subtype``) when a sentence is coded in the family, else the utterance-level model
    (for questions with ``UNCODED_OPEN_THRESHOLD``). ``coded``: the turns as ``coder`` codes them.
    """
    contexts = list(contexts) if contexts is not None else [None] * len(texts)
    coded = coded if coded is not None else coder.code_many(list(texts), contexts)
    found = [utterance_subtype([c.code for c in s], family) for s in coded]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        model = coder.question if family == "question" else coder.reflection
        sub_texts, sub_contexts = [texts[i] for i in missing], [contexts[i] for i in missing]
        if family == "question" and isinstance(model, LinearTextClassifier) and "open" in model.classes:
            p_open = model.predict_proba(sub_texts, sub_contexts)[:, model.classes.index("open")]
            labels = ["open" if p > UNCODED_OPEN_THRESHOLD else "closed" for p in p_open]
        else:
            labels = model.predict(sub_texts, sub_contexts)
        for i, label in zip(missing, labels, strict=True):
            found[i] = label
    return [f for f in found if f is not None]


def summarize_codes(codes: Iterable[str]) -> dict[str, float | int | None]:
    """MITI 4.2-style summary of a list of codes (one response or a whole session).

    R:Q is reflections / max(questions, 1) (None when neither occurs); percentages are None
    when their denominator is zero.
    """
    counts = Counter(codes)
    q = sum(counts[c] for c in QUESTIONS)
    r = sum(counts[c] for c in REFLECTIONS)
    non_adherent = sum(counts[c] for c in NON_ADHERENT)
    return {
        "mi_reflection_question_ratio": None if q + r == 0 else round(r / max(q, 1), 4),
        "mi_pct_open_questions": None if q == 0 else round(counts["open_question"] / q, 4),
        "mi_pct_complex_reflections": None if r == 0 else round(counts["complex_reflection"] / r, 4),
        "mi_non_adherent": non_adherent,
        "mi_adherent": int(non_adherent == 0),
        "counts": {c: counts[c] for c in CODES if counts[c]},
    }


def summarize_conversation(
    turns: Sequence[str], client_turns: Sequence[str | None] | None = None, encoder: str = "lexical"
) -> dict[str, Any]:
    """Code every counsellor turn of a session and summarise them together (MITI is per session)."""
    coded = get_coder(encoder).code_many(list(turns), list(client_turns) if client_turns is not None else None)
    summary = summarize_codes(c.code for turn in coded for c in turn)
    summary["turns"] = [[c.as_dict() for c in turn] for turn in coded]
    return summary


@register_metric("mi_codes", headline=("mi_adherent",), details="mi", order=40)
class MICodes:
    """Per-sentence MI codes of the model's response, summarised per case.

    Args:
        encoder: "lexical" (default; hashed n-grams, fast), "minilm" (adds MiniLM embeddings;
            a little more agreement with AnnoMI experts, about ten times slower) or "minilm_pair"
            (behaviour from a LoRA-tuned MiniLM reading the user's last turn and each sentence
            together; the most agreement on AnnoMI behaviour, tens of responses a second).
        models: optional ``{"mi_behaviour": path, "mi_question": path, "mi_reflection": path}``
            of weights trained with ``train_metric_model``.
        question_rules: let unambiguous question openings decide open vs closed.
    """

    name = "mi_codes"
    keys = (
        ValueKey(
            "mi_reflection_question_ratio", description="reflections / max(questions, 1); MITI: >=1 fair, >=2 good",
            bounds=(0.0, None),
        ),
        ValueKey("mi_pct_open_questions", description="open / all questions (None without questions)"),
        ValueKey("mi_pct_complex_reflections", description="complex / all reflections (None without reflections)"),
        ValueKey(
            "mi_non_adherent",
            higher_is_better=False,
            description="count of confront/warn/direct/persuade/unasked advice",
            bounds=(0.0, None),
        ),
        ValueKey("mi_adherent", description="1 when the response has no MI-non-adherent sentence"),
    )

    def __init__(
        self, encoder: str = "lexical", models: dict[str, str] | None = None, question_rules: bool = True
    ) -> None:
        self.coder = get_coder(encoder, models, question_rules)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        contexts = [_last_user_turn(c) for c in cases]
        coded = self.coder.code_many([o.text for o in outputs], contexts)
        results = []
        for sentences in coded:
            summary = summarize_codes(c.code for c in sentences)
            counts = summary.pop("counts")
            values = {k: (None if v is None else float(v)) for k, v in summary.items()}
            results.append(CaseScore(values, {"sentences": [c.as_dict() for c in sentences], "counts": counts}))
        return results


def _last_user_turn(case: Case) -> str | None:
    if case.messages:
        return next((m.content for m in reversed(case.messages) if m.role == "user"), None)
    return case.input or case.question
