"""The regression gate as a pytest plugin: every gate in every suite.yaml becomes a test.

Installed with the package (entry point ``pytest11``), so a team gates its own suites without a copy of
this repository: ``pytest --pyargs harness.gate_tests --suites-dir my_suites --candidates-config my.yaml``.
The plugin is inert in other pytest sessions: it acts only when ``--suites-dir`` or ``--gate-suite`` is
given or a loaded ``conftest.py`` says ``HARNESS_GATES = True`` (the repository's suites/conftest.py does,
so ``pytest suites/`` gates the shipped suites).

Options:
  --candidate NAME          candidate to gate (from --candidates-config; default: base)
  --candidates-config PATH  experiment YAML listing candidates (default: configs/experiments/gates.yaml)
  --baseline NAME           baseline for non-inferiority gates (default: base)
  --baseline-run RUN_ID     use a stored run's scores as the baseline instead
  --gate-suite REF          only these suites (repeatable: therapy, therapy/v1)
  --suites-dir PATH         a folder of suites (default: the shipped suites/)
  --allow-draft             gate a released suite version whose files changed, labelled DRAFT
  --store PATH              SQLite store (default: $HARNESS_HOME/store.sqlite), so re-runs reuse outputs

Only the suites of the selected tests are generated and scored (``-k therapy`` runs therapy alone).
Under pytest-xdist (``-n 2``) every worker evaluates the same selection; a file lock per run config
lets one generate while the others wait and then reuse its cached outputs and scores.

Nothing is silently green: before any gate runs, the session refuses a released suite version whose
files changed (naming the cases) and gate configs that could never be evaluated; a gate that cannot
be evaluated fails, and only a reviewed `allow_skip: <reason>` in suite.yaml skips one, visibly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import harness  # noqa: F401  -- telemetry off and hub offline by default, before anything else loads

_TARGETS = pytest.StashKey[list[Any]]()
_RELEASES = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness gates")
    group.addoption("--candidate", default="base", help="candidate to gate")
    group.addoption("--candidates-config", default=None, help="experiment YAML with the candidates")
    group.addoption("--baseline", default="base", help="baseline candidate for non-inferiority gates")
    group.addoption("--baseline-run", default=None, help="stored run id to use as the baseline")
    group.addoption("--gate-suite", action="append", default=None, help="only these suites")
    group.addoption("--suites-dir", default=None, help="folder of suites (default: the shipped suites/)")
    group.addoption("--allow-draft", action="store_true", default=False,
                    help="gate a changed released suite version as an unreleased draft (labelled DRAFT)")
    group.addoption("--store", default=None, help="SQLite store path")


def gating_requested(config: pytest.Config) -> bool:
    """Whether this session gates suites (see the module docstring); other sessions are left alone."""
    if config.getoption("--suites-dir") or config.getoption("--gate-suite"):
        return True
    return any(getattr(plugin, "HARNESS_GATES", False) is True for plugin in config.pluginmanager.get_plugins())


def _suites_dir(config: pytest.Config) -> Path | None:
    value = config.getoption("--suites-dir")
    return Path(value).resolve() if value else None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Check releases and gate configs once, before collection: a failure stops the session (exit 4)."""
    if not gating_requested(config):
        return
    from harness.errors import HarnessError
    from harness.gating import check_gate_session, gate_targets

    _share_cpus_between_workers()
    try:
        targets = gate_targets(config.getoption("--gate-suite"), _suites_dir(config))
        releases = check_gate_session(targets, allow_draft=config.getoption("--allow-draft"))
    except HarnessError as exc:
        raise pytest.UsageError(f"gate session refused: {exc.render()}") from None
    config.stash[_TARGETS] = targets
    config.stash[_RELEASES] = releases


def pytest_report_header(config: pytest.Config) -> list[str]:
    releases = config.stash.get(_RELEASES, {})
    return [f"gated suite {key}: {status.label}" for key, status in releases.items()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gate_target" in metafunc.fixturenames:
        if _TARGETS not in metafunc.config.stash:
            raise pytest.UsageError("gate tests need the gate session: pass --suites-dir DIR (or --gate-suite REF)")
        targets = metafunc.config.stash[_TARGETS]
        metafunc.parametrize("gate_target", targets, ids=[t.test_id for t in targets])


@pytest.fixture(scope="session")
def suite_releases(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Release state of every gated suite (released / unreleased / DRAFT), for labels in the output."""
    return request.config.stash[_RELEASES]


def _selected_suites(items: list[pytest.Item], targets: list[Any]) -> list[Any]:
    """The suites of the gate tests this session runs (after ``-k``/``-m``/node-id selection), so
    ``pytest suites/ -k therapy`` generates and scores the therapy suite only."""
    selected = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("gate_target") if callspec is not None else None
        if target is not None:
            selected.add(target.suite.key)
    return [suite for key, suite in {t.suite.key: t.suite for t in targets}.items() if key in selected]


def _share_cpus_between_workers() -> None:
    """Under pytest-xdist, each worker's torch gets its share of the CPUs (unless the user set a count),
    instead of every worker starting one thread per CPU."""
    import os

    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and workers.isdigit() and not (os.environ.get("HARNESS_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        from harness.threads import available_cpus

        os.environ["HARNESS_THREADS"] = str(max(1, available_cpus() // int(workers)))


@pytest.fixture(scope="session")
def gate_results(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    from harness.gating import DEFAULT_CANDIDATES, evaluate_candidate_gates
    from harness.paths import default_store_path
    from harness.store import Store

    options = request.config.option
    suites = _selected_suites(request.session.items, request.config.stash[_TARGETS])
    store_path = Path(options.store) if options.store else default_store_path()
    config = Path(options.candidates_config) if options.candidates_config else DEFAULT_CANDIDATES
    with Store(store_path) as store:
        yield evaluate_candidate_gates(store, suites, options.candidate, candidates_config=config,
                                       baseline=options.baseline, baseline_run=options.baseline_run,
                                       progress=False, allow_draft=options.allow_draft)
