"""EPITOME empathy classifiers learned from expert labels: (seeker post, response) -> 0/1/2 per dimension.

Why this shape: EPITOME labels a whole response given the seeker's post, and on those labels the
hand-written rules in ``empathy.py`` agree poorly (mean macro-F1 0.47). A logistic-regression head
per dimension over hashed features of the pair keeps the default path fast (pure numpy at
inference, thousands of responses a second) and stores no text. The features are a hybrid: word
n-grams of the response, the words of its questions apart from its statements (EX hinges on what
is asked), openings of sentences, overlap between questions and the seeker's post, and the rule
levels and cue hits of ``empathy.py`` as features the model may weigh (not obey); then, per
dimension, a focus block: the response's sentences weighted by the rationale-trained sentence head's
probability that they carry that mechanism (``empathy_evidence``); the explorations head also reads
static MiniLM word-piece vectors of the response, folded into per-piece weights (``token_vectors``). The optional
``minilm`` encoder appends all-MiniLM-L6-v2 embeddings of the response and the seeker post.

Repeated sentences count once (a response that pastes the same sentence twice says it once).
Weights: ``harness/metrics/weights/empathy_{er,ip,ex}-<encoder>.npz`` (same storage as the MI
models); ``harness train-metric empathy`` rebuilds them from EPITOME-format CSVs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from harness.metrics.models import (
    ENCODERS,
    HASH_DIM,
    LinearTextClassifier,
    embed,
    hashed_matrix,
    load_model,
)
from harness.metrics.text import fold, word_tokens
from harness.metrics.text import unique_sentences as text_unique_sentences

DIMENSIONS = ("er", "ip", "ex")
LEVELS = ("0", "1", "2")
FEATURE_SET = "empathy_pair_v2"  # recorded in each weight file's JSON; a model is only fed features of its set
_YOU = frozenset({"you", "your", "you're", "youre", "you've", "youve", "yourself", "u", "ur"})
_ME = frozenset({"i", "me", "my", "i'm", "im", "i've", "ive", "myself", "mine"})
_EDGES = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)


def _bucket(n: int) -> int:
    return next((edge for edge in _EDGES if n <= edge), 999)


def unique_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order, each distinct sentence once (``harness.metrics.text.unique_spans``)."""
    return text_unique_sentences(fold(text or ""))


tokens = word_tokens  # the old name; defined in harness.metrics.text (empathy_evidence reads it too)


def pair_features(seeker: str | None, response: str, rule: dict[str, Any] | None = None) -> list[str]:
    """Named features of one (seeker post, response) pair; see the module docstring for why each.

    ``rule`` = ``score_empathy(seeker, response)`` when the caller already has it (saves a second pass).
    """
    from harness.metrics.empathy import rule_cues, score_empathy

    sents = unique_sentences(response)
    text = " ".join(sents)
    toks = tokens(text)
    out = ["w:" + w for w in toks]
    out += ["b:" + a + "_" + b for a, b in pairwise(toks)]
    seeker_words = {w for w in tokens(seeker or "") if len(w) > 3}
    questions = 0
    for s in sents:
        st = tokens(s)
        is_q = s.rstrip().endswith("?")
        questions += is_q
        prefix = "q" if is_q else "s"
        out += [f"{prefix}w:{w}" for w in st]
        if st:
            out.append(f"{prefix}f:{st[0]}")
        if len(st) > 1:
            out.append(f"{prefix}f2:{st[0]}_{st[1]}")
        if is_q:
            mine = {w for w in st if len(w) > 3}
            out.append(f"qov:{_bucket(len(mine & seeker_words))}")
            out.append(f"qlen:{_bucket(len(st))}")
    rule = rule or score_empathy(seeker, text)
    out += [f"rule_{d}:{rule[d]}" for d in DIMENSIONS]
    out += ["cue:" + c for c in rule_cues(text)]
    out.append(f"nq:{min(questions, 3)}")
    out.append(f"len:{_bucket(len(toks))}")
    out.append(f"nsent:{_bucket(len(sents))}")
    out.append(f"you:{_bucket(sum(w in _YOU for w in toks))}")
    out.append(f"me:{_bucket(sum(w in _ME for w in toks))}")
    out.append(f"excl:{min(text.count('!'), 3)}")
    out.append("bias")
    return out


