"""Decoding options side by side on the embedded model: same prompts, one run, ratios to the plain path.

    python bench/bench_decoding.py [--max-new-tokens 64] [--long] [--rounds 2] [--before REV]

Baseline: float32 ``lm.generate`` with transformers' default dynamic KV cache (the path before static
caches and fast decoding). Rows: float32 fast decode (``harness.models.fast_decode``, the default for greedy
batches) as it was at git revision ``--before`` (loaded from git into its own module, run on the same
weights) and as it is now; bfloat16 through ``generate`` (dynamic cache) and bfloat16 fast decode, before
and now (opt-in ``dtype: bfloat16``). The variants run in alternating rounds (A B C ..., A B C ...) so
load changes on a shared machine hit them alike; each row reports the median tokens/s over rounds, the
CPU seconds the process used (less sensitive to other jobs than wall time; on an idle 2-core machine
wall ~ CPU / 2), the ratio to the baseline, and how many greedy outputs are identical to the float32
baseline's, to bfloat16 ``generate``'s and to the same dtype's fast decode before.
``--long`` adds discharge-sized prompts (a ~700-token summary in the system message), where prompt
processing dominates and the token-budget batching applies.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from bench_generation import PROMPTS

REPO = Path(__file__).resolve().parents[1]

SUMMARY = (
    "Discharge summary. Admitted with community-acquired pneumonia, treated with intravenous antibiotics "
    "then oral amoxicillin. Oxygen weaned on day three. Follow-up chest X-ray in six weeks with the GP. "
) * 12
MODEL = "smollm2-135m-instruct"
BEFORE = "7e4dbb3"  # the commit before issue 21's decode-step work: fast decode as it was
VARIANTS = [  # (label, backend options, fast decode before); the first is the baseline
    ("float32 generate, dynamic cache (baseline)", {"static_cache": False, "fast": False}, False),
    ("float32 fast decode, before", {"fast": True, "fast_prefix": False}, True),
    ("float32 fast decode (default)", {"fast": True}, False),
    ("bfloat16 generate, dynamic cache", {"dtype": "bfloat16", "static_cache": False, "fast": False}, False),
    # bf16 keeps generate where it would use the static cache (outputs differ), so fast decode runs without it
    ("bfloat16 fast decode, before", {"dtype": "bfloat16", "static_cache": False, "fast": True, "fast_prefix": False},
     True),
    ("bfloat16 fast decode (opt-in)", {"dtype": "bfloat16", "static_cache": False, "fast": True}, False),
]


def before_fast_decode(revision: str) -> Any:
    """harness/models/fast_decode.py at ``revision`` as its own module, sharing today's packed weights (the
    same layer records), so the two loops alternate without re-packing the model."""
    import importlib.util

    from harness.models.packed_weights import packed_weights

    source = subprocess.run(["git", "show", f"{revision}:harness/models/fast_decode.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("fast_decode_before", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses look their module up
    exec(compile(source, f"{revision}:harness/models/fast_decode.py", "exec"), module.__dict__)
    module._weights = packed_weights
    return module


@contextlib.contextmanager
def fast_decode_from(module: Any | None) -> Iterator[None]:
    """The backend's fast decode loop taken from ``module`` (None: today's) while the block runs."""
    from harness.models import fast_decode
    from harness.models.transformers_backend import TransformersBackend

    if module is None:
        yield
        return
    today, defers = fast_decode.generate, TransformersBackend._defers

    def before(*args: Any, cache: Any = None, **kwargs: Any) -> Any:
        assert cache is None, "the loop before took no prefix cache: run it with fast_prefix=False"
        return module.generate(*args, **kwargs)

    fast_decode.generate = before
    TransformersBackend._defers = lambda *args, **kwargs: False  # type: ignore[method-assign]  # batches call generate
    try:
        yield
    finally:
        fast_decode.generate, TransformersBackend._defers = today, defers  # type: ignore[method-assign]


def _requests(long: bool, max_new_tokens: int) -> list:
    from harness.models.base import ChatRequest, GenerationParams

    params = GenerationParams(max_new_tokens=max_new_tokens)
    system = f"Answer from this summary only.\n{SUMMARY}" if long else "You are a supportive counsellor."
    return [ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": p}], params)
            for p in PROMPTS]


def _timed(backend: object, requests: list) -> tuple[float, float, list[str]]:
    """(tokens/s wall, CPU seconds, texts) for one generation of all requests."""
    began, cpu = time.perf_counter(), time.process_time()
    results = backend.generate(requests)  # type: ignore[attr-defined]
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    tokens = sum(r.completion_tokens or 0 for r in results)
    return tokens / seconds, cpu, [r.text for r in results]


def _compare(label: str, requests: list, rounds: int, max_new_tokens: int, before: Any) -> None:
    from harness.models.transformers_backend import TransformersBackend

    warm = [replace(r, params=r.params.model_copy(update={"max_new_tokens": 4})) for r in requests]  # timed shapes
    for _, kwargs, old in VARIANTS:  # load, pack and warm every variant outside the timings
        with fast_decode_from(before if old else None):
            TransformersBackend(MODEL, batch_size=16, **kwargs).generate(warm)
    rates: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    cpus: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    texts: dict[str, list[str]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, kwargs, old in VARIANTS:
            with fast_decode_from(before if old else None):
                rate, cpu, out = _timed(TransformersBackend(MODEL, batch_size=16, **kwargs), requests)
            rates[name].append(rate)
            cpus[name].append(cpu)
            if texts.setdefault(name, out) != out:
                print(f"  note: {name} gave different texts in two rounds")
            loads.append(os.getloadavg()[0])
    print(f"\n{label}: {len(requests)} prompts x {max_new_tokens} new tokens, batch 16, {rounds} alternating "
          f"rounds, load average {min(loads):.1f}-{max(loads):.1f}")
    baseline = VARIANTS[0][0]
    base_rate, base_cpu = statistics.median(rates[baseline]), statistics.median(cpus[baseline])
    for name, _, _ in VARIANTS:
        rate, cpu = statistics.median(rates[name]), statistics.median(cpus[name])
        line = (f"  {name:44} {rate:7.1f} tok/s {rate / base_rate:5.2f}x  CPU {cpu:6.1f} s "
                f"({base_cpu / cpu:4.2f}x)  identical to baseline {_same(texts, name, baseline)}")
        if name.startswith("bfloat16 fast"):
            line += f", to bfloat16 generate {_same(texts, name, 'bfloat16 generate, dynamic cache')}"
        if "fast decode (" in name:
            line += f", to before {_same(texts, name, name.split(' (')[0] + ', before')}"
        print(line, flush=True)


def _same(texts: dict[str, list[str]], name: str, other: str) -> str:
    pairs = list(zip(texts[name], texts[other], strict=True))
    return f"{sum(a == b for a, b in pairs)}/{len(pairs)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--long", action="store_true", help="also run discharge-sized prompts")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per variant (median reported)")
    parser.add_argument("--before", default=BEFORE, help="git revision of the fast decode loop to compare with")
    args = parser.parse_args()

    import harness  # noqa: F401  # its thread defaults (OMP_WAIT_POLICY) must be set before torch loads

    torch = importlib.import_module("torch")

    before = before_fast_decode(args.before)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    for label, long in [("short chat prompts", False)] + ([("discharge-sized prompts", True)] if args.long else []):
        _compare(label, _requests(long, args.max_new_tokens), args.rounds, args.max_new_tokens, before)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
