"""The generation cache as a wrapper around any backend (cf. lm-evaluation-harness's ``CachingLM``).

A ``CachingBackend`` answers a request from the store when the same generator has already
produced text for the exact same messages and decoding params, and otherwise asks the wrapped
backend and saves the answer. Keys and rows are the ones ``harness.candidate`` has always written
(``cache_key = payload_digest({"g": generator_fp, "r": request.digest()})`` in ``generations``), so
existing stores stay warm. Candidates (``Candidate.generate``) and the LLM judge both generate
through it; the candidate adds its own steps around it (retrieval before, the safety guard after).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness.hashing import payload_digest
from harness.models.base import Backend, ChatRequest, GenerationResult
from harness.store import Store, StoredGeneration

Retrieved = list[dict[str, Any]] | None
# derive(indices, results) -> extra rows saved in the same transaction as the batch's own rows.
DeriveRows = Callable[[list[int], dict[int, GenerationResult]], list[dict[str, Any]]]


def generator_fingerprint(backend_identity: str, *, adapter: str | None = None, retriever: str | None = None,
                          retriever_cfg: dict[str, Any] | None = None, guard: dict[str, Any] | None = None) -> str:
    """What turns a prompt into stored text: backend, adapter content, retriever and guard (24 hex)."""
    return payload_digest({"backend": backend_identity, "adapter": adapter, "retriever": retriever,
                           "retriever_cfg": retriever_cfg, **({"guard": guard} if guard else {})})[:24]


def cache_key(generator_fp: str, request: ChatRequest) -> str:
    """The store key of ``request`` answered by the generator ``generator_fp`` (the historical formula)."""
    return payload_digest({"g": generator_fp, "r": request.digest()})


def generation_row(key: str, generator_fp: str, request: ChatRequest, retrieved: Retrieved, text: str,
                   result: Any, seconds: float | None, meta: dict[str, Any] | None) -> dict[str, Any]:
    """One ``generations`` row; ``result`` is a GenerationResult or a StoredGeneration (token counts)."""
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


def fill_together(backend: Any, store: Store, jobs: Sequence[tuple[str, ChatRequest, Retrieved]],
                  on_saved: Callable[[int], None] | None = None) -> int:
    """Generate requests stored under different generator fingerprints (``(generator_fp, request, retrieved)``:
    one candidate's suites) in one call of a backend that ``merges_requests``; returns the model calls made.

    Why: the transformers backend decodes requests with different settings in one loop, so a gate run's
    suites share each decode step's weight products instead of paying them once per suite. Rows are
    committed as the backend finishes each batch (``on_results``), so an interrupted call keeps them;
    ``on_saved(n)`` hears each commit.
    """
    unique: dict[str, tuple[str, ChatRequest, Retrieved]] = {}
    for fp, request, retrieved in jobs:
        unique.setdefault(cache_key(fp, request), (fp, request, retrieved))
    keys = list(unique)
    began = time.perf_counter()

    def save(indices: list[int], results: list[GenerationResult]) -> None:
        elapsed = (time.perf_counter() - began) / len(keys)  # the call's time per request so far: an estimate
        rows = []
        for i, result in zip(indices, results, strict=True):
            fp, request, retrieved = unique[keys[i]]
            rows.append(generation_row(keys[i], fp, request, retrieved, result.text, result, elapsed, None))
        store.save_generations(rows)
        if on_saved:
            on_saved(len(rows))

    if keys:
        backend.generate([unique[key][1] for key in keys], on_results=save)
    return len(keys)


class CachingBackend:
    """``backend`` behind the store's generation cache, under the generator fingerprint ``generator_fp``.

    It is itself a ``Backend`` (``identity`` + ``generate``), so any caller of a backend can use it.
    ``lookup`` and ``fill`` are the two halves of ``generate`` for callers that do work between them
    (the candidate derives guarded rows from cached raw ones before generating the rest).
    """

    def __init__(self, backend: Backend, store: Store, generator_fp: str, *, batch_size: int | None = None) -> None:
        """``batch_size``: misses per backend call, shortest prompts first; None passes all misses in one
        call, in the caller's order (the backend batches them itself)."""
        self.backend = backend
        self.store = store
        self.generator_fp = generator_fp
        self.batch_size = batch_size

    @property
    def identity(self) -> str:
        return self.backend.identity

    def key(self, request: ChatRequest) -> str:
        return cache_key(self.generator_fp, request)

    def lookup(self, requests: Sequence[ChatRequest]) -> dict[int, StoredGeneration]:
        """Index -> stored generation, for the requests already in the store."""
        keys = [self.key(r) for r in requests]
        found = self.store.cached_generations(keys)
        return {i: found[key] for i, key in enumerate(keys) if key in found}

    def fill(self, requests: Sequence[ChatRequest], *, retrieved: Sequence[Retrieved] | None = None,
             batch_size: int | None = None, derive: DeriveRows | None = None,
             on_saved: Callable[[list[int]], None] | None = None) -> int:
        """Generate and store ``requests`` (call it with ``lookup``'s misses); returns the model calls made.

        Identical requests are generated once; with a batch size, shortest prompts first so each batch pads
        little. Each batch is committed atomically together with ``derive``'s rows for it. ``on_saved(indices)`` gets
        the indices (duplicates included) each committed batch answered.
        """
        keys = [self.key(r) for r in requests]
        unique: dict[str, int] = {}
        for i, key in enumerate(keys):
            unique.setdefault(key, i)
        pending = list(unique.values())
        step = batch_size or self.batch_size
        if step:
            pending.sort(key=lambda i: sum(len(m["content"]) for m in requests[i].messages))
        else:
            step = max(1, len(pending))
        calls = 0
        for start in range(0, len(pending), step):
            chunk = pending[start : start + step]
            began = time.perf_counter()
            results = self.backend.generate([requests[i] for i in chunk])
            calls += len(chunk)
            elapsed = (time.perf_counter() - began) / max(1, len(chunk))
            by_key = {keys[i]: r for i, r in zip(chunk, results, strict=True)}
            rows = [generation_row(keys[i], self.generator_fp, requests[i], retrieved[i] if retrieved else None,
                                   r.text, r, elapsed, None) for i, r in zip(chunk, results, strict=True)]
            answered = [i for i, key in enumerate(keys) if key in by_key]
            if derive is not None:
                rows += derive(answered, {i: by_key[keys[i]] for i in answered})
            self.store.save_generations(rows)
            if on_saved:
                on_saved(answered)
        return calls

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        """Results in order: from the store where cached, else generated (and stored)."""
        found = self.lookup(requests)
        missing = [i for i in range(len(requests)) if i not in found]
        if missing:
            self.fill([requests[i] for i in missing])
            found.update({missing[j]: hit for j, hit in self.lookup([requests[i] for i in missing]).items()})
        return [_result(found[i]) for i in range(len(requests))]


def _result(stored: StoredGeneration) -> GenerationResult:
    return GenerationResult(stored.text, prompt_tokens=stored.prompt_tokens,
                            completion_tokens=stored.completion_tokens, finish_reason=stored.finish_reason,
                            meta=dict(stored.meta))
