"""`harness --help` start-up time against a bare `python -c pass` in the same run.

    python bench/bench_cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bare = _time([sys.executable, "-c", "pass"], args.repeats)
    cli = _time([sys.executable, "-m", "harness.cli", "--help"], args.repeats)
    print(f"python -c pass : {bare:.3f} s (median of {args.repeats})")
    print(f"harness --help : {cli:.3f} s (target < 1.5 s); {cli / bare:.1f}x a bare interpreter")


if __name__ == "__main__":
    main()
