"""Local generation with transformers: batched, left-padded, greedy by default, seeded.

Requests are sorted by prompt length before batching so that a batch wastes little compute
on padding, and a batch is capped by a token budget sized from the model's KV cache
(harness.models.batch_budget) so long prompts run in smaller batches; results are returned in the
caller's order. Batch width changes no float32 token here (83/83 gate outputs identical at 16 and 64 rows).

Long prompts decode with a static KV cache (preallocated, no ``torch.cat`` growth per step): measured
here (bench/bench_decoding.py) at 1.14x the dynamic cache on discharge-sized prompts and 0.93x on short
chat prompts, with identical greedy outputs, so it is used from ``STATIC_CACHE_FROM`` prompt tokens and is
not part of the generator identity.
``dtype="bfloat16"`` is opt-in: about 1.8x faster on CPUs with native bf16 matmul, but greedy
outputs differ from float32, so the dtype is part of the identity and cached outputs never mix.
``dtype="auto"`` resolves to bfloat16 only on CPUs with native bf16 matmul; the identity records the result.
Stop strings end generation inside ``generate`` instead of running to the token limit.
Requests sharing a long prompt prefix (questions over one discharge summary) run it once
(harness.models.prefix_reuse): the model sees the same token ids, so it is not part of the identity.
Greedy batches of Llama-family models (the embedded one) decode through ``harness.models.fast_decode``,
shared-prefix groups included (their suffixes prefilled on top of the prefix's cache, then the same loop):
the same tokens as ``generate`` with the dynamic cache, so it is not part of the identity. In bfloat16 the
static cache changes greedy outputs (5 of 16 identical here), so bf16 batches that ``generate`` would run
with a static cache keep ``generate``: cached bf16 outputs stay valid.
Prompts are tokenized once: the batches are padded from those token ids.
Batches the fast loop takes are prefilled first and decoded together at the end of ``generate``, whatever
their settings (token limits, stop strings), each over its own cache (``fast_decode.decode_segments``) up
to the token budget: a gate run's three suites share each step's weight products (``merges_requests``,
harness.candidate.Candidate.prefetch; 83/83 gate texts identical to decoding them one suite at a time).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.errors import ModelNotFoundError
from harness.models.base import ChatRequest, GenerationParams, GenerationResult, truncate_at_stop
from harness.models.batch_budget import DEFAULT_BATCH_SIZE, batch_token_budget
from harness.models.chat_templates import (
    DEFAULT_FOR_TEMPLATELESS,
    has_template,
    resolve_chat_template,
    stop_strings,
    template_identity,
    templateless_message,
)
from harness.models.embedded import model_identity, resolve_model_path
from harness.models.prefix_reuse import generate_from_prefix, plan_groups, prefill_from_prefix
from harness.models.streaming import streamer_for
from harness.models.token_rows import context_length, eos_ids, left_padded, strip_after_eos

logger = logging.getLogger(__name__)

_MODEL_CACHE: dict[tuple[str, str | None, str], tuple[Any, Any]] = {}
DTYPES = ("float32", "bfloat16")
DTYPE_CHOICES = (*DTYPES, "auto")  # auto: bfloat16 where the CPU multiplies bf16 natively, else float32
STATIC_CACHE_FROM = 256  # prompt tokens; below this the dynamic cache was faster
# transformers' lazy imports and our cache are not safe under concurrent first use (the
# playground and `harness serve` call from worker threads); one generation at a time also
# keeps the CPU's cores for the batch in hand.
_LOAD_LOCK = threading.RLock()
_GENERATE_LOCK = threading.Lock()


@dataclass
class _Deferred:
    """A prefilled decode group waiting to be decoded with the others of the same ``generate`` call."""

    indices: list[int]  # the requests its rows answer, in row order
    params: GenerationParams
    stops: list[str]
    segment: Any  # fast_decode.DecodeSegment


OnResults = Callable[[list[int], list[GenerationResult]], None]  # (request indices, their results)


class _Results:
    """One ``generate`` call's results by request index, filled as batches finish."""

    def __init__(self, token_ids: list[list[int]],
                 on_results: OnResults | None) -> None:
        self.items: list[GenerationResult | None] = [None] * len(token_ids)
        self.token_ids = token_ids
        self.on_results = on_results

    def store(self, indices: list[int], outputs: list[GenerationResult]) -> None:
        for i, result in zip(indices, outputs, strict=True):
            result.prompt_tokens = len(self.token_ids[i])
            self.items[i] = result
        if self.on_results is not None:
            self.on_results(indices, outputs)


