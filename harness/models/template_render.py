"""Render a chat template to prompt text without a transformers tokenizer (the llamacpp backend's path).

The environment matches transformers' ``apply_chat_template`` (sandboxed, ``trim_blocks`` and
``lstrip_blocks``, ``raise_exception``, loop controls), so the same template gives the same prompt on both
backends; the ``{% generation %}`` markers the built-in templates carry for TRL render as plain text.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from harness.errors import ConfigError


@lru_cache(maxsize=32)
def _compiled(template: str) -> Any:
    import jinja2
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationMarkers(Extension):
        """``{% generation %}…{% endgeneration %}`` renders its body (TRL uses the markers, not the text)."""

        tags = {"generation"}  # noqa: RUF012 (jinja's own class attribute)

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.Scope(body, lineno=lineno)

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationMarkers, loopcontrols])
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"chat template: Jinja syntax error at line {exc.lineno}: {exc.message}") from None


def render_chat(template: str, messages: list[dict[str, str]], *, bos_token: str = "", eos_token: str = "",
                add_generation_prompt: bool = True) -> str:
    """The prompt text ``template`` makes of ``messages`` (ending with the assistant's opening)."""
    import jinja2

    try:
        return _compiled(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                          bos_token=bos_token, eos_token=eos_token, tools=None)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"chat template failed to render: {exc}") from None
