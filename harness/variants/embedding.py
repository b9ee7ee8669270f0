"""Embedding fine-tune variant: adapt the retriever's encoder to discharge questions.

Training pairs are (question, chunk holding the answer): the discharge suite's *train* split
(``train_splits: [train, dev]`` for a final fit once settings were chosen by cross-validation,
see ``embedding_cv``) plus template questions generated from document sections ("What should I
eat?" for a DIET section, "How often do I take X?" for a medication line). Nothing from the test
split is trained on: template questions that near-duplicate a test question are dropped, and any
remaining overlap (e.g. a train case copying a test question) raises DataLeakageError.

Synthetic questions come from documents that only training cases use when the suite's
documents are split-specific. When documents are shared across splits (one patient's note
serves train and test questions), the templates use every document -- the test *questions*
stay unseen, but the test *corpus* is seen; ``synthetic_documents: train_only`` forbids it
and the choice is recorded in the training metadata.

The library's own trainer does the work (``SentenceTransformerTrainer`` with MNRL or cached
MNRL, optional hard negatives from ``mine_hard_negatives``, no-duplicates batches). Models
land in ``<output_dir>/<fingerprint>/model`` next to ``training.json``; a ``COMPLETE`` marker
makes a second run with the same inputs a no-op.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.errors import ConfigError
from harness.hashing import payload_digest
from harness.paths import harness_home
from harness.rag.chunking import ChunkingConfig
from harness.rag.index import embedded_model_path, model_fingerprint
from harness.suite import Suite
from harness.variants.embedding_config import EmbeddingFinetuneConfig, load_embedding_config
from harness.variants.embedding_data import (
    TrainingData,
    TrainingPair,
    answerable_gold_cases,
    build_training_data,
    check_leakage,
    retrieval_eval_set,
    synthetic_pairs,
)

# Names other modules and tests import from here (the config and data halves live beside this module).
__all__ = [
    "COMPARED_METRICS", "COMPLETE_MARKER", "METADATA_FILE", "EmbeddingFinetuneConfig", "EmbeddingTrainResult",
    "TrainingData", "TrainingPair", "build_training_data", "check_leakage", "compare_retrievers",
    "evaluator_ndcg_at_10", "load_embedding_config", "paired_difference", "retrieval_eval_set", "synthetic_pairs",
    "train_embedding", "training_fingerprint",
]

log = logging.getLogger(__name__)

COMPLETE_MARKER = "COMPLETE"
METADATA_FILE = "training.json"
COMPARED_METRICS = ("ndcg_at_10", "recall_at_5")  # what compare_retrievers reports, with paired CIs


# --------------------------------------------------------------------------- evaluation


def _ir_evaluator(suite: Suite, split: str, chunking: ChunkingConfig, batch_size: int) -> Any:
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

    queries, corpus, relevant = retrieval_eval_set(suite, split, chunking)
    if not queries:
        return None
    return InformationRetrievalEvaluator(
        queries=queries,
        corpus=corpus,
        relevant_docs=relevant,
        name=f"{suite.name}-{split}",
        batch_size=batch_size,
        write_csv=False,
        show_progress_bar=False,
    )


def _require_dev_questions(suite: Suite, config: EmbeddingFinetuneConfig) -> None:
    """The before/after evaluator reads the dev split; without dev questions it is an error, never a
    silent switch to the test split (scores there would then have guided the fine-tune)."""
    if config.eval_split == "dev" and not retrieval_eval_set(suite, "dev", config.chunking)[0]:
        raise ConfigError(
            f"suite {suite.key}: no dev-split question with a gold passage for the before/after evaluator",
            hint="add dev cases with gold passages, or move some train documents to dev; eval_split: test "
                 "reports the test split instead (a final fit, scored once, never used to choose settings)",
        )


# --------------------------------------------------------------------------- training


@dataclass
class EmbeddingTrainResult:
    model_path: Path
    fingerprint: str
    metadata: dict[str, Any]
    reused: bool


def evaluator_ndcg_at_10(metadata: dict[str, Any], when: Literal["before", "after"]) -> float | None:
    """nDCG@10 that the InformationRetrievalEvaluator recorded before or after training (its keys carry
    the evaluator's name as a prefix)."""
    scores = metadata.get("evaluator", {}).get(when, {})
    return next((value for key, value in scores.items() if key.endswith("ndcg@10")), None)


def _versions() -> dict[str, str]:
    import sentence_transformers
    import torch
    import transformers

    return {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
    }


def training_fingerprint(config: EmbeddingFinetuneConfig, base_fingerprint: str, data: TrainingData) -> str:
    """Everything that changes the trained weights; ``output_dir`` is where, not what."""
    payload = {
        "config": config.model_dump(exclude={"output_dir", "name", "suites_dir"}),
        "base_model": base_fingerprint,
        "train_data": data.digest(),
        "versions": _versions(),
    }
    return payload_digest(payload)[:24]


def _build_loss(model: Any, config: EmbeddingFinetuneConfig) -> Any:
    from sentence_transformers.sentence_transformer import losses

    if config.loss == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=config.mini_batch_size)
    return losses.MultipleNegativesRankingLoss(model)


