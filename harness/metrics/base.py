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
from typing import Any, Literal, Protocol

from harness.suite import Case
from harness.types import Output  # re-exported: metrics score Outputs


@dataclass(frozen=True)
class ValueKey:
    """One number a metric emits per case. ``None`` values mean 'not applicable'.

    ``bounds`` is the range a value can take (None: unbounded on that side); gate thresholds
    outside it are config errors, since such a gate could never pass (or never fail). ``label`` is
    the key's title in views (verdict, report); empty: derived from the name (``catalog.key_label``).
    """

    name: str
    higher_is_better: bool = True
    description: str = ""
    bounds: tuple[float | None, float | None] = (0.0, 1.0)
    label: str = ""


@dataclass
class CaseScore:
    values: dict[str, float | None]
    details: dict[str, Any] = field(default_factory=dict)


class Metric(Protocol):
    name: str
    keys: Sequence[ValueKey]

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]: ...


MetricFactory = Callable[..., Metric]
Family = Literal["quality", "safety", "format", "retrieval", "other"]


@dataclass(frozen=True)
class MetricInfo:
    """What views need to know about a metric, declared once where the metric is registered.

    ``headline``: keys the console table shows first (in this order); ``safety``: keys the console's
    safety table always shows; ``binary``: every key is a 0/1 pass/fail (views show "share of cases");
    ``live``: shown as a playground badge on a reply (False for gold-reference overlap and IR scores,
    which a reviewer cannot act on); ``details``:
    the name of the report's drill-down section for this metric's details (None: a plain table);
    ``label``: a human title; ``order``: where its columns go in views (lower first; built-ins use
    10-90, plugins default to 100). Direction and bounds stay per key, on ``ValueKey``.
    """

    name: str
    family: Family = "quality"
    headline: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    binary: bool = False
    live: bool = True
    details: str | None = None
    label: str = ""
    order: int = 100
    source: str = "builtin"


_REGISTRY: dict[str, MetricFactory] = {}
_INFO: dict[str, MetricInfo] = {}


def register_metric(name: str, *, family: Family = "quality", headline: Sequence[str] = (),
                    safety: Sequence[str] = (), binary: bool = False, live: bool = True,
                    details: str | None = None, label: str = "",
                    order: int = 100) -> Callable[[MetricFactory], MetricFactory]:
    """Decorator: ``@register_metric("rouge", headline=("rougeL",))`` on a class or factory function.

    The keyword arguments are the metric's ``MetricInfo`` (see there); views read them through
    ``harness.metrics.metadata(name)`` instead of naming metrics.
    """

    def decorate(factory: MetricFactory) -> MetricFactory:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"metric {name!r} registered twice")
        _REGISTRY[name] = factory
        module = getattr(factory, "__module__", "") or ""
        _INFO[name] = MetricInfo(name, family, tuple(headline), tuple(safety), binary, live, details,
                                 label or name.replace("_", " "), order,
                                 "builtin" if module.startswith("harness.") else module)
        return factory

    return decorate


def registered_factories() -> dict[str, MetricFactory]:
    """The registry as it stands (without loading anything): ``harness.metrics.catalog`` loads the metrics."""
    return _REGISTRY


def registered_info() -> dict[str, MetricInfo]:
    return _INFO
