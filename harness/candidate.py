"""Candidate = generator (backend + base model + adapter) + prompt/params (+ retriever).

Two fingerprints:
- ``generator_fp`` covers what turns a prompt into text (backend, model weights identity,
  adapter, retriever). Together with the exact messages and decoding params it forms the
  cache key, so renaming a candidate or editing an unrelated suite's prompt reuses outputs.
- ``fingerprint`` covers everything that changes the candidate's outputs anywhere; it is the
  identity shown in reports and gates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.candidate_spec import CandidateSpec, RetrieverSpec  # noqa: F401  (RetrieverSpec: re-exported)
from harness.errors import ConfigError
from harness.guard import guard_output, guard_rules_identity
from harness.hashing import content_digest, is_bookkeeping, payload_digest
from harness.models.base import Backend, ChatRequest, GenerationParams
from harness.models.caching import CachingBackend, cache_key, fill_together, generation_row, generator_fingerprint
from harness.models.registry import BackendSettings, build_backend
from harness.prompting import build_messages, format_passages
from harness.store import Store
from harness.suite import Case, Suite
from harness.types import Output


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
        self._prefetched: set[str] = set()  # raw cache keys ``prefetch`` generated (``generate`` does not count them)
        # (retrieved, requests) ``prefetch`` built per suite and cases, taken once by ``generate``: no second retrieval
        self._prepared: dict[tuple[str, tuple[str, ...]], tuple[list[Any], list[ChatRequest]]] = {}
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
        return generator_fingerprint(self.backend.identity, adapter=adapter_id, retriever=retriever_id,
                                     retriever_cfg=retriever_cfg, guard=guard)

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
        """Outputs for ``cases`` in three steps: retrieve -> cached generate -> guard.

        Only cache misses reach the model (``CachingBackend``), each batch committed atomically. With a
        safety guard, the raw generation is cached under the unguarded generator and the guarded text
        under the guarded one, so a guarded candidate reuses its twin's generations. Returns
        (case_id -> cache key, case_id -> Output); ``on_progress(done, cached)`` is called as cases complete.
        """
        retrieval = self.uses_retrieval(suite)
        retrieved, requests = self._prepared.pop(_prepared_key(suite, cases), None) or self._prepare(suite, cases)
        final_fp = self.generator_fp(retrieval=retrieval)
        raw = CachingBackend(self.backend, store, self.generator_fp(guarded=False, retrieval=retrieval),
                             batch_size=self.spec.batch_size)
        keys = [cache_key(final_fp, r) for r in requests]
        cached = store.cached_generations(keys)
        hits = sum(1 for key in keys if key in cached)
        self.stats["reused"] += sum(1 for key in keys if key in cached and key not in self._prefetched)
        if on_progress and hits:
            on_progress(hits, hits)
        todo = [i for i, key in enumerate(keys) if key not in cached]
        guard = _GuardStep(self, suite, cases, requests, keys, final_fp, retrieved)
        if self.spec.safety_guard is not None:
            raw_cached = {todo[j]: hit for j, hit in raw.lookup([requests[i] for i in todo]).items()}
            if raw_cached:
                store.save_generations(guard.rows(list(raw_cached), raw_cached))
                self.stats["reused"] += sum(1 for i in raw_cached if raw.key(requests[i]) not in self._prefetched)
                if on_progress:
                    on_progress(len(raw_cached), len(raw_cached))
                todo = [i for i in todo if i not in raw_cached]
        self.stats["generated"] += raw.fill(
            [requests[i] for i in todo], retrieved=[retrieved[i] for i in todo], batch_size=batch_size,
            derive=(lambda done, results: guard.rows([todo[j] for j in done], {todo[j]: r for j, r in results.items()}))
            if self.spec.safety_guard is not None else None,
            on_saved=(lambda done: on_progress(len(done), 0)) if on_progress else None)
        final = store.cached_generations(keys)
        outputs = {case.id: _output(final[key]) for case, key in zip(cases, keys, strict=True)}
        return {case.id: key for case, key in zip(cases, keys, strict=True)}, outputs

    def prefetch(self, store: Store, suites: Sequence[tuple[Suite, Sequence[Case]]], *,
                 on_progress: Callable[[int], None] | None = None) -> bool:
        """Generate the uncached raw outputs of several suites in one backend call, where the backend decodes
        requests with different settings together (``merges_requests``: transformers); ``generate`` then finds
        them cached, guards and returns them. Returns whether it ran; ``on_progress(n)`` counts every case
        of ``suites`` once (cached ones at the start, the rest as the backend commits them), so a caller can
        ignore what ``generate`` then reports as cached.
        """
        if not getattr(self.backend, "merges_requests", False) or len(suites) < 2:
            return False
        jobs: list[tuple[str, ChatRequest, Any]] = []
        total = 0
        for suite, cases in suites:
            retrieval = self.uses_retrieval(suite)
            retrieved, requests = self._prepared[_prepared_key(suite, cases)] = self._prepare(suite, cases)
            final_fp = self.generator_fp(retrieval=retrieval)
            raw_fp = self.generator_fp(guarded=False, retrieval=retrieval)
            final_keys, raw_keys = [cache_key(final_fp, r) for r in requests], [cache_key(raw_fp, r) for r in requests]
            final, raw = store.cached_generations(final_keys), store.cached_generations(raw_keys)
            total += len(cases)
            jobs += [(raw_fp, request, passages)
                     for request, passages, final_key, raw_key in zip(requests, retrieved, final_keys, raw_keys,
                                                                      strict=True)
                     if final_key not in final and raw_key not in raw]
        if not jobs:
            return False
        if on_progress:
            on_progress(total - len(jobs))
        self._prefetched.update(cache_key(fp, request) for fp, request, _ in jobs)
        self.stats["generated"] += fill_together(self.backend, store, jobs, on_saved=on_progress)
        return True

    def _prepare(self, suite: Suite, cases: Sequence[Case]) -> tuple[list[Any], list[ChatRequest]]:
        """Each case's retrieved passages (None without retrieval) and chat request."""
        retrieved = self._retrieve(suite, cases)
        return retrieved, self._requests(suite, cases, retrieved, self.uses_retrieval(suite))

    def _requests(self, suite: Suite, cases: Sequence[Case], retrieved: list[list[dict[str, Any]] | None],
                  retrieval: bool) -> list[ChatRequest]:
        """The chat request of each case: the prompt setup, plus its retrieved passages."""
        setup = self.prompt_setup(suite)
        knowledge = retrieval and self.spec.retriever is not None and self.spec.retriever.knowledge_base
        requests = []
        for case, passages in zip(cases, retrieved, strict=True):
            context = format_passages(passages) if passages is not None and not knowledge else None
            messages = build_messages(suite, case, system=setup.system, few_shot=setup.few_shot, context=context)
            if knowledge and passages:
                from harness.rag.knowledge import with_knowledge

                messages = with_knowledge(messages, passages)
            requests.append(ChatRequest(messages, setup.params))
        return requests


