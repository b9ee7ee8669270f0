"""One LoRA training unit (an SFT phase or a DPO stage) on a device: picking the device, loading the base model
and tokenizer, attaching the adapter, building the SFT trainer, and the loss log rows.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, HarnessError
from harness.models.embedded import resolve_model_path
from harness.variants.common import common_args, fit_to_length
from harness.variants.config import DPOStage, Phase, SFTStage, TrainingConfig
from harness.variants.data import (
    BuiltDataset,
    mix_phase,
    phase_eval_records,
    phase_size,
    records_to_dataset,
    to_prompt_completion,
    training_chat_template,
)

if TYPE_CHECKING:
    pass


Log = Callable[[str], None]


class TrainingSkipped(HarnessError):
    """A 4-bit (QLoRA) config met a machine without CUDA and asked to be skipped there."""


def _last(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return values[-1] if values else None


_LOG_KEYS = ("loss", "eval_loss", "learning_rate", "epoch", "grad_norm", "num_tokens", "mean_token_accuracy",
             "eval_mean_token_accuracy")
@dataclass
class _Unit:
    """One trainer run: an SFT phase or a DPO stage."""

    stage_index: int
    stage: SFTStage | DPOStage
    phase: Phase | None
    directory: Path

    @property
    def label(self) -> str:
        return f"{self.stage.name}/{self.phase.name}" if self.phase else self.stage.name

    @property
    def phase_name(self) -> str:
        return self.phase.name if self.phase else self.stage.name


@dataclass
class _UnitResult:
    rows: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)

def plan_units(config: TrainingConfig, root: Path) -> list[_Unit]:
    units = []
    for s_index, stage in enumerate(config.stages):
        stage_dir = root / "stages" / f"{s_index}-{stage.name}"
        if isinstance(stage, SFTStage):
            for p_index, phase in enumerate(stage.phases):
                units.append(_Unit(s_index, stage, phase, stage_dir / f"{p_index}-{phase.name}"))
        else:
            units.append(_Unit(s_index, stage, None, stage_dir))
    return units


# ----------------------------------------------------------------------------- devices and models


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def select_device(config: TrainingConfig) -> str:
    """'cpu' or 'cuda'; 4-bit needs CUDA and bitsandbytes, and says so before any work starts."""
    has_cuda = cuda_available()
    if config.quantization == "4bit":
        if not has_cuda:
            message = (f"training config {config.name!r}: quantization '4bit' (QLoRA) needs a CUDA GPU and "
                       "bitsandbytes; this machine has no CUDA device")
            if config.skip_if_no_cuda:
                raise TrainingSkipped(message + " (skip_if_no_cuda: true)")
            raise ConfigError(message, hint="use 'quantization: none' on CPU, or set 'skip_if_no_cuda: true'")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ConfigError(f"training config {config.name!r}: quantization '4bit' needs bitsandbytes",
                              hint="pip install bitsandbytes") from None
    if config.quantization == "4bit" and config.training.device == "cpu":
        raise ConfigError(f"training config {config.name!r}: quantization '4bit' cannot run with training.device 'cpu'")
    if config.training.device == "cuda" and not has_cuda:
        raise ConfigError(f"training config {config.name!r}: field 'training.device' is 'cuda' but no GPU is visible")
    if config.training.device == "cpu":
        return "cpu"
    return "cuda" if has_cuda else "cpu"


def load_tokenizer(base_model: str, chat_template: str | None = None) -> Any:
    """The base's tokenizer; ``chat_template`` (Jinja text) replaces its own template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(base_model))
    if chat_template:
        tokenizer.chat_template = chat_template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(base_model: str, config: TrainingConfig, device: str) -> Any:
    """NF4 + double quantization for QLoRA; else the ``base_dtype`` (``auto``: bf16 on CUDA, and on CPU under
    bf16 autocast, where a bf16 base saves casting every weight at each product: bench_lora_precision.py)."""
    import torch
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(base_model)
    if config.quantization == "4bit":
        from peft import prepare_model_for_kbit_training
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16)
        model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quant, dtype=torch.bfloat16,
                                                     device_map={"": 0})
        return prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.training.gradient_checkpointing)
    return AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, base_dtype(config, device)))


