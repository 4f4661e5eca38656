"""The in-memory cache: one process, LRU with a size bound (Django's ``LocMemCache``)."""

from __future__ import annotations

import pickle
import time
from collections import OrderedDict
from typing import Any

from .base import DEFAULT_TIMEOUT, MISSING, BaseCache

#: Stores by ``LOCATION``: caches configured with the same location share entries, as in Django.
_stores: dict[str, _Store] = {}


class _Store:
    __slots__ = ("entries", "evictions")

    def __init__(self) -> None:
        #: key -> (pickled value, expiry or None); least recently used first.
        self.entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self.evictions = 0


class LocMemCache(BaseCache):
    """Entries in this process's memory, pickled (a value read back is a copy).

    ``OPTIONS["MAX_ENTRIES"]`` (default 300) bounds the number of entries: a
    set beyond it evicts the least recently used entry and counts it in
    :attr:`evictions`. ``LOCATION`` names the store (caches with the same
    location share it). Every operation is synchronous under the hood, so
    ``incr`` is atomic on its event loop without a lock.

    >>> import asyncio
    >>> cache = LocMemCache("doc", {"OPTIONS": {"MAX_ENTRIES": 2}})
    >>> async def main():
    ...     await cache.set("a", 1)
    ...     await cache.set("b", 2)
    ...     await cache.get("a")          # a is now the most recently used
    ...     await cache.set("c", 3)       # evicts b
    ...     return await cache.get_many(["a", "b", "c"]), cache.evictions
    >>> asyncio.run(main())
    ({'a': 1, 'c': 3}, 1)
    """

    pickle_protocol = pickle.HIGHEST_PROTOCOL

    def __init__(self, name: str = "", params: dict[str, Any] | None = None) -> None:
        super().__init__(params or {})
        self._store = _stores.setdefault(name, _Store())
        self._entries = self._store.entries

    @property
    def evictions(self) -> int:
        """Entries evicted because the store was full (since the process started)."""
        return self._store.evictions

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.time():
            del self._entries[key]
            return None
        return entry

    def _store_entry(self, key: str, value: Any, timeout: Any) -> None:
        entry = (pickle.dumps(value, self.pickle_protocol), self.get_backend_timeout(timeout))
        if key not in self._entries:
            while len(self._entries) >= self._max_entries > 0:
                self._entries.popitem(last=False)
                self._store.evictions += 1
        self._entries[key] = entry
        self._entries.move_to_end(key)

    def keep(self, key: str, value: Any, seconds: float) -> None:
        """Stores ``value`` for ``seconds`` at once (no await: for the two-tier cache's local tier)."""
        self._store_entry(key, value, seconds)

    def forget(self, keys: list[str] | None) -> None:
        """Drops ``keys`` (``None``: every entry of the store) at once."""
        if keys is None:
            self._entries.clear()
        else:
            for key in keys:
                self._entries.pop(key, None)

    async def _get(self, key: str, default: Any) -> Any:
        entry = self._live(key)
        if entry is None:
            return default
        self._entries.move_to_end(key)
        return pickle.loads(entry[0])

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        self._store_entry(key, value, timeout)

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        if self._live(key) is not None:
            return False
        self._store_entry(key, value, timeout)
        return True

    async def _delete(self, key: str) -> bool:
        return self._live(key) is not None and self._entries.pop(key, None) is not None

    async def _touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        entry = self._live(key)
        if entry is None:
            return False
        self._entries[key] = (entry[0], self.get_backend_timeout(timeout))
        return True

    async def _incr(self, key: str, delta: int) -> int:
        entry = self._live(key)
        if entry is None:
            raise KeyError(key)
        value = pickle.loads(entry[0]) + delta
        self._entries[key] = (pickle.dumps(value, self.pickle_protocol), entry[1])
        self._entries.move_to_end(key)
        return value

    async def _has(self, key: str) -> bool:
        return self._live(key) is not None

    async def clear(self) -> None:
        self.forget(None)

    def __len__(self) -> int:
        return len(self._entries)
