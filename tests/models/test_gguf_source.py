"""Finding a llamacpp candidate's GGUF: embedded name, path, and a (fabricated) local Ollama store."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.errors import ModelNotFoundError
from harness.models.embedded import gguf_path
from harness.models.gguf_source import manifest_path, ollama_blob, resolve_gguf


def _load_store_helper():
    """tests/models/ollama_store.py, loaded by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("ollama_store", Path(__file__).with_name("ollama_store.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_ollama_store = _load_store_helper().make_ollama_store


def test_tag_forms_map_to_ollama_manifest_paths(tmp_path: Path) -> None:
    assert manifest_path("smollm2:135m", tmp_path) == (
        tmp_path / "manifests/registry.ollama.ai/library/smollm2/135m")
    assert manifest_path("smollm2", tmp_path).name == "latest"
    assert manifest_path("team/care-bot:v3", tmp_path) == tmp_path / "manifests/registry.ollama.ai/team/care-bot/v3"
    assert manifest_path("hf.co/org/model:q4", tmp_path) == tmp_path / "manifests/hf.co/org/model/q4"
    with pytest.raises(ModelNotFoundError, match="not an Ollama model tag"):
        manifest_path("../../etc:passwd", tmp_path)


def test_ollama_tag_resolves_to_the_model_layer_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blob = make_ollama_store(tmp_path, "care-bot:v1", gguf_path())
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    assert ollama_blob("care-bot:v1") == blob
    explicit = resolve_gguf("ollama:care-bot:v1")
    assert explicit.path == blob and explicit.origin == "ollama:care-bot:v1"
    assert resolve_gguf("care-bot:v1").path == blob  # a bare tag found in the store


def test_missing_tag_and_missing_blob_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="no Ollama model 'nothere:1' in the local store"):
        resolve_gguf("ollama:nothere:1")
    with pytest.raises(ModelNotFoundError, match="not an embedded model, not a GGUF file"):
        resolve_gguf("nothere:1")
    blob = make_ollama_store(tmp_path, "gone:1", gguf_path())
    blob.unlink()
    with pytest.raises(ModelNotFoundError, match=r"model layer .* is missing"):
        resolve_gguf("ollama:gone:1")


def test_adapter_layer_is_refused(tmp_path: Path) -> None:
    adapter = {"mediaType": "application/vnd.ollama.image.adapter", "digest": "sha256:" + "2" * 64, "size": 1}
    make_ollama_store(tmp_path, "tuned:1", gguf_path(), extra_layers=[adapter])
    with pytest.raises(ModelNotFoundError, match="ADAPTER layer"):
        ollama_blob("tuned:1", tmp_path)


def test_embedded_name_and_relative_path(tmp_path: Path) -> None:
    assert resolve_gguf("smollm2-135m-instruct").path == gguf_path()
    (tmp_path / "m.gguf").symlink_to(gguf_path())
    assert resolve_gguf("m.gguf", base_dir=tmp_path).path == gguf_path().resolve()
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_gguf("other.gguf", base_dir=tmp_path)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 not gguf")
    with pytest.raises(ModelNotFoundError, match="not a GGUF file"):
        resolve_gguf(str(fake))
    with pytest.raises(ModelNotFoundError, match="is a folder"):
        resolve_gguf(str(tmp_path))
