"""Harness LoRA SFT against a plain TRL ``SFTTrainer`` script: same model, data and settings, one run.

    python bench/bench_sft_overhead.py --steps 6 [--repeats 2] [--max-length 256] [--batch 4]

Both sides train the embedded SmolLM2-135M-Instruct on the therapy suite's train split (the
harness's own records, so the data are identical) with the same LoRA, batch, length, learning
rate, seed, assistant-only loss mask and CPU float32 settings. Runs alternate (plain, harness,
plain, ...) so a neighbour's load hits both alike; the best run of each side is compared.

Reported: end-to-end wall time (model load, data, trainer set-up, training, saving) and
training-loop tokens/s (TRL's ``num_tokens`` over ``train_runtime``). Target: harness overhead
<= 5% end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _config_text(args: argparse.Namespace) -> str:
    return f"""\
name: bench-sft
seed: 0
datasets:
  therapy: {{kind: suite_train, suite: therapy/v1, eval_split: none, system: ""}}
lora: {{r: 8, alpha: 16, dropout: 0.0, target_modules: [q_proj, v_proj]}}
training:
  max_length: {args.max_length}
  per_device_train_batch_size: {args.batch}
  eval_fraction: 0.0
  save_steps: 100000
  logging_steps: 1
stages:
  - type: sft
    phases:
      - {{name: bench, datasets: {{therapy: 1.0}}, max_steps: {args.steps}, learning_rate: 2.0e-4}}
"""


def run_harness(config_path: Path, home: Path) -> dict[str, Any]:
    from harness.variants import train_from_config

    os.environ["HARNESS_HOME"] = str(home)
    began = time.perf_counter()
    trained = train_from_config(config_path, log=lambda _m: None)
    wall = time.perf_counter() - began
    unit = trained.lineage["metrics"]["units"][0]
    return {"wall": wall, "train_runtime": unit["train_runtime"], "num_tokens": unit["num_tokens"],
            "final_loss": unit["final_loss"]}


def run_plain(records: list[dict[str, Any]], args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """What a user would write by hand with TRL: no harness code inside the timed region."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    began = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    tokenizer.chat_template = args.template  # the same generation-marked template the harness uses
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32)
    dataset = Dataset.from_list([{"messages": r["messages"]} for r in records])
    config = SFTConfig(
        output_dir=str(out), max_steps=args.steps, num_train_epochs=1, learning_rate=2e-4,
        lr_scheduler_type="linear", per_device_train_batch_size=args.batch, max_length=args.max_length,
        assistant_only_loss=True, activation_checkpointing=False, logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=True, bf16=False, seed=0, data_seed=0, disable_tqdm=True,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    output = trainer.train()
    trainer.save_model(str(out / "adapter"))
    wall = time.perf_counter() - began
    tokens = [h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h]
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"wall": wall, "train_runtime": output.metrics["train_runtime"], "num_tokens": tokens[-1],
            "final_loss": losses[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm
    from harness.variants.config import load_training_config
    from harness.variants.data import build_datasets, training_chat_template
    from harness.variants.lora import fit_to_length, load_tokenizer

    args.model_dir = str(prepare_embedded_llm())
    args.template = training_chat_template(load_tokenizer(EMBEDDED_LLM))
    scratch = Path(tempfile.mkdtemp(prefix="bench-sft-"))
    config_path = scratch / "bench-sft.yaml"
    config_path.write_text(_config_text(args))
    # The plain script gets the harness's mixture for this phase, so both train on the same rows in the same order.
    from harness.variants.data import mix_phase, phase_size

    config = load_training_config(config_path)
    built = build_datasets(config, scratch)
    phase = config.stages[0].phases[0]  # type: ignore[union-attr]
    usable, _ = fit_to_length(built, load_tokenizer(EMBEDDED_LLM), args.max_length)
    records, _ = mix_phase(phase, usable, phase_size(phase, usable, args.batch), config.seed)

    import trl  # noqa: F401  -- imports outside the timed regions, for both sides alike

    results: dict[str, list[dict[str, Any]]] = {"plain TRL": [], "harness": []}
    for repeat in range(args.repeats):
        home = scratch / f"home-{repeat}"
        (home / "models").mkdir(parents=True)
        (home / "models" / EMBEDDED_LLM).symlink_to(args.model_dir, target_is_directory=True)
        results["plain TRL"].append(run_plain(records, args, scratch / f"plain-{repeat}"))
        results["harness"].append(run_harness(config_path, home))

    load = os.getloadavg()[0]
    print(f"\nSFT overhead: {args.steps} steps x batch {args.batch}, max_length {args.max_length}, "
          f"{args.repeats} repeat(s), CPU float32, load average {load:.1f} on {os.cpu_count()} cores\n")
    print(f"{'side':<10} {'wall s (best)':>14} {'wall s (median)':>16} {'train s':>8} {'tokens':>7} "
          f"{'tok/s (train)':>14} {'final loss':>11}")
    best = {}
    for side, runs in results.items():
        top = min(runs, key=lambda r: r["wall"])
        best[side] = top
        tps = top["num_tokens"] / top["train_runtime"]
        print(f"{side:<10} {top['wall']:>14.1f} {statistics.median(r['wall'] for r in runs):>16.1f} "
              f"{top['train_runtime']:>8.1f} {int(top['num_tokens']):>7} {tps:>14.1f} {top['final_loss']:>11.4f}")
    ratio = best["harness"]["wall"] / best["plain TRL"]["wall"]
    train_ratio = (best["plain TRL"]["num_tokens"] / best["plain TRL"]["train_runtime"]) / (
        best["harness"]["num_tokens"] / best["harness"]["train_runtime"])
    print(f"\nharness / plain wall time: {ratio:.3f} (overhead {100 * (ratio - 1):+.1f}%, target <= +5%)")
    print(f"plain / harness training tokens/s: {train_ratio:.3f}")
    print(json.dumps({"ratio_wall": round(ratio, 4), "ratio_train_tokens_per_s": round(train_ratio, 4),
                      "load_average": round(load, 2)}))


if __name__ == "__main__":
    main()
