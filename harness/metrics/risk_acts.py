"""More cue patterns: acts and attempts told in any words, method thoughts, farewells (issue 14); wishes said
around the words, attempts stopped short, lethal-means questions, following someone who died, clinical wording
(session 10, each class found by probes: tests/metrics/vignettes/risk_wording_probes.jsonl); the later probe
rounds' patterns from ``risk_veiled``; and every kind's patterns compiled into one expression per kind,
misspellings of "suicid-" included (``_COMPILED``).
"""

from __future__ import annotations

import re

from harness.metrics.risk_veiled import PATTERNS as _VEILED_PATTERNS
from harness.metrics.risk_words import _ADV, _DRUG, _I, _KILL_SELF
from harness.metrics.risk_words import _PATTERNS as _WORD_PATTERNS

# Every kind's patterns: a copy of the C-SSRS words (``risk_words`` stays as written), extended below.
_PATTERNS: dict[str, list[str]] = {kind: list(patterns) for kind, patterns in _WORD_PATTERNS.items()}

# --- acts, attempts told in any words, method thoughts, farewells (issue 14) ----------------------------

_POISON = r"(?:bleach|antifreeze|poison|drain cleaner|pesticide|weed ?killer|rat poison)"
_INGEST = (
    r"(?:took|taken|swallowed|downed|ate|popped|finished|emptied|od'?d on|overdosed on)"
)
_AMOUNT = (
    r"(?:like |about |around |maybe |over |nearly |almost |at least )?(?:\d{2,}|all|a (?:whole |full |entire )?"
    r"(?:bottle|pack|box|handful|bunch|load|strip)|the (?:whole|entire|rest)|every|everything|too many|enough|"
    r"twenty|thirty|forty|fifty|sixty|a hundred|a lot|(?:a )?(?:dozen|few dozen))"
)
_HEIGHT = (
    r"(?:ledge|railing|rail|roof|rooftop|bridge|cliff|tracks|platform|balcony|overpass|parapet|top floor|"
    r"parking (?:garage|structure|deck)|car park|multi-?storey|tower|lookout|viaduct|level crossing|reservoir|"
    r"window ?sill|gorge|quarry|dam|pier)"
)
_METHOD_GERUND = (
    r"(?:jumping|leaping|stepping (?:off|out|in front)|throwing my ?self|driving (?:my car |the car )?(?:off|into)|"
    r"crashing|swerving|walking (?:out )?into (?:the )?(?:sea|ocean|lake|river|traffic|water)|hanging|drowning|"
    r"overdosing|shooting|slitting|swallowing (?:all|every|a bottle|the)|taking (?:all|every|a bottle|the whole)|"
    r"putting (?:a|the|my \w+'?s?) (?:gun|bullet|barrel)|putting it (?:in my mouth|to my head)|"
    r"using (?:it|one|the \w+) on my ?self|"
    r"(?:my car|the car) (?:going|veering|flying) off|gassing|poisoning|bleeding out)"
)
_ACT_PATTERNS = [
    rf"(?:^|\b{_I} |\b(?:just|already) )(?:just |already |literally |finally )?{_INGEST} {_AMOUNT}\b"
    rf"[^.!?]{{0,45}}?\b{_DRUG}",
    rf"(?:^|\b{_I} )(?:just |already )?(?:took|swallowed|downed) (?:them|it) all\b",
    rf"(?:^|\b{_I} )(?:just |already )?(?:drank|drunk|swallowed|took) (?:the |some |a bottle of )?{_POISON}",
    r"\b(?:the )?(?:pills|meds|tablets|drugs|it|they) (?:are|is|r) (?:already )?(?:kicking in|starting to (?:work|"
    r"kick in)|working)\b",
    r"\bblood (?:is )?everywhere\b|\bcut (?:too |so |way )?deep(?:er)? than\b|\bthe (?:bath ?water|"
    r"bath|water|tub) is (?:red|"
    r"full of blood)\b|\bbleeding (?:out|so much|a lot and)\b",
    r"\b(?:noose|rope|belt|cord|sheet) (?:is )?(?:around|round) my neck\b",
    r"\b(?:rope|belt|cord|noose|sheet)\b[^.!?]{0,80}\b(?:standing|stood|i'?m) on (?:the|a) (?:chair|stool|bucket|"
    r"ladder)\b",
    r"\b(?:put|held|holding|have|got) (?:the |a |my |his )?(?:gun|barrel|pistol|revolver) (?:in my mouth|to my (?:head|"
    r"temple|chest)|against my head)\b",
    r"\b(?:engine|car)(?:'s| is)? (?:on|running)\b[^.!?]{0,50}\b(?:garage|door (?:is )?(?:shut|closed))|"
    r"\b(?:garage|door)\b[^.!?]{0,40}\b(?:engine|car) (?:is )?running\b",
    r"\bfilled my pockets with (?:rocks|stones)\b|\bin the (?:bath|tub|bathtub) with (?:the|a) (?:hair ?dryer|toaster|"
    r"radio)|\b(?:hair ?dryer|toaster) (?:plugged in )?next to me\b",
    r"\bjumped (?:off|from|out of) (?:the|a|my) \w+[^.!?]{0,50}\b(?:still alive|broken|survived|can'?t move)\b",
]
_AT_HEIGHT = [
    rf"\b(?:{_I} )?(?:standing|sitting|perched) (?:on|at) the edge\b",
    rf"\b(?:{_I} |currently |now |right now )?(?:standing|sitting|perched|up|out|waiting|parked)? ?(?:on|at|in|by|to|"
    rf"up to|out to) (?:the |a |my )?(?:top of the |edge of the )?(?:\w+ ){{0,2}}{_HEIGHT}\b",
]
_DANGER_HERE = re.compile(
    r"\b(?:(?:standing|sitting|stood|perched|i'?m|im) on (?:the |a )?(?:edge|ledge|railing|parapet)|"
    r"outside (?:of )?the (?:fence|barrier|railing)|over the (?:side|edge|railing)|"
    r"climb(?:ing|ed)? over|legs (?:are )?over|look(?:ing)? down|lean(?:ing)? forward|jump|not getting on|"
    r"next one (?:comes|is)|(?:train|express) (?:to )?come|let go|step off|one (?:more )?step|"
    r"not (?:going|driving|coming|walking) (?:back|home|down)|last (?:post|message|time)|goodbye|bye|"
    r"this is it|windy up here|nobody(?:'?s| is) around|keep (?:walking|going)|further out|up to my (?:chest|neck|"
    r"waist)|it'?s cold|can'?t feel|no one knows where|i'?m ready|decided)\b",
    re.I,
)
_ATTEMPT_WORDS = [
    rf"(?:^|\b{_I} )(?:\w+ )?(?:hung|hanged) my ?self\b",
    r"\b(?:slit|slashed|cut) (?:open )?my (?:wrists?|throat)\b",
    r"(?:^|\bi )(?:jumped|threw my ?self) (?:off|from|out of|in front of) (?:a|the|my) \w+",
    r"\b(?:drove|crashed|steered|swerved|aimed) (?:my car |the car |at full speed )?(?:into|at|off) (?:a|the) \w+"
    r"[^.!?]{0,40}\bon purpose\b",
    r"\bwalked (?:out )?into (?:traffic|the (?:road|highway|sea|ocean|lake|river))\b",
    r"(?:^|\b{_I} )(?:od'?d|o\.d\.'?d|overdosed)\b".replace("{_I}", _I),
    r"\b(?:after|since) my (?:last |first |second )?attempt\b|\bwoke up in (?:the )?(?:icu|hospital|er)\b",
]
_METHOD_THOUGHT = [
    r"\b(?:think(?:ing)?|thought|thoughts|imagin(?:e|ing)|pictur(?:e|ing)|fantasi[sz](?:e|ing)|dream(?:ing)?|"
    r"visuali[sz](?:e|ing)|keep seeing my ?self|the thought of|urges? (?:of|to)|tempted by)"
    r" (?:about |of )?(?:my ?self )?" + _METHOD_GERUND
    + r"(?! (?:in|into) (?:the )?(?:pool|water|fun)| rope| jacks| ship| the gun)",
    r"\b(?:thought|think|thinking|researched|looked|worked out|figured out|found) (?:of |about |up )?(?:how|ways|"
    r"methods)(?: to (?:do it|die)| i'?d "
    r"(?:do it|die))?(?= *[.!,;]| but)",
]
_FAREWELL_MORE = [
    r"\bto (?:whoever|whomever|anyone who) (?:finds|reads) this\b|\bif (?:anyone|someone|somebody) (?:finds|reads) "
    r"this\b",
    r"\bthis is the last (?:thing|time|post|message)\b[^.!?]{0,30}(?:ever|you'?ll|post|hear|write)",
    rf"\b{_I} (?:won'?t|will not|wont) (?:be (?:here|around|alive)|see (?:the )?(?:morning|sunrise|tomorrow))"
    r"(?: (?:when|by the time|tomorrow|to see))?",
    r"\b(?:i'?ll|ill|i will) be (?:dead|gone) (?:by|before|tonight|tomorrow|soon|in)\b",
    r"\b(?:by|before) (?:morning|tomorrow|tonight|sunrise|the weekend|then),? (?:i'?ll|ill|i will) (?:be (?:dead|gone)|"
    r"have gone)\b",
    r"\byou won'?t (?:hear from|see) me (?:again|any ?more)\b|\bi can'?t be here any ?more\b",
]
_FAREWELL_SIGNALS = re.compile(
    r"\b(?:sorry|goodbye|bye|love you|passwords? (?:is|are)|feed my|"
    # a request asked as a question ("can you look after the kids for me tonight?") is not a bequest
    r"(?:take care of|look after) \w+(?: \w+)? for me(?![^.!?]{0,20}\?)|"
    r"(?:couldn'?t|can'?t|could not) (?:stay|do (?:it|this) any ?more)|i'?m going now|it wasn'?t your fault|"
    r"i tried|thank you for trying|(?:please )?don'?t look for me)\b",
    re.I,
)
_PATTERNS["preparatory"] += [
    r"\b(?:rope|noose|belt|cord|ligature) (?:is )?(?:hanging|set up|in place|tied|ready|up)\b",
    rf"\b{_DRUG} (?:are |all )?(?:lined up|counted out|laid out|set out)\b",
    rf"\b(?:stockpil|sav|hoard|collect)(?:e|ed|ing)?(?: up)? (?:my |some |all |all my |enough )?(?:\w+'?s )?(?:\w+ )?"
    rf"{_DRUG}",
    r"\bpracti[cs](?:ing|ed|e) with (?:the|a) (?:cord|rope|belt|ligature|scarf)\b|\bhow long it takes (?:me )?to "
    r"(?:pass out|die|lose consciousness)\b",
]
_PATTERNS["plan"] += [rf"\b(?:picked|chose|chosen|found) (?:the|a) (?:\w+ ){{0,2}}{_HEIGHT}\b"]
# Clinical wording of the same levels: "I've had suicidal ideation with intent", "Current SI with plan to overdose".
# Intent carries its own subject, so the writer must be it: "I" before it, or a note's own first word ("current",
# "ongoing"); "denies SI with plan" and a counsellor's "if someone has suicidal thoughts with a plan" are not.
_SI_WITH = (
    r"\b(?:suicidal (?:ideation|thoughts|feelings|urges)|si)\b (?:with|w/) (?:a |an )?(?:specific |clear |active |"
    r"definite |concrete )?(?:intent|plan)\b"
)
_PATTERNS["intent"] += [
    rf"\b{_I}\b(?:(?! (?:not|no|never|denies?|without)\b)[^.!?,;]){{0,40}}?{_SI_WITH}",
    rf"^(?:current(?:ly)?|ongoing|active|positive for|endorses|endorsing|having) {_SI_WITH}",
]
_PATTERNS["self_harm"] += [
    r"\b(?:cutting|scratching|carv|carving|slic|slicing)\w* (?:into )?my (?:arms?|forearms?|legs?|thighs?|wrists?|"
    r"skin|stomach|hips?)\b",
    r"\b(?:burn|burning|burnt|burned|cut|cutting)\w* (?:my|into my) \w+ with (?:a|the) (?:lighter|cigarette|match|"
    r"hot|iron|razor|blade|compass|knife)",
    r"\buntil (?:my \w+|it|they) (?:bleeds?|bruises?)\b|\b(?:bash|bang|hit)\w* my head (?:against|on|into)\b"
    r"[^.!?]{0,40}\b(?:till|until|only thing)",
]
_PATTERNS["passive"] += [
    r"\b(?:hit by|run over|die|dying|crash|not wake|didn'?t wake|never woke)[^.!?]{0,40}\bwouldn'?t (?:mind|care)\b|"
    r"\bwouldn'?t (?:mind|care) if i (?:didn'?t wake|died|never woke|got hit|was gone)\w*",
    r"\bhope[sd]? (?:the|my) (?:plane|train|car|bus) (?:goes down|crashes|crash)\b",
    r"\b(?:fall asleep|go to sleep|sleep) and (?:not|never) (?:wake up|come back)\b",
    r"\b(?:don'?t|do not|can'?t|cannot) (?:really |even )?see (?:the|any) point (?:of|in) (?:being alive|living|me|"
    r"existing)\b",
    r"\b(?:so bad|matter|care) if i (?:just )?(?:didn'?t exist|did not exist|died|was gone|disappeared)\b",
    r"\bwelcome (?:a|an) (?:heart attack|accident|car crash)\b|\brelieved if i (?:was|were) gone\b",
]
# --- wishes told around the words (session 10): conditions, relief, burden, prayer, illness, the funeral --------
# Found by probing with new sentences: each form below scored "none" from the rules while its plainer twin was
# caught ("if I never woke up it would be a relief" vs "I wish I could go to sleep and never wake up").
_GONE = (
    r"(?:(?:never|didn'?t|did not|don'?t|do not|wouldn'?t) (?:have to )?(?:wake|woke) up(?: again)?|died|was dead|"
    r"were dead|was gone|were gone|(?:wasn'?t|weren'?t|was not|were not) (?:\w+ )?(?:here|around|alive)|"
    r"(?:never|didn'?t) c[ao]me back|my heart (?:just )?stopped|"
    r"stopped existing|disappeared for good|(?:just )?didn'?t exist)"
)
_RELIEF = (
    r"(?:(?:would|'d|will|could) (?:honestly |really |actually |even )?(?:be|feel) (?:such |so |a )?"
    r"(?:relief|a relief|mercy|a mercy|blessing|a blessing|release|a release|peaceful|nice|easier|better|okay|ok|"
    r"fine|the best thing)|"
    # only negated does "bad" wish it: "it wouldn't be so bad", not "it would be bad for my kids"
    r"(?:wouldn'?t|would not) (?:honestly |really |actually |even )?(?:be|feel) (?:so |that |too |all that )?"
    r"(?:bad|the worst thing))"
)
_CONDITIONAL_WISH = [
    # "if I fell asleep and never woke up that would be a relief", "if I wasn't here it wouldn't be so bad"
    rf"\bif i (?:\w+ (?:and )?){{0,4}}?{_GONE}(?: (?:tomorrow|tonight|one day|in my sleep|any ?more))?,? "
    rf"(?:then |honestly |really |truly |i think |i guess )?(?:that|it|things|everything|life)? ?{_RELIEF}",
    # "it would be such a relief to never wake up again", "it would be so peaceful to just not wake up"
    rf"\b(?:it|that|things|everything)(?:'d| would| will)? (?:honestly |really |actually )?(?:be|feel) (?:such |so )?"
    rf"(?:a )?(?:relief|mercy|blessing|release|peaceful|nice|easier|better) (?:(?:to|if i) {_ADV}(?:never|not|didn'?t)"
    rf" (?:have to )?(?:wake|woke) up\b|if (?:i )?{_ADV}{_GONE})",
]
_BURDEN = [
    # "my family would manage fine, probably better, if I wasn't around", "they'd be fine without me";
    # the subject is part of the match (a cue led by "they" is otherwise read as someone else's), and a trip or
    # an evening ("without me for the weekend", "...while I'm on leave") is not the wish.
    r"\b(?:(?:every|some|any|no) ?one|everybody|nobody|they|the world|people|my (?:\w+ )?(?:family|kids|children|"
    r"wife|husband|partner|parents|mum|mom|dad|friends|son|daughter|team)|nobody at home|no one at home)"
    r"(?: would| will| could|'d|'ll) (?:all |honestly |probably |really )?(?:be (?:fine|ok|okay|alright|all right|"
    r"happier|better)|manage|cope|get (?:on|by|along)|do (?:fine|better)|struggle (?:much|at all))"
    r"\b[^.!?]{0,30}?\b(?:without me|if i (?:was|were|wasn'?t|weren'?t|was not|were not) (?:\w+ )?(?:around|"
    r"here|alive|gone|dead|in the picture)|(?:once|when|after) i'?m (?:gone|dead))\b"
    r"(?! (?:for|at|on|while|this|tonight|today|tomorrow|during|there|until|till|next|over|when|if|to)\b)",
    # "if I wasn't here tomorrow it wouldn't matter to anyone"
    rf"\bif i {_GONE}(?: (?:tomorrow|any ?more|one day))?,? (?:it )?(?:honestly |really )?(?:wouldn'?t|would not|"
    r"won'?t|will not) (?:matter|make a difference) to (?:anyone|anybody|a single (?:person|soul))\b",
    # "I wonder if anyone would even notice if I was gone"
    r"\b(?:wonder|doubt)\w* (?:if|whether) (?:anyone|anybody|people|they) would (?:even )?(?:notice|care|miss me)"
    r"\b[^.!?]{0,12}\bif i (?:just )?(?:was|were|died|disappeared|wasn'?t (?:here|around|alive)|was dead)\b",
]
_WAY_OUT = (
    r"(?:ending (?:it|it all|everything|my life)|suicide|dying|death|killing myself|not being here|"
    r"disappearing(?: for good| forever| permanently)?)"
)
_DEATH_WISHED_FOR = [
    # "I pray God just takes me in my sleep", "I keep asking God to take me already"
    rf"\b(?:pray|ask|beg|plead|want|hope)\w* (?:that )?(?:god|the lord|jesus|the universe|death)(?: (?:would|will|"
    rf"to|could|might)\b)? ?{_ADV}(?:takes?|calls?|comes? for) me\b(?! (?:to|through|back|out|under|into|with|"
    r"for|on|by|there|home from|seriously)\b)",
    # "I hope the cancer comes back", "...so I can finally die", "so I can rest for good"
    r"\bhop\w* (?:that )?(?:the|my) (?:cancer|tumou?r|illness|disease|infection|heart) (?:comes? back|returns|wins|"
    r"spreads|kills me|takes me|gets me|gives out|stops)\b",
    rf"\bso (?:that )?i (?:can|could|will|would|might) {_ADV}(?:die|be dead|stop existing|not exist|"
    r"rest (?:for good|forever|in peace)|be at peace for good|sleep forever)\b",
    r"\b(?:welcome|not mind|wouldn'?t mind|be glad of) (?:it )?if something (?:fatal|terrible|bad) happened to me\b",
    # "I've been having thoughts of not wanting to be alive"
    r"\bnot wanting to (?:be alive|live|exist|be here any ?more|wake up|go on|keep (?:living|going)|be around)\b",
    # "I daydream about my own funeral"
    r"\b(?:daydream|fantasi[sz]|imagin|pictur|dream)\w* (?:about |of )?my (?:own )?(?:funeral|death|grave|"
    r"suicide)\b",
    # "ending it seems like the only option left"
    rf"\b{_WAY_OUT} (?:seems|feels|is|looks) like (?:the|my) only (?:option|way out|answer|choice|way)\b|"
    rf"\b{_WAY_OUT} (?:seems|feels|is) (?:the|my) only (?:option|way out|answer|choice)\b",
]
_PATTERNS["passive"] += _CONDITIONAL_WISH + _BURDEN + _DEATH_WISHED_FOR + [
    # "at this point I don't care whether I live or die", "I don't care if I die"
    r"\b(?:don'?t|do not|doesn'?t|wouldn'?t|no longer|didn'?t) (?:even |really )?care (?:if|whether) i (?:live or die|"
    r"die|died|wake up|woke up|make it|survive|live)\b",
    # "my kids are the only reason I'm still here"
    r"\bonly (?:reason|thing|one|person) (?:that |why )?(?:i'?m|i am) still (?:alive|here|around)\b|\bonly (?:reason|"
    r"thing|one|person) (?:that )?(?:keeps|is keeping|keeping) me (?:alive|here|around)\b",
]
_PATTERNS["active"] += [
    # "the only thing stopping me from ending it", "I haven't killed myself yet": the act is held back, not denied
    # (the cue starts at "me": "my son is the only thing stopping me ..." is not the son's ideation)
    rf"(?:(?<=stopping )|(?<=holding )|(?<=keeping )|(?<=kept ))me (?:back )?from {_ADV}(?:{_KILL_SELF}|"
    r"going through with it|ending it)",
    rf"\b(?:haven'?t|have not|hasn'?t|didn'?t) (?:\w+ )?(?:{_KILL_SELF}|killed my ?self|done (?:it|anything to "
    r"my ?self)|gone through with it|ended it|acted on (?:it|them)) yet\b",
    # voices or intrusive thoughts that command it: "the voices tell me to jump", "my brain says you should die";
    # the cue stops before the act, so a method cue on the same words ("jump off the bridge") does not hide it
    r"\b(?:voices?|my (?:brain|head|mind|thoughts|illness|depression)|something in my head|a voice (?:in my head)?)"
    r"(?: in my head)? (?:keeps? |kept |always |constantly |just )?(?:tell|telling|tells|told|say|saying|says|said|"
    r"scream\w*|whisper\w*|order\w*|command\w*|urg\w*)(?: at)? (?:me )?(?:to |that i should |i should |you should "
    r"|that i need to |i need to |you need to |to just )(?=(?:just |go )?(?:kill (?:my|your) ?self|die|jump|hang "
    r"(?:my|your) ?self|cut (?:my|your) ?self|hurt (?:my|your) ?self|harm (?:my|your) ?self|end (?:it|my life|"
    r"your life)|overdose|drown (?:my|your) ?self|step in front))",
]
_PATTERNS["method"] += [
    # "drive into oncoming traffic", "swerve into the lorries"
    r"\b(?:driv(?:e|ing)|swerv(?:e|ing)|steer(?:ing)?|walk(?:ing)?|step(?:ping)?) (?:my car |the car )?(?:out )?"
    r"into (?:the )?(?:oncoming )?(?:traffic|lorr(?:y|ies)|trucks?|a truck|a lorry)\b",
]
# --- attempts stopped short, and research asked as a question (session 10, round 3) ------------------------------
# "Last night I nearly jumped off the bridge", "I was about to swallow them all when my phone rang": an aborted or
# interrupted attempt is suicidal behaviour (C-SSRS), dated like any attempt; an almost-jump out of one's skin is not.
_ABORTED_ACT = (
    rf"(?:(?:jump(?:ed)?|leap(?:t|ed)?|step(?:ped)?|thr[eo]w my ?self) (?:off|from|in front of|under|onto|out of) "
    rf"(?:a|the|my) (?:\w+ )?"
    rf"(?:{_HEIGHT}|train|bus|car|truck|lorry|traffic|window|building)|swallow(?:ed)? (?:them|it) all|"
    rf"(?:swallow(?:ed)?|took|take|down(?:ed)?) (?:all|every|the whole|the entire|the rest) (?:of )?(?:my |the |"
    rf"those |these )?(?:\w+ )?{_DRUG}|pull(?:ed)? the trigger|hang(?:ed)? my ?self|kill(?:ed)? my ?self|"
    r"overdos(?:e|ed)|cut my (?:wrists?|throat)|dr[io]ve? (?:my car |the car )?(?:off|into) (?:a|the) \w+)"
)
_ATTEMPT_WORDS += [
    rf"\b(?:i (?:\w+ )?(?:nearly|almost|was about to|was going to|came (?:so )?close to|got (?:so )?close to|was this "
    rf"close to)|nearly|almost) {_ABORTED_ACT}",
]
# "How many sleeping pills would it take to not wake up?", "What's the most painless way to kill yourself?":
# researching a lethal means is preparation, whoever the question's grammar names ("does anyone know ..." is
# the writer's question, so the cue starts there and the subject check does not give it to "anyone").
_ASKED = (
    r"(?:(?:does |do )?(?:any ?one|any ?body|someone|somebody|you|u) (?:know|knows|tell me) (?:what |if |how )?"
    r"(?:the |a |is the )?)?"
)
_PATTERNS["preparatory"] += [
    rf"\b{_ASKED}how (?:many|much)\b[^.?!]{{0,40}}?\b(?:would|will|does|do|to|should|could|is|are)\b"
    r"[^.?!]{0,30}?\b(?:kill (?:me|you|a person|someone|an adult)|be (?:fatal|lethal|deadly|enough to (?:die|kill))|"
    r"(?:to )?die|not wake up|never wake up|stop (?:my|your|a) heart)\b(?![^.?!]{0,25}\bfor (?:a|my|your|the|our) "
    r"(?:dog|cat|child|toddler|baby|kid|son|daughter|pet|horse|puppy|kitten)s?\b)",
    rf"\b{_ASKED}(?:lethal|fatal|deadly) (?:dose|amount|quantity)\b(?! for (?:a|my|your|the) (?:dog|cat|child|"
    r"toddler|baby|kid|pet|horse))",
    rf"\b{_ASKED}(?:(?:most|least) )?(?:painless|painful|quick|quickest|fastest|easiest|easy|best|surest|peaceful|"
    r"reliable|effective|lethal)\w* (?:way|ways|method|methods|means) (?:to|of) (?:kill (?:my|your) ?self|die|"
    r"dying|go(?= *[?.!]|$)|end it|end (?:my|your|one'?s|a) life|commit suicide|suicide|overdose)\b",
]
_PATTERNS["act_in_progress"] += _ACT_PATTERNS
_PATTERNS["attempt"] += _ATTEMPT_WORDS
_PATTERNS["farewell"] += _FAREWELL_MORE
_PATTERNS["at_height"] = _AT_HEIGHT
_PATTERNS["method_thought"] = _METHOD_THOUGHT

