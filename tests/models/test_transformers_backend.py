import pytest

from harness.models.base import ChatRequest, GenerationParams
from harness.models.transformers_backend import TransformersBackend

PROMPTS = [
    "I can't sleep because I'm worried about money.",
    "My sister stopped talking to me.",
    "How can I feel less nervous before exams? I have three next week and I'm dreading all of them.",
    "I miss my dad.",
]


def _requests(max_new_tokens: int = 20) -> list[ChatRequest]:
    params = GenerationParams(max_new_tokens=max_new_tokens)
    return [ChatRequest([{"role": "system", "content": "Be kind."}, {"role": "user", "content": p}], params)
            for p in PROMPTS]


def test_batched_and_single_greedy_outputs_match() -> None:
    batched = TransformersBackend("smollm2-135m-instruct", batch_size=4).generate(_requests())
    single = TransformersBackend("smollm2-135m-instruct", batch_size=1).generate(_requests())
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.text for r in batched)
    assert all(r.completion_tokens and r.completion_tokens <= 20 for r in batched)


def test_results_come_back_in_request_order() -> None:
    requests = _requests(6)
    forward = TransformersBackend("smollm2-135m-instruct", batch_size=2).generate(requests)
    backward = TransformersBackend("smollm2-135m-instruct", batch_size=2).generate(requests[::-1])
    assert [r.text for r in forward] == [r.text for r in backward][::-1]


def test_stop_strings_truncate() -> None:
    params = GenerationParams(max_new_tokens=20, stop=("the", "The"))
    request = ChatRequest([{"role": "user", "content": "Describe the sea in one sentence."}], params)
    result = TransformersBackend("smollm2-135m-instruct").generate([request])[0]
    assert "the" not in result.text and "The" not in result.text
    assert result.finish_reason == "stop"


def test_static_cache_gives_the_same_greedy_outputs_as_the_dynamic_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import transformers_backend

    monkeypatch.setattr(transformers_backend, "STATIC_CACHE_FROM", 1)  # static for these short prompts too
    # fast=False: greedy batches otherwise decode through fast_decode, which has its own cache.
    static = TransformersBackend("smollm2-135m-instruct", batch_size=4, fast=False).generate(_requests())
    dynamic = TransformersBackend("smollm2-135m-instruct", batch_size=4, static_cache=False,
                                  fast=False).generate(_requests())
    assert [r.text for r in static] == [r.text for r in dynamic]


def test_a_stop_string_ends_generation_inside_generate() -> None:
    # Stopping inside generate: the row stops where the stop string appears, far before the token limit,
    # and its padding is not counted as completion tokens.
    params = GenerationParams(max_new_tokens=60, stop=(".",))
    request = ChatRequest([{"role": "user", "content": "Describe the sea in three sentences."}], params)
    long_request = ChatRequest([{"role": "user", "content": "Count from one to fifty in words."}],
                               GenerationParams(max_new_tokens=60))
    stopped, _ = TransformersBackend("smollm2-135m-instruct", batch_size=2).generate([request, long_request])
    assert stopped.finish_reason == "stop"
    assert "." not in stopped.text
    assert stopped.completion_tokens is not None and stopped.completion_tokens < 60


def test_bfloat16_is_a_different_generator_identity() -> None:
    fp32 = TransformersBackend("smollm2-135m-instruct")
    bf16 = TransformersBackend("smollm2-135m-instruct", dtype="bfloat16")
    assert fp32.identity != bf16.identity
    assert bf16.identity.endswith(":bfloat16")
    result = bf16.generate(_requests(8)[:1])[0]
    assert result.text and result.completion_tokens and result.completion_tokens <= 8


def test_long_prompts_run_in_smaller_batches() -> None:
    backend = TransformersBackend("smollm2-135m-instruct", batch_size=16, batch_tokens=1000)
    lengths = [100] * 4 + [400] * 4
    # Short rows cost 200 padded tokens each (prompt + new), long rows 500: 4 short, then 2 long at a time.
    assert backend._batches(list(range(8)), lengths, max_new_tokens=100) == [[0, 1, 2, 3], [4, 5], [6, 7]]
    assert TransformersBackend("smollm2-135m-instruct", batch_size=3)._batches(list(range(8)), lengths, 100) == [
        [0, 1, 2], [3, 4, 5], [6, 7]]
