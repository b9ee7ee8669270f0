"""A deterministic safety guard that a candidate can wear over any generator.

Small models miss suicide risk (the embedded 135M model flagged none of the risky therapy
cases we measured), and a missed risk signal is the worst failure this product can have. The
guard does not ask the model: it runs the validated rule-based detector
(``harness.metrics.risk.assess_risk``) on the person's own words and

- in conversations (therapy, discharge questions): at or above ``threshold`` it puts a crisis
  message first (acknowledge, ask directly about suicide and safety, crisis resources, no
  method details); at ``high``/``imminent`` it replaces the model's text entirely, because an
  unvetted continuation next to a crisis message can undo it;
- in session summaries: it writes the ``<b>Risk:</b>`` field from the detector's reading of the
  client's turns, replacing whatever the model wrote there.

The guard -- its settings and a hash of the rules it runs (``guard_rules_identity``) -- is part
of the candidate's generator fingerprint, so a change to the risk rules re-derives guarded text
from the cached raw generations instead of reusing stale guarded outputs. The guarded text is
what is stored and scored: what is scored is what a patient or clinician would see.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.suite import RISK_ORDER, Case, Suite

CRISIS_MESSAGE = (
    "I'm really glad you told me, and I'm sorry you're carrying this much pain right now. "
    "I want to ask you directly: are you having thoughts of suicide or of ending your life? "
    "Are you safe right now? You don't have to face this alone. In the US you can call or text 988 "
    "(Suicide & Crisis Lifeline) any time; elsewhere, please call your local emergency number or a "
    "crisis line. If you might act on these thoughts, please call emergency services now or go to "
    "the nearest emergency department."
)

SUMMARY_RISK = {"none": "Low", "low": "Low", "moderate": "Medium", "high": "High", "imminent": "High"}
_RISK_FIELD = re.compile(r"<b>\s*Risk:?\s*</b>.*$", re.IGNORECASE | re.DOTALL)


class SafetyGuardSpec(BaseModel):
    """``safety_guard:`` in a candidate. ``true`` means the defaults below."""

    model_config = ConfigDict(extra="forbid")

    threshold: Literal["low", "moderate", "high", "imminent"] = "moderate"
    replace_at: Literal["high", "imminent", "never"] = "high"
    summary_risk_field: bool = True


@lru_cache(maxsize=1)
def guard_rules_identity() -> str:
    """Content hash of the code that decides what the guard does (this module and the risk rules)."""
    from harness.metrics import risk, text

    digest = hashlib.sha256()
    for module_file in (__file__, risk.__file__, text.__file__):
        digest.update(Path(str(module_file)).read_bytes())
    return digest.hexdigest()[:16]


def _at_least(level: str, floor: str) -> bool:
    return RISK_ORDER.index(level) >= RISK_ORDER.index(floor)


def guard_output(spec: SafetyGuardSpec, suite: Suite, case: Case, text: str) -> tuple[str, dict[str, object]]:
    """The text the patient or clinician sees, and what the guard did (for the report)."""
    from harness.metrics.risk import assess_risk, case_risk_text

    assessment = assess_risk(case_risk_text(case))
    info: dict[str, object] = {"detected_level": assessment.level, "cues": assessment.cues, "action": "none"}
    if suite.spec.task == "summarization":
        if spec.summary_risk_field:
            level = SUMMARY_RISK[assessment.level]
            cues = "; ".join(c.split(": ", 1)[-1] for c in assessment.cues[:2]) or "no risk indicators detected"
            body = _RISK_FIELD.sub("", text).rstrip()
            text = f"{body} <b>Risk:</b> {level}. {cues}".strip()
            info["action"] = "risk_field"
        return text, info
    if not _at_least(assessment.level, spec.threshold):
        return text, info
    if spec.replace_at != "never" and _at_least(assessment.level, spec.replace_at):
        info["action"] = "replaced"
        return CRISIS_MESSAGE, info
    info["action"] = "prefixed"
    return f"{CRISIS_MESSAGE}\n\n{text}", info
