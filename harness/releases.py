"""Released suite versions are immutable, and every run and gate session checks that they still are.

``suites/released.json`` pins each released version's content hash; ``suites/released_cases.json``
pins a hash per case and per file, so a changed release is refused with the case ids that differ
(a team's CI has no access to the project's git history to diff against). A user may run a changed
version on purpose as an unreleased *draft* (``--allow-draft``); the run and report then say so.
A team's own suite (a name/version the project never released) is *unreleased* and labelled so.

The project's pins always apply, also to a copy of a released suite in a team's own suites folder:
a released name/version means that content, wherever the folder lives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.errors import ConfigError
from harness.hashing import file_digest
from harness.suite import Suite, default_suites_dir

RELEASED_FILE = "released.json"
RELEASED_CASES_FILE = "released_cases.json"
_PINNED_FILES = ("suite.yaml", "documents.jsonl")

ReleaseState = Literal["released", "unreleased", "draft"]


class ReleaseChangedError(ConfigError):
    """A released suite version's files differ from the pinned release."""


@dataclass(frozen=True)
class ReleaseStatus:
    """What a run may say about one suite version it evaluated."""

    key: str
    state: ReleaseState
    changes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.state == "draft":
            return f"DRAFT (changed released version: {'; '.join(self.changes)})"
        if self.state == "unreleased":
            return "unreleased (not in suites/released.json)"
        return "released (hash matches suites/released.json)"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "changes": self.changes, "label": self.label}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON file of pinned releases: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object mapping 'suite/version' to its pinned hash")
    return data


def pinned_releases(suites_dir: Path | None = None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(suite hashes, per-case/per-file pins): the project's pins, plus a suites folder's own for
    versions the project does not pin (the project's win: a released name means that content)."""
    hashes: dict[str, str] = {}
    details: dict[str, dict[str, Any]] = {}
    folders = [default_suites_dir()]
    if suites_dir is not None and Path(suites_dir).resolve() != default_suites_dir().resolve():
        folders.append(Path(suites_dir))
    for folder in reversed(folders):  # the project's folder last, so its pins override
        hashes.update(_read_json(folder / RELEASED_FILE))
        details.update(_read_json(folder / RELEASED_CASES_FILE))
    return hashes, details


def suite_pins(suite: Suite) -> dict[str, Any]:
    """Per-file and per-case hashes of a loaded suite (what ``released_cases.json`` stores)."""
    files = {name: file_digest(suite.directory / name)[:16] for name in _PINNED_FILES
             if (suite.directory / name).exists()}
    return {"files": files, "cases": {case.id: case.content_hash() for case in suite.cases}}


def describe_changes(suite: Suite, pinned: dict[str, Any] | None) -> list[str]:
    """Human-readable differences from the pinned release, naming case ids."""
    if not pinned:
        return ["content hash differs from suites/released.json (no per-case pins to name the cases)"]
    current = suite_pins(suite)
    changes = [f"{name} changed" for name, digest in current["files"].items()
               if pinned.get("files", {}).get(name) not in (None, digest)]
    old_cases: dict[str, str] = pinned.get("cases", {})
    new_cases: dict[str, str] = current["cases"]
    for verb, ids in (
        ("changed", [i for i in new_cases if i in old_cases and old_cases[i] != new_cases[i]]),
        ("added", [i for i in new_cases if i not in old_cases]),
        ("removed", [i for i in old_cases if i not in new_cases]),
    ):
        if ids:
            shown = ", ".join(ids[:20]) + (f" (+{len(ids) - 20} more)" if len(ids) > 20 else "")
            changes.append(f"cases {verb}: {shown}")
    if not changes:
        changes.append("files differ from the pinned release (line endings or formatting only)")
    return changes


def check_release(suite: Suite, *, allow_draft: bool = False, suites_dir: Path | None = None) -> ReleaseStatus:
    """The suite's release state; a changed released version raises unless ``allow_draft``."""
    hashes, details = pinned_releases(suites_dir if suites_dir is not None else suite.directory.parent.parent)
    pinned = hashes.get(suite.key)
    if pinned is None:
        return ReleaseStatus(suite.key, "unreleased")
    if pinned == suite.hash:
        return ReleaseStatus(suite.key, "released")
    changes = describe_changes(suite, details.get(suite.key))
    if allow_draft:
        return ReleaseStatus(suite.key, "draft", changes)
    raise ReleaseChangedError(
        f"{suite.directory}: {suite.key} is a released suite version, but it differs from its pinned release: "
        + "; ".join(changes),
        hint="released versions are immutable: copy the folder to a new version (e.g. "
        f"{suite.name}/v{_next_version(suite.version)}), or run this one as an unreleased draft with --allow-draft "
        "(the run and report are then labelled DRAFT)",
    )


def _next_version(version: str) -> str:
    digits = version.lstrip("v")
    return str(int(digits) + 1) if digits.isdigit() else f"{version}-2"


def pin_release(suite: Suite, suites_dir: Path | None = None) -> None:
    """Pin a suite version as released (its hash and per-case hashes) in ``suites_dir``."""
    folder = Path(suites_dir) if suites_dir is not None else suite.directory.parent.parent
    hashes = _read_json(folder / RELEASED_FILE)
    if suite.key in hashes and hashes[suite.key] != suite.hash:
        raise ReleaseChangedError(f"{suite.key} is already released with another hash; release a new version")
    hashes[suite.key] = suite.hash
    details = _read_json(folder / RELEASED_CASES_FILE)
    details[suite.key] = suite_pins(suite)
    (folder / RELEASED_FILE).write_text(json.dumps(hashes, indent=2) + "\n")
    (folder / RELEASED_CASES_FILE).write_text(json.dumps(details, indent=1, sort_keys=True) + "\n")
