"""Retrieval over the chunk index: what a RAG candidate calls before it generates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, ModelNotFoundError
from harness.hashing import payload_digest
from harness.rag.chunking import ChunkingConfig
from harness.rag.index import ChunkIndex, Encoder, embedded_model_path
from harness.rag.ingest import IngestResult, ingest_documents, load_documents
from harness.rag.retrieval_cache import RetrievalCache, retrieval_key
from harness.suite import Document, Suite


class Retriever:
    """Embed questions with one encoder and look them up in that encoder's collection.

    ``embedding_model_path=None`` means the embedded all-MiniLM-L6-v2; ``index_dir=None``
    means ``$HARNESS_HOME/rag``.
    """

    def __init__(
        self,
        embedding_model_path: Path | str | None = None,
        index_dir: Path | str | None = None,
        *,
        normalize: bool = True,
        batch_size: int = 32,
        chunking: ChunkingConfig | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        # ``encoder`` lets several retrievers (index folders) share one loaded model.
        self.encoder = encoder or Encoder(embedding_model_path, normalize=normalize, batch_size=batch_size)
        self.index = ChunkIndex(index_dir, self.encoder)
        self.chunking = chunking or ChunkingConfig()
        self._indexed: set[str] = set()
        self.cache = RetrievalCache(self.index.index_dir)

    @property
    def model_fingerprint(self) -> str:
        return self.encoder.fingerprint

    @property
    def fingerprint(self) -> str:
        """Encoder (weights + normalisation) and chunking settings; stable across indexing.

        The corpus is not part of it: which suite's documents are searched is fixed by
        ``retrieve_for_suite``, and the retrieved passages end up in the prompt, which is
        part of every generation's cache key anyway.
        """
        payload = {"model": self.encoder.fingerprint, "chunking": self.chunking.fingerprint_data()}
        return payload_digest(payload)

    def index_documents(self, documents: Sequence[Document]) -> IngestResult:
        return ingest_documents(documents, self.index, self.chunking)

    def index_paths(self, paths: Iterable[Path | str]) -> IngestResult:
        return ingest_documents(load_documents(paths), self.index, self.chunking)

    def retrieve(self, question: str, k: int = 5, document_id: str | None = None) -> list[dict[str, Any]]:
        """Top-``k`` chunks (text, document_id, section, start, end, score, chunk_id), best first.

        ``document_id`` restricts the search to one document, e.g. the patient's own discharge note.
        """
        return self.retrieve_many([question], k=k, document_ids=[document_id])[0]

    def retrieve_many(
        self,
        questions: Sequence[str],
        k: int = 5,
        document_ids: Sequence[str | None] | None = None,
        *,
        within: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Batched ``retrieve``: one encode call for all questions, one query per document filter.

        ``within`` limits unrestricted questions (document id None) to these documents, so
        chunks other suites left in the same collection are never returned.
        """
        if document_ids is None:
            document_ids = [None] * len(questions)
        if len(document_ids) != len(questions):
            raise ConfigError(f"retrieve_many: {len(questions)} questions but {len(document_ids)} document ids")
        if not questions:
            return []
        vectors = self.encoder.encode(list(questions))
        groups: dict[str | None, list[int]] = {}
        for position, doc_id in enumerate(document_ids):
            groups.setdefault(doc_id, []).append(position)
        results: list[list[dict[str, Any]]] = [[] for _ in questions]
        for doc_id, positions in groups.items():
            where: dict[str, Any] | None = None
            if doc_id is not None:
                where = {"document_id": doc_id}
            elif within is not None:
                if not within:
                    continue
                where = {"document_id": {"$in": list(within)}}
            hits = self.index.query([vectors[p] for p in positions], k, where)
            for position, found in zip(positions, hits, strict=True):
                results[position] = found
        return results

    def ensure_indexed(self, suite: Suite) -> list[str]:
        """Index the suite's documents once per suite version; returns their ids."""
        texts = suite_documents(suite)
        if suite.hash not in self._indexed:
            if texts:
                self.index_documents([Document(id=doc_id, text=text) for doc_id, text in texts.items()])
            self._indexed.add(suite.hash)
        return list(texts)

    def retrieve_for_suite(
        self, suite: Suite, questions: Sequence[str], document_ids: Sequence[str | None], k: int = 5
    ) -> list[list[dict[str, Any]]]:
        """What a RAG candidate calls: index the suite if needed, then search only its documents.

        Results come from the retrieval cache when every question was searched before with the same
        retriever, documents and ``k``; only the misses are indexed and searched.
        """
        if len(document_ids) != len(questions):
            raise ConfigError(f"retrieve_for_suite: {len(questions)} questions but {len(document_ids)} document ids")
        documents_fp = payload_digest(suite_documents(suite))
        retriever_fp = self.fingerprint
        keys = [retrieval_key(retriever_fp, documents_fp, question, doc_id, k)
                for question, doc_id in zip(questions, document_ids, strict=True)]
        cached = self.cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in cached]
        if missing:
            within = self.ensure_indexed(suite)
            found = self.retrieve_many([questions[i] for i in missing], k=k,
                                       document_ids=[document_ids[i] for i in missing], within=within)
            fresh = {keys[i]: hits for i, hits in zip(missing, found, strict=True)}
            self.cache.put_many(fresh)
            cached.update(fresh)
        return [cached[key] for key in keys]


def suite_documents(suite: Suite) -> dict[str, str]:
    """document id -> text: ``documents.jsonl`` plus documents cases carry inline under an id."""
    texts = {doc_id: doc.text for doc_id, doc in suite.documents.items()}
    for case in suite.cases:
        if case.document_id and case.document and case.document_id not in texts:
            texts[case.document_id] = case.document
    return texts


EMBEDDED_ALIASES = {"all-minilm-l6-v2", "all-MiniLM-L6-v2", "embedded:all-minilm-l6-v2", "embedded"}


def resolve_embedding_model(name: str | None, base_dir: Path | None = None) -> Path:
    """An embedded-model alias or a sentence-transformers folder (relative to ``base_dir`` or cwd)."""
    if name is None or name in EMBEDDED_ALIASES:
        return embedded_model_path()
    path = Path(name).expanduser()
    candidates = [path] if path.is_absolute() else [(base or Path.cwd()) / path for base in (base_dir, None)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise ModelNotFoundError(
        f"embedding model {name!r} not found (expected a sentence-transformers folder or 'all-minilm-l6-v2')",
        hint="models load from local folders only; the hub is never contacted",
    )
