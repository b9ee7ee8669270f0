"""Metric interface and registry.

A metric is a named factory (parameters come straight from ``suite.yaml``) that returns an
object scoring a *batch* of (case, output) pairs -- batching matters for BERTScore and the
embedding classifiers. Each case gets a ``CaseScore``: one or more named values (a family
such as ROUGE emits rouge1/rouge2/rougeL/rougeLsum at once) plus inspectable details that
the report and playground show. Aggregation and confidence intervals live in ``harness.stats``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.errors import ConfigError
from harness.suite import Case


@dataclass(frozen=True)
class ValueKey:
    """One number a metric emits per case. ``None`` values mean 'not applicable'.

    ``bounds`` is the range a value can take (None: unbounded on that side); gate thresholds
    outside it are config errors, since such a gate could never pass (or never fail).
    """

    name: str
    higher_is_better: bool = True
    description: str = ""
    bounds: tuple[float | None, float | None] = (0.0, 1.0)


@dataclass
class Output:
    """What a candidate produced for a case: text plus, for RAG candidates, retrieved passages."""

    text: str
    retrieved: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseScore:
    values: dict[str, float | None]
    details: dict[str, Any] = field(default_factory=dict)


class Metric(Protocol):
    name: str
    keys: Sequence[ValueKey]

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]: ...


MetricFactory = Callable[..., Metric]
_REGISTRY: dict[str, MetricFactory] = {}


def register_metric(name: str) -> Callable[[MetricFactory], MetricFactory]:
    """Decorator: ``@register_metric("rouge")`` on a class or factory function."""

    def decorate(factory: MetricFactory) -> MetricFactory:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"metric {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return decorate


def _load_builtin_metrics() -> None:
    # Importing the package runs every module's @register_metric.
    import harness.metrics  # noqa: F401


def metric_names() -> list[str]:
    _load_builtin_metrics()
    return sorted(_REGISTRY)


def build_metric(name: str, params: dict[str, Any] | None = None, *, where: str = "") -> Metric:
    """Build a registered metric; unknown names and bad parameters are ConfigErrors."""
    _load_builtin_metrics()
    prefix = f"{where}: " if where else ""
    if name not in _REGISTRY:
        raise ConfigError(f"{prefix}unknown metric {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    try:
        metric = _REGISTRY[name](**(params or {}))
    except TypeError as exc:
        raise ConfigError(f"{prefix}bad parameters for metric {name!r}: {exc}") from None
    try:  # what it was built from: the score cache's identity (harness.score_cache)
        metric.build_params = dict(params or {})  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass  # a metric that takes no attributes is simply never cached
    return metric
