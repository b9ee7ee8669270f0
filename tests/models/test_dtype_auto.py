"""`dtype: auto` resolves from the CPU's flags, and the resolved dtype (never "auto") is in the identity."""

import pytest

from harness import cpu_features
from harness.models.transformers_backend import TransformersBackend, resolve_dtype


@pytest.mark.parametrize(("flags", "expected"), [
    ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
    ({"amx_tile", "amx_bf16"}, "bfloat16"),
    ({"fp", "asimd", "bf16"}, "bfloat16"),  # aarch64 "Features"
    ({"avx2", "avx512f"}, "float32"),  # bf16 would be emulated: slower than float32
    (set(), "float32"),  # no /proc/cpuinfo (macOS, Windows)
])
def test_auto_follows_native_bf16_support(monkeypatch: pytest.MonkeyPatch, flags: set[str], expected: str) -> None:
    monkeypatch.setattr(cpu_features, "cpu_flags", lambda: flags)
    assert resolve_dtype("auto") == expected
    backend = TransformersBackend("smollm2-135m-instruct", dtype="auto")
    assert backend.dtype == expected
    assert backend.identity == TransformersBackend("smollm2-135m-instruct", dtype=expected).identity


def test_explicit_dtypes_are_kept_and_unknown_ones_refused() -> None:
    assert resolve_dtype("float32") == "float32" and resolve_dtype("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="auto"):
        TransformersBackend("smollm2-135m-instruct", dtype="float16")


def test_this_machines_flags_are_read() -> None:
    flags = cpu_features.cpu_flags()
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    assert flags and all(flag in text for flag in list(flags)[:20])
