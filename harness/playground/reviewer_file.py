"""Create and update reviewer entries in a reviewers YAML file (``harness reviewers add``).

The password is hashed here (salted scrypt) and only the hash is written; the file is replaced
atomically and created readable by its owner only. Other entries are kept as they are, except
that an old unsalted entry for the same username is replaced.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError
from harness.playground.accounts import LEGACY_FIELD, ReviewerEntry, validate_reviewers
from harness.playground.passwords import MIN_PASSWORD_LENGTH, hash_password
from harness.yamlio import load_yaml

ROLES = ("reviewer", "admin")


def _entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = load_yaml(path).data
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("reviewers"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'reviewers:' list")
    return [dict(e) if isinstance(e, dict) else e for e in data["reviewers"]]


def add_reviewer(path: Path | str, username: str, password: str, *, role: str = "reviewer") -> list[str]:
    """Add or replace ``username``; returns usernames still on unsalted hashes (to re-create)."""
    path = Path(path)
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    entry = {"username": username, "password_scrypt": hash_password(password), "admin": role == "admin"}
    try:
        ReviewerEntry.model_validate(entry)
    except ValueError:
        raise ConfigError(f"username {username!r} must be 1-64 characters of letters, digits, '_', '.', '@', "
                          "'-'") from None
    entries = [e for e in _entries(path) if not (isinstance(e, dict) and e.get("username") == username)]
    entries.append(entry)
    legacy = [str(e.get("username")) for e in entries if isinstance(e, dict) and LEGACY_FIELD in e]
    _write(path, {"reviewers": entries})
    if not legacy:
        validate_reviewers(load_yaml(path))  # what the playground will read must load
    return legacy


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Reviewer accounts for `harness playground --auth-file`. Entries hold salted scrypt hashes;\n"
              "# add or change one with `harness reviewers add NAME --file THIS_FILE`.\n")
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        os.chmod(staging, 0o600)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise

