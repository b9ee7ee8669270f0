"""``python -m harness.metrics train-defaults|train ...``: (re)build the metric classifiers."""

from harness.metrics.models import main

raise SystemExit(main())
