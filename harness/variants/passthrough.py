"""``trainer_args:`` and ``lora_args:``: options the harness does not list, passed to the library classes.

A training config names the common knobs itself; anything else TrainingArguments / SFTConfig /
DPOConfig or peft's LoraConfig accepts (``optim``, ``bf16``, ``neftune_noise_alpha``,
``use_dora``) goes through these dicts. Keys are checked against the classes' own dataclass
fields when the config loads, so a typo is a ``file: field`` error with a suggestion, not a
crash minutes into training. Keys the harness computes itself are refused with the field to use.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.variants.config import TrainingConfig

# key -> where to set it instead (the harness derives these per unit).
TRAINER_OWNED = {
    "output_dir": "the harness writes under $HARNESS_HOME/adapters/<fingerprint>",
    "max_steps": "a phase's or DPO stage's max_steps",
    "num_train_epochs": "a phase's or DPO stage's epochs (num_train_epochs)",
    "learning_rate": "a phase's or DPO stage's learning_rate",
    "lr_scheduler_type": "a phase's or DPO stage's lr_scheduler_type",
    "seed": "the config's seed",
    "beta": "the DPO stage's beta",
    "loss_type": "the DPO stage's loss_type",
    "assistant_only_loss": "training.loss_on",
    "completion_only_loss": "training.loss_on",
}
LORA_OWNED = {"r": "lora.r", "lora_alpha": "lora.lora_alpha", "lora_dropout": "lora.lora_dropout",
              "target_modules": "lora.target_modules", "bias": "lora.bias", "task_type": "(always CAUSAL_LM)",
              "layers_to_transform": "lora.layers_to_transform"}


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def trainer_classes(config: TrainingConfig) -> dict[str, type]:
    """The config classes this pipeline's units use (SFTConfig and/or DPOConfig)."""
    from trl import DPOConfig, SFTConfig

    types = {stage.type for stage in config.stages}
    return {name: cls for name, cls in (("sft", SFTConfig), ("dpo", DPOConfig)) if name in types}


def passthrough_problems(config: TrainingConfig) -> list[tuple[tuple[str, ...], str]]:
    """(YAML location, message) for every key no target class accepts or the harness owns."""
    problems: list[tuple[tuple[str, ...], str]] = []
    if config.trainer_args:
        classes = trainer_classes(config)
        known = set().union(*(_fields(c) for c in classes.values()))
        names = "/".join(c.__name__ for c in classes.values())
        for key in config.trainer_args:
            problems += _check_key(("trainer_args", key), key, known, TRAINER_OWNED, names)
    if config.lora_args:
        from peft import LoraConfig

        for key in config.lora_args:
            problems += _check_key(("lora_args", key), key, _fields(LoraConfig), LORA_OWNED, "LoraConfig")
    return problems


def _check_key(loc: tuple[str, ...], key: str, known: set[str], owned: dict[str, str],
               names: str) -> list[tuple[tuple[str, ...], str]]:
    if key in owned:
        return [(loc, f"{key!r} is set by the harness; use {owned[key]}")]
    if key not in known:
        close = difflib.get_close_matches(key, sorted(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return [(loc, f"{key!r} is not a field of {names}{hint}")]
    return []


def check_passthrough(config: TrainingConfig, where: str = "training config") -> None:
    problems = passthrough_problems(config)
    if problems:
        raise ConfigError("\n".join(f"{where}: field '{'.'.join(loc)}': {msg}" for loc, msg in problems))


def trainer_kwargs(config: TrainingConfig, cls: type) -> dict[str, Any]:
    """The ``trainer_args`` this class accepts (an SFT-only key is not given to DPOConfig)."""
    known = _fields(cls)
    return {k: v for k, v in config.trainer_args.items() if k in known}
