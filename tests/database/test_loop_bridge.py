"""The loop bridge finishes every future it has taken from its queue."""

from __future__ import annotations

import asyncio
import time

from hyperdjango.database import Database
from hyperdjango.serving.bridge import loop_bridge

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
