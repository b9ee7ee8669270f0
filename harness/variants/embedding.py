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

import csv
import hashlib
import json
import logging
import os
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from harness.errors import ConfigError, DataLeakageError
from harness.hashing import payload_digest
from harness.leakage import check_question_leakage as check_leakage
from harness.leakage import find_near_duplicate_questions, other_versions_test_cases
from harness.paths import harness_home
from harness.rag.chunking import Chunk, ChunkingConfig, chunk_document, split_sections
from harness.rag.chunking import locate_passage as locate
from harness.rag.index import embedded_model_path, model_fingerprint
from harness.rag.retriever import suite_documents
from harness.suite import Case, Suite, load_suite, parse_suite_ref
from harness.yamlio import load_yaml_config, validate_yaml_model

log = logging.getLogger(__name__)

COMPLETE_MARKER = "COMPLETE"
METADATA_FILE = "training.json"
COMPARED_METRICS = ("ndcg_at_10", "recall_at_5")  # what compare_retrievers reports, with paired CIs


class EmbeddingFinetuneConfig(BaseModel):
    """One YAML file (``configs/training/embedding-*.yaml``); keys map 1:1 to these fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["embedding"] = "embedding"
    name: str = "embedding-discharge"
    suite: str = "discharge/v1"
    base_model: str | None = None  # sentence-transformers folder; None = embedded all-MiniLM-L6-v2
    output_dir: str | None = None  # None = $HARNESS_HOME/embeddings
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int | None = Field(default=None, gt=0)  # caps training for smoke runs
    batch_size: int = Field(default=16, ge=2)  # in-batch negatives need at least 2
    learning_rate: float = Field(default=2e-5, gt=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 42
    loss: Literal["mnrl", "cached_mnrl"] = "mnrl"
    mini_batch_size: int = Field(default=8, gt=0)  # cached_mnrl only
    hard_negatives: bool = False
    num_hard_negatives: int = Field(default=1, gt=0)
    no_duplicates: bool = True
    synthetic_questions: bool = True
    synthetic_documents: Literal["auto", "train_only", "all"] = "auto"
    max_synthetic_per_section: int = Field(default=2, ge=0)
    max_synthetic_per_medication: int = Field(default=2, ge=0)
    positive: Literal["chunk", "gold_passage"] = "chunk"
    extra_notes_dir: str | None = None  # e.g. ../shared/data/aci-bench; skipped when absent
    max_extra_notes: int = Field(default=40, ge=0)
    # Splits whose cases become training pairs. ["train", "dev"] is the final fit after settings
    # were chosen by cross-validation (harness.variants.embedding_cv); the test split never trains.
    train_splits: list[Literal["train", "dev"]] = Field(default_factory=lambda: ["train"], min_length=1)
    eval_split: Literal["dev", "test"] = "dev"
    near_duplicate_threshold: float = Field(default=0.9, gt=0, le=1)
    # A train case whose question (nearly) equals a test question: refuse to train, or drop the
    # train case and record it. Template questions that collide are always dropped.
    on_leak: Literal["refuse", "drop"] = "refuse"
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    suites_dir: str | None = None  # folder of suites (a team's own); None = the repository's suites/
    # The YAML's folder: relative paths (base_model, output_dir, extra_notes_dir, suites_dir) resolve there.
    _base_dir: Path | None = PrivateAttr(default=None)

    def resolve(self, value: str | None) -> Path | None:
        """A path field relative to the config's folder (the working directory for configs built in code)."""
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or self._base_dir is None else self._base_dir / path

    def load_suite(self) -> Suite:
        """The config's suite, from ``suites_dir`` when it names one."""
        return load_suite(*parse_suite_ref(self.suite), self.resolve(self.suites_dir))

    @model_validator(mode="after")
    def _evaluator_is_held_out(self) -> EmbeddingFinetuneConfig:
        if self.eval_split in self.train_splits:
            raise ValueError(
                f"eval_split {self.eval_split!r} is also in train_splits {self.train_splits}: the before/after "
                "evaluator would score questions the model trained on (use eval_split: test for a final fit)"
            )
        return self


def load_embedding_config(path: Path | str) -> EmbeddingFinetuneConfig:
    """Read a training YAML; unknown keys and bad values name the file and line."""
    located = load_yaml_config(path, "an embedding training YAML file (configs/training/<name>.yaml)")
    config = validate_yaml_model(EmbeddingFinetuneConfig, located)
    config._base_dir = Path(path).resolve().parent
    return config


# --------------------------------------------------------------------------- training data


@dataclass(frozen=True)
class TrainingPair:
    question: str
    positive: str
    source: str  # "suite" | "synthetic-section" | "synthetic-medication" | "extra-notes"
    document_id: str
    section: str
    case_id: str | None = None  # suite pairs only


