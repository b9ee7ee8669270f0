"""Reading the playground's SQLite store in browser tests (imported by basename: pytest puts this folder on
sys.path), so both browser test files check what the clicks saved the same way."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def rows(store_path: Path, query: str, *args: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(store_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()
