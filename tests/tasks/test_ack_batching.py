"""The database backend claims jobs in batches and writes the outcomes of jobs that end close
together in one commit."""

from __future__ import annotations

import asyncio
import time

import pytest

from hyperdjango.database import Database
from hyperdjango.tasks import JobStatus
from hyperdjango.tasks.database import DatabaseBackend
from hyperdjango.tasks.jobs import ErrorInfo, Outcome
from hyperdjango.tasks.schema import TABLE


@pytest.mark.parametrize("queue_backend", ["postgres"])
async def test_outcomes_of_jobs_ending_during_a_commit_share_the_next_one(make_queue, pg_url):
    # Two slots: if a slot stayed taken until its outcome was committed, every
    # commit would carry at most two outcomes (30 or more commits for 60 jobs).
    queue = await make_queue(workers=2)

    @queue.task
    async def quick(i):
        return i

    await queue.start()
    handles = [quick.delay(i) for i in range(60)]
    assert [await handle.result(timeout=30) for handle in handles] == list(range(60))
    database = Database(pg_url)
    try:
        # A row's xmin is the transaction that wrote it last: here, its outcome's.
        commits = await database.query_val(f"SELECT count(DISTINCT xmin::text) FROM {TABLE} WHERE status = 'succeeded'")
    finally:
        await database.close()
    assert commits < 30


@pytest.mark.parametrize("queue_backend", ["sqlite", "postgres"])
async def test_a_batch_of_mixed_outcomes_records_each_one(make_queue):
    # Successes share one statement on PostgreSQL; the other outcomes of the
    # same batch are written beside it, in the same commit.
    queue = await make_queue(workers=0)
    queue.task(name="tests.work")(lambda: None)
    await queue.open()
    handles = [queue.registry.get("tests.work").delay() for _ in range(4)]
    for handle in handles:
        await handle.enqueued()
    backend = queue.backend
    backend.worker_id = "host:1:batch"
    jobs = {job.id: job for job in await backend.claim(10, None)}
    ok, dead, retried, released = (jobs[h.id] for h in handles)
    error = ErrorInfo("ValueError", "no", "")
    await asyncio.gather(
        backend.finish(ok, Outcome(JobStatus.SUCCEEDED, result="41")),
        backend.finish(dead, Outcome(JobStatus.FAILED, error=error)),
        backend.finish(retried, Outcome(JobStatus.PENDING, error=error, retry_at=time.time() + 60)),
        backend.finish(released, Outcome(JobStatus.PENDING, release=True)),
    )
    assert await handles[0].result(timeout=1) == 41
    assert [await h.status() for h in handles[1:]] == [JobStatus.FAILED, JobStatus.PENDING, JobStatus.PENDING]
    assert (await backend.get(retried.id)).run_at > time.time() + 30
    assert (await backend.get(released.id)).attempts == 0


@pytest.mark.parametrize("queue_backend", ["sqlite", "postgres"])
async def test_a_late_success_from_a_worker_that_lost_its_lease_changes_nothing(make_queue):
    queue = await make_queue(workers=0)
    queue.task(name="tests.work")(lambda: None)
    await queue.open()
    handle = queue.registry.get("tests.work").delay()
    await handle.enqueued()
    backend = queue.backend
    backend.worker_id = "host:1:first"
    [first] = await backend.claim(10, None)
    await backend._reap()  # not yet expired: nothing happens
    assert await handle.status() is JobStatus.RUNNING
    await queue.database.execute(f"UPDATE {TABLE} SET lease_until = 0 WHERE id = $1", first.id)
    await backend._reap()
    backend.worker_id = "host:1:second"
    [second] = await backend.claim(10, None)
    await backend.finish(second, Outcome(JobStatus.SUCCEEDED, result='"second"'))
    backend.worker_id = "host:1:first"
    await backend.finish(first, Outcome(JobStatus.SUCCEEDED, result='"first"'))
    assert await handle.result(timeout=1) == "second"


@pytest.mark.parametrize("queue_backend", ["postgres"])
async def test_concurrent_batch_claims_never_hand_a_job_to_two_workers(make_queue):
    queues = [await make_queue(workers=0) for _ in range(4)]
    for queue in queues:
        queue.task(name="tests.work")(lambda: None)
        await queue.open()
    handles = [queues[0].registry.get("tests.work").delay() for _ in range(400)]
    for handle in handles:
        await handle.enqueued()
    for n, queue in enumerate(queues):
        queue.backend.worker_id = f"host:1:w{n}"

    async def claim_all(queue) -> list[str]:
        claimed: list[str] = []
        while jobs := await queue.backend.claim(30, None):
            claimed += [job.id for job in jobs]
        return claimed

    claims = await asyncio.gather(*(claim_all(queue) for _ in range(3) for queue in queues))
    claimed = [job_id for ids in claims for job_id in ids]
    assert len(claimed) == len(set(claimed)) == 400


@pytest.mark.parametrize("queue_backend", ["postgres"])
async def test_a_claim_does_not_leave_synchronous_commit_off_for_other_statements(make_queue):
    queue = await make_queue(workers=0)
    queue.task(name="tests.work")(lambda: None)
    await queue.open()
    await queue.registry.get("tests.work").delay().enqueued()
    queue.backend.worker_id = "host:1:claimer"
    database = queue.database
    # The setting is the claim's transaction's alone: a claim that finds a job,
    # then one that finds none, and the statements after them commit as configured.
    for _ in range(2):
        await queue.backend.claim(10, None)
        assert await database.query_val("SELECT current_setting('synchronous_commit')") == "on"


@pytest.mark.parametrize(
    ("multiplier", "claim_seconds", "job_seconds", "prefetch"),
    [
        (4, 0.010, 0.0001, 100),  # jobs far shorter than a claim: a whole batch in hand
        (4, 0.010, 0.004, 32),  # 8 * 10 / 4 = 20 is below the base: 4 per slot
        (4, 0.010, 0.001, 80),  # as many as 8 slots run during one claim
        (0, 0.010, 0.0001, 0),  # no prefetch asked for (long jobs): none, however short they turn out
    ],
)
def test_a_pool_holds_as_many_claimed_jobs_as_its_slots_run_during_one_claim(multiplier, claim_seconds, job_seconds, prefetch):
    from hyperdjango.tasks.registry import TaskRegistry
    from hyperdjango.tasks.stats import Counters
    from hyperdjango.tasks.workers import WorkerPool

    backend = DatabaseBackend(Database("sqlite://:memory:"), batch_size=100, prefetch_multiplier=multiplier)
    pool = WorkerPool(backend, TaskRegistry(), Counters(), concurrency=8)
    assert pool.prefetch == min(8 * multiplier, 100)
    pool.claim_seconds, pool.job_seconds = claim_seconds, job_seconds
    pool._adapt_prefetch()
    assert pool.prefetch == prefetch
