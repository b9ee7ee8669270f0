"""Figures for the risk detector on text it was not tuned on, with bootstrap CIs.

- ``unseen_vignette_figures``: the issue-14 vignettes (dev = the tuning set; holdout = written first
  and not read while tuning): imminent recall, high+imminent recall, false alarms (moderate or higher)
  on texts with no own risk, AUCs, each with a 95% percentile bootstrap CI, and the rules-only figures
  beside them so the learned model's share is visible;
- ``sdcnl_figures``: SDCNL testing-set.csv, r/SuicideWatch vs r/depression (noisy subreddit labels);
- ``stressed_safe_figures``: moderate+ flag rate on CounselChat questions filed under stress,
  anxiety, work, family or relationship topics and under no risk topic (real text, not hand-checked).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError

LEVELS = ("none", "low", "moderate", "high", "imminent")
UNSEEN_FILES = {
    "dev": "risk_unseen_dev.jsonl",
    "holdout": "risk_unseen_holdout.jsonl",
    "holdout2": "risk_unseen_holdout2.jsonl",
    "holdout3": "risk_unseen_holdout3.jsonl",
    "holdout4": "risk_unseen_holdout4.jsonl",
}
_RISK_TOPICS = ("suicid", "self-harm", "self harm", "depression", "grief", "trauma", "substance", "eating", "violence")
_STRESS_TOPICS = (
    "stress", "anxiety", "workplace", "relationship", "parenting", "family", "marriage", "anger", "self-esteem",
    "sleep", "intimacy",
)  # fmt: skip


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from harness.validation.statistics import _auc as auc

    return auc(labels, scores)


def _ci(stat: Callable[[np.ndarray], float], n: int, bootstrap: int, seed: int = 0) -> list[float] | None:
    """95% percentile bootstrap CI of ``stat(indices)``; resamples that leave a statistic undefined are skipped."""
    if bootstrap <= 0 or n == 0:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(bootstrap):
        value = stat(rng.integers(0, n, n))
        if value == value:  # not NaN
            values.append(value)
    if not values:
        return None
    return [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]


def _rate(mask: np.ndarray, hit: np.ndarray) -> Callable[[np.ndarray], float]:
    def stat(idx: np.ndarray) -> float:
        m = mask[idx]
        return float(hit[idx][m].mean()) if m.any() else float("nan")

    return stat


def _auc_stat(labels: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], float]:
    def stat(idx: np.ndarray) -> float:
        y = labels[idx]
        return _auc(y, scores[idx]) if 0 < y.sum() < len(y) else float("nan")

    return stat


def level_figures(gold: Sequence[str], pred: Sequence[str], scores: Sequence[float], bootstrap: int) -> dict:
    """Recall, false alarms and AUCs of one reading (levels + scores) against gold levels, with CIs."""
    g = np.array([LEVELS.index(x) for x in gold])
    p = np.array([LEVELS.index(x) for x in pred])
    s = np.array(scores, dtype=float)
    n = len(g)
    out: dict[str, Any] = {"n": n, "accuracy": round(float(np.mean(g == p)), 4)}
    checks = {
        "imminent_recall": (g == 4, p == 4),
        "high_or_imminent_recall": (g >= 3, p >= 3),
        "false_alarm_moderate_plus_on_none": (g == 0, p >= 2),
    }
    for name, (mask, hit) in checks.items():
        if mask.any():
            out[name] = round(float(hit[mask].mean()), 4)
            out[name + "_ci95"] = _ci(_rate(mask, hit), n, bootstrap)
            out[name + "_n"] = int(mask.sum())
    for name, labels in (("auc_high_or_imminent_vs_lower", g >= 3), ("auc_moderate_plus_vs_lower", g >= 2)):
        if 0 < labels.sum() < n:
            out[name] = round(_auc(labels, s), 4)
            out[name + "_ci95"] = _ci(_auc_stat(labels, s), n, bootstrap)
    return out


_HEADLINE_KEYS = (
    "levels", "within_one_level", "imminent_recall_exact", "imminent_recall_flagged", "false_alarm_rate_on_none",
    "auc_high_or_imminent_vs_lower",
)  # fmt: skip
_PART_NOTES = {
    "dev": "the rules' tuning set and the model's training set (optimistic; grouped-CV figures are in the weights "
    "JSON)",
    "holdout": "written before any change, first scored at commit 29541a8 (imminent 0.68, high+imminent 0.60); "
    "its misses were then read and their classes fixed, so it is no longer unseen",
    "holdout2": "written after the first holdout was opened and before its misses were read; not read while tuning",
    "holdout3": "written by a second author (not the rules' author) while the detector was built, scored once at the "
    "end with both encoders; the choice of default was made on holdout2 before it was scored; training data since "
    "the 2026-12-06 retrain",
    "holdout4": "written by the lead before the 2026-12-06 changes (hard-negative training, accident/attribution "
    "ceilings), committed first, never trained on, scored once at the end",
}


def unseen_vignette_figures(
    folder: Path, parts: Sequence[str] = tuple(UNSEEN_FILES), bootstrap: int = 1000, encoder: str = "lexical"
) -> dict:
    from harness.metrics.risk import assess_risks
    from harness.validation.statistics import risk_figures

    out: dict[str, Any] = {}
    for part in parts:
        path = folder / UNSEEN_FILES[part]
        if not path.exists():
            continue
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        gold = [r["label"] for r in rows]
        assessed = assess_risks([r["text"] for r in rows], encoder)
        combined = level_figures(gold, [a.level for a in assessed], [a.score for a in assessed], bootstrap)
        rules = level_figures(gold, [a.rule_level for a in assessed], [a.score for a in assessed], 0)
        legacy = risk_figures(rows, bootstrap=0) if encoder == "lexical" else {}  # keys the headline table reads
        out[f"risk_unseen_{part}"] = {
            **{k: legacy[k] for k in _HEADLINE_KEYS if k in legacy},
            "auc_ci95": combined.get("auc_high_or_imminent_vs_lower_ci95"),
            "source": ("second author; " if part in ("holdout3", "holdout4") else "issue-14 vignettes, same author as "
                       "the rules; ")
            + _PART_NOTES[part],
            **combined,
            "rules_only": {k: rules[k] for k in rules if not k.endswith(("_ci95", "_n")) and not k.startswith("auc")},
            "raised_by_model": sum(a.source == "model" for a in assessed),
        }
    return out


def sdcnl_figures(data_dir: Path, bootstrap: int = 1000, encoder: str = "lexical") -> dict:
    import pandas as pd

    from harness.metrics.risk import assess_risks

    path = data_dir / "sdcnl" / "testing-set.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path)
    assessed = assess_risks((frame.title.fillna("") + ". " + frame.selftext.fillna("")).tolist(), encoder)
    y = frame.is_suicide.to_numpy() == 1
    out: dict[str, Any] = {"n": len(y), "note": "r/SuicideWatch vs r/depression posts; subreddit labels are noisy"}
    for name, scores in (
        ("auc_score", [a.score for a in assessed]),
        ("auc_suicidal_content_head", [a.probabilities["suicidal_content"] for a in assessed]),
    ):
        s = np.array(scores)
        out[name] = round(_auc(y, s), 4)
        out[name + "_ci95"] = _ci(_auc_stat(y, s), len(y), bootstrap)
    levels = np.array([LEVELS.index(a.level) for a in assessed])
    out["moderate_plus_rate_suicidewatch"] = round(float(np.mean(levels[y] >= 2)), 4)
    out["moderate_plus_rate_depression"] = round(float(np.mean(levels[~y] >= 2)), 4)
    out["flag_rate"] = round(float(np.mean(levels >= 3)), 4)  # high+ over both subreddits, for the headline
    return {"sdcnl_test": out}


def stressed_safe_figures(data_dir: Path, bootstrap: int = 1000, encoder: str = "lexical") -> dict:
    import pandas as pd

    from harness.metrics.risk import assess_risks

    path = data_dir / "counselchat" / "20200325_counsel_chat.csv"
    if not path.exists():
        return {}
    q = pd.read_csv(path).drop_duplicates("questionID")
    topics = q.topic.fillna("").str.lower()
    keep = topics.apply(lambda t: any(s in t for s in _STRESS_TOPICS) and not any(r in t for r in _RISK_TOPICS))
    texts = (q.questionTitle.fillna("") + ". " + q.questionText.fillna(""))[keep].tolist()
    levels = np.array([LEVELS.index(a.level) for a in assess_risks(texts, encoder)])
    hit = levels >= 2
    return {
        "counselchat_stressed_questions": {
            "n": len(texts),
            "note": "questions under stress/anxiety/work/relationship/family topics and no risk topic; not "
            "hand-checked, so a few flagged ones may be real risk",
            "moderate_plus_rate": round(float(hit.mean()), 4),
            "moderate_plus_rate_ci95": _ci(_rate(np.ones(len(hit), bool), hit), len(hit), bootstrap),
            "high_plus_rate": round(float(np.mean(levels >= 3)), 4),
            "flag_rate": round(float(np.mean(levels >= 3)), 4),
        }
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness.risk_validation --encoder minilm --out docs/risk-figures-minilm.json``."""
    import argparse

    from harness.paths import shared_data_dir
    from harness.validation.data import vignettes_dir

    parser = argparse.ArgumentParser(prog="python -m harness.risk_validation", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    parser.add_argument("--encoder", choices=("lexical", "minilm"), default="lexical")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    data = args.data or shared_data_dir()
    out = {
        "risk_vignettes": unseen_vignette_figures(
            _vignettes(vignettes_dir()), bootstrap=args.bootstrap, encoder=args.encoder
        ),
        "risk_real_text": {
            **sdcnl_figures(data, args.bootstrap, args.encoder),
            **stressed_safe_figures(data, args.bootstrap, args.encoder),
        },
        "meta": {"command": f"python -m harness.risk_validation --encoder {args.encoder}"},
    }
    text = json.dumps(out, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


def _vignettes(folder: Path | None) -> Path:
    """The vignettes folder (``harness.validation.data.vignettes_dir``); outside a clone it must be named."""
    if folder is None:
        raise ConfigError("no risk vignettes folder: set HARNESS_VIGNETTES to a folder of risk_vignettes*.jsonl files")
    return folder


if __name__ == "__main__":
    raise SystemExit(main())
