"""Ollama export: self-contained folder, Modelfile round-trip, scored prompt carried over; merge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.candidate import Candidate, CandidateSpec
from harness.errors import ConfigError, ModelNotFoundError
from harness.models.modelfile import CHATML_STOP, CHATML_TEMPLATE, load_modelfile, parse_modelfile
from harness.suite import load_suite
from harness.variants.export import SMOLLM2_DEFAULT_SYSTEM, export_candidate, export_ollama, merge_adapter

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LoRA adapter with non-zero B matrices, so merging visibly changes the model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.models.embedded import prepare_embedded_llm

    try:
        base = prepare_embedded_llm()
    except ModelNotFoundError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"],
                                                  layers_to_transform=[29], task_type="CAUSAL_LM"))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    folder = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(str(folder))
    return folder


def test_export_is_self_contained_and_round_trips(adapter: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    exported = export_ollama(adapter, out, system="Be kind.", params={"temperature": 0.0, "num_predict": 160})
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    assert (out / "adapter" / "adapter_config.json").exists()
    text = (out / "Modelfile").read_text()
    reparsed = parse_modelfile(text)
    assert reparsed == exported.modelfile == load_modelfile(out / "Modelfile")
    mf = exported.modelfile
    assert mf.from_ == "smollm2:135m" and mf.adapters == ["./adapter"]
    assert mf.template == CHATML_TEMPLATE and mf.system == "Be kind."
    assert mf.param("num_predict") == 160 and mf.param("temperature") == 0.0
    assert mf.stop == list(CHATML_STOP)
    absolute = exported.for_create()
    assert Path(absolute.adapters[0]) == (out / "adapter").resolve()


def test_export_always_writes_a_system_prompt(adapter: Path, tmp_path: Path) -> None:
    mf = export_ollama(adapter, tmp_path / "e").modelfile
    assert mf.system == SMOLLM2_DEFAULT_SYSTEM  # what SmolLM2's HF template would have inserted


def test_export_candidate_carries_the_scored_prompt(adapter: Path, tmp_path: Path) -> None:
    suite = load_suite("therapy", "v1")
    spec = CandidateSpec(name="tuned", params={"repetition_penalty": 1.1})
    candidate = Candidate(spec, tmp_path, adapter_path=str(adapter))
    mf = export_candidate(candidate, suite, tmp_path / "e").modelfile
    setup = candidate.prompt_setup(suite)
    assert setup.system and mf.system == setup.system.strip() == suite.spec.prompt.system.strip()
    assert mf.param("num_predict") == setup.params.max_new_tokens == suite.spec.generation.max_new_tokens
    assert mf.param("repeat_penalty") == pytest.approx(1.1)
    with pytest.raises(ConfigError, match="no adapter"):
        export_candidate(Candidate(CandidateSpec(name="plain"), tmp_path), suite, tmp_path / "x")


def test_export_rejects_a_folder_without_adapter(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a LoRA adapter folder"):
        export_ollama(tmp_path, tmp_path / "out")


def test_merged_model_matches_adapter_outputs(adapter: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from harness.models.embedded import prepare_embedded_llm

    merged_dir = merge_adapter(adapter, tmp_path / "merged", "smollm2-135m-instruct")
    assert (merged_dir / "model.safetensors").exists() and (merged_dir / "tokenizer.json").exists()
    ids = torch.tensor([[1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173]])
    base = AutoModelForCausalLM.from_pretrained(str(prepare_embedded_llm()), dtype=torch.float32)
    with torch.no_grad():
        plain = base(ids).logits
        with_adapter = PeftModel.from_pretrained(base, str(adapter))(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32)(ids).logits
    assert not torch.allclose(plain, with_adapter, atol=1e-3)  # the adapter matters
    assert torch.allclose(merged, with_adapter, atol=1e-4)


def test_merged_export_points_from_at_the_merged_folder(adapter: Path, tmp_path: Path) -> None:
    exported = export_ollama(adapter, tmp_path / "e", merged=True, base_model="smollm2-135m-instruct")
    assert exported.modelfile.from_ == "./model" and exported.modelfile.adapters == []
    assert (tmp_path / "e" / "model" / "model.safetensors").exists()
    assert parse_modelfile((tmp_path / "e" / "Modelfile").read_text()) == exported.modelfile


def test_ollama_create_from_export(adapter: Path, tmp_path: Path) -> None:
    from harness.models.ollama_backend import create_from_modelfile, is_reachable

    if not is_reachable():
        pytest.skip("no Ollama server reachable")
    exported = export_ollama(adapter, tmp_path / "e")
    create_from_modelfile("harness-test-lora-export", exported.for_create())


def test_cli_export_lists_what_it_wrote(adapter: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    config = tmp_path / "exp.yaml"
    config.write_text(
        "name: export-check\nsuites:\n  - suite: therapy/v1\ncandidates:\n"
        f"  - name: tuned\n    model: smollm2-135m-instruct\n    adapter: {adapter}\n"
    )
    out = tmp_path / "ollama"
    result = CliRunner().invoke(
        app, ["export", str(config), "--candidate", "tuned", "--suite", "therapy/v1", "--out", str(out),
              "--store", str(tmp_path / "store.sqlite")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Modelfile: {out / 'Modelfile'}" in result.output
    assert "adapter/adapter_model.safetensors" in result.output and "OllamaExport(" not in result.output


def test_export_for_a_candidate_without_suite_data_carries_its_modelfile_prompt(adapter: Path,
                                                                                tmp_path: Path) -> None:
    """The exported SYSTEM is the prompt the candidate is scored with, not the model's default."""
    from harness.variants.config import TrainingConfig
    from harness.variants.export import export_for_spec
    from harness.variants.lora import TrainedAdapter

    (tmp_path / "c.Modelfile").write_text('FROM smollm2:135m\nSYSTEM "You are a calm companion."\n'
                                          "PARAMETER num_predict 77\n")
    (tmp_path / "d.json").write_text('[{"prompt": "a b c d", "response": "e"}]')
    config = TrainingConfig.model_validate({
        "name": "x", "datasets": {"d": {"kind": "chat", "path": "d.json"}}, "export": {"ollama": True},
        "stages": [{"type": "sft", "phases": [{"name": "p", "datasets": {"d": 1.0}, "max_steps": 1}]}]})
    trained = TrainedAdapter(str(adapter), "fp", str(tmp_path / "run"), {})
    spec = CandidateSpec(name="c", modelfile="c.Modelfile", train="t.yaml")
    candidate = Candidate(spec, tmp_path, adapter_path=trained.adapter_path, lineage=trained.lineage)
    mf = export_for_spec(candidate, trained, config).modelfile
    assert mf.system == "You are a calm companion." and mf.param("num_predict") == 77


def test_models_create_resolves_paths_from_any_folder_and_explains_a_missing_server(adapter: Path,
                                                                                    tmp_path: Path) -> None:
    import subprocess
    import sys

    exported = export_ollama(adapter, tmp_path / "export", system="Be kind.")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [sys.executable, "-c", "from harness.cli import main; main()", "models", "create", "tuned",
               "--modelfile", str(exported.modelfile_path)]
    env = {**os.environ, "OLLAMA_HOST": "http://127.0.0.1:9", "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Ollama server at http://127.0.0.1:9 is unreachable" in done.stderr  # ./adapter was found
    (tmp_path / "export" / "adapter" / "adapter_model.safetensors").unlink()
    (tmp_path / "export" / "adapter" / "adapter_config.json").unlink()
    (tmp_path / "export" / "adapter").rmdir()
    done = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ADAPTER" in done.stderr and "does not exist" in done.stderr
