"""The Redis channel layer: pub/sub between processes, state in Redis keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import orjson

from .._core import RedisCommands, RedisError, RedisSubscriber
from ..runtime import loop_bridge
from .distributed import ChannelLayerUnavailable, DistributedChannelLayer, Snapshot

log = logging.getLogger("hyperdjango.channels")

#: Subscription events handed over per drain of the engine's queue.
_BATCH = 256
#: Announcements that may wait in the engine for the loop; past this they are
#: dropped, counted (``receive_overflow``) and recovered by a reload.
_RECEIVE_QUEUE = 8192
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

    The engine owns the pub/sub connection (a tokio task reads it and hands
    the announcements to the event loop in batches, one wake-up per batch) and
    the connection that publishes (each publish an ``EVALSHA``, every change of
    a loop's batch in one pipelined write). When the pub/sub connection is lost
    the engine subscribes again with backoff and the layer then reloads the
    state (as the PostgreSQL layer does after a reconnect); so it does when
    announcements had to be dropped because this process fell behind
    (``receive_overflow``: the engine's queue holds 8192).
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
        #: redis-py, for what is not on the hot path: heartbeat, snapshot, sweep.
        self._client: Any = None
        self._sweep_script: Any = None
        #: The engine's connections: publishing, and the subscription.
        self._commands: RedisCommands | None = None
        self._publish_sha = ""
        self._subscription: RedisSubscriber | None = None
        self._receive_queue = _RECEIVE_QUEUE
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        #: Applies what came before and holds back what came after (a reload).
        self._holding: asyncio.Task | None = None
        self._counters["receive_overflow"] = 0

    def __repr__(self) -> str:
        return f"<RedisChannelLayer {self.url.split('@')[-1]!r} connected={self.connected}>"

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def stats(self) -> dict[str, int]:
        """The counters of :meth:`DistributedChannelLayer.stats` and
        ``receive_overflow``: announcements the engine dropped because this
        process fell behind (each time followed by a reload of the state)."""
        return super().stats()

    async def connect(self) -> None:
        """Subscribes and loads the shared state."""
        if self.connected:
            return
        try:
            import redis.asyncio as redis
        except ImportError:
            raise ImportError('RedisChannelLayer needs the redis package: pip install "hyperdjango[redis]"') from None

        name = f"hyperdjango_channels:{self.sender}"
        self._client = redis.Redis.from_url(self.url, client_name=name)
        self._sweep_script = self._client.register_script(_SWEEP_SCRIPT)
        bridge = loop_bridge()
        self._loop = asyncio.get_running_loop()
        try:
            self._commands = RedisCommands(self.url, name)
            self._publish_sha = await self._commands.load_script(bridge, _PUBLISH_SCRIPT)
            await self._beat()
            self._subscription = await RedisSubscriber.connect(bridge, self.url, name, self._receive_queue)
            await self._subscription.subscribe(bridge, self.prefix)
            self._start_writer()
            # Announcements wait in the engine until the state is loaded.
            await self._reload()
            self._resume_reading()
            self._start_housekeeping()
            self.connected = True
        except BaseException:
            await self._shut()
            raise

    async def _shut(self) -> None:
        await self._stop_housekeeping()
        self._pause_reading()
        if self._holding is not None:
            self._holding.cancel()
            try:
                await self._holding
            except asyncio.CancelledError:
                pass
            self._holding = None
        await self._stop_writer()
        if self._subscription is not None:
            await self._subscription.close(loop_bridge())
            self._subscription = None
        if self._client is not None and self.connected:
            try:
                await self._client.delete(self._key("alive", self.sender))
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                log.warning("channel layer: could not delete the heartbeat key (it expires by itself): %s", exc)
        if self._commands is not None:
            self._commands.close()
            self._commands = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- receiving: the engine's subscription, drained on the loop ----------------------------

    def _resume_reading(self) -> None:
        if self._reading or self._subscription is None or self._loop is None:
            return
        self._reading = True
        self._loop.add_reader(self._subscription.fileno(), self._on_readable)
        # Events may be waiting with the eventfd disarmed (a full batch was taken last time).
        self._loop.call_soon(self._on_readable)

    def _pause_reading(self) -> None:
        if self._reading and self._subscription is not None and self._loop is not None:
            self._reading = False
            self._loop.remove_reader(self._subscription.fileno())

    def _on_readable(self) -> None:
        while self._reading and self._subscription is not None:
            events = self._subscription.drain(_BATCH)
            self._apply(events)
            if len(events) < _BATCH:
                return

    def _apply(self, events: list) -> None:
        """Applies events in order; one that must be awaited (a reload) stops reading
        until it is done, and the events after it wait with it."""
        for position, event in enumerate(events):
            if event[0] is not None:
                pending = self._receive(event[1])
            else:
                pending = self._subscription_changed(event[1], event[2])
            if pending is not None:
                assert self._loop is not None
                self._pause_reading()
                self._holding = self._loop.create_task(self._finish_then_apply(pending, events[position + 1 :]))
                return

    async def _finish_then_apply(self, pending: Awaitable[None], rest: list) -> None:
        try:
            await pending
        except Exception:  # noqa: BLE001 - reading must go on; the next reload repairs
            self._counters["reload_failures"] += 1
            log.exception("channel layer: handling a change of the Redis subscription failed")
        finally:
            self._holding = None
        self._apply(rest)
        if self._holding is None:
            self._resume_reading()

    def _subscription_changed(self, kind: str, value: Any) -> Awaitable[None] | None:
        if kind == "lost":
            log.warning("channel layer: the Redis pub/sub connection was lost (%s); subscribing again", value)
            return None
        if kind == "reconnected":
            return self._resubscribed(value)
        self._counters["receive_overflow"] += value
        log.error("channel layer: %d announcements from Redis were dropped because this process fell behind; "
                  "reloading the shared state", value)
        return self._reload()

    async def _resubscribed(self, downtime: float) -> None:
        """The engine subscribed again on a new connection: announcements sent in
        between were lost, so the state is loaded again."""
        self._counters["reconnects"] += 1
        log.warning("channel layer: subscribed again after %.1f s without the Redis pub/sub connection; "
                    "reloading the shared state", downtime)
        # A restarted server may have lost this process's heartbeat key: without it,
        # another process's reload would take the presence restored below for dead.
        try:
            await self._beat()
        except _connection_lost() as exc:
            log.error("channel layer: refreshing the Redis heartbeat key failed (the next check retries): %s", exc)
        await self._reload()

    # -- writing ----------------------------------------------------------------------------

    async def _write_batch(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        assert self._commands is not None
        commands: list[list[Any]] = []
        sizes = [self._add_commands(commands, kind, args) for kind, args in changes]
        try:
            replies = await self._commands.pipeline(loop_bridge(), commands)
        except ConnectionError as exc:
            raise ChannelLayerUnavailable(f"the Redis server of the channel layer cannot be reached ({exc}); retry shortly") from exc
        errors: list[BaseException | None] = []
        position = 0
        for size in sizes:
            failed = [r for r in replies[position : position + size] if isinstance(r, RedisError)]
            errors.append(failed[0] if failed else None)
            position += size
        return errors

    def _add_commands(self, commands: list[list[Any]], kind: str, args: tuple) -> int:
        """Adds the commands that store and announce one change; returns how many."""
        envelope = self._announcement(kind, args)
        if kind == "publish":
            channel, message_id, payload = args
            item = orjson.dumps([message_id, orjson.Fragment(payload)])
            commands.append([
                "EVALSHA", self._publish_sha, 3, self._key("history", channel), self._key("history-channels"), self.prefix,
                item, max(self.history_size, 1), channel, envelope,
            ])
            return 1
        if kind == "presence":
            channel, user_id, joins, metadata = args
            key, field = self._key("presence", channel), orjson.dumps([user_id, self.sender])
            change = ["HSET", key, field, orjson.dumps([joins, metadata])] if joins > 0 else ["HDEL", key, field]
            index = ["SADD", self._key("presence-channels"), channel]
        else:
            group, channel, member = args
            change = ["SADD" if member else "SREM", self._key("group", group), channel]
            index = ["SADD", self._key("groups"), group]
        commands += (change, index, ["PUBLISH", self.prefix, envelope])
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
