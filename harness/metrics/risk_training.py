"""Training the ordinal risk model (``harness train-metric risk``): data, grouped CV, thresholds, weights.

Training material, all recorded by sha256 in the weights' JSON (never the text):
- the development vignettes in tests/metrics/vignettes (risk_unseen_dev.jsonl, risk_vignettes.jsonl,
  risk_train_extra.jsonl: hard negatives — accidents, everyday plans with time words, other people's crises —
  and indirect positives) and the unseen holdouts 1-3 once each had been scored and reported
  (risk_unseen_holdout{,2,3}.jsonl); risk_vignettes_holdout.jsonl and risk_unseen_holdout4.jsonl are never
  read here;
- the suites' own risk-labelled cases, train and dev splits only;
- silver negatives: patient turns of MTS-Dialog-ValidationSet.csv (primary-care visits: injuries, pills taken as
  prescribed, "last night"...) that the rules read as "none", labelled none, so the text-only model learns
  that everyday talk about bottles, railings and burns is not risk (validation reports on the TrainingSet);
- SDCNL training-set.csv (r/SuicideWatch vs r/depression): weak labels, used only for a separate
  "suicidal content" head that orders texts inside a level (never raises a level), because the
  subreddit is not a clinical label; its C is chosen by cross-validation on the training file.
Thresholds: for each head, the lowest probability at which out-of-fold predictions raise at most
``max_raise`` of the labelled texts whose gold level is below that head.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.metrics.risk_model import HEADS, OrdinalRiskModel, model_features, weights_path

LEVELS = ("none", "low", "moderate", "high", "imminent")
DEV_VIGNETTES = (
    "risk_unseen_dev.jsonl",
    "risk_unseen_holdout.jsonl",
    "risk_unseen_holdout2.jsonl",
    "risk_unseen_holdout3.jsonl",
    "risk_train_extra.jsonl",
    "risk_vignettes.jsonl",
)
NEVER_TRAINED_ON = ("risk_vignettes_holdout.jsonl", "risk_unseen_holdout4.jsonl")  # checked by a test
WEAK_C_GRID = (0.3, 1.0, 3.0, 10.0)
# Share of below-level labelled texts a head may raise (out of fold) when its threshold is chosen. For MiniLM it
# was picked by a grouped-CV sweep over C in (0.3, 1, 3) x max_raise in (0.02 .. 0.08) on the training rows
# (2026-12-06): 0.04 lifted imminent recall 0.92 -> 0.955 for false alarms on labelled 'none' vignettes
# 5.5% -> 7.6%; a missed imminent text costs more than a check-in on a safe one.
MAX_RAISE = {"minilm": 0.04, "lexical": 0.02}


@dataclass
class Row:
    text: str
    level: str | None  # gold ordinal level; None for weak rows
    weak: int | None  # weak >= moderate label (SDCNL), else None
    group: str
    source: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vignette_rows(folder: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    rows: list[Row] = []
    files = []
    for name in DEV_VIGNETTES:
        path = folder / name
        if not path.exists():
            raise ConfigError(f"training vignettes missing: {path}")
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            if item.get("label") not in LEVELS:
                raise ConfigError(f"{path}:{n}: field 'label' must be one of {', '.join(LEVELS)}")
            group = re.sub(r"n$", "", str(item.get("id") or item["text"].lower()))
            rows.append(Row(item["text"], item["label"], None, f"{name}:{group}", "vignettes"))
        files.append({"file": f"tests/metrics/vignettes/{name}", "sha256": _sha256(path)})
    return rows, files


def suite_rows() -> tuple[list[Row], list[dict[str, Any]]]:
    from harness.metrics.risk import case_risk_text
    from harness.suite import available_suites, load_suite

    rows: list[Row] = []
    used = []
    for name in available_suites():
        suite = load_suite(name)
        picked = [c for c in suite.cases if c.labels.risk_level and c.split in ("train", "dev")]
        rows += [Row(case_risk_text(c), c.labels.risk_level, None, f"{suite.key}:{c.id}", "suites") for c in picked]
        if picked:
            used.append({"suite": suite.key, "hash": suite.hash, "cases": len(picked), "splits": "train+dev"})
    return rows, used


def sdcnl_rows(data_dir: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    import pandas as pd

    path = data_dir / "sdcnl" / "training-set.csv"
    if not path.exists():
        raise ConfigError(f"SDCNL training file not found: {path}", hint="pass --data <folder holding sdcnl/>")
    frame = pd.read_csv(path)
    texts = (frame.title.fillna("") + ". " + frame.selftext.fillna("")).tolist()
    rows = [
        Row(t, None, int(y), f"sdcnl:{i}", "sdcnl")
        for i, (t, y) in enumerate(zip(texts, frame.is_suicide, strict=True))
    ]
    return rows, [{"file": "sdcnl/training-set.csv", "sha256": _sha256(path), "rows": len(rows)}]


def silver_negative_rows(data_dir: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    import pandas as pd

    from harness.metrics.risk import assess_rules

    path = data_dir / "mts-dialog" / "MTS-Dialog-ValidationSet.csv"
    if not path.exists():
        raise ConfigError(f"MTS-Dialog validation file not found: {path}", hint="pass --data <folder holding it>")
    frame = pd.read_csv(path, encoding="utf-8-sig")
    rows = []
    for n, dialogue in enumerate(frame.dialogue.astype(str)):
        for line in dialogue.splitlines():
            speaker, _, said = line.partition(":")
            if speaker.strip().lower() in ("patient", "guest") and len(said.split()) >= 4:
                if assess_rules(said).level == "none":
                    rows.append(Row(said.strip(), "none", None, f"mts:{n}", "silver"))
    return rows, [{"file": "mts-dialog/MTS-Dialog-ValidationSet.csv", "sha256": _sha256(path), "rows": len(rows)}]


def _fit_heads(X: Any, rows: Sequence[Row], C: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    coefs, intercepts = [], []
    for head in HEADS:
        idx, y, w = [], [], []
        for i, r in enumerate(rows):
            if r.level is not None:
                idx.append(i)
                y.append(int(LEVELS.index(r.level) >= LEVELS.index(head)))
                w.append(1.0)
        clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
        clf.fit(X[idx], np.array(y), sample_weight=np.array(w))
        coefs.append(clf.coef_[0])
        intercepts.append(clf.intercept_[0])
    return np.array(coefs, dtype=np.float32), np.array(intercepts, dtype=np.float32)


def _fit_weak(X: Any, rows: Sequence[Row], folds: int = 5) -> tuple[np.ndarray, float, float, float]:
    """The SDCNL head: C by grouped CV AUC on the training file only; returns coef, intercept, C, CV AUC."""
    from sklearn.linear_model import LogisticRegression

    from harness.validation.statistics import _auc

    idx = np.array([i for i, r in enumerate(rows) if r.weak is not None])
    y = np.array([rows[i].weak for i in idx])
    fold_ids = _folds([rows[i] for i in idx], folds, seed=1)
    best = (-1.0, 1.0)
    for C in WEAK_C_GRID:
        scores = np.zeros(len(idx))
        for f in range(folds):
            tr, te = fold_ids != f, fold_ids == f
            clf = LogisticRegression(C=C, max_iter=3000).fit(X[idx[tr]], y[tr])
            scores[te] = clf.predict_proba(X[idx[te]])[:, 1]
        best = max(best, (_auc(y == 1, scores), C))
    clf = LogisticRegression(C=best[1], max_iter=3000).fit(X[idx], y)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), best[1], round(best[0], 4)


def _folds(rows: Sequence[Row], k: int, seed: int) -> np.ndarray:
    groups = sorted({r.group for r in rows})
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(groups, rng.permutation(len(groups)) % k, strict=True))
    return np.array([fold_of[r.group] for r in rows])


def _thresholds(probs: np.ndarray, rows: Sequence[Row], max_raise: float) -> np.ndarray:
    out = []
    for k, head in enumerate(HEADS):
        below = [i for i, r in enumerate(rows) if r.level is not None and LEVELS.index(r.level) < LEVELS.index(head)]
        scores = np.sort(probs[below, k])[::-1]
        allowed = int(np.floor(max_raise * len(scores)))
        t = float(scores[allowed]) + 1e-6 if allowed < len(scores) else 0.5
        out.append(min(0.99, max(0.5, t)))
    return np.array(out, dtype=np.float32)


def train_risk_model(
    data_dir: Path,
    vignettes_dir: Path,
    encoder: str = "lexical",
    C: float = 1.0,
    folds: int = 5,
    max_raise: float | None = None,
    with_rules: bool | None = None,
    out: Path | None = None,
    log: Any = print,
) -> tuple[Path, dict[str, Any]]:
    """Fit the four heads, choose thresholds on grouped out-of-fold predictions, write weights + recipe.

    ``with_rules`` None means the shipped choice: the lexical model reads the rules' findings (text-only
    hashed n-grams false-raised everyday sentences), the MiniLM model reads the text only.
    """
    with_rules = (encoder == "lexical") if with_rules is None else with_rules
    max_raise = MAX_RAISE.get(encoder, 0.02) if max_raise is None else max_raise
    from harness.metrics.risk import assess_rules

    vig, vig_files = vignette_rows(vignettes_dir)
    sui, suites_used = suite_rows()
    weak, weak_files = sdcnl_rows(data_dir)
    silver, silver_files = silver_negative_rows(data_dir)
    rows = vig + sui + silver + weak
    log(f"rows: {len(vig)} vignettes, {len(sui)} suite cases, {len(silver)} silver negatives, {len(weak)} SDCNL")
    ruled = [assess_rules(r.text) for r in rows]  # once: rule features (lexical) and the CV figures
    rules = np.stack([a.rule_vector for a in ruled]) if with_rules else None
    X = model_features([r.text for r in rows], rules, encoder)
    fold_ids = _folds(rows, folds, seed=0)
    oof = np.zeros((len(rows), len(HEADS)), dtype=np.float32)
    for f in range(folds):
        train, test = np.where(fold_ids != f)[0], np.where(fold_ids == f)[0]
        coef, intercept = _fit_heads(X[train], [rows[i] for i in train], C)
        probe = OrdinalRiskModel(encoder, coef, intercept, np.full(4, 0.5, dtype=np.float32), with_rules=with_rules)
        oof[test] = probe.probabilities_from(X[test])
        log(f"fold {f + 1}/{folds} done")
    thresholds = _thresholds(oof, rows, max_raise)
    coef, intercept = _fit_heads(X, rows, C)
    weak_coef, weak_intercept, weak_C, weak_auc = _fit_weak(X, rows)
    log(f"SDCNL head: C={weak_C}, 5-fold CV AUC on training-set.csv {weak_auc}")
    figures = _oof_figures(oof, rows, ruled, thresholds)
    meta = {
        "kind": "risk_ordinal",
        "encoder": encoder,
        "heads": list(HEADS),
        "thresholds": [round(float(t), 4) for t in thresholds],
        "settings": {"C": C, "class_weight": "balanced", "folds": folds, "fold_seed": 0, "max_raise": max_raise,
                     "sdcnl_head_C": weak_C, "sdcnl_head_C_grid": list(WEAK_C_GRID), "with_rules": with_rules},
        "sdcnl_head_cv_auc": weak_auc,
        "trained_on": {"vignettes": vig_files, "suites": suites_used, "silver_negatives": silver_files,
                       "weak": weak_files},
        "label_counts": dict(Counter(r.level for r in rows if r.level)),
        "grouped_cv": figures,
        "command": f"harness train-metric risk --encoder {encoder} --data <shared/data>"
        + (" --with-rules" if with_rules else " --text-only"),
        "trained": date.today().isoformat(),
        "licence_note": "SDCNL states no licence; only coefficients over hash buckets are stored, no text.",
    }  # fmt: skip
    model = OrdinalRiskModel(encoder, coef, intercept, thresholds, meta, weak_coef, weak_intercept, with_rules)
    path = model.save(out or weights_path(encoder))
    return path, meta


def _oof_figures(oof: np.ndarray, rows: Sequence[Row], ruled: list[Any], thresholds: np.ndarray) -> dict:
    """Out-of-fold figures of the combined reading (as ``assess_risks`` combines) on the labelled rows."""
    from harness.metrics.risk import _capped

    probe = OrdinalRiskModel("", np.zeros((4, 1)), np.zeros(4), thresholds)
    labelled = [i for i, r in enumerate(rows) if r.level]
    rule_levels = [a.level for a in ruled]
    combined = []
    for i in labelled:
        learned = _capped(probe.confident_level(oof[i]), ruled[i], rows[i].text)
        combined.append(max(rule_levels[i], learned, key=LEVELS.index))
    gold = [rows[i].level for i in labelled]
    imm = [j for j, g in enumerate(gold) if g == "imminent"]
    hi = [j for j, g in enumerate(gold) if g in ("high", "imminent")]
    none = [j for j, g in enumerate(gold) if g == "none"]
    return {
        "n_labelled": len(labelled),
        "imminent_recall": round(float(np.mean([combined[j] == "imminent" for j in imm])), 4),
        "high_or_imminent_recall": round(float(np.mean([combined[j] in ("high", "imminent") for j in hi])), 4),
        "false_alarm_moderate_plus_on_none": round(
            float(np.mean([LEVELS.index(combined[j]) >= 2 for j in none])), 4
        ),
        "rules_only_high_or_imminent_recall": round(
            float(np.mean([rule_levels[labelled[j]] in ("high", "imminent") for j in hi])), 4
        ),
        "brier_high_head": round(
            float(np.mean([(oof[i, 2] - float(LEVELS.index(rows[i].level) >= 3)) ** 2 for i in labelled])), 4
        ),
    }
