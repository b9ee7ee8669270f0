"""``template``: a deterministic backend that answers from a template, with no model at all.

Useful as a floor candidate (what does a canned, reflective reply score?) and to show what a team
writes to add a backend: a factory ``settings -> Backend`` registered under a name. The candidate's
``model`` field is the template; ``{last}`` is replaced by the person's last message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from harness.models.base import ChatRequest, GenerationResult
from harness.models.registry import BackendSettings, register_backend

DEFAULT_TEMPLATE = "It sounds like {last} What feels hardest about it right now?"


class TemplateBackend:
    def __init__(self, template: str) -> None:
        self.template = template if "{last}" in template else DEFAULT_TEMPLATE
        # The identity enters the cache key and fingerprints: a new template means new outputs.
        self.identity = "template:" + hashlib.sha256(self.template.encode()).hexdigest()[:12]

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        results = []
        for request in requests:
            last = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
            words = self.template.format(last=last.strip()).split()[: request.params.max_new_tokens]
            results.append(GenerationResult(" ".join(words), prompt_tokens=None, completion_tokens=len(words),
                                            finish_reason="stop"))
        return results


@register_backend("template")
def template_backend(settings: BackendSettings) -> TemplateBackend:
    return TemplateBackend(settings.model)
