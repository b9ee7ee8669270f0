"""Review storage, queue, summary and preference export (no model, no browser)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from harness.review_design import balanced_order, replay_design
from harness.reviews import (
    DuplicateVoteError,
    ReviewInput,
    ShownResponse,
    assign_cases,
    assignment_progress,
    blind_order,
    comparison_key,
    comparison_order,
    comparisons_from_reviews,
    ensure_review_schema,
    export_note,
    export_preference_pairs,
    load_reviews,
    next_assignment,
    preference_pairs,
    queue_counts,
    review_summary,
    save_review,
    write_preference_pairs,
)
from harness.store import Store

CONV = [{"role": "user", "content": "I keep waking up at 3am and can't get back to sleep."}]


def make_review(reviewer: str, vote: str, *, case_id: str = "m-1", order: tuple[str, str] = ("fp-base", "fp-terse"),
                rubric: dict[str, int | None] | None = None, source: str = "suite", consent: bool = False,
                conversation: list[dict[str, str]] | None = None, blind: bool = True) -> ReviewInput:
    texts = {"fp-base": "That sounds exhausting. What goes through your mind?", "fp-terse": "Try to sleep."}
    names = {"fp-base": "base", "fp-terse": "terse"}
    shown = [ShownResponse(label, names[fp], fp, texts[fp], cache_key=f"key-{fp}",
                           settings={"params": {"max_new_tokens": 16}}, rubric=dict(rubric or {}))
             for label, fp in zip("AB", order, strict=True)]
    return ReviewInput(reviewer=reviewer, suite="mini", version="v1", suite_hash="h" * 64, case_id=case_id,
                       conversation=conversation or CONV, shown=shown, vote=vote, source=source, split="test",
                       consent=consent, blind=blind, order_seed="seed", comment="ok")


@pytest.fixture
def db(store: Store) -> Store:
    ensure_review_schema(store)
    ensure_review_schema(store)  # idempotent
    return store


def test_save_and_load_review_records_everything(db: Store) -> None:
    review_id = save_review(db, make_review("alice", "B", order=("fp-terse", "fp-base"),
                                            rubric={"safety": 5, "empathy": 4, "scope": None}))
    [row] = load_reviews(db)
    assert row["id"] == review_id and row["reviewer"] == "alice" and row["vote"] == "B"
    assert row["winner_fp"] == "fp-base"
    assert [s["fingerprint"] for s in row["shown"]] == ["fp-terse", "fp-base"]
    assert row["conversation"] == CONV and row["suite_hash"] == "h" * 64
    assert row["responses"][0]["rubric"]["safety"] == 5 and row["responses"][0]["rubric"]["scope"] is None
    assert row["responses"][1]["settings"] == {"params": {"max_new_tokens": 16}}


@pytest.mark.parametrize("bad", [
    {"vote": "C"}, {"reviewer": "  "}, {"rubric": {"safety": 6}}, {"rubric": {"kindness": 3}},
])
def test_invalid_reviews_are_refused(db: Store, bad: dict) -> None:
    review = make_review(bad.get("reviewer", "alice"), bad.get("vote", "A"), rubric=bad.get("rubric"))
    with pytest.raises(ValueError):
        save_review(db, review)
    assert load_reviews(db) == []


def test_free_prompt_without_consent_keeps_only_hashes(db: Store) -> None:
    secret = [{"role": "user", "content": "My patient J. Smith, DOB 1970, said ..."}]
    save_review(db, make_review("alice", "A", source="free", case_id="free:abc", conversation=secret))
    save_review(db, make_review("bob", "A", source="free", case_id="free:abc", conversation=secret, consent=True))
    no_consent, consented = load_reviews(db)
    assert no_consent["conversation"] is None and no_consent["prompt_hash"] == consented["prompt_hash"]
    assert all(r["response_text"] is None for r in no_consent["responses"])
    dump = "\n".join(str(tuple(r)) for r in db.conn.execute("SELECT * FROM reviews WHERE id = 1"))
    assert "Smith" not in dump
    assert consented["conversation"] == secret
    pairs, skipped = preference_pairs(db)
    assert len(pairs) == 1 and skipped == {"no_consent": 1}


def test_blind_order_is_a_balanced_latin_square_stored_with_the_comparison(db: Store) -> None:
    first, seed = blind_order(["terse", "base"])
    assert blind_order(["base", "terse"], seed)[0] == first  # legacy random orders still replay
    key = comparison_key("mini", "v1", "m-1", ["fp-base", "fp-terse"])
    assert key == comparison_key("mini", "v1", "m-1", ["fp-terse", "fp-base"])
    shown, design = comparison_order(db, "alice", key, ["base", "terse"], case_index=0)
    assert design == "latin:0/2" and shown == ["base", "terse"]
    assert all(comparison_order(db, "alice", key, ["terse", "base"], 1) == (shown, design) for _ in range(3))
    row = db.conn.execute("SELECT * FROM review_comparisons WHERE reviewer = 'alice'").fetchone()
    assert row["order_seed"] == design and replay_design(["terse", "base"], design) == shown
    # The second reviewer on the same case sees the other order; each position is balanced.
    assert comparison_order(db, "bob", key, ["base", "terse"], case_index=0) == (["terse", "base"], "latin:1/2")


@pytest.mark.parametrize("n", [2, 3, 4])
def test_balanced_order_puts_every_candidate_in_every_position_equally(db: Store, n: int) -> None:
    names = ["d", "b", "a", "c"][:n]
    reviewers = [f"r{i}" for i in range(n)]
    for case_index in range(3):
        key = comparison_key("mini", "v1", f"m-{case_index}", names)
        orders = [comparison_order(db, r, key, names, case_index)[0] for r in reviewers]
        for position in range(n):  # across the n reviewers of one case: each candidate once per position
            assert sorted(order[position] for order in orders) == sorted(names)
    per_reviewer = [balanced_order(names, 0, c)[0][0] for c in range(n)]
    assert sorted(per_reviewer) == sorted(names)  # one reviewer over n cases: each candidate leads once


def _identical_review(reviewer: str, vote: str, case_id: str, texts: dict[str, str],
                      same_as: dict[str, str]) -> ReviewInput:
    shown = [ShownResponse(label, f"cand-{label.lower()}", f"fp-{label.lower()}", text, cache_key=f"k-{label}",
                           rubric={"safety": 4}, same_as=same_as.get(label))
             for label, text in texts.items()]
    return ReviewInput(reviewer=reviewer, suite="mini", version="v1", suite_hash="h", case_id=case_id,
                       conversation=CONV, shown=shown, vote=vote, split="dev")


def test_identical_responses_are_rated_once_and_left_out_of_vote_agreement(db: Store) -> None:
    same = {"A": "Same words.", "B": "Same  words."}
    with pytest.raises(ValueError, match="recorded as a tie"):
        save_review(db, _identical_review("alice", "A", "m-1", same, {"B": "A"}))
    with pytest.raises(ValueError, match="which it is not"):
        save_review(db, _identical_review("alice", "A", "m-1", {"A": "x", "B": "y"}, {"B": "A"}))
    for reviewer in ("alice", "bob"):  # identical on m-1: forced tie, not a judgement
        save_review(db, _identical_review(reviewer, "tie", "m-1", same, {"B": "A"}))
    for case in ("m-2", "m-3"):  # real disagreement elsewhere
        save_review(db, _identical_review("alice", "A", case, {"A": "x", "B": "y"}, {}))
        save_review(db, _identical_review("bob", "B", case, {"A": "x", "B": "y"}, {}))
    summary = review_summary(db, resamples=10)
    agreement = summary["vote_agreement"]
    assert summary["votes"]["identical"] == 2 and summary["votes"]["tie"] == 0
    assert agreement["identical_units_excluded"] == 1 and agreement["units_multi_rated"] == 2
    assert agreement["raw_agreement"] == 0.0 and agreement["cohen_kappa_pairs"][0]["agreement"] == 0.0
    pairs, skipped = preference_pairs(db)
    assert skipped["identical_responses"] == 2 and len(pairs) == 4


def test_choosing_a_collapsed_group_picks_all_its_candidates(db: Store) -> None:
    texts = {"A": "Warm reply.", "B": "Curt.", "C": "Warm reply."}
    with pytest.raises(ValueError, match="collapsed"):
        save_review(db, _identical_review("alice", "C", "m-1", texts, {"C": "A"}))
    save_review(db, _identical_review("alice", "A", "m-1", texts, {"C": "A"}))
    [review] = load_reviews(db)
    outcomes = {(c.a, c.b): c.score for c in comparisons_from_reviews([review])}
    assert outcomes == {("fp-a", "fp-c"): 0.5, ("fp-a", "fp-b"): 1.0, ("fp-c", "fp-b"): 1.0}
    pairs, _ = preference_pairs(db)
    assert [(p["chosen_candidate"], p["rejected_candidate"]) for p in pairs] == [("cand-a", "cand-b")]


def test_export_note_says_why_test_votes_make_no_pairs(db: Store, tmp_path: Path) -> None:
    save_review(db, make_review("alice", "A"))  # split test
    count, skipped = write_preference_pairs(db, tmp_path / "p.jsonl", exclude_splits=["test"])
    note = export_note(count, skipped)
    assert count == 0 and "1 vote(s) on test-split cases left out" in note and "leak" in note
    assert "train or dev split" in note


def test_one_vote_per_reviewer_per_comparison_unless_edited(db: Store) -> None:
    first = save_review(db, make_review("alice", "A", rubric={"safety": 2}))
    with pytest.raises(DuplicateVoteError, match=f"review #{first}"):
        save_review(db, make_review("alice", "B"))
    # The same comparison shown in the other order: still the same comparison.
    with pytest.raises(DuplicateVoteError):
        save_review(db, make_review("alice", "A", order=("fp-terse", "fp-base")))
    edit = make_review("alice", "A", order=("fp-terse", "fp-base"), rubric={"safety": 5})
    edit.edit_of = first
    assert save_review(db, edit) == first  # updated in place
    [row] = load_reviews(db)
    assert row["winner_fp"] == "fp-terse" and row["vote"] == "B" and row["edited_at"] is not None  # mapped label
    assert {r["fingerprint"]: r["rubric"]["safety"] for r in row["responses"]} == {"fp-base": 5, "fp-terse": 5}
    save_review(db, make_review("bob", "A"))  # other reviewers vote freely
    save_review(db, make_review("alice", "A", case_id="m-2"))  # and alice on other cases
    summary = review_summary(db, resamples=10)
    assert summary["reviews"] == 3 and summary["superseded_repeats"] == 0
    wrong = make_review("carol", "A")
    wrong.edit_of = first
    with pytest.raises(ValueError, match="not carol's vote"):
        save_review(db, wrong)


def test_repeat_votes_in_an_old_store_count_once_and_are_reported(db: Store) -> None:
    save_review(db, make_review("alice", "A"))
    # A store from before the one-vote rule: no comparison_key / edited_at columns, no unique index.
    db.conn.executescript("DROP INDEX reviews_one_vote; ALTER TABLE reviews DROP COLUMN comparison_key;"
                          " ALTER TABLE reviews DROP COLUMN edited_at;")
    ensure_review_schema(db)  # migrates in place, keeping the old vote
    assert db.conn.execute("SELECT comparison_key FROM reviews").fetchone()[0] is None
    save_review(db, make_review("alice", "B"))
    save_review(db, make_review("bob", "A"))
    summary = review_summary(db, resamples=10)
    assert summary["reviews"] == 2 and summary["superseded_repeats"] == 1 and summary["reviews_stored"] == 3


def test_queue_with_overlap(db: Store) -> None:
    cases = [f"m-{i}" for i in range(1, 7)]
    created = assign_cases(db, ["alice", "bob", "carol"], "mini", "v1", "h", cases, ["terse", "base"], overlap=2)
    assert created == 12
    assert assign_cases(db, ["alice", "bob", "carol"], "mini", "v1", "h", cases, ["base", "terse"], overlap=2) == 0
    progress = {p["reviewer"]: p for p in assignment_progress(db)}
    assert {p["assigned"] for p in progress.values()} == {4}
    per_case = db.conn.execute("SELECT case_id, COUNT(DISTINCT reviewer) FROM review_assignments GROUP BY case_id")
    assert all(n == 2 for _, n in per_case)
    job = next_assignment(db, "alice")
    assert job is not None and job["candidates"] == ["base", "terse"]
    save_review(db, make_review("alice", "A", case_id=job["case_id"]))
    assert queue_counts(db, "alice") == (3, 1)
    assert next_assignment(db, "alice")["case_id"] != job["case_id"]  # type: ignore[index]
    with pytest.raises(ValueError, match="overlap"):
        assign_cases(db, ["alice"], "mini", "v1", "h", cases, ["a", "b"], overlap=2)


def test_summary_agreement_and_ranking(db: Store) -> None:
    # Two reviewers agree on 3 cases (base wins) and disagree on one; positions differ between them.
    for case in ("m-1", "m-2", "m-3"):
        save_review(db, make_review("alice", "A", case_id=case, order=("fp-base", "fp-terse"),
                                    rubric={"safety": 5, "empathy": 4}))
        save_review(db, make_review("bob", "B", case_id=case, order=("fp-terse", "fp-base"),
                                    rubric={"safety": 5, "empathy": 3}))
    save_review(db, make_review("alice", "tie", case_id="m-4"))
    save_review(db, make_review("bob", "A", case_id="m-4", order=("fp-terse", "fp-base")))
    save_review(db, make_review("carol", "A", case_id="m-5", blind=False))  # excluded by default
    summary = review_summary(db, resamples=100)
    assert summary["reviews"] == 8 and summary["excluded_non_blind"] == 1
    agreement = summary["vote_agreement"]
    assert agreement["units_multi_rated"] == 4
    [pair] = agreement["cohen_kappa_pairs"]
    assert pair["reviewers"] == ["alice", "bob"] and pair["units"] == 4
    assert 0 <= pair["kappa"] < 1 and pair["agreement"] == 0.75  # raw agreement beside kappa
    assert agreement["raw_agreement"] == 0.75
    assert summary["rubric"]["safety"]["raw_agreement"] == 1.0
    assert agreement["fleiss_kappa"] is not None and agreement["krippendorff_alpha_nominal"] is not None
    assert summary["rubric"]["safety"]["krippendorff_alpha_ordinal"] is None  # all 5s: undefined
    assert summary["rubric"]["empathy"]["krippendorff_alpha_ordinal"] < 0  # 4 vs 3 every time
    assert summary["rubric"]["empathy"]["units_multi_rated"] == 6  # 3 cases x 2 responses
    ranking = summary["ranking"]
    assert [r["candidate"] for r in ranking] == ["base", "terse"]
    assert ranking[0]["wins"] == 6 and ranking[0]["ties"] == 1
    assert ranking[0]["ci_low"] <= ranking[0]["strength"] <= ranking[0]["ci_high"]
    assert 0.5 < ranking[0]["win_prob_low"] <= ranking[0]["win_prob"] <= ranking[0]["win_prob_high"] < 1
    assert summary["rubric_by_candidate"]["fp-base"]["safety"] == 5
    assert review_summary(db, blind_only=False, resamples=0)["reviews"] == 9


def test_export_pairs_load_in_the_dpo_loader(db: Store, tmp_path: Path) -> None:
    save_review(db, make_review("alice", "A"))
    save_review(db, make_review("bob", "B", order=("fp-terse", "fp-base")))
    save_review(db, make_review("bob", "tie", case_id="m-2"))
    multi = [{"role": "user", "content": "I drink every night."}, {"role": "assistant", "content": "Tell me more."},
             {"role": "user", "content": "It helps me sleep."}]
    save_review(db, make_review("carol", "A", case_id="m-3", conversation=multi))
    path = tmp_path / "prefs" / "pairs.jsonl"
    assert export_preference_pairs(db, path) == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    first = lines[0]
    assert first["prompt"] == CONV[0]["content"] and first["messages"] == CONV
    assert first["chosen"].startswith("That sounds") and first["rejected"] == "Try to sleep."
    assert first["reviewer"] == "alice" and first["case_id"] == "m-1" and first["suite"] == "mini"
    assert first["chosen_fingerprint"] == "fp-base" and first["rejected_fingerprint"] == "fp-terse"
    assert lines[1]["chosen_fingerprint"] == "fp-base"  # bob voted B = base in his order
    assert lines[2]["prompt"] == multi
    loader = pytest.importorskip("harness.variants.data")
    from harness.variants.config import TrainingConfig

    config = TrainingConfig.model_validate({
        "name": "t", "datasets": {"prefs": {"kind": "preference_jsonl", "path": str(path), "eval_fraction": 0}},
        "stages": [{"type": "dpo", "dataset": "prefs", "max_steps": 1}],
    })
    built = loader.build_dataset("prefs", config.datasets["prefs"], config, tmp_path)
    assert len(built.records) == 3
    record = built.records[0]
    assert record["prompt"][-1] == {"role": "user", "content": CONV[0]["content"]}
    assert record["chosen"][0]["role"] == "assistant" and record["rejected"][0]["content"] == "Try to sleep."
    assert [m["role"] for m in built.records[2]["prompt"]] == ["user", "assistant", "user"]
    # Test-split cases can be left out (the DPO leakage check would refuse them).
    assert export_preference_pairs(db, tmp_path / "train-only.jsonl", exclude_splits=["test"]) == 0


def test_two_connections_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with Store(path) as first:
        ensure_review_schema(first)
    errors: list[BaseException] = []

    def vote(reviewer: str) -> None:
        try:
            with Store(path) as db:
                for i in range(20):
                    save_review(db, make_review(reviewer, "A", case_id=f"m-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(name,)) for name in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Store(path) as db:
        assert db.conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 40
