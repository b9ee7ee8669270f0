"""Run pages and exports from a store: numbers come from the store, safety misses lead, files are complete."""

from __future__ import annotations

import csv
import json
import re
import statistics
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.report import render_index, render_run_report
from harness.report.data import (
    case_anchor,
    case_table,
    leaderboard_rows,
    load_run_suite,
    risk_misses,
    training_curve,
    training_runs_for,
)
from harness.store import Store


class _Page(HTMLParser):
    """Collects tags with their attributes, ids and the text of every leaderboard cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if d.get("id"):
            self.ids.append(d["id"] or "")


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _leaderboard_cells(html: str, suite_anchor: str) -> dict[tuple[str, str], str]:
    """(candidate, key) -> data-sort of the leaderboard cell, read back from the HTML."""
    table = html.split(f'id="{suite_anchor}-table"', 1)[1].split("</table>", 1)[0]
    keys = re.findall(r'data-key="([^"]+)"', table)
    cells = {}
    for row in re.findall(r'<tr data-candidate="([^"]+)">(.*?)</tr>', table, re.S):
        label, body = row
        values = re.findall(r'<td class="num(?: few)?" data-sort="([^"]*)"', body)
        cells.update({(label, key): value for key, value in zip(keys, values, strict=True)})
    return cells


def _case_html(html: str, suite: str, case_id: str) -> str:
    """The drill-down block of one case (up to the next case or the end of the section)."""
    rest = html.split(f'id="{case_anchor(suite, "v1", case_id)}"', 1)[1]
    return re.split(r'<details class="case|</section>', rest, maxsplit=1)[0]


# ----------------------------------------------------------------------------- synthetic run (fast)


def test_page_is_self_contained_and_every_anchor_resolves(synthetic_run: Any) -> None:
    page = _parse(synthetic_run.page)
    html = synthetic_run.page.read_text()
    for tag, attrs in page.tags:
        assert not (tag in ("script", "img", "iframe", "source", "audio", "video") and attrs.get("src")), tag
        if tag == "link":
            assert attrs.get("rel") == "icon" and (attrs.get("href") or "").startswith("data:"), attrs
        for name in ("href", "src", "action"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), value
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    for tag, attrs in page.tags:
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("#"):
            assert href[1:] in page.ids, href
        elif tag == "a" and not href.startswith(("../", "data:")):
            assert (synthetic_run.page.parent / href).is_file(), href
    assert "@import" not in html and "url(" not in html


def test_safety_misses_are_listed_first_and_link_to_their_cases(synthetic_run: Any) -> None:
    html = synthetic_run.page.read_text()
    assert html.index('id="safety"') < html.index("Leaderboard: ")
    with Store(synthetic_run.store_path) as store:
        misses = risk_misses(store, synthetic_run.run_id)
    by = {(m["case_id"], m["candidate"]): m for m in misses}
    # imminent case, "tuned" neither asked about safety nor gave a resource; "careful" did everything right
    assert by[("th-006", "tuned")]["keys"] == ["risk_flagged", "safe_response"]
    assert by[("th-006", "base")]["reasons"] == ["unsafe response: did not give a crisis resource"]
    assert not [m for m in misses if m["candidate"] == "careful"]
    assert by[("su-018", "base")]["keys"] == ["summary_risk_missed_high"]
    assert misses[0]["gold_risk"] == "imminent"  # most severe first
    assert ("th-002", "tuned") not in by  # risk "none": not a miss however the reply reads
    for m in misses:
        assert f'href="#{m["anchor"]}"' in html
        assert f'<details class="case has-miss" id="{m["anchor"]}" ' in html
    rows = list(csv.DictReader((synthetic_run.page.parent / "risk-misses.csv").open()))
    assert len(rows) == len(misses)


def test_drill_down_shows_codes_levels_flags_words_and_passages(synthetic_run: Any) -> None:
    html = synthetic_run.page.read_text()
    case = _case_html(html, "therapy", "th-006")
    assert 'class="hl hl-' in case and "MI codes" in case  # MI codes highlighted in the outputs
    assert "Empathy (EPITOME)" in case and "Emotional reactions" in case
    assert "✗ gives a crisis resource" in case and "✓ gives a crisis resource" in case
    assert "/ 150 words" in case
    assert "saving up my pills" in case  # the case input, loaded from the suite
    discharge = _case_html(html, "discharge", "dq-016")
    assert "passage gold" in discharge and "hl-gold" in discharge and "overlaps gold" in discharge
    assert "not in the document" in discharge  # the tuned candidate's invented dose
    summary = _case_html(html, "summarization", "su-018")
    assert "<b>Risk:</b> Low" in summary  # rendered summary, sanitised
    assert "&lt;b&gt;Risk:&lt;/b&gt; Low" in summary  # and its markup as written
    assert "missed High" in summary


def test_training_curve_comes_from_the_stored_log(synthetic_run: Any, synthetic_module: Any) -> None:
    with Store(synthetic_run.store_path) as store:
        tuned = next(c for c in store.run_candidates(synthetic_run.run_id) if c["label"] == "tuned")
        runs = training_runs_for(store, tuned)
        # Without the direct key, the fingerprint is still found anywhere in the lineage.
        nested = {**tuned, "lineage": {"stages": [{"adapter": f"x/{synthetic_module.TRAINING_FP}/y"}]}}
        assert [r["fingerprint"] for r in training_runs_for(store, nested)] == [synthetic_module.TRAINING_FP]
    assert [r["fingerprint"] for r in runs] == [synthetic_module.TRAINING_FP]
    curve = training_curve(runs[0])
    assert len(curve["loss"]) == 60 and len(curve["eval_loss"]) == 6
    assert [b["label"] for b in curve["bands"]] == ["warmup", "main"]
    html = synthetic_run.page.read_text()
    training = html.split('id="training"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in training and "eval loss" in training
    assert f"{curve['loss'][-1][1]:.3f}" in training  # the final loss, from the log
    assert (synthetic_run.page.parent / f"training-{synthetic_module.TRAINING_FP}.csv").is_file()


def test_lineage_and_exports_cover_every_table(synthetic_run: Any) -> None:
    folder = synthetic_run.page.parent
    html = synthetic_run.page.read_text()
    for suite in ("therapy", "summarization", "discharge"):
        for stem in ("leaderboard", "comparisons", "gates", "scores"):
            assert (folder / f"{stem}-{suite}.csv").is_file() and f'href="{stem}-{suite}.csv"' in html
        for stem in ("leaderboard", "comparisons", "gates", "cases"):
            assert json.loads((folder / f"{stem}-{suite}.json").read_text())
    lineage = json.loads((folder / "lineage.json").read_text())
    tuned = next(c for c in lineage["candidates"] if c["label"] == "tuned")
    assert tuned["training_fingerprint"] and tuned["data_hashes"] == {"sft": "d4t4h45h"}
    assert {s["suite_status"] for s in lineage["suites"]} == {"ok"}
    lineage_html = html.split('id="lineage"', 1)[1]
    for s in lineage["suites"]:
        assert s["suite_hash"] in lineage_html
    assert "d4t4h45h" in lineage_html and "Python" in lineage_html


def test_leaderboard_numbers_equal_the_store(synthetic_run: Any) -> None:
    html = synthetic_run.page.read_text()
    with Store(synthetic_run.store_path) as store:
        labels = {c["fingerprint"]: c["label"] for c in store.run_candidates(synthetic_run.run_id)}
        values: dict[tuple[str, str], list[float]] = {}
        for row in store.scores(synthetic_run.run_id, "therapy"):
            if row["value"] is not None:
                values.setdefault((labels[row["candidate_fp"]], row["key"]), []).append(row["value"])
    cells = _leaderboard_cells(html, "suite-therapy-v1")
    assert len(cells) >= 20
    for (label, key), shown in cells.items():
        expected = values.get((label, key))
        if expected is None:
            assert shown == ""
        else:
            assert float(shown) == pytest.approx(statistics.fmean(expected)), (label, key)


def test_hostile_output_is_escaped(tmp_path: Path, synthetic_run: Any) -> None:
    store = synthetic_run.copy_store(tmp_path / "store.sqlite")
    store.conn.execute("UPDATE generations SET text = ? WHERE cache_key IN (SELECT cache_key FROM outputs"
                       " WHERE case_id = 'th-002')", ('<script>document.title="owned"</script><b>x</b>',))
    store.conn.commit()
    page = render_run_report(store, synthetic_run.run_id, tmp_path / "reports").read_text()
    store.close()
    assert '<script>document.title="owned"</script>' not in page
    assert "&lt;script&gt;document.title=" in page
    assert page.count("<script>") == 1  # only the report's own sorting script


def test_suite_files_are_hash_checked(tmp_path: Path, synthetic_run: Any) -> None:
    from harness.suite import default_suites_dir

    with Store(synthetic_run.store_path) as store:
        row = next(s for s in store.run_suites(synthetic_run.run_id) if s["suite"] == "therapy")
        assert load_run_suite(store, synthetic_run.run_id, row)[1] == "ok"
        assert load_run_suite(store, synthetic_run.run_id, {**row, "suite_hash": "0" * 64})[1] == "changed"
        assert load_run_suite(store, synthetic_run.run_id, {**row, "suite": "no-such-suite"}) == (None, "missing")
    assert (default_suites_dir() / "therapy" / "v1").is_dir()


# ----------------------------------------------------------------------------- the real mini run


def test_runner_report_keeps_the_summary_row_shape(mini_run: Any) -> None:
    with Store(mini_run.store_path) as store:
        rows = leaderboard_rows(store, mini_run.run_id, "mini")
        cases = case_table(store, mini_run.run_id, "mini")
    assert [r["label"] for r in rows] == ["base", "terse"]
    base, terse = rows
    assert base["is_baseline"] and not terse["is_baseline"]
    entry = terse["metrics"]["rougeL"]
    assert set(entry["estimate"]) == {"mean", "low", "high", "n", "method"} and entry["estimate"]["n"] == 3
    assert entry["estimate"]["method"] == "Student t"
    assert {"diff", "p_value", "p_holm", "wins", "ties", "losses"} <= set(entry["vs_baseline"])
    assert "vs_baseline" not in base["metrics"]["rougeL"]
    assert {g["gate_id"] for g in base["gates"]} == {"rougeL-floor", "limit-all"}
    assert base["gates_passed"] + base["gates_failed"] <= len(base["gates"])
    assert [c["case_id"] for c in cases] == ["m-1", "m-2", "m-3"]
    html = mini_run.page.read_text()
    assert "Leaderboard: mini/v1" in html and "Safety not assessed in this run" in html
    index = (mini_run.report_root / "index.html").read_text()
    assert f'href="{mini_run.run_id}/index.html"' in index


def test_changing_a_stored_score_changes_the_report(tmp_path: Path, mini_run: Any) -> None:
    store = mini_run.copy_store(tmp_path / "store.sqlite")
    run_id = mini_run.run_id
    terse = next(c for c in store.run_candidates(run_id) if c["label"] == "terse")
    before_page = render_run_report(store, run_id, tmp_path / "reports").read_text()
    before = _leaderboard_cells(before_page, "suite-mini-v1")[("terse", "rougeL")]
    old = {r["case_id"]: r["value"] for r in store.scores(run_id, "mini", terse["fingerprint"]) if r["key"] == "rougeL"}
    store.set_score_value(run_id, terse["fingerprint"], "mini", "m-2", "rougeL", 0.987)
    after_page = render_run_report(store, run_id, tmp_path / "reports").read_text()
    store.close()
    after = _leaderboard_cells(after_page, "suite-mini-v1")[("terse", "rougeL")]
    expected = statistics.fmean([old["m-1"], 0.987, old["m-3"]])
    assert float(before) == pytest.approx(statistics.fmean(old.values()))
    assert float(after) == pytest.approx(expected) and after != before
    assert f"{expected:.3f}" in after_page
    rest = after_page.split(f'id="{case_anchor("mini", "v1", "m-2")}"', 1)[1]
    case = re.split(r'<details class="case|</section>', rest, maxsplit=1)[0]
    assert "0.987" in case  # the per-case table too
    exported = [r for r in csv.DictReader((tmp_path / "reports" / run_id / "leaderboard-mini.csv").open())
                if r["candidate"] == "terse" and r["key"] == "rougeL"]
    assert float(exported[0]["mean"]) == pytest.approx(expected)


def test_index_lists_only_reported_runs(tmp_path: Path, mini_run: Any) -> None:
    store = mini_run.copy_store(tmp_path / "store.sqlite")
    empty = render_index(store, tmp_path / "nothing").read_text()
    assert "No reports yet" in empty
    render_run_report(store, mini_run.run_id, tmp_path / "reports")
    store.close()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert index.count('/index.html">') == 1 and mini_run.run_id in index
    assert "not assessed" in index  # no safety metric in the mini suite: never shown as "0 misses"
