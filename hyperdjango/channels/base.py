"""The interface every channel layer shares, and the process-local half of it.

A layer has two halves:

- the **transport** (backend-specific): :meth:`ChannelLayer._transmit` carries
  a published message to every process, and each process hands what arrives
  to :meth:`ChannelLayer._deliver`. Presence and group changes travel the
  same way (:meth:`_transmit_presence` → :meth:`_apply_presence`,
  :meth:`_transmit_group` → :meth:`_apply_group`);
- the **local side** (here, shared by all backends): per-subscriber bounded
  queues consumed in order, presence and history mirrors, counters.

``subscribe``, ``join``, ``leave``, ``presence`` and ``history`` are plain
calls that read and update the local mirror; ``publish`` is awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from ..websockets import WebSocketDisconnect
from .sockets import SocketSubscribers, socket_of

log = logging.getLogger("hyperdjango.channels")

Callback = Callable[[Any], Any]


class _Subscription:
    """One subscriber: a bounded queue and the task that feeds its callback in order."""

    __slots__ = ("id", "callback", "queue", "task", "layer")

    def __init__(self, sub_id: str, callback: Callback, layer: ChannelLayer) -> None:
        self.id = sub_id
        self.callback = callback
        self.layer = layer
        self.queue: asyncio.Queue[Any] = asyncio.Queue(layer.queue_size)
        self.task: asyncio.Task | None = None
        self._start()

    def _start(self) -> None:
        if self.task is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # started by the first delivery, which runs on a loop
            self.task = loop.create_task(self._consume(), name=f"channel subscriber {self.id}")

    def offer(self, channel: str, message: Any) -> None:
        self._start()
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.layer._overflowed(channel, self.id)

    async def _consume(self) -> None:
        while True:
            message = await self.queue.get()
            try:
                result = self.callback(message)
                if inspect.isawaitable(result):
                    await result
                self.layer._counters["delivered"] += 1
            except asyncio.CancelledError:
                raise
            except WebSocketDisconnect:
                # The subscriber forwards to a WebSocket that has gone: the
                # handler's `finally` will unsubscribe; stop feeding it now.
                self.layer._counters["closed_subscribers"] += 1
                self.layer._drop_subscription(self.id)
                return
            except Exception:
                self.layer._counters["callback_errors"] += 1
                log.exception("channel subscriber %s failed on a message", self.id)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


class Channel:
    """A named channel of a layer: ``layer.channel("chat:room1")``."""

    def __init__(self, layer: ChannelLayer, name: str) -> None:
        self.layer = layer
        self.name = name
        self._subscribers: dict[str, _Subscription] = {}
        #: Subscriptions that are a WebSocket's own send method: fed by the engine.
        self._sockets = SocketSubscribers(layer)
        self._presence: dict[str, tuple[int, dict[str, Any]]] = {}
        #: ``(message_id, message)``; the id (None in one process) lets a
        #: cross-process layer recognise a message it already has.
        self._history: deque[tuple[str | None, Any]] = deque(maxlen=layer.history_size)
        #: The ids in ``_history``, for that check.
        self._history_ids: set[str] = set()

    def subscribe(self, callback: Callback) -> str:
        """Calls ``callback(message)`` (sync or async) for every message
        published from now on, in order; returns an id for ``unsubscribe``.
        Messages wait in a bounded queue per subscriber: when a callback
        falls behind by ``queue_size`` messages, further ones are dropped for
        it, counted in ``layer.stats()["overflow"]`` and logged.

        A WebSocket's own send method (``subscribe(ws.send_text)``, or
        ``ws.send_json``, ``ws.send_bytes``) has neither task nor queue: each
        message is encoded once and the engine queues it on all such sockets
        in one call; the socket's own bounded send queue is the backpressure
        (a full one closes it with 1013 and ends the subscription)."""
        sub_id = f"{self.name}#{next(self.layer._ids)}"
        socket = socket_of(callback)
        if socket is not None:
            self._sockets.add(sub_id, *socket)
        else:
            self._subscribers[sub_id] = _Subscription(sub_id, callback, self.layer)
        return sub_id

    def unsubscribe(self, sub_id: str) -> bool:
        """Stops a subscription; False if the id is unknown."""
        sub = self._subscribers.pop(sub_id, None)
        if sub is None:
            return self._sockets.remove(sub_id)
        sub.cancel()
        return True

    async def publish(self, message: Any) -> None:
        """Sends ``message`` (keep it JSON-compatible: other layers serialise it)
        to every subscriber of the channel, in every process of the layer."""
        self.layer._counters["published"] += 1
        await self.layer._transmit(self.name, message)

    def join(self, user_id: str, metadata: dict[str, Any] | None = None) -> None:
        """Marks ``user_id`` present, with ``metadata`` shown by ``presence()``.
        Joins are counted: a user who joined twice (two tabs) stays present
        until they left twice."""
        self.layer._transmit_presence(self.name, "join", str(user_id), dict(metadata or {}))

    def leave(self, user_id: str) -> None:
        """Undoes one ``join`` of ``user_id``."""
        self.layer._transmit_presence(self.name, "leave", str(user_id), {})

    def presence(self) -> list[dict[str, Any]]:
        """Who is here: ``[{"user_id": "user42", "name": "Alice"}]`` (metadata merged flat)."""
        return [{"user_id": user_id, **metadata} for user_id, (_, metadata) in self._presence.items()]

    def history(self, limit: int = 50) -> list[Any]:
        """The last ``limit`` messages published to the channel, oldest first."""
        if limit <= 0:
            return []
        return [message for _, message in list(self._history)[-limit:]]

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers) + len(self._sockets)

    def __repr__(self) -> str:
        return f"<Channel {self.name!r} subscribers={self.subscriber_count}>"


class Group:
    """A named set of channels that receive the same messages: ``layer.group("notifications")``."""

    def __init__(self, layer: ChannelLayer, name: str) -> None:
        self.layer = layer
        self.name = name
        self._members: dict[str, None] = {}

    def add(self, channel_name: str) -> None:
        """Makes ``channel_name`` a member (adding twice is harmless), in every process."""
        self.layer._transmit_group(self.name, channel_name, True)

    def discard(self, channel_name: str) -> None:
        """Removes a member if present, in every process."""
        self.layer._transmit_group(self.name, channel_name, False)

    @property
    def members(self) -> list[str]:
        return list(self._members)

    async def publish(self, message: Any) -> None:
        """Publishes ``message`` to every member channel (all at once: a
        cross-process layer writes them in one round trip)."""
        await asyncio.gather(*(self.layer.channel(name).publish(message) for name in list(self._members)))


class ChannelLayer:
    """The interface of every channel layer.

    ``history_size`` messages are kept per channel; ``queue_size`` messages
    may wait per subscriber before overflow.
    """

    def __init__(self, *, history_size: int = 100, queue_size: int = 1000) -> None:
        self.history_size = history_size
        self.queue_size = queue_size
        self._channels: dict[str, Channel] = {}
        self._groups: dict[str, Group] = {}
        self._ids = itertools.count(1)
        self._counters = {"published": 0, "delivered": 0, "overflow": 0, "callback_errors": 0, "closed_subscribers": 0}
        self.connected = False

    async def connect(self) -> None:
        """Opens the transport (nothing to open for the in-memory layer)."""
        self.connected = True

    async def close(self) -> None:
        """Stops every subscription and closes the transport."""
        for channel in self._channels.values():
            for sub_id in [*channel._subscribers, *channel._sockets.ids()]:
                channel.unsubscribe(sub_id)
        self.connected = False

    async def __aenter__(self) -> ChannelLayer:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def channel(self, name: str) -> Channel:
        """The channel called ``name`` (created on first use)."""
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = Channel(self, name)
        return channel

    def group(self, name: str) -> Group:
        """The group called ``name`` (created on first use)."""
        group = self._groups.get(name)
        if group is None:
            group = self._groups[name] = Group(self, name)
        return group

    def stats(self) -> dict[str, int]:
        """Counters: messages published, callbacks run (``delivered``), messages
        dropped because a subscriber's queue was full (``overflow``), callbacks
        that raised (``callback_errors``), subscribers stopped because their
        callback raised ``WebSocketDisconnect`` (``closed_subscribers``), and the
        channels and subscribers there are now."""
        return {
            **self._counters,
            "channels": len(self._channels),
            "subscribers": sum(c.subscriber_count for c in self._channels.values()),
        }

    # -- the transport: what a backend implements --------------------------------------

    async def _transmit(self, channel: str, message: Any) -> None:
        """Carries ``message`` to every process, each of which calls ``_deliver``."""
        raise NotImplementedError

    def _transmit_presence(self, channel: str, action: str, user_id: str, metadata: dict[str, Any]) -> None:
        """Carries a join or leave to every process, each of which calls ``_apply_presence``."""
        raise NotImplementedError

    def _transmit_group(self, group: str, channel: str, member: bool) -> None:
        """Carries a group change to every process, each of which calls ``_apply_group``."""
        raise NotImplementedError

    # -- the local side: shared by every backend ---------------------------------------

    def _deliver(self, channel_name: str, message: Any, message_id: str | None = None) -> None:
        """A message arrived for ``channel_name``: record it and queue it for each
        subscriber. A message whose id is already in the history is not delivered again."""
        channel = self.channel(channel_name)
        history, ids = channel._history, channel._history_ids
        if message_id is not None and message_id in ids:
            return
        if history and len(history) == history.maxlen:
            ids.discard(history[0][0])
        history.append((message_id, message))
        if message_id is not None and history:
            ids.add(message_id)
        for sub in list(channel._subscribers.values()):
            sub.offer(channel_name, message)
        channel._sockets.deliver(channel_name, message)

    def _apply_presence(self, channel_name: str, action: str, user_id: str, metadata: dict[str, Any]) -> None:
        presence = self.channel(channel_name)._presence
        count, current = presence.get(user_id, (0, {}))
        if action == "join":
            presence[user_id] = (count + 1, metadata or current)
        elif count <= 1:
            presence.pop(user_id, None)
        else:
            presence[user_id] = (count - 1, current)

    def _apply_group(self, group: str, channel: str, member: bool) -> None:
        members = self.group(group)._members
        if member:
            members[channel] = None
        else:
            members.pop(channel, None)

    def _drop_subscription(self, sub_id: str) -> None:
        channel_name = sub_id.rpartition("#")[0]
        channel = self._channels.get(channel_name)
        if channel is not None and channel._subscribers.pop(sub_id, None) is None:
            channel._sockets.remove(sub_id)

    def _overflowed(self, channel: str, sub_id: str) -> None:
        self._counters["overflow"] += 1
        overflow = self._counters["overflow"]
        if overflow == 1 or overflow % 1000 == 0:
            log.warning(
                "channel %s: subscriber %s is %d messages behind; dropping messages for it "
                "(%d dropped so far in this layer; raise queue_size or speed up the callback)",
                channel, sub_id, self.queue_size, overflow,
            )