def _with_hard_negatives(data: TrainingData, model: Any, config: EmbeddingFinetuneConfig) -> Any:
    """(anchor, positive, negative) rows; negatives are mined *within each document*.

    Another patient's DIET chunk is not a wrong answer to "What should I eat?", so negatives
    come from the other chunks of the same note. Pairs whose note yields no negative are kept
    out (recorded in ``train_rows``).
    """
    from datasets import Dataset, concatenate_datasets
    from sentence_transformers.util import mine_hard_negatives

    by_doc: dict[str, list[TrainingPair]] = {}
    for pair in data.pairs:
        by_doc.setdefault(pair.document_id, []).append(pair)
    parts = []
    for doc_id, doc_pairs in sorted(by_doc.items()):
        corpus = list(dict.fromkeys(data.corpora.get(doc_id, []) + [p.positive for p in doc_pairs]))
        if len(corpus) < 2:
            continue
        dataset = Dataset.from_dict(
            {"anchor": [p.question for p in doc_pairs], "positive": [p.positive for p in doc_pairs]}
        )
        mined = mine_hard_negatives(
            dataset, model, corpus=corpus, num_negatives=config.num_hard_negatives, relative_margin=0.05,
            sampling_strategy="top", output_format="triplet", batch_size=config.batch_size, verbose=False,
        )
        if len(mined):
            parts.append(mined)
    if not parts:
        raise ConfigError("hard-negative mining found no negatives (documents have a single chunk?)")
    return concatenate_datasets(parts).shuffle(seed=config.seed)


def _loss_history(log_history: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    return [
        {"step": entry.get("step"), "epoch": entry.get("epoch"), "loss": entry["loss"]}
        for entry in log_history
        if "loss" in entry
    ]


def _remove_stale_work_dirs(root: Path, fingerprint: str) -> None:
    """Delete half-written ``.<fingerprint>.tmp-<pid>`` folders whose process is gone (killed runs)."""
    for work in root.glob(f".{fingerprint}.tmp-*"):
        try:
            pid = int(work.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(work, ignore_errors=True)
        except PermissionError:
            continue  # another user's live process


def train_embedding(
    config: EmbeddingFinetuneConfig,
    suite: Suite | None = None,
    *,
    output_dir: Path | str | None = None,
    force: bool = False,
) -> EmbeddingTrainResult:
    """Fine-tune the encoder, or reuse ``<output_dir>/<fingerprint>/`` when it is already complete."""
    if suite is None:
        suite = config.load_suite()
    base = config.resolve(config.base_model) or embedded_model_path()
    base_fp = model_fingerprint(base)
    data = build_training_data(suite, config)
    fingerprint = training_fingerprint(config, base_fp, data)
    root = Path(output_dir or config.resolve(config.output_dir) or harness_home() / "embeddings").expanduser()
    final = root / fingerprint
    if (final / COMPLETE_MARKER).exists() and not force:
        metadata = json.loads((final / METADATA_FILE).read_text())
        return EmbeddingTrainResult(final / "model", fingerprint, metadata, reused=True)

    _require_dev_questions(suite, config)

    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers.trainer_callback import PrinterCallback

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    _remove_stale_work_dirs(root, fingerprint)
    work = root / f".{fingerprint}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.time()
    model = SentenceTransformer(str(base), device="cpu")
    evaluator = _ir_evaluator(suite, config.eval_split, config.chunking, config.batch_size)
    eval_split = config.eval_split
    before = evaluator(model) if evaluator is not None else {}

    if config.hard_negatives:
        train_dataset = _with_hard_negatives(data, model, config)
    else:
        train_dataset = Dataset.from_dict(
            {"anchor": [p.question for p in data.pairs], "positive": [p.positive for p in data.pairs]}
        )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "trainer"),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=True,
        bf16=False,
        fp16=False,
        batch_sampler=BatchSamplers.NO_DUPLICATES if config.no_duplicates else BatchSamplers.BATCH_SAMPLER,
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_dataset, loss=_build_loss(model, config)
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log line to stdout
    trainer.train()
    after = evaluator(model) if evaluator is not None else {}
    model.save(str(work / "model"))
    shutil.rmtree(work / "trainer", ignore_errors=True)

    metadata = {
        "name": config.name,
        "fingerprint": fingerprint,
        "config": config.model_dump(mode="json"),
        "suite": {"key": suite.key, "hash": suite.hash},
        "base_model": {"path": str(base), "fingerprint": base_fp},
        "model_fingerprint": model_fingerprint(work / "model"),
        "data": {
            "pairs": len(data.pairs),
            "by_source": data.counts(),
            "train_rows": len(train_dataset),
            "train_hash": data.digest(),
            "test_questions": len(data.test_questions),
            "test_questions_hash": hashlib.sha256("\n".join(data.test_questions).encode()).hexdigest(),
            "synthetic_scope": data.synthetic_scope,
            "synthetic_dropped_near_test": data.synthetic_dropped,
            "train_cases_dropped_as_leaks": data.dropped_leaking_cases,
            "documents_split_specific": data.documents_split_specific,
            "notes": data.notes,
        },
        "loss_history": _loss_history(trainer.state.log_history),
        "evaluator": {"split": eval_split, "before": before, "after": after},
        "versions": _versions(),
        "train_seconds": round(time.time() - started, 1),
        "created_unix": int(time.time()),
    }
    (work / METADATA_FILE).write_text(json.dumps(metadata, indent=2, default=float))
    (work / COMPLETE_MARKER).write_text(fingerprint + "\n")
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)
    return EmbeddingTrainResult(final / "model", fingerprint, metadata, reused=False)


