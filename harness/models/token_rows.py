"""Token id rows for a transformers batch: left padding, the model's context limit, where generation ended."""

from __future__ import annotations

from typing import Any


def left_padded(rows: list[list[int]], pad_id: int, context: int | None, max_new_tokens: int) -> dict[str, Any]:
    """``input_ids`` and ``attention_mask`` for token id rows, left-padded to the longest: what the tokenizer
    returns for the rendered prompts (``padding=True``, left side), without tokenizing them a second time.

    A prompt longer than the model's context (GPT-2: 1024 positions) keeps its end, where the question is
    (the tokenizer's left truncation), instead of failing with an index error in the position embedding.
    """
    import torch

    room = max(1, context - max_new_tokens) if context else None
    kept = [row[-room:] if room is not None and len(row) > room else row for row in rows]
    width = max(len(row) for row in kept)
    input_ids = torch.tensor([[pad_id] * (width - len(row)) + row for row in kept], dtype=torch.long)
    attention_mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in kept], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def context_length(lm: Any) -> int | None:
    """Positions the model can attend over, for models with a hard limit (learned position embeddings)."""
    config = lm.config
    for name in ("n_positions", "max_position_embeddings"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def eos_ids(lm: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a generated row: the generation config's and the tokenizer's."""
    ids = set()
    config_eos = getattr(lm.generation_config, "eos_token_id", None)
    if isinstance(config_eos, int):
        ids.add(config_eos)
    elif isinstance(config_eos, list):
        ids.update(config_eos)
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def strip_after_eos(row: list[int], eos_ids: set[int], pad_id: int | None) -> list[int]:
    out = []
    for token in row:
        # A row that finished early (end token or a stop string) is padded to the batch's length.
        if token in eos_ids or (pad_id is not None and token == pad_id):
            break
        out.append(token)
    return out
