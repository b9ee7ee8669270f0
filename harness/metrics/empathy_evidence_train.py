"""Train and cross-validate the sentence evidence heads (``empathy_evidence``) from EPITOME rationales.

Same protocol as the response heads (``empathy_train``): folds grouped by seeker post, the held-out
seeker posts scored once by a head fitted on the rest, then a final fit on every row. Figures are per
sentence: F1 of "this sentence carries the mechanism" (level > 0) and macro-F1 over the sentence
levels, each beside the rules' own sentence levels on the same sentences.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.metrics.empathy_data import PairSet, holdout_mask, macro_f1_with_ci
from harness.metrics.empathy_evidence import (
    DIMENSIONS,
    SENTENCE_DIM,
    SENTENCE_FEATURES,
    SentenceRows,
    carries_probability,
    focus_features,
    rationale_level,
    split_responses,
)
from harness.metrics.models import WEIGHTS_DIR, LinearTextClassifier

EVIDENCE_C = 1.0  # not searched: the heads only mark evidence, the levels come from the response heads


def sentence_dataset(dim: str, d: PairSet) -> tuple[SentenceRows, np.ndarray, np.ndarray, np.ndarray]:
    """Sentences of the usable rows, their rationale level, seeker-post group and rules' level.

    Rows with a level above 0 but no rationale cannot say which sentence carried it and are left out.
    """
    from harness.metrics.empathy import content_words, sentence_levels

    if len(d.rationales) != len(d.labels):
        raise ConfigError(f"{d.source}: no 'rationales' column (EPITOME format); the evidence heads need it")
    keep = [i for i, (lv, r) in enumerate(zip(d.labels, d.rationales, strict=True)) if lv == "0" or r.strip()]
    rows = split_responses([d.seekers[i] for i in keep], [d.responses[i] for i in keep])
    source = np.asarray(keep)[rows.owner]
    labels = np.asarray([rationale_level(s.text, d.rationales[i], d.labels[i]) for s, i in zip(rows.spans, source,
                                                                                                strict=True)])
    column = DIMENSIONS.index(dim)
    rules = np.asarray([sentence_levels(s.text, content_words(d.seekers[i] or ""))[column]
                        for s, i in zip(rows.spans, source, strict=True)])
    groups = np.asarray([d.groups[i] for i in source])
    return rows, labels, groups, rules


def fit_sentence_head(dim: str, X: Any, y: np.ndarray, C: float = EVIDENCE_C) -> LinearTextClassifier:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(X, y.astype(str))
    return LinearTextClassifier(
        kind=f"empathy_sent_{dim}",
        encoder="lexical",
        classes=tuple(str(c) for c in model.classes_),
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
        dim=SENTENCE_DIM,
        meta={"kind": f"empathy_sent_{dim}", "encoder": "lexical", "C": C, "features": SENTENCE_FEATURES},
    )


def _sentence_figures(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, rules: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    return {
        "levels": macro_f1_with_ci([str(v) for v in y], [str(v) for v in pred], list(groups), n_boot=300),
        "carries_f1": round(float(f1_score(y > 0, pred > 0)), 4),
        "rules_carries_f1": round(float(f1_score(y > 0, rules > 0)), 4),
        "rules_levels_macro_f1": round(float(f1_score(y, rules, labels=sorted(set(y)), average="macro")), 4),
    }


def evaluate_evidence(dim: str, d: PairSet, folds: int = 5, C: float = EVIDENCE_C) -> dict[str, Any]:
    """Grouped CV over the sentences of the posts not held out; the held-out posts scored once."""
    from sklearn.model_selection import GroupKFold

    rows, y, groups, rules = sentence_dataset(dim, d)
    hold = holdout_mask(groups)
    dev, held = np.flatnonzero(~hold), np.flatnonzero(hold)
    pred = np.zeros(len(dev), dtype=int)
    for train_idx, test_idx in GroupKFold(folds).split(dev, groups=groups[dev]):
        head = fit_sentence_head(dim, rows.X[dev[train_idx]], y[dev[train_idx]], C)
        pred[test_idx] = [int(c) for c in head.predict_from(rows.X[dev[test_idx]])]
    head = fit_sentence_head(dim, rows.X[dev], y[dev], C)
    held_pred = np.asarray([int(c) for c in head.predict_from(rows.X[held])])
    return {
        "unit": "sentence (unique_spans of the response)",
        "grouped_cv_dev": _sentence_figures(y[dev], pred, groups[dev], rules[dev]),
        "held_out_seeker_posts": _sentence_figures(y[held], held_pred, groups[held], rules[held]),
    }


def train_evidence(data: dict[str, PairSet], out_dir: Path = WEIGHTS_DIR, folds: int = 5, log: Any = print) -> dict:
    """Figures (grouped CV, held-out posts), then a head per dimension fitted on every sentence; saved."""
    report: dict[str, Any] = {}
    for dim in DIMENSIONS:
        d = data[dim]
        figures = evaluate_evidence(dim, d, folds)
        rows, y, _, _ = sentence_dataset(dim, d)
        head = fit_sentence_head(dim, rows.X, y)
        head.meta.update({
            "n_sentences": len(y),
            "sentence_label_counts": {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)},
            "trained_on": [{"file": d.source.name, "sha256": hashlib.sha256(d.source.read_bytes()).hexdigest()}]
            if d.source else [],
            "trained": date.today().isoformat(),
            "recipe": "harness train-metric empathy --data <folder with EPITOME-format CSVs incl. rationales>",
            "labels": "a sentence carries the response's level when >= half its words are in the rationale; else 0",
            "figures": figures,
            "licence_note": "EPITOME (Sharma et al., 2020), research licence; only coefficients over hash "
            "buckets are stored, no text.",
        })
        head.save(out_dir / f"empathy_sent_{dim}-lexical.npz")
        cv = figures["grouped_cv_dev"]
        log(f"empathy_sent_{dim}: CV carries-F1 {cv['carries_f1']} (rules {cv['rules_carries_f1']}), "
            f"level macro-F1 {cv['levels']['macro_f1']} {cv['levels']['macro_f1_ci95']}")
        report[dim] = figures
    return report


def focus_for_training(dim: str, d: PairSet, folds: int = 5, C: float = EVIDENCE_C) -> tuple[Any, Any]:
    """The focus blocks of every row of ``d`` for the response heads, without a sentence head ever
    scoring the sentences it was fitted on (out-of-fold, folds grouped by seeker post).

    Returns (for evaluation: posts not held out out-of-fold among themselves, held-out posts from a
    sentence head fitted on all the others; for the final fit: out-of-fold over every row).
    """
    from sklearn.model_selection import GroupKFold

    rows = split_responses(d.seekers, d.responses)
    has = [lv == "0" or bool(r.strip()) for lv, r in zip(d.labels, d.rationales, strict=True)]
    y = np.asarray([rationale_level(s.text, d.rationales[i], d.labels[i]) for s, i in zip(rows.spans, rows.owner,
                                                                                          strict=True)])
    usable = np.asarray([has[i] for i in rows.owner], dtype=bool)
    groups = np.asarray(d.groups)
    hold = holdout_mask(groups)

    def carries_of(train_responses: np.ndarray, test_responses: np.ndarray, out: np.ndarray) -> None:
        fit = np.isin(rows.owner, train_responses) & usable
        score = np.isin(rows.owner, test_responses)
        head = fit_sentence_head(dim, rows.X[fit], y[fit], C)
        out[score] = carries_probability(head, rows.X[score])

    def out_of_fold(responses: np.ndarray, out: np.ndarray) -> None:
        for train_idx, test_idx in GroupKFold(folds).split(responses, groups=groups[responses]):
            carries_of(responses[train_idx], responses[test_idx], out)

    evaluation, final = np.zeros(len(y)), np.zeros(len(y))
    dev, held = np.flatnonzero(~hold), np.flatnonzero(hold)
    out_of_fold(dev, evaluation)
    if len(held):
        carries_of(dev, held, evaluation)
    out_of_fold(np.arange(len(d.labels)), final)
    n = len(d.labels)
    return focus_features(rows, evaluation, n), focus_features(rows, final, n)
