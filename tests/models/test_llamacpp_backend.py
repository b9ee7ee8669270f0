"""The llamacpp backend on the embedded GGUF (real llama.cpp; skipped when llama-cpp-python is absent)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from harness.candidate import Candidate, CandidateSpec
from harness.errors import BackendUnavailableError, ConfigError
from harness.models.base import ChatRequest, GenerationParams
from harness.models.embedded import gguf_path
from harness.models.template_render import render_chat
from harness.store import Store
from harness.suite import load_suite

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed: pip install 'harness-clinical[llamacpp]' or scripts/build_llamacpp.sh",
)
PROMPTS = [
    "I can't sleep because I'm worried about money.",
    "My sister stopped talking to me.",
    "How can I feel less nervous before exams? I have three next week and I'm dreading all of them.",
]


def _request(text: str, **params: object) -> ChatRequest:
    return ChatRequest([{"role": "system", "content": "Be kind."}, {"role": "user", "content": text}],
                       GenerationParams(**{"max_new_tokens": 12, **params}))


def _backend(**kwargs: object):
    from harness.models.llamacpp_backend import LlamaCppBackend

    return LlamaCppBackend("smollm2-135m-instruct", **kwargs)


def test_missing_llama_cpp_names_the_install_and_the_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import llama_cpp` sees when it is not installed
    candidate = Candidate(CandidateSpec(name="fast", backend="llamacpp"))
    with pytest.raises(BackendUnavailableError) as info:
        candidate.fingerprint()
    assert "candidate 'fast'" in str(info.value) and "llama-cpp-python" in str(info.value)
    assert "harness-clinical[llamacpp]" in (info.value.hint or "")
    assert "build_llamacpp.sh" in (info.value.hint or "")


def test_template_renders_without_a_tokenizer() -> None:
    text = render_chat("{% for m in messages %}[{{ m['role'] }}]{% generation %}{{ m['content'] }}"
                       "{% endgeneration %}{% endfor %}{{ eos_token }}", [{"role": "user", "content": "hi"}],
                       eos_token="</s>")
    assert text == "[user]hi</s>"


def test_threads_follow_the_setting_and_the_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import llamacpp_backend

    monkeypatch.setenv("HARNESS_LLAMACPP_THREADS", "3")
    assert llamacpp_backend.default_threads() == 3
    monkeypatch.setenv("HARNESS_LLAMACPP_THREADS", "many")
    with pytest.raises(BackendUnavailableError, match="HARNESS_LLAMACPP_THREADS"):
        llamacpp_backend.default_threads()
    monkeypatch.delenv("HARNESS_LLAMACPP_THREADS")
    monkeypatch.setattr(llamacpp_backend, "available_cores", lambda: 4)
    monkeypatch.setattr(llamacpp_backend.os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert llamacpp_backend.default_threads() == 1  # a busy runner: one thread, not four spinning ones
    monkeypatch.setattr(llamacpp_backend.os, "getloadavg", lambda: (0.3, 0.0, 0.0))
    assert llamacpp_backend.default_threads() == 4


@needs_llama
def test_greedy_is_deterministic_and_in_request_order() -> None:
    backend = _backend()
    forward = backend.generate([_request(p) for p in PROMPTS])
    backward = backend.generate([_request(p) for p in PROMPTS[::-1]])
    assert [r.text for r in forward] == [r.text for r in backward][::-1]
    assert all(r.text for r in forward)
    assert all(r.completion_tokens and r.completion_tokens <= 12 for r in forward)
    assert all(r.prompt_tokens and r.prompt_tokens > 10 for r in forward)


@needs_llama
def test_stop_strings_end_generation() -> None:
    result = _backend().generate([_request("Describe the sea in one sentence.", stop=("the", "The"))])[0]
    assert "the" not in result.text and "The" not in result.text
    assert result.finish_reason == "stop"


@needs_llama
def test_sampling_follows_the_seed() -> None:
    backend = _backend()
    sampled = [_request(PROMPTS[0], temperature=1.0, max_new_tokens=16, seed=s) for s in (1, 1, 2)]
    first, again, other = (r.text for r in backend.generate(sampled))
    assert first == again
    assert first != other


@needs_llama
def test_stream_yields_the_generated_text() -> None:
    backend = _backend()
    request = _request(PROMPTS[1])
    pieces = list(backend.stream(request))
    assert len(pieces) > 3
    assert "".join(pieces).strip() == backend.generate([request])[0].text


@needs_llama
def test_long_prompt_keeps_its_end_within_the_context() -> None:
    backend = _backend(n_ctx=256)
    result = backend.generate([_request("I feel anxious. " * 200 + "What should I do?", max_new_tokens=16)])[0]
    assert result.prompt_tokens is not None and result.prompt_tokens <= 256 - 16
    assert result.completion_tokens


@needs_llama
def test_identity_holds_backend_and_gguf_hash_and_template() -> None:
    from harness.hashing import file_digest

    plain = _backend()
    assert plain.identity.startswith("llamacpp:") and file_digest(gguf_path())[:16] in plain.identity
    assert _backend(chat_template="plain").identity != plain.identity
    assert _backend(n_ctx=1024).identity != plain.identity
    llama = Candidate(CandidateSpec(name="a", backend="llamacpp"))
    torch_based = Candidate(CandidateSpec(name="a"))
    assert llama.generator_fp() != torch_based.generator_fp()
    assert llama.fingerprint() != torch_based.fingerprint()


@needs_llama
def test_ollama_store_blob_runs_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("ollama_store", Path(__file__).with_name("ollama_store.py"))
    assert spec and spec.loader
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    helper.make_ollama_store(tmp_path, "clinic-bot:v1", gguf_path())
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    from harness.models.llamacpp_backend import LlamaCppBackend

    from_store = LlamaCppBackend("ollama:clinic-bot:v1")
    assert from_store.identity == _backend().identity  # same bytes, same generator: the cache is shared
    assert from_store.generate([_request(PROMPTS[0])])[0].text == _backend().generate([_request(PROMPTS[0])])[0].text


@needs_llama
def test_candidate_generates_through_the_cache(store: Store, fixture_suites: Path) -> None:
    suite = load_suite("mini", "v1", fixture_suites)
    cases = suite.select()[:2]
    spec = CandidateSpec(name="fast", backend="llamacpp", params={"max_new_tokens": 8})
    _, first = Candidate(spec).generate(store, suite, cases)
    assert store.count_generations() == 2 and all(o.text for o in first.values())
    again = Candidate(spec.model_copy(update={"name": "renamed"}))
    _, second = again.generate(store, suite, cases)
    assert again.stats == {"generated": 0, "reused": 2}
    assert {k: v.text for k, v in second.items()} == {k: v.text for k, v in first.items()}


def test_adapter_on_llamacpp_is_a_config_error(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    candidate = Candidate(CandidateSpec(name="tuned", backend="llamacpp", adapter=str(adapter)))
    with pytest.raises(ConfigError, match="applies no adapter"):
        candidate.fingerprint()


PARITY_PROMPTS = [
    "I keep waking up at 4am and can't get back to sleep.",
    "My mum was just diagnosed with dementia and I don't know how to cope.",
    "Is it normal to feel numb after a breakup?",
    "I get dizzy when I stand up since starting my new blood pressure tablets.",
    "My therapist is moving away and I feel abandoned.",
    "How do I tell my boss I need time off for my mental health?",
    "I've been eating much less since my exams started.",
    "What should I do if I miss a dose of my antidepressant?",
]


@needs_llama
def test_greedy_parity_with_the_transformers_backend() -> None:
    """Same GGUF weights: llama.cpp computes with Q4_1 blocks and 8-bit activations, transformers with the weights
    dequantised to float32, so texts may part ways; most should start the same. A wrong template or tokenizer
    path would share almost nothing."""
    from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

    requests = [_request(p, max_new_tokens=8) for p in PARITY_PROMPTS]
    llama = [r.text for r in _backend().generate(requests)]
    torch_texts = [r.text for r in TransformersBackend("smollm2-135m-instruct", batch_size=8).generate(requests)]
    _, tokenizer = load_model_and_tokenizer("smollm2-135m-instruct")
    first_tokens_equal = [tokenizer(a)["input_ids"][:4] == tokenizer(b)["input_ids"][:4]
                          for a, b in zip(llama, torch_texts, strict=True)]
    print(f"identical: {sum(a == b for a, b in zip(llama, torch_texts, strict=True))}/8, "
          f"first 4 tokens equal: {sum(first_tokens_equal)}/8")
    assert sum(first_tokens_equal) >= 5
