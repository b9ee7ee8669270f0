"""Cold vs. warm run of an experiment in a fresh store: the warm run must generate nothing.

    python bench/bench_warm_rerun.py [--config configs/experiments/demo.yaml] [--limit N]

Reports both wall times and their ratio (target: warm <= 10% of cold, zero generations).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/experiments/demo.yaml")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    from harness.runner import run_experiment
    from harness.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "store.sqlite") as store:
            began = time.perf_counter()
            cold = run_experiment(args.config, store=store, report_root=Path(tmp) / "reports", limit=args.limit,
                                  progress=False, log=lambda m: None)
            cold_s = time.perf_counter() - began
            began = time.perf_counter()
            warm = run_experiment(args.config, store=store, report_root=Path(tmp) / "reports", limit=args.limit,
                                  progress=False, log=lambda m: None)
            warm_s = time.perf_counter() - began
    print(f"{'run':>5} {'generated':>10} {'reused':>7} {'seconds':>8}")
    print(f"{'cold':>5} {cold.generated:>10} {cold.reused:>7} {cold_s:>8.1f}")
    print(f"{'warm':>5} {warm.generated:>10} {warm.reused:>7} {warm_s:>8.1f}")
    print(f"warm/cold wall time: {warm_s / cold_s:.1%} (target <= 10%, zero generations: {warm.generated == 0})")


if __name__ == "__main__":
    main()
