"""Run lifecycle (issue 20, items 5 and 7): careless input is refused before a run row exists,
Ctrl-C says how to resume, a second run of one config waits instead of duplicating work, a run
killed at any stage (kill -9) resumes with identical scores, and a missing report is rebuilt."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.models.transformers_backend import TransformersBackend
from harness.runner import run_experiment
from harness.store import Store

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_a_limit_below_one_is_an_error_not_everything(mini_experiment: Path, tmp_path: Path, limit: str) -> None:
    code, output = _cli("run", str(mini_experiment), "--limit", limit, "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and "--limit" in output
    with Store(tmp_path / "s2.sqlite") as store, pytest.raises(ConfigError, match="must be > 0"):
        run_experiment(mini_experiment, store=store, limit=int(limit), progress=False)
    with Store(tmp_path / "s2.sqlite") as store:
        assert store.list_runs() == []  # no orphan "running" row


def test_an_empty_selection_is_an_error_naming_what_selected_nothing(mini_experiment: Path, store: Store) -> None:
    text = mini_experiment.read_text().replace("  - mini/v1", "  - suite: mini/v1\n    splits: [dev]")
    mini_experiment.write_text(text)
    with pytest.raises(ConfigError, match=r"mini.yaml:\d+: field 'suites.0.splits': mini/v1 has no case in split"):
        run_experiment(mini_experiment, store=store, progress=False)
    assert store.list_runs() == []


def test_a_yaml_alias_bomb_is_rejected_fast(tmp_path: Path) -> None:
    from harness.yamlio import load_yaml

    levels = "abcdefghi"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in itertools.pairwise(levels)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="alias bomb"):
        load_yaml(path)
    assert time.perf_counter() - started < 2.0


def test_ctrl_c_says_how_to_resume(store: Store, mini_experiment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def pressed_ctrl_c(self: TransformersBackend, requests):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(TransformersBackend, "generate", pressed_ctrl_c)
    said: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_experiment(mini_experiment, store=store, progress=False, log=said.append)
    run_id = store.list_runs()[0]["id"]
    assert any(run_id in line and "run the same command again to resume" in line for line in said), said


def test_a_second_run_of_one_config_waits_then_reuses_instead_of_generating(tmp_path: Path,
                                                                             mini_experiment: Path) -> None:
    store_path = tmp_path / "shared.sqlite"
    results: dict[str, object] = {}
    logs: dict[str, list[str]] = {"first": [], "second": []}

    def run(name: str) -> None:
        with Store(store_path) as store:
            results[name] = run_experiment(mini_experiment, store=store, progress=False, log=logs[name].append)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    time.sleep(0.5)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    first.join(timeout=600)
    second.join(timeout=600)
    done = [results["first"], results["second"]]
    assert sum(r.generated for r in done) == 6  # type: ignore[attr-defined]
    assert sorted(r.reused for r in done) == [0, 6]  # type: ignore[attr-defined]
    assert any("waiting for" in line for line in logs["first"] + logs["second"])
    html = done[0].report_path.read_text()  # type: ignore[attr-defined]
    assert "unreleased (not in suites/released.json)" in html  # a team suite is labelled, not refused


def test_stale_staging_of_a_killed_prepare_is_removed_on_the_next_start() -> None:
    from harness.models.embedded import embedded_llm_dir, prepare_embedded_llm

    stale = embedded_llm_dir().parent / f".{embedded_llm_dir().name}-killed1"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"\0" * 1024)
    assert prepare_embedded_llm() == embedded_llm_dir()
    assert not stale.exists()


def _scores(store: Store, run_id: str) -> list[tuple[str, str, str, float | None]]:
    labels = {c["fingerprint"]: c["label"] for c in store.run_candidates(run_id)}
    return sorted((labels[r["candidate_fp"]], r["case_id"], r["key"], r["value"]) for r in store.scores(run_id))


def test_a_missing_report_is_rebuilt_without_moving_the_run_time(mini_experiment: Path, tmp_path: Path) -> None:
    """Another checkout sharing the store (or a report deleted by hand): the finished run's report is
    written again, and the run's stored finish time -- its run time in the CLI and report -- stays."""
    import shutil

    with Store(tmp_path / "store.sqlite") as store:
        first = run_experiment(mini_experiment, store=store, report_root=tmp_path / "a", progress=False,
                               log=lambda _m: None)
        finished_at = store.get_run(first.run_id)["finished_at"]
        shutil.rmtree(tmp_path / "a")
        time.sleep(0.05)
        rebuilt = run_experiment(mini_experiment, store=store, report_root=tmp_path / "a", progress=False,
                                 log=lambda _m: None)
        assert rebuilt.run_id == first.run_id and rebuilt.report_path is not None and rebuilt.report_path.exists()
        assert store.get_run(first.run_id)["finished_at"] == finished_at
        assert store.get_run(first.run_id)["status"] == "finished"
        assert rebuilt.seconds == pytest.approx(first.seconds)


@pytest.mark.slow  # four killed runs in subprocesses, each resumed: a few minutes on 2 cores
@pytest.mark.parametrize("stage", ["after-start", "after-generate", "before-report", "in-report"])
def test_kill_9_at_any_stage_resumes_the_same_run_with_identical_scores(stage: str, tmp_path: Path,
                                                                        mini_experiment: Path) -> None:
    with Store(tmp_path / "reference.sqlite") as reference_store:
        reference = run_experiment(mini_experiment, store=reference_store, progress=False, write_report=False)
        expected = _scores(reference_store, reference.run_id)
    store_path = tmp_path / "store.sqlite"
    env = {**os.environ, "HARNESS_FAULT_AT": stage, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", "run",
                             str(mini_experiment), "--store", str(store_path), "--no-progress"],
                            env=env, capture_output=True, text=True, timeout=900)
    assert killed.returncode == -9, killed.stderr
    with Store(store_path) as store:
        before = store.list_runs()
        assert len(before) == 1
        resumed = run_experiment(mini_experiment, store=store, progress=False, log=lambda _m: None)
        assert resumed.run_id == before[0]["id"]  # the same run, not a new id
        assert store.get_run(resumed.run_id)["status"] == "finished"
        assert _scores(store, resumed.run_id) == expected
        assert resumed.report_path is not None and resumed.report_path.exists()
        assert len(store.list_runs()) == 1


def test_a_missing_report_of_a_run_scored_by_other_metric_code_is_rerun_not_rebuilt(mini_experiment: Path,
                                                                                    tmp_path: Path) -> None:
    """An updated checkout beside a kept store: the old run's scores came from other metric code, so the
    report must not show them as today's; the outputs are reused from the cache and scored again."""
    import json
    import shutil

    with Store(tmp_path / "store.sqlite") as store:
        first = run_experiment(mini_experiment, store=store, report_root=tmp_path / "a", progress=False,
                               log=lambda _m: None)
        environment = json.loads(store.get_run(first.run_id)["environment_json"])
        assert environment["scoring_code"]
        environment["scoring_code"] = "metric code of an older checkout"
        store.conn.execute("UPDATE runs SET environment_json = ? WHERE id = ?", (json.dumps(environment), first.run_id))
        store.conn.commit()
        shutil.rmtree(tmp_path / "a")
        again = run_experiment(mini_experiment, store=store, report_root=tmp_path / "a", progress=False,
                               log=lambda _m: None)
        assert again.run_id != first.run_id and again.generated == 0  # scored anew, outputs from the cache
        assert again.report_path is not None and again.report_path.exists()