def hash_pairs(
    seekers: Sequence[str | None],
    responses: Sequence[str],
    dim: int = HASH_DIM,
    rules: Sequence[dict[str, Any]] | None = None,
) -> Any:
    """Sparse L2-normalised hashed matrix of ``pair_features`` (crc32: stable across runs)."""
    rules = rules if rules is not None else [None] * len(responses)  # type: ignore[list-item]
    return hashed_matrix([pair_features(seeker, response, rule)
                          for seeker, response, rule in zip(seekers, responses, rules, strict=True)], dim)


def featurize_pairs(
    seekers: Sequence[str | None],
    responses: Sequence[str],
    encoder: str = "lexical",
    dim: int = HASH_DIM,
    rules: Sequence[dict[str, Any]] | None = None,
    focus: Any = None,
) -> Any:
    """The feature matrix of the empathy heads: hashed pair features, then the dimension's sentence focus
    block (``empathy_evidence.focus_features``) if given, then MiniLM of response and seeker (``minilm``)."""
    return join_blocks(pair_blocks(seekers, responses, encoder, dim, rules), focus)


def pair_blocks(
    seekers: Sequence[str | None],
    responses: Sequence[str],
    encoder: str = "lexical",
    dim: int = HASH_DIM,
    rules: Sequence[dict[str, Any]] | None = None,
) -> list[Any]:
    """[hashed pair features, (MiniLM response, MiniLM seeker)]: what every dimension's head shares."""
    from scipy.sparse import csr_matrix

    blocks = [hash_pairs(seekers, responses, dim, rules)]
    if encoder == "minilm":
        blocks += [csr_matrix(embed([r or "" for r in responses])), csr_matrix(embed([s or "" for s in seekers]))]
    elif encoder != "lexical":
        raise ValueError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")
    return blocks


def join_blocks(blocks: list[Any], focus: Any = None) -> Any:
    """The hashed block, the focus block (if any), the embedding blocks (if any), side by side."""
    from scipy.sparse import hstack

    parts = blocks[:1] + ([focus] if focus is not None else []) + blocks[1:]
    return hstack(parts).tocsr() if len(parts) > 1 else parts[0].tocsr()


def with_pieces(X: Any, responses: Sequence[str], piece_idf: Any = None) -> Any:
    """``X`` and, for a head trained with word-piece vectors (``piece_idf`` set), the responses' word-piece
    distribution: the head's folded per-piece weights read it (harness.metrics.token_vectors)."""
    if piece_idf is None:
        return X
    from scipy.sparse import hstack

    from harness.metrics.token_vectors import piece_distribution

    return hstack([X, piece_distribution(list(responses), piece_idf)]).tocsr()


@dataclass
class EmpathyModel:
    """The three EPITOME heads; ``predict`` scores a batch of (seeker, response) pairs at once.

    Each head reads the pair's hashed features and its focus block: the response's sentences weighted
    by the sentence evidence heads' probability that they carry that dimension (``empathy_evidence``).
    """

    heads: dict[str, LinearTextClassifier]
    evidence: Any
    encoder: str = "lexical"

    @classmethod
    def default(cls, encoder: str = "lexical", paths: dict[str, str] | None = None) -> EmpathyModel:
        from harness.metrics.empathy_evidence import EvidenceModel

        paths = paths or {}
        heads = {d: load_model(f"empathy_{d}", encoder, paths.get(f"empathy_{d}")) for d in DIMENSIONS}
        for dim, head in heads.items():
            if head.meta.get("features") != FEATURE_SET:
                raise ValueError(
                    f"empathy_{dim} weights were not trained on {FEATURE_SET} features; "
                    "retrain with `harness train-metric empathy`"
                )
        return cls(heads, EvidenceModel.default(paths), encoder)

    def predict(
        self,
        seekers: Sequence[str | None],
        responses: Sequence[str],
        rules: Sequence[dict[str, Any]] | None = None,
        sentences: Any = None,
    ) -> list[dict[str, int]]:
        """Levels per pair; ``rules`` = the pairs' ``score_empathy`` results and ``sentences`` = their
        ``split_responses`` rows, if already computed."""
        from harness.metrics.empathy_evidence import focus_features, split_responses

        if not responses:
            return []
        dim = next(iter(self.heads.values())).dim
        rows = sentences if sentences is not None else split_responses(seekers, responses)
        carries = self.evidence.carries(rows)
        blocks = pair_blocks(seekers, responses, self.encoder, dim, rules)
        per_dim = {}
        for d, head in self.heads.items():
            X = with_pieces(join_blocks(blocks, focus_features(rows, carries[d], len(responses))), responses,
                            head.piece_idf)
            per_dim[d] = head.predict_from(X)
        return [{d: int(per_dim[d][i]) for d in DIMENSIONS} for i in range(len(responses))]

