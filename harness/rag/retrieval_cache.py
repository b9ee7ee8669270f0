"""Search results kept beside the index, so a warm run neither loads the encoder nor opens Chroma.

A RAG candidate retrieves before it looks up its generation cache (the passages are part of the
prompt), so without this every warm run paid for importing sentence-transformers and chromadb and
for embedding the questions again. A result is keyed by everything that decides it: the retriever's
fingerprint (encoder weights, normalisation, chunking), the searched documents' text, the question,
the document filter and ``k``. Deleting the index folder deletes the cache with it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from harness.hashing import payload_digest

CACHE_FILE = "retrievals.sqlite"
Hits = list[dict[str, Any]]


def retrieval_key(retriever_fp: str, documents_fp: str, question: str, document_id: str | None, k: int) -> str:
    return payload_digest(
        {"retriever": retriever_fp, "documents": documents_fp, "question": question, "document_id": document_id,
         "k": k}
    )


class RetrievalCache:
    """key -> hits (JSON) in one SQLite file; safe for several processes (pytest-xdist workers)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / CACHE_FILE

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        connection.execute("CREATE TABLE IF NOT EXISTS retrievals (key TEXT PRIMARY KEY, hits TEXT NOT NULL)")
        return connection

    def get_many(self, keys: Sequence[str]) -> dict[str, Hits]:
        if not keys or not self.path.exists():
            return {}
        found: dict[str, Hits] = {}
        unique = sorted(set(keys))
        with closing(self._connect()) as connection:
            for offset in range(0, len(unique), 500):
                part = unique[offset : offset + 500]
                marks = ",".join("?" * len(part))
                rows = connection.execute(f"SELECT key, hits FROM retrievals WHERE key IN ({marks})", part)
                found.update((key, json.loads(hits)) for key, hits in rows)
        return found

    def put_many(self, items: dict[str, Hits]) -> None:
        if not items:
            return
        with closing(self._connect()) as connection, connection:
            connection.executemany(
                "INSERT OR REPLACE INTO retrievals (key, hits) VALUES (?, ?)",
                [(key, json.dumps(hits, sort_keys=True)) for key, hits in items.items()],
            )
