"""A fabricated local Ollama store (manifest + blob) for the llamacpp backend's tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from harness.models.gguf_source import manifest_path


def make_ollama_store(root: Path, tag: str, gguf: Path, *, extra_layers: list[dict] | None = None) -> Path:
    """An Ollama store laid out as ``ollama pull`` leaves it: a manifest per tag, blobs named by digest.
    The blob is a symlink to ``gguf`` (its digest is the real file's), so nothing large is copied."""
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    blob = blobs / f"sha256-{digest}"
    if not blob.exists():
        blob.symlink_to(gguf)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "0" * 64},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
             "size": gguf.stat().st_size},
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "1" * 64, "size": 10},
            *(extra_layers or []),
        ],
    }
    path = manifest_path(tag, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return blob
