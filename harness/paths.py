"""Where the harness keeps its cache, store and prepared models."""

from __future__ import annotations

import os
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
