"""Leave-documents-out cross-validation: folds by document, fold suites without the test split, a real run."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from harness.errors import ConfigError
from harness.suite import Suite, load_suite
from harness.variants.embedding import EmbeddingFinetuneConfig, build_training_data
from harness.variants.embedding_cv import cross_validate, document_folds, write_fold_suite

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory, synthetic: ModuleType) -> Suite:
    root = tmp_path_factory.mktemp("suites")
    synthetic.write_suite(root, n_documents=8, seed=0)  # train 4 docs, dev 2, test 2
    return load_suite("discharge_synth", "v1", suites_dir=root)


def test_folds_partition_the_train_and_dev_documents(suite: Suite) -> None:
    folds = document_folds(suite, ("train", "dev"), k=3, seed=1)
    documents = [d for fold in folds for d in fold]
    expected = {c.document_id for c in suite.cases if c.split in {"train", "dev"}}
    assert sorted(documents) == sorted(expected) and len(documents) == len(set(documents))
    assert sorted(len(f) for f in folds) == [2, 2, 2]
    assert folds == document_folds(suite, ("train", "dev"), k=3, seed=1)
    with pytest.raises(ConfigError, match="cannot make 7 folds from 6 document"):
        document_folds(suite, ("train", "dev"), k=7)


def test_fold_suite_holds_out_whole_documents_and_leaves_the_test_split_out(suite: Suite, tmp_path: Path) -> None:
    held = document_folds(suite, ("train", "dev"), k=3, seed=1)[0]
    fold = write_fold_suite(suite, ("train", "dev"), held, tmp_path)
    test_docs = {c.document_id for c in suite.cases if c.split == "test"}
    assert {c.document_id for c in fold.cases if c.split == "test"} == set(held)
    assert not {c.document_id for c in fold.cases} & test_docs
    assert not set(fold.documents) & test_docs, "test documents are not even in the fold corpus"
    original = {c.id: c for c in suite.cases}
    assert all(c.document == original[c.id].document and c.question == original[c.id].question for c in fold.cases)
    data = build_training_data(fold, EmbeddingFinetuneConfig(on_leak="drop"))
    assert not {p.document_id for p in data.pairs} & set(held), "no training pair comes from a held-out document"
    assert data.dropped_leaking_cases, "the synthetic suite repeats questions across patients; those are dropped"


def test_cross_validation_trains_per_fold_pools_questions_and_resumes(suite: Suite, tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    config = EmbeddingFinetuneConfig(max_steps=1, batch_size=4, synthetic_questions=False)
    with pytest.raises(ConfigError, match="must not use the test split"):
        cross_validate(config, suite, k=2, splits=("train", "test"), work_dir=tmp_path)
    lines: list[str] = []
    result = cross_validate(config, suite, k=2, work_dir=tmp_path, log=lines.append)
    held_out_questions = sum(
        1 for c in suite.cases if c.split in {"train", "dev"} and c.gold_passage and c.labels.answerable is not False
    )
    assert result["n_questions"] == held_out_questions == sum(f["n_questions"] for f in result["folds"])
    assert len(lines) == 2 and all("nDCG@10 base" in line for line in lines)
    diff = result["difference"]["ndcg_at_10"]
    assert diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
    assert diff["mean"] == pytest.approx(result["tuned"]["ndcg_at_10"] - result["base"]["ndcg_at_10"])
    again = cross_validate(config, suite, k=2, work_dir=tmp_path)
    assert all(fold["reused"] for fold in again["folds"])
    assert again["tuned"] == result["tuned"]


def test_harness_train_dispatches_embedding_configs_and_runs_cross_validation(tmp_path: Path) -> None:
    import json

    import torch
    from typer.testing import CliRunner

    from harness.cli import app

    torch.set_num_threads(1)
    config = tmp_path / "embedding.yaml"
    config.write_text(
        "kind: embedding\nsuite: discharge/v1\nmax_steps: 1\nbatch_size: 4\nsynthetic_questions: false\n"
        f"output_dir: {tmp_path / 'models'}\n"
    )
    out = tmp_path / "cv.json"
    result = CliRunner().invoke(app, ["train", str(config), "--cv", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "fold 2/2" in result.output and "held-out questions over 2 folds" in result.output
    written = json.loads(out.read_text())
    assert written["k"] == 2 and written["splits"] == ["train", "dev"] and len(written["folds"]) == 2
    from harness.errors import HarnessError

    lora_flag = CliRunner().invoke(app, ["train", str(REPO / "configs/training/therapy-lora.yaml"), "--cv", "2"])
    assert isinstance(lora_flag.exception, HarnessError)  # main() prints it and exits 2
    assert "--cv and --out apply to embedding configs" in str(lora_flag.exception)
