"""The loop bridge finishes every future it has taken from its queue."""

from __future__ import annotations

import asyncio
import time

from hyperdjango.database import Database
from hyperdjango.runtime import loop_bridge

FUTURES = 20


def test_every_future_of_a_batch_completes_when_a_callback_error_escapes(sqlite_url):
    # A plain asyncio loop, so its exception handler can be replaced by one that raises:
    # then a failing done-callback makes finishing its future fail inside the drain.
    loop = asyncio.SelectorEventLoop()
    reports = []

    def raising_handler(context):
        reports.append(context["message"])
        if context["message"] == "Exception in a RustFuture callback":
            raise RuntimeError("the exception handler itself failed")

    loop.call_exception_handler = raising_handler

    def broken_callback(future):
        raise ValueError("callback failed")

    async def scenario():
        db = Database(sqlite_url)
        await db.connect()
        try:
            futures = [db._core.query_val(loop_bridge(), "SELECT $1", (i,)) for i in range(FUTURES)]
            for future in futures:
                future.add_done_callback(broken_callback)
            # Hold the loop so every completion waits in the queue: one drain takes them all.
            time.sleep(0.5)
            deadline = time.monotonic() + 5
            while not all(f.done() for f in futures) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            return [f.result() if f.done() else "pending" for f in futures]
        finally:
            await db.close()

    try:
        results = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert results == list(range(FUTURES))
    assert reports.count("Exception in a RustFuture callback") == FUTURES


async def test_statements_started_in_one_iteration_leave_together_and_one_can_still_be_cancelled(db):
    # A gather of statements is handed to the engine as one batch at the end of the loop
    # iteration (one write to the connection); cancelling one before the batch leaves
    # cancels that one only.
    tasks = [asyncio.create_task(db.query_val("SELECT $1 + 1", i)) for i in range(FUTURES)]
    await asyncio.sleep(0)  # every task has started its statement; the batch has not left yet
    tasks[5].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[5], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 5] == [i + 1 for i in range(FUTURES) if i != 5]
    assert await db.query_val("SELECT $1 + 0", 7) == 7  # the connection is in order afterwards


async def test_statements_started_by_finished_statements_leave_at_the_end_of_the_drain(db):
    # A future's done-callbacks run inside the bridge's drain, which hands the statements
    # they start to the engine when it ends (no call_soon): a statement awaited right after
    # another, and a batch of them of which one is cancelled before the drain ends.
    bridge = loop_bridge()
    chain = []
    batch = []

    def next_in_chain(future):
        chain.append(future.result())
        if len(chain) < 5:
            db._core.query_val(bridge, "SELECT $1 + 1", (chain[-1],)).add_done_callback(next_in_chain)

    def start_batch(future):
        batch.extend(db._core.query_val(bridge, "SELECT $1 * 2", (i,)) for i in range(FUTURES))
        batch[5].cancel()

    db._core.query_val(bridge, "SELECT $1 + 0", (0,)).add_done_callback(next_in_chain)
    db._core.query_val(bridge, "SELECT 1", ()).add_done_callback(start_batch)
    async with asyncio.timeout(10):
        while len(chain) < 5 or not batch or not all(f.done() for f in batch):
            await asyncio.sleep(0.01)
    assert chain == [0, 1, 2, 3, 4]
    assert batch[5].cancelled()
    assert [f.result() for i, f in enumerate(batch) if i != 5] == [i * 2 for i in range(FUTURES) if i != 5]
    assert await db.query_val("SELECT $1 + 0", 7) == 7
