"""Sessions in a cache of :mod:`hyperdjango.cache` (memory, Redis, database...).

A thin adapter over the cache API, as Django's ``SESSION_ENGINE = "...cache"``:
``SessionMiddleware(engine="cache", cache_alias="sessions")``. A cache may
evict entries, so a session can end early; use Redis or the database store
when that matters.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from ..base import SessionStore
from ..base import SessionStoreUnavailable as SessionStoreUnavailable  # its home before the database store raised it too
from .db import is_session_key, new_session_key

KEY_PREFIX = "hyperdjango.sessions.cache"

T = TypeVar("T")

class CacheStore(SessionStore):
    """Each session is one cache entry whose timeout is the session's age."""

    def __init__(self, cache_alias: str = "default") -> None:
        self.cache_alias = cache_alias

    @property
    def cache(self) -> Any:
        from ...cache import caches

        return caches[self.cache_alias]

    def _reach(self, operation: Awaitable[T]) -> Awaitable[T]:
        """``operation``'s result; an error of an unreachable cache becomes ``SessionStoreUnavailable``."""
        return self.reach(operation, self.cache.is_unavailable, f"cache {self.cache_alias!r}")

    async def load(self, session_key: str) -> dict[str, Any] | None:
        if not is_session_key(session_key):
            return None
        data = await self._reach(self.cache.get(KEY_PREFIX + session_key))
        return data if isinstance(data, dict) else None

    async def save(self, session_key: str | None, data: dict[str, Any], expiry_age: int) -> str:
        cache = self.cache
        if session_key is not None and await self._reach(cache.touch(KEY_PREFIX + session_key, expiry_age)):
            await self._reach(cache.set(KEY_PREFIX + session_key, data, expiry_age))
            return session_key
        # A new key, never the client's; add() refuses one that exists (a collision).
        while True:
            key = new_session_key()
            if await self._reach(cache.add(KEY_PREFIX + key, data, expiry_age)):
                return key

    async def delete(self, session_key: str) -> None:
        await self._reach(self.cache.delete(KEY_PREFIX + session_key))
