"""What ``harness.metrics.groundedness`` recognises in discharge answers: units and doses, durations, dates,
frequency synonyms, medication names, instructions, declines and care-team referrals, and stop words.
"""

from __future__ import annotations

import re

_UNIT_CANON = {
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "mgs": "mg",
    "mcg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "ug": "mcg",
    "µg": "mcg",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "gm": "g",
    "ml": "ml",
    "milliliter": "ml",
    "milliliters": "ml",
    "millilitre": "ml",
    "millilitres": "ml",
    "cc": "ml",
    "l": "l",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "litres": "l",
    "unit": "units",
    "units": "units",
    "iu": "units",
    "tablet": "tablet",
    "tablets": "tablet",
    "tab": "tablet",
    "tabs": "tablet",
    "pill": "tablet",
    "pills": "tablet",
    "capsule": "capsule",
    "capsules": "capsule",
    "cap": "capsule",
    "caps": "capsule",
    "puff": "puff",
    "puffs": "puff",
    "drop": "drop",
    "drops": "drop",
    "%": "%",
    "percent": "%",
    "mmol": "mmol",
    "meq": "meq",
    "lb": "lb",
    "lbs": "lb",
    "pounds": "lb",
    "pound": "lb",
    "kg": "kg",
    "kilograms": "kg",
    "mmhg": "mmhg",
    "bpm": "bpm",
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNIT_CANON), key=len, reverse=True))
_DOSE = re.compile(rf"(?<![\w.])(\d+(?:[.,]\d+)?(?:\s*(?:-|to|/)\s*\d+(?:\.\d+)?)?)\s*({_UNIT_RE})(?![a-z])", re.I)
_DURATION = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:-|to)?\s*(?:\d+\s*)?(minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|"
    r"years?|yrs?)\b",
    re.I,
)
_MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(?:({_MONTH_RE})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?|(\d{{1,2}})(?:st|nd|rd|"
    rf"th)? (?:of )?({_MONTH_RE})\b(?:,? (\d{{4}}))?|"
    rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})|(\d{{1,2}})/(\d{{1,2}})(?:/(\d{{2,4}}))?)",
    re.I,
)
_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)
# Frequencies collapse to a canonical token so "BID", "twice a day" and "2 times daily" match.
_FREQ: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:bid|b\.i\.d\.?|twice (?:a|per|each) day|twice daily|2 times (?:a|per|each) day|2 times daily|"
            r"every 12 hours|"
            r"q12h?)\b",
            re.I,
        ),
        "freq:2/day",
    ),
    (
        re.compile(
            r"\b(?:tid|t\.i\.d\.?|three times (?:a|per|each) day|3 times (?:a|per|each) day|3 times daily|"
            r"three times daily|"
            r"every 8 hours|q8h?)\b",
            re.I,
        ),
        "freq:3/day",
    ),
    (
        re.compile(
            r"\b(?:qid|q\.i\.d\.?|four times (?:a|per|each) day|4 times (?:a|per|each) day|4 times daily|"
            r"four times daily|"
            r"every 6 hours|q6h?)\b",
            re.I,
        ),
        "freq:4/day",
    ),
    (
        re.compile(
            r"\b(?:qd|q\.d\.?|once (?:a|per|each) day|once daily|1 time (?:a|per) day|every day|daily|every 24 hours|"
            r"q24h?|"
            r"each day)\b",
            re.I,
        ),
        "freq:1/day",
    ),
    (re.compile(r"\b(?:qhs|at bedtime|at night|before bed|nightly|every night|each night)\b", re.I), "freq:bedtime"),
    (re.compile(r"\b(?:every morning|each morning|in the morning|qam)\b", re.I), "freq:morning"),
    (re.compile(r"\b(?:prn|as needed|when needed|if needed|as required)\b", re.I), "freq:prn"),
    (re.compile(r"\b(?:weekly|once a week|every week|each week|once weekly)\b", re.I), "freq:weekly"),
    (re.compile(r"\bevery (\d+) hours?\b|\bq(\d+)h\b", re.I), "freq:q{}h"),
]
_DRUG_SUFFIX = re.compile(
    r"\b[a-z]{3,}(?:pril|olol|sartan|statin|mycin|micin|cillin|floxacin|cycline|azole|prazole|dipine|zepam|zolam|"
    r"tidine|formin|"
    r"gliptin|glitazone|parin|xaban|gatran|semide|thiazide|triptan|setron|profen|oxacin|vir|mab|nib|lukast|terol|sone|"
    r"olone|"
    r"azine|oxetine|aline|faxine|pramine|triptyline|barbital|codone|morphone|phine|dronate|tropium)\b",
    re.I,
)
_DRUG_WORDS = frozenset(
    "metformin insulin warfarin aspirin heparin lithium prednisone acetaminophen paracetamol tylenol ibuprofen "
    "naproxen advil "
    "motrin aleve digoxin amiodarone clopidogrel plavix eliquis xarelto coumadin lasix furosemide spironolactone "
    "levothyroxine synthroid amoxicillin augmentin keflex cephalexin ceftriaxone vancomycin nitroglycerin albuterol "
    "ventolin "
    "gabapentin tramadol oxycodone hydrocodone morphine senna docusate colace miralax polyethylene ondansetron zofran "
    "pantoprazole omeprazole nexium prilosec famotidine pepcid sertraline zoloft fluoxetine prozac trazodone "
    "quetiapine "
    "seroquel melatonin magnesium potassium calcium iron ferrous vitamin folic thiamine multivitamin nicotine "
    "varenicline "
    "chantix methotrexate allopurinol colchicine tamsulosin finasteride glipizide glyburide januvia lantus humalog "
    "novolog "
    "jardiance farxiga ozempic trulicity entresto carvedilol coreg metoprolol lopressor toprol amlodipine norvasc "
    "lisinopril losartan hydralazine isosorbide atorvastatin lipitor rosuvastatin crestor simvastatin pravastatin "
    "enoxaparin lovenox apixaban rivaroxaban dabigatran ticagrelor brilinta diltiazem verapamil clonidine doxycycline "
    "azithromycin zithromax bactrim nitrofurantoin macrobid cipro ciprofloxacin levofloxacin flagyl metronidazole "
    "fluconazole "
    "diflucan prednisolone dexamethasone methylprednisolone medrol hydrochlorothiazide chlorthalidone".split()
)
_COMMON_FALSE_DRUGS = frozenset("reason person season poison prison lesson verse universe response horizon".split())
_INSTRUCTION = re.compile(
    r"^(?:please |you should |you must |you need to |you can |you may |make sure (?:to |you )?|be sure to |"
    r"remember to |try to )?"
    r"(?:avoid|do not|don'?t|no|keep|take|stop|start|continue|resume|call|return|go|come|follow|schedule|see|check|"
    r"monitor|"
    r"weigh|elevate|apply|change|wear|use|limit|drink|eat|walk|rest|walk|shower|bathe|lift|drive|report|watch|"
    r"restart|hold)\b",
    re.I,
)
_DECLINE = re.compile(
    r"\b(?:(?:is|are|was|were)(?: not|n'?t) (?:mentioned|specified|stated|listed|included|documented|addressed|covered|"
    r"in (?:the|your))|"
    r"(?:does|do|did|is|are)(?: not|n'?t) (?:say|mention|include|specify|state|contain|list|provide|give|address|"
    r"cover|"
    r"tell|indicate|describe|have|note|document)|not (?:mentioned|specified|stated|listed|included|documented|"
    r"addressed|covered|"
    r"provided|available|found|in (?:the|your) (?:summary|document|discharge|instructions|notes?))|no (?:information|"
    r"mention|details?|"
    r"record|instructions?) (?:about|on|regarding|of|for|in)|(?:i|we) (?:don'?t|do not|can'?t|cannot) (?:see|find|"
    r"tell|know|answer|"
    r"say)|(?:unable|not able) to (?:find|tell|answer|say|determine)|isn'?t (?:something|information) (?:the|your|"
    r"that)|"
    r"(?:doesn'?t|does not) (?:appear|seem) to)\b",
    re.I,
)
_CARE_TEAM = re.compile(
    r"\b(?:ask|contact|call|check with|speak (?:to|with)|talk (?:to|with)|reach out to|consult)\b[^.?!]{0,40}"
    r"\b(?:care team|doctor|physician|nurse|pharmacist|provider|clinic|surgeon|gp|medical team|healthcare team|"
    r"prescriber|specialist|cardiologist|team|office|ward|consultant|midwife|heart failure nurse|coordinator)\b",
    re.I,
)
_STOP = frozenset(
    "the a an and or but to of in on at for with about that this it is are was were be been have has had do does did "
    "so just "
    "very what how why when where who can could would should will not no yes your you my me our we they them their "
    "there "
    "if then than also any some all each per day days daily take taking use using please make sure need must may might "
    "call return go follow keep until after before while during from into over under more less most least only other "
    "such "
    "these those which been being".split()
)
