"""A lean greedy decode loop for Llama-family models: the same arithmetic as ``lm.generate``, less overhead.

Why: at batch 16 the embedded model spent most of each decode step outside the matrix products that
matter: growing the KV cache with ``torch.cat`` (a fresh allocation per layer per step), rebuilding
the attention mask, HF's per-layer module and keyword plumbing, and copying the whole logits tensor.
This loop keeps a preallocated KV cache, builds the padding mask once, and runs each layer as plain
tensor ops. The prompt is processed by the model's own forward (one call), whose cache seeds ours.

Parity: every operation on a row's numbers is the one transformers' Llama code runs with the dynamic
cache (same shapes, same order), and the two changes of kernel are bitwise equal: q/k/v and gate/up
stacked into one product each (every output is still its own dot product), and weights prepacked for
MKL (float32) or oneDNN (bfloat16); the fused norm, the rotary tables and the once-made additive mask
give bitwise what they replace (``tests/models/test_fast_decode_ops.py``). So greedy outputs are identical
to ``generate`` in either dtype; ``tests/models/test_fast_decode.py`` checks products and generations token
by token. Rows keep running after they finish (a product over fewer rows may sum differently). The one
exception: rows sharing a prompt prefix attend to it once per group (harness.models.cascade_attention),
equal up to float rounding (greedy texts identical on every gate generation and test).
Only greedy decoding without a repetition penalty takes this path (``supports``); sampling keeps
``generate`` and its seeded processors.

Profile (torch.profiler, batch 16 x 64 new tokens, float32, shared machine at load ~9): ``generate``
spent 52% in matrix products (lm_head 10%), 34% in ``torch.cat`` growing the cache, 5.5% in attention,
3.5% copying logits; this loop spends 66% in the packed products, 16% in attention, 10% in the prefill.
One step at batch 16 (torch.profiler, load ~1-3): bfloat16 51 ms = packed products 33 ms (weight reads:
~8 GB/s, one core's bandwidth), attention kernel 8 ms, norms/rotary/elementwise ~8 ms, Python ~1 ms; the
second core sleeps (OMP_WAIT_POLICY=PASSIVE, harness.threads: waking it per product costs what it
saves). float32 ~100 ms, of which the packed products 78 ms.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from harness.models.cascade_attention import PrefixBlock, attend

# Llama-architecture models whose decoder layer is exactly Llama's (norm, attention, gated MLP).
SUPPORTED_MODEL_TYPES = ("llama",)
StopCheck = Callable[[int, list[int]], bool]  # (row, tokens generated so far) -> a stop string was produced


def supports(lm: Any, *, greedy: bool, repetition_penalty: float) -> bool:
    """Whether ``greedy_generate`` reproduces ``lm.generate`` for these settings."""
    config = getattr(lm, "config", None)
    return (
        greedy
        and repetition_penalty == 1.0
        and getattr(config, "model_type", None) in SUPPORTED_MODEL_TYPES
        and getattr(config, "_attn_implementation", None) == "sdpa"
        and not getattr(config, "pretraining_tp", 1) > 1
        and hasattr(lm, "model")
        and hasattr(lm, "lm_head")
        # rotary tables are made once per generation: not for rope types that rescale with the length seen
        and not any(kind in str(getattr(getattr(lm.model, "rotary_emb", None), "rope_type", ""))
                    for kind in ("dynamic", "longrope"))
    )


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
class _Layer:
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
    layers: list[_Layer]
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


def _weights(lm: Any) -> _Weights:
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
            layers.append(_Layer(
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


def _rms_norm(hidden: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """LlamaRMSNorm's exact result (float32 statistics, then back to the input dtype) in one fused kernel.

    ``F.rms_norm`` computes ``x * rsqrt(mean(x^2) + eps)`` bitwise as LlamaRMSNorm's three ops do (checked
    in tests/models/test_fast_decode_ops.py); in bfloat16 the weight multiplies after the cast, as in Llama.
    """
    shape = (hidden.shape[-1],)
    if hidden.dtype == torch.float32:
        return F.rms_norm(hidden, shape, weight, eps)
    return weight * F.rms_norm(hidden.to(torch.float32), shape, eps=eps).to(hidden.dtype)


def _rope_tables(lm: Any, length: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sign-folded sin [positions, head_dim] for positions 0..length-1, from the model's own rotary
    embedding (each position's values are computed alone, so a table row equals the per-step result).

    ``rotate_half(x) * sin`` is ``cat(-x2, x1) * sin`` = ``cat(x2, x1) * cat(-sin1, sin2)`` bitwise (a sign
    flip is exact), so the sign lives in the table and a step only swaps the halves.
    """
    probe = torch.empty(1, dtype=dtype)
    cos, sin = lm.model.rotary_emb(probe, position_ids=torch.arange(length)[None, :])
    half = sin.shape[-1] // 2
    return cos[0], torch.cat((-sin[0, :, :half], sin[0, :, half:]), dim=-1)


