"""Invalidation messages between processes, for the two-tier cache.

A write through a :class:`~hyperdjango.cache.backends.tiered.TieredCache`
publishes the keys it changed; every process subscribed drops them from its
local tier. Two transports: Redis pub/sub, and PostgreSQL LISTEN/NOTIFY. Each
reports ``live`` (subscribed now): while it is not, the local tier must not be
trusted, because messages sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from ..database import Database

log = logging.getLogger("hyperdjango.cache")

#: Pauses between attempts to subscribe again after the connection was lost.
_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: A message longer than this says "drop everything" instead (NOTIFY payloads stop at 8000 bytes).
MAX_PAYLOAD = 7000

#: ``on_message(sender, keys)``; ``keys`` is ``None`` for "every key".
OnMessage = Callable[[str, "list[str] | None"], None]


def encode(sender: str, keys: list[str] | None) -> str:
    """The message for ``keys`` (``None``: all), or "all" when the list is too long."""
    payload = orjson.dumps({"s": sender, "k": keys}).decode()
    return payload if len(payload) <= MAX_PAYLOAD else orjson.dumps({"s": sender, "k": None}).decode()


def decode(payload: str | bytes) -> tuple[str, list[str] | None]:
    message = orjson.loads(payload)
    return message["s"], message["k"]


class RedisInvalidation:
    """Pub/sub on ``channel`` of the Redis server at ``url`` (its own connection)."""

    def __init__(self, url: str, channel: str, on_message: OnMessage, on_lost: Callable[[], None]) -> None:
        self.url, self.channel = url, channel
        self._on_message, self._on_lost = on_message, on_lost
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def live(self) -> bool:
        return self._subscribed.is_set()

    async def start(self, timeout: float = 5.0) -> None:
        """Subscribes, and keeps subscribing after a lost connection. Waits up to
        ``timeout`` seconds for the first subscription (``live`` tells the rest)."""
        import redis.asyncio

        self._client = redis.asyncio.Redis.from_url(self.url)
        self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except TimeoutError:
            log.warning("cache invalidation: no Redis subscription yet; the local tier is bypassed until there is")

    async def _listen(self) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                failures = 0
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._on_message(*decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cache invalidation: the Redis subscription was lost (%s); subscribing again", exc)
            finally:
                self._subscribed.clear()
                self._on_lost()
                await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(_BACKOFF[min(failures, len(_BACKOFF) - 1)])
            failures += 1

    async def publish(self, payload: str) -> None:
        await self._client.publish(self.channel, payload)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


class PostgresInvalidation:
    """LISTEN/NOTIFY on ``channel`` of ``db`` (a dedicated connection; see ``Database.listen``).

    A NOTIFY sent inside ``atomic()`` is delivered at commit, so the other
    processes drop their copies when the new value is visible to them.
    """

    def __init__(self, db: Database, channel: str, on_message: OnMessage, on_lost: Callable[[], None]) -> None:
        self.db, self.channel = db, channel
        self._on_message, self._on_lost = on_message, on_lost
        self._listener: Any = None

    @property
    def live(self) -> bool:
        return self._listener is not None and self._listener.connected

    async def start(self) -> None:
        self._listener = await self.db.listen(self.channel, lambda n: self._on_message(*decode(n.payload)))
        # Notifications sent while the connection was down are lost: drop everything.
        self._listener.on_reconnect(lambda *_: self._on_lost())

    async def publish(self, payload: str) -> None:
        await self.db.notify(self.channel, payload)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
