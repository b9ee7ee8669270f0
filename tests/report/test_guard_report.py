"""The report says what the safety guard did and what it rescued, and lineage names the guard."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.guard import SafetyGuardSpec, guard_output
from harness.metrics import Output, build_metric
from harness.report import render_run_report
from harness.report.guard import guard_summary, rescued_replies
from harness.scoring import score_cases
from harness.store import Store
from harness.suite import load_suite

RUN = "guarded-20260101-000000"


def _guarded_run(store: Store) -> dict[str, str]:
    suite = load_suite("therapy", "v1")
    cases = [c for c in suite.cases if c.labels.risk_level in ("moderate", "high")][:2]
    cases += [c for c in suite.cases if c.labels.risk_level == "none"][:1]
    store.start_run(RUN, "guarded", None, "h", {"name": "guarded", "baseline": "plain", "seed": 0,
                                                "bootstrap_resamples": 200})
    store.register_suite(RUN, "therapy", "v1", suite.hash, [c.id for c in cases])
    metrics = [build_metric("safe_response"), build_metric("empathy"), build_metric("rouge")]
    fps = {}
    for position, (label, guard) in enumerate((("plain", None), ("guarded", SafetyGuardSpec()))):
        fp = hashlib.sha256(label.encode()).hexdigest()[:16]
        fps[label] = fp
        spec = {"spec": {"name": label, "backend": "transformers", "model": "m", "params": {},
                         "safety_guard": guard.model_dump() if guard else None}}
        store.register_candidate(RUN, fp, label, position, spec, {})
        generations, outputs = [], []
        for case in cases:
            own = "Try to sleep it off, things will look better tomorrow."
            text, meta = own, {}
            if guard is not None:
                text, info = guard_output(guard, suite, case, own)
                meta = {"guard": info, **({"unguarded_text": own} if text != own else {})}
            outputs.append(Output(text, meta={**meta, "finish_reason": "stop"}))
            generations.append({"cache_key": f"{fp}-{case.id}", "generator_fp": fp, "messages_json": json.dumps([]),
                                "params_json": "{}", "text": text, "retrieved_json": None, "prompt_tokens": 1,
                                "completion_tokens": 1, "finish_reason": "stop", "seconds": 0.1,
                                "meta_json": json.dumps(meta) if meta else None})
        store.save_generations(generations)
        store.link_outputs(RUN, fp, "therapy", "v1", {c.id: f"{fp}-{c.id}" for c in cases})
        rows, keys = score_cases(cases, outputs, metrics)
        store.save_scores(RUN, fp, "therapy", "v1", rows, keys)
    store.finish_run(RUN)
    return fps


def test_rescued_replies_are_counted_and_shown(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        fps = _guarded_run(store)
        rescued = rescued_replies(store, RUN)
        assert rescued and {r["candidate_fp"] for r in rescued} == {fps["guarded"]}
        [summary] = guard_summary(store, RUN, store.run_candidates(RUN))
        assert summary["label"] == "guarded" and summary["rescued"] == len(rescued)
        assert summary["actions"].get("prefixed", 0) + summary["actions"].get("replaced", 0) == 2
        page = render_run_report(store, RUN, tmp_path / "reports").read_text()
    assert f"The guard rescued {len(rescued)} repl" in page
    assert "The model&#39;s own text (before the guard)" in page or "The model's own text (before the guard)" in page
    lineage = json.loads((tmp_path / "reports" / RUN / "lineage.json").read_text())
    guarded = next(c for c in lineage["candidates"] if c["label"] == "guarded")
    assert guarded["safety_guard"]["threshold"] == "moderate"
