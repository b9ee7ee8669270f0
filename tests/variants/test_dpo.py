"""DPO after SFT: the SFT adapter is the reference; curriculum + DPO end to end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import ModelNotFoundError
from harness.store import Store
from harness.variants import load_training_config, train_from_config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "variants"

SFT_THEN_DPO = f"""\
name: sft-then-dpo
seed: 3
datasets:
  chats: {{kind: chat_jsonl, path: {FIXTURES / "chat.jsonl"}}}
  prefs: {{kind: preference_jsonl, path: {FIXTURES / "preferences.jsonl"}, eval_fraction: 0.2}}
lora: {{r: 2, alpha: 4, dropout: 0.0, target_modules: [q_proj, v_proj], layers_to_transform: [28, 29]}}
training: {{max_length: 64, per_device_train_batch_size: 2, eval_fraction: 0.0, save_steps: 10}}
stages:
  - type: sft
    phases:
      - {{name: warm, datasets: {{chats: 1.0}}, max_steps: 2, learning_rate: 5.0e-3}}
  - type: dpo
    dataset: prefs
    max_steps: 1
    learning_rate: 1.0e-3
    beta: 0.5
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm

    try:
        prepared = prepare_embedded_llm()
    except ModelNotFoundError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")
    root = tmp_path / "home"
    (root / "models").mkdir(parents=True)
    (root / "models" / EMBEDDED_LLM).symlink_to(prepared, target_is_directory=True)
    monkeypatch.setenv("HARNESS_HOME", str(root))
    yield root


def test_dpo_starts_from_the_sft_adapter_as_reference(home: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    path = tmp_path / "cfg.yaml"
    path.write_text(SFT_THEN_DPO)
    trained = train_from_config(path, store=Store(tmp_path / "s.sqlite"), log=lambda _m: None)
    sft_unit, dpo_unit = trained.lineage["metrics"]["units"]
    assert dpo_unit["type"] == "dpo" and dpo_unit["reference"] == "ref adapter"
    first = next(r for r in trained.log if r["type"] == "dpo" and r["loss"] is not None)
    # Policy == reference at the first step: zero implicit reward. Had the reference been the base
    # model (adapters disabled), the SFT update would show up as a non-zero reward here.
    assert first["rewards/chosen"] == 0.0 and first["rewards/rejected"] == 0.0
    assert first["step"] == sft_unit["steps"] + 1  # steps count across the pipeline
    assert any(r.get("eval_rewards/margins") is not None for r in trained.log)

    root = Path(trained.output_dir)
    sft = load_file(str(root / "stages" / "0-sft" / "0-warm" / "adapter" / "adapter_model.safetensors"))
    final = load_file(str(Path(trained.adapter_path) / "adapter_model.safetensors"))
    assert set(sft) == set(final)  # same adapter, continued; the "ref" copy is not saved
    assert any(not sft[k].equal(final[k]) for k in sft)
    assert not (Path(trained.adapter_path) / "ref").exists()


@pytest.mark.slow
def test_curriculum_and_dpo_small_config_end_to_end(home: Path, tmp_path: Path) -> None:
    path = REPO / "configs" / "training" / "curriculum-dpo-small.yaml"
    config = load_training_config(path)
    store = Store(tmp_path / "s.sqlite")
    trained = train_from_config(path, store=store, log=lambda _m: None)
    units = trained.lineage["metrics"]["units"]
    assert [(u["stage"], u["phase"]) for u in units] == [("sft", "general"), ("sft", "style"), ("dpo", "dpo")]
    assert units[0]["mixture"] == {"prompts": 3, "chats": 3}
    assert units[1]["mixture"] == {"chats": 1, "therapy": 3}
    phases = config.stages[0].phases  # type: ignore[union-attr]
    for unit, phase in zip(units[:2], phases, strict=True):
        first = next(r for r in trained.log if r["phase"] == unit["phase"] and r["loss"] is not None)
        assert first["learning_rate"] == pytest.approx(phase.learning_rate)  # per-phase LR, no warmup
    steps = [r["step"] for r in trained.log if r["loss"] is not None]
    assert steps == list(range(1, 8))
    record = store.training_run(trained.fingerprint)
    assert record["status"] == "finished" and len(record["log"]) == len(trained.log)
    assert (Path(trained.adapter_path) / "adapter_model.safetensors").exists()
