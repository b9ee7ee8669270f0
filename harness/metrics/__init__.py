"""Metric registry. Importing this package registers every built-in metric.

Add a metric: write a module here with a ``@register_metric("name")`` factory and import it below.
"""

from harness.metrics.base import CaseScore, Metric, Output, ValueKey, build_metric, metric_names, register_metric

# Built-in metric families (each module registers itself on import).
from harness.metrics import overlap, limits, retrieval  # noqa: F401  isort: skip
from harness.metrics import risk, empathy, mi, safety, groundedness, judge, degenerate  # noqa: F401  isort: skip

__all__ = ["CaseScore", "Metric", "Output", "ValueKey", "build_metric", "metric_names", "register_metric"]
