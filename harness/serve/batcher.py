"""A batching queue: requests that wait together are generated together.

The model runs on one worker thread. Request handlers put a job on a bounded queue and await
its future; the worker takes the first waiting job, gathers whatever else is waiting (up to
``max_batch``, after at most ``batch_wait_ms``) and makes one ``generate`` call for all of them.
Twenty concurrent requests thus cost a few batched calls instead of twenty sequential ones.
A full queue refuses at once (503), a job past its deadline is dropped before it runs, and
closing fails every waiting job so a SIGTERM does not wait on a backlog.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from harness.models.base import ChatRequest, GenerationResult
from harness.serve.schema import RequestRejected

log = logging.getLogger(__name__)

GenerateFn = Callable[[Sequence[ChatRequest]], list[GenerationResult]]
CheckFn = Callable[[ChatRequest], None]  # raises RequestRejected for a request the model must not see


@dataclass
class Job:
    request: ChatRequest
    deadline: float
    future: Future[GenerationResult] = field(default_factory=Future)


@dataclass
class BatchStats:
    batches: int = 0
    generated: int = 0
    largest_batch: int = 0
    rejected_full: int = 0
    timed_out: int = 0


class BatchQueue:
    """One worker thread, one model, a bounded queue in front of it."""

    def __init__(self, generate: GenerateFn, *, max_batch: int, max_queue: int, batch_wait_s: float,
                 check: CheckFn | None = None) -> None:
        self._generate = generate
        self._check = check
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_s
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=max_queue)
        self._closing = threading.Event()
        self._worker = threading.Thread(target=self._run, name="harness-serve-batcher", daemon=True)
        self.stats = BatchStats()

    def start(self) -> None:
        self._worker.start()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    async def submit(self, request: ChatRequest, timeout_s: float) -> GenerationResult:
        """Queue ``request`` and wait for its result; RequestRejected on overload, timeout or shutdown."""
        if self.closing:
            raise RequestRejected(503, "server is shutting down", kind="server_error")
        job = Job(request, time.monotonic() + timeout_s)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.stats.rejected_full += 1
            raise RequestRejected(503, f"server busy: {self._queue.maxsize} requests already waiting",
                                  kind="server_error", headers={"Retry-After": "1"}) from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job.future), timeout_s)
        except TimeoutError:
            job.future.cancel()  # dropped by the worker if it has not started
            self.stats.timed_out += 1
            raise RequestRejected(504, f"request timed out after {timeout_s:g} s", kind="timeout_error") from None

    def close(self, wait_s: float = 0.0) -> None:
        """Refuse new work, fail every waiting job with 503, let the running batch finish up to ``wait_s``."""
        self._closing.set()
        self._drain()
        if self._worker.is_alive() and wait_s > 0:
            self._worker.join(timeout=wait_s)

    def _drain(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(RequestRejected(503, "server is shutting down", kind="server_error"))

    # ---- worker thread ------------------------------------------------------------------------
    def _gather(self) -> list[Job]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        jobs = [first]
        until = time.monotonic() + self.batch_wait_s
        while len(jobs) < self.max_batch:
            remaining = until - time.monotonic()
            try:
                jobs.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _runnable(self, jobs: list[Job]) -> list[Job]:
        """Jobs still wanted, not past their deadline, and passing the model-side check."""
        now = time.monotonic()
        live = []
        for job in jobs:
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller timed out already
            if now > job.deadline:
                job.future.set_exception(RequestRejected(504, "request timed out in the queue", kind="timeout_error"))
                continue
            try:
                if self._check is not None:
                    self._check(job.request)
            except RequestRejected as exc:
                job.future.set_exception(exc)
                continue
            live.append(job)
        return live

    def _run(self) -> None:
        while not self._closing.is_set():
            jobs = self._runnable(self._gather())
            if not jobs:
                continue
            try:
                results = self._generate([job.request for job in jobs])
            except Exception as exc:  # one bad batch must not kill the worker
                log.exception("generation failed for a batch of %d", len(jobs))
                error = RequestRejected(500, f"generation failed ({type(exc).__name__})", kind="server_error")
                for job in jobs:
                    job.future.set_exception(error)
                continue
            self.stats.batches += 1
            self.stats.generated += len(jobs)
            self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
            for job, result in zip(jobs, results, strict=True):
                job.future.set_result(result)
        self._drain()  # anything queued while closing
