"""Score cache: a metric's per-case result is reused when nothing it depends on has changed.

A warm re-run (same outputs, same suite) used to spend most of its time re-scoring -- BERTScore
alone was a third of a warm ``pytest suites/``. A cached result is keyed by everything the value
depends on:

- the metric: its registered name, the parameters it was built with (``build_metric``), and the
  content of every file a parameter names (a user-trained weights file, say);
- the metric *code*: a digest of ``harness/metrics/`` (sources and shipped weights), the scoring and
  guard modules, and the versions of the libraries that compute scores (bert-score, torch, ...), so
  editing a metric or upgrading a library invalidates every cached score;
- the input: the whole case (references, labels, facts...) and the exact text, retrieved passages
  and metadata the metric saw (delivered, credited or model-own text).

Not cached: metrics built outside ``build_metric`` (their parameters are unknown) and the LLM judge
(a remote model can change behind the same name). ``HARNESS_SCORE_CACHE=0`` switches caching off.
A metric is re-run on the whole batch whenever any case misses, so batch-level behaviour is kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.hashing import content_digest, payload_digest
from harness.metrics.base import CaseScore, Metric, Output
from harness.suite import Case

if TYPE_CHECKING:
    from harness.store import Store

UNCACHED_METRICS = frozenset({"llm_judge"})
_SCORING_LIBRARIES = ("bert-score", "rouge-score", "sacrebleu", "nltk", "torch", "transformers",
                      "sentence-transformers", "scikit-learn", "numpy", "scipy")
_FALSE = {"0", "false", "no", "off"}


def cache_enabled() -> bool:
    return os.environ.get("HARNESS_SCORE_CACHE", "1").strip().lower() not in _FALSE


def _skip_bytecode(relative: Path) -> bool:
    return "__pycache__" in relative.parts or relative.suffix == ".pyc"


@lru_cache(maxsize=1)
def code_identity() -> str:
    """Digest of the scoring code and the libraries it runs on (computed once per process)."""
    harness_dir = Path(__file__).resolve().parent
    versions = {}
    for name in _SCORING_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return payload_digest({
        "metrics": content_digest(harness_dir / "metrics", _skip_bytecode),
        "scoring": content_digest(harness_dir / "scoring.py"),
        "guard": content_digest(harness_dir / "guard.py"),
        "libraries": versions,
    })


def _param_identity(value: Any) -> Any:
    """A parameter value, plus the content digest of a file or folder it names."""
    if isinstance(value, str) and value and len(value) < 4096:
        try:
            path = Path(value).expanduser()
            if path.exists():
                return {"value": value, "content": content_digest(path, _skip_bytecode)}
        except OSError:
            pass
    if isinstance(value, list | tuple):
        return [_param_identity(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _param_identity(v) for k, v in value.items()}
    return value


def metric_identity(metric: Metric) -> str | None:
    """The cache identity of a built metric, or None when its results must not be cached."""
    params = getattr(metric, "build_params", None)
    if metric.name in UNCACHED_METRICS or not isinstance(params, dict):
        return None
    return payload_digest({"metric": metric.name, "params": _param_identity(params), "code": code_identity(),
                           "version": getattr(metric, "version", None)})


def input_key(identity: str, case: Case, output: Output) -> str:
    """The cache key of one metric on one (case, output) pair."""
    return payload_digest({"metric": identity, "case": case.model_dump(mode="json"),
                           "text": output.text, "retrieved": output.retrieved, "meta": output.meta})


class ScoreCache:
    """Per-case metric results in the store's ``score_cache`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.hits = 0
        self.misses = 0

    def lookup(self, metric: Metric, cases: Sequence[Case], outputs: Sequence[Output]
               ) -> tuple[list[str] | None, list[CaseScore] | None]:
        """(keys, cached scores): scores only when every case hits; keys None when uncacheable."""
        identity = metric_identity(metric) if cache_enabled() else None
        if identity is None:
            return None, None
        keys = [input_key(identity, c, o) for c, o in zip(cases, outputs, strict=True)]
        found = self.store.cached_scores(keys)
        if len(found) < len(set(keys)):
            self.misses += len(keys)
            return keys, None
        self.hits += len(keys)
        return keys, [CaseScore(dict(found[k]["values"]), dict(found[k]["details"])) for k in keys]

    def save(self, metric: Metric, keys: Sequence[str], scores: Sequence[CaseScore]) -> None:
        rows = []
        for key, score in zip(keys, scores, strict=True):
            values = {k: None if v is None else float(v) for k, v in score.values.items()}
            payload = json.dumps({"values": values, "details": score.details}, default=str)
            rows.append((key, metric.name, payload))
        self.store.save_cached_scores(rows)
