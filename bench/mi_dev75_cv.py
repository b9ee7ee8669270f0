"""Grouped 5-fold CV of the full MI sentence pipeline on the 75 AnnoMI-dev development transcripts.

    PYTHONPATH=. python bench/mi_dev75_cv.py [--errors]
    PYTHONPATH=. python bench/mi_dev75_cv.py --held-out     # once, at the end: both held-out sets

``--held-out`` trains the lexical models on the 75 and scores the two held-out sets of 16 transcripts,
with the settings before session 6 (no word-piece vectors, behaviour C=4, argmax open/closed fallback)
and after.

The 32 held-out transcripts of ``bench/mi_pair_holdout.py`` are left out. Per fold, the lexical behaviour,
question and reflection models are refitted on the training transcripts (annotator 3's question subtypes
out of training, as shipped) and the pipeline codes the test utterances; printed: behaviour macro-F1 of the
utterance model, open/closed accuracy of the pipeline (all items and without annotator 3) split by which
block decided it, and simple/complex accuracy. ``--errors`` prints the wrong open/closed items of the
block where no sentence was coded a question (to read, never to copy into tests).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mi_context_holdout import macro_f1_ci
from mi_pair_holdout import ANNOMI, held_out_sets

from harness.metrics import mi as mi_module
from harness.metrics import models as models_module
from harness.metrics.mi import MICoder, utterance_subtype, utterance_subtypes
from harness.metrics.models import Example, annomi_examples, fit_classifier
from harness.validation.mi import grouped_bootstrap_ci


def _tid(e: Example) -> str:
    return e.group.split("|")[0]


def main() -> None:
    show_errors = "--errors" in sys.argv
    behaviour = annomi_examples(ANNOMI, "mi_behaviour")
    question = annomi_examples(ANNOMI, "mi_question")
    reflection = annomi_examples(ANNOMI, "mi_reflection")
    old, new = held_out_sets(behaviour)
    held = old | new
    behaviour = [e for e in behaviour if e.group not in held]
    question = [e for e in question if _tid(e) not in held]
    reflection = [e for e in reflection if _tid(e) not in held]
    transcripts = sorted({e.group for e in behaviour})
    fold_of = {}
    for k, (_, test) in enumerate(GroupKFold(5).split(transcripts, transcripts, transcripts)):
        fold_of.update({transcripts[i]: k for i in test})
    b_y, b_pred = [], []
    q_rows: list[tuple[str, str, str, str, str]] = []  # label, pred, annotator, block, text
    r_hits = []
    for k in range(5):
        train_b = [e for e in behaviour if fold_of[e.group] != k]
        train_q = [e for e in question if fold_of[_tid(e)] != k and e.group.split("|")[-1] != "3"]
        train_r = [e for e in reflection if fold_of[_tid(e)] != k]
        models = (
            fit_classifier("mi_behaviour", train_b),
            fit_classifier("mi_question", train_q),
            fit_classifier("mi_reflection", train_r),
        )
        test_b = [e for e in behaviour if fold_of[e.group] == k]
        b_y += [e.label for e in test_b]
        b_pred += models[0].predict([e.text for e in test_b], [e.context for e in test_b])
        coder = MICoder(*models)
        test_q = [e for e in question if fold_of[_tid(e)] == k]
        coded = coder.code_many([e.text for e in test_q], [e.context for e in test_q])
        preds = utterance_subtypes(coder, [e.text for e in test_q], [e.context for e in test_q], "question", coded)
        for e, sentences, pred in zip(test_q, coded, preds, strict=True):
            found = utterance_subtype([c.code for c in sentences], "question")
            q_rows.append((e.label, pred, e.group.split("|")[-1], "coded" if found else "none", e.text))
        test_r = [e for e in reflection if fold_of[_tid(e)] == k]
        coded = coder.code_many([e.text for e in test_r], [e.context for e in test_r])
        preds = utterance_subtypes(coder, [e.text for e in test_r], [e.context for e in test_r], "reflection", coded)
        r_hits += [p == e.label for p, e in zip(preds, test_r, strict=True)]
    print(f"behaviour macro-F1 {f1_score(b_y, b_pred, average='macro'):.4f} (n={len(b_y)})")
    hits = np.array([y == p for y, p, *_ in q_rows])
    not_3 = np.array([a != "3" for _, _, a, _, _ in q_rows])
    print(f"open/closed pipeline {hits.mean():.4f} (n={len(hits)}), without annotator 3 {hits[not_3].mean():.4f}"
          f" (n={int(not_3.sum())})")  # fmt: skip
    for block in ("coded", "none"):
        sel = np.array([b == block for *_, b, _ in q_rows]) & not_3
        print(f"  block {block}: {hits[sel].mean():.4f} (n={int(sel.sum())})")
    print(f"simple/complex pipeline {np.mean(r_hits):.4f} (n={len(r_hits)})")
    if show_errors:
        wrong = [(y, p, t) for (y, p, a, b, t), h in zip(q_rows, hits, strict=True) if b == "none" and a != "3"
                 and not h]  # fmt: skip
        print(Counter((y, p) for y, p, _ in wrong))
        for y, p, t in wrong:
            print(f"{y:6} {p:6} | {t[:160]}")


@contextlib.contextmanager
def settings_before_session_6() -> Iterator[None]:
    """No word-piece vectors, behaviour C=4, open/closed fallback by argmax (threshold 0.5)."""
    saved = (models_module.TOKEN_VECTOR_KINDS, dict(models_module.DEFAULT_C), mi_module.UNCODED_OPEN_THRESHOLD)
    models_module.TOKEN_VECTOR_KINDS = frozenset()
    models_module.DEFAULT_C[("mi_behaviour", "lexical")] = 4.0
    mi_module.UNCODED_OPEN_THRESHOLD = 0.5
    try:
        yield
    finally:
        models_module.TOKEN_VECTOR_KINDS, _, mi_module.UNCODED_OPEN_THRESHOLD = saved
        models_module.DEFAULT_C.update(saved[1])


def score_held_out_sets() -> dict[str, dict[str, object]]:
    """Train on the 75, score each held-out set once (before / after); 95% intervals resample transcripts."""
    data = {k: annomi_examples(ANNOMI, k) for k in ("mi_behaviour", "mi_question", "mi_reflection")}
    old, new = held_out_sets(data["mi_behaviour"])
    held = old | new
    report: dict[str, dict[str, object]] = {}
    for setting in ("before", "after"):
        with settings_before_session_6() if setting == "before" else contextlib.nullcontext():
            train = {k: [e for e in v if _tid(e) not in held] for k, v in data.items()}
            train["mi_question"] = [e for e in train["mi_question"] if e.group.split("|")[-1] != "3"]
            models = tuple(fit_classifier(k, train[k]) for k in ("mi_behaviour", "mi_question", "mi_reflection"))
            coder = MICoder(*models)
            for name, ids in (("new_held_out_16", new), ("old_held_out_16", old)):
                report[f"{name}/{setting}"] = _score_set(coder, {k: [e for e in v if _tid(e) in ids]
                                                                 for k, v in data.items()})  # fmt: skip
                print(name, setting, report[f"{name}/{setting}"], flush=True)
    return report


def _score_set(coder: MICoder, test: dict[str, list[Example]]) -> dict[str, object]:
    b = test["mi_behaviour"]
    y_b = [e.label for e in b]
    pred_b = coder.utterance_behaviour([e.text for e in b], [e.context for e in b])
    q, r = test["mi_question"], test["mi_reflection"]
    pred_q = utterance_subtypes(coder, [e.text for e in q], [e.context for e in q], "question")
    pred_r = utterance_subtypes(coder, [e.text for e in r], [e.context for e in r], "reflection")
    keep = [i for i, e in enumerate(q) if e.group.split("|")[-1] != "3"]
    y_q3, p_q3, g_q3 = ([f(i) for i in keep] for f in (lambda i: q[i].label, lambda i: pred_q[i],
                                                      lambda i: _tid(q[i])))  # fmt: skip
    return {
        "behaviour_macro_f1": round(float(f1_score(y_b, pred_b, average="macro")), 4),
        "behaviour_ci95": macro_f1_ci(y_b, pred_b, [e.group for e in b]),
        "open_closed_accuracy": round(float(np.mean([p == e.label for p, e in zip(pred_q, q, strict=True)])), 4),
        "open_closed_excl_annotator_3": round(float(np.mean([y == p for y, p in zip(y_q3, p_q3, strict=True)])), 4),
        "open_closed_excl_annotator_3_ci95": grouped_bootstrap_ci(y_q3, p_q3, g_q3, "accuracy"),
        "simple_complex_accuracy": round(float(np.mean([p == e.label for p, e in zip(pred_r, r, strict=True)])), 4),
        "simple_complex_ci95": grouped_bootstrap_ci([e.label for e in r], pred_r, [_tid(e) for e in r], "accuracy"),
        "n": [len(b), len(q), len(keep), len(r)],
    }


if __name__ == "__main__":
    if "--held-out" in sys.argv:
        print(json.dumps(score_held_out_sets(), indent=1))
    else:
        main()
