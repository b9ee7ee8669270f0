"""Advisory file locks under ``$HARNESS_HOME/locks``: one process at a time per run or model folder.

The kernel drops an ``fcntl`` lock when its holder dies (even by kill -9), so a stale lock file
never blocks anyone; the file itself is harmless and left in place.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.paths import harness_home


def lock_path(name: str) -> Path:
    """The lock file for ``name`` (any text; unsafe characters are replaced)."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:150]
    folder = harness_home() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}.lock"


@contextmanager
def exclusive_lock(name: str, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the named lock for the ``with`` block; if another process holds it, say so and wait."""
    path = lock_path(name)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "another process"
            if on_wait:
                on_wait(f"waiting for {holder} (lock {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(handle)
