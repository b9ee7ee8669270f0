"""Leave-documents-out cross-validation for the embedding fine-tune: choose settings without the test split.

A handful of dev documents is too few to choose a setting on (discharge/v2: +0.047 nDCG@10 on
its 4 dev documents, -0.041 on the 6 test documents). Here every document of the chosen splits
(train + dev by default) is held out once: the fine-tune trains on the other documents' questions
(and template questions from those documents only) and the held-out documents' questions are
scored base vs tuned, within the patient's own summary as a RAG candidate searches. Questions are
pooled over folds for one paired bootstrap CI.

Fold suites are written as ordinary suite folders holding only the chosen splits, so the test
split's questions and documents are not in them at all. Fold models are cached by fingerprint
like any fine-tune, so an interrupted run resumes at the first unfinished fold.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.hashing import payload_digest
from harness.paths import harness_home
from harness.suite import Suite, load_suite
from harness.variants.embedding import (
    COMPARED_METRICS,
    EmbeddingFinetuneConfig,
    compare_retrievers,
    paired_difference,
    train_embedding,
)


def document_folds(suite: Suite, splits: Sequence[str], k: int, seed: int = 0) -> list[list[str]]:
    """The documents of ``splits`` dealt into ``k`` folds after a seeded shuffle (sizes differ by at most one)."""
    documents = sorted({c.document_id for c in suite.cases if c.split in splits and c.document_id})
    if k < 2 or k > len(documents):
        raise ConfigError(
            f"suite {suite.key}: cannot make {k} folds from {len(documents)} document(s) in splits {list(splits)}",
            hint="k must be between 2 and the number of documents",
        )
    random.Random(seed).shuffle(documents)
    return [sorted(documents[i::k]) for i in range(k)]


def write_fold_suite(suite: Suite, splits: Sequence[str], held_out: Sequence[str], folder: Path) -> Suite:
    """A suite folder with the cases of ``splits`` only: held-out documents' cases become "test", the rest "train"."""
    held = set(held_out)
    kept_cases = [c for c in suite.cases if c.split in splits]
    stored_documents = suite.documents
    used = {c.document_id for c in kept_cases if c.document_id}
    directory = folder / suite.name / suite.version
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copyfile(suite.directory / "suite.yaml", directory / "suite.yaml")
    rows = []
    for case in kept_cases:
        row = case.model_dump(mode="json", exclude_none=True)
        if case.document_id in stored_documents:
            row.pop("document", None)  # resolved from documents.jsonl again on load
        row["split"] = "test" if case.document_id in held else "train"
        rows.append(json.dumps(row, ensure_ascii=False))
    (directory / "cases.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    documents = [d.model_dump_json() for doc_id, d in stored_documents.items() if doc_id in used]
    (directory / "documents.jsonl").write_text("\n".join(documents) + "\n", encoding="utf-8")
    return load_suite(suite.name, suite.version, suites_dir=folder)


def cross_validate(
    config: EmbeddingFinetuneConfig,
    suite: Suite,
    *,
    k: int = 7,
    splits: Sequence[str] = ("train", "dev"),
    seed: int = 0,
    work_dir: Path | str | None = None,
    restrict_to_document: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Train one fine-tune per fold and compare it with the base encoder on the fold's held-out documents."""
    if "test" in splits:
        raise ConfigError("cross-validation must not use the test split; it is kept for the final comparison")
    folds = document_folds(suite, splits, k, seed)
    # Inside a fold, a training question that repeats a held-out question (the same generic question
    # about another patient) is dropped and counted, as on_leak: drop does for the final fit.
    fold_config = type(config).model_validate(
        {**config.model_dump(), "train_splits": ["train"], "eval_split": "test", "on_leak": "drop"}
    )
    fold_config._base_dir = config._base_dir  # relative paths stay relative to the YAML's folder
    key = payload_digest({"config": fold_config.model_dump(exclude={"output_dir", "name", "suites_dir"}),
                          "suite": suite.hash,
                          "splits": list(splits), "k": k, "seed": seed})[:16]
    root = Path(work_dir or harness_home() / "embeddings-cv" / key).expanduser()
    pooled: dict[str, dict[str, list[float]]] = {
        label: {m: [] for m in COMPARED_METRICS} for label in ("base", "tuned")
    }
    fold_rows = []
    for index, held_out in enumerate(folds):
        fold_suite = write_fold_suite(suite, splits, held_out, root / "suites" / f"fold-{index}")
        trained = train_embedding(fold_config, fold_suite, output_dir=root / "models")
        result = compare_retrievers(
            fold_suite, config.resolve(config.base_model), trained.model_path, k=10, split="test",
            restrict_to_document=restrict_to_document, chunking=config.chunking,
        )
        for label in ("base", "tuned"):
            for metric in COMPARED_METRICS:
                pooled[label][metric] += result["per_case"][label][metric]
        fold_rows.append({
            "fold": index,
            "held_out_documents": held_out,
            "n_questions": result["n_cases"],
            "train_pairs": trained.metadata["data"]["pairs"],
            "dropped_as_near_held_out": len(trained.metadata["data"]["train_cases_dropped_as_leaks"]),
            "reused": trained.reused,
            "base": result["base"],
            "tuned": result["tuned"],
        })
        if log is not None:
            log(f"fold {index + 1}/{k} ({', '.join(held_out)}): nDCG@10 base {result['base']['ndcg_at_10']:.3f}"
                f" -> tuned {result['tuned']['ndcg_at_10']:.3f}{' (reused)' if trained.reused else ''}")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return {
        "suite": suite.key,
        "suite_hash": suite.hash,
        "splits": list(splits),
        "k": k,
        "seed": seed,
        "restrict_to_document": restrict_to_document,
        "n_questions": len(pooled["base"]["ndcg_at_10"]),
        "base": {m: mean(pooled["base"][m]) for m in COMPARED_METRICS},
        "tuned": {m: mean(pooled["tuned"][m]) for m in COMPARED_METRICS},
        "difference": {m: paired_difference(pooled["base"][m], pooled["tuned"][m]) for m in COMPARED_METRICS},
        "folds": fold_rows,
        "work_dir": str(root),
    }
