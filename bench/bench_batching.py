"""Batch width on the gate suites: the backend as it was (fixed batches) against today's KV-budget batches.

    python bench/bench_batching.py [--suites discharge therapy summarization] [--limit N] [--rounds 1]
        [--before REV]

Builds the gate candidate's (``base``) prompts for each suite's test split as ``harness run`` does
(bench_prefix), hands them to the transformers backend in the chunks the candidate sends (sorted by
length, ``batch_size`` per call), and times generation two ways, alternating per round:

- before: ``harness/models/transformers_backend.py`` at git revision ``--before`` (loaded from git into
  its own module): 16 rows per batch and call, at most 8,192 padded tokens per ordinary batch, and prefix
  groups merged into one decode batch of up to 16 rows whatever their length;
- now: ``DEFAULT_BATCH_SIZE`` rows and the token budget sized from the model's KV cache
  (harness.models.batch_budget), which also bounds the merged decode batch.

Prints per suite the wall and CPU seconds, the ratio, and how many texts are identical to the old
batches' (batch width is not part of the generator identity, so it must not change greedy tokens).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "bench"))

BEFORE = "fd872f0"  # the last commit with 16-row / 8,192-token batches


def before_backend_module(revision: str) -> Any:
    """harness/models/transformers_backend.py at ``revision`` as its own module (its own model cache)."""
    source = subprocess.run(["git", "show", f"{revision}:harness/models/transformers_backend.py"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("transformers_backend_before", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    exec(compile(source, f"{revision}:harness/models/transformers_backend.py", "exec"), module.__dict__)
    return module


def _run(backend: object, requests: list, chunk: int) -> tuple[float, float, list[str]]:
    """(wall seconds, CPU seconds, texts) for all requests in the candidate's chunks."""
    began, cpu = time.perf_counter(), time.process_time()
    results = []
    for start in range(0, len(requests), chunk):
        results += backend.generate(requests[start : start + chunk])  # type: ignore[attr-defined]
    return time.perf_counter() - began, time.process_time() - cpu, [r.text for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="+", default=["discharge", "therapy", "summarization"])
    parser.add_argument("--limit", type=int, default=None, help="test cases per suite (default: all)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", default=BEFORE, help="git revision of the backend before")
    args = parser.parse_args()

    from bench_prefix import _suite_requests

    from harness.models.batch_budget import DEFAULT_BATCH_SIZE
    from harness.models.transformers_backend import TransformersBackend

    before = before_backend_module(args.before).TransformersBackend("smollm2-135m-instruct")
    base = f"before ({args.before}): 16 rows"
    backends = {base: before, "now: KV-budget batches": TransformersBackend("smollm2-135m-instruct")}
    chunks = {base: before.batch_size, "now: KV-budget batches": DEFAULT_BATCH_SIZE}
    now = backends["now: KV-budget batches"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"now = {now.batch_size} rows, {now.token_budget} tokens per batch")
    totals = {name: 0.0 for name in backends}
    for suite in args.suites:
        requests = _suite_requests(suite, args.limit, None)
        for backend in backends.values():  # load and warm outside the timings
            backend.generate(requests[:1])
        times: dict[str, list[float]] = {name: [] for name in backends}
        cpus: dict[str, list[float]] = {name: [] for name in backends}
        texts: dict[str, list[str]] = {}
        loads = [os.getloadavg()[0]]
        for _ in range(args.rounds):
            for name, backend in backends.items():
                seconds, cpu, texts[name] = _run(backend, requests, chunks[name])
                times[name].append(seconds)
                cpus[name].append(cpu)
                loads.append(os.getloadavg()[0])
        print(f"{suite}: {len(requests)} cases x {requests[0].params.max_new_tokens} new tokens, "
              f"load {min(loads):.1f}-{max(loads):.1f}")
        for name in backends:
            best = min(times[name])
            totals[name] += best
            same = sum(a == b for a, b in zip(texts[name], texts[base], strict=True))
            print(f"  {name:30} {best:7.1f} s  {min(times[base]) / best:5.2f}x  CPU {min(cpus[name]):6.1f} s  "
                  f"identical to before {same}/{len(requests)}")
    first, second = list(backends)
    print(f"all suites: before {totals[first]:.1f} s, now {totals[second]:.1f} s = "
          f"{totals[first] / totals[second]:.2f}x; load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
