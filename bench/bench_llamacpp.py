"""llamacpp vs transformers backend on the embedded SmolLM2 model, same prompts, one run.

    python bench/bench_llamacpp.py [--single 6] [--prompts 16] [--max-new-tokens 64] [--threads N] [--json F]

Two workloads, both through the harness's backends (prompt rendering, tokenizing, stop handling included):
- single prompt: one request at a time, as the playground and ``harness ask`` send them; tokens/s is
  generated tokens over wall time, first-token latency is a 1-token request's wall time;
- many prompts: ``--prompts`` requests in one ``generate`` call; transformers batches them (batch 16),
  llamacpp decodes them one after another.
A third workload times questions over one shared summary with llama.cpp's prefix KV cache kept vs recomputed.
Greedy agreement between the two (Q4_1 weights in llama.cpp vs the same weights dequantised to float32 in
transformers) is measured as identical texts and the shared prefix in tokens. The load average is printed
before and after: compare ratios within one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_generation import PROMPTS  # same prompts as the batching bench (bench/ is on sys.path)

SYSTEM = "You are a supportive counsellor."
MODEL = "smollm2-135m-instruct"


def _requests(prompts: list[str], max_new_tokens: int) -> list[Any]:
    from harness.models.base import ChatRequest, GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens)
    return [ChatRequest([{"role": "system", "content": SYSTEM}, {"role": "user", "content": p}], params)
            for p in prompts]


def _timed(backend: Any, requests: list[Any]) -> tuple[list[Any], float]:
    began = time.perf_counter()
    results = backend.generate(requests)
    return results, time.perf_counter() - began


def single_prompt(backend: Any, requests: list[Any]) -> dict[str, float]:
    """One request per call: generated tokens/s over the calls, and the median 1-token latency."""
    tokens, seconds, first = 0, 0.0, []
    for request in requests:
        results, elapsed = _timed(backend, [request])
        tokens += results[0].completion_tokens or 0
        seconds += elapsed
        one = type(request)(request.messages, request.params.merged({"max_new_tokens": 1}))
        first.append(_timed(backend, [one])[1])
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds,
            "first_token_s": statistics.median(first)}


def many_prompts(backend: Any, requests: list[Any]) -> tuple[dict[str, float], list[str]]:
    results, seconds = _timed(backend, requests)
    tokens = sum(r.completion_tokens or 0 for r in results)
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}, [r.text for r in results]


SUMMARY = ("Discharge summary. The patient, a 67-year-old man, was admitted with community-acquired pneumonia. "
           "He received intravenous antibiotics for three days and was switched to oral amoxicillin. Oxygen "
           "saturation improved to 96% on room air. He has type 2 diabetes treated with metformin, which was paused "
           "during admission and restarted at discharge. Follow up with the GP in one week. ") * 6
QUESTIONS = ["When should he see his GP?", "Which antibiotic does he take at home?", "Was metformin stopped?",
             "What was his oxygen level?"]


def shared_prefix(backend: Any, max_new_tokens: int) -> dict[str, float]:
    """Questions over one summary: the KV cache of the shared prompt kept (the backend's way) vs recomputed."""
    from harness.models.base import ChatRequest, GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens)
    requests = [ChatRequest([{"role": "system", "content": "Answer from the summary.\n" + SUMMARY},
                             {"role": "user", "content": q}], params) for q in QUESTIONS]
    kept, kept_s = _timed(backend, requests)
    llm, _ = backend._llama()
    fresh, fresh_s = [], 0.0
    for request in requests:
        llm.reset()  # forget the evaluated tokens: the next prompt is computed from its first token
        results, seconds = _timed(backend, [request])
        fresh += results
        fresh_s += seconds
    return {"prompt_tokens": kept[0].prompt_tokens or 0, "kept_s": kept_s, "recomputed_s": fresh_s,
            "speedup": fresh_s / kept_s, "identical": sum(a.text == b.text for a, b in zip(kept, fresh, strict=True)),
            "n": len(requests)}


def agreement(left: list[str], right: list[str]) -> dict[str, float]:
    """Identical greedy texts, and the shared prefix of the two texts in (SmolLM2) tokens."""
    from harness.models.transformers_backend import load_model_and_tokenizer

    _, tokenizer = load_model_and_tokenizer(MODEL)
    prefixes, first5 = [], 0
    for a, b in zip(left, right, strict=True):
        ta, tb = tokenizer(a)["input_ids"], tokenizer(b)["input_ids"]
        shared = next((i for i, (x, y) in enumerate(zip(ta, tb, strict=False)) if x != y), min(len(ta), len(tb)))
        prefixes.append(shared)
        first5 += shared >= 5
    return {"identical": sum(a == b for a, b in zip(left, right, strict=True)), "n": len(left),
            "first_5_tokens_equal": first5, "median_shared_prefix_tokens": statistics.median(prefixes)}


