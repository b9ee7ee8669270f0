"""A real `harness serve` app on a free loopback port, with limits chosen per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

MODEL = "smollm2-135m-instruct"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_server() -> Iterator[Callable[..., tuple[Any, str]]]:
    """``start_server(**limits) -> (app, base_url)``; every server is stopped at teardown."""
    import uvicorn

    from harness.serve import ServeLimits, create_app

    running: list[tuple[Any, threading.Thread]] = []

    def start(**limits: Any) -> tuple[Any, str]:
        app = create_app(MODEL, limits=ServeLimits(**limits))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 60
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "server did not start within 60 s"
        running.append((server, thread))
        return app, f"http://127.0.0.1:{port}"

    yield start
    for server, thread in running:
        stop(server, thread)


def stop(server: Any, thread: threading.Thread) -> None:
    """Stop the server and wait for its batch worker: a daemon thread still inside torch when the
    interpreter exits aborts the process."""
    server.should_exit = True
    thread.join(timeout=30)
    server.config.app.state.batcher.close(wait_s=600)


def chat(content: str = "Name one way to relax before bed.", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 8, **extra}
