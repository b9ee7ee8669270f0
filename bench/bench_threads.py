"""OpenMP wait policy and torch thread count on the embedded model, alternating, one run.

    python bench/bench_threads.py [--rounds 3] [--max-new-tokens 32]

OpenMP reads its settings once, when torch loads, so each variant runs in a fresh child process;
the variants alternate round by round so a change in machine load hits them all alike. Baseline:
today's environment (no OMP_WAIT_POLICY: libgomp spins before it sleeps). Rows: PASSIVE waiting
(the harness default now) and a short spin before sleeping (libgomp's ``GOMP_SPINCOUNT``; its
default is 300,000 spins), a middle ground for quiet dedicated runners. The load average is printed per round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

VARIANTS: list[tuple[str, dict[str, str]]] = [
    ("default wait policy (baseline)", {}),
    ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("GOMP_SPINCOUNT=10000 (short spin)", {"GOMP_SPINCOUNT": "10000"}),
]


def child(max_new_tokens: int, batch: int) -> None:
    import torch  # before harness: the wait policy under test is the one in this process's environment

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_generation import PROMPTS

    from harness.models.base import ChatRequest, GenerationParams
    from harness.models.transformers_backend import TransformersBackend

    params = GenerationParams(max_new_tokens=max_new_tokens)
    requests = [ChatRequest([{"role": "user", "content": p}], params) for p in PROMPTS[:batch]]
    backend = TransformersBackend("smollm2-135m-instruct", batch_size=batch)
    backend.generate(requests[:1])  # load + warm
    began = time.perf_counter()
    results = backend.generate(requests)
    seconds = time.perf_counter() - began
    tokens = sum(r.completion_tokens or 0 for r in results)
    print(json.dumps({"tok_s": tokens / seconds, "threads": torch.get_num_threads(),
                      "cpu_s": time.process_time()}))


def _run(env_extra: dict[str, str], max_new_tokens: int, batch: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(env_extra, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, __file__, "--child", str(max_new_tokens), str(batch)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 1])
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, affinity {len(os.sched_getaffinity(0))}")
    for batch in args.batches:
        rates: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
        for round_ in range(args.rounds):
            for name, env in VARIANTS:
                result = _run(env, args.max_new_tokens, batch)
                rates[name].append(result["tok_s"])
            print(f"  batch {batch} round {round_ + 1}: load {os.getloadavg()[0]:.2f}  "
                  + "  ".join(f"{rates[n][-1]:.1f}" for n, _ in VARIANTS))
        base = statistics.median(rates[VARIANTS[0][0]])
        print(f"batch {batch}, {args.max_new_tokens} new tokens, median of {args.rounds}:")
        for name, _ in VARIANTS:
            median = statistics.median(rates[name])
            print(f"  {name:34} {median:7.1f} tok/s  {median / base:5.2f}x")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
