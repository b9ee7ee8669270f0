"""Rules plus the learned ordinal model (``assess_risks``): the model may only raise the rules' level,
and not past a ceiling where the text's risk words are not the writer's own, or it tells an accident or
an errand (``_capped``); the score blends both halves inside the final level's band.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from harness.metrics.risk_acts import _INGEST
from harness.metrics.risk_context import _ERRAND_DESTINATION
from harness.metrics.risk_rules import LEVELS, RiskAssessment, _band_position, _band_score, assess_rules
from harness.metrics.risk_words import _DRUG

# The learned half reads MiniLM sentence embeddings by default: on vignettes nobody tuned on (two holdouts by
# two authors) the n-gram-only model left most high/imminent texts at moderate or below (high+imminent recall
# 0.23 and 0.32) while the MiniLM one found 0.85 of them; a miss costs far more than a false alarm.
DEFAULT_ENCODER = "minilm"


# When every cue the rules found was set aside as someone else's, negated, hypothetical or an idiom, the text
# is about risk but not the writer's own: the embedding model reads the topic, not the attribution (a wife's
# goodbye note read as the writer's imminent risk), so it may raise such a text to "low" at most. The same
# ceiling holds for accidents and errands (below).
_MODEL_CEILING = "low"


# An accident told as an accident ("slipped on the stairs", "burned my hand on the oven") shares words with acts
# (railing, blood, burn) and the embedding model raised such texts as far as imminent. With no cue of the
# writer's own that the rules count, and no word saying it was meant or of pills taken, an accident frame holds
# the model to "low" too.
_ACCIDENT = re.compile(
    r"\b(?:slipped|slid|skidded|tripped|stumbled|fell (?:off|over|down|on|in|out of)|came off (?:my|the)|"
    r"went over (?:on )?(?:my|the)|crashed|(?:got |was )?(?:hit|knocked (?:off|over|down)|rear-ended) by|"
    r"(?:burn(?:ed|t)|scald(?:ed)?|cut|sliced|caught|trapped|stubbed|twisted|sprained|broke|bruised) my "
    r"(?:\w+ )?(?:hand|finger|thumb|arm|wrist|leg|foot|toe|knee|ankle|back|head|lip|nose|shoulder|palm)s? "
    r"(?:on|in|with|while|when|chopping|cooking|playing)|"
    r"by accident|accidental(?:ly)?)\b",
    re.I,
)
_MEANT = re.compile(r"\b(?:on purpose|deliberately|intentionally|meant to|wanted to|tried to|so that i|hoping)\b", re.I)
# An overdose called accidental is still risk (lowered tolerance, "I don't care if I wake up"): never an accident.
_INGESTED = re.compile(
    rf"\b{_INGEST}\b[^.!?]{{0,40}}\b(?:{_DRUG}|box|bottle|pack|packet|strip|handful|blister)|\bover ?dos", re.I
)


def _capped(learned: str, rules: RiskAssessment, text: str) -> str:
    """The model's level, limited where the rules found risk words but none of them the writer's own, or
    where the text tells an accident or an errand with medicine and nothing says it was meant."""
    ceiling = _MODEL_CEILING
    if LEVELS.index(learned) <= LEVELS.index(ceiling):
        return learned
    if rules.evidence and not any(c.status == "active" for c in rules.evidence):
        return ceiling  # every cue was someone else's, negated, hypothetical or an idiom
    if rules.level == "none" and not _MEANT.search(text):
        if _ERRAND_DESTINATION.search(text) or (_ACCIDENT.search(text) and not _INGESTED.search(text)):
            return ceiling
    return learned


def assess_risks(texts: Sequence[str], encoder: str = DEFAULT_ENCODER) -> list[RiskAssessment]:
    """Rules plus the learned ordinal model, batched (the n-gram/embedding step runs once per batch).

    Level = max(rule level, the model's confident level): the model can only raise a reading, and not past
    "low" where all the rules' cues were attributed to someone else or negated, or the text tells an accident
    or an errand with medicine (``_capped``). The
    score stays inside the final level's band; its position there averages the rules' position,
    the model's expected level and its SDCNL "suicidal content" head (fixed equal weights), so
    texts at the same level are ordered by how risky both halves find them.
    """
    from harness.metrics.risk_model import HEADS, load_risk_model, model_features

    model = load_risk_model(encoder)
    ruled = [assess_rules(t) for t in texts]
    if not ruled:
        return []
    rules_block = np.stack([r.rule_vector for r in ruled]) if model.with_rules else None
    X = model_features([t or "" for t in texts], rules_block, model.encoder)
    out = []
    content = model.content_probability_from(X)
    for text, rules, probs, suicidal in zip(texts, ruled, model.probabilities_from(X), content, strict=True):
        learned = _capped(model.confident_level(probs), rules, text or "")
        raised = LEVELS.index(learned) > LEVELS.index(rules.level)
        level = learned if raised else rules.level
        cues = list(rules.cues) + ([f"model: {learned} (p={probs[HEADS.index(learned)]:.2f})"] if raised else [])
        out.append(
            RiskAssessment(
                level,
                _band_score(level, (_band_position(rules) + float(probs.mean()) + float(suicidal)) / 3),
                cues,
                rules.evidence,
                probability=round(float(probs[HEADS.index("high")]), 4),
                probabilities={
                    **{h: round(float(p), 4) for h, p in zip(HEADS, probs, strict=True)},
                    "suicidal_content": round(float(suicidal), 4),
                },
                source="model" if raised else "rules",
                rule_level=rules.level,
                rule_vector=rules.rule_vector,
            )
        )
    return out


def assess_risk(text: str) -> RiskAssessment:
    """Risk level of one help-seeker text: rules plus the learned model (see ``assess_risks``)."""
    return assess_risks([text])[0]
