"""`pytest suites/`: the regression gate. Every gate in every suite.yaml becomes a test.

The gate runner is the pytest plugin ``harness.pytest_plugin`` (options: ``pytest suites/ --help``,
group "harness gates"); installed packages load it through the ``pytest11`` entry point, and this
conftest registers it when it is not loaded yet (a clone that was never installed). ``HARNESS_GATES``
tells the plugin that this folder's session gates suites.
"""

from __future__ import annotations

import pytest

import harness  # noqa: F401  -- telemetry off and hub offline by default, before anything else loads

HARNESS_GATES = True


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.has_plugin("harness.pytest_plugin"):
        import harness.pytest_plugin as plugin

        pluginmanager.register(plugin, "harness.pytest_plugin")
