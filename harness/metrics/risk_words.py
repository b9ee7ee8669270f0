"""The cue patterns of ``harness.metrics.risk`` by C-SSRS kind: wish to be dead, active thoughts,
method, intent, plan, preparation, attempts, self-harm, hopelessness, timeline, protective factors.
"""

from __future__ import annotations

_I = r"(?:i|i'm|im|i've|ive|i'd|id|i'll|ill|i am|i have|i had|i was)"
# A softening adverb between the verb and what is wished ("thinking about just ending everything", "I want to
# simply die"): without this slot such sentences matched nothing while the same words without it did.
_ADV = r"(?:(?:just|simply|really|actually|finally|honestly|seriously|quietly) )?"
_KILL_SELF = (
    # ("unalive" alone is algospeak for suicide: "thinking of unaliving"; not "unalive him")
    r"(?:kill(?:ing|ed)? my ?self|kms|unaliv(?:e|ing|ed) my ?self|unaliv(?:e|ing)\b(?! (?:him|her|them|you|people|"
    r"someone|somebody|the|that|this|a)\b)|off(?:ing)? my ?self|sewer ?slide|"
    r"self[- ]?delet(?:e|ing)\b(?! (?:my|the|a|this|that|it|posts?|accounts?|comments?|photos?|files?))|"
    r"end(?:ing|ed)? (?:my (?:own )?life|it all|things|everything|my suffering)|"
    r"tak(?:e|ing) my (?:own )?life|commit(?:ting)? suicide|suicide)"
)
_HURT_SELF = (
    r"(?:cut(?:ting)?|burn(?:ing)?) my ?self|"
    r"(?:want(?:ed)? to|wanting to|urges? to|tempted to|thinking about|thoughts of|keep|kept|started|been|feel like) "
    r"(?:hurt|harm|injur|punish)\w* my ?self|"
    r"(?:hurt|harm|injur|punish)\w* my ?self (?:on purpose|deliberately|intentionally|again|to cope|to feel|when i|"
    r"because i|"
    r"so i|whenever)"
)
_WANT_AGAIN = r"\b(?:want|wanna|urge|tempted|itching)\w* (?:to )?(?:(?:do it|start) )?again\b"
_METHOD = (
    r"(?:overdos(?:e|ing|ed)|o\.?d\.?(?:ing)?\b|(?:take|taking|swallow(?:ing)?|down(?:ing)?) (?:all|every|"
    r"a (?:whole )?bottle of|"
    r"a bunch of|a handful of|the whole bottle of|the rest of|enough) (?:of )?(?:my |the |those |"
    r"these |them |her |his |"
    r"\w+'s )?(?:\w+ )?(?:pills?|meds|medication|medicine|tablets|sleeping pills|insulin|"
    r"antidepressants|painkillers|tylenol|paracetamol|"
    r"acetaminophen)|"
    r"jump(?:ing)? (?:off|from|in front of) (?:a|the|my) \w+|(?:hang(?:ing)?|shoot(?:ing)?|drown(?:ing)?|"
    r"poison(?:ing)?) my ?self|"
    r"(?:slit(?:ting)?|cut(?:ting)?) my (?:wrists?|throat)|step(?:ping)? in front of (?:a|the|it|an?) ?(?:train|bus|"
    r"car|truck)?|"
    r"crash(?:ing)? (?:my|the) car|driv(?:e|ing) (?:my car |the car )?(?:off|into) (?:a|the) (?:\w+ )?(?:cliff|bridge|"
    r"river|wall|tree|lake|overpass|median|truck|traffic)|carbon monoxide|(?:a |the )?noose|(?:a |the )?rope\b|"
    r"(?:my|a|the|dad's|his) (?:gun|pistol|rifle|firearm)|bleed(?:ing)? out)"
)
# Drugs by name or class, for acts and amounts ("took 30 of my sertraline", "is a whole box of zopiclone enough").
_DRUG = (
    r"(?:pills?|tablets?|meds|medications?|medicines?|capsules?|insulin|tylenol|paracetamol|acetaminophen|ibuprofen|"
    r"aspirin|oxy\w*|opioids|painkillers|antidepressants|lithium|seroquel|xanax|benzos|morphine|sertraline|"
    r"prozac|zoloft|sleeping (?:pills|tablets)|medicine cabinet|the cabinet|them all|zopiclone|zolpidem|"
    r"ambien|diazepam|valium|codeine|co-?codamol|naproxen|pregabalin|gabapentin|tramadol|fentanyl|heroin|"
    r"quetiapine|amitriptyline|citalopram|fluoxetine|"
    r"venlafaxine|propranolol|benadryl|nytol|klonopin|ativan|adderall|\w+(?:azepam|olam|clone|pine|zine|oxetine|"
    r"triptyline|codone|morphone|barbital|prazole|olol|alopram|afaxine))"
)
_TIMELINE = (
    r"\b(?:tonight|today|right now|this (?:evening|afternoon|morning|weekend|week)|tomorrow|"
    r"in (?:an?|a few|one|two|\d+) (?:hours?|minutes?|days?)|when (?:everyone|they|my \w+) (?:is|are|'s|goes?|leaves?) "
    r"(?:asleep|to sleep|to bed|out|gone)|after (?:work|school|everyone leaves|they leave|the funeral)|"
    r"before (?:morning|the weekend|tomorrow)|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    # days away, like "on monday"; a month or a birthday is a plan without a near time (high, not imminent)
    r"next (?:week|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"once (?:i|everyone) \w+|soon|(?:till|until|at|by) (?:midnight|sunrise|dawn|\d{1,2}(?::\d\d)? ?(?:am|pm)?)|"
    r"(?:once|as soon as|when|after) (?:my \w+|the (?:house|kids|family)|he|she|they|everyone|everybody) (?:\w+ )?"
    r"(?:is|are|leaves?|goes?|gets?|falls?|go)\b)\b"
)

