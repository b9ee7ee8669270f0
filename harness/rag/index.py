"""ChromaDB index of chunks, one collection per embedding-model fingerprint.

Vectors from two different encoders are not comparable, so each encoder (weights +
normalisation) gets its own collection, named after its fingerprint. Chunk ids are content
hashes, so re-indexing embeds only chunks the collection does not hold yet.

chromadb, torch and sentence-transformers are imported inside the functions that need them
so that importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, ModelNotFoundError
from harness.hashing import file_digest, folder_files
from harness.models.embedded import minilm_path as embedded_model_path  # the shipped all-MiniLM-L6-v2
from harness.paths import harness_home
from harness.rag.chunking import Chunk

# Files that do not change what a model computes (model cards, our own training notes).
_FINGERPRINT_SKIP = {"README.md", ".gitattributes", "training.json", "COMPLETE"}
COLLECTION_PREFIX = "chunks-"


def default_index_dir() -> Path:
    """``$HARNESS_HOME/rag`` (``~/.cache/harness/rag`` by default)."""
    return harness_home() / "rag"


def model_fingerprint(model_path: Path | str, *, normalize: bool = True) -> str:
    """sha256 over the model folder's files (weights included) and the normalisation setting.

    By content, through ``harness.hashing`` (``folder_files`` + ``file_digest``), like every folder identity.
    Its byte layout and skip list predate ``hashing.content_digest`` and are kept: index collections and
    embedding fine-tunes are named by this value, so changing it would re-index and retrain everything."""
    root = Path(model_path)
    if not root.is_dir():
        raise ModelNotFoundError(f"{root}: embedding model folder not found (expected sentence-transformers format)")
    digest = hashlib.sha256()
    for path in folder_files(root, skip=_not_model_content):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(file_digest(path).encode())
    digest.update(json.dumps({"normalize": normalize}).encode())
    return digest.hexdigest()


def _not_model_content(relative: Path) -> bool:
    return relative.name in _FINGERPRINT_SKIP or any(part.startswith((".", "checkpoint-")) for part in relative.parts)


class Encoder:
    """A SentenceTransformer loaded once, encoding in batches; counts calls so tests can see re-embedding."""

    def __init__(self, model_path: Path | str | None = None, *, normalize: bool = True, batch_size: int = 32) -> None:
        self.model_path = Path(model_path) if model_path else embedded_model_path()
        self.normalize = normalize
        self.batch_size = batch_size
        self.fingerprint = model_fingerprint(self.model_path, normalize=normalize)
        self.encode_calls = 0
        self.encoded_texts = 0
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(str(self.model_path), device="cpu")
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                raise ModelNotFoundError(f"{self.model_path}: cannot load embedding model ({exc})") from None
        return self._model

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length (if ``normalize``) float vectors, one per text."""
        if not texts:
            return []
        self.encode_calls += 1
        self.encoded_texts += len(texts)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype("float32").tolist()


@lru_cache(maxsize=1)
def _embedding_function_class() -> type:
    """Chroma's EmbeddingFunction subclass, built on first use so chromadb loads lazily."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class HarnessSentenceTransformerEF(EmbeddingFunction[Documents]):
        """Our own embedding function: Chroma's default one would download an ONNX model."""

        def __init__(self, encoder: Encoder) -> None:
            self.encoder = encoder

        def __call__(self, input: Documents) -> Embeddings:
            import numpy as np

            return [np.asarray(v, dtype=np.float32) for v in self.encoder.encode(list(input))]

        @staticmethod
        def name() -> str:
            return "harness-sentence-transformer"

        def default_space(self) -> Any:
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return {
                "model_path": str(self.encoder.model_path),
                "normalize": self.encoder.normalize,
                "batch_size": self.encoder.batch_size,
                "fingerprint": self.encoder.fingerprint,
            }

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> HarnessSentenceTransformerEF:
            return HarnessSentenceTransformerEF(
                Encoder(config["model_path"], normalize=config["normalize"], batch_size=config["batch_size"])
            )

    return HarnessSentenceTransformerEF


