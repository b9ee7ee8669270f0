"""Load test of `harness serve` on loopback: 20 concurrent requests vs. the same 20 sent one by one.

    python bench/bench_serve.py [--requests 20] [--max-tokens 32] [--max-batch 16] [--threads N] [--unbatched]
                                [--out bench_serve.json]

Starts the server as a subprocess on a free 127.0.0.1 port (nothing else is contacted), sends the
sequential baseline and then the concurrent burst (with --unbatched, first the same burst to a second
server that generates one request at a time, as `harness serve` did before batching), then a 5 MB
prompt beside a normal request (the big one must be refused, the normal one answered, the process must
not grow), then SIGTERM (the process must exit). Stops by itself: every request and the whole run have timeouts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"
TOPICS = ["sleep", "stress at work", "drinking water", "a short walk", "breathing", "journaling", "screen time",
          "caffeine", "talking to a friend", "stretching", "a hobby", "noise at night", "meal times", "sunlight",
          "a to-do list", "saying no", "rest days", "music", "gratitude", "reading"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _body(i: int, max_tokens: int) -> dict[str, Any]:
    topic = TOPICS[i % len(TOPICS)]
    return {"model": MODEL, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": f"Give one practical tip about {topic} for a calmer day."}]}


def _timed(client: httpx.Client, body: dict[str, Any]) -> tuple[int, float]:
    began = time.perf_counter()
    response = client.post("/v1/chat/completions", json=body)
    return response.status_code, time.perf_counter() - began


def _summary(samples: list[tuple[int, float]], total: float) -> dict[str, Any]:
    latencies = sorted(s for _, s in samples)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return {"requests": len(samples), "ok": sum(code == 200 for code, _ in samples), "total_s": round(total, 2),
            "median_latency_s": round(statistics.median(latencies), 2), "p95_latency_s": round(p95, 2)}


def _wait_up(url: str, process: subprocess.Popen[bytes], limit_s: float = 180) -> None:
    deadline = time.time() + limit_s
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit("server did not come up")


def _oversized(client: httpx.Client, pid: int, max_tokens: int) -> dict[str, Any]:
    """A 5 MB prompt beside a normal request: refused at once, the other answered, memory flat."""
    rss_before = _rss_mb(pid)
    huge = {"model": MODEL, "max_tokens": max_tokens, "messages": [{"role": "user", "content": "a" * 5_000_000}]}
    with ThreadPoolExecutor(2) as pool:
        big = pool.submit(_timed, client, huge)
        normal = pool.submit(_timed, client, _body(0, max_tokens))
        (big_code, big_s), (normal_code, normal_s) = big.result(), normal.result()
    return {"oversized_status": big_code, "oversized_answered_in_s": round(big_s, 2), "normal_status": normal_code,
            "normal_latency_s": round(normal_s, 2), "rss_mb_before": round(rss_before, 1),
            "rss_mb_after": round(_rss_mb(pid), 1)}


def _start(args: argparse.Namespace, max_batch: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", "from harness.cli import main; main()", "serve", "--port", str(port),
               "--max-batch", str(max_batch), "--max-queue", str(max(64, args.requests)),
               "--request-timeout", str(args.timeout), *(["--threads", str(args.threads)] if args.threads else [])]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, process)
    except BaseException:
        process.kill()
        raise
    return process, url


def _burst(client: httpx.Client, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    began = time.perf_counter()
    with ThreadPoolExecutor(len(bodies)) as pool:
        samples = list(pool.map(lambda b: _timed(client, b), bodies))
    return _summary(samples, time.perf_counter() - began)


def _unbatched_burst(args: argparse.Namespace, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The same burst against a server that generates one request at a time (--max-batch 1)."""
    process, url = _start(args, 1)
    try:
        with httpx.Client(base_url=url, timeout=args.timeout,
                          limits=httpx.Limits(max_connections=args.requests + 2)) as client:
            _timed(client, bodies[0])
            return _burst(client, bodies)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def run(args: argparse.Namespace) -> dict[str, Any]:
    bodies = [_body(i, args.max_tokens) for i in range(args.requests)]
    unbatched = _unbatched_burst(args, bodies) if args.unbatched else None
    process, url = _start(args, args.max_batch)
    try:
        with httpx.Client(base_url=url, timeout=args.timeout,
                          limits=httpx.Limits(max_connections=args.requests + 2)) as client:
            _timed(client, bodies[0])  # warm-up: first-call overheads stay out of every figure
            began = time.perf_counter()
            sequential = [_timed(client, body) for body in bodies]
            sequential_total = time.perf_counter() - began
            concurrent = _burst(client, bodies)
            oversized = _oversized(client, process.pid, args.max_tokens)
            health = client.get("/health").json()
        began = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
        return {"max_tokens": args.max_tokens, "max_batch": args.max_batch, "threads": args.threads,
                "cpu_count": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                "sequential": _summary(sequential, sequential_total), "concurrent": concurrent,
                "concurrent_unbatched": unbatched,
                "speedup_total": round(sequential_total / concurrent["total_s"], 2), "oversized": oversized,
                "server_stats": health["queued"], "sigterm_exit_s": round(time.perf_counter() - began, 2),
                "sigterm_exit_code": exit_code}
    finally:
        if process.poll() is None:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=600, help="per request, seconds")
    parser.add_argument("--threads", type=int, default=None, help="the server's CPU threads (default: torch's)")
    parser.add_argument("--unbatched", action="store_true",
                        help="also send the burst to a second server with --max-batch 1 (the old behaviour)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