class _Decoder:
    """The decode-step forward over a preallocated KV cache (one query token per row).

    Per layer: one fused norm, the stacked q/k/v product, rotary embedding applied to q and k together
    (3 elementwise ops and a half swap), the attention kernel, the output product with the residual added
    in place, a fused norm, the stacked gate/up product, silu and multiply in place, the down product.
    """

    def __init__(self, lm: Any, batch: int, max_len: int, padding: torch.Tensor | None,
                 positions: int | None = None) -> None:
        config = lm.config
        weights = _weights(lm)
        self.layers, self.lm_head = weights.layers, weights.lm_head
        self.embed, self.final_norm = lm.model.embed_tokens.weight, lm.model.norm.weight
        self.eps = config.rms_norm_eps
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.groups = self.heads // self.kv_heads
        self.scaling = self.head_dim ** -0.5
        dtype = lm.lm_head.weight.dtype
        self.cos, self.sin = _rope_tables(lm, positions or max_len, dtype)  # positions count shared prefixes
        shape = (batch, self.kv_heads, max_len, self.head_dim)
        self.keys = [torch.empty(shape, dtype=dtype) for _ in self.layers]
        self.values = [torch.empty(shape, dtype=dtype) for _ in self.layers]
        # transformers passes no mask when nothing is padded, else the 2D padding mask as [B, 1, 1, kv]; the
        # attention kernel turns a boolean mask into 0 / -inf in the query's dtype on every call, so that
        # additive mask is made here once (the same values, so the same result).
        self.padding = None if padding is None else torch.zeros(padding.shape, dtype=dtype).masked_fill_(
            ~padding, float("-inf"))
        self.length = 0
        self.blocks: list[PrefixBlock] = []  # shared prefixes, attended once per group (cascade_attention)

    def seed(self, parts: Sequence[Prefilled], width: int) -> None:
        """Copy the prompts' keys and values from transformers' caches after the prefill forwards, each
        part's rows after the last one's, its positions ending at ``width`` (zeros before: masked). A part's
        shared prefix is kept once, as a block, and only the positions after it are copied per row."""
        start = 0
        for part in parts:
            shared, layers = part.shared_prefix, part.cache.layers
            for index, layer in enumerate(layers):
                length = layer.keys.shape[2] - shared
                for store, source in ((self.keys[index], layer.keys), (self.values[index], layer.values)):
                    store[start : start + part.rows, :, width - length : width] = source[:, :, shared:]
                    store[start : start + part.rows, :, : width - length] = 0
            if shared:
                self.blocks.append(PrefixBlock.of_cache(start, part.rows, layers, shared))
            start += part.rows
        self.length = width

    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits [B, vocab] for one new token per row at ``positions`` [B, 1]."""
        hidden = F.embedding(tokens[:, None], self.embed)
        cos, sin = self.cos[positions], self.sin[positions]  # [B, 1, head_dim]: broadcast over heads
        end = self.length + 1
        mask = None if self.padding is None else self.padding[:, None, None, :end]
        for index, layer in enumerate(self.layers):
            attended = self._attention(_rms_norm(hidden, layer.input_norm, self.eps), layer, index, cos, sin, mask)
            hidden = attended.add_(hidden)  # residual + attention output (addition commutes bitwise)
            gate, up = layer.gate_up(_rms_norm(hidden, layer.post_norm, self.eps)).chunk(2, dim=-1)
            hidden = layer.down(F.silu(gate).mul_(up)).add_(hidden)
        self.length = end
        return self.lm_head(_rms_norm(hidden, self.final_norm, self.eps))[:, -1, :]

    def _attention(self, normed: torch.Tensor, layer: _Layer, index: int, cos: torch.Tensor, sin: torch.Tensor,
                   mask: torch.Tensor | None) -> torch.Tensor:
        batch, half, rotated = normed.shape[0], self.head_dim // 2, self.heads + self.kv_heads
        heads = layer.qkv(normed).view(batch, -1, self.head_dim)  # [B, q heads + k heads + v heads, head_dim]
        query_key = heads[:, :rotated]
        swapped = torch.cat((query_key[..., half:], query_key[..., :half]), dim=-1)
        query_key = (query_key * cos).add_(swapped.mul_(sin))  # q * cos + rotate_half(q) * sin, q and k at once
        end = self.length + 1
        self.keys[index][:, :, self.length] = query_key[:, self.heads:]
        self.values[index][:, :, self.length] = heads[:, rotated:]
        keys, values = self.keys[index][:, :, :end], self.values[index][:, :, :end]
        if self.blocks:  # shared prefixes: cascade attention (one read of each prefix per step)
            query = query_key[:, : self.heads].reshape(batch, self.kv_heads, self.groups, self.head_dim)
            out = attend(query, keys, values, mask, self.scaling, self.blocks, index)
        elif mask is None:  # transformers' sdpa path without a mask: GQA inside the kernel
            query = query_key[:, : self.heads].unsqueeze(2)
            out = F.scaled_dot_product_attention(query, keys, values, scale=self.scaling, enable_gqa=True)
        else:  # with a mask: the query heads of one KV head packed as its query rows (pack_gqa)
            query = query_key[:, : self.heads].reshape(batch, self.kv_heads, self.groups, self.head_dim)
            out = F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, scale=self.scaling)
        return layer.o(out.reshape(batch, 1, -1))  # one query position: heads in order, no transpose copy


def generate(lm: Any, tokenizer: Any, encoded: Any, params: Any, stops: Sequence[str],
             streamer: Any | None = None) -> torch.Tensor | None:
    """New tokens for a backend batch, or None when these settings need ``lm.generate`` (sampling, a
    repetition penalty, another architecture)."""
    if not supports(lm, greedy=params.greedy, repetition_penalty=params.repetition_penalty):
        return None
    stop_check = _stop_check(tokenizer, stops) if stops else None
    return greedy_generate(lm, encoded["input_ids"], encoded["attention_mask"],
                           max_new_tokens=params.max_new_tokens, eos_ids=_generation_eos(lm),
                           pad_id=tokenizer.pad_token_id, stop_check=stop_check, streamer=streamer)


def generate_prefilled(lm: Any, tokenizer: Any, parts: Sequence[Prefilled], params: Any,
                       stops: Sequence[str]) -> torch.Tensor:
    """New tokens for batches already prefilled (shared-prefix groups), decoded together as one batch."""
    stop_check = _stop_check(tokenizer, stops) if stops else None
    return decode(lm, parts, max_new_tokens=params.max_new_tokens, eos_ids=_generation_eos(lm),
                  pad_id=tokenizer.pad_token_id, stop_check=stop_check)


def _generation_eos(lm: Any) -> list[int]:
    """The end tokens ``generate`` stops on: the generation config's, not the tokenizer's."""
    eos = getattr(lm.generation_config, "eos_token_id", None)
    return [eos] if isinstance(eos, int) else list(eos or [])


def _stop_check(tokenizer: Any, stops: Sequence[str]) -> StopCheck:
    """A row stops at the first token whose text completes a stop string (what ``stop_strings`` does).

    Only the last ``stop_window(stops)`` tokens are decoded each step (decoding a row's whole history every
    step made the check quadratic in the generated length): a stop string that was absent before this
    token and present now lies in the text of the newest tokens.
    """
    window = stop_window(stops)

    def check(_row: int, tokens: list[int]) -> bool:
        text = tokenizer.decode(tokens[-window:])
        return any(stop in text for stop in stops)
    return check


def stop_window(stops: Sequence[str]) -> int:
    """Tokens whose text surely holds a stop string just completed: every token adds at least one byte
    (byte-level and byte-fallback vocabularies), a character is at most 4 UTF-8 bytes, and 2 tokens more
    so the window never starts inside the stop string (a leading-space marker or a split character)."""
    return 4 * max((len(stop) for stop in stops), default=0) + 2


@dataclass
class Prefilled:
    """A batch whose prompts have run through the model: what the decode loop continues from."""

    cache: Any  # transformers DynamicCache, [rows, kv heads, prompt length, head_dim] per layer
    attention_mask: torch.Tensor  # [rows, prompt length]
    logits: torch.Tensor  # [rows, vocab]: the next token's
    positions: torch.Tensor  # [rows, 1]: the last prompt token's position
    shared_prefix: int = 0  # leading cache positions identical in every row (a shared prompt prefix)

    @property
    def rows(self) -> int:
        return self.attention_mask.shape[0]


def prefill(lm: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, cache: Any | None = None) -> Prefilled:
    """Run the prompts through the model's own forward, as ``generate``'s first step does.

    ``cache``: a ``DynamicCache`` already holding every row's first positions (a shared prompt prefix,
    harness.models.prefix_reuse); only the rest of the prompt runs, as in ``generate`` handed that cache,
    and the decode loop attends to those positions once per batch (``shared_prefix``).
    """
    from transformers import DynamicCache

    attention_mask = attention_mask.to(torch.long)
    positions = (attention_mask.cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)
    with torch.inference_mode():
        cache = DynamicCache(config=lm.config) if cache is None else cache
        cached = cache.get_seq_length()
        logits = lm(input_ids=input_ids[:, cached:], attention_mask=attention_mask,
                    position_ids=positions[:, cached:], cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
    return Prefilled(cache, attention_mask, logits, positions[:, -1:], shared_prefix=cached)


def greedy_generate(lm: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, *, max_new_tokens: int,
                    eos_ids: Sequence[int], pad_id: int, stop_check: StopCheck | None = None,
                    streamer: Any | None = None) -> torch.Tensor:
    """New tokens [B, n] (finished rows padded with ``pad_id``), as greedy ``lm.generate`` returns them."""
    part = prefill(lm, input_ids, attention_mask)
    if streamer is not None:
        streamer.put(input_ids)
    try:
        return decode(lm, [part], max_new_tokens=max_new_tokens, eos_ids=eos_ids, pad_id=pad_id,
                      stop_check=stop_check, streamer=streamer)
    finally:
        if streamer is not None:
            streamer.end()


def decode(lm: Any, parts: Sequence[Prefilled], *, max_new_tokens: int, eos_ids: Sequence[int], pad_id: int,
           stop_check: StopCheck | None = None, streamer: Any | None = None) -> torch.Tensor:
    """Greedy new tokens [rows of all parts, n] for prefilled batches, decoded as one batch.

    Parts of different prompt lengths are aligned at the end: a shorter part's cache sits after masked
    empty slots (zeros, never attended), like left padding; each row keeps its own positions. A part's
    shared prefix is not copied per row: it is attended once per step (harness.models.cascade_attention).
    """
    masks = [part.attention_mask[:, part.shared_prefix :] for part in parts]
    width = max(mask.shape[1] for mask in masks)
    mask = torch.cat([F.pad(part_mask, (width - part_mask.shape[1], 0)) for part_mask in masks])
    padding = None  # transformers passes no mask when no prompt is padded
    if not bool(mask.all()):
        padding = torch.ones(mask.shape[0], width + max_new_tokens, dtype=torch.bool)
        padding[:, :width] = mask.bool()
    positions_needed = max(part.attention_mask.shape[1] for part in parts) + max_new_tokens
    with torch.inference_mode():
        decoder = _Decoder(lm, mask.shape[0], width + max_new_tokens, padding, positions_needed)
        decoder.seed(parts, width)
        logits = torch.cat([part.logits for part in parts])
        positions = torch.cat([part.positions for part in parts])
        return _loop(decoder, logits, positions, max_new_tokens, list(eos_ids), pad_id, stop_check, streamer)


def _loop(decoder: _Decoder, logits: torch.Tensor, position: torch.Tensor, max_new_tokens: int,
          eos_ids: list[int], pad_id: int, stop_check: StopCheck | None, streamer: Any | None) -> torch.Tensor:
    """Greedy steps until every row has ended (end token or stop string) or the token limit."""
    batch = logits.shape[0]
    unfinished = torch.ones(batch, dtype=torch.bool)
    eos = torch.tensor(eos_ids, dtype=torch.long)
    generated: list[torch.Tensor] = []
    history: list[list[int]] = [[] for _ in range(batch)]
    for step in range(max_new_tokens):
        if step:
            position = position + 1
            logits = decoder.step(generated[-1], position)
        tokens = torch.where(unfinished, torch.argmax(logits, dim=-1), pad_id)
        generated.append(tokens)
        if streamer is not None:
            streamer.put(tokens)
        done = torch.isin(tokens, eos)
        if stop_check is not None:
            for row, token in enumerate(tokens.tolist()):
                if unfinished[row]:
                    history[row].append(token)
                    done[row] |= stop_check(row, history[row])
        unfinished &= ~done
        if not unfinished.any():
            break
    return torch.stack(generated, dim=1)
