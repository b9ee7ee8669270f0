"""The backend registry: one lookup (``build_backend``) for candidates and the LLM judge.

Backends register a lazy factory under a name (``@register_backend("ollama")``); the factory
imports its client library only when called, so listing or validating names stays cheap. Third
parties register through the ``harness.backends`` entry point group or a config's ``plugins:``
list (see ``harness.plugins``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.models.base import Backend
from harness.models.batch_budget import DEFAULT_BATCH_SIZE
from harness.models.embedded import EMBEDDED_LLM


@dataclass(frozen=True)
class BackendSettings:
    """What a candidate (or judge) spec says about its backend; each factory reads the fields it needs."""

    model: str = EMBEDDED_LLM
    name: str = "candidate"  # for error messages
    adapter: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    dtype: str = "float32"
    chat_template: str | None = None
    host: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int = 4
    max_connections: int | None = None
    max_retries: int = 4
    n_threads: int | None = None  # llamacpp; None picks the idle cores
    base_dir: Path | None = None  # where relative model paths (a .gguf next to the config) are resolved


BackendFactory = Callable[[BackendSettings], Backend]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Decorator for a factory ``settings -> Backend``; import heavy libraries inside it."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"backend {name!r} registered twice")
        _FACTORIES[name] = factory
        return factory

    return decorate


def backend_names() -> list[str]:
    from harness.plugins import load_entry_points

    load_entry_points("harness.backends")
    return sorted(_FACTORIES)


def build_backend(name: str, settings: BackendSettings) -> Backend:
    """The named backend built from ``settings``; unknown names are ConfigErrors listing the known ones."""
    known = backend_names()
    if name not in known:
        raise ConfigError(f"candidate {settings.name!r}: unknown backend {name!r} (known: {', '.join(known)})")
    if settings.dtype != "float32" and name != "transformers":
        raise ConfigError(f"candidate {settings.name!r}: field 'dtype' applies to backend 'transformers' only")
    return _FACTORIES[name](settings)


@register_backend("transformers")
def _transformers(settings: BackendSettings) -> Backend:
    from harness.models.transformers_backend import TransformersBackend

    return TransformersBackend(settings.model, adapter=settings.adapter, batch_size=settings.batch_size,
                               dtype=settings.dtype, chat_template=settings.chat_template)


@register_backend("ollama")
def _ollama(settings: BackendSettings) -> Backend:
    from harness.models.ollama_backend import OllamaBackend

    return OllamaBackend(settings.model, host=settings.host, concurrency=settings.concurrency)


@register_backend("openai")
def _openai(settings: BackendSettings) -> Backend:
    from harness.models.openai_backend import OpenAIBackend

    if not settings.base_url:
        raise ConfigError(f"candidate {settings.name!r}: backend 'openai' needs field 'base_url'")
    return OpenAIBackend(settings.model, base_url=settings.base_url, api_key_env=settings.api_key_env,
                         concurrency=settings.concurrency, max_connections=settings.max_connections,
                         max_retries=settings.max_retries)


@register_backend("llamacpp")
def _llamacpp(settings: BackendSettings) -> Backend:
    if settings.adapter:
        raise ConfigError(f"candidate {settings.name!r}: backend 'llamacpp' loads one GGUF file and applies no "
                          "adapter (field 'adapter' / 'train')",
                          hint="use backend: transformers for a LoRA adapter, or export a merged GGUF")
    from harness.models.llamacpp_backend import LlamaCppBackend

    return LlamaCppBackend(settings.model, chat_template=settings.chat_template, n_threads=settings.n_threads,
                           base_dir=settings.base_dir,
                           where=f"candidate {settings.name!r}: field 'backend: llamacpp'")
