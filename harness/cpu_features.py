"""What this CPU computes natively, read from /proc/cpuinfo: decides where bf16 is the faster default.

Without native bf16 matmul (AMX / AVX512-BF16 on x86, BF16 on ARM) torch emulates it, slower than float32;
with it, bf16 products ran ~3x float32's here. Generation (``dtype: auto``) and LoRA training on CPU
(bf16 autocast unless ``trainer_args`` says otherwise) both ask :func:`has_native_bf16`.
"""

from __future__ import annotations

from pathlib import Path

NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 (Linux /proc/cpuinfo "flags"); aarch64 "Features"


def cpu_flags() -> set[str]:
    """The CPU's feature flags; empty where /proc/cpuinfo is missing (macOS, Windows: no reliable source)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def has_native_bf16() -> bool:
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)