# --- following someone who died (session 10, round 4) -----------------------------------------------------------
# "My best mate took his own life and I keep thinking I should do the same": the wish names the other person's
# death, not the writer's act. The forward form is matched from the sentence start, so the cue is not read as the
# other person's ("my mate took his own life" would otherwise make the whole cue third person).
_SUICIDE_OF_OTHER = (
    r"(?:killed (?:him|her|them)sel(?:f|ves)|took (?:his|her|their) (?:own )?li(?:fe|ves)|died by suicide|"
    r"committed suicide|(?:hanged|hung|shot|drowned|poisoned) (?:him|her)self|overdosed|jumped)"
)
_DEATH_OF_OTHER = rf"(?:{_SUICIDE_OF_OTHER}|passed away|died|passed(?= (?:on|last|this|in|a |two|three|\d)|[.,;!]|$))"
# The writer is in the sentence, and no negation or fear stands between the death and the wish ("I would never do
# the same", "I'm scared I'll go the same way" after an illness are not wishes).
_WRITER_IN_IT = r"^(?=[^.!?]*?\b(?:i|i'm|im|i've|ive|i'd|i'll|me)\b)[^.!?]{0,120}?\b"
_NEGATOR = r"(?:not|never|no|don'?t|won'?t|wouldn'?t|can'?t|cannot|didn'?t)"
_NO_NEGATION = rf"(?:(?!\b(?:{_NEGATOR}|scared|afraid|worried)\b)[^.!?])"
_FOLLOW_STRONG = (
    r"(?:do(?:ing)? (?:the same(?: thing)?|it too)(?= *(?:[.,;:!?]|$|too\b|now\b|soon\b|one day\b|some ?day\b|"
    r"eventually\b|as (?:him|her|them)\b))|go(?:ing)? (?:out )?the same way|"
    r"follow(?:ing)? (?:him|her|them|in (?:his|her|their) footsteps))"
)
_FOLLOW_SOFT = r"(?:join(?:ing)? (?:him|her|them)|be with (?:him|her|them) again|(?:feel )?the same pull)"
_BEREAVED_WISH = (
    r"(?:want|wish|should|could|going|need|think|thinking|tempted|keep)\w*(?: about| of)? (?:to )?(?:just )?"
)
_PATTERNS["active"] += [
    rf"{_WRITER_IN_IT}{_SUICIDE_OF_OTHER}\b{_NO_NEGATION}{{0,80}}?\b{_FOLLOW_STRONG}\b",
    # (the death is a look-ahead: its date, "he killed himself in 2019", does not date the wish)
    rf"\b{_BEREAVED_WISH}(?:follow(?:ing)?|go(?:ing)? the same way as) (?:him|her|them|my (?:\w+ )?\w+)\b"
    rf"(?=[^.!?]{{0,30}}?\b(?:he|she|they)(?: \w+)? {_SUICIDE_OF_OTHER})",
]
_PATTERNS["passive"] += [
    rf"{_WRITER_IN_IT}{_DEATH_OF_OTHER}\b{_NO_NEGATION}{{0,80}}?\b{_FOLLOW_SOFT}\b",
    rf"\b{_BEREAVED_WISH}be with (?:him|her|them|my (?:\w+ )?\w+) again\b(?=[^.!?]{{0,30}}?\b(?:he|she|they)"
    rf"(?: \w+)? {_DEATH_OF_OTHER})",
]

