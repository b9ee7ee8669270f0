"""A real `harness serve` app on a free loopback port, with limits chosen per test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from serve_helpers import MODEL, free_port, stop


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
