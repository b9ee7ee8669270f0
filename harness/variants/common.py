"""What the SFT (``lora``) and DPO (``dpo``) trainers share, so neither imports the other.

Like TRL's shared base config: the TrainingArguments both trainers start from, and the length filter
both apply to their datasets.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.variants.config import TrainingConfig
from harness.variants.data import BuiltDataset, drop_overlong


def common_args(config: TrainingConfig, device: str, has_eval: bool, output_dir: Path, max_steps: int,
                 learning_rate: float, scheduler: str, warmup: float) -> dict[str, Any]:
    import torch
    from transformers import TrainingArguments

    t = config.training
    evaluate_during = has_eval and t.eval_steps is not None
    # transformers 5.x renamed gradient_checkpointing; give the new name when it exists (no FutureWarning).
    checkpointing = ("activation_checkpointing" if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
                     else "gradient_checkpointing")
    return {
        checkpointing: t.gradient_checkpointing,
        "output_dir": str(output_dir),
        "max_steps": max_steps,
        "num_train_epochs": 1,
        "learning_rate": learning_rate,
        "lr_scheduler_type": scheduler,
        "warmup_steps": warmup,
        "per_device_train_batch_size": t.per_device_train_batch_size,
        "per_device_eval_batch_size": t.per_device_eval_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "max_length": t.max_length,
        "logging_steps": t.logging_steps,
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "save_total_limit": t.save_total_limit,
        "eval_strategy": "steps" if evaluate_during else "no",
        "eval_steps": t.eval_steps if evaluate_during else None,
        "seed": config.seed,
        "data_seed": config.seed,
        "report_to": "none",
        "use_cpu": device == "cpu",
        "bf16": device == "cuda" and torch.cuda.is_bf16_supported(),
        "fp16": False,
        "dataloader_num_workers": 0,
        "disable_tqdm": not sys.stderr.isatty(),
    }


# ----------------------------------------------------------------------------- units


def fit_to_length(built: dict[str, BuiltDataset], tokenizer: Any,
                  max_length: int) -> tuple[dict[str, BuiltDataset], dict[str, int]]:
    """Copies of ``built`` without records too long to train on; counts dropped per dataset."""
    import dataclasses

    out, dropped = {}, {}
    for name, dataset in built.items():
        records, lost = drop_overlong(dataset.records, tokenizer, max_length)
        held, lost_eval = drop_overlong(dataset.eval_records, tokenizer, max_length)
        if not records:
            raise ConfigError(f"dataset {name!r}: every example's prompt is longer than training.max_length "
                              f"({max_length} tokens)", hint="raise training.max_length or shorten the system prompt")
        out[name] = dataclasses.replace(dataset, records=records, eval_records=held)
        if lost or lost_eval:
            dropped[name] = len(lost) + len(lost_eval)
    return out, dropped
