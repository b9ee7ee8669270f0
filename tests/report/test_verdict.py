"""The verdict strip, its plots, the checks matrix and the case controls, in a real headless Chromium;
and a changed score in the SQLite store that changes the verdict on the next render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report import render_run_report
from harness.verdict import gate_status, run_verdict


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url, wait_until="load")
    return context, page, errors, requests


@pytest.mark.browser
def test_verdict_strip_plot_matrix_filter_and_case_sort(browser: Any, synthetic_run: Any, tmp_path: Path) -> None:
    url = synthetic_run.page.as_uri()
    context, page, errors, requests = _open(browser, url)
    try:
        strip = page.locator("#verdict-section")
        assert strip.is_visible()
        # The verdict comes before the leaderboards and the safety list.
        top = page.evaluate("() => [...document.querySelectorAll('main > section')].map(s => s.id)")
        assert top[0] == "verdict-section", top
        answer = page.locator("#verdict-answer").inner_text()
        assert answer.startswith(("Better than base", "No candidate is better than base")), answer
        cards = strip.locator(".vcard")
        assert cards.count() == 3 and "Risk misses" in cards.first.inner_text()
        assert "Holm" in strip.inner_text()
        # A plot: a dot-and-CI panel per primary metric, with an accessible title and one dot per candidate.
        panel = strip.locator("svg.dotci", has=page.locator("title", has_text="therapy/v1 · ROUGE-L"))
        assert panel.count() == 1 and panel.is_visible()
        assert panel.locator("circle").count() == 2  # careful and tuned against base
        box = panel.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40
        assert strip.locator("svg.wtl rect").count() > 0
        strip.screenshot(path=str(tmp_path / "verdict.png"))

        # Checks matrix: "failures only" leaves only rows with a failure, and a case link opens its drill-down.
        rows = page.locator("#checks-table tbody tr")
        total = rows.count()
        failing = page.locator('#checks-table tbody tr[data-fail="1"]').count()
        assert 0 < failing < total
        page.locator("#failures-only").check()
        visible = page.locator("#checks-table tbody tr:visible")
        assert visible.count() == failing
        assert all(v == "1" for v in visible.evaluate_all("rs => rs.map(r => r.dataset.fail)"))
        assert f"{failing} of {total}" in page.locator("#checks-count").inner_text()
        assert "✗" in visible.first.inner_text()
        link = visible.first.locator("th a")
        target = (link.get_attribute("href") or "#")[1:]
        link.click()
        page.wait_for_function("id => document.getElementById(id).open", arg=target)
        page.locator("#failures-only").uncheck()
        assert page.locator("#checks-table tbody tr:visible").count() == total

        # Cases: sort by one candidate's metric, then keep only a range.
        ctl = page.locator('.casectl[data-list="suite-therapy-v1-caselist"]')
        ctl.locator("select.case-key").select_option("tuned|rougeL")
        ctl.locator("select.case-dir").select_option("desc")
        values = page.locator("#suite-therapy-v1-caselist details.case:visible").evaluate_all(
            "ds => ds.map(d => JSON.parse(d.dataset.values)['tuned|rougeL'])")
        assert len(values) >= 6 and values == sorted(values, reverse=True)
        cut = sorted(values)[len(values) // 2]
        ctl.locator("input.case-min").fill(str(cut))
        kept = page.locator("#suite-therapy-v1-caselist details.case:visible").evaluate_all(
            "ds => ds.map(d => JSON.parse(d.dataset.values)['tuned|rougeL'])")
        assert kept and all(v >= cut for v in kept) and len(kept) < len(values)
        assert errors == [] and requests == [url]
    finally:
        context.close()


def _set(store: Any, run_id: str, candidate: str, suite: str, key: str, values: dict[str, float]) -> None:
    fp = next(c["fingerprint"] for c in store.run_candidates(run_id) if c["label"] == candidate)
    for case_id, value in values.items():
        store.conn.execute("UPDATE scores SET value = ? WHERE run_id = ? AND candidate_fp = ? AND suite = ?"
                           " AND key = ? AND case_id = ?", (value, run_id, fp, suite, key, case_id))
    store.conn.commit()


@pytest.mark.browser
def test_a_changed_stored_score_changes_the_verdict(browser: Any, synthetic_run: Any, tmp_path: Path) -> None:
    store = synthetic_run.copy_store(tmp_path / "store.sqlite")
    run_id = synthetic_run.run_id
    before = run_verdict(store, run_id)
    tuned_before = next(c for c in before.candidates if c.label == "tuned")
    assert not [p for p in tuned_before.primaries if p.status == "better"]
    careful_before = next(c for c in before.candidates if c.label == "careful").risk_misses
    base_fp = next(c["fingerprint"] for c in store.run_candidates(run_id) if c["label"] == "base")
    base_rouge = {r["case_id"]: r["value"] for r in store.scores(run_id, "therapy")
                  if r["candidate_fp"] == base_fp and r["key"] == "rougeL"}
    assert len(base_rouge) >= 6
    # tuned now beats base by ~0.3 ROUGE-L on every therapy case; careful misses an imminent case.
    _set(store, run_id, "tuned", "therapy", "rougeL",
         {cid: min(1.0, v + 0.3 + 0.01 * i) for i, (cid, v) in enumerate(sorted(base_rouge.items()))})
    _set(store, run_id, "careful", "therapy", "risk_flagged", {"th-006": 0.0})
    after = run_verdict(store, run_id)
    better = [p for p in after.better if p.candidate == "tuned"]
    assert [(p.suite, p.key) for p in better] == [("therapy/v1", "rougeL")]
    assert better[0].p_holm is not None and better[0].p_holm < 0.05 and better[0].low > 0  # type: ignore[operator]
    assert next(c for c in after.candidates if c.label == "careful").risk_misses == careful_before + 1

    path = render_run_report(store, run_id, tmp_path / "reports")
    context, page, errors, _ = _open(browser, path.as_uri())
    try:
        answer = page.locator("#verdict-answer").inner_text()
        assert answer.startswith("Better than base:") and "tuned" in answer, answer
        sentences = page.locator("#verdict-section ul.sentences").inner_text()
        assert "tuned is better than base on therapy/v1 ROUGE-L (+0.3" in sentences and "Holm p = " in sentences
        card = page.locator('.vcard[data-candidate="careful"]').inner_text()
        assert f"Risk misses: {careful_before + 1}" in card
        panel = page.locator("svg.dotci", has=page.locator("title", has_text="therapy/v1 · ROUGE-L"))
        assert panel.locator('circle[fill="#116329"]').count() >= 1  # a better dot is filled
        desc = panel.locator("desc").text_content() or ""
        assert "tuned: +0.3" in desc and "(better)" in desc.split("tuned:", 1)[1]
        assert errors == []
    finally:
        context.close()
    store.close()


def test_gate_status_names_the_baseline_and_too_few_cases() -> None:
    assert gate_status({"passed": 1, "details": {"is_baseline": True}}) == ("baseline", None)
    assert gate_status({"passed": 1, "details": {"message": "the candidate is the baseline: ..."}})[0] == "baseline"
    assert gate_status({"passed": 0, "details": {"needs_n": 14}}) == ("too few cases", 14)
    assert gate_status({"passed": 0, "details": {"status": "not_exercised"}})[0] == "not exercised"
    assert gate_status({"passed": 0, "details": {}}) == ("fail", None)
    assert gate_status({"passed": -1, "details": {"status": "skipped"}})[0] == "skipped"


def test_console_states_the_same_verdict_as_the_report(synthetic_run: Any) -> None:
    from io import StringIO

    from rich.console import Console

    from harness.runner import RunSummary
    from harness.store import Store
    from harness.summary import print_summary, verdict_lines

    with Store(synthetic_run.store_path) as store:
        lines = verdict_lines(store, synthetic_run.run_id)
    html = synthetic_run.page.read_text()
    assert lines and all(line.replace("'", "&#39;") in html or line in html for line in lines)
    assert any(line.startswith(("No candidate differs from base", "careful is better", "tuned is better"))
               for line in lines)
    out = StringIO()
    print_summary(Console(file=out, width=200, color_system=None),
                  RunSummary(synthetic_run.run_id, 0, 0, 1.0, None, False), lines)
    assert "Verdict" in out.getvalue() and lines[0][:60] in out.getvalue()


def test_primary_metrics_come_from_suite_yaml_else_the_defaults() -> None:
    from harness.suite import SuiteSpec
    from harness.verdict import DEFAULT_PRIMARY_METRICS, primary_metrics

    spec = SuiteSpec.model_validate({"name": "therapy", "version": "v9", "task": "therapy",
                                     "primary_metrics": ["empathy_total", "mi_adherent"]})

    class _Suite:
        def __init__(self, s: SuiteSpec) -> None:
            self.spec = s

    assert primary_metrics("therapy", _Suite(spec)) == (["empathy_total", "mi_adherent"], "suite.yaml primary_metrics")
    plain = SuiteSpec.model_validate({"name": "therapy", "version": "v9", "task": "therapy"})
    assert primary_metrics("therapy", _Suite(plain)) == (list(DEFAULT_PRIMARY_METRICS["therapy"]),
                                                         "harness/verdict.py defaults")
    with pytest.raises(ValueError):
        SuiteSpec.model_validate({"name": "t", "version": "v1", "task": "therapy", "primary_metrics": ["a"] * 6})
