"""DPO stage: preference pairs (prompt / chosen / rejected) on top of the SFT adapter.

The reference policy is the adapter as the stage starts. TRL 1.x, given a ``PeftModel`` and
no ``ref_model``, copies the "default" adapter into a frozen "ref" adapter and computes
reference log-probs with it, so one base model in memory serves both; we save only "default".
Pairs come from ``preference_jsonl`` datasets (the playground's blind-review export format).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.variants.common import common_args, fit_to_length
from harness.variants.config import DPOStage, TrainingConfig
from harness.variants.data import BuiltDataset, records_to_dataset
from harness.variants.passthrough import trainer_kwargs


def build_dpo_trainer(stage: DPOStage, config: TrainingConfig, model: Any, tokenizer: Any,
                      built: dict[str, BuiltDataset], device: str, output_dir: Path,
                      callbacks: Sequence[Any] = ()) -> tuple[Any, dict[str, Any]]:
    """A DPOTrainer whose reference is a frozen copy of the adapter it starts from.

    TRL (1.x) adds a "ref" adapter copied from "default" when given a PeftModel and no
    ref_model, so one base model in memory serves policy and reference.
    """
    from trl import DPOConfig, DPOTrainer

    t = config.training
    per_step = t.per_device_train_batch_size * t.gradient_accumulation_steps
    usable, too_long = fit_to_length({stage.dataset: built[stage.dataset]}, tokenizer, t.max_length)
    pairs = usable[stage.dataset]
    total = stage.max_steps * per_step if stage.max_steps else max(per_step, round(len(pairs.records) * stage.epochs))
    rng = random.Random(f"{config.seed}:{stage.name}")
    drawn: list[dict[str, Any]] = []
    while len(drawn) < total:
        batch = list(pairs.records)
        rng.shuffle(batch)
        drawn += batch[: total - len(drawn)]
    held = pairs.eval_records[: t.max_eval_examples]
    eval_ds = records_to_dataset(held) if held else None
    args = DPOConfig(**{
        **common_args(config, device, eval_ds is not None, output_dir, math.ceil(total / per_step),
                      stage.learning_rate, stage.lr_scheduler_type, stage.warmup_ratio),
        "beta": stage.beta,
        "loss_type": [stage.loss_type],
        **trainer_kwargs(config, DPOConfig),
    })
    trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=records_to_dataset(drawn),
                         eval_dataset=eval_ds, processing_class=tokenizer, callbacks=list(callbacks))
    return trainer, {"examples": len(drawn), "pairs": len(pairs.records), "eval_examples": len(held),
                     "beta": stage.beta, "learning_rate": stage.learning_rate, "dropped_too_long": too_long,
                     "reference": "ref adapter" if "ref" in getattr(trainer.model, "peft_config", {})
                     else "adapters disabled"}
