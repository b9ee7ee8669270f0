"""Small statistics for metric validation: classification agreement, correlations, AUC with a CI."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

# --- small statistics helpers ---------------------------------------------------------------------


def _r(x: float) -> float:
    return round(float(x), 4)


def _classification(y: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over gold labels), Cohen's kappa and per-class F1, in plain numpy."""
    y_arr, p_arr = np.asarray(y, dtype=object), np.asarray(pred, dtype=object)
    labels = sorted(set(y) | set(pred))
    f1 = {}
    for lab in labels:
        tp = float(np.sum((y_arr == lab) & (p_arr == lab)))
        denom = float(np.sum(y_arr == lab) + np.sum(p_arr == lab))
        f1[lab] = 2 * tp / denom if denom else 0.0
    accuracy = float(np.mean(y_arr == p_arr)) if len(y_arr) else float("nan")
    expected = sum(float(np.mean(y_arr == lab)) * float(np.mean(p_arr == lab)) for lab in labels)
    kappa = (accuracy - expected) / (1 - expected) if len(set(y)) > 1 and expected < 1 else None
    return {
        "n": len(y),
        "accuracy": _r(accuracy),
        "macro_f1": _r(np.mean([f1[lab] for lab in sorted(set(y))])),
        "kappa": None if kappa is None else _r(kappa),
        "per_class_f1": {lab: _r(v) for lab, v in f1.items()},
    }


def _correlation(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    from scipy.stats import kendalltau, spearmanr

    rho = spearmanr(x, y)
    tau = kendalltau(x, y)
    return {
        "n": len(x),
        "spearman": _r(rho.statistic),
        "spearman_p": float(f"{rho.pvalue:.3g}"),
        "kendall": _r(tau.statistic),
        "kendall_p": float(f"{tau.pvalue:.3g}"),
    }


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC via the Mann-Whitney rank statistic (ties get average ranks); fast enough to bootstrap."""
    from scipy.stats import rankdata

    pos = labels.astype(bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _bootstrap_auc_ci(labels: np.ndarray, scores: np.ndarray, n: int = 1000, seed: int = 0) -> list[float] | None:
    """Percentile 95% CI of the AUC over resampled items (fixed seed)."""
    if n <= 0:
        return None
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n):
        idx = rng.integers(0, len(labels), len(labels))
        value = _auc(labels[idx], scores[idx])
        if not np.isnan(value):
            stats.append(value)
    return [_r(np.percentile(stats, 2.5)), _r(np.percentile(stats, 97.5))]


# --- risk ----------------------------------------------------------------------------------------------------


def risk_figures(rows: Sequence[dict[str, Any]], bootstrap: int = 1000) -> dict[str, Any]:
    """Level agreement, AUC of the score for high/imminent vs lower, imminent recall, false alarms."""
    from harness.metrics.risk import FLAG_LEVELS, LEVELS, assess_risk

    assessed = [assess_risk(r["text"]) for r in rows]
    y = [r["label"] for r in rows]
    pred = [a.level for a in assessed]
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    out: dict[str, Any] = {"levels": _classification(y, pred)}
    out["within_one_level"] = _r(np.mean([abs(order[a] - order[b]) <= 1 for a, b in zip(y, pred, strict=True)]))
    flags = np.array([lvl in FLAG_LEVELS for lvl in y])
    if 0 < flags.sum() < len(flags):
        scores = np.array([a.score for a in assessed])
        out["auc_high_or_imminent_vs_lower"] = _r(_auc(flags, scores))
        out["auc_ci95"] = _bootstrap_auc_ci(flags, scores, bootstrap)
    imminent = [i for i, lvl in enumerate(y) if lvl == "imminent"]
    if imminent:
        out["imminent_recall_exact"] = _r(np.mean([pred[i] == "imminent" for i in imminent]))
        out["imminent_recall_flagged"] = _r(np.mean([pred[i] in FLAG_LEVELS for i in imminent]))
    none = [i for i, lvl in enumerate(y) if lvl == "none"]
    if none:
        out["false_alarm_rate_on_none"] = _r(np.mean([pred[i] in FLAG_LEVELS for i in none]))
        out["any_risk_rate_on_none"] = _r(np.mean([pred[i] != "none" for i in none]))
        groups = Counter(rows[i].get("group", "") for i in none)
        out["none_by_group_correct"] = {
            g: _r(np.mean([pred[i] == "none" for i in none if rows[i].get("group", "") == g])) for g in sorted(groups)
        }
    return out
