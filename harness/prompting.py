"""Turn a suite case into chat messages: system prompt, few-shot turns, history, the ask.

The suite's Jinja2 template renders the final user turn from the case's fields. A candidate
with a retriever replaces ``document`` by the passages it retrieved, so the same template
serves both full-document and RAG candidates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from harness.errors import ConfigError
from harness.suite import Case, Suite

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=64)
def _compile(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


def case_variables(case: Case, context: str | None = None) -> dict[str, Any]:
    data = case.model_dump()
    variables = {key: ("" if value is None else value) for key, value in data.items()}
    if case.messages:
        variables["input"] = case.messages[-1].content
    if context is not None:
        variables["document"] = context
    variables["context"] = context or variables.get("document", "")
    return variables


def render_user_turn(suite: Suite, case: Case, context: str | None = None) -> str:
    try:
        return _compile(suite.spec.prompt.template).render(**case_variables(case, context)).strip()
    except jinja2.TemplateError as exc:
        raise ConfigError(
            f"{suite.directory / 'suite.yaml'}: field 'prompt.template' failed on case {case.id!r}: {exc}"
        ) from None


def build_messages(
    suite: Suite,
    case: Case,
    *,
    system: str | None,
    few_shot: list[dict[str, str]] | None = None,
    context: str | None = None,
) -> list[dict[str, str]]:
    """System, few-shot turns, prior conversation, then the rendered final user turn."""
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system.strip()})
    messages.extend(m for m in (few_shot or []) if m["role"] != "system")
    if case.messages:
        messages.extend({"role": m.role, "content": m.content} for m in case.messages[:-1])
    messages.append({"role": "user", "content": render_user_turn(suite, case, context)})
    return messages


def format_passages(passages: list[dict[str, Any]]) -> str:
    """Retrieved chunks as the context block a RAG prompt shows the model."""
    blocks = []
    for passage in passages:
        section = passage.get("section") or "Summary"
        blocks.append(f"[{section}]\n{passage['text'].strip()}")
    return "\n\n".join(blocks)
