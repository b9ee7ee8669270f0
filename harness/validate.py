"""Agreement of the clinical metrics with human labels: the figures docs/metrics.md quotes.

``run_validation(data_dir)`` reads the shared data folder (never copied into the repo) and the
author-written vignettes under tests/metrics/vignettes, and returns one JSON-able dict:

- mi: AnnoMI-dev expert codes, grouped 5-fold CV by transcript (models retrained per fold, so
  no figure is measured on the data a model was trained on); plus inter-annotator context.
- mi_silver: MIBot counsellor sentences (GPT-4o-written) vs their AutoMISC labels (LLM, silver).
- groundedness: MTS-Dialog automatic summaries vs human factuality scores (Spearman, Kendall).
- empathy: author vignettes (macro-F1 per EPITOME dimension) and MIBot client-rated CARE.
- risk: author vignettes (exact/within-one accuracy, AUC, imminent recall, false alarms) and
  flag rates on real help-seeker / patient text that is expected to be (almost) risk-free.

``validate_user_file(kind, path)`` scores any metric against a user's labelled JSONL file
(``{"text": ..., "label": ..., "context"?: ..., "group"?: ...}`` per line).

Run: ``python -m harness.validate --data ../shared/data --out docs/metrics-figures.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.yamlio import iter_jsonl

REPO_ROOT = Path(__file__).resolve().parent.parent
VIGNETTES_DIR = REPO_ROOT / "tests" / "metrics" / "vignettes"
FIGURES_START = "<!-- figures:start -->"
FIGURES_END = "<!-- figures:end -->"


def default_data_dir() -> Path:
    """``$HARNESS_SHARED_DATA`` or ``<repo>/../shared/data`` (see ``harness.paths``)."""
    from harness.paths import shared_data_dir

    return shared_data_dir()


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


def _file_info(path: Path) -> dict[str, Any]:
    import hashlib

    return {"file": str(path.name), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}


# --- MI: AnnoMI expert codes ------------------------------------------------------------------------


def _annomi_inter_annotator(full_csv: Path) -> dict[str, Any]:
    """Each annotator vs the majority of the others, on utterances coded by several annotators."""
    import pandas as pd

    df = pd.read_csv(full_csv)
    df = df[df.interlocutor == "therapist"]
    multi = df.groupby(["transcript_id", "utterance_id"]).filter(lambda g: len(g) > 1)
    out = {}
    for column, values in (
        ("main_therapist_behaviour", ("question", "reflection", "therapist_input", "other")),
        ("question_subtype", ("open", "closed")),
        ("reflection_subtype", ("simple", "complex")),
    ):
        agree = []
        for _, grp in multi.groupby(["transcript_id", "utterance_id"]):
            labels = grp[column][grp[column].isin(values)]
            if len(labels) < 3:
                continue
            for i in range(len(labels)):
                rest = labels.drop(labels.index[i])
                agree.append(labels.iloc[i] == rest.mode().iloc[0])
        out[column] = {"annotator_vs_rest_majority_accuracy": _r(np.mean(agree)), "n_judgements": len(agree)}
    return out


def validate_annomi(annomi_dir: Path, encoders: Sequence[str] = ("lexical",), folds: int = 5) -> dict[str, Any]:
    """Grouped CV on AnnoMI-dev: utterance models alone and the full sentence pipeline (rules + models)."""
    from sklearn.model_selection import GroupKFold

    from harness.metrics.mi import NON_ADHERENT, MICoder, utterance_subtype
    from harness.metrics.models import (
        ANNOMI_DEGENERATE_QUESTION_ANNOTATORS,
        Example,
        annomi_examples,
        cross_validate,
        fit_classifier,
    )

    result: dict[str, Any] = {
        "data": [_file_info(annomi_dir / "AnnoMI-simple.csv"), _file_info(annomi_dir / "AnnoMI-full.csv")],
        "protocol": f"GroupKFold({folds}) by transcript_id; every model refitted on the training folds only",
        "inter_annotator": _annomi_inter_annotator(annomi_dir / "AnnoMI-full.csv"),
    }
    behaviour = annomi_examples(annomi_dir, "mi_behaviour")
    sub: dict[str, list[Example]] = {k: annomi_examples(annomi_dir, k) for k in ("mi_question", "mi_reflection")}
    degenerate = {str(a) for a in ANNOMI_DEGENERATE_QUESTION_ANNOTATORS}

    def annotator(e: Example) -> str:
        return e.group.split("|")[-1]

    for encoder in encoders:
        t0 = time.perf_counter()
        res: dict[str, Any] = {}
        cv = cross_validate("mi_behaviour", behaviour, encoder, folds)
        cv.pop("predictions")
        res["behaviour_utterance_model"] = cv

        # Subtypes: utterance model alone, then the sentence pipeline with the same fold split.
        for kind, name in (("mi_question", "question_open_closed"), ("mi_reflection", "reflection_simple_complex")):
            examples = [Example(e.text, e.label, e.group.split("|")[0]) for e in sub[kind]]
            mask = [annotator(e) not in degenerate for e in sub[kind]] if kind == "mi_question" else None
            cv = cross_validate(kind, examples, encoder, folds, train_mask=mask)
            preds = cv.pop("predictions")
            y = [e.label for e in examples]
            entry: dict[str, Any] = {"utterance_model": cv}
            if kind == "mi_question":
                keep = [i for i, e in enumerate(sub[kind]) if annotator(e) not in degenerate]
                entry["utterance_model_excluding_degenerate_annotator"] = _classification(
                    [y[i] for i in keep], [preds[i] for i in keep]
                )
            res[name] = entry

        # Full pipeline per fold: behaviour + subtype models trained on the training transcripts.
        groups_b = np.array([e.group for e in behaviour])
        transcripts = sorted(set(groups_b))
        splitter = GroupKFold(folds)
        fold_ids = np.zeros(len(transcripts), dtype=int)
        for k, (_, test_idx) in enumerate(splitter.split(transcripts, transcripts, transcripts)):
            fold_ids[test_idx] = k
        fold_of = {t: int(f) for t, f in zip(transcripts, fold_ids, strict=True)}
        pipeline: dict[str, dict[str, list[str]]] = {
            "question_rules": {"y": [], "pred": [], "ann": []},
            "question_model_only": {"y": [], "pred": [], "ann": []},
            "reflection": {"y": [], "pred": [], "ann": []},
            "advice_vs_information": {"y": [], "pred": [], "ann": []},
        }
        for k in range(folds):
            train_b = [e for e in behaviour if fold_of[e.group] != k]
            train_q = [
                e for e in sub["mi_question"] if fold_of[e.group.split("|")[0]] != k and annotator(e) not in degenerate
            ]
            train_r = [e for e in sub["mi_reflection"] if fold_of[e.group.split("|")[0]] != k]
            models = (
                fit_classifier("mi_behaviour", train_b, encoder),
                fit_classifier("mi_question", train_q, encoder),
                fit_classifier("mi_reflection", train_r, encoder),
            )
            for rules, key in ((True, "question_rules"), (False, "question_model_only")):
                coder = MICoder(*models, question_rules=rules)
                test = [e for e in sub["mi_question"] if fold_of[e.group.split("|")[0]] == k]
                coded = coder.code_many([e.text for e in test])
                fallback = models[1].predict([e.text for e in test])
                for e, sentences, fb in zip(test, coded, fallback, strict=True):
                    pipeline[key]["y"].append(e.label)
                    pipeline[key]["pred"].append(utterance_subtype([c.code for c in sentences], "question") or fb)
                    pipeline[key]["ann"].append(annotator(e))
            coder = MICoder(*models)
            test = [e for e in sub["mi_reflection"] if fold_of[e.group.split("|")[0]] == k]
            coded = coder.code_many([e.text for e in test])
            fallback = models[2].predict([e.text for e in test])
            for e, sentences, fb in zip(test, coded, fallback, strict=True):
                pipeline["reflection"]["y"].append(e.label)
                subtype = utterance_subtype([c.code for c in sentences], "reflection")
                pipeline["reflection"]["pred"].append(subtype or fb)
                pipeline["reflection"]["ann"].append(annotator(e))
        res["question_open_closed"]["pipeline_rules_then_model"] = _pipeline_summary(
            pipeline["question_rules"], degenerate
        )
        res["question_open_closed"]["pipeline_model_only"] = _pipeline_summary(
            pipeline["question_model_only"], degenerate
        )
        res["reflection_simple_complex"]["pipeline"] = _pipeline_summary(pipeline["reflection"], set())

        # Advice vs information: rules only (AnnoMI therapist_input subtypes), no training involved.
        advice = _annomi_input_subtypes(annomi_dir)
        coder = MICoder(*models)
        coded = coder.code_many([t for t, _ in advice])
        advice_codes = {"advice_with_permission", "advice_without_permission", "direct", "persuade", "warn"}
        pred = ["advice" if any(c.code in advice_codes for c in s) else "information" for s in coded]
        res["advice_vs_information_rules"] = _classification([lab for _, lab in advice], pred)
        res["advice_vs_information_rules"]["note"] = "AnnoMI therapist_input subtype advice vs information; rules only"
        res["non_adherent_codes_on_annomi_high_vs_low_quality"] = _non_adherent_by_quality(
            annomi_dir, coder, NON_ADHERENT
        )
        res["seconds"] = round(time.perf_counter() - t0, 1)
        result[encoder] = res
    return result


def _pipeline_summary(p: dict[str, list[str]], degenerate: set[str]) -> dict[str, Any]:
    out = _classification(p["y"], p["pred"])
    if degenerate:
        keep = [i for i, a in enumerate(p["ann"]) if a not in degenerate]
        out["excluding_degenerate_annotator"] = _classification([p["y"][i] for i in keep], [p["pred"][i] for i in keep])
    return out


def _annomi_input_subtypes(annomi_dir: Path) -> list[tuple[str, str]]:
    import pandas as pd

    df = pd.read_csv(annomi_dir / "AnnoMI-full.csv")
    df = df[(df.interlocutor == "therapist") & df.therapist_input_subtype.isin(["advice", "information"])]
    rows = []
    for _, grp in df.groupby(["transcript_id", "utterance_id"]):
        rows.append((str(grp.utterance_text.iloc[0]), str(grp.therapist_input_subtype.mode().iloc[0])))
    return rows


def _non_adherent_by_quality(annomi_dir: Path, coder: Any, non_adherent: frozenset[str]) -> dict[str, Any]:
    """Share of therapist utterances with a non-adherent code in high- vs low-quality MI sessions."""
    import pandas as pd

    df = pd.read_csv(annomi_dir / "AnnoMI-simple.csv")
    df = df[df.interlocutor == "therapist"]
    out = {}
    for quality, grp in df.groupby("mi_quality"):
        coded = coder.code_many(grp.utterance_text.astype(str).tolist())
        flags = [any(c.code in non_adherent for c in s) for s in coded]
        out[str(quality)] = {"utterances": len(flags), "share_with_non_adherent": _r(np.mean(flags))}
    return out


# --- MI silver: MIBot (LLM-written counsellor text, LLM labels) -----------------------------------


def _mibot_sessions(mibot_dir: Path) -> list[dict[str, Any]]:
    sessions = []
    for path in sorted((mibot_dir / "transcripts").glob("*.json")):
        sessions.append(json.loads(path.read_text()))
    return sessions


def validate_mibot_mi(mibot_dir: Path, encoder: str = "lexical") -> dict[str, Any]:
    """Sentence codes vs AutoMISC silver labels (R, Q, MICO, MIIN, Other) on counsellor sentences."""
    from harness.metrics.mi import get_coder

    mapping = {
        "open_question": "Q",
        "closed_question": "Q",
        "simple_reflection": "R",
        "complex_reflection": "R",
        "affirmation": "MICO",
        "emphasize_autonomy": "MICO",
        "advice_with_permission": "MICO",
        "advice_without_permission": "MIIN",
        "confront": "MIIN",
        "warn": "MIIN",
        "direct": "MIIN",
        "persuade": "MIIN",
        "giving_information": "Other",
        "other": "Other",
    }
    texts, gold = [], []
    for session in _mibot_sessions(mibot_dir):
        for u in session["utterances"]:
            if u["speaker"] == "counsellor" and u.get("auto_misc_label"):
                texts.append(u["text"])
                gold.append(u["auto_misc_label"])
    t0 = time.perf_counter()
    coded = get_coder(encoder).code_many(texts)
    seconds = time.perf_counter() - t0
    pred = []
    for sentences in coded:
        labels = [mapping[c.code] for c in sentences] or ["Other"]
        # one label per utterance, priority as in MISC summary coding: MIIN > Q > R > MICO > Other
        pred.append(next(lab for lab in ("MIIN", "Q", "R", "MICO", "Other") if lab in labels))
    five = _classification(gold, pred)
    three_gold = [g if g in ("R", "Q") else "other" for g in gold]
    three_pred = [p if p in ("R", "Q") else "other" for p in pred]
    return {
        "labels": "AutoMISC (GPT-4o) labels, silver; counsellor = GPT-4o chatbot",
        "five_way": five,
        "reflection_question_other": _classification(three_gold, three_pred),
        "sentences_per_second": round(len(texts) / seconds, 1),
    }


# --- groundedness: MTS-Dialog human factuality -----------------------------------------------------------


def validate_mts(mts_dir: Path) -> dict[str, Any]:
    """Groundedness (summary vs its dialogue) and overlap baselines vs human factuality scores."""
    import pandas as pd

    from harness.metrics.groundedness import _STOP, groundedness_score, normalise
    from harness.metrics.text import words

    summaries_csv = mts_dir / "MTS-Dialog-Automatic-Summaries-ValidationSet.csv"
    scores_csv = mts_dir / "MTS-Dialog-Manual-Scores4CorrelationStudy.csv"
    auto = pd.read_csv(summaries_csv, encoding="utf-8-sig")
    human = pd.read_csv(scores_csv, encoding="utf-8-sig")
    if len(auto) != len(human):
        raise ConfigError(f"{scores_csv}: {len(human)} rows, expected {len(auto)} (row-aligned with the summaries)")
    grounded, n_claims, support = [], [], []
    for dialogue, summary in zip(auto.Dialogue.astype(str), auto["Automatic Summary"].astype(str), strict=True):
        g = groundedness_score(summary, dialogue)
        grounded.append(g["grounded"])
        n_claims.append(len(g["claims"]))
        dw = set(words(normalise(dialogue)))
        stems = {w[:5] for w in dw}
        content = [w for w in words(normalise(summary)) if len(w) > 2 and w not in _STOP]
        support.append(float(np.mean([w in dw or w[:5] in stems for w in content])) if content else 1.0)
    rouge1 = _rouge1(auto["Reference Summary"].astype(str).tolist(), auto["Automatic Summary"].astype(str).tolist())
    with_claims = [i for i, n in enumerate(n_claims) if n > 0]
    out: dict[str, Any] = {
        "data": [_file_info(summaries_csv), _file_info(scores_csv)],
        "n": len(auto),
        "share_with_checkable_claims": _r(len(with_claims) / len(auto)),
        "note": "MTS-Dialog summaries are note sections, not discharge answers: a transfer check of the claim checker",
    }
    for name, score in (
        ("groundedness_vs_dialogue", grounded),
        ("content_token_support_vs_dialogue", support),
        ("rouge1_f_vs_reference", rouge1),
    ):
        out[name] = {
            col: _correlation(score, human[col].tolist())
            for col in ("FactualPrecision", "HallucinationRate", "FactualRecall", "FactualF1", "OmissionRate")
        }
    out["groundedness_vs_dialogue_only_with_claims"] = {
        col: _correlation([grounded[i] for i in with_claims], human[col].iloc[with_claims].tolist())
        for col in ("FactualPrecision", "HallucinationRate")
    }
    return out


def _rouge1(references: list[str], candidates: list[str]) -> list[float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    return [scorer.score(r, c)["rouge1"].fmeasure for r, c in zip(references, candidates, strict=True)]


# --- empathy ----------------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in iter_jsonl(path)]


def validate_empathy_vignettes(paths: Sequence[Path]) -> dict[str, Any]:
    """Rules (top-level keys, as before) and the learned EPITOME heads (``model``) on the author's vignettes."""
    from harness.metrics.empathy import score_empathy
    from harness.metrics.empathy_model import EmpathyModel

    model = EmpathyModel.default()
    out: dict[str, Any] = {}
    for path in paths:
        rows = _read_jsonl(path)
        scored = [score_empathy(r["seeker"], r["response"]) for r in rows]
        learned = model.predict([r["seeker"] for r in rows], [r["response"] for r in rows])
        dims, model_dims = {}, {}
        for dim in ("er", "ip", "ex"):
            gold = [str(r[dim]) for r in rows]
            dims[dim] = _classification(gold, [str(s[dim]) for s in scored])
            model_dims[dim] = _classification(gold, [str(p[dim]) for p in learned])
        out[path.stem] = {
            "source": "author-written vignettes (same author as the rules: optimistic for the rules; "
            "never used to train or tune the learned heads)",
            "n": len(rows),
            **dims,
            "mean_macro_f1": _r(np.mean([dims[d]["macro_f1"] for d in dims])),
            "model": {**model_dims, "mean_macro_f1": _r(np.mean([model_dims[d]["macro_f1"] for d in model_dims]))},
        }
    return out


