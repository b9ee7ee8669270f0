"""Decoding options side by side on the embedded model: same prompts, one run, ratios to the plain path.

    python bench/bench_decoding.py [--max-new-tokens 64] [--long]

Baseline: float32 with transformers' default dynamic KV cache (the path before static caches). Rows:
float32 + static cache (the default from 256 prompt tokens), bfloat16 + static cache (opt-in
`dtype: bfloat16`). Each row
reports tokens/s, the ratio to the baseline and how many greedy outputs are identical to the baseline's.
``--long`` adds discharge-sized prompts (a ~700-token summary in the system message), where prompt
processing dominates and the token-budget batching applies.
"""

from __future__ import annotations

import argparse
import os
import platform
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


def _requests(long: bool, max_new_tokens: int) -> list:
    from harness.models.base import ChatRequest, GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens)
    system = f"Answer from this summary only.\n{SUMMARY}" if long else "You are a supportive counsellor."
    return [ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": p}], params)
            for p in PROMPTS]


def _timed(backend: object, requests: list) -> tuple[float, list[str]]:
    began = time.perf_counter()
    results = backend.generate(requests)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - began
    tokens = sum(r.completion_tokens or 0 for r in results)
    return tokens / seconds, [r.text for r in results]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--long", action="store_true", help="also run discharge-sized prompts")
    args = parser.parse_args()

    from harness.models import transformers_backend
    from harness.models.transformers_backend import TransformersBackend

    transformers_backend.STATIC_CACHE_FROM = 1  # compare the caches on every prompt length

    variants = [
        ("float32, dynamic cache (baseline)", {"static_cache": False}),
        ("float32, static cache", {"static_cache": True}),
        ("bfloat16, static cache (opt-in)", {"dtype": "bfloat16"}),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for label, long in [("short chat prompts", False)] + ([("discharge-sized prompts", True)] if args.long else []):
        requests = _requests(long, args.max_new_tokens)
        for _, kwargs in variants:  # load and warm every variant outside the timings
            TransformersBackend("smollm2-135m-instruct", batch_size=16, **kwargs).generate(requests[:2])
        print(f"\n{label}: {len(requests)} prompts x {args.max_new_tokens} new tokens, batch 16")
        baseline_rate, baseline_texts = 0.0, []
        for name, kwargs in variants:
            rate, texts = _timed(TransformersBackend("smollm2-135m-instruct", batch_size=16, **kwargs), requests)
            if not baseline_texts:
                baseline_rate, baseline_texts = rate, texts
            same = sum(a == b for a, b in zip(texts, baseline_texts, strict=True))
            print(f"  {name:36} {rate:7.1f} tok/s  {rate / baseline_rate:5.2f}x  identical {same}/{len(texts)}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
