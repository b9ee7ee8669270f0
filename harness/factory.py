"""The one candidate factory: train what a candidate spec asks for (or reuse it), then build it.

``harness run``, the playground and the CLI all build candidates here, so "train if needed" is
written once: the LoRA adapter (``train:``), its Ollama export (``export: {ollama: true}`` in that
training config) and the retriever's fine-tuned encoder (``retriever.train``). Training modules are
imported only when a spec trains, so building an untrained candidate stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.candidate import Candidate, CandidateSpec, RetrieverSpec
from harness.rag.candidate_retriever import TrainedEncoder
from harness.store import Store

Log = Callable[[str], None]


def build_candidate(spec: CandidateSpec, base_dir: Path, store: Store | None, *, log: Log = print) -> Candidate:
    """A ready candidate. Raises ``harness.variants.TrainingSkipped`` when its training cannot run here
    (e.g. QLoRA without CUDA): the caller decides whether that skips the candidate or is an error."""
    adapter_path: str | None = None
    lineage: dict[str, Any] = {}
    trained = None
    if spec.train:
        from harness.variants import train_adapter_for_candidate

        trained = train_adapter_for_candidate(spec, base_dir, store, log=log)
        adapter_path, lineage = trained.adapter_path, trained.lineage
    encoder = train_encoder(spec.retriever, base_dir, lineage) if spec.retriever and spec.retriever.train else None
    candidate = Candidate(spec, base_dir, adapter_path=adapter_path, lineage=lineage, encoder=encoder)
    if trained is not None:
        _export_if_asked(candidate, trained, base_dir, log)
    return candidate


def train_encoder(spec: RetrieverSpec, base_dir: Path | None, lineage: dict[str, Any]) -> TrainedEncoder:
    """Train (or reuse, when ``<output>/<fingerprint>/`` is complete) the retriever's embedding fine-tune;
    its summary goes to ``lineage['retriever']`` so the store records it."""
    from harness.variants.embedding import load_embedding_config, train_embedding

    assert spec.train is not None
    config_path = Path(spec.train).expanduser()
    if not config_path.is_absolute() and base_dir is not None and (base_dir / config_path).exists():
        config_path = base_dir / config_path
    config = load_embedding_config(config_path)
    result = train_embedding(config)
    lineage["retriever"] = {
        "train_config": str(config_path),
        "fingerprint": result.fingerprint,
        "model_path": str(result.model_path),
        "reused": result.reused,
        "evaluator": result.metadata.get("evaluator"),
        "data": result.metadata.get("data"),
    }
    return TrainedEncoder(Path(result.model_path), config.chunking)


def _export_if_asked(candidate: Candidate, trained: Any, base_dir: Path, log: Log) -> None:
    """Write the Ollama export a candidate's training config asks for, with the candidate's own prompt."""
    from harness.variants.config import load_training_config
    from harness.variants.export import export_for_spec
    from harness.variants.lora import candidate_training_config_path, config_suites_dir

    assert candidate.spec.train is not None
    path = candidate_training_config_path(candidate.spec.train, base_dir, candidate.name)
    config = load_training_config(path)
    if not config.export.ollama:
        return
    exported = export_for_spec(candidate, trained, config, suites_dir=config_suites_dir(config, path))
    trained.export_dir = str(exported.directory)
    trained.lineage["ollama_export"] = str(exported.directory)
    log(f"{candidate.name}: Ollama export in {exported.directory}")
