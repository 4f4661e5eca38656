"""The Redis channel layer: pub/sub between processes, state in Redis keys."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from .distributed import DistributedChannelLayer, Snapshot

log = logging.getLogger("hyperdjango.channels")

#: Pauses between attempts to subscribe again after the connection was lost.
_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class RedisChannelLayer(DistributedChannelLayer):
    """Channels shared by every process connected to one Redis server.

    ``RedisChannelLayer("redis://127.0.0.1:6379/0")``; ``await layer.connect()``
    subscribes (one pub/sub connection per layer) and loads presence, history
    and groups; ``await layer.close()`` removes this process's presence and
    closes the connections. Needs the ``redis`` package
    (``pip install "hyperdjango[redis]"``).

    Keys, under ``prefix`` (``hyperdjango:channels`` by default): the pub/sub
    channel ``<prefix>``; per channel a list ``<prefix>:history:<channel>``
    (trimmed to ``history_size``) and a hash ``<prefix>:presence:<channel>``
    (one field per user and process); per group a set
    ``<prefix>:group:<group>``; and the sets ``<prefix>:history-channels``,
    ``<prefix>:presence-channels`` and ``<prefix>:groups`` that list them.
    Messages have no size limit beyond Redis's own. The connections are named
    ``hyperdjango_channels`` (``CLIENT LIST``).

    When the pub/sub connection is lost the layer subscribes again with backoff
    and then reloads the state (as the PostgreSQL layer does after a reconnect).
    """

    backend = "Redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "hyperdjango:channels",
        history_size: int = 100,
        queue_size: int = 1000,
        write_queue_size: int = 10_000,
    ) -> None:
        super().__init__(history_size=history_size, queue_size=queue_size, write_queue_size=write_queue_size)
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._subscriber: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task | None = None

    def __repr__(self) -> str:
        return f"<RedisChannelLayer {self.url.split('@')[-1]!r} connected={self.connected}>"

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def connect(self) -> None:
        """Subscribes and loads the shared state."""
        if self.connected:
            return
        try:
            import redis.asyncio as redis
        except ImportError:
            raise ImportError('RedisChannelLayer needs the redis package: pip install "hyperdjango[redis]"') from None
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._client = redis.Redis.from_url(self.url, client_name="hyperdjango_channels")
        # No silent retries on the pub/sub connection: redis-py would re-subscribe
        # quietly, and the layer must know, to reload what it missed.
        self._subscriber = redis.Redis.from_url(self.url, client_name="hyperdjango_channels", retry=Retry(NoBackoff(), 0))
        try:
            await self._client.ping()
            self._pubsub = await self._subscribe()
            self._start_writer()
            await self._reload()
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="redis channel reader")
            self.connected = True
        except BaseException:
            await self._shut()
            raise

    async def close(self) -> None:
        """Removes this process's presence, writes what is queued, unsubscribes
        everyone and closes the connections."""
        if not self.connected:
            return
        self._leave_everywhere()
        await self._shut()
        await super().close()

    async def _shut(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
            self._reader = None
        await self._stop_writer()
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        for client in (self._subscriber, self._client):
            if client is not None:
                await client.aclose()
        self._client = self._subscriber = None

    # -- receiving ------------------------------------------------------------------------

    async def _subscribe(self) -> Any:
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.prefix)
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    async def _read_loop(self) -> None:
        import redis.exceptions

        lost = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except lost as exc:
                await self._resubscribe(exc)
                continue
            if message is None or message.get("type") != "message":
                continue
            pending = self._receive(message["data"])
            if pending is not None:
                await pending

    async def _resubscribe(self, reason: BaseException) -> None:
        """Subscribes on a new connection (with backoff), then reloads the state:
        announcements sent in between were lost."""
        import redis.exceptions

        log.warning("channel layer: the Redis pub/sub connection was lost (%s); subscribing again", reason)
        await self._pubsub.aclose()
        attempt = 0
        while True:
            try:
                self._pubsub = await self._subscribe()
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                await asyncio.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
                attempt += 1
        self._counters["reconnects"] += 1
        await self._reload()

    # -- writing ----------------------------------------------------------------------------

    async def _write_batch(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        pipe = self._client.pipeline(transaction=False)
        sizes = [self._queue_commands(pipe, kind, args) for kind, args in changes]
        results = await pipe.execute(raise_on_error=False)
        errors: list[BaseException | None] = []
        position = 0
        for size in sizes:
            failed = [r for r in results[position : position + size] if isinstance(r, BaseException)]
            errors.append(failed[0] if failed else None)
            position += size
        return errors

    def _queue_commands(self, pipe: Any, kind: str, args: tuple) -> int:
        """Adds the commands that store and announce one change; returns how many."""
        envelope = self._announcement(kind, args)
        if kind == "publish":
            channel, message_id, payload = args
            key = self._key("history", channel)
            pipe.rpush(key, orjson.dumps([message_id, orjson.Fragment(payload)]))
            pipe.ltrim(key, -self.history_size, -1)
            pipe.sadd(self._key("history-channels"), channel)
            pipe.publish(self.prefix, envelope)
            return 4
        if kind == "presence":
            channel, user_id, joins, metadata = args
            key, field = self._key("presence", channel), orjson.dumps([user_id, self.sender])
            if joins > 0:
                pipe.hset(key, field, orjson.dumps([joins, metadata]))
            else:
                pipe.hdel(key, field)
            pipe.sadd(self._key("presence-channels"), channel)
            pipe.publish(self.prefix, envelope)
            return 3
        group, channel, member = args
        key = self._key("group", group)
        if member:
            pipe.sadd(key, channel)
        else:
            pipe.srem(key, channel)
        pipe.sadd(self._key("groups"), group)
        pipe.publish(self.prefix, envelope)
        return 3

    async def _load_snapshot(self) -> Snapshot:
        client = self._client
        history_channels = sorted(m.decode() for m in await client.smembers(self._key("history-channels")))
        presence_channels = sorted(m.decode() for m in await client.smembers(self._key("presence-channels")))
        groups = sorted(m.decode() for m in await client.smembers(self._key("groups")))
        pipe = client.pipeline(transaction=False)
        for channel in history_channels:
            pipe.lrange(self._key("history", channel), -self.history_size, -1)
        for channel in presence_channels:
            pipe.hgetall(self._key("presence", channel))
        for group in groups:
            pipe.smembers(self._key("group", group))
        results = await pipe.execute()
        snapshot = Snapshot(history=[], presence=[], groups=[])
        position = 0
        for channel in history_channels:
            for item in results[position]:
                message_id, message = orjson.loads(item)
                snapshot.history.append((channel, message_id, orjson.dumps(message)))
            position += 1
        for channel in presence_channels:
            for field, value in results[position].items():
                (user_id, sender), (joins, metadata) = orjson.loads(field), orjson.loads(value)
                snapshot.presence.append((channel, user_id, sender, joins, orjson.dumps(metadata)))
            position += 1
        for group in groups:
            snapshot.groups.extend((group, channel.decode()) for channel in sorted(results[position]))
            position += 1
        return snapshot
