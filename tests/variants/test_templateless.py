"""Template-less bases (GPT-2, DialoGPT): generation and LoRA training on a tiny GPT-2 built offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.models.base import ChatRequest, GenerationParams
from harness.models.chat_templates import BUILT_INS, resolve_chat_template

CHAT = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "I cannot sleep."}]


def test_templateless_base_generates_with_the_plain_default_and_says_so(tiny_gpt2: Path) -> None:
    from harness.models.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(tiny_gpt2))
    result = backend.generate([ChatRequest(CHAT, GenerationParams(max_new_tokens=4))])
    assert len(result) == 1 and result[0].completion_tokens <= 4
    assert backend.notices and "no chat template" in backend.notices[0] and "chat_template" in backend.notices[0]


def test_a_chosen_template_renders_and_enters_the_identity(tiny_gpt2: Path) -> None:
    from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

    default = TransformersBackend(str(tiny_gpt2))
    dialogpt = TransformersBackend(str(tiny_gpt2), chat_template="dialogpt")
    assert default.identity != dialogpt.identity
    _, tokenizer = load_model_and_tokenizer(str(tiny_gpt2))
    text = dialogpt._render(tokenizer, [{"role": "user", "content": "Hi"}])
    assert text == "Hi<|endoftext|>" and not dialogpt.notices
    plain = tokenizer.apply_chat_template([*CHAT, {"role": "assistant", "content": "Ok."}], tokenize=False,
                                          chat_template=BUILT_INS["plain"])
    assert plain == "Be kind.\n\nUser: I cannot sleep.\nAssistant: Ok.<|endoftext|>\n"


def test_stop_strings_follow_the_template_by_name_or_text() -> None:
    from harness.models.chat_templates import stop_strings

    assert stop_strings("plain") == stop_strings(BUILT_INS["plain"]) == ("\nUser:",)
    assert stop_strings("{{ messages }}") == ()


def test_unknown_template_name_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a built-in template"):
        resolve_chat_template("chatmll")
    (tmp_path / "t.jinja").write_text("{{ messages[0]['content'] }}")
    assert resolve_chat_template("t.jinja", base_dir=tmp_path) == "{{ messages[0]['content'] }}"
    with pytest.raises(ConfigError, match="not found"):
        resolve_chat_template("missing.jinja", base_dir=tmp_path)


def test_candidate_chat_template_reaches_the_backend(tiny_gpt2: Path) -> None:
    from harness.candidate import Candidate, CandidateSpec

    plain = Candidate(CandidateSpec(name="a", model=str(tiny_gpt2)))
    chatml = Candidate(CandidateSpec(name="b", model=str(tiny_gpt2), chat_template="chatml"))
    assert chatml.backend.template_name == "chatml"
    assert plain.generator_fp() != chatml.generator_fp()


def _write_data(folder: Path) -> None:
    pairs = [{"prompt": "I feel anxious before work.", "response": "That sounds hard. What helps you?"},
             {"prompt": "I cannot sleep well.", "response": "Thank you for sharing that with me."}]
    (folder / "pairs.json").write_text(json.dumps(pairs))  # a JSON array, not JSON lines
    seed = {"conversations": [{"user": "Work is too much lately.", "therapist": "That sounds heavy."},
                              {"user": "And my sister never calls.", "therapist": "That must feel lonely."}]}
    (folder / "seed.jsonl").write_text(json.dumps(seed) + "\n" + json.dumps(seed).replace("sister", "brother") + "\n")


TRAIN = """\
name: tiny-gpt2
base_model: {model}
system: You are a kind listener.
export: {{ollama: true, base_from: ./model}}
datasets:
  pairs: {{kind: chat, path: pairs.json}}
  seed: {{kind: chat, path: seed.jsonl}}
lora: {{r: 2, lora_alpha: 4, lora_dropout: 0.0}}
training: {{max_length: 96, per_device_train_batch_size: 1, use_cpu: true, eval_fraction: 0}}
trainer_args: {{optim: adamw_torch}}
stages:
  - type: sft
    phases:
      - {{name: one, datasets: {{pairs: 0.5, seed: 0.5}}, max_steps: 1, learning_rate: 1.0e-3}}
      - {{name: two, datasets: {{pairs: 0.5, seed: 0.5}}, max_steps: 1, learning_rate: 1.0e-50}}
"""


def test_gpt2_lora_trains_with_auto_targets_exact_steps_and_noop_warning(tiny_gpt2: Path, tmp_path: Path) -> None:
    """One step per phase (two sources used to force two), c_attn chosen, the template recorded, and a
    phase whose learning rate rounds to zero is reported as changing nothing."""
    from harness.variants import train_from_config

    _write_data(tmp_path)
    config = tmp_path / "cfg.yaml"
    config.write_text(TRAIN.format(model=tiny_gpt2))
    messages: list[str] = []
    trained = train_from_config(config, output_root=tmp_path / "adapters", log=messages.append)
    units = trained.lineage["metrics"]["units"]
    assert [u["steps"] for u in units] == [1, 1]
    assert units[0]["max_weight_change"] > 0 and units[1]["max_weight_change"] == 0
    assert any("sft/two changed no adapter weight" in m for m in messages)
    assert not any("sft/one changed no" in m for m in messages)
    assert any("no chat template" in m for m in messages)
    assert trained.lineage["config"]["lora"]["target_modules"] == ["c_attn"]
    assert trained.lineage["chat_template"] == BUILT_INS["plain"]
    from harness.models.modelfile import load_modelfile

    exported = load_modelfile(Path(trained.export_dir) / "Modelfile")  # `harness train` exports too
    assert exported.system == "You are a kind listener." and exported.adapters == ["./adapter"]
    adapter_config = json.loads((Path(trained.adapter_path) / "adapter_config.json").read_text())
    assert adapter_config["target_modules"] == ["c_attn"] and adapter_config["fan_in_fan_out"] is True


def test_llama_style_target_names_on_gpt2_are_a_clear_error(tiny_gpt2: Path) -> None:
    from transformers import AutoModelForCausalLM

    from harness.variants.config import TrainingConfig
    from harness.variants.lora import attach_adapter

    config = TrainingConfig.model_validate({
        "name": "x", "datasets": {"d": {"kind": "chat", "path": "x.json"}},
        "stages": [{"type": "sft", "phases": [{"name": "p", "datasets": {"d": 1.0}, "max_steps": 1}]}],
        "lora": {"target_modules": ["q_proj", "v_proj"]}})
    model = AutoModelForCausalLM.from_pretrained(str(tiny_gpt2))
    with pytest.raises(ConfigError, match=r"match no layer of this gpt2 model .*c_attn"):
        attach_adapter(model, config, None)


def test_auto_targets_per_architecture() -> None:
    from harness.variants.targets import auto_target_modules

    assert auto_target_modules("llama") == ["q_proj", "k_proj", "v_proj", "o_proj"]  # the old default: same hashes
    assert auto_target_modules("gpt2") == ["c_attn"]
    assert auto_target_modules("some-new-arch") == "all-linear"
