"""Reviewer accounts for the playground's optional login.

Accounts come from a YAML file (``reviewers: [{username, password_sha256 | password_env,
admin}]``) or from ``$HARNESS_REVIEWERS`` (``"user:pass,user2:pass2"``, or a path to such a
YAML file). Files hold only password hashes or the names of environment variables, so an
accounts file can be committed or shared without sharing passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.errors import ConfigError
from harness.yamlio import load_yaml, validate_yaml_model

ENV_VAR = "HARNESS_REVIEWERS"


class ReviewerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    password_env: str | None = None
    admin: bool = False

    @model_validator(mode="after")
    def _one_secret(self) -> ReviewerEntry:
        if (self.password_sha256 is None) == (self.password_env is None):
            raise ValueError("give exactly one of 'password_sha256' or 'password_env'")
        return self


class ReviewersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewers: list[ReviewerEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ReviewersFile:
        names = [r.username for r in self.reviewers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"usernames must be unique; repeated: {dupes}")
        return self


def hash_password(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


@dataclass
class ReviewerAccounts:
    """username -> sha256(password); admins may assign cases and export votes."""

    hashes: dict[str, str]
    admins: set[str] = field(default_factory=set)

    def check(self, username: str, password: str) -> bool:
        """Constant-time password check (the Gradio ``auth`` callable)."""
        expected = self.hashes.get(username.strip())
        supplied = hash_password(password)
        # Compare even for unknown users so timing does not reveal which usernames exist.
        return hmac.compare_digest(expected or "0" * 64, supplied) and expected is not None

    __call__ = check

    @property
    def usernames(self) -> list[str]:
        return sorted(self.hashes)

    def is_admin(self, username: str | None) -> bool:
        return username in self.admins

    @classmethod
    def from_file(cls, path: Path | str) -> ReviewerAccounts:
        parsed = validate_yaml_model(ReviewersFile, load_yaml(Path(path)))
        hashes: dict[str, str] = {}
        for entry in parsed.reviewers:
            if entry.password_sha256 is not None:
                hashes[entry.username] = entry.password_sha256.lower()
                continue
            secret = os.environ.get(entry.password_env or "")
            if not secret:
                raise ConfigError(
                    f"{path}: reviewer {entry.username!r}: environment variable {entry.password_env!r} is not set",
                    hint="export it before starting the playground, or use password_sha256",
                )
            hashes[entry.username] = hash_password(secret)
        return cls(hashes, {e.username for e in parsed.reviewers if e.admin})

    @classmethod
    def from_string(cls, value: str) -> ReviewerAccounts:
        """``"user:pass,user2:pass2"``; the first user is the admin (the one who set it up)."""
        hashes: dict[str, str] = {}
        order: list[str] = []
        for item in value.split(","):
            if not item.strip():
                continue
            user, sep, password = item.partition(":")
            user = user.strip()
            if not sep or not user or not password:
                raise ConfigError(f"${ENV_VAR}: expected 'user:password' pairs separated by commas, got {item!r}")
            hashes[user] = hash_password(password)
            order.append(user)
        if not hashes:
            raise ConfigError(f"${ENV_VAR} is set but names no reviewer")
        return cls(hashes, {order[0]})

    @classmethod
    def from_env(cls) -> ReviewerAccounts | None:
        value = os.environ.get(ENV_VAR, "").strip()
        if not value:
            return None
        if value.endswith((".yaml", ".yml")) and Path(value).expanduser().exists():
            return cls.from_file(Path(value).expanduser())
        return cls.from_string(value)


def resolve_accounts(auth: Any) -> ReviewerAccounts | None:
    """Accounts from a ReviewerAccounts, a YAML path, a 'user:pass' string, a dict or None (no login)."""
    if auth is None or isinstance(auth, ReviewerAccounts):
        return auth
    if isinstance(auth, Path):
        return ReviewerAccounts.from_file(auth)
    if isinstance(auth, dict):
        names = list(auth)
        return ReviewerAccounts({u: hash_password(p) for u, p in auth.items()}, set(names[:1]))
    if isinstance(auth, str):
        if auth.endswith((".yaml", ".yml")):
            return ReviewerAccounts.from_file(auth)
        return ReviewerAccounts.from_string(auth)
    raise TypeError(f"auth must be ReviewerAccounts, a path, 'user:pass,...', a dict or None; got {type(auth)}")