def validate_mibot_care(mibot_dir: Path) -> dict[str, Any]:
    """Session mean empathy of the counsellor's turns vs the client's CARE questionnaire total."""
    import pandas as pd

    from harness.metrics.empathy import score_empathy

    care = pd.read_csv(mibot_dir / "data.csv")
    cols = [f"CAREQ{i}" for i in range(1, 11)]
    care["care_total"] = care[cols].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=10)
    totals = dict(zip(care.ParticipantID, care.care_total, strict=True))
    session_scores, care_scores, per_dim = [], [], {"er": [], "ip": [], "ex": []}
    for session in _mibot_sessions(mibot_dir):
        if pd.isna(totals.get(session["participant_id"], float("nan"))):
            continue
        turns: list[tuple[str, str]] = []  # (client text before, counsellor turn)
        client, current, last_speaker = "", [], None
        for u in session["utterances"]:
            if u["speaker"] == "counsellor":
                current.append(u["text"])
            else:
                if current:
                    turns.append((client, " ".join(current)))
                    current = []
                client = u["text"] if last_speaker == "counsellor" else f"{client} {u['text']}"
            last_speaker = u["speaker"]
        if current:
            turns.append((client, " ".join(current)))
        scored = [score_empathy(c, t) for c, t in turns]
        session_scores.append(float(np.mean([s["total"] for s in scored])))
        for d in per_dim:
            per_dim[d].append(float(np.mean([s[d] for s in scored])))
        care_scores.append(float(totals[session["participant_id"]]))
    return {
        "source": "MIBot: client-rated CARE (10 items, human) vs mean empathy_total of the bot's turns",
        "empathy_total": _correlation(session_scores, care_scores),
        **{f"empathy_{d}": _correlation(v, care_scores) for d, v in per_dim.items()},
        "care_total_mean": _r(np.mean(care_scores)),
        "care_total_sd": _r(np.std(care_scores)),
        "empathy_total_mean": _r(np.mean(session_scores)),
        "empathy_total_sd": _r(np.std(session_scores)),
    }


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


