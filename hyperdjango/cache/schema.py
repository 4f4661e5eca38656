"""The database cache's table, shared by its migration and ``DatabaseCache.create_table()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..orm.backends import features_for, schema_editor_for
from ..orm.fields import BinaryField

if TYPE_CHECKING:
    from ..database import Database

#: The table the migration of ``hyperdjango.cache`` creates (``LOCATION`` of a database cache).
TABLE = "hyperdjango_cache"


def create_statements(vendor: str, table: str = TABLE) -> list[str]:
    """``CREATE ... IF NOT EXISTS`` statements for a cache table.

    On PostgreSQL the table is UNLOGGED: a cache need not survive a crash, and
    skipping the WAL makes every write cheaper. An integer value is kept in
    ``number`` (so ``incr`` is one atomic ``UPDATE``), anything else pickled in
    ``value``. ``expires`` is a Unix time; NULL never expires.
    """
    blob = schema_editor_for(vendor).column_type(BinaryField())
    unlogged = "UNLOGGED " if features_for(vendor).supports_unlogged_tables else ""
    return [
        f"""CREATE {unlogged}TABLE IF NOT EXISTS {table} (
            cache_key TEXT PRIMARY KEY,
            value {blob},
            number BIGINT,
            expires DOUBLE PRECISION
        )""",
        # What the background cull scans.
        f"CREATE INDEX IF NOT EXISTS {table}_expires ON {table} (expires)",
    ]


async def create_table(db: Database, table: str = TABLE) -> None:
    """Creates the cache table in ``db`` if it does not exist (Django's ``createcachetable``)."""
    for statement in create_statements(db.vendor, table):
        await db.execute(statement)


async def drop_table(db: Database, table: str = TABLE) -> None:
    """Drops the cache table."""
    await db.execute(f"DROP TABLE IF EXISTS {table}")
