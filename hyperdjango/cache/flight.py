"""Single flight: concurrent callers of one key share one computation.

A hundred requests that miss the same cache key at once would otherwise run
the same expensive query a hundred times (a cache stampede). ``SingleFlight``
lets the first caller compute and makes the others await its result, in this
process; each event loop has its own flights (futures belong to one loop).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any


class SingleFlight:
    """``await flights.run(key, compute)``: one ``compute()`` per key at a time.

    >>> import asyncio
    >>> calls = []
    >>> async def compute():
    ...     calls.append(1)
    ...     await asyncio.sleep(0.01)
    ...     return 42
    >>> async def main():
    ...     flights = SingleFlight()
    ...     return await asyncio.gather(*(flights.run("k", compute) for _ in range(100)))
    >>> results = asyncio.run(main())
    >>> len(calls), set(results)
    (1, {42})

    An exception is raised to every waiter; the next call computes again. A
    waiter that is cancelled does not cancel the computation the others await.
    """

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[Any]]] = weakref.WeakKeyDictionary()

    def in_flight(self, key: str) -> bool:
        """Whether a computation of ``key`` is running on this loop."""
        return key in self._by_loop.get(asyncio.get_running_loop(), {})

    async def run(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        loop = asyncio.get_running_loop()
        flights = self._by_loop.setdefault(loop, {})
        future = flights.get(key)
        if future is None:
            future = flights[key] = asyncio.ensure_future(compute())
            future.add_done_callback(lambda done: _finished(flights, key, done))
        return await asyncio.shield(future)


def _finished(flights: dict[str, asyncio.Future[Any]], key: str, done: asyncio.Future[Any]) -> None:
    if flights.get(key) is done:
        del flights[key]
    if not done.cancelled():
        done.exception()  # retrieved: when every waiter was cancelled, nothing is logged
