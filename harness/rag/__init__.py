"""Retrieval-augmented generation: ingest documents, chunk by section, index in ChromaDB, retrieve.

Importing this package is cheap; chromadb and the encoder load on first use.
"""

from harness.rag.candidate_retriever import TrainedEncoder, build_candidate_retriever
from harness.rag.chunking import Chunk, ChunkingConfig, chunk_document
from harness.rag.index import (
    ChunkIndex,
    Encoder,
    default_index_dir,
    embedded_model_path,
    model_fingerprint,
)
from harness.rag.ingest import (
    IngestResult,
    ingest_documents,
    ingest_paths,
    load_documents,
    read_document,
)
from harness.rag.retriever import Retriever

__all__ = [
    "Chunk",
    "ChunkIndex",
    "ChunkingConfig",
    "Encoder",
    "IngestResult",
    "Retriever",
    "TrainedEncoder",
    "build_candidate_retriever",
    "chunk_document",
    "default_index_dir",
    "embedded_model_path",
    "ingest_documents",
    "ingest_paths",
    "load_documents",
    "model_fingerprint",
    "read_document",
]
