"""Which sentences carry each EPITOME mechanism, learned from EPITOME's rationales.

Why: EPITOME labels a whole response, so the response heads (``empathy_model``) cannot say which
sentence earned a level, and the hand-written rules' sentence levels miss most of what the
annotators marked. EPITOME's ``rationales`` column names the words that justify each level, so a
sentence whose words are mostly inside a rationale "carries" the response's level; every other
sentence carries 0. One logistic head per dimension over hashed sentence features (its words and
openings, whether it asks, its overlap with the seeker's post, and the rules' level of that
sentence; the rules' cue patterns were dropped: same figures, one regex pass fewer) learns that mapping.

Two uses: the report highlights the sentences these heads find (never above the response level the
heads decided), and the response heads read each response's sentences weighted by the probability
that they carry the mechanism (``focus_features``), which raised grouped-CV mean macro-F1 0.6465 ->
0.661. Tried and not adopted (2026-12-06, grouped CV on the non-held-out posts): per-response maxima /
means / counts of these probabilities appended instead: 0.6465 -> 0.645.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from harness.metrics.empathy import content_words, sentence_levels
from harness.metrics.models import LinearTextClassifier, hashed_matrix, load_model
from harness.metrics.text import Span, fold, unique_spans
from harness.metrics.text import word_tokens as tokens

DIMENSIONS = ("er", "ip", "ex")
SENTENCE_DIM = 2**14
SENTENCE_FEATURES = "empathy_sentence_v2"  # recorded in each weight file's JSON
CONFIDENT = 0.6  # below this probability of its own level a sentence keeps the rules' level in reports
RATIONALE_SHARE = 0.5  # share of a sentence's words inside a rationale for it to carry the level
_EDGES = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)


def _bucket(n: int) -> int:
    return next((edge for edge in _EDGES if n <= edge), 999)


def sentence_features(
    sentence: str, seeker_words: set[str], position: int, count: int, levels: tuple[int, int, int] | None = None
) -> list[str]:
    """Named features of one response sentence (``seeker_words`` = ``content_words(seeker post)``).

    ``levels`` = the rules' ``sentence_levels`` of it when the caller already has them (saves a pass).
    """
    s = fold(sentence).strip()
    toks = tokens(s)
    out = ["w:" + w for w in toks] + ["b:" + a + "_" + b for a, b in pairwise(toks)]
    if toks:
        out.append("f:" + toks[0])
    if len(toks) > 1:
        out.append(f"f2:{toks[0]}_{toks[1]}")
    out.append(f"q:{int(s.endswith('?'))}")
    levels = levels if levels is not None else sentence_levels(s, seeker_words)
    out += [f"r_{d}:{level}" for d, level in zip(DIMENSIONS, levels, strict=True)]
    out.append(f"ov:{_bucket(len(content_words(s) & seeker_words))}")
    out.append(f"len:{_bucket(len(toks))}")
    out.append("first" if position == 0 else "last" if position == count - 1 else "mid")
    out.append("bias")
    return out


def hash_sentences(feature_lists: Sequence[list[str]], dim: int = SENTENCE_DIM) -> Any:
    """Sparse L2-normalised hashed matrix, one row per sentence (crc32: stable across runs)."""
    return hashed_matrix(feature_lists, dim)


@dataclass
class SentenceRows:
    """The sentences of many responses: ``owner[i]`` = index of the response sentence ``i`` belongs to."""

    spans: list[Span]
    owner: np.ndarray
    X: Any


def split_responses(
    seekers: Sequence[str | None],
    responses: Sequence[str],
    dim: int = SENTENCE_DIM,
    rule_levels: Sequence[dict[tuple[int, int], tuple[int, int, int]]] | None = None,
) -> SentenceRows:
    """Each response's distinct sentences (``unique_spans``) with their hashed features.

    ``rule_levels``: per response, the rules' levels of its sentences by ``(start, end)`` where the caller
    has them from ``score_empathy`` (a sentence not listed there has levels 0, 0, 0).
    """
    spans: list[Span] = []
    owner: list[int] = []
    feats: list[list[str]] = []
    for i, (seeker, response) in enumerate(zip(seekers, responses, strict=True)):
        seeker_words = content_words(seeker or "")
        these = unique_spans(response or "")
        for j, span in enumerate(these):
            spans.append(span)
            owner.append(i)
            known = rule_levels[i].get((span.start, span.end), (0, 0, 0)) if rule_levels is not None else None
            feats.append(sentence_features(span.text, seeker_words, j, len(these), known))
    return SentenceRows(spans, np.asarray(owner, dtype=int), hash_sentences(feats, dim))


def rationale_level(sentence: str, rationales: str, level: str) -> int:
    """The level a sentence carries: the response's, if most of its words are in the rationale; else 0."""
    if level == "0" or not rationales.strip():
        return 0
    toks = tokens(sentence)
    if not toks:
        return 0
    marked = set(tokens(rationales))
    return int(level) if sum(w in marked for w in toks) / len(toks) >= RATIONALE_SHARE else 0


@dataclass
class EvidenceModel:
    """Three sentence heads; ``levels`` gives each sentence's level and confidence per dimension."""

    heads: dict[str, LinearTextClassifier]

    @classmethod
    def default(cls, paths: dict[str, str] | None = None) -> EvidenceModel:
        paths = paths or {}
        heads = {d: load_model(f"empathy_sent_{d}", "lexical", paths.get(f"empathy_sent_{d}")) for d in DIMENSIONS}
        for dim, head in heads.items():
            if head.meta.get("features") != SENTENCE_FEATURES:
                raise ValueError(f"empathy_sent_{dim} weights were not trained on {SENTENCE_FEATURES} features")
        return cls(heads)

    def carries(self, rows: SentenceRows) -> dict[str, np.ndarray]:
        """Per dimension: each sentence's probability of carrying the mechanism (level > 0)."""
        return {dim: carries_probability(head, rows.X) for dim, head in self.heads.items()}

    def levels(self, rows: SentenceRows) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per dimension: (level of each sentence, probability of that level)."""
        out = {}
        for dim, head in self.heads.items():
            proba = head._proba(head.decision_from(rows.X)) if rows.X.shape[0] else np.zeros((0, 3))
            best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
            classes = np.asarray([int(c) for c in head.classes])
            out[dim] = (classes[best], proba[np.arange(len(best)), best])
        return out


def carries_probability(head: LinearTextClassifier, X: Any) -> np.ndarray:
    """1 - P(level 0) of each sentence row of ``X``."""
    if X.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    return 1.0 - head._proba(head.decision_from(X))[:, list(head.classes).index("0")]


def focus_features(rows: SentenceRows, carries: np.ndarray, n_responses: int) -> Any:
    """Per response: its sentences' feature rows weighted by their probability of carrying the mechanism.

    Why: the response heads read every word of a response at once; this block lets them read the
    sentences that likely carry ER / IP / EX apart from advice around them (L2-normalised per response).
    """
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    weights = csr_matrix(
        (carries.astype(np.float32), (rows.owner, np.arange(len(rows.owner)))), shape=(n_responses, len(rows.owner))
    )
    return normalize(weights @ rows.X).astype(np.float32)
