"""LoRA SFT: config errors with lines, a tiny training with stored loss log, reuse, resume, QLoRA on CPU."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, ModelNotFoundError
from harness.models.modelfile import load_modelfile
from harness.store import Store
from harness.variants import TrainingSkipped, load_training_config, train_from_config
from harness.variants.config import TrainingConfig

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "variants"

TINY = f"""\
name: tiny-sft
seed: 1
datasets:
  chats:
    kind: chat_jsonl
    path: {FIXTURES / "chat.jsonl"}
  prompts:
    kind: prompt_response_jsonl
    path: {FIXTURES / "prompt_response.jsonl"}
lora:
  r: 2
  alpha: 4
  dropout: 0.0
  target_modules: [q_proj, v_proj]
  layers_to_transform: [28, 29]
training:
  max_length: 64
  per_device_train_batch_size: 2
  eval_fraction: 0.25
  max_eval_examples: 2
  save_steps: 2
stages:
  - type: sft
    phases:
      - name: only
        datasets: {{chats: 0.5, prompts: 0.5}}
        max_steps: 3
        learning_rate: 1.0e-3
"""


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- config errors


def test_shipped_configs_load() -> None:
    for path in sorted((REPO / "configs" / "training").glob("*.yaml")):
        if path.name.startswith("embedding"):
            continue  # a different trainer's config (harness.variants.embedding)
        config = load_training_config(path)
        assert config.stages and config.datasets


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("        learning_rate: 1.0e-3", "        learnin_rate: 1.0e-3"))
    with pytest.raises(ConfigError) as info:
        load_training_config(path)
    message = str(info.value)
    line = TINY.splitlines().index("        learning_rate: 1.0e-3") + 1
    assert f"{path}:{line}:" in message and "learnin_rate" in message


def test_unknown_dataset_reference_points_at_its_line(tmp_path: Path) -> None:
    text = TINY.replace("{chats: 0.5, prompts: 0.5}", "{chats: 0.5, prompt: 0.5}")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_training_config(path)
    line = text.splitlines().index("        datasets: {chats: 0.5, prompt: 0.5}") + 1
    assert f"{path}:{line}:" in str(info.value) and "unknown dataset 'prompt'" in str(info.value)


def test_ratios_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("{chats: 0.5, prompts: 0.5}", "{chats: 0.5, prompts: 0.6}"))
    with pytest.raises(ConfigError, match="sum to 1"):
        load_training_config(path)


def test_bad_dataset_kind_and_stage_type_are_explained(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("kind: chat_jsonl", "kind: chat_json"))
    with pytest.raises(ConfigError, match=r"cfg\.yaml:5: field 'datasets\.chats\.kind'"):
        load_training_config(path)
    dpo_on_chat = TINY.replace("stages:\n", "stages:\n  - type: dpo\n    dataset: chats\n    max_steps: 1\n")
    with pytest.raises(ConfigError, match="needs one of preference, preference_jsonl"):
        load_training_config(write(tmp_path, dpo_on_chat, "b.yaml"))


def test_phase_needs_exactly_one_length(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("        max_steps: 3\n", "        max_steps: 3\n        epochs: 1\n"))
    with pytest.raises(ConfigError, match="exactly one of 'max_steps' or 'epochs'"):
        load_training_config(path)


def test_qlora_without_cuda_is_refused_or_skipped(tmp_path: Path) -> None:
    from harness.variants.lora import cuda_available

    if cuda_available():
        pytest.skip("a CUDA device is present; this test covers CPU-only machines")
    path = write(tmp_path, TINY + "quantization: 4bit\n")
    with pytest.raises(ConfigError, match="needs a CUDA GPU"):
        train_from_config(path)
    with pytest.raises(TrainingSkipped, match="skip_if_no_cuda"):
        train_from_config(write(tmp_path, TINY + "quantization: 4bit\nskip_if_no_cuda: true\n", "s.yaml"))


def test_fingerprint_follows_data_and_config(tmp_path: Path) -> None:
    from harness.variants.data import build_datasets
    from harness.variants.lora import training_fingerprint

    config = load_training_config(write(tmp_path, TINY))
    built = build_datasets(config, tmp_path)
    base = training_fingerprint(config, "model-a", built)
    assert base == training_fingerprint(config, "model-a", built)
    assert base != training_fingerprint(config, "model-b", built)
    other = TrainingConfig.model_validate({**config.model_dump(), "seed": 2})
    assert base != training_fingerprint(other, "model-a", built)
    quieter = TrainingConfig.model_validate({**config.model_dump(),
                                             "training": {**config.training.model_dump(), "logging_steps": 5}})
    assert base == training_fingerprint(quieter, "model-a", built)  # logging does not change weights
    built["chats"].records = built["chats"].records[1:]
    assert base != training_fingerprint(config, "model-a", built)


# ----------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty HARNESS_HOME that reuses the already prepared embedded model."""
    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm

    try:
        prepared = prepare_embedded_llm()
    except ModelNotFoundError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")
    root = tmp_path_factory.mktemp("harness-home")
    (root / "models").mkdir()
    (root / "models" / EMBEDDED_LLM).symlink_to(prepared, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_HOME", str(root))
        yield root


@pytest.fixture(scope="module")
def tiny_run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tiny")
    path = write(folder, TINY)
    store = Store(folder / "store.sqlite")
    messages: list[str] = []
    trained = train_from_config(path, store=store, log=messages.append)
    return {"trained": trained, "store": store, "path": path, "messages": messages}


def test_tiny_sft_saves_adapter_and_lineage(tiny_run: dict[str, Any], home: Path) -> None:
    trained = tiny_run["trained"]
    adapter = Path(trained.adapter_path)
    assert (adapter / "adapter_model.safetensors").exists() and (adapter / "adapter_config.json").exists()
    assert Path(trained.output_dir) == home / "adapters" / trained.fingerprint
    assert (Path(trained.output_dir) / "COMPLETE").exists()
    lineage = trained.lineage
    assert lineage["base_identity"].startswith("embedded:smollm2-135m-instruct")
    assert set(lineage["datasets"]) == {"chats", "prompts"} and all(len(d["hash"]) == 64
                                                                    for d in lineage["datasets"].values())
    assert {"trl", "peft", "transformers"} <= set(lineage["versions"])
    unit = lineage["metrics"]["units"][0]
    assert unit["steps"] == 3 and unit["mixture"] == {"chats": 3, "prompts": 3}
    assert unit["loss_mask"] == "assistant_only" and unit["tokens_per_second"] > 0
    assert not (Path(trained.output_dir) / "stages" / "0-sft" / "0-only" / "checkpoints").exists()


def test_loss_history_is_stored_for_curves(tiny_run: dict[str, Any]) -> None:
    trained, store = tiny_run["trained"], tiny_run["store"]
    record = store.training_run(trained.fingerprint)
    assert record is not None and record["status"] == "finished" and record["kind"] == "lora"
    train_rows = [r for r in record["log"] if r["loss"] is not None]
    assert [r["step"] for r in train_rows] == [1, 2, 3]
    assert all(r["phase"] == "only" and r["learning_rate"] is not None and r["epoch"] for r in train_rows)
    assert any(r["eval_loss"] is not None for r in record["log"])
    on_disk = json.loads((Path(trained.output_dir) / "training_log.json").read_text())
    assert on_disk == record["log"]


def test_identical_training_is_reused(tiny_run: dict[str, Any]) -> None:
    again = train_from_config(tiny_run["path"], store=tiny_run["store"], log=lambda _m: None)
    assert again.reused and again.fingerprint == tiny_run["trained"].fingerprint
    assert again.adapter_path == tiny_run["trained"].adapter_path


def test_trained_adapter_changes_the_model(tiny_run: dict[str, Any]) -> None:
    from safetensors.torch import load_file

    weights = load_file(str(Path(tiny_run["trained"].adapter_path) / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and any(float(t.abs().max()) > 0 for t in lora_b)  # B starts at zero; training moved it
    assert all(".28." in name or ".29." in name for name in weights)  # only the chosen layers


class _Interrupt(Exception):
    pass


def test_interrupted_training_resumes_from_its_checkpoint(home: Path, tmp_path: Path) -> None:
    from transformers import TrainerCallback

    class CrashAfterSave(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 2:
                raise _Interrupt("simulated crash after the step-2 checkpoint")

    class CountSteps(TrainerCallback):
        steps = 0

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            CountSteps.steps += 1

    path = write(tmp_path, TINY.replace("max_steps: 3", "max_steps: 4").replace("seed: 1", "seed: 7"))
    store = Store(tmp_path / "store.sqlite")
    with pytest.raises(_Interrupt):
        train_from_config(path, store=store, callbacks=[CrashAfterSave()], log=lambda _m: None)
    from harness.models.embedded import model_identity
    from harness.variants.data import build_datasets
    from harness.variants.lora import effective_config, training_fingerprint

    config = effective_config(load_training_config(path), "smollm2-135m-instruct", tmp_path, lambda _m: None)
    fp = training_fingerprint(config, model_identity("smollm2-135m-instruct"), build_datasets(config, tmp_path))
    assert store.training_run(fp)["status"] == "failed"
    checkpoints = home / "adapters" / fp / "stages" / "0-sft" / "0-only" / "checkpoints"
    assert (checkpoints / "checkpoint-2" / "trainer_state.json").exists()

    resumed = train_from_config(path, store=store, callbacks=[CountSteps()], log=lambda _m: None)
    unit = resumed.lineage["metrics"]["units"][0]
    assert unit["resumed_from_step"] == 2 and unit["steps"] == 4
    assert CountSteps.steps == 2  # continued at step 3, did not restart
    assert [r["step"] for r in resumed.log if r["loss"] is not None] == [1, 2, 3, 4]
    assert store.training_run(fp)["status"] == "finished"


def test_candidate_hook_trains_and_checks_the_base(home: Path, tiny_run: dict[str, Any]) -> None:
    from harness.candidate import CandidateSpec
    from harness.factory import build_candidate
    from harness.variants import train_adapter_for_candidate

    folder = tiny_run["path"].parent
    spec = CandidateSpec(name="tuned", train=tiny_run["path"].name)
    trained = train_adapter_for_candidate(spec, folder, tiny_run["store"], log=lambda _m: None)
    assert trained.reused and trained.lineage["candidate"] == "tuned"
    exporting = write(folder, TINY + "export: {ollama: true}\n", "export.yaml")  # same weights, same fingerprint
    spec = CandidateSpec(name="tuned", train=exporting.name, system="Listen first.", params={"max_new_tokens": 90})
    built = build_candidate(spec, folder, tiny_run["store"], log=lambda _m: None)  # the factory exports
    assert built.lineage["fingerprint"] == tiny_run["trained"].fingerprint  # same weights, same fingerprint
    export_dir = built.lineage["ollama_export"]
    modelfile = load_modelfile(Path(export_dir) / "Modelfile")
    assert modelfile.system == "Listen first." and modelfile.param("num_predict") == 90
    assert modelfile.adapters == ["./adapter"]
    wrong = CandidateSpec(name="x", model="some/other-model", train=tiny_run["path"].name)
    cfg = write(folder, TINY + "base_model: smollm2-135m-instruct\n", "based.yaml")
    with pytest.raises(ConfigError, match="differs from base_model"):
        train_adapter_for_candidate(wrong.model_copy(update={"train": cfg.name}), folder, None)
    with pytest.raises(ConfigError, match="needs backend 'transformers'"):
        train_adapter_for_candidate(CandidateSpec(name="o", backend="ollama", train=cfg.name), folder, None)


def test_bf16_training_on_cpu_freezes_a_bf16_base_and_keeps_lora_in_float32(home: Path, tmp_path: Path) -> None:
    import torch

    from harness.variants.lora_train import attach_adapter, base_dtype, load_base_model

    plain = load_training_config(write(tmp_path, TINY))
    bf16 = load_training_config(write(tmp_path, TINY + "trainer_args: {bf16: true}\n", "bf16.yaml"))
    pinned = load_training_config(write(tmp_path, TINY + "trainer_args: {bf16: true}\nbase_dtype: float32\n",
                                        "pinned.yaml"))
    assert [base_dtype(c, "cpu") for c in (plain, bf16, pinned)] == ["float32", "bfloat16", "float32"]
    model = attach_adapter(load_base_model("smollm2-135m-instruct", bf16, "cpu"), bf16, None)
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert {d for n, d in dtypes.items() if "lora_" in n} == {torch.float32}  # trainable weights keep precision
    assert {d for n, d in dtypes.items() if "lora_" not in n} == {torch.bfloat16}
    # A float32 config keeps its fingerprint payload; a bf16 one changes (its weights now come from a bf16 base).
    assert "base_dtype" not in plain.fingerprint_payload()
    assert bf16.fingerprint_payload()["base_dtype"] == "auto"
    assert pinned.fingerprint_payload()["base_dtype"] == "float32"


@pytest.mark.parametrize(("flags", "trainer_args", "device", "expected"), [
    ({"avx512f", "amx_bf16"}, {}, "cpu", {"bf16": True}),  # native bf16: autocast by default
    ({"fp", "asimd", "bf16"}, {"optim": "adamw_torch"}, "cpu", {"optim": "adamw_torch", "bf16": True}),
    ({"avx2", "avx512f"}, {}, "cpu", {}),  # emulated bf16 is slower: float32
    ({"amx_bf16"}, {"bf16": False}, "cpu", {"bf16": False}),  # the config's choice wins
    ({"amx_bf16"}, {"fp16": True}, "cpu", {"fp16": True}),
    ({"amx_bf16"}, {}, "cuda", {}),  # CUDA keeps common_args' own choice
])
def test_cpu_precision_defaults_to_bf16_only_where_the_cpu_has_it(
        monkeypatch: pytest.MonkeyPatch, flags: set[str], trainer_args: dict[str, Any], device: str,
        expected: dict[str, Any]) -> None:
    from harness import cpu_features
    from harness.variants.lora import cpu_precision

    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: flags)
    assert cpu_precision(trainer_args, device) == expected


def test_the_default_bf16_shares_the_explicit_bf16_fingerprint(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    """Written into trainer_args, the resolved precision makes an unmarked config on a bf16 CPU the same
    training as ``bf16: true``, and a float32 CPU keeps the fingerprint configs had before."""
    from harness import cpu_features
    from harness.variants.lora import effective_config

    def effective(text: str, name: str, flags: set[str]) -> TrainingConfig:
        monkeypatch.setattr(cpu_features, "cpu_flags", lambda: flags)
        config = load_training_config(write(tmp_path, text, name))
        return effective_config(config, "smollm2-135m-instruct", tmp_path, lambda _m: None, "cpu")

    on_amx = effective(TINY, "a.yaml", {"amx_bf16"})
    explicit = effective(TINY + "trainer_args: {bf16: true}\n", "b.yaml", set())
    on_avx2 = effective(TINY, "c.yaml", {"avx2"})
    assert on_amx.fingerprint_payload() == explicit.fingerprint_payload()
    assert "trainer_args" not in on_avx2.fingerprint_payload()  # as before: float32 adapters keep theirs
    assert on_amx.fingerprint_payload() != on_avx2.fingerprint_payload()
