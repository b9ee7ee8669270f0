"""`pytest suites/`: the regression gate. Every gate in every suite.yaml becomes a test.

Options:
  --candidate NAME          candidate to gate (from --candidates-config; default: base)
  --candidates-config PATH  experiment YAML listing candidates (default: configs/experiments/gates.yaml)
  --baseline NAME           baseline for non-inferiority gates (default: base)
  --baseline-run RUN_ID     use a stored run's scores as the baseline instead
  --gate-suite REF          only these suites (repeatable: therapy, therapy/v1)
  --store PATH              SQLite store (default: $HARNESS_HOME/store.sqlite), so re-runs reuse outputs
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness gates")
    group.addoption("--candidate", default="base", help="candidate to gate")
    group.addoption("--candidates-config", default=None, help="experiment YAML with the candidates")
    group.addoption("--baseline", default="base", help="baseline candidate for non-inferiority gates")
    group.addoption("--baseline-run", default=None, help="stored run id to use as the baseline")
    group.addoption("--gate-suite", action="append", default=None, help="only these suites")
    group.addoption("--store", default=None, help="SQLite store path")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gate_target" in metafunc.fixturenames:
        from harness.gating import gate_targets

        targets = gate_targets(metafunc.config.getoption("--gate-suite"))
        metafunc.parametrize("gate_target", targets, ids=[t.test_id for t in targets])


@pytest.fixture(scope="session")
def gate_results(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    from harness.gating import DEFAULT_CANDIDATES, evaluate_candidate_gates, gate_targets
    from harness.paths import default_store_path
    from harness.store import Store

    options = request.config.option
    targets = gate_targets(request.config.getoption("--gate-suite"))
    suites = list({t.suite.key: t.suite for t in targets}.values())
    store_path = Path(options.store) if options.store else default_store_path()
    config = Path(options.candidates_config) if options.candidates_config else DEFAULT_CANDIDATES
    with Store(store_path) as store:
        yield evaluate_candidate_gates(store, suites, options.candidate, candidates_config=config,
                                       baseline=options.baseline, baseline_run=options.baseline_run,
                                       progress=False)
