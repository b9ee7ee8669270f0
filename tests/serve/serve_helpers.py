"""Helpers shared by the serve tests (imported by basename: pytest puts this folder on sys.path)."""

from __future__ import annotations

import socket
import threading
from typing import Any

MODEL = "smollm2-135m-instruct"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(server: Any, thread: threading.Thread) -> None:
    """Stop the server and wait for its batch worker: a daemon thread still inside torch when the
    interpreter exits aborts the process."""
    server.should_exit = True
    thread.join(timeout=30)
    server.config.app.state.batcher.close(wait_s=600)


def chat(content: str = "Name one way to relax before bed.", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 8, **extra}
