"""Shared-prefix reuse: the grouping plan, and identical greedy texts to the ordinary path on the embedded model."""

from typing import Any

import pytest

from harness.models import prefix_reuse, transformers_backend
from harness.models.base import ChatRequest, GenerationParams
from harness.models.prefix_reuse import common_prefix_length, plan_groups
from harness.models.transformers_backend import TransformersBackend

# A made-up note, long enough (~350 tokens) for its questions to share a prefix above MIN_PREFIX_TOKENS.
NOTE = (
    "Clinic letter. Ms Example, 58, was seen for follow-up of type 2 diabetes and high blood pressure. "
    "Her morning sugars run between 7 and 9. Metformin stays at 1 g twice daily with meals; ramipril was "
    "raised from 5 mg to 10 mg once daily. Kidney blood tests are due in two weeks at the surgery. "
    "She should check her feet daily and book the eye screening she missed in spring. "
) * 4
QUESTIONS = [
    "What dose of ramipril do I take now?",
    "When are my blood tests?",
    "Should I keep taking metformin with food, and how often, and is there anything else I should know?",
    "What did they say about my eyes?",
]


def _request(question: str, max_new_tokens: int = 16, **params: Any) -> ChatRequest:
    messages = [{"role": "system", "content": f"Answer from this letter only.\n{NOTE}"},
                {"role": "user", "content": question}]
    return ChatRequest(messages, GenerationParams(max_new_tokens=max_new_tokens, **params))


