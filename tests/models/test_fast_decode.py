"""The lean decode loop must give exactly the tokens ``lm.generate`` gives (greedy), on the embedded model."""

from __future__ import annotations

import pytest

from harness.models.base import ChatRequest, GenerationParams
from harness.models.packed_weights import packed_weights
from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

torch = pytest.importorskip("torch")

# Written for these tests; lengths differ so the batch is left-padded.
PROMPTS = [
    "My landlord says I have to move out by Friday and I have nowhere to go.",
    "Is it normal to cry at work?",
    "I started a new medication and I feel dizzy in the mornings, should I stop taking it?",
    "Nobody at the new school talks to me.",
]
MODEL = "smollm2-135m-instruct"


def _encoded(dtype: str, prompts: list[str]) -> tuple[object, object, dict]:
    lm, tokenizer = load_model_and_tokenizer(MODEL, None, dtype)
    backend = TransformersBackend(MODEL)
    texts = [backend._render(tokenizer, [{"role": "user", "content": p}]) for p in prompts]
    return lm, tokenizer, tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


def _both(dtype: str, prompts: list[str], max_new_tokens: int = 24) -> tuple[list[list[int]], list[list[int]]]:
    from harness.models import fast_decode

    lm, tokenizer, encoded = _encoded(dtype, prompts)
    with torch.inference_mode():
        reference = lm.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                pad_token_id=tokenizer.pad_token_id)[:, encoded["input_ids"].shape[1]:]
        fast = fast_decode.greedy_generate(lm, encoded["input_ids"], encoded["attention_mask"],
                                           max_new_tokens=max_new_tokens, eos_ids=[tokenizer.eos_token_id],
                                           pad_id=tokenizer.pad_token_id)
    return reference.tolist(), fast.tolist()


def test_float32_padded_batch_gives_the_tokens_generate_gives() -> None:
    reference, fast = _both("float32", PROMPTS)
    assert fast == reference


def test_float32_single_prompt_without_padding_mask() -> None:
    reference, fast = _both("float32", PROMPTS[1:2], max_new_tokens=16)
    assert fast == reference


def test_bfloat16_with_packed_weights_gives_the_tokens_generate_gives_in_bfloat16() -> None:
    reference, fast = _both("bfloat16", PROMPTS)
    assert fast == reference


def test_backend_results_equal_with_and_without_the_fast_path() -> None:
    params = GenerationParams(max_new_tokens=20, stop=("you",))
    requests = [ChatRequest([{"role": "user", "content": p}], params) for p in PROMPTS]
    fast = TransformersBackend(MODEL, batch_size=4).generate(requests)
    plain = TransformersBackend(MODEL, batch_size=4, fast=False).generate(requests)
    assert [(r.text, r.finish_reason) for r in fast] == [(r.text, r.finish_reason) for r in plain]
    assert any(r.finish_reason == "stop" for r in fast)


def test_sampling_keeps_generate() -> None:
    from harness.models import fast_decode

    lm, tokenizer, encoded = _encoded("float32", PROMPTS[:1])
    sampled = GenerationParams(temperature=0.7, max_new_tokens=4)
    assert fast_decode.generate(lm, tokenizer, encoded, sampled, ()) is None
    penalised = GenerationParams(repetition_penalty=1.2, max_new_tokens=4)
    assert fast_decode.generate(lm, tokenizer, encoded, penalised, ()) is None


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_prepacked_products_are_bitwise_those_of_f_linear(dtype: str) -> None:

    lm, _, _ = _encoded(dtype, PROMPTS[:1])
    weights = packed_weights(lm)
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for linear in (weights.layers[0].gate_up, weights.layers[3].down, weights.lm_head):
            assert linear.packed is not None  # the embedded model is small enough to pack
            for rows in (3, 16, 20):  # below, at and above the packing batch
                x = torch.randn(rows, 1, linear.weight.shape[1], generator=generator).to(linear.weight.dtype)
                assert torch.equal(linear(x), torch.nn.functional.linear(x, linear.weight, linear.bias))
