"""What the cross-process layers (PostgreSQL, Redis) share.

Each process keeps the local mirrors of ``base.py`` (subscribers, presence,
history, groups); this module keeps them in step with the other processes:

- **Written in order.** A change (publish, join/leave, group add/discard) is
  queued for the backend; one writer task sends whatever is queued in one
  round trip (a pipeline), in the order the changes were made. The queue is
  bounded (``write_queue_size``): ``publish`` waits for room; a plain call
  (``join``...) that finds it full raises. A write that fails is logged and
  counted (``write_failures``); a failed publish also raises from
  ``await publish(...)``.
- **Stored and announced.** Each change is stored (history, presence and
  groups survive processes and are loaded at ``connect()``) and announced in
  an *envelope* (JSON) that every process applies.
- **One order per channel.** A message is delivered, in every process
  including the one that published it, when its envelope comes back from the
  backend, whose order is the same for every listener (PostgreSQL: commit
  order; Redis: the server's). The backend stores the history in that same
  order, so ``history()`` agrees with what subscribers saw. ``publish``
  returns once its own envelope is back (or a reload has covered it), so the
  publisher's ``history()`` already holds the message. Presence and group
  changes have no order to agree on: they are applied locally at once and a
  process skips their envelopes when they come back (``sender``).
- **Presence rows are absolute.** Presence is stored per (channel, user,
  process) as a join count, and an envelope carries the new count, not a
  delta: applying one twice, or after a reload, changes nothing.
- **Reload after a reconnect.** Envelopes sent while the backend's
  subscription was down are lost, so the state is loaded again (in order with
  the queued writes, and before any later envelope is applied); messages that
  were published meanwhile and are still in the history are delivered to the
  subscribers then, so a short outage loses nothing that ``history_size`` holds.
- **Processes that died.** Every ``presence_check_interval`` seconds, at
  ``connect()`` and at every reload, a process removes (and announces the
  leave of) the presence rows of processes that are gone without ``close()``;
  how a backend tells the living from the dead is its own
  (``_remove_dead_presence``). A process whose rows were removed while it was
  only cut off writes them again at its next reload.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import orjson

from ..exceptions import ServiceUnavailable
from .base import ChannelLayer

log = logging.getLogger("hyperdjango.channels")

#: Changes sent to the backend in one round trip at most.
_WRITE_BATCH = 256
#: Pauses between attempts to reload the state after a reconnect.
_RELOAD_BACKOFF = (0.1, 0.5, 1.0, 2.0, 5.0)
#: How long ``close()`` waits for queued writes.
_CLOSE_FLUSH_TIMEOUT = 10.0


class ChannelLayerUnavailable(ServiceUnavailable):
    """The layer's server (Redis, PostgreSQL) cannot be reached: ``await publish(...)`` raises this, and
    a view that lets it escape answers 503 with ``Retry-After`` (not a 500). The layer
    reconnects by itself; publishing works again once the server is back."""


def encode_message(message: Any) -> bytes:
    """The JSON of a message, or a TypeError that says what to send instead."""
    try:
        return orjson.dumps(message)
    except TypeError as exc:
        raise TypeError(
            f"a channel message must be JSON-compatible (dict, list, str, int, float, bool, None): {exc}"
        ) from None


@dataclass(slots=True)
class Write:
    """One queued change. ``kind`` is ``publish``, ``presence`` or ``group``
    (stored and announced by the backend), or ``reload``/``stop`` (run alone)."""

    kind: str
    args: tuple
    done: asyncio.Future | None = None


@dataclass(slots=True)
class Echo:
    """A message this process published, waiting to come back from the backend."""

    channel: str
    payload: bytes
    written: asyncio.Future
    delivered: asyncio.Future


@dataclass(slots=True)
class Snapshot:
    """The shared state as stored: history oldest first per channel as
    ``(channel, message_id, message_json)``, presence rows as ``(channel, user_id,
    sender, joins, metadata_json)``, group members as ``(group, channel)``."""

    history: list[tuple[str, str, str | bytes]]
    presence: list[tuple[str, str, str, int, str | bytes]]
    groups: list[tuple[str, str]]


class DistributedChannelLayer(ChannelLayer):
    """The shared half of the PostgreSQL and Redis layers (see the module docs).

    A backend implements ``_write_batch`` (store and announce changes, in order,
    in one round trip), ``_load_snapshot`` and its own connect/close, and hands
    every envelope it receives to ``_receive``.
    """

    backend = "backend"

    def __init__(
        self,
        *,
        history_size: int = 100,
        queue_size: int = 1000,
        write_queue_size: int = 10_000,
        presence_check_interval: float = 30.0,
    ) -> None:
        super().__init__(history_size=history_size, queue_size=queue_size)
        self._sender, self._sender_pid = uuid.uuid4().hex, os.getpid()
        self.write_queue_size = write_queue_size
        self.presence_check_interval = presence_check_interval
        #: message id → this process's messages on their way back.
        self._echoes: dict[str, Echo] = {}
        self._housekeeper: asyncio.Task | None = None
        self._sequence = itertools.count(1)
        self._writes: deque[Write] = deque()
        self._writes_waiting: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._writer: asyncio.Task | None = None
        #: channel → (user_id, sender) → (joins, metadata): every process's rows.
        self._presence_rows: dict[str, dict[tuple[str, str], tuple[int, dict[str, Any]]]] = {}
        self._counters.update(
            write_failures=0,
            write_queue_full=0,
            reconnects=0,
            reload_failures=0,
            lost_messages=0,
            bad_envelopes=0,
            liveness_checks=0,
            presence_swept=0,
            sweep_failures=0,
        )

    @property
    def sender(self) -> str:
        """Identifies this layer's envelopes and rows: one per layer object (two
        layers in one process also talk to each other) and per process. A layer
        made at import time and forked into ``hyper run --workers N`` gets a new
        id in each worker; with a shared one, sibling workers would skip each
        other's presence and group changes as their own."""
        if self._sender_pid != os.getpid():
            self._sender, self._sender_pid = uuid.uuid4().hex, os.getpid()
        return self._sender

    def stats(self) -> dict[str, int]:
        """The counters of :meth:`ChannelLayer.stats`, and: ``write_failures``
        (changes the backend did not store), ``write_queue_full`` (plain calls
        refused because the write queue was full), ``writes_queued`` (waiting now),
        ``reconnects`` (of the subscription), ``reload_failures``, ``lost_messages``
        (announced but no longer stored when fetched, or missed during an outage
        and already beyond the history when reloaded), ``bad_envelopes``
        (unreadable announcements), ``liveness_checks`` (periodic looks for
        processes that are gone), ``presence_swept`` (presence rows of dead
        processes this process removed) and ``sweep_failures`` (such looks that
        failed)."""
        return {**super().stats(), "writes_queued": len(self._writes)}

    # -- the writer ---------------------------------------------------------------------

    def _start_writer(self) -> None:
        self._writes_waiting = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name=f"{self.backend} channel writer")

    async def _stop_writer(self) -> None:
        """Writes what is queued (waiting at most ``_CLOSE_FLUSH_TIMEOUT``), then stops the writer."""
        if self._writer is None:
            return
        stopped = self._enqueue(Write("stop", (), asyncio.get_running_loop().create_future()))
        try:
            await asyncio.wait_for(asyncio.shield(stopped), _CLOSE_FLUSH_TIMEOUT)  # type: ignore[arg-type]
        except TimeoutError:
            log.error("channel layer: %d changes were not written to %s before close", len(self._writes), self.backend)
            self._counters["write_failures"] += len(self._writes)
            self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
        self._writer = None
        while self._writes:
            unwritten = self._writes.popleft()
            _settle(unwritten.done, RuntimeError(f"the channel layer closed before this change was written to {self.backend}"))
        self._settle_echoes(lost=False)

    def _require_connected(self) -> None:
        if self._writer is None:
            raise RuntimeError(f"the {type(self).__name__} is not connected: call `await layer.connect()` first")

    def _enqueue(self, write: Write) -> asyncio.Future | None:
        self._writes.append(write)
        assert self._writes_waiting is not None and self._room is not None
        self._writes_waiting.set()
        if len(self._writes) >= self.write_queue_size:
            self._room.clear()
        return write.done

    def _enqueue_now(self, kind: str, args: tuple) -> None:
        """Queues a change made by a plain (non-async) call: it cannot wait for room."""
        self._require_connected()
        if len(self._writes) >= self.write_queue_size:
            self._counters["write_queue_full"] += 1
            raise RuntimeError(
                f"the channel layer's write queue is full ({len(self._writes)} changes waiting for "
                f"{self.backend}): the backend is down or too slow; raise write_queue_size or retry later"
            )
        self._enqueue(Write(kind, args))

    async def _write_loop(self) -> None:
        assert self._writes_waiting is not None and self._room is not None
        while True:
            if not self._writes:
                self._writes_waiting.clear()
                await self._writes_waiting.wait()
                continue
            batch = [self._writes.popleft()]
            if batch[0].kind not in ("reload", "stop"):
                while self._writes and len(batch) < _WRITE_BATCH and self._writes[0].kind not in ("reload", "stop"):
                    batch.append(self._writes.popleft())
            if len(self._writes) < self.write_queue_size:
                self._room.set()
            first = batch[0]
            if first.kind == "stop":
                _settle(first.done, None)
                return
            if first.kind == "reload":
                await self._run_reload(first)
            else:
                await self._run_writes(batch)

    async def _run_writes(self, batch: list[Write]) -> None:
        try:
            errors = await self._write_batch([(w.kind, w.args) for w in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the round trip failed: every change in it did
            errors = [exc] * len(batch)
        for write, error in zip(batch, errors):
            if error is not None:
                self._counters["write_failures"] += 1
                log.error("channel layer: %s could not store a %s change %r: %s", self.backend, write.kind, write.args[:2], error)
            _settle(write.done, error)

    async def _write_batch(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        """Stores and announces ``changes`` in order, in one round trip; one
        error (or None) per change. Kinds and arguments:
        ``("publish", (channel, message_id, message_json))``,
        ``("presence", (channel, user_id, joins, metadata))``,
        ``("group", (group, channel, member))``."""
        raise NotImplementedError

    # -- changes made here --------------------------------------------------------------

    async def _transmit(self, channel: str, message: Any) -> None:
        self._require_connected()
        payload = encode_message(message)
        assert self._room is not None
        while not self._room.is_set():
            await self._room.wait()
        message_id = f"{self.sender}:{next(self._sequence)}"
        loop = asyncio.get_running_loop()
        echo = self._echoes[message_id] = Echo(channel, payload, loop.create_future(), loop.create_future())
        self._enqueue(Write("publish", (channel, message_id, payload), echo.written))
        try:
            await echo.written
        except BaseException:
            self._echoes.pop(message_id, None)
            raise
        # Delivered here too only when it comes back: in the backend's order.
        await asyncio.shield(echo.delivered)

    def _deliver(self, channel_name: str, message: Any, message_id: str | None = None) -> None:
        super()._deliver(channel_name, message, message_id)
        echo = self._echoes.pop(message_id, None) if message_id is not None else None
        if echo is not None:
            _settle(echo.delivered, None)

    def _settle_echoes(self, *, lost: bool) -> None:
        """Ends the wait of every publish that is written but has not come back
        (a reload covered it, or the layer closes); ``lost`` counts them."""
        for message_id, echo in list(self._echoes.items()):
            if echo.written.done():
                del self._echoes[message_id]
                if lost:
                    self._counters["lost_messages"] += 1
                    log.error("channel layer: message %s on %s did not come back from %s and is beyond the "
                              "history: this process's subscribers miss it", message_id, echo.channel, self.backend)
                _settle(echo.delivered, None)

    def _transmit_presence(self, channel: str, action: str, user_id: str, metadata: dict[str, Any]) -> None:
        self._require_connected()
        joins, current = self._presence_rows.get(channel, {}).get((user_id, self.sender), (0, {}))
        if action == "join":
            joins, current = joins + 1, metadata or current
        elif joins == 0:
            return  # a leave undoes a join of this process; there is none
        else:
            joins -= 1
        self._enqueue_now("presence", (channel, user_id, joins, current))
        self._set_presence_row(channel, user_id, self.sender, joins, current)

    def _transmit_group(self, group: str, channel: str, member: bool) -> None:
        self._enqueue_now("group", (group, channel, member))
        self._apply_group(group, channel, member)

    def _set_presence_row(self, channel: str, user_id: str, sender: str, joins: int, metadata: dict[str, Any]) -> None:
        rows = self._presence_rows.setdefault(channel, {})
        if joins > 0:
            rows[(user_id, sender)] = (joins, metadata)
        else:
            rows.pop((user_id, sender), None)
        self._recount(channel, user_id, metadata if joins > 0 else None)

    def _recount(self, channel: str, user_id: str, metadata: dict[str, Any] | None = None) -> None:
        """Sets the mirror's entry for ``user_id`` from the rows of every process."""
        rows = [row for (user, _), row in self._presence_rows.get(channel, {}).items() if user == user_id]
        presence = self.channel(channel)._presence
        if not rows:
            presence.pop(user_id, None)
        else:
            presence[user_id] = (sum(joins for joins, _ in rows), metadata if metadata is not None else rows[-1][1])

    # -- envelopes: what other processes announce -----------------------------------------

    def _envelope(self, kind: str, **fields: Any) -> bytes:
        return orjson.dumps({"s": self.sender, "k": kind, **fields})

    def _announcement(self, kind: str, args: tuple) -> bytes:
        """The envelope announcing a change queued by this process."""
        if kind == "publish":
            channel, message_id, payload = args
            return self._envelope("msg", c=channel, i=message_id, m=orjson.Fragment(payload))
        if kind == "presence":
            channel, user_id, joins, metadata = args
            return self._envelope("pres", c=channel, u=user_id, n=joins, m=metadata)
        group, channel, member = args
        return self._envelope("grp", g=group, c=channel, a=member)

    def _receive(self, raw: str | bytes) -> Awaitable[None] | None:
        """Applies one envelope from the backend; returns an awaitable when
        the message must be fetched first (the caller awaits it before the next)."""
        try:
            envelope = orjson.loads(raw)
            kind = envelope["k"]
            if kind == "msg":
                self._deliver(envelope["c"], envelope["m"], envelope["i"])
            elif kind == "ref":
                echo = self._echoes.get(envelope["i"])
                if echo is not None:  # our own: no need to fetch it
                    self._deliver(envelope["c"], orjson.loads(echo.payload), envelope["i"])
                else:
                    return self._fetch_and_deliver(envelope["c"], envelope["i"])
            elif envelope["s"] == self.sender:
                return None  # a presence or group change: applied when it was made here
            elif kind == "pres":
                self._set_presence_row(envelope["c"], envelope["u"], envelope["s"], int(envelope["n"]), envelope["m"])
            elif kind == "grp":
                self._apply_group(envelope["g"], envelope["c"], bool(envelope["a"]))
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self._counters["bad_envelopes"] += 1
            log.error("channel layer: an unreadable announcement from %s was ignored (%s): %.200r", self.backend, exc, raw)
        return None

    async def _fetch_and_deliver(self, channel: str, message_id: str) -> None:
        try:
            payload = await self._fetch_message(message_id)
        except Exception as exc:  # noqa: BLE001 - counted and logged below
            payload, why = None, str(exc)
        else:
            why = "it is no longer stored"
        if payload is None:
            self._counters["lost_messages"] += 1
            log.error("channel layer: message %s on %s could not be fetched from %s: %s", message_id, channel, self.backend, why)
            return
        self._deliver(channel, orjson.loads(payload), message_id)

    async def _fetch_message(self, message_id: str) -> str | bytes | None:
        """The stored JSON of a message announced by reference (backends with a payload limit)."""
        raise NotImplementedError

    # -- loading the shared state ---------------------------------------------------------

    async def _load_snapshot(self) -> Snapshot:
        raise NotImplementedError

    async def _remove_dead_presence(self) -> int:
        """Deletes the presence rows of processes that are gone and announces
        each as a leave of its sender (so every process applies it); returns how many."""
        raise NotImplementedError

    async def _sweep(self) -> None:
        """``_remove_dead_presence``, counted; a failure is logged and counted, not raised."""
        try:
            removed = await self._remove_dead_presence()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next check tries again
            self._counters["sweep_failures"] += 1
            log.error("channel layer: checking %s for processes that are gone failed: %s", self.backend, exc)
            return
        if removed:
            self._counters["presence_swept"] += removed
            log.warning("channel layer: removed %d presence entries of processes that ended without close()", removed)

    async def _check_liveness(self) -> None:
        """Run every ``presence_check_interval`` seconds."""
        await self._sweep()

    def _start_housekeeping(self) -> None:
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeep(), name=f"{self.backend} channel liveness")

    async def _stop_housekeeping(self) -> None:
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            try:
                await self._housekeeper
            except asyncio.CancelledError:
                pass
            self._housekeeper = None

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.presence_check_interval)
            await self._check_liveness()
            self._counters["liveness_checks"] += 1

    async def _reload(self) -> None:
        """Loads the shared state, in order with the queued writes."""
        self._require_connected()
        done = self._enqueue(Write("reload", (), asyncio.get_running_loop().create_future()))
        await done  # type: ignore[misc]

    async def _run_reload(self, write: Write) -> None:
        await self._sweep()
        await self._restore_own_presence()
        for attempt in itertools.count():
            try:
                snapshot = await self._load_snapshot()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried; the subscription is up, so is the backend
                self._counters["reload_failures"] += 1
                delay = _RELOAD_BACKOFF[min(attempt, len(_RELOAD_BACKOFF) - 1)]
                log.error("channel layer: loading the shared state from %s failed (%s); retrying in %.1f s", self.backend, exc, delay)
                await asyncio.sleep(delay)
        self._apply_snapshot(snapshot)
        # Every publish written before this reload is in the snapshot, or beyond
        # its history: none is still on its way.
        self._settle_echoes(lost=True)
        _settle(write.done, None)

    async def _restore_own_presence(self) -> None:
        """Writes this process's presence rows again: while it was cut off from
        the backend, another process may have taken it for dead and removed them."""
        rows = [
            ("presence", (channel, user_id, joins, metadata))
            for channel, channel_rows in self._presence_rows.items()
            for (user_id, sender), (joins, metadata) in channel_rows.items()
            if sender == self.sender
        ]
        if not rows:
            return
        try:
            errors = await self._write_batch(rows)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted below, like any failed write
            errors = [exc] * len(rows)
        for (_, args), error in zip(rows, errors):
            if error is not None:
                self._counters["write_failures"] += 1
                log.error("channel layer: %s could not restore presence %r: %s", self.backend, args[:2], error)

    def _apply_snapshot(self, snapshot: Snapshot) -> None:
        for channel, message_id, payload in snapshot.history:
            self._deliver(channel, orjson.loads(payload), message_id)

        # Other processes' rows are replaced; this process's own rows are what it
        # holds (its queued writes may not be stored yet).
        touched: set[tuple[str, str]] = set()
        for channel, rows in self._presence_rows.items():
            for user_id, sender in [key for key in rows if key[1] != self.sender]:
                del rows[(user_id, sender)]
                touched.add((channel, user_id))
        for channel, user_id, sender, joins, metadata in snapshot.presence:
            if sender != self.sender and joins > 0:
                self._presence_rows.setdefault(channel, {})[(user_id, sender)] = (joins, orjson.loads(metadata))
                touched.add((channel, user_id))
        for channel, user_id in touched:
            self._recount(channel, user_id)

        for group in self._groups.values():
            group._members.clear()
        for group_name, channel in snapshot.groups:
            self._apply_group(group_name, channel, True)
        for write in self._writes:  # made after the snapshot was read
            if write.kind == "group":
                self._apply_group(*write.args)

    # -- close ----------------------------------------------------------------------------

    async def close(self) -> None:
        """Removes this process's presence, writes what is queued, unsubscribes
        everyone and closes the connections."""
        if not self.connected:
            return
        self._leave_everywhere()
        await self._shut()
        await super().close()

    async def _shut(self) -> None:
        """Stops the layer's tasks and closes its connections (the transport's)."""
        raise NotImplementedError

    def _leave_everywhere(self) -> None:
        """Removes this process's presence rows (its connections are going away)."""
        for channel, rows in self._presence_rows.items():
            for user_id, sender in [key for key in rows if key[1] == self.sender]:
                self._enqueue(Write("presence", (channel, user_id, 0, {})))
                self._set_presence_row(channel, user_id, sender, 0, {})


def _settle(future: asyncio.Future | None, error: BaseException | None) -> None:
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
