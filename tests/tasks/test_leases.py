"""The database backend's leases: a job whose worker stops heartbeating runs
again, a job that keeps losing its workers fails for good, a late outcome from
a worker that lost its lease changes nothing, and old results are purged."""

from __future__ import annotations

import datetime

import pytest

from hyperdjango.tasks import JobStatus, TaskFailed
from hyperdjango.tasks.jobs import ErrorInfo, Outcome

pytestmark = pytest.mark.parametrize("queue_backend", ["sqlite", "postgres"], indirect=True)


async def claim_and_die(queue, job_id: str):
    """Claims the job as a worker that will never heartbeat nor finish (a SIGKILLed one)."""
    backend = queue.backend
    backend.worker_id = "host:0:dead"
    [job] = await backend.claim(10, None)
    assert job.id == job_id
    return job


async def test_a_job_whose_worker_stopped_heartbeating_runs_again_without_counting_the_lost_attempt(make_queue):
    dead, alive = await make_queue(workers=0, lease=0.3), await make_queue(lease=0.3)
    for queue in (dead, alive):
        queue.task(name="tests.work")(lambda: "done")
    await dead.open()
    handle = dead.registry.get("tests.work").delay()
    await handle.enqueued()
    await claim_and_die(dead, handle.id)
    await alive.start()
    assert await handle.result(timeout=10) == "done"
    job = await alive.backend.get(handle.id)
    assert job.attempts == 1


async def test_a_job_that_keeps_losing_its_workers_fails_for_good(make_queue):
    dead, reaper = await make_queue(workers=0, lease=0.2), await make_queue(lease=0.2, max_lost=1)
    for queue in (dead, reaper):
        queue.task(name="tests.work")(lambda: "done")
    await dead.open()
    handle = dead.registry.get("tests.work").delay()
    await handle.enqueued()
    await claim_and_die(dead, handle.id)
    await reaper.start()
    with pytest.raises(TaskFailed) as failure:
        await handle.result(timeout=10)
    assert failure.value.error_type == "hyperdjango.tasks.errors.LeaseExpired"
    assert [job.id for job in await reaper.dead_letters()] == [handle.id]


async def test_an_outcome_from_a_worker_that_lost_its_lease_changes_nothing(make_queue):
    dead, alive = await make_queue(workers=0, lease=0.3), await make_queue(lease=0.3)
    for queue in (dead, alive):
        queue.task(name="tests.work")(lambda: "done")
    await dead.open()
    handle = dead.registry.get("tests.work").delay()
    await handle.enqueued()
    job = await claim_and_die(dead, handle.id)
    await alive.start()
    assert await handle.result(timeout=10) == "done"
    # The first worker comes back from a long pause and reports a failure.
    await dead.backend.finish(job, Outcome(JobStatus.FAILED, error=ErrorInfo("ValueError", "late", "")))
    assert await handle.status() is JobStatus.SUCCEEDED


async def test_succeeded_jobs_are_purged_after_the_retention_period_and_dead_ones_kept(make_queue):
    # The workers' own maintenance purges too (its first round comes lease/3 after start):
    # with the default retention it deletes nothing here, so only the purge under test,
    # by a second backend that keeps results for no time at all and runs no workers, does.
    queue = await make_queue()
    purger = await make_queue(workers=0, result_ttl=datetime.timedelta(0))

    @queue.task
    async def ok():
        return 1

    @queue.task
    async def broken():
        raise RuntimeError("kept for inspection")

    await queue.start()
    done, dead = ok.delay(), broken.delay()
    await done.result(timeout=10)
    with pytest.raises(TaskFailed):
        await dead.result(timeout=10)
    await purger.open()
    assert await purger.backend.purge() == 1
    assert await done.status() is JobStatus.UNKNOWN
    assert await dead.status() is JobStatus.FAILED
