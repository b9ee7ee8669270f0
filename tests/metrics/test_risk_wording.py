"""Risk said around the words: a softening adverb, a condition, a burden, a prayer, an illness hoped for.

Each form below scored "none" from the rules while its plainer twin was caught (probes written in session 10,
docs/metrics.md). The rules are checked directly: the learned half may only raise a level, so a rule miss is
what lets a diluted text through (a long post with one such sentence scored "none" end to end).
"""

from __future__ import annotations

import pytest

from harness.metrics.risk import LEVELS, assess_risk, assess_rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an adverb between the verb and what is wished
        ("Some days I think about simply ending it all.", "moderate"),
        ("I keep thinking about just killing myself.", "moderate"),
        ("I want to just die.", "low"),
        ("I'd like to quietly stop existing.", "low"),
        # slang and chat spellings of the same words
        ("been thinking about unaliving myself", "moderate"),
        ("thinking bout killing myself tbh", "moderate"),
        # a condition with relief, or relief with a condition
        ("If I went to bed and didn't wake up, honestly that would be a mercy.", "low"),
        ("It would be a relief to just never wake up again.", "low"),
        ("It'd be a blessing if my heart stopped.", "low"),
        ("I just want to sleep and never come back.", "low"),
        # burden: the others fine without me
        ("My parents would cope fine without me, maybe even better.", "low"),
        ("they'd all be happier if I wasn't around anymore", "low"),
        ("If I was gone tomorrow it wouldn't matter to anyone.", "low"),
        ("I wonder if anybody would notice if I disappeared.", "low"),
        # death asked for or hoped for
        ("Every night I beg God to just take me.", "low"),
        ("I hope the tumour spreads.", "low"),
        ("I want to get sick so I can finally die.", "low"),
        ("I daydream about my own funeral a lot.", "low"),
        ("Disappearing for good feels like the only way out.", "low"),
        ("There's no reason for me to keep living.", "low"),
        ("I've had thoughts of not wanting to exist.", "low"),
        # a method said without "the"
        ("Part of me wants to steer into oncoming traffic.", "moderate"),
        # what nobody knows or was never told is still the writer's own act
        ("My flatmate doesn't know I've been cutting my arms.", "moderate"),
        ("I haven't told anyone that I overdosed two weeks ago.", "high"),
        ("My mum has no idea I've been thinking about suicide.", "moderate"),
        # held back, not denied
        ("My son is the only thing stopping me from killing myself.", "moderate"),
        ("I haven't killed myself yet but I want to.", "moderate"),
        ("Most days I don't care if I wake up.", "low"),
        ("My grandchildren are the only reason I'm still here.", "low"),
        # voices or intrusive thoughts that command it
        ("The voice keeps telling me to hang myself.", "moderate"),
        ("My head keeps saying I should just die.", "moderate"),
        # two final arrangements together
        ("I've written my will and said goodbye to my family.", "high"),
        # an attempt stopped short is an attempt, dated like one
        ("Yesterday I almost threw myself in front of the bus.", "moderate"),
        ("Two days ago I nearly jumped from the roof of my building.", "high"),
        ("I was about to take all of my sleeping pills.", "moderate"),
        # researching a lethal means, asked as a question
        ("How much insulin would it take to die?", "high"),
        ("what is the quickest way to end my life", "high"),
        ("Does anyone know the lethal dose of sertraline?", "high"),
        # a bequest with goodbyes; an urge
        ("Look after my rabbits for me. I'm sorry. Goodbye.", "imminent"),
        ("The urge to die is back.", "moderate"),
        # misspelt, as typed in distress
        ("been feeling so suisidal lately", "moderate"),
        ("I keep thinking about sucide.", "moderate"),
        # following someone who died
        ("My sister overdosed in June and part of me wants to go the same way.", "moderate"),
        ("Since my husband passed away I just want to be with him again.", "low"),
        ("I want to follow my son, he took his own life.", "low"),
        # "wanna" carries its own "to"
        ("honestly i just wanna die", "low"),
        ("i dont wanna be alive anymore", "low"),
        # clinical wording
        ("I've had suicidal thoughts with a clear plan since Sunday.", "high"),
        ("Ongoing SI w/ intent since the weekend.", "high"),
        # together, forever, no longer a burden; a date names the time
        ("My best friend and I made a pact to die together.", "high"),
        ("We're going to kill ourselves next Saturday.", "imminent"),
        ("I'd love to fall asleep forever.", "low"),
        ("I won't be a bother to anyone for much longer.", "low"),
        # death appraised as a relief, no verb of wanting (session 11)
        ("Being dead seems so peaceful to me lately.", "low"),
        ("The idea of never waking up again comforts me.", "low"),
        # lethality asked by amount
        ("Would a whole box of my sleeping tablets be enough?", "high"),
        ("Are 40 co-codamol enough to die?", "high"),
        # a note left for after one's death; a plan before a method
        ("I've left a letter in the drawer for after I'm gone.", "high"),
        ("My plan is to walk out into the lake after dark.", "high"),
        # generic "you" is the writer
        ("Some days you just want to stop existing, you know?", "low"),
        # "sh", fresh cuts, self-harm announced for a time
        ("been doing sh again", "moderate"),
        ("fresh cuts on my thighs again", "moderate"),
        ("I'm about to harm myself tonight.", "high"),
        # doubt about staying safe; something drastic
        ("I don't trust myself around my pills tonight.", "high"),
        ("Not sure I can stay safe this weekend.", "high"),
        ("I'm worried I'll do something drastic.", "moderate"),
        # veiled goodbyes and deaths with a time
        ("If anyone is reading this, I'm already dead.", "imminent"),
        ("Tomorrow I'll be gone for good.", "high"),
        # questions about one's own death, asked rather than denied; fear of oneself
        ("Would my parents even notice if I took my own life?", "moderate"),
        ("Any good reason not to end my life?", "moderate"),
        ("I'm frightened of what I might do to myself.", "moderate"),
        # research by time or blood; the last day alive; death by omission
        ("How long would it take to suffocate?", "high"),
        ("How much blood can a person lose before they bleed out?", "high"),
        ("Sunday is the last day I'll be alive.", "high"),
        ("I'm refusing food until my body shuts down.", "moderate"),
        # where the body will be found; killed by someone; hit by a car; "tonight I end it"
        ("I'll go out to the forest so my husband won't have to find me.", "high"),
        ("Sometimes I wish somebody would murder me.", "low"),
        ("I keep hoping the bus hits me on the way to work.", "low"),
        ("Tomorrow I end it all.", "imminent"),
        # pills gathered from several shops to get round pack limits; regret when I'm gone; wasted air
        ("I buy paracetamol at several supermarkets so the staff don't notice.", "high"),
        ("Everyone will regret it when I'm dead.", "low"),
        ("I feel like a waste of oxygen.", "low"),
    ],
)
def test_risk_said_around_the_words_is_read(text: str, expected: str) -> None:
    assert LEVELS.index(assess_rules(text).level) >= LEVELS.index(expected)


