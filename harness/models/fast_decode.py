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
by token. Rows keep running after they finish (a product over fewer rows may sum differently); a whole
segment (``decode_segments``: one request group with its own cache and limits, decoded beside others) leaves
the batch when it ends (83/83 gate texts identical to one decode per suite). The one
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from harness.models.cascade_attention import PrefixBlock, attend
from harness.models.packed_weights import PackedLayer, packed_weights

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


@dataclass
class DecodeSegment:
    """Prefilled rows that share decoding settings, with their own KV cache, ready for ``decode_segments``.

    A segment is one request group's rows (one suite's questions, say): its cache is as wide as its own
    prompts, so a batch of 1,100-token summaries does not widen the attention of short questions decoded
    beside it, while the weight products run once over all segments' rows. Made right after the prefill
    (``of``), it holds a shared prefix once, not once per row as transformers' cache does.
    """

    rows: int
    keys: list[torch.Tensor]  # per layer, [rows, kv heads, positions, head_dim]
    values: list[torch.Tensor]
    padding: torch.Tensor | None  # additive [rows, positions]: 0, or -inf at empty slots
    length: int  # positions filled
    blocks: list[PrefixBlock]  # shared prefixes, attended once per group (cascade_attention)
    max_new_tokens: int
    stop_check: StopCheck | None
    logits: torch.Tensor  # [rows, vocab]: each row's first new token's
    positions: torch.Tensor  # [rows, 1]: each row's last prompt position
    prompt_positions: int  # the longest prompt, shared prefix included

    @property
    def kv_positions(self) -> int:
        """Cached positions it holds over all rows (what a batch's memory budget counts)."""
        return self.rows * self.keys[0].shape[2] + sum(block.keys[0].shape[2] for block in self.blocks)

    @classmethod
    @torch.inference_mode()
    def of(cls, lm: Any, parts: Sequence[Prefilled], max_new_tokens: int,
           stop_check: StopCheck | None = None) -> DecodeSegment:
        """Storage for the rows of ``parts``, holding the prompts' keys and values from transformers' caches
        after the prefill forwards: each part's rows after the last one's, its positions ending at the widest
        part's (zeros before: masked). A part's shared prefix is kept once, as a block, and only the
        positions after it are copied per row."""
        config = lm.config
        layers, kv_heads = config.num_hidden_layers, config.num_key_value_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        dtype = lm.lm_head.weight.dtype
        masks = [part.attention_mask[:, part.shared_prefix :] for part in parts]
        width = max(mask.shape[1] for mask in masks)
        mask = torch.cat([F.pad(part_mask, (width - part_mask.shape[1], 0)) for part_mask in masks])
        rows, positions = mask.shape[0], width + max_new_tokens
        padding = None  # transformers passes no mask when no prompt is padded
        if not bool(mask.all()):
            # transformers passes the 2D padding mask as [B, 1, 1, kv]; the attention kernel turns a boolean
            # mask into 0 / -inf on every call, so that additive mask is made here once (same values).
            allowed = torch.ones(rows, positions, dtype=torch.bool)
            allowed[:, :width] = mask.bool()
            padding = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, float("-inf"))
        shape = (rows, kv_heads, positions, head_dim)
        keys = [torch.empty(shape, dtype=dtype) for _ in range(layers)]
        values = [torch.empty(shape, dtype=dtype) for _ in range(layers)]
        blocks = cls._seed(parts, keys, values, width)
        return cls(rows, keys, values, padding, width, blocks, max_new_tokens, stop_check,
                   torch.cat([part.logits for part in parts]), torch.cat([part.positions for part in parts]),
                   max(part.attention_mask.shape[1] for part in parts))

    @staticmethod
    def _seed(parts: Sequence[Prefilled], keys: list[torch.Tensor], values: list[torch.Tensor],
              width: int) -> list[PrefixBlock]:
        blocks: list[PrefixBlock] = []
        start = 0
        for part in parts:
            shared, cache_layers = part.shared_prefix, part.cache.layers
            for index, layer in enumerate(cache_layers):
                length = layer.keys.shape[2] - shared
                for store, source in ((keys[index], layer.keys), (values[index], layer.values)):
                    store[start : start + part.rows, :, width - length : width] = source[:, :, shared:]
                    store[start : start + part.rows, :, : width - length] = 0
            if shared:
                blocks.append(PrefixBlock.of_cache(start, part.rows, cache_layers, shared))
            start += part.rows
        return blocks

    def mask(self) -> torch.Tensor | None:
        """The additive mask [rows, 1, 1, positions] for the next step's attention."""
        return None if self.padding is None else self.padding[:, None, None, : self.length + 1]


