"""Would bfloat16 change the gates? Compare two gate sessions' stores, float32 vs bfloat16, gate by gate.

    HARNESS_HOME=A pytest suites/ --junitxml=a.xml                                      # float32 (today)
    HARNESS_HOME=B pytest suites/ --candidates-config gates-bf16.yaml --junitxml=b.xml  # base with dtype: bfloat16
    python bench/bench_dtype_gates.py A/store.sqlite B/store.sqlite

For each gated suite: every gate's pass/fail and observed value in both sessions; every metric key's
mean and 95% CI (harness.stats.mean_interval, cases treated as independent) for the ``base`` candidate,
the paired difference B - A with its CI, whether B's mean lies inside A's CI, and how many generated
texts are identical. Reads the latest run of each store; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _latest_run(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT id FROM runs WHERE status = 'finished' ORDER BY started_at DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("no finished run in the store")
    return row[0]


def _base_fp(db: sqlite3.Connection, run: str) -> str:
    return db.execute("SELECT candidate_fp FROM run_candidates WHERE run_id = ? AND label = 'base'",
                      (run,)).fetchone()[0]


def _gates(db: sqlite3.Connection, run: str, fp: str) -> dict[tuple[str, str], tuple[bool, float | None]]:
    rows = db.execute("SELECT suite, version, gate_id, passed, observed FROM gate_results WHERE run_id = ? "
                      "AND candidate_fp = ?", (run, fp))
    return {(f"{s}/{v}", g): (bool(p), o) for s, v, g, p, o in rows}


def _scores(db: sqlite3.Connection, run: str, fp: str) -> dict[tuple[str, str], dict[str, float | None]]:
    rows = db.execute("SELECT suite, version, key, case_id, value FROM scores WHERE run_id = ? AND candidate_fp = ?",
                      (run, fp))
    table: dict[tuple[str, str], dict[str, float | None]] = {}
    for suite, version, key, case, value in rows:
        table.setdefault((f"{suite}/{version}", key), {})[case] = value
    return table


def _texts(db: sqlite3.Connection, run: str, fp: str) -> dict[tuple[str, str], str]:
    rows = db.execute("SELECT o.suite, o.version, o.case_id, g.text FROM outputs o JOIN generations g "
                      "ON g.cache_key = o.cache_key WHERE o.run_id = ? AND o.candidate_fp = ?", (run, fp))
    return {(f"{s}/{v}", c): t for s, v, c, t in rows}


def _fmt(estimate: object) -> str:
    if estimate is None:
        return "n/a"
    low, high = estimate.low, estimate.high  # type: ignore[attr-defined]
    interval = f" ({low:.3f} to {high:.3f})" if low is not None and high is not None else ""
    return f"{estimate.mean:.3f}{interval}"  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("float32_store")
    parser.add_argument("bfloat16_store")
    args = parser.parse_args()
    from harness.stats import mean_interval, paired_difference

    sides = []
    for path in (args.float32_store, args.bfloat16_store):
        db = _connect(path)
        run = _latest_run(db)
        fp = _base_fp(db, run)
        sides.append((_gates(db, run, fp), _scores(db, run, fp), _texts(db, run, fp)))
    (gates_a, scores_a, texts_a), (gates_b, scores_b, texts_b) = sides
    same = sum(texts_a[k] == texts_b.get(k) for k in texts_a)
    print(f"identical generated texts: {same}/{len(texts_a)}\n")
    print("| gate | float32 | bfloat16 |\n|---|---|---|")
    for key in sorted(set(gates_a) | set(gates_b)):
        cells = []
        for gates in (gates_a, gates_b):
            passed, observed = gates.get(key, (None, None))
            cells.append("missing" if passed is None else
                         f"{'pass' if passed else 'FAIL'} ({observed:.3f})" if observed is not None else
                         ('pass' if passed else 'FAIL'))
        print(f"| {key[0]} {key[1]} | {cells[0]} | {cells[1]} |")
    print("\n| suite | metric | float32 mean (95% CI) | bfloat16 mean (95% CI) | bf16 - fp32 (95% CI) | "
          "bf16 mean in fp32 CI |\n|---|---|---|---|---|---|")
    for key in sorted(scores_a):
        a, b = scores_a[key], scores_b.get(key, {})
        cases = sorted(set(a) & set(b))
        est_a, est_b = mean_interval([a[c] for c in cases]), mean_interval([b[c] for c in cases])
        diff = paired_difference([b[c] for c in cases], [a[c] for c in cases])
        inside = (est_a is not None and est_b is not None and est_a.low is not None and est_a.high is not None
                  and est_a.low - 1e-12 <= est_b.mean <= est_a.high + 1e-12)
        verdict = "n/a" if est_a is None or est_b is None else "yes" if inside else "NO"
        print(f"| {key[0]} | {key[1]} | {_fmt(est_a)} | {_fmt(est_b)} | {_fmt(diff.diff if diff else None)} | "
              f"{verdict} |")


if __name__ == "__main__":
    main()