def thread_sweep(args: argparse.Namespace) -> None:
    """One-prompt decode speed per thread count: on a busy runner more threads can be much slower."""
    from harness.models.llamacpp_backend import LlamaCppBackend, available_cores

    requests = _requests(PROMPTS[: args.single], args.max_new_tokens)
    print(f"load avg before {os.getloadavg()[0]:.2f}")
    for threads in range(1, available_cores() + 1):
        backend = LlamaCppBackend(MODEL, n_threads=threads)
        backend.generate(requests[:1])
        row = single_prompt(backend, requests)
        print(f"threads {threads}: {row['tokens_per_s']:.1f} tok/s, first token {row['first_token_s'] * 1000:.0f} ms "
              f"(load avg {os.getloadavg()[0]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=6, help="prompts sent one at a time")
    parser.add_argument("--prompts", type=int, default=16, help="prompts sent in one generate call")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: available cores)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch threads (default: the same as llama.cpp's, so both use the same cores)")
    parser.add_argument("--thread-sweep", action="store_true",
                        help="only time one-prompt llamacpp decoding at 1..cores threads (shared runners)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    if args.thread_sweep:
        thread_sweep(args)
        return
    import torch

    from harness.models.llamacpp_backend import LlamaCppBackend, load_llama
    from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

    load_before = os.getloadavg()
    began = time.perf_counter()
    llama = LlamaCppBackend(MODEL, n_threads=args.threads)
    torch.set_num_threads(args.torch_threads or llama.n_threads)
    load_llama(llama.source.path, n_ctx=llama.n_ctx, n_threads=llama.n_threads, n_batch=llama.n_batch)
    llama_load = time.perf_counter() - began
    began = time.perf_counter()
    load_model_and_tokenizer(MODEL)
    torch_load = time.perf_counter() - began
    single_torch = TransformersBackend(MODEL, batch_size=1)
    batched_torch = TransformersBackend(MODEL, batch_size=16)
    warm = _requests(PROMPTS[:1], 4)
    llama.generate(warm), single_torch.generate(warm)

    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[: args.prompts]
    single_requests = _requests(prompts[: args.single], args.max_new_tokens)
    many_requests = _requests(prompts, args.max_new_tokens)
    figures: dict[str, Any] = {
        "load_s": {"llamacpp": llama_load, "transformers": torch_load},
        "single": {"llamacpp": single_prompt(llama, single_requests),
                   "transformers": single_prompt(single_torch, single_requests)},
    }
    llama_many, llama_texts = many_prompts(llama, many_requests)
    torch_many, torch_texts = many_prompts(batched_torch, many_requests)
    figures["many"] = {"llamacpp": llama_many, "transformers_batch16": torch_many}
    figures["agreement"] = agreement(llama_texts, torch_texts)
    llama.generate(warm)  # leave the summary's KV cache out of the first measurement
    figures["shared_prefix"] = shared_prefix(llama, 16)
    figures["machine"] = {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                          "llama_threads": llama.n_threads, "torch_threads": torch.get_num_threads(),
                          "load_before": load_before, "load_after": os.getloadavg(), "identity": llama.identity}
    _print(figures, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _print(figures: dict[str, Any], args: argparse.Namespace) -> None:
    machine = figures["machine"]
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs; llama.cpp threads {machine['llama_threads']}, "
          f"torch threads {machine['torch_threads']}; load avg before {machine['load_before'][0]:.2f}, "
          f"after {machine['load_after'][0]:.2f}")
    load = figures["load_s"]
    print(f"load: llamacpp {load['llamacpp']:.2f} s, transformers {load['transformers']:.2f} s")
    print(f"{'workload':<34} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'1st token':>10}")
    rows = [("single prompt, llamacpp", figures["single"]["llamacpp"]),
            ("single prompt, transformers", figures["single"]["transformers"]),
            (f"{args.prompts} prompts, llamacpp (sequential)", figures["many"]["llamacpp"]),
            (f"{args.prompts} prompts, transformers batch 16", figures["many"]["transformers_batch16"])]
    for name, row in rows:
        first = f"{row['first_token_s'] * 1000:>8.0f}ms" if "first_token_s" in row else ""
        print(f"{name:<34} {row['tokens']:>7} {row['seconds']:>8.1f} {row['tokens_per_s']:>9.1f} {first:>10}")
    single = figures["single"]["llamacpp"]["tokens_per_s"] / figures["single"]["transformers"]["tokens_per_s"]
    many = figures["many"]["llamacpp"]["tokens_per_s"] / figures["many"]["transformers_batch16"]["tokens_per_s"]
    print(f"single prompt llamacpp/transformers: {single:.2f}x "
          f"(llamacpp {figures['single']['llamacpp']['tokens_per_s']:.1f} tok/s, target >= 60)")
    print(f"{args.prompts} prompts llamacpp/transformers batch 16: {many:.2f}x")
    shared = figures["shared_prefix"]
    print(f"{shared['n']} questions over one {shared['prompt_tokens']}-token summary, 16 new tokens: prefix KV kept "
          f"{shared['kept_s']:.1f} s vs recomputed {shared['recomputed_s']:.1f} s = {shared['speedup']:.2f}x, "
          f"{shared['identical']}/{shared['n']} identical")
    agree = figures["agreement"]
    print(f"greedy agreement on {agree['n']} prompts: {agree['identical']} identical, {agree['first_5_tokens_equal']} "
          f"share the first 5 tokens, median shared prefix {agree['median_shared_prefix_tokens']} tokens")


if __name__ == "__main__":
    main()
