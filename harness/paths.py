"""Where the harness keeps its cache, store and prepared models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path


def harness_home() -> Path:
    """``$HARNESS_HOME`` or ``~/.cache/harness``: prepared models, indexes, adapters."""
    home = os.environ.get("HARNESS_HOME")
    path = Path(home).expanduser() if home else Path.home() / ".cache" / "harness"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_store_path() -> Path:
    """The SQLite store: ``$HARNESS_STORE`` or ``$HARNESS_HOME/store.sqlite``."""
    store = os.environ.get("HARNESS_STORE")
    return Path(store).expanduser() if store else harness_home() / "store.sqlite"


_RUN_STORE: ContextVar[Path | None] = ContextVar("harness_run_store", default=None)


@contextmanager
def run_store(path: Path) -> Iterator[None]:
    """While a run generates and scores, parts that cache on their own (the LLM judge) write to the run's
    store (``harness run --store``), not to the default one under ``$HARNESS_HOME``."""
    token = _RUN_STORE.set(Path(path))
    try:
        yield
    finally:
        _RUN_STORE.reset(token)


def active_store_path() -> Path:
    """The store of the run in progress in this context, else ``default_store_path()``."""
    return _RUN_STORE.get() or default_store_path()


def repo_root() -> Path:
    """The folder above the ``harness`` package: the clone's root in development (in an installed
    package it is site-packages, where ``shipped_dir`` finds the suites and configs instead)."""
    return Path(__file__).resolve().parent.parent


SHIPPED = ("suites", "configs")


def shipped_dir(name: str) -> Path:
    """The shipped ``suites`` or ``configs`` folder, wherever the harness runs from.

    A clone's own folder (``<repo>/suites``) comes first, so edits in a checkout are what runs; an
    installed wheel carries copies as package data under ``harness/_shipped/<name>``.
    """
    if name not in SHIPPED:
        raise ValueError(f"unknown shipped folder {name!r} (known: {', '.join(SHIPPED)})")
    clone = repo_root() / name
    if clone.is_dir():
        return clone
    return Path(__file__).resolve().parent / "_shipped" / name


def shared_data_dir() -> Path:
    """Public datasets for development (absent on a user's machine)."""
    override = os.environ.get("HARNESS_SHARED_DATA")
    return Path(override) if override else repo_root().parent / "shared" / "data"
