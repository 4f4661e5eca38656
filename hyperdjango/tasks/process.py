"""A worker process (``hyper worker``) and the job listing (``hyper tasks``)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import signal
from collections.abc import Collection
from typing import TYPE_CHECKING

from .jobs import JobInfo, JobStatus

if TYPE_CHECKING:
    from ..app import HyperApp

log = logging.getLogger("hyperdjango.tasks")


def _require_database_backend(app: HyperApp) -> None:
    if app.task_queue.backend.name != "database":
        raise SystemExit(
            "hyper: this app's task queue is in-process: its jobs live in the server's memory and run there. "
            "For separate worker processes use HyperApp(task_backend='database')."
        )


def run_worker(
    app: HyperApp,
    *,
    concurrency: int,
    queues: Collection[str] | None = None,
    grace: float = 30.0,
    periodic: bool = True,
) -> None:
    """Runs ``app``'s workers in this process until SIGTERM or SIGINT.

    The app's startup hooks run first (tasks may need what they set up). On
    the signal the worker stops claiming, gives running jobs ``grace`` seconds,
    then hands the rest back to the queue, and runs the shutdown hooks.
    """
    from ..serving.workers import new_event_loop

    _require_database_backend(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await app.database.connect()
        await app.startup()
        try:
            await app.task_queue.start(workers=concurrency, queues=queues, periodic=periodic)
            log.info("worker %d: %d slot(s) on %s", os.getpid(), concurrency,
                     ", ".join(sorted(queues)) if queues else "every queue")
            await stop.wait()
            log.info("worker %d stopping: running jobs get %.1fs", os.getpid(), grace)
        finally:
            await app.task_queue.stop(grace)
            await app.shutdown()
            await app.database.close()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.datetime.fromtimestamp(epoch).isoformat(sep=" ", timespec="seconds")


def format_jobs(jobs: list[JobInfo]) -> str:
    """A table of jobs, one line each; errors shortened to their first line."""
    lines = [f"{'ID':<36}  {'STATUS':<9}  {'TRIES':>5}  {'RUN AT':<19}  {'QUEUE':<10}  TASK / ERROR"]
    for job in jobs:
        line = f"{job.id:<36}  {job.status.value:<9}  {job.attempts:>5}  {_when(job.run_at):<19}  {job.queue:<10}  {job.task}"
        if job.error_type:
            message = (job.error_message or "").splitlines()[0] if job.error_message else ""
            line += f"  [{job.error_type}: {message[:80]}]"
        lines.append(line)
    return "\n".join(lines)


def run_tasks_command(app: HyperApp, *, statuses: list[str], limit: int, retry: list[str]) -> int:
    """``hyper tasks``: retries the given dead jobs, then lists jobs; returns the exit code."""
    _require_database_backend(app)

    async def main() -> int:
        code = 0
        try:
            for job_id in retry:
                if await app.task_queue.retry(job_id):
                    print(f"{job_id}: back in the queue")
                else:
                    print(f"{job_id}: no failed job by that id")
                    code = 1
            jobs = await app.task_queue.jobs([JobStatus(s) for s in statuses], limit=limit)
            print(format_jobs(jobs))
        finally:
            await app.database.close()
        return code

    return asyncio.run(main())
