"""The MI pair model (LoRA MiniLM on client turn + counsellor utterance) against the linear coders.

    PYTHONPATH=. python bench/mi_pair_holdout.py fold K            # one grouped fold of the 75 dev transcripts
    PYTHONPATH=. python bench/mi_pair_holdout.py final OUT.npz     # train on the 75, score both held-out sets once
    PYTHONPATH=. python bench/mi_pair_holdout.py score OUT.npz     # score an existing adapter on them
    PYTHONPATH=. python bench/mi_pair_holdout.py train-question Q.npz   # open/closed pair model (not shipped)
    PYTHONPATH=. python bench/mi_pair_holdout.py score-question BEHAVIOUR.npz Q.npz   # its held-out figures

Two sets of AnnoMI-dev transcripts stay out of every choice made here: the 16 drawn by
``bench/mi_context_holdout.py`` (seed 1616; already looked at by earlier sessions) and 16 more drawn
below (seed 16016, from the other 91) before any experiment of this session. The remaining 75 are
the development set (grouped 5-fold CV). ``final`` trains every model on the 75 only and prints
behaviour macro-F1 (95% interval resampling transcripts) and the sentence pipeline's open/closed and
simple/complex accuracy on each held-out set.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mi_context_holdout import held_out_transcripts, macro_f1_ci

from harness.metrics.mi import MICoder, utterance_subtypes
from harness.metrics.mi_pair import load_pair_classifier
from harness.metrics.mi_pair_train import PairSettings, fit_pair_model, train_pair_weights
from harness.metrics.models import Example, _sha256, annomi_examples, fit_classifier
from harness.validation.mi import grouped_bootstrap_ci

NEW_HELD_OUT_SEED, NEW_HELD_OUT_N = 16016, 16
ANNOMI = Path(__file__).resolve().parents[2] / "shared" / "data" / "annomi-dev"


def held_out_sets(examples: list[Example]) -> tuple[set[str], set[str]]:
    """(earlier sessions' 16, this session's 16) transcript ids."""
    old = held_out_transcripts(examples)
    rest = sorted({int(e.group.split("|")[0]) for e in examples} - {int(t) for t in old})
    new = np.random.RandomState(NEW_HELD_OUT_SEED).choice(rest, NEW_HELD_OUT_N, replace=False)
    return old, {str(t) for t in new}


def _tid(e: Example) -> str:
    return e.group.split("|")[0]


def load(folder: Path = ANNOMI) -> dict[str, list[Example]]:
    return {
        "behaviour": annomi_examples(folder, "mi_behaviour", with_context=True),
        "question": annomi_examples(folder, "mi_question", with_context=True),  # the pair model reads it
        "reflection": annomi_examples(folder, "mi_reflection"),
    }


def linear_behaviour_models(train: list[Example]) -> dict[str, object]:
    return {
        "lexical": fit_classifier("mi_behaviour", [Example(e.text, e.label, e.group) for e in train]),
        "minilm+context": fit_classifier("mi_behaviour", train, "minilm"),
    }


def run_fold(k: int) -> None:
    data = load()
    old, new = held_out_sets(data["behaviour"])
    dev = [e for e in data["behaviour"] if _tid(e) not in old | new]
    groups = np.array([_tid(e) for e in dev])
    train_idx, test_idx = list(GroupKFold(5).split(groups, groups, groups))[k]
    train, test = [dev[i] for i in train_idx], [dev[i] for i in test_idx]
    y = [e.label for e in test]
    scores = {}
    for name, model in linear_behaviour_models(train).items():
        scores[name] = f1_score(y, model.predict([e.text for e in test], [e.context for e in test]), average="macro")
    started = time.perf_counter()
    classes, lora, head = fit_pair_model(train, PairSettings(), log=lambda m: print(m, flush=True))
    path = save_tmp(classes, lora, head)
    pred = load_pair_classifier(path).predict([e.text for e in test], [e.context for e in test])
    scores["minilm_pair"] = f1_score(y, pred, average="macro")
    print(f"fold {k} ({len(test)} utterances): " + ", ".join(f"{n} {s:.4f}" for n, s in scores.items())
          + f" [pair trained in {time.perf_counter() - started:.0f} s]")  # fmt: skip


def save_tmp(classes: tuple[str, ...], lora: dict, head: dict) -> Path:
    from harness.metrics.mi_pair import save_pair_weights

    settings = PairSettings()
    return save_pair_weights(Path("/tmp/mi_pair_fold.npz"), classes, lora, head,
                             {"lora_r": settings.lora_r, "lora_alpha": settings.lora_alpha})  # fmt: skip


def pipeline_subtypes(coder: MICoder, items: list[Example], family: str) -> list[str]:
    """Utterance-level open/closed or simple/complex from the sentence pipeline (as validate-metrics)."""
    return utterance_subtypes(coder, [e.text for e in items], [e.context for e in items], family)


def run_final(out: Path) -> None:
    data = load()
    old, new = held_out_sets(data["behaviour"])
    held = old | new
    train_b = [e for e in data["behaviour"] if _tid(e) not in held]
    source = ANNOMI / "AnnoMI-simple.csv"
    provenance = {
        "trained_on": [{"file": source.name, "sha256": _sha256(source), "dataset": "AnnoMI-dev",
                        "origin": "github.com/uccollab/AnnoMI@42936645"}],
        "transcripts": "75 of 107; held out (never trained on): " + ", ".join(sorted(held, key=int)),
        "script": "PYTHONPATH=. python bench/mi_pair_holdout.py final harness/metrics/weights/"
        "mi_behaviour-minilm_pair.npz",
        "licence_note": "AnnoMI states no licence ('publicly and freely available'); only adapter and head "
        "weights are stored here, no text.",
    }  # fmt: skip
    train_pair_weights(train_b, out, provenance, log=lambda m: print(m, flush=True))
    score_held_out(out)


def record_held_out(weights: Path, report: dict) -> None:
    """Write the held-out figures into the weights' sidecar, beside the training record."""
    sidecar = weights.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    meta["held_out_scored_once"] = report
    sidecar.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def score_held_out(path: Path) -> None:
    """Score the pair model at ``path`` and the linear coders (trained on the same 75 transcripts) once."""
    data = load()
    old, new = held_out_sets(data["behaviour"])
    held = old | new
    train_b = [e for e in data["behaviour"] if _tid(e) not in held]
    train_q = [Example(e.text, e.label, e.group) for e in data["question"]  # shipped: no context
               if _tid(e) not in held and e.group.split("|")[-1] != "3"]
    train_r = [e for e in data["reflection"] if _tid(e) not in held]
    behaviours = {**linear_behaviour_models(train_b), "minilm_pair": load_pair_classifier(path)}
    question = fit_classifier("mi_question", train_q)
    reflection = fit_classifier("mi_reflection", train_r)
    report: dict[str, dict[str, object]] = {}
    for set_name, ids in (("new_held_out_16", new), ("old_held_out_16", old)):
        test_b = [e for e in data["behaviour"] if _tid(e) in ids]
        test_q = [e for e in data["question"] if _tid(e) in ids]
        not_3 = [e.group.split("|")[-1] != "3" for e in test_q]
        test_r = [e for e in data["reflection"] if _tid(e) in ids]
        y, groups = [e.label for e in test_b], [_tid(e) for e in test_b]
        for name, model in behaviours.items():
            pred = model.predict([e.text for e in test_b], [e.context for e in test_b])  # type: ignore[attr-defined]
            coder = MICoder(model, question, reflection)  # type: ignore[arg-type]
            q_pred = pipeline_subtypes(coder, test_q, "question")
            r_pred = pipeline_subtypes(coder, test_r, "reflection")
            report[f"{set_name}/{name}"] = {
                "behaviour_macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
                "behaviour_ci95": macro_f1_ci(y, pred, groups),
                "open_closed_accuracy": round(
                    float(np.mean([p == e.label for p, e in zip(q_pred, test_q, strict=True)])), 4),
                "open_closed_accuracy_excl_annotator_3": round(float(np.mean(
                    [p == e.label for p, e, k in zip(q_pred, test_q, not_3, strict=True) if k])), 4),
                "simple_complex_accuracy": round(
                    float(np.mean([p == e.label for p, e in zip(r_pred, test_r, strict=True)])), 4),
                "n": [len(test_b), len(test_q), len(test_r)],
            }  # fmt: skip
            print(set_name, name, report[f"{set_name}/{name}"], flush=True)
    record_held_out(path, report)