def validate_risk_vignettes(paths: Sequence[Path]) -> dict[str, Any]:
    """The original author vignettes, then the issue-14 dev and holdout vignettes (harness.risk_validation)."""
    from harness.risk_validation import unseen_vignette_figures

    out: dict[str, Any] = {}
    if paths:
        out.update(unseen_vignette_figures(Path(paths[0]).parent))
    for path in paths:
        rows = _read_jsonl(path)
        out[path.stem] = {
            "source": "author-written vignettes (same author as the rules: optimistic)",
            "n": len(rows),
            **risk_figures(rows),
        }
    return out


def validate_risk_real_text(data_dir: Path) -> dict[str, Any]:
    """Flag rates on real text where high/imminent risk should be rare (an upper bound on false alarms)."""
    import pandas as pd

    from harness.metrics.risk import FLAG_LEVELS, assess_risk

    def profile(texts: list[str], note: str | None = None) -> dict[str, Any]:
        levels = [assess_risk(t).level for t in texts]
        return {
            "n": len(levels),
            "level_counts": dict(Counter(levels)),
            "flag_rate": _r(np.mean([lvl in FLAG_LEVELS for lvl in levels])),
            **({"note": note} if note else {}),
        }

    from harness.risk_validation import sdcnl_figures, stressed_safe_figures

    out: dict[str, Any] = {**sdcnl_figures(data_dir), **stressed_safe_figures(data_dir)}
    cc = data_dir / "counselchat" / "20200325_counsel_chat.csv"
    if cc.exists():
        q = pd.read_csv(cc).drop_duplicates("questionID")
        texts = (q.questionTitle.fillna("") + ". " + q.questionText.fillna("")).tolist()
        out["counselchat_questions"] = profile(
            texts, "real help-seeker questions, a few of which do describe suicidal thoughts or self-harm"
        )
    mts = data_dir / "mts-dialog" / "MTS-Dialog-TrainingSet.csv"
    if mts.exists():
        d = pd.read_csv(mts, encoding="utf-8-sig")
        texts = []
        for dialogue in d.dialogue.astype(str):
            turns = [
                ln.split(":", 1)[1]
                for ln in dialogue.splitlines()
                if ":" in ln and ln.lower().startswith(("patient", "guest"))
            ]
            texts.append(" ".join(turns))
        out["mts_dialog_patient_turns"] = profile(
            texts, "patients in primary-care/specialist visits; idioms ('the pain is killing me') are the risk"
        )
    annomi = data_dir / "annomi-dev" / "AnnoMI-simple.csv"
    if annomi.exists():
        s = pd.read_csv(annomi)
        out["annomi_client_utterances"] = profile(s[s.interlocutor == "client"].utterance_text.astype(str).tolist())
    return out


