"""How a request's coroutine should be started on the loop: measured.

Compares, per request, for a view that returns at once and for one that
suspends once on a future:

- ``create_task``: asyncio's C Task; the first step waits for the next loop iteration.
- ``eager``: the first step runs at once. On 3.12+ that is the C Task with
  ``eager_start=True``; on 3.11 it is a subclass of the pure-Python Task that
  steps in its constructor (below), the only way to get it there.

Run: .venv/bin/python benchmarks/task_start.py   (prints µs per request, uvloop and asyncio)
"""

from __future__ import annotations

import asyncio
import contextvars
import time

import sys

N = 100_000

if sys.version_info >= (3, 12):

    def start_task(loop, coro, context):
        return asyncio.Task(coro, loop=loop, context=context, eager_start=True)

else:
    from asyncio import futures as _futures
    from asyncio import tasks as _tasks

    class _EagerTask(_tasks._PyTask):
        def __init__(self, coro, loop, context):
            _futures._PyFuture.__init__(self, loop=loop)
            self._name = "eager"
            self._num_cancels_requested = 0
            self._must_cancel = False
            self._fut_waiter = None
            self._coro = coro
            self._context = context
            _tasks._register_task(self)
            context.run(self._Task__step)

    def start_task(loop, coro, context):
        return _EagerTask(coro, loop, context)


async def instant() -> int:
    return 1


async def suspends(fut_factory) -> int:
    await fut_factory()
    return 1


def bench(loop_factory, mode: str, suspend: bool) -> float:
    loop = loop_factory()
    done = 0

    def on_done(_):
        nonlocal done
        done += 1

    async def main():
        pending: list[asyncio.Future] = []

        def make_future():
            fut = loop.create_future()
            pending.append(fut)
            return fut

        start = time.perf_counter()
        batch = 64
        for i in range(0, N, batch):
            # One "wake-up": a batch of requests started from a loop callback.
            started = loop.create_future()

            def drain():
                for _ in range(batch):
                    coro = suspends(make_future) if suspend else instant()
                    if mode == "eager":
                        t = start_task(loop, coro, contextvars.copy_context())
                    else:
                        t = loop.create_task(coro, context=contextvars.copy_context())
                    t.add_done_callback(on_done)
                started.set_result(None)  # noqa: B023 - drain runs (call_soon) before this round's await

            loop.call_soon(drain)
            await started
            for fut in pending:
                fut.set_result(None)
            pending.clear()
            while done < i + batch:
                await asyncio.sleep(0)
        return time.perf_counter() - start

    try:
        elapsed = loop.run_until_complete(main())
    finally:
        loop.close()
    return elapsed / N * 1e6


def main() -> None:
    loops = {"asyncio": asyncio.new_event_loop}
    try:
        import uvloop

        loops["uvloop"] = uvloop.new_event_loop
    except ImportError:
        pass
    print(f"{'loop':8} {'view':9} {'create_task':>12} {'eager':>8}  (µs per request, {N} requests)")
    for name, factory in loops.items():
        for suspend in (False, True):
            a = bench(factory, "create_task", suspend)
            b = bench(factory, "eager", suspend)
            print(f"{name:8} {'suspends' if suspend else 'instant':9} {a:12.2f} {b:8.2f}")


if __name__ == "__main__":
    main()
