"""Cascade attention equals one attention call over [shared prefix | own positions], and prefix groups use it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from harness.models import fast_decode
from harness.models.cascade_attention import PrefixBlock, attend


def _full_attention(query: torch.Tensor, prefix_keys: torch.Tensor | None, prefix_values: torch.Tensor | None,
                    keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, scale: float) -> torch.Tensor:
    """The reference: one row's prefix (if any) placed before its own positions, a single kernel call."""
    if prefix_keys is not None:
        keys, values = torch.cat([prefix_keys, keys], dim=2), torch.cat([prefix_values, values], dim=2)
        mask = torch.cat([torch.zeros(*mask.shape[:-1], prefix_keys.shape[2]), mask], dim=-1)
    return F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, scale=scale)


def test_attention_over_a_shared_prefix_equals_the_full_cache() -> None:
    generator = torch.Generator().manual_seed(0)
    batch, kv_heads, groups, dim, own, prefix_a, prefix_b = 7, 3, 3, 16, 11, 40, 25
    query = torch.randn(batch, kv_heads, groups, dim, generator=generator)
    keys = torch.randn(batch, kv_heads, own, dim, generator=generator)
    values = torch.randn(batch, kv_heads, own, dim, generator=generator)
    mask = torch.zeros(batch, 1, 1, own)
    mask[:, :, :, :3] = float("-inf")  # padding in every row (the row part always keeps real positions)
    mask[6, :, :, :8] = float("-inf")
    prefixes = {name: (torch.randn(1, kv_heads, length, dim, generator=generator),
                       torch.randn(1, kv_heads, length, dim, generator=generator))
                for name, length in (("a", prefix_a), ("b", prefix_b))}
    blocks = [PrefixBlock(0, 3, [prefixes["a"][0]], [prefixes["a"][1]]),
              PrefixBlock(3, 2, [prefixes["b"][0]], [prefixes["b"][1]])]  # rows 5 and 6: no prefix
    got = attend(query.clone(), keys, values, mask, 0.25, blocks, 0)
    for row in range(batch):
        name = "a" if row < 3 else "b" if row < 5 else None
        shared = prefixes[name] if name else (None, None)
        expected = _full_attention(query[row : row + 1], *shared, keys[row : row + 1], values[row : row + 1],
                                   mask[row : row + 1], 0.25)
        torch.testing.assert_close(got[row : row + 1], expected, rtol=1e-5, atol=1e-6)


def test_prefix_groups_decode_through_cascade_attention(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared-prefix decode path attends through ``attend`` with one block per group, and an ordinary
    batch (no shared prefix) keeps the plain kernel; texts are checked against the ordinary path in
    test_prefix_reuse.py."""
    from harness.models.base import ChatRequest, GenerationParams
    from harness.models.transformers_backend import TransformersBackend

    seen: list[int] = []

    def counting(*args: Any) -> torch.Tensor:
        seen.append(len(args[5]))
        return attend(*args)

    monkeypatch.setattr(fast_decode, "attend", counting)
    note = " ".join(f"Line {i}: the patient takes medicine number {i} every morning with food." for i in range(25))
    params = GenerationParams(max_new_tokens=4)
    questions = [ChatRequest(messages=[{"role": "system", "content": note}, {"role": "user", "content": q}],
                             params=params) for q in ("What is line 3?", "What is line 7 about?")]
    backend = TransformersBackend("smollm2-135m-instruct")
    backend.generate(questions)
    assert seen and set(seen) == {1}  # one group: its prefix is one block
    seen.clear()
    backend.generate([ChatRequest(messages=[{"role": "user", "content": "Name a fruit."}], params=params)])
    assert seen == []