@dataclass
class TrainingData:
    pairs: list[TrainingPair]
    test_questions: list[str]
    synthetic_scope: str
    synthetic_dropped: int
    documents_split_specific: bool
    notes: list[str] = field(default_factory=list)
    dropped_leaking_cases: list[str] = field(default_factory=list)
    # document id -> its chunks' embedding texts: where hard negatives are mined
    corpora: dict[str, list[str]] = field(default_factory=dict)

    def digest(self) -> str:
        rows = [[p.question, p.positive] for p in self.pairs]
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.source for p in self.pairs))


_SECTION_TEMPLATES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("diet", "nutrition", "food", "eating", "fluid"), (
        "What should I eat?", "Are there foods I should avoid?", "What diet should I follow at home?",
        "How much should I drink?",
    )),
    (("activity", "exercise", "physical activity", "restriction"), (
        "Can I exercise?", "What activities should I avoid?", "When can I go back to my normal activities?",
        "Can I lift heavy things?",
    )),
    (("driv",), ("When can I drive again?",)),
    (("follow", "appointment", "clinic visit"), (
        "When is my follow-up appointment?", "Who should I see after I leave the hospital?",
        "When do I see my doctor again?",
    )),
    (("warning", "return", "when to call", "call your", "emergency", "precaution", "seek", "red flag"), (
        "When should I come back to the hospital?", "What symptoms should I watch out for?",
        "When should I call my doctor?",
    )),
    (("wound", "incision", "dressing", "drain"), (
        "How do I take care of my wound?", "Can I shower?", "How do I change my dressing?",
    )),
    (("diagnos", "reason for admission", "reason for hospital", "impression", "problem"), (
        "Why was I in the hospital?", "What was my diagnosis?", "What is wrong with me?",
    )),
    (("hospital course", "course", "history of present illness", "what happened"), (
        "What happened during my hospital stay?", "What did they do for me in the hospital?",
    )),
    (("medication", "meds", "prescription", "medicines"), (
        "What medicines should I take?", "Were any of my medicines changed?", "Which pills do I take at home?",
    )),
    (("allerg",), ("What am I allergic to?",)),
    (("procedure", "surgery", "operation"), ("What procedure did I have?", "What was done during my surgery?")),
    (("result", "lab", "test", "imaging", "pending"), (
        "What did my tests show?", "Are any test results still pending?",
    )),
    (("condition at discharge", "discharge condition", "status"), ("How was I doing when I left the hospital?",)),
    (("chief complaint",), ("Why did I come to the hospital?",)),
    (("assessment and plan", "plan"), ("What is the plan for my care?", "What should I do next?")),
    (("instruction", "home care", "self-care", "self care"), (
        "What should I do when I get home?", "What are my instructions after discharge?",
    )),
]

_MED_LINE = re.compile(
    r"^\s*(?:\d+[.)]\s*|[-*\u2022]\s*)?"
    r"(?:(?P<status>NEW|CHANGED|CONTINUED?|STOPPED|STOP|HOLD|HELD|RESUMED?|STARTED|START)\s*:\s*)?"
    r"(?P<drug>[A-Za-z][A-Za-z-]{2,})\b(?P<rest>.*)$"
)
_DOSE = re.compile(r"^[^\n]{0,40}?\d+(?:[.,]\d+)?\s*(?i:mg|mcg|micrograms?|g|units?|ml|tablets?|tabs?|puffs?|drops?)\b")
_NOT_A_DRUG = {"take", "takes", "use", "give", "inject", "apply", "drink", "eat", "walk", "lift", "limit", "about",
               "less", "more", "than", "only", "up", "day", "days", "week", "weeks", "then", "and", "each", "every",
               "blood", "salt", "sodium", "fluids", "water", "weight", "your", "you", "the", "call", "avoid", "if",
               "triglycerides", "cholesterol", "glucose", "potassium", "hemoglobin", "results", "dose", "doses"}
_MED_TEMPLATES = (
    "How often do I take {drug}?",
    "What dose of {drug} should I take?",
    "When should I take my {drug}?",
    "How much {drug} do I take?",
)
_MED_STOP_TEMPLATES = ("Should I keep taking {drug}?", "Do I still take {drug}?")
_MED_PURPOSE_TEMPLATES = ("What is {drug} for?", "Why do I take {drug}?")
_MED_CHANGE_TEMPLATES = ("Did my {drug} dose change?", "Is my {drug} dose different now?")


def _best_chunk(chunks: Sequence[Chunk], start: int, end: int) -> Chunk | None:
    best, best_overlap = None, 0
    for chunk in chunks:
        overlap = min(end, chunk.end) - max(start, chunk.start)
        if overlap > best_overlap:
            best, best_overlap = chunk, overlap
    return best


