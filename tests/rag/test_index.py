"""Real ChromaDB in tmp_path with the embedded MiniLM (loaded once per session)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.rag import ChunkIndex, Encoder, Retriever, model_fingerprint
from harness.suite import Document, load_suite

NOTE_A = """DISCHARGE DIAGNOSIS:
You were treated for heart failure.

DISCHARGE MEDICATIONS:
1. Furosemide 40 mg by mouth every morning to remove extra fluid.

DIET: Follow a low sodium diet with less than 2 grams of salt per day.

FOLLOW-UP:
See Dr. Patel in cardiology clinic on Monday at 9 AM.
"""
NOTE_B = """DISCHARGE DIAGNOSIS:
You were treated for a kidney stone.

DISCHARGE MEDICATIONS:
1. Tamsulosin 0.4 mg by mouth at bedtime to help pass the stone.

ACTIVITY: Walk as much as you like. Drink plenty of water.
"""


@pytest.fixture
def retriever(tmp_path: Path, minilm_encoder: Encoder) -> Retriever:
    return Retriever(index_dir=tmp_path / "index", encoder=minilm_encoder)


def test_reindexing_embeds_only_new_chunks(retriever: Retriever) -> None:
    encoder = retriever.encoder
    calls, texts = encoder.encode_calls, encoder.encoded_texts
    first = retriever.index_documents([Document(id="a", text=NOTE_A)])
    assert first.embedded == first.chunks == 4
    assert encoder.encoded_texts - texts == 4
    calls, texts = encoder.encode_calls, encoder.encoded_texts
    again = retriever.index_documents([Document(id="a", text=NOTE_A)])
    assert (again.embedded, again.skipped) == (0, 4)
    assert (encoder.encode_calls, encoder.encoded_texts) == (calls, texts), "nothing re-embedded"
    more = retriever.index_documents([Document(id="a", text=NOTE_A), Document(id="b", text=NOTE_B)])
    assert (more.embedded, more.skipped) == (3, 4)
    assert encoder.encoded_texts - texts == 3
    assert retriever.index.count() == 7


def test_edited_document_replaces_its_stale_chunks(retriever: Retriever) -> None:
    retriever.index_documents([Document(id="a", text=NOTE_A), Document(id="b", text=NOTE_B)])
    edited = NOTE_A.replace("Monday at 9 AM", "Friday at 2 PM")
    result = retriever.index_documents([Document(id="a", text=edited)])
    assert (result.embedded, result.removed) == (1, 1)
    texts = [h["text"] for h in retriever.retrieve("When is my appointment?", k=10, document_id="a")]
    assert any("Friday" in t for t in texts) and not any("Monday" in t for t in texts)
    assert retriever.index.count() == 7, "document b untouched"


def test_retrieve_returns_offsets_scores_and_respects_the_document_filter(retriever: Retriever) -> None:
    retriever.index_documents([Document(id="a", text=NOTE_A), Document(id="b", text=NOTE_B)])
    hits = retriever.retrieve("How much salt can I eat?", k=3, document_id="a")
    assert len(hits) == 3 and {h["document_id"] for h in hits} == {"a"}
    top = hits[0]
    assert set(top) == {"text", "document_id", "section", "start", "end", "score", "chunk_id"}
    assert top["section"] == "DIET"
    assert NOTE_A[top["start"] : top["end"]] == top["text"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert -1.0 <= hits[-1]["score"] <= top["score"] <= 1.0
    only_b = retriever.retrieve("Which medicine helps pass the stone?", k=10, document_id="b")
    assert {h["document_id"] for h in only_b} == {"b"} and len(only_b) == 3
    assert only_b[0]["section"] == "DISCHARGE MEDICATIONS"


def test_retrieve_many_matches_single_retrieval(retriever: Retriever) -> None:
    retriever.index_documents([Document(id="a", text=NOTE_A), Document(id="b", text=NOTE_B)])
    questions = ["How much salt can I eat?", "Which medicine helps pass the stone?", "Who do I see next?"]
    doc_ids = ["a", None, "a"]
    calls = retriever.encoder.encode_calls
    batched = retriever.retrieve_many(questions, k=2, document_ids=doc_ids)
    assert retriever.encoder.encode_calls == calls + 1, "one encode call for the whole batch"
    single = [retriever.retrieve(q, k=2, document_id=d) for q, d in zip(questions, doc_ids, strict=True)]
    assert [[h["chunk_id"] for h in hits] for hits in batched] == [[h["chunk_id"] for h in hits] for hits in single]


def test_index_persists_in_a_cosine_collection_named_by_fingerprint(tmp_path: Path, minilm_encoder: Encoder) -> None:
    first = Retriever(index_dir=tmp_path / "idx", encoder=minilm_encoder)
    first.index_documents([Document(id="a", text=NOTE_A)])
    reopened = Retriever(index_dir=tmp_path / "idx", encoder=minilm_encoder)
    assert reopened.index.count() == 4
    assert reopened.index.collection.configuration["hnsw"]["space"] == "cosine"
    assert reopened.index.collection_name == "chunks-" + minilm_encoder.fingerprint[:40]
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert first.fingerprint == reopened.fingerprint, "fingerprint does not depend on what was indexed"


def test_normalisation_setting_gets_its_own_collection(tmp_path: Path, minilm_encoder: Encoder) -> None:
    raw = Encoder(minilm_encoder.model_path, normalize=False)
    assert raw.fingerprint != minilm_encoder.fingerprint
    assert ChunkIndex(tmp_path, raw).collection_name != ChunkIndex(tmp_path, minilm_encoder).collection_name


def test_model_fingerprint_follows_weights_not_model_card(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights-1")
    (model / "README.md").write_text("card")
    before = model_fingerprint(model)
    (model / "README.md").write_text("a different card")
    assert model_fingerprint(model) == before
    (model / "model.safetensors").write_bytes(b"weights-2")
    assert model_fingerprint(model) != before
    assert model_fingerprint(model, normalize=False) != model_fingerprint(model)


def test_suite_retrieval_stays_inside_the_suite_and_finds_gold_passages(
    tmp_path: Path, minilm_encoder: Encoder, synthetic
) -> None:
    from harness.metrics import Output, build_metric

    suites = synthetic.write_suite(tmp_path / "suites", n_documents=4)
    suite = load_suite("discharge_synth", "v1", suites_dir=suites)
    retriever = Retriever(index_dir=tmp_path / "index", encoder=minilm_encoder)
    retriever.index_documents([Document(id="other-suite-doc", text=NOTE_A)])
    cases = [c for c in suite.cases if c.gold_passage]
    unrestricted = retriever.retrieve_for_suite(suite, [c.question or "" for c in cases], [None] * len(cases), k=10)
    assert all(h["document_id"].startswith("synth-") for hits in unrestricted for h in hits)
    restricted = retriever.retrieve_for_suite(suite, [c.question or "" for c in cases],
                                              [c.document_id for c in cases], k=5)
    scores = build_metric("retrieval").score(cases, [Output(text="", retrieved=h) for h in restricted])
    mean_ndcg = sum(s.values["ndcg_at_10"] for s in scores) / len(scores)
    assert mean_ndcg > 0.5, "base MiniLM finds most gold sections inside the patient's own note"


def test_suite_retrieval_is_cached_beside_the_index_and_follows_the_documents(
    tmp_path: Path, minilm_encoder: Encoder, synthetic
) -> None:
    """A warm run gets the same passages without loading an encoder; edited documents are searched again."""
    suites = synthetic.write_suite(tmp_path / "suites", n_documents=3)
    suite = load_suite("discharge_synth", "v1", suites_dir=suites)
    cases = [c for c in suite.cases if c.gold_passage][:6]
    questions, doc_ids = [c.question or "" for c in cases], [c.document_id for c in cases]
    first = Retriever(index_dir=tmp_path / "index", encoder=minilm_encoder).retrieve_for_suite(
        suite, questions, doc_ids, k=3)

    cold_encoder = Encoder(minilm_encoder.model_path, batch_size=16)  # same weights, nothing loaded yet
    warm = Retriever(index_dir=tmp_path / "index", encoder=cold_encoder)
    assert warm.retrieve_for_suite(suite, questions, doc_ids, k=3) == first
    assert cold_encoder._model is None and cold_encoder.encode_calls == 0, "served from the cache"
    assert warm.index._collection is None, "Chroma not even opened"

    assert len(warm.retrieve_for_suite(suite, questions, doc_ids, k=2)[0]) == 2, "k is part of the key"
    assert cold_encoder.encode_calls == 1
    documents_file = suites / "discharge_synth" / "v1" / "documents.jsonl"
    rows = [json.loads(line) for line in documents_file.read_text().splitlines()]
    for row in rows:
        row["text"] += "\nNEW SECTION:\nCall the clinic with any questions."
    documents_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    edited = load_suite("discharge_synth", "v1", suites_dir=suites)
    warm.retrieve_for_suite(edited, questions, doc_ids, k=3)
    assert cold_encoder.encode_calls > 1, "edited documents miss the cache"


def test_candidate_retriever_spec_resolves_the_embedded_alias_and_rejects_missing_models(tmp_path: Path) -> None:
    from harness.candidate import RetrieverSpec
    from harness.errors import ModelNotFoundError
    from harness.rag import embedded_model_path
    from harness.rag.candidate_retriever import build_candidate_retriever

    retriever = build_candidate_retriever(RetrieverSpec(embedding_model="all-minilm-l6-v2", k=3), {})
    assert retriever.encoder.model_path == embedded_model_path()
    assert retriever.fingerprint == Retriever(embedded_model_path(), tmp_path).fingerprint
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        build_candidate_retriever(RetrieverSpec(embedding_model=str(tmp_path / "no-such-model")), {})
