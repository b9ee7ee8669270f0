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
