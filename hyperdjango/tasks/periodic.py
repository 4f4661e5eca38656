"""Periodic tasks: ``@app.periodic(every=...)`` or ``cron=...``, one run per slot.

A slot is the instant a run is due: a multiple of ``every`` since the Unix
epoch, or a time matched by the cron expression (UTC). Every process that
runs workers also runs a scheduler; each enqueues the slot's job under the
id ``periodic:<task>:<slot>``, and the backend stores a job id once, so
however many processes or machines run schedulers, a slot runs once.
Slots that passed while no scheduler ran are not caught up.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import time
from typing import TYPE_CHECKING

from .jobs import Job

if TYPE_CHECKING:
    from .queue import TaskQueue
    from .registry import Task

log = logging.getLogger("hyperdjango.tasks")


class Schedule:
    """When a periodic task is due.

    >>> Schedule(every=datetime.timedelta(minutes=5)).next_slot(after=601.0)
    900.0
    >>> utc = datetime.timezone.utc
    >>> slot = Schedule(cron="*/5 * * * *").next_slot(after=datetime.datetime(2024, 1, 1, 0, 3, tzinfo=utc).timestamp())
    >>> datetime.datetime.fromtimestamp(slot, utc)
    datetime.datetime(2024, 1, 1, 0, 5, tzinfo=datetime.timezone.utc)
    """

    def __init__(self, every: datetime.timedelta | float | None = None, cron: str | None = None) -> None:
        if (every is None) == (cron is None):
            raise ValueError("a periodic task needs every=timedelta(...) or cron='...', exactly one")
        self.every = every.total_seconds() if isinstance(every, datetime.timedelta) else every
        if self.every is not None and self.every <= 0:
            raise ValueError("every= must be positive")
        self.cron = cron
        if cron is not None:
            from croniter import croniter

            if not croniter.is_valid(cron):
                raise ValueError(f"not a cron expression: {cron!r} (expected 5 fields like '*/5 * * * *')")

    def __repr__(self) -> str:
        return f"<Schedule every={self.every}s>" if self.cron is None else f"<Schedule cron={self.cron!r}>"

    def next_slot(self, after: float) -> float:
        """The first slot strictly after ``after`` (epoch seconds)."""
        if self.every is not None:
            return (math.floor(after / self.every) + 1) * self.every
        from croniter import croniter

        start = datetime.datetime.fromtimestamp(after, datetime.UTC)
        return croniter(self.cron, start).get_next(float)


class PeriodicScheduler:
    """Enqueues each periodic task's job when its slot comes."""

    def __init__(self, task_queue: TaskQueue) -> None:
        self.task_queue = task_queue
        self.entries: list[tuple[Task, Schedule]] = []
        self._runner: asyncio.Task | None = None

    def add(self, task: Task, schedule: Schedule) -> None:
        """Schedules ``task`` (it takes no arguments) on ``schedule``."""
        self.entries.append((task, schedule))

    def start(self) -> None:
        """Starts enqueueing slots as they come (nothing to do without periodic tasks)."""
        if self.entries and self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="hyperdjango-periodic")

    async def stop(self) -> None:
        """Stops enqueueing."""
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            self._runner = None

    async def _run(self) -> None:
        now = time.time()
        due = [schedule.next_slot(now) for _, schedule in self.entries]
        while True:
            slot = min(due)
            await asyncio.sleep(max(0.0, slot - time.time()))
            for i, (task, schedule) in enumerate(self.entries):
                if due[i] <= slot:
                    await self._enqueue(task, due[i])
                    due[i] = schedule.next_slot(max(due[i], time.time()))

    async def _enqueue(self, task: Task, slot: float) -> None:
        job = Job(
            id=f"periodic:{task.name}:{slot:.3f}",
            task=task.name,
            payload='{"args":[],"kwargs":{}}',
            queue=task.queue,
            priority=task.priority,
            run_at=slot,
            max_retries=task.retry.max_retries,
        )
        try:
            if await self.task_queue.backend.submit_once(job):
                log.debug("periodic task %s enqueued for slot %s", task.name, slot)
        except Exception:
            log.exception("enqueueing periodic task %s failed; the next slot will try again", task.name)
