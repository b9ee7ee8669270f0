"""Embedding fine-tune variant: training data, leakage refusal, a tiny real fine-tune, comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from harness.errors import ConfigError, DataLeakageError
from harness.leakage import is_near_duplicate
from harness.suite import Suite, load_suite
from harness.variants.embedding import (
    COMPLETE_MARKER,
    METADATA_FILE,
    EmbeddingFinetuneConfig,
    build_training_data,
    compare_retrievers,
    load_embedding_config,
    paired_difference,
    synthetic_pairs,
    train_embedding,
)

REPO = Path(__file__).resolve().parents[2]


def make_suite(root: Path, synthetic: ModuleType, n_documents: int = 8,
               edit: Callable[[list[dict], list[dict]], None] | None = None) -> Suite:
    documents, cases = synthetic.make_suite_rows(n_documents, seed=0)
    if edit:
        edit(documents, cases)
    synthetic.write_rows(root, documents, cases)
    return load_suite("discharge_synth", "v1", suites_dir=root)


def test_repository_config_loads_and_unknown_keys_are_rejected(tmp_path: Path) -> None:
    config = load_embedding_config(REPO / "configs/training/embedding-discharge.yaml")
    assert config.loss in {"mnrl", "cached_mnrl"} and config.no_duplicates
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 1\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        load_embedding_config(bad)


def test_training_pairs_come_from_train_split_and_train_only_documents(tmp_path: Path, synthetic: ModuleType) -> None:
    suite = make_suite(tmp_path, synthetic)
    data = build_training_data(suite, EmbeddingFinetuneConfig())
    train_docs = {c.document_id for c in suite.cases if c.split == "train"}
    other_docs = {c.document_id for c in suite.cases if c.split != "train"}
    assert {p.document_id for p in data.pairs} <= train_docs
    assert not {p.document_id for p in data.pairs} & other_docs
    train_questions = {c.question for c in suite.cases if c.split == "train" and c.gold_passage}
    suite_pairs = [p for p in data.pairs if p.source == "suite"]
    assert {p.question for p in suite_pairs} == train_questions
    assert data.documents_split_specific and "training documents only" in data.synthetic_scope
    assert data.counts()["synthetic-medication"] > 0 and data.counts()["synthetic-section"] > 0


def test_shared_documents_are_recorded_when_synthetic_questions_use_them(tmp_path: Path,
                                                                         synthetic: ModuleType) -> None:
    def share(documents: list[dict], cases: list[dict]) -> None:
        test_case = next(c for c in cases if c["split"] == "test")
        test_case["document_id"] = "synth-000"  # a train document now also serves a test question
        test_case["gold_passage"] = None

    suite = make_suite(tmp_path, synthetic, edit=share)
    data = build_training_data(suite, EmbeddingFinetuneConfig())
    assert not data.documents_split_specific
    assert "all documents" in data.synthetic_scope
    strict = build_training_data(suite, EmbeddingFinetuneConfig(synthetic_documents="train_only"))
    assert "synth-000" not in {p.document_id for p in strict.pairs if p.source != "suite"}


def test_template_questions_cover_medications_and_sections() -> None:
    import random

    from harness.rag.chunking import ChunkingConfig

    text = "DISCHARGE MEDICATIONS:\n1. Furosemide 40 mg every morning.\nTake 2 tablets if needed.\n\nDIET: Low salt.\n"
    pairs = synthetic_pairs("d", text, ChunkingConfig(), random.Random(0), per_section=4, per_medication=4)
    questions = {p.question for p in pairs}
    assert "How often do I take Furosemide?" in questions
    assert "What should I eat?" in questions
    assert not any("Take" in q for q in questions), "'Take 2 tablets' is not a drug"
    diet = next(p for p in pairs if p.question == "What should I eat?")
    assert diet.positive.startswith("DIET")


def test_train_question_equal_to_a_test_question_is_refused(tmp_path: Path, synthetic: ModuleType) -> None:
    def leak(documents: list[dict], cases: list[dict]) -> None:
        test_q = next(c for c in cases if c["split"] == "test" and c.get("gold_passage"))["question"]
        train = next(c for c in cases if c["split"] == "train" and c.get("gold_passage"))
        train["question"] = "  " + test_q.upper().rstrip("?") + " ?!"  # same after normalisation

    suite = make_suite(tmp_path, synthetic, edit=leak)
    with pytest.raises(DataLeakageError, match="duplicate test-split questions"):
        build_training_data(suite, EmbeddingFinetuneConfig())


def test_on_leak_drop_leaves_the_leaking_train_case_out_and_records_it(tmp_path: Path,
                                                                      synthetic: ModuleType) -> None:
    leaked: list[str] = []

    def leak(documents: list[dict], cases: list[dict]) -> None:
        test_q = next(c for c in cases if c["split"] == "test" and c.get("gold_passage"))["question"]
        train = next(c for c in cases if c["split"] == "train" and c.get("gold_passage"))
        train["question"] = test_q
        leaked.append(train["id"])

    suite = make_suite(tmp_path, synthetic, edit=leak)
    data = build_training_data(suite, EmbeddingFinetuneConfig(on_leak="drop"))
    assert data.dropped_leaking_cases == leaked
    assert leaked[0] not in {p.case_id for p in data.pairs}


def test_a_newer_version_must_not_train_on_an_older_versions_test_cases(tmp_path: Path,
                                                                        synthetic: ModuleType) -> None:
    """discharge/v3 reuses v2's summaries: v2's test cases turned into v3 training data would leak into v2."""
    import shutil

    v1 = make_suite(tmp_path, synthetic)
    v1_test = sorted(c.id for c in v1.cases if c.split == "test")
    v2_dir = tmp_path / "discharge_synth" / "v2"
    shutil.copytree(v1.directory, v2_dir)
    (v2_dir / "suite.yaml").write_text((v2_dir / "suite.yaml").read_text().replace("version: v1", "version: v2"))
    rows = [json.loads(line) for line in (v2_dir / "cases.jsonl").read_text().splitlines()]
    for row in rows:
        row["split"] = "train" if row["split"] == "test" else row["split"]
    (v2_dir / "cases.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    v2 = load_suite("discharge_synth", "v2", suites_dir=tmp_path)

    with pytest.raises(DataLeakageError, match=r"test cases of another suite version: .* is discharge_synth/v1:"):
        build_training_data(v2, EmbeddingFinetuneConfig())
    data = build_training_data(v2, EmbeddingFinetuneConfig(on_leak="drop"))
    answerable_v1_test = {c.id for c in v1.cases if c.split == "test" and c.gold_passage}
    assert answerable_v1_test and answerable_v1_test <= set(data.dropped_leaking_cases) <= set(v1_test)
    assert not answerable_v1_test & {p.case_id for p in data.pairs}
    assert build_training_data(v1, EmbeddingFinetuneConfig()).pairs  # v1's own training is untouched

    for row in rows:  # and the other way round: v2 testing on v1's training cases makes v1's training leak
        row["split"] = "test" if row["split"] == "train" else row["split"]
    (v2_dir / "cases.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(DataLeakageError, match=r"is discharge_synth/v2:"):
        build_training_data(v1, EmbeddingFinetuneConfig())


def test_the_shipped_discharge_v3_does_not_train_on_v2_test_cases() -> None:
    from harness.leakage import other_versions_test_cases

    v3 = load_suite("discharge", "v3")
    training = [c for c in v3.cases if c.split in ("train", "dev")]
    assert training and other_versions_test_cases(v3, training) == {}


def test_near_duplicates_leak_but_different_questions_do_not() -> None:
    assert is_near_duplicate("How many times a day do I take the Furosemide?",
                             "How many times a day do I take Furosemide?")
    assert not is_near_duplicate("What should I eat?", "When can I drive?")


def test_template_question_equal_to_a_test_question_is_dropped_not_trained(tmp_path: Path,
                                                                           synthetic: ModuleType) -> None:
    def plant(documents: list[dict], cases: list[dict]) -> None:
        next(c for c in cases if c["split"] == "test" and c.get("gold_passage"))["question"] = "What should I eat?"

    suite = make_suite(tmp_path, synthetic, edit=plant)
    data = build_training_data(suite, EmbeddingFinetuneConfig(max_synthetic_per_section=4))
    assert data.synthetic_dropped > 0
    assert "What should I eat?" not in {p.question for p in data.pairs}


def test_tiny_fine_tune_saves_model_metadata_and_is_reused(tmp_path: Path, synthetic: ModuleType) -> None:
    import torch

    torch.set_num_threads(1)
    suite = make_suite(tmp_path / "suites", synthetic, n_documents=4)  # train 2, dev 1, test 1
    config = EmbeddingFinetuneConfig(
        max_steps=2, batch_size=4, loss="cached_mnrl", mini_batch_size=2, hard_negatives=True,
        max_synthetic_per_section=1, max_synthetic_per_medication=1,
    )
    result = train_embedding(config, suite, output_dir=tmp_path / "out")
    folder = tmp_path / "out" / result.fingerprint
    assert result.model_path == folder / "model" and not result.reused
    assert (folder / "model" / "model.safetensors").exists() and (folder / COMPLETE_MARKER).exists()
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert [row["step"] for row in metadata["loss_history"]] == [1, 2]
    assert all(row["loss"] > 0 for row in metadata["loss_history"])
    assert metadata["evaluator"]["split"] == "dev"
    assert any(key.endswith("ndcg@10") for key in metadata["evaluator"]["before"])
    assert metadata["evaluator"]["before"].keys() == metadata["evaluator"]["after"].keys()
    assert len(metadata["data"]["train_hash"]) == 64 and metadata["data"]["pairs"] > 0
    assert metadata["model_fingerprint"] != metadata["base_model"]["fingerprint"], "weights changed"

    again = train_embedding(config, suite, output_dir=tmp_path / "out")
    assert again.reused and again.fingerprint == result.fingerprint

    comparison = compare_retrievers(suite, None, result.model_path, k=10, index_dir=tmp_path / "index",
                                    n_resamples=200)
    n_test = sum(1 for c in suite.cases if c.split == "test" and c.gold_passage)
    assert comparison["n_cases"] == n_test
    for key in ("ndcg_at_10", "recall_at_5"):
        diff = comparison["difference"][key]
        assert diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
        assert diff["mean"] == pytest.approx(comparison["tuned"][key] - comparison["base"][key])


def test_paired_bootstrap_of_a_constant_difference_is_that_constant() -> None:
    base = [0.2, 0.5, 0.9, 0.4]
    result = paired_difference(base, [b + 0.1 for b in base], n_resamples=500, seed=1)
    assert result["mean"] == pytest.approx(0.1)
    assert result["ci_low"] == pytest.approx(0.1) and result["ci_high"] == pytest.approx(0.1)
    noisy = paired_difference([0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 1], n_resamples=2000, seed=0)
    assert noisy == paired_difference([0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 1], n_resamples=2000, seed=0)
    assert noisy["ci_low"] < noisy["mean"] < noisy["ci_high"]


def test_no_dev_split_is_an_error_not_a_fallback_to_test(tmp_path: Path, synthetic: ModuleType) -> None:
    def drop_dev(_documents: list[dict], cases: list[dict]) -> None:
        cases[:] = [c for c in cases if c["split"] != "dev"]

    suite = make_suite(tmp_path / "suites", synthetic, n_documents=4, edit=drop_dev)
    assert not any(c.split == "dev" for c in suite.cases) and any(c.split == "test" for c in suite.cases)
    config = EmbeddingFinetuneConfig(max_steps=1, batch_size=4, max_synthetic_per_section=1,
                                     max_synthetic_per_medication=1)
    with pytest.raises(ConfigError, match="no dev-split question"):
        train_embedding(config, suite, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing was trained


def test_extra_clinical_notes_are_optional(tmp_path: Path, synthetic: ModuleType) -> None:
    from harness.paths import shared_data_dir

    suite = make_suite(tmp_path, synthetic, n_documents=4)
    missing = build_training_data(suite, EmbeddingFinetuneConfig(extra_notes_dir=str(tmp_path / "absent")))
    assert "extra-notes-section" not in missing.counts()
    assert any("absent" in note for note in missing.notes)
    aci = shared_data_dir() / "aci-bench"
    if not (aci / "train.csv").exists():
        pytest.skip("../shared/data/aci-bench not present")
    data = build_training_data(suite, EmbeddingFinetuneConfig(extra_notes_dir=str(aci), max_extra_notes=5))
    assert data.counts().get("extra-notes-section", 0) > 0


def test_train_splits_add_dev_questions_and_the_evaluator_must_be_held_out(tmp_path: Path,
                                                                            synthetic: ModuleType) -> None:
    suite = make_suite(tmp_path, synthetic)
    final_fit = EmbeddingFinetuneConfig(train_splits=["train", "dev"], eval_split="test")
    with pytest.raises(DataLeakageError):  # the synthetic suite words dev and test questions alike
        build_training_data(suite, final_fit)
    data = build_training_data(suite, final_fit.model_copy(update={"on_leak": "drop"}))
    test_questions = {c.question for c in suite.cases if c.split == "test"}
    wanted = {c.question for c in suite.cases if c.split in {"train", "dev"} and c.gold_passage} - test_questions
    assert {p.question for p in data.pairs if p.source == "suite"} == wanted
    assert any(c.split == "dev" and c.question in wanted for c in suite.cases), "dev questions do train"
    test_docs = {c.document_id for c in suite.cases if c.split == "test"}
    assert not {p.document_id for p in data.pairs} & test_docs, "templates never come from test documents"
    with pytest.raises(ValueError, match="eval_split 'dev' is also in train_splits"):
        EmbeddingFinetuneConfig(train_splits=["train", "dev"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("train_splits: [train, test]\neval_split: dev\n")
    with pytest.raises(ConfigError, match="train_splits"):
        load_embedding_config(bad)
