"""Cue patterns found by wording-probe rounds 7-10 (session 11): death appraised as a relief, lethality asked by
amount, walking into the sea, "sh" and fresh cuts, self-harm announced, doubt about staying safe, a farewell to
whoever reads the message, veiled deaths, questions about one's own death, bleeding out, the last weekend alive,
where the body will be found, wishing to be killed, "tonight I end it", pills bought from several shops.
``risk_acts`` adds them to its kinds before compiling; each class was missed by the rules on probes
(tests/metrics/vignettes/risk_wording_probes.jsonl, sets dev7-11 and holdout7-11).
"""

from __future__ import annotations

from harness.metrics.risk_words import _DRUG, _METHOD

PATTERNS: dict[str, list[str]] = {
    "passive": [], "preparatory": [], "method": [], "plan": [], "self_harm": [], "active": [], "farewell": [],
    "intent": [], "hopelessness": [],
}

# --- death as a relief, lethality asked by amount, walking into the sea (session 11, round 7) -------------------
# "Death sounds so peaceful right now": the wish is told as an appraisal of death, with no verb of wanting. Whose
# death is asked by the lookbehinds ("her death was peaceful" is grief) and by the present or conditional verb.
_DEATH_ITSELF = (
    r"(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!'s )(?<!\bthe )(?<!\ba )\b(?:dying|death|being dead|not being (?:here|"
    r"alive|around)|not existing|(?:not|never) waking up)(?: (?:tomorrow|again|any ?more|in my sleep|forever|for good|"
    r"right now))?"
)
_APPEALING = (
    r"(?:(?:so|really|kind of|almost|honestly|pretty|quite|such|more and more|strangely|weirdly|oddly|like|a|an) )*"
    r"(?:relief|peaceful|peace|release|appealing|tempting|comforting|a comfort|inviting|attractive|"
    r"welcome|escape|freedom|rest|the answer|a way out|the way out|the easy way|easier|better|nice|lovely|calm|calming|"
    r"soothing|restful|bliss)\b(?! (?:than|for) (?:the|a|an|his|her|their|them|him|animals?|patients?)\b)"
)
PATTERNS["passive"] += [
    rf"{_DEATH_ITSELF} (?:just |honestly |really )?(?:sounds?|seems?|feels?|looks?|is|'s|would (?:be|feel|sound)) "
    rf"{_APPEALING}",
    rf"\b(?:the )?(?:thought|idea) of {_DEATH_ITSELF}(?: \w+)? (?:is|feels|sounds|seems|'s|brings me) {_APPEALING}",
    rf"\b(?:the )?(?:thought|idea) of {_DEATH_ITSELF}(?: \w+)? (?:comforts|calms|soothes|relaxes) me\b",
    r"\b(?:i'?d|i would|i'?ll|i will) (?:honestly |gladly |happily |just )?welcome death\b",
]
# "Is 30 paracetamol enough to do it?", "would a whole box of my sleeping pills be enough?": lethality asked by
# amount. With "to die / to do it / to not wake up" any amount counts; a bare "enough?" needs a large one (two or
# more pills, not a dose in mg: "is 20 mg of sertraline enough?" is a medication question).
_LARGE_AMOUNT = (
    r"(?:\d{2,}(?! ?(?:mg|mcg|\u00b5g|ml|g|grams?|units?|iu|%|milligrams?)\b)|twenty|thirty|forty|fifty|sixty|"
    r"a hundred|"
    r"a (?:whole |full |entire )?(?:bottle|box|pack|packet|strip|tub)|all (?:of )?(?:my|these|those|the|them)|"
    r"the (?:whole|entire) (?:bottle|box|pack|packet|lot))"
)
PATTERNS["preparatory"] += [
    rf"\b(?:is|are|would|will|could|wd)\b[^.?!]{{0,12}}?\b(?:{_LARGE_AMOUNT}|\d+|a few|some)\b[^.?!]{{0,30}}?"
    rf"\b{_DRUG}\b[^.?!]{{0,20}}?\benough (?:to (?:do it|die|kill (?:me|myself|a person|someone|an adult)|end it|"
    r"end things|not wake up|never wake up|stop (?:my|a) heart|be fatal|finish (?:it|me))|"
    r"for (?:an? )?(?:overdose|od)\b)",
    rf"\b(?:is|are|would|will|could)\b[^.?!]{{0,12}}?\b{_LARGE_AMOUNT}\b[^.?!]{{0,30}}?\b{_DRUG}\b"
    r"[^.?!]{0,12}?\benough\b(?: (?:do you think|you think|tho|though))? ?\?",
]
# "walk into the sea" is a method like "drown myself" (a swim, a paddle or a holiday is not), and "my plan is to"
# before a method is a plan ("my plan is to drive to the coast on Saturday and walk into the sea").
_INTO_WATER = (
    r"walk(?:ing|ed)? (?:out )?into (?:the )?(?:sea|ocean|lake|river|loch|waves|surf)\b"
    r"(?![^.!?]{0,40}\b(?:swim\w*|paddl\w*|surf\w*|holiday|vacation|bath\w*|dip|cool (?:off|down)|splash\w*|kids|"
    r"dog)\b)"
)
PATTERNS["method"] += [rf"\b{_INTO_WATER}"]
PATTERNS["plan"] += [rf"\bmy (?:plan|intention) is to\b(?=[^.!?]{{0,60}}?\b(?:{_METHOD}|{_INTO_WATER}))"]

