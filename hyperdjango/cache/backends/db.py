"""The database cache: entries are rows of one table in PostgreSQL or SQLite (Django's ``DatabaseCache``).

The table (``hyperdjango_cache``) belongs to the built-in app
``hyperdjango.cache``: ``hyper migrate`` creates it, and so does the first use
of the cache (UNLOGGED on PostgreSQL). Integers live in a ``BIGINT`` column, so
``incr`` is one atomic ``UPDATE ... RETURNING`` on both databases; other values
are pickled. Expired rows are ignored by every read and deleted in the
background every ``OPTIONS["CULL_INTERVAL"]`` seconds (60 by default), which
also culls the table down when it holds more than ``MAX_ENTRIES`` rows, as
Django does (the ``1 / CULL_FREQUENCY`` first keys go).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import pickle
import time
from typing import TYPE_CHECKING, Any

from ..schema import TABLE, create_table
from .base import BaseCache

if TYPE_CHECKING:
    from ...database import Database

log = logging.getLogger("hyperdjango.cache")

_INT64 = (-(2**63), 2**63 - 1)
#: Keys per ``IN (...)`` list (SQLite's default limit on parameters is 32,766).
_CHUNK = 500


def _live(mark: int) -> str:
    """The condition of a row not expired at the time bound to ``$mark``."""
    return f"(expires IS NULL OR expires > ${mark})"


def _encode(value: Any) -> tuple[bytes | None, int | None]:
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return None, value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL), None


def _decode(value: bytes | None, number: int | None) -> Any:
    return number if value is None else pickle.loads(value)


class DatabaseCache(BaseCache):
    """A cache in a database table: ``{"BACKEND": "database"}``.

    ``LOCATION`` is the table (default ``hyperdjango_cache``; another name is
    created on first use too). ``OPTIONS["DATABASE"]`` is a URL or a
    :class:`~hyperdjango.database.Database`; by default the app's database.
    ``OPTIONS["CULL_INTERVAL"]``: seconds between background culls.
    """

    def __init__(self, table: str = "", params: dict[str, Any] | None = None) -> None:
        super().__init__(params or {})
        self.table = table or TABLE
        if not self.table.replace("_", "").isalnum():
            raise ValueError(f"a database cache's LOCATION is a table name, not {self.table!r}")
        self._database_option = self.options.pop("DATABASE", self.options.pop("database", None))
        self.cull_interval = float(self.options.pop("CULL_INTERVAL", self.options.pop("cull_interval", 60)))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._database: Database | None = None
        self._owns_database = False
        self._culler: asyncio.Task[None] | None = None
        self._ready = False
        self._preparing: asyncio.Lock | None = None

    # -- connection, schema and culling ---------------------------------------------------

    def database(self) -> Database:
        """The database this cache uses on the running loop (the table may not exist yet)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._bind(loop)
        assert self._database is not None
        return self._database

    def is_unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` means the cache's PostgreSQL server cannot be reached (see
        ``Database.is_unreachable``; never on SQLite): the driver raises ``OperationalError``
        for it, as for a deadlock, so ``unavailable_errors()`` cannot tell them apart."""
        return self.database().is_unreachable(error)

    async def db(self) -> Database:
        """The database of the running loop, with the table created and the cull running."""
        self.database()
        assert self._database is not None and self._preparing is not None
        if not self._ready:
            async with self._preparing:  # one migration at a time; the others find it done
                if not self._ready:
                    await self._prepare(self._database)
        return self._database

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        from ...database import Database, default_database

        option = self._database_option
        self._owns_database = isinstance(option, str)
        # A database made from a URL belongs to one loop, like its connections.
        self._database = Database(option) if isinstance(option, str) else option or default_database()
        self._loop = loop
        self._ready = False
        self._preparing = asyncio.Lock()
        self._culler = None

    async def _prepare(self, db: Database) -> None:
        # In the caller's transaction, if any (SQLite has one writer: another connection
        # would wait for it forever); ready once it commits, so a rollback means "again".
        if self.table == TABLE:
            from ...migrations import migrate

            await migrate(db, "hyperdjango.cache")
        else:
            await create_table(db, self.table)
        if db.in_transaction:
            db.on_commit(self._mark_ready)
        else:
            self._mark_ready()

    def _mark_ready(self) -> None:
        if self._ready or self._database is None:
            return
        self._ready = True
        if self.cull_interval > 0 and self._loop is not None:
            # A fresh context: the cull never joins a transaction of the request that started it.
            self._culler = self._loop.create_task(self._cull_forever(self._database), context=contextvars.Context())

    async def _cull_forever(self, db: Database) -> None:
        while True:
            await asyncio.sleep(self.cull_interval)
            try:
                await self.cull(db)
            except Exception:
                log.warning("culling the cache table %s failed; trying again in %ss", self.table, self.cull_interval, exc_info=True)

    async def cull(self, db: Database | None = None) -> int:
        """Deletes expired rows, then the first ``1 / CULL_FREQUENCY`` keys if more than
        ``MAX_ENTRIES`` remain (``CULL_FREQUENCY`` 0: all of them); the rows deleted."""
        db = db or await self.db()
        deleted = await db.execute(f"DELETE FROM {self.table} WHERE expires <= $1", time.time())
        count = await db.query_val(f"SELECT COUNT(*) FROM {self.table}")
        if self._max_entries > 0 and count > self._max_entries:
            if self._cull_frequency == 0:
                return deleted + await db.execute(f"DELETE FROM {self.table}")
            last = await db.query_val(
                f"SELECT cache_key FROM {self.table} ORDER BY cache_key LIMIT 1 OFFSET $1", count // self._cull_frequency
            )
            if last is not None:
                deleted += await db.execute(f"DELETE FROM {self.table} WHERE cache_key < $1", last)
        return deleted

    async def create_table(self) -> None:
        """Creates the table now (it is created on first use otherwise)."""
        await self.db()

    # -- the backend's operations ---------------------------------------------------------

    async def _get(self, key: str, default: Any) -> Any:
        db = await self.db()
        row = await db.query_one(f"SELECT value, number FROM {self.table} WHERE cache_key = $1 AND {_live(2)}", key, time.time())
        return default if row is None else _decode(row[0], row[1])

    async def _get_many_with_expiry(self, keys: list[str]) -> dict[str, tuple[Any, float | None]]:
        rows = await self._select_many(keys, "expires")
        return {row[0]: (_decode(row[1], row[2]), row[3]) for row in rows}

    async def _get_many(self, keys: list[str]) -> dict[str, Any]:
        return {row[0]: _decode(row[1], row[2]) for row in await self._select_many(keys)}

    async def _select_many(self, keys: list[str], *columns: str) -> list[Any]:
        """The live rows of ``keys``: ``cache_key, value, number`` and ``columns``."""
        db = await self.db()
        selected = ", ".join(("cache_key", "value", "number", *columns))
        rows = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ", ".join(f"${i}" for i in range(2, len(chunk) + 2))
            rows += await db.query(f"SELECT {selected} FROM {self.table} WHERE {_live(1)} AND cache_key IN ({marks})", time.time(), *chunk)
        return rows

    def _upsert(self, only_if_expired: bool) -> str:
        sql = (
            f"INSERT INTO {self.table} (cache_key, value, number, expires) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, number = excluded.number, expires = excluded.expires"
        )
        if only_if_expired:
            sql += f" WHERE {self.table}.expires IS NOT NULL AND {self.table}.expires <= $5"
        return sql

    async def _set(self, key: str, value: Any, timeout: Any) -> None:
        db = await self.db()
        await db.execute(self._upsert(False), key, *_encode(value), self.get_backend_timeout(timeout))

    async def _set_many(self, items: dict[str, Any], timeout: Any) -> None:
        db = await self.db()
        expires = self.get_backend_timeout(timeout)
        await db.execute_many(self._upsert(False), [(key, *_encode(value), expires) for key, value in items.items()])

    async def _add(self, key: str, value: Any, timeout: Any) -> bool:
        db = await self.db()
        return await db.execute(self._upsert(True), key, *_encode(value), self.get_backend_timeout(timeout), time.time()) > 0

    async def _delete(self, key: str) -> bool:
        db = await self.db()
        rows = await db.query(f"DELETE FROM {self.table} WHERE cache_key = $1 RETURNING expires", key)
        return any(row[0] is None or row[0] > time.time() for row in rows)

    async def _delete_many(self, keys: list[str]) -> None:
        db = await self.db()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ", ".join(f"${i}" for i in range(1, len(chunk) + 1))
            await db.execute(f"DELETE FROM {self.table} WHERE cache_key IN ({marks})", *chunk)

    async def _touch(self, key: str, timeout: Any) -> bool:
        db = await self.db()
        updated = await db.execute(
            f"UPDATE {self.table} SET expires = $3 WHERE cache_key = $1 AND {_live(2)}", key, time.time(), self.get_backend_timeout(timeout)
        )
        return updated > 0

    async def _incr(self, key: str, delta: int) -> int:
        if not _INT64[0] <= delta <= _INT64[1]:
            raise OverflowError(f"incr/decr delta {delta} does not fit in the cache table's 64-bit integers")
        db = await self.db()
        # The bounds keep the sum inside BIGINT (SQLite would turn it into a float).
        low, high = (_INT64[0], _INT64[1] - delta) if delta >= 0 else (_INT64[0] - delta, _INT64[1])
        value = await db.query_val(
            f"UPDATE {self.table} SET number = number + $3 WHERE cache_key = $1 AND {_live(2)} "
            "AND number IS NOT NULL AND number >= $4 AND number <= $5 RETURNING number",
            key, time.time(), delta, low, high,
        )
        if value is not None:
            return value
        row = await db.query_one(f"SELECT value, number FROM {self.table} WHERE cache_key = $1 AND {_live(2)}", key, time.time())
        if row is None:
            raise KeyError(key)
        if row[1] is not None:
            raise OverflowError(f"incrementing {key!r} by {delta} leaves the cache table's 64-bit integers")
        # Not an integer (a float, say): added in Python as Django does, not atomically.
        new = _decode(row[0], row[1]) + delta
        await db.execute(f"UPDATE {self.table} SET value = $2, number = $3 WHERE cache_key = $1", key, *_encode(new))
        return new

    async def _has(self, key: str) -> bool:
        db = await self.db()
        return await db.query_val(f"SELECT 1 FROM {self.table} WHERE cache_key = $1 AND {_live(2)}", key, time.time()) is not None

    async def clear(self) -> None:
        """Deletes the rows under ``KEY_PREFIX`` (every row of the table without one)."""
        db = await self.db()
        prefix = self.cleared_prefix()
        if prefix:
            await db.execute(f"DELETE FROM {self.table} WHERE substr(cache_key, 1, $2) = $1", prefix, len(prefix))
        else:
            await db.execute(f"DELETE FROM {self.table}")

    async def close(self) -> None:
        """Stops the background cull (and closes the database if the cache opened it)."""
        culler, database, owned, loop = self._culler, self._database, self._owns_database, self._loop
        self._loop = self._culler = self._database = self._preparing = None
        self._ready = False
        if culler is not None:
            culler.cancel()
        if owned and database is not None and loop is asyncio.get_running_loop():
            await database.close()
