"""The worker pool: runs claimed jobs on the event loop, ``concurrency`` at a time.

One fetch loop asks the backend for as many jobs as there are free slots,
in one claim, so a database backend pays one round trip per batch rather
than per job. Each job runs in its own asyncio task; plain ``def`` tasks run
in the loop's default executor (a thread pool).
"""

from __future__ import annotations

import asyncio
import logging
import time
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
        self._reasons: dict[str, str] = {}
        self._slot_free = asyncio.Event()
        self._stopping = False
        self._fetcher: asyncio.Task | None = None

    def start(self) -> None:
        """Starts taking jobs (on the running loop)."""
        self._fetcher = asyncio.get_running_loop().create_task(self._fetch(), name="hyperdjango-task-fetcher")

    async def _fetch(self) -> None:
        while not self._stopping:
            free = self.concurrency - len(self.running)
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                jobs = await self.backend.claim(free, self.queues)
            except Exception:
                # The database restarting must not kill the workers: wait and ask again.
                log.exception("claiming jobs failed; trying again in 1 s")
                await asyncio.sleep(1.0)
                continue
            for job in jobs:
                if self._stopping:
                    await self.backend.finish(job, Outcome(JobStatus.PENDING, release=True))
                else:
                    self.running[job.id] = asyncio.get_running_loop().create_task(self._run(job), name=f"task {job.task}")

    async def _run(self, job: Job) -> None:
        task: Task | None = None
        try:
            task = self.registry.get(job.task)
            args, kwargs = serialization.loads_call(job.payload)
            value = await task.run(args, kwargs, task.timeout)
            outcome = Outcome(JobStatus.SUCCEEDED, result=serialization.dumps(value))
        except asyncio.CancelledError:
            reason = self._reasons.pop(job.id, None)
            if reason is None:
                raise  # not ours: the loop itself is going away
            outcome = Outcome(JobStatus.PENDING, release=True) if reason == _RELEASE else Outcome(JobStatus.CANCELLED)
        except Exception as exc:
            outcome = self._failure(job, task, exc)
        self._count(outcome)  # before the outcome is visible, so stats never lag a handle's result
        try:
            await self.backend.finish(job, outcome)
        except Exception:
            log.exception("recording the outcome of job %s failed", job.id)
        finally:
            self.running.pop(job.id, None)
            self._reasons.pop(job.id, None)
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
        """Cancels a job this pool is running; False if it runs none by that id."""
        running = self.running.get(job_id)
        if running is None:
            return False
        self._reasons[job_id] = _CANCEL
        running.cancel()
        return True

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
