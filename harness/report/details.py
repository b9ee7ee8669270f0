"""Turn stored metric details into what the drill-down draws: highlighted MI codes, empathy levels,
risk cues, word counts, retrieved passages beside the gold passage.

Each known metric gets a small view model; any other metric falls back to a generic key/value
list, so a new metric shows up in the report without code here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

# MI codes: label, short tag (shown inline so colour is never the only cue) and a colour family.
MI_CODES: dict[str, tuple[str, str, str]] = {
    "open_question": ("Open question", "OQ", "q"),
    "closed_question": ("Closed question", "CQ", "q2"),
    "simple_reflection": ("Simple reflection", "SR", "r2"),
    "complex_reflection": ("Complex reflection", "CR", "r"),
    "affirmation": ("Affirmation", "AF", "a"),
    "emphasize_autonomy": ("Emphasising autonomy", "EA", "a"),
    "giving_information": ("Giving information", "GI", "i"),
    "advice_with_permission": ("Advice with permission", "AwP", "i"),
    "advice_without_permission": ("Advice without permission", "AwoP", "n"),
    "confront": ("Confront", "CON", "n"),
    "warn": ("Warn", "WARN", "n"),
    "direct": ("Direct", "DIR", "n"),
    "persuade": ("Persuade", "PER", "n"),
    "other": ("Other", "OT", "o"),
}
MI_NON_ADHERENT = frozenset({"advice_without_permission", "confront", "warn", "direct", "persuade"})
MI_SUMMARY = (("mi_reflection_question_ratio", "R:Q", "ratio"), ("mi_pct_open_questions", "open questions", "pct"),
              ("mi_pct_complex_reflections", "complex reflections", "pct"),
              ("mi_non_adherent", "non-adherent sentences", "count"))
EMPATHY_DIMS = (("er", "Emotional reactions"), ("ip", "Interpretations"), ("ex", "Explorations"))
EMPATHY_LEVELS = ("none", "weak", "strong")


def mi_legend() -> list[dict[str, str]]:
    return [{"code": code, "label": label, "tag": tag, "family": fam,
             "non_adherent": code in MI_NON_ADHERENT} for code, (label, tag, fam) in MI_CODES.items()]


def mi_info(code: str) -> dict[str, Any]:
    label, tag, family = MI_CODES.get(code, (code.replace("_", " ").capitalize(), code[:4].upper(), "o"))
    return {"code": code, "label": label, "tag": tag, "family": family, "non_adherent": code in MI_NON_ADHERENT}


def highlight(text: str, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split ``text`` into plain and marked segments; a span whose offsets no longer match its text is
    re-found by text, and overlapping spans keep the first."""
    text = text or ""
    placed: list[tuple[int, int, dict[str, Any]]] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.get("start") or 0)):
        start, end = span.get("start"), span.get("end")
        wanted = span.get("text")
        ok = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
        if ok and wanted and text[start:end] != wanted:
            ok = False
        if not ok and wanted:
            found = text.find(wanted, cursor)
            if found < 0:
                found = text.find(wanted)
            ok = found >= 0
            start, end = (found, found + len(wanted)) if ok else (None, None)
        if not ok or start is None or end is None:
            continue
        if placed and start < placed[-1][1]:
            continue
        placed.append((start, end, span))
        cursor = end
    segments: list[dict[str, Any]] = []
    pos = 0
    for start, end, span in sorted(placed, key=lambda p: p[0]):
        if start < pos:
            continue
        if start > pos:
            segments.append({"text": text[pos:start], "mark": None})
        segments.append({"text": text[start:end], "mark": span})
        pos = end
    if pos < len(text):
        segments.append({"text": text[pos:], "mark": None})
    return segments


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def mi_section(details: dict[str, Any], values: dict[str, float | None], text: str) -> dict[str, Any]:
    sentences = [s for s in details.get("sentences") or [] if isinstance(s, dict)]
    spans = [{**s, **mi_info(str(s.get("code") or "other"))} for s in sentences]
    counts = details.get("counts") or {}
    if not counts:
        for s in sentences:
            counts[s.get("code")] = counts.get(s.get("code"), 0) + 1
    return {
        "kind": "mi", "title": "MI codes",
        "segments": highlight(text, spans),
        "counts": [{**mi_info(str(code)), "n": n} for code, n in counts.items()],
        "summary": [(label, values.get(key), kind) for key, label, kind in MI_SUMMARY if key in values],
        "non_adherent": [s for s in spans if s["non_adherent"]],
    }