def train_question(out: Path) -> None:
    """The open/closed pair model of docs/metrics.md (not shipped): 884 question utterances of the 75."""
    data = load()
    old, new = held_out_sets(data["behaviour"])
    train = [e for e in data["question"] if _tid(e) not in old | new and e.group.split("|")[-1] != "3"]
    source = ANNOMI / "AnnoMI-full.csv"
    provenance = {"trained_on": [{"file": source.name, "sha256": _sha256(source)}],
                  "excluded_from_training": "AnnoMI annotator 3 question subtypes"}  # fmt: skip
    train_pair_weights(train, out, provenance, log=lambda m: print(m, flush=True), kind="mi_question")


def score_question_held_out(behaviour_path: Path, question_path: Path) -> None:
    """Open/closed on both held-out sets: lexical pipeline vs the pair models (with and without the rules)."""
    data = load()
    old, new = held_out_sets(data["behaviour"])
    held = old | new
    train_b = [Example(e.text, e.label, e.group) for e in data["behaviour"] if _tid(e) not in held]
    train_q = [Example(e.text, e.label, e.group) for e in data["question"]
               if _tid(e) not in held and e.group.split("|")[-1] != "3"]  # fmt: skip
    train_r = [e for e in data["reflection"] if _tid(e) not in held]
    lexical = fit_classifier("mi_behaviour", train_b)
    question, reflection = fit_classifier("mi_question", train_q), fit_classifier("mi_reflection", train_r)
    pair_b = load_pair_classifier(behaviour_path)
    pair_q = load_pair_classifier(question_path, kind="mi_question")
    setups = {
        "lexical pipeline (rules + lexical question model)": (MICoder(lexical, question, reflection), question),
        "pair behaviour + rules + pair question model": (MICoder(pair_b, pair_q, reflection), pair_q),  # type: ignore[arg-type]
        "pair behaviour + pair question model, no opening rules (minilm_pair)": (
            MICoder(pair_b, pair_q, reflection, question_rules=False), pair_q),  # type: ignore[arg-type]
    }  # fmt: skip
    report: dict[str, object] = {}
    for set_name, ids in (("new_held_out_16", new), ("old_held_out_16", old)):
        test = [e for e in data["question"] if _tid(e) in ids]
        not_3 = np.array([e.group.split("|")[-1] != "3" for e in test])
        y, groups = np.array([e.label for e in test]), [_tid(e) for e in test]
        for name, (coder, _) in setups.items():
            hit = np.array(pipeline_subtypes(coder, test, "question")) == y
            ci = grouped_bootstrap_ci(list(y[not_3]), list(np.where(hit, y, "x")[not_3]),
                                      [g for g, k in zip(groups, not_3, strict=True) if k], "accuracy")  # fmt: skip
            report[f"{set_name}/{name}"] = {
                "open_closed_accuracy": round(float(hit.mean()), 4),
                "excl_annotator_3": round(float(hit[not_3].mean()), 4), "excl_annotator_3_ci95": ci,
                "n": [len(test), int(not_3.sum())],
            }  # fmt: skip
            print(set_name, name, report[f"{set_name}/{name}"], flush=True)
    record_held_out(question_path, report)


if __name__ == "__main__":
    import torch

    torch.set_num_threads(2)
    if sys.argv[1] == "fold":
        run_fold(int(sys.argv[2]))
    elif sys.argv[1] == "train-question":
        train_question(Path(sys.argv[2]))
    elif sys.argv[1] == "score-question":
        score_question_held_out(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "score":
        score_held_out(Path(sys.argv[2]))
    else:
        run_final(Path(sys.argv[2]))
