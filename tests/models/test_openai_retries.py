"""Retries of the OpenAI-compatible client against a real HTTP server on 127.0.0.1 (no mocks):
429 / 5xx / timeouts are retried with backoff, Retry-After is honoured, other errors are not
retried, and max_connections caps the connections the client opens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.errors import BackendUnavailableError
from harness.models.base import ChatRequest, GenerationParams
from harness.models.openai_backend import OpenAIBackend, retry_after_seconds

OK_BODY = {"choices": [{"message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
REQUEST = ChatRequest([{"role": "user", "content": "hi"}], GenerationParams(max_new_tokens=4))


class ScriptedServer(ThreadingHTTPServer):
    """Answers POSTs from a script of (status, headers, delay_s); the last entry repeats."""

    daemon_threads = True

    def __init__(self, script: list[tuple[int, dict[str, str], float]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = script
        self.hits: list[float] = []
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def next_answer(self) -> tuple[int, dict[str, str], float]:
        with self.lock:
            self.hits.append(time.monotonic())
            index = min(len(self.hits) - 1, len(self.script) - 1)
            self.active += 1
            self.peak = max(self.peak, self.active)
            return self.script[index]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        status, headers, delay = self.server.next_answer()
        done = False
        try:
            time.sleep(delay)
            body = json.dumps(OK_BODY if status == 200 else {"error": {"message": f"status {status}"}}).encode()
            self.send_response(status)
            for key, value in {"content-type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            # No longer active once the client can have the answer: counting down after the write would let the
            # client's next request overlap this one in the count (a race, not a second connection in use).
            with self.server.lock:
                self.server.active -= 1
            done = True
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left
        finally:
            if not done:
                with self.server.lock:
                    self.server.active -= 1

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(*script: tuple[int, dict[str, str], float]) -> ScriptedServer:
        server = ScriptedServer(list(script))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_429_then_200_honours_retry_after(scripted: Any) -> None:
    server = scripted((429, {"Retry-After": "1"}, 0), (200, {}, 0))
    backend = OpenAIBackend("m", base_url=server.url, backoff_s=0.01)
    [result] = backend.generate([REQUEST])
    assert result.text == "fine" and backend.retries == 1 and len(server.hits) == 2
    assert server.hits[1] - server.hits[0] >= 0.95  # waited what the server asked, not the 0.01 s backoff


def test_5xx_is_retried_with_growing_backoff(scripted: Any) -> None:
    server = scripted((503, {}, 0), (502, {}, 0), (500, {}, 0), (200, {}, 0))
    backend = OpenAIBackend("m", base_url=server.url, backoff_s=0.1, max_retries=4)
    assert backend.generate([REQUEST])[0].text == "fine"
    gaps = [b - a for a, b in zip(server.hits, server.hits[1:], strict=False)]
    assert len(server.hits) == 4 and backend.retries == 3
    assert gaps[0] >= 0.05 and gaps[2] >= 0.2  # 0.1 * 2**attempt, jittered down by at most half


def test_gives_up_after_max_retries_naming_the_status(scripted: Any) -> None:
    server = scripted((500, {}, 0))
    backend = OpenAIBackend("m", base_url=server.url, backoff_s=0.01, max_retries=2)
    with pytest.raises(BackendUnavailableError, match=r"HTTP 500 after 3 attempts"):
        backend.generate([REQUEST])
    assert len(server.hits) == 3


def test_client_errors_are_not_retried(scripted: Any) -> None:
    server = scripted((400, {}, 0), (200, {}, 0))
    with pytest.raises(BackendUnavailableError, match="HTTP 400"):
        OpenAIBackend("m", base_url=server.url, backoff_s=0.01).generate([REQUEST])
    assert len(server.hits) == 1


def test_a_timeout_is_retried(scripted: Any) -> None:
    server = scripted((200, {}, 2.0), (200, {}, 0))
    backend = OpenAIBackend("m", base_url=server.url, timeout=0.5, backoff_s=0.01)
    assert backend.generate([REQUEST])[0].text == "fine"
    assert len(server.hits) == 2 and backend.retries == 1


def test_max_connections_caps_parallel_requests(scripted: Any) -> None:
    server = scripted((200, {}, 0.2))
    backend = OpenAIBackend("m", base_url=server.url, concurrency=8, max_connections=2)
    assert len(backend.generate([REQUEST] * 8)) == 8
    assert server.peak == 2


def test_retry_after_forms() -> None:
    now = time.time()
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    date = formatdate(now + 10, usegmt=True)
    assert 8 <= (retry_after_seconds(date, now=now) or 0) <= 11
    assert retry_after_seconds(formatdate(now - 100, usegmt=True), now=now) == 0.0


def test_candidate_fields_reach_the_backend() -> None:
    from harness.candidate import Candidate, CandidateSpec

    spec = CandidateSpec(name="remote", backend="openai", model="m", base_url="http://127.0.0.1:9/v1",
                         max_connections=3, max_retries=1)
    backend = Candidate(spec).backend
    assert isinstance(backend, OpenAIBackend) and backend.max_connections == 3 and backend.max_retries == 1