def empathy_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    dims = []
    for short, label in EMPATHY_DIMS:
        level = _num(values.get(f"empathy_{short}"))
        if level is None:
            level = _num(details.get(short))
        dims.append({"key": short, "label": label, "level": level,
                     "word": EMPATHY_LEVELS[int(level)] if level is not None and 0 <= level <= 2 else "–"})
    total = _num(values.get("empathy_total"))
    sentences = []
    for s in details.get("sentences") or []:
        if isinstance(s, dict):
            tags = [f"{short.upper()} {int(s[short])}" for short, _ in EMPATHY_DIMS if _num(s.get(short))]
            sentences.append({"text": s.get("text", ""), "tags": tags})
    return {"kind": "empathy", "title": "Empathy (EPITOME)", "dims": dims, "total": total, "sentences": sentences}


def words_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    words = _num(values.get("word_count"))
    if words is None:
        words = _num(details.get("words"))
    limit = _num(details.get("limit"))
    within = values.get("within_limit")
    over = within == 0 if within is not None else (words is not None and limit is not None and words > limit)
    pct = None
    if words is not None and limit:
        pct = min(100.0, 100.0 * words / limit)
    return {"kind": "words", "title": "Word count", "words": words, "limit": limit, "over": bool(over), "pct": pct}


def _check(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "ok": None if value is None else bool(value)}


def risk_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    """risk_detection: the detector's level on the user's text, with the cues behind it."""
    cues = [str(c) for c in details.get("cues") or []]
    discounted = [c for c in cues if c.split(":", 1)[0] in {"negated", "idiom", "hypothetical", "third_person"}]
    return {
        "kind": "risk", "title": "Risk detection",
        "predicted": details.get("predicted"), "gold": details.get("gold"), "score": _num(details.get("score")),
        "active_cues": [c for c in cues if c not in discounted], "discounted_cues": discounted,
        "checks": [_check(k.replace("_", " "), values.get(k)) for k in ("risk_level_correct", "risk_flag_agrees")
                   if k in values],
    }


def safety_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    """safe_response: the four crisis-response checks, the resources named and any method detail."""
    names = (("risk_flagged", "recognises the risk"), ("acknowledges", "acknowledges feelings"),
             ("asks_about_safety", "asks about suicide/safety"), ("crisis_resources", "gives a crisis resource"),
             ("no_method_details", "no method/lethality detail"))
    applies = details.get("applies")
    return {
        "kind": "safety", "title": "Safe response", "applies": applies is not False, "basis": details.get("risk"),
        "verdict": values.get("safe_response"),
        "checks": [_check(label, values.get(key)) for key, label in names if key in values],
        "resources": [str(r) for r in details.get("resources_found") or []],
        "method_sentences": [str(r) for r in details.get("method_sentences") or []],
    }


def scope_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    """scope_safety: no diagnosis, no dosing, a referral when the question is medical."""
    names = (("scope_ok", "in scope"), ("no_diagnosis", "no diagnosis"), ("no_dosing", "no dosing advice"))
    return {
        "kind": "scope", "title": "Scope (companion, not clinician)",
        "checks": [_check(label, values.get(key)) for key, label in names if key in values],
        "out_of_scope": details.get("out_of_scope"), "referral": details.get("referral"),
        "diagnosis_spans": [str(x) for x in details.get("diagnosis_spans") or []],
        "dosing_spans": [str(x) for x in details.get("dosing_spans") or []],
    }


def grounded_section(details: dict[str, Any], values: dict[str, float | None], text: str) -> dict[str, Any]:
    """groundedness: each checkable claim, supported by the document or not (highlighted in the answer)."""
    claims = [c for c in details.get("claims") or [] if isinstance(c, dict)]
    spans = [{**c, "family": "ok" if c.get("supported") else "bad",
              "label": f"{c.get('kind', 'claim')}: {'supported' if c.get('supported') else 'NOT in the document'}",
              "tag": "✓" if c.get("supported") else "✗"} for c in claims]
    return {
        "kind": "grounded", "title": "Grounding in the document", "segments": highlight(text, spans),
        "claims": claims, "unsupported": [c for c in claims if not c.get("supported")],
        "declined": details.get("declined"),
        "values": {k: values.get(k) for k in ("grounded", "unsupported_claims", "declined_correctly",
                                              "answer_correct_facts") if k in values},
    }


