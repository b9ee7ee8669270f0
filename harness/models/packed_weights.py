"""The decode loop's weights, read once per model: q/k/v and gate/up stacked, and prepacked for MKL or oneDNN.

Why: module attribute lookups and per-product weight layout cost on every decode step. Stacking keeps each
output its own dot product (the same sums), and the prepacked kernels are bitwise equal to ``F.linear``
(tests/models/test_fast_decode.py), so greedy outputs do not change (harness.models.fast_decode).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

PACK_BATCH = 16  # the batch the packed layouts are made for; other batch sizes still compute the same
# Packed float32 weights take ~3x the weights' memory (MKL's layout: +1.27 GiB RSS for the embedded 135M
# model, against +0.27 GiB for its bf16 packing); larger float32 models keep F.linear.
PACK_FLOAT32_UP_TO = 200_000_000  # parameters


def _packing(weight: torch.Tensor, parameters: int) -> str | None:
    """Which prepacked kernel computes ``F.linear``'s exact result faster for this weight, if any.

    Measured here (batch 16, per product): float32 through MKL's packed GEMM (the kernel F.linear calls,
    with the weight panel laid out once) 25-30% less CPU time; bfloat16 through oneDNN's prepacked
    matmul about 2x faster. Both bitwise equal to F.linear (tests/models/test_fast_decode.py checks the
    products and whole generations); oneDNN's float32 packing is not, so it is not used.
    """
    if weight.dtype == torch.float32 and parameters <= PACK_FLOAT32_UP_TO and torch.backends.mkl.is_available() \
            and hasattr(torch.ops.mkl, "_mkl_reorder_linear_weight"):
        return "mkl"
    if weight.dtype == torch.bfloat16 and torch.backends.mkldnn.is_available() \
            and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"):
        return "onednn"
    return None


class _Linear:
    """``x @ weight.T + bias``: F.linear's result, through a prepacked weight where one is exact."""

    __slots__ = ("bias", "kind", "packed", "weight")

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, parameters: int) -> None:
        self.weight, self.bias = weight, bias
        self.kind = _packing(weight, parameters)
        self.packed = None
        if self.kind == "mkl":
            self.packed = torch.ops.mkl._mkl_reorder_linear_weight(weight, PACK_BATCH)
        elif self.kind == "onednn":
            self.packed = torch.ops.mkldnn._reorder_linear_weight(weight, PACK_BATCH)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "mkl":  # below PACK_BATCH rows torch falls back to F.linear itself
            return torch.ops.mkl._mkl_linear(x, self.packed, self.weight, self.bias, PACK_BATCH)
        if self.kind == "onednn":
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return F.linear(x, self.weight, self.bias)


@dataclass
class PackedLayer:
    """One decoder layer's weights, read once (module attribute lookups cost per step)."""

    input_norm: torch.Tensor
    post_norm: torch.Tensor
    qkv: _Linear  # q, k and v stacked: one product, the same sums (each output is its own dot product)
    qkv_sizes: tuple[int, int, int]
    o: _Linear
    gate_up: _Linear  # gate and up stacked
    down: _Linear


@dataclass
class _Weights:
    layers: list[PackedLayer]
    lm_head: _Linear
    source: int  # data_ptr of the first stacked weight: a model cast or reloaded since is rebuilt


_WEIGHTS: weakref.WeakKeyDictionary[Any, _Weights] = weakref.WeakKeyDictionary()


def _stack(modules: Sequence[Any], parameters: int) -> _Linear:
    """One weight for several projections of the same input; the modules' weights become views of it,
    so the model's own forward (the prefill) reads the same memory and nothing is held twice."""
    weight = torch.cat([m.weight.detach() for m in modules], dim=0)
    biases = [m.bias for m in modules]
    bias = None if any(b is None for b in biases) else torch.cat([b.detach() for b in biases], dim=0)
    start = 0
    for module in modules:
        rows = module.weight.shape[0]
        module.weight.data = weight[start:start + rows]
        if bias is not None:
            module.bias.data = bias[start:start + rows]
        start += rows
    return _Linear(weight, bias, parameters)


def packed_weights(lm: Any) -> _Weights:
    """The decode weights of ``lm``, built once per model."""
    cached = _WEIGHTS.get(lm)
    if cached is not None and cached.source == lm.model.layers[0].self_attn.q_proj.weight.data_ptr():
        return cached
    parameters = sum(p.numel() for p in lm.parameters())
    layers = []
    with torch.no_grad():
        for layer in lm.model.layers:
            attn, mlp = layer.self_attn, layer.mlp
            sizes = (attn.q_proj.out_features, attn.k_proj.out_features, attn.v_proj.out_features)
            layers.append(PackedLayer(
                input_norm=layer.input_layernorm.weight, post_norm=layer.post_attention_layernorm.weight,
                qkv=_stack([attn.q_proj, attn.k_proj, attn.v_proj], parameters), qkv_sizes=sizes,
                o=_Linear(attn.o_proj.weight, attn.o_proj.bias, parameters),
                gate_up=_stack([mlp.gate_proj, mlp.up_proj], parameters),
                down=_Linear(mlp.down_proj.weight, mlp.down_proj.bias, parameters),
            ))
        head = _Linear(lm.lm_head.weight, lm.lm_head.bias, parameters)
    weights = _Weights(layers, head, lm.model.layers[0].self_attn.q_proj.weight.data_ptr())
    _WEIGHTS[lm] = weights
    return weights
