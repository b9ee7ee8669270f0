"""Which modules get LoRA adapters, per architecture, and a clear error when the names do not fit.

``target_modules: auto`` (the default) picks q/k/v/o projections for Llama-style decoders (the
harness's long-standing default, so their adapters keep their fingerprints), ``c_attn`` for
GPT-2 style models (GPT-2, DialoGPT, whose attention is one fused Conv1D), peft's own table for
other known families and ``all-linear`` for the rest. Names that match nothing in the model are
an error listing the linear modules the model does have, instead of peft's raw ValueError.
"""

from __future__ import annotations

from typing import Any

from harness.errors import ConfigError

LLAMA_STYLE = frozenset({"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
                         "gemma3_text", "phi3", "olmo", "olmo2", "granite", "smollm3", "cohere", "starcoder2"})
LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
GPT2_STYLE = frozenset({"gpt2", "gpt_bigcode"})
# GPT-2's Conv1D stores weights transposed: peft needs fan_in_fan_out=True for it.
FAN_IN_FAN_OUT = GPT2_STYLE


def auto_target_modules(model_type: str | None) -> list[str] | str:
    """Target modules for ``target_modules: auto`` on a model of this ``config.model_type``."""
    if model_type in LLAMA_STYLE:
        return list(LLAMA_TARGETS)
    if model_type in GPT2_STYLE:
        return ["c_attn"]
    from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as PEFT_TABLE

    if model_type in PEFT_TABLE:
        return list(PEFT_TABLE[model_type])
    return "all-linear"


def resolve_targets(requested: list[str] | str, model_type: str | None) -> list[str] | str:
    return auto_target_modules(model_type) if requested == "auto" else requested


def _base_config(base_model: str) -> Any:
    from transformers import AutoConfig

    from harness.models.embedded import resolve_model_path

    try:
        return AutoConfig.from_pretrained(resolve_model_path(base_model))
    except (OSError, ValueError):
        return None


def model_type_of(base_model: str) -> str | None:
    """``config.model_type`` of a base model without loading its weights."""
    config = _base_config(base_model)
    return getattr(config, "model_type", None)


def context_length_of(base_model: str) -> int | None:
    """Positions a model with learned position embeddings can take (GPT-2: ``n_positions``)."""
    config = _base_config(base_model)
    value = getattr(config, "n_positions", None) if config is not None else None
    return value if isinstance(value, int) and value > 0 else None


def linear_module_names(model: Any) -> list[str]:
    """Distinct last name parts of the model's linear (and GPT-2 Conv1D) layers, lm_head left out."""
    names = set()
    for name, module in model.named_modules():
        kind = type(module).__name__
        if kind in {"Linear", "Conv1D", "Linear4bit", "Linear8bitLt"} and not name.endswith("lm_head"):
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def check_targets(model: Any, targets: list[str] | str) -> None:
    """Raise a ConfigError naming the model's linear modules when ``targets`` matches none of them."""
    if isinstance(targets, str):
        return
    available = linear_module_names(model)
    missing = [t for t in targets if t not in available]
    if missing and len(missing) == len(targets):
        model_type = getattr(getattr(model, "config", None), "model_type", "?")
        raise ConfigError(
            f"lora.target_modules {targets} match no layer of this {model_type} model "
            f"(its linear layers: {', '.join(available)})",
            hint="use target_modules: auto (chosen per architecture) or all-linear, or names from that list",
        )
