"""LoRA SFT on CPU: float32 vs bf16 (autocast over a float32 or a bf16 base), length-grouped batches; one run.

    python bench/bench_lora_precision.py [--steps 8] [--repeats 2] [--max-length 256] [--batch 4]

Every variant trains the embedded SmolLM2-135M-Instruct through ``harness train`` (a fresh
``$HARNESS_HOME`` per run, so nothing is reused) on the therapy suite's train split with the same
LoRA, seed, steps and learning rate; only ``trainer_args`` / ``logging_steps`` / ``base_dtype`` differ
(``{}`` is the default: bf16 on CPUs with native bf16 matmul, float32 elsewhere; ``base_dtype: auto`` loads
the frozen base in bf16 under bf16; ``float32`` is the path before)
and the LM head (``trl``: TRL's fused head as it runs on CPU, the path before; ``cpu``:
harness.variants.cpu_lm_head, labelled positions only). Variants
alternate round by round so a neighbour's load hits them alike. Reported per variant: training-loop
tokens/s (TRL's ``num_tokens`` / ``train_runtime``; best and median), the ratio to the float32
baseline, and the final training loss (a mean over the last logging window, so compare it within noise).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VARIANTS: list[tuple[str, str, int, str, str]] = [  # label, trainer_args (YAML), logging_steps, base_dtype, LM head
    ("float32, TRL's LM head (baseline, before)", "{bf16: false}", 1, "auto", "trl"),
    ("bf16 autocast, float32 base, TRL head", "{bf16: true}", 1, "float32", "trl"),
    ("float32, length-grouped, log every 4", "{bf16: false, train_sampling_strategy: group_by_length}", 4, "auto",
     "trl"),
    ("bf16 + length-grouped + log every 4", "{bf16: true, train_sampling_strategy: group_by_length}", 4, "auto", "trl"),
    ("bf16 base, TRL's LM head (session 6)", "{bf16: true}", 1, "auto", "trl"),
    ("float32, CPU LM head (bf16: false)", "{bf16: false}", 1, "auto", "cpu"),
    ("bf16 base, CPU LM head (default now)", "{}", 1, "auto", "cpu"),
]


def _use_head(head: str) -> None:
    """``trl``: TRL's own fused head (the path before harness.variants.cpu_lm_head); ``cpu``: the harness's."""
    from harness.variants import cpu_lm_head

    if head == "trl":
        os.environ["HARNESS_CPU_LM_HEAD"] = "0"
        cpu_lm_head.uninstall()
    else:
        os.environ.pop("HARNESS_CPU_LM_HEAD", None)


def _config_text(args: argparse.Namespace, trainer_args: str, logging_steps: int, base_dtype: str) -> str:
    return f"""\
name: bench-lora
seed: 0
base_dtype: {base_dtype}
datasets:
  therapy: {{kind: suite_train, suite: therapy/v1, eval_split: none, system: ""}}
lora: {{r: 8, alpha: 16, dropout: 0.0, target_modules: [q_proj, v_proj]}}
trainer_args: {trainer_args}
training:
  max_length: {args.max_length}
  per_device_train_batch_size: {args.batch}
  eval_fraction: 0.0
  save_steps: 100000
  logging_steps: {logging_steps}
stages:
  - type: sft
    phases:
      - {{name: bench, datasets: {{therapy: 1.0}}, max_steps: {args.steps}, learning_rate: 2.0e-4}}
"""


def _train(config_path: Path, home: Path) -> dict[str, Any]:
    from harness.variants import train_from_config

    os.environ["HARNESS_HOME"] = str(home)
    trained = train_from_config(config_path, log=lambda _m: None)
    unit = trained.lineage["metrics"]["units"][0]
    return {"tok_s": unit["num_tokens"] / unit["train_runtime"], "final_loss": unit["final_loss"],
            "runtime": unit["train_runtime"], "tokens": unit["num_tokens"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--variants", type=int, nargs="+", help="indices into VARIANTS (0 = baseline, always run)")
    args = parser.parse_args()
    chosen = [VARIANTS[i] for i in sorted({0, *(args.variants or range(len(VARIANTS)))})]

    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm

    model_dir = prepare_embedded_llm()
    scratch = Path(tempfile.mkdtemp(prefix="bench-lora-"))
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in chosen}
    loads = []
    try:
        for repeat in range(args.repeats):
            for index, (label, trainer_args, logging_steps, base_dtype, head) in enumerate(chosen):
                config_path = scratch / f"v{index}.yaml"
                config_path.write_text(_config_text(args, trainer_args, logging_steps, base_dtype))
                home = scratch / f"home-{repeat}-{index}"
                (home / "models").mkdir(parents=True)
                (home / "models" / EMBEDDED_LLM).symlink_to(model_dir, target_is_directory=True)
                _use_head(head)
                results[label].append(_train(config_path, home))
                loads.append(os.getloadavg()[0])
                run = results[label][-1]
                print(f"  round {repeat + 1} {label:40} {run['tok_s']:7.1f} tok/s  loss {run['final_loss']:.4f}"
                      f"  load {loads[-1]:.1f}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nLoRA SFT, {args.steps} steps x batch {args.batch}, max_length {args.max_length}, {args.repeats} "
          f"round(s); load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    base = statistics.median(r["tok_s"] for r in results[VARIANTS[0][0]])
    for label, runs in results.items():
        median = statistics.median(r["tok_s"] for r in runs)
        losses = ", ".join(f"{r['final_loss']:.4f}" for r in runs)
        print(f"  {label:40} median {median:7.1f} tok/s  best {max(r['tok_s'] for r in runs):7.1f}  "
              f"{median / base:5.2f}x  final loss {losses}")


if __name__ == "__main__":
    main()