class _Decoder:
    """The decode-step forward over preallocated KV caches (one query token per row).

    Per layer: one fused norm, the stacked q/k/v product, rotary embedding applied to q and k together
    (3 elementwise ops and a half swap), the attention kernel (per segment, over its own cache), the output
    product with the residual added in place, a fused norm, the stacked gate/up product, silu and multiply
    in place, the down product.
    """

    def __init__(self, lm: Any, segments: Sequence[DecodeSegment]) -> None:
        config = lm.config
        weights = packed_weights(lm)
        self.layers, self.lm_head = weights.layers, weights.lm_head
        self.embed, self.final_norm = lm.model.embed_tokens.weight, lm.model.norm.weight
        self.eps = config.rms_norm_eps
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.groups = self.heads // self.kv_heads
        self.scaling = self.head_dim ** -0.5
        # positions count shared prefixes: the longest prompt plus its new tokens
        positions = max(segment.prompt_positions + segment.max_new_tokens for segment in segments)
        self.cos, self.sin = _rope_tables(lm, positions, lm.lm_head.weight.dtype)
        self.segments = list(segments)

    def step(self, tokens: torch.Tensor, positions: torch.Tensor, segments: Sequence[DecodeSegment]) -> torch.Tensor:
        """Logits [B, vocab] for one new token per row of ``segments`` (their rows in order) at ``positions``."""
        hidden = F.embedding(tokens[:, None], self.embed)
        cos, sin = self.cos[positions], self.sin[positions]  # [B, 1, head_dim]: broadcast over heads
        masks = [segment.mask() for segment in segments]
        for index, layer in enumerate(self.layers):
            attended = self._attention(_rms_norm(hidden, layer.input_norm, self.eps), layer, index, cos, sin,
                                       segments, masks)
            hidden = attended.add_(hidden)  # residual + attention output (addition commutes bitwise)
            gate, up = layer.gate_up(_rms_norm(hidden, layer.post_norm, self.eps)).chunk(2, dim=-1)
            hidden = layer.down(F.silu(gate).mul_(up)).add_(hidden)
        for segment in segments:
            segment.length += 1
        return self.lm_head(_rms_norm(hidden, self.final_norm, self.eps))[:, -1, :]

    def _attention(self, normed: torch.Tensor, layer: PackedLayer, index: int, cos: torch.Tensor, sin: torch.Tensor,
                   segments: Sequence[DecodeSegment], masks: Sequence[torch.Tensor | None]) -> torch.Tensor:
        batch, half, rotated = normed.shape[0], self.head_dim // 2, self.heads + self.kv_heads
        heads = layer.qkv(normed).view(batch, -1, self.head_dim)  # [B, q heads + k heads + v heads, head_dim]
        query_key = heads[:, :rotated]
        swapped = torch.cat((query_key[..., half:], query_key[..., :half]), dim=-1)
        query_key = (query_key * cos).add_(swapped.mul_(sin))  # q * cos + rotate_half(q) * sin, q and k at once
        outs, start = [], 0
        for segment, mask in zip(segments, masks, strict=True):
            rows = slice(start, start + segment.rows)
            outs.append(self._attend(segment, mask, index, query_key[rows], heads[rows, rotated:]))
            start += segment.rows
        return layer.o(_cat(outs))

    def _attend(self, segment: DecodeSegment, mask: torch.Tensor | None, index: int, query_key: torch.Tensor,
                value: torch.Tensor) -> torch.Tensor:
        """One segment's attention output [rows, 1, heads x head_dim] over its own cache (and prefixes)."""
        batch, position = query_key.shape[0], segment.length
        segment.keys[index][:, :, position] = query_key[:, self.heads:]
        segment.values[index][:, :, position] = value
        keys, values = segment.keys[index][:, :, : position + 1], segment.values[index][:, :, : position + 1]
        if segment.blocks:  # shared prefixes: cascade attention (one read of each prefix per step)
            query = query_key[:, : self.heads].reshape(batch, self.kv_heads, self.groups, self.head_dim)
            out = attend(query, keys, values, mask, self.scaling, segment.blocks, index)
        elif mask is None:  # transformers' sdpa path without a mask: GQA inside the kernel
            query = query_key[:, : self.heads].unsqueeze(2)
            out = F.scaled_dot_product_attention(query, keys, values, scale=self.scaling, enable_gqa=True)
        else:  # with a mask: the query heads of one KV head packed as its query rows (pack_gqa)
            query = query_key[:, : self.heads].reshape(batch, self.kv_heads, self.groups, self.head_dim)
            out = F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, scale=self.scaling)
        return out.reshape(batch, 1, -1)  # one query position: heads in order, no transpose copy


