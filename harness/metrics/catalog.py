"""The one metric lookup: built-in metrics, installed plugins, and the metadata views read.

Views (console table, report, playground) ask ``metadata(name)`` / ``headline_keys`` /
``safety_keys`` instead of naming metrics, so a plugin metric shows up everywhere without edits.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

from harness.errors import ConfigError

from harness.metrics import (  # noqa: F401  built-in metric families, registered on import  isort: skip
    overlap, limits, empathy_metric, mi, groundedness, retrieval, risk, safety, judge, degenerate,
)
from harness.metrics.base import Metric, MetricInfo, ValueKey, registered_factories, registered_info
from harness.plugins import load_entry_points


def _registry() -> dict[str, Any]:
    load_entry_points("harness.metrics")
    return registered_factories()


def metric_names() -> list[str]:
    return sorted(_registry())


def build_metric(name: str, params: dict[str, Any] | None = None, *, where: str = "") -> Metric:
    """Build a registered metric; unknown names and bad parameters are ConfigErrors."""
    registry = _registry()
    prefix = f"{where}: " if where else ""
    if name not in registry:
        raise ConfigError(f"{prefix}unknown metric {name!r} (known: {', '.join(sorted(registry))})",
                          hint="a plugin metric needs its package installed or its module under the config's plugins:")
    try:
        metric = registry[name](**(params or {}))
    except TypeError as exc:
        raise ConfigError(f"{prefix}bad parameters for metric {name!r}: {exc}") from None
    try:  # what it was built from: the score cache's identity (harness.score_cache)
        metric.build_params = dict(params or {})  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass  # a metric that takes no attributes is simply never cached
    return metric


def metadata(name: str) -> MetricInfo:
    """What views need to know about metric ``name`` (a default record for an unknown name)."""
    _registry()
    return registered_info().get(name) or MetricInfo(name, family="other", label=name.replace("_", " "))


def all_metadata() -> list[MetricInfo]:
    """Every registered metric's metadata, in view order (``MetricInfo.order``, then registration)."""
    _registry()
    return sorted(registered_info().values(), key=lambda info: info.order)


def headline_keys(present: Iterable[str] | None = None) -> list[str]:
    """Keys the console shows first, in view order; only those in ``present`` when given."""
    keys = [key for info in all_metadata() for key in info.headline]
    return keys if present is None else [k for k in keys if k in set(present)]


def safety_keys(present: Iterable[str] | None = None) -> list[str]:
    """Keys a view always shows when scored: a candidate's safety is never left off."""
    keys = [key for info in all_metadata() for key in info.safety]
    return keys if present is None else [k for k in keys if k in set(present)]


def safety_metrics() -> list[str]:
    return [info.name for info in all_metadata() if info.family == "safety"]


def live_metrics() -> list[str]:
    """Metrics the playground shows as badges on a reply (``MetricInfo.live``)."""
    return [info.name for info in all_metadata() if info.live]


def declared_keys() -> dict[str, ValueKey]:
    """Key name -> its ``ValueKey`` as the registered metric classes declare them (``keys`` on the class),
    first declaration winning. A key only a built instance knows (a plugin factory function) is absent:
    views then use what the run stored (``harness.verdict.metric_directions``)."""
    found: dict[str, ValueKey] = {}
    for factory in _registry().values():
        declared = getattr(factory, "keys", None) or getattr(_returned_class(factory), "keys", ())
        for key in declared if isinstance(declared, list | tuple) else ():
            if isinstance(key, ValueKey):
                found.setdefault(key.name, key)
    return found


def key_label(key: str) -> str:
    """A key's title in views: its declared ``label``, else its name in words (with its range when that is
    not 0-1, e.g. "empathy total (0-6)")."""
    info = declared_keys().get(key)
    if info is not None and info.label:
        return info.label
    words = key.replace("_", " ")
    low, high = info.bounds if info is not None else (0.0, 1.0)
    if low is not None and high is not None and (low, high) != (0.0, 1.0):
        return f"{words} ({low:g}-{high:g})"
    return words


def _returned_class(factory: Any) -> Any:
    """The class a factory function is annotated to return (``def retrieval(...) -> RetrievalMetric``)."""
    if isinstance(factory, type):
        return None
    try:
        return typing.get_type_hints(factory).get("return")
    except Exception:  # an annotation that does not resolve: the key is simply not declared
        return None
