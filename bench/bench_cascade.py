"""Cascade attention on the gate suites: shared prefixes attended once per group, against a copy per row.

    python bench/bench_cascade.py [--suites discharge therapy] [--limit N] [--rounds 2]

Builds the gate candidate's (``base``) prompts for each suite's test split as ``harness run`` does
(bench_prefix) and generates them through one transformers backend two ways, alternating per round
(this machine's speed drifts by 10-20% over minutes, so only alternating rounds compare):

- copied prefix (the path before): every row of a prefix group holds and reads its own copy of the
  shared prefix (``Prefilled.shared_prefix`` forced to 0, as the decode loop had it);
- cascade (now): harness.models.cascade_attention reads each group's prefix once per step.

Prints per suite the best wall and CPU seconds, the ratio, and how many texts are identical (the two
differ only in float rounding of the attention's merge, so greedy texts should match).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "bench"))


@contextmanager
def copied_prefixes() -> Iterator[None]:
    """The decode loop as before: prefilled parts report no shared prefix, so every row gets a full copy."""
    from harness.models import fast_decode

    prefill = fast_decode.prefill

    def without_sharing(*args: object, **kwargs: object) -> fast_decode.Prefilled:
        return dataclasses.replace(prefill(*args, **kwargs), shared_prefix=0)  # type: ignore[arg-type]

    fast_decode.prefill = without_sharing  # type: ignore[assignment]
    try:
        yield
    finally:
        fast_decode.prefill = prefill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="+", default=["discharge", "therapy"])
    parser.add_argument("--limit", type=int, default=None, help="test cases per suite (default: all)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from bench_prefix import _suite_requests

    from harness.models.transformers_backend import TransformersBackend

    backend = TransformersBackend("smollm2-135m-instruct")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    totals = {"copied": 0.0, "cascade": 0.0}
    for suite in args.suites:
        requests = _suite_requests(suite, args.limit, None)
        backend.generate(requests[:1])  # load and warm outside the timings
        times: dict[str, list[float]] = {name: [] for name in totals}
        cpus: dict[str, list[float]] = {name: [] for name in totals}
        texts: dict[str, list[str]] = {}
        loads = [os.getloadavg()[0]]
        for _ in range(args.rounds):
            for name in totals:
                began, cpu = time.perf_counter(), time.process_time()
                if name == "copied":
                    with copied_prefixes():
                        results = backend.generate(requests)
                else:
                    results = backend.generate(requests)
                times[name].append(time.perf_counter() - began)
                cpus[name].append(time.process_time() - cpu)
                texts[name] = [r.text for r in results]
                loads.append(os.getloadavg()[0])
        pairs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(times["copied"], times["cascade"], strict=True))
        print(f"{suite}: {len(requests)} cases x {requests[0].params.max_new_tokens} new tokens, "
              f"load {min(loads):.1f}-{max(loads):.1f}, rounds copied/cascade {pairs} s")
        for name in totals:
            best = min(times[name])
            totals[name] += best
            same = sum(a == b for a, b in zip(texts[name], texts["copied"], strict=True))
            print(f"  {name:10} {best:7.1f} s  {min(times['copied']) / best:5.2f}x  CPU {min(cpus[name]):6.1f} s  "
                  f"identical to copied {same}/{len(requests)}")
    print(f"all suites: copied {totals['copied']:.1f} s, cascade {totals['cascade']:.1f} s = "
          f"{totals['copied'] / totals['cascade']:.2f}x; load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
