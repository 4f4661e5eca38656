"""A job enqueued inside atomic() belongs to the transaction, on every backend:
rolled back, it never runs; committed, it is stored by the time the block ends."""

from __future__ import annotations

import asyncio

import pytest

from hyperdjango.database import atomic
from hyperdjango.tasks import JobStatus


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(make_queue):
    queue = await make_queue()
    db = queue.database
    ran = []

    @queue.task
    async def ship(order_id):
        ran.append(order_id)

    await queue.start()
    with pytest.raises(RuntimeError, match="payment failed"):
        async with atomic(db):
            rolled_back = ship.delay(1)
            await asyncio.sleep(0.1)  # workers are polling all along: nothing to see yet
            raise RuntimeError("payment failed")
    marker = ship.delay(2)  # enqueued after: when it has run, the first would have too
    await marker.result(timeout=10)
    assert ran == [2]
    assert await rolled_back.status() is JobStatus.UNKNOWN


async def test_a_job_enqueued_in_a_committed_transaction_is_stored_when_the_block_ends(make_queue):
    queue = await make_queue()
    db = queue.database

    @queue.task
    async def ship(order_id):
        return order_id

    await queue.open()
    async with atomic(db):
        handle = ship.delay(1)  # not awaited: the commit waits for it
    assert [job.id for job in await queue.jobs(JobStatus.PENDING)] == [handle.id]
    await queue.start()
    assert await handle.result(timeout=10) == 1


async def test_a_job_does_not_run_before_its_transaction_commits(make_queue):
    queue = await make_queue()
    db = queue.database
    committed = asyncio.Event()
    seen = []

    @queue.task
    async def check():
        seen.append(committed.is_set())

    await queue.start()
    async with atomic(db):
        handle = check.delay()
        await handle.enqueued()  # stored in the transaction, still invisible to the workers
        await asyncio.sleep(0.2)
        committed.set()
    await handle.result(timeout=10)
    assert seen == [True]


async def test_a_job_enqueued_in_a_rolled_back_savepoint_is_dropped_and_the_outer_one_kept(make_queue):
    queue = await make_queue()
    db = queue.database
    ran = []

    @queue.task
    async def ship(order_id):
        ran.append(order_id)

    await queue.open()
    async with atomic(db):
        outer = ship.delay("outer")  # not yet written when the savepoint starts
        try:
            async with atomic(db):
                inner = ship.delay("inner")
                raise ValueError("this part fails")
        except ValueError:
            pass
    await queue.start()
    await outer.result(timeout=10)
    assert ran == ["outer"]
    assert await inner.status() is JobStatus.UNKNOWN
