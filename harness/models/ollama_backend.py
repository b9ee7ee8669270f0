"""Ollama backend: chat with options, create a model from a Modelfile, list models.

Uses the official ``ollama`` client. An unreachable server is a BackendUnavailableError that
names the host, never a connection traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.errors import BackendUnavailableError, ModelNotFoundError
from harness.models.base import ChatRequest, GenerationParams, GenerationResult, truncate_at_stop

DEFAULT_HOST = "http://127.0.0.1:11434"


def default_host() -> str:
    return os.environ.get("OLLAMA_HOST", DEFAULT_HOST)


def _client(host: str | None, timeout: float | None = None) -> Any:
    import ollama

    return ollama.Client(host=host or default_host(), timeout=timeout)


def is_reachable(host: str | None = None, timeout: float = 2.0) -> bool:
    try:
        _client(host, timeout).list()
    except Exception:
        return False
    return True


def _unavailable(host: str | None, exc: Exception) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"Ollama server at {host or default_host()} is unreachable ({type(exc).__name__}: {exc})",
        hint="start it with `ollama serve`, or set OLLAMA_HOST / the candidate's `host:` field",
    )


def params_to_options(params: GenerationParams) -> dict[str, Any]:
    options: dict[str, Any] = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "num_predict": params.max_new_tokens,
        "repeat_penalty": params.repetition_penalty,
        "seed": params.seed,
    }
    if params.top_k:
        options["top_k"] = params.top_k
    if params.min_p is not None:
        options["min_p"] = params.min_p
    if params.stop:
        options["stop"] = list(params.stop)
    return options


class OllamaBackend:
    """Generate through an Ollama server. A model created from a Modelfile keeps its SYSTEM:
    set ``keep_model_system`` and the harness sends only the conversation turns."""

    def __init__(self, model: str, *, host: str | None = None, concurrency: int = 2,
                 keep_model_system: bool = False) -> None:
        self.model = model
        self.host = host or default_host()
        self.concurrency = max(1, concurrency)
        self.keep_model_system = keep_model_system
        self.identity = f"ollama:{self.host}:{model}"

    def list_models(self) -> list[str]:
        try:
            response = _client(self.host).list()
        except Exception as exc:
            raise _unavailable(self.host, exc) from None
        return [m.model for m in response.models]

    def ensure_model(self) -> None:
        names = self.list_models()
        if self.model not in names and f"{self.model}:latest" not in names:
            raise ModelNotFoundError(
                f"Ollama at {self.host} has no model {self.model!r} (has: {', '.join(names) or 'none'})",
                hint=f"ollama pull {self.model}, or create it from a Modelfile with `harness models create`",
            )

    def _one(self, request: ChatRequest) -> GenerationResult:
        import ollama

        messages = list(request.messages)
        if self.keep_model_system:
            messages = [m for m in messages if m["role"] != "system"]
        try:
            response = _client(self.host).chat(
                model=self.model, messages=messages, options=params_to_options(request.params)
            )
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelNotFoundError(f"Ollama at {self.host}: model {self.model!r} not found") from None
            raise BackendUnavailableError(f"Ollama at {self.host} answered an error: {exc.error}") from None
        except (ConnectionError, OSError) as exc:
            raise _unavailable(self.host, exc) from None
        except Exception as exc:  # httpx errors differ by version
            if "connect" in type(exc).__name__.lower() or "connect" in str(exc).lower():
                raise _unavailable(self.host, exc) from None
            raise
        text, _ = truncate_at_stop(response.message.content or "", request.params.stop)
        return GenerationResult(
            text=text.strip(),
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
            finish_reason=response.done_reason,
        )

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, requests))


def create_from_modelfile(name: str, modelfile: Any, *, host: str | None = None) -> None:
    """``ollama create`` from a parsed Modelfile (harness.models.modelfile.Modelfile).

    Local ADAPTER / FROM paths must be absolute (``absolute_paths``) and exist; they are checked
    before the server is asked, and an unreachable server is a clear error, not a ConnectionError.
    """
    from pathlib import Path

    for adapter in modelfile.adapters:
        if not Path(adapter).exists():
            raise ModelNotFoundError(f"{modelfile.source}: ADAPTER {adapter} does not exist",
                                     hint="relative ADAPTER paths resolve against the Modelfile's folder")
    from_path = Path(modelfile.from_).expanduser()
    if modelfile.from_.startswith(("./", "../", "/", "~")) and not from_path.exists():
        raise ModelNotFoundError(f"{modelfile.source}: FROM {modelfile.from_} does not exist")
    client = _client(host)
    try:
        client.list()
    except Exception as exc:
        raise _unavailable(host, exc) from None
    kwargs: dict[str, Any] = {"model": name, "from_": modelfile.from_}
    if from_path.is_dir():  # merged weights: upload the folder's files instead of naming a path
        del kwargs["from_"]
        kwargs["files"] = {f.name: client.create_blob(f) for f in sorted(from_path.iterdir())
                           if f.is_file() and f.suffix in {".safetensors", ".json", ".model", ".txt"}}
    if modelfile.system:
        kwargs["system"] = modelfile.system
    if modelfile.template:
        kwargs["template"] = modelfile.template
    options = modelfile.ollama_options()
    if options:
        kwargs["parameters"] = options
    prefix = [m for m in modelfile.chat_prefix() if m["role"] != "system"]
    if prefix:
        kwargs["messages"] = prefix
    if modelfile.license:
        kwargs["license"] = list(modelfile.license)
    if modelfile.adapters:
        kwargs["adapters"] = {}
        for adapter in modelfile.adapters:
            kwargs["adapters"].update(_upload_adapter(client, str(adapter)))
    try:
        client.create(**kwargs)
    except Exception as exc:
        if "connect" in str(exc).lower():
            raise _unavailable(host, exc) from None
        raise BackendUnavailableError(f"Ollama create {name!r} failed: {exc}") from None


def _upload_adapter(client: Any, path: str) -> dict[str, str]:
    """Upload an adapter (a safetensors file, or a peft folder) as blobs: {file name: digest},
    the map Ollama's create API expects (a peft folder needs its config beside the weights)."""
    from pathlib import Path

    source = Path(path)
    if source.is_dir():
        files = sorted(source.glob("*.safetensors")) + sorted(source.glob("adapter_config.json"))
        if not any(f.suffix == ".safetensors" for f in files):
            raise ModelNotFoundError(f"adapter directory {path} holds no .safetensors file")
    elif source.is_file():
        files = [source]
    else:
        raise ModelNotFoundError(f"adapter {path} does not exist")
    return {file.name: client.create_blob(file) for file in files}
