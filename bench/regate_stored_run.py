"""Re-evaluate the gates of a stored run with the current gate code and list decisions that differ
from the ones stored with the run (how docs/statistics.md lists what the interval change did).

    python bench/regate_stored_run.py COPY_OF_STORE.sqlite [RUN_ID]   # newest finished demo run by default
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.gates import evaluate_gate
from harness.store import Store
from harness.suite import load_suite


def _word(passed: object) -> str:
    return "pass" if passed in (1, True) else "FAIL"


def main() -> None:
    store = Store(Path(sys.argv[1]))
    run = sys.argv[2] if len(sys.argv) > 2 else next(
        r["id"] for r in store.list_runs() if r["name"] == "demo" and r["status"] == "finished")
    candidates = store.run_candidates(run)
    base = next(c for c in candidates if c["label"] == "base")
    changed = total = 0
    for s in store.run_suites(run):
        suite = load_suite(s["suite"], s["version"])
        wanted = set(s["case_ids"])
        cases = [c for c in suite.cases if c.id in wanted]
        directions = {k["key"]: bool(k["higher_is_better"]) for k in store.metric_keys(run, s["suite"])}
        values: dict[str, dict[str, dict[str, float | None]]] = {}
        for r in store.scores(run, s["suite"]):
            values.setdefault(r["candidate_fp"], {}).setdefault(r["key"], {})[r["case_id"]] = r["value"]
        stored = {(g["candidate_fp"], g["gate_id"]): g for g in store.gate_results(run) if g["suite"] == s["suite"]}
        for c in candidates:
            for gate in suite.spec.gates:
                is_base = c is base
                new = evaluate_gate(gate, cases, values.get(c["fingerprint"], {}).get(gate.metric, {}),
                                    None if is_base else values.get(base["fingerprint"], {}).get(gate.metric),
                                    higher_is_better=directions.get(gate.metric, True), is_baseline=is_base)
                old = stored[(c["fingerprint"], gate.gate_id)]
                total += 1
                if _word(old["passed"]) != _word(new.passed):
                    changed += 1
                    print(f"{s['suite']}/{s['version']} {c['label']:9} {gate.gate_id:28} "
                          f"{_word(old['passed'])} -> {_word(new.passed)}")
                    print(f"    was: {old['details'].get('message')}\n    now: {new.message}")
    print(f"run {run}: {changed} of {total} gate decisions changed")


if __name__ == "__main__":
    main()
