"""Database: one URL, its connections, and the statements sent to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .. import _core
from ..runtime import loop_bridge, running_bridge
from .errors import DatabaseError
from .schema import schema_editor

if TYPE_CHECKING:
    from .listen import Listener, Notification
    from .transactions import Atomic, TransactionState

Row = _core.Row

#: on_commit coroutines started outside a transaction, kept alive until done.
_background: set[asyncio.Task] = set()

#: The database models use when they name none: set by ``HyperApp(database=...)``.
_default: Database | None = None


def default_database() -> Database:
    """The process default database (the last ``HyperApp`` created sets it)."""
    if _default is None:
        raise RuntimeError("no default database: create a HyperApp(database=...) or a Database(url) first")
    return _default


def set_default_database(database: Database) -> None:
    """Makes ``database`` the one models and ``atomic()`` use when none is named (``HyperApp`` sets its own)."""
    global _default
    _default = database


class Database:
    """A PostgreSQL or SQLite database, used from async code.

    >>> import asyncio
    >>> from hyperdjango.database import Database
    >>> async def main():
    ...     db = Database("sqlite://:memory:")
    ...     await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    ...     await db.execute("INSERT INTO t (name) VALUES ($1), ($2)", "a", "b")
    ...     row = await db.query_one("SELECT id, name FROM t WHERE name = $1", "b")
    ...     await db.close()
    ...     return row["id"], row.name, dict(row)
    >>> asyncio.run(main())
    (2, 'b', {'id': 2, 'name': 'b'})

    URLs: ``postgres://user:pass@host:port/db?options`` (or ``postgresql://``),
    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``sqlite://:memory:``. Placeholders are ``$1, $2, ...`` on both backends and
    values are always bound, never interpolated. The database connects on
    first use; ``await db.connect()`` does it up front and is idempotent.

    Inside ``async with atomic(db):`` every statement of the same task (and of
    tasks it starts) runs in that transaction.

    The statement methods (``query``, ``query_one``, ``query_val``, ``query_exists``, ``execute``,
    ``execute_many``, ``copy_in``, ``pipeline``) return the driver's awaitable itself,
    which is a coroutine too: ``asyncio.create_task(db.query(...))`` and
    ``TaskGroup.create_task`` work as with any async library, and ``asyncio.gather``
    waits for it with no Task. Unlike an ``async def``, the statement is sent when the
    method is called (in the caller's transaction, if any), not when it is first
    awaited; an error in its arguments is still raised by ``await``. Called outside a
    running event loop, the method returns a plain coroutine that sends the statement
    once run (``asyncio.run(db.query(...))``).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._transaction: ContextVar[TransactionState | None] = ContextVar(f"hyperdjango.transaction.{id(self)}", default=None)
        # The driver reads the caller's transaction from the ContextVar itself: which
        # connection a statement goes to is decided in one place (``_core.Database.current``).
        self._core = _core.Database(url, self._transaction)

    @property
    def vendor(self) -> str:
        """``"postgresql"`` or ``"sqlite"``."""
        return self._core.vendor

    @property
    def supports_select_for_update(self) -> bool:
        """Whether ``SELECT ... FOR UPDATE`` exists (PostgreSQL). SQLite serialises
        writers, so the ORM's ``select_for_update()`` is a no-op there."""
        return self.vendor == "postgresql"

    def __repr__(self) -> str:
        return f"<Database {self.vendor} {self.url.split('@')[-1]!r}>"

    def is_unreachable(self, error: BaseException) -> bool:
        """Whether ``error`` means this database's server cannot be reached right now: the
        connection was refused, timed out or lost, or the server is shutting down or starting
        (SQLSTATE class 08, 57P01-57P03). Callers answer 503 for it, not 500 (the
        database-backed sessions and cache, the users' look-up, the PostgreSQL channel layer);
        the pool connects again by itself once the server is back. Never true on SQLite (a
        file, no server), nor for a deadlock, a statement timeout, a pool that is too small
        (``PoolTimeout``) or an error the driver did not raise.

        The rule is the driver's own (``DbError::is_connection_loss`` in crates/engine, the
        one its retries follow), carried by the exception as ``connection_lost``: Python does
        not restate it, so the two cannot drift.

        >>> from hyperdjango.database import OperationalError
        >>> Database("sqlite:///:memory:").is_unreachable(OperationalError("database is locked"))
        False
        """
        return self.vendor == "postgresql" and isinstance(error, DatabaseError) and error.connection_lost

    # -- connections ----------------------------------------------------------

    async def connect(self) -> None:
        """Opens the connection pool now (it opens on first use otherwise)."""
        await self._core.connect(loop_bridge())

    async def close(self) -> None:
        """Closes every connection; a later statement connects again."""
        await self._core.close(loop_bridge())

    async def clear_statement_cache(self) -> None:
        """Makes every connection prepare its statements again, after a schema
        change this ``Database`` did not run itself.

        PostgreSQL connections cache prepared statements, with the parameter
        types the server inferred when they were prepared. DDL (``ALTER``,
        ``CREATE``, ``DROP``) sent through this ``Database`` empties those caches
        on its own; call this after another process migrated the schema, or
        after DDL hidden in a function or a ``DO`` block. SQLite re-prepares by
        itself, so there this does nothing::

            await other_process_migrated.wait()
            await db.clear_statement_cache()
        """
        await self._core.clear_statement_cache(loop_bridge())

    def _target(self) -> Any:
        """The driver object the caller's statements go to: its ``atomic()`` transaction, else the pool."""
        return self._core.current()

    def _start(self, method: str, *args: Any) -> Any:
        """The driver's ``method`` started now on the running loop, in the caller's
        transaction: its future (no coroutine of ours). Outside a running loop, a
        coroutine that starts it once run."""
        bridge = running_bridge()
        if bridge is None:
            return self._start_when_run(method, args)
        return getattr(self._core.current(), method)(bridge, *args)

    async def _start_when_run(self, method: str, args: tuple[Any, ...]) -> Any:
        return await self._start(method, *args)

    # -- statements -------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> Coroutine[Any, Any, list[Row]]:
        """Every row of the result: ``await db.query("SELECT ... WHERE id = $1", 5)``."""
        return self._start("query", sql, params)

    def query_instances(self, reader: _core.InstanceReader, sql: str, *params: Any) -> Awaitable[list[Any]]:
        """Every row read into an instance by ``reader`` (an ``InstanceReader``: the class,
        its field names, the converters the backend needs), built in Rust with no ``Row``
        in between: how the ORM loads model rows. Returns the driver's awaitable itself
        (no coroutine of its own: this runs for every ORM query)."""
        return self._start("query_instances", reader, sql, params)

    def query_instance(self, reader: _core.InstanceReader, several: tuple[Any, ...] | None, sql: str, *params: Any) -> Awaitable[Any]:
        """The first row read into an instance by ``reader``, or None when there is no row:
        how ``get()`` and ``first()`` load, finished in Rust (no list, no coroutine). With
        ``several``, ``(make_error, *args)``, more than one row fails with the exception
        ``make_error(*args)`` returns."""
        return self._start("query_instance", reader, several, sql, params)

    def query_one(self, sql: str, *params: Any) -> Coroutine[Any, Any, Row | None]:
        """The first row, or None when there is none."""
        return self._start("query_one", sql, params)

    def query_val(self, sql: str, *params: Any) -> Coroutine[Any, Any, Any]:
        """The first column of the first row, or None."""
        return self._start("query_val", sql, params)

    def query_exists(self, sql: str, *params: Any) -> Coroutine[Any, Any, bool]:
        """Whether the statement returns a row (the rows themselves are not read)."""
        return self._start("query_exists", sql, params)

    def execute(self, sql: str, *params: Any) -> Coroutine[Any, Any, int]:
        """Runs a statement; returns the number of rows it affected."""
        return self._start("execute", sql, params)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> Coroutine[Any, Any, int]:
        """Runs one statement for each parameter row, in one transaction; returns the total affected."""
        return self._start("execute_many", sql, rows)

    def copy_in(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Coroutine[Any, Any, int]:
        """Loads ``rows`` into ``table`` with PostgreSQL's binary ``COPY ... FROM STDIN``:
        one statement for all the rows, many times faster than INSERTs for thousands.

        Each row holds one value per column, in ``columns``' order, converted as a
        query parameter would be. All rows or none (inside ``db.transaction()``, in
        that transaction). Returns the number of rows loaded. PostgreSQL only: on
        SQLite it raises InterfaceError (use ``execute_many``)::

            await db.copy_in("product", ["name", "price"], [("tea", Decimal("3.50")), ("pot", None)])
        """
        return self._start("copy_in", table, list(columns), rows)

    def pipeline(self, statements: Iterable[tuple[str, Sequence[Any]] | str]) -> Coroutine[Any, Any, list[Any]]:
        """Sends every statement in one round trip on one connection.

        Returns one entry per statement, in order: its rows, or, for a
        statement that failed, the exception instance (as
        ``asyncio.gather(..., return_exceptions=True)`` does). Statements after a
        failed one still run.
        """
        return self._start("pipeline", statements)

    async def iterate(self, sql: str, *params: Any, chunk_size: int = 1000) -> AsyncIterator[Row]:
        """Streams rows ``chunk_size`` at a time (a server-side cursor on PostgreSQL),
        so memory stays flat however large the result."""
        bridge = loop_bridge()
        cursor = await self._target().cursor(bridge, sql, params, chunk_size)
        try:
            while (rows := await cursor.fetch(loop_bridge())) is not None:
                for row in rows:
                    yield row
        finally:
            await asyncio.shield(cursor.close(loop_bridge()))

    # -- LISTEN/NOTIFY (PostgreSQL) ---------------------------------------------------

    def _require_postgres(self) -> None:
        if self.vendor != "postgresql":
            from .errors import InterfaceError

            raise InterfaceError(
                f"LISTEN/NOTIFY is a PostgreSQL feature; this database is {self.vendor}, which has no equivalent"
            )

    async def listen(
        self, channel: str, callback: Callable[[Notification], Any], *, capacity: int = 1024
    ) -> Listener:
        """LISTENs on ``channel`` on a dedicated connection and calls ``callback(notification)``
        (sync or async) on the loop thread for each notification, in order.

        Returns a :class:`~hyperdjango.database.listen.Listener`: ``await listener.close()``
        stops it, ``listener.on_reconnect(cb)`` is told when the connection was lost
        and LISTENs again (notifications sent meanwhile are lost: reload state then).
        ``capacity`` bounds the engine's queue; when callbacks fall behind the
        listener stops reading its connection until they catch up, nothing is
        dropped. Raises ``InterfaceError`` on SQLite.
        """
        self._require_postgres()
        from .listen import Listener

        core = await self._core.listener(loop_bridge(), capacity)
        listener = Listener(core, callback)
        try:
            await listener.listen(channel)
        except BaseException:
            await asyncio.shield(listener.close())
            raise
        return listener

    async def notify(self, channel: str, payload: str = "") -> None:
        """Sends ``payload`` (fewer than 8000 bytes) to the listeners of ``channel``.

        Inside ``atomic()`` it goes through the transaction, so it is delivered
        at commit and never after a rollback. Raises ``DataError`` for a payload
        too long, ``InterfaceError`` on SQLite.
        """
        self._require_postgres()
        target = self._core.current()
        if target is not self._core:  # a transaction's
            await target.query(loop_bridge(), "SELECT pg_notify($1, $2)", (channel, payload))
            return
        await self._core.notify(loop_bridge(), channel, payload)

    # -- schema -------------------------------------------------------------------

    async def create_tables(self, *models: Any) -> None:
        """Creates the tables (and indexes) of ``models`` if they do not exist yet.

        For scripts, tests and start-up hooks; migrations will manage real schemas.
        Tables a model references are created first; many-to-many link tables with
        their model. The DDL comes from the ORM backend of this database.
        """
        for statement in schema_editor(self.vendor).create_tables(models):
            await self.execute(statement)

    async def drop_tables(self, *models: Any) -> None:
        """Drops the tables of ``models`` (and their link tables) if they exist, referencing tables first."""
        for statement in schema_editor(self.vendor).drop_tables(models):
            await self.execute(statement)

    # -- transactions -----------------------------------------------------------

    def transaction(self, isolation: str | None = None, read_only: bool = False) -> Atomic:
        """``async with db.transaction(isolation="serializable"):`` — see :func:`atomic`."""
        from .transactions import Atomic

        return Atomic(self, isolation=isolation, read_only=read_only)

    @property
    def in_transaction(self) -> bool:
        """Whether the current task (or the task that started it) is inside an ``atomic()`` block of this database."""
        return self._transaction.get() is not None

    def current_transaction(self) -> object | None:
        """An opaque object standing for the transaction this task is in (the same
        for every statement and nested block of it), or None outside one. Useful
        as a key for work gathered per transaction."""
        return self._transaction.get()

    def attach_to_transaction(self, work: asyncio.Future[Any]) -> bool:
        """Ties ``work`` (a task running statements for the current transaction,
        started without being awaited) to the innermost ``atomic()`` block: the
        block waits for it before a savepoint starts, and before it releases,
        commits or rolls back; if ``work`` fails, the block fails with its error
        (and rolls back). Returns False, attaching nothing, outside a transaction.

        This is how ``task.delay()`` (synchronous) enqueues inside the caller's
        transaction.
        """
        state = self._transaction.get()
        if state is None:
            return False
        state.attach(work)
        return True

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Runs ``callback`` (sync or async) after the outermost transaction commits;
        never after a rollback. Outside a transaction it is scheduled at once."""
        state = self._transaction.get()
        if state is None:
            result = callback()
            if asyncio.iscoroutine(result):
                task = asyncio.get_running_loop().create_task(result)
                _background.add(task)
                task.add_done_callback(_background.discard)
            return
        state.add_on_commit(callback)
