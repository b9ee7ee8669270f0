"""Held-out check of the MI context features (docs/metrics.md, mi_codes), scored once.

``PYTHONPATH=. python bench/mi_context_holdout.py [../shared/data/annomi-dev]``

The client-context features were chosen by grouped CV on 91 AnnoMI-dev transcripts; 16 transcripts
(seeded draw below) were left out of that choice. This trains the behaviour and reflection-subtype
models on the 91 with and without the client's previous turn and scores both on the 16, with a 95%
bootstrap interval over held-out transcripts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from harness.metrics.models import Example, annomi_examples, fit_classifier

HELD_OUT_SEED, HELD_OUT_N = 1616, 16


def held_out_transcripts(examples: list[Example]) -> set[str]:
    ids = sorted({int(e.group.split("|")[0]) for e in examples})
    return {str(t) for t in np.random.RandomState(HELD_OUT_SEED).choice(ids, HELD_OUT_N, replace=False)}


def macro_f1_ci(y: list[str], pred: list[str], groups: list[str], n: int = 1000) -> list[float]:
    """95% interval of macro-F1, resampling whole transcripts (utterances within one are not independent)."""
    rng = np.random.default_rng(0)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    keys = list(by_group)
    scores = []
    for _ in range(n):
        idx = [i for g in rng.choice(keys, len(keys)) for i in by_group[g]]
        scores.append(f1_score([y[i] for i in idx], [pred[i] for i in idx], average="macro"))
    return [round(float(q), 4) for q in np.percentile(scores, [2.5, 97.5])]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/data/annomi-dev"
    for kind in ("mi_behaviour", "mi_reflection"):
        examples = annomi_examples(folder, kind, with_context=True)
        held = held_out_transcripts(examples)
        train = [e for e in examples if e.group.split("|")[0] not in held]
        test = [e for e in examples if e.group.split("|")[0] in held]
        y, groups = [e.label for e in test], [e.group.split("|")[0] for e in test]
        for with_context in (False, True):
            rows = train if with_context else [Example(e.text, e.label, e.group) for e in train]
            model = fit_classifier(kind, rows)
            pred = model.predict([e.text for e in test], [e.context for e in test] if with_context else None)
            score = round(float(f1_score(y, pred, average="macro")), 4)
            print(f"{kind} context={with_context}: macro-F1 {score} CI95 {macro_f1_ci(y, pred, groups)} "
                  f"(train {len(train)}, held-out {len(test)} in {len(held)} transcripts)")  # fmt: skip


if __name__ == "__main__":
    main()