def retrieval_section(details: dict[str, Any] | None, retrieved: list[dict[str, Any]] | None,
                      gold_passage: str | None, values: dict[str, float | None]) -> dict[str, Any] | None:
    """Retrieved chunks (rank, section, score, relevance) beside the gold passage."""
    details = details or {}
    if retrieved is None and details.get("retrieved") is None:
        return None  # the candidate does not retrieve; the gold passage is in the case block already
    hits = details.get("retrieved")
    judged = hits is not None
    if hits is None:
        hits = [{"rank": i + 1, **h} for i, h in enumerate(retrieved or [])]
    gold = details.get("gold_passage") or gold_passage
    gold_span = details.get("gold_span")
    rows = []
    for hit in hits:
        chunk = hit.get("text") or ""
        spans = []
        start = hit.get("start")
        if gold_span and isinstance(start, int) and hit.get("document_id") in (None, details.get("gold_document_id")):
            a, b = max(gold_span[0] - start, 0), min(gold_span[1] - start, len(chunk))
            if a < b:
                spans.append({"start": a, "end": b})
        elif gold and gold in chunk:
            spans.append({"start": chunk.index(gold), "end": chunk.index(gold) + len(gold)})
        mark = {"family": "gold", "label": "gold passage", "tag": ""}
        rows.append({
            "rank": hit.get("rank"), "chunk_id": hit.get("chunk_id") or hit.get("id"),
            "document_id": hit.get("document_id"), "section": hit.get("section"),
            "score": _num(hit.get("score")), "relevant": hit.get("relevant") if judged else None,
            "overlap": _num(hit.get("gold_overlap")), "text": chunk,
            "segments": highlight(chunk, [{**sp, **mark} for sp in spans]),
        })
    return {
        "kind": "retrieval", "title": "Retrieved passages vs gold passage",
        "gold_passage": gold, "gold_document_id": details.get("gold_document_id"),
        "skipped": details.get("skipped"), "hits": rows, "judged": judged,
        "values": {k: values.get(k) for k in ("recall_at_1", "recall_at_5", "mrr_at_10", "ndcg_at_10",
                                              "hit_rate_at_10") if k in values},
    }


def format_section(details: dict[str, Any]) -> dict[str, Any]:
    checks = [(k.replace("_", " "), bool(details.get(k))) for k in
              ("well_formed", "allowed_tags_only", "sections_present", "sections_in_order") if k in details]
    return {"kind": "format", "title": "Summary format", "checks": checks,
            "missing": details.get("missing_sections") or [], "disallowed": details.get("disallowed_tags") or [],
            "errors": details.get("errors") or []}


def summary_risk_section(details: dict[str, Any], values: dict[str, float | None]) -> dict[str, Any]:
    return {"kind": "summary_risk", "title": "Summary Risk field", "predicted": details.get("predicted"),
            "gold": details.get("gold"), "missed_high": values.get("summary_risk_missed_high") == 1}


def generic_section(metric: str, details: dict[str, Any]) -> dict[str, Any] | None:
    """Any other metric: its details as key/value rows (lists of strings become chips)."""
    rows = []
    for key, value in details.items():
        if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
            rows.append({"key": key, "chips": [str(v) for v in value]})
        elif isinstance(value, dict | list):
            text = json.dumps(value, indent=1, default=str, ensure_ascii=False)
            rows.append({"key": key, "json": text if len(text) < 4000 else text[:4000] + " …"})
        else:
            rows.append({"key": key, "value": value})
    if not rows:
        return None
    return {"kind": "generic", "title": metric.replace("_", " "), "metric": metric, "rows": rows}


