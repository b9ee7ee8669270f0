"""A gate run's suites decoded in one loop, against one decode per suite (the path before).

    python bench/bench_suites_together.py [--suites discharge summarization therapy] [--limit N] [--rounds 2]

Builds the gate candidate's (``base``) prompts for each suite's test split as ``harness run`` does
(bench_prefix) and generates them through one transformers backend two ways, alternating per round
(this machine's speed drifts by 10-20% over minutes, so only alternating rounds compare):

- per suite (before): one ``generate`` call per suite, as the runner made them;
- together (now): all suites in one call (``Candidate.prefetch``): each suite's batch keeps its own KV
  cache and token limit (``fast_decode.decode_segments``), and each step's weight products run once over
  every suite's rows.

Prints the best wall and CPU seconds, the ratio, the decode steps each way, the peak RSS, and how many
texts and token counts are identical.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="+", default=["discharge", "summarization", "therapy"])
    parser.add_argument("--limit", type=int, default=None, help="test cases per suite (default: all)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from bench_prefix import _suite_requests

    from harness.models import fast_decode
    from harness.models.transformers_backend import TransformersBackend

    steps = {"count": 0}
    step = fast_decode._Decoder.step

    def counted(self: object, *a: object, **k: object) -> object:
        steps["count"] += 1
        return step(self, *a, **k)  # type: ignore[arg-type]

    fast_decode._Decoder.step = counted  # type: ignore[method-assign]
    backend = TransformersBackend("smollm2-135m-instruct")
    by_suite = [_suite_requests(suite, args.limit, None) for suite in args.suites]
    everything = [request for requests in by_suite for request in requests]
    backend.generate(everything[:1])  # load and warm outside the timings
    counts = ", ".join(f"{suite} {len(requests)}" for suite, requests in zip(args.suites, by_suite, strict=True))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{len(everything)} requests: {counts}")
    times: dict[str, list[float]] = {"per suite": [], "together": []}
    cpus: dict[str, list[float]] = {name: [] for name in times}
    outputs: dict[str, list[tuple[str, int | None]]] = {}
    decode_steps: dict[str, int] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name in times:
            steps["count"] = 0
            began, cpu = time.perf_counter(), time.process_time()
            if name == "per suite":
                results = [result for requests in by_suite for result in backend.generate(requests)]
            else:
                results = backend.generate(everything)
            times[name].append(time.perf_counter() - began)
            cpus[name].append(time.process_time() - cpu)
            outputs[name] = [(r.text, r.completion_tokens) for r in results]
            decode_steps[name] = steps["count"]
            loads.append(os.getloadavg()[0])
    pairs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(times["per suite"], times["together"], strict=True))
    print(f"load {min(loads):.1f}-{max(loads):.1f}, rounds per suite/together {pairs} s")
    for name in times:
        same = sum(a == b for a, b in zip(outputs[name], outputs["per suite"], strict=True))
        print(f"  {name:10} {min(times[name]):7.1f} s  {min(times['per suite']) / min(times[name]):5.2f}x  "
              f"CPU {min(cpus[name]):6.1f} s  decode steps {decode_steps[name]}  "
              f"identical to per suite {same}/{len(everything)}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB; "
          f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
