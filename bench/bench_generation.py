"""Batched vs. single generation on the embedded model: useful tokens/s, same prompts, one run.

    python bench/bench_generation.py [--prompts 16] [--max-new-tokens 64] [--batch 16]

The baseline is batch size 1 (one prompt at a time, the plain way); the ratio is the speed-up
from batching. Greedy outputs are compared too: batching must not change them.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPTS = [
    "I can't sleep because I'm worried about money.",
    "My sister stopped talking to me after an argument.",
    "How can I feel less nervous before exams?",
    "I miss my dad, he died in spring.",
    "Work has been overwhelming and I snap at my kids.",
    "I drink more than I want to on weekends.",
    "My friends never invite me anywhere.",
    "I had a panic attack on the bus yesterday.",
    "I keep thinking about the accident.",
    "I feel like a failure since I lost my job.",
    "My partner checks my phone all the time.",
    "I can't stop scrolling at night.",
    "I don't enjoy anything anymore.",
    "My manager keeps adding deadlines.",
    "I get angry over small things.",
    "I want to quit smoking but I keep failing.",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()

    from harness.models.base import ChatRequest, GenerationParams
    from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[: args.prompts]
    params = GenerationParams(max_new_tokens=args.max_new_tokens)
    requests = [ChatRequest([{"role": "system", "content": "You are a supportive counsellor."},
                             {"role": "user", "content": p}], params) for p in prompts]
    load_model_and_tokenizer("smollm2-135m-instruct")  # load outside the timings
    TransformersBackend("smollm2-135m-instruct", batch_size=2).generate(requests[:2])  # warm-up

    rows = []
    outputs = {}
    for batch in (1, args.batch):
        backend = TransformersBackend("smollm2-135m-instruct", batch_size=batch)
        began = time.perf_counter()
        results = backend.generate(requests)
        seconds = time.perf_counter() - began
        tokens = sum(r.completion_tokens or 0 for r in results)
        outputs[batch] = [r.text for r in results]
        rows.append((batch, tokens, seconds, tokens / seconds))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads default")
    print(f"{'batch':>5} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}")
    for batch, tokens, seconds, rate in rows:
        print(f"{batch:>5} {tokens:>7} {seconds:>8.1f} {rate:>9.1f}")
    print(f"speed-up batch {args.batch} vs 1: {rows[1][3] / rows[0][3]:.2f}x (target >= 4x)")
    same = sum(a == b for a, b in zip(outputs[1], outputs[args.batch], strict=True))
    print(f"identical greedy outputs: {same}/{len(prompts)}")


if __name__ == "__main__":
    main()
