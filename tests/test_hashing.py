"""Identity by content: every weight format, one helper (harness.hashing)."""

import os
from pathlib import Path

import pytest

from harness.candidate import Candidate, CandidateSpec
from harness.hashing import content_digest, file_digest
from harness.models.embedded import model_identity


def _adapter(folder: Path, weights_name: str, payload: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text('{"r": 8, "lora_alpha": 16}')
    (folder / weights_name).write_bytes(payload)
    return folder


def _fingerprint(tmp_path: Path, adapter: Path) -> str:
    spec = CandidateSpec(name="lora", model="smollm2-135m-instruct", adapter=str(adapter))
    return Candidate(spec, tmp_path).fingerprint()


@pytest.mark.parametrize("weights_name", ["adapter_model.bin", "adapter_model.pt", "adapter.gguf",
                                          "adapter_model.safetensors"])
def test_retraining_an_adapter_changes_the_fingerprint_whatever_the_format(tmp_path: Path, weights_name: str) -> None:
    adapter = _adapter(tmp_path / "adapter", weights_name, b"\x01" * 4096)
    before = _fingerprint(tmp_path, adapter)
    stat = (adapter / weights_name).stat()
    # Retrained: same size, same name, even the same mtime -- only the bytes differ.
    (adapter / weights_name).write_bytes(b"\x02" * 4096)
    os.utime(adapter / weights_name, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _fingerprint(tmp_path, adapter) != before


def test_identity_ignores_model_cards_and_checkpoints_but_not_weights(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path / "adapter", "adapter_model.bin", b"weights")
    first = content_digest(adapter)
    from harness.hashing import is_bookkeeping

    (adapter / "README.md").write_text("model card")
    (adapter / "checkpoint-10").mkdir()
    (adapter / "checkpoint-10" / "adapter_model.bin").write_bytes(b"old")
    assert content_digest(adapter, skip=is_bookkeeping) == content_digest(
        _adapter(tmp_path / "copy", "adapter_model.bin", b"weights"), skip=is_bookkeeping)
    assert content_digest(adapter) != first  # without the skip list every file counts


def test_merged_model_folder_identity_follows_its_bytes_not_its_path(tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    merged.mkdir()
    (merged / "config.json").write_text("{}")
    (merged / "pytorch_model.bin").write_bytes(b"a" * 100)
    (merged / "sub").mkdir()
    (merged / "sub" / "extra.pt").write_bytes(b"b" * 10)
    first = model_identity(str(merged))
    moved = tmp_path / "elsewhere"
    merged.rename(moved)
    assert model_identity(str(moved)) == first
    (moved / "sub" / "extra.pt").write_bytes(b"c" * 10)
    assert model_identity(str(moved)) != first


def test_single_gguf_file_has_a_content_identity(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    first = model_identity(str(gguf))
    assert first.startswith("path:") and first == model_identity(str(gguf))
    gguf.write_bytes(b"GGUF" + b"\1" * 64)
    assert model_identity(str(gguf)) != first


def test_file_digest_is_cached_per_process_but_sees_rewrites(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"one")
    first = file_digest(path)
    assert file_digest(path) == first
    path.write_bytes(b"two")
    assert file_digest(path) != first
