"""LISTEN/NOTIFY (PostgreSQL): ``Listener`` and ``Notification``.

``await db.listen(channel, callback)`` opens a dedicated connection that
LISTENs on ``channel`` and returns a :class:`Listener`. The engine reads that
connection on its tokio thread; notifications reach the event loop in batches
(one eventfd wake-up for a burst, never one ``call_soon_threadsafe`` each) and
the callback runs on the loop thread, once per notification, in the order the
server sent them.

- A sync callback is called right away; an async one (or a sync one that
  returns an awaitable) is awaited before the next notification is handed to
  the callback, so callbacks never overlap and keep the server's order.
- Nothing is dropped: when callbacks fall behind, the listener stops reading
  its connection until they catch up (the server buffers meanwhile). A
  consumer that never keeps up stalls only its own listener connection.
- When the connection is lost the engine reconnects with backoff and LISTENs
  again on every channel; notifications sent in between are lost, and the
  ``on_reconnect`` callbacks run (in order with the notifications) so that a
  consumer can reload whatever state it derives from them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from ..runtime import loop_bridge

#: Notifications waiting for an async callback before the listener stops reading.
_HIGH_WATER = 1024
_LOW_WATER = 256
_BATCH = 256


class Notification(NamedTuple):
    """One notification: its channel, its payload (``""`` when none) and the
    backend process id of the session that sent it."""

    channel: str
    payload: str
    process_id: int


class Listener:
    """A dedicated PostgreSQL connection that LISTENs; made by ``Database.listen``.

    ``await listener.listen(other_channel)`` and ``await listener.unlisten(channel)``
    change its channels (the callback gets every channel's notifications:
    ``notification.channel`` says which); ``await listener.close()`` (or
    ``async with``) closes it. ``listener.on_reconnect(callback)`` registers a
    callback (sync or async, no arguments) run after the connection was lost
    and LISTENs again.
    """

    def __init__(self, core: Any, callback: Callable[[Notification], Any]) -> None:
        self._core = core
        self._callback = callback
        self._reconnect_callbacks: list[Callable[[], Any]] = []
        self._loop = asyncio.get_running_loop()
        self._fd = core.fileno()
        #: Events waiting for an awaited callback to finish (kept in order).
        self._backlog: deque[Any] = deque()
        self._runner: asyncio.Task | None = None
        self._reading = False
        self._closed = False
        self.reconnects = 0
        self._resume_reading()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Listener {state} channels={self.channels!r}>"

    # -- channels -------------------------------------------------------------------

    @property
    def channels(self) -> list[str]:
        """The channels listened to, sorted."""
        return self._core.channels()

    @property
    def connected(self) -> bool:
        """Whether the connection is up (False while reconnecting and once closed)."""
        return self._core.connected

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called (or the database closed it)."""
        return self._closed

    async def listen(self, channel: str) -> None:
        """LISTENs on one more channel (idempotent)."""
        await self._core.listen(loop_bridge(), channel)

    async def unlisten(self, channel: str) -> None:
        """Stops delivery from ``channel``, including notifications already read."""
        await self._core.unlisten(loop_bridge(), channel)

    def on_reconnect(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """Runs ``callback()`` (sync or async) each time the connection came back;
        returns it, so it can be used as a decorator."""
        self._reconnect_callbacks.append(callback)
        return callback

    def stats(self) -> dict[str, int]:
        """``delivered``, ``stalls`` (times the reader waited for room), ``reconnects``,
        ``dropped_unlistened``, ``queued`` (waiting for the loop) and ``backlog``
        (waiting for an async callback)."""
        stats = dict(self._core.stats())
        stats["backlog"] = len(self._backlog)
        return stats

    async def close(self) -> None:
        """Closes the connection; no callback runs afterwards. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._pause_reading()
        self._backlog.clear()
        await self._core.close(loop_bridge())

    async def __aenter__(self) -> Listener:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- delivery (loop thread) ------------------------------------------------------

    def _resume_reading(self) -> None:
        if self._reading or self._closed:
            return
        self._reading = True
        self._loop.add_reader(self._fd, self._on_readable)
        # Events may be waiting with the eventfd disarmed (a full batch was taken last time).
        self._loop.call_soon(self._on_readable)

    def _pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def _on_readable(self) -> None:
        while self._reading:
            events = self._core.drain(_BATCH)
            for event in events:
                self._deliver(event)
            if len(events) < _BATCH:
                return

    def _deliver(self, event: tuple) -> None:
        if self._closed:
            return
        if self._backlog or self._runner is not None:
            self._backlog.append(event)
            if len(self._backlog) >= _HIGH_WATER:
                # The engine's queues fill up next, then the connection stops being read.
                self._pause_reading()
            return
        pending = self._call(event)
        if pending is not None:
            self._runner = self._loop.create_task(self._run_backlog(pending))

    def _call(self, event: tuple) -> Awaitable[Any] | None:
        """Runs the callbacks for one event; returns what must be awaited, if anything."""
        channel, payload, extra = event
        if channel is None:
            self.reconnects += 1
            callbacks: list[tuple[Callable[..., Any], tuple]] = [(cb, ()) for cb in self._reconnect_callbacks]
        else:
            callbacks = [(self._callback, (Notification(channel, payload, extra),))]
        awaitables = []
        for callback, args in callbacks:
            try:
                result = callback(*args)
            except Exception as exc:  # noqa: BLE001 - reported like asyncio reports callback errors
                self._report(exc, callback)
                continue
            if inspect.isawaitable(result):
                awaitables.append((callback, result))
        if not awaitables:
            return None
        return self._await_all(awaitables)

    async def _await_all(self, awaitables: list[tuple[Callable[..., Any], Awaitable[Any]]]) -> None:
        for callback, awaitable in awaitables:
            try:
                await awaitable
            except Exception as exc:  # noqa: BLE001
                self._report(exc, callback)

    async def _run_backlog(self, first: Awaitable[Any]) -> None:
        try:
            await first
            while self._backlog and not self._closed:
                pending = self._call(self._backlog.popleft())
                if pending is not None:
                    await pending
                if len(self._backlog) <= _LOW_WATER:
                    self._resume_reading()
        finally:
            self._runner = None
        self._resume_reading()

    def _report(self, exc: BaseException, callback: Any) -> None:
        self._loop.call_exception_handler(
            {"message": f"Exception in a LISTEN/NOTIFY callback {callback!r}", "exception": exc, "listener": self}
        )
