"""Async database access: ``Database``, ``atomic`` and the error classes.

>>> from hyperdjango.database import Database, atomic, IntegrityError
"""

from .connection import Database, Row, default_database, set_default_database
from .errors import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PoolTimeout,
    ProgrammingError,
    QueryCancelled,
)
from .listen import Listener, Notification
from .transactions import Atomic, atomic

__all__ = [
    "Atomic",
    "DataError",
    "Database",
    "DatabaseError",
    "IntegrityError",
    "InterfaceError",
    "Listener",
    "Notification",
    "OperationalError",
    "PoolTimeout",
    "ProgrammingError",
    "QueryCancelled",
    "Row",
    "atomic",
    "default_database",
    "set_default_database",
]
