"""Fixtures for report tests: one real mini run (generated once per session, ~20-120 s on 2 busy
cores), a rich synthetic run built without a model (~3 s), and a shared headless Chromium."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from harness.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _load_synthetic() -> ModuleType:
    """tests/report/synthetic_run.py, loaded by path so any pytest import mode finds it."""
    path = Path(__file__).with_name("synthetic_run.py")
    spec = importlib.util.spec_from_file_location("report_synthetic_run", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class RunFixture:
    store_path: Path
    run_id: str
    report_root: Path

    @property
    def page(self) -> Path:
        return self.report_root / self.run_id / "index.html"

    def copy_store(self, dest: Path) -> Store:
        """A private copy of the store, for tests that change scores."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.store_path) as src, sqlite3.connect(dest) as dst:
            src.backup(dst)
        return Store(dest)


@pytest.fixture(scope="session")
def mini_run(tmp_path_factory: pytest.TempPathFactory) -> RunFixture:
    """The mini experiment run once (6 short generations with the embedded SmolLM2), report written."""
    from harness.runner import run_experiment

    root = tmp_path_factory.mktemp("mini-run")
    text = (FIXTURES / "experiments" / "mini.yaml").read_text()
    config = root / "mini.yaml"
    config.write_text(text.replace("suites_dir: ../suites", f"suites_dir: {FIXTURES / 'suites'}"))
    with Store(root / "store.sqlite") as store:
        summary = run_experiment(config, store=store, report_root=root / "reports", progress=False,
                                 log=lambda _m: None)
    assert summary.report_path is not None
    return RunFixture(root / "store.sqlite", summary.run_id, root / "reports")


@pytest.fixture(scope="session")
def synthetic_module() -> ModuleType:
    return _load_synthetic()


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory, synthetic_module: ModuleType) -> RunFixture:
    """Three candidates x therapy/summarization/discharge, real metrics on hand-written outputs, rendered."""
    from harness.report import render_run_report

    root = tmp_path_factory.mktemp("synthetic-run")
    with Store(root / "store.sqlite") as store:
        run_id = synthetic_module.build_synthetic_run(store)
        render_run_report(store, run_id, root / "reports")
    return RunFixture(root / "store.sqlite", run_id, root / "reports")


@pytest.fixture
def scratch_reports(tmp_path: Path) -> Path:
    path = tmp_path / "reports"
    shutil.rmtree(path, ignore_errors=True)
    return path
