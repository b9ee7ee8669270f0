"""Token streaming for interactive use (the playground), without changing what is generated.

A caller wraps a generation in :func:`stream_tokens`; a backend that can stream (transformers,
one prompt at a time) then hands the decoded text so far to the callback as tokens arrive. The
streamer only observes ``generate``: same inputs, same decoding, so the text and the cache key
are exactly those of a non-streamed run. The hook is thread-local, so a batch run on another
thread never streams into someone's browser.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

OnText = Callable[[str, int], None]  # (decoded text so far, new tokens so far)
_LOCAL = threading.local()


@contextmanager
def stream_tokens(on_text: OnText) -> Iterator[None]:
    """Stream one-prompt generations on this thread to ``on_text`` while the block runs."""
    previous = getattr(_LOCAL, "on_text", None)
    _LOCAL.on_text = on_text
    try:
        yield
    finally:
        _LOCAL.on_text = previous


def streamer_for(tokenizer: Any, n_prompts: int) -> Any | None:
    """A transformers streamer for this generation, or None (nobody listening, or a batch)."""
    on_text = getattr(_LOCAL, "on_text", None)
    if on_text is None or n_prompts != 1:
        return None
    from transformers import TextStreamer

    class _CallbackStreamer(TextStreamer):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.text = ""
            self.tokens = 0
            self._prompt_seen = False

        def put(self, value: Any) -> None:
            if self._prompt_seen:
                self.tokens += int(value.numel())
            self._prompt_seen = True
            super().put(value)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            self.text += text
            on_text(self.text, self.tokens)

    return _CallbackStreamer()
