"""``hyper worker`` and ``hyper tasks`` as separate processes over a real database:
jobs survive workers killed with SIGKILL, SIGTERM finishes or releases running
jobs, and dead jobs can be listed and retried from the command line."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hyperdjango.database import Database
from hyperdjango.tasks import JobStatus, TaskQueue
from hyperdjango.tasks.database import DatabaseBackend
from hyperdjango.tasks.schema import TABLE

APPS = Path(__file__).parent / "apps"


@pytest.fixture(params=["sqlite", "postgres"])
async def jobs_db(request):
    """A database with an empty job table and a ``job_runs`` table, and a queue enqueuing into it."""
    url = request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])
    db = Database(url)
    queue = TaskQueue(backend=DatabaseBackend(), workers=0, database=db)
    await queue.open()
    await db.execute(f"DELETE FROM {TABLE}")
    await db.execute("CREATE TABLE IF NOT EXISTS job_runs (n INTEGER NOT NULL, pid INTEGER NOT NULL)")
    await db.execute("DELETE FROM job_runs")
    # The same task names as tests/tasks/apps/jobs_app.py: producers only need the name.
    tasks = {name: queue.task(name=f"jobs.{name}")(lambda *a: None) for name in ("record", "nap", "fail")}
    yield url, db, queue, tasks
    await queue.stop()
    await db.close()


def start_worker(url: str, *args: str, lease: float = 1.0, poll: float = 0.05) -> subprocess.Popen:
    env = {**os.environ, "JOBS_DB_URL": url, "JOBS_LEASE": str(lease), "JOBS_POLL": str(poll)}
    return subprocess.Popen(
        [sys.executable, "-m", "hyperdjango", "worker", "jobs_app:app", *args],
        cwd=APPS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def hyper_tasks(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOBS_DB_URL": url}
    return subprocess.run([sys.executable, "-m", "hyperdjango", "tasks", "jobs_app:app", *args],
                          cwd=APPS, env=env, capture_output=True, text=True, timeout=60)


async def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := await condition():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_every_job_completes_while_workers_are_killed_with_sigkill(jobs_db):
    url, db, queue, tasks = jobs_db
    handles = [tasks["record"].delay(n) for n in range(1000)]
    for handle in handles:
        await handle.enqueued()
    workers = [start_worker(url, "--concurrency", "8") for _ in range(3)]
    kills_mid_job = 0
    try:
        # Kill, every 0.1 s, a worker that holds running jobs (5 times), starting a new one each time.
        started = time.monotonic()
        rng = random.Random(5)
        while kills_mid_job < 5 and time.monotonic() - started < 20:
            await asyncio.sleep(0.1)
            holding = {int(row["worker"].split(":")[1]) for row in await db.query(
                f"SELECT DISTINCT worker FROM {TABLE} WHERE status = 'running'")}
            victims = [i for i, w in enumerate(workers) if w.pid in holding]
            if not victims:
                continue
            victim = rng.choice(victims)
            os.kill(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait()
            kills_mid_job += 1
            workers[victim] = start_worker(url, "--concurrency", "8")

        async def all_done():
            return await db.query_val(f"SELECT count(*) FROM {TABLE} WHERE status = 'succeeded'") == 1000

        await wait_for(all_done, 45, "every job to succeed")
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert kills_mid_job == 5  # workers died holding jobs, and those jobs were recovered
    assert await db.query_val(f"SELECT count(*) FROM {TABLE} WHERE status <> 'succeeded'") == 0
    assert await db.query_val("SELECT count(DISTINCT n) FROM job_runs") == 1000
    assert [await h.result(timeout=1) for h in handles[:3]] == [0, 1, 2]


async def test_without_crashes_concurrent_workers_run_every_job_exactly_once(jobs_db):
    url, db, queue, tasks = jobs_db
    handles = [tasks["record"].delay(n) for n in range(600)]
    for handle in handles:
        await handle.enqueued()
    workers = [start_worker(url, "--concurrency", "8", lease=30.0) for _ in range(3)]
    try:
        async def all_done():
            return await db.query_val(f"SELECT count(*) FROM {TABLE} WHERE status = 'succeeded'") == 600

        await wait_for(all_done, 45, "every job to succeed")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    assert await db.query_val("SELECT count(*) FROM job_runs") == 600
    assert await db.query_val("SELECT count(DISTINCT pid) FROM job_runs") > 1  # the work was shared


async def test_sigterm_lets_a_running_job_finish_within_the_grace_period(jobs_db):
    url, db, queue, tasks = jobs_db
    handle = tasks["nap"].delay(0.5)
    worker = start_worker(url, "--grace", "20")
    try:
        await wait_for(lambda: _status_is(handle, JobStatus.RUNNING), 20, "the job to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()
    assert await handle.status() is JobStatus.SUCCEEDED


async def test_sigterm_releases_a_job_that_outlasts_the_grace_period(jobs_db):
    url, db, queue, tasks = jobs_db
    handle = tasks["nap"].delay(60)
    worker = start_worker(url, "--grace", "0.2", lease=30.0)
    try:
        await wait_for(lambda: _status_is(handle, JobStatus.RUNNING), 20, "the job to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()
    job = await queue.backend.get(handle.id)
    # Back in the queue at once (not after the 30 s lease), its attempt not counted.
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)


async def test_hyper_tasks_lists_dead_jobs_and_retries_them(jobs_db):
    url, db, queue, tasks = jobs_db
    handle = tasks["fail"].delay()
    worker = start_worker(url)
    try:
        await wait_for(lambda: _status_is(handle, JobStatus.FAILED), 20, "the job to fail")
        listing = hyper_tasks(url, "--status", "failed")
        assert listing.returncode == 0, listing.stderr
        assert handle.id in listing.stdout and "LookupError: nothing here" in listing.stdout
        retried = hyper_tasks(url, "--retry", handle.id, "--status", "pending,running,failed")
        assert retried.returncode == 0 and f"{handle.id}: back in the queue" in retried.stdout
        await wait_for(lambda: _status_is(handle, JobStatus.FAILED), 20, "the retried job to fail again")
        job = await queue.backend.get(handle.id)
        assert job.attempts == 1  # retried with fresh attempts
        assert hyper_tasks(url, "--retry", "no-such-job").returncode == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)


async def test_hyper_worker_refuses_an_in_process_queue():
    result = subprocess.run([sys.executable, "-m", "hyperdjango", "worker", "inprocess_app:app"],
                            cwd=APPS, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "in-process" in result.stderr


async def _status_is(handle, status: JobStatus) -> bool:
    return await handle.status() is status


async def test_a_postgres_worker_is_woken_by_notify_not_by_its_poll(jobs_db):
    url, db, queue, tasks = jobs_db
    if db.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll")
    worker = start_worker(url, lease=30.0, poll=600.0)
    try:
        await asyncio.sleep(2)  # the worker is up, has found nothing, and sleeps on its 600 s poll
        tasks["record"].delay(7)

        async def ran():
            return await db.query_val("SELECT count(*) FROM job_runs WHERE n = 7") == 1

        await wait_for(ran, 30, "the idle worker to be woken by the notification")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


async def test_a_delayed_job_runs_when_due_even_with_a_long_poll(jobs_db):
    url, db, queue, tasks = jobs_db
    await tasks["record"].apply_async(args=[8], countdown=3).enqueued()
    worker = start_worker(url, lease=30.0, poll=600.0)
    try:

        async def ran():
            return await db.query_val("SELECT count(*) FROM job_runs WHERE n = 8") == 1

        await wait_for(ran, 30, "the delayed job to run when due")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
