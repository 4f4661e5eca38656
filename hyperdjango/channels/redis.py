"""The Redis channel layer: pub/sub between processes, state in Redis keys."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from .distributed import ChannelLayerUnavailable, DistributedChannelLayer, Snapshot

log = logging.getLogger("hyperdjango.channels")

#: Pauses between attempts to subscribe again after the connection was lost.
_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: A heartbeat key lives this many ``presence_check_interval``s unless refreshed.
_HEARTBEAT_LIFETIMES = 3


def _connection_lost() -> tuple[type[BaseException], ...]:
    """What redis-py raises when the server cannot be reached (imported late: redis is optional)."""
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


# Stores a message in its channel's history and announces it, atomically: the
# history's order is the order of the PUBLISHes, whoever publishes. A failing
# RPUSH (the key holds something else) stops the script before the PUBLISH.
# KEYS: history list, history-channels set, pub/sub channel;
# ARGV: history item, history size, channel, envelope.
_PUBLISH_SCRIPT = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('SADD', KEYS[2], ARGV[3])
return redis.call('PUBLISH', KEYS[3], ARGV[4])
"""
# Removes one presence field of a dead process and announces the leave, once
# however many processes sweep at the same moment.
# KEYS: presence hash, pub/sub channel; ARGV: field, envelope.
_SWEEP_SCRIPT = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


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
    ``hyperdjango_channels:<sender>`` (``CLIENT LIST``).

    A publish is one Lua script (RPUSH, LTRIM, SADD, PUBLISH), so the history's
    order is the order in which every process receives the messages; each
    process, the publisher included, delivers a message when it comes back
    from the subscription.

    Each process refreshes a heartbeat key ``<prefix>:alive:<sender>`` every
    ``presence_check_interval`` seconds (it expires after three); any process
    removes, and announces the leave of, the presence fields of senders whose
    key has expired (processes killed without ``close()``). A process that
    finds its own key expired (it was stalled or cut off) writes its presence
    again.

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
        presence_check_interval: float = 30.0,
    ) -> None:
        super().__init__(
            history_size=history_size,
            queue_size=queue_size,
            write_queue_size=write_queue_size,
            presence_check_interval=presence_check_interval,
        )
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._subscriber: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task | None = None
        self._publish_script: Any = None
        self._sweep_script: Any = None

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
        from redis.asyncio.retry import Retry

        name = f"hyperdjango_channels:{self.sender}"
        self._client = redis.Redis.from_url(self.url, client_name=name)
        # No silent retries on the pub/sub connection: redis-py would re-subscribe
        # quietly, and the layer must know, to reload what it missed.
        self._subscriber = redis.Redis.from_url(self.url, client_name=name, retry=Retry(NoBackoff(), 0))
        self._publish_script = self._client.register_script(_PUBLISH_SCRIPT)
        self._sweep_script = self._client.register_script(_SWEEP_SCRIPT)
        try:
            await self._client.ping()
            await self._beat()
            self._pubsub = await self._subscribe()
            self._start_writer()
            await self._reload()
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="redis channel reader")
            self._start_housekeeping()
            self.connected = True
        except BaseException:
            await self._shut()
            raise

    async def _shut(self) -> None:
        await self._stop_housekeeping()
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
        if self._client is not None and self.connected:
            try:
                await self._client.delete(self._key("alive", self.sender))
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                log.warning("channel layer: could not delete the heartbeat key (it expires by itself): %s", exc)
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
        lost = _connection_lost()
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
        log.warning("channel layer: the Redis pub/sub connection was lost (%s); subscribing again", reason)
        lost_at = time.monotonic()
        await self._pubsub.aclose()
        attempt = 0
        while True:
            try:
                self._pubsub = await self._subscribe()
                break
            except _connection_lost():
                await asyncio.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
                attempt += 1
        self._counters["reconnects"] += 1
        log.warning("channel layer: subscribed again after %.1f s without the Redis pub/sub connection; "
                    "reloading the shared state", time.monotonic() - lost_at)
        # A restarted server may have lost this process's heartbeat key: without it,
        # another process's reload would take the presence restored below for dead.
        try:
            await self._beat()
        except _connection_lost() as exc:
            log.error("channel layer: refreshing the Redis heartbeat key failed (the next check retries): %s", exc)
        await self._reload()

    # -- writing ----------------------------------------------------------------------------

    async def _write_batch(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        pipe = self._client.pipeline(transaction=False)
        try:
            sizes = [await self._queue_commands(pipe, kind, args) for kind, args in changes]
            results = await pipe.execute(raise_on_error=False)
        except _connection_lost() as exc:
            raise ChannelLayerUnavailable(f"the Redis server of the channel layer cannot be reached ({exc}); retry shortly") from exc
        errors: list[BaseException | None] = []
        position = 0
        for size in sizes:
            failed = [r for r in results[position : position + size] if isinstance(r, BaseException)]
            errors.append(failed[0] if failed else None)
            position += size
        return errors

    async def _queue_commands(self, pipe: Any, kind: str, args: tuple) -> int:
        """Adds the commands that store and announce one change; returns how many."""
        envelope = self._announcement(kind, args)
        if kind == "publish":
            channel, message_id, payload = args
            key = self._key("history", channel)
            item = orjson.dumps([message_id, orjson.Fragment(payload)])
            await self._publish_script(
                keys=[key, self._key("history-channels"), self.prefix],
                args=[item, max(self.history_size, 1), channel, envelope],
                client=pipe,
            )
            return 1
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

    # -- liveness ---------------------------------------------------------------------------

    async def _beat(self) -> bool:
        """Refreshes this process's heartbeat key; False if it had expired."""
        key = self._key("alive", self.sender)
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(key)
        pipe.set(key, b"1", px=int(self.presence_check_interval * _HEARTBEAT_LIFETIMES * 1000))
        existed, _ = await pipe.execute()
        return bool(existed)

    async def _check_liveness(self) -> None:
        try:
            alive = await self._beat()
        except Exception as exc:  # noqa: BLE001 - retried at the next check
            self._counters["sweep_failures"] += 1
            log.error("channel layer: refreshing the Redis heartbeat key failed: %s", exc)
            return
        if alive:
            await self._sweep()
        else:
            log.warning("channel layer: this process's heartbeat key had expired; writing its presence again")
            await self._reload()  # sweeps, restores this process's presence, reloads

    async def _remove_dead_presence(self) -> int:
        client = self._client
        channels = sorted(m.decode() for m in await client.smembers(self._key("presence-channels")))
        if not channels:
            return 0
        pipe = client.pipeline(transaction=False)
        for channel in channels:
            pipe.hkeys(self._key("presence", channel))
        fields = {channel: [(f, orjson.loads(f)) for f in keys] for channel, keys in zip(channels, await pipe.execute())}
        senders = sorted({sender for rows in fields.values() for _, (_, sender) in rows})
        pipe = client.pipeline(transaction=False)
        for sender in senders:
            pipe.exists(self._key("alive", sender))
        dead = {sender for sender, alive in zip(senders, await pipe.execute()) if not alive}
        if not dead:
            return 0
        pipe = client.pipeline(transaction=False)
        for channel, rows in fields.items():
            for field, (user_id, sender) in rows:
                if sender in dead:
                    envelope = orjson.dumps({"s": sender, "k": "pres", "c": channel, "u": user_id, "n": 0, "m": {}})
                    await self._sweep_script(keys=[self._key("presence", channel), self.prefix], args=[field, envelope], client=pipe)
        return sum(await pipe.execute())

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
