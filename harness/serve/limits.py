"""Limits that keep one ``harness serve`` process answering under load and abuse.

Every cap has a default that suits the embedded model on a CPU; ``--config serve.yaml`` or the
CLI options change them. A request over a cap is refused with a 4xx, never truncated silently.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ConfigError
from harness.yamlio import format_validation_error, load_yaml_config, validate_yaml_model


class ServeLimits(BaseModel):
    """Caps and queue settings for the OpenAI-compatible server."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(default=512, gt=0, description="largest max_tokens a request may ask for")
    max_prompt_chars: int = Field(default=16_000, gt=0, description="all message contents together")
    max_prompt_tokens: int = Field(default=2048, gt=0, description="the chat-templated prompt, in tokens")
    max_messages: int = Field(default=64, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="request body; larger is 413 unread")
    max_batch: int = Field(default=16, gt=0, description="requests grouped into one generate call")
    batch_wait_ms: float = Field(default=10.0, ge=0, description="how long the first request waits for others")
    max_queue: int = Field(default=64, gt=0, description="waiting requests; more get 503 with Retry-After")
    request_timeout_s: float = Field(default=120.0, gt=0, description="queue wait plus generation")
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="SIGTERM: how long in-flight work may finish")
    torch_threads: int | None = Field(default=None, gt=0, description="CPU threads for generation (default: "
                                      "torch's); 1 is much faster on a machine shared with other busy processes")


def load_limits(path: Path | str | None, **overrides: object) -> ServeLimits:
    """Limits from an optional YAML file, then CLI overrides (None means 'not given')."""
    data: dict[str, object] = {}
    if path is not None:
        located = load_yaml_config(path, "a serve limits YAML file (keys: " + ", ".join(ServeLimits.model_fields)
                                   + ")")
        data.update(validate_yaml_model(ServeLimits, located).model_dump())
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServeLimits.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, Path("harness serve options"))) from None