# Drill-down sections by kind, in display order (safety first). A metric names its kind once, in its
# registration (``register_metric(..., details="mi")``), so a plugin metric can reuse a section.
SECTION_BUILDERS: dict[str, Callable[[dict[str, Any], dict[str, float | None], str], dict[str, Any]]] = {
    "safety": lambda d, values, text: safety_section(d, values),
    "scope": lambda d, values, text: scope_section(d, values),
    "risk": lambda d, values, text: risk_section(d, values),
    "summary_risk": lambda d, values, text: summary_risk_section(d, values),
    "mi": lambda d, values, text: mi_section(d, values, d.get("scored_text", text)),
    "empathy": lambda d, values, text: empathy_section(d, values),
    "grounded": lambda d, values, text: grounded_section(d, values, d.get("scored_text", text)),
    "format": lambda d, values, text: format_section(d),
    "words": lambda d, values, text: words_section(d, values),
}


def _section_metrics(details: dict[str, Any]) -> list[tuple[str, str]]:
    """(section kind, metric) for the stored details that have a section, in SECTION_BUILDERS order."""
    from harness.metrics import metadata

    chosen: dict[str, str] = {}
    for metric, data in details.items():
        if isinstance(data, dict) and not metric.startswith("model."):
            kind = metadata(metric).details
            if kind in SECTION_BUILDERS and kind not in chosen:
                chosen[kind] = metric
    return [(kind, chosen[kind]) for kind in SECTION_BUILDERS if kind in chosen]


def candidate_sections(entry: dict[str, Any], case: dict[str, Any] | None) -> dict[str, Any]:
    """All sections for one candidate's output on one case, safety first, plus the output to show.

    Returns {"segments": the output split into highlighted pieces (MI codes, else grounded claims),
    "html": a sanitised rendering when the output is HTML markup (summaries), "sections": [...]}.
    """
    details: dict[str, dict[str, Any]] = entry.get("details") or {}
    values: dict[str, float | None] = entry.get("values") or {}
    text = entry.get("text") or ""
    sections: list[dict[str, Any]] = []
    segments = [{"text": text, "mark": None}] if text else []
    handled: set[str] = set()
    for kind, metric in _section_metrics(details):
        section = SECTION_BUILDERS[kind](details[metric], values, text)
        sections.append(section)
        handled.add(metric)
        # Highlights index the scored text; when that was only the model's part (a guard added
        # template text), the card shows the delivered text unmarked instead.
        if (kind in ("mi", "grounded") and "scored_text" not in details[metric]
                and all(not p["mark"] for p in segments)):
            segments = section["segments"]
    if "retrieval" in details or entry.get("retrieved") is not None:
        section = retrieval_section(details.get("retrieval"), entry.get("retrieved"), (case or {}).get("gold_passage"),
                                    values)
        if section:
            sections.append(section)
    for metric, data in details.items():
        if metric in handled or metric == "retrieval" or metric.startswith("model.") or not isinstance(data, dict):
            continue
        section = generic_section(metric, data)
        if section:
            sections.append(section)
    marked = any(p["mark"] for p in segments)
    return {"segments": segments, "html": None if marked else safe_html(text), "sections": sections}


_ALLOWED_TAGS = frozenset({"b", "strong", "i", "em", "p", "br", "ul", "ol", "li"})


def safe_html(text: str) -> str | None:
    """Model output that uses simple markup (summaries' <b>Label:</b>), rebuilt from allowed,
    attribute-free tags only and always balanced; None when the text has no such tag.

    Everything else is escaped, so a hostile output cannot inject markup or script into the report.
    """
    from html import escape
    from html.parser import HTMLParser

    if "<" not in (text or ""):
        return None
    out: list[str] = []
    stack: list[str] = []
    used = False

    class _Rebuild(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            nonlocal used
            if tag not in _ALLOWED_TAGS:
                out.append(escape(self.get_starttag_text() or ""))
                return
            used = True
            if tag == "br":
                out.append("<br>")
                return
            out.append(f"<{tag}>")
            stack.append(tag)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "br":
                out.append("<br>")
            else:
                out.append(escape(self.get_starttag_text() or ""))

        def handle_endtag(self, tag: str) -> None:
            if tag in stack:
                while stack:
                    top = stack.pop()
                    out.append(f"</{top}>")
                    if top == tag:
                        break
            else:
                out.append(escape(f"</{tag}>"))

        def handle_data(self, data: str) -> None:
            out.append(escape(data))

    parser = _Rebuild(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    if parser.rawdata:  # an unfinished tag at the end ("<b")
        out.append(escape(parser.rawdata))
    out.extend(f"</{t}>" for t in reversed(stack))
    return "".join(out) if used else None
