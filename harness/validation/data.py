"""Where validation data lives: the shared data folder (never copied into the repo) and the vignettes.

The author-written vignettes are development data kept beside the tests; installed code never
assumes a clone: ``vignettes_dir()`` is ``$HARNESS_VIGNETTES``, else the clone's folder when there is
one, else None (the vignette sections are then skipped as "data not found").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.yamlio import iter_jsonl


def default_data_dir() -> Path:
    """``$HARNESS_SHARED_DATA`` or ``<repo>/../shared/data`` (see ``harness.paths``)."""
    from harness.paths import shared_data_dir

    return shared_data_dir()


def file_info(path: Path) -> dict[str, Any]:
    import hashlib

    return {"file": str(path.name), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in iter_jsonl(path)]


def mibot_sessions(mibot_dir: Path) -> list[dict[str, Any]]:
    sessions = []
    for path in sorted((mibot_dir / "transcripts").glob("*.json")):
        sessions.append(json.loads(path.read_text()))
    return sessions


def vignettes_dir() -> Path | None:
    """``$HARNESS_VIGNETTES``, else the clone's tests/metrics/vignettes when this code runs from a clone."""
    import os

    from harness.paths import repo_root

    override = os.environ.get("HARNESS_VIGNETTES")
    if override:
        return Path(override).expanduser()
    folder = repo_root() / "tests" / "metrics" / "vignettes"
    return folder if folder.is_dir() else None
