"""The one interface every generation backend implements.

A backend takes a batch of chat requests and returns one result per request, in order.
Batching and caching happen above it (``harness.candidate``); a backend only generates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

ChatMessages = list[dict[str, str]]


class GenerationParams(BaseModel):
    """Decoding settings. temperature 0 means greedy (the default: reproducible scores)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, gt=0)
    repetition_penalty: float = Field(default=1.0, gt=0.0)
    seed: int = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def merged(self, overrides: dict[str, Any] | None) -> GenerationParams:
        """A copy with ``overrides`` applied (None values ignored)."""
        if not overrides:
            return self
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(data.get("stop"), list):
            data["stop"] = tuple(data["stop"])
        return GenerationParams.model_validate(data)

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ChatRequest:
    messages: ChatMessages
    params: GenerationParams

    def digest(self) -> str:
        payload = json.dumps({"m": self.messages, "p": self.params.model_dump(mode="json")}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class GenerationResult:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "stop" | "length"
    meta: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """Generates text for chat requests. ``identity`` goes into fingerprints."""

    identity: str

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]: ...


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string; returns (text, whether a stop was hit)."""
    cut = len(text)
    for token in stop:
        if token and (index := text.find(token)) != -1:
            cut = min(cut, index)
    return text[:cut], cut < len(text)
