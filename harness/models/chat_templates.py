"""Chat templates for bases that ship without one (GPT-2, DialoGPT) or that a team wants to override.

A ``chat_template:`` value on a candidate or a training config is either a Jinja string (as in a
tokenizer's ``chat_template``) or one of the named built-ins below. Every built-in marks the
assistant's text with ``{% generation %}`` so TRL can train on assistant tokens only, and ends
an assistant turn with the tokenizer's ``eos_token`` so a tuned model learns to stop.

- ``plain``: ``User: …`` / ``Assistant: …`` lines, the system prompt as a first paragraph. The
  default for template-less bases: any tokenizer can render it, and base LMs continue it sensibly.
- ``chatml``: ``<|im_start|>role … <|im_end|>`` (Qwen, SmolLM2) with no default system prompt.
- ``dialogpt``: turns joined by ``eos_token``, as DialoGPT was trained; a system prompt is dropped
  (DialoGPT has no place for one), which :func:`template_warnings` says.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.errors import ConfigError

DEFAULT_FOR_TEMPLATELESS = "plain"

PLAIN = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] + '\n\n' }}"
    "{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n' }}"
    "{% else %}{{ 'Assistant:' }}{% generation %}{{ ' ' + message['content'] + eos_token }}{% endgeneration %}"
    "{{ '\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

CHATML = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

DIALOGPT = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ message['content'] + eos_token }}"
    "{% elif message['role'] == 'assistant' %}{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}"
    "{% endif %}{% endfor %}"
)

BUILT_INS: dict[str, str] = {"plain": PLAIN, "chatml": CHATML, "dialogpt": DIALOGPT}
# Text that ends an assistant turn but may not be a special token of the tokenizer (GPT-2 with
# ChatML): generation is cut there.
STOP_STRINGS: dict[str, tuple[str, ...]] = {"plain": ("\nUser:",), "chatml": ("<|im_end|>",), "dialogpt": ()}


def resolve_chat_template(value: str, *, base_dir: Path | None = None, where: str = "chat_template") -> str:
    """The Jinja text for a built-in name, a Jinja string, or a ``.jinja`` file (relative to ``base_dir``)."""
    text = value.strip()
    if text in BUILT_INS:
        return BUILT_INS[text]
    if "{%" in text or "{{" in text:
        return value
    if text.endswith((".jinja", ".j2")):
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if path.is_file():
            return path.read_text(encoding="utf-8")
        raise ConfigError(f"field '{where}': template file {str(path)!r} not found")
    raise ConfigError(
        f"field '{where}': {value!r} is neither a built-in template ({', '.join(BUILT_INS)}) nor a Jinja string",
        hint="use chat_template: plain (User:/Assistant: lines), chatml, dialogpt, or a Jinja template string",
    )


def stop_strings(value: str | None) -> tuple[str, ...]:
    """Extra stop strings for a built-in template, named or as its text (an adapter's lineage holds the
    text); none for custom Jinja."""
    text = (value or "").strip()
    name = text if text in BUILT_INS else next((n for n, t in BUILT_INS.items() if t.strip() == text), "")
    return STOP_STRINGS.get(name, ())


def template_identity(value: str | None) -> str | None:
    """Short hash of a template for fingerprints (None when the tokenizer's own template is used)."""
    if value is None:
        return None
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def has_template(tokenizer: object) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return bool(template.get("default") if isinstance(template, dict) else template)


def template_warnings(name: str | None, messages_have_system: bool) -> list[str]:
    """What a user should know about a built-in's limits."""
    if name == "dialogpt" and messages_have_system:
        return ["chat_template 'dialogpt' drops the system prompt (DialoGPT has no place for one)"]
    return []


def templateless_message(model: str) -> str:
    return (f"model {model!r} has no chat template; using the built-in {DEFAULT_FOR_TEMPLATELESS!r} template "
            "(User:/Assistant: lines). Set 'chat_template:' (plain, chatml, dialogpt or a Jinja string) to choose.")
