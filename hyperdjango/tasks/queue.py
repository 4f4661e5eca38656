"""``TaskQueue``: an app's tasks, its backend, its workers and its periodic scheduler."""

from __future__ import annotations

import datetime
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

from .backend import TaskBackend
from .handle import TaskHandle
from .jobs import Job, JobInfo, JobStatus
from .periodic import PeriodicScheduler, Schedule
from .registry import Task, TaskDecorator, TaskRegistry
from .stats import Counters
from .workers import WorkerPool

if TYPE_CHECKING:
    from ..database import Database

P = ParamSpec("P")
R = TypeVar("R")


def make_backend(backend: str | TaskBackend, max_size: int) -> TaskBackend:
    """``"inprocess"`` (default), ``"database"``, or a backend instance."""
    if isinstance(backend, TaskBackend):
        return backend
    if backend in ("inprocess", "memory"):
        from .inprocess import InProcessBackend

        return InProcessBackend(max_size=max_size)
    if backend == "database":
        from .database import DatabaseBackend

        return DatabaseBackend(max_buffered=max_size)
    raise ValueError(f"unknown task backend {backend!r}: use 'inprocess', 'database' or a TaskBackend instance")


class TaskQueue:
    """The background-task queue of an app, ``app.task_queue``.

    >>> import asyncio
    >>> from hyperdjango.tasks import TaskQueue
    >>> queue = TaskQueue(workers=2)
    >>> @queue.task
    ... async def add(a, b):
    ...     return a + b
    >>> async def main():
    ...     async with queue:                   # HyperApp starts and stops it with the server
    ...         handle = add.delay(2, 3)
    ...         return await handle.result(timeout=5), await add(1, 1)
    >>> asyncio.run(main())
    (5, 2)

    ``workers`` jobs run at a time in this process; ``max_size`` bounds the
    pending jobs of the in-process backend (``QueueFull`` beyond it).
    ``database`` is where the database backend keeps its jobs, and the
    database whose ``atomic()`` blocks an enqueue joins (``app.database``).
    """

    def __init__(
        self,
        *,
        backend: str | TaskBackend = "inprocess",
        workers: int = 4,
        max_size: int = 10000,
        database: Database | None = None,
    ) -> None:
        self.registry = TaskRegistry()
        self.workers = workers
        self.max_size = max_size
        self.database = database
        self.counters = Counters()
        self.pool: WorkerPool | None = None
        self.scheduler = PeriodicScheduler(self)
        self.backend = make_backend(backend, max_size)
        self.backend.bind(self)
        self._opened = False

    # -- declaring tasks ---------------------------------------------------------------

    @overload
    def task(self, func: Callable[P, Awaitable[R]], *, name: str | None = None, queue: str = "default", priority: int = 0, max_retries: int = 0,
             retry_backoff: float = 2.0, retry_jitter: bool = True, timeout: float | None = None) -> Task[P, R]: ...
    @overload
    def task(self, func: Callable[P, R], *, name: str | None = None, queue: str = "default", priority: int = 0, max_retries: int = 0,
             retry_backoff: float = 2.0, retry_jitter: bool = True, timeout: float | None = None) -> Task[P, R]: ...
    @overload
    def task(self, func: None = None, *, name: str | None = None, queue: str = "default", priority: int = 0, max_retries: int = 0,
             retry_backoff: float = 2.0, retry_jitter: bool = True, timeout: float | None = None) -> TaskDecorator: ...

    def task(
        self,
        func: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        queue: str = "default",
        priority: int = 0,
        max_retries: int = 0,
        retry_backoff: float = 2.0,
        retry_jitter: bool = True,
        timeout: float | None = None,
    ) -> Task[..., Any] | TaskDecorator:
        """Decorator: ``@app.task`` or ``@app.task(queue=..., max_retries=3, ...)``
        turns an ``async def`` or plain ``def`` into a :class:`Task`.

        ``priority``: higher runs first. ``max_retries``: further attempts after
        a failure, ``retry_backoff * 2 ** (n - 1)`` seconds apart (with jitter).
        ``timeout``: seconds an attempt may take (``TimeoutError`` after, which
        counts as a failure).
        """
        options: dict[str, Any] = dict(name=name, queue=queue, priority=priority, max_retries=max_retries,
                                       retry_backoff=retry_backoff, retry_jitter=retry_jitter, timeout=timeout)

        def decorate(f: Callable[..., Any]) -> Task[..., Any]:
            if isinstance(f, Task):
                return f
            task: Task[..., Any] = Task(f, self, **options)
            self.registry.add(task)
            return task

        return decorate(func) if func is not None else cast(TaskDecorator, decorate)

    def periodic(
        self,
        func: Callable[..., Any] | None = None,
        *,
        every: datetime.timedelta | float | None = None,
        cron: str | None = None,
        **options: Any,
    ) -> Any:
        """Decorator: runs a task without arguments every ``every`` (a timedelta,
        slots aligned on the Unix epoch) or on a ``cron`` schedule (5 fields, UTC),
        once per slot across every process. Other options are :meth:`task`'s."""
        schedule = Schedule(every=every, cron=cron)

        def decorate(f: Callable[..., Any]) -> Task:
            task = self.task(f, **options)
            self.scheduler.add(task, schedule)
            return task

        return decorate(func) if func is not None else decorate

    def submit(self, job: Job) -> TaskHandle:
        """Enqueues a prepared job (``Task.apply_async`` builds them)."""
        return self.backend.submit(job)

    def handle(self, job_id: str, task: str = "") -> TaskHandle:
        """A handle on a job by id (from a previous ``.delay()``, or a listing)."""
        return TaskHandle(job_id, task, self.backend)

    # -- running -------------------------------------------------------------------------

    async def open(self) -> None:
        """Prepares the backend (its tables, for the database backend) without workers."""
        if not self._opened:
            await self.backend.open()
            self._opened = True

    async def start(self, workers: int | None = None, queues: Collection[str] | None = None, *, periodic: bool = True) -> None:
        """Starts ``workers`` workers (default ``self.workers``; 0: enqueue only)
        on ``queues`` (default: all) and, with ``periodic``, the scheduler."""
        await self.open()
        concurrency = self.workers if workers is None else workers
        if concurrency > 0 and self.pool is None:
            self.counters = Counters()
            worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            await self.backend.start_workers(worker_id)
            self.pool = WorkerPool(self.backend, self.registry, self.counters, concurrency, queues)
            self.pool.start()
        if periodic and concurrency > 0:
            self.scheduler.start()

    async def stop(self, grace: float = 30.0) -> None:
        """Stops the scheduler and the workers: running jobs get ``grace`` seconds
        to finish, the rest go back to the queue; buffered enqueues are written."""
        await self.scheduler.stop()
        if self.pool is not None:
            await self.pool.stop(grace)
            await self.backend.stop_workers()
            self.pool = None
        if self._opened:
            await self.backend.close()
            self._opened = False

    async def __aenter__(self) -> TaskQueue:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- inspecting ----------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """``pending`` (waiting, including ``scheduled``: delayed or waiting to
        retry), ``running``, ``workers``, ``processed`` (finished for good),
        ``succeeded``, ``failed`` (retries exhausted), ``cancelled``,
        ``retried`` (attempts scheduled again), ``dead`` (in the dead-letter list);
        with the database backend, ``unknown``: due jobs whose task this worker
        does not know, left for a worker that does.

        Counters are this process's since the queue started; ``pending``,
        ``scheduled`` and ``dead`` are the backend's (with the database backend,
        at most about a second old).
        """
        pool = self.pool
        stats = {"workers": pool.concurrency if pool else 0, "running": len(pool.running) if pool else 0}
        stats.update(self.counters.as_dict())
        stats.update(self.backend.counts())
        return stats

    async def fetch_stats(self) -> dict[str, int]:
        """:attr:`stats` with the backend's counts taken now (a query for the database backend)."""
        await self.open()
        await self.backend.refresh_counts()
        return self.stats

    async def jobs(self, status: JobStatus | str | Collection[JobStatus | str] | None = None, limit: int = 100) -> list[JobInfo]:
        """Jobs in ``status`` (one or several; all when None), oldest first."""
        if status is None:
            statuses = None
        elif isinstance(status, (str, JobStatus)):
            statuses = [JobStatus(status)]
        else:
            statuses = [JobStatus(s) for s in status]
        await self.open()
        return await self.backend.jobs(statuses, limit)

    async def dead_letters(self, limit: int = 100) -> list[JobInfo]:
        """Jobs that failed for good, with their last error; see :meth:`retry`."""
        return await self.jobs(JobStatus.FAILED, limit)

    async def retry(self, job_id: str) -> bool:
        """Puts a dead job back in the queue with its retries renewed; False if
        there is no dead job by that id."""
        await self.open()
        return await self.backend.retry(job_id)
