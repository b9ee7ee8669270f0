"""Fixtures for the playground: a small candidates config on the fixture suite, a headless
Chromium (skipped cleanly when absent), and a helper that serves the app on a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def playground_config(tmp_path: Path) -> Path:
    """Two candidates on the embedded model (16 new tokens) over the mini fixture suite."""
    path = tmp_path / "playground.yaml"
    path.write_text(
        "name: playground-test\n"
        f"suites_dir: {FIXTURES / 'suites'}\n"
        "suites:\n  - mini/v1\n"
        "candidates:\n"
        "  - name: base\n    params: {max_new_tokens: 16}\n"
        "  - name: terse\n    system: Reply with one short sentence.\n    params: {max_new_tokens: 16}\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Any, str]]]:
    """``serve(store, config, auth) -> (app, url)``; every app still running is closed at teardown."""
    from playground.app import build_app

    running: list[Any] = []

    def start(store_path: Path, config: Path, auth: Any = None) -> tuple[Any, str]:
        app = build_app(store_path, config, auth)
        port = free_port()
        app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
        running.append(app)
        return app, f"http://127.0.0.1:{port}/"

    yield start
    for app in running:
        app.close()
