"""OpenAI-compatible chat endpoint (vLLM, llama.cpp server, TGI, `harness serve`).

This is how a team scales generation beyond one machine: point a candidate at a server.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.errors import BackendUnavailableError, ModelNotFoundError
from harness.models.base import ChatRequest, GenerationResult, truncate_at_stop


class OpenAIBackend:
    def __init__(self, model: str, *, base_url: str, api_key_env: str | None = None, concurrency: int = 4,
                 timeout: float = 120.0) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = os.environ.get(api_key_env) if api_key_env else None
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.identity = f"openai:{self.base_url}:{model}"

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

    def _one(self, client: Any, request: ChatRequest) -> GenerationResult:
        import httpx

        try:
            response = client.post("/chat/completions", json=self._payload(request))
        except httpx.TransportError as exc:
            raise BackendUnavailableError(
                f"OpenAI-compatible server at {self.base_url} is unreachable ({type(exc).__name__})",
                hint="check the candidate's base_url and that the server is running",
            ) from None
        if response.status_code == 404:
            raise ModelNotFoundError(f"{self.base_url}: model {self.model!r} or endpoint not found (404)")
        if response.status_code >= 400:
            raise BackendUnavailableError(
                f"{self.base_url} answered HTTP {response.status_code}: {response.text[:200]}"
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
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout) as client:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                return list(pool.map(lambda r: self._one(client, r), requests))