# --- "sh", cuts as nouns, keeping safe, veiled goodbyes (session 11, round 8) ------------------------------------
# Peer-support shorthand "sh" for self-harm ("my sh urges", "relapsed with sh"), fresh cuts told as nouns, and acts
# announced ("I'm going to hurt myself tonight"; with a set time the rules read it as high).
_SH = r"(?:sh|s/h)"
# The verbs that announce an act ("I'm going to hurt myself"); ``risk_rules`` dates these with a set time.
SELF_HARM_ANNOUNCING = r"(?:going to|gonna|about to|i'?ll|i will|ill)"
_SELF_HARM_SAID = (
    rf"(?:{SELF_HARM_ANNOUNCING}|want to|wanna|need to) (?:really |badly |just )?"
    r"(?:hurt|harm|cut|burn|punish) my ?self\b"
)
PATTERNS["self_harm"] += [
    rf"\b{_SH} (?:urges?|relapse|again|scars?|wounds?|cuts?|marks)\b|\b(?:urges? to |relaps\w* (?:with|on|into) |"
    rf"(?:started|been|doing|did|do|want to|wanna|tempted to|thinking about|going to|gonna) ){_SH}\b",
    rf"\b{_SELF_HARM_SAID}",
    # ("my new cuts", "fresh cuts on my thighs", "my cuts keep getting deeper"; not cuts from a fall or to a budget)
    r"\bmy (?:new|fresh|latest) cuts\b(?! (?:from|after|to|in)\b)|\b(?:new|fresh) cuts (?:on|across) my (?:arms?|legs?|"
    r"wrists?|thighs?|stomach|hips?|skin)\b|"
    r"\b(?:my cuts|cuts on my \w+)[^.!?]{0,20}?\b(?:getting|get|got|go|going) deeper\b|"
    r"\bcutting deeper\b",
]
# "I don't know if I can keep myself safe tonight", "I don't trust myself around the pills": the writer's own doubt
# about staying safe is active risk (a set time makes it high); "I'm scared I'll do something stupid" likewise, when
# the something is not an interview or a message.
PATTERNS["active"] += [
    r"\b(?:can'?t|cannot|could ?n'?t|don'?t know if i can|not sure (?:if )?i can|unable to|can'?t promise (?:i'?ll|i "
    r"will|to|that i'?ll)|don'?t think i can) (?:stay|keep(?: my ?self)?|be|remain) safe\b",
    r"\bdon'?t trust my ?self (?:tonight|any ?more|right now|around (?:the|my) (?:pills|knives|meds|tablets|razors?|"
    r"blades?|gun)|not to (?:hurt|do|harm|cut|take))\b",
    r"\b(?:scared|afraid|worried|terrified|frightened) (?:that )?(?:i'?m going to|i'?ll|i will|i might|i may|of what i)"
    r" (?:(?:might|will|could) )?do something (?:stupid|drastic|silly|dangerous|bad|i can'?t take back)"
    r"(?= *(?:to my ?self|tonight|today|right now|again|[.!?]|$))",
]
# Told to whoever finds it: "If you're reading this, I'm already gone" (the beach is not gone).
PATTERNS["farewell"] += [
    r"\bif (?:you'?re|you are|anyone is|someone is|you) (?:reading|read|find(?:ing)?|see(?:ing)?) this,? (?:then |it "
    r"means )?i'?m (?:already |probably |likely )?(?:gone|dead|not (?:here|alive) any ?more|no longer (?:here|alive|"
    r"around)|in a better place)\b",
]
# Veiled deaths said of oneself in the future: "this time next week I'll be gone for good", "I won't be here
# anymore" (a weekend away, dead tired or dead meat is not one).
_VEILED_DEATH = (
    r"(?:dead|gone (?:for good|forever|for ever|permanently)|six feet under|in the ground|at peace for good)"
)
PATTERNS["passive"] += [
    rf"\b(?:i'?ll|i will|ill|i'?m going to|i'?m gonna|i should|i'?d) (?:already |finally |probably |hopefully )?be "
    rf"{_VEILED_DEATH}\b(?! (?:tired|bored|beat|meat|on my feet|busy|serious|jealous|set|last)\b)",
    # ("here anymore" is as often a move or a job: only "alive/around anymore" and "here much longer" count)
    r"\b(?:i )?(?:won'?t|will not|wont) be (?:(?:alive|around) any ?more|(?:here|around|alive) (?:for (?:much )?longer|"
    r"much longer|for long))"
    r"\b(?![^.!?]{0,40}\b(?:mov\w+|job|flat|house|office|uni|school|contract|leav\w+|transfer\w*|visa|holiday|"
    r"trip|summer|team|shift|city|town|country)\b)",
]

