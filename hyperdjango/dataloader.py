"""DataLoader: batch and cache async lookups by key, against N+1 queries.

>>> import asyncio
>>> calls = []
>>> async def batch_load(keys):
...     calls.append(list(keys))
...     return [k * 10 for k in keys]
>>> async def main():
...     loader = DataLoader(batch_load)
...     values = await asyncio.gather(loader.load(1), loader.load(2), loader.load(1))
...     again = await loader.load(2)          # cached: no call
...     return values, again
>>> asyncio.run(main())
([10, 20, 10], 20)
>>> calls
[[1, 2]]

Loads requested in the same event-loop tick (``asyncio.gather``, or tasks
started together) reach ``batch_fn`` as one call. Loads awaited one after
another cannot share a batch: each ``await`` waits for its own result before
the next load is even requested.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any

BatchFn = Callable[[list[Any]], Awaitable[Sequence[Any]]]


class DataLoader:
    """Collects ``load(key)`` calls made in one loop tick and resolves them with one
    ``await batch_fn(keys)``, which returns one value (or Exception instance) per key, in order.

    ``max_batch_size`` splits a large tick into several calls; ``cache=False``
    loads a key again each time it is asked for (requests in the same tick
    still share one entry in the batch).
    """

    def __init__(self, batch_fn: BatchFn, max_batch_size: int = 100, cache: bool = True) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.batch_fn = batch_fn
        self.max_batch_size = max_batch_size
        self.cache = cache
        self._cache: dict[Hashable, asyncio.Future[Any]] = {}
        self._queue: dict[Hashable, asyncio.Future[Any]] = {}
        self._scheduled = False

    def load(self, key: Hashable) -> asyncio.Future[Any]:
        """An awaitable of the value for ``key``."""
        future = self._cache.get(key) if self.cache else None
        if future is not None:
            return future
        future = self._queue.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self._queue[key] = future
            if self.cache:
                self._cache[key] = future
            if not self._scheduled:
                # Run after every callback already ready in this tick has had its turn to load too.
                self._scheduled = True
                loop.call_soon(self._dispatch)
        return future

    async def load_many(self, keys: Iterable[Hashable]) -> list[Any]:
        """The values for ``keys``, in order, batched like separate ``load`` calls."""
        return list(await asyncio.gather(*(self.load(k) for k in keys)))

    def prime(self, key: Hashable, value: Any) -> DataLoader:
        """Puts a known value in the cache (unless the key is cached already)."""
        if self.cache and key not in self._cache:
            future = asyncio.get_running_loop().create_future()
            future.set_result(value)
            self._cache[key] = future
        return self

    def clear(self, key: Hashable | None = None) -> DataLoader:
        """Forgets ``key`` (or every key), so the next load asks ``batch_fn`` again."""
        if key is None:
            self._cache.clear()
        else:
            self._cache.pop(key, None)
        return self

    def _dispatch(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, {}
        items = list(queue.items())
        for start in range(0, len(items), self.max_batch_size):
            batch = items[start : start + self.max_batch_size]
            task = asyncio.ensure_future(self._run(batch))
            _running.add(task)
            task.add_done_callback(_running.discard)

    async def _run(self, batch: list[tuple[Hashable, asyncio.Future[Any]]]) -> None:
        keys = [key for key, _ in batch]
        try:
            values = await self.batch_fn(keys)
            if len(values) != len(keys):
                raise ValueError(f"DataLoader batch function returned {len(values)} values for {len(keys)} keys")
        except BaseException as e:  # every waiting load must hear about it, cancellation included
            for key, future in batch:
                self._cache.pop(key, None)  # a failure is not cached: the next load retries
                if not future.done():
                    future.set_exception(e if isinstance(e, Exception) else asyncio.CancelledError())
            if not isinstance(e, Exception):
                raise
            return
        for (key, future), value in zip(batch, values):
            if future.done():
                continue
            if isinstance(value, Exception):
                self._cache.pop(key, None)
                future.set_exception(value)
            else:
                future.set_result(value)


#: Batches in flight, kept referenced until they finish.
_running: set[asyncio.Task[Any]] = set()
