"""Engine rules on tiny GPT-2 candidates (fast): identical responses, streaming, balanced order, RAG
passages. Generation is real; only the model is tiny."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

from harness.playground.engine import Playground
from harness.review_design import replay_design
from harness.reviews import load_reviews, review_summary
from harness.store import Store

FULL = {"safety": "4", "empathy": "4", "clinical_accuracy": "N/A", "mi_adherence": "N/A", "scope": "5"}


def _generate(engine: Playground, comparison: object) -> None:
    for i in range(len(comparison.order)):  # type: ignore[attr-defined]
        comparison.responses.append(engine.generate(comparison, i))  # type: ignore[attr-defined]
    comparison.collapse()  # type: ignore[attr-defined]


def test_identical_responses_are_rated_once_and_stored_as_a_tie(tmp_path: Path, four_config: Path) -> None:
    engine = Playground(tmp_path / "store.sqlite", four_config)
    comparisons = []
    for reviewer in ("ana", "ben"):
        comparison = engine.start(reviewer=reviewer, suite="mini", version="v1", candidates=["alpha", "bravo"],
                                  blind=True, case_id="m-2")
        _generate(engine, comparison)
        assert comparison.identical and comparison.same_as == {"B": "A"} and comparison.shown_labels == ["A"]
        # Only A is rated; no vote is needed (none given), and the tie is recorded for both candidates.
        engine.save(comparison, vote=None, rubric={"A": FULL}, comment="")
        comparisons.append(comparison)
    with Store(engine.store_path) as store:
        reviews = load_reviews(store)
        summary = review_summary(store, resamples=10)
    assert [r["vote"] for r in reviews] == ["tie", "tie"]
    assert [[s.get("same_as") for s in r["shown"]] for r in reviews] == [[None, "A"], [None, "A"]]
    assert all(resp["rubric"]["safety"] == 4 for r in reviews for resp in r["responses"])  # copied to B
    assert summary["votes"]["identical"] == 2 and summary["vote_agreement"]["identical_units_excluded"] == 1
    assert summary["vote_agreement"]["units_multi_rated"] == 0  # no forced agreement counted into kappa
    # The two reviewers saw opposite orders (Latin square rows), recorded per vote.
    orders = [[s["candidate"] for s in r["shown"]] for r in reviews]
    assert orders[0] == orders[1][::-1]
    assert all(replay_design(o, r["order_seed"]) == o for o, r in zip(orders, reviews, strict=True))


def test_streaming_shows_tokens_and_changes_nothing(tmp_path: Path, four_config: Path) -> None:
    engine = Playground(tmp_path / "store.sqlite", four_config)
    comparison = engine.start(reviewer="ana", suite="mini", version="v1", candidates=["delta", "echo"],
                              blind=True, case_id="m-3")
    events = list(engine.generate_stream(comparison, 0))
    final = events[-1]
    assert final.error is None and final.result is not None and final.tokens > 0
    assert all(e.result is None for e in events[:-1]) and final.estimate
    streamed = final.result
    plain = engine.generate(comparison, 0)  # the same request again: a cache hit with the same text and key
    assert plain["text"] == streamed["text"] and plain["cache_key"] == streamed["cache_key"]
    again = list(engine.generate_stream(comparison, 0))
    assert again[-1].tokens == 0 and again[-1].result["text"] == streamed["text"]  # cached: no streaming
    assert engine.speed(comparison.order[0]).samples >= 1  # the speed used for the next estimate


def _rag_config(tmp_path: Path, synthetic: ModuleType, tiny: Path) -> Path:
    documents, cases = synthetic.make_suite_rows(n_documents=4)
    root = synthetic.write_rows(tmp_path / "suites", documents, cases)
    suite_yaml = root / "discharge_synth" / "v1" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text() + "prompt:\n  template: |-\n    Discharge summary:\n"
                          "    {{ document }}\n\n    Question: {{ question }}\n")
    config = tmp_path / "rag.yaml"
    config.write_text(f"name: rag\nsuites_dir: {root}\nsuites:\n  - discharge_synth/v1\ncandidates:\n"
                      f"  - name: rag\n    model: {tiny}\n    params: {{max_new_tokens: 4}}\n"
                      "    retriever: {embedding_model: all-minilm-l6-v2, k: 2}\n"
                      f"  - name: plain\n    model: {tiny}\n    params: {{max_new_tokens: 4}}\n")
    return config


def test_a_typed_question_to_rag_shows_only_the_passages_the_model_received(
        tmp_path: Path, synthetic: ModuleType, tiny_gpt2: Path) -> None:
    engine = Playground(tmp_path / "store.sqlite", _rag_config(tmp_path, synthetic, tiny_gpt2))
    about = next(c for c in engine.suite("discharge_synth", "v1").cases if c.document_id == "synth-001")
    comparison = engine.start(reviewer="ana", suite="discharge_synth", version="v1", candidates=["rag", "plain"],
                              blind=False, free_text="When should I take my tablets?", consent=True,
                              about_case=about.id)
    assert comparison.about_case == about.id
    _generate(engine, comparison)
    rag = next(r for r in comparison.responses if r["candidate"] == "rag")
    with Store(engine.store_path) as store:
        row = store.conn.execute("SELECT messages_json, retrieved_json FROM generations WHERE cache_key = ?",
                                 (rag["cache_key"],)).fetchone()
    retrieved, prompt = json.loads(row["retrieved_json"]), row["messages_json"]
    assert len(retrieved) == 2 and {p["document_id"] for p in retrieved} == {"synth-001"}  # this patient only
    assert all(json.dumps(p["text"].strip())[1:-1] in prompt for p in retrieved)  # what the model read
    assert "Retrieved passages (2)" in rag["badges_html"]
    assert "When should I take my tablets?" in prompt

    # Without a case to ask about, the typed prompt has no document: nothing is shown as "retrieved"
    # unless it reached the model.
    loose = engine.start(reviewer="ana", suite="discharge_synth", version="v1", candidates=["rag", "plain"],
                         blind=False, free_text="When should I take my tablets?", consent=False)
    _generate(engine, loose)
    shown = next(r for r in loose.responses if r["candidate"] == "rag")["badges_html"]
    assert "Retrieved passages" not in shown


def test_guard_action_is_described_not_mislabelled_as_a_cut() -> None:
    from harness.playground.badges import guard_note_html
    from harness.playground.case_text import settings_summary

    replaced = {"params": {"max_new_tokens": 64}, "finish_reason": "length", "guard_action": "replaced"}
    assert "cut at the token limit" not in settings_summary(replaced)
    assert "replaced by the safety guard" in settings_summary(replaced)
    prefixed = {**replaced, "guard_action": "prefixed"}
    assert "model's text cut at the token limit" in settings_summary(prefixed)
    assert "cut at the token limit" in settings_summary({**replaced, "guard_action": None})
    note = guard_note_html({"action": "replaced", "reason": "detected risk high >= replace_at high"})
    assert 'data-action="replaced"' in note and "detected risk high" in note and "<script" not in note
    assert guard_note_html(None) == ""


def test_the_streaming_hook_sees_the_tokens_and_leaves_the_text_as_generated(tiny_gpt2: Path) -> None:
    from harness.models.base import ChatRequest, GenerationParams
    from harness.models.streaming import stream_tokens
    from harness.models.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_gpt2), chat_template="plain")
    request = ChatRequest([{"role": "user", "content": "I cannot sleep well before work."}],
                          GenerationParams(max_new_tokens=12))
    [plain] = backend.generate([request])
    seen: list[tuple[str, int]] = []
    with stream_tokens(lambda text, n: seen.append((text, n))):
        [streamed] = backend.generate([request])
        [batch_a, batch_b] = backend.generate([request, request])  # a batch is never streamed
    assert streamed.text == plain.text and streamed.completion_tokens == plain.completion_tokens
    assert batch_a.text == plain.text and batch_b.text == plain.text
    assert seen and seen[-1][1] == plain.completion_tokens
    assert seen[-1][0].strip().startswith(plain.text[:4])
