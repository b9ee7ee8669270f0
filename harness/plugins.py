"""Third-party metrics and backends, loaded without editing the package.

Two ways in, both ending in an ordinary import whose ``@register_metric`` / ``@register_backend``
decorators run:

- an installed distribution declares an entry point in group ``harness.metrics`` or
  ``harness.backends`` (``[project.entry-points."harness.metrics"] bleu_like = "my_pkg.metrics"``);
  every such entry point is imported the first time the harness looks a metric or backend up;
- an experiment config lists module paths under ``plugins:`` (``plugins: [my_pkg.metrics]``); they
  are imported while the config is parsed, before its candidates are checked.

The entry point's value names a module (or an object in it); what matters is that importing it
registers. A plugin that fails to import is an error naming the plugin, never silently skipped.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

from harness.errors import ConfigError, HarnessError

GROUPS = ("harness.metrics", "harness.backends")
_loaded_groups: set[str] = set()


def load_entry_points(group: str) -> list[str]:
    """Import every installed plugin of ``group`` (once per process); returns their names."""
    if group in _loaded_groups:
        return []
    _loaded_groups.add(group)
    names = []
    for entry in entry_points(group=group):
        try:
            entry.load()
        except Exception as exc:
            dist = entry.dist.name if entry.dist is not None else "?"
            raise HarnessError(f"plugin {entry.name!r} ({group} = {entry.value!r}, from {dist}) failed to import: "
                               f"{type(exc).__name__}: {exc}") from exc
        names.append(entry.name)
    return names


def load_modules(modules: list[str], *, where: str = "plugins") -> None:
    """Import the modules a config's ``plugins:`` list names; a missing one is a ConfigError."""
    for index, module in enumerate(modules):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"{where}[{index}]: cannot import plugin module {module!r}: {exc}",
                              hint="install the plugin package, or put its folder on PYTHONPATH") from None


@contextmanager
def plugin_folder(folder: Path) -> Iterator[None]:
    """While a config is parsed, modules beside it are importable (``plugins: [my_metrics]`` for
    ``my_metrics.py`` next to the config); the folder leaves ``sys.path`` afterwards."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
