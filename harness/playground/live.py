"""Live generation for the playground: tokens stream into the page with a time estimate.

The generation itself is the engine's (same cache, same Candidate); this module runs it on a
worker thread under :func:`harness.models.streaming.stream_tokens` and turns what arrives into
progress events. Estimates come from speeds measured in this process (first-token latency and
seconds per token, per backend), seeded from the store's past generations, so the first
uncached response says how long it will take instead of sitting silent.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from harness.models.streaming import stream_tokens


@dataclass
class Speed:
    """Measured speed of one backend (exponentially weighted, so it follows load changes)."""

    first_token_s: float | None = None
    per_token_s: float | None = None
    samples: int = 0
    typical_s: float | None = None  # mean seconds per stored generation (a prior before any measurement)

    def update(self, first_token_s: float | None, per_token_s: float | None, weight: float = 0.5) -> None:
        if first_token_s is not None:
            self.first_token_s = first_token_s if self.first_token_s is None else (
                weight * first_token_s + (1 - weight) * self.first_token_s)
        if per_token_s is not None:
            self.per_token_s = per_token_s if self.per_token_s is None else (
                weight * per_token_s + (1 - weight) * self.per_token_s)
        self.samples += 1


@dataclass
class Progress:
    """One update for the page: the text so far, and what is left to wait for."""

    text: str = ""
    tokens: int = 0
    elapsed_s: float = 0.0
    eta_s: float | None = None  # seconds until done (or until the first token, before it arrives)
    first_token: bool = False
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    notes: list[str] = field(default_factory=list)

    estimate: str = ""  # the wait in words, for the status line


def stream_generation(run: Callable[[], dict[str, Any]], speed: Speed, max_tokens: int,
                      *, interval_s: float = 0.25) -> Iterator[Progress]:
    """Run ``run()`` on a worker thread and yield Progress about every ``interval_s`` seconds; the last
    one carries ``result`` (or ``error``). Updates ``speed`` from what it measured."""
    events: queue.Queue[tuple[str, int, float]] = queue.Queue()
    outcome: dict[str, Any] = {}
    started = time.perf_counter()

    def worker() -> None:
        try:
            with stream_tokens(lambda text, n: events.put((text, n, time.perf_counter()))):
                outcome["result"] = run()
        except BaseException as exc:  # handed to the page, not lost on the thread
            outcome["error"] = exc

    thread = threading.Thread(target=worker, name="playground-generate", daemon=True)
    thread.start()
    state = Progress()
    first_at: float | None = None
    last_at = started
    while thread.is_alive() or not events.empty():
        try:
            text, n, at = events.get(timeout=interval_s)
            if first_at is None and n > 0:
                first_at = at
            while not events.empty():  # catch up to the newest text; the first token keeps its own time
                text, n, at = events.get_nowait()
                if first_at is None and n > 0:
                    first_at = at
            state.text, state.tokens, state.first_token, last_at = text, n, first_at is not None, at
        except queue.Empty:
            pass
        state.elapsed_s = time.perf_counter() - started
        state.eta_s, state.estimate = _eta(state, speed, max_tokens, started, first_at, last_at)
        if thread.is_alive():
            yield replace(state, notes=list(state.notes))  # a snapshot: the caller may keep it
    thread.join()
    if first_at is not None and state.tokens > 1 and last_at > first_at:
        speed.update(first_at - started, (last_at - first_at) / (state.tokens - 1))
    state.result, state.error = outcome.get("result"), outcome.get("error")
    yield state


def _eta(state: Progress, speed: Speed, max_tokens: int, started: float, first_at: float | None,
         last_at: float) -> tuple[float | None, str]:
    """Seconds left and the same in words: to the first token (measured latency; before any
    measurement, the store's typical time per response), then to the token limit at the speed
    measured so far in this response."""
    waited = time.perf_counter() - started
    if first_at is None:
        if speed.first_token_s is not None:
            left = speed.first_token_s - waited
            return left, f"first token in ~{max(0.0, left):.0f} s (measured {speed.first_token_s:.1f} s)"
        if speed.typical_s is not None:
            left = speed.typical_s - waited
            return left, (f"waiting {waited:.0f} s; a response took ~{speed.typical_s:.0f} s on average here, "
                          "first-token speed not measured yet")
        return None, f"waiting for the first token ({waited:.0f} s so far; measuring speed)"
    measured = (last_at - first_at) / (state.tokens - 1) if state.tokens > 1 else 0.0
    per_token = measured if measured > 0 else speed.per_token_s  # text arrives in words: a burst measures 0
    if not per_token:
        return None, f"{state.tokens}/{max_tokens} tokens"
    left = per_token * max(0, max_tokens - state.tokens)
    return left, f"{state.tokens}/{max_tokens} tokens, {1 / per_token:.1f} tokens/s, at most ~{left:.0f} s left"
