"""Training configs accept Hugging Face names and a checked passthrough to the library classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.variants import load_training_config

BASE = """\
name: names
datasets:
  d: {kind: chat, path: data.json}
stages:
  - type: sft
    phases:
      - {name: p, datasets: {d: 1.0}, PHASE}
"""


def _config(tmp_path: Path, extra: str = "", phase: str = "max_steps: 1") -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(BASE.replace("PHASE", phase) + extra)
    return path


def test_hugging_face_names_mean_the_same_as_the_harness_names(tmp_path: Path) -> None:
    hf = load_training_config(_config(tmp_path, "lora: {lora_alpha: 8, lora_dropout: 0.1}\n"
                                                "training: {use_cpu: true, max_seq_length: 128}\n",
                                      phase="num_train_epochs: 2"))
    ours = load_training_config(_config(tmp_path, "lora: {alpha: 8, dropout: 0.1}\n"
                                                  "training: {device: cpu, max_length: 128}\n", phase="epochs: 2"))
    assert hf == ours and hf.lora.alpha == 8 and hf.training.device == "cpu" and hf.stages[0].phases[0].epochs == 2
    assert hf.config_hash() == ours.config_hash()


def test_use_cpu_contradicting_device_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="contradicts device"):
        load_training_config(_config(tmp_path, "training: {use_cpu: true, device: cuda}\n"))


def test_trainer_and_lora_args_are_checked_against_the_library_classes(tmp_path: Path) -> None:
    good = load_training_config(_config(tmp_path, "trainer_args: {optim: adafactor, neftune_noise_alpha: 5}\n"
                                                  "lora_args: {use_dora: true}\n"))
    assert good.trainer_args["optim"] == "adafactor" and good.lora_args == {"use_dora": True}
    with pytest.raises(ConfigError, match=r"cfg.yaml:\d+: field 'trainer_args.optimm'.*did you mean optim"):
        load_training_config(_config(tmp_path, "trainer_args: {optimm: adafactor}\n"))
    with pytest.raises(ConfigError, match=r"'max_steps' is set by the harness"):
        load_training_config(_config(tmp_path, "trainer_args: {max_steps: 3}\n"))
    with pytest.raises(ConfigError, match=r"field 'lora_args.use_doraa'.*not a field of LoraConfig"):
        load_training_config(_config(tmp_path, "lora_args: {use_doraa: true}\n"))


def test_passthrough_reaches_the_trainer_config(tmp_path: Path) -> None:
    from trl import SFTConfig

    from harness.variants.passthrough import trainer_kwargs

    config = load_training_config(_config(tmp_path, "trainer_args: {optim: adafactor, weight_decay: 0.2}\n"))
    assert trainer_kwargs(config, SFTConfig) == {"optim": "adafactor", "weight_decay": 0.2}


def test_new_fields_left_at_defaults_keep_old_fingerprints(tmp_path: Path) -> None:
    payload = load_training_config(_config(tmp_path)).fingerprint_payload()
    assert not {"chat_template", "trainer_args", "lora_args", "suites_dir"} & set(payload)


def test_suite_train_reads_a_team_suite_from_suites_dir(tmp_path: Path) -> None:
    import json

    from harness.suite_import import import_suite
    from harness.variants.data import build_datasets
    from harness.variants.lora import config_suites_dir

    rows = [{"input": f"I keep worrying about thing number {i} at work.", "reference": "That sounds stressful.",
             "split": "train"} for i in range(3)]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    import_suite(tmp_path / "rows.jsonl", "team/v1", suites_dir=tmp_path / "suites", split="train")
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "cfg.yaml").write_text(
        "name: team\nsuites_dir: ../suites\ndatasets:\n  t: {kind: suite_train, suite: team/v1, eval_split: none}\n"
        "stages:\n  - type: sft\n    phases:\n      - {name: p, datasets: {t: 1.0}, max_steps: 1}\n")
    config = load_training_config(folder / "cfg.yaml")
    suites = config_suites_dir(config, folder / "cfg.yaml")
    built = build_datasets(config, folder, suites)
    assert len(built["t"].records + built["t"].eval_records) == 3