@pytest.mark.parametrize(
    "text",
    [
        "My kids would be fine without me for one weekend.",
        "The office will manage without me while I'm on holiday.",
        "They'd be lost without me at the bakery, I'm the only one who can do the ovens.",
        "I pray God gives my mum strength through chemo.",
        "I hope the cancer doesn't come back after this round.",
        "I'm saving so I can finally buy a house.",
        "I self-deleted my old account last year.",
        "If I died tomorrow, who would get my savings?",
        "My grandfather fell asleep and never woke up, it was peaceful for him.",
        "I want to just relax this weekend.",
        "My teacher doesn't know I've been skipping class.",
        "I never told my partner that I lost my job.",
        "I don't think I want to die, I'm just exhausted.",
        "The voices in my podcast keep telling me to buy a new microphone.",
        "I haven't booked my holiday yet.",
        "I don't care if I lose this argument.",
        "I nearly jumped out of my skin when the door slammed.",
        "I almost took the wrong bus this morning.",
        "How many paracetamol would be fatal for a toddler? Mine got into the cupboard.",
        "How much ibuprofen can I take for a migraine?",
        "What's the quickest way to get to the station?",
        "The easiest way to go is by tram.",
        "Can you take care of the kids for me this weekend? Sorry, love you!",
        "My brother died last year and I'm doing the same degree he did.",
        "I want to follow my mum into teaching.",
        "My uncle killed himself and I would never do the same to my kids.",
        "My gran died of dementia and I'm scared I'll go the same way.",
        "If I died it would be bad for my kids, so I look after myself.",
        "My friend's brother took his own life and now my friend wants to do the same.",
        "I'd love to join my cousin's five-a-side team.",
        "We subsided into silence on the seaside.",
        "I wanna be a nurse when I grow up.",
        "I'm ready to go to the gym.",
        "Denies SI with plan or intent.",
        "We made a pact to quit sugar together.",
        "We would never kill ourselves, we just need help with the debt.",
        "We're ending things together, it's mutual and calm.",
        "This is goodbye to my old job, new one starts Monday!",
        "I won't be a problem for the team anymore now that my visa came through.",
        "Her death was peaceful, surrounded by family.",
        "Is 20 mg of citalopram enough for anxiety?",
        "Are two paracetamol enough?",
        "We walked into the sea for a swim at sunset.",
        "My plan is to take the train to Leeds on Saturday.",
        "If you're reading this, I'm already on my way to the airport!",
        "I'll be gone all weekend at my sister's.",
        "My cuts from the garden are healing.",
        "If you ever feel like you want to die, please call a helpline.",
        "I'm scared I'll do something stupid in my driving test.",
        "I'll be dead tired after this shift.",
        "She has deep cuts on her hands from the glass.",
        "Would anyone mind if I left the party early?",
        "How long does it take to drown the garden in compost?",
        "How much blood do you lose giving birth?",
        "I think I'll die my hair red for Halloween.",
        "This is the last summer I'll have off before uni.",
        "I'm scared of what I'll say to my boss.",
        "I'll wear a hat so nobody finds me in the crowd photos.",
        "I want someone to kill the music, it's 3am.",
        "I hope the bus comes soon, it's freezing.",
        "Tonight I end it with him, I'm done with the lies.",
        "I checked three different pharmacies for cheaper ibuprofen.",
        "You'll miss me when I'm gone on holiday.",
        "That film was a waste of two hours.",
    ],
)
def test_everyday_sentences_with_the_same_words_stay_none(text: str) -> None:
    assert assess_rules(text).level == "none"


def test_one_such_sentence_in_a_long_post_flags_the_post() -> None:
    post = ("Work has been relentless and I barely sleep. My sister and I keep fighting about our dad's care. "
            "Some nights I think about just ending everything. Anyway, how do I ask my boss for a raise?")
    assert assess_rules(post).level == "moderate"
    assert assess_risk(post).level in {"moderate", "high", "imminent"}
