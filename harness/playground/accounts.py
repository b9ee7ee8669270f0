"""Reviewer accounts for the playground's optional login.

Accounts come from a YAML file (``reviewers: [{username, password_scrypt | password_env, admin}]``,
written by ``harness reviewers add``) or from ``$HARNESS_REVIEWERS`` (``"user:pass,user2:pass2"``, or
a path to such a YAML file). A file holds only salted scrypt hashes or the names of environment
variables. Old unsalted ``password_sha256`` entries are refused with the command that replaces
them. Logins are throttled (see :mod:`harness.playground.throttle`), and no error message repeats a
password, a hash or any value from the file.
"""

from __future__ import annotations

import contextvars
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import ConfigError
from harness.playground.passwords import DUMMY_HASH, hash_password, parse_hash, verify_password
from harness.playground.throttle import LoginThrottle
from harness.yamlio import LocatedYaml, load_yaml

log = logging.getLogger(__name__)

ENV_VAR = "HARNESS_REVIEWERS"
LEGACY_FIELD = "password_sha256"
# The address of the client whose login is being checked (set per request by ClientAddressMiddleware).
CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("playground_client", default="unknown")


class ReviewerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password_scrypt: str | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    admin: bool = False

    @field_validator("password_scrypt")
    @classmethod
    def _scrypt_format(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hash(value)
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> ReviewerEntry:
        if (self.password_scrypt is None) == (self.password_env is None):
            raise ValueError("give exactly one of 'password_scrypt' or 'password_env'")
        return self


class ReviewersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    reviewers: list[ReviewerEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ReviewersFile:
        names = [r.username for r in self.reviewers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"usernames must be unique; repeated: {dupes}")
        return self


def legacy_message(path: Path | str, usernames: list[str]) -> str:
    return (f"{path}: reviewer(s) {', '.join(repr(u) for u in usernames)} use an unsalted '{LEGACY_FIELD}', "
            "which is no longer accepted (fast to crack if the file leaks). Re-create each entry with "
            f"`harness reviewers add NAME --file {path}` (it asks for the password and stores a salted scrypt "
            "hash), or use 'password_env'.")


def validate_reviewers(located: LocatedYaml) -> ReviewersFile:
    """Validate a reviewers file; errors name file, line and field but never echo a value."""
    data = located.data
    if isinstance(data, dict) and isinstance(data.get("reviewers"), list):
        legacy = [str(e.get("username", f"#{i + 1}")) for i, e in enumerate(data["reviewers"])
                  if isinstance(e, dict) and LEGACY_FIELD in e]
        if legacy:
            raise ConfigError(legacy_message(located.path, legacy))
    try:
        return ReviewersFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False):
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            where = located.line_of(loc) if located.line_of else None
            lines.append(f"{located.path}{f':{where}' if where else ''}: field "
                         f"'{'.'.join(str(p) for p in loc) or '(top level)'}': {err['msg']}")
        raise ConfigError("\n".join(lines)) from None


@dataclass
class ReviewerAccounts:
    """username -> salted scrypt hash; admins may assign cases, see results and export votes."""

    hashes: dict[str, str]
    admins: set[str] = field(default_factory=set)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def check(self, username: str, password: str) -> bool:
        """The Gradio ``auth`` callable: throttled, constant-time, same cost for unknown users."""
        username = username.strip()
        client = CLIENT_ADDRESS.get()
        if self.throttle.locked(username, client):
            return False
        expected = self.hashes.get(username)
        matched = verify_password(password, expected or DUMMY_HASH) and expected is not None
        if matched:
            self.throttle.succeeded(username)
        else:
            self.throttle.failed(username, client)
        return matched

    __call__ = check

    @property
    def usernames(self) -> list[str]:
        return sorted(self.hashes)

    def is_admin(self, username: str | None) -> bool:
        return username in self.admins

    @classmethod
    def from_file(cls, path: Path | str) -> ReviewerAccounts:
        parsed = validate_reviewers(load_yaml(Path(path)))
        hashes: dict[str, str] = {}
        for entry in parsed.reviewers:
            if entry.password_scrypt is not None:
                hashes[entry.username] = entry.password_scrypt
                continue
            secret = os.environ.get(entry.password_env or "")
            if not secret:
                raise ConfigError(
                    f"{path}: reviewer {entry.username!r}: environment variable {entry.password_env!r} is not set",
                    hint="export it before starting the playground, or use `harness reviewers add`",
                )
            hashes[entry.username] = hash_password(secret)
        return cls(hashes, {e.username for e in parsed.reviewers if e.admin})

    @classmethod
    def from_string(cls, value: str) -> ReviewerAccounts:
        """``"user:pass,user2:pass2"``; the first user is the admin (the one who set it up)."""
        hashes: dict[str, str] = {}
        order: list[str] = []
        for position, item in enumerate(value.split(","), start=1):
            if not item.strip():
                continue
            user, sep, password = item.partition(":")
            user = user.strip()
            if not sep or not user or not password:
                # Never echo the item: it may hold a password.
                raise ConfigError(f"${ENV_VAR}: entry {position} is not 'user:password' (entries are separated by "
                                  "commas; the user name and the password must both be non-empty)")
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


class ClientAddressMiddleware:
    """ASGI middleware: records each request's client address for the login throttle."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("client"):
            CLIENT_ADDRESS.set(str(scope["client"][0]))
        await self.app(scope, receive, send)