_PATTERNS: dict[str, list[str]] = {
    "act_in_progress": [
        rf"\b{_I} (?:just |already |literally )?(?:took|taken|swallowed|downed|ate) (?:like |about |around |maybe |"
        rf"over |nearly )?"
        r"(?:\d+|all|a (?:whole )?bottle|a bunch|a handful|too many|every|the rest|enough|twenty|thirty|forty|fifty|"
        r"a lot)\b"
        r"[^.!?]{0,40}(?:pills|tablets|meds|capsules|insulin|of)",
        rf"\b{_I} (?:just |already )(?:overdosed|cut|slit|hanged|tied)",
        r"\b(?:the )?(?:pills|meds|tablets) (?:are|is) (?:kicking in|starting to work|working)\b",
        r"\b(?:can'?t|cannot|won'?t) stop (?:the )?bleeding\b",
        r"\b(?:the )?(?:car|engine) is running (?:in|and)\b|\bin (?:the|my) (?:car|garage) with the (?:engine|"
        r"car) running\b",
        r"\b(?:the )?rope is (?:ready|tied|up)\b|\bnoose is (?:ready|tied|up)\b|\b(?:rope|noose) (?:is )?tied and "
        r"ready\b",
    ],
    "farewell": [
        r"\b(?:this is|these are|here are) my (?:last|final) (?:goodbye|message|post|text|words)\b|\bfinal goodbye\b",
        # ("this is goodbye to my old flat" says goodbye to a place, not to the reader)
        r"\b(?:this is (?:my )?(?:goodbye(?! to (?:my|the|our|this|that|a|an|all (?:the|my|those))\b)|my last "
        r"(?:message|post|text)|the last time you'?ll hear)|"
        r"by the time (?:you|anyone|someone|they|he|she|my \w+) (?:reads?|sees?|finds?|gets?) (?:this|"
        r"it|them|these|the "
        r"\w+)|goodbye (?:everyone|forever|world|all)|"
        r"won'?t (?:be (?:here|around|alive)|wake up) (?:tomorrow|by morning|much longer|after tonight))\b",
        rf"\b{_I} (?:won'?t|will not) (?:be (?:here|around|alive)) (?:tomorrow|by|after|much longer)",
    ],
    "farewell_implicit": [
        r"\bdon'?t think i'?(?:m| am| will|'ll) (?:going to |gonna )?(?:be )?(?:come|go|going|coming|make it|climb|"
        r"get|walk)"
        r"(?:ing)? (?:back|home|down|through|off)\b|\bwon'?t be (?:coming|going) (?:back|home)\b",
    ],
    "intent": [
        rf"\b(?:i'?ll|ill|i will|i'?m|im|i am)(?: going to| gonna| about to)? (?:finally |just |actually |"
        rf"definitely )?(?:{_KILL_SELF}|"
        rf"end it|{_METHOD}|use (?:it|them|the \w+) on my ?self|jump (?:off|from|in front)|"
        rf"take (?:all )?(?:of )?(?:my|the) \w+"
        r"[^.!?]{0,25}so i (?:don'?t|never|won'?t) wake up)",
        rf"\b{_I} (?:have |'ve )?(?:decided|made (?:up )?my mind) (?:to|that|i'?ll|i will|"
        rf"i'?m going to)? ?(?:{_KILL_SELF}|die|end it|"
        r"i'?m going|do it|go through with it)",
        # ("ready to go" alone, not "ready to go to the party")
        rf"\b{_I} (?:am |'m |m )?(?:ready|prepared) to (?:die|{_KILL_SELF}|end it|go(?= *(?:[.,;:!?]|$|now\b|"
        r"soon\b|tonight\b)))",
        r"\b(?:tonight|today)(?:'?s| is) the (?:night|day)\b",
        rf"\b{_I} (?:am |'m )?(?:definitely |really )?(?:going through with it|doing it tonight)\b",
        rf"(?:^|\b{_I} )(?:gonna|going to|about to) (?:{_METHOD}|{_KILL_SELF})",
        r"\b(?:i'?ll|ill|i will|i'?m going to|im going to|i'?m gonna) (?:swallow|take) (?:the|my|all my) (?:\w+ )?"
        r"(?:pills|tablets)\b[^.!?]{0,30}\b(?:sav|hoard|stockpil|collect)",
    ],
    "intent_generic": [
        r"\b(?:i'?ll|ill|i will|i'?m going to|im going to|i am going to|i'?m gonna|i'?m about to) (?:finally |just |"
        r"actually |definitely )?"
        r"(?:do it|go through with it|jump|end this)\b",
        rf"\b{_I} (?:am |'m |m )?doing it (?:this|tonight|today|tomorrow|on|at|after|before|when|once)\b",
        r"\b(?:that'?s|thats) it\b(?=[^.!?]*$)|\bi'?m (?:finally )?finishing (?:this|it)\b|"
        r"\bi (?:finally )?stop(?= *[.!]| *$)",
        r"\b(?:i'?m|im|i am) (?:taking|swallowing) (?:them|it|the lot|them all)\b",
    ],
    "plan": [
        r"\b(?:thinking|thought|think|figuring out|worked out|working out) about how (?:i'?d|i would|i could|i'?ll|i "
        r"will|to) "
        r"(?:do it|end it|kill myself|end my life|go through with it)\b",
        r"\b(?:i'?ve|i have) (?:decided|made (?:up )?my (?:mind|decision))[.!]|\bmy mind is made up\b",
        rf"\b{_I} (?:have|'ve got|got|made|came up with|worked out|figured out) (?:a |the )?(?:plan|way|method)\b",
        rf"\b{_I} (?:have |'ve )?(?:planned|been planning|plan(?:ning)? (?:to|on)) (?:\w+ ){{0,3}}(?:{_KILL_SELF}|it|"
        rf"how|when|where|to die|my death|{_METHOD})",
        rf"\b{_I} know (?:exactly )?(?:how|when|where) (?:i'?d|i would|i will|i'?m going to|i'?ll) (?:do it|end it|"
        rf"{_KILL_SELF})",
        r"\b(?:picked|chose|set|chosen) (?:a|the) (?:date|day|time|spot|place|bridge|tree|building|method)\b",
        r"\bmade my mind up\b",
        r"\bi know (?:exactly )?(?:how|where|when)(?: and (?:i know )?(?:how|where|when))?(?= *[.!,;:])",
    ],
    "preparatory": [
        r"\b(?:wrote|written|writing|left|finished) (?:a |my |the )?(?:suicide |goodbye |final )?(?:note|"
        r"letters?)\b(?! (?:for|about|to) (?:class|work|school))",
        r"\b(?:giv(?:ing|en|e)|gave) away (?:my|all my|all of my) (?:\w+ )?(?:things|stuff|belongings|possessions|"
        r"pets?|cat|dog|books)\b",
        r"\b(?:pills|meds|tablets) (?:are |all )?(?:lined up|counted out|laid out|set out|ready)\b|"
        r"\b(?:lined up|counted "
        r"out|laid out) (?:all )?(?:the |my )?(?:pills|meds|tablets)\b",
        r"\b(?:charcoal|a hose|the hose|the noose|a noose)\b(?! (?:grill|bbq|barbecue|drawing|pencil))",
        r"\b(?:practi[cs](?:ing|ed|e)|learn(?:ing|ed|t)?|videos? on|tutorials? on) (?:how to )?(?:tie|tying|knots?|"
        r"a noose)\b",
        r"\b(?:which|what) (?:bridge|building|floor|dose|amount)[^.!?]{0,30}\b(?:high enough|enough|lethal|would "
        r"(?:do it|work|kill))",
        r"\bwithout (?:them|anyone|anybody|people) knowing\b",
        r"\bgiv(?:ing|en|e) (?:my|all my|all of my) (?:things|stuff|belongings|possessions) away\b",
        r"\b(?:wrote|writing|written) down who (?:should|will|can|gets to) (?:take|have|get|look after)\b",
        r"\b(?:wrote|written|writing|left) (?:\w+ )?(?:letters?|notes?) (?:to|for) (?:my|each of my|everyone)\b",
        r"\b(?:said|saying|say) (?:my )?goodbyes?\b",
        r"\b(?:made|updated|wrote|writing) (?:a|my) will\b|\b(?:put|putting|getting) my affairs in order\b",
        r"\b(?:looked up|research(?:ed|ing)?|googled|googling|searched|searching|looking up|reading about) (?:how|"
        r"ways|methods|"
        r"the best way|lethal|painless|"
        r"how many|how much)\b",
        r"\b(?:stockpil(?:e|ed|ing)|sav(?:ed|ing)(?: up)?|hoard(?:ed|ing)) (?:up )?(?:my |some |all |all my |enough )?"
        r"(?:sleeping |\w+'s )?"
        r"(?:pills|meds|medication|tablets|insulin)\b|\bsav(?:ed|ing) up enough (?:pills|meds|tablets|insulin)\b|"
        r"\b(?:pills|meds|tablets|insulin)[^.!?]{0,20}\b(?:i'?ve|i have|ive) been (?:saving|hoarding|stockpiling|"
        r"collecting)\b",
        r"\b(?:bought|buying|got|purchased|ordered) (?:a |some |the |a length of |a pack of )?(?:rope|gun|pistol|"
        r"razor ?blades?|charcoal|bullets|pills|ammunition)\b",
        r"\btested (?:the rope|how|if)\b",
    ],
    "means": [
        r"\bi(?: have|'ve got| got|'ve) (?:everything|what|all) i need\b|\b(?:they'?re|it'?s|the pills are|the gun is) "
        r"(?:on|in) (?:the|"
        r"my) "
        r"(?:kitchen table|table|desk|car|nightstand|drawer|bag)\b",
        rf"\b{_I} (?:have|'ve got|got|keep|own) (?:a |my |the |enough |all |lots of |access to )?(?:(?:dad'?s|his|"
        rf"her|\w+'?s) )?(?:sleeping |hunting |old |service )?"
        r"(?:gun|pistol|rifle|firearm|rope|pills|sleeping pills|tablets|meds|razor|blades?|knife|bottle of \w+)\b",
        r"\b(?:there'?s|there is) a (?:loaded |full )?(?:gun|rope|bottle of pills|knife) in (?:the|my)\b",
        rf"\b{_I} (?:have|'ve got|got) (?:a |an )?(?:whole |full )?(?:drawer|cabinet|bottle|box|bag|stash|stockpile) "
        r"(?:full )?of (?:\w+'?s? ){0,2}(?:pills|meds|tablets|morphine|oxy\w*|insulin|lithium)\b",
        r"\b(?:the|a|my|his|dad'?s|\w+'s) (?:loaded )?(?:gun|rifle|pistol|revolver|shotgun|knives|knife|pills) "
        r"(?:is |are )?(?:in|under) (?:the|my|his|her) (?:\w+ )?(?:shed|closet|drawer|safe|garage|kitchen|car|glovebox|"
        r"bed|cabinet|room|lap)\b",
        r"\b(?:gun|rifle|pistol|revolver|shotgun) (?:is )?(?:loaded|in my lap)\b|\bloaded the (?:gun|rifle|pistol|"
        r"revolver|shotgun)\b",
        rf"\b{_I} (?:standing|sitting|at|on) (?:on |at |in )?(?:the |a |my )?(?:\w+ )?(?:edge|ledge|bridge|roof|"
        rf"rooftop|railing|"
        r"tracks|cliff|balcony|overpass)\b",
        r"\b(?:knife|blade|razor|gun|pills|rope) (?:is )?(?:in my hand|next to me|right here|in front of me|"
        r"on my (?:desk|bed|lap))\b",
        r"\benough (?:pills|meds|tablets|medication) (?:to|saved|stored)\b",
    ],
    "method": [rf"\b{_METHOD}"],
    "attempt": [
        r"\b(?:stopped|quit|stop) taking my (?:\w+ )?(?:medication|meds|insulin|pills|medicine|tablets) (?:on purpose|"
        r"deliberately|"
        r"so (?:that )?i|because i want)",
        rf"\b(?:tried|attempted|attempting|trying|try) (?:to )?(?:{_KILL_SELF}|overdose|od|"
        rf"hang my ?self|drown my ?self|die)\b",
        r"\b(?:my|a|previous|past|last|prior|first|second|third|suicide|failed) (?:suicide )?attempts?\b",
        rf"\b{_I} (?:attempted) (?:once|twice|before|again|several times|(?:\w+ )?times)\b",
        rf"\b{_I} (?:overdosed|od'?d|survived (?:an|my|the) (?:attempt|overdose))\b",
        r"\b(?:took|taken|had|taking|take) an? (?:intentional |deliberate )?overdose\b",
        r"\b(?:hospitali[sz]ed|in hospital|in the er|psych ward|inpatient) (?:after|because|when) (?:i|my) "
        r"(?:tried|attempt|overdos)",
    ],
    "active": [
        rf"\b(?:think|thinking|thought|thoughts|contemplat(?:e|ed|ing)|consider(?:ed|ing)?|fantasi[sz](?:e|ed|ing)|"
        rf"dream(?:ing)?|obsess(?:ed|ing)?) (?:a lot |seriously |more |so much )?(?:about |bout |abt |of )?{_ADV}"
        rf"(?:{_KILL_SELF}|dying by suicide)",
        rf"\b(?:wants?|wanna|wanted|feel like|urge to|urges to|tempted to|need to|going to have to)(?: to)? (?:just |"
        rf"really )?(?:{_KILL_SELF}|end(?:ing)? it)\b|\burges? to {_ADV}die\b",
        rf"\b(?:think|thinking|thought|thoughts) (?:a lot |about |of )+{_ADV}ending it\b",
        r"\bsuicide (?:is|seems|feels) like (?:the|my) only\b|\bonly (?:option|way out|answer|choice) (?:is|would be|"
        r"left is) "
        r"(?:to die|suicide|death|to end it)\b",
        rf"\b(?:{_I} )?(?:am |'m |feel |feeling |been |get |getting |have been )?(?:really |so |very |kind of |"
        rf"pretty )?suicidal\b",
        r"\bsuicidal (?:thoughts|ideation|feelings|urges)\b",
        r"\bsuicide (?:is|has been|'s) (?:always |constantly |all )?(?:on my mind|all i think about)\b",
        r"\bwant(?:ed|s)? to use (?:it|one|them|the \w+) on my ?self\b",
        r"\b(?:kill(?:ing)? my ?self|kms|unalive my ?self|end(?:ing)? my (?:own )?life|take my (?:own )?life)\b",
    ],
    "self_harm": [
        r"\b(?:scratch|cut|burn|hit|bang|punch|pinch|bite)\w* (?:my (?:arms?|legs?|skin|wrists?|head|thighs?|hands?)|"
        r"myself) "
        r"(?:until|till|so) (?:it|they|i) (?:bleeds?|bruises?|hurts?|bleed)\b",
        rf"\b{_HURT_SELF}\b",
        r"\bself[- ]?harm(?:ing|ed)?\b|\bself[- ]?injur(?:y|ing)\b",
        rf"\b{_I} (?:have been |'ve been |been |keep |started |still )?(?:cutting|burning) (?:again|myself|"
        rf"my (?:arms?|legs?|wrists?|thighs?))",
        rf"\b{_I} (?:cut|burned|burnt|scratched) (?:myself|my (?:arms?|legs?|wrists?|thighs?|skin|stomach)|again|deep)",
        r"\b(?:the )?urge to (?:cut|self[- ]?harm|hurt myself)\b",
        r"\b(?:pick|scratch|hit|bang|punch|bite|burn|cut|starv)\w*\b[^.!?]{0,40}\bon purpose\b",
        r"\b(?:hit|hitting|punch|punching|slap|slapping|starv(?:e|ing)|bit|biting) my ?self\b",
        r"(?:^|\b(?:i|and|been|keep|started|still) )(?:cut|cutting|burned|burnt) (?:again|tonight|last night|as "
        r"punishment|deep)\b",
        # Relief-seeking: "it only goes away when I hurt myself".
        r"\b(?:goes away|helps|stops|calms me|feel (?:better|something|real)) (?:only )?(?:when|if|after) i "
        r"(?:hurt|harm|cut|burn|punish)\w* my ?self\b",
        # A past habit wanted now: "I used to cut myself, and I really want to again".
        r"(?:(?<=cut myself)|(?<=burn myself)|(?<=hurt myself)|(?<=harm myself)|(?<=cutting)|(?<=self-harm))"
        r"(?:(?!\b(?:don'?t|do not|never|not|no longer)\b)[^.?!]){0,50}?" + _WANT_AGAIN,
    ],
    "passive": [
        r"\b(?:dying|death|being dead) would be (?:easier|better|a relief|peaceful|a release)\b",
        r"\b(?:easier|better) if (?:a|the) (?:bus|car|truck|train) (?:just )?(?:hit|hits|ran over|runs over) me\b",
        r"\b(?:should|want to|wish i could|could) (?:just )?(?:go and |go )?join (?:her|him|them|my (?:late "
        r")?\w+)(?!'s|s'| (?:for|at|on|to|with|and|by|next|this|tomorrow|tonight)\b)(?: in \w+)?\b",
        r"\bwish (?:it had been|it was|it were) me\b|\bwish i(?:'d| had) (?:died|gone) (?:with|instead)\b",
        rf"\bwish(?:ed)? (?:that )?{_I}? ?(?:was|were|'d been|had been|would be|could be)? ?(?:dead|never born|"
        rf"not born|gone|not here|"
        r"not alive|asleep forever)\b",
        rf"\bwish(?:ed)? (?:that )?{_I}? ?(?:could |would )?(?:just )?(?:disappear|vanish|not wake up|stop existing|"
        rf"cease to exist|"
        r"die|go to sleep and (?:never|not) wake up|didn'?t exist|wasn'?t (?:here|alive)|had(?:n'?t| not|"
        r" never) been born|"
        r"wouldn'?t have been born)\b",
        r"\bwish(?:ed)? (?:for )?(?:an accident|something (?:bad )?would happen to me|a car would hit me|"
        r"i would get hit|i'?d get sick and die)\b",
        r"\b(?:don'?t|do not|no longer|doesn'?t|never) (?:really )?(?:(?:want|wish) to|wanna) (?:be alive|live|exist|"
        r"be here|wake up|go on|"
        r"keep (?:living|going)|be around|continue)\b",
        # ("wanna" carries its own "to": "i wanna die" matched nothing while "I want to die" did)
        rf"\b(?:(?:wants?|wanted|wanting|(?:would|'d) like|(?:would|'d) love) to|wanna) {_ADV}(?:die|be dead|"
        r"not be here|"
        r"not exist|disappear forever|stop existing|"
        r"sleep forever|"
        r"(?:just )?disappear\b(?! (?:for|to|into|on)))",
        r"\b(?:easier|better) if i (?:just )?(?:didn'?t wake up|never woke up|wasn'?t here|was gone|were gone|died|"
        r"disappeared|"
        r"was dead|were dead|didn'?t exist)\b|\bso (?:that )?i (?:don'?t|never|won'?t) wake up\b",
        r"\b(?:don'?t|can'?t|cannot|do not) see (?:the|any) point (?:in|of) (?:going on|living|life|being here|"
        r"being alive|waking up)\b",
        r"\b(?:i'?m|i am) (?:so |just )?done with (?:life|living|everything|it all|being alive)\b",
        r"\b(?:would be|'d be|is) better without me\b|\b(?:no ?one|nobody) (?:would|will) (?:miss me|notice if i|"
        r"care if i)\b",
        r"\bdark thoughts\b",
        r"\bbetter off with (?:the|my) (?:life )?insurance\b|\b(?:life insurance|insurance money) would\b",
        r"\b(?:think|thinking|thought|thoughts) (?:a lot |constantly |all the time )?(?:about|of) (?:dying|death|"
        r"being dead|not being here|"
        r"not existing|not waking up)\b",
        r"\b(?:tired|sick|exhausted) of (?:living|being alive|life|existing|everything)\b",
        r"\b(?:(?:every|some)one|they|the world|my family|people|everybody) (?:would be|'d be|is|are) better off "
        r"(?:without me|if i (?:just )?(?:was|were|wasn'?t|died|disappeared|left|was gone|were gone))|\bbetter off "
        r"dead\b",
        r"\b(?:no|nothing to|not any) (?:reason|point|purpose) (?:at all |left )?(?:for (?:me|someone like me) )?"
        r"(?:to|in|of|for) (?:live|living|going on|go on|being alive|be alive|keep (?:living|going)|life|exist|"
        r"being here|be here|waking up)\b|\bnothing (?:left )?to live for\b",
        r"\blife (?:is(?:n'?t| not)|isnt) worth (?:living|it)\b|\bnot worth living\b",
        r"\b(?:want|wanted) (?:it all|everything|it|this|the pain) to (?:end|stop|be over)\b",
        r"\bhope (?:that )?i (?:don'?t wake up|die|never wake up)\b|\bwouldn'?t mind (?:dying|if i (?:didn'?t wake up|"
        r"never woke up|was gone|wasn'?t here)|if i died|"
        r"not waking up)\b",
        r"\b(?:i )?(?:shouldn'?t|should not|don'?t deserve to) (?:be here|be alive|exist|live)\b",
        r"\bif i (?:died|was gone|were gone|disappeared),? (?:no one|nobody) would (?:care|notice|miss me)\b",
        r"\b(?:no ?one|nobody) would (?:even )?(?:notice|care|miss me)[^.!?]{0,12}\bif i (?:just )?(?:was|were|died|"
        r"disappeared|wasn'?t (?:here|around|alive)|was dead)\b",
        r"\bpray(?:ing|ed)? (?:to|that i) (?:die|not wake up)\b",
        r"\bhope (?:that )?i (?:get \w+ and )?(?:die|don'?t wake up)\b",
        rf"\bwish(?:ed)? (?:that )?{_I} (?:had )?never been born\b",
    ],
    "hopelessness": [
        rf"\b{_I} (?:feel |am |'m )?(?:so |completely |totally )?(?:hopeless|worthless|trapped|a burden|"
        rf"like a burden)\b",
        r"\bburden (?:to|on|for) (?:everyone|my|them|others|people|you|everybody)\b|"
        r"\b(?:i'?m|i am|feel like|feeling like) (?:such |just |a |an |nothing but )*(?:a )?burden\b",
        r"\b(?:don'?t|can'?t|cannot) see (?:the|any) point (?:in|of) (?:anything|trying|it all)\b",
        r"\bnothing (?:really )?matters(?: any ?more)?\b|"
        r"\b(?:no way out|no hope left|can'?t see (?:a|any) (?:future|way out|point)|there'?s no point|"
        r"what'?s the point)\b",
        rf"\b{_I} (?:can'?t|cannot) (?:go on|keep going|do this any ?more|take (?:it|this) any ?more)\b",
    ],
    "protective": [
        r"\b(?:my|the) (?:kids?|children|son|daughter|family|dog|cat|pets?|faith|partner|wife|husband|mom|mum|dad|"
        r"parents) "
        r"(?:keeps? me (?:going|here|alive)|(?:is|are) (?:the reason|why) i|(?:is|are) what keeps? me)",
        r"\b(?:would(?:n'?t| never)|could(?:n'?t| never)|won'?t|will never) (?:ever )?(?:do (?:that|it)|act on (?:it|"
        r"them|those)|"
        r"go through with it)\b",
        r"\bi'?m (?:safe|okay|ok|fine) (?:right now|now|tonight|for now|at the moment)\b|\bi (?:am|feel) safe\b",
        r"\b(?:have|got|see|seeing|talking to|started) (?:a |my |with (?:a |my )?)?(?:therapist|counsel+or|"
        r"psychiatrist|safety plan|support group)\b",
        r"\b(?:no|don'?t have (?:a|any)|never had a) (?:plan|plans|intention|intent)\b",
        r"\b(?:doing|feeling|in a) (?:much |a lot )?(?:better|good place|well) now\b",
        r"\b(?:reasons? to live|looking forward to)\b",
        r"\b(?:don'?t|do not) (?:feel|think) (?:that way|like that) any ?more\b|\bno longer (?:feel|think) (?:that "
        r"way|like that)\b",
    ],
}