def validate_risk_suites(suites_dir: Path | None = None) -> dict[str, Any]:
    """Risk figures on the project's own suites that carry ``labels.risk_level`` (labels by the suite author)."""
    from harness.metrics.risk import case_risk_text
    from harness.suite import available_suites, load_suite

    out: dict[str, Any] = {}
    for name in available_suites(suites_dir):
        suite = load_suite(name, suites_dir=suites_dir)
        rows = [{"text": case_risk_text(c), "label": c.labels.risk_level} for c in suite.cases if c.labels.risk_level]
        if rows:
            out[suite.key] = {
                "source": "suite author's labels; the risk rules were revised after a first look at these cases",
                "n": len(rows),
                **risk_figures(rows),
            }
    return out


# --- user files ------------------------------------------------------------------------------------------------

from harness.validate_user import USER_KINDS  # noqa: E402  (kept importable from here)


def validate_user_file(kind: str, path: Path, encoder: str = "lexical") -> dict[str, Any]:
    """Agreement of one metric with a user's labelled file (JSONL, EPITOME or AnnoMI CSV); see validate_user."""
    from harness.validate_user import validate_labelled_file

    figures, _ = validate_labelled_file(Path(path), kind, encoder)
    return figures[0]


# --- EPITOME empathy and WeLiVita MI (out of domain) ---------------------------------------------------------

