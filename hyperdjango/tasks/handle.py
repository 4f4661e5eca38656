"""``TaskHandle``: what ``.delay()`` returns."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import TYPE_CHECKING, Any

from . import serialization
from .errors import TaskCancelled, TaskFailed
from .jobs import JobStatus

if TYPE_CHECKING:
    from .backend import TaskBackend


class TaskHandle:
    """A job in the queue: its ``id``, and coroutines to follow it::

        handle = send_report.delay(report_id=7)
        await handle.status()           # JobStatus.PENDING / RUNNING / SUCCEEDED / ...
        await handle.result(timeout=5)  # the task's return value
        await handle.cancel()           # True if it will not run (or was stopped)

    With the database backend the job's row is written in the background right
    after ``.delay()`` returns (batched with other jobs); ``await
    handle.enqueued()`` waits until it is stored (committed, or part of the
    current transaction).
    """

    def __init__(
        self,
        job_id: str,
        task: str,
        backend: TaskBackend,
        stored: asyncio.Future[None] | concurrent.futures.Future[None] | None = None,
    ) -> None:
        self.id = job_id
        self.task = task
        self._backend = backend
        self._stored = stored

    def __repr__(self) -> str:
        return f"<TaskHandle {self.task} {self.id}>"

    async def enqueued(self) -> TaskHandle:
        """Waits until the job is stored; raises what storing it raised."""
        stored = self._stored
        if isinstance(stored, concurrent.futures.Future):  # .delay() was called from a thread
            stored = self._stored = asyncio.wrap_future(stored)
        if stored is not None:
            await asyncio.shield(stored)
        return self

    async def status(self) -> JobStatus:
        """Where the job is now."""
        await self.enqueued()
        job = await self._backend.get(self.id)
        return JobStatus.UNKNOWN if job is None else job.status

    async def result(self, timeout: float | None = None) -> Any:
        """Waits for the job to finish and returns its result.

        Raises :class:`TaskFailed` (with the error's type, message and traceback)
        if it failed for good, :class:`TaskCancelled` if it was cancelled,
        ``TimeoutError`` after ``timeout`` seconds, and ``LookupError`` for a job
        that does not exist (a rolled-back transaction, or purged).
        """
        await self.enqueued()
        async with asyncio.timeout(timeout):
            job = await self._backend.wait_finished(self.id)
        if job is None:
            raise LookupError(f"no job {self.id}: never stored, rolled back, or purged after its retention period")
        if job.status is JobStatus.SUCCEEDED:
            return None if job.result is None else serialization.loads(job.result)
        if job.status is JobStatus.CANCELLED:
            raise TaskCancelled(f"task {self.id} was cancelled")
        error = job.error
        if error is None:
            raise TaskFailed(self.id, None, None, None)
        raise TaskFailed(self.id, error.type, error.message, error.traceback)

    async def cancel(self) -> bool:
        """Cancels the job: a pending job never runs, a running one is stopped
        (an ``async def`` task gets ``CancelledError``; a plain function's
        thread cannot be stopped, its result is discarded). Returns False when
        the job had already finished."""
        await self.enqueued()
        return await self._backend.cancel(self.id)