def load_model_and_tokenizer(model: str, adapter: str | None = None, dtype: str = "float32") -> tuple[Any, Any]:
    """Load (and memoise) a causal LM + tokenizer; an adapter is applied with peft."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    with _LOAD_LOCK:
        return _load_locked(model, adapter, dtype)


def _load_locked(model: str, adapter: str | None, dtype: str) -> tuple[Any, Any]:
    key = (model, adapter, dtype)
    if key in _MODEL_CACHE:
        return _MODEL_CACHE[key]
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.threads import configure_torch

    configure_torch(torch)  # threads = CPUs this process may use (harness.threads)
    path = resolve_model_path(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotFoundError(
            f"cannot load model {model!r}: {first_line}",
            hint="name an installed embedded model (see `harness models`), a local directory, or a hub id "
            "on a machine with internet access (unset HF_HUB_OFFLINE)",
        ) from None
    if adapter:
        if not Path(adapter).exists():
            raise ModelNotFoundError(f"adapter path {adapter!r} does not exist")
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, adapter)
        lm = lm.merge_and_unload()  # merged weights generate faster and identically
    if dtype == "bfloat16":
        lm = lm.to(torch.bfloat16)  # cast after merging so the adapter is merged in float32
    lm.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _MODEL_CACHE[key] = (lm, tokenizer)
    return lm, tokenizer


class TransformersBackend:
    """Generate with a local transformers model (embedded default, local path or hub id)."""

    # Requests with different settings in one ``generate`` call share a decode loop (Candidate.prefetch).
    merges_requests = True

    def __init__(self, model: str, *, adapter: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 dtype: str = "float32", batch_tokens: int | None = None, static_cache: bool = True,
                 chat_template: str | None = None, prefix_reuse: bool = True, fast: bool = True,
                 fast_prefix: bool = True) -> None:
        """``batch_tokens``: padded tokens per batch (None: sized from the model's KV cache, batch_budget);
        ``chat_template``: a built-in name or Jinja text; None keeps the tokenizer's own template
        (and uses the built-in 'plain' one, with a warning, for a base that has none). ``fast``: greedy
        decoding through ``harness.models.fast_decode`` (same tokens; False = ``lm.generate``, for benches);
        ``fast_prefix``: the same for shared-prefix groups (False = their earlier ``lm.generate`` path)."""
        if dtype not in DTYPE_CHOICES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPE_CHOICES)}, got {dtype!r}")
        dtype = resolve_dtype(dtype)
        self.model_name = model
        self.adapter = adapter
        self.batch_size = max(1, batch_size)
        self.batch_tokens = None if batch_tokens is None else max(1, batch_tokens)
        self.dtype = dtype
        self.static_cache = static_cache
        self.prefix_reuse = prefix_reuse  # same token ids, outputs match (bench/bench_prefix.py): not in the identity
        self.fast = fast
        self.fast_prefix = fast_prefix
        self.template_name = chat_template
        self.chat_template = resolve_chat_template(chat_template) if chat_template else None
        # float32 keeps the historical identity so existing caches stay valid; other dtypes are marked.
        suffix = "" if dtype == "float32" else f":{dtype}"
        self.identity = f"transformers:{model_identity(model)}{suffix}"
        if self.chat_template is not None:  # a chosen template changes every prompt: part of the identity
            self.identity += f":template={template_identity(self.chat_template)}"
        self.notices: list[str] = []

    @cached_property
    def token_budget(self) -> int:
        """Padded tokens (prompt + new, over all rows) one batch may hold."""
        if self.batch_tokens is not None:
            return self.batch_tokens
        lm, _ = load_model_and_tokenizer(self.model_name, self.adapter, self.dtype)
        return batch_token_budget(lm.config, self.dtype)

    def _template_for(self, tokenizer: Any) -> str | None:
        if self.chat_template is not None or has_template(tokenizer):
            return self.chat_template
        if not self.notices:
            self.notices.append(templateless_message(self.model_name))
            logger.warning(self.notices[0])
        self.template_name = DEFAULT_FOR_TEMPLATELESS
        return resolve_chat_template(DEFAULT_FOR_TEMPLATELESS)

    def _render(self, tokenizer: Any, messages: list[dict[str, str]]) -> str:
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False,
                                             chat_template=self._template_for(tokenizer))

    def generate(self, requests: Sequence[ChatRequest], *, on_results: OnResults | None = None
                 ) -> list[GenerationResult]:
        """Results in request order. ``on_results(indices, results)`` hears each batch as it finishes, so a
        caller can store them before the rest is done (one decode loop can hold several suites' requests)."""
        if not requests:
            return []
        lm, tokenizer = load_model_and_tokenizer(self.model_name, self.adapter, self.dtype)
        prompts = [self._render(tokenizer, list(r.messages)) for r in requests]
        token_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        lengths = [len(ids) for ids in token_ids]
        results = _Results(token_ids, on_results)
        # Group by params (a batch must share decoding settings), then by shared prefix, then by length.
        groups: dict[GenerationParams, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.params, []).append(index)
        # Batches the fast loop takes are prefilled and decoded together, whatever their params (_Deferred).
        deferred: list[_Deferred] = []
        for params, indices in groups.items():
            if self.prefix_reuse:
                indices = self._generate_shared_prefixes(lm, tokenizer, token_ids, indices, params, results, deferred)
            indices.sort(key=lambda i: lengths[i])
            for chunk in self._batches(indices, lengths, params.max_new_tokens):
                rows = [token_ids[i] for i in chunk]
                if self._defers(lm, tokenizer, rows, params):
                    self._defer_batch(lm, tokenizer, chunk, rows, params, results, deferred)
                    continue
                results.store(chunk, self._generate_batch(lm, tokenizer, rows, params))
        self._decode_deferred(lm, tokenizer, deferred, results)
        return [r for r in results.items if r is not None]

    def _generate_shared_prefixes(self, lm: Any, tokenizer: Any, token_ids: list[list[int]], indices: list[int],
                                  params: GenerationParams, results: _Results,
                                  deferred: list[_Deferred]) -> list[int]:
        """Generate the requests that share a long prompt prefix (harness.models.prefix_reuse) into
        ``results``; returns the indices left for the ordinary length-sorted batches. Groups the fast loop
        takes are prefilled one by one and join ``deferred`` as one decode group of up to ``batch_size`` rows."""
        import torch

        limit = context_length(lm)
        room = max(1, limit - params.max_new_tokens) if limit else None
        fits = [i for i in indices if room is None or len(token_ids[i]) <= room]  # longer ones get cut: ordinary
        planned, _ = plan_groups([token_ids[i] for i in fits], max_group=self.batch_size)
        done: set[int] = set()
        pending: list[tuple[list[int], Any]] = []  # (request indices, fast_decode.Prefilled) of one decode group
        for group in planned:
            members = [fits[i] for i in group.indices]
            suffix = max(len(token_ids[i]) for i in members) - group.prefix_len + params.max_new_tokens
            # Every row holds the whole prompt in the cache (the prefix's keys and values are repeated per row),
            # so a chunk is budgeted like the decode batch it joins (``_overflows``).
            per_batch = max(1, self.token_budget // (group.prefix_len + suffix))
            for start in range(0, len(members), per_batch):
                chunk = members[start : start + per_batch]
                rows = [token_ids[i] for i in chunk]
                static = self.static_cache and group.prefix_len + suffix >= STATIC_CACHE_FROM
                if self.fast_prefix and self._fast_applies(lm, params, static=static):
                    if self._overflows(pending, chunk, token_ids, params.max_new_tokens):
                        self._defer(lm, tokenizer, params, pending, results, deferred)
                    with _GENERATE_LOCK, torch.inference_mode():
                        pending.append((chunk, prefill_from_prefix(lm, rows, group.prefix_len, tokenizer.pad_token_id)))
                else:
                    kwargs, stops = self._generate_kwargs(tokenizer, params, len(chunk))
                    with _GENERATE_LOCK, torch.inference_mode():
                        torch.manual_seed(params.seed)
                        new_tokens = generate_from_prefix(lm, rows, group.prefix_len, tokenizer.pad_token_id, kwargs,
                                                          static_cache=static)
                    results.store(chunk, self._results(lm, tokenizer, new_tokens, params, stops))
                done.update(chunk)
        self._defer(lm, tokenizer, params, pending, results, deferred)
        return [i for i in indices if i not in done]

    def _overflows(self, pending: list[tuple[list[int], Any]], chunk: list[int], token_ids: list[list[int]],
                   max_new_tokens: int) -> bool:
        """Whether ``chunk`` joining the prefilled groups in ``pending`` passes the batch's rows or token budget:
        the decode batch holds every row at the longest prompt's width (the caches are end-aligned)."""
        members = [i for rows, _ in pending for i in rows] + chunk
        width = max(len(token_ids[i]) for i in members) + max_new_tokens
        return bool(pending) and (len(members) > self.batch_size or len(members) * width > self.token_budget)

    def _defer(self, lm: Any, tokenizer: Any, params: GenerationParams, pending: list[tuple[list[int], Any]],
               results: _Results, deferred: list[_Deferred]) -> None:
        """Make the prefilled parts in ``pending`` one decode group in ``deferred`` (empties ``pending``); the
        deferred groups are decoded first if this one would take them past the token budget."""
        if not pending:
            return
        from harness.models import fast_decode

        stops = self._stops(params)
        indices = [i for members, _ in pending for i in members]
        segment = fast_decode.DecodeSegment.of(lm, [part for _, part in pending], params.max_new_tokens,
                                               fast_decode.make_stop_check(tokenizer, stops) if stops else None)
        pending.clear()  # transformers' caches (a shared prefix repeated per row) are freed here
        if deferred and sum(d.segment.kv_positions for d in deferred) + segment.kv_positions > self.token_budget:
            self._decode_deferred(lm, tokenizer, deferred, results)
        deferred.append(_Deferred(indices, params, stops, segment))

    def _defers(self, lm: Any, tokenizer: Any, rows: list[list[int]], params: GenerationParams) -> bool:
        """Whether an ordinary batch joins the deferred decode: the fast loop takes it, and nobody streams it."""
        static = self.static_cache and max(len(row) for row in rows) >= STATIC_CACHE_FROM
        return self._fast_applies(lm, params, static=static) and streamer_for(tokenizer, len(rows)) is None

    def _defer_batch(self, lm: Any, tokenizer: Any, chunk: list[int], rows: list[list[int]], params: GenerationParams,
                     results: _Results, deferred: list[_Deferred]) -> None:
        """Prefill an ordinary batch (left-padded, as ``_generate_batch`` would) into the deferred decode."""
        import torch

        from harness.models import fast_decode

        encoded = left_padded(rows, tokenizer.pad_token_id, context_length(lm), params.max_new_tokens)
        with _GENERATE_LOCK, torch.inference_mode():
            part = fast_decode.prefill(lm, encoded["input_ids"], encoded["attention_mask"])
        self._defer(lm, tokenizer, params, [(chunk, part)], results, deferred)

    def _decode_deferred(self, lm: Any, tokenizer: Any, deferred: list[_Deferred], results: _Results) -> None:
        """Decode the deferred groups in one loop (harness.models.fast_decode.decode_segments) into ``results``;
        empties ``deferred``."""
        if not deferred:
            return
        from harness.models import fast_decode

        with _GENERATE_LOCK:
            new_tokens = fast_decode.decode_segments(lm, [d.segment for d in deferred], pad_id=tokenizer.pad_token_id,
                                                     eos_ids=fast_decode.generation_eos(lm))
        for job, tokens in zip(deferred, new_tokens, strict=True):
            results.store(job.indices, self._results(lm, tokenizer, tokens, job.params, job.stops))
        deferred.clear()

    def _fast_applies(self, lm: Any, params: GenerationParams, *, static: bool) -> bool:
        """Whether a batch decodes in the fast loop; not where ``generate`` must run: sampling, a repetition
        penalty or another architecture, and bfloat16 batches ``generate`` would run with a static cache
        (their greedy outputs differ from the dynamic cache's, and cached bf16 outputs must stay valid)."""
        from harness.models import fast_decode

        return self.fast and (self.dtype == "float32" or not static) and fast_decode.supports(
            lm, greedy=params.greedy, repetition_penalty=params.repetition_penalty)

    def _batches(self, indices: list[int], lengths: list[int], max_new_tokens: int) -> list[list[int]]:
        """Consecutive runs of length-sorted requests, at most ``batch_size`` rows and ``token_budget`` tokens each."""
        batches: list[list[int]] = []
        current: list[int] = []
        for i in indices:
            padded = (lengths[i] + max_new_tokens) * (len(current) + 1)  # sorted: the newest is the longest
            if current and (len(current) >= self.batch_size or padded > self.token_budget):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def _generate_batch(
        self, lm: Any, tokenizer: Any, rows: list[list[int]], params: GenerationParams
    ) -> list[GenerationResult]:
        import torch

        encoded = left_padded(rows, tokenizer.pad_token_id, context_length(lm), params.max_new_tokens)
        kwargs, stops = self._generate_kwargs(tokenizer, params, len(rows))
        if self.static_cache and encoded["input_ids"].shape[1] >= STATIC_CACHE_FROM:
            kwargs["cache_implementation"] = "static"
        fast = self._fast_applies(lm, params, static="cache_implementation" in kwargs)
        with _GENERATE_LOCK, torch.inference_mode():
            torch.manual_seed(params.seed)
            if fast:
                from harness.models import fast_decode

                new_tokens = fast_decode.generate(lm, tokenizer, encoded, params, stops, kwargs.get("streamer"))
            else:
                new_tokens = lm.generate(**encoded, **kwargs)[:, encoded["input_ids"].shape[1] :]
        return self._results(lm, tokenizer, new_tokens, params, stops)

    def _generate_kwargs(self, tokenizer: Any, params: GenerationParams, rows: int) -> tuple[dict[str, Any], list[str]]:
        """``generate`` keyword arguments for ``params`` (decoding, stop strings, streamer) and the stops."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "pad_token_id": tokenizer.pad_token_id,
            "repetition_penalty": params.repetition_penalty,
        }
        if params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            kwargs["top_k"] = params.top_k if params.top_k else None
            if params.min_p is not None:
                kwargs["min_p"] = params.min_p
        stops = self._stops(params)
        if stops:
            kwargs.update(stop_strings=stops, tokenizer=tokenizer)
        streamer = streamer_for(tokenizer, rows)  # the playground watching; never changes the tokens
        if streamer is not None:
            kwargs["streamer"] = streamer
        return kwargs, stops

    def _stops(self, params: GenerationParams) -> list[str]:
        return [*params.stop, *stop_strings(self.template_name)]

    @staticmethod
    def _results(lm: Any, tokenizer: Any, new_tokens: Any, params: GenerationParams,
                 stops: list[str]) -> list[GenerationResult]:
        results = []
        ends = eos_ids(lm, tokenizer)
        for row in new_tokens.tolist():
            ids = strip_after_eos(row, ends, tokenizer.pad_token_id)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            text, hit_stop = truncate_at_stop(text, stops)
            finished = hit_stop or len(ids) < params.max_new_tokens
            results.append(
                GenerationResult(
                    text=text.strip(), completion_tokens=len(ids), finish_reason="stop" if finished else "length"
                )
            )
        return results


def resolve_dtype(dtype: str) -> str:
    """``auto`` -> ``bfloat16`` on CPUs with native bf16 matmul (AMX / AVX512-BF16 / ARM BF16), else ``float32``.

    Without native support bf16 is emulated and slower than float32. The resolved dtype (not "auto")
    goes into the generator identity, so outputs from machines that resolve differently never mix.
    """
    if dtype != "auto":
        return dtype
    from harness import cpu_features

    return "bfloat16" if cpu_features.has_native_bf16() else "float32"
