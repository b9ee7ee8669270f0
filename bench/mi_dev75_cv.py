"""Grouped 5-fold CV of the full MI sentence pipeline on the 75 AnnoMI-dev development transcripts.

    PYTHONPATH=. python bench/mi_dev75_cv.py [--errors]

The 32 held-out transcripts of ``bench/mi_pair_holdout.py`` are left out. Per fold, the lexical behaviour,
question and reflection models are refitted on the training transcripts (annotator 3's question subtypes
out of training, as shipped) and the pipeline codes the test utterances; printed: behaviour macro-F1 of the
utterance model, open/closed accuracy of the pipeline (all items and without annotator 3) split by which
block decided it, and simple/complex accuracy. ``--errors`` prints the wrong open/closed items of the
block where no sentence was coded a question (to read, never to copy into tests).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mi_pair_holdout import ANNOMI, held_out_sets

from harness.metrics.mi import MICoder, utterance_subtype, utterance_subtypes
from harness.metrics.models import Example, annomi_examples, fit_classifier


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


if __name__ == "__main__":
    main()
