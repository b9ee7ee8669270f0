"""Plain data types shared by candidates, metrics and views.

They live here, below everything else, so that the candidate (which produces an ``Output``) and the
metrics (which score one) both import them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Output:
    """What a candidate produced for a case: text plus, for RAG candidates, retrieved passages."""

    text: str
    retrieved: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
