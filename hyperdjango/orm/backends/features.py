"""What each database can do, asked by name (Django's ``connection.features``).

Code outside the backends asks ``features_for(db.vendor).supports_listen_notify``,
never ``db.vendor == "postgresql"``: the reason for a branch is then in its
condition, and a third backend says what it can do in one place.

>>> from hyperdjango.orm.backends import features_for
>>> features_for("sqlite").supports_listen_notify
False
>>> features_for("postgresql").has_select_for_update_skip_locked
True
"""

from __future__ import annotations


class BaseFeatures:
    """The capabilities every backend states; the values here are the least a database may have."""

    #: LISTEN/NOTIFY: a statement in one connection wakes listeners in others (other processes too).
    supports_listen_notify = False
    #: ``COPY ... FROM STDIN``: rows streamed into a table in one statement.
    supports_copy_from = False
    #: Transaction-scoped advisory locks (``pg_advisory_xact_lock``).
    supports_advisory_locks = False
    #: ``SELECT ... FOR UPDATE SKIP LOCKED``: workers claim rows without waiting on each other.
    has_select_for_update_skip_locked = False
    #: ``set_config('synchronous_commit', 'off', true)``: a transaction may commit without waiting for its WAL flush.
    supports_asynchronous_commit = False
    #: Array parameters (``unnest($1::text[])``): many rows' values bound to one statement.
    supports_array_parameters = False
    #: ``UNLOGGED`` tables: no write-ahead log, emptied after a crash.
    supports_unlogged_tables = False
    #: Foreign keys switched per connection (``PRAGMA foreign_keys``) and checked on demand
    #: (``PRAGMA foreign_key_check``): SQLite's way, which its table rebuilds need.
    supports_pragma_foreign_keys = False
    #: ``ROUND(x, n)`` with ``n < 0`` (to tens, hundreds...).
    supports_negative_round_precision = True


class PostgresFeatures(BaseFeatures):
    """PostgreSQL: notifications, COPY, advisory locks and the rest of a server's tools."""

    supports_listen_notify = True
    supports_copy_from = True
    supports_advisory_locks = True
    has_select_for_update_skip_locked = True
    supports_asynchronous_commit = True
    supports_array_parameters = True
    supports_unlogged_tables = True


class SQLiteFeatures(BaseFeatures):
    """SQLite: one file, foreign keys by PRAGMA, and no negative ROUND precision (as Django says)."""

    supports_pragma_foreign_keys = True
    supports_negative_round_precision = False