def _prepared_key(suite: Suite, cases: Sequence[Case]) -> tuple[str, tuple[str, ...]]:
    return suite.key, tuple(case.id for case in cases)


@dataclass
class _GuardStep:
    """The guard step of ``Candidate.generate``: guarded rows derived from raw generations (no model call)."""

    candidate: Candidate
    suite: Suite
    cases: Sequence[Case]
    requests: list[ChatRequest]
    keys: list[str]
    final_fp: str
    retrieved: list[list[dict[str, Any]] | None]

    def rows(self, indices: list[int], raw: dict[int, Any]) -> list[dict[str, Any]]:
        spec = self.candidate.spec.safety_guard
        assert spec is not None
        from harness.metrics.risk import assess_case_risks

        rows = []
        assessments = assess_case_risks([self.cases[i] for i in indices])
        for i, assessment in zip(indices, assessments, strict=True):
            text, info = guard_output(spec, self.suite, self.cases[i], raw[i].text, assessment)
            meta: dict[str, Any] = {"guard": info}
            if text != raw[i].text:
                meta["unguarded_text"] = raw[i].text
            rows.append(generation_row(self.keys[i], self.final_fp, self.requests[i], self.retrieved[i], text, raw[i],
                                       getattr(raw[i], "seconds", None), meta))
        return rows


def _output(stored: Any) -> Output:
    """A stored generation as the Output the metrics score (the guard's record travels in meta)."""
    return Output(text=stored.text, retrieved=stored.retrieved,
                  meta={"completion_tokens": stored.completion_tokens, "finish_reason": stored.finish_reason,
                        **{k: v for k, v in stored.meta.items() if k in ("guard", "unguarded_text")}})


def _adapter_identity(path: str) -> str:
    """Content hash of an adapter file or folder, whatever its weight format (safetensors, bin, pt, GGUF)."""
    return content_digest(path, skip=is_bookkeeping)[:16]