def base_dtype(config: TrainingConfig, device: str) -> str:
    """The frozen base's dtype name for ``config.base_dtype`` on ``device``."""
    import torch

    if config.base_dtype != "auto":
        return config.base_dtype
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if config.trainer_args.get("bf16") else "float32"


def attach_adapter(model: Any, config: TrainingConfig, previous: Path | None) -> Any:
    """A fresh LoRA adapter, or the previous unit's adapter made trainable again."""
    from peft import LoraConfig, PeftModel, get_peft_model

    from harness.variants.targets import FAN_IN_FAN_OUT, check_targets, resolve_targets

    if previous is not None:
        return PeftModel.from_pretrained(model, str(previous), is_trainable=True)
    lora = config.lora
    model_type = getattr(model.config, "model_type", None)
    targets = resolve_targets(lora.target_modules, model_type)
    check_targets(model, targets)
    extra = {"fan_in_fan_out": True} if model_type in FAN_IN_FAN_OUT else {}
    try:
        return get_peft_model(model, LoraConfig(**{
            "r": lora.r, "lora_alpha": lora.alpha, "lora_dropout": lora.dropout, "target_modules": targets,
            "bias": lora.bias, "task_type": "CAUSAL_LM", "layers_to_transform": lora.layers_to_transform,
            **extra, **config.lora_args}))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"training config {config.name!r}: peft cannot add LoRA adapters to this "
                          f"{model_type} model: {str(exc).splitlines()[0]}",
                          hint="check lora.target_modules (auto picks them per architecture) and lora_args") from None