WELIVITA_CODES = {
    "Closed Question": "closed_question",
    "Open Question": "open_question",
    "Simple Reflection": "simple_reflection",
    "Complex Reflection": "complex_reflection",
    "Give Information": "giving_information",
    "Advise with Permission": "advice_with_permission",
    "Advise without Permission": "advice_without_permission",
    "Affirm": "affirmation",
    "Emphasize Autonomy": "emphasize_autonomy",
    "Confront": "confront",
    "Direct": "direct",
    "Warn": "warn",
    "Support": "other",
    "Self-Disclose": "other",
    "Other": "other",
}


def _behaviour_of(code: str) -> str:
    if code.endswith("_question"):
        return "question"
    if code.endswith("_reflection"):
        return "reflection"
    return "other"


def validate_welivita(folder: Path, encoder: str = "lexical") -> dict[str, Any]:
    """Out-of-domain MI check: WeLiVita's human-coded peer-support sentences (written, not transcribed)."""
    import pandas as pd

    from harness.metrics.mi import get_coder

    path = folder / "test_output.csv"
    df = pd.read_csv(path)
    gold = [WELIVITA_CODES[str(c)] for c in df["Ground truth"]]
    coded = get_coder(encoder).code_many([str(t) for t in df["Text"]])
    pred = [s[0].code if s else "other" for s in coded]
    out: dict[str, Any] = {"data": _file_info(path), "encoder": encoder, "codes_macro_f1": _classification(gold, pred)}
    out["question_reflection_other"] = _classification(
        [_behaviour_of(c) for c in gold], [_behaviour_of(c) for c in pred]
    )
    families = (("_question", "open_closed_on_gold_questions"), ("_reflection", "simple_complex_on_gold_reflections"))
    for family, name in families:
        rows = [(g, p) for g, p in zip(gold, pred, strict=True) if g.endswith(family)]
        hits = [(g, p) for g, p in rows if p.endswith(family)]
        out[name] = {
            "coded_in_family": _r(len(hits) / max(1, len(rows))),
            **_classification([g.split("_")[0] for g, _ in hits], [p.split("_")[0] for _, p in hits]),
        }
    return out


def validate_epitome(folder: Path, encoder: str = "lexical") -> dict[str, Any]:
    from harness.metrics.empathy_train import epitome_figures

    return {"encoder": encoder, **epitome_figures(folder, encoder)}