# --- questions about one's own death, bleeding out, the last weekend alive (session 11, round 9) ----------------
# "Would anyone even care if I killed myself?", "Why shouldn't I just kill myself?": asked, not denied (the negator
# of "shouldn't" is part of the question, so the cue starts before it); "I'm scared of what I'll do to myself".
_OWN_DEATH = r"(?:killed my ?self|ended (?:it all|my (?:own )?life)|took my (?:own )?life|committed suicide)"
PATTERNS["active"] += [
    rf"\b(?:would|will) (?:anyone|anybody|people|my \w+|they) (?:even |actually |really )?(?:care|notice|miss me|"
    rf"be sad|cry|mind)\b[^.!?]{{0,12}}\bif i (?:just )?{_OWN_DEATH}",
    rf"\b(?:would|will|does) it (?:even |actually |really )?matter (?:to (?:anyone|anybody|my \w+) )?if i (?:just )?"
    rf"{_OWN_DEATH}",
    r"\b(?:why (?:shouldn'?t|should ?n'?t|not) (?:i )?(?:just )?|give me (?:one|a|any) (?:good |single )?reason "
    r"(?:why i shouldn'?t |not to )|(?:is there )?(?:any|one) (?:good )?reason (?:why i shouldn'?t |not to )|"
    r"what'?s (?:even |actually )?stopping me from )(?:just )?(?:kill(?:ing)? my ?self|end(?:ing)? (?:it all|my life|"
    r"it)|tak(?:e|ing) my (?:own )?life|die|dying)\b",
    r"\b(?:scared|afraid|terrified|frightened|worried) (?:of )?what i(?:'ll| will| might| could| may|'m going to| am "
    r"going to)? (?:do|end up doing) to my ?self\b",
]
# "how long does it take to bleed out", "how much blood do you have to lose to die": research, like "how many
# pills"; dying of an illness is asked about a relative at least as often, so it is left out.
PATTERNS["preparatory"] += [
    r"\bhow long (?:does|would|will|did|do) it (?:usually )?take (?:for (?:you|someone|a person|me) )?to (?:bleed out|"
    r"(?:suffocate|drown)(?! (?:the|a|an|my|your|his|her|their|our|it|them|out|those|these)\b)|"
    r"die (?:from|of|by|after) (?:an? )?(?:overdose|hanging|bleeding|blood loss|carbon monoxide|"
    r"drowning|jumping)|pass out (?:and die|from (?:a|the) (?:noose|rope|ligature)))\b",
    r"\bhow much blood (?:do|would|does|can|must) (?:you|someone|a person|i|one) (?:have to |need to )?lose "
    r"(?:to|before (?:you|they|i)) (?:die|pass out and die|bleed out)\b",
]
# "this is the last weekend I'll be alive", "the last Christmas I'll ever have": a veiled date for one's death
# (not "the last weekend I'll spend in this flat", not "we'll").
PATTERNS["intent"] += [
    r"\bthe last (?:day|night|weekend|week|month|christmas|birthday|summer|new year|easter|time)s? (?:that )?"
    r"(?:i'?ll|i will|ill|i'?m going to) (?:ever )?(?:be alive|be here|be around|wake up|see you|have)\b"
    r"(?! (?:off|to|a|an|the|in|at|with|here|this|that)\b)",
]
# Death by omission: "I'll keep not eating until my heart gives out" (found at holdout9's first scoring).
PATTERNS["active"] += [
    r"\b(?:not eat(?:ing)?|stop(?:ped|ping)? eating|starv\w*|refus\w* (?:to eat|food|my (?:meds|medication|insulin))|"
    r"(?:not |stop(?:ped|ping)? )tak(?:e|ing) my (?:meds|medication|insulin|tablets))\b[^.!?]{0,25}\buntil "
    r"(?:my heart (?:gives out|stops|fails)|my body (?:gives out|shuts down)|i (?:die|drop dead|waste away|"
    r"disappear|pass out for good))\b",
]

