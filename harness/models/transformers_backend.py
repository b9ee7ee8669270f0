"""Local generation with transformers: batched, left-padded, greedy by default, seeded.

Requests are sorted by prompt length before batching so that a batch wastes little compute
on padding; results are returned in the caller's order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ModelNotFoundError
from harness.models.base import ChatRequest, GenerationParams, GenerationResult, truncate_at_stop
from harness.models.embedded import model_identity, resolve_model_path

_MODEL_CACHE: dict[tuple[str, str | None], tuple[Any, Any]] = {}
# transformers' lazy imports and our cache are not safe under concurrent first use (the
# playground and `harness serve` call from worker threads); one generation at a time also
# keeps the CPU's cores for the batch in hand.
_LOAD_LOCK = threading.RLock()
_GENERATE_LOCK = threading.Lock()


def load_model_and_tokenizer(model: str, adapter: str | None = None) -> tuple[Any, Any]:
    """Load (and memoise) a causal LM + tokenizer; an adapter is applied with peft."""
    with _LOAD_LOCK:
        return _load_locked(model, adapter)


def _load_locked(model: str, adapter: str | None) -> tuple[Any, Any]:
    key = (model, adapter)
    if key in _MODEL_CACHE:
        return _MODEL_CACHE[key]
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

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
    lm.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _MODEL_CACHE[key] = (lm, tokenizer)
    return lm, tokenizer


class TransformersBackend:
    """Generate with a local transformers model (embedded default, local path or hub id)."""

    def __init__(self, model: str, *, adapter: str | None = None, batch_size: int = 16) -> None:
        self.model_name = model
        self.adapter = adapter
        self.batch_size = max(1, batch_size)
        self.identity = f"transformers:{model_identity(model)}"

    def _render(self, tokenizer: Any, messages: list[dict[str, str]]) -> str:
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        if not requests:
            return []
        lm, tokenizer = load_model_and_tokenizer(self.model_name, self.adapter)
        prompts = [self._render(tokenizer, list(r.messages)) for r in requests]
        lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        results: list[GenerationResult | None] = [None] * len(requests)
        # Group by params (a batch must share decoding settings), then by length.
        groups: dict[GenerationParams, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.params, []).append(index)
        for params, indices in groups.items():
            indices.sort(key=lambda i: lengths[i])
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                outputs = self._generate_batch(lm, tokenizer, [prompts[i] for i in chunk], params)
                for i, result in zip(chunk, outputs, strict=True):
                    result.prompt_tokens = lengths[i]
                    results[i] = result
        return [r for r in results if r is not None]

    def _generate_batch(
        self, lm: Any, tokenizer: Any, prompts: list[str], params: GenerationParams
    ) -> list[GenerationResult]:
        import torch

        encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
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
        with _GENERATE_LOCK, torch.inference_mode():
            torch.manual_seed(params.seed)
            generated = lm.generate(**encoded, **kwargs)
        new_tokens = generated[:, encoded["input_ids"].shape[1] :]
        results = []
        eos_ids = _eos_ids(lm, tokenizer)
        for row in new_tokens.tolist():
            ids = _strip_after_eos(row, eos_ids, tokenizer.pad_token_id)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            text, hit_stop = truncate_at_stop(text, params.stop)
            finished = hit_stop or len(ids) < params.max_new_tokens
            results.append(
                GenerationResult(
                    text=text.strip(), completion_tokens=len(ids), finish_reason="stop" if finished else "length"
                )
            )
        return results


def _eos_ids(lm: Any, tokenizer: Any) -> set[int]:
    ids = set()
    config_eos = getattr(lm.generation_config, "eos_token_id", None)
    if isinstance(config_eos, int):
        ids.add(config_eos)
    elif isinstance(config_eos, list):
        ids.update(config_eos)
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _strip_after_eos(row: list[int], eos_ids: set[int], pad_id: int | None) -> list[int]:
    out = []
    for token in row:
        if token in eos_ids or (pad_id is not None and token == pad_id and token in eos_ids):
            break
        out.append(token)
    return out
