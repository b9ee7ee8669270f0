"""Train and cross-validate the EPITOME empathy heads (``harness train-metric empathy``).

Protocol (why): EPITOME responses to the same seeker post are near-duplicates in topic, so every
split is grouped by seeker post (``sp_id``). A fixed share of seeker posts (``HOLDOUT_SHARE``, chosen
by a seeded hash of ``sp_id``) is held out from model selection: settings are chosen by grouped CV
on the rest, the held-out part is scored once with those settings, then the shipped heads are
refitted on everything. Figures: macro-F1 with a bootstrap 95% CI (resampling seeker posts) next
to the majority-class baseline, per dimension.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.metrics.empathy_data import (
    HOLDOUT_SHARE,
    PairSet,
    has_rationales,
    holdout_mask,
    macro_f1,
    macro_f1_with_ci,
    read_epitome_dir,
)
from harness.metrics.empathy_model import DIMENSIONS, FEATURE_SET, join_blocks, pair_blocks
from harness.metrics.models import HASH_DIM, WEIGHTS_DIR, LinearTextClassifier, load_model

C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
# Chosen by the C_GRID search (grouped CV on the non-held-out posts of EPITOME-dev, lexical features) of
# the previous training; ``train_empathy(grid=C_GRID)`` searches again (six times the fits).
DEFAULT_C: dict[str, float] = {"er": 4.0, "ip": 1.0, "ex": 0.25}
# Optional per-level offsets added to the heads' log-probabilities, chosen to maximise macro-F1 on
# out-of-fold predictions of the training rows only (nested inside every CV fold), for the rare middle
# levels (IP level 1 is 3% of EPITOME). Tried 2026-12-06 and not adopted: grouped CV ER 0.714 -> 0.712,
# IP 0.551 -> 0.561, EX 0.675 -> 0.664 (mean 0.6465 -> 0.6455), held-out IP 0.529 -> 0.526; so the
# shipped heads use none (``level_offsets=False``, the default).
OFFSET_GRID = tuple(float(x) for x in np.arange(-2.0, 2.01, 0.25))
# Heads that also read static MiniLM word-piece vectors of the response (harness.metrics.token_vectors), folded
# into per-piece weights after the fit. Chosen 2026-12-06 by grouped CV on the posts not held out, three seeded
# fold splits: EX 0.680 -> 0.704 (every split up), ER -0.002, IP -0.009, so only EX reads them (docs/metrics.md).
PIECE_VECTOR_DIMS = frozenset({"ex"})


def fit_head(dim: str, X: Any, y: Sequence[str], C: float, encoder: str, feature_dim: int) -> LinearTextClassifier:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    model.fit(X, np.asarray(y))
    return LinearTextClassifier(
        kind=f"empathy_{dim}",
        encoder=encoder,
        classes=tuple(str(c) for c in model.classes_),
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
        dim=feature_dim,
        meta={"kind": f"empathy_{dim}", "encoder": encoder, "C": C, "features": FEATURE_SET},
    )


def _logistic(C: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced")


def oof_log_proba(X: Any, y: np.ndarray, groups: np.ndarray, C: float, folds: int) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold log-probabilities (folds grouped by seeker post) and the class order."""
    from sklearn.model_selection import GroupKFold

    classes = sorted(set(y.tolist()))
    out = np.zeros((len(y), len(classes)))
    for train_idx, test_idx in GroupKFold(folds).split(X, y, groups):
        model = _logistic(C).fit(X[train_idx], y[train_idx])
        cols = [classes.index(str(c)) for c in model.classes_]
        out[np.ix_(test_idx, cols)] = model.predict_log_proba(X[test_idx])
        missing = [i for i in range(len(classes)) if i not in cols]
        out[np.ix_(test_idx, missing)] = -50.0  # a level absent from a training fold is never predicted
    return out, classes