def synthetic_pairs(
    document_id: str,
    text: str,
    chunking: ChunkingConfig,
    rng: random.Random,
    *,
    per_section: int = 2,
    per_medication: int = 2,
    source: str = "synthetic",
) -> list[TrainingPair]:
    """Template questions for a document's sections and medication lines, paired with their chunks."""
    chunks = chunk_document(document_id, text, chunking)
    pairs: list[TrainingPair] = []
    for title, start, end in split_sections(text, chunking.max_heading_words):
        chunk = _best_chunk(chunks, start, end)
        lowered = title.lower()
        if chunk is None:
            continue
        for keywords, questions in _SECTION_TEMPLATES:
            if any(key in lowered for key in keywords):
                for question in rng.sample(questions, min(per_section, len(questions))):
                    pairs.append(TrainingPair(question, chunk.embedding_text, f"{source}-section", document_id, title))
                break
    offset = 0
    for line in text.splitlines(keepends=True):
        match = _MED_LINE.match(line)
        status = (match.group("status") or "").upper() if match else ""
        if match and match.group("drug").lower() not in _NOT_A_DRUG and (status or _DOSE.match(match.group("rest"))):
            drug = match.group("drug")
            chunk = _best_chunk(chunks, offset, offset + len(line.rstrip()))
            templates = list(_MED_TEMPLATES) if _DOSE.match(match.group("rest")) else []
            if status.startswith(("STOP", "HOLD", "HELD")) or re.search(r"\b(stop|discontinu|hold)", line, re.I):
                templates += _MED_STOP_TEMPLATES
            if status.startswith("CHANGE") or re.search(r"\b(increased|decreased|changed)\b", line, re.I):
                templates += _MED_CHANGE_TEMPLATES
            if re.search(r"\bfor\b", line, re.IGNORECASE) or status.startswith(("NEW", "START")):
                templates += _MED_PURPOSE_TEMPLATES
            if chunk is not None and templates:
                for template in rng.sample(templates, min(per_medication, len(templates))):
                    pairs.append(
                        TrainingPair(
                            template.format(drug=drug), chunk.embedding_text, f"{source}-medication", document_id,
                            chunk.section,
                        )
                    )
        offset += len(line)
    return pairs


def _answerable_gold_cases(cases: Iterable[Case]) -> list[Case]:
    return [
        c for c in cases
        if c.question and c.gold_passage and c.document is not None and c.labels.answerable is not False
    ]


def _gold_chunk(case: Case, chunking: ChunkingConfig) -> Chunk | None:
    assert case.document is not None and case.gold_passage is not None
    span = locate(case.document, case.gold_passage)
    if span is None:
        return None
    return _best_chunk(chunk_document(case.document_id or case.id, case.document, chunking), *span)


def _extra_note_texts(directory: Path, limit: int) -> list[tuple[str, str]]:
    """Clinical notes from an ACI-Bench-style folder (train.csv, column 'note'); only its train file."""
    path = directory / "train.csv"
    if not path.exists():
        return []
    csv.field_size_limit(1 << 26)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    notes = [(f"extra-{row.get('encounter_id') or i}", row.get("note") or "") for i, row in enumerate(rows)]
    return [(doc_id, text) for doc_id, text in notes if text.strip()][:limit]


