"""The OpenAI-compatible backend against a real server: `harness serve` on 127.0.0.1."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from harness.errors import BackendUnavailableError, ModelNotFoundError
from harness.models.base import ChatRequest, GenerationParams
from harness.models.openai_backend import OpenAIBackend
from harness.models.transformers_backend import TransformersBackend


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    import uvicorn

    from harness.serve import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


SHORT = GenerationParams(max_new_tokens=12)
REQUESTS = [
    ChatRequest([{"role": "user", "content": "Name one way to relax before bed."}], SHORT),
    ChatRequest([{"role": "user", "content": "What is a good breakfast?"}], SHORT),
]


def test_server_outputs_match_local_greedy_generation(server_url: str) -> None:
    remote = OpenAIBackend("smollm2-135m-instruct", base_url=server_url, concurrency=2).generate(REQUESTS)
    local = TransformersBackend("smollm2-135m-instruct").generate(REQUESTS)
    assert [r.text for r in remote] == [r.text for r in local]
    assert all(r.completion_tokens for r in remote)


def test_unknown_model_is_model_not_found(server_url: str) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        OpenAIBackend("gpt-nonexistent", base_url=server_url).generate(REQUESTS[:1])


def test_unreachable_server_is_a_clear_error() -> None:
    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{_free_port()}/v1", timeout=5)
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        backend.generate(REQUESTS[:1])
