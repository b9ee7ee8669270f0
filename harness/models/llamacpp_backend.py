"""Generation with llama.cpp (llama-cpp-python) straight from a GGUF file: no conversion, load in ~0.3 s.

Where it wins (bench/bench_llamacpp.py): one prompt at a time -- the playground, ``harness ask``,
interactive work -- and teams whose production runtime is Ollama, which runs the same llama.cpp on the
same GGUF bytes. For many prompts at once the transformers backend's batched decode is faster; this
backend decodes requests one after another (reusing the KV cache of a shared prompt prefix). Threads default
to the cores other work leaves idle (``default_threads``): llama.cpp's spinning threads collapse when
oversubscribed. The thread count is not in the identity: 1 and 2 threads gave identical greedy text here.

The prompt is rendered here from the candidate's ``chat_template`` or the GGUF's own
``tokenizer.chat_template`` with the same Jinja settings as transformers, tokenized with the GGUF's
vocabulary and decoded greedily (temperature 0) or sampled with the request's seed. The identity holds
the GGUF's content hash, the context size, the template and the llama-cpp-python version, so its
outputs are cached apart from the transformers backend's (quantised weights give different text).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from harness.errors import BackendUnavailableError, ModelNotFoundError
from harness.hashing import file_digest
from harness.models.base import ChatRequest, GenerationParams, GenerationResult, truncate_at_stop
from harness.models.chat_templates import (
    DEFAULT_FOR_TEMPLATELESS,
    resolve_chat_template,
    stop_strings,
    template_identity,
    templateless_message,
)
from harness.models.gguf_source import resolve_gguf
from harness.models.template_render import render_chat

logger = logging.getLogger(__name__)

DEFAULT_N_CTX = 4096  # tokens of prompt + answer; discharge prompts are ~800
DEFAULT_N_BATCH = 512  # prompt tokens per llama_decode call
INSTALL_HINT = ("install with pip install 'harness-clinical[llamacpp]' or scripts/build_llamacpp.sh "
                "(a portable wheel, cached); see README 'The llamacpp backend'")

_LOADED: dict[tuple[str, int, int, int], tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def import_llama_cpp(where: str = "backend: llamacpp") -> Any:
    """The llama_cpp module, or an error that says how to install it and which setting asked for it."""
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendUnavailableError(f"{where} needs llama-cpp-python, which is not installed ({exc})",
                                      hint=INSTALL_HINT) from None
    except (OSError, RuntimeError) as exc:  # installed, but its shared library does not load here
        raise BackendUnavailableError(f"{where}: llama-cpp-python is installed but does not load ({exc})",
                                      hint=INSTALL_HINT) from None
    return llama_cpp


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask, capped by a cgroup CPU quota (CI containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def default_threads() -> int:
    """``HARNESS_LLAMACPP_THREADS`` when set, else the available cores that other work leaves idle (1-minute load
    average), at least 1. llama.cpp's threads wait for each other by spinning: on 2 cores at load 13.5 one thread
    decoded 17.3 tok/s and two 0.4 tok/s (bench_llamacpp.py --thread-sweep), so a busy runner gets one thread."""
    value = os.environ.get("HARNESS_LLAMACPP_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise BackendUnavailableError(f"HARNESS_LLAMACPP_THREADS={value!r} is not a whole number") from None
    cores = available_cores()
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, round(cores - busy)))


def _close_loaded() -> None:
    """Free the memoised models before interpreter shutdown: llama-cpp-python's own ``__del__`` runs after its
    C library handles are gone and prints a TypeError traceback per model."""
    with _LOAD_LOCK:
        for llm, _lock in _LOADED.values():
            try:
                llm.close()
            except Exception:
                pass
        _LOADED.clear()


atexit.register(_close_loaded)


def load_llama(path: Path, *, n_ctx: int, n_threads: int, n_batch: int) -> tuple[Any, threading.Lock]:
    """Load (and memoise) a GGUF; the lock serialises use (a llama.cpp context is not thread-safe)."""
    key = (str(path), n_ctx, n_threads, n_batch)
    with _LOAD_LOCK:
        if key not in _LOADED:
            llama_cpp = import_llama_cpp()
            try:
                llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                      n_threads_batch=n_threads, n_batch=n_batch, seed=0, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ModelNotFoundError(f"llama.cpp cannot load {path}: {exc}") from None
            _LOADED[key] = (llm, threading.Lock())
        return _LOADED[key]


class LlamaCppBackend:
    """Generate with llama.cpp from a GGUF: ``model`` is an embedded name, a .gguf path, or an Ollama tag."""

    def __init__(self, model: str, *, chat_template: str | None = None, n_ctx: int = DEFAULT_N_CTX,
                 n_threads: int | None = None, n_batch: int = DEFAULT_N_BATCH, base_dir: Path | None = None,
                 where: str = "backend: llamacpp") -> None:
        """``chat_template``: a built-in name or Jinja text; None uses the GGUF's own template (and the
        built-in 'plain' one, with a notice, for a GGUF without one). ``where`` names the setting in errors."""
        llama_cpp = import_llama_cpp(where)
        self.source = resolve_gguf(model, base_dir)
        self.model_name = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.n_batch = n_batch
        self.template_name = chat_template
        self.chat_template = resolve_chat_template(chat_template) if chat_template else None
        self.gguf_sha256 = file_digest(self.source.path)
        # n_threads is left out: it changes speed, not text (llama.cpp splits rows, not reductions).
        self.identity = (f"llamacpp:gguf={self.gguf_sha256[:16]}:ctx={n_ctx}:batch={n_batch}"
                         f":llama-cpp-python={llama_cpp.__version__}")
        if self.chat_template is not None:
            self.identity += f":template={template_identity(self.chat_template)}"
        self.notices: list[str] = []
        self._template: str | None = None

    # ---- model and prompt -------------------------------------------------------------------------
    def _llama(self) -> tuple[Any, threading.Lock]:
        return load_llama(self.source.path, n_ctx=self.n_ctx, n_threads=self.n_threads, n_batch=self.n_batch)

    def template(self) -> str:
        """The template in use: the candidate's, else the GGUF's ``tokenizer.chat_template``, else 'plain'."""
        if self._template is None:
            llm, _ = self._llama()
            embedded = llm.metadata.get("tokenizer.chat_template")
            if self.chat_template is not None:
                self._template = self.chat_template
            elif embedded:
                self._template = embedded
            else:
                self.notices.append(templateless_message(self.model_name))
                logger.warning(self.notices[-1])
                self.template_name = DEFAULT_FOR_TEMPLATELESS
                self._template = resolve_chat_template(DEFAULT_FOR_TEMPLATELESS)
        return self._template

    def render(self, messages: list[dict[str, str]]) -> str:
        llm, _ = self._llama()
        return render_chat(self.template(), messages, bos_token=_token_text(llm, llm.token_bos()),
                           eos_token=_token_text(llm, llm.token_eos()))

    def prompt_tokens(self, messages: list[dict[str, str]], max_new_tokens: int) -> list[int]:
        """The rendered prompt's tokens; a prompt too long for the context keeps its end (where the question is)."""
        llm, _ = self._llama()
        tokens = llm.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True)
        room = max(1, min(self.n_ctx, llm.n_ctx(), _trained_context(llm) or self.n_ctx) - max_new_tokens)
        return tokens[-room:]

    def _stops(self, params: GenerationParams) -> list[str]:
        return [s for s in (*params.stop, *stop_strings(self.template_name)) if s]

    def _completion_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        """llama-cpp-python's defaults (top_k 40, min_p 0.05) are switched off unless the request sets them."""
        return {"max_tokens": params.max_new_tokens, "temperature": params.temperature, "top_p": params.top_p,
                "top_k": params.top_k or 0, "min_p": params.min_p or 0.0, "typical_p": 1.0,
                "repeat_penalty": params.repetition_penalty, "seed": params.seed, "stop": self._stops(params)}

    # ---- generation ---------------------------------------------------------------------------------
    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        """One request after another, in the order of their prompt tokens: requests that share a prefix (one
        discharge summary, many questions) run back to back and llama.cpp keeps that prefix's KV cache instead
        of computing it again (bench_llamacpp.py: 4 questions over one 544-token summary 2.4x faster, same text)."""
        prompts = [self.prompt_tokens(list(r.messages), r.params.max_new_tokens) for r in requests]
        results: list[GenerationResult | None] = [None] * len(requests)
        for index in sorted(range(len(requests)), key=lambda i: prompts[i]):
            results[index] = self._one(requests[index], prompts[index])
        return [r for r in results if r is not None]

    def _one(self, request: ChatRequest, tokens: list[int]) -> GenerationResult:
        llm, lock = self._llama()
        with lock:
            response = llm.create_completion(tokens, **self._completion_kwargs(request.params))
        choice = response["choices"][0]
        text, _ = truncate_at_stop(choice["text"], self._stops(request.params))
        return GenerationResult(text=text.strip(), prompt_tokens=len(tokens),
                                completion_tokens=response["usage"]["completion_tokens"],
                                finish_reason=choice.get("finish_reason") or "length",
                                meta={"gguf": self.source.origin})

    def stream(self, request: ChatRequest) -> Iterator[str]:
        """Text pieces as they are decoded (for a playground); stop strings are held back, never shown.
        The model is locked until the iterator is exhausted or closed."""
        llm, lock = self._llama()
        tokens = self.prompt_tokens(list(request.messages), request.params.max_new_tokens)
        with lock:
            chunks = llm.create_completion(tokens, stream=True, **self._completion_kwargs(request.params))
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["text"]
                    if piece:
                        yield piece
            finally:
                chunks.close()


def _token_text(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return llm.detokenize([token], special=True).decode("utf-8", errors="replace")


def _trained_context(llm: Any) -> int | None:
    """The context length the model was trained with (GGUF ``<arch>.context_length``); beyond it text degrades."""
    value = llm.metadata.get(f"{llm.metadata.get('general.architecture', '')}.context_length")
    return int(value) if value and str(value).isdigit() else None
