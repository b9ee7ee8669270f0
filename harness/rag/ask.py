"""``harness ask``: question your own documents with a chosen candidate.

The candidate's own prompt is kept (its ``system``, else its Modelfile's SYSTEM, MESSAGEs and
PARAMETERs) and the top-k excerpts are added as reference material, exactly as a knowledge-base
candidate gets them during a run, so what you see here is what the suites score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ASK_SYSTEM = ("Answer the question using the reference material. If it does not cover the question, say that "
              "the documents do not say, and do not guess.")


@dataclass
class Answer:
    text: str
    passages: list[dict[str, Any]]
    messages: list[dict[str, str]]


def ask(question: str, retriever: Any, candidate: Any, *, k: int = 3, document_id: str | None = None) -> Answer:
    """Retrieve ``k`` passages for ``question`` and let ``candidate`` answer from them."""
    from harness.models.base import ChatRequest
    from harness.rag.knowledge import with_knowledge

    passages = retriever.retrieve(question, k=k, document_id=document_id)
    setup = candidate.free_prompt_setup(ASK_SYSTEM)
    messages = with_knowledge([{"role": "system", "content": setup.system}, *setup.few_shot,
                               {"role": "user", "content": question.strip()}], passages)
    result = candidate.backend.generate([ChatRequest(messages, setup.params)])[0]
    return Answer(result.text, passages, messages)
