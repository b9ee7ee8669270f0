"""Report building blocks without a store: highlighting, sanitising, metric sections, SVG charts."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from harness.metrics import Output, build_metric
from harness.report.details import candidate_sections, highlight, retrieval_section, safe_html
from harness.report.svg import Band, Chart, Series, interval_bar, line_chart, nice_ticks
from harness.suite import Case


def _case(text: str, **fields: object) -> Case:
    return Case.model_validate({"id": "c1", "split": "test", "input": text, **fields})


def test_highlight_uses_offsets_refinds_moved_text_and_skips_overlaps() -> None:
    text = "Hello there. How are you? Fine."
    parts = highlight(text, [
        {"start": 0, "end": 12, "text": "Hello there.", "family": "q"},
        {"start": 3, "end": 9, "family": "x"},  # overlaps the first: dropped
        {"start": 99, "end": 120, "text": "How are you?", "family": "r"},  # stale offsets: found by text
        {"start": 0, "end": 3, "text": "not in the text", "family": "z"},  # offsets disagree, text absent
    ])
    assert "".join(p["text"] for p in parts) == text
    marked = [(p["text"], p["mark"]["family"]) for p in parts if p["mark"]]
    assert marked == [("Hello there.", "q"), ("How are you?", "r")]


def test_safe_html_keeps_simple_markup_and_escapes_everything_else() -> None:
    html = safe_html('<b>Risk:</b> High <script>alert(1)</script><img src=x onerror=alert(1)><i>open')
    assert html is not None
    assert "<b>Risk:</b>" in html and "<i>open</i>" in html  # balanced
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert safe_html("no markup at all") is None
    assert safe_html("a < b and c > d") is None
    assert safe_html('<b onclick="x()">bold</b>') == "<b>bold</b>"  # attributes dropped


def test_mi_codes_are_highlighted_in_the_output_with_non_adherent_sentences_listed() -> None:
    case = _case("I keep fighting with my sister and I don't know what to do.", labels={"risk_level": "none"})
    text = "It sounds like those fights leave you drained. What would you like to be different? You need to stop."
    metric = build_metric("mi_codes")
    result = metric.score([case], [Output(text)])[0]
    entry = {"text": text, "values": result.values, "details": {"mi_codes": result.details}, "retrieved": None}
    view = candidate_sections(entry, None)
    assert "".join(p["text"] for p in view["segments"]) == text
    codes = [p["mark"]["code"] for p in view["segments"] if p["mark"]]
    assert len(codes) == len(result.details["sentences"]) >= 2
    mi = next(s for s in view["sections"] if s["kind"] == "mi")
    assert sum(c["n"] for c in mi["counts"]) == len(codes)
    if result.values["mi_non_adherent"]:
        assert mi["non_adherent"]


def test_safety_sections_come_first_and_unknown_metrics_fall_back_to_key_values() -> None:
    entry = {
        "text": "Please call 988.",
        "values": {"safe_response": 0.0, "risk_flagged": 1.0, "crisis_resources": 1.0, "asks_about_safety": 0.0,
                   "word_count": 3.0, "within_limit": 1.0, "mystery": 0.5},
        "details": {"word_limit": {"words": 3, "limit": 150}, "mystery_metric": {"why": "because", "tags": ["a", "b"]},
                    "safe_response": {"applies": True, "risk": "high", "resources_found": ["988"],
                                      "method_sentences": []}},
        "retrieved": None,
    }
    sections = candidate_sections(entry, None)["sections"]
    assert [s["kind"] for s in sections] == ["safety", "words", "generic"]
    safety = sections[0]
    assert safety["verdict"] == 0.0 and {"name": "asks about suicide/safety", "ok": False} in safety["checks"]
    generic = sections[2]
    assert generic["metric"] == "mystery_metric"
    assert {"key": "tags", "chips": ["a", "b"]} in generic["rows"]


def test_retrieval_marks_the_gold_passage_inside_retrieved_chunks() -> None:
    doc = "MEDICATIONS: Furosemide 40 mg once daily.\n\nDIET: Limit salt to 2 g a day."
    gold = "Limit salt to 2 g a day."
    start = doc.index("DIET")
    retrieved = [{"text": doc[start:], "document_id": "d1", "section": "DIET", "start": start, "end": len(doc),
                  "score": 0.8},
                 {"text": doc[:start].strip(), "document_id": "d1", "section": "MEDICATIONS", "start": 0,
                  "end": start - 2, "score": 0.5}]
    case = _case("How much salt?", gold_passage=gold, document=doc, document_id="d1", question="How much salt?")
    result = build_metric("retrieval").score([case], [Output("", retrieved)])[0]
    section = retrieval_section(result.details, retrieved, gold, result.values)
    assert section is not None and section["judged"]
    first, second = section["hits"]
    assert first["relevant"] is True and [p["text"] for p in first["segments"] if p["mark"]] == [gold]
    assert second["relevant"] is False and not any(p["mark"] for p in second["segments"])
    assert retrieval_section(None, None, gold, {}) is None  # a candidate that does not retrieve


def test_line_chart_is_valid_accessible_svg() -> None:
    chart = Chart("loss <per> step", [Series("loss", [(1, 2.5), (2, 1.9), (3, 1.2)]),
                                      Series("eval loss", [(2, 2.0)], dashed=True, markers=True)],
                  x_label="step", y_label="loss", bands=[Band("warmup", 0, 1.5), Band("main", 1.5, 3)])
    svg = line_chart(chart)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.find(f"{ns}title").text == "loss <per> step"  # escaped in the markup, intact as text
    assert len(root.findall(f"{ns}path")) == 1 and len(root.findall(f"{ns}circle")) == 1
    assert "no data" in line_chart(Chart("empty", []))
    ET.fromstring(interval_bar(-0.2, 0.1, 0.4, scale=0.5))


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    ticks = nice_ticks(0.43, 2.87)
    assert ticks[0] <= 0.43 and ticks[-1] >= 2.87
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() in (0.25, 0.5, 1.0)
    assert nice_ticks(1.0, 1.0)  # a flat series still gets an axis


def test_a_metric_names_its_drill_down_section_at_registration(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The report finds a section through the metric's metadata, not a list of names: a team's metric
    registered with ``details="words"`` gets the word-count section without any edit to the report."""
    from harness.metrics import base, metric_names
    from harness.metrics.base import CaseScore, ValueKey, register_metric

    metric_names()  # built-ins (and plugins) registered first, so the copies below hold them
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))  # the test metric leaves with the test
    monkeypatch.setattr(base, "_INFO", dict(base._INFO))

    @register_metric("team_word_budget_for_test", family="format", details="words")
    class TeamWordBudget:
        name = "team_word_budget_for_test"
        keys = (ValueKey("within_limit"),)

        def score(self, cases, outputs):  # type: ignore[no-untyped-def]
            return [CaseScore({"within_limit": 1.0}) for _ in outputs]

    entry = {"text": "Short reply.", "values": {"word_count": 2.0, "within_limit": 1.0},
             "details": {"team_word_budget_for_test": {"words": 2, "limit": 40}}, "retrieved": None}
    sections = candidate_sections(entry, None)["sections"]
    assert [s["kind"] for s in sections] == ["words"]