# --------------------------------------------------------------------------- comparison


def paired_difference(
    base: Sequence[float], tuned: Sequence[float], *, n_resamples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Mean of (tuned - base) per case with its 95% percentile-bootstrap CI (``harness.stats.paired_bootstrap``,
    whose convention is candidate first, baseline second: a positive mean means the tuned encoder scored higher)."""
    from harness.stats import paired_bootstrap

    compared = paired_bootstrap(list(tuned), list(base), resamples=n_resamples, seed=seed)
    if compared is None:
        return {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    return {"mean": compared.diff.mean, "ci_low": compared.diff.low, "ci_high": compared.diff.high}


def compare_retrievers(
    suite: Suite,
    base_path: Path | str | None,
    tuned_path: Path | str,
    k: int = 10,
    *,
    split: str = "test",
    index_dir: Path | str | None = None,
    restrict_to_document: bool = True,
    chunking: ChunkingConfig | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """nDCG@10 and Recall@5 of two encoders on a split, with paired bootstrap CIs of (tuned - base).

    Both encoders index the same chunks (each in its own collection) and answer the same
    questions; ``restrict_to_document`` searches only the case's own document, as a RAG
    candidate answering about one patient does.
    """
    import tempfile

    from harness.metrics.base import Output
    from harness.metrics.retrieval import RetrievalMetric
    from harness.rag.retriever import Retriever

    if k < 10:
        raise ConfigError(f"compare_retrievers: k must be at least 10 for nDCG@10 (got {k})")
    cases = answerable_gold_cases(c for c in suite.cases if c.split == split)
    if not cases:
        raise ConfigError(f"suite {suite.key}: no answerable {split}-split cases with gold passages")
    metric = RetrievalMetric()
    temp = None
    if index_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="harness-compare-")
        index_dir = temp.name
    results: dict[str, dict[str, list[float]]] = {}
    fingerprints: dict[str, str] = {}
    try:
        for label, path in (("base", base_path), ("tuned", tuned_path)):
            retriever = Retriever(path, index_dir, chunking=chunking)
            fingerprints[label] = retriever.model_fingerprint
            hits = retriever.retrieve_for_suite(
                suite,
                [c.question or "" for c in cases],
                [c.document_id if restrict_to_document else None for c in cases],
                k=k,
            )
            scores = metric.score(cases, [Output(text="", retrieved=h) for h in hits])
            results[label] = {
                key: [float(s.values[key] or 0.0) for s in scores] for key in COMPARED_METRICS
            }
    finally:
        if temp is not None:
            temp.cleanup()

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return {
        "suite": suite.key,
        "suite_hash": suite.hash,
        "split": split,
        "n_cases": len(cases),
        "k": k,
        "restrict_to_document": restrict_to_document,
        "fingerprints": fingerprints,
        "base": {key: mean(values) for key, values in results["base"].items()},
        "tuned": {key: mean(values) for key, values in results["tuned"].items()},
        "difference": {
            key: paired_difference(results["base"][key], results["tuned"][key], n_resamples=n_resamples, seed=seed)
            for key in COMPARED_METRICS
        },
        "bootstrap": {"n_resamples": n_resamples, "seed": seed, "level": 0.95},
        "per_case": {
            "case_ids": [c.id for c in cases],
            "base": results["base"],
            "tuned": results["tuned"],
        },
    }