def test_common_prefix_length() -> None:
    assert common_prefix_length([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix_length([1, 2], [1, 2, 3]) == 2
    assert common_prefix_length([], [1]) == 0


def test_plan_groups_prompts_by_document_not_by_the_shared_system_prompt() -> None:
    system = list(range(1000, 1150))  # 150 shared tokens
    doc_a, doc_b = list(range(2000, 2600)), list(range(3000, 3500))
    prompts = [system + doc_a + [1], system + doc_b + [2], system + doc_a + [3, 4], system + doc_b + [5],
               [*system, 9, 9, 9], [7] * 300]
    groups, rest = plan_groups(prompts, min_prefix=128)
    assert sorted((g.indices, g.prefix_len) for g in groups) == [((0, 2), 750), ((1, 3), 650)]
    assert rest == [4, 5]  # the system prompt alone (150 x 1 saved) loses to the two document groups


def test_plan_groups_respects_the_minimum_prefix_the_group_size_and_leaves_a_suffix() -> None:
    short = [[1] * 100 + [i] for i in range(3)]
    assert plan_groups(short, min_prefix=128) == ([], [0, 1, 2])
    same = [[5] * 200 for _ in range(5)]  # identical prompts: the prefix stops one token early
    groups, rest = plan_groups(same, min_prefix=128, max_group=2)
    assert all(g.prefix_len == 199 and len(g.indices) <= 2 for g in groups)
    assert sum(len(g.indices) for g in groups) + len(rest) == 5 and len(groups) == 2


def test_plan_groups_on_an_empty_or_single_list() -> None:
    assert plan_groups([]) == ([], [])
    assert plan_groups([[1] * 300]) == ([], [0])


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows per prefix batch (a prefix cache made once and repeated over them), on either decode path."""
    calls: list[int] = []
    real = prefix_reuse._prefix_cache

    def counted(lm: Any, prefix: Any, batch: int, *args: Any, **kwargs: Any) -> Any:
        calls.append(batch)
        return real(lm, prefix, batch, *args, **kwargs)

    monkeypatch.setattr(prefix_reuse, "_prefix_cache", counted)
    return calls


def test_shared_prefix_gives_the_ordinary_paths_greedy_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    other = ChatRequest([{"role": "user", "content": "Name a fruit."}], GenerationParams(max_new_tokens=16))
    requests = [_request(QUESTIONS[0]), other, *(_request(q) for q in QUESTIONS[1:])]
    ordinary = TransformersBackend("smollm2-135m-instruct", prefix_reuse=False).generate(requests)
    calls = _counting(monkeypatch)
    reused = TransformersBackend("smollm2-135m-instruct").generate(requests)
    assert calls == [4]  # the four questions over the note in one prefix batch; the fruit prompt apart
    assert [r.text for r in reused] == [r.text for r in ordinary]
    assert [r.prompt_tokens for r in reused] == [r.prompt_tokens for r in ordinary]
    assert [r.finish_reason for r in reused] == [r.finish_reason for r in ordinary]
    assert all(r.text for r in reused)


def test_dynamic_and_static_prefix_caches_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = [_request(q, 12, stop=(".",)) for q in QUESTIONS[:3]]
    static = TransformersBackend("smollm2-135m-instruct").generate(requests)
    monkeypatch.setattr(transformers_backend, "STATIC_CACHE_FROM", 10_000)
    calls = _counting(monkeypatch)
    dynamic = TransformersBackend("smollm2-135m-instruct").generate(requests)
    assert calls == [3]
    assert [r.text for r in static] == [r.text for r in dynamic]
    assert all("." not in r.text for r in static)  # stop strings still cut inside generate


def test_a_small_token_budget_splits_a_prefix_group(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    requests = [_request(q, 8) for q in QUESTIONS]
    backend = TransformersBackend("smollm2-135m-instruct", batch_tokens=400)  # room for about one row past the prefix
    texts = [r.text for r in backend.generate(requests)]
    assert len(calls) >= 2 and sum(calls) == 4
    ordinary = TransformersBackend("smollm2-135m-instruct", prefix_reuse=False).generate(requests)
    assert texts == [r.text for r in ordinary]


def test_learned_positions_gpt2_gives_the_same_texts(monkeypatch: pytest.MonkeyPatch, tiny_gpt2: Any) -> None:
    # GPT-2 adds a learned position embedding per position: the middle padding must keep each real token's position.
    params = GenerationParams(max_new_tokens=10)
    requests = [ChatRequest([{"role": "system", "content": NOTE[:200]}, {"role": "user", "content": q}], params)
                for q in (QUESTIONS[0], QUESTIONS[1], QUESTIONS[3])]  # ~180 tokens, ~150 of them shared
    ordinary = TransformersBackend(str(tiny_gpt2), prefix_reuse=False).generate(requests)
    calls = _counting(monkeypatch)
    reused = TransformersBackend(str(tiny_gpt2)).generate(requests)
    assert calls == [3]
    assert [r.text for r in reused] == [r.text for r in ordinary]
    # Prompts beyond its 256 positions are cut from the left by the ordinary path, so they never share a prefix.
    assert TransformersBackend(str(tiny_gpt2)).generate([_request(q, 10) for q in QUESTIONS[:2]]) and calls == [3]


def test_prefix_groups_share_a_decode_batch_only_within_the_token_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import fast_decode

    decoded: list[list[int]] = []  # rows per segment (own cache) of each decode loop
    real = fast_decode.decode_segments

    def counted(lm: Any, segments: Any, **kwargs: Any) -> Any:
        decoded.append([segment.rows for segment in segments])
        return real(lm, segments, **kwargs)

    monkeypatch.setattr(fast_decode, "decode_segments", counted)
    other_note = NOTE.replace("Ms Example, 58", "Mr Sample, 71").replace("ramipril", "amlodipine")
    requests = [_request(q, 8) for q in QUESTIONS[:3]] + [
        ChatRequest([{"role": "system", "content": f"Answer from this letter only.\n{other_note}"},
                     {"role": "user", "content": q}], GenerationParams(max_new_tokens=8)) for q in QUESTIONS[:3]]
    wide = [r.text for r in TransformersBackend("smollm2-135m-instruct").generate(requests)]
    assert decoded == [[6]]  # both letters' groups decoded together, as one batch
    decoded.clear()
    narrow = [r.text for r in TransformersBackend("smollm2-135m-instruct", batch_tokens=1600).generate(requests)]
    # Three ~400-token rows fit the budget, six do not: two batches. Their caches (each prefix held once) fit it
    # together, so they still share one decode loop, each attending over its own cache.
    assert decoded == [[3, 3]]
    assert narrow == wide == [r.text for r in TransformersBackend("smollm2-135m-instruct", prefix_reuse=False)
                              .generate(requests)]


def test_a_prefix_batch_counts_the_prefix_once_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each row keeps the whole prompt in its cache, so rows x (prompt + new tokens) must fit the budget.
    calls = _counting(monkeypatch)
    requests = [_request(q, 8) for q in QUESTIONS]
    results = TransformersBackend("smollm2-135m-instruct", batch_tokens=1200).generate(requests)
    width = max(r.prompt_tokens or 0 for r in results) + 8
    assert 3 * width > 1200 >= 2 * width  # the four ~390-token rows need at least two batches
    assert sum(calls) == 4 and all(rows * width <= 1200 for rows in calls)
    assert [r.text for r in results] == [r.text for r in TransformersBackend(
        "smollm2-135m-instruct", prefix_reuse=False).generate(requests)]


def test_requests_with_other_settings_decode_together_with_the_tokens_each_gets_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two suites in one call (different token limits, one with a stop string), each batch over its own cache:
    # one decode loop, and every row's tokens are those it gets when its suite is generated alone.
    from harness.models import fast_decode

    decoded: list[list[int]] = []
    real = fast_decode.decode_segments
    monkeypatch.setattr(fast_decode, "decode_segments", lambda lm, segments, **kw: decoded.append(
        [s.max_new_tokens for s in segments]) or real(lm, segments, **kw))
    long_notes = [_request(q, 12) for q in QUESTIONS[:3]]
    short_chat = [ChatRequest([{"role": "user", "content": q}], GenerationParams(max_new_tokens=6, stop=["."]))
                  for q in ("How do I sleep better?", "What helps with worry at night?")]
    backend = TransformersBackend("smollm2-135m-instruct")
    together = backend.generate(long_notes + short_chat)
    assert decoded == [[12, 6]]
    alone = backend.generate(long_notes) + backend.generate(short_chat)
    assert [(r.text, r.completion_tokens, r.finish_reason) for r in together] == [
        (r.text, r.completion_tokens, r.finish_reason) for r in alone]
    assert all(r.completion_tokens <= 6 for r in together[3:])
