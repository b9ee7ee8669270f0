"""Candidate = generator (backend + base model + adapter) + prompt/params (+ retriever).

Two fingerprints:
- ``generator_fp`` covers what turns a prompt into text (backend, model weights identity,
  adapter, retriever). Together with the exact messages and decoding params it forms the
  cache key, so renaming a candidate or editing an unrelated suite's prompt reuses outputs.
- ``fingerprint`` covers everything that changes the candidate's outputs anywhere; it is the
  identity shown in reports and gates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ConfigError
from harness.guard import SafetyGuardSpec, guard_output, guard_rules_identity
from harness.hashing import content_digest, is_bookkeeping, payload_digest
from harness.models.base import Backend, ChatRequest, GenerationParams
from harness.models.embedded import EMBEDDED_LLM
from harness.models.registry import BackendSettings, backend_names, build_backend
from harness.prompting import build_messages, format_passages
from harness.store import Store
from harness.suite import Case, Suite
from harness.types import Output


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
    batch_size: int = Field(default=16, gt=0)
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


@dataclass
class PromptSetup:
    system: str | None
    few_shot: list[dict[str, str]]
    params: GenerationParams
    modelfile_hash: str | None


class Candidate:
    """A built candidate: resolves its Modelfile(s), backend and retriever lazily."""

    def __init__(self, spec: CandidateSpec, base_dir: Path | None = None, adapter_path: str | None = None,
                 lineage: dict[str, Any] | None = None, encoder: Any = None) -> None:
        """``encoder``: the ``TrainedEncoder`` of a ``retriever.train`` spec; build trained candidates with
        ``harness.factory.build_candidate``, which trains (or reuses) adapter and encoder first."""
        self.spec = spec
        self.encoder = encoder
        self.base_dir = base_dir or Path.cwd()
        self.adapter_path = adapter_path or (self._resolve(spec.adapter, "adapter") if spec.adapter else None)
        self.lineage = lineage or {}
        self._backend: Backend | None = None
        self._retriever: Any = None
        self._modelfiles: dict[str, Any] = {}
        # Outputs this candidate produced with a model call vs. served from the cache (or derived
        # from a cached raw generation by the guard) -- what `harness run` reports.
        self.stats = {"generated": 0, "reused": 0}
        for suite_name, path in self._modelfile_paths().items():
            from harness.models.modelfile import load_modelfile

            self._modelfiles[suite_name] = load_modelfile(path)
        from harness.models.from_base import apply_modelfile_base

        # A Modelfile's FROM decides the base unless the candidate names its own (a mismatch is an error).
        self.spec, base_note = apply_modelfile_base(spec, self._modelfiles, self.base_dir)
        self.lineage.setdefault("generator_base", base_note)
        if self.spec.chat_template and self.spec.backend not in ("transformers", "llamacpp"):
            raise ConfigError(f"candidate {self.name!r}: field 'chat_template' applies to the transformers and "
                              "llamacpp backends; "
                              f"{self.spec.backend} servers format chats themselves (Ollama: the Modelfile TEMPLATE)")

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def adapter_identity(self) -> str | None:
        """Content hash of the adapter, read once per candidate (it enters every fingerprint)."""
        return _adapter_identity(self.adapter_path) if self.adapter_path else None

    def _resolve(self, value: str, field: str) -> str:
        """Relative paths resolve against the config's folder, then the working directory."""
        path = Path(value).expanduser()
        if path.is_absolute():
            return str(path)
        for base in (self.base_dir, Path.cwd()):
            if (base / path).exists():
                return str((base / path).resolve())
        if field == "adapter":
            raise ConfigError(f"candidate {self.name!r}: field '{field}': path {value!r} not found")
        return value

    def _modelfile_paths(self) -> dict[str, str]:
        modelfile = self.spec.modelfile
        if modelfile is None:
            return {}
        mapping = {"*": modelfile} if isinstance(modelfile, str) else dict(modelfile)
        resolved = {}
        for suite_name, path in mapping.items():
            full = self._resolve(path, "modelfile")
            if not Path(full).exists():
                raise ConfigError(f"candidate {self.name!r}: field 'modelfile' ({suite_name}): {path!r} not found")
            resolved[suite_name] = full
        return resolved

    def modelfile_for(self, suite: Suite) -> Any:
        return self._modelfiles.get(suite.name) or self._modelfiles.get("*")

    def modelfile_for_any(self) -> Any:
        """The candidate's Modelfile when it is one file for every suite (None for a per-suite map)."""
        return self._modelfiles.get("*")

    # ---- identity ---------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._make_backend()
        return self._backend

    def _make_backend(self) -> Backend:
        spec = self.spec
        return build_backend(spec.backend, BackendSettings(
            model=spec.model, name=self.name, adapter=self.adapter_path, batch_size=spec.batch_size,
            dtype=spec.dtype,
            chat_template=self._chat_template() if spec.backend in ("transformers", "llamacpp") else None,
            host=spec.host, base_url=spec.base_url, api_key_env=spec.api_key_env, concurrency=spec.concurrency,
            max_connections=spec.max_connections, max_retries=spec.max_retries, n_threads=spec.n_threads,
            base_dir=self.base_dir))


    def _chat_template(self) -> str | None:
        """The candidate's template, else the one its adapter was trained with (a .jinja file is read here)."""
        value = self.spec.chat_template or self.lineage.get("chat_template")
        if value and value.strip().endswith((".jinja", ".j2")):
            from harness.models.chat_templates import resolve_chat_template

            return resolve_chat_template(value, base_dir=self.base_dir, where=f"candidates.{self.name}.chat_template")
        return value

    @property
    def retriever(self) -> Any:
        if self.spec.retriever is None:
            return None
        if self._retriever is None:
            from harness.rag.candidate_retriever import build_candidate_retriever

            self._retriever = build_candidate_retriever(self.spec.retriever, self.lineage, base_dir=self.base_dir,
                                                        encoder=self.encoder)
        return self._retriever

    def generator_fp(self, *, guarded: bool = True, retrieval: bool = True) -> str:
        """What turns a prompt into stored text; ``guarded=False`` leaves the safety guard out, and
        ``retrieval=False`` the retriever (for suites without documents, where it plays no part)."""
        adapter_id = self.adapter_identity
        use_retriever = self.spec.retriever is not None and retrieval
        retriever_id = self.retriever.fingerprint if use_retriever else None
        retriever_cfg = self.spec.retriever.output_affecting() if use_retriever else None
        guard = (
            {**self.spec.safety_guard.model_dump(), "rules": guard_rules_identity()}
            if self.spec.safety_guard is not None and guarded
            else None
        )
        return payload_digest({"backend": self.backend.identity, "adapter": adapter_id, "retriever": retriever_id,
                     "retriever_cfg": retriever_cfg, **({"guard": guard} if guard else {})})[:24]

    def fingerprint(self) -> str:
        prompt_parts = {
            name: mf.content_hash() for name, mf in sorted(self._modelfiles.items())
        }
        return payload_digest({"generator": self.generator_fp(), "system": self.spec.system, "modelfiles": prompt_parts,
                     "params": self.spec.params})[:16]

    def describe(self) -> dict[str, Any]:
        return {
            "spec": self.spec.model_dump(),
            "adapter_path": self.adapter_path,
            "adapter_identity": self.adapter_identity,
            "modelfile_hashes": {k: v.content_hash() for k, v in self._modelfiles.items()},
            "backend_identity": self.backend.identity,
        }

    # ---- generation -------------------------------------------------------------------------
    def prompt_setup(self, suite: Suite) -> PromptSetup:
        """Precedence: candidate.system > Modelfile SYSTEM > suite default system prompt;
        params: defaults < suite generation < Modelfile PARAMETERs < candidate params."""
        return self._prompt_setup(self.modelfile_for(suite), suite.spec.prompt.system,
                                  GenerationParams().merged(suite.spec.generation.model_dump()))

    def free_prompt_setup(self, default_system: str) -> PromptSetup:
        """The same precedence for a question outside any suite (``harness ask``): the Modelfile is the
        candidate's single or first one, ``default_system`` stands in for the suite's prompt."""
        return self._prompt_setup(self.modelfile_for_any(), default_system, GenerationParams())

    def _prompt_setup(self, modelfile: Any, system: str | None, params: GenerationParams) -> PromptSetup:
        few_shot: list[dict[str, str]] = []
        if modelfile is not None:
            params = params.merged(modelfile.to_generation_params())
            prefix = modelfile.chat_prefix()
            system = next((m["content"] for m in prefix if m["role"] == "system"), system)
            few_shot = [m for m in prefix if m["role"] != "system"]
        params = params.merged(self.spec.params)
        if self.spec.system is not None:
            system = self.spec.system
        return PromptSetup(system, few_shot, params, modelfile.content_hash() if modelfile else None)

    def uses_retrieval(self, suite: Suite) -> bool:
        """Whether this candidate retrieves on ``suite``; a retriever with nothing to search is an error
        unless the candidate says ``without_documents: skip``."""
        spec = self.spec.retriever
        if spec is None:
            return False
        if spec.knowledge_base or suite.documents:
            return True
        if spec.without_documents == "skip":
            return False
        raise ConfigError(
            f"candidate {self.name!r}: a retriever on suite {suite.key}, which has no documents to search",
            hint="give it a knowledge base (retriever: {collection: NAME} built with `harness index DOCS "
                 "--collection NAME`, or retriever: {documents: PATH}), or set retriever.without_documents: skip",
        )

    def _retrieve(self, suite: Suite, cases: Sequence[Case]) -> list[list[dict[str, Any]] | None]:
        if not self.uses_retrieval(suite):
            return [None] * len(cases)
        assert self.spec.retriever is not None
        questions = [c.question or c.user_text for c in cases]
        if self.spec.retriever.knowledge_base:
            return self.retriever.retrieve_many(questions, k=self.spec.retriever.k)
        doc_ids = [c.document_id if self.spec.retriever.restrict_to_document else None for c in cases]
        return self.retriever.retrieve_for_suite(suite, questions, doc_ids, k=self.spec.retriever.k)

    def generate(
        self,
        store: Store,
        suite: Suite,
        cases: Sequence[Case],
        *,
        batch_size: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[dict[str, str], dict[str, Output]]:
        """Outputs for ``cases``, generating only cache misses; each batch is committed atomically.

        With a safety guard, the raw generation is cached under the unguarded generator and the
        guarded text under the guarded one, so a guarded candidate reuses its twin's generations.
        Returns (case_id -> cache key, case_id -> Output); ``on_progress(done, cached)`` is called
        as cases complete.
        """
        setup = self.prompt_setup(suite)
        retrieved = self._retrieve(suite, cases)
        retrieval = self.uses_retrieval(suite)
        knowledge = retrieval and self.spec.retriever is not None and self.spec.retriever.knowledge_base
        final_fp = self.generator_fp(retrieval=retrieval)
        raw_fp = self.generator_fp(guarded=False, retrieval=retrieval)
        requests: list[ChatRequest] = []
        keys: list[str] = []
        raw_keys: list[str] = []
        for case, passages in zip(cases, retrieved, strict=True):
            context = format_passages(passages) if passages is not None and not knowledge else None
            messages = build_messages(suite, case, system=setup.system, few_shot=setup.few_shot, context=context)
            if knowledge and passages:
                from harness.rag.knowledge import with_knowledge

                messages = with_knowledge(messages, passages)
            request = ChatRequest(messages, setup.params)
            requests.append(request)
            keys.append(payload_digest({"g": final_fp, "r": request.digest()}))
            raw_keys.append(payload_digest({"g": raw_fp, "r": request.digest()}))
        cached = store.cached_generations(keys)
        hits = sum(1 for key in keys if key in cached)
        self.stats["reused"] += hits
        if on_progress and hits:
            on_progress(hits, hits)
        todo = [i for i, key in enumerate(keys) if key not in cached]
        raw_cached = store.cached_generations([raw_keys[i] for i in todo]) if self.spec.safety_guard is not None else {}
        if raw_cached:
            derived = [i for i in todo if raw_keys[i] in raw_cached]
            store.save_generations(self._guarded_rows(suite, cases, requests, keys, final_fp, retrieved, derived,
                                                      {i: raw_cached[raw_keys[i]] for i in derived}))
            self.stats["reused"] += sum(1 for i in todo if raw_keys[i] in raw_cached)
            if on_progress:
                on_progress(len(derived), len(derived))
            todo = [i for i in todo if raw_keys[i] not in raw_cached]
        # De-duplicate identical prompts, then sort by length so each backend batch pads little.
        unique: dict[str, int] = {}
        for i in todo:
            unique.setdefault(raw_keys[i], i)
        pending = sorted(unique.values(), key=lambda i: sum(len(m["content"]) for m in requests[i].messages))
        step = batch_size or self.spec.batch_size
        for start in range(0, len(pending), step):
            chunk = pending[start : start + step]
            began = time.perf_counter()
            results = self.backend.generate([requests[i] for i in chunk])
            self.stats["generated"] += len(chunk)
            elapsed = (time.perf_counter() - began) / max(1, len(chunk))
            raw_rows = [self._row(raw_keys[i], raw_fp, requests[i], retrieved[i], r.text, r, elapsed, None)
                        for i, r in zip(chunk, results, strict=True)]
            done = {row["cache_key"] for row in raw_rows}
            batch = [i for i in todo if raw_keys[i] in done]
            rows = raw_rows
            if self.spec.safety_guard is not None:
                stored = {raw_keys[i]: r for i, r in zip(chunk, results, strict=True)}
                rows = raw_rows + self._guarded_rows(suite, cases, requests, keys, final_fp, retrieved, batch,
                                                     {i: stored[raw_keys[i]] for i in batch})
            store.save_generations(rows)
            if on_progress:
                on_progress(len(batch), 0)
        final = store.cached_generations(keys)
        outputs = {
            case.id: Output(text=final[key].text, retrieved=final[key].retrieved,
                            meta={"completion_tokens": final[key].completion_tokens,
                                  "finish_reason": final[key].finish_reason,
                                  **{k: v for k, v in final[key].meta.items() if k in ("guard", "unguarded_text")}})
            for case, key in zip(cases, keys, strict=True)
        }
        return {case.id: key for case, key in zip(cases, keys, strict=True)}, outputs

    @staticmethod
    def _row(key: str, generator_fp: str, request: ChatRequest, retrieved: list[dict[str, Any]] | None, text: str,
             result: Any, seconds: float | None, meta: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "cache_key": key,
            "generator_fp": generator_fp,
            "messages_json": json.dumps(request.messages),
            "params_json": request.params.model_dump_json(),
            "text": text,
            "retrieved_json": json.dumps(retrieved) if retrieved is not None else None,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "finish_reason": result.finish_reason,
            "seconds": seconds,
            "meta_json": json.dumps(meta) if meta else None,
        }

    def _guarded_rows(self, suite: Suite, cases: Sequence[Case], requests: list[ChatRequest], keys: list[str],
                      final_fp: str, retrieved: list[list[dict[str, Any]] | None], indices: list[int],
                      raw: dict[int, Any]) -> list[dict[str, Any]]:
        """Rows of guarded text derived from raw generations (no model call)."""
        assert self.spec.safety_guard is not None
        rows = []
        for i in indices:
            text, info = guard_output(self.spec.safety_guard, suite, cases[i], raw[i].text)
            meta: dict[str, Any] = {"guard": info}
            if text != raw[i].text:
                meta["unguarded_text"] = raw[i].text
            rows.append(self._row(keys[i], final_fp, requests[i], retrieved[i], text, raw[i],
                                  getattr(raw[i], "seconds", None), meta))
        return rows


def _adapter_identity(path: str) -> str:
    """Content hash of an adapter file or folder, whatever its weight format (safetensors, bin, pt, GGUF)."""
    return content_digest(path, skip=is_bookkeeping)[:16]
