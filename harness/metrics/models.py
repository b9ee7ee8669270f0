"""Small trained classifiers behind the metrics: hashed n-grams (+ optional MiniLM) -> logistic regression.

Why this shape: the default ("lexical") model hashes word n-grams and a few cue features into a
fixed-size vector, so inference is a sparse dot product (thousands of sentences a second on one
core) and the shipped weights hold no text from the training data (no vocabulary is stored, only
coefficients per hash bucket; the MI behaviour and reflection models add one weight per MiniLM word piece
and the pieces' idf, see harness.metrics.token_vectors). The optional "minilm" encoder appends all-MiniLM-L6-v2 sentence
embeddings: a few points more agreement on AnnoMI, ~10x slower.

Weights live in ``harness/metrics/weights/<kind>-<encoder>.npz`` with a ``.json`` sidecar that
records the data they came from (file, sha256, rows, licence note) and cross-validated figures.
``python -m harness.metrics train-defaults --data ../shared/data`` rebuilds them;
``train_metric_model(kind, path)`` trains on a user's labelled JSONL file.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError, ModelNotFoundError
from harness.models.embedded import minilm_path
from harness.yamlio import iter_jsonl

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ENCODERS = ("lexical", "minilm")
HASH_DIM = 2**16
EMBED_SCALE = 1.0  # relative weight of the 384 embedding dims next to the L2-normalised hashed block

# Kinds the shipped metrics look up by name; users may train any other kind from a JSONL file.
KNOWN_KINDS: dict[str, tuple[str, ...]] = {
    "mi_behaviour": ("question", "reflection", "therapist_input", "other"),
    "mi_question": ("open", "closed"),
    "mi_reflection": ("simple", "complex"),
}
# Models that also read static MiniLM word-piece vectors folded into their weights (harness.metrics.token_vectors):
# grouped CV on 75 AnnoMI-dev transcripts, behaviour macro-F1 +0.009 and simple/complex +0.015 at near-lexical
# speed; open/closed lost 0.005-0.009 with them, so the question model reads n-grams only (docs/metrics.md).
TOKEN_VECTOR_KINDS: frozenset[tuple[str, str]] = frozenset({("mi_behaviour", "lexical"), ("mi_reflection", "lexical")})
# Regularisation chosen by grouped 5-fold CV on AnnoMI-dev (see docs/metrics.md).
DEFAULT_C: dict[tuple[str, str], float] = {
    ("mi_behaviour", "lexical"): 1.0,  # 4.0 without the word-piece vectors
    ("mi_question", "lexical"): 8.0,
    ("mi_reflection", "lexical"): 1.0,
    ("mi_behaviour", "minilm"): 1.0,
    ("mi_question", "minilm"): 1.0,
    ("mi_reflection", "minilm"): 1.0,
}

_TOK = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!.]")
_SENT = re.compile(r"(?<=[.?!])\s+|\s*--\s*")
_YOU = frozenset({"you", "your", "you're", "you've", "you'd", "you'll", "yourself"})
_ME = frozenset({"i", "me", "my", "i'm", "i've", "i'd", "i'll"})
_EDGES = (1, 2, 3, 5, 8, 13, 21, 34, 55)


def _bucket(n: int) -> int:
    for edge in _EDGES:
        if n <= edge:
            return edge
    return 99


def text_features(text: str, context: str | None = None) -> list[str]:
    """Named features of one utterance: n-grams, first/last-sentence openings, punctuation, pronouns.

    Openings carry most of the signal for MI codes ("So you feel..." reflects, "What..." asks),
    so the first tokens of the utterance and of its last sentence are features of their own.
    ``context`` (the client's previous turn) adds a bucketed word-overlap feature.
    """
    t = text.lower().replace("\u2019", "'").strip()
    toks = _TOK.findall(t)
    words = [w for w in toks if w not in "?!."]
    out = ["w:" + w for w in words]
    out += ["b:" + a + "_" + b for a, b in pairwise(words)]
    parts = [s for s in _SENT.split(t) if s.strip()] or [t]
    last = [w for w in _TOK.findall(parts[-1]) if w not in "?!."]
    for i in range(min(3, len(words))):
        out.append(f"f{i}:{words[i]}")
    if len(words) > 1:
        out.append(f"f01:{words[0]}_{words[1]}")
    for i in range(min(3, len(last))):
        out.append(f"l{i}:{last[i]}")
    if len(last) > 1:
        out.append(f"l01:{last[0]}_{last[1]}")
    out += ["lw:" + w for w in last]
    out.append("end:" + (t[-1] if t else ""))
    out.append(f"len:{_bucket(len(words))}")
    out.append(f"nsent:{_bucket(len(parts))}")
    out.append(f"q:{min(t.count('?'), 3)}")
    out.append(f"lastq:{int(parts[-1].strip().endswith('?'))}")
    out.append(f"you:{_bucket(sum(w in _YOU for w in words))}")
    out.append(f"me:{_bucket(sum(w in _ME for w in words))}")
    if context:
        out += context_features(context, words)
    return out


def context_features(context: str, words: Sequence[str]) -> list[str]:
    """What the client just said: reflections restate it (word overlap), answers follow its questions.

    The client's words are features of their own ("c:" prefix) because what the client said
    (a question, a yes/no, a long story) shapes whether the counsellor asks, reflects or informs;
    on AnnoMI-dev the shipped reflection-subtype model reads them (see ``ANNOMI_CONTEXT_KINDS``).
    """
    said = [w for w in _TOK.findall(context.lower().replace("\u2019", "'")) if w not in "?!."]
    long_said = {w for w in said if len(w) > 3}
    mine = {w for w in words if len(w) > 3}
    out = [f"ov:{int(5 * len(long_said & mine) / max(1, len(mine)))}"]
    out += ["c:" + w for w in dict.fromkeys(said)]
    out.append(f"cq:{int(context.strip().endswith('?'))}")
    out.append(f"clen:{_bucket(len(said))}")
    return out


_BUCKETS: dict[tuple[str, int], int] = {}


def feature_bucket(feature: str, dim: int) -> int:
    """crc32 bucket of a feature string, memoised (feature strings repeat across sentences and responses)."""
    key = (feature, dim)
    bucket = _BUCKETS.get(key)
    if bucket is None:
        if len(_BUCKETS) > 1_000_000:
            _BUCKETS.clear()
        bucket = _BUCKETS[key] = zlib.crc32(feature.encode()) % dim
    return bucket


def hash_features(texts: Sequence[str], contexts: Sequence[str | None] | None = None, dim: int = HASH_DIM) -> Any:
    """Sparse L2-normalised hashed feature matrix (scipy CSR); crc32 so hashes are stable across runs."""
    contexts = contexts if contexts is not None else [None] * len(texts)
    return hashed_matrix([text_features(text, ctx) for text, ctx in zip(texts, contexts, strict=True)], dim)


def hashed_matrix(feature_lists: Sequence[Sequence[str]], dim: int) -> Any:
    """One L2-normalised row of hashed feature counts per list (the MI and empathy models' input)."""
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, feats in enumerate(feature_lists):
        counts: dict[int, float] = {}
        for feat in feats:
            h = feature_bucket(feat, dim)
            counts[h] = counts.get(h, 0.0) + 1.0
        norm = float(np.sqrt(sum(v * v for v in counts.values()))) or 1.0
        rows += [i] * len(counts)
        cols += list(counts)
        vals += [v / norm for v in counts.values()]
    return csr_matrix((vals, (rows, cols)), shape=(len(feature_lists), dim), dtype=np.float32)


# --- MiniLM encoder -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def get_sentence_encoder() -> Any:
    """The MiniLM SentenceTransformer, loaded once per process (about 5 s on CPU)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_path()), device="cpu")
    model.max_seq_length = 128
    return model


_EMBED_CACHE: dict[str, np.ndarray] = {}
_EMBED_CACHE_MAX = 50_000


def embed(texts: Sequence[str]) -> np.ndarray:
    """Normalised MiniLM embeddings; memoised per text so CV folds and re-scoring do not re-encode."""
    missing = list(dict.fromkeys(t for t in texts if t not in _EMBED_CACHE))
    if missing:
        vectors = get_sentence_encoder().encode(missing, batch_size=64, normalize_embeddings=True)
        if len(_EMBED_CACHE) + len(missing) > _EMBED_CACHE_MAX:
            _EMBED_CACHE.clear()
        _EMBED_CACHE.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        if any(t not in _EMBED_CACHE for t in texts):  # cache was cleared mid-batch
            return np.asarray(get_sentence_encoder().encode(list(texts), normalize_embeddings=True), dtype=np.float32)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([_EMBED_CACHE[t] for t in texts])


def featurize(
    texts: Sequence[str],
    encoder: str,
    contexts: Sequence[str | None] | None = None,
    dim: int = HASH_DIM,
    piece_idf: np.ndarray | None = None,
) -> Any:
    """Hashed n-grams (+ MiniLM embeddings for ``minilm``; + the word-piece distribution when ``piece_idf``)."""
    from scipy.sparse import csr_matrix, hstack

    lexical = hash_features(texts, contexts, dim)
    if piece_idf is not None:
        from harness.metrics.token_vectors import piece_distribution

        lexical = hstack([lexical, piece_distribution(texts, piece_idf)]).tocsr()
    if encoder == "lexical":
        return lexical
    if encoder == "minilm":
        return hstack([lexical, csr_matrix(embed(texts) * EMBED_SCALE)]).tocsr()
    raise ConfigError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")


# --- the classifier --------------------------------------------------------------------------------


@dataclass
class LinearTextClassifier:
    """Logistic-regression weights over hashed (+ embedding) features; pure numpy at inference."""

    kind: str
    encoder: str
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes or 1, n_features)
    intercept: np.ndarray
    dim: int = HASH_DIM
    meta: dict[str, Any] = field(default_factory=dict)
    piece_idf: np.ndarray | None = None  # set when the weights include folded word-piece vectors

    @property
    def uses_context(self) -> bool:
        """Trained with the client's previous turn as context (weights from before 2026-12-06 were not)."""
        return bool(self.meta.get("uses_context", False))

    @property
    def feature_key(self) -> tuple[str, int, bool, bool]:
        """Models with equal keys read the same feature matrix, so a batch computes it once."""
        return (self.encoder, self.dim, self.uses_context, self.piece_idf is not None)

    def features(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> Any:
        """The feature matrix this model reads (``contexts`` are ignored by a model trained without them)."""
        return featurize(texts, self.encoder, contexts if self.uses_context else None, self.dim, self.piece_idf)

    def decision(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> np.ndarray:
        return self.decision_from(self.features(texts, contexts))

    def decision_from(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef.T) + self.intercept

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> np.ndarray:
        return self._proba(self.decision(texts, contexts))

    def predict_from(self, X: Any) -> list[str]:
        """Predictions for a precomputed feature matrix (see ``features``)."""
        if X.shape[0] == 0:
            return []
        return [self.classes[i] for i in self._proba(self.decision_from(X)).argmax(axis=1)]

    @staticmethod
    def _proba(z: np.ndarray) -> np.ndarray:
        if z.shape[1] == 1:  # binary: sklearn keeps one row of weights for classes[1]
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1.0 - p1, p1], axis=1)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[str]:
        if not texts:
            return []
        proba = self.predict_proba(texts, contexts)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = {} if self.piece_idf is None else {"piece_idf": self.piece_idf.astype(np.float32)}
        np.savez_compressed(
            path,
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            classes=np.array(self.classes),
            encoder=np.array(self.encoder),
            kind=np.array(self.kind),
            dim=np.array(self.dim),
            **extra,
        )
        path.with_suffix(".json").write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> LinearTextClassifier:
        if not path.exists():
            raise ModelNotFoundError(f"metric model weights not found: {path}")
        with np.load(path, allow_pickle=False) as z:
            meta_path = path.with_suffix(".json")
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            return cls(
                kind=str(z["kind"]),
                encoder=str(z["encoder"]),
                classes=tuple(str(c) for c in z["classes"]),
                coef=z["coef"].astype(np.float32),
                intercept=z["intercept"].astype(np.float32),
                dim=int(z["dim"]),
                meta=meta,
                piece_idf=z["piece_idf"] if "piece_idf" in z.files else None,
            )


def default_weights_path(kind: str, encoder: str = "lexical") -> Path:
    return WEIGHTS_DIR / f"{kind}-{encoder}.npz"


@lru_cache(maxsize=32)
def load_model(kind: str, encoder: str = "lexical", path: str | None = None) -> LinearTextClassifier:
    """A cached classifier: ``path`` if given, else the shipped default for (kind, encoder)."""
    if encoder not in ENCODERS:
        raise ConfigError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")
    target = Path(path) if path else default_weights_path(kind, encoder)
    if not target.exists():
        raise ModelNotFoundError(
            f"no weights for metric model {kind!r} ({encoder}) at {target}",
            hint="rebuild with: python -m harness.metrics train-defaults --data ../shared/data",
        )
    return LinearTextClassifier.load(target)


# --- training ------------------------------------------------------------------------------------


@dataclass
class Example:
    text: str
    label: str
    group: str = ""
    context: str | None = None


def fit_classifier(
    kind: str,
    examples: Sequence[Example],
    encoder: str = "lexical",
    C: float | None = None,
    dim: int = HASH_DIM,
    piece_vectors: bool | None = None,
) -> LinearTextClassifier:
    """Fit balanced multinomial logistic regression; returns numpy weights (sklearn only at training).

    ``piece_vectors`` (default: the kinds in ``TOKEN_VECTOR_KINDS``): also read the idf-weighted mean of
    static MiniLM word-piece vectors, folded into per-piece weights after the fit (harness.metrics.token_vectors).
    """
    from sklearn.linear_model import LogisticRegression

    if len({e.label for e in examples}) < 2:
        raise ConfigError(f"training {kind!r} needs at least two distinct labels")
    texts = [e.text for e in examples]
    X = featurize(texts, encoder, [e.context for e in examples], dim)
    use_pieces = (kind, encoder) in TOKEN_VECTOR_KINDS if piece_vectors is None else piece_vectors
    idf = pieces = None
    if use_pieces:
        from scipy.sparse import csr_matrix, hstack

        from harness.metrics import token_vectors as tv

        idf, pieces = tv.document_idf(texts), tv.describe(f"{len(texts)} training texts")
        X = hstack([X, csr_matrix(tv.dense_features(texts, idf))]).tocsr()
    y = np.array([e.label for e in examples])
    c = C if C is not None else DEFAULT_C.get((kind, encoder), 1.0)
    # newton-cg reaches the same optimum as lbfgs here (same CV figures) in a few seconds instead of minutes.
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", solver="newton-cg")
    model.fit(X, y)
    coef = model.coef_.astype(np.float32)
    if idf is not None:
        from harness.metrics.token_vectors import fold_trailing_dense

        coef = fold_trailing_dense(coef)
    return LinearTextClassifier(
        kind=kind,
        encoder=encoder,
        classes=tuple(str(c) for c in model.classes_),
        coef=coef,
        intercept=model.intercept_.astype(np.float32),
        dim=dim,
        piece_idf=idf,
        meta={
            "kind": kind,
            "encoder": encoder,
            "C": c,
            "piece_vectors": pieces,
            "solver": "newton-cg, class_weight=balanced",
            "uses_context": any(e.context for e in examples),
            "n_examples": len(examples),
            "label_counts": {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)},
        },
    )


def cross_validate(
    kind: str,
    examples: Sequence[Example],
    encoder: str = "lexical",
    folds: int = 5,
    C: float | None = None,
    train_mask: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Grouped k-fold CV (groups = transcripts) -> out-of-fold predictions and agreement figures.

    ``train_mask`` drops examples from the training folds only (used to keep one annotator's
    degenerate open/closed labels out of training while still scoring them).
    """
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
    from sklearn.model_selection import GroupKFold

    groups = np.array([e.group or str(i) for i, e in enumerate(examples)])
    y = np.array([e.label for e in examples])
    pred = np.empty(len(examples), dtype=object)
    n_folds = min(folds, len(set(groups)))
    for train_idx, test_idx in GroupKFold(n_folds).split(y, y, groups):
        train = [examples[i] for i in train_idx if train_mask is None or train_mask[i]]
        model = fit_classifier(kind, train, encoder, C)
        pred[test_idx] = model.predict([examples[i].text for i in test_idx], [examples[i].context for i in test_idx])
    labels = sorted(set(y))
    per_class = f1_score(y, pred.astype(str), labels=labels, average=None)
    return {
        "n": len(examples),
        "folds": n_folds,
        "grouped_by": "transcript",
        "macro_f1": round(float(f1_score(y, pred.astype(str), average="macro")), 4),
        "accuracy": round(float(accuracy_score(y, pred.astype(str))), 4),
        "kappa": round(float(cohen_kappa_score(y, pred.astype(str))), 4),
        "per_class_f1": {lab: round(float(f), 4) for lab, f in zip(labels, per_class, strict=True)},
        "predictions": pred.astype(str).tolist(),
    }


def read_labelled_jsonl(path: Path) -> list[Example]:
    """User file format: one JSON object per line with ``text`` and ``label`` (+ optional ``group``, ``context``)."""
    examples: list[Example] = []
    for lineno, obj in iter_jsonl(path):
        if not isinstance(obj.get("text"), str) or obj.get("label") in (None, ""):
            raise ConfigError(
                f"{path}:{lineno}: each line needs a string 'text' and a 'label'",
                hint='e.g. {"text": "What brings you here today?", "label": "open", "group": "session-1"}',
            )
        examples.append(Example(obj["text"], str(obj["label"]), str(obj.get("group", "")), obj.get("context")))
    if not examples:
        raise ConfigError(f"{path}: no labelled examples")
    return examples


# --- AnnoMI loaders (read-only use of ../shared/data; nothing from it is stored in the repo) ----------

ANNOMI_DEGENERATE_QUESTION_ANNOTATORS = frozenset({3})  # labels ~98% of questions 'open'; see docs/metrics.md
# Kinds trained with the client's previous turn as context. Reflection subtype: small gain in grouped CV and
# on held-out transcripts. Behaviour: +0.004 macro-F1 in grouped CV but -0.015 on 16 held-out transcripts, and
# open/closed lost in CV, so both read the text alone (docs/metrics.md, bench/mi_context_holdout.py).
ANNOMI_CONTEXT_KINDS = frozenset({"mi_reflection"})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def annomi_examples(annomi_dir: Path, kind: str, with_context: bool | None = None) -> list[Example]:
    """Therapist utterances of AnnoMI-dev as examples for an ``mi_*`` kind (group = transcript).

    mi_behaviour uses AnnoMI-simple's main behaviour; the subtypes come from AnnoMI-full
    (majority vote where several annotators coded the utterance). Each example's ``group``
    is ``<transcript_id>`` and the annotator id is appended after a ``|`` for subtypes. ``context`` is
    the client's previous turn when ``with_context`` (default: for the kinds in ``ANNOMI_CONTEXT_KINDS``).
    """
    if with_context is None:
        with_context = kind in ANNOMI_CONTEXT_KINDS
    import pandas as pd

    if kind == "mi_behaviour":
        df = pd.read_csv(annomi_dir / "AnnoMI-simple.csv")
        contexts = _previous_client_turns(df) if with_context else {}
        return [
            Example(str(t), str(b), str(g), contexts.get((g, u)))
            for t, b, g, u in zip(
                df.utterance_text, df.main_therapist_behaviour, df.transcript_id, df.utterance_id, strict=True
            )
            if b in KNOWN_KINDS["mi_behaviour"]
        ]
    column = {"mi_question": "question_subtype", "mi_reflection": "reflection_subtype"}.get(kind)
    if column is None:
        raise ConfigError(f"AnnoMI has no labels for kind {kind!r}")
    full = pd.read_csv(annomi_dir / "AnnoMI-full.csv")
    contexts = (
        _previous_client_turns(full.drop_duplicates(["transcript_id", "utterance_id"]))
        if with_context
        else {}
    )
    df = full[(full.interlocutor == "therapist") & full[column].isin(KNOWN_KINDS[kind])]
    examples = []
    for (tid, uid), grp in df.groupby(["transcript_id", "utterance_id"], sort=True):
        label = grp[column].mode().iloc[0]
        annotator = str(grp.annotator_id.iloc[0]) if len(grp) == 1 else "multi"
        text = str(grp.utterance_text.iloc[0])
        examples.append(Example(text, str(label), f"{tid}|{annotator}", contexts.get((tid, uid))))
    return examples


def _previous_client_turns(df: Any) -> dict[tuple[Any, Any], str]:
    """(transcript_id, utterance_id) of each therapist turn -> the client's last turn before it (the context)."""
    out: dict[tuple[Any, Any], str] = {}
    for tid, grp in df.sort_values(["transcript_id", "utterance_id"]).groupby("transcript_id", sort=False):
        said: str | None = None
        for uid, who, text in zip(grp.utterance_id, grp.interlocutor, grp.utterance_text, strict=True):
            if who == "client":
                said = str(text)
            elif said is not None:
                out[(tid, uid)] = said
    return out


def _annomi_group(example: Example) -> str:
    return example.group.split("|")[0]


def _keep_for_training(kind: str) -> Any:
    if kind != "mi_question":
        return None
    return lambda e: e.group.split("|")[-1] not in {str(a) for a in ANNOMI_DEGENERATE_QUESTION_ANNOTATORS}


def train_metric_model(
    kind: str, path: Path | str, *, encoder: str = "lexical", out: Path | str | None = None, C: float | None = None
) -> Path:
    """Train a metric classifier from a labelled file and save it; returns the weights path.

    ``path`` is a JSONL file (``text``, ``label``, optional ``group``/``context``) or, for the
    ``mi_*`` kinds, an AnnoMI folder holding AnnoMI-simple.csv / AnnoMI-full.csv. Default output:
    ``$HARNESS_HOME/metric_models/<kind>-<encoder>.npz``. Point a metric at the result with its
    ``models`` parameter (``mi_codes: {models: {mi_behaviour: <path>}}``, same for ``empathy``).
    """
    source = Path(path)
    if kind.startswith("empathy_"):
        raise ConfigError(
            f"{kind}: the empathy heads read (seeker, response) pairs",
            hint="train them with: harness train-metric empathy --data <folder with EPITOME-format CSVs>",
        )
    if source.is_dir():
        if not kind.startswith("mi_"):
            raise ConfigError(f"{source}: a folder is only understood for mi_* kinds (AnnoMI); give a JSONL file")
        examples = annomi_examples(source, kind)
        keep = _keep_for_training(kind)
        if keep is not None:
            examples = [e for e in examples if keep(e)]
        data_files = [source / "AnnoMI-simple.csv" if kind == "mi_behaviour" else source / "AnnoMI-full.csv"]
    elif source.exists():
        examples = read_labelled_jsonl(source)
        data_files = [source]
    else:
        raise ConfigError(f"training data not found: {source}")
    model = fit_classifier(kind, examples, encoder, C)
    model.meta.update(
        {
            "trained_on": [{"file": f.name, "sha256": _sha256(f)} for f in data_files],
            "trained": date.today().isoformat(),
        }
    )
    if out is None:
        from harness.paths import harness_home

        out = harness_home() / "metric_models" / f"{kind}-{encoder}.npz"
    target = Path(out)
    model.save(target)
    load_model.cache_clear()
    return target


def train_default_weights(
    data_dir: Path, encoders: Sequence[str] = ENCODERS, with_cv: bool = True, out_dir: Path | None = None
) -> list[Path]:
    """Rebuild the shipped weights from ``<data_dir>/annomi-dev`` (or an AnnoMI folder itself) with provenance + CV."""
    annomi = data_dir if (data_dir / "AnnoMI-simple.csv").exists() else data_dir / "annomi-dev"
    if not (annomi / "AnnoMI-simple.csv").exists():
        raise ConfigError(f"AnnoMI-dev not found under {data_dir}", hint="pass --data pointing at shared/data")
    written = []
    for encoder in encoders:
        for kind in KNOWN_KINDS:
            examples = annomi_examples(annomi, kind)
            keep = _keep_for_training(kind)
            meta_extra: dict[str, Any] = {}
            if with_cv:
                grouped = [Example(e.text, e.label, _annomi_group(e), e.context) for e in examples]
                mask = None if keep is None else [keep(e) for e in examples]
                cv = cross_validate(kind, grouped, encoder, train_mask=mask)
                cv.pop("predictions")
                meta_extra["grouped_cv"] = cv
            train = [e for e in examples if keep is None or keep(e)]
            model = fit_classifier(kind, train, encoder)
            source = annomi / ("AnnoMI-simple.csv" if kind == "mi_behaviour" else "AnnoMI-full.csv")
            model.meta.update(
                {
                    "trained_on": [
                        {
                            "dataset": "AnnoMI (development portion, 107 transcripts)",
                            "file": source.name,
                            "sha256": _sha256(source),
                            "origin": "github.com/uccollab/AnnoMI@42936645",
                        }
                    ],
                    "licence_note": "AnnoMI states no licence ('publicly and freely available'); only "
                    "coefficients over hash buckets (and, with piece_vectors, per-word-piece weights and word-piece "
                    "idf) are stored here, no text.",
                    "excluded_from_training": "AnnoMI annotator 3 question subtypes (labels ~98% 'open')"
                    if kind == "mi_question"
                    else None,
                    "trained": date.today().isoformat(),
                    "script": "harness train-metric mi --data <shared/data>/annomi-dev "
                    "(or python -m harness.metrics train-defaults --data <shared/data>)",
                    **meta_extra,
                }
            )
            target = default_weights_path(kind, encoder) if out_dir is None else out_dir / f"{kind}-{encoder}.npz"
            written.append(model.save(target))
    load_model.cache_clear()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.metrics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = sub.add_parser("train-defaults", help="rebuild the shipped weights from AnnoMI-dev")
    defaults.add_argument("--data", type=Path, required=True)
    defaults.add_argument("--encoder", choices=ENCODERS, action="append")
    defaults.add_argument("--no-cv", action="store_true")
    train = sub.add_parser("train", help="train one kind from a labelled JSONL file (or AnnoMI folder)")
    train.add_argument("kind")
    train.add_argument("path", type=Path)
    train.add_argument("--encoder", choices=ENCODERS, default="lexical")
    train.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    _limit_threads()
    if args.command == "train-defaults":
        for path in train_default_weights(args.data, args.encoder or ENCODERS, with_cv=not args.no_cv):
            print(path)
    else:
        print(train_metric_model(args.kind, args.path, encoder=args.encoder, out=args.out))
    return 0


def _limit_threads() -> None:
    """Shared 2-core machines: keep torch to one thread in command-line runs."""
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)


if __name__ == "__main__":
    raise SystemExit(main())
