"""Groundedness (MTS-Dialog), empathy (vignettes, MIBot CARE, EPITOME), risk and user-file validation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ConfigError
from harness.validation.data import file_info, mibot_sessions, read_jsonl
from harness.validation.statistics import _classification, _correlation, _r, risk_figures

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
        "data": [file_info(summaries_csv), file_info(scores_csv)],
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


def validate_empathy_vignettes(paths: Sequence[Path]) -> dict[str, Any]:
    """Rules (top-level keys, as before) and the learned EPITOME heads (``model``) on the author's vignettes."""
    from harness.metrics.empathy import score_empathy
    from harness.metrics.empathy_model import EmpathyModel

    model = EmpathyModel.default()
    out: dict[str, Any] = {}
    for path in paths:
        rows = read_jsonl(path)
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
    for session in mibot_sessions(mibot_dir):
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


def validate_risk_vignettes(paths: Sequence[Path]) -> dict[str, Any]:
    """The original author vignettes, then the issue-14 dev and holdout vignettes (harness.risk_validation)."""
    from harness.risk_validation import unseen_vignette_figures

    out: dict[str, Any] = {}
    if paths:
        out.update(unseen_vignette_figures(Path(paths[0]).parent))
    for path in paths:
        rows = read_jsonl(path)
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


def validate_user_file(kind: str, path: Path, encoder: str = "lexical") -> dict[str, Any]:
    """Agreement of one metric with a user's labelled file (JSONL, EPITOME or AnnoMI CSV); see validate_user."""
    from harness.validate_user import validate_labelled_file

    figures, _ = validate_labelled_file(Path(path), kind, encoder)
    return figures[0]


def validate_epitome(folder: Path, encoder: str = "lexical") -> dict[str, Any]:
    from harness.metrics.empathy_train import epitome_figures

    return {"encoder": encoder, **epitome_figures(folder, encoder)}
