"""Training records from any source: text clean-up, the system turn, chat messages read from a row, paths a
dataset names, and the held-out eval split.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.leakage import normalise_nfkc

Messages = list[dict[str, str]]
ROLES = ("system", "user", "assistant")


# ----------------------------------------------------------------------------- text helpers


def normalise_text(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used by the leakage check."""
    return normalise_nfkc(text)


def _clean(text: str) -> str:
    """Strip HTML, unescape entities, restore the space that scraping lost after full stops."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"([a-z][.!?])([A-Z])", r"\1 \2", text)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def _with_system(messages: Messages, system: str | None) -> Messages:
    if system and (not messages or messages[0]["role"] != "system"):
        return [{"role": "system", "content": system.strip()}, *messages]
    return messages


def _resolve_path(value: str | None, base_dir: Path, default: Path, field_name: str, dataset: str) -> Path:
    if value is None:
        path = default
    else:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = (base_dir / path).resolve()
    if not path.exists():
        raise ConfigError(
            f"dataset {dataset!r}: field '{field_name}': {path} not found",
            hint="public data lives in ../shared/data on development machines; set the path or drop the dataset",
        )
    return path


def _messages_from(obj: Any, where: str, *, roles: Iterable[str] = ROLES) -> Messages:
    allowed = set(roles)
    if not isinstance(obj, list) or not obj:
        raise ConfigError(f"{where}: expected a non-empty list of {{role, content}} messages")
    out: Messages = []
    for index, message in enumerate(obj):
        if not isinstance(message, dict) or set(message) - {"role", "content"} or "role" not in message:
            raise ConfigError(f"{where}: message {index}: expected {{'role': ..., 'content': ...}}, got {message!r}")
        role, content = message["role"], message.get("content")
        if role not in allowed:
            raise ConfigError(f"{where}: message {index}: role {role!r} is not one of {', '.join(sorted(allowed))}")
        if not isinstance(content, str) or not content.strip():
            raise ConfigError(f"{where}: message {index}: content must be non-empty text")
        out.append({"role": role, "content": content.strip()})
    return out


def _split_eval(records: list[dict[str, Any]], fraction: float, seed: int,
                group: Any = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Seeded hold-out; ``group`` keeps related records (one transcript) on one side."""
    if fraction <= 0 or len(records) < 2:
        return records, []
    key = group or (lambda r: r["id"])
    groups = sorted({key(r) for r in records}, key=str)
    random.Random(seed).shuffle(groups)
    n_eval = max(1, round(len(groups) * fraction)) if len(groups) > 1 else 0
    held = set(groups[:n_eval])
    return [r for r in records if key(r) not in held], [r for r in records if key(r) in held]