# --- found, killed by someone, hit by a car, "tonight I end it" (session 11, round 10) ----------------------------
PATTERNS["preparatory"] += [
    # "...so my kids don't have to find me", "so nobody finds me": arranging where the body will be found
    r"\bso (?:that )?(?:my (?:\w+ )?(?:kids|children|family|wife|husband|partner|mum|mom|dad|parents|son|daughter|"
    r"flatmate|roommate)|nobody(?: i love)?|no ?one(?: i love)?|none of them)(?: (?:don'?t|doesn'?t|won'?t|"
    r"wouldn'?t|never))? (?:(?:have|has) to |will |would )?finds? me\b(?! (?:hiding|playing|here|there|in the "
    r"(?:cupboard|closet|wardrobe)|during)\b)",
]
PATTERNS["passive"] += [
    # "I just want someone to kill me", "I wish someone would shoot me"
    r"\b(?:want|wish|need|hope)\w* (?:that )?(?:some ?one|some ?body|any ?one|a stranger) (?:to|would|could|will) "
    r"(?:just )?(?:kill|shoot|murder|stab|run over) me\b",
    # "I secretly hope a car hits me"
    r"\bhop(?:e|es|ing|ed) (?:that )?(?:a|the|some) (?:car|bus|lorry|truck|train|van) (?:hits|will hit|would hit|"
    r"hit|runs? me over|would run me over|will run me over) ?(?:me)?\b",
]
PATTERNS["intent"] += [
    # "Tonight I end it." (simple present with a set time; not "end it with him", "end my gym membership")
    r"\b(?:tonight|today|tomorrow|now|this (?:evening|weekend)),? i (?:finally )?end (?:it(?: all)?|things|"
    r"everything|my life)\b(?! (?:with|for|between)\b)",
]

# --- pills gathered from several shops (session 11, round 11) ----------------------------------------------------
# "I've been going to different chemists so I can buy more paracetamol": pack-size limits got round by visiting
# several shops, a recognised sign of stockpiling. Only with a word for getting more or going unnoticed (price is
# an everyday reason), and not for someone else ("three chemists to find Calpol for the baby").
_SHOPS = r"(?:chemists?|pharmac(?:y|ies)|shops?|supermarkets?|stores?|garages?)"
_OTC = r"(?:paracetamol|tylenol|acetaminophen|pills|tablets|painkillers|co-?codamol|ibuprofen|aspirin|nytol)"
_MORE_UNNOTICED = (
    r"(?=[^.!?]*\b(?:more|extra|enough|every (?:day|week)|limits?|so (?:that )?(?:they|nobody|no ?one|the "
    r"(?:staff|pharmacist|cashier)) (?:don'?t |doesn'?t |won'?t |wouldn'?t )?(?:notice|ask|know|get suspicious)))"
    r"(?![^.!?]*\bfor (?:the|my|a|our) (?:baby|kids?|son|daughter|dad|mum|mom|nan|gran|husband|wife|partner)\b)"
)
PATTERNS["preparatory"] += [
    rf"\b(?:different|several|multiple|two|three|four|five|other) {_SHOPS}\b{_MORE_UNNOTICED}[^.!?]{{0,40}}\b{_OTC}\b",
    rf"\b(?:buy|buying|bought|get|getting|got) (?:more |extra |some )?{_OTC}{_MORE_UNNOTICED} (?:from|at|in) "
    rf"(?:a |two |three |several )?(?:different|several|multiple|other) {_SHOPS}\b",
]
# Found at holdout11's first scoring (dev11 had the same classes, caught there by the learned half only): a veiled
# death others will regret, and worth told as wasted air.
PATTERNS["passive"] += [
    r"\b(?:they'?ll|you'?ll|everyone will|everybody will|people will|they will|you will|she'?ll|he'?ll) (?:all )?"
    r"(?:be sorry|miss me|regret (?:it|this|everything)|realise|realize|notice me|care)\b[^.!?]{0,15}\bwhen i'?m "
    r"(?:gone|dead)\b(?! (?:to|for|on|abroad|away|off)\b)",
]
PATTERNS["hopelessness"] += [
    r"\b(?:i'?m|i am|feel like|feeling like) (?:just |such |a complete |a total |nothing but |only )*(?:a )?waste of "
    r"(?:space|oxygen|air|skin|a life)\b",
]
