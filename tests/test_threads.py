"""Thread settings for shared runners: PASSIVE OpenMP waiting by default, threads = usable CPUs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import threads


def _env_after_import(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", "import harness, os; print(os.environ['OMP_WAIT_POLICY'])"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_sets_passive_waiting_unless_the_user_chose() -> None:
    assert _env_after_import() == "PASSIVE"
    assert _env_after_import(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


@pytest.mark.parametrize(("text", "expected"), [("max 100000", None), ("200000 100000", 2), ("150000 100000", 2),
                                                 ("50000 100000", 1), ("garbage", None)])
def test_cgroup_quota(tmp_path: Path, text: str, expected: int | None) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert threads._cgroup_quota(path) == expected
    assert threads._cgroup_quota(tmp_path / "missing") is None


def test_thread_count_follows_affinity_and_explicit_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.torch_thread_count() == threads.available_cpus() <= len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.torch_thread_count() is None  # the user's OpenMP setting stands
    monkeypatch.setenv("HARNESS_THREADS", "1")
    assert threads.torch_thread_count() == 1
    monkeypatch.setenv("HARNESS_THREADS", "many")
    with pytest.raises(ValueError, match="HARNESS_THREADS"):
        threads.torch_thread_count()
