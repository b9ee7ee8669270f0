"""``harness serve``: an OpenAI-compatible chat endpoint over the transformers backend.

Lets a team serve the embedded (or a fine-tuned) model to other machines' harness runs with
``backend: openai``, and gives the OpenAI backend a real server to be tested against.
Binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, Field

from harness.models.base import ChatRequest, GenerationParams


class ChatBody(BaseModel):
    """The subset of OpenAI's chat-completions request the harness sends."""

    model: str
    messages: list[dict[str, str]] = Field(min_length=1)
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    max_tokens: int = 128
    seed: int = 0
    stop: list[str] | str | None = None
    repetition_penalty: float = 1.0


def create_app(model: str = "smollm2-135m-instruct", adapter: str | None = None) -> Any:
    from fastapi import FastAPI, HTTPException

    from harness.models.transformers_backend import TransformersBackend

    backend = TransformersBackend(model, adapter=adapter, batch_size=8)
    app = FastAPI(title="harness OpenAI-compatible server", docs_url=None, redoc_url=None)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "harness"}]}

    @app.post("/v1/chat/completions")
    def chat(body: ChatBody) -> dict[str, Any]:
        if body.model != model:
            raise HTTPException(status_code=404, detail=f"model {body.model!r} not served (serving {model!r})")
        stop = [body.stop] if isinstance(body.stop, str) else (body.stop or [])
        params = GenerationParams(temperature=body.temperature, top_p=body.top_p, top_k=body.top_k,
                                  max_new_tokens=body.max_tokens, seed=body.seed, stop=tuple(stop),
                                  repetition_penalty=body.repetition_penalty)
        result = backend.generate([ChatRequest(body.messages, params)])[0]
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text},
                         "finish_reason": result.finish_reason}],
            "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                      "total_tokens": (result.prompt_tokens or 0) + (result.completion_tokens or 0)},
        }

    return app


def serve(model: str, adapter: str | None, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(model, adapter), host=host, port=port, log_level="warning")
