"""`harness run` end to end on the mini suite: scores, gates, report, warm re-run, resume."""

from pathlib import Path

import pytest

from harness.models.transformers_backend import TransformersBackend
from harness.runner import run_experiment
from harness.store import Store


def test_run_scores_gates_and_report(store: Store, mini_experiment: Path) -> None:
    summary = run_experiment(mini_experiment, store=store, progress=False)
    assert summary.generated == 6 and summary.reused == 0
    rows = summary.leaderboard["mini/v1"]
    assert [r["label"] for r in rows] == ["base", "terse"]
    assert rows[0]["metrics"]["rougeL"]["estimate"]["n"] == 3
    assert {g["gate_id"] for g in rows[0]["gates"]} == {"rougeL-floor", "limit-all"}
    html = summary.report_path.read_text()
    assert "Leaderboard: mini/v1" in html and "m-3" in html
    # Warm re-run: zero generations, a new finished run.
    warm = run_experiment(mini_experiment, store=store, progress=False)
    assert warm.generated == 0 and warm.reused == 6
    assert not warm.resumed


def test_interrupted_run_resumes_where_it_stopped(store: Store, mini_experiment: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real_generate = TransformersBackend.generate
    calls = {"n": 0}

    def crash_after_first_batch(self: TransformersBackend, requests):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-run
        return real_generate(self, requests)

    monkeypatch.setattr(TransformersBackend, "generate", crash_after_first_batch)
    text = mini_experiment.read_text().replace("candidates:", "candidates:\n  - name: one-at-a-time\n    batch_size: 1")
    mini_experiment.write_text(text)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(mini_experiment, store=store, progress=False)
    assert store.count_generations() == 1
    interrupted = store.list_runs()[0]
    assert interrupted["status"] == "interrupted"

    monkeypatch.setattr(TransformersBackend, "generate", real_generate)
    resumed = run_experiment(mini_experiment, store=store, progress=False)
    assert resumed.resumed and resumed.run_id == interrupted["id"]
    # 3 candidates x 3 cases = 9 outputs, but one-at-a-time and base share prompts (same generator): 6 unique.
    assert store.count_generations() == 6
    assert resumed.generated == 5
    assert store.get_run(resumed.run_id)["status"] == "finished"
