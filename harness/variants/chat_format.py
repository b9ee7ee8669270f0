"""Chat formatting for training: the loss-masking chat template (``{% generation %}`` markers, checked to render
like the original), prompt/completion records, and dropping over-long examples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Messages = list[dict[str, str]]


# ----------------------------------------------------------------------------- chat formatting

_GENERATION_RE = re.compile(r"\{%-?\s*generation\s*-?%\}")
# SmolLM2 / ChatML per-message expression, as in the model's own template.
_CHATML_MESSAGE = "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
_CHATML_MARKED = (
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}" + _CHATML_MESSAGE + "{% endif %}"
)
_PROBES: list[Messages] = [
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}],
    [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "One"},
     {"role": "assistant", "content": "Two"}, {"role": "user", "content": "Three"},
     {"role": "assistant", "content": "Four"}],
]


def training_chat_template(tokenizer: Any) -> str | None:
    """A chat template with ``{% generation %}`` markers that renders exactly like the model's.

    Returns the template to train with, or None when none can be made safely (the caller then
    uses prompt/completion records). Order: the model's own template if already marked, TRL's
    patched template for families it knows, else our ChatML patch (SmolLM2, Qwen-style).
    """
    original = tokenizer.chat_template
    if isinstance(original, dict):
        original = original.get("default")
    if not original:
        return None
    if _GENERATION_RE.search(original):
        return original
    candidates: list[str] = []
    try:
        from trl.chat_template_utils import get_training_chat_template

        patched = get_training_chat_template(tokenizer)
        if patched:
            candidates.append(patched)
    except (ValueError, ImportError):
        pass
    if _CHATML_MESSAGE in original:
        candidates.append(original.replace(_CHATML_MESSAGE, _CHATML_MARKED))
    for candidate in candidates:
        if _renders_like(tokenizer, original, candidate):
            return candidate
    return None


def _renders_like(tokenizer: Any, original: str, candidate: str) -> bool:
    for messages in _PROBES:
        for prompt in (False, True):
            probe = messages[:-1] if prompt else messages
            a = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=prompt,
                                              chat_template=original)
            b = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=prompt,
                                              chat_template=candidate)
            if a != b:
                return False
    return True


def to_prompt_completion(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conversational prompt/completion records: loss on the final assistant turn only."""
    out = []
    for record in records:
        messages = record["messages"]
        out.append({"id": record["id"], "prompt": messages[:-1], "completion": messages[-1:]})
    return out


def drop_overlong(records: Sequence[dict[str, Any]], tokenizer: Any, max_length: int,
                  margin: int = 8) -> tuple[list[dict[str, Any]], list[str]]:
    """Drop records whose prompt alone (up to the first trained turn) nearly fills ``max_length``.

    Truncation keeps the start, so such a record would keep no assistant token: a batch of
    them has an empty loss mask (NaN loss), and a DPO pair would compare empty completions.
    """
    kept, dropped = [], []
    for record in records:
        if "messages" in record:
            messages = record["messages"]
            first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
            prompt = messages[:first]
        else:
            prompt = record["prompt"]
        ids = tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=False)
        if len(ids) + margin >= max_length:
            dropped.append(record["id"])
        else:
            kept.append(record)
    return kept, dropped
