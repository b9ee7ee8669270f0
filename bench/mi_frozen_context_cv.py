"""Frozen MiniLM next to the lexical behaviour features: grouped 5-fold CV on the 75 development transcripts.

    PYTHONPATH=. python bench/mi_frozen_context_cv.py [../shared/data/annomi-dev]

Rows of docs/metrics.md (mi_codes, "Context-reading pair model"): lexical with/without the client-turn
word features, plus MiniLM embeddings of the utterance (t), the client turn (c), their elementwise product
(p) and cosine (k). The 32 held-out transcripts of ``bench/mi_pair_holdout.py`` are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mi_pair_holdout import ANNOMI, held_out_sets

from harness.metrics.models import Example, annomi_examples, embed, hash_features

SETTINGS = [("", 4.0), ("t", 1.0), ("tc", 1.0), ("tcpk", 1.0)]


def matrix(dev: list[Example], client_words: bool, spec: str) -> object:
    texts, said = [e.text for e in dev], [e.context or "" for e in dev]
    parts = [hash_features(texts, said if client_words else None)]
    utterance, client = embed(texts), embed(said)
    client[[not s for s in said]] = 0.0
    blocks = {"t": utterance, "c": client, "p": utterance * client * 4, "k": (utterance * client).sum(1, keepdims=True)}
    parts += [csr_matrix(blocks[b]) for b in spec]
    return hstack(parts).tocsr()


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ANNOMI
    examples = annomi_examples(folder, "mi_behaviour", with_context=True)
    old, new = held_out_sets(examples)
    dev = [e for e in examples if e.group not in old | new]
    y, groups = np.array([e.label for e in dev]), np.array([e.group for e in dev])
    for client_words in (False, True):
        for spec, c in SETTINGS:
            X = matrix(dev, client_words, spec)
            pred = np.empty(len(dev), dtype=object)
            for train, test in GroupKFold(5).split(y, y, groups):
                model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", solver="newton-cg")
                pred[test] = model.fit(X[train], y[train]).predict(X[test])
            score = f1_score(y, pred.astype(str), average="macro")
            print(f"client words {client_words}, MiniLM blocks '{spec or '-'}', C={c}: macro-F1 {score:.4f}")


if __name__ == "__main__":
    main()
