"""A cache backend that remembers being closed, for tests of who closes caches."""

from __future__ import annotations

from hyperdjango.cache.backends.locmem import LocMemCache


class ClosingRecorder(LocMemCache):
    """An in-memory cache counting its ``close()`` calls in :attr:`closed`."""

    closed = 0

    async def close(self) -> None:
        type(self).closed += 1
        await super().close()
