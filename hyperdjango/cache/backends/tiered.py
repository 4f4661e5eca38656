"""The two-tier cache: this process's memory in front of Redis or the database.

Reads are served from memory when they can be, and otherwise from the shared
cache behind, whose value (with its remaining lifetime) is then kept locally
for at most ``LOCAL_TIMEOUT`` seconds. Every write goes to the shared cache
first, then drops the key locally and publishes it (Redis pub/sub, or
PostgreSQL NOTIFY) so every other process drops its copy too.

The bound, stated: a write through any process is seen by the others as soon
as its invalidation message arrives (a pub/sub round trip, milliseconds); if
messages cannot flow (the subscription is down) the local tier is bypassed and
emptied, and whatever happens a local copy is never older than
``LOCAL_TIMEOUT``. Writes made to the shared cache by other means (another
cache configured without the tier) are seen within ``LOCAL_TIMEOUT``. A SQLite
database has no notifications: there ``LOCAL_TIMEOUT`` is the bound.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from ...orm.backends import features_for
from .. import invalidation
from ..handler import create_cache
from .base import MISSING, BaseCache
from .db import DatabaseCache
from .locmem import LocMemCache
from .redis import RedisCache


class TieredCache(BaseCache):
    """``{"BACKEND": "tiered", "OPTIONS": {"BEHIND": {"BACKEND": "redis", "LOCATION": url}}}``.

    ``OPTIONS``: ``BEHIND``, the ``CACHES`` entry of the shared cache (Redis or
    database; it takes this cache's ``KEY_PREFIX``, ``VERSION`` and
    ``KEY_FUNCTION``); ``LOCAL_TIMEOUT`` (default 5), the longest a local copy
    is trusted; ``LOCAL_MAX_ENTRIES`` (default 1000), the local LRU's bound;
    ``CHANNEL``, the invalidation channel (default ``hyperdjango_cache_<prefix>``).
    """

    def __init__(self, location: str = "", params: dict[str, Any] | None = None) -> None:
        params = dict(params or {})
        super().__init__(params)
        behind = self.options.pop("BEHIND", self.options.pop("behind", None))
        if not behind:
            raise ValueError('a tiered cache needs OPTIONS["BEHIND"], the CACHES entry of the shared cache')
        shared = {"TIMEOUT": self.default_timeout, "KEY_PREFIX": self.key_prefix, "VERSION": self.version, "KEY_FUNCTION": self.key_func}
        self.behind = create_cache({**behind, **shared})
        if not isinstance(self.behind, (RedisCache, DatabaseCache)):
            raise ValueError(f"a tiered cache sits in front of Redis or a database cache, not {type(self.behind).__name__}")
        self.local_timeout = float(self.options.pop("LOCAL_TIMEOUT", self.options.pop("local_timeout", 5)))
        local_max = self.options.pop("LOCAL_MAX_ENTRIES", self.options.pop("local_max_entries", 1000))
        self.local = LocMemCache(f"tiered-{uuid.uuid4().hex}", {"OPTIONS": {"MAX_ENTRIES": local_max}})
        default_channel = "hyperdjango_cache_" + "".join(c if c.isalnum() else "_" for c in self.key_prefix)
        self.channel = self.options.pop("CHANNEL", self.options.pop("channel", default_channel))[:63]
        self.sender = uuid.uuid4().hex
        self._reads = _ReadsInFlight()
        self._transport: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: asyncio.Future[None] | None = None

    def unavailable_errors(self) -> tuple[type[BaseException], ...]:
        return self.behind.unavailable_errors()

    def is_unavailable(self, error: BaseException) -> bool:
        return self.behind.is_unavailable(error)

    # -- invalidation ---------------------------------------------------------------------

    async def _subscribe(self) -> Any:
        """The invalidation transport of the running loop (``None`` on SQLite), subscribed."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._transport = loop, None
            self._started = loop.create_task(self._start(), context=contextvars.Context())
        assert self._started is not None
        await asyncio.shield(self._started)
        return self._transport

    async def _start(self) -> None:
        behind = self.behind
        if isinstance(behind, RedisCache):
            transport: Any = invalidation.RedisInvalidation(
                behind.url, self.channel, f"hyperdjango_cache:{self.sender}", self._invalidated, self._lost
            )
        else:
            db = cast(DatabaseCache, behind).database()  # RedisCache or DatabaseCache: checked in __init__
            if not features_for(db.vendor).supports_listen_notify:
                return
            transport = invalidation.PostgresInvalidation(db, self.channel, self._invalidated, self._lost)
        try:
            await transport.start()
        except BaseException:
            self._loop = None  # the next use tries again
            raise
        self._transport = transport

    def _invalidated(self, sender: str, keys: list[str] | None) -> None:
        if sender == self.sender:
            return  # our own write: its keys were dropped, and overlapping reads marked, when written
        self._reads.invalidate(keys)
        self.local.forget(keys)

    def _lost(self) -> None:
        self._reads.invalidate(None)
        self.local.forget(None)

    async def _written(self, keys: list[str] | None) -> None:
        """Drops ``keys`` (``None``: all) here and tells the other processes."""
        self._reads.invalidate(keys)
        self.local.forget(keys)
        transport = await self._subscribe()
        if transport is not None:
            await transport.publish(invalidation.encode(self.sender, keys))

    async def _trusted(self) -> bool:
        """Whether the local tier may answer now: messages flow (or none ever do, on SQLite)."""
        transport = await self._subscribe()
        if transport is not None and not transport.live:
            self._lost()
            return False
        return True

    def _keep(self, key: str, value: Any, expires: float | None) -> None:
        lifetime = self.local_timeout if expires is None else min(self.local_timeout, expires - time.time())
        if lifetime > 0:
            self.local.keep(key, value, lifetime)

    def held_locally(self, key: str, version: int | None = None) -> bool:
        """Whether this process's local tier holds ``key`` now (diagnostics and tests)."""
        return self.local.holds(self.make_key(key, version))

    # -- reads --------------------------------------------------------------------------

    async def _get(self, key: str, default: Any) -> Any:
        trusted = await self._trusted()
        if trusted:
            value = await self.local._get(key, MISSING)
            if value is not MISSING:
                return value
        with self._reads.reading([key]) as fresh:
            found = await self.behind._get_with_expiry(key)
            if found is None:
                return default
            if trusted and fresh(key):
                self._keep(key, found[0], found[1])
        return found[0]

    async def _get_many(self, keys: list[str]) -> dict[str, Any]:
        trusted = await self._trusted()
        found = await self.local._get_many(keys) if trusted else {}
        missing = [key for key in keys if key not in found]
        if missing:
            with self._reads.reading(missing) as fresh:
                fetched = await self.behind._get_many_with_expiry(missing)
                for key, (value, expires) in fetched.items():
                    found[key] = value
                    if trusted and fresh(key):
                        self._keep(key, value, expires)
        return found

    async def _has(self, key: str) -> bool:
        return await self._get(key, MISSING) is not MISSING

    # -- writes: the shared cache first, then the invalidation --------------------------------

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        await self.behind._set(key, value, timeout)
        await self._written([key])

    async def _set_many(self, items: dict[str, Any], timeout: Any) -> None:
        await self.behind._set_many(items, timeout)
        await self._written(list(items))

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        added = await self.behind._add(key, value, timeout)
        if added:
            await self._written([key])
        return added

    async def _delete(self, key: str) -> bool:
        deleted = await self.behind._delete(key)
        await self._written([key])
        return deleted

    async def _delete_many(self, keys: list[str]) -> None:
        await self.behind._delete_many(keys)
        await self._written(keys)

    async def _touch(self, key: str, timeout: Any) -> bool:
        touched = await self.behind._touch(key, timeout)
        await self._written([key])
        return touched

    async def _incr(self, key: str, delta: int) -> int:
        try:
            return await self.behind._incr(key, delta)
        finally:
            await self._written([key])

    async def clear(self) -> None:
        await self.behind.clear()
        await self._written(None)

    async def close(self) -> None:
        transport, loop = self._transport, self._loop
        self._transport = self._loop = self._started = None
        self.local.forget(None)
        if transport is not None and loop is asyncio.get_running_loop():
            await transport.close()
        await self.behind.close()


class _ReadsInFlight:
    """Keys being read from the shared cache now, and which of them were invalidated meanwhile.

    A read that overlaps an invalidation of its key (or of everything, or a lost
    subscription) may have fetched the old value: it must not keep it locally.
    Reads of other keys are unaffected, so a stream of writes to some keys does
    not stop the others from being cached.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.stale: set[str] = set()
        #: Bumped when everything is invalidated.
        self.generation = 0

    def invalidate(self, keys: list[str] | None) -> None:
        if keys is None:
            self.generation += 1
        else:
            self.stale.update(key for key in keys if key in self.counts)

    @contextmanager
    def reading(self, keys: list[str]) -> Iterator[Callable[[str], bool]]:
        """``with reads.reading(keys) as fresh:`` ... ``fresh(key)``: no invalidation of ``key`` since the start."""
        generation = self.generation
        for key in keys:
            self.counts[key] = self.counts.get(key, 0) + 1
        try:
            yield lambda key: generation == self.generation and key not in self.stale
        finally:
            for key in keys:
                remaining = self.counts[key] - 1
                if remaining:
                    self.counts[key] = remaining
                else:
                    del self.counts[key]
                    self.stale.discard(key)
