"""Metric registry. Importing this package registers every built-in metric.

Add a built-in metric: write a module here with a ``@register_metric("name", ...)`` factory and add it
to the built-in list in ``harness.metrics.catalog``. A team adds its own without editing the package:
an entry point in group ``harness.metrics`` or a config's ``plugins:`` list (``harness.plugins``).
"""

from harness.metrics.base import CaseScore, Metric, MetricInfo, Output, ValueKey, register_metric
from harness.metrics.catalog import (
    all_metadata,
    build_metric,
    headline_keys,
    metadata,
    metric_names,
    safety_keys,
    safety_metrics,
)

__all__ = ["CaseScore", "Metric", "MetricInfo", "Output", "ValueKey", "all_metadata", "build_metric",
           "headline_keys", "metadata", "metric_names", "register_metric", "safety_keys", "safety_metrics"]
