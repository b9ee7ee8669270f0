"""Coverage of "95%" intervals for a mean at the demo's sizes (n = 6, 8, 10 cases per suite).

For each synthetic population whose true mean is known, draw ``--reps`` samples of n, build each
interval, and count how often it contains the true mean. A 95% interval should cover ~95%.
Compared: the percentile bootstrap (what reports used before), BCa, Student t, and Wilson for
pass/fail metrics. The populations mimic the metrics on the page: skewed scores in [0, 1]
(ROUGE-L, BERTScore-like), a 0-6 integer score (empathy total), a zero-inflated score (a metric
most cases fail), and pass/fail at 50% and 85%.

    python bench/bench_coverage.py                  # 2000 samples per cell (~1-2 min on 2 cores)
    python bench/bench_coverage.py --reps 500 --out reports/bench_coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.stats import bca_interval, t_interval, wilson_interval

Population = tuple[str, Callable[[np.random.Generator, int], np.ndarray], float, bool]


def populations() -> list[Population]:
    """(name, sampler, true mean, binary)."""
    empathy_p = np.array([0.30, 0.25, 0.2, 0.12, 0.08, 0.04, 0.01])
    return [
        ("beta(2,8) skewed score", lambda r, n: r.beta(2, 8, n), 0.2, False),
        ("beta(5,5) symmetric score", lambda r, n: r.beta(5, 5, n), 0.5, False),
        ("0-6 integer score", lambda r, n: r.choice(7, n, p=empathy_p).astype(float),
         float(np.dot(np.arange(7), empathy_p)), False),
        ("zero-inflated score (70% zeros)", lambda r, n: np.where(r.random(n) < 0.7, 0.0, r.beta(4, 4, n)),
         0.3 * 0.5, False),
        ("pass/fail p=0.5", lambda r, n: (r.random(n) < 0.5).astype(float), 0.5, True),
        ("pass/fail p=0.85", lambda r, n: (r.random(n) < 0.85).astype(float), 0.85, True),
    ]


def percentile(data: np.ndarray, rng: np.random.Generator, resamples: int) -> tuple[float, float]:
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])  # what bootstrap_mean returns: a zero-width interval
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def coverage(sampler: Callable[[np.random.Generator, int], np.ndarray], truth: float, binary: bool, n: int,
             reps: int, resamples: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits = {"percentile": 0, "bca": 0, "t": 0, "wilson": 0}
    for rep in range(reps):
        data = sampler(rng, n)
        methods = {"percentile": percentile(data, rng, resamples)}
        if np.all(data == data[0]):
            methods["bca"] = (float(data[0]), float(data[0]))
        else:
            methods["bca"] = bca_interval(data, resamples=resamples, seed=seed + rep)
        low, high = t_interval(data)
        methods["t"] = (low if low is not None else truth + 1, high if high is not None else truth - 1)
        if binary:
            methods["wilson"] = wilson_interval(float(data.sum()), n)
        for name, (lo, hi) in methods.items():
            hits[name] += int(lo - 1e-12 <= truth <= hi + 1e-12)
    out = {name: hits[name] / reps for name in ("percentile", "bca", "t")}
    if binary:
        out["wilson"] = hits["wilson"] / reps
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 8, 10])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    print(f"coverage of nominal 95% intervals, {args.reps} samples per cell, {args.resamples} resamples")
    print(f"{'population':34} {'n':>3} {'percentile':>10} {'BCa':>6} {'t':>6} {'Wilson':>7}")
    for name, sampler, truth, binary in populations():
        for n in args.sizes:
            cov = coverage(sampler, truth, binary, n, args.reps, args.resamples, args.seed)
            rows.append({"population": name, "n": n, **cov})
            wilson = f"{cov['wilson']:7.3f}" if "wilson" in cov else f"{'':>7}"
            print(f"{name:34} {n:3d} {cov['percentile']:10.3f} {cov['bca']:6.3f} {cov['t']:6.3f} {wilson}")
    if args.out:
        args.out.write_text(json.dumps({"reps": args.reps, "resamples": args.resamples, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
