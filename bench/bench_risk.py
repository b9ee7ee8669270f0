"""Throughput of the risk detector's default path (rules + learned MiniLM model) against ROUGE-L.

Texts per second, best of ``--repeat`` runs, for: the rules alone, the default ``risk_detection``
metric (rules + ordinal model, batched), one-at-a-time ``assess_risk`` (how the guard calls it), and
optionally the MiniLM variant when its weights exist. ROUGE-L (``rouge-score``) on the same texts
in the same run is the yardstick, so numbers from a busy machine stay comparable.
Target (issue 14): >= 200 texts/s on 2 cores for the default path.

    python bench/bench_risk.py                      # synthetic help-seeker messages
    python bench/bench_risk.py --out reports/bench_risk.json
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

OPENERS = ["Honestly", "I don't know", "Today was hard.", "Hi.", "So", "It's late and"]
MIDDLES = [
    "work has been crushing me and I can't sleep",
    "I keep thinking everyone would be better off without me",
    "my sister and I had another fight about mum",
    "I've been cutting again, only small ones",
    "I have the pills lined up and I'm waiting until everyone's asleep",
    "this exam is killing me lol",
    "my friend told me she wants to die and I don't know what to say",
    "I tried to kill myself two years ago and the feelings are back",
]
ENDINGS = ["What should I do?", "I just needed to say it.", "Sorry for the rant.", "", "Any advice?"]


def messages(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    # A day number makes every text unique, so no per-text cache (MiniLM's) can serve a repeat.
    return [f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)}. Day {i}. {rng.choice(ENDINGS)}".strip() for i in range(n)]


def best_rate(fn: Callable[[], Any], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return round(n / best, 1)


def run(texts: Sequence[str], repeat: int) -> dict[str, Any]:
    from rouge_score import rouge_scorer

    from harness.metrics.base import Output
    from harness.metrics.risk import RiskDetection, assess_risk, assess_rules
    from harness.suite import Case

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    cases = [Case.model_validate({"id": f"b{i}", "split": "test", "input": t}) for i, t in enumerate(texts)]
    outputs = [Output("") for _ in texts]
    from harness.metrics import models

    metric = RiskDetection()
    lexical = RiskDetection(encoder="lexical")
    metric.score(cases[:4], outputs[:4])  # load weights and MiniLM once, outside the timing
    lexical.score(cases[:4], outputs[:4])

    def cold(run: Callable[[], object]) -> Callable[[], object]:
        def timed() -> object:
            models._EMBED_CACHE.clear()  # time the encoding, not the memo
            return run()
        return timed

    rates = {
        "baseline:rougeL": best_rate(lambda: [scorer.score(t, t[::-1]) for t in texts], len(texts), repeat),
        "risk:rules_only": best_rate(lambda: [assess_rules(t) for t in texts], len(texts), repeat),
        "risk:metric_default (rules + MiniLM model, batched)": best_rate(
            cold(lambda: metric.score(cases, outputs)), len(texts), repeat
        ),
        "risk:assess_risk one at a time (guard, MiniLM)": best_rate(
            cold(lambda: [assess_risk(t) for t in texts]), len(texts), repeat
        ),
        "risk:lexical variant (rules + n-gram model, batched)": best_rate(
            lambda: lexical.score(cases, outputs), len(texts), repeat
        ),
    }
    rouge = rates["baseline:rougeL"]
    return {
        name: {"texts_per_s": r, "x_slower_than_rougeL": round(rouge / r, 2)} for name, r in rates.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of texts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (MiniLM variant only)")
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    result = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "threads": args.threads},
        "n": args.n,
        "rates": run(messages(args.n), args.repeat),
        "target": ">= 200 texts/s for the default path",
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
