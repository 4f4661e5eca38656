"""Database exceptions, shaped like DB-API 2.0 (PEP 249) and Django's.

Every exception carries what the server said:

- ``sqlstate``: the five-character SQLSTATE (PostgreSQL; ``None`` on SQLite),
- ``constraint_name``: the violated constraint, when known,
- ``detail`` and ``hint``: PostgreSQL's extra lines,
- ``sql``: the statement that failed,
- ``connection_lost``: the connection to the server was refused, timed out or lost, or the
  server is shutting down or starting (SQLSTATE class 08, 57P01-57P03): the driver's own
  rule, the one it retries and reconnects by (``Database.is_unreachable`` reads it; it is
  meaningful for PostgreSQL's errors only, SQLite having no server).

>>> from hyperdjango.database import IntegrityError, DatabaseError
>>> issubclass(IntegrityError, DatabaseError)
True
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error reported by a database."""

    sqlstate: str | None = None
    constraint_name: str | None = None
    detail: str | None = None
    hint: str | None = None
    sql: str | None = None
    connection_lost: bool = False


class InterfaceError(DatabaseError):
    """The driver was misused: wrong parameter count, a value it cannot send, a closed transaction."""


class DataError(DatabaseError):
    """Bad data: a value out of range, an invalid representation, division by zero (SQLSTATE 22)."""


class IntegrityError(DatabaseError):
    """A constraint was violated: unique, foreign key, not null, check (SQLSTATE 23)."""


class ProgrammingError(DatabaseError):
    """The SQL is wrong: syntax, unknown table or column, permissions (SQLSTATE 42)."""


class OperationalError(DatabaseError):
    """The connection or the server failed: lost connection, shutdown, deadlock,
    serialization failure, statement timeout (SQLSTATE 08, 40, 53, 57)."""


class PoolTimeout(OperationalError):
    """No connection could be taken from the pool within ``acquire_timeout``."""


class QueryCancelled(OperationalError):
    """The query was cancelled on the server because its task was cancelled."""


__all__ = [
    "DataError",
    "DatabaseError",
    "IntegrityError",
    "InterfaceError",
    "OperationalError",
    "PoolTimeout",
    "ProgrammingError",
    "QueryCancelled",
]