# --- everything ------------------------------------------------------------------------------------------------


SECTIONS = (
    "mi",
    "mi_welivita",
    "empathy_epitome",
    "mi_silver",
    "empathy_care",
    "groundedness",
    "risk_vignettes",
    "risk_suites",
    "empathy_vignettes",
    "risk_real_text",
)


def run_validation(
    data_dir: Path,
    *,
    encoders: Sequence[str] = ("lexical",),
    vignettes_dir: Path | None = None,
    folds: int = 5,
    sections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All validation figures as one JSON-able dict; sections whose data is missing are skipped.

    ``sections`` limits the run to some of ``SECTIONS`` (the MI cross-validation takes most of
    the time; the risk and empathy sections take seconds). ``data_dir`` may also be a labelled
    JSONL file, validated with ``validate_user_file``.
    """
    data_dir = Path(data_dir)
    if data_dir.is_file():
        from harness.validate_user import validate_labelled_file

        return {"user_files": validate_labelled_file(data_dir, None, encoders[0])[0]}
    wanted = set(sections or SECTIONS)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise ConfigError(f"unknown validation sections {sorted(unknown)} (known: {', '.join(SECTIONS)})")
    vignettes = vignettes_dir or VIGNETTES_DIR
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": date.today().isoformat(),
            "command": "python -m harness.validate --data <shared/data> "
            + " ".join(f"--encoder {e}" for e in encoders),
            "python": platform.python_version(),
            "data_dir": str(data_dir),
            "skipped": [],
        }
    }
    skipped = results["meta"]["skipped"]
    annomi = data_dir / "annomi-dev"
    mibot = data_dir / "mibot-mi-smoking"
    mts = data_dir / "mts-dialog"
    available = {
        "mi": (annomi / "AnnoMI-full.csv").exists(),
        "mi_welivita": (data_dir / "welivita-mi" / "test_output.csv").exists(),
        "empathy_epitome": (data_dir / "epitome-dev" / "interpretations-reddit.csv").exists(),
        "mi_silver": (mibot / "data.csv").exists(),
        "empathy_care": (mibot / "data.csv").exists(),
        "groundedness": (mts / "MTS-Dialog-Manual-Scores4CorrelationStudy.csv").exists(),
        "risk_vignettes": vignettes.exists(),
        "risk_suites": True,
        "empathy_vignettes": vignettes.exists(),
        "risk_real_text": data_dir.exists(),
    }
    runners = {
        "mi": lambda: validate_annomi(annomi, encoders, folds),
        "mi_welivita": lambda: {enc: validate_welivita(data_dir / "welivita-mi", enc) for enc in encoders},
        "empathy_epitome": lambda: validate_epitome(data_dir / "epitome-dev"),
        "mi_silver": lambda: {enc: validate_mibot_mi(mibot, enc) for enc in encoders},
        "empathy_care": lambda: validate_mibot_care(mibot),
        "groundedness": lambda: validate_mts(mts),
        "risk_vignettes": lambda: validate_risk_vignettes(sorted(vignettes.glob("risk_vignettes*.jsonl"))),
        "risk_suites": validate_risk_suites,
        "empathy_vignettes": lambda: validate_empathy_vignettes(sorted(vignettes.glob("empathy_vignettes*.jsonl"))),
        "risk_real_text": lambda: validate_risk_real_text(data_dir),
    }
    for name in SECTIONS:
        if name not in wanted:
            continue
        if not available[name]:
            skipped.append(f"{name} (data not found)")
            continue
        results[name] = runners[name]()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    return results


def headline(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, target) rows for docs/metrics.md, read from a results dict."""
    rows: list[tuple[str, str, str]] = []

    def get(*path: str) -> Any:
        node: Any = results
        for p in path:
            if not isinstance(node, dict) or p not in node:
                return None
            node = node[p]
        return node

    for enc in ("lexical", "minilm"):
        if get("mi", enc) is None:
            continue
        rows.append(
            (
                f"MI behaviour macro-F1, AnnoMI grouped CV ({enc})",
                str(get("mi", enc, "behaviour_utterance_model", "macro_f1")),
                ">= 0.65",
            )
        )
        rows.append(
            (
                f"MI open/closed accuracy, pipeline ({enc})",
                str(get("mi", enc, "question_open_closed", "pipeline_rules_then_model", "accuracy")),
                ">= 0.85",
            )
        )
        rows.append(
            (
                f"  ... excluding annotator 3 ({enc})",
                str(
                    get(
                        "mi",
                        enc,
                        "question_open_closed",
                        "pipeline_rules_then_model",
                        "excluding_degenerate_annotator",
                        "accuracy",
                    )
                ),
                "",
            )
        )
        rows.append(
            (
                f"  ... utterance model only, excl. annotator 3 ({enc})",
                str(
                    get("mi", enc, "question_open_closed", "utterance_model_excluding_degenerate_annotator", "accuracy")
                ),
                "",
            )
        )
        rows.append(
            (
                f"MI simple/complex reflection accuracy, pipeline ({enc})",
                str(get("mi", enc, "reflection_simple_complex", "pipeline", "accuracy")),
                "",
            )
        )
        quality = get("mi", enc, "non_adherent_codes_on_annomi_high_vs_low_quality")
        if quality:
            rows.append(
                (
                    f"Share of utterances with a non-adherent code, high vs low quality MI sessions ({enc})",
                    f"{quality['high']['share_with_non_adherent']} vs {quality['low']['share_with_non_adherent']}",
                    "high-quality < low-quality",
                )
            )
        rows.append(
            (
                f"Advice vs information (rules) macro-F1 ({enc} coder)",
                str(get("mi", enc, "advice_vs_information_rules", "macro_f1")),
                "",
            )
        )
    ia = get("mi", "inter_annotator")
    if ia:
        rows.append(
            (
                "AnnoMI annotator vs rest-majority: behaviour / open-closed / simple-complex",
                " / ".join(str(ia[k]["annotator_vs_rest_majority_accuracy"]) for k in ia),
                "context",
            )
        )
    for enc, r in (get("mi_silver") or {}).items():
        rows.append(
            (
                f"MIBot silver R/Q/other macro-F1 vs AutoMISC ({enc})",
                str(r["reflection_question_other"]["macro_f1"]),
                "",
            )
        )
    epi = get("empathy_epitome")
    if epi:
        for part, label in (("grouped_cv_dev", "grouped CV"), ("held_out_seeker_posts", "held-out posts")):
            cells = [f"{epi[d][part]['macro_f1']} {epi[d][part]['macro_f1_ci95']}" for d in ("er", "ip", "ex")]
            rows.append(
                (
                    f"EPITOME empathy macro-F1 mean; ER / IP / EX [95% CI], {label} ({epi['encoder']} model)",
                    f"{epi[f'mean_macro_f1_{part}']}; " + " / ".join(cells),
                    ">= 0.65 mean",
                )
            )
        rows.append(
            (
                "EPITOME majority-class baseline ER / IP / EX (grouped CV rows)",
                " / ".join(str(epi[d]["grouped_cv_dev"]["majority_baseline_macro_f1"]) for d in ("er", "ip", "ex")),
                "each model >= baseline + 0.15",
            )
        )
        rows.append(
            (
                "EPITOME rules alone (method: rules) ER / IP / EX, grouped CV rows",
                " / ".join(str(epi[d]["rules_dev"]["macro_f1"]) for d in ("er", "ip", "ex")),
                "",
            )
        )
    for enc, r in (get("mi_welivita") or {}).items():
        rows.append(
            (
                f"WeLiVita MI (out of domain): Q/R/other macro-F1; open/closed; simple/complex ({enc})",
                f"{r['question_reflection_other']['macro_f1']}; {r['open_closed_on_gold_questions']['macro_f1']}; "
                f"{r['simple_complex_on_gold_reflections']['macro_f1']}",
                "",
            )
        )
    for name, r in (get("empathy_vignettes") or {}).items():
        rows.append(
            (
                f"Empathy rules mean macro-F1 (ER/IP/EX), {name}",
                f"{r['mean_macro_f1']} ({r['er']['macro_f1']}/{r['ip']['macro_f1']}/{r['ex']['macro_f1']})",
                ">= 0.55",
            )
        )
        m = r.get("model")
        if m:
            rows.append(
                (
                    f"Empathy learned heads mean macro-F1 (ER/IP/EX), {name}",
                    f"{m['mean_macro_f1']} ({m['er']['macro_f1']}/{m['ip']['macro_f1']}/{m['ex']['macro_f1']})",
                    "",
                )
            )
    er_care = get("empathy_care", "empathy_er")
    if er_care:
        rows.append(
            (
                "Empathy ER vs client CARE (MIBot), Spearman",
                f"{er_care['spearman']} (p={er_care['spearman_p']}, n={er_care['n']})",
                "",
            )
        )
    care = get("empathy_care", "empathy_total")
    if care:
        rows.append(
            (
                "Empathy total vs client CARE (MIBot), Spearman",
                f"{care['spearman']} (p={care['spearman_p']}, n={care['n']})",
                "",
            )
        )
    for name, r in (get("risk_vignettes") or {}).items():
        rows.append(
            (
                f"Risk AUC high/imminent vs lower, {name}",
                f"{r.get('auc_high_or_imminent_vs_lower')} CI {r.get('auc_ci95')}",
                ">= 0.75",
            )
        )
        rows.append(
            (
                f"Risk imminent recall (flagged / exact), {name}",
                f"{r.get('imminent_recall_flagged')} / {r.get('imminent_recall_exact')}",
                ">= 0.95",
            )
        )
        rows.append((f"Risk false alarms on 'none' texts, {name}", str(r.get("false_alarm_rate_on_none")), "<= 0.20"))
        rows.append(
            (
                f"Risk exact level accuracy / within one, {name}",
                f"{r['levels']['accuracy']} / {r['within_one_level']}",
                "",
            )
        )
    for name, r in (get("risk_suites") or {}).items():
        rows.append(
            (
                f"Risk on suite {name} (n={r['n']}): exact / flag recall imminent / false alarms / AUC",
                f"{r['levels']['accuracy']} / {r.get('imminent_recall_flagged')} / {r.get('false_alarm_rate_on_none')}"
                f" / {r.get('auc_high_or_imminent_vs_lower')}",
                "",
            )
        )
    for name, r in (get("risk_real_text") or {}).items():
        rows.append((f"Risk flag rate (high/imminent) on {name}", f"{r['flag_rate']} (n={r['n']})", "low"))
    g = get("groundedness")
    if g:
        for key in ("groundedness_vs_dialogue", "content_token_support_vs_dialogue", "rouge1_f_vs_reference"):
            p = g[key]["FactualPrecision"]
            h = g[key]["HallucinationRate"]
            f = g[key]["FactualF1"]
            rows.append(
                (
                    f"MTS-Dialog {key}: Spearman vs precision / hallucination / F1",
                    f"{p['spearman']} / {h['spearman']} / {f['spearman']}",
                    "",
                )
            )
    return rows


def render_markdown(results: dict[str, Any]) -> str:
    lines = [
        FIGURES_START,
        f"_Generated by `{results['meta']['command']}` on {results['meta']['date']}; full figures in "
        "`docs/metrics-figures.json`. Do not edit by hand._",
    ]
    for refresh in results["meta"].get("refreshed", []):
        lines.append(f"_Sections {', '.join(refresh['sections'])} recomputed on {refresh['date']} with `--section`._")
    lines += [
        "",
        "| figure | value | target |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in headline(results)]
    lines.append(FIGURES_END)
    return "\n".join(lines)


def update_docs(doc: Path, results: dict[str, Any]) -> None:
    """Replace the block between the figures markers in ``doc`` with freshly computed figures."""
    text = doc.read_text(encoding="utf-8")
    block = render_markdown(results)
    if FIGURES_START in text and FIGURES_END in text:
        text = re.sub(re.escape(FIGURES_START) + r".*?" + re.escape(FIGURES_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness validate-metrics",
        description="Validate metrics against human labels: the development data (--data DIR) or your own "
        "labelled files (--file [KIND=]PATH: JSONL, EPITOME-format CSV or AnnoMI-format CSV), scored with the "
        "shipped models; per-item predictions are written beside the figures.",
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="shared data folder (default: $HARNESS_SHARED_DATA or ../shared/data)"
    )
    parser.add_argument("--out", type=Path, help="write the full results JSON here (e.g. docs/metrics-figures.json)")
    parser.add_argument(
        "--update-docs", type=Path, help="refresh the figures block of this markdown file (docs/metrics.md)"
    )
    parser.add_argument("--encoder", action="append", choices=("lexical", "minilm"), help="encoders to validate")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--section", action="append", choices=SECTIONS, help="only these sections; merged into an existing --out file"
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="[KIND=]PATH",
        help=f"score a labelled file instead of the development data ({', '.join(USER_KINDS)}); the kind is read "
        "from the file when not given",
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        help="per-item predictions for --file (default: beside --out as <out>.predictions.jsonl, else "
        "./validate-metrics.predictions.jsonl)",
    )
    return parser


def score_user_files(specs: Sequence[str], encoder: str, predictions: Path) -> dict[str, Any]:
    """Score ``[KIND=]PATH`` files with the shipped models; write every item's prediction as JSONL."""
    from harness.validate_user import validate_labelled_file

    figures: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for spec in specs:
        kind, sep, path = spec.partition("=")
        if not sep:
            kind, path = "", spec
        f, r = validate_labelled_file(Path(path), kind or None, encoder)
        figures += f
        rows += r
    predictions.parent.mkdir(parents=True, exist_ok=True)
    with predictions.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"user_files": figures, "predictions": str(predictions)}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from harness.metrics.models import _limit_threads

    _limit_threads()
    encoders = args.encoder or ["lexical"]
    specs = list(args.file) + ([str(args.data)] if args.data is not None and args.data.is_file() else [])
    if specs:
        default = args.out.with_suffix(".predictions.jsonl") if args.out else Path("validate-metrics.predictions.jsonl")
        results = score_user_files(specs, encoders[0], args.predictions or default)
        if args.section and args.data is not None and args.data.is_dir():
            results.update(run_validation(args.data, encoders=encoders, folds=args.folds, sections=args.section))
    else:
        results = _validate_dev_data(args, encoders)
    text = json.dumps(results, indent=2, sort_keys=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    if args.update_docs:
        update_docs(args.update_docs, results)
    if "meta" in results and "command" in results["meta"]:
        print("\n".join(f"{a}: {b}  [{c}]" if c else f"{a}: {b}" for a, b, c in headline(results)))
    else:
        print(text)
    return 0


def _validate_dev_data(args: argparse.Namespace, encoders: Sequence[str]) -> dict[str, Any]:
    data_dir = args.data or default_data_dir()
    if not data_dir.exists():
        return {"meta": {"skipped": [f"shared data not found at {data_dir}"]}}
    results = run_validation(data_dir, encoders=encoders, folds=args.folds, sections=args.section)
    if args.section and args.out and args.out.exists():
        # refresh some sections of a full run: keep the others, record what was recomputed when
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        refreshed = {k: v for k, v in results.items() if k != "meta"}
        previous.update(refreshed)
        previous.setdefault("meta", {}).setdefault("refreshed", []).append(
            {"sections": sorted(refreshed), "date": results["meta"]["date"]}
        )
        results = previous
    return results


if __name__ == "__main__":
    raise SystemExit(main())
