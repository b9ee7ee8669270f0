"""How many tokens one transformers batch may hold: sized from the model's KV cache, not a fixed count.

A decode step reads all the weights whatever its row count, so on a CPU the widest batch that fits wins
(the gate suites' therapy prompts: 30 rows in one batch instead of 16 + 14 took 31 s instead of 42 s,
with the same tokens; bench/bench_batching.py). What limits the width is memory: every row keeps keys
and values for each prompt and new token in every layer. The budget is a fixed amount of KV memory, so
the embedded 135M model (46 KB per token) gets 46,603 tokens, all 37 discharge questions in one batch,
and a 1.7B model (393 KB per token) 5,461, five 1,000-token rows. ``MAX_BATCH_TOKENS`` also caps what
one prefill materialises.
"""

from __future__ import annotations

from typing import Any

DEFAULT_BATCH_SIZE = 64  # rows per batch; the token budget below is usually what binds for long prompts
KV_CACHE_BUDGET_BYTES = 2 * 1024**3
MAX_BATCH_TOKENS = 65_536  # bounds a prefill's activations (a bfloat16 cache halves the KV bytes)
FALLBACK_BATCH_TOKENS = 8_192  # architectures whose config does not say how big their cache is


def kv_bytes_per_token(config: Any, dtype: str) -> int | None:
    """Bytes of keys + values one token adds to the cache across all layers; None when the config is unknown."""
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_head", None)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "n_embd", None)
    if not (isinstance(layers, int) and isinstance(heads, int) and isinstance(hidden, int)) or heads <= 0:
        return None
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return 2 * layers * kv_heads * head_dim * (2 if dtype == "bfloat16" else 4)


def batch_token_budget(config: Any, dtype: str) -> int:
    """Padded tokens (prompt + new, summed over rows) a batch may hold for this model and dtype."""
    per_token = kv_bytes_per_token(config, dtype)
    if not per_token:
        return FALLBACK_BATCH_TOKENS
    return max(1, min(MAX_BATCH_TOKENS, KV_CACHE_BUDGET_BYTES // per_token))
