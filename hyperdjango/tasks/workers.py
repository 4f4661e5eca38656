"""The worker pool: runs claimed jobs on the event loop, ``concurrency`` at a time.

One fetch loop asks the backend for jobs in one claim per batch, so a
database backend pays one round trip per batch rather than per job: it holds
up to ``backend.prefetch(concurrency)`` claimed jobs beyond its running ones
and claims again only when at least that much room is free. When jobs end
faster than a claim comes back, it holds more, up to
``backend.max_prefetch(concurrency)``: as many as its slots run during one
claim (see ``_adapt_prefetch``). Each job runs in its own asyncio task; plain
``def`` tasks run in the loop's default executor (a thread pool).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Collection
from typing import TYPE_CHECKING

from . import serialization
from .jobs import ErrorInfo, Job, JobStatus, Outcome
from .registry import Task, TaskRegistry
from .retry import RetryPolicy
from .stats import Counters

if TYPE_CHECKING:
    from .backend import TaskBackend

log = logging.getLogger("hyperdjango.tasks")

_CANCEL = "cancel"  # the user cancelled the job: it ends CANCELLED
_RELEASE = "release"  # the pool is stopping: the job goes back to the queue untouched


class WorkerPool:
    """``concurrency`` workers fed by ``backend`` from ``queues`` (all when None)."""

    def __init__(
        self,
        backend: TaskBackend,
        registry: TaskRegistry,
        counters: Counters,
        concurrency: int,
        queues: Collection[str] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.backend = backend
        self.registry = registry
        self.counters = counters
        self.concurrency = concurrency
        self.queues = frozenset(queues) if queues else None
        self.running: dict[str, asyncio.Task] = {}
        #: Claimed, waiting for a free slot (their leases are kept like running jobs').
        self.held: deque[Job] = deque()
        self.prefetch = self.base_prefetch = backend.prefetch(concurrency)
        self.max_prefetch = max(self.base_prefetch, backend.max_prefetch(concurrency))
        #: Moving averages (seconds) of a claim that found jobs and of a job's run.
        self.claim_seconds = 0.0
        self.job_seconds = 0.0
        self._reasons: dict[str, str] = {}
        self._slot_free = asyncio.Event()
        self._stopping = False
        self._finishing: set[asyncio.Task] = set()
        self._fetcher: asyncio.Task | None = None

    def start(self) -> None:
        """Starts taking jobs (on the running loop)."""
        self._fetcher = asyncio.get_running_loop().create_task(self._fetch(), name="hyperdjango-task-fetcher")

    async def _fetch(self) -> None:
        while not self._stopping:
            capacity = self.concurrency + self.prefetch
            while self.held and len(self.running) < self.concurrency:
                self._start(self.held.popleft())
            # Outcomes not written yet take room beyond `capacity` of them, so
            # a slow database bounds how far execution runs ahead of it.
            room = capacity - len(self.running) - len(self.held) - max(0, len(self._finishing) - capacity)
            busy = bool(self.running or self.held)
            # With work in hand, wait for room for a whole batch rather than
            # claiming one job per freed slot.
            if room <= 0 or (busy and room < max(1, self.prefetch)):
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            started = time.perf_counter()
            try:
                jobs = await self.backend.claim(room, self.queues)
            except Exception:
                # The database restarting must not kill the workers: wait and ask again.
                log.exception("claiming jobs failed; trying again in 1 s")
                await asyncio.sleep(1.0)
                continue
            if jobs:  # an empty claim may have waited for work: not a round trip's time
                self.claim_seconds = _moving_average(self.claim_seconds, time.perf_counter() - started)
                self._adapt_prefetch()
            self.held.extend(jobs)
        while self.held:  # claimed but never started: back to the queue
            await self._release(self.held.popleft())

    def _adapt_prefetch(self) -> None:
        """Holds as many claimed jobs as the slots run while a claim is on its way
        (``concurrency * claim time / job time``), between the backend's
        ``prefetch`` and ``max_prefetch``: trivial jobs then never wait for a
        claim, and jobs held this way would not have started sooner in another
        worker (they all start within about one claim's time)."""
        if self.job_seconds <= 0.0:
            return
        wanted = math.ceil(self.concurrency * self.claim_seconds / self.job_seconds)
        self.prefetch = max(self.base_prefetch, min(self.max_prefetch, wanted))

    def _start(self, job: Job) -> None:
        self.running[job.id] = asyncio.get_running_loop().create_task(self._run(job), name=f"task {job.task}")

    async def _release(self, job: Job) -> None:
        try:
            await self.backend.finish(job, Outcome(JobStatus.PENDING, release=True))
        except Exception:
            log.exception("releasing job %s failed; it returns to the queue when its lease expires", job.id)

    async def _run(self, job: Job) -> None:
        task: Task | None = None
        started = time.perf_counter()
        try:
            task = self.registry.get(job.task)
            args, kwargs = serialization.loads_call(job.payload)
            value = await task.run(args, kwargs, task.timeout)
            outcome = Outcome(JobStatus.SUCCEEDED, result=serialization.dumps(value))
            self.job_seconds = _moving_average(self.job_seconds, time.perf_counter() - started)
        except asyncio.CancelledError:
            reason = self._reasons.pop(job.id, None)
            if reason is None:
                raise  # not ours: the loop itself is going away
            outcome = Outcome(JobStatus.PENDING, release=True) if reason == _RELEASE else Outcome(JobStatus.CANCELLED)
        except Exception as exc:
            outcome = self._failure(job, task, exc)
        self._count(outcome)  # before the outcome is visible, so stats never lag a handle's result
        # The slot is free once the outcome is handed over: outcomes of jobs that
        # end while a write is in flight then share the next commit, instead of
        # one commit per `concurrency` jobs. Unwritten, the job stays claimed
        # (its lease runs out if the process dies: at least once), and the
        # fetch loop counts it against its room (`_acking`).
        self.running.pop(job.id, None)
        self._reasons.pop(job.id, None)
        acking = asyncio.current_task()
        if acking is not None:
            self._finishing.add(acking)
        self._slot_free.set()
        try:
            await self.backend.finish(job, outcome)
        except Exception:
            log.exception("recording the outcome of job %s failed", job.id)
        finally:
            self._finishing.discard(acking)
            self._slot_free.set()

    def _failure(self, job: Job, task: Task | None, exc: Exception) -> Outcome:
        error = ErrorInfo.from_exception(exc)
        policy = task.retry if task is not None else RetryPolicy(job.max_retries)
        # The row's max_retries wins: it is what the job was enqueued with.
        policy = RetryPolicy(job.max_retries, policy.backoff, policy.jitter, policy.backoff_max)
        if policy.should_retry(job.attempts):
            delay = policy.delay(job.attempts)
            log.warning("task %s (%s) failed on attempt %d, retrying in %.2fs: %s: %s",
                        job.task, job.id, job.attempts, delay, error.type, error.message)
            return Outcome(JobStatus.PENDING, error=error, retry_at=time.time() + delay)
        log.error("task %s (%s) failed for good after %d attempt(s): %s: %s",
                  job.task, job.id, job.attempts, error.type, error.message)
        return Outcome(JobStatus.FAILED, error=error)

    def _count(self, outcome: Outcome) -> None:
        c = self.counters
        if outcome.status is JobStatus.PENDING:
            if not outcome.release:
                c.retried += 1
            return
        c.processed += 1
        if outcome.status is JobStatus.SUCCEEDED:
            c.succeeded += 1
        elif outcome.status is JobStatus.FAILED:
            c.failed += 1
        else:
            c.cancelled += 1

    def cancel_running(self, job_id: str) -> bool:
        """Cancels a job this pool is running or holds; False if it has none by that id."""
        for job in self.held:
            if job.id == job_id:
                self.held.remove(job)
                self.counters.processed += 1
                self.counters.cancelled += 1
                self._background(self.backend.finish(job, Outcome(JobStatus.CANCELLED)))
                return True
        running = self.running.get(job_id)
        if running is None:
            return False
        self._reasons[job_id] = _CANCEL
        running.cancel()
        return True

    def _background(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def stop(self, grace: float) -> None:
        """Stops claiming, lets running jobs finish for ``grace`` seconds, then
        cancels the rest and hands them back to the queue."""
        self._stopping = True
        self.backend.wake()
        self._slot_free.set()
        if self._fetcher is not None:
            await self._fetcher
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=grace)
        leftover = list(self.running.items())
        for job_id, running in leftover:
            self._reasons[job_id] = _RELEASE
            running.cancel()
        if leftover:
            log.warning("%d job(s) still running after %.1fs were released to the queue", len(leftover), grace)
            await asyncio.gather(*(t for _, t in leftover), return_exceptions=True)
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)


def _moving_average(average: float, sample: float) -> float:
    """An exponential moving average that follows the last ten or so samples."""
    return sample if average == 0.0 else average + (sample - average) / 8
