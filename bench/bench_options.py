"""Every speed option of issue 21 side by side, in one run, with the load average at each step.

    python bench/bench_options.py [--quick] [--with-training]

1. Scoring: a suite's metrics on its test cases (the references as outputs) without the score cache,
   then through it cold (miss: scored and stored) and warm (hit), alternating; plus the one-off cost
   of building the BERTScore scorer and importing rouge-score/nltk, which a warm run no longer pays.
2. Decoding (``bench_decoding.py``): float32 dynamic cache (baseline), static cache, bf16.
3. Threads (``bench_threads.py``): OpenMP default wait policy vs PASSIVE, in fresh processes.
4. Cascade attention (``bench_cascade.py``): shared prefixes copied per row vs read once per group.
5. With ``--with-training``, LoRA SFT (``bench_lora_precision.py``): float32 vs bf16 autocast, TRL's LM
   head vs the CPU one, length-grouped batches and less frequent logging.

Each part compares its baseline and options in the same run, so a ratio is meaningful even when
the machine is shared; absolute figures are not. ``--quick`` shortens every part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def _one_off_costs() -> None:
    for label, code in [("import rouge-score (+ nltk)", "import rouge_score.rouge_scorer"),
                        ("build the BERTScore scorer", "from harness.metrics.overlap import _bert_scorer; "
                                                       "_bert_scorer('all-minilm-l6-v2', 6)")]:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True)
        print(f"  {label:44} {time.perf_counter() - began:6.2f} s in a fresh process (incl. interpreter)  {_load()}")


def bench_scoring(rounds: int, suite_ref: str) -> None:
    sys.path.insert(0, str(REPO))
    from harness.metrics.base import Output
    from harness.runner import suite_metrics
    from harness.score_cache import ScoreCache
    from harness.scoring import score_cases
    from harness.store import Store
    from harness.suite import load_suite, parse_suite_ref

    suite = load_suite(*parse_suite_ref(suite_ref))
    cases = suite.select()
    outputs = [Output(c.reference or (c.references[0] if c.references else c.input or "ok")) for c in cases]
    metrics = suite_metrics(suite)
    score_cases(cases[:2], outputs[:2], metrics)  # build models / imports outside the timings
    times: dict[str, list[float]] = {"no cache": [], "cache miss (score + store)": [], "cache hit": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            with Store(Path(tmp) / f"s{round_}.sqlite") as store:
                for label, cache in [("no cache", None), ("cache miss (score + store)", ScoreCache(store)),
                                     ("cache hit", ScoreCache(store))]:
                    began = time.perf_counter()
                    score_cases(cases, outputs, metrics, cache)
                    times[label].append(time.perf_counter() - began)
    base = statistics.median(times["no cache"])
    print(f"\n[scoring] {suite.key}: {len(cases)} cases x {len(metrics)} metrics, median of {rounds}  {_load()}")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label:44} {median:7.3f} s  {median / base:6.3f}x")
    _one_off_costs()


def _run_part(title: str, argv: list[str]) -> None:
    print(f"\n[{title}] {' '.join(argv)}  {_load()}", flush=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    print("\n".join(lines) if out.returncode == 0 else f"  failed ({out.returncode}): {out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--with-training", action="store_true")
    parser.add_argument("--suite", default="therapy/v2")
    parser.add_argument("--parts", nargs="+", default=["scoring", "decoding", "threads", "cascade"],
                        choices=["scoring", "decoding", "threads", "cascade"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, affinity {len(os.sched_getaffinity(0))}, start {_load()}")
    if "scoring" in args.parts:
        bench_scoring(2 if args.quick else 3, args.suite)
    tokens = "16" if args.quick else "32"
    if "decoding" in args.parts:
        _run_part("decoding", [str(BENCH / "bench_decoding.py"), "--max-new-tokens", tokens]
                  + ([] if args.quick else ["--long"]))
    if "threads" in args.parts:
        _run_part("threads", [str(BENCH / "bench_threads.py"), "--rounds", "1" if args.quick else "3",
                              "--max-new-tokens", tokens, "--batches", "16"])
    if "cascade" in args.parts:
        _run_part("cascade attention", [str(BENCH / "bench_cascade.py"), "--rounds", "1" if args.quick else "2"]
                  + (["--suites", "discharge", "--limit", "12"] if args.quick else []))
    if args.with_training:
        _run_part("LoRA SFT", [str(BENCH / "bench_lora_precision.py"), "--steps", "4" if args.quick else "8",
                               "--repeats", "1" if args.quick else "2"])
    print(f"\nend {_load()}")


if __name__ == "__main__":
    main()
