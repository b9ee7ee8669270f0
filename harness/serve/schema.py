"""The chat-completions request the server accepts, and the JSON errors it answers with.

Every constraint lives on the pydantic model, so a bad parameter becomes a 400 naming the field
(OpenAI's error shape) instead of reaching the model and failing there with a 500.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.models.base import ChatRequest, GenerationParams
from harness.serve.limits import ServeLimits

DEFAULT_MAX_TOKENS = 128


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatBody(BaseModel):
    """The subset of OpenAI's chat-completions request the harness sends; other OpenAI fields are ignored,
    except those whose meaning this server cannot honour (``stream``, ``n`` > 1)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, gt=0)  # None: min(128, the server's cap)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    stop: list[str] | str | None = None
    repetition_penalty: float = Field(default=1.0, gt=0.0, le=10.0)
    stream: Literal[False] = False
    n: Literal[1] = 1

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: list[str] | str | None) -> list[str] | str | None:
        stops = [value] if isinstance(value, str) else (value or [])
        if len(stops) > 4 or any(not s or len(s) > 64 for s in stops):
            raise ValueError("give at most 4 stop strings of 1 to 64 characters")
        return value

    def to_request(self) -> ChatRequest:
        stop = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        params = GenerationParams(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
                                  min_p=self.min_p, max_new_tokens=self.max_tokens or DEFAULT_MAX_TOKENS,
                                  seed=self.seed, stop=tuple(stop), repetition_penalty=self.repetition_penalty)
        return ChatRequest([m.model_dump() for m in self.messages], params)


class RequestRejected(Exception):
    """A request the server refuses; becomes ``status`` with an OpenAI-style JSON error."""

    def __init__(self, status: int, message: str, *, param: str | None = None, kind: str = "invalid_request_error",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.kind = kind
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.status}}


def parse_body(raw: Any, limits: ServeLimits) -> ChatBody:
    """Validate a decoded JSON body against the schema and the server's caps."""
    if not isinstance(raw, dict):
        raise RequestRejected(400, "the request body must be a JSON object")
    try:
        body = ChatBody.model_validate(raw)
    except ValidationError as exc:
        raise validation_rejection(exc) from None
    if body.max_tokens is None:
        body.max_tokens = min(DEFAULT_MAX_TOKENS, limits.max_tokens)
    if body.max_tokens > limits.max_tokens:
        raise RequestRejected(400, f"max_tokens {body.max_tokens} is over this server's cap of {limits.max_tokens}",
                              param="max_tokens")
    if len(body.messages) > limits.max_messages:
        raise RequestRejected(400, f"{len(body.messages)} messages is over this server's cap of "
                                   f"{limits.max_messages}", param="messages")
    chars = sum(len(m.content) for m in body.messages)
    if chars > limits.max_prompt_chars:
        raise RequestRejected(400, f"prompt of {chars} characters is over this server's cap of "
                                   f"{limits.max_prompt_chars}", param="messages")
    return body


def validation_rejection(exc: ValidationError) -> RequestRejected:
    """A 400 naming every bad field; the offending value is not echoed back (it may be huge or private)."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        problems.append(f"{field}: {err['msg']}")
    first = exc.errors()[0]["loc"] if exc.errors() else ()
    return RequestRejected(400, "; ".join(problems), param=".".join(str(p) for p in first) or None)
