"""Shared-prefix reuse on a gated suite: same requests, same batches, one run, with and without.

    python bench/bench_prefix.py [--suite discharge] [--limit N] [--max-new-tokens N] [--dtype float32] [--rounds 1]
        [--before REV]

Builds the gate candidate's (``base``) prompts for the suite's test split (discharge: questions over
a shared summary; therapy and summarization share only the system prompt) exactly as
``harness run`` does, hands them to the transformers backend in the chunks the candidate sends
(sorted by length, 16 per call), and times generation with prefix reuse off (the baseline: every prompt
prefilled in full, then the fast decode loop), on as it was at git revision ``--before`` (prefix groups
through ``lm.generate``, other batches through that revision's fast decode loop), and on as it is now
(prefix groups prefilled on the prefix cache, then the fast decode loop), alternating per round. Prints the
prompt tokens each path runs through the model, tokens/s, CPU seconds, the ratios, and how many texts are
identical to the baseline's and to the path before. The load average is printed: compare rows within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "bench"))


def _suite_requests(name: str, limit: int | None, max_new_tokens: int | None) -> list:
    from harness.candidate import Candidate
    from harness.config import load_experiment
    from harness.gating import DEFAULT_CANDIDATES, gated_version
    from harness.models.base import ChatRequest
    from harness.prompting import build_messages

    suite = gated_version(name)
    spec = next(c for c in load_experiment(DEFAULT_CANDIDATES).candidates if c.name == "base")
    setup = Candidate(spec, base_dir=DEFAULT_CANDIDATES.parent).prompt_setup(suite)
    params = setup.params if max_new_tokens is None else setup.params.model_copy(
        update={"max_new_tokens": max_new_tokens})
    requests = [ChatRequest(build_messages(suite, case, system=setup.system, few_shot=setup.few_shot), params)
                for case in suite.select(limit=limit)]
    # The order and chunks Candidate.generate uses: by prompt characters, batch_size per backend call.
    return sorted(requests, key=lambda r: sum(len(m["content"]) for m in r.messages))


def _run(backend: object, requests: list, chunk: int) -> tuple[float, float, int, list[str]]:
    """(wall seconds, CPU seconds, new tokens, texts) for all requests in the candidate's chunks."""
    began, cpu = time.perf_counter(), time.process_time()
    results = []
    for start in range(0, len(requests), chunk):
        results += backend.generate(requests[start : start + chunk])  # type: ignore[attr-defined]
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return seconds, cpu, sum(r.completion_tokens or 0 for r in results), [r.text for r in results]


def _prompt_tokens(requests: list, chunk: int, reuse: bool) -> int:
    """Prompt tokens the model processes: every prompt in full, or each shared prefix once."""
    from harness.models.prefix_reuse import plan_groups
    from harness.models.transformers_backend import load_model_and_tokenizer

    _, tokenizer = load_model_and_tokenizer("smollm2-135m-instruct")
    total = 0
    for start in range(0, len(requests), chunk):
        texts = [tokenizer.apply_chat_template(list(r.messages), add_generation_prompt=True, tokenize=False)
                 for r in requests[start : start + chunk]]
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]  # as the backend tokenizes
        total += sum(len(i) for i in ids)
        if reuse:
            total -= sum(g.saved_tokens for g in plan_groups(ids, max_group=chunk)[0])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="discharge", help="a gated suite (default: discharge)")
    parser.add_argument("--limit", type=int, default=None, help="test cases (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: the suite's")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=16, help="requests per backend call (the candidate's batch)")
    parser.add_argument("--before", default=None, help="git revision of the path before (default: bench_decoding's)")
    args = parser.parse_args()

    from bench_decoding import BEFORE, before_fast_decode, fast_decode_from

    from harness.models.transformers_backend import TransformersBackend

    requests = _suite_requests(args.suite, args.limit, args.max_new_tokens)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{args.suite}: {len(requests)} test cases x {requests[0].params.max_new_tokens} new tokens, {args.dtype}")
    before = before_fast_decode(args.before or BEFORE)
    variants = {  # name: (prefix reuse, prefix groups through the fast loop, fast decode loop before)
        "prefix reuse off (baseline)": (False, True, False),
        "prefix reuse on, before": (True, False, True),
        "prefix reuse on (default)": (True, True, False),
    }
    backends = {name: TransformersBackend("smollm2-135m-instruct", dtype=args.dtype, prefix_reuse=on, fast_prefix=fast)
                for name, (on, fast, _) in variants.items()}
    for name, backend in backends.items():  # load and warm outside the timings
        with fast_decode_from(before if variants[name][2] else None):
            backend.generate(requests[:2])
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    texts: dict[str, list[str]] = {}
    tokens: dict[str, int] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, backend in backends.items():
            with fast_decode_from(before if variants[name][2] else None):
                seconds, cpu, tokens[name], texts[name] = _run(backend, requests, args.chunk)
            times[name].append(seconds)
            cpus[name].append(cpu)
            loads.append(os.getloadavg()[0])
    baseline, previous = "prefix reuse off (baseline)", "prefix reuse on, before"
    print(f"load average during the runs {min(loads):.1f}-{max(loads):.1f} (after each variant: "
          f"{', '.join(f'{load:.1f}' for load in loads[1:])})")
    for name, (on, _, _) in variants.items():
        best, cpu = min(times[name]), min(cpus[name])
        same = sum(a == b for a, b in zip(texts[name], texts[baseline], strict=True))
        same_before = sum(a == b for a, b in zip(texts[name], texts[previous], strict=True))
        print(f"  {name:28} prompt tokens {_prompt_tokens(requests, args.chunk, on):6}  {best:7.1f} s  "
              f"{tokens[name] / best:6.1f} tok/s  {min(times[baseline]) / best:5.2f}x  CPU {cpu:6.1f} s "
              f"({min(cpus[baseline]) / cpu:4.2f}x)  identical to baseline {same}/{len(requests)}, "
              f"to before {same_before}/{len(requests)}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
