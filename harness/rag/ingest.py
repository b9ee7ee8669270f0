"""Reading documents for the index: plain text, Markdown and (when pypdf is installed) PDF.

Every document is read and validated before anything is written, so a bad file in a folder
stops the whole ingest with an error naming it instead of leaving a half-built index.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ConfigError
from harness.rag.chunking import Chunk, ChunkingConfig, chunk_document
from harness.suite import Document
from harness.yamlio import decode_text

if TYPE_CHECKING:
    from harness.rag.index import ChunkIndex

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ConfigError(f"{path}: looks like a binary file (NUL bytes), expected UTF-8 text")
    return decode_text(data, path, "text")


def _read_pdf(path: Path) -> str:
    if importlib.util.find_spec("pypdf") is None:
        raise ConfigError(
            f"{path}: PDF ingestion needs the 'pypdf' package, which is not installed",
            hint="pip install pypdf, or convert the file to .txt/.md",
        )
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:  # corrupt files
        raise ConfigError(f"{path}: cannot read PDF ({type(exc).__name__}: {exc})") from None
    return "\n\n".join(pages)


def read_document(path: Path, document_id: str | None = None) -> Document:
    """Read one file into a Document (id defaults to the file stem); bad files raise ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text = _read_text_file(path)
    elif suffix in PDF_SUFFIXES:
        text = _read_pdf(path)
    else:
        raise ConfigError(
            f"{path}: unsupported document type {suffix or '(no extension)'!r}",
            hint=f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
        )
    if not text.strip():
        raise ConfigError(f"{path}: document is empty (no text to index)")
    return validate_document(Document(id=document_id or path.stem, title=path.name, text=text), str(path))


def validate_document(doc: Document, where: str | None = None) -> Document:
    """Reject documents that would index as nothing (empty or whitespace-only text)."""
    name = where or f"document {doc.id!r}"
    if not doc.text.strip():
        raise ConfigError(f"{name}: document is empty (no text to index)")
    if "\x00" in doc.text:
        raise ConfigError(f"{name}: document contains NUL characters (binary data?)")
    return doc


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand folders into their supported files (sorted, recursive); files are kept as given."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            files.append(path)
    return files


def load_documents(paths: Iterable[Path | str]) -> list[Document]:
    """Read and validate every file first; duplicate ids (same stem in two folders) are an error."""
    documents: list[Document] = []
    seen: dict[str, Path] = {}
    for path in collect_files(paths):
        doc = read_document(path)
        if doc.id in seen:
            raise ConfigError(f"{path}: document id {doc.id!r} already used by {seen[doc.id]}")
        seen[doc.id] = path
        documents.append(doc)
    if not documents:
        raise ConfigError("no documents to ingest", hint=f"supported types: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return documents


@dataclass
class IngestResult:
    documents: int
    chunks: int
    embedded: int
    skipped: int
    removed: int


def chunk_documents(documents: Sequence[Document], config: ChunkingConfig | None = None) -> list[Chunk]:
    """Validate all documents, then chunk them; raises before any chunk is produced for a bad one."""
    ids = [d.id for d in documents]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"duplicate document ids: {dupes}")
    for doc in documents:
        validate_document(doc)
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc.id, doc.text, config))
    return chunks


def ingest_documents(
    documents: Sequence[Document], index: ChunkIndex, config: ChunkingConfig | None = None
) -> IngestResult:
    """Chunk and index documents; chunks already in the index are not embedded again."""
    chunks = chunk_documents(documents, config)
    stats = index.sync(chunks, document_ids=[d.id for d in documents])
    return IngestResult(len(documents), len(chunks), stats.embedded, stats.skipped, stats.removed)


def ingest_paths(
    paths: Iterable[Path | str], index: ChunkIndex, config: ChunkingConfig | None = None
) -> IngestResult:
    return ingest_documents(load_documents(paths), index, config)
