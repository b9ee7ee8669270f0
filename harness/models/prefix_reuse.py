"""Shared-prompt-prefix reuse for batched transformers generation.

Discharge questions over one summary share the system prompt and the whole summary (~800 tokens) and
differ only in the last ~30 tokens; without reuse every row of a batch processes that prefix again.
Here prompts are grouped by their longest common *token* prefix, the prefix's KV cache is computed
once at batch 1, repeated across the group, and ``generate`` continues with the suffixes. Suffixes of
different lengths are padded in the middle (``prefix | pads | suffix``): the attention mask hides the
pads and transformers derives position ids from the mask, so every real token keeps the position it
has in the ordinary left-padded path. The token ids fed to the model are exactly the prompt's ids (the
split is at a token boundary), so greedy outputs match the ordinary path up to float rounding of
different matmul shapes (measured in bench/bench_prefix.py).
Greedy batches of Llama-family models prefill each group this way (``prefill_from_prefix``) and then decode
the rows of several groups together in harness.models.fast_decode (one batch of up to the batch size
instead of one small batch per document: the decode step reads all the weights whatever its row count).

Grouping maximises prefill tokens saved: prompts are sorted by token ids, the longest common prefix
of sorted neighbours is the LCP array, and a range is either one group (saving (n - 1) x its common
prefix) or split at its weakest neighbour link, whichever saves more (a Cartesian-tree recursion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

MIN_PREFIX_TOKENS = 128  # below this, one more prefill pass costs more than it saves (Python + call overhead)


@dataclass(frozen=True)
class PrefixGroup:
    """Requests (indices into the caller's list) whose first ``prefix_len`` tokens are identical."""

    indices: tuple[int, ...]
    prefix_len: int

    @property
    def saved_tokens(self) -> int:
        return (len(self.indices) - 1) * self.prefix_len


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Number of leading tokens ``a`` and ``b`` share."""
    limit = min(len(a), len(b))
    for position in range(limit):
        if a[position] != b[position]:
            return position
    return limit


def plan_groups(token_ids: Sequence[Sequence[int]], *, min_prefix: int = MIN_PREFIX_TOKENS,
                max_group: int = 16) -> tuple[list[PrefixGroup], list[int]]:
    """Groups of >= 2 prompts sharing >= ``min_prefix`` tokens, and the indices left for the ordinary path.

    A group's prefix stops at least one token before its shortest prompt, so every row has a suffix
    for ``generate`` to process (the logits of the last prompt token are needed for the first new token).
    """
    order = sorted(range(len(token_ids)), key=lambda i: list(token_ids[i]))
    links = [common_prefix_length(token_ids[a], token_ids[b]) for a, b in pairwise(order)]
    groups: list[PrefixGroup] = []
    for lo, hi in _best_ranges(links, 0, len(order) - 1, min_prefix, max_group)[1]:
        members = tuple(sorted(order[lo : hi + 1]))
        shortest = min(len(token_ids[i]) for i in members)
        prefix = min(min(links[lo:hi]), shortest - 1)
        if prefix >= min_prefix:
            groups.append(PrefixGroup(members, prefix))
    grouped = {i for group in groups for i in group.indices}
    return groups, [i for i in range(len(token_ids)) if i not in grouped]


def _best_ranges(links: list[int], lo: int, hi: int, min_prefix: int,
                 max_group: int) -> tuple[int, list[tuple[int, int]]]:
    """(tokens saved, ranges of sorted positions) for the best grouping of sorted positions lo..hi."""
    if hi <= lo:
        return 0, []
    span = links[lo:hi]
    weakest = min(span)
    whole = (hi - lo) * weakest if weakest >= min_prefix and hi - lo + 1 <= max_group else -1
    # Split at the weakest link nearest the middle (keeps recursion shallow when links are equal).
    middle = (lo + hi) / 2
    cut = min((p for p in range(lo, hi) if links[p] == weakest), key=lambda p: abs(p + 0.5 - middle))
    left_saved, left = _best_ranges(links, lo, cut, min_prefix, max_group)
    right_saved, right = _best_ranges(links, cut + 1, hi, min_prefix, max_group)
    if whole > left_saved + right_saved:
        return whole, [(lo, hi)]
    return left_saved + right_saved, left + right


def generate_from_prefix(lm: Any, rows: Sequence[Sequence[int]], prefix_len: int, pad_id: int,
                         generate_kwargs: dict[str, Any], *, static_cache: bool) -> Any:
    """Generate for ``rows`` (token ids sharing ``prefix_len`` leading tokens) through ``lm.generate``;
    returns the new tokens.

    The prefix runs once at batch 1; its KV cache is repeated over the rows (a static cache, sized for
    the whole generation, when ``static_cache``), and the suffixes follow, padded in the middle.
    Call under ``torch.inference_mode()`` with the caller's seed set.
    """
    prefix, input_ids, attention_mask = _prefix_inputs(rows, prefix_len, pad_id)
    cache = _prefix_cache(lm, prefix, len(rows), input_ids.shape[1] + generate_kwargs["max_new_tokens"], static_cache)
    generated = lm.generate(input_ids=input_ids, attention_mask=attention_mask, cache=cache, **generate_kwargs)
    return generated[:, input_ids.shape[1] :]


def prefill_from_prefix(lm: Any, rows: Sequence[Sequence[int]], prefix_len: int, pad_id: int) -> Any:
    """The fast decode loop's start for ``rows`` (harness.models.fast_decode.Prefilled): the prefix once at
    batch 1, its dynamic cache repeated over the rows, the suffixes (padded in the middle) prefilled on top,
    as ``generate`` prefills them when handed that cache."""
    from harness.models import fast_decode

    prefix, input_ids, attention_mask = _prefix_inputs(rows, prefix_len, pad_id)
    cache = _prefix_cache(lm, prefix, len(rows), 0, static_cache=False)
    return fast_decode.prefill(lm, input_ids, attention_mask, cache)


def _prefix_inputs(rows: Sequence[Sequence[int]], prefix_len: int, pad_id: int) -> tuple[Any, Any, Any]:
    """(prefix [1, prefix_len], input_ids, attention_mask): ``prefix | pads | suffix`` per row."""
    import torch

    prefix = torch.tensor([list(rows[0][:prefix_len])], dtype=torch.long)
    suffixes = [list(row[prefix_len:]) for row in rows]
    width = max(len(s) for s in suffixes)
    input_ids = torch.tensor([list(rows[0][:prefix_len]) + [pad_id] * (width - len(s)) + s for s in suffixes])
    attention_mask = torch.tensor([[1] * prefix_len + [0] * (width - len(s)) + [1] * len(s) for s in suffixes])
    return prefix, input_ids, attention_mask


def _prefix_cache(lm: Any, prefix: Any, batch: int, max_len: int, static_cache: bool) -> Any:
    """The prefix's KV cache, repeated ``batch`` times (dynamic, or static with room for ``max_len``)."""
    from transformers import DynamicCache, StaticCache

    config = lm.config.get_text_config(decoder=True)
    single = DynamicCache(config=config)
    lm(input_ids=prefix, cache=single, use_cache=True, logits_to_keep=1)  # no vocab-wide logits per prefix token
    if not static_cache:
        single.batch_repeat_interleave(batch)
        return single
    cache = StaticCache(config=config, max_cache_len=max_len)
    for layer, source in zip(cache.layers, single.layers, strict=True):
        layer.update(source.keys.expand(batch, -1, -1, -1), source.values.expand(batch, -1, -1, -1))
    return cache
