"""A Modelfile's FROM decides the base (or disagrees loudly); `model: ./x` is relative to the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.candidate import Candidate, CandidateSpec
from harness.errors import ConfigError


def _modelfile(folder: Path, base: str, name: str = "m.Modelfile") -> Path:
    path = folder / name
    path.write_text(f'FROM {base}\nSYSTEM "Be kind."\n')
    return path


def test_from_an_ollama_tag_runs_on_ollama_and_lineage_says_so(tmp_path: Path) -> None:
    _modelfile(tmp_path, "llama3.2:3b")
    candidate = Candidate(CandidateSpec(name="c", modelfile="m.Modelfile"), tmp_path)
    assert (candidate.spec.backend, candidate.spec.model) == ("ollama", "llama3.2:3b")
    assert candidate.lineage["generator_base"]["source"] == "modelfile FROM"
    assert candidate.backend.identity.endswith(":llama3.2:3b")


def test_from_a_local_folder_or_hub_id_runs_on_transformers(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    _modelfile(tmp_path, "./weights")
    local = Candidate(CandidateSpec(name="c", modelfile="m.Modelfile"), tmp_path)
    assert (local.spec.backend, local.spec.model) == ("transformers", str((tmp_path / "weights").resolve()))
    _modelfile(tmp_path, "Qwen/Qwen2.5-0.5B-Instruct", "hub.Modelfile")
    hub = Candidate(CandidateSpec(name="h", modelfile="hub.Modelfile"), tmp_path)
    assert (hub.spec.backend, hub.spec.model) == ("transformers", "Qwen/Qwen2.5-0.5B-Instruct")


def test_from_a_gguf_file_runs_on_llamacpp(tmp_path: Path) -> None:
    (tmp_path / "base.gguf").write_bytes(b"GGUF" + bytes(16))
    _modelfile(tmp_path, "./base.gguf")
    candidate = Candidate(CandidateSpec(name="c", modelfile="m.Modelfile"), tmp_path)
    assert (candidate.spec.backend, candidate.spec.model) == ("llamacpp", str((tmp_path / "base.gguf").resolve()))
    with pytest.raises(ConfigError, match="FROM names a llamacpp model"):
        Candidate(CandidateSpec(name="t", backend="transformers", modelfile="m.Modelfile"), tmp_path)


def test_llamacpp_runs_an_ollama_from_tag_from_the_local_store(tmp_path: Path) -> None:
    _modelfile(tmp_path, "llama3.2:3b")
    from_tag = Candidate(CandidateSpec(name="c", backend="llamacpp", modelfile="m.Modelfile"), tmp_path)
    assert (from_tag.spec.backend, from_tag.spec.model) == ("llamacpp", "llama3.2:3b")
    agree = Candidate(CandidateSpec(name="c", backend="llamacpp", model="ollama:llama3.2:3b",
                                    modelfile="m.Modelfile"), tmp_path)
    assert agree.spec.model == "ollama:llama3.2:3b"
    with pytest.raises(ConfigError, match=r"FROM 'llama3\.2:3b'"):
        Candidate(CandidateSpec(name="c", backend="llamacpp", model="mistral:7b", modelfile="m.Modelfile"), tmp_path)


def test_the_embedded_tag_keeps_the_embedded_model(tmp_path: Path) -> None:
    _modelfile(tmp_path, "smollm2:135m")
    plain = Candidate(CandidateSpec(name="p"), tmp_path)
    with_mf = Candidate(CandidateSpec(name="c", modelfile="m.Modelfile"), tmp_path)
    assert with_mf.spec.backend == "transformers" and with_mf.generator_fp() == plain.generator_fp()
    ollama = Candidate(CandidateSpec(name="o", backend="ollama", modelfile="m.Modelfile"), tmp_path)
    assert ollama.spec.model == "smollm2:135m"


def test_a_mismatch_with_the_candidates_model_is_an_error(tmp_path: Path) -> None:
    _modelfile(tmp_path, "llama3.2:3b")
    with pytest.raises(ConfigError, match=r"FROM 'llama3.2:3b' but the candidate runs transformers"):
        Candidate(CandidateSpec(name="c", backend="transformers", modelfile="m.Modelfile"), tmp_path)
    with pytest.raises(ConfigError, match=r"FROM 'llama3\.2:3b'"):
        Candidate(CandidateSpec(name="c", backend="ollama", model="mistral:7b", modelfile="m.Modelfile"), tmp_path)
    agree = Candidate(CandidateSpec(name="c", backend="ollama", model="llama3.2:3b", modelfile="m.Modelfile"),
                      tmp_path)
    assert agree.spec.model == "llama3.2:3b"


def test_from_an_ollama_tag_with_an_adapter_is_an_error(tmp_path: Path) -> None:
    _modelfile(tmp_path, "llama3.2:3b")
    with pytest.raises(ConfigError, match="adapter/train: runs on transformers"):
        Candidate(CandidateSpec(name="c", modelfile="m.Modelfile", train="t.yaml"), tmp_path)


def test_relative_model_path_resolves_against_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                tiny_gpt2_dir: Path) -> None:
    config_dir = tmp_path / "configs"
    config_dir.mkdir()
    (config_dir / "tiny").symlink_to(tiny_gpt2_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)  # elsewhere: "./tiny" must not be looked up here (or on the hub)
    candidate = Candidate(CandidateSpec(name="c", model="./tiny"), config_dir)
    assert candidate.spec.model == str((config_dir / "tiny").resolve())
    with pytest.raises(ConfigError, match=r"field 'model': folder './nope' not found .*config's folder"):
        Candidate(CandidateSpec(name="c", model="./nope"), config_dir)


@pytest.fixture()
def tiny_gpt2_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_chat_template_on_an_ollama_candidate_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'chat_template' applies to the transformers and llamacpp backends"):
        Candidate(CandidateSpec(name="c", backend="ollama", model="llama3.2:3b", chat_template="chatml"), tmp_path)
