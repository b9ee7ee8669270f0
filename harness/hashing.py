"""The one place the harness hashes things, so every fingerprint is computed alike.

- ``payload_digest``: a JSON-able payload (configs, specs).
- ``file_digest`` / ``content_digest``: the *bytes* of a file or a whole folder, streamed. Model and
  adapter identities come from here for every weight format (safetensors, bin, pt, GGUF, merged
  folders), so retraining or replacing weights always changes the fingerprint -- a size or mtime
  shortcut would let stale cached outputs be scored as new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

_BLOCK = 1 << 20
# (resolved path, size, mtime_ns, ctime_ns, inode) -> sha256 hex. Any write changes ctime (which,
# unlike mtime, cannot be set back), so a process never reuses the digest of bytes it has not read.
_FILE_CACHE: dict[tuple[str, int, int, int, int], str] = {}


def payload_digest(payload: Any) -> str:
    """SHA-256 hex of the payload as canonical JSON (sorted keys; values JSON cannot hold via ``str``)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: Path | str) -> str:
    """SHA-256 hex of a file's bytes, streamed; cached per process by (path, size, mtime, ctime, inode)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    cached = _FILE_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with resolved.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    _FILE_CACHE[key] = digest.hexdigest()
    return _FILE_CACHE[key]


def _skip_nothing(_relative: Path) -> bool:
    return False


# Files next to weights that never change what a model computes: model cards, training logs and
# markers, intermediate checkpoints, hidden files (editor swap files, .gitattributes).
_BOOKKEEPING_NAMES = frozenset({"README.md", "training.json", "COMPLETE", "trainer_state.json", "training_args.bin"})


def is_bookkeeping(relative: Path) -> bool:
    """True for files under a model or adapter folder that a content identity leaves out."""
    return relative.name in _BOOKKEEPING_NAMES or any(
        part.startswith((".", "checkpoint-")) for part in relative.parts
    )


def folder_files(root: Path, skip: Callable[[Path], bool] = _skip_nothing) -> list[Path]:
    """Every regular file under ``root`` (recursively, sorted by relative path), minus ``skip``."""
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory) / name
            if path.is_file() and not skip(path.relative_to(root)):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def content_digest(path: Path | str, skip: Callable[[Path], bool] = _skip_nothing) -> str:
    """SHA-256 hex of a file, or of a folder's files (relative names + bytes), whatever the format.

    ``skip`` gets each file's path relative to the folder and drops bookkeeping files (logs,
    checkpoints) that do not change what the model computes.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or folder to hash")
    if root.is_file():
        return file_digest(root)
    digest = hashlib.sha256()
    for file in folder_files(root, skip):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(file_digest(file).encode())
    return digest.hexdigest()
