"""Where the time goes: a stage profile of `pytest suites/` or of the demo run, cold or warm.

    python bench/bench_stages.py pytest [--home DIR] [-k EXPR] [--out profile.prof]
    python bench/bench_stages.py demo [--limit 8] [--home DIR]

Runs the command in this process under cProfile and splits its wall time into stages: imports,
model load, generation, scoring per metric (with the BERTScore scorer's construction and the
ROUGE/nltk import apart), the store and the rest. Without ``--home`` it runs cold, in a fresh
``$HARNESS_HOME`` holding only a link to the prepared embedded model; with ``--home`` it reuses that
folder's store (a warm run when it already holds the outputs). The load average is printed: on a
shared machine compare stages within one profile, not across runs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]

# (label, file suffix, function name): the cumulative time of that function is the stage's time.
STAGES: list[tuple[str, str, str]] = [
    ("model load (transformers)", "models/transformers_backend.py", "_load_locked"),
    ("generation (incl. model load)", "harness/candidate.py", "generate"),
    ("scoring, all metrics", "harness/scoring.py", "score_cases"),
    ("  score cache lookups", "harness/score_cache.py", "lookup"),
    ("  BERTScore scorer built", "metrics/overlap.py", "_bert_scorer"),
    ("  rouge-score + nltk import", "metrics/overlap.py", "_rouge_scorer"),
    ("store writes", "harness/store.py", "transaction"),
    ("gate config + release checks", "harness/gating.py", "check_gate_session"),
]


def _cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    total = 0.0
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and filename.endswith(suffix):
            total += ct
    return total


def _metric_times(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Cumulative time of every metric class's ``score`` (file:line names the metric)."""
    rows = []
    for (filename, line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if function == "score" and "/harness/metrics/" in filename and ct > 0.05:
            rows.append((f"    {Path(filename).name}:{line} score", ct))
    return sorted(rows, key=lambda r: -r[1])


def _run_pytest(expr: str | None) -> Callable[[], object]:
    import pytest

    argv = [str(REPO / "suites"), "-q", "-p", "no:cacheprovider"] + (["-k", expr] if expr else [])
    return lambda: pytest.main(argv)


def _run_demo(limit: int) -> Callable[[], object]:
    def run() -> object:
        from harness.paths import default_store_path
        from harness.runner import run_experiment
        from harness.store import Store

        with Store(default_store_path()) as store:
            return run_experiment(REPO / "configs" / "experiments" / "demo.yaml", store=store, limit=limit,
                                  report_root=Path(os.environ["HARNESS_HOME"]) / "reports", progress=False,
                                  log=lambda _m: None)

    return run


def _fresh_home() -> Path:
    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm

    model_dir = prepare_embedded_llm()
    home = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    (home / "models").mkdir()
    (home / "models" / EMBEDDED_LLM).symlink_to(model_dir, target_is_directory=True)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["pytest", "demo"])
    parser.add_argument("--home", help="reuse this HARNESS_HOME (warm); default: a fresh one (cold)")
    parser.add_argument("-k", dest="expr", help="pytest -k expression")
    parser.add_argument("--limit", type=int, default=8, help="demo cases per suite")
    parser.add_argument("--out", help="also write the raw cProfile data here")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    home = Path(args.home) if args.home else _fresh_home()
    os.environ["HARNESS_HOME"] = str(home)
    load_before = os.getloadavg()[0]
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    (_run_pytest(args.expr) if args.what == "pytest" else _run_demo(args.limit))()
    profiler.disable()
    wall = time.perf_counter() - began
    if args.out:
        profiler.dump_stats(args.out)
    stats = pstats.Stats(profiler)
    imports = _cumulative(stats, "<frozen importlib._bootstrap>", "_find_and_load")
    print(f"\n{args.what} ({'warm, ' + str(home) if args.home else 'cold, fresh HARNESS_HOME'}): {wall:.1f} s wall; "
          f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"  {'imports (all modules)':40} {imports:8.1f} s  {imports / wall:6.1%}")
    for label, suffix, name in STAGES:
        seconds = _cumulative(stats, suffix, name)
        print(f"  {label:40} {seconds:8.1f} s  {seconds / wall:6.1%}")
    for label, seconds in _metric_times(stats):
        print(f"  {label:40} {seconds:8.1f} s  {seconds / wall:6.1%}")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