# --- together, forever, no longer a burden (session 10, round 6) -----------------------------------------------
# A pact is intent with its own subject ("we agreed to kill ourselves together next week", "my boyfriend and I
# have a suicide pact"): "we" would otherwise read as someone else, and "ourselves" matched no pattern.
_PATTERNS["intent"] += [
    # (no negation in between: the cue starts at "we", so the usual check before it sees nothing; and no "ending
    # things together", which is also how a couple parts)
    r"\b(?:we|me and (?:my )?\w+|(?:my )?\w+ and (?:i|me))\b"
    rf"(?:(?!\b{_NEGATOR}\b)[^.!?]){{0,50}}?"
    r"\b(?:kill(?:ing)? our ?sel(?:f|ves)|end(?:ing)? (?:it all|our lives) together|die together|"
    r"take our (?:own )?lives|"
    r"(?:have|made|make|making|agreed (?:on|to)?|planning|planned) (?:a |our )?(?:suicide )?pact (?:to (?:end it|"
    r"die|kill ourselves|do it)|together)|(?:have|made|make|making|agreed on|planning|planned) (?:a |our )"
    r"suicide pact)",
]
_PATTERNS["passive"] += [
    # "I just want to go to sleep forever", "it would be nice to stay asleep forever"
    r"\b(?:want|wish|wanna|like|love|nice|peaceful|easier)\w* (?:to )?(?:just )?(?:go to sleep|fall asleep|stay asleep|"
    r"sleep)(?: and (?:just )?(?:stay asleep|never wake up))? (?:forever|for ever|for good|permanently)\b",
    # "soon I won't be a burden to anyone anymore": a veiled death, not a plan (timed, it still reads low)
    rf"\b{_I} (?:soon )?(?:won'?t|will not|wont) be (?:a (?:burden|problem|bother)|in (?:anyone'?s|your|their) way)"
    r"(?: (?:to|for|on) (?:anyone|anybody|you|you all|everyone|them|my \w+))?"
    r"(?: any ?more|(?: for)? much longer| for long)\b",
]

# Rounds 7-11 of the wording probes (session 11) live in ``risk_veiled``.
for _kind, _more in _VEILED_PATTERNS.items():
    _PATTERNS[_kind] += _more

# Misspelt "suicide" / "suicidal" ("sucidal", "suicidial", "suiside", "suicde") is read as spelt: typed in distress,
# the misspelling matched no pattern at all.
_SUICID = r"s[ue]{1,2}i?[cs]{1,2}i?di?"

_COMPILED: dict[str, re.Pattern[str]] = {
    k: re.compile("|".join(f"(?:{p.replace('suicid', _SUICID)})" for p in v), re.I) for k, v in _PATTERNS.items()
}