def make_embedding_function(encoder: Encoder) -> Any:
    return _embedding_function_class()(encoder)


@dataclass
class SyncStats:
    embedded: int
    skipped: int
    removed: int


class ChunkIndex:
    """A persistent Chroma collection (cosine space) for one encoder, under ``index_dir``."""

    def __init__(self, index_dir: Path | str | None, encoder: Encoder) -> None:
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self.encoder = encoder
        self.collection_name = COLLECTION_PREFIX + encoder.fingerprint[:40]
        self._client: Any = None
        self._collection: Any = None

    @property
    def collection(self) -> Any:
        if self._collection is None:
            import chromadb
            from chromadb.config import Settings

            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.index_dir), settings=Settings(anonymized_telemetry=False)
            )
            self._collection = self._client.get_or_create_collection(
                self.collection_name,
                embedding_function=make_embedding_function(self.encoder),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"model_path": str(self.encoder.model_path), "fingerprint": self.encoder.fingerprint},
            )
        return self._collection

    def count(self) -> int:
        return int(self.collection.count())

    def ids(self, where: dict[str, Any] | None = None) -> list[str]:
        return list(self.collection.get(where=where, include=[])["ids"])

    def _max_batch(self) -> int:
        _ = self.collection
        return max(1, int(self._client.get_max_batch_size()))

    def _existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        step = self._max_batch()
        for offset in range(0, len(ids), step):
            found.update(self.collection.get(ids=list(ids[offset : offset + step]), include=[])["ids"])
        return found

    def sync(self, chunks: Sequence[Chunk], document_ids: Iterable[str] | None = None) -> SyncStats:
        """Add new chunks; drop chunks of ``document_ids`` that the new chunking no longer has.

        All new embeddings are computed before the collection is touched, so an encoder
        failure leaves the index as it was.
        """
        unique = list({c.chunk_id: c for c in chunks}.values())
        existing = self._existing([c.chunk_id for c in unique])
        new = [c for c in unique if c.chunk_id not in existing]
        vectors: list[list[float]] = []
        size = self.encoder.batch_size
        for offset in range(0, len(new), size):
            vectors.extend(self.encoder.encode([c.embedding_text for c in new[offset : offset + size]]))
        keep = {c.chunk_id for c in unique}
        stale: list[str] = []
        for doc_id in sorted(set(document_ids or ())):
            stale.extend(i for i in self.ids({"document_id": doc_id}) if i not in keep)
        step = self._max_batch()
        for offset in range(0, len(stale), step):
            self.collection.delete(ids=stale[offset : offset + step])
        for offset in range(0, len(new), step):
            batch = new[offset : offset + step]
            self.collection.add(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors[offset : offset + step],
                documents=[c.text for c in batch],
                metadatas=[c.metadata() for c in batch],
            )
        return SyncStats(embedded=len(new), skipped=len(unique) - len(new), removed=len(stale))

    def query(
        self, vectors: Sequence[Sequence[float]], k: int, where: dict[str, Any] | None = None
    ) -> list[list[dict[str, Any]]]:
        """Top-``k`` chunks per query vector, best first; ``score`` is cosine similarity."""
        if k <= 0:
            raise ConfigError(f"retrieval k must be positive (got {k})")
        if not vectors:
            return []
        total = self.count()
        if total == 0:
            return [[] for _ in vectors]
        result = self.collection.query(
            query_embeddings=[list(v) for v in vectors],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits: list[list[dict[str, Any]]] = []
        for docs, metas, dists in zip(result["documents"], result["metadatas"], result["distances"], strict=True):
            hits.append(
                [
                    {
                        "text": text,
                        "document_id": meta["document_id"],
                        "section": meta["section"],
                        "start": int(meta["start"]),
                        "end": int(meta["end"]),
                        "score": round(1.0 - float(dist), 6),
                        "chunk_id": meta["chunk_id"],
                    }
                    for text, meta, dist in zip(docs, metas, dists, strict=True)
                ]
            )
        return hits
