"""Throughput of the clinical metrics against plain baselines measured in the same run.

Reports responses per second (best of ``--repeat`` runs, ``--threads`` torch threads, default 2 =
the CI machine's cores; the rule metrics are pure Python and use one either way) for every rule and
embedding metric, and each metric's cost relative to two baselines: counting words (a floor
for "any per-response Python") and ROUGE-L from ``rouge-score`` (a familiar text metric).
Target: >= 200 responses/s for the rule and embedding metrics on 2 CPU cores.

    python bench/bench_metrics.py                # synthetic responses, lexical MI coder
    python bench/bench_metrics.py --minilm       # also the MiniLM-backed MI coder
    python bench/bench_metrics.py --pair         # also the LoRA MiniLM pair MI coder (opt-in)
    python bench/bench_metrics.py --out reports/bench_metrics.json

Synthetic responses are built from templates so the benchmark needs no data; with
``--counselchat`` it uses real therapist answers from ../shared/data when present.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.metrics import Output, build_metric
from harness.suite import Case

OPENERS = [
    "It sounds like the last few weeks have been really heavy for you.",
    "Thank you for telling me about this.",
    "I'm so sorry you're going through this.",
    "That makes a lot of sense given everything you've described.",
]
MIDDLES = [
    "You mentioned that sleep has been hard and work keeps piling up.",
    "Some people find it helps to write down the worries before bed.",
    "You could try a short walk after dinner if that feels doable.",
    "It's entirely up to you what feels right.",
    "You need to stop checking your phone at night.",
    "If you keep pushing yourself like this, you'll burn out.",
]
QUESTIONS = [
    "What would feel like a small first step?",
    "How have you been coping with it so far?",
    "Do you have someone you can talk to about this?",
    "Are you having any thoughts of hurting yourself?",
]
TOPICS = [
    "stress at work",
    "trouble sleeping",
    "conflict with your sister",
    "loneliness",
    "money worry",
    "grief",
    "back pain",
    "drinking",
    "exam pressure",
    "the move",
    "the breakup",
    "your son's illness",
]
CLOSERS = ["If you ever feel unsafe, you can call or text 988 any time.", "I'm here to keep talking whenever you want."]
USERS = [
    "I can't sleep and I keep worrying about my job.",
    "Honestly I've been thinking about killing myself lately.",
    "This exam is killing me, I just want it to be over lol",
    "My partner left and I feel like a burden to everyone.",
    "How much melatonin should I take?",
]
DOCUMENT = (
    "Discharge summary. Diagnosis: pneumonia. Amoxicillin 500 mg three times daily for 7 days. Continue metformin "
    "1000 mg twice a day. Follow-up on March 14. Avoid heavy lifting for two weeks."
)


def synthetic(n: int, seed: int = 0) -> tuple[list[Case], list[Output]]:
    rng = random.Random(seed)
    cases, outputs = [], []
    for i in range(n):
        topic = f"{rng.choice(TOPICS)} for about {rng.randint(2, 60)} days"  # keeps sentences unique (no cache hits)
        parts = [
            rng.choice(OPENERS),
            f"You said the {topic} has worn you down.",
            *rng.sample(MIDDLES, 2),
            rng.choice(QUESTIONS),
        ]
        if rng.random() < 0.5:
            parts.append(rng.choice(CLOSERS))
        text = " ".join(parts)
        if i % 5 == 0:
            text += "\n\n<b>Risk:</b> Medium"
        cases.append(
            Case.model_validate(
                {"id": f"b{i}", "split": "test", "input": rng.choice(USERS), "document": DOCUMENT,
                 "labels": {"risk_level": rng.choice(["none", "moderate", "imminent"]), "answerable": True,
                            "summary_risk": "Medium"},
                 "facts": ["amoxicillin 500 mg three times daily"]}
            )
        )  # fmt: skip
        outputs.append(Output(text))
    return cases, outputs


def counselchat(n: int) -> tuple[list[Case], list[Output]] | None:
    from harness.paths import shared_data_dir

    path = shared_data_dir() / "counselchat" / "20200325_counsel_chat.csv"
    if not path.exists():
        return None
    import pandas as pd

    df = pd.read_csv(path).dropna(subset=["questionText", "answerText"]).head(n)
    cases = [
        Case.model_validate({"id": f"cc{i}", "split": "test", "input": q, "document": DOCUMENT})
        for i, q in enumerate(df.questionText)
    ]
    return cases, [Output(a) for a in df.answerText]


def best_rate(fn: Callable[[], Any], n: int, repeat: int) -> float:
    """Best-of-``repeat`` rate; the embedding memo is cleared first so every run really encodes."""
    from harness.metrics import models
    from harness.metrics.mi_pair import clear_pair_caches

    best = float("inf")
    for _ in range(repeat):
        models._EMBED_CACHE.clear()
        clear_pair_caches()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def run(
    cases: Sequence[Case], outputs: Sequence[Output], repeat: int, minilm: bool, pair: bool = False
) -> dict[str, Any]:
    from rouge_score import rouge_scorer

    n = len(cases)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    refs = [c.user_text for c in cases]
    baselines = {
        "baseline:word_count": best_rate(lambda: [len(o.text.split()) for o in outputs], n, repeat),
        "baseline:rougeL": best_rate(
            lambda: [scorer.score(r, o.text) for r, o in zip(refs, outputs, strict=True)], n, repeat
        ),
    }
    metrics: dict[str, dict[str, Any]] = {
        "risk_detection": {},
        "safe_response": {},
        "summary_risk": {},
        "empathy": {},  # the learned EPITOME heads (lexical) reading the sentence evidence heads, the default
        "empathy[rules]": {"method": "rules"},
        "mi_codes": {},
        "scope_safety": {},
        "groundedness": {},
    }
    if minilm:
        metrics["mi_codes[minilm]"] = {"encoder": "minilm"}
    if pair:
        metrics["mi_codes[minilm_pair]"] = {"encoder": "minilm_pair"}
    rates: dict[str, float] = {}
    for label, params in metrics.items():
        metric = build_metric(label.split("[")[0], params)
        metric.score(cases[:20], outputs[:20])  # warm-up: model loading, regex compilation
        rates[label] = best_rate(lambda metric=metric: metric.score(cases, outputs), n, repeat)
    from harness.metrics.text import split_sentences

    sentences = [sp.text for o in outputs for sp in split_sentences(o.text)]
    return {
        "n_responses": n,
        # Templates repeat sentences and the MiniLM memo encodes each distinct sentence once, so the
        # unique count says how much real encoding a run did (use --counselchat for unique real text).
        "n_sentences": len(sentences),
        "n_unique_sentences": len(set(sentences)),
        "mean_words": round(sum(len(o.text.split()) for o in outputs) / n, 1),
        "baselines_per_s": {k: round(v, 1) for k, v in baselines.items()},
        "metrics": {
            k: {
                "responses_per_s": round(v, 1),
                "x_slower_than_word_count": round(baselines["baseline:word_count"] / v, 1),
                "x_vs_rougeL": round(baselines["baseline:rougeL"] / v, 2),
                "meets_200_per_s": v >= 200,
            }
            for k, v in rates.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500, help="responses per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minilm", action="store_true", help="also time mi_codes with the MiniLM encoder")
    parser.add_argument("--pair", action="store_true", help="also time mi_codes with the LoRA MiniLM pair model")
    parser.add_argument("--counselchat", action="store_true", help="real therapist answers from ../shared/data")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the MiniLM encoder (default 2)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    data = counselchat(args.n) if args.counselchat else None
    source = "counselchat answers" if data else "synthetic templates"
    cases, outputs = data or synthetic(args.n)
    result = run(cases, outputs, args.repeat, args.minilm, args.pair)
    result.update({"source": source, "python": platform.python_version(), "threads": args.threads,
                   "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None})  # fmt: skip
    print(
        f"{result['n_responses']} responses ({source}, ~{result['mean_words']} words), "
        f"{result['n_unique_sentences']}/{result['n_sentences']} unique sentences, {args.threads} torch thread(s)"
    )
    for name, rate in result["baselines_per_s"].items():
        print(f"  {name:28} {rate:10.1f} /s")
    for name, row in result["metrics"].items():
        flag = "ok" if row["meets_200_per_s"] else "BELOW 200/s"
        print(
            f"  {name:28} {row['responses_per_s']:10.1f} /s  "
            f"{row['x_slower_than_word_count']:7.1f}x word-count  {row['x_vs_rougeL']:5.2f}x rougeL  {flag}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