def choose_offsets(log_proba: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Offsets (first level fixed at 0) maximising macro-F1 of ``argmax(log_proba + offsets)`` on ``y``."""
    labels = np.asarray(classes)
    best, best_score = np.zeros(len(classes)), -1.0
    grids = [OFFSET_GRID] * (len(classes) - 1)
    for combo in np.array(np.meshgrid(*grids)).reshape(len(grids), -1).T if grids else []:
        offsets = np.concatenate([[0.0], combo])
        score = macro_f1(y, labels[np.argmax(log_proba + offsets, axis=1)], list(classes))
        if score > best_score + 1e-9:
            best, best_score = offsets, score
    return best


def grouped_cv_predictions(
    X: Any, y: Sequence[str], groups: Sequence[str], C: float, folds: int = 5, offsets: bool = True
) -> list[str]:
    """Out-of-fold predictions, folds grouped by seeker post; offsets chosen inside each training fold."""
    from sklearn.model_selection import GroupKFold

    y_arr, g_arr = np.asarray(y), np.asarray(groups)
    pred = np.empty(len(y_arr), dtype=object)
    for train_idx, test_idx in GroupKFold(folds).split(X, y_arr, g_arr):
        model = _logistic(C).fit(X[train_idx], y_arr[train_idx])
        classes = [str(c) for c in model.classes_]
        shift = np.zeros(len(classes))
        if offsets:
            inner, inner_classes = oof_log_proba(X[train_idx], y_arr[train_idx], g_arr[train_idx], C, folds - 1)
            if inner_classes == classes:
                shift = choose_offsets(inner, y_arr[train_idx], classes)
        pred[test_idx] = np.asarray(classes)[np.argmax(model.predict_log_proba(X[test_idx]) + shift, axis=1)]
    return [str(p) for p in pred]


def fit_head_with_offsets(
    dim: str, X: Any, y: Sequence[str], groups: Sequence[str], C: float, encoder: str, feature_dim: int, folds: int
) -> LinearTextClassifier:
    """``fit_head`` whose intercept carries offsets chosen on out-of-fold predictions of the same rows."""
    y_arr = np.asarray(y)
    head = fit_head(dim, X, y_arr, C, encoder, feature_dim)
    oof, classes = oof_log_proba(X, y_arr, np.asarray(groups), C, folds)
    if list(head.classes) == classes:
        shift = choose_offsets(oof, y_arr, classes)
        # argmax(log p + shift) == argmax(decision + shift): the offsets fold into the intercept.
        head.intercept = (head.intercept + shift).astype(np.float32)
        head.meta["level_offsets"] = {c: float(o) for c, o in zip(classes, shift, strict=True)}
    return head


def _select_c(X: Any, data: PairSet, rows: np.ndarray, grid: Sequence[float], folds: int) -> tuple[float, dict]:
    y = [data.labels[i] for i in rows]
    g = [data.groups[i] for i in rows]
    scores = {}
    for c in grid:
        from sklearn.metrics import f1_score

        pred = grouped_cv_predictions(X[rows], y, g, c, folds, offsets=False)  # offsets: once C is chosen
        scores[c] = round(float(f1_score(y, pred, average="macro")), 4)
    best = max(scores, key=lambda c: scores[c])
    return best, {str(c): s for c, s in scores.items()}


def evaluate_dimension(
    dim: str, X: Any, d: PairSet, C: float, encoder: str, folds: int = 5, level_offsets: bool = False
) -> dict[str, Any]:
    """Grouped CV on the posts not held out, then one fit on them scored on the held-out posts; rules beside."""
    from harness.metrics.empathy import score_empathy

    hold = holdout_mask(d.groups)
    out: dict[str, Any] = {}
    for name, rows in (("dev", np.flatnonzero(~hold)), ("held_out", np.flatnonzero(hold))):
        y = [d.labels[i] for i in rows]
        g = [d.groups[i] for i in rows]
        if name == "dev":
            pred = grouped_cv_predictions(X[rows], y, g, C, folds, offsets=level_offsets)
            out["grouped_cv_dev"] = macro_f1_with_ci(y, pred, g)
        else:
            dev_rows = np.flatnonzero(~hold)
            dev_y = [d.labels[i] for i in dev_rows]
            head = (fit_head_with_offsets(dim, X[dev_rows], dev_y, [d.groups[i] for i in dev_rows], C, encoder,
                                          X.shape[1], folds)
                    if level_offsets else fit_head(dim, X[dev_rows], dev_y, C, encoder, X.shape[1]))
            out["held_out_seeker_posts"] = macro_f1_with_ci(y, head.predict_from(X[rows]), g)
        rules = [str(score_empathy(d.seekers[i], d.responses[i])[dim]) for i in rows]
        out[f"rules_{name}"] = macro_f1_with_ci(y, rules, g, n_boot=200)
    return out


def epitome_figures(folder: Path, encoder: str = "lexical", folds: int = 5) -> dict[str, Any]:
    """Reproduce the shipped heads' figures: the same protocol with each head's recorded C (no grid search)."""
    data = read_epitome_dir(folder)
    out: dict[str, Any] = {"protocol": f"GroupKFold({folds}) by sp_id; held-out share {HOLDOUT_SHARE} of sp_id"}
    for dim in DIMENSIONS:
        head = load_model(f"empathy_{dim}", encoder)
        C = float(head.meta.get("C", 1.0))
        offsets = "level_offsets" in head.meta
        d = data[dim]
        X = join_blocks(pair_blocks(d.seekers, d.responses, encoder, head.dim), _focus(dim, d, folds)[0])
        if head.piece_idf is not None:  # the same block as training: idf from the posts not held out
            X, _ = _with_piece_vectors(True, X, d, np.flatnonzero(~holdout_mask(d.groups)))
        out[dim] = {"C": C, "data": {"file": d.source.name, "sha256": _sha256(d.source)} if d.source else None,
                    **evaluate_dimension(dim, X, d, C, encoder, folds, offsets)}  # fmt: skip
    for part in ("grouped_cv_dev", "held_out_seeker_posts"):
        out[f"mean_macro_f1_{part}"] = round(float(np.mean([out[d][part]["macro_f1"] for d in DIMENSIONS])), 4)
    if all(has_rationales(data[d]) for d in DIMENSIONS):
        from harness.metrics.empathy_evidence_train import evaluate_evidence

        out["evidence"] = {d: evaluate_evidence(d, data[d], folds) for d in DIMENSIONS}
    return out


def _focus(dim: str, d: PairSet, folds: int) -> tuple[Any, Any]:
    """The sentence focus blocks (evaluation, final fit) of ``d``; they need EPITOME's rationales."""
    from harness.metrics.empathy_evidence_train import focus_for_training

    if not has_rationales(d):
        raise ConfigError(f"{d.source}: no rationales; the empathy heads' sentence focus is learned from them "
                          "(EPITOME's 'rationales' column)")
    return focus_for_training(dim, d, folds)


def _piece_block(responses: Sequence[str], idf: np.ndarray) -> Any:
    """The responses' idf-weighted mean of static MiniLM word-piece vectors (dense, scaled as for MI)."""
    from scipy.sparse import csr_matrix

    from harness.metrics.token_vectors import dense_features

    return csr_matrix(dense_features(list(responses), idf))


def _with_piece_vectors(use: bool, X: Any, d: PairSet, rows: np.ndarray) -> tuple[Any, np.ndarray | None]:
    """``X`` with the word-piece vector block when ``use`` (idf from the responses of ``rows``), and that idf."""
    if not use:
        return X, None
    from scipy.sparse import hstack

    from harness.metrics.token_vectors import document_idf

    idf = document_idf([d.responses[i] for i in rows])
    return hstack([X, _piece_block(d.responses, idf)]).tocsr(), idf


def _fold_piece_vectors(head: LinearTextClassifier, idf: np.ndarray | None) -> LinearTextClassifier:
    """Replace the fitted dense word-piece block's weights by per-piece weights (inference needs no vectors)."""
    if idf is None:
        return head
    from harness.metrics import token_vectors as tv

    head.coef = tv.fold_trailing_dense(head.coef)
    head.piece_idf = idf
    head.meta["piece_vectors"] = tv.describe("the training responses")
    return head


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_empathy(
    data: dict[str, PairSet],
    encoder: str = "lexical",
    out_dir: Path = WEIGHTS_DIR,
    grid: Sequence[float] | None = None,
    folds: int = 5,
    log: Any = print,
    level_offsets: bool = False,
) -> dict[str, Any]:
    """Choose C by grouped CV (held-out posts excluded), score the held-out posts, refit on all, save.

    Returns the figures per dimension (also written into each weight file's JSON sidecar).
    """
    report: dict[str, Any] = {}
    for dim in DIMENSIONS:
        d = data[dim]
        blocks = pair_blocks(d.seekers, d.responses, encoder, HASH_DIM)
        focus_eval, focus_final = _focus(dim, d, folds)
        X, X_final = join_blocks(blocks, focus_eval), join_blocks(blocks, focus_final)
        hold = holdout_mask(d.groups)
        pieces = dim in PIECE_VECTOR_DIMS
        X, _ = _with_piece_vectors(pieces, X, d, np.flatnonzero(~hold))  # evaluation: idf without held-out posts
        X_final, idf = _with_piece_vectors(pieces, X_final, d, np.arange(len(d.labels)))
        if grid is None:
            best_c, grid_scores = DEFAULT_C.get(dim, 1.0), "DEFAULT_C (chosen by an earlier C_GRID search)"
        else:
            best_c, grid_scores = _select_c(X, d, np.flatnonzero(~hold), grid, folds)
        evaluated = evaluate_dimension(dim, X, d, best_c, encoder, folds, level_offsets)
        cv, held_out = evaluated["grouped_cv_dev"], evaluated["held_out_seeker_posts"]
        head = (fit_head_with_offsets(dim, X_final, d.labels, d.groups, best_c, encoder, HASH_DIM, folds)
                if level_offsets else fit_head(dim, X_final, d.labels, best_c, encoder, HASH_DIM))
        head = _fold_piece_vectors(head, idf)
        figures = {
            "selection": {"C_grid_grouped_cv_macro_f1": grid_scores, "chosen_C": best_c, "folds": folds,
                          "level_offsets": "chosen inside each training fold on its out-of-fold predictions"
                          if level_offsets else "none"},
            **evaluated,
        }
        head.meta.update(
            {
                "n_examples": len(d.labels),
                "trained_on": [{"file": d.source.name, "sha256": _sha256(d.source)}] if d.source else [],
                "trained": date.today().isoformat(),
                "recipe": f"harness train-metric empathy --data <folder with EPITOME-format CSVs> --encoder {encoder}",
                "protocol": f"GroupKFold({folds}) by sp_id on the posts not held out; held-out share "
                f"{HOLDOUT_SHARE} of sp_id (crc32 'epitome-holdout:<sp_id>'); final fit on all rows",
                "focus_block": "sentence features weighted by the empathy_sent head's P(carries): out-of-fold "
                f"(GroupKFold({folds}) by sp_id) for CV and the final fit; held-out posts from a sentence head "
                "fitted on the posts not held out; at inference the shipped empathy_sent heads",
                "figures": figures,
                "licence_note": "EPITOME (Sharma et al., 2020), research licence; only coefficients over hash "
                "buckets are stored, no text.",
            }
        )
        head.save(out_dir / f"empathy_{dim}-{encoder}.npz")
        log(
            f"empathy_{dim} ({encoder}): C={best_c} CV macro-F1 {cv['macro_f1']} {cv['macro_f1_ci95']} "
            f"(majority {cv['majority_baseline_macro_f1']}); held-out {held_out['macro_f1']} "
            f"{held_out['macro_f1_ci95']}"
        )
        report[dim] = figures
    if all(has_rationales(data[d]) for d in DIMENSIONS):  # the sentence evidence heads need EPITOME's rationales
        from harness.metrics.empathy_evidence_train import train_evidence

        report["evidence"] = train_evidence(data, out_dir, folds, log)
    load_model.cache_clear()
    return report
