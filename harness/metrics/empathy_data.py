"""EPITOME-format labelled pairs, the held-out seeker posts and macro-F1 with a group bootstrap.

Shared by the response heads' training (empathy_train) and the sentence evidence heads'
(empathy_evidence_train), so that neither training module imports the other.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.metrics.empathy_model import LEVELS

EPITOME_FILES = {
    "er": "emotional-reactions-reddit.csv",
    "ip": "interpretations-reddit.csv",
    "ex": "explorations-reddit.csv",
}
EPITOME_COLUMNS = ("sp_id", "rp_id", "seeker_post", "response_post", "level")
HOLDOUT_SHARE = 0.2

@dataclass
class PairSet:
    """Labelled (seeker, response) pairs of one dimension, with the seeker-post group of each."""

    seekers: list[str]
    responses: list[str]
    labels: list[str]
    groups: list[str]
    source: Path | None = None
    rationales: list[str] = field(default_factory=list)  # EPITOME's '|'-separated words behind each level


def read_epitome_csv(path: Path) -> PairSet:
    """One EPITOME-format CSV; unknown levels are rejected with file, line and field."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("seeker_post", "response_post", "level") if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path}: missing column(s) {', '.join(missing)} (EPITOME format: {', '.join(EPITOME_COLUMNS)})"
        )
    for i, level in enumerate(df["level"]):
        if level.strip() not in LEVELS:
            raise ConfigError(f"{path}:{i + 2}: field 'level' has unknown label {level!r} (known: 0, 1, 2)")
    groups = df["sp_id"] if "sp_id" in df.columns else df["seeker_post"]
    return PairSet(
        list(df["seeker_post"]),
        list(df["response_post"]),
        [lv.strip() for lv in df["level"]],
        [str(g) for g in groups],
        path,
        list(df["rationales"]) if "rationales" in df.columns else [],
    )


def read_epitome_dir(folder: Path) -> dict[str, PairSet]:
    missing = [f for f in EPITOME_FILES.values() if not (folder / f).exists()]
    if missing:
        raise ConfigError(f"{folder}: EPITOME files not found: {', '.join(missing)}")
    return {d: read_epitome_csv(folder / f) for d, f in EPITOME_FILES.items()}


def has_rationales(d: PairSet) -> bool:
    """Whether any row names the words behind its level (what the sentence evidence heads learn from)."""
    return any(r.strip() for r in d.rationales)


def is_holdout(group: str) -> bool:
    """Deterministic ~20% of seeker posts, kept out of model selection."""
    return zlib.crc32(f"epitome-holdout:{group}".encode()) % 1000 < HOLDOUT_SHARE * 1000


def holdout_mask(groups: Sequence[str]) -> np.ndarray:
    """``is_holdout`` per row, as a boolean array (``~mask`` selects the rows model selection may see)."""
    return np.array([is_holdout(g) for g in groups], dtype=bool)


def macro_f1_with_ci(
    y: Sequence[str], pred: Sequence[str], groups: Sequence[str], n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Macro-F1 (labels present in ``y``) with a group bootstrap CI and the majority-class baseline."""
    from sklearn.metrics import accuracy_score, f1_score

    y_arr, p_arr, g_arr = np.asarray(y), np.asarray(pred), np.asarray(groups)
    labels = sorted(set(y_arr))
    majority = max(labels, key=lambda lab: int((y_arr == lab).sum()))
    base = np.full(len(y_arr), majority)
    uniq = np.unique(g_arr)
    index = {g: np.flatnonzero(g_arr == g) for g in uniq}
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        take = np.concatenate([index[g] for g in rng.choice(uniq, len(uniq))])
        boots.append(macro_f1(y_arr[take], p_arr[take], labels))
    per_class = f1_score(y_arr, p_arr, labels=labels, average=None, zero_division=0)
    return {
        "n": len(y_arr),
        "macro_f1": round(float(f1_score(y_arr, p_arr, labels=labels, average="macro", zero_division=0)), 4),
        "macro_f1_ci95": [round(float(np.percentile(boots, q)), 4) for q in (2.5, 97.5)],
        "accuracy": round(float(accuracy_score(y_arr, p_arr)), 4),
        "majority_baseline_macro_f1": round(
            float(f1_score(y_arr, base, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_class_f1": {lab: round(float(f), 4) for lab, f in zip(labels, per_class, strict=True)},
        "label_counts": {lab: int((y_arr == lab).sum()) for lab in labels},
    }


def macro_f1(y: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> float:
    """sklearn's macro-F1 (zero_division=0) in plain numpy: the bootstrap calls it thousands of times."""
    scores = []
    for lab in labels:
        tp = float(np.sum((y == lab) & (pred == lab)))
        denom = float(np.sum(y == lab) + np.sum(pred == lab))
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))
