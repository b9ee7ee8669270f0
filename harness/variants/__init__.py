"""Candidate variants that need training: LoRA / QLoRA adapters (SFT curriculum, DPO) and their export.

``harness run`` calls :func:`train_adapter_for_candidate` for every candidate with a ``train:``
config; the rest is for scripts and the CLI. Heavy libraries (torch, trl, peft) are imported
only inside the functions that train.
"""

from __future__ import annotations

from harness.variants.config import TrainingConfig, load_training_config
from harness.variants.export import OllamaExport, export_candidate, export_ollama, merge_adapter
from harness.variants.lora import (
    TrainedAdapter,
    TrainingSkipped,
    train_adapter_for_candidate,
    train_from_config,
    training_fingerprint,
)

__all__ = [
    "OllamaExport",
    "TrainedAdapter",
    "TrainingConfig",
    "TrainingSkipped",
    "export_candidate",
    "export_ollama",
    "load_training_config",
    "merge_adapter",
    "train_adapter_for_candidate",
    "train_from_config",
    "training_fingerprint",
]
