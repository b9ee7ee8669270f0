"""OpenAI-compatible chat endpoint (vLLM, llama.cpp server, TGI, `harness serve`).

This is how a team scales generation beyond one machine: point a candidate at a server. A busy
or restarting server is normal there, so 429, 5xx and timeouts are retried with exponential
backoff (honouring ``Retry-After``) before the batch gives up; ``max_connections`` caps how many
connections the client opens to the server.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any

from harness.errors import BackendUnavailableError, ModelNotFoundError
from harness.models.base import ChatRequest, GenerationResult, truncate_at_stop

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class OpenAIBackend:
    def __init__(self, model: str, *, base_url: str, api_key_env: str | None = None, concurrency: int = 4,
                 timeout: float = 120.0, max_retries: int = 4, backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 max_connections: int | None = None) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = os.environ.get(api_key_env) if api_key_env else None
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_connections = max(1, max_connections) if max_connections else self.concurrency
        self.identity = f"openai:{self.base_url}:{model}"
        self.retries = 0  # retried attempts so far (for logs and tests)
        self._count_lock = threading.Lock()

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        params = request.params
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_new_tokens,
            "seed": params.seed,
        }
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.top_k:
            payload["top_k"] = params.top_k  # vLLM / llama.cpp extension
        if params.repetition_penalty != 1.0:
            payload["repetition_penalty"] = params.repetition_penalty
        return payload

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Retry-After when the server gives one, else exponential backoff with jitter; capped either way."""
        told = retry_after_seconds(retry_after)
        if told is not None:
            return min(told, self.max_backoff_s)
        return min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)

    def _wait(self, seconds: float) -> None:
        with self._count_lock:
            self.retries += 1
        time.sleep(seconds)

    def _post(self, client: Any, request: ChatRequest) -> Any:
        """POST with retries; returns the final response (success or a non-retryable error)."""
        import httpx

        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = client.post("/chat/completions", json=self._payload(request))
            except httpx.ConnectError as exc:
                raise BackendUnavailableError(
                    f"OpenAI-compatible server at {self.base_url} is unreachable ({type(exc).__name__})",
                    hint="check the candidate's base_url and that the server is running",
                ) from None
            except httpx.TransportError as exc:  # timeouts, dropped connections
                if last:
                    raise BackendUnavailableError(
                        f"{self.base_url}: {type(exc).__name__} on all {attempt + 1} attempt(s)",
                        hint="the server is overloaded or too slow; raise the timeout or lower concurrency",
                    ) from None
                self._wait(self._delay(attempt, None))
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            self._wait(self._delay(attempt, response.headers.get("retry-after")))
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _one(self, client: Any, request: ChatRequest) -> GenerationResult:
        response = self._post(client, request)
        if response.status_code == 404:
            raise ModelNotFoundError(f"{self.base_url}: model {self.model!r} or endpoint not found (404)")
        if response.status_code >= 400:
            tried = f" after {self.max_retries + 1} attempts" if response.status_code in RETRY_STATUSES else ""
            raise BackendUnavailableError(
                f"{self.base_url} answered HTTP {response.status_code}{tried}: {response.text[:200]}"
            )
        body = response.json()
        choice = body["choices"][0]
        text, _ = truncate_at_stop(choice["message"].get("content") or "", request.params.stop)
        usage = body.get("usage") or {}
        return GenerationResult(
            text=text.strip(),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout, limits=limits) as client:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, self.max_connections)) as pool:
                return list(pool.map(lambda r: self._one(client, r), requests))
