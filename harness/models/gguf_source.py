"""Where a llamacpp candidate's GGUF file comes from: the embedded model, a path, or a local Ollama store.

A team whose production runtime is Ollama evaluates the exact bytes Ollama serves: ``ollama:TAG``
(or a bare tag that has a manifest in the local store) reads the tag's manifest under
``$OLLAMA_MODELS`` (default ``~/.ollama/models``), takes its model layer's digest and opens
``blobs/sha256-<hex>``; no server and no copy are needed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ModelNotFoundError
from harness.models.embedded import LLM_ALIASES, gguf_path

DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
MODEL_LAYER = "application/vnd.ollama.image.model"
ADAPTER_LAYER = "application/vnd.ollama.image.adapter"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GgufSource:
    """A resolved GGUF file and how it was named (``origin`` is shown in errors and reports)."""

    path: Path
    origin: str


def ollama_models_dir() -> Path:
    """Ollama's store: ``$OLLAMA_MODELS`` when set (as the Ollama server reads it), else ``~/.ollama/models``."""
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models").expanduser()


def manifest_path(tag: str, models_dir: Path | None = None) -> Path:
    """The manifest file for an Ollama tag: ``name``, ``name:tag``, ``user/name:tag`` or ``host/user/name:tag``."""
    name, _, version = tag.partition(":")
    if not name or "/" in version or ".." in tag.split("/"):
        raise ModelNotFoundError(f"{tag!r} is not an Ollama model tag (expected name:tag, e.g. smollm2:135m)")
    parts = name.split("/")
    if len(parts) == 1:
        parts = [DEFAULT_REGISTRY, DEFAULT_NAMESPACE, *parts]
    elif len(parts) == 2:
        parts = [DEFAULT_REGISTRY, *parts]
    elif len(parts) > 3:
        raise ModelNotFoundError(f"{tag!r} is not an Ollama model tag (at most host/namespace/name:tag)")
    return (models_dir or ollama_models_dir()) / "manifests" / Path(*parts) / (version or "latest")


def ollama_blob(tag: str, models_dir: Path | None = None) -> Path:
    """The GGUF blob behind an Ollama tag in the local store (no server needed)."""
    root = models_dir or ollama_models_dir()
    manifest_file = manifest_path(tag, root)
    if not manifest_file.is_file():
        raise ModelNotFoundError(
            f"no Ollama model {tag!r} in the local store ({manifest_file} does not exist)",
            hint="`ollama pull` it on this machine, or set OLLAMA_MODELS to the store that holds it",
        )
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        layers = manifest["layers"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(f"{manifest_file}: not an Ollama manifest ({type(exc).__name__}: {exc})") from None
    if any(isinstance(layer, dict) and layer.get("mediaType") == ADAPTER_LAYER for layer in layers):
        raise ModelNotFoundError(
            f"Ollama model {tag!r} has an ADAPTER layer; the llamacpp backend loads the base GGUF only",
            hint="evaluate it with backend: ollama, or export a merged GGUF and name its path",
        )
    digests = [layer.get("digest", "") for layer in layers if isinstance(layer, dict)
               and layer.get("mediaType") == MODEL_LAYER]
    if len(digests) != 1 or not digests[0].startswith("sha256:"):
        raise ModelNotFoundError(f"{manifest_file}: expected one model layer with a sha256 digest, found {digests}")
    blob = root / "blobs" / digests[0].replace(":", "-")
    if not blob.is_file():
        raise ModelNotFoundError(f"Ollama model {tag!r}: its model layer {blob} is missing from the store")
    return blob


def resolve_gguf(model: str, base_dir: Path | None = None) -> GgufSource:
    """The GGUF for ``model``: an embedded name, a ``.gguf`` path (relative to ``base_dir`` first),
    ``ollama:TAG``, or a bare tag found in the local Ollama store, in that order."""
    if model in LLM_ALIASES:
        return GgufSource(gguf_path(), f"embedded:{model}")
    if model.startswith("ollama:"):
        tag = model.removeprefix("ollama:")
        return GgufSource(_checked(ollama_blob(tag), model), f"ollama:{tag}")
    candidates = [Path(model).expanduser()]
    if base_dir is not None and not candidates[0].is_absolute():
        candidates.insert(0, base_dir / candidates[0])
    for path in candidates:
        if path.is_file():
            return GgufSource(_checked(path.resolve(), model), f"path:{path}")
        if path.is_dir():
            raise ModelNotFoundError(f"{path} is a folder; the llamacpp backend needs one .gguf file",
                                     hint="name the .gguf file itself, or use backend: transformers for a folder")
    if model.endswith(".gguf") or model.startswith(("/", ".", "~")):
        raise ModelNotFoundError(f"GGUF file {model!r} does not exist",
                                 hint="relative paths resolve against the config's folder, then the working directory")
    try:
        return GgufSource(_checked(ollama_blob(model), model), f"ollama:{model}")
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(
            f"model {model!r}: not an embedded model, not a GGUF file, and not in the local Ollama store ({exc})",
            hint="name a .gguf path, an embedded model (smollm2-135m-instruct) or ollama:TAG",
        ) from None


def _checked(path: Path, named: str) -> Path:
    """Refuse a file that is not GGUF before llama.cpp tries (its own error is a bare ValueError)."""
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ModelNotFoundError(f"{named!r} ({path}) is not a GGUF file (no GGUF header)",
                                     hint="the llamacpp backend loads GGUF; use backend: transformers for others")
    return path
