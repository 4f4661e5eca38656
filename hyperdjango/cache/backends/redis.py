"""The Redis cache: natively async through ``redis.asyncio`` (Django's ``RedisCache``).

Values are pickled, except integers, which are stored as Redis integers so
that ``incr`` is Redis's own atomic ``INCRBY`` (as Django's serializer does).
One connection pool per cache (per event loop); ``get_many`` is one ``MGET``,
``set_many`` one pipeline, ``delete_many`` one ``DEL``.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from typing import Any

from .base import DEFAULT_TIMEOUT, BaseCache

#: INCRBY only when the key exists: Django's ``incr`` raises for a missing key
#: instead of creating it, and this makes the check and the add one atomic step.
#: The result is read back with GET because Lua holds INCRBY's integer reply as
#: a double, which loses the digits of integers beyond 2**53.
_INCR_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
  return redis.call('GET', KEYS[1])
end
return false
"""
_INT64 = (-(2**63), 2**63 - 1)


def dumps(value: Any) -> bytes | int:
    """Integers as they are (Redis increments them); anything else pickled."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    try:
        return int(data)
    except ValueError:
        return pickle.loads(data)


class RedisCache(BaseCache):
    """A cache in Redis: ``{"BACKEND": "redis", "LOCATION": "redis://127.0.0.1:6379/0"}``.

    ``LOCATION`` is a URL (a list or ``;``-separated URLs: the first is used;
    Django reads from the others, we do not). ``OPTIONS`` go to
    ``redis.asyncio.ConnectionPool.from_url`` (``max_connections``,
    ``socket_timeout``, ...). ``clear()`` with a ``KEY_PREFIX`` removes the keys
    under that prefix only (``SCAN`` + ``UNLINK``), so caches sharing a server
    with other data are safe; without one it is ``FLUSHDB``, as in Django.
    Needs the ``redis`` package (``pip install "hyperdjango[redis]"``).
    """

    def __init__(self, server: str | list[str], params: dict[str, Any] | None = None) -> None:
        super().__init__(params or {})
        servers = server.split(";") if isinstance(server, str) else list(server)
        self.url = servers[0].strip() if servers and servers[0] else "redis://127.0.0.1:6379/0"
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._incr_script: Any = None

    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client of the running loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio

            # A pool belongs to the loop its connections were made on.
            self._client = redis.asyncio.Redis.from_url(self.url, **self.options)
            self._loop = loop
            self._incr_script = self._client.register_script(_INCR_SCRIPT)
        return self._client

    def unavailable_errors(self) -> tuple[type[BaseException], ...]:
        import redis.exceptions

        return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

    def _milliseconds(self, timeout: Any) -> int | None:
        """``PX`` for a timeout: ``None`` forever, ``0`` or less expires at once."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return None
        return max(0, int(timeout * 1000))

    async def _get(self, key: str, default: Any) -> Any:
        data = await self.client().get(key)
        return default if data is None else loads(data)

    async def _get_many_with_expiry(self, keys: list[str]) -> dict[str, tuple[Any, float | None]]:
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.mget(keys)
            for key in keys:
                pipe.pttl(key)
            values, *ttls = await pipe.execute()
        now = time.time()
        return {
            key: (loads(data), None if ttl < 0 else now + ttl / 1000)
            for key, data, ttl in zip(keys, values, ttls)
            if data is not None
        }

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        px = self._milliseconds(timeout)
        if px == 0:
            await self.client().delete(key)
        else:
            await self.client().set(key, dumps(value), px=px)

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        px = self._milliseconds(timeout)
        client = self.client()
        added = bool(await client.set(key, dumps(value), px=px or None, nx=True))
        if added and px == 0:
            await client.delete(key)
        return added

    async def _delete(self, key: str) -> bool:
        return bool(await self.client().delete(key))

    async def _touch(self, key: str, timeout: Any) -> bool:
        px = self._milliseconds(timeout)
        if px is None:
            return bool(await self.client().persist(key)) or await self._has(key)
        return bool(await self.client().pexpire(key, px))

    async def _incr(self, key: str, delta: int) -> int:
        import redis.exceptions

        if not _INT64[0] <= delta <= _INT64[1]:
            raise OverflowError(f"incr/decr delta {delta} does not fit in 64 bits (Redis's integers)")
        self.client()
        try:
            value = await self._incr_script(keys=[key], args=[delta])
        except redis.exceptions.ResponseError as exc:
            if "overflow" in str(exc):
                raise OverflowError(f"incrementing {key!r} by {delta} leaves Redis's 64-bit integers") from None
            raise TypeError(f"the value of {key!r} is not an integer: incr/decr need one") from None
        if value is None:
            raise KeyError(key)
        return int(value)

    async def _has(self, key: str) -> bool:
        return bool(await self.client().exists(key))

    async def _get_many(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        values = await self.client().mget(keys)
        return {key: loads(data) for key, data in zip(keys, values) if data is not None}

    async def _set_many(self, items: dict[str, Any], timeout: Any) -> None:
        if not items:
            return
        px = self._milliseconds(timeout)
        if px == 0:
            await self.client().delete(*items)
            return
        async with self.client().pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(key, dumps(value), px=px)
            await pipe.execute()

    async def _delete_many(self, keys: list[str]) -> None:
        if keys:
            await self.client().delete(*keys)

    async def clear(self) -> None:
        """Removes the keys under ``KEY_PREFIX`` (every key of the database without one)."""
        client = self.client()
        prefix = self.cleared_prefix()
        if not prefix:
            await client.flushdb()
            return
        pattern = "".join(f"[{c}]" if c in "*?[]\\" else c for c in prefix) + "*"
        batch: list[bytes] = []
        async for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.unlink(*batch)
                batch.clear()
        if batch:
            await client.unlink(*batch)

    async def close(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        # A pool of another (finished) loop cannot be closed from this one; it is dropped.
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()
