"""The fast decode loop's rewritten pieces give bitwise what they replace, on the embedded model's shapes:
the fused norm, the rotary tables, the tail-window stop check, the one-pass padding, and the fast loop on
shared-prefix groups."""

from __future__ import annotations

import pytest

from harness.models.base import ChatRequest, GenerationParams
from harness.models.token_rows import left_padded
from harness.models.transformers_backend import TransformersBackend, load_model_and_tokenizer

torch = pytest.importorskip("torch")
MODEL = "smollm2-135m-instruct"


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_fused_rms_norm_is_llamas_rms_norm(dtype: torch.dtype) -> None:
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    from harness.models.fast_decode import _rms_norm

    generator = torch.Generator().manual_seed(1)
    norm = LlamaRMSNorm(576, eps=1e-5).to(dtype)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(576, generator=generator))
        for scale in (1e-3, 1.0, 40.0):  # hidden states grow along the layers
            for rows in (1, 16):
                x = (torch.randn(rows, 1, 576, generator=generator) * scale).to(dtype)
                assert torch.equal(_rms_norm(x, norm.weight, 1e-5), norm(x))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_rope_tables_give_llamas_rotary_embedding(dtype: str) -> None:
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    from harness.models.fast_decode import _rope_tables

    lm, _ = load_model_and_tokenizer(MODEL, None, dtype)
    torch_dtype = lm.lm_head.weight.dtype
    cos_table, sin_table = _rope_tables(lm, 300, torch_dtype)
    positions = torch.tensor([[0], [7], [123], [299]])
    x = torch.randn(4, 12, 1, 64).to(torch_dtype)  # [B, heads, 1 position, head_dim]
    cos, sin = lm.model.rotary_emb(x, position_ids=positions)
    expected, _ = apply_rotary_pos_emb(x, x, cos, sin)
    rows = x[:, :, 0]
    swapped = torch.cat((rows[..., 32:], rows[..., :32]), dim=-1)
    ours = rows * cos_table[positions] + swapped * sin_table[positions]
    assert torch.equal(ours, expected[:, :, 0])


def test_tail_window_stop_check_stops_where_the_whole_history_check_stops() -> None:
    from harness.models.fast_decode import make_stop_check

    _, tokenizer = load_model_and_tokenizer(MODEL, None, "float32")
    texts = ["I hear you.\nUser: and then? “Quoted” — done", "Résumé: café ☕ naïve\n\n### End",
             "a" * 80 + "<|im_end|>"]
    stops = ["\nUser:", "###", "<|im_end|>", "é ☕", "— d", ".\n"]
    windowed = make_stop_check(tokenizer, stops)
    for text in texts:
        tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
        whole = [any(s in tokenizer.decode(tokens[: n + 1]) for s in stops) for n in range(len(tokens))]
        window = [windowed(0, tokens[: n + 1]) for n in range(len(tokens))]
        assert window.index(True) == whole.index(True)  # the first step that stops is the same


def test_left_padding_from_token_ids_is_the_tokenizers() -> None:
    _, tokenizer = load_model_and_tokenizer(MODEL, None, "float32")
    prompts = ["short one", "a somewhat longer prompt with more words in it", "mid length prompt"]
    tokenizer.truncation_side = "left"
    for context, room in ((None, None), (30, 10)):  # room = context - 20 new tokens: the long one is cut
        expected = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False,
                             truncation=room is not None, max_length=room)
        rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        ours = left_padded(rows, tokenizer.pad_token_id, context, 20)
        assert torch.equal(ours["input_ids"], expected["input_ids"])
        assert torch.equal(ours["attention_mask"], expected["attention_mask"])


NOTE = ("Ward note, written for this test. Mr Sample, 71, came in after a fall at home; no fracture on the "
        "hip X-ray. Blood pressure dropped on standing, so amlodipine was stopped. Physiotherapy saw him twice "
        "and he walks with a frame. A falls clinic letter will follow; his daughter will collect him. ") * 3


OTHER = ("Clinic summary, written for this test. Ms Test, 44, has asthma; her inhaler technique was checked and "
         "a spacer given. Peak flow is 380. She will return in three months or sooner if she wakes at night "
         "coughing. ") * 3


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_prefix_groups_decode_together_the_tokens_of_their_generate_path(dtype: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import fast_decode

    params = GenerationParams(max_new_tokens=24)
    asks = [(NOTE, "Why was amlodipine stopped?"), (OTHER, "What is her peak flow?"), (NOTE, "Who collects him?"),
            (OTHER, "When does she come back, and what should make her come sooner?"),
            (NOTE, "Did he break anything, and how does he walk?")]
    requests = [ChatRequest([{"role": "system", "content": f"Answer from this note only.\n{note}"},
                             {"role": "user", "content": q}], params) for note, q in asks]
    decoded: list[list[tuple[int, int]]] = []  # (rows, shared prefixes) per segment of each decode
    real = fast_decode.decode_segments
    monkeypatch.setattr(fast_decode, "decode_segments", lambda lm, segments, **kw: decoded.append(
        [(s.rows, len(s.blocks)) for s in segments]) or real(lm, segments, **kw))
    # bf16 keeps generate where it would use the static cache, so compare both on the dynamic cache there.
    options = {"static_cache": dtype == "float32", "dtype": dtype}
    fast = TransformersBackend(MODEL, **options).generate(requests)
    assert decoded[0] == [(5, 2)]  # both documents' groups in one decode batch (two prefixes), different lengths
    plain = TransformersBackend(MODEL, fast_prefix=False, **options).generate(requests)
    assert [(r.text, r.completion_tokens) for r in fast] == [(r.text, r.completion_tokens) for r in plain]
    assert all(r.text for r in fast)
    if dtype == "float32":  # and the ordinary path's (every prompt prefilled in full)
        ordinary = TransformersBackend(MODEL, prefix_reuse=False).generate(requests)
        assert [r.text for r in fast] == [r.text for r in ordinary]


def test_rope_that_rescales_with_length_keeps_generate(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import fast_decode

    lm, _ = load_model_and_tokenizer(MODEL, None, "float32")
    assert fast_decode.supports(lm, greedy=True, repetition_penalty=1.0)
    monkeypatch.setattr(lm.model.rotary_emb, "rope_type", "dynamic")  # tables made once would be wrong
    assert not fast_decode.supports(lm, greedy=True, repetition_penalty=1.0)
