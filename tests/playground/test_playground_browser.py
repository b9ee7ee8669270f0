"""End to end in a real headless Chromium: login, blind vote with rubric, two reviewers at once,
restart on the same store, the no-login name requirement, and no request leaving the machine.

The two candidates run on the embedded model with 16 new tokens; only the first comparison
generates, everything after it is served from the store's generation cache.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from store_rows import rows  # same folder (rootdir import)

from harness.review_design import replay_design
from harness.reviews import assign_cases, ensure_review_schema, export_preference_pairs
from harness.store import Store
from harness.suite import load_suite

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACCOUNTS = "alice:pw-alice,bob:pw-bob"  # alice (first) is the admin
GENERATION_TIMEOUT_MS = 480_000  # 2 CPU cores shared with other jobs (0.3-0.7 tokens/s seen under load)
WARM_CACHE: dict[str, Path] = {}  # a store whose generation cache later tests may reuse


def reuse_generations(store_path: Path) -> None:
    """Seed a fresh store with generations made earlier in this module (same keys, same texts)."""
    source = WARM_CACHE.get("store")
    with Store(store_path) as store:
        if source and source.exists():
            store.conn.execute("ATTACH DATABASE ? AS warm", (str(source),))
            store.conn.execute("INSERT OR IGNORE INTO generations SELECT * FROM warm.generations")
            store.conn.commit()
            store.conn.execute("DETACH DATABASE warm")


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def watch_network(context: Any, outside: list[str]) -> None:
    """Record every request that is not to the local server."""
    context.on("request", lambda request: outside.append(request.url)
               if urlparse(request.url).hostname not in ("127.0.0.1", None) and not request.url.startswith("data:")
               else None)


def login(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    expect()(page.locator("#generate")).to_be_visible(timeout=30_000)
    expect()(page.locator("#who")).to_contain_text(f"Signed in as {user}")


def rate(page: Any, label: str, scores: dict[str, int | str]) -> None:
    """Every scale needs a score or N/A: the ones not given are marked N/A."""
    every = {d: "N/A" for d in ("safety", "empathy", "clinical_accuracy", "mi_adherence", "scope")}
    for dim, value in {**every, **scores}.items():
        page.locator(f"#rubric-{label}-{dim}").get_by_label(str(value), exact=True).check()


def save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("PLAYGROUND_SCREENSHOTS"):
        target = Path(os.environ["PLAYGROUND_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def test_blind_review_two_reviewers_and_restart(browser: Any, serve: Any, playground_config: Path,
                                                tmp_path: Path) -> None:
    store_path = tmp_path / "store.sqlite"
    suite = load_suite("mini", "v1", FIXTURES / "suites")
    with Store(store_path) as store:  # bob's queue: the same case alice is about to review
        ensure_review_schema(store)
        assign_cases(store, ["bob"], "mini", "v1", suite.hash, ["m-1"], ["base", "terse"], overlap=1)
    app, url = serve(store_path, playground_config, ACCOUNTS)
    outside: list[str] = []
    alice_ctx, bob_ctx = browser.new_context(viewport={"width": 1400, "height": 1000}), browser.new_context()
    for context in (alice_ctx, bob_ctx):
        watch_network(context, outside)
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
    login(alice, url, "alice", "pw-alice")
    login(bob, url, "bob", "pw-bob")
    expect()(bob.locator("#queue-info")).to_contain_text("1")
    expect()(bob.get_by_role("tab", name="Results")).to_have_count(0)  # reviewers are not shown rankings

    # Both start at once; generation is serialised, bob's is a cache hit.
    alice.locator("#generate").click()
    bob.locator("#next-assigned").click()
    for page in (alice, bob):
        expect()(page.locator("#submit-vote")).to_be_enabled(timeout=GENERATION_TIMEOUT_MS)
        for label in "AB":
            assert page.locator(f"#header-{label}").inner_text().strip() == f"Response {label}"  # names hidden
            assert page.locator(f"#response-{label} textarea").input_value().strip()
        expect()(page.locator("#badges-A")).to_contain_text("appear after your vote")  # no badges yet

    rate(alice, "A", {"safety": 5, "empathy": 4, "clinical_accuracy": 4, "mi_adherence": 3, "scope": 5})
    rate(alice, "B", {"safety": 4, "empathy": 2})
    alice.locator("#vote").get_by_label("A is better").check()
    alice.locator("#comment textarea").fill("A reflects the feeling; B is curt.")
    rate(bob, "A", {"safety": 3})
    rate(bob, "B", {})
    bob.locator("#vote").get_by_label("B is better").check()
    alice.locator("#submit-vote").click()
    bob.locator("#submit-vote").click()  # both votes in flight together
    for page in (alice, bob):
        expect()(page.locator("#vote-status")).to_contain_text("Saved review", timeout=30_000)
        revealed = page.locator("#header-A").inner_text() + page.locator("#header-B").inner_text()
        assert "base" in revealed and "terse" in revealed  # names revealed after the vote
        expect()(page.locator("#badges-A")).to_contain_text("words")  # and the badges
        expect()(page.locator("#submit-vote")).to_be_disabled()
    save_screenshot(alice, tmp_path, "playground-after-vote.png")

    reviews = {r["reviewer"]: r for r in rows(store_path, "SELECT * FROM reviews")}
    assert set(reviews) == {"alice", "bob"}
    a = reviews["alice"]
    shown = json.loads(a["shown_json"])
    [drawn] = rows(store_path, "SELECT * FROM review_comparisons WHERE reviewer = 'alice'")
    assert a["order_seed"] == drawn["order_seed"] and a["order_seed"].startswith("latin:")  # balanced, stored
    assert [s["candidate"] for s in shown] == replay_design(["base", "terse"], a["order_seed"])
    assert a["vote"] == "A" and a["winner_fp"] == shown[0]["fingerprint"] and a["blind"] == 1
    assert (a["suite"], a["version"], a["case_id"], a["suite_hash"]) == ("mini", "v1", "m-1", suite.hash)
    assert a["comment"] == "A reflects the feeling; B is curt."
    responses = rows(store_path, "SELECT * FROM review_responses WHERE review_id = ? ORDER BY position", a["id"])
    assert [r["label"] for r in responses] == ["A", "B"]
    assert (responses[0]["safety"], responses[0]["empathy"], responses[0]["mi_adherence"]) == (5, 4, 3)
    assert (responses[1]["safety"], responses[1]["empathy"], responses[1]["scope"]) == (4, 2, None)
    settings = json.loads(responses[0]["settings_json"])
    assert settings["params"]["max_new_tokens"] == 16 and settings["backend"].startswith("transformers:")
    assert responses[0]["fingerprint"] == shown[0]["fingerprint"] and responses[0]["cache_key"]
    b = reviews["bob"]
    assert b["vote"] == "B" and b["assignment_id"] is not None
    bob_order = [s["candidate"] for s in json.loads(b["shown_json"])]
    assert b["winner_fp"] == json.loads(b["shown_json"])[1]["fingerprint"]
    assert bob_order == replay_design(["base", "terse"], b["order_seed"]) and b["order_seed"] != a["order_seed"]
    assert rows(store_path, "SELECT done_at FROM review_assignments WHERE reviewer = 'bob'")[0]["done_at"]
    assert rows(store_path, "SELECT COUNT(*) AS n FROM generations")[0]["n"] == 2  # one generation per candidate
    alice_ctx.close()
    bob_ctx.close()

    # Restart: a new app on the same store sees every vote.
    app.close()
    _, url = serve(store_path, playground_config, ACCOUNTS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watch_network(context, outside)
    page = context.new_page()
    login(page, url, "alice", "pw-alice")
    page.get_by_role("tab", name="Results").click()
    expect()(page.locator("#results")).to_contain_text("2 reviews", timeout=30_000)
    expect()(page.locator("#results")).to_contain_text("Ranking")
    save_screenshot(page, tmp_path, "playground-results.png")
    page.get_by_role("tab", name="Review queue").click()
    expect()(page.locator("#queue-progress")).to_contain_text("bob")
    for name in ("alice", "bob"):
        page.locator("#q-reviewers").get_by_label(name, exact=True).check()
    page.locator("#q-splits").get_by_label("test", exact=True).check()  # default: train/dev (exportable)
    page.locator("#q-splits").get_by_label("train", exact=True).uncheck()
    page.locator("#assign").click()
    expect()(page.locator("#assign-status")).to_contain_text("new assignment", timeout=30_000)
    context.close()
    assert len(rows(store_path, "SELECT id FROM reviews")) == 2
    per_case = rows(store_path, "SELECT case_id, COUNT(DISTINCT reviewer) AS n FROM review_assignments"
                                " GROUP BY case_id")
    # Overlap 2 over the three test cases; bob's earlier m-1 assignment is kept, not duplicated.
    assert {r["case_id"]: r["n"] for r in per_case} == {"m-1": 2, "m-2": 2, "m-3": 2}
    assert outside == []
    WARM_CACHE["store"] = store_path

    # The two decisive votes export as preference pairs that the DPO stage's loader reads.
    with Store(store_path) as store:
        assert export_preference_pairs(store, tmp_path / "pairs.jsonl") == 2
    data = pytest.importorskip("harness.variants.data")
    from harness.variants.config import TrainingConfig

    config = TrainingConfig.model_validate({
        "name": "t", "stages": [{"type": "dpo", "dataset": "prefs", "max_steps": 1}],
        "datasets": {"prefs": {"kind": "preference_jsonl", "path": str(tmp_path / "pairs.jsonl"),
                               "eval_fraction": 0}},
    })
    built = data.build_dataset("prefs", config.datasets["prefs"], config, tmp_path)
    assert len(built.records) == 2
    assert built.records[0]["prompt"][-1]["content"] == suite.cases[0].input


def test_without_login_a_vote_needs_a_name(browser: Any, serve: Any, playground_config: Path,
                                           tmp_path: Path) -> None:
    store_path = tmp_path / "store.sqlite"
    reuse_generations(store_path)
    _, url = serve(store_path, playground_config, None)
    context = browser.new_context()
    outside: list[str] = []
    watch_network(context, outside)
    page = context.new_page()
    page.goto(url)
    expect()(page.locator("#generate")).to_be_visible(timeout=30_000)
    page.locator("#generate").click()  # blind needs a reviewer (the order is seeded per reviewer)
    expect()(page.locator("#status")).to_contain_text("Enter your name first")
    page.locator("#blind input").uncheck()
    page.locator("#generate").click()
    expect()(page.locator("#submit-vote")).to_be_enabled(timeout=GENERATION_TIMEOUT_MS)
    expect()(page.locator("#header-A")).to_contain_text("base")  # not blind: names shown, selection order
    page.locator("#vote").get_by_label("Tie (equally good)").check()
    rate(page, "A", {"safety": 4})
    rate(page, "B", {})
    page.locator("#submit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("Enter your name before voting")
    assert rows(store_path, "SELECT COUNT(*) AS n FROM reviews")[0]["n"] == 0
    page.locator("#reviewer-name input").fill("Dr Test")
    page.locator("#submit-vote").click()
    expect()(page.locator("#vote-status")).to_contain_text("Saved review", timeout=30_000)
    [review] = rows(store_path, "SELECT reviewer, vote, blind FROM reviews")
    assert tuple(review) == ("Dr Test", "tie", 0)
    context.close()
    assert outside == []
