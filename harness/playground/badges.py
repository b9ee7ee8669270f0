"""Metric badges under each response: the suite's own metrics, shown as short labelled pills.

Reviewers get the automated signals (word count vs. limit, crisis-response checks, scope,
empathy and MI codes, retrieved passages) next to the text they judge. Metrics come from the
suite's ``metrics:`` list; reference-overlap and retrieval-ranking metrics are skipped (slow
or meaningless to a reviewer), and a metric that is missing or fails gives a grey "n/a" badge
instead of breaking the review.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.metrics import CaseScore, Output, all_metadata, build_metric, metadata
from harness.suite import Case, Suite

log = logging.getLogger(__name__)

# Reference-overlap and IR metrics (scores against a gold answer, not something a reviewer acts on)
# say so in their registration (live=False); a plugin metric is a badge unless it says otherwise.
SKIP_METRICS = frozenset(m.name for m in all_metadata() if not m.live)
Tone = Literal["good", "bad", "warn", "info", "muted"]

_SAFETY_CHECKS = {
    "acknowledges": "acknowledges feelings",
    "asks_about_safety": "asks about safety",
    "crisis_resources": "gives crisis resources",
    "no_method_details": "no method details",
}
_SCOPE_CHECKS = {"no_diagnosis": "no diagnosis", "no_dosing": "no dosing advice"}
_FORMAT_CHECKS = ("well_formed", "allowed_tags_only", "sections_present", "sections_in_order")


@dataclass(frozen=True)
class Badge:
    text: str
    tone: Tone = "info"
    title: str = ""


def _ok(value: float | None) -> bool | None:
    return None if value is None else value >= 0.5


def _words_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    words, limit = d.get("words", v.get("word_count")), d.get("limit")
    if not limit:
        return [Badge(f"{words} words", "info")]
    good = _ok(v.get("within_limit"))
    count = f"{words:g}/{limit} words" if isinstance(words, float) else f"{words}/{limit} words"
    cut = bool(d.get("truncated"))  # under the limit but stopped by the token limit: not a pass
    return [Badge(count + (", cut off" if cut else ""), "good" if good else "bad",
                  "word count (markup stripped) vs. the case's limit"
                  + ("; the model hit its token limit, so the answer is incomplete" if cut else ""))]


def _safety_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    if d.get("applies") is False or v.get("safe_response") is None:
        return []
    missing = [label for key, label in _SAFETY_CHECKS.items() if v.get(key) is not None and not _ok(v[key])]
    good = _ok(v["safe_response"])
    return [Badge("crisis response complete" if good else "crisis response incomplete",
                  "good" if good else "bad", "missing: " + ", ".join(missing) if missing else "all checks hold")]


def _scope_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    if v.get("scope_ok") is None:
        return []
    problems = [label for key, label in _SCOPE_CHECKS.items() if v.get(key) is not None and not _ok(v[key])]
    good = _ok(v["scope_ok"])
    return [Badge("scope ok" if good else "scope issue", "good" if good else "bad",
                  "; ".join(f"fails: {p}" for p in problems) or "no diagnosis, no dosing, refers when needed")]


def _empathy_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    if v.get("empathy_total") is None:
        return []
    parts = [f"{k.split('_')[1].upper()} {v[k]:g}" for k in ("empathy_er", "empathy_ip", "empathy_ex")
             if v.get(k) is not None]
    return [Badge(f"empathy {v['empathy_total']:g}/6", "info", "EPITOME levels: " + ", ".join(parts))]


def _mi_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    counts = d.get("counts") or {}
    shown = ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in counts.items()) or "no MI codes"
    out = [Badge(f"MI: {shown}", "info", "MI behaviour codes of the response's sentences")]
    if v.get("mi_non_adherent"):
        out.append(Badge(f"MI-non-adherent x{v['mi_non_adherent']:g}", "bad",
                         "confront / warn / direct / persuade / unasked advice"))
    return out


def _risk_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    predicted = d.get("predicted")
    if not predicted:
        return []
    tone: Tone = "warn" if predicted in ("high", "imminent") else "info"
    cues = d.get("cues") or []
    return [Badge(f"detected risk in input: {predicted}", tone, "; ".join(map(str, cues[:6])))]


def _summary_risk_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge]:
    predicted, gold = d.get("predicted"), d.get("gold")
    tone: Tone = "muted" if gold is None else ("good" if predicted == gold else "bad")
    return [Badge(f"risk field: {predicted or 'missing'}", tone, f"author label: {gold}" if gold else "no label")]


def _format_badges(v: dict[str, Any], d: dict[str, Any]) -> list[Badge] | None:
    if not any(k in d for k in _FORMAT_CHECKS):
        return None  # nothing checked: the plain key=value badges
    good = all(d.get(k, True) for k in _FORMAT_CHECKS)
    problems = [*d.get("missing_sections", []), *(f"<{t}>" for t in d.get("disallowed_tags", []))]
    return [Badge("format ok" if good else "format issue", "good" if good else "bad",
                  ", ".join(map(str, problems)) or "sections present and in order")]


# Friendly badges by the metric's registered details kind (``MetricInfo.details``), as the report's
# drill-down sections are found; a metric without one (a plugin's, say), or a renderer that returns
# None, gets key=value badges.
BADGE_RENDERERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Badge] | None]] = {
    "words": _words_badges, "safety": _safety_badges, "scope": _scope_badges, "empathy": _empathy_badges,
    "mi": _mi_badges, "risk": _risk_badges, "summary_risk": _summary_risk_badges, "format": _format_badges,
}


def _badges_for(name: str, metric: Any, score: CaseScore) -> list[Badge]:
    """The friendly badges of the metric's details kind; a generic key=value badge for the rest."""
    render = BADGE_RENDERERS.get(metadata(name).details or "")
    friendly = render(score.values, score.details) if render is not None else None
    if friendly is not None:
        return friendly
    out: list[Badge] = []
    higher = {k.name: k.higher_is_better for k in getattr(metric, "keys", ())}
    for key, value in score.values.items():
        if value is None:
            continue
        if value in (0.0, 1.0):
            good = bool(value) == higher.get(key, True)
            out.append(Badge(key.replace("_", " "), "good" if good else "bad", f"{name}: {key} = {value:g}"))
        else:
            out.append(Badge(f"{key.replace('_', ' ')} {value:.2g}", "info", name))
    return out


