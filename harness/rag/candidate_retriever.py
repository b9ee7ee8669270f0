"""A candidate's retriever from its ``retriever:`` block: suite documents or a knowledge base.

Kept apart from ``retriever`` (the index and search) so that neither that module nor the knowledge
base imports the other, and so that retrieval never trains: a fine-tuned encoder arrives ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.rag.chunking import ChunkingConfig
from harness.rag.retriever import Retriever, resolve_embedding_model


@dataclass(frozen=True)
class TrainedEncoder:
    """A fine-tuned embedding model a candidate's ``retriever.train`` produced (trained elsewhere:
    ``harness.factory.build_candidate``), with the chunking it was trained on."""

    model_path: Path
    chunking: ChunkingConfig | None = None


def build_candidate_retriever(
    spec: Any, lineage: dict[str, Any] | None = None, *, base_dir: Path | None = None,
    encoder: TrainedEncoder | None = None,
) -> Retriever:
    """The retriever for a candidate's ``retriever:`` block.

    Retrieval never trains: with ``train:`` the fine-tuned ``encoder`` must be given (the candidate
    factory trains or reuses it and records its lineage) and replaces ``embedding_model``.
    """
    model_path = resolve_embedding_model(getattr(spec, "embedding_model", None), base_dir)
    chunking: ChunkingConfig | None = None
    if getattr(spec, "train", None):
        if encoder is None:
            raise ConfigError(
                f"retriever.train {spec.train!r}: the fine-tuned encoder has not been trained",
                hint="build the candidate with harness.factory.build_candidate (harness run and the playground do)",
            )
        model_path, chunking = encoder.model_path, encoder.chunking
    if getattr(spec, "knowledge_base", False):
        from harness.rag.knowledge import knowledge_retriever

        return knowledge_retriever(spec, model_path, chunking, base_dir)
    return Retriever(model_path, chunking=chunking)