def build_training_data(suite: Suite, config: EmbeddingFinetuneConfig) -> TrainingData:
    """Pairs from train cases + template questions; checked against the test split for leakage."""
    rng = random.Random(config.seed)
    test_cases = [c for c in suite.cases if c.split == "test"]
    test_questions = [c.question or c.user_text for c in test_cases]
    notes: list[str] = []
    pairs: list[TrainingPair] = []
    train_splits = set(config.train_splits)
    for case in _answerable_gold_cases(c for c in suite.cases if c.split in train_splits):
        assert case.question is not None and case.gold_passage is not None
        if config.positive == "gold_passage":
            positive: str | None = case.gold_passage
            section = ""
        else:
            chunk = _gold_chunk(case, config.chunking)
            positive = chunk.embedding_text if chunk else None
            section = chunk.section if chunk else ""
        if positive is None:
            notes.append(f"case {case.id}: gold passage not found in its document; skipped")
            continue
        pairs.append(TrainingPair(case.question, positive, "suite", case.document_id or "", section, case.id))

    threshold = config.near_duplicate_threshold
    dropped_cases: list[str] = []
    elsewhere = other_versions_test_cases(suite, [c for c in suite.cases if c.split in train_splits])
    if elsewhere and config.on_leak == "refuse":
        shown = "; ".join(f"{case_id} is {ref}" for case_id, ref in sorted(elsewhere.items())[:5])
        raise DataLeakageError(
            f"suite {suite.key}: {len(elsewhere)} training case(s) are test cases of another suite version: {shown}",
            hint="a retriever trained on them would be scored on questions it trained on; leave those documents "
                 "out of this version, or set on_leak: drop",
        )
    if config.on_leak == "drop":
        leaks = find_near_duplicate_questions((p.question for p in pairs), test_questions, threshold)
        leaking_cases = {q for q, _ in leaks}
        dropped_cases = [p.case_id or "" for p in pairs if p.question in leaking_cases or p.case_id in elsewhere]
        pairs = [p for p in pairs if p.question not in leaking_cases and p.case_id not in elsewhere]
        notes += [f"case {case_id}: question duplicates a test question; dropped (on_leak: drop)"
                  for case_id in dropped_cases if case_id not in elsewhere]
        notes += [f"case {case_id}: is {ref}; dropped (on_leak: drop)" for case_id, ref in sorted(elsewhere.items())]

    splits_by_doc: dict[str, set[str]] = {}
    for case in suite.cases:
        if case.document_id:
            splits_by_doc.setdefault(case.document_id, set()).add(case.split)
    shared = sorted(d for d, splits in splits_by_doc.items() if splits & train_splits and splits - train_splits)
    split_specific = not shared
    texts = suite_documents(suite)
    if config.synthetic_documents == "train_only" or (config.synthetic_documents == "auto" and split_specific):
        chosen = [d for d in texts if splits_by_doc.get(d, train_splits) <= train_splits]
        scope = f"training documents only (referenced by no case outside {sorted(train_splits)})"
    else:
        chosen = list(texts)
        scope = "all documents (documents are shared across splits: test questions unseen, test corpus seen)"
    synthetic: list[TrainingPair] = []
    if config.synthetic_questions:
        for doc_id in sorted(chosen):
            synthetic += synthetic_pairs(
                doc_id, texts[doc_id], config.chunking, rng,
                per_section=config.max_synthetic_per_section, per_medication=config.max_synthetic_per_medication,
            )
        if config.extra_notes_dir:
            extra_dir = config.resolve(config.extra_notes_dir)
            assert extra_dir is not None
            notes_found = _extra_note_texts(extra_dir, config.max_extra_notes)
            if not notes_found:
                notes.append(f"extra_notes_dir {extra_dir} absent or empty; skipped")
            for doc_id, text in notes_found:
                texts[doc_id] = text
                synthetic += synthetic_pairs(
                    doc_id, text, config.chunking, rng, per_section=config.max_synthetic_per_section,
                    per_medication=config.max_synthetic_per_medication, source="extra-notes",
                )
    # Decontaminate: generic templates ("What should I eat?") may coincide with a test question.
    leaking = {q for q, _ in find_near_duplicate_questions((p.question for p in synthetic), test_questions, threshold)}
    kept = [p for p in synthetic if p.question not in leaking]
    data = TrainingData(
        pairs=pairs + kept,
        test_questions=test_questions,
        synthetic_scope=scope,
        synthetic_dropped=len(synthetic) - len(kept),
        documents_split_specific=split_specific,
        notes=notes,
        dropped_leaking_cases=dropped_cases,
    )
    data.corpora = {
        doc_id: [c.embedding_text for c in chunk_document(doc_id, texts[doc_id], config.chunking)]
        for doc_id in sorted({p.document_id for p in data.pairs})
        if doc_id in texts
    }
    check_leakage((p.question for p in data.pairs), test_questions, config.near_duplicate_threshold)
    if len(data.pairs) < 2:
        raise ConfigError(
            f"suite {suite.key}: only {len(data.pairs)} training pair(s); need train cases with gold passages",
            hint="enable synthetic_questions or add train-split cases",
        )
    return data


# --------------------------------------------------------------------------- evaluation


def retrieval_eval_set(
    suite: Suite, split: str, chunking: ChunkingConfig
) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """(queries, corpus, relevant) for InformationRetrievalEvaluator: corpus = every chunk of every document."""
    texts = suite_documents(suite)
    chunks_by_doc = {doc_id: chunk_document(doc_id, text, chunking) for doc_id, text in texts.items()}
    corpus = {c.chunk_id: c.embedding_text for chunks in chunks_by_doc.values() for c in chunks}
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for case in _answerable_gold_cases(c for c in suite.cases if c.split == split):
        assert case.document is not None and case.gold_passage is not None and case.question is not None
        span = locate(case.document, case.gold_passage)
        doc_chunks = chunks_by_doc.get(case.document_id or "", [])
        if span is None or not doc_chunks:
            continue
        hits = {c.chunk_id for c in doc_chunks if min(c.end, span[1]) > max(c.start, span[0])}
        if hits:
            queries[case.id] = case.question
            relevant[case.id] = hits
    return queries, corpus, relevant


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
    cases = _answerable_gold_cases(c for c in suite.cases if c.split == split)
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