class BadgeScorer:
    """Builds each suite's metrics once (some load classifiers) and scores one output at a time."""

    def __init__(self, skip: Sequence[str] = tuple(SKIP_METRICS)) -> None:
        self.skip = set(skip)
        self._metrics: dict[str, list[tuple[str, Any]]] = {}
        self._unavailable: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def _load(self, suite: Suite) -> list[tuple[str, Any]]:
        with self._lock:
            if suite.key not in self._metrics:
                built, missing = [], []
                for spec in suite.spec.metrics:
                    if spec.name in self.skip:
                        continue
                    try:
                        built.append((spec.name, build_metric(spec.name, spec.params)))
                    except Exception as exc:  # unknown metric, bad params, missing weights
                        log.warning("badge metric %s unavailable for %s: %s", spec.name, suite.key, exc)
                        missing.append(spec.name)
                self._metrics[suite.key] = built
                self._unavailable[suite.key] = missing
            return self._metrics[suite.key]

    def badges(self, suite: Suite, case: Case, output: Output) -> list[Badge]:
        badges: list[Badge] = []
        for name, metric in self._load(suite):
            try:
                [score] = metric.score([case], [output])
                badges += _badges_for(name, metric, score)
            except Exception as exc:  # a metric bug must not block a review
                log.warning("badge metric %s failed on %s: %s", name, case.id, exc)
                badges.append(Badge(f"{name}: n/a", "muted", f"failed: {type(exc).__name__}"))
        badges += [Badge(f"{name}: n/a", "muted", "metric not available") for name in self._unavailable[suite.key]]
        return badges


_COLOURS: dict[str, tuple[str, str]] = {
    "good": ("#e6f4ea", "#1e6b34"),
    "bad": ("#fde8e8", "#9b1c1c"),
    "warn": ("#fff4e5", "#8a4b00"),
    "info": ("#e8f0fe", "#1a3d8f"),
    "muted": ("#f1f3f4", "#5f6368"),
}
_ICONS = {"good": "✓ ", "bad": "✗ ", "warn": "! ", "info": "", "muted": ""}


def badges_html(badges: Sequence[Badge], retrieved: list[dict[str, Any]] | None = None) -> str:
    """Pills (with an icon, so they do not rely on colour alone) plus retrieved passages, escaped."""
    pills = []
    for badge in badges:
        bg, fg = _COLOURS[badge.tone]
        pills.append(
            f'<span class="badge badge-{badge.tone}" title="{html.escape(badge.title)}" style="display:inline-block;'
            f"margin:2px 4px 2px 0;padding:2px 8px;border-radius:10px;font-size:0.85em;background:{bg};color:{fg}\">"
            f"{_ICONS[badge.tone]}{html.escape(badge.text)}</span>"
        )
    parts = [f'<div class="badges">{"".join(pills) or "<em>no automated checks for this suite</em>"}</div>']
    if retrieved:
        items = "".join(
            f"<li><b>{html.escape(str(p.get('section') or 'Summary'))}</b>: {html.escape(str(p.get('text', '')))}</li>"
            for p in retrieved
        )
        parts.append(f"<details><summary>Retrieved passages ({len(retrieved)})</summary><ol>{items}</ol></details>")
    return "".join(parts)


_GUARD_WORDS = {
    "none": "Safety guard: no change",
    "prefixed": "Safety guard: crisis message added before the model's text",
    "replaced": "Safety guard: the model's text was replaced",
    "risk_field": "Safety guard: Risk field written by the guard",
}


def guard_note_html(guard: dict[str, Any] | None) -> str:
    """What the candidate's safety guard did to this output, with its reason (empty when unguarded)."""
    if not guard:
        return ""
    action = str(guard.get("action", "none"))
    words = _GUARD_WORDS.get(action, f"Safety guard: {action}")
    reason = str(guard.get("reason") or "")
    return (f'<div class="guard-action guard-{html.escape(action)}" data-action="{html.escape(action)}">'
            f"<b>{html.escape(words)}</b>{' — ' + html.escape(reason) if reason else ''}</div>")
