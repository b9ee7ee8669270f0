"""Knowledge bases: a team's own documents (clinic leaflets, protocols, summaries incl. PDFs) that any
candidate can draw on, on any suite, and that ``harness ask`` questions directly.

A knowledge base is a named folder ``$HARNESS_HOME/kb/<name>/`` holding one ChromaDB collection per
encoder (``harness index DOCS --collection NAME``), or the documents a candidate names itself
(``retriever: {documents: ../kb/}``, indexed on first use, unchanged chunks not embedded again).

On suites whose cases carry documents (discharge) retrieval stays within the patient's own
summary; elsewhere (a therapy companion) the top-k excerpts go into the system turn, marked as
reference material, because those suites' prompts have no place for a document.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import harness_home

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,62}$")
KNOWLEDGE_HEADER = ("Reference material from the knowledge base (use it only where it answers the person; "
                    "do not invent what it does not say):")


def kb_root() -> Path:
    return harness_home() / "kb"


def collection_dir(name: str) -> Path:
    """The folder of a named knowledge base (the name is checked: letters, digits, ``_.-``)."""
    if not _NAME.match(name):
        raise ConfigError(f"collection name {name!r}: use 2-63 letters, digits, '_', '.' or '-'")
    return kb_root() / name


def documents_dir(paths: Sequence[Path]) -> Path:
    """A knowledge base folder for documents a candidate names (keyed by their resolved paths)."""
    key = hashlib.sha256("\n".join(sorted(str(p.resolve()) for p in paths)).encode()).hexdigest()[:16]
    return kb_root() / f"docs-{key}"


def open_collection(name: str, model_path: Path, *, must_exist: bool = True) -> Any:
    """A Retriever over the named knowledge base; an unknown or empty one is an error naming the fix."""
    from harness.rag.retriever import Retriever

    folder = collection_dir(name)
    if must_exist and not folder.is_dir():
        known = sorted(p.name for p in kb_root().glob("*") if p.is_dir() and not p.name.startswith("docs-")) \
            if kb_root().is_dir() else []
        raise ConfigError(f"knowledge base {name!r} does not exist (known: {', '.join(known) or 'none'})",
                          hint=f"build it with: harness index <documents> --collection {name}")
    retriever = Retriever(model_path, folder)
    if must_exist and retriever.index.count() == 0:
        raise ConfigError(f"knowledge base {name!r} holds no passages for encoder {retriever.model_fingerprint[:12]}",
                          hint=f"index it with the same embedding model: harness index <documents> --collection {name}")
    return retriever


def knowledge_retriever(spec: Any, model_path: Path, chunking: Any, base_dir: Path | None) -> Any:
    """The retriever a candidate's ``retriever: {collection: …}`` or ``{documents: …}`` block asks for."""
    from harness.rag.retriever import Retriever

    if spec.collection:
        return open_collection(spec.collection, model_path)
    raw = [spec.documents] if isinstance(spec.documents, str) else list(spec.documents or [])
    paths = [(base_dir / p if base_dir and not Path(p).expanduser().is_absolute() else Path(p).expanduser())
             for p in raw]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"field 'retriever.documents': {', '.join(missing)} not found "
                          "(relative paths resolve against the config's folder)")
    retriever = Retriever(model_path, documents_dir(paths), chunking=chunking)
    retriever.index_paths(paths)
    return retriever


def with_knowledge(messages: list[dict[str, str]], passages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages whose system turn ends with the retrieved excerpts (a system turn is added if none)."""
    if not passages:
        return messages
    excerpts = "\n\n".join(f"[{p.get('document_id', '?')} / {p.get('section') or '-'}]\n{p['text'].strip()}"
                           for p in passages)
    block = f"{KNOWLEDGE_HEADER}\n\n{excerpts}"
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{block}"}, *messages[1:]]
    return [{"role": "system", "content": block}, *messages]
