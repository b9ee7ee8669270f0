"""`harness serve` under load: concurrent requests are batched, a full queue and a slow request get
clear 503 / 504 answers, and SIGTERM stops the process promptly (a real subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import chat, free_port

REPO = Path(__file__).resolve().parents[2]
LONG = "Count from 1 to 400, separated by commas, with no other text."


def _post(url: str, body: dict[str, Any], timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=timeout)


def test_concurrent_requests_share_generate_calls(start_server: Any) -> None:
    app, url = start_server(max_batch=8, batch_wait_ms=50)
    prompts = [f"Give one tip for sleeping well, number {i}." for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda p: _post(url, chat(p)), prompts))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    stats = app.state.batcher.stats
    assert stats.generated == 8 and stats.batches < 8 and stats.largest_batch > 1, stats


@pytest.mark.slow
def test_full_queue_is_503_with_retry_after(start_server: Any) -> None:
    _, url = start_server(max_batch=1, max_queue=1, batch_wait_ms=0, max_tokens=16, request_timeout_s=900)
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: _post(url, chat(LONG, max_tokens=16), timeout=900), range(6)))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes, codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["error"]["message"]
    assert _post(url, chat(), timeout=900).status_code == 200  # still serving afterwards


def test_request_timeout_is_504_and_the_server_keeps_answering(start_server: Any) -> None:
    _, url = start_server(request_timeout_s=0.3, max_tokens=32, max_batch=1)
    slow = _post(url, chat(LONG, max_tokens=32))
    assert slow.status_code == 504 and "timed out" in slow.json()["error"]["message"]


def _spawn_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    code = "from harness.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port), "--max-batch", "1"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("server did not come up in 90 s")


@pytest.mark.slow
def test_sigterm_stops_a_busy_server_promptly() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _spawn_server(port)
    try:
        _wait_up(url, process)
        answers: list[int] = []

        def hammer() -> None:
            try:
                answers.append(_post(url, chat(LONG, max_tokens=64), timeout=90).status_code)
            except httpx.TransportError:
                answers.append(-1)

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # one running, five queued
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        rc = process.wait(timeout=30)
        stopped_in = time.monotonic() - started
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status says "SIGTERM".
    assert rc in (0, -signal.SIGTERM) and stopped_in < 30, (rc, stopped_in)
    output = process.stdout.read().decode() if process.stdout else ""
    assert "Traceback" not in output, output
    assert 503 in answers, answers  # the queue was failed fast, not worked off
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)