def last_checkpoint(directory: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` folder (one holding trainer_state.json)."""
    if not directory.is_dir():
        return None
    found = [(int(p.name.split("-")[-1]), p) for p in directory.glob("checkpoint-*")
             if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").exists()]
    return max(found)[1] if found else None


def _train_unit(unit: _Unit, config: TrainingConfig, base_model: str, previous: Path | None,
                built: dict[str, BuiltDataset], device: str, offset: int, callbacks: Sequence[Any],
                log: Log) -> _UnitResult:
    import torch

    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    else:
        from harness.threads import configure_torch

        configure_torch(torch)  # threads = CPUs this process may use (harness.threads)
    from transformers import set_seed

    set_seed(config.seed)  # LoRA's A matrices are random: same config, same initial adapter
    tokenizer = load_tokenizer(base_model, config.chat_template)
    model = attach_adapter(load_base_model(base_model, config, device), config, previous)
    checkpoints = unit.directory / "checkpoints"
    resume = last_checkpoint(checkpoints) if config.training.resume else None
    if resume is None and checkpoints.exists():
        shutil.rmtree(checkpoints)  # stale checkpoints of a run we are not resuming
    if isinstance(unit.stage, SFTStage):
        assert unit.phase is not None
        trainer, info = build_sft_trainer(unit.phase, config, model, tokenizer, built, device, checkpoints,
                                          callbacks)
    else:
        from harness.variants.dpo import build_dpo_trainer

        trainer, info = build_dpo_trainer(unit.stage, config, model, tokenizer, built, device, checkpoints,
                                          callbacks)
    resumed_step = int(resume.name.split("-")[-1]) if resume else None
    log(f"{config.name}: {unit.label}: {info['examples']} examples, {trainer.args.max_steps} steps"
        + (f", resuming from step {resumed_step}" if resume else ""))
    began = time.perf_counter()
    before = _trainable_snapshot(trainer.model)
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    change = _weight_change(trainer.model, before)
    if change == 0.0:
        log(f"warning: {config.name}: {unit.label} changed no adapter weight (learning rate, steps or loss "
            "mask?); its outputs will equal the starting model's")
    if trainer.eval_dataset is not None and config.training.eval_steps is None:
        trainer.evaluate()
    seconds = time.perf_counter() - began
    adapter_dir = unit.directory / "adapter"
    trainer.model.save_pretrained(str(adapter_dir), selected_adapters=["default"])
    rows = log_rows(trainer.state.log_history, stage=unit.stage.name, phase=unit.phase_name,
                    kind=unit.stage.type, offset=offset)
    tokens = _last(rows, "num_tokens")
    runtime = float(output.metrics.get("train_runtime", seconds))
    metrics = {
        "stage": unit.stage.name, "phase": unit.phase_name, "type": unit.stage.type,
        "steps": trainer.state.global_step, "resumed_from_step": resumed_step,
        "train_runtime": round(runtime, 3), "seconds": round(seconds, 3),
        "num_tokens": tokens, "tokens_per_second": round(tokens / runtime, 2) if tokens and runtime else None,
        "final_loss": _last(rows, "loss"), "eval_loss": _last(rows, "eval_loss"),
        "max_weight_change": change, **info,
    }
    return _UnitResult(rows, metrics)


def _trainable_snapshot(model: Any) -> dict[str, Any]:
    """Copies of the trainable (LoRA) tensors: small, and the only ones training may change."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _weight_change(model: Any, before: dict[str, Any]) -> float | None:
    """Largest absolute change of any trainable weight (0.0: training did nothing); None when unknown."""
    changes = [float((p.detach() - before[name]).abs().max()) for name, p in model.named_parameters()
               if name in before and p.shape == before[name].shape]
    return max(changes) if changes else None


def build_sft_trainer(phase: Phase, config: TrainingConfig, model: Any, tokenizer: Any,
                      built: dict[str, BuiltDataset], device: str, output_dir: Path,
                      callbacks: Sequence[Any] = ()) -> tuple[Any, dict[str, Any]]:
    """An SFTTrainer for one curriculum phase, with its seeded mixture and loss mask chosen."""
    from trl import SFTConfig, SFTTrainer

    from harness.variants.cpu_lm_head import install as install_cpu_lm_head
    from harness.variants.passthrough import trainer_kwargs

    if device == "cpu":
        install_cpu_lm_head()  # TRL's fused head scores every position in fp32 GEMMs on CPU

    t = config.training
    per_step = t.per_device_train_batch_size * t.gradient_accumulation_steps
    usable, too_long = fit_to_length({n: built[n] for n in phase.datasets}, tokenizer, t.max_length)
    mixed, counts = mix_phase(phase, usable, phase_size(phase, usable, per_step), config.seed)
    held = phase_eval_records(phase, usable, t.max_eval_examples, config.seed)
    template = training_chat_template(tokenizer) if t.loss_on == "assistant" else None
    if template is not None:
        tokenizer.chat_template = template
        train_ds, eval_ds = records_to_dataset(mixed), (records_to_dataset(held) if held else None)
        mode = "assistant_only"
    else:
        train_ds = records_to_dataset(to_prompt_completion(mixed))
        eval_ds = records_to_dataset(to_prompt_completion(held)) if held else None
        mode = "last_assistant"
    # max_steps means exactly that many steps, even when the mixture drew a few extra records
    # (every listed source gets at least one).
    steps = phase.max_steps or math.ceil(len(mixed) / per_step)
    args = SFTConfig(**{
        **common_args(config, device, eval_ds is not None, output_dir, steps,
                      phase.learning_rate, phase.lr_scheduler_type, phase.warmup_ratio),
        "assistant_only_loss": mode == "assistant_only",
        "completion_only_loss": True if mode == "last_assistant" else None,
        "packing": False,
        **trainer_kwargs(config, SFTConfig),
    })
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=tokenizer, callbacks=list(callbacks))
    return trainer, {"examples": len(mixed), "mixture": counts, "eval_examples": len(held), "loss_mask": mode,
                     "learning_rate": phase.learning_rate, "dropped_too_long": too_long}


def log_rows(history: Sequence[dict[str, Any]], *, stage: str, phase: str, kind: str,
             offset: int) -> list[dict[str, Any]]:
    """Trainer log_history -> rows {step, phase_step, loss, eval_loss, learning_rate, epoch, stage, phase}.

    ``step`` counts across the whole pipeline, so curves of successive phases join up.
    """
    rows = []
    for entry in history:
        if "loss" not in entry and "eval_loss" not in entry:
            continue  # the end-of-training summary (train_loss, train_runtime)
        row: dict[str, Any] = {"step": offset + int(entry.get("step", 0)), "phase_step": int(entry.get("step", 0)),
                               "stage": stage, "phase": phase, "type": kind}
        for key in _LOG_KEYS:
            row[key] = entry.get(key)
        for key, value in entry.items():
            if key.startswith(("rewards/", "eval_rewards/")):
                row[key] = value
        rows.append(row)
    return rows
