"""Every invalid request is a 4xx with a JSON error naming the problem, never a 500 or a traceback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from serve_helpers import MODEL, chat, stop

USER = [{"role": "user", "content": "Hi"}]

BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("max_tokens zero", chat(max_tokens=0), 400, "max_tokens"),
    ("max_tokens negative", chat(max_tokens=-3), 400, "max_tokens"),
    ("max_tokens over cap", chat(max_tokens=10_000), 400, "cap of 64"),
    ("max_tokens not a number", chat(max_tokens="lots"), 400, "max_tokens"),
    ("temperature negative", chat(temperature=-1), 400, "temperature"),
    ("top_p zero", chat(top_p=0), 400, "top_p"),
    ("top_p over one", chat(top_p=1.5), 400, "top_p"),
    ("top_k negative", chat(top_k=-1), 400, "top_k"),
    ("repetition_penalty zero", chat(repetition_penalty=0), 400, "repetition_penalty"),
    ("unknown role", {"model": MODEL, "messages": [{"role": "wizard", "content": "Hi"}]}, 400, "role"),
    ("empty messages", {"model": MODEL, "messages": []}, 400, "messages"),
    ("no messages", {"model": MODEL}, 400, "messages"),
    ("content not text", {"model": MODEL, "messages": [{"role": "user", "content": {"x": 1}}]}, 400, "content"),
    ("extra message key", {"model": MODEL, "messages": [{"role": "user", "content": "a", "x": 1}]}, 400, "messages"),
    ("streaming asked", chat(stream=True), 400, "stream"),
    ("several choices asked", chat(n=3), 400, "n"),
    ("too many stops", chat(stop=["a", "b", "c", "d", "e"]), 400, "stop"),
    ("prompt over char cap", chat("word " * 200), 400, "characters"),
    ("too many messages", {"model": MODEL, "messages": USER * 9}, 400, "messages"),
    ("body is a list", [1, 2], 400, "JSON object"),
    ("unknown model", {"model": "gpt-nope", "messages": USER}, 404, "not served"),
]


@pytest.fixture(scope="module")
def url() -> Any:
    import threading
    import time

    import uvicorn
    from serve_helpers import free_port

    from harness.serve import ServeLimits, create_app

    limits = ServeLimits(max_tokens=64, max_prompt_chars=500, max_prompt_tokens=60, max_messages=8,
                         max_body_bytes=4096)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(MODEL, limits=limits), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    stop(server, thread)


def _assert_clean_error(response: httpx.Response, status: int, needle: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle.lower() in (error["message"] + " " + str(error["param"])).lower(), error
    assert "Traceback" not in response.text and 'File "' not in response.text


@pytest.mark.parametrize(("name", "body", "status", "needle"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_invalid_parameters_are_4xx_json(url: str, name: str, body: Any, status: int, needle: str) -> None:
    _assert_clean_error(httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30), status, needle)


@pytest.mark.parametrize(("raw", "needle"), [(b"not json", "JSON"), (b"\xff\xfe{}", "UTF-8"), (b"", "JSON")])
def test_undecodable_bodies_are_400(url: str, raw: bytes, needle: str) -> None:
    response = httpx.post(f"{url}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    _assert_clean_error(response, 400, needle)


def test_oversized_body_is_413_and_a_normal_request_still_answers(url: str) -> None:
    big = chat("x" * 200_000)
    _assert_clean_error(httpx.post(f"{url}/v1/chat/completions", json=big, timeout=30), 413, "4096 bytes")

    def chunked() -> Any:
        yield b'{"model": "m", "messages": [{"role": "user", "content": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}]}'

    streamed = httpx.post(f"{url}/v1/chat/completions", content=chunked(), timeout=30)
    _assert_clean_error(streamed, 413, "4096 bytes")
    ok = httpx.post(f"{url}/v1/chat/completions", json=chat("Say hello."), timeout=60)
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"]


def test_prompt_over_the_token_cap_is_400_before_generation(url: str) -> None:
    # Under the character cap (500), over the token cap (60) once chat-templated.
    response = httpx.post(f"{url}/v1/chat/completions", json=chat("pneumothorax " * 30), timeout=60)
    _assert_clean_error(response, 400, "tokens")


def test_unknown_route_and_method_are_json(url: str) -> None:
    _assert_clean_error(httpx.get(f"{url}/v1/nothing"), 404, "not found")
    _assert_clean_error(httpx.get(f"{url}/v1/chat/completions"), 405, "not allowed")
