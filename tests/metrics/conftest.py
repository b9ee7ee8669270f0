"""Fixtures for metric tests: terse case/output builders; the optional shared data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.metrics.base import Output
from harness.suite import Case

VIGNETTES = Path(__file__).parent / "vignettes"


def _make_case(text: str = "hello", **fields: Any) -> Case:
    labels = fields.pop("labels", {})
    return Case.model_validate(
        {"id": fields.pop("id", "c1"), "split": "test", "input": text, "labels": labels, **fields}
    )


@pytest.fixture
def make_case() -> Callable[..., Case]:
    return _make_case


@pytest.fixture
def out() -> Callable[[str], Output]:
    return Output


@pytest.fixture(scope="session")
def vignettes() -> Path:
    return VIGNETTES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $HARNESS_SHARED_DATA); tests using it skip on a fresh machine."""
    from harness.paths import shared_data_dir

    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not present at {path}")
    return path