def generate(lm: Any, tokenizer: Any, encoded: Any, params: Any, stops: Sequence[str],
             streamer: Any | None = None) -> torch.Tensor | None:
    """New tokens for a backend batch, or None when these settings need ``lm.generate`` (sampling, a
    repetition penalty, another architecture)."""
    if not supports(lm, greedy=params.greedy, repetition_penalty=params.repetition_penalty):
        return None
    stop_check = make_stop_check(tokenizer, stops) if stops else None
    return greedy_generate(lm, encoded["input_ids"], encoded["attention_mask"],
                           max_new_tokens=params.max_new_tokens, eos_ids=generation_eos(lm),
                           pad_id=tokenizer.pad_token_id, stop_check=stop_check, streamer=streamer)


def generation_eos(lm: Any) -> list[int]:
    """The end tokens ``generate`` stops on: the generation config's, not the tokenizer's."""
    eos = getattr(lm.generation_config, "eos_token_id", None)
    return [eos] if isinstance(eos, int) else list(eos or [])


def make_stop_check(tokenizer: Any, stops: Sequence[str]) -> StopCheck:
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
    segment = DecodeSegment.of(lm, parts, max_new_tokens, stop_check)
    return decode_segments(lm, [segment], eos_ids=eos_ids, pad_id=pad_id, streamer=streamer)[0]


def decode_segments(lm: Any, segments: Sequence[DecodeSegment], *, eos_ids: Sequence[int], pad_id: int,
                    streamer: Any | None = None) -> list[torch.Tensor]:
    """Greedy new tokens [segment rows, n] per segment, all segments decoded in one loop.

    Each step runs the weight products once over the rows of every segment still decoding, and each
    segment's attention over its own cache: requests with different token limits and stop strings (the
    suites of a gate run) share the products' cost instead of paying it once per batch. A segment leaves
    the batch when its rows have ended or it reached its token limit.
    """
    if streamer is not None and len(segments) != 1:
        raise ValueError("a streamer follows one segment's rows")
    with torch.inference_mode():
        return _loop(_Decoder(lm, segments), list(eos_ids), pad_id, streamer)


@dataclass
class _Progress:
    """One segment's state in the loop: its tokens so far, which rows still run, their text histories."""

    segment: DecodeSegment
    position: torch.Tensor  # [rows, 1]
    unfinished: torch.Tensor
    generated: list[torch.Tensor] = field(default_factory=list)
    history: list[list[int]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return len(self.generated) >= self.segment.max_new_tokens or not bool(self.unfinished.any())


def _loop(decoder: _Decoder, eos_ids: list[int], pad_id: int, streamer: Any | None) -> list[torch.Tensor]:
    """Greedy steps until every row has ended (end token or stop string) or its segment's token limit."""
    eos = torch.tensor(eos_ids, dtype=torch.long)
    states = [_Progress(segment, segment.positions, torch.ones(segment.rows, dtype=torch.bool),
                        history=[[] for _ in range(segment.rows)]) for segment in decoder.segments]
    active = [state for state in states if state.segment.max_new_tokens > 0]
    step_logits = [state.segment.logits for state in active]
    first = True
    while active:
        if not first:
            for state in active:
                state.position = state.position + 1
            step_logits = _split(decoder.step(_cat([s.generated[-1] for s in active]),
                                              _cat([s.position for s in active]), [s.segment for s in active]),
                                 [s.segment.rows for s in active])
        first = False
        for state, segment_logits in zip(active, step_logits, strict=True):
            _advance(state, segment_logits, eos, pad_id, streamer)
        active = [state for state in active if not state.done]
    return [torch.stack(state.generated, dim=1) if state.generated else torch.empty(state.segment.rows, 0,
            dtype=torch.long) for state in states]


def _advance(state: _Progress, logits: torch.Tensor, eos: torch.Tensor, pad_id: int, streamer: Any | None) -> None:
    """Pick one segment's next tokens (greedy; ended rows get padding) and mark the rows that end on them."""
    tokens = torch.where(state.unfinished, torch.argmax(logits, dim=-1), pad_id)
    state.generated.append(tokens)
    if streamer is not None:
        streamer.put(tokens)
    done = torch.isin(tokens, eos)
    stop_check = state.segment.stop_check
    if stop_check is not None:
        for row, token in enumerate(tokens.tolist()):
            if state.unfinished[row]:
                state.history[row].append(token)
                done[row] |= stop_check(row, state.history[row])
    state.unfinished &= ~done


def _cat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return tensors[0] if len(tensors) == 1 else torch.cat(tensors)


def _split(logits: torch.Tensor, rows: list[int]) -> list[torch.Tensor]:
    return [logits] if len(rows) == 1 else list(logits.split(rows))
