"""Decoding options side by side on the embedded model: same prompts, one run, ratios to the plain path.

    python bench/bench_decoding.py [--max-new-tokens 64] [--long] [--rounds 2]

Baseline: float32 ``lm.generate`` with transformers' default dynamic KV cache (the path before static
caches and fast decoding). Rows: float32 + static cache (``generate``'s default from 256 prompt tokens),
float32 fast decode (``harness.models.fast_decode``, the default for greedy batches), bfloat16 through
``generate`` with either cache and bfloat16 fast decode (opt-in ``dtype: bfloat16``; the static-cache rows
use it on every prompt length here). The variants run in alternating
rounds (A B C D E, A B C D E, ...) so load changes on a shared machine hit them alike; each row reports
the median tokens/s over rounds, the CPU seconds the process used (less sensitive to other jobs than wall
time; on an idle 2-core machine wall ~ CPU / 2), the ratio to the baseline, and how many greedy outputs are
identical to the float32 baseline's and, for bfloat16 fast decode, to bfloat16 ``generate``'s.
``--long`` adds discharge-sized prompts (a ~700-token summary in the system message), where prompt
processing dominates and the token-budget batching applies.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_generation import PROMPTS

SUMMARY = (
    "Discharge summary. Admitted with community-acquired pneumonia, treated with intravenous antibiotics "
    "then oral amoxicillin. Oxygen weaned on day three. Follow-up chest X-ray in six weeks with the GP. "
) * 12
MODEL = "smollm2-135m-instruct"
VARIANTS = [  # (label, backend options); the first is the baseline
    ("float32 generate, dynamic cache (baseline)", {"static_cache": False, "fast": False}),
    ("float32 generate, static cache", {"static_cache": True, "fast": False}),
    ("float32 fast decode (default)", {"fast": True}),
    ("bfloat16 generate, static cache", {"dtype": "bfloat16", "fast": False}),
    ("bfloat16 generate, dynamic cache", {"dtype": "bfloat16", "static_cache": False, "fast": False}),
    # bf16 keeps generate where it would use the static cache (outputs differ), so fast decode runs without it
    ("bfloat16 fast decode (opt-in)", {"dtype": "bfloat16", "static_cache": False, "fast": True}),
]


def _requests(long: bool, max_new_tokens: int) -> list:
    from harness.models.base import ChatRequest, GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens)
    system = f"Answer from this summary only.\n{SUMMARY}" if long else "You are a supportive counsellor."
    return [ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": p}], params)
            for p in PROMPTS]


def _timed(backend: object, requests: list) -> tuple[float, float, list[str]]:
    """(tokens/s wall, CPU seconds, texts) for one generation of all requests."""
    began, cpu = time.perf_counter(), time.process_time()
    results = backend.generate(requests)  # type: ignore[attr-defined]
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    tokens = sum(r.completion_tokens or 0 for r in results)
    return tokens / seconds, cpu, [r.text for r in results]


def _compare(label: str, requests: list, rounds: int, max_new_tokens: int) -> None:
    from harness.models.transformers_backend import TransformersBackend

    for _, kwargs in VARIANTS:  # load, pack and warm every variant outside the timings
        TransformersBackend(MODEL, batch_size=16, **kwargs).generate(requests[:2])
    rates: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    cpus: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    texts: dict[str, list[str]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, kwargs in VARIANTS:
            rate, cpu, out = _timed(TransformersBackend(MODEL, batch_size=16, **kwargs), requests)
            rates[name].append(rate)
            cpus[name].append(cpu)
            if texts.setdefault(name, out) != out:
                print(f"  note: {name} gave different texts in two rounds")
            loads.append(os.getloadavg()[0])
    print(f"\n{label}: {len(requests)} prompts x {max_new_tokens} new tokens, batch 16, {rounds} alternating "
          f"rounds, load average {min(loads):.1f}-{max(loads):.1f}")
    baseline = VARIANTS[0][0]
    base_rate, base_cpu = statistics.median(rates[baseline]), statistics.median(cpus[baseline])
    for name, _ in VARIANTS:
        rate, cpu = statistics.median(rates[name]), statistics.median(cpus[name])
        same = sum(a == b for a, b in zip(texts[name], texts[baseline], strict=True))
        line = (f"  {name:44} {rate:7.1f} tok/s {rate / base_rate:5.2f}x  CPU {cpu:6.1f} s "
                f"({base_cpu / cpu:4.2f}x)  identical to baseline {same}/{len(requests)}")
        if name.startswith("bfloat16 fast"):
            for other in ("static", "dynamic"):
                same_bf16 = sum(a == b for a, b in zip(texts[name], texts[f"bfloat16 generate, {other} cache"],
                                                        strict=True))
                line += f", to bfloat16 generate {other} {same_bf16}/{len(requests)}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--long", action="store_true", help="also run discharge-sized prompts")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per variant (median reported)")
    args = parser.parse_args()

    from harness.models import transformers_backend

    transformers_backend.STATIC_CACHE_FROM = 1  # the static-cache rows use it on every prompt length
    import torch

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    for label, long in [("short chat prompts", False)] + ([("discharge-sized prompts", True)] if args.long else []):
        _compare(label, _requests(long, args.max_new_tokens), args.rounds, args.max_new_tokens)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
