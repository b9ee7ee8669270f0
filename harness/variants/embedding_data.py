"""Training pairs for the embedding fine-tune, and the held-out retrieval evaluation set.

Pairs are (question, chunk holding the answer) from the suite's train split plus template questions
generated from document sections and medication lines; nothing from the test split is trained on
(see ``harness.variants.embedding`` for the whole story and ``harness.leakage`` for the rules).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError, DataLeakageError
from harness.leakage import check_question_leakage as check_leakage
from harness.leakage import find_near_duplicate_questions, other_versions_test_cases
from harness.rag.chunking import Chunk, ChunkingConfig, chunk_document, split_sections
from harness.rag.chunking import locate_passage as locate
from harness.rag.retriever import suite_documents
from harness.suite import Case, Suite
from harness.variants.embedding_config import EmbeddingFinetuneConfig

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


def answerable_gold_cases(cases: Iterable[Case]) -> list[Case]:
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
    for case in answerable_gold_cases(c for c in suite.cases if c.split in train_splits):
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


def retrieval_eval_set(
    suite: Suite, split: str, chunking: ChunkingConfig
) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """(queries, corpus, relevant) for InformationRetrievalEvaluator: corpus = every chunk of every document."""
    texts = suite_documents(suite)
    chunks_by_doc = {doc_id: chunk_document(doc_id, text, chunking) for doc_id, text in texts.items()}
    corpus = {c.chunk_id: c.embedding_text for chunks in chunks_by_doc.values() for c in chunks}
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for case in answerable_gold_cases(c for c in suite.cases if c.split == split):
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
