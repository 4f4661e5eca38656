"""The in-process backend: jobs in this process's memory, the spec's default.

Nothing to install and nothing to run beside the app, but pending jobs are
lost when the process exits: use ``task_backend="database"`` for jobs that
must survive a restart or a crash.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Collection

from .backend import TaskBackend
from .errors import QueueFull
from .handle import TaskHandle
from .jobs import Job, JobInfo, JobStatus, Outcome

log = logging.getLogger("hyperdjango.tasks")


class InProcessBackend(TaskBackend):
    """Jobs in two heaps: ready ones by priority, delayed ones by due time.

    ``max_size`` bounds pending jobs (``QueueFull`` beyond it); the last
    ``keep_finished`` finished jobs are kept for ``handle.result()``, and failed
    ones stay in the dead-letter list until retried.
    """

    name = "inprocess"

    def __init__(self, max_size: int = 10000, keep_finished: int = 10000) -> None:
        self.max_size = max_size
        self.keep_finished = keep_finished
        self._seq = itertools.count()
        self._ready: list[tuple[int, int, Job]] = []  # (-priority, seq, job): higher priority first, then FIFO
        self._delayed: list[tuple[float, int, Job]] = []  # (run_at, seq, job)
        self._pending = 0  # lazily deleted heaps: cancelled jobs stay in them until popped
        self._jobs: dict[str, Job] = {}
        self._finished: deque[str] = deque()
        self._dead: OrderedDict[str, Job] = OrderedDict()
        self._finish_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._claim_waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- producer side ----------------------------------------------------------------

    def submit(self, job: Job) -> TaskHandle:
        if self._pending >= self.max_size:
            raise QueueFull(f"the task queue holds {self._pending} pending jobs (task_queue_size={self.max_size})")
        database = self.task_queue.database
        if database is not None and _on_loop(self._loop) and database.in_transaction:
            # As with the database backend: a job enqueued in a transaction
            # exists only if the transaction commits, and only after it does.
            database.on_commit(lambda: self._push(job))
        elif self._loop is not None and not _on_loop(self._loop):
            return self.submit_from_thread(job, self._loop)  # .delay() from a thread (a plain def view)
        else:
            self._push(job)
        return TaskHandle(job.id, job.task, self)

    async def submit_once(self, job: Job) -> bool:
        if job.id in self._jobs:
            return False
        self._push(job)
        return True

    def _push(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._pending += 1
        self._schedule(job)

    def _schedule(self, job: Job) -> None:
        if job.run_at <= time.time():
            heapq.heappush(self._ready, (-job.priority, next(self._seq), job))
            self._wake_claim()
        else:
            heapq.heappush(self._delayed, (job.run_at, next(self._seq), job))
            if self._delayed[0][2] is job:
                self._arm_timer()

    def _arm_timer(self) -> None:
        if self._loop is None or not self._delayed:
            return
        if self._timer is not None:
            self._timer.cancel()
        wait = max(0.0, self._delayed[0][0] - time.time())
        self._timer = self._loop.call_later(wait, self._promote_due)

    def _promote_due(self) -> None:
        self._timer = None
        now = time.time()
        while self._delayed and self._delayed[0][0] <= now:
            _, seq, job = heapq.heappop(self._delayed)
            heapq.heappush(self._ready, (-job.priority, seq, job))
        if self._ready:
            self._wake_claim()
        self._arm_timer()

    def _wake_claim(self) -> None:
        if self._claim_waiter is not None and not self._claim_waiter.done():
            self._claim_waiter.set_result(None)

    def wake(self) -> None:
        self._wake_claim()

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._promote_due()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            log.warning("%d pending job(s) stay in memory: the in-process queue is not durable", self._pending)
        self._loop = None

    # -- worker side ------------------------------------------------------------------

    async def claim(self, limit: int, queues: Collection[str] | None) -> list[Job]:
        jobs: list[Job] = []
        skipped = []
        while self._ready and len(jobs) < limit:
            entry = heapq.heappop(self._ready)
            job = entry[2]
            if job.status is not JobStatus.PENDING:
                continue  # cancelled while it waited
            if queues is not None and job.queue not in queues:
                skipped.append(entry)
                continue
            self._pending -= 1
            job.status = JobStatus.RUNNING
            job.attempts += 1
            job.started_at = time.time()
            jobs.append(job)
        for entry in skipped:
            heapq.heappush(self._ready, entry)
        if not jobs:
            self._claim_waiter = asyncio.get_running_loop().create_future()
            await self._claim_waiter
        return jobs

    async def finish(self, job: Job, outcome: Outcome) -> None:
        job.status = outcome.status
        if outcome.status is JobStatus.PENDING:
            if outcome.release:
                job.attempts -= 1  # never ran to an end: the attempt does not count
            else:
                job.error = outcome.error
                job.run_at = outcome.retry_at or time.time()
            self._pending += 1
            self._schedule(job)
            return
        job.result = outcome.result
        job.error = outcome.error
        job.finished_at = time.time()
        if outcome.status is JobStatus.FAILED:
            self._dead[job.id] = job
        self._retire(job)

    def _retire(self, job: Job) -> None:
        for waiter in self._finish_waiters.pop(job.id, ()):
            if not waiter.done():
                waiter.set_result(None)
        self._finished.append(job.id)
        while len(self._finished) > self.keep_finished:
            old = self._jobs.get(self._finished.popleft())
            if old is not None and old.status.finished and old.id not in self._dead:  # not retried since
                del self._jobs[old.id]

    # -- inspection -------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def wait_finished(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.status.finished:
            return job
        waiter = asyncio.get_running_loop().create_future()
        self._finish_waiters.setdefault(job_id, []).append(waiter)
        await waiter
        return job

    async def cancel(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.status.finished:
            return False
        if job.status is JobStatus.PENDING:
            job.status = JobStatus.CANCELLED
            job.finished_at = time.time()
            self._pending -= 1
            self._retire(job)
            return True
        pool = self.task_queue.pool
        return pool is not None and pool.cancel_running(job_id)

    async def jobs(self, statuses: Collection[JobStatus] | None, limit: int) -> list[JobInfo]:
        found = [j.info() for j in self._jobs.values() if statuses is None or j.status in statuses]
        found.sort(key=lambda info: info.created_at)
        return found[:limit]

    async def retry(self, job_id: str) -> bool:
        job = self._dead.pop(job_id, None)
        if job is None:
            return False
        job.status = JobStatus.PENDING
        job.attempts = 0
        job.run_at = time.time()
        job.finished_at = None
        self._pending += 1
        self._schedule(job)
        return True

    def counts(self) -> dict[str, int]:
        scheduled = sum(1 for _, _, job in self._delayed if job.status is JobStatus.PENDING)
        return {"pending": self._pending, "scheduled": scheduled, "dead": len(self._dead)}


def _on_loop(loop: asyncio.AbstractEventLoop | None) -> bool:
    """Whether we run on ``loop``'s thread (True when there is no loop yet: nothing to hand over to)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return loop is None
    return loop is None or running is loop
