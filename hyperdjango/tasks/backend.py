"""What a task backend provides: the in-process queue and the database queue
(``inprocess.py``, ``database.py``) are the two implementations."""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
from collections.abc import Collection
from typing import TYPE_CHECKING

from .jobs import Job, JobInfo, JobStatus, Outcome

if TYPE_CHECKING:
    from .handle import TaskHandle
    from .queue import TaskQueue


class TaskBackend(abc.ABC):
    """Stores jobs and hands them to workers.

    The worker pool (``workers.py``) is the same for every backend: it asks
    :meth:`claim` for as many jobs as it has free slots, runs them, and reports
    each :class:`Outcome` to :meth:`finish`.
    """

    #: How ``HyperApp(task_backend=...)`` names it.
    name: str = ""

    def bind(self, task_queue: TaskQueue) -> None:
        """Called once by the :class:`TaskQueue` that owns the backend."""
        self.task_queue = task_queue

    # -- producer side (any process) ----------------------------------------------

    @abc.abstractmethod
    def submit(self, job: Job) -> TaskHandle:
        """Enqueues ``job`` without waiting (``.delay()`` is synchronous)."""

    def submit_from_thread(self, job: Job, loop: asyncio.AbstractEventLoop) -> TaskHandle:
        """``.delay()`` from a thread (a plain ``def`` view): the job is handed to
        ``loop`` and submitted there; the handle's ``enqueued()`` waits for that."""
        from .handle import TaskHandle

        stored: concurrent.futures.Future[None] = concurrent.futures.Future()

        def submit_on_loop() -> None:
            try:
                handle = self.submit(job)
            except BaseException as exc:
                stored.set_exception(exc)
                return
            asyncio.ensure_future(handle.enqueued()).add_done_callback(
                lambda done: stored.set_exception(done.exception()) if done.exception() else stored.set_result(None)
            )

        loop.call_soon_threadsafe(submit_on_loop)
        return TaskHandle(job.id, job.task, self, stored)

    @abc.abstractmethod
    async def submit_once(self, job: Job) -> bool:
        """Enqueues ``job`` unless a job with its id exists (periodic slots); True if it did."""

    async def open(self) -> None:
        """Prepares the backend before workers or producers use it (tables...)."""

    async def close(self) -> None:
        """Flushes what is buffered; after this, no job is accepted from this process."""

    # -- worker side -----------------------------------------------------------------

    async def start_workers(self, worker_id: str) -> None:
        """Called when a worker pool starts in this process (heartbeats...)."""

    async def stop_workers(self) -> None:
        """Called after the worker pool stopped; its outcomes must be stored on return."""

    def prefetch(self, concurrency: int) -> int:
        """How many claimed jobs a pool of ``concurrency`` may hold beyond those
        it runs. Claims from memory cost nothing: none by default."""
        return 0

    def max_prefetch(self, concurrency: int) -> int:
        """How many claimed jobs a pool may hold beyond those it runs when its
        jobs end faster than a claim comes back (at least :meth:`prefetch`)."""
        return self.prefetch(concurrency)

    @abc.abstractmethod
    async def claim(self, limit: int, queues: Collection[str] | None) -> list[Job]:
        """Up to ``limit`` runnable jobs, now marked running; waits a while when
        none is ready, and may return an empty list (the pool then asks again)."""

    @abc.abstractmethod
    async def finish(self, job: Job, outcome: Outcome) -> None:
        """Records how a run ended."""

    def wake(self) -> None:
        """Makes a waiting :meth:`claim` return now (the pool is stopping)."""

    # -- inspection ------------------------------------------------------------------

    @abc.abstractmethod
    async def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none."""

    @abc.abstractmethod
    async def wait_finished(self, job_id: str) -> Job | None:
        """Waits until the job finished and returns it (None: no such job)."""

    @abc.abstractmethod
    async def cancel(self, job_id: str) -> bool:
        """Stops the job from running (or running on); False if it had finished."""

    @abc.abstractmethod
    async def jobs(self, statuses: Collection[JobStatus] | None, limit: int) -> list[JobInfo]:
        """Jobs in the given statuses (all when None), oldest first."""

    @abc.abstractmethod
    async def retry(self, job_id: str) -> bool:
        """Puts a failed (dead) job back in the queue with fresh retries; False if it is not dead."""

    async def refresh_counts(self) -> dict[str, int]:
        """:meth:`counts`, exact as of now."""
        return self.counts()

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """``pending``, ``scheduled`` (pending, not due yet) and ``dead``; may be a
        few seconds old for a backend that has to ask a server."""
