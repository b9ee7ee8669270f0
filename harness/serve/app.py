"""The FastAPI app and the uvicorn setup behind ``harness serve``.

Bad input is a 4xx with an OpenAI-style JSON error (never a 500 with a traceback): the body is
size-checked before it is read, decoded and validated before it is queued, and the chat-templated
prompt is token-counted before the model sees it. SIGTERM stops accepting, fails the waiting
queue with 503, lets the running batch finish (bounded by the caps) and exits.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.models.base import ChatRequest, GenerationResult
from harness.serve.batcher import BatchQueue
from harness.serve.limits import ServeLimits
from harness.serve.schema import RequestRejected, parse_body

log = logging.getLogger(__name__)


def _completion(model: str, result: GenerationResult) -> dict[str, Any]:
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


async def read_json_body(request: Request, max_bytes: int) -> Any:
    """The decoded body; 413 over ``max_bytes`` (checked on the header and while streaming), 400 if not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise RequestRejected(413, f"request body over this server's cap of {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestRejected(413, f"request body over this server's cap of {max_bytes} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestRejected(400, f"request body is not valid UTF-8 JSON ({type(exc).__name__})") from None


def token_check(model: str, adapter: str | None, limits: ServeLimits) -> Any:
    """A check run on the worker thread: the chat-templated prompt must fit ``max_prompt_tokens``."""
    from harness.models.transformers_backend import load_model_and_tokenizer

    def check(request: ChatRequest) -> None:
        _, tokenizer = load_model_and_tokenizer(model, adapter)
        text = tokenizer.apply_chat_template(list(request.messages), add_generation_prompt=True, tokenize=False)
        count = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        if count > limits.max_prompt_tokens:
            raise RequestRejected(400, f"prompt of {count} tokens is over this server's cap of "
                                       f"{limits.max_prompt_tokens}", param="messages")

    return check


def create_app(model: str = "smollm2-135m-instruct", adapter: str | None = None,
               limits: ServeLimits | None = None) -> Any:
    """The app; the model loads and the batching worker starts in the app's lifespan."""
    from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

    limits = limits or ServeLimits()
    backend = TransformersBackend(model, adapter=adapter, batch_size=limits.max_batch)
    batcher = BatchQueue(backend.generate, max_batch=limits.max_batch, max_queue=limits.max_queue,
                         batch_wait_s=limits.batch_wait_ms / 1000, check=token_check(model, adapter, limits))

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        if limits.torch_threads:
            import torch

            torch.set_num_threads(limits.torch_threads)
        load_model_and_tokenizer(model, adapter)  # fail at start, not on the first request
        batcher.start()
        yield
        batcher.close(wait_s=limits.shutdown_grace_s)

    app = FastAPI(title="harness OpenAI-compatible server", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.batcher = batcher
    app.state.limits = limits

    @app.exception_handler(RequestRejected)
    async def rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(RequestRejected(exc.status_code, str(exc.detail)).body(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")  # the traceback goes to the server log, never to the client
        return JSONResponse(RequestRejected(500, f"internal error ({type(exc).__name__})", kind="server_error")
                            .body(), status_code=500)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "harness"}]}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "closing" if batcher.closing else "ok", "queued": batcher.stats.__dict__}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = parse_body(await read_json_body(request, limits.max_body_bytes), limits)
        if body.model != model:
            raise RequestRejected(404, f"model {body.model!r} not served (serving {model!r})", param="model",
                                  kind="not_found_error")
        result = await batcher.submit(body.to_request(), limits.request_timeout_s)
        return _completion(model, result)

    return app


def serve(model: str, adapter: str | None, host: str, port: int, limits: ServeLimits | None = None) -> None:
    """Run until SIGTERM / Ctrl-C; the waiting queue is failed with 503 at once, not worked off."""
    import uvicorn

    limits = limits or ServeLimits()
    app = create_app(model, adapter, limits)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.batcher.close()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            limit_concurrency=limits.max_queue + limits.max_batch + 16,
                            timeout_keep_alive=5, timeout_graceful_shutdown=int(limits.shutdown_grace_s) or None)
    Server(config).run()
