"""The PostgreSQL channel layer: LISTEN/NOTIFY between processes, state in tables."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from ..database import Database
from ..database.listen import Listener, Notification
from ..orm.backends import features_for
from . import pg_schema as sql
from .distributed import ChannelLayerUnavailable, DistributedChannelLayer, Snapshot

log = logging.getLogger("hyperdjango.channels")

#: PostgreSQL refuses a NOTIFY payload of this many bytes or more.
NOTIFY_LIMIT = 8000
#: Publishes between two clean-ups of old messages.
_CLEANUP_EVERY = 256


class PgChannelLayer(DistributedChannelLayer):
    """Channels shared by every process connected to one PostgreSQL database.

    ``await layer.connect()`` creates the layer's tables if needed, opens one
    dedicated LISTEN connection and loads presence, history and groups;
    ``await layer.close()`` removes this process's presence and closes both.

    - ``publish`` stores the message and NOTIFYs it on ``notify_channel`` in
      one transaction; every process, this one included, delivers it when the
      notification arrives, so all of them see one channel's messages in commit
      order, which is also the order of the history. A message whose
      notification would reach PostgreSQL's 8000-byte limit is announced by
      reference and fetched from the messages table by the receivers (whole, in
      its place).
    - Presence, history and groups are stored in tables, so every process sees
      the same ones; ``join``/``leave``/``add``/``discard`` return at once and
      are written in order in the background (see ``distributed.py``).
    - After the LISTEN connection was lost and is back, the state is loaded
      again and messages missed meanwhile (still in the history) are delivered.
    - Messages older than ``message_ttl`` seconds beyond the last
      ``history_size`` of their channel are deleted now and then.

    - The connections carry ``application_name=hyperdjango_channels:<sender>``
      (replacing one the URL may set): every ``presence_check_interval``
      seconds, at ``connect()`` and after a reconnect, the presence rows of
      senders with no session left in ``pg_stat_activity`` (processes killed
      without ``close()``) are removed and their leave announced.
    """

    backend = "PostgreSQL"

    def __init__(
        self,
        database_url: str,
        *,
        notify_channel: str = "hyperdjango_channels",
        history_size: int = 100,
        queue_size: int = 1000,
        write_queue_size: int = 10_000,
        message_ttl: float = 60.0,
        presence_check_interval: float = 30.0,
    ) -> None:
        super().__init__(
            history_size=history_size,
            queue_size=queue_size,
            write_queue_size=write_queue_size,
            presence_check_interval=presence_check_interval,
        )
        self.database_url = database_url
        self.notify_channel = notify_channel
        self.message_ttl = message_ttl
        self.database: Database | None = None
        self.listener: Listener | None = None
        self._ready: asyncio.Future | None = None
        self._publishes_since_cleanup = 0
        self._counters["large_payloads"] = 0

    def __repr__(self) -> str:
        return f"<PgChannelLayer {self.database_url.split('@')[-1]!r} connected={self.connected}>"

    def stats(self) -> dict[str, int]:
        """The counters of :meth:`DistributedChannelLayer.stats`, ``large_payloads``
        (messages announced by reference) and the listener's ``listener_*`` counters."""
        stats = super().stats()
        if self.listener is not None:
            stats.update({f"listener_{key}": value for key, value in self.listener.stats().items()})
        return stats

    async def connect(self) -> None:
        """Creates the tables if needed, LISTENs and loads the shared state."""
        if self.connected:
            return
        # Named at connect, not here: a layer forked into worker processes has a sender per process.
        database = Database(_with_application_name(self.database_url, f"{sql.APPLICATION_NAME}:{self.sender}"))
        if not features_for(database.vendor).supports_listen_notify:
            raise ValueError(f"PgChannelLayer needs a PostgreSQL URL, not {self.database_url!r}")
        await database.connect()
        self.database = database
        try:
            async with database.transaction():
                await database.execute(sql.DDL_LOCK)
                for statement in sql.DDL:
                    await database.execute(statement)
            self._start_writer()
            self._ready = asyncio.get_running_loop().create_future()
            self.listener = await database.listen(self.notify_channel, self._on_notification)
            self.listener.on_reconnect(self._on_reconnect)
            await self._reload()
            self._ready.set_result(None)
            self._start_housekeeping()
            self.connected = True
        except BaseException:
            await self._shut()
            raise

    async def _shut(self) -> None:
        await self._stop_housekeeping()
        await self._stop_writer()
        if self.listener is not None:
            await self.listener.close()
            self.listener = None
        if self.database is not None:
            await self.database.close()
            self.database = None

    # -- the transport ----------------------------------------------------------------

    def _on_notification(self, notification: Notification) -> Any:
        assert self._ready is not None
        if not self._ready.done():
            return self._receive_when_ready(notification.payload)
        return self._receive(notification.payload)

    async def _receive_when_ready(self, payload: str) -> None:
        # Arrived while the state was loading: applied after it, in order.
        assert self._ready is not None
        await asyncio.shield(self._ready)
        pending = self._receive(payload)
        if pending is not None:
            await pending

    async def _on_reconnect(self) -> None:
        self._counters["reconnects"] += 1
        log.warning("channel layer: the LISTEN connection to PostgreSQL came back; reloading the shared state")
        await self._reload()

    async def _write_batch(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        assert self.database is not None
        try:
            results = await self._write_stored(changes)
        except Exception as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        return [self._unavailable(result) or result for result in results]

    def _unavailable(self, error: BaseException | None) -> ChannelLayerUnavailable | None:
        """``ChannelLayerUnavailable`` for an error of an unreachable server (a 503 where the
        publish is awaited), None for any other."""
        assert self.database is not None
        if error is None or not self.database.is_unreachable(error):
            return None
        unavailable = ChannelLayerUnavailable(f"the PostgreSQL server of the channel layer cannot be reached ({error}); retry shortly")
        unavailable.__cause__ = error
        return unavailable

    async def _write_stored(self, changes: list[tuple[str, tuple]]) -> list[BaseException | None]:
        assert self.database is not None
        statements = [self._statement(kind, args) for kind, args in changes]
        results: list[BaseException | None] | None = None
        if len(statements) > 1:
            results = await self._write_together(changes, statements)
        if results is None:
            # One change, or a batch that failed as a whole: each on its own, so
            # that one bad change fails alone.
            results = [r if isinstance(r, BaseException) else None for r in await self.database.pipeline(statements)]
        if self._publishes_since_cleanup >= _CLEANUP_EVERY:
            self._publishes_since_cleanup = 0
            try:
                await self.database.execute(sql.CLEANUP, self.history_size, self.message_ttl)
            except Exception as exc:  # noqa: BLE001 - counted and logged
                self._counters["write_failures"] += 1
                log.error("channel layer: deleting old messages failed: %s", exc)
        return results

    async def _write_together(self, changes: list[tuple[str, tuple]], statements: list[tuple[str, tuple]]) -> list[BaseException | None] | None:
        """Writes the batch in one transaction: one commit, and its notifications
        leave together. None when it failed (nothing of it was stored)."""
        assert self.database is not None
        channels = [args[0] for kind, args in changes if kind == "publish"]
        try:
            async with self.database.transaction():
                results = await self.database.pipeline([(sql.LOCK_CHANNELS, (channels,)), *statements])
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
        except Exception as exc:  # noqa: BLE001 - the changes are written one by one next
            log.debug("channel layer: a batch of %d changes failed together (%s); writing them one by one", len(changes), exc)
            return None
        return [None] * len(changes)

    def _statement(self, kind: str, args: tuple) -> tuple[str, tuple]:
        envelope = self._announcement(kind, args).decode()
        if kind == "publish":
            channel, message_id, payload = args
            self._publishes_since_cleanup += 1
            if len(envelope.encode()) >= NOTIFY_LIMIT:
                self._counters["large_payloads"] += 1
                envelope = self._envelope("ref", c=channel, i=message_id).decode()
            return sql.PUBLISH, (channel, message_id, payload.decode(), self.notify_channel, envelope)
        if kind == "presence":
            channel, user_id, joins, metadata = args
            if joins > 0:
                return sql.PRESENCE_SET, (
                    channel, user_id, self.sender, joins, orjson.dumps(metadata).decode(), self.notify_channel, envelope,
                )
            return sql.PRESENCE_DELETE, (channel, user_id, self.sender, self.notify_channel, envelope)
        group, channel, member = args
        return (sql.GROUP_ADD if member else sql.GROUP_DISCARD), (group, channel, self.notify_channel, envelope)

    async def _fetch_message(self, message_id: str) -> str | None:
        assert self.database is not None
        return await self.database.query_val(sql.FETCH_MESSAGE, message_id)

    async def _remove_dead_presence(self) -> int:
        assert self.database is not None
        return len(await self.database.query(sql.SWEEP_DEAD_PRESENCE, self.notify_channel))

    async def _load_snapshot(self) -> Snapshot:
        assert self.database is not None
        history, presence, groups = await self.database.pipeline(
            [(sql.LOAD_HISTORY, (self.history_size,)), (sql.LOAD_PRESENCE, ()), (sql.LOAD_GROUPS, ())]
        )
        for result in (history, presence, groups):
            if isinstance(result, BaseException):
                raise result
        return Snapshot(
            history=[(r[0], r[1], r[2]) for r in history],
            presence=[(r[0], r[1], r[2], r[3], r[4]) for r in presence],
            groups=[(r[0], r[1]) for r in groups],
        )


def _with_application_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "application_name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("application_name", name)])))
