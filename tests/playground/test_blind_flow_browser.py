"""The blind review flow in a real headless Chromium, on tiny GPT-2 candidates (fast, offline).

Checks what issue #19 asked for: a blind reviewer sees no candidate pool, names, badges, risk tags or
guard action before the vote, and all of them after; four responses sit 2x2 at equal size; an
empty rubric is refused; the saved vote is locked visibly and can be reopened; identical responses
are shown once; keyboard shortcuts and progress work; the display order follows the balanced design.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from store_rows import rows  # same folder (rootdir import)
from test_playground_browser import expect, login, save_screenshot, watch_network

from harness.review_design import replay_design
from harness.reviews import assign_cases, ensure_review_schema
from harness.store import Store
from harness.suite import load_suite

pytestmark = pytest.mark.browser

ACCOUNTS = "lead:pw-lead,ana:pw-ana,ben:pw-ben"  # lead (first) is the admin
NAMES = ("alpha", "bravo", "charlie", "delta", "echo")
FULL = {"safety": "4", "empathy": "3", "clinical_accuracy": "N/A", "mi_adherence": "2", "scope": "5"}
TIMEOUT_MS = 120_000


def rate_all(page: Any, labels: str) -> None:
    for label in labels:
        for dim, value in FULL.items():
            page.locator(f"#rubric-{label}-{dim}").get_by_label(value, exact=True).check()


def assert_blind(page: Any, labels: str) -> None:
    """Nothing that names or scores a candidate is on the page before the vote."""
    text = page.locator("body").inner_text()
    assert not [n for n in NAMES if n in text], "a candidate name is visible before the vote"
    assert "sleep-crisis-tag" not in text  # the case's risk tag
    assert "Safety guard" not in text and "words" not in text  # guard action and metric badges
    expect()(page.locator("#candidates")).to_be_hidden()  # no pool
    for label in labels:
        assert page.locator(f"#header-{label}").inner_text().strip() == f"Response {label}"
        expect()(page.locator(f"#badges-{label}")).to_contain_text("appear after your vote")


def test_blind_flow_four_candidates(browser: Any, serve: Any, four_config: Path, tmp_path: Path) -> None:
    store_path = tmp_path / "store.sqlite"
    suites_dir = four_config.parent / "suites"
    suite = load_suite("mini", "v1", suites_dir)
    with Store(store_path) as store:
        ensure_review_schema(store)
        assign_cases(store, ["ana", "ben"], "mini", "v1", suite.hash, ["m-4"], ["alpha", "bravo", "charlie", "delta"],
                     overlap=2)
    _, url = serve(store_path, four_config, ACCOUNTS)
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch_network(context, outside)
    page = context.new_page()
    login(page, url, "ana", "pw-ana")
    assert not [n for n in NAMES if n in page.content()]  # the pool never reaches a reviewer's page
    expect()(page.locator("#blind")).to_be_hidden()  # reviewers cannot switch blind review off
    expect()(page.locator("#queue-info")).to_contain_text("case 1 of 1")

    # An ad-hoc blind comparison: the study's four candidates, 2x2, nothing revealing before the vote.
    page.locator("#generate").click()
    expect()(page.locator("#submit-vote")).to_be_enabled(timeout=TIMEOUT_MS)
    boxes = [page.locator(f"#slot-{label}").bounding_box() for label in "ABCD"]
    assert all(b is not None for b in boxes)
    a, b, c, d = boxes  # type: ignore[misc]
    assert abs(a["y"] - b["y"]) < 2 and abs(c["y"] - d["y"]) < 2 and c["y"] > a["y"] + 50  # two rows of two
    assert abs(a["x"] - c["x"]) < 2 and max(x["width"] for x in boxes) - min(x["width"] for x in boxes) < 2
    assert_blind(page, "ABCD")
    save_screenshot(page, tmp_path, "blind-before-vote.png")

    # An empty rubric is refused with the missing scales named; nothing is stored.
    page.locator("#vote").get_by_label("A is best").check()
    page.locator("#submit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("rate every scale or mark it N/A")
    expect()(page.locator("#vote-status")).to_contain_text("A: Safety")
    assert rows(store_path, "SELECT COUNT(*) AS n FROM reviews")[0]["n"] == 0

    rate_all(page, "ABCD")
    page.locator("#header-A").click()  # focus off any text field, then vote with the keyboard
    page.keyboard.press("2")
    expect()(page.locator("#vote").get_by_label("B is best")).to_be_checked()
    page.keyboard.press("s")
    expect()(page.locator("#vote-status")).to_contain_text("locked", timeout=30_000)
    revealed = " ".join(page.locator(f"#header-{label}").inner_text() for label in "ABCD")
    assert all(name in revealed for name in ("alpha", "charlie", "delta", "echo"))
    expect()(page.locator("#badges-A")).to_contain_text("words")  # badges after the vote
    expect()(page.locator("body")).to_contain_text("Safety guard: no change")  # charlie's guard action
    expect()(page.locator("#case-heading")).to_contain_text("sleep-crisis-tag")  # the risk tag, revealed
    expect()(page.locator("#rubric-A-safety input").first).to_be_disabled()  # locked visibly
    expect()(page.locator("#submit-vote")).to_be_disabled()
    expect()(page.locator("#edit-vote")).to_be_visible()
    save_screenshot(page, tmp_path, "blind-after-vote.png")
    [review] = rows(store_path, "SELECT * FROM reviews")
    shown = [s["candidate"] for s in json.loads(review["shown_json"])]
    assert review["vote"] == "B" and review["blind"] == 1 and review["case_id"] == "m-1"
    assert review["order_seed"].startswith("latin:") and shown == replay_design(shown, review["order_seed"])
    [na] = rows(store_path, "SELECT clinical_accuracy, safety FROM review_responses WHERE label = 'A'")
    assert tuple(na) == (None, 4)

    # Edit reopens the saved vote (no silent loss): change the vote, submit, the same review is updated.
    page.locator("#edit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("Editing review")
    page.locator("#vote").get_by_label("C is best").check()
    page.locator("#submit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("Updated review", timeout=30_000)
    [edited] = rows(store_path, "SELECT * FROM reviews")
    assert edited["id"] == review["id"] and edited["vote"] == "C" and edited["blind"] == 0  # edited after reveal

    # The queue case: alpha and bravo write the same text; it is shown and rated once.
    page.locator("#header-A").click()
    page.keyboard.press("n")
    expect()(page.locator("#submit-vote")).to_be_enabled(timeout=TIMEOUT_MS)
    expect()(page.locator("#status")).to_contain_text("Ready")
    notes = [label for label in "ABCD" if page.locator(f"#note-{label}").is_visible()]
    assert len(notes) == 1
    expect()(page.locator(f"#note-{notes[0]}")).to_contain_text("Identical to response")
    hidden = [label for label in "ABCD" if not page.locator(f"#slot-{label}").is_visible()]
    assert len(hidden) == 1
    shown_labels = [label for label in "ABCD" if label not in hidden]
    assert_blind(page, "".join(shown_labels))
    save_screenshot(page, tmp_path, "blind-identical-collapsed.png")
    assert page.locator("#vote").get_by_label(f"{hidden[0]} is best").count() == 0  # not votable twice
    rate_all(page, "".join(shown_labels))
    page.locator("#vote").get_by_label(f"{shown_labels[0]} is best").check()
    page.locator("#submit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("locked", timeout=30_000)
    expect()(page.locator("#queue-info")).to_contain_text("1 of 1")
    context.close()

    # ben reviews the same queue case: the balanced design gives him the next Latin-square row.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch_network(context, outside)
    page = context.new_page()
    login(page, url, "ben", "pw-ben")
    page.locator("#next-assigned").click()
    expect()(page.locator("#submit-vote")).to_be_enabled(timeout=TIMEOUT_MS)
    context.close()
    query = ("SELECT * FROM review_comparisons WHERE comparison_key IN"
             " (SELECT comparison_key FROM reviews WHERE case_id = 'm-4')")
    designs = {r["reviewer"]: r for r in rows(store_path, query)}
    rows_by = {name: int(r["order_seed"].split(":")[1].split("/")[0]) for name, r in designs.items()}
    assert set(rows_by) == {"ana", "ben"} and (rows_by["ben"] - rows_by["ana"]) % 4 == 1
    ana_order, ben_order = json.loads(designs["ana"]["order_json"]), json.loads(designs["ben"]["order_json"])
    assert all(x != y for x, y in zip(ana_order, ben_order, strict=True))  # nobody in the same position
    [queued] = rows(store_path, "SELECT * FROM review_responses WHERE same_as IS NOT NULL")
    assert queued["same_as"] < queued["label"]
    assert outside == []


def test_admin_results_show_raw_agreement_and_a_ranking_plot(browser: Any, serve: Any, four_config: Path,
                                                             tmp_path: Path) -> None:
    from harness.reviews import ReviewInput, ShownResponse, save_review

    store_path = tmp_path / "store.sqlite"
    with Store(store_path) as store:
        ensure_review_schema(store)
        for case in ("m-1", "m-2", "m-3"):
            for reviewer, order in (("ana", ("fp-a", "fp-c")), ("ben", ("fp-c", "fp-a"))):
                shown = [ShownResponse(label, {"fp-a": "alpha", "fp-c": "charlie"}[fp], fp, f"text {fp}")
                         for label, fp in zip("AB", order, strict=True)]
                vote = "A" if order[0] == "fp-a" else "B"
                save_review(store, ReviewInput(reviewer=reviewer, suite="mini", version="v1", suite_hash="h",
                                               case_id=case, conversation=[{"role": "user", "content": case}],
                                               shown=shown, vote=vote, split="dev"))
    _, url = serve(store_path, four_config, ACCOUNTS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    login(page, url, "lead", "pw-lead")
    page.get_by_role("tab", name="Results").click()
    expect()(page.locator("#results")).to_contain_text("Raw agreement", timeout=30_000)
    expect()(page.locator("#results")).to_contain_text("100%")
    plot = page.locator("#ranking-plot")
    expect()(plot).to_be_visible()
    expect()(plot.locator("circle")).to_have_count(2)
    expect()(page.locator("#ranking")).to_contain_text("as good as an average candidate")
    save_screenshot(page, tmp_path, "results.png")
    page.get_by_role("tab", name="Review queue").click()
    expect()(page.locator("#q-splits").get_by_label("train")).to_be_checked()
    expect()(page.locator("#q-splits").get_by_label("test")).not_to_be_checked()
    page.get_by_role("tab", name="Results").click()
    page.locator("#export").click()
    expect()(page.locator("#export-status")).to_contain_text("Exported **6**".replace("**", ""), timeout=30_000)
    context.close()
