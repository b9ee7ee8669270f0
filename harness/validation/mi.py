"""MI coding agreement: AnnoMI expert codes (grouped CV), MIBot silver labels, WeLiVita (out of domain)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.validation.data import file_info, mibot_sessions
from harness.validation.statistics import _classification, _r

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

    from harness.metrics.mi import NON_ADHERENT, MICoder, utterance_subtypes
    from harness.metrics.models import (
        ANNOMI_DEGENERATE_QUESTION_ANNOTATORS,
        Example,
        annomi_examples,
        cross_validate,
        fit_classifier,
    )

    result: dict[str, Any] = {
        "data": [file_info(annomi_dir / "AnnoMI-simple.csv"), file_info(annomi_dir / "AnnoMI-full.csv")],
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
        cv["macro_f1_ci95"] = grouped_bootstrap_ci(
            [e.label for e in behaviour], cv.pop("predictions"), [e.group for e in behaviour], "macro_f1"
        )
        res["behaviour_utterance_model"] = cv

        # Subtypes: utterance model alone, then the sentence pipeline with the same fold split.
        for kind, name in (("mi_question", "question_open_closed"), ("mi_reflection", "reflection_simple_complex")):
            examples = [Example(e.text, e.label, e.group.split("|")[0], e.context) for e in sub[kind]]
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
            key: {"y": [], "pred": [], "ann": [], "group": []}
            for key in ("question_rules", "question_model_only", "reflection")
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
                preds = utterance_subtypes(coder, [e.text for e in test], [e.context for e in test], "question")
                for e, pred in zip(test, preds, strict=True):
                    pipeline[key]["y"].append(e.label)
                    pipeline[key]["pred"].append(pred)
                    pipeline[key]["ann"].append(annotator(e))
                    pipeline[key]["group"].append(e.group.split("|")[0])
            coder = MICoder(*models)
            test = [e for e in sub["mi_reflection"] if fold_of[e.group.split("|")[0]] == k]
            preds = utterance_subtypes(coder, [e.text for e in test], [e.context for e in test], "reflection")
            for e, pred in zip(test, preds, strict=True):
                pipeline["reflection"]["y"].append(e.label)
                pipeline["reflection"]["pred"].append(pred)
                pipeline["reflection"]["ann"].append(annotator(e))
                pipeline["reflection"]["group"].append(e.group.split("|")[0])
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
    out["accuracy_ci95"] = grouped_bootstrap_ci(p["y"], p["pred"], p["group"], "accuracy")
    if degenerate:
        keep = [i for i, a in enumerate(p["ann"]) if a not in degenerate]
        y, pred, groups = ([p[k][i] for i in keep] for k in ("y", "pred", "group"))
        out["excluding_degenerate_annotator"] = _classification(y, pred)
        out["excluding_degenerate_annotator"]["accuracy_ci95"] = grouped_bootstrap_ci(y, pred, groups, "accuracy")
    return out


def grouped_bootstrap_ci(
    y: Sequence[str], pred: Sequence[str], groups: Sequence[str], figure: str, n: int = 1000, seed: int = 0
) -> list[float]:
    """95% percentile interval of ``figure`` ("accuracy" or "macro_f1") resampling whole transcripts.

    Utterances of one session are not independent (same counsellor, same client), so the interval
    resamples sessions, not utterances; it is wider, and honest about what another sample would give.
    """
    y_arr, p_arr = np.asarray(y, dtype=object), np.asarray(pred, dtype=object)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    members = [np.array(v) for v in by_group.values()]
    labels = sorted(set(y_arr))
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(n):
        idx = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        yy, pp = y_arr[idx], p_arr[idx]
        if figure == "accuracy":
            scores.append(float(np.mean(yy == pp)))
            continue
        f1 = []
        for lab in labels:
            tp = np.sum((yy == lab) & (pp == lab))
            denom = np.sum(yy == lab) + np.sum(pp == lab)
            f1.append(2 * tp / denom if denom else 0.0)
        scores.append(float(np.mean(f1)))
    return [_r(q) for q in np.percentile(scores, [2.5, 97.5])]


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
    for session in mibot_sessions(mibot_dir):
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
    out: dict[str, Any] = {"data": file_info(path), "encoder": encoder, "codes_macro_f1": _classification(gold, pred)}
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
