"""What an experiment's ``candidates:`` rows say (``CandidateSpec``, its ``RetrieverSpec``), validated when
the YAML is read; ``harness.candidate.Candidate`` builds one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.guard import SafetyGuardSpec
from harness.models.base import GenerationParams
from harness.models.batch_budget import DEFAULT_BATCH_SIZE
from harness.models.embedded import EMBEDDED_LLM
from harness.models.registry import backend_names


class RetrieverSpec(BaseModel):
    """Retrieval for document-grounded suites: embed, index in ChromaDB, top-k passages."""

    model_config = ConfigDict(extra="forbid")

    embedding_model: str = "all-minilm-l6-v2"
    k: int = Field(default=3, gt=0)
    restrict_to_document: bool = True
    train: str | None = None  # an embedding fine-tune config; its output becomes embedding_model
    # A knowledge base for any suite (see harness.rag.knowledge): a `harness index --collection` name,
    # or documents (files/folders, relative to the config) indexed on first use.
    collection: str | None = None
    documents: str | list[str] | None = None
    # On a suite without documents and with no knowledge base: "error" (default) or "skip" retrieval there.
    without_documents: Literal["error", "skip"] = "error"

    @property
    def knowledge_base(self) -> bool:
        return bool(self.collection or self.documents)

    def output_affecting(self) -> dict[str, Any]:
        """What enters the generator fingerprint (the corpus reaches the cache key through the prompt)."""
        return self.model_dump(exclude={"train", "collection", "documents", "without_documents"})


class CandidateSpec(BaseModel):
    """One row of an experiment's ``candidates:`` list. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    backend: str = Field(default="transformers", description=(
        "a registered backend: transformers, llamacpp, ollama, openai, or one a plugin registers (harness.plugins)"))
    model: str = EMBEDDED_LLM
    modelfile: str | dict[str, str] | None = None
    system: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    adapter: str | None = None
    train: str | None = None
    chat_template: str | None = Field(default=None, description=(
        "built-in name (plain, chatml, dialogpt), Jinja string or .jinja file; default: the tokenizer's own"
        " template, or 'plain' for a base without one (GPT-2, DialoGPT)"))
    retriever: RetrieverSpec | None = None
    safety_guard: SafetyGuardSpec | None = None
    host: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, gt=0, description=(
        "transformers: rows per batch (long prompts are cut by a KV-memory budget first); every backend: "
        "generations per store commit (transformers in a run of several suites: each finished decode batch, "
        "which may hold all the suites' rows)"))
    # transformers only: bfloat16 is ~1.8x faster on CPUs with bf16 matmul; outputs differ, so it is in the identity.
    # auto: bfloat16 where the CPU has native bf16 (AMX / AVX512-BF16), else float32; the identity records which.
    dtype: Literal["float32", "bfloat16", "auto"] = "float32"
    concurrency: int = Field(default=4, gt=0)
    n_threads: int | None = Field(default=None, gt=0, description=(
        "llamacpp: CPU threads (default: HARNESS_LLAMACPP_THREADS, else the cores this process may use)"))
    max_connections: int | None = Field(default=None, gt=0)  # openai: connections to the server (default: concurrency)
    max_retries: int = Field(default=4, ge=0, le=20)  # openai: retries on 429 / 5xx / timeouts, exponential backoff

    @field_validator("safety_guard", mode="before")
    @classmethod
    def _guard_shorthand(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        known = backend_names()
        if value not in known:
            raise ValueError(f"unknown backend {value!r} (known: {', '.join(known)}; a plugin backend needs its "
                             "package installed or its module under the config's plugins:)")
        return value

    @field_validator("params")
    @classmethod
    def _known_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = set(value) - set(GenerationParams.model_fields)
        if unknown:
            raise ValueError(
                f"unknown generation params {sorted(unknown)} (known: {', '.join(GenerationParams.model_fields)})"
            )
        try:  # out-of-range values (temperature -1, top_p 0) fail here, before any run exists
            GenerationParams().merged(value)
        except ValidationError as exc:
            raise ValueError("; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
                for err in exc.errors())) from None
        return value
