"""Do static MiniLM word-piece vectors lift the EPITOME empathy heads? Grouped CV, held-out posts untouched.

    PYTHONPATH=. python bench/empathy_pieces_cv.py ../shared/data/epitome-dev [--dims er,ip,ex]

For each dimension: the shipped features (hashed pair features + sentence focus block) with the recorded C,
then the same plus the response's idf-weighted mean word-piece vector (x3, as the MI coder), plus the seeker's
too, or plus the seeker-response cosine. Scored by macro-F1 on the posts not held out: the default GroupKFold
split of ``harness train-metric empathy`` and three seeded grouped splits (crc32 of seed:sp_id, 5 folds).
The choice it produced (docs/metrics.md, empathy, session 8): only EX reads the response vectors.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from harness.metrics import token_vectors as tv
from harness.metrics.empathy_data import holdout_mask, read_epitome_dir
from harness.metrics.empathy_model import join_blocks, pair_blocks
from harness.metrics.empathy_train import DEFAULT_C, _focus, grouped_cv_predictions
from harness.metrics.models import HASH_DIM


def seeded_cv(X: object, y: list[str], groups: list[str], C: float, seed: int) -> float:
    folds = np.array([zlib.crc32(f"{seed}:{g}".encode()) % 5 for g in groups])
    labels, pred = np.asarray(y), np.empty(len(y), dtype=object)
    for k in range(5):
        train, test = folds != k, folds == k
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X[train], labels[train])
        pred[test] = model.predict(X[test])
    return float(f1_score(labels, pred.astype(str), average="macro"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dims", default="er,ip,ex")
    args = parser.parse_args()
    data, vectors = read_epitome_dir(args.folder), tv.distilled_piece_vectors() * tv.TOKEN_VECTOR_SCALE
    for dim in args.dims.split(","):
        d = data[dim]
        dev = np.flatnonzero(~holdout_mask(d.groups))
        X = join_blocks(pair_blocks(d.seekers, d.responses, "lexical", HASH_DIM), _focus(dim, d, 5)[0])
        idf = tv.document_idf([d.responses[i] for i in dev])
        R = np.asarray(tv.piece_distribution(d.responses, idf) @ vectors)
        S = np.asarray(tv.piece_distribution([s or "" for s in d.seekers], idf) @ vectors)
        cos = (R * S).sum(1) / (np.linalg.norm(R, axis=1) * np.linalg.norm(S, axis=1) + 1e-9)
        variants = {
            "shipped features": X,
            "+ response vectors": hstack([X, csr_matrix(R)]).tocsr(),
            "+ response and seeker vectors": hstack([X, csr_matrix(R), csr_matrix(S)]).tocsr(),
            "+ seeker-response cosine": hstack([X, csr_matrix(np.stack([cos, cos**2], 1) * 3)]).tocsr(),
        }
        y, g = [d.labels[i] for i in dev], [d.groups[i] for i in dev]
        for name, Xv in variants.items():
            default = f1_score(y, grouped_cv_predictions(Xv[dev], y, g, DEFAULT_C[dim], 5, offsets=False),
                               average="macro")
            seeded = [seeded_cv(Xv[dev], y, g, DEFAULT_C[dim], s) for s in (1, 2, 3)]
            print(f"{dim} {name:32} default split {default:.4f}  seeded {np.mean(seeded):.4f} "
                  f"({', '.join(f'{s:.4f}' for s in seeded)})", flush=True)


if __name__ == "__main__":
    main()
