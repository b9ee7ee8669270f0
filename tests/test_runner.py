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


def test_a_candidates_suites_are_generated_in_one_backend_call(store: Store, mini_experiment: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # A second suite with another token limit: both suites' requests reach the backend together (one decode
    # loop), are committed as it finishes them, and count once as generated, then once as reused.
    import shutil

    suites = tmp_path / "suites"
    shutil.copytree(Path(__file__).parent / "fixtures" / "suites", suites)
    other = suites / "mini" / "v2"
    shutil.copytree(suites / "mini" / "v1", other)
    spec = (other / "suite.yaml").read_text()
    (other / "suite.yaml").write_text(spec.replace("version: v1", "version: v2").replace("max_new_tokens: 24",
                                                                                          "max_new_tokens: 12"))
    text = mini_experiment.read_text().replace("  - mini/v1", "  - mini/v1\n  - mini/v2")
    text = text.replace("  - name: terse\n    system: Reply with one short sentence.\n", "")
    mini_experiment.write_text(text.replace(f"suites_dir: {Path(__file__).parent / 'fixtures' / 'suites'}",
                                            f"suites_dir: {suites}"))
    calls: list[list[int]] = []
    real = TransformersBackend.generate

    def counted(self: TransformersBackend, requests, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(sorted({r.params.max_new_tokens for r in requests}))
        return real(self, requests, **kwargs)

    monkeypatch.setattr(TransformersBackend, "generate", counted)
    from harness.candidate import Candidate

    retrievals: list[str] = []  # one retrieval per suite: generate reuses the requests prefetch built
    real_retrieve = Candidate._retrieve
    monkeypatch.setattr(Candidate, "_retrieve", lambda self, suite, cases: retrievals.append(suite.key)
                        or real_retrieve(self, suite, cases))
    summary = run_experiment(mini_experiment, store=store, progress=False)
    assert calls == [[12, 24]]
    assert sorted(retrievals) == ["mini/v1", "mini/v2"]
    assert summary.generated == 6 and summary.reused == 0  # 3 test cases x 2 suites
    assert set(summary.leaderboard) == {"mini/v1", "mini/v2"}
    warm = run_experiment(mini_experiment, store=store, progress=False)
    assert calls == [[12, 24]] and warm.generated == 0 and warm.reused == 6
