"""A job whose task this worker does not know waits for a worker that knows it,
and is dead-lettered, with the reason, only after ``unknown_task_timeout``."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.tasks import JobStatus, TaskFailed

pytestmark = pytest.mark.parametrize("queue_backend", ["sqlite", "postgres"], indirect=True)


async def enqueue_from(queue, name: str):
    """Enqueues a job of the task ``name``, which only ``queue`` defines."""
    queue.task(name=name)(lambda: name)
    await queue.open()
    handle = queue.registry.get(name).delay()
    await handle.enqueued()
    return handle


async def test_a_job_of_a_task_this_worker_does_not_know_is_left_for_one_that_does(make_queue):
    stranger, knower = await make_queue(lease=0.3), await make_queue(lease=0.3)
    stranger.task(name="tests.here")(lambda: "here")
    handle = await enqueue_from(knower, "tests.elsewhere")
    await stranger.start()
    mine = stranger.registry.get("tests.here").delay()
    assert await mine.result(timeout=10) == "here"
    await asyncio.sleep(0.5)  # a few polls and one maintenance round of the stranger
    assert await handle.status() is JobStatus.PENDING
    assert stranger.stats["unknown"] == 1
    await knower.start()
    assert await handle.result(timeout=10) == "tests.elsewhere"


async def test_a_job_no_worker_knows_is_dead_lettered_after_the_unknown_task_timeout(make_queue):
    stranger = await make_queue(lease=0.3, unknown_task_timeout=0.5)
    enqueuer = await make_queue(workers=0)
    stranger.task(name="tests.here")(lambda: "here")
    handle = await enqueue_from(enqueuer, "tests.nowhere")
    await stranger.start()
    with pytest.raises(TaskFailed) as failure:
        await handle.result(timeout=10)
    assert failure.value.error_type == "hyperdjango.tasks.errors.UnknownTask"
    assert "tests.nowhere" in str(failure.value) and "0.5" in str(failure.value)
    job = await stranger.backend.get(handle.id)
    assert job.attempts == 0  # never run


async def test_a_worker_whose_only_due_jobs_are_unknown_sleeps_between_polls(make_queue):
    stranger, enqueuer = await make_queue(poll_interval=0.2), await make_queue(workers=0)
    stranger.task(name="tests.here")(lambda: "here")
    await enqueue_from(enqueuer, "tests.elsewhere")
    claims = 0
    claim = stranger.backend.claim

    async def counted_claim(*args):
        nonlocal claims
        claims += 1
        return await claim(*args)

    stranger.backend.claim = counted_claim
    await stranger.start()
    await asyncio.sleep(1.0)
    assert claims <= 8  # one per poll_interval, not a busy loop on the job it cannot run
