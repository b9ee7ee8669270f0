"""The batch token budget: sized from each model's KV cache, so wide batches for the embedded model only."""

from transformers import AutoConfig, GPT2Config, LlamaConfig

from harness.models.batch_budget import (
    FALLBACK_BATCH_TOKENS,
    KV_CACHE_BUDGET_BYTES,
    MAX_BATCH_TOKENS,
    batch_token_budget,
    kv_bytes_per_token,
)
from harness.models.embedded import resolve_model_path
from harness.models.transformers_backend import TransformersBackend


def test_the_embedded_model_gets_a_wide_budget_from_its_grouped_query_cache() -> None:
    config = AutoConfig.from_pretrained(resolve_model_path("smollm2-135m-instruct"))
    per_token = 2 * 30 * 3 * 64 * 4  # keys + values, 30 layers, 3 KV heads of 64, float32
    assert kv_bytes_per_token(config, "float32") == per_token
    assert batch_token_budget(config, "float32") == KV_CACHE_BUDGET_BYTES // per_token  # 46,603: 37 discharge rows
    assert batch_token_budget(config, "bfloat16") == MAX_BATCH_TOKENS  # half the bytes, capped for the prefill
    assert TransformersBackend("smollm2-135m-instruct").token_budget == KV_CACHE_BUDGET_BYTES // per_token
    assert TransformersBackend("smollm2-135m-instruct", batch_tokens=900).token_budget == 900  # explicit wins


def test_a_bigger_model_gets_a_narrower_budget() -> None:
    big = LlamaConfig(hidden_size=2048, num_hidden_layers=24, num_attention_heads=32, num_key_value_heads=32)
    assert kv_bytes_per_token(big, "float32") == 2 * 24 * 32 * 64 * 4
    assert batch_token_budget(big, "float32") == 5461  # five 1,000-token rows, not 46 of them


def test_gpt2_style_configs_and_unknown_ones() -> None:
    gpt2 = GPT2Config(n_layer=2, n_head=2, n_embd=64)
    assert kv_bytes_per_token(gpt2, "float32") == 2 * 2 * 2 * 32 * 4
    assert batch_token_budget(gpt2, "float32") == MAX_BATCH_TOKENS

    class Opaque:  # an architecture whose config names none of the sizes
        pass

    assert kv_bytes_per_token(Opaque(), "float32") is None
    assert batch_token_budget(Opaque(), "float32") == FALLBACK_BATCH_TOKENS
